//! Signed feed files as every channel serves them: listing, finding (by
//! name or by a `latest…` alias) and the download response, written once
//! for every product (malicious URLs, botnet feeds, clean files) and used
//! by the REST API and the web application alike. Who may read a file is
//! the policy function's answer for it (`records::may_read_file`).

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use isx_store::FeedFile;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::AppState;

/// A `latest…` alias: the newest file of this format (and kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    pub format: &'static str,
    pub kind: Option<&'static str>,
}

/// What differs between the products' files.
#[derive(Debug, Clone, Copy)]
pub struct FeedProduct {
    /// The product's name in the store (`FeedFile::product`).
    pub product: &'static str,
    /// How messages name its files ("botnet file x").
    pub noun: &'static str,
    /// Whether members also get files of their own (botnet batches).
    pub per_member: bool,
    /// The `latest…` names it answers, if any.
    pub latest: fn(&str) -> Option<Latest>,
}

fn no_latest(_: &str) -> Option<Latest> {
    None
}

fn botnet_latest(name: &str) -> Option<Latest> {
    if name == "latest.rpz" {
        return Some(Latest {
            format: "rpz",
            kind: None,
        });
    }
    let suffix = name.strip_prefix("latest-c2.")?;
    isx_formats::botnet::out::FirewallFormat::ALL
        .into_iter()
        .find(|f| f.file_suffix() == suffix)
        .map(|f| Latest {
            format: f.as_str(),
            kind: None,
        })
}

fn cleanfiles_latest(name: &str) -> Option<Latest> {
    let format = match name {
        "latest.bloom" => "bloom",
        "latest-full.ndjson" => "ndjson",
        "latest-full.csv" => "csv",
        _ => return None,
    };
    Some(Latest {
        format,
        kind: Some("full"),
    })
}

pub const URLS: FeedProduct = FeedProduct {
    product: crate::feeds::URLS,
    noun: "feed file",
    per_member: false,
    latest: no_latest,
};

pub const BOTNET: FeedProduct = FeedProduct {
    product: crate::botnet_files::BOTNET,
    noun: "botnet file",
    per_member: true,
    latest: botnet_latest,
};

pub const CLEANFILES: FeedProduct = FeedProduct {
    product: crate::cleanfile_files::CLEANFILES,
    noun: "clean-file file",
    per_member: false,
    latest: cleanfiles_latest,
};

/// The product's files `caller` may download, newest first, at most
/// `limit`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    p: &FeedProduct,
    limit: u32,
) -> Result<Vec<FeedFile>, ApiError> {
    let now = state.clock.now();
    let mut files = if p.per_member && !caller.principal.operator {
        let mut f = state
            .store
            .member_feed_files(p.product, Some(caller.member.id), limit)
            .await?;
        f.extend(
            state
                .store
                .member_feed_files(p.product, None, limit)
                .await?,
        );
        f.sort_by(|a, b| b.slot.cmp(&a.slot).then(a.name.cmp(&b.name)));
        f
    } else {
        state.store.feed_files(p.product, limit).await?
    };
    files.retain(|f| crate::records::may_read_file(caller, f, now));
    files.truncate(limit as usize);
    Ok(files)
}

/// A file of the product by name (or `latest…` alias) with its path, if
/// `caller` may read it; 404 otherwise — also for another product's file.
pub async fn find(
    state: &AppState,
    caller: &Caller,
    p: &FeedProduct,
    name: &str,
) -> Result<(FeedFile, PathBuf), ApiError> {
    let not_found = || ApiError::not_found(format!("{} {name}", p.noun));
    let f = match (p.latest)(name) {
        Some(want) => {
            // The newest shared file of that format (and kind).
            let shared = if p.per_member {
                state.store.member_feed_files(p.product, None, 200).await?
            } else {
                state.store.feed_files(p.product, 200).await?
            };
            shared
                .into_iter()
                .find(|f| f.format == want.format && want.kind.is_none_or(|k| f.kind == k))
                .ok_or_else(not_found)?
        }
        None => state
            .store
            .feed_file(name)
            .await?
            .filter(|f| f.product == p.product)
            .ok_or_else(not_found)?,
    };
    if !crate::records::may_read_file(caller, &f, state.clock.now()) {
        return Err(not_found());
    }
    let path = state.feeds.path_of(&f).ok_or_else(not_found)?;
    Ok((f, path))
}

/// The media type a file is served with, by its format.
pub fn media_type(f: &FeedFile) -> &'static str {
    match f.format.as_str() {
        "rpz" => "text/dns",
        "plain" | "cidr" | "nftables" | "ipset" => "text/plain; charset=utf-8",
        "bloom" => "application/octet-stream",
        other => isx_formats::urls::UrlFeedFormat::parse(other)
            .map_or("application/octet-stream", |f| f.media_type()),
    }
}

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
    state: &AppState,
    caller: &Caller,
    p: &FeedProduct,
    name: &str,
) -> Result<Response, ApiError> {
    let (f, path) = find(state, caller, p, name).await?;
    response(&f, &path).await
}
