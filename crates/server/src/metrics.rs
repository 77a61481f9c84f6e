//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//! A small registry of our own: request counts by route and status, and a
//! latency histogram by route.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    url_rows: Mutex<BTreeMap<&'static str, u64>>,
    /// Hashes looked up in bulk.
    pub clean_lookups: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// Counts the rows of a URL import by what happened to them.
    pub fn url_import(&self, r: &isx_app::urls::ImportReport) {
        if let Ok(mut m) = self.url_rows.lock() {
            for (k, n) in [
                ("created", r.created),
                ("updated", r.updated),
                ("unchanged", r.unchanged),
                ("skipped", r.skipped_total),
            ] {
                *m.entry(k).or_default() += n as u64;
            }
        }
    }

    /// Product metrics: URL imports, feed production, geo databases.
    fn render_products(&self, state: &AppState) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = String::new();
        out.push_str(
            "# HELP isx_url_rows_imported_total URL rows imported on this node, by outcome.\n",
        );
        out.push_str("# TYPE isx_url_rows_imported_total counter\n");
        if let Ok(m) = self.url_rows.lock() {
            for k in ["created", "updated", "unchanged", "skipped"] {
                let _ = writeln!(
                    out,
                    "isx_url_rows_imported_total{{outcome=\"{k}\"}} {}",
                    m.get(k).copied().unwrap_or(0)
                );
            }
        }
        let f = &state.feeds.stats;
        for (name, kind, help, v) in [
            (
                "isx_feed_slots_produced_total",
                "counter",
                "Feed slots this node produced.",
                f.slots_produced.load(Relaxed) as i64,
            ),
            (
                "isx_feed_files_written_total",
                "counter",
                "Feed files this node wrote.",
                f.files_written.load(Relaxed) as i64,
            ),
            (
                "isx_feed_records_written_total",
                "counter",
                "Records written into feed files by this node.",
                f.records_written.load(Relaxed) as i64,
            ),
            (
                "isx_feed_failures_total",
                "counter",
                "Failed feed production attempts (retried).",
                f.failures.load(Relaxed) as i64,
            ),
            (
                "isx_feed_last_slot_timestamp_seconds",
                "gauge",
                "The newest feed slot this node produced (Unix time).",
                f.last_slot.load(Relaxed),
            ),
            (
                "isx_feed_last_run_milliseconds",
                "gauge",
                "How long producing the last slot took.",
                f.last_run_millis.load(Relaxed) as i64,
            ),
            (
                "isx_geo_databases_loaded",
                "gauge",
                "Geo databases configured for enrichment (0 to 2).",
                i64::from(state.geo.status().location.is_some())
                    + i64::from(state.geo.status().asn.is_some()),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{product=\"urls\"}} {v}"
            );
            // The botnet and clean-file counters, in the same family.
            for (product, b) in [
                ("botnet", &state.feeds.botnet_stats),
                ("cleanfiles", &state.feeds.clean_stats),
            ] {
                let v = match name {
                    "isx_feed_slots_produced_total" => Some(b.slots_produced.load(Relaxed)),
                    "isx_feed_files_written_total" => Some(b.files_written.load(Relaxed)),
                    "isx_feed_records_written_total" => Some(b.records_written.load(Relaxed)),
                    "isx_feed_failures_total" => Some(b.failures.load(Relaxed)),
                    _ => None,
                };
                if let Some(v) = v {
                    let _ = writeln!(out, "{name}{{product=\"{product}\"}} {v}");
                }
            }
        }
        let b = &state.botnet;
        for (name, help, v) in [
            (
                "isx_botnet_events_ingested_total",
                "Botnet events stored by this node.",
                b.events_ingested.load(Relaxed),
            ),
            (
                "isx_botnet_events_duplicate_total",
                "Botnet events received again and skipped by this node.",
                b.events_duplicate.load(Relaxed),
            ),
            (
                "isx_botnet_matcher_builds_total",
                "Constituency matcher builds on this node (one per change).",
                b.matcher_builds.load(Relaxed),
            ),
            (
                "isx_cleanfiles_lookups_total",
                "Hashes looked up in bulk on this node.",
                self.clean_lookups.load(Relaxed),
            ),
            (
                "isx_cleanfiles_index_rebuilds_total",
                "Clean-file hash set rebuilds from the store on this node.",
                state.clean.rebuilds.load(Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        out
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            for (count, le) in h.counts.iter_mut().zip(BUCKETS.iter()) {
                if secs <= *le {
                    *count += 1;
                }
            }
            h.sum += secs;
            h.total += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP isx_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE isx_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(out, "isx_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}", escape(route));
            }
        }
        out.push_str("# HELP isx_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE isx_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let r = escape(route);
                for (count, le) in h.counts.iter().zip(BUCKETS.iter()) {
                    let _ = writeln!(
                        out,
                        "isx_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "isx_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "isx_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "isx_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.total
                );
            }
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: counts and times every request under its route template
/// (`/api/v1/members/{id}`, never the raw path, so labels stay bounded).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}

/// `GET /metrics`
pub async fn handler(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render() + &state.metrics.render_products(&state),
    )
}
