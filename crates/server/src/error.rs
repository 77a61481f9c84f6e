use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

/// Why the server could not start or stopped.
#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] isx_store::StoreError),
    #[error(transparent)]
    Geo(#[from] isx_geo::GeoError),
    #[error("feed signing key: {0}")]
    Signing(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    App(#[from] isx_app::AppError),
}
