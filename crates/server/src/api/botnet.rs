//! Botnet feeds over REST: streaming ingest, the member's events, the
//! live stream (Server-Sent Events), and the batch and export files.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::StreamExt;
use isx_botnet::BotnetEvent;
use isx_domain::{BotnetProduct, Timestamp, Tlp};
use isx_formats::botnet::{BotnetDefaults, BotnetInputFormat, BotnetParser};
use isx_store::StoredBotnetEvent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::problem::{ApiError, Problem};
use crate::AppState;
use isx_app::wire_ids::IdKind;

/// Events per acknowledged batch at most.
const MAX_BATCH: usize = 5000;

/// How long a batch waits for more of the body before it is stored.
const GATHER: Duration = Duration::from_millis(2);

/// Defaults for rows that do not say themselves.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestParams {
    /// Product of rows that name none (`infected`, `iot`, `c2`, `domains`).
    pub product: Option<String>,
    /// Source name (default `api`).
    pub source: Option<String>,
    /// Marking of rows without one (default `amber`).
    pub tlp: Option<String>,
}

/// One acknowledgement: a batch stored (or refused, with `error`).
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAck {
    pub batch: u64,
    /// Lines of the input this batch covers.
    pub first_line: usize,
    pub last_line: usize,
    pub accepted: u64,
    /// Events already stored, skipped.
    pub duplicates: u64,
    /// The stored ids of the batch's first and last event, for the
    /// operator's bookkeeping (reads show every member opaque ids instead;
    /// see `isx_app::wire_ids`).
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    /// Why the stream stopped; batches acknowledged before stay stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The request body read a batch at a time.
struct Ingest {
    state: AppState,
    body: axum::body::BodyDataStream,
    parser: BotnetParser,
    buf: Vec<u8>,
    ended: bool,
    batch: u64,
}

enum Step {
    Stored(BatchAck),
    Refused(BatchAck),
    Done,
}

impl Ingest {
    /// Reads lines until a batch is full or the data received so far is
    /// used up, then stores the batch in one transaction. Nothing more is
    /// read from the client until the batch is stored (back-pressure).
    async fn step(&mut self) -> Step {
        let mut events: Vec<BotnetEvent> = Vec::new();
        let first_line = self.parser.line_number() + 1;
        loop {
            while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if let Err(ack) = self.take_line(&line, &mut events, first_line) {
                    return Step::Refused(*ack);
                }
                if events.len() >= MAX_BATCH {
                    return self.store(events, first_line).await;
                }
            }
            if !events.is_empty() {
                // More of the body may be on its way: wait a moment for it,
                // so that a fast sender gets few large transactions rather
                // than one per network read.
                if !self.ended {
                    match tokio::time::timeout(GATHER, self.body.next()).await {
                        Ok(Some(Ok(chunk))) => {
                            self.buf.extend_from_slice(&chunk);
                            continue;
                        }
                        Ok(None) => {
                            self.ended = true;
                            continue;
                        }
                        Ok(Some(Err(_))) | Err(_) => {}
                    }
                }
                return self.store(events, first_line).await;
            }
            if self.ended {
                if !self.buf.is_empty() {
                    let line = std::mem::take(&mut self.buf);
                    if let Err(ack) = self.take_line(&line, &mut events, first_line) {
                        return Step::Refused(*ack);
                    }
                    if !events.is_empty() {
                        return self.store(events, first_line).await;
                    }
                }
                return Step::Done;
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    return Step::Refused(self.ack(
                        first_line,
                        None,
                        Some(format!("reading the request failed: {e}")),
                    ))
                }
                None => self.ended = true,
            }
        }
    }

    fn take_line(
        &mut self,
        line: &[u8],
        events: &mut Vec<BotnetEvent>,
        first_line: usize,
    ) -> Result<(), Box<BatchAck>> {
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(_) => {
                let n = self.parser.line_number() + 1;
                return Err(Box::new(self.ack(
                    first_line,
                    None,
                    Some(format!("line {n}: not UTF-8")),
                )));
            }
        };
        match self.parser.line(text) {
            None => Ok(()),
            Some(Ok(e)) => {
                events.push(e);
                Ok(())
            }
            Some(Err(e)) => Err(Box::new(self.ack(first_line, None, Some(e.to_string())))),
        }
    }

    fn ack(
        &mut self,
        first_line: usize,
        out: Option<isx_store::BotnetInsertOutcome>,
        error: Option<String>,
    ) -> BatchAck {
        self.batch += 1;
        let o = out.unwrap_or_default();
        BatchAck {
            batch: self.batch,
            first_line,
            last_line: self.parser.line_number(),
            accepted: o.inserted,
            duplicates: o.duplicates,
            first_id: o.first_id,
            last_id: o.last_id,
            error,
        }
    }

    async fn store(&mut self, events: Vec<BotnetEvent>, first_line: usize) -> Step {
        let s = &self.state;
        match isx_app::botnet::ingest(&s.store, &s.geo, &s.botnet, events, s.clock.now()).await {
            Ok(out) => Step::Stored(self.ack(first_line, Some(out), None)),
            Err(e) => {
                tracing::error!(error = %e, "botnet batch not stored");
                Step::Refused(self.ack(
                    first_line,
                    None,
                    Some("the batch could not be stored; retry it".to_owned()),
                ))
            }
        }
    }
}

fn ack_line(a: &BatchAck) -> Bytes {
    let mut v = serde_json::to_vec(a).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// Ingests botnet events as a stream: NDJSON (`application/x-ndjson`:
/// isx fields or Microsoft CTIP lines) or CSV (`text/csv`: isx columns or
/// Shadowserver sinkhole events), of any length, sent chunked. isx stores
/// the rows in batches (one transaction each, at most 5,000 events) and
/// answers with one NDJSON acknowledgement line per stored batch; it reads
/// no further while a batch is being stored. A bad row stops the stream
/// with an acknowledgement that carries `error` and its line: that batch is
/// not stored, earlier ones are. If the first batch is bad the answer is a
/// 422 problem. Events already stored are skipped, so resending is safe.
/// Operator administrators only.
#[utoipa::path(post, path = "/api/v1/botnet/events", tag = "botnet", security(("api_key" = [])), params(IngestParams),
    request_body(content = String, description = "NDJSON or CSV", content_type = "application/x-ndjson"),
    responses((status = 200, description = "NDJSON, one BatchAck per batch", body = BatchAck),
        (status = 403, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn ingest_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    params: Result<Query<IngestParams>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    caller.require_staff()?;
    let Query(p) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let media = crate::extract::media_type(&headers);
    let format = match media.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            BotnetInputFormat::Ndjson
        }
        "text/csv" => BotnetInputFormat::Csv,
        // A JSON document is not a stream of lines: sent as NDJSON it would
        // be read line by line and half of it misread.
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "content type {other:?}: send application/x-ndjson (one event per line) or text/csv"
            )))
        }
    };
    let product = p
        .product
        .as_deref()
        .map(BotnetProduct::from_any)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("product: {e}")))?;
    let marking = isx_app::urls::parse_opt::<Tlp>(p.tlp.as_deref(), "tlp")?.unwrap_or(Tlp::Amber);
    let defaults = BotnetDefaults {
        product,
        source: p.source.unwrap_or_else(|| "api".to_owned()),
        marking,
        received_at: state.clock.now(),
    };
    let mut ingest = Ingest {
        state: state.clone(),
        body: body.into_data_stream(),
        parser: BotnetParser::new(format, defaults),
        buf: Vec::new(),
        ended: false,
        batch: 0,
    };
    // The first batch decides the status code.
    let first = match ingest.step().await {
        Step::Refused(a) => {
            let detail = a.error.unwrap_or_default();
            return Err(ApiError::Validation {
                pointer: Some(format!("/line/{}", a.last_line)),
                detail,
            });
        }
        Step::Done => {
            return Err(ApiError::invalid("no events in the request body"));
        }
        Step::Stored(a) => a,
    };
    let head = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(ack_line(&first)) });
    let rest = futures_util::stream::unfold(Some(ingest), |state| async move {
        let mut ingest = state?;
        match ingest.step().await {
            Step::Stored(a) => Some((Ok::<Bytes, Infallible>(ack_line(&a)), Some(ingest))),
            Step::Refused(a) => Some((Ok(ack_line(&a)), None)),
            Step::Done => None,
        }
    });
    let mut res = Body::from_stream(head.chain(rest)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(res)
}

/// The botnet events you may see, oldest first: victim data (infected
/// machines, IoT devices) only where your constituency covers it, and the
/// C2 servers and malicious domains your tier and the markings admit.
/// Page with `after` = the last id you got.
#[utoipa::path(get, path = "/api/v1/botnet/events", tag = "botnet", security(("api_key" = [])), params(crate::api::wire::EventFilterParams),
    responses((status = 200, body = [Object]), (status = 422, body = Problem)))]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<crate::api::wire::EventFilterParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<StoredBotnetEvent>>, ApiError> {
    let f: isx_app::botnet::EventFilter =
        q.map_err(|e| ApiError::BadRequest(e.body_text()))?.0.into();
    let ids = state.wire_ids().await?;
    let mut query = f.query()?;
    query.after_id = query
        .after_id
        .map(|a| stored_event_id(ids, a))
        .transpose()?;
    let mut rows = isx_app::botnet::events_for(
        state.store.as_ref(),
        &caller.principal,
        query,
        state.clock.now(),
    )
    .await?;
    for e in &mut rows {
        e.id = ids.encode(IdKind::BotnetEvent, e.id);
    }
    Ok(Json(rows))
}

/// The stored id behind an event id a client sends back (`after`,
/// `Last-Event-ID`): the ids shown are opaque (see `isx_app::wire_ids`).
fn stored_event_id(ids: &isx_app::wire_ids::WireIds, shown: i64) -> Result<i64, ApiError> {
    ids.decode(IdKind::BotnetEvent, shown)
        .ok_or_else(|| ApiError::invalid("not an event id of this instance"))
}

/// The live stream: Server-Sent Events, one per botnet event you may see
/// (`event:` the product, `id:` the event's opaque id, `data:` the event as JSON),
/// as soon as it is stored. Reconnect with `Last-Event-ID` (or `after`) to
/// resume exactly after the last event you received: nothing is lost or
/// repeated inside the retention window. Comments keep idle connections
/// open.
#[utoipa::path(get, path = "/api/v1/botnet/stream", tag = "botnet", security(("api_key" = [])), params(crate::api::wire::EventFilterParams),
    responses((status = 200, description = "text/event-stream")))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    cert: Option<Extension<crate::client_certs::PeerCert>>,
    headers: HeaderMap,
    q: Result<Query<crate::api::wire::EventFilterParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let f: isx_app::botnet::EventFilter =
        q.map_err(|e| ApiError::BadRequest(e.body_text()))?.0.into();
    let mut query = f.query()?;
    let ids = state.wire_ids().await?.clone();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::invalid("Last-Event-ID: expected an event id"))
        })
        .transpose()?;
    let start = match resume.or(query.after_id) {
        Some(shown) => stored_event_id(&ids, shown)?,
        // A new subscriber starts at the present.
        None => {
            state
                .store
                .botnet_id_before(Timestamp::from_micros(i64::MAX))
                .await?
        }
    };
    query.limit = 1000;
    // The stream re-authenticates with the key (or client certificate) it
    // was opened with: one revoked (or expired) mid-stream ends it.
    let credential = match (crate::auth::token_from_headers(&headers)?, cert) {
        (Some(token), _) => Credential::Key(token),
        (None, Some(Extension(c))) => Credential::Cert(c),
        (None, None) => {
            return Err(ApiError::Unauthorized(
                "the stream needs an API key or a client certificate".into(),
            ))
        }
    };
    let feed = SseFeed {
        state: state.clone(),
        credential,
        checked: std::time::Instant::now(),
        ids,
        principal: caller.principal.clone(),
        query,
        last: start,
        rx: state.botnet.subscribe(),
        idle_since: std::time::Instant::now(),
    };
    // Everything read in one pass goes out as one chunk: one write for
    // many events rather than one each.
    let body = futures_util::stream::unfold(feed, |mut feed| async move {
        let chunk = feed.next_chunk().await?;
        Some((Ok::<Bytes, Infallible>(chunk), feed))
    });
    let mut res = Body::from_stream(body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    h.insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    Ok(res)
}

/// What a stream was opened with.
enum Credential {
    Key(isx_domain::ApiToken),
    Cert(crate::client_certs::PeerCert),
}

/// One subscriber's position in the event stream.
struct SseFeed {
    state: AppState,
    /// The key or certificate the stream was opened with, checked again
    /// before events go out and at least every [`SseFeed::RECHECK`].
    credential: Credential,
    checked: std::time::Instant,
    ids: isx_app::wire_ids::WireIds,
    principal: isx_policy::Principal,
    query: isx_store::BotnetQuery,
    /// The id of the last event read (delivered, or withheld by policy).
    last: i64,
    rx: tokio::sync::watch::Receiver<i64>,
    idle_since: std::time::Instant,
}

impl SseFeed {
    /// How often an idle stream checks that its key still works.
    const RECHECK: Duration = Duration::from_secs(5);

    /// Authenticates the stream's key again, taking the caller's present
    /// principal (its groups, tier and clearance may have changed); false
    /// when the key no longer works (revoked, expired, deleted).
    async fn reauthenticate(&mut self) -> bool {
        let now = self.state.clock.now();
        let caller = match &self.credential {
            Credential::Key(token) => crate::auth::caller_from_token(&self.state, token, now).await,
            Credential::Cert(cert) => crate::auth::caller_from_cert(&self.state, cert, now).await,
        };
        match caller {
            Ok(c) => {
                self.principal = c.principal;
                self.checked = std::time::Instant::now();
                true
            }
            Err(_) => false,
        }
    }

    /// The next chunk: the events after `last` the subscriber may see, in
    /// Server-Sent Events form, or a keep-alive comment after 15 idle
    /// seconds; `None` once the stream's key no longer works (events go
    /// out only after the key was checked for them). Waits for this node's
    /// next insert, and polls every half second for other nodes'.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            let mut fresh = false;
            if self.checked.elapsed() >= Self::RECHECK {
                if !self.reauthenticate().await {
                    return None;
                }
                fresh = true;
            }
            self.query.after_id = Some(self.last);
            let now = self.state.clock.now();
            match isx_app::botnet::read_page(
                self.state.store.as_ref(),
                &self.principal,
                self.query.clone(),
                now,
            )
            .await
            {
                Ok((shown, Some(last))) => {
                    if !shown.is_empty() && !fresh {
                        let before = self.principal.clone();
                        if !self.reauthenticate().await {
                            return None;
                        }
                        if self.principal != before {
                            // Read again as the caller now is.
                            continue;
                        }
                    }
                    self.last = last;
                    let mut out = String::new();
                    for mut e in shown {
                        e.id = self.ids.encode(IdKind::BotnetEvent, e.id);
                        let data = serde_json::to_string(&e).unwrap_or_default();
                        out.push_str(&format!(
                            "id: {}\nevent: {}\ndata: {data}\n\n",
                            e.id,
                            e.event.product.as_str()
                        ));
                    }
                    if !out.is_empty() {
                        self.idle_since = std::time::Instant::now();
                        return Some(Bytes::from(out));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "botnet stream read failed; retrying"),
            }
            if self.idle_since.elapsed() >= Duration::from_secs(15) {
                self.idle_since = std::time::Instant::now();
                return Some(Bytes::from_static(b": keep-alive\n\n"));
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), self.rx.changed()).await;
        }
    }
}

/// Botnet files, newest first, each with its SHA-256 and Ed25519 signature
/// (the same manifest scheme as the URL feed).
#[utoipa::path(get, path = "/api/v1/feeds/botnet", operation_id = "botnet_feed_manifest", tag = "botnet", security(("api_key" = [])),
    responses((status = 200, body = crate::api::urls::ManifestDto)))]
pub(crate) async fn manifest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<crate::api::urls::ManifestDto>, ApiError> {
    let files =
        isx_app::feed_files::list(&state, &caller, &isx_app::feed_files::BOTNET, 500).await?;
    Ok(Json(crate::api::urls::ManifestDto::new(
        &state,
        isx_app::botnet_files::BOTNET,
        files,
    )))
}

/// Downloads a botnet file (a batch of yours, or a shared file). Also
/// `latest-c2.nft`, `latest-c2.ipset`, `latest-c2.ips.txt`,
/// `latest-c2.cidr.txt` and `latest.rpz` for the newest export.
#[utoipa::path(get, path = "/api/v1/feeds/botnet/{name}", operation_id = "botnet_feed_download", tag = "botnet", security(("api_key" = [])),
    params(("name" = String, Path, description = "file name from the manifest, or latest-…")),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    crate::feed_files::download(&state, &caller, &isx_app::feed_files::BOTNET, &name).await
}

/// The period of the summary.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// Days back from now (default 7, at most the retention).
    pub days: Option<i64>,
}

/// Your constituency at a glance: infected and IoT events by family per
/// day, the most active addresses, located addresses for a map, and the
/// current C2 servers and malicious domains — over the events you may see.
#[utoipa::path(get, path = "/api/v1/botnet/summary", tag = "botnet", security(("api_key" = [])), params(SummaryParams),
    responses((status = 200, body = crate::api::wire::BotnetSummaryDto)))]
pub(crate) async fn summary(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<SummaryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<crate::api::wire::BotnetSummaryDto>, ApiError> {
    let Query(p) = q.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let s = isx_app::botnet::summary_days(&state, &caller.principal, p.days).await?;
    Ok(Json(s.into()))
}
