//! The clean-files page: look up pasted hashes (or files hashed in the
//! browser, which never uploads them), the set's sources, vendors and
//! products, and the signed files. Lookups go through the same index and
//! policy check as the API.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use isx_cleanfiles::HashValue;
use serde::Deserialize;

use super::pages::{apply, layout, Layout};
use super::{check_csrf, render};
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;

/// Hashes one web lookup takes (larger sets: the API or `isx scan`).
const WEB_MAX: usize = 10_000;

struct Bar {
    label: String,
    count: u64,
    percent: u64,
}

fn bars(items: &[(String, u64)]) -> Vec<Bar> {
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    items
        .iter()
        .map(|(label, count)| Bar {
            label: label.clone(),
            count: *count,
            percent: count * 100 / max,
        })
        .collect()
}

struct Row {
    hash: String,
    /// `known-good`, `unknown` or `invalid`.
    status: &'static str,
    name: String,
    file_name: String,
    product: String,
    source: String,
}

struct FileRow {
    name: String,
    kind: String,
    format: String,
    slot: String,
    records: i64,
    sha256: String,
}

#[derive(askama::Template)]
#[template(path = "cleanfiles.html")]
struct CleanPage {
    layout: Layout,
    files: u64,
    bytes_per_sha256: String,
    sources: Vec<Bar>,
    vendors: Vec<Bar>,
    products: Vec<Bar>,
    input: String,
    results: Option<Vec<Row>>,
    known: usize,
    unknown: usize,
    downloads: Vec<FileRow>,
}

#[derive(Deserialize)]
pub(crate) struct LookupForm {
    csrf: String,
    #[serde(default)]
    hashes: String,
}

async fn render_page(
    state: &AppState,
    caller: &Caller,
    input: String,
    results: Option<Vec<Row>>,
    flash: Option<&super::pages::Flash>,
) -> Result<Response, ApiError> {
    if !isx_app::records::may_see(state, caller, &isx_app::records::clean_file()) {
        return Err(ApiError::not_found("clean files"));
    }
    let s = crate::api::cleanfiles::stats_dto(state).await?;
    let downloads =
        isx_app::feed_files::list(state, caller, &isx_app::feed_files::CLEANFILES, 12).await?;
    let (l, code) = apply(layout(caller, "Clean files", "cleanfiles"), flash);
    let (known, unknown) = results.as_ref().map_or((0, 0), |r| {
        (
            r.iter().filter(|x| x.status == "known-good").count(),
            r.iter().filter(|x| x.status == "unknown").count(),
        )
    });
    let page = CleanPage {
        layout: l,
        files: s.files,
        bytes_per_sha256: if s.bytes_per_sha256 > 0.0 {
            format!("{:.1}", s.bytes_per_sha256)
        } else {
            "—".to_owned()
        },
        sources: bars(&s.sources),
        vendors: bars(&s.vendors),
        products: bars(&s.products),
        input,
        results,
        known,
        unknown,
        downloads: downloads
            .into_iter()
            .map(|f| FileRow {
                name: f.name,
                kind: f.kind,
                format: f.format,
                slot: f.slot.to_rfc3339(),
                records: f.records,
                sha256: f.sha256,
            })
            .collect(),
    };
    Ok((code, render(&page)?).into_response())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    render_page(&state, &caller, String::new(), None, None).await
}

/// Looks up the pasted lines: a hash first on each line, anything after it
/// (a file name, as `sha256sum` and the page's file hashing write) shown
/// beside the answer.
pub(crate) async fn lookup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<LookupForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let lines: Vec<(&str, &str)> = f
        .hashes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (h, rest) = l.split_at(l.find(char::is_whitespace).unwrap_or(l.len()));
            (h, rest.trim().trim_start_matches('*'))
        })
        .collect();
    if lines.len() > WEB_MAX {
        let e: super::pages::Flash = Err(ApiError::invalid(format!(
            "{} hashes: the page looks up at most {WEB_MAX}; use the API or `isx scan` for more",
            lines.len()
        )));
        return render_page(&state, &caller, f.hashes.clone(), None, Some(&e)).await;
    }
    let view = state.clean.view();
    let parsed: Vec<Result<HashValue, String>> = lines
        .iter()
        .map(|(h, _)| HashValue::parse(h).map_err(|e| e.to_string()))
        .collect();
    let answers = isx_app::cleanfiles::look_up(state.store.as_ref(), &view, &parsed, true).await?;
    let mut rows = Vec::with_capacity(lines.len());
    for (((h, name), p), a) in lines.iter().zip(parsed).zip(&answers) {
        let row = match p {
            Err(e) => Row {
                hash: (*h).to_owned(),
                status: "invalid",
                name: (*name).to_owned(),
                file_name: e,
                product: String::new(),
                source: String::new(),
            },
            Ok(v) => {
                let file = a.as_ref().and_then(|k| k.files.first());
                Row {
                    hash: v.to_string(),
                    status: if file.is_some() {
                        "known-good"
                    } else {
                        "unknown"
                    },
                    name: (*name).to_owned(),
                    file_name: file.map(|f| f.file_name.clone()).unwrap_or_default(),
                    product: file
                        .map(isx_cleanfiles::CleanFile::product_label)
                        .unwrap_or_default(),
                    source: file.map(|f| f.source.clone()).unwrap_or_default(),
                }
            }
        };
        rows.push(row);
    }
    state.metrics.clean_lookups.inc_by(rows.len() as u64);
    render_page(&state, &caller, f.hashes.clone(), Some(rows), None).await
}

/// Downloads a clean-file file in the browser (the same check as the API).
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::CLEANFILES, &name).await
}
