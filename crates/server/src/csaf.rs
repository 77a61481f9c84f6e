//! The CSAF trusted provider over HTTP (CSAF 2.0 §7.1), under
//! `/.well-known/csaf/`:
//!
//! * `provider-metadata.json`, `service.json` (ROLIE service document) and
//!   `openpgp/<FINGERPRINT>.asc` — public;
//! * one folder per TLP label (`white`, `green`, `amber`, `red`), each with
//!   a directory listing, `index.txt`, `changes.csv`, its ROLIE feed
//!   `csaf-feed-tlp-<label>.json` and `<year>/<file>.json` with `.sha256`,
//!   `.sha512` and `.asc` next to each document. `white` needs no
//!   credentials; the others need an API key and list what it may see;
//! * `/.well-known/security.txt` with its `CSAF:` field.
//!
//! Nothing redirects (§7.1.6): a folder asked for without its trailing
//! slash is listed all the same. What a reader finds is decided by
//! [`isx_app::csaf_provider`], through the policy function.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use isx_app::csaf_provider;
use isx_formats::csaf::provider::{self, Folder, Listed};
use isx_policy::Principal;

use crate::auth::Caller;
use crate::problem::ApiError;
use crate::AppState;

/// The provider's routes in the OpenAPI document (tag `csaf`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    provider_metadata,
    service,
    security_txt,
    public_key,
    folder_listing,
    folder_file,
    year_listing,
    document_file
))]
pub struct CsafDoc;

/// The provider's routes, behind [`crate::audit::reader_gate`].
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/.well-known/security.txt", get(security_txt))
        .route(
            "/.well-known/csaf/provider-metadata.json",
            get(provider_metadata),
        )
        .route("/.well-known/csaf/service.json", get(service))
        .route("/.well-known/csaf/openpgp/{file}", get(public_key))
        .route("/.well-known/csaf/{folder}", get(folder_listing))
        .route("/.well-known/csaf/{folder}/", get(folder_listing))
        .route("/.well-known/csaf/{folder}/{name}", get(folder_file))
        .route("/.well-known/csaf/{folder}/{year}/", get(year_listing))
        .route(
            "/.well-known/csaf/{folder}/{year}/{file}",
            get(document_file),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            crate::audit::reader_gate,
        ))
}

type Reader = Option<Extension<Caller>>;

fn principal(reader: &Reader) -> Principal {
    reader
        .as_ref()
        .map_or_else(Principal::anonymous, |Extension(c)| c.principal.clone())
}

/// The folder named `name`; one that is not public needs credentials.
fn folder(name: &str, reader: &Reader) -> Result<Folder, ApiError> {
    let f = Folder::parse(name).ok_or_else(|| ApiError::NotFound(format!("CSAF folder {name}")))?;
    if !f.is_public() && reader.is_none() {
        return Err(ApiError::Unauthorized(format!(
            "the TLP:{} folder needs an API key: send Authorization: Bearer isx_<key id>_<secret>",
            f.label()
        )));
    }
    Ok(f)
}

fn typed(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// CSAF 2.0 `provider-metadata.json` (§7.1.1): the provider, its
/// OpenPGP key, its distributions (folders and ROLIE feeds). Public.
#[utoipa::path(get, path = "/.well-known/csaf/provider-metadata.json", tag = "csaf",
    responses((status = 200, description = "The provider metadata", body = Object)))]
async fn provider_metadata(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(csaf_provider::metadata(&state))
}

/// The ROLIE service document listing the provider's feeds. Public.
#[utoipa::path(get, path = "/.well-known/csaf/service.json", tag = "csaf",
    responses((status = 200, description = "A ROLIE service document", body = Object)))]
async fn service(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(provider::rolie_service(state.public_url()))
}

/// RFC 9116 `security.txt` with its `CSAF:` field (§7.1.8). Public.
#[utoipa::path(get, path = "/.well-known/security.txt", tag = "csaf",
    responses((status = 200, description = "security.txt", content_type = "text/plain", body = String)))]
async fn security_txt(State(state): State<AppState>) -> Response {
    let expires = state.clock.now().add_secs(365 * 86_400);
    typed(
        "text/plain; charset=utf-8",
        provider::security_txt(
            state.public_url(),
            &csaf_provider::security_contact(&state),
            expires,
        ),
    )
}

/// The provider's OpenPGP public key (signs every document's `.asc`).
#[utoipa::path(get, path = "/.well-known/csaf/openpgp/{file}", tag = "csaf",
    params(("file" = String, Path, description = "`<FINGERPRINT>.asc`, as provider-metadata.json names it")),
    responses((status = 200, description = "The armoured public key", content_type = "application/pgp-keys", body = String)))]
async fn public_key(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    if file != format!("{}.asc", state.openpgp.fingerprint()) {
        return ApiError::NotFound(format!("OpenPGP key {file}")).into_response();
    }
    typed("application/pgp-keys", state.openpgp.certificate())
}

/// A folder's directory listing (§7.1.14): `index.txt`, `changes.csv`,
/// the ROLIE feed and the years.
#[utoipa::path(get, path = "/.well-known/csaf/{folder}/", tag = "csaf",
    security((), ("api_key" = []), ("basic" = [])),
    params(("folder" = String, Path, pattern = "^(white|green|amber|red)$", description = "The TLP folder: `white` is public, the others need an API key and list what it may see")),
    responses((status = 200, description = "An HTML listing", content_type = "text/html", body = String)))]
async fn folder_listing(
    State(state): State<AppState>,
    reader: Reader,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let f = folder(&name, &reader)?;
    let docs = csaf_provider::listing(&state, &principal(&reader), f).await?;
    let dir = provider::folder_url(state.public_url(), f);
    let mut years: Vec<String> = docs.iter().map(Listed::year).collect();
    years.sort();
    years.dedup();
    let mut links = vec![
        "index.txt".to_owned(),
        "changes.csv".to_owned(),
        f.feed_file(),
    ];
    links.extend(years.into_iter().map(|y| format!("{y}/")));
    Ok(listing_page(&format!("TLP:{}", f.label()), &dir, &links))
}

/// A folder's `index.txt`, `changes.csv` or ROLIE feed
/// (`csaf-feed-tlp-<label>.json`), as the caller may see it.
#[utoipa::path(get, path = "/.well-known/csaf/{folder}/{name}", tag = "csaf",
    security((), ("api_key" = []), ("basic" = [])),
    params(("folder" = String, Path, pattern = "^(white|green|amber|red)$", description = "The TLP folder: `white` is public, the others need an API key and list what it may see"),
        ("name" = String, Path, description = "`index.txt`, `changes.csv` or `csaf-feed-tlp-<label>.json` (a year, `2026`, gives its listing)")),
    responses((status = 200, description = "The file",
        content((String = "text/plain"), (String = "text/csv"), (Object = "application/json"), (String = "text/html")))))]
async fn folder_file(
    State(state): State<AppState>,
    reader: Reader,
    Path((name, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = folder(&name, &reader)?;
    let is_year = file.len() == 4 && file.bytes().all(|b| b.is_ascii_digit());
    if is_year {
        return year_listing(State(state), reader, Path((name, file))).await;
    }
    let docs = csaf_provider::listing(&state, &principal(&reader), f).await?;
    if file == "index.txt" {
        Ok(typed(
            "text/plain; charset=utf-8",
            provider::index_txt(&docs),
        ))
    } else if file == "changes.csv" {
        Ok(typed(
            "text/csv; charset=utf-8",
            provider::changes_csv(&docs),
        ))
    } else if file == f.feed_file() {
        let feed = provider::rolie_feed(state.public_url(), f, &docs, state.clock.now());
        Ok(Json(feed).into_response())
    } else {
        Err(ApiError::NotFound(format!("{name}/{file}")))
    }
}

/// A year's listing: each document with its `.asc`, `.sha256`, `.sha512`.
#[utoipa::path(get, path = "/.well-known/csaf/{folder}/{year}/", tag = "csaf",
    security((), ("api_key" = []), ("basic" = [])),
    params(("folder" = String, Path, pattern = "^(white|green|amber|red)$", description = "The TLP folder: `white` is public, the others need an API key and list what it may see"),
        ("year" = String, Path, pattern = "^[0-9]{4}$", description = "The year of the documents' initial release")),
    responses((status = 200, description = "An HTML listing", content_type = "text/html", body = String)))]
async fn year_listing(
    State(state): State<AppState>,
    reader: Reader,
    Path((name, year)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = folder(&name, &reader)?;
    let docs = csaf_provider::listing(&state, &principal(&reader), f).await?;
    let mut files: Vec<String> = docs
        .iter()
        .filter(|d| d.year() == year)
        .map(Listed::file)
        .collect();
    if files.is_empty() {
        return Err(ApiError::NotFound(format!("{name}/{year}/")));
    }
    files.sort();
    let links: Vec<String> = files
        .iter()
        .flat_map(|file| ["", ".asc", ".sha256", ".sha512"].map(|ext| format!("{file}{ext}")))
        .collect();
    let dir = format!("{}/{year}", provider::folder_url(state.public_url(), f));
    Ok(listing_page(
        &format!("TLP:{} {year}", f.label()),
        &dir,
        &links,
    ))
}

/// A CSAF document (`<tracking id>.json`), or its `.asc` signature,
/// `.sha256` or `.sha512`, as the caller may see it.
#[utoipa::path(get, path = "/.well-known/csaf/{folder}/{year}/{file}", tag = "csaf",
    security((), ("api_key" = []), ("basic" = [])),
    params(("folder" = String, Path, pattern = "^(white|green|amber|red)$", description = "The TLP folder: `white` is public, the others need an API key and list what it may see"),
        ("year" = String, Path, pattern = "^[0-9]{4}$", description = "The year of the document's initial release"),
        ("file" = String, Path, description = "`<tracking id>.json`, with `.asc`, `.sha256` or `.sha512` for its signature and hashes")),
    responses((status = 200, description = "The document, its signature or a hash file",
        content((Object = "application/json"), (String = "application/pgp-signature"), (String = "text/plain")))))]
async fn document_file(
    State(state): State<AppState>,
    reader: Reader,
    Path((name, year, file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let f = folder(&name, &reader)?;
    let (doc_name, ext) = [".asc", ".sha256", ".sha512"]
        .into_iter()
        .find_map(|ext| file.strip_suffix(ext).map(|d| (d, ext)))
        .unwrap_or((file.as_str(), ""));
    let published =
        csaf_provider::document(&state, &principal(&reader), f, &year, doc_name).await?;
    Ok(match ext {
        ".asc" => typed(
            "application/pgp-signature",
            state.openpgp.sign(&published.bytes),
        ),
        ".sha256" => typed(
            "text/plain; charset=utf-8",
            provider::sha256_file(&published.bytes, doc_name),
        ),
        ".sha512" => typed(
            "text/plain; charset=utf-8",
            provider::sha512_file(&published.bytes, doc_name),
        ),
        _ => typed("application/json", published.bytes),
    })
}

/// A server-side directory listing (§7.1.14): absolute links, so that the
/// page works with or without the trailing slash.
fn listing_page(title: &str, dir: &str, links: &[String]) -> Response {
    let items: String = links
        .iter()
        .map(|l| {
            let l = escape(l);
            format!("<li><a href=\"{}/{l}\">{l}</a></li>\n", escape(dir))
        })
        .collect();
    let title = escape(title);
    typed(
        "text/html; charset=utf-8",
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n<body><h1>Index of {title}</h1>\n<ul>\n{items}</ul></body></html>\n"
        ),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
