use std::sync::Arc;

use anyhow::Context;
use isx_domain::{Clock, SystemClock};
use isx_server::Application;
use isx_store::Store;

use crate::args::ServeArgs;
use crate::config::Settings;

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
    let config = settings.server_config(args, data_dir)?;
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
