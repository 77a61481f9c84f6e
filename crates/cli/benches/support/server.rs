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

/// A member (enterprise, standard tier, restricted clearance, no
/// constituency) and an API key of it.
pub async fn member_with_key(
    store: &dyn isx_store::Store,
    clock: &dyn Clock,
) -> (isx_domain::Member, isx_domain::ApiToken) {
    let member = isx_app::admin::create_member(
        store,
        clock,
        &isx_domain::NewMember {
            name: isx_domain::MemberName::new("Bench member").expect("name"),
            kind: isx_domain::MemberKind::Enterprise,
            country: None,
            tier: isx_domain::Tier::Standard,
            clearance: isx_domain::Clearance::Restricted,
            constituency: isx_domain::Constituency::default(),
        },
    )
    .await
    .expect("member");
    let (_, key) = isx_app::admin::create_api_key(
        store,
        clock,
        None,
        &isx_app::admin::KeySpec::cli(&member, "b"),
    )
    .await
    .expect("key");
    (member, key)
}
