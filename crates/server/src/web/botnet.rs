//! The constituency view: what the botnet feeds hold about the signed-in
//! member's networks — infected and IoT events by family over time, the
//! most active addresses, a map, the C2 servers and malicious domains, and
//! the member's files. Reads go through `isx_app::botnet` (the same events
//! the API gives this member).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use isx_store::MapPoint;

use super::charts;
use super::pages::{apply, layout, Layout};
use super::render;
use crate::auth::Caller;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::botnet::{BotnetSummary, Indicator, TopIp};

struct FileRow {
    name: String,
    kind: String,
    format: String,
    slot: String,
    records: i64,
    sha256: String,
}

#[derive(askama::Template)]
#[template(path = "botnet.html")]
struct BotnetPage {
    layout: Layout,
    s: BotnetSummary,
    constituency: String,
    map: String,
    chart: String,
    legend: Vec<(String, &'static str, u64)>,
    top: Vec<TopIp>,
    c2: Vec<Indicator>,
    domains: Vec<Indicator>,
    files: Vec<FileRow>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let s = isx_app::botnet::summary_days(&state, &caller.principal, None).await?;
    let mut families: Vec<(String, u64)> = Vec::new();
    for (_, f, n) in &s.per_day {
        match families.iter_mut().find(|(x, _)| x == f) {
            Some(e) => e.1 += n,
            None => families.push((f.clone(), *n)),
        }
    }
    families.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let series: Vec<String> = families.iter().map(|(f, _)| f.clone()).collect();
    let points: Vec<MapPoint> = s
        .points
        .iter()
        .map(|l| MapPoint {
            ip: l.ip.clone(),
            latitude: l.latitude,
            longitude: l.longitude,
            country: l.country.clone(),
            urls: i64::try_from(l.events).unwrap_or(i64::MAX),
        })
        .collect();
    let c = &caller.member.constituency;
    let mut parts: Vec<String> = c.cidrs.iter().map(|x| x.to_string()).collect();
    parts.extend(c.asns.iter().map(|a| format!("AS{}", a.get())));
    parts.extend(c.domains.iter().map(|d| d.as_str().to_owned()));
    if let Some(cc) = c.country {
        parts.push(format!("country {cc}"));
    }
    let constituency = if caller.principal.operator {
        "the operator sees every member's events".to_owned()
    } else if parts.is_empty() {
        "no constituency registered: you receive C2 servers and domains only".to_owned()
    } else {
        parts.join(", ")
    };
    let files =
        isx_app::feed_files::list(&state, &caller, &isx_app::feed_files::BOTNET, 40).await?;
    let (l, code) = apply(layout(&caller, "Botnet", "botnet"), None);
    let page = BotnetPage {
        layout: l,
        constituency,
        map: charts::world_map_as("botnet-map", "event(s)", &points),
        chart: charts::stacked_per_day(
            "botnet-chart",
            "Infected and IoT events per day by family",
            &series,
            &s.per_day,
        ),
        legend: families
            .iter()
            .enumerate()
            .map(|(i, (f, n))| (f.clone(), charts::series_colour(i), *n))
            .collect(),
        top: s.top_ips.clone(),
        c2: s.c2.clone(),
        domains: s.domains.clone(),
        files: files
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
        s,
    };
    Ok((code, render(&page)?).into_response())
}

/// Downloads a botnet file in the browser (the same check as the API).
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::BOTNET, &name).await
}
