use std::sync::Arc;

use anyhow::Context;
use isx_domain::{Clock, SystemClock};
use isx_server::Application;
use isx_store::Store;

use crate::args::ServeArgs;
use std::net::SocketAddr;
use std::path::PathBuf;

use isx_server::{RateLimit, ServerConfig, TlsMode};

use crate::config::{env_parse, Settings};

pub async fn serve(settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
    let data_dir = settings.data_dir_or("isx-data");
    let url = settings.store_url(&data_dir)?;
    let store = isx_store::open(&url)
        .await
        .with_context(|| format!("cannot open the store {}", isx_store::redact_url(&url)))?;
    let app = build(settings, args, data_dir, store).await?;
    tracing::info!(url = %app.base_url(), "isx is serving");
    eprintln!("isx is serving at {}", app.base_url());
    run(app).await
}

pub async fn build(
    settings: &Settings,
    args: &ServeArgs,
    data_dir: std::path::PathBuf,
    store: Arc<dyn Store>,
) -> anyhow::Result<Application> {
    let config = server_config(settings, args, data_dir)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(Application::build(config, store, clock).await?)
}

pub async fn run(app: Application) -> anyhow::Result<()> {
    raise_open_file_limit();
    app.run(shutdown_signal()).await?;
    tracing::info!("isx stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Raises the soft limit of open files to the hard limit: every connection
/// is a descriptor, and the server's own connection limit (4,096 by
/// default) should be what holds, not a soft limit of 1,024.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the struct we own.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
        if got && lim.rlim_cur < lim.rlim_max {
            let before = lim.rlim_cur;
            lim.rlim_cur = lim.rlim_max;
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
                tracing::debug!(
                    from = before,
                    to = lim.rlim_cur,
                    "raised the open-file limit"
                );
            }
        }
    }
}

/// The server's configuration: flags, then `ISX_*` variables, then the
/// file, then defaults (see README, "Configuration").
pub fn server_config(
    settings: &Settings,
    serve: &ServeArgs,
    data_dir: PathBuf,
) -> anyhow::Result<ServerConfig> {
    let this = settings;
    let listen = serve
        .listen
        .or(this.file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
    let mut cfg = ServerConfig::new(listen, data_dir);
    let cert = serve
        .tls_cert
        .clone()
        .or_else(|| this.file.tls.cert.clone());
    let key = serve.tls_key.clone().or_else(|| this.file.tls.key.clone());
    cfg.tls = match (
        serve.insecure_http || this.file.tls.insecure_http,
        cert,
        key,
    ) {
        (true, _, _) => TlsMode::Disabled,
        (false, Some(cert), Some(key)) => TlsMode::Files { cert, key },
        (false, None, None) => TlsMode::SelfSigned,
        _ => anyhow::bail!("TLS needs both a certificate and a key (tls.cert and tls.key)"),
    };
    let l = &this.file.limits;
    cfg.body_limit = env_parse("ISX_BODY_LIMIT")?
        .or(l.body_bytes)
        .unwrap_or(cfg.body_limit);
    cfg.rate_limit = RateLimit {
        per_minute: env_parse("ISX_RATE_PER_MINUTE")?
            .or(l.rate_per_minute)
            .unwrap_or(cfg.rate_limit.per_minute),
        burst: env_parse("ISX_RATE_BURST")?
            .or(l.rate_burst)
            .unwrap_or(cfg.rate_limit.burst),
    };
    let login = env_parse("ISX_LOGIN_PER_MINUTE")?
        .or(l.login_per_minute)
        .unwrap_or(cfg.login_rate_limit.per_minute);
    if login == 0 {
        anyhow::bail!("login_per_minute 0: at least 1 failed sign-in a minute must be allowed");
    }
    cfg.login_rate_limit = RateLimit {
        per_minute: login,
        burst: login,
    };
    cfg.max_connections = env_parse("ISX_CONNECTIONS")?
        .or(l.connections)
        .unwrap_or(cfg.max_connections);
    cfg.max_connections_per_address = env_parse("ISX_CONNECTIONS_PER_ADDRESS")?
        .or(l.connections_per_address)
        .unwrap_or(cfg.max_connections_per_address);
    cfg.header_timeout_ms = env_parse("ISX_IDLE_TIMEOUT_MS")?
        .or(l.idle_timeout_ms)
        .unwrap_or(cfg.header_timeout_ms);
    cfg.body_timeout_ms = env_parse("ISX_BODY_TIMEOUT_MS")?
        .or(l.body_timeout_ms)
        .unwrap_or(cfg.body_timeout_ms);
    cfg.session_ttl_secs = env_parse("ISX_SESSION_TTL_SECS")?
        .or(l.session_ttl_secs)
        .unwrap_or(cfg.session_ttl_secs);
    cfg.public_url =
        env_parse::<String>("ISX_PUBLIC_URL")?.or_else(|| this.file.public_url.clone());
    if let Some(u) = &cfg.public_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            anyhow::bail!(
                "public_url {u:?}: must be an absolute http(s) URL, e.g. https://isx.example.org"
            );
        }
    }
    cfg.security_contact =
        env_parse::<String>("ISX_SECURITY_CONTACT")?.or_else(|| this.file.security_contact.clone());
    if let Some(c) = &cfg.security_contact {
        if !(c.starts_with("mailto:") || c.starts_with("https://") || c.starts_with("tel:")) {
            anyhow::bail!(
                "security_contact {c:?}: must be a mailto:, https: or tel: URI (RFC 9116), e.g. mailto:security@example.org"
            );
        }
    }
    cfg.webhook_allow_private =
        env_parse("ISX_WEBHOOK_ALLOW_PRIVATE")?.unwrap_or(this.file.webhooks.allow_private);
    cfg.geoip_location = this.geoip_location.clone();
    cfg.geoip_asn = this.geoip_asn.clone();
    let f = &this.file.feeds;
    if let Some(name) =
        env_parse::<String>("ISX_INSTANCE_NAME")?.or_else(|| f.instance_name.clone())
    {
        cfg.instance_name = name;
    }
    cfg.feed_interval_secs = env_parse("ISX_FEED_INTERVAL_SECS")?
        .or(f.interval_secs)
        .unwrap_or(cfg.feed_interval_secs);
    cfg.feed_window_secs = env_parse("ISX_FEED_WINDOW_SECS")?
        .or(f.window_secs)
        .unwrap_or(cfg.feed_window_secs);
    cfg.feed_tick_ms = env_parse("ISX_FEED_TICK_MS")?
        .or(f.tick_ms)
        .unwrap_or(cfg.feed_tick_ms);
    cfg.botnet_retention_days = env_parse("ISX_BOTNET_RETENTION_DAYS")?
        .or(this.file.botnet.retention_days)
        .unwrap_or(cfg.botnet_retention_days);
    cfg.clean_sync_ms = env_parse("ISX_CLEAN_SYNC_MS")?
        .or(this.file.cleanfiles.sync_ms)
        .unwrap_or(cfg.clean_sync_ms);
    cfg.clean_merge_threshold = env_parse("ISX_CLEAN_MERGE_THRESHOLD")?
        .or(this.file.cleanfiles.merge_threshold)
        .unwrap_or(cfg.clean_merge_threshold);
    if cfg.clean_merge_threshold == 0 {
        anyhow::bail!("cleanfiles merge_threshold must be at least 1");
    }
    if !(1..=3650).contains(&cfg.botnet_retention_days) {
        anyhow::bail!(
            "botnet retention {} days: must be 1 to 3650",
            cfg.botnet_retention_days
        );
    }
    if cfg.feed_interval_secs < 60 || 86_400 % cfg.feed_interval_secs != 0 {
        anyhow::bail!(
            "feed interval {} s: must divide a day and be at least 60 s (10800 = 3 hours)",
            cfg.feed_interval_secs
        );
    }
    Ok(cfg)
}

/// What the application layer takes of the configuration (for commands
/// that produce feed files without a server).
pub fn app_settings(settings: &Settings, data_dir: PathBuf) -> anyhow::Result<isx_app::Settings> {
    Ok(server_config(settings, &ServeArgs::default(), data_dir)?.settings())
}
