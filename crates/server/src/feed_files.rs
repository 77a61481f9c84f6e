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
/// Private: every channel goes through [`download`], which seals a
/// member's own file when it has recipients.
async fn response(f: &FeedFile, path: &std::path::Path) -> Result<Response, ApiError> {
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
    let recipients = isx_app::sealing::recipients_of(app.store.as_ref(), &f).await?;
    if recipients.is_empty() {
        return response(&f, &path).await;
    }
    sealed(&f, &path, &recipients).await
}

/// A file meant for one member that registered recipients: encrypted to
/// them (age), with the plaintext's manifest headers (decrypt, then
/// verify).
async fn sealed(
    f: &FeedFile,
    path: &std::path::Path,
    recipients: &[String],
) -> Result<Response, ApiError> {
    // Each sealing holds the file and its ciphertext in memory: a few at
    // a time per node.
    static SEALING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    let _slot = tokio::time::timeout(std::time::Duration::from_secs(30), SEALING.acquire())
        .await
        .map_err(|_| {
            ApiError::Unavailable("too many encrypted downloads at once; try again shortly".into())
        })?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let plain = tokio::fs::read(path)
        .await
        .map_err(|_| ApiError::not_found(format!("feed file {}", f.name)))?;
    let to = recipients.to_vec();
    let bytes = tokio::task::spawn_blocking(move || isx_app::sealing::seal(&to, &plain))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let len = bytes.len();
    let mut res = Body::from(bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(isx_app::sealing::AGE_MEDIA_TYPE),
    );
    for (k, v) in [
        ("x-isx-sha256", f.sha256.clone()),
        ("x-isx-signature", f.signature.clone()),
        ("x-isx-encrypted", "age".to_owned()),
        ("content-length", len.to_string()),
        (
            "content-disposition",
            format!("attachment; filename=\"{}.age\"", f.name),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    Ok(res)
}
