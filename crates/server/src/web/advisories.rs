//! Pages for advance vulnerability notices: releases, a release with its
//! affected-software table and filters, an advisory, and the operator's
//! editor. Reads go through `isx_app::notices` (the policy function).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use isx_advisories::{Advisory, NewRelease, Release, ReleaseChange, ReleaseStatus};
use isx_domain::Timestamp;
use serde::Deserialize;

use super::pages::{apply, layout, not_found, with_note, Flash, Layout};
use super::{check_csrf, render};
use crate::audit::AuditNote;
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::advisories::{self, AdvisoryFilter};

struct ReleaseRow {
    id: i64,
    title: String,
    release_at: String,
    state: &'static str,
    marking: &'static str,
    count: usize,
    withheld: bool,
}

#[derive(askama::Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    layout: Layout,
    releases: Vec<ReleaseRow>,
    pager: super::ListPager,
}

/// Releases a page of the list shows.
const RELEASES_PAGE: usize = 50;

async fn releases_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
    offset: usize,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let mut rows = Vec::new();
    let (visible, pager) = super::page_of(
        advisories::visible_releases(state, &caller.principal).await?,
        offset,
        RELEASES_PAGE,
        |o| format!("/releases?offset={o}"),
    );
    for (r, mask) in visible {
        rows.push(ReleaseRow {
            count: state.store.advisories(Some(r.id)).await?.len(),
            id: r.id,
            title: r.title.clone(),
            release_at: r.release_at.to_rfc3339(),
            state: r.state(now).as_str(),
            marking: r.marking.as_str(),
            withheld: mask.hides(isx_policy::FieldMask::EXPLOITABILITY),
        });
    }
    let (l, status) = apply(
        layout(caller, "Vulnerability notices", "releases"),
        flash.as_ref(),
    );
    Ok((
        status,
        render(&ReleasesPage {
            layout: l,
            releases: rows,
            pager,
        })?,
    )
        .into_response())
}

pub(crate) async fn releases(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(p): axum::extract::Query<super::PageParams>,
) -> Result<Response, ApiError> {
    releases_page(&state, &caller, None, p.offset.unwrap_or(0)).await
}

#[derive(Deserialize)]
pub(crate) struct NewReleaseForm {
    csrf: String,
    title: String,
    release_at: String,
    marking: String,
    status: String,
    #[serde(default)]
    notes: String,
}

pub(crate) async fn create_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<NewReleaseForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_staff().map_err(|_| not_found())?;
    let result = async {
        let new = NewRelease {
            title: f.title.clone(),
            release_at: Timestamp::parse(&f.release_at)?,
            notes: f.notes.clone(),
            status: ReleaseStatus::parse(&f.status).map_err(ApiError::invalid)?,
            marking: f.marking.parse()?,
        };
        new.validate().map_err(ApiError::invalid)?;
        Ok::<_, ApiError>(state.store.insert_release(&new, state.clock.now()).await?)
    }
    .await;
    let note = result
        .as_ref()
        .ok()
        .map(|r| AuditNote::new("release.create", format!("release/{}", r.id)));
    let page = releases_page(
        &state,
        &caller,
        Some(result.map(|r| format!("Release {} created.", r.title))),
        0,
    )
    .await?;
    Ok(with_note(note, page))
}

struct TableRow {
    cve: String,
    title: String,
    severity: String,
    cvss: String,
    exploitability: String,
    kev: &'static str,
    epss: String,
    ssvc: String,
    products: String,
    fixes: String,
}

fn table_row(a: &Advisory, withheld: bool) -> TableRow {
    let mut fixes: Vec<&str> = a.affected.iter().filter_map(|p| p.fix.as_deref()).collect();
    fixes.dedup();
    TableRow {
        cve: a.id.to_string(),
        title: a.title.clone(),
        severity: a
            .severity()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        cvss: a.score().map(|s| format!("{s:.1}")).unwrap_or_default(),
        exploitability: match (a.exploitability, withheld) {
            (Some(e), _) => format!("{} / {}", e.latest.label(), e.older.label()),
            (None, true) => "withheld".into(),
            (None, false) => "not assessed".into(),
        },
        kev: match (&a.known_exploited, withheld) {
            (Some(_), _) => "yes",
            (None, true) => "withheld",
            (None, false) => "",
        },
        epss: match (&a.epss, withheld) {
            (Some(e), _) => epss_text(e),
            (None, true) => "withheld".into(),
            (None, false) => String::new(),
        },
        ssvc: match (&a.ssvc, withheld) {
            (Some(s), _) => ssvc_text(s),
            (None, true) => "withheld".into(),
            (None, false) => String::new(),
        },
        products: a
            .affected
            .iter()
            .map(|p| p.full_name())
            .collect::<Vec<_>>()
            .join("; "),
        fixes: fixes.join(", "),
    }
}

/// `94.0% (99.9th percentile, 2026-12-01)`.
pub(crate) fn epss_text(e: &isx_advisories::EpssScore) -> String {
    format!(
        "{:.1}% ({:.1}th percentile, {})",
        e.epss * 100.0,
        e.percentile * 100.0,
        e.date
    )
}

/// `Exploitation: active · Automatable: yes · Technical impact: total`.
pub(crate) fn ssvc_text(s: &isx_advisories::Ssvc) -> String {
    format!(
        "Exploitation: {} · Automatable: {} · Technical impact: {}",
        s.exploitation.as_str(),
        if s.automatable { "yes" } else { "no" },
        s.technical_impact.as_str()
    )
}

#[derive(askama::Template)]
#[template(path = "release.html")]
struct ReleasePage {
    layout: Layout,
    release: Release,
    state: &'static str,
    withheld: bool,
    rows: Vec<TableRow>,
    severities: [&'static str; 4],
    filter_product: String,
    filter_severity: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageFilter {
    #[serde(default)]
    product: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    exploitability: String,
    #[serde(default)]
    known_exploited: String,
    #[serde(default)]
    epss_min: String,
    #[serde(default)]
    ssvc_exploitation: String,
    #[serde(default)]
    sort: String,
}

impl PageFilter {
    fn to_filter(&self, release: i64) -> Result<AdvisoryFilter, ApiError> {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        Ok(AdvisoryFilter {
            release: Some(release),
            product: opt(&self.product),
            severity: opt(&self.severity),
            exploitability: opt(&self.exploitability)
                .map(|s| s.parse::<u8>())
                .transpose()
                .map_err(ApiError::invalid)?,
            known_exploited: opt(&self.known_exploited).map(|s| s == "true"),
            q: None,
            // Entered as a percentage on the page.
            epss_min: opt(&self.epss_min)
                .map(|s| {
                    s.trim_end_matches('%')
                        .trim()
                        .parse::<f64>()
                        .map(|p| p / 100.0)
                })
                .transpose()
                .map_err(|_| {
                    ApiError::invalid(format!(
                        "EPSS at least {:?}: a percentage, e.g. 10",
                        self.epss_min
                    ))
                })?,
            ssvc_exploitation: opt(&self.ssvc_exploitation),
            sort: opt(&self.sort),
        })
    }
}

async fn release_page(
    state: &AppState,
    caller: &Caller,
    id: i64,
    pf: &PageFilter,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    let (release, mask) = advisories::visible_release(state, &caller.principal, id)
        .await
        .map_err(|_| not_found())?;
    let found = advisories::search(state, &caller.principal, &pf.to_filter(id)?).await?;
    let (l, status) = apply(layout(caller, "Release", "releases"), flash.as_ref());
    let page = ReleasePage {
        layout: l,
        state: release.state(state.clock.now()).as_str(),
        withheld: mask.hides(isx_policy::FieldMask::EXPLOITABILITY),
        rows: found
            .iter()
            .map(|(_, a)| table_row(a, mask.hides(isx_policy::FieldMask::EXPLOITABILITY)))
            .collect(),
        release,
        severities: ["low", "medium", "high", "critical"],
        filter_product: pf.product.clone(),
        filter_severity: pf.severity.clone(),
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(pf): Query<PageFilter>,
) -> Result<Response, ApiError> {
    release_page(&state, &caller, id, &pf, None).await
}

#[derive(Deserialize)]
pub(crate) struct ChangeForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    release_at: String,
    summary: String,
}

pub(crate) async fn change_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<ChangeForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_staff().map_err(|_| not_found())?;
    let result = async {
        let (mut r, _) = advisories::visible_release(&state, &caller.principal, id).await?;
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
        let change = ReleaseChange {
            status: given(&f.status)
                .map(|s| ReleaseStatus::parse(&s))
                .transpose()
                .map_err(ApiError::invalid)?,
            release_at: given(&f.release_at)
                .map(|t| Timestamp::parse(&t))
                .transpose()?,
            ..Default::default()
        };
        r.revise(change, &f.summary, state.clock.now())
            .map_err(ApiError::invalid)?;
        Ok::<_, ApiError>(state.store.update_release(&r).await?)
    }
    .await;
    match result {
        Ok(_) => Ok(with_note(
            Some(AuditNote::new("release.change", format!("release/{id}"))),
            Redirect::to(&format!("/releases/{id}")).into_response(),
        )),
        Err(e) => release_page(&state, &caller, id, &PageFilter::default(), Some(Err(e))).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct ImportForm {
    csrf: String,
    document: String,
}

pub(crate) async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<ImportForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_staff().map_err(|_| not_found())?;
    let result = async {
        let doc = isx_formats::csaf::parse(f.document.as_bytes()).map_err(ApiError::invalid)?;
        let (release, _) = advisories::visible_release(&state, &caller.principal, id).await?;
        release.admits(doc.tlp).map_err(ApiError::invalid)?;
        let ids: Vec<String> = doc.advisories.iter().map(|a| a.id.to_string()).collect();
        let out = state
            .store
            .put_advisories(id, &doc.advisories, "Imported (web)", state.clock.now())
            .await?;
        Ok::<_, ApiError>((out, ids))
    }
    .await;
    let note = result
        .as_ref()
        .ok()
        .map(|_| AuditNote::new("advisories.import", format!("release/{id}")));
    let flash = result.map(|(o, ids)| {
        let stored = if ids.is_empty() {
            "nothing stored".to_owned()
        } else {
            ids.join(", ")
        };
        format!(
            "{} created, {} revised, {} unchanged ({stored}).",
            o.created, o.revised, o.unchanged
        )
    });
    let page = release_page(&state, &caller, id, &PageFilter::default(), Some(flash)).await?;
    Ok(with_note(note, page))
}

#[derive(askama::Template)]
#[template(path = "advisory.html")]
struct AdvisoryPage {
    layout: Layout,
    withheld: bool,
    epss: String,
    ssvc: String,
    /// The EPSS history as SVG polyline points (day by day, 0–100 %).
    epss_points: String,
    epss_days: usize,
    a: Advisory,
    informational: bool,
    release: Release,
    state: &'static str,
    severity: String,
}

pub(crate) async fn advisory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(cve): Path<String>,
) -> Result<Response, ApiError> {
    let (release, a, mask) = advisories::advisory(&state, &caller.principal, &cve)
        .await
        .map_err(|_| not_found())?;
    let history = advisories::epss_history(&state, &caller.principal, &cve)
        .await
        .map_err(|_| not_found())?
        .unwrap_or_default();
    let n = history.len();
    let epss_points = history
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let x = if n > 1 {
                i as f64 * 300.0 / (n - 1) as f64
            } else {
                150.0
            };
            format!("{x:.1},{:.1}", 60.0 - e.epss * 60.0)
        })
        .collect::<Vec<_>>()
        .join(" ");
    let page = AdvisoryPage {
        withheld: mask.hides(isx_policy::FieldMask::EXPLOITABILITY),
        epss: a.epss.as_ref().map(epss_text).unwrap_or_default(),
        ssvc: a.ssvc.as_ref().map(ssvc_text).unwrap_or_default(),
        epss_points,
        epss_days: n,
        layout: layout(&caller, "Advisory", "releases"),
        severity: a
            .severity()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "—".into()),
        state: release.state(state.clock.now()).as_str(),
        informational: a.kind == isx_advisories::AdvisoryKind::Informational,
        a,
        release,
    };
    Ok(render(&page)?.into_response())
}

#[derive(askama::Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    layout: Layout,
    deliveries: Vec<isx_store::Delivery>,
}

/// Webhook deliveries and their status (operator administrators).
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    if !isx_app::records::may_see(&state, &caller, &isx_app::records::operator_data()) {
        return Err(not_found());
    }
    let deliveries = state.store.deliveries(None, 500).await?;
    Ok(render(&DeliveriesPage {
        layout: layout(&caller, "Webhook deliveries", "deliveries"),
        deliveries,
    })?
    .into_response())
}
