//! The integration tests: one binary (link time on two cores), a module per
//! area. They start the real server and real databases.

mod support {
    pub mod app;
    pub mod browser;
    pub mod dns;
    pub mod idp;
    pub mod pg;
    pub mod receiver;
}

mod advisories;
mod api;
mod attacks;
mod botnet;
mod browser;
mod cleanfiles;
mod cli;
mod csaf_provider;
mod durability;
mod exchange;
mod feed_files;
mod identity;
mod misp;
mod oracles;
mod partnership;
mod passkeys;
mod sso;
mod store;
mod urls;

/// Declares one test per store backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::app::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::app::Backend::Postgres).await;
                }
            )+
        }
    };
}
