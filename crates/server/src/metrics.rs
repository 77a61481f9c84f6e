//! Prometheus metrics at `/metrics`, in the OpenMetrics text format, on
//! `prometheus-client`: one registry per running server. HTTP traffic is
//! counted here in labelled families; the product counters live in the
//! application (plain atomics, so `isx-app` knows nothing of Prometheus)
//! and are read at scrape time by [`ProductCollector`].

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use isx_app::feeds::FeedStats;
use isx_app::App;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::AppState;

/// Upper bounds of the request latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The media type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route template (`/api/v1/members/{id}`), never the raw path, so
    /// the label's values stay bounded.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    url_rows: Family<OutcomeLabels, Counter>,
    /// Hashes looked up in bulk.
    pub clean_lookups: Counter,
    /// Requests refused for a bad, expired or revoked key.
    auth_refused: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// What happened to the rows of a URL import, as the `outcome` label.
const URL_OUTCOMES: [&str; 4] = ["created", "updated", "unchanged", "skipped"];

impl Metrics {
    pub fn new(app: &App) -> Self {
        let mut registry = Registry::with_prefix("isx");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let url_rows = Family::<OutcomeLabels, Counter>::default();
        for outcome in URL_OUTCOMES {
            drop(url_rows.get_or_create(&OutcomeLabels { outcome }));
        }
        registry.register(
            "url_rows_imported",
            "URL rows imported on this node, by outcome",
            url_rows.clone(),
        );
        let clean_lookups = Counter::default();
        registry.register(
            "cleanfiles_lookups",
            "Hashes looked up in bulk on this node",
            clean_lookups.clone(),
        );
        let auth_refused = Counter::default();
        registry.register(
            "auth_refused",
            "Requests refused on this node for a bad, expired or revoked API key (429s of spent clients included)",
            auth_refused.clone(),
        );
        registry.register_collector(Box::new(ProductCollector { app: app.clone() }));
        Metrics {
            auth_refused,
            registry,
            requests,
            latency,
            url_rows,
            clean_lookups,
        }
    }

    /// Counts one refused authentication.
    pub fn auth_refused(&self) {
        self.auth_refused.inc();
    }

    /// Counts the rows of a URL import by what happened to them.
    pub fn url_import(&self, r: &isx_app::urls::ImportReport) {
        for (outcome, n) in
            URL_OUTCOMES
                .into_iter()
                .zip([r.created, r.updated, r.unchanged, r.skipped_total])
        {
            self.url_rows
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(n as u64);
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(secs);
    }

    /// The registry in the OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The application's own counters, read when Prometheus scrapes: feed
/// production per product, the botnet hub, the clean-file index and the
/// geo databases.
struct ProductCollector {
    app: App,
}

impl std::fmt::Debug for ProductCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductCollector").finish_non_exhaustive()
    }
}

type Reading = fn(&FeedStats) -> i64;

/// Counters every product's feed production keeps.
const FEED_COUNTERS: [(&str, &str, Reading); 4] = [
    (
        "feed_slots_produced",
        "Feed slots this node produced",
        |s| s.slots_produced.load(Relaxed) as i64,
    ),
    ("feed_files_written", "Feed files this node wrote", |s| {
        s.files_written.load(Relaxed) as i64
    }),
    (
        "feed_records_written",
        "Records written into feed files by this node",
        |s| s.records_written.load(Relaxed) as i64,
    ),
    (
        "feed_failures",
        "Failed feed production attempts (retried)",
        |s| s.failures.load(Relaxed) as i64,
    ),
];

/// Gauges of the same.
const FEED_GAUGES: [(&str, &str, Reading); 2] = [
    (
        "feed_last_slot_timestamp_seconds",
        "The newest feed slot this node produced (Unix time)",
        |s| s.last_slot.load(Relaxed),
    ),
    (
        "feed_last_run_milliseconds",
        "How long producing the last slot took",
        |s| s.last_run_millis.load(Relaxed) as i64,
    ),
];

impl ProductCollector {
    fn feeds(&self) -> [(&'static str, &FeedStats); 3] {
        let f = &self.app.feeds;
        [
            ("urls", &f.stats),
            ("botnet", &f.botnet_stats),
            ("cleanfiles", &f.clean_stats),
        ]
    }
}

impl Collector for ProductCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (kind, list) in [
            (MetricType::Counter, &FEED_COUNTERS[..]),
            (MetricType::Gauge, &FEED_GAUGES[..]),
        ] {
            for (name, help, read) in list {
                let mut family = encoder.encode_descriptor(name, help, None, kind)?;
                for (product, stats) in self.feeds() {
                    let labels = [("product", product)];
                    let metric = family.encode_family(&labels)?;
                    match kind {
                        MetricType::Counter => {
                            ConstCounter::new(read(stats).max(0) as u64).encode(metric)?
                        }
                        _ => ConstGauge::new(read(stats)).encode(metric)?,
                    }
                }
            }
        }
        let geo = self.app.geo.status();
        let loaded = i64::from(geo.location.is_some()) + i64::from(geo.asn.is_some());
        let mut family = encoder.encode_descriptor(
            "geo_databases_loaded",
            "Geo databases configured for enrichment (0 to 2)",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(loaded).encode(family.encode_family(&[("product", "urls")])?)?;
        let b = &self.app.botnet;
        for (name, help, v) in [
            (
                "botnet_events_ingested",
                "Botnet events stored by this node",
                b.events_ingested.load(Relaxed),
            ),
            (
                "botnet_events_duplicate",
                "Botnet events received again and skipped by this node",
                b.events_duplicate.load(Relaxed),
            ),
            (
                "botnet_matcher_builds",
                "Constituency matcher builds on this node (one per change)",
                b.matcher_builds.load(Relaxed),
            ),
            (
                "cleanfiles_index_rebuilds",
                "Clean-file hash set rebuilds from the store on this node",
                self.app.clean.rebuilds.load(Relaxed),
            ),
        ] {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(v).encode(family)?;
        }
        Ok(())
    }
}

/// Middleware: counts and times every request under its route template.
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

/// `GET /metrics`, for the operator's administrators and staff only: the
/// counters tell how much each product holds and takes in, which members
/// may not learn (Prometheus sends the key as a bearer token).
pub async fn handler(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Response {
    use axum::response::IntoResponse;
    if let Err(e) = caller.require_staff() {
        return crate::problem::ApiError::from(e).into_response();
    }
    match state.metrics.render() {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => {
            crate::problem::ApiError::Internal("cannot encode the metrics".into()).into_response()
        }
    }
}
