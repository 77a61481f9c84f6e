//! A running isx for a benchmark: HTTPS on loopback (port 0), no rate
//! limit, and a client that trusts the instance's CA — as members connect.

use std::path::Path;
use std::sync::Arc;

use isx_domain::Clock;

pub struct Running {
    pub base: String,
    pub client: reqwest::Client,
    /// The server stops when this is dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts a server on `store` with its data in `dir`; `tweak` adjusts the
/// configuration first.
pub async fn start(
    dir: &Path,
    store: Arc<dyn isx_store::Store>,
    clock: Arc<dyn Clock>,
    tweak: impl FnOnce(&mut isx_server::ServerConfig),
) -> Running {
    let mut config =
        isx_server::ServerConfig::new("127.0.0.1:0".parse().expect("addr"), dir.to_owned());
    config.rate_limit.per_minute = 10_000_000;
    config.rate_limit.burst = 1_000_000;
    tweak(&mut config);
    let app = isx_server::Application::build(config, store, clock)
        .await
        .expect("app");
    let base = app.base_url();
    let ca = app.ca_path().map(|p| p.to_owned());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).expect("read CA");
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA"));
    }
    Running {
        base,
        client: builder.build().expect("client"),
        _stop: stop,
    }
}
