//! Malicious URLs as callers use them: import (API, web and CLI share it)
//! and every read (search, record, statistics, exports), filtered through
//! the policy function's answer for each marking.

use isx_domain::Asn;
use isx_domain::{ThreatType, Timestamp, Tlp};
use isx_formats::urls::{parse_urls, UrlInputFormat};
use isx_geo::GeoDb;
use isx_store::{Store, StoreError, UrlBatch, UrlImportOutcome, UrlQuery, UrlStats};
use isx_urls::{prepare, ImportDefaults, UrlCandidate, UrlRecord};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::identity::Caller;
use crate::records;
use crate::App;
use crate::AppError;

/// At most this many row errors are reported in detail.
const MAX_REPORTED: usize = 100;

/// How rows without their own values are taken, and what to do with bad rows.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Option<UrlInputFormat>,
    /// Name of the input (file name), for format detection and the batch log.
    pub name: Option<String>,
    pub source: String,
    pub tlp: Tlp,
    pub confidence: u8,
    pub threat: ThreatType,
    /// Import the good rows and report the bad ones, instead of refusing
    /// the whole input.
    pub skip_invalid: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: None,
            name: None,
            source: "import".to_owned(),
            tlp: Tlp::Green,
            confidence: 50,
            threat: ThreatType::Other,
            skip_invalid: false,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows left out (with `skip_invalid`), as `line N: reason`.
    pub skipped: Vec<String>,
    pub skipped_total: usize,
    /// The batch number of the changes, if anything changed.
    pub batch: Option<i64>,
    /// Whether geo databases were configured for enrichment.
    pub geo_enrichment: bool,
}

#[derive(Debug, Error)]
pub enum ImportError {
    /// The input as a whole is unreadable.
    #[error("{0}")]
    Document(String),
    /// Bad rows in an all-or-nothing import: nothing was stored.
    #[error("{} invalid row(s); nothing was imported. First: {}", .total, .errors.first().map(String::as_str).unwrap_or(""))]
    Rows { errors: Vec<String>, total: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Document(d) => AppError::invalid(d),
            ImportError::Rows { ref errors, .. } => AppError::invalid(e.to_string())
                .with_errors(errors.iter().map(|m| (row_pointer(m), m.clone())).collect()),
            ImportError::Store(s) => s.into(),
        }
    }
}

fn row_pointer(message: &str) -> String {
    message
        .strip_prefix("line ")
        .and_then(|r| r.split(':').next())
        .map(|n| format!("/line/{n}"))
        .unwrap_or_default()
}

/// Reads, checks, canonicalises and enriches every row. `progress` is
/// called after each row (the CLI draws its bar with it).
pub fn check(
    bytes: &[u8],
    opts: &ImportOptions,
    geo: &GeoDb,
    now: Timestamp,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<UrlCandidate>, Vec<String>), ImportError> {
    let format = opts
        .format
        .unwrap_or_else(|| UrlInputFormat::detect(opts.name.as_deref(), bytes));
    let rows = parse_urls(bytes, format).map_err(|e| ImportError::Document(e.to_string()))?;
    let defaults = ImportDefaults {
        source: opts.source.clone(),
        tlp: opts.tlp,
        confidence: opts.confidence,
        threat: opts.threat,
        now,
    };
    let total = rows.len();
    let mut good = Vec::with_capacity(total);
    let mut bad = Vec::new();
    for (i, (line, row)) in rows.into_iter().enumerate() {
        let checked = row.map_err(|e| e.to_string()).and_then(|obs| {
            candidate(&obs, &defaults, geo).map_err(|e| format!("line {line}: {e}"))
        });
        match checked {
            Ok(c) => good.push(c),
            Err(e) => bad.push(e),
        }
        progress(i + 1, total);
    }
    Ok((good, bad))
}

/// Checks and canonicalises one observation and fills the geo fields its
/// source left out from the configured databases: what every URL that
/// enters the feed goes through, imported or shared from a trust group.
pub fn candidate(
    obs: &isx_urls::UrlObservation,
    defaults: &ImportDefaults,
    geo: &GeoDb,
) -> Result<UrlCandidate, isx_urls::UrlError> {
    let mut c = prepare(obs, defaults)?;
    if let Some(ip) = c.ip {
        c.geo = std::mem::take(&mut c.geo).or(geo.lookup(ip));
    }
    Ok(c)
}

/// Imports one input: all of it or, with `skip_invalid`, its good rows.
pub async fn import(
    store: &dyn Store,
    geo: &GeoDb,
    bytes: &[u8],
    opts: &ImportOptions,
    actor: &str,
    now: Timestamp,
) -> Result<ImportReport, ImportError> {
    let (good, bad) = check(bytes, opts, geo, now, |_, _| {})?;
    store_checked(store, geo, good, bad, opts, actor, now).await
}

/// Stores rows already [`check`]ed.
pub async fn store_checked(
    store: &dyn Store,
    geo: &GeoDb,
    good: Vec<UrlCandidate>,
    bad: Vec<String>,
    opts: &ImportOptions,
    actor: &str,
    now: Timestamp,
) -> Result<ImportReport, ImportError> {
    if !bad.is_empty() && !opts.skip_invalid {
        let total = bad.len();
        let mut errors = bad;
        errors.truncate(MAX_REPORTED);
        return Err(ImportError::Rows { errors, total });
    }
    let source = opts.name.clone().unwrap_or_else(|| opts.source.clone());
    let outcome: UrlImportOutcome = store
        .import_urls(
            &UrlBatch {
                candidates: &good,
                source: &source,
                actor,
            },
            now,
        )
        .await?;
    let skipped_total = bad.len();
    let mut skipped = bad;
    skipped.truncate(MAX_REPORTED);
    Ok(ImportReport {
        rows: good.len() + skipped_total,
        created: outcome.created,
        updated: outcome.updated,
        unchanged: outcome.unchanged,
        skipped,
        skipped_total,
        batch: outcome.seq,
        geo_enrichment: geo.status().is_configured(),
    })
}

/// Revokes the URL indicators that left the rolling feed (a window after
/// their last sighting), in one arrival (read 10,000 at a time, at most
/// 200,000 a run; a larger backlog goes on at the next tick): TAXII
/// readers get each one's final `revoked: true` version. Run by the
/// scheduler on every tick; returns how many it revoked.
pub async fn revoke_stale(store: &dyn isx_store::Store, now: Timestamp) -> Result<u64, AppError> {
    const ROUND: u32 = 10_000;
    let window = isx_urls::FeedSchedule::default().window_secs;
    let total = store.revoke_urls(now.add_secs(-window), now, ROUND).await?;
    if total > 0 {
        tracing::info!(
            revoked = total,
            "URL indicators revoked: they left the feed"
        );
    }
    Ok(total)
}

/// A filter's value, trimmed, when it has one: an empty value is no
/// filter, as the web forms send it (URL, botnet and advisory filters).
pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

pub fn parse_opt<T: std::str::FromStr>(v: Option<&str>, what: &str) -> Result<Option<T>, AppError>
where
    T::Err: std::fmt::Display,
{
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|e| AppError::Validation {
            detail: format!("{what}: {e}"),
            pointer: Some(format!("/{what}")),
        }),
    }
}

/// Search filters, shared by the API (list, statistics), the web page and
/// the CLI, so that each filter is read and checked once.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct UrlFilter {
    /// Part of the URL (case-insensitive).
    pub q: Option<String>,
    pub host: Option<String>,
    /// Registrable domain, e.g. `example.co.uk`.
    pub domain: Option<String>,
    pub ip: Option<String>,
    /// `AS64500` or `64500`.
    pub asn: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// phishing, malware-distribution, command-and-control, scam,
    /// exploit-kit, cryptojacking, spam, other.
    pub threat: Option<String>,
    /// Last seen at or after (RFC 3339).
    pub since: Option<String>,
    /// Last seen before (RFC 3339).
    pub until: Option<String>,
    /// At most this many records (default 100, at most 10,000).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Sorted by `last_seen` (default), `first_seen`, `url`, `host`,
    /// `threat`, `country`, `asn` or `times_seen`.
    pub sort: Option<String>,
    /// `desc` (default for `last_seen`, `first_seen` and `times_seen`) or
    /// `asc` (default for the others).
    pub dir: Option<String>,
    /// `json` (default), `ndjson`, `csv` or `stix`.
    pub format: Option<String>,
}

impl UrlFilter {
    /// The order `sort` and `dir` ask for (newest first when unsaid).
    pub fn order(&self) -> Result<isx_store::UrlOrder, AppError> {
        let bad = |what: &str, detail: String| AppError::Validation {
            detail,
            pointer: Some(format!("/{what}")),
        };
        // Exactly the names (an empty value, as a form sends, is none).
        let key = match self.sort.as_deref().filter(|s| !s.is_empty()) {
            None => isx_store::UrlSort::LastSeen,
            Some(s) => isx_store::UrlSort::parse(s).ok_or_else(|| {
                bad(
                    "sort",
                    format!(
                        "sort {s:?}: one of {}",
                        isx_store::UrlSort::ALL.map(|k| k.as_str()).join(", ")
                    ),
                )
            })?,
        };
        let descending = match self.dir.as_deref().filter(|s| !s.is_empty()) {
            None => matches!(
                key,
                isx_store::UrlSort::LastSeen
                    | isx_store::UrlSort::FirstSeen
                    | isx_store::UrlSort::TimesSeen
            ),
            Some("asc") => false,
            Some("desc") => true,
            Some(d) => return Err(bad("dir", format!("dir {d:?}: asc or desc"))),
        };
        Ok(isx_store::UrlOrder { key, descending })
    }
}

impl UrlFilter {
    /// The store query, checked; the markings are added by the read path.
    pub fn query(&self) -> Result<UrlQuery, AppError> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let ip = match nonempty(&self.ip) {
            None => None,
            Some(s) => Some(
                s.parse::<std::net::IpAddr>()
                    .map_err(|_| AppError::Validation {
                        detail: format!("ip {s:?} is not an IP address"),
                        pointer: Some("/ip".into()),
                    })?
                    .to_string(),
            ),
        };
        let country: Option<isx_domain::CountryCode> =
            parse_opt(self.country.as_deref(), "country")?;
        Ok(UrlQuery {
            text: nonempty(&self.q),
            host: nonempty(&self.host),
            domain: nonempty(&self.domain),
            ip,
            asn: parse_opt::<Asn>(self.asn.as_deref(), "asn")?.map(Asn::get),
            country: country.map(|c| c.to_string()),
            threat: parse_opt(self.threat.as_deref(), "threat")?,
            since: parse_opt::<Timestamp>(self.since.as_deref(), "since")?,
            until: parse_opt::<Timestamp>(self.until.as_deref(), "until")?,
            sort: Some(self.order()?),
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(100).clamp(1, 10_000),
            ..UrlQuery::default()
        })
    }
}

/// `query` for the operator at the terminal (CLI): the markings the
/// policy function allows the operator.
pub fn for_operator(mut query: UrlQuery, now: Timestamp) -> UrlQuery {
    let operator = isx_policy::Principal::member(
        isx_domain::MemberId(0),
        true,
        isx_domain::Tier::Standard,
        isx_domain::Clearance::Secret,
        Vec::new(),
    );
    query.markings = records::url_markings(&operator, now);
    query
}

/// `query` narrowed to what `caller` may see.
pub fn for_caller(app: &App, caller: &Caller, mut query: UrlQuery) -> UrlQuery {
    query.markings = records::url_markings(&caller.principal, app.clock.now());
    query
}

pub async fn search(
    app: &App,
    caller: &Caller,
    query: UrlQuery,
) -> Result<Vec<UrlRecord>, AppError> {
    Ok(app
        .store
        .url_records(&for_caller(app, caller, query))
        .await?)
}

pub async fn stats(app: &App, caller: &Caller, query: UrlQuery) -> Result<UrlStats, AppError> {
    Ok(app.store.url_stats(&for_caller(app, caller, query)).await?)
}

/// One record, or 404 when it does not exist or is not visible — the same
/// 404, naming no id (the stored id behind an opaque one is not said). A
/// record under a stricter one the caller may see is not the caller's
/// record of the URL (it reads that one, as lists do).
pub async fn record(app: &App, caller: &Caller, id: i64) -> Result<UrlRecord, AppError> {
    let r = app.store.url_record(id).await?;
    match r {
        Some(r)
            if records::may_see(app, caller, &records::url(r.tlp))
                && !r
                    .above
                    .is_some_and(|a| records::may_see(app, caller, &records::url(a))) =>
        {
            Ok(r)
        }
        _ => Err(AppError::not_found("URL record")),
    }
}
