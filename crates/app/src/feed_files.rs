//! Signed feed files as every channel serves them: listing, finding (by
//! name or by a `latest…` alias) and the media type, written once for
//! every product (malicious URLs, botnet feeds, clean files) and used by
//! the REST API, the web application and the CLI alike (the server adds
//! only the HTTP response). Who may read a file is the policy function's
//! answer for it (`records::may_read_file`).

use std::path::PathBuf;

use isx_store::FeedFile;

use crate::identity::Caller;
use crate::{App, AppError};

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
    product: crate::url_files::URLS,
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
    app: &App,
    caller: &Caller,
    p: &FeedProduct,
    limit: u32,
) -> Result<Vec<FeedFile>, AppError> {
    let now = app.clock.now();
    let mut files = if p.per_member && !caller.principal.operator {
        let mut f = app
            .store
            .member_feed_files(p.product, Some(caller.member.id), limit)
            .await?;
        f.extend(app.store.member_feed_files(p.product, None, limit).await?);
        f.sort_by(|a, b| b.slot.cmp(&a.slot).then(a.name.cmp(&b.name)));
        f
    } else {
        app.store.feed_files(p.product, limit).await?
    };
    files.retain(|f| crate::records::may_read_file(caller, f, now));
    files.truncate(limit as usize);
    Ok(files)
}

/// A file of the product by name (or `latest…` alias) with its path, if
/// `caller` may read it; 404 otherwise — also for another product's file.
pub async fn find(
    app: &App,
    caller: &Caller,
    p: &FeedProduct,
    name: &str,
) -> Result<(FeedFile, PathBuf), AppError> {
    let not_found = || AppError::not_found(format!("{} {name}", p.noun));
    let f = match (p.latest)(name) {
        Some(want) => {
            // The newest shared file of that format (and kind).
            let shared = if p.per_member {
                app.store.member_feed_files(p.product, None, 200).await?
            } else {
                app.store.feed_files(p.product, 200).await?
            };
            shared
                .into_iter()
                .find(|f| f.format == want.format && want.kind.is_none_or(|k| f.kind == k))
                .ok_or_else(not_found)?
        }
        None => app
            .store
            .feed_file(name)
            .await?
            .filter(|f| f.product == p.product)
            .ok_or_else(not_found)?,
    };
    if !crate::records::may_read_file(caller, &f, app.clock.now()) {
        return Err(not_found());
    }
    let path = app.feeds.path_of(&f).ok_or_else(not_found)?;
    Ok((f, path))
}

/// The media type a file is served with, by its format.
pub fn media_type(f: &FeedFile) -> &'static str {
    match f.format.as_str() {
        "rpz" => "text/dns",
        "plain" | "cidr" | "nftables" | "ipset" => "text/plain; charset=utf-8",
        "bloom" => "application/octet-stream",
        other => isx_formats::feed::FeedFormat::parse(other)
            .map_or("application/octet-stream", |f| f.media_type()),
    }
}
