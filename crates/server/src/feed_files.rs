//! The HTTP side of signed feed files: the download response with its
//! manifest headers. Listing and finding (with the policy check) are
//! `isx_app::feed_files`, written once for every product and channel.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use isx_app::feed_files::{find, media_type, FeedProduct};
use isx_app::identity::Caller;
use isx_app::App;
use isx_store::FeedFile;

use crate::problem::ApiError;

/// Streams a file with its manifest headers (`X-Isx-Sha256`,
/// `X-Isx-Signature`), as a download.
pub async fn response(f: &FeedFile, path: &std::path::Path) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|_| ApiError::not_found(format!("feed file {}", f.name)))?;
    let mut res = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(f)),
    );
    for (k, v) in [
        ("x-isx-sha256", f.sha256.clone()),
        ("x-isx-signature", f.signature.clone()),
        ("content-length", f.size.to_string()),
        (
            "content-disposition",
            format!("attachment; filename=\"{}\"", f.name),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    Ok(res)
}

/// `find` then `response`: the whole download, for every channel.
pub async fn download(
    app: &App,
    caller: &Caller,
    p: &FeedProduct,
    name: &str,
) -> Result<Response, ApiError> {
    let (f, path) = find(app, caller, p, name).await?;
    response(&f, &path).await
}
