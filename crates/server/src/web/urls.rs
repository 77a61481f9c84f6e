//! The malicious-URL page: search, a map of the addresses, threat types over
//! time, top networks and countries, the records, the signed feed files,
//! and (for the operator) an import form. Reads go through `isx_app::urls`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use isx_domain::ThreatType;
use serde::Deserialize;

use super::charts;
use super::pages::{apply, layout, not_found, with_note, Flash, Layout};
use super::{check_csrf, render};
use crate::api::urls::{stats_dto, UrlRecordDto};
use crate::audit::AuditNote;
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::urls::{self, ImportOptions, UrlFilter};

struct Bar {
    label: String,
    count: i64,
    percent: i64,
}

struct FileRow {
    name: String,
    kind: String,
    format: String,
    slot: String,
    records: i64,
    size: i64,
    sha256: String,
}

#[derive(askama::Template)]
#[template(path = "urls.html")]
struct UrlsPage {
    layout: Layout,
    f: UrlFilter,
    threats: Vec<&'static str>,
    total: i64,
    map: String,
    chart: String,
    legend: Vec<(&'static str, &'static str, i64)>,
    asns: Vec<Bar>,
    countries: Vec<Bar>,
    records: Vec<UrlRecordDto>,
    files: Vec<FileRow>,
    geo: String,
    public_key: String,
    pager: Pager,
    columns: Vec<Column>,
}

/// A header of the records table: sortable ones link to the list sorted
/// by them (the other way round when already sorted so).
struct Column {
    label: &'static str,
    href: Option<String>,
    /// `▲`/`▼` on the column the list is sorted by.
    arrow: &'static str,
    sort: &'static str,
}

/// Where the records table stands in the whole list, with links to the
/// pages around it (every filter kept).
struct Pager {
    first: i64,
    last: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// Records per page of the table.
const PAGE: u32 = 100;

/// `/urls?…` with the filters of `f` and `offset`.
fn page_link(f: &UrlFilter, offset: u32) -> String {
    let mut u = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &f.q),
        ("host", &f.host),
        ("domain", &f.domain),
        ("ip", &f.ip),
        ("asn", &f.asn),
        ("country", &f.country),
        ("threat", &f.threat),
        ("since", &f.since),
        ("until", &f.until),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            u.append_pair(k, v);
        }
    }
    for (k, v) in [("sort", &f.sort), ("dir", &f.dir)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            u.append_pair(k, v);
        }
    }
    if offset > 0 {
        u.append_pair("offset", &offset.to_string());
    }
    format!("/urls?{}", u.finish())
}

/// The table's headers for the list `f` selects, sorted as `order` says.
fn columns(f: &UrlFilter, order: isx_store::UrlOrder) -> Vec<Column> {
    use isx_store::UrlSort as S;
    [
        ("Last seen", Some(S::LastSeen)),
        ("Threat", Some(S::Threat)),
        ("URL", Some(S::Url)),
        ("IP", None),
        ("Country", Some(S::Country)),
        ("ASN", Some(S::Asn)),
        ("Seen", Some(S::TimesSeen)),
        ("TLP", None),
    ]
    .into_iter()
    .map(|(label, key)| {
        let Some(key) = key else {
            return Column {
                label,
                href: None,
                arrow: "",
                sort: "",
            };
        };
        let current = order.key == key;
        let mut g = f.clone();
        g.sort = Some(key.as_str().to_owned());
        // The other direction on the sorted column; its default elsewhere.
        g.dir = current.then(|| if order.descending { "asc" } else { "desc" }.to_owned());
        Column {
            label,
            href: Some(page_link(&g, 0)),
            arrow: match (current, order.descending) {
                (false, _) => "",
                (true, true) => " ▼",
                (true, false) => " ▲",
            },
            sort: key.as_str(),
        }
    })
    .collect()
}

fn pager(f: &UrlFilter, total: i64, shown: usize) -> Pager {
    let offset = f.offset.unwrap_or(0);
    let first = if shown == 0 { 0 } else { i64::from(offset) + 1 };
    let last = i64::from(offset) + shown as i64;
    Pager {
        first,
        last,
        prev: (offset > 0).then(|| page_link(f, offset.saturating_sub(PAGE))),
        next: (last < total).then(|| page_link(f, offset.saturating_add(PAGE))),
    }
}

fn bars(items: Vec<(String, i64)>) -> Vec<Bar> {
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    items
        .into_iter()
        .map(|(label, count)| Bar {
            label,
            count,
            percent: count * 100 / max,
        })
        .collect()
}

async fn urls_page(
    state: &AppState,
    caller: &Caller,
    f: UrlFilter,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    let (flash, query) = match f.query() {
        Ok(q) => (flash, q),
        Err(e) => (Some(Err(e.into())), isx_store::UrlQuery::default()),
    };
    let stats = urls::stats(state, caller, query.clone()).await?;
    let mut q = query;
    q.limit = PAGE;
    let records = urls::search(state, caller, q).await?;
    let records_len = records.len();
    let ids = state.wire_ids().await?;
    let files = isx_app::feed_files::list(state, caller, &isx_app::feed_files::URLS, 16).await?;
    let stats = stats_dto(state, stats);
    let geo = if stats.geo_databases.is_empty() {
        "No geo database is configured: locations come from the sources only (see README, “Geo enrichment”).".to_owned()
    } else {
        format!("Enriched from {}.", stats.geo_databases.join(" and "))
    };
    let (l, code) = apply(layout(caller, "Malicious URLs", "urls"), flash.as_ref());
    let order = f.order().unwrap_or(isx_store::UrlOrder::NEWEST);
    let page = UrlsPage {
        columns: columns(&f, order),
        layout: l,
        threats: ThreatType::ALL.iter().map(|t| t.as_str()).collect(),
        total: stats.total,
        map: charts::world_map(&stats.points),
        chart: charts::threats_over_time(&stats.per_day),
        legend: stats
            .by_threat
            .iter()
            .map(|(t, n)| (t.as_str(), charts::threat_colour(*t), *n))
            .collect(),
        asns: bars(
            stats
                .top_asns
                .iter()
                .map(|(a, org, n)| (format!("AS{a} {}", org.as_deref().unwrap_or("")), *n))
                .collect(),
        ),
        countries: bars(stats.top_countries),
        records: records
            .into_iter()
            .map(|r| UrlRecordDto::new(r, ids))
            .collect(),
        files: files
            .into_iter()
            .map(|x| FileRow {
                name: x.name,
                kind: x.kind,
                format: x.format,
                slot: x.slot.to_rfc3339(),
                records: x.records,
                size: x.size,
                sha256: x.sha256,
            })
            .collect(),
        geo,
        public_key: state.feeds.signer.public_key(),
        pager: pager(&f, stats.total, records_len),
        f,
    };
    Ok((code, render(&page)?).into_response())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<UrlFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(f) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    urls_page(&state, &caller, f, None).await
}

#[derive(Deserialize)]
pub(crate) struct ImportForm {
    csrf: String,
    data: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    tlp: String,
    #[serde(default)]
    skip_invalid: Option<String>,
}

/// The operator pastes a batch (JSON, NDJSON or CSV).
pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<ImportForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_staff().map_err(|_| not_found())?;
    let result = async {
        let opts = ImportOptions {
            format: isx_formats::urls::UrlInputFormat::from_name(&f.format),
            name: None,
            source: if f.source.trim().is_empty() {
                "web".to_owned()
            } else {
                f.source.trim().to_owned()
            },
            tlp: if f.tlp.is_empty() {
                isx_domain::Tlp::Green
            } else {
                f.tlp.parse().map_err(ApiError::invalid)?
            },
            skip_invalid: f.skip_invalid.is_some(),
            ..ImportOptions::default()
        };
        let actor = caller
            .user
            .as_ref()
            .map_or_else(|| "web".to_owned(), |u| u.login.to_string());
        Ok::<_, ApiError>(
            urls::import(
                state.store.as_ref(),
                &state.geo,
                f.data.as_bytes(),
                &opts,
                &actor,
                state.clock.now(),
            )
            .await?,
        )
    }
    .await;
    let note = result.as_ref().ok().map(|r| {
        AuditNote::new(
            "urls.import",
            format!("batch/{}", r.batch.map_or("none".into(), |b| b.to_string())),
        )
    });
    let flash = result.map(|r| {
        format!(
            "{} row(s): {} new, {} updated, {} already known, {} skipped.",
            r.rows, r.created, r.updated, r.unchanged, r.skipped_total
        )
    });
    let page = urls_page(&state, &caller, UrlFilter::default(), Some(flash)).await?;
    Ok(with_note(note, page))
}

/// Downloads a feed file in the browser (the same check as the API).
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::URLS, &name).await
}
