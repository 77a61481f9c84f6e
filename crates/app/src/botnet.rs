//! Botnet feeds: ingest (enrich, match, store, wake the streams), the
//! constituency matcher kept current, and what a caller may read.
//!
//! Who may see an event is decided by [`isx_policy::decide`] on
//! [`crate::records::botnet_event`]; the matcher only says whom an event
//! concerns (its recipients), once, at ingest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use isx_botnet::{BotnetEvent, MatchKey, Matcher};
use isx_domain::{Constituency, MemberId, Timestamp};
use isx_policy::Principal;
use isx_store::{BotnetInsertOutcome, BotnetQuery, Store, StoredBotnetEvent};
use tokio::sync::watch;

use crate::AppError;
use isx_domain::BotnetProduct;
use serde::Deserialize;

/// How long a matcher is trusted before the constituencies are read again
/// (another node may have changed them); local changes refresh at once.
const MATCHER_TTL: Duration = Duration::from_secs(2);

/// The matcher in use and what it was built from.
struct Built {
    matcher: Arc<Matcher>,
    members: Vec<(MemberId, Constituency)>,
    checked: Instant,
}

/// Shared botnet app of a node: the matcher, the newest stored event id
/// (streams wait on it), counters.
pub struct BotnetHub {
    built: RwLock<Option<Built>>,
    latest: watch::Sender<i64>,
    /// The group-commit writer's queue (started on first use).
    writer: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<Job>>>,
    pub events_ingested: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub matcher_builds: AtomicU64,
}

impl Default for BotnetHub {
    fn default() -> Self {
        BotnetHub {
            built: RwLock::new(None),
            latest: watch::channel(0).0,
            writer: std::sync::Mutex::new(None),
            events_ingested: AtomicU64::new(0),
            events_duplicate: AtomicU64::new(0),
            matcher_builds: AtomicU64::new(0),
        }
    }
}

impl BotnetHub {
    /// Forgets the matcher, so that the next ingest rebuilds it (after a
    /// member's constituency changed on this node).
    pub fn invalidate(&self) {
        if let Ok(mut b) = self.built.write() {
            *b = None;
        }
    }

    /// The current matcher: rebuilt when the constituencies differ from
    /// what it was built from (checked at most every two seconds).
    pub async fn matcher(&self, store: &dyn Store) -> Result<Arc<Matcher>, AppError> {
        if let Ok(b) = self.built.read() {
            if let Some(b) = b.as_ref() {
                if b.checked.elapsed() < MATCHER_TTL {
                    return Ok(b.matcher.clone());
                }
            }
        }
        let members: Vec<(MemberId, Constituency)> = store
            .members()
            .await?
            .into_iter()
            .filter(|m| !m.constituency.is_empty())
            .map(|m| (m.id, m.constituency))
            .collect();
        let mut guard = self
            .built
            .write()
            .map_err(|_| AppError::Internal("matcher lock poisoned".to_owned()))?;
        if let Some(b) = guard.as_mut() {
            if b.members == members {
                b.checked = Instant::now();
                return Ok(b.matcher.clone());
            }
        }
        let started = Instant::now();
        let matcher = Arc::new(Matcher::build(&members));
        self.matcher_builds.fetch_add(1, Ordering::Relaxed);
        tracing::info!(stats = ?matcher.stats(), millis = started.elapsed().as_millis() as u64, "constituency matcher built");
        *guard = Some(Built {
            matcher: matcher.clone(),
            members,
            checked: Instant::now(),
        });
        Ok(matcher)
    }

    /// A receiver that changes whenever this node stores events.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    fn stored(&self, last_id: i64) {
        self.latest.send_if_modified(|v| {
            let newer = last_id > *v;
            if newer {
                *v = last_id;
            }
            newer
        });
    }
}

/// Fills ASN, country and coordinates the source left out from the geo
/// databases, then finds every member each event concerns.
pub fn prepare(
    geo: &isx_geo::GeoDb,
    matcher: &Matcher,
    mut events: Vec<BotnetEvent>,
) -> Vec<(BotnetEvent, Vec<MemberId>)> {
    if geo.status().is_configured() {
        for e in &mut events {
            if let Some(ip) = e.ip {
                let g = geo.lookup(ip);
                e.asn = e.asn.or(g.asn);
                e.country = e.country.or(g.country);
                if e.latitude.is_none() {
                    e.latitude = g.latitude;
                    e.longitude = g.longitude;
                }
            }
        }
    }
    let keys: Vec<MatchKey<'_>> = events.iter().map(BotnetEvent::match_key).collect();
    let mut recipients = vec![Vec::new(); events.len()];
    matcher.recipients_batch(&keys, |i, found| {
        if let Some(r) = recipients.get_mut(i) {
            *r = found.to_vec();
        }
    });
    drop(keys);
    events.into_iter().zip(recipients).collect()
}

/// A batch waiting for the writer, and where its outcome goes.
struct Job {
    events: Vec<(BotnetEvent, Vec<MemberId>)>,
    now: Timestamp,
    done: tokio::sync::oneshot::Sender<Result<BotnetInsertOutcome, String>>,
}

/// Events the writer puts in one transaction at most.
const GROUP_COMMIT_MAX: usize = 20_000;

/// The group-commit writer: batches that arrive while a transaction is
/// being written go into the next one together, so concurrent senders
/// share a commit (and its fsync) instead of queueing for one each. Each
/// batch still gets its own outcome; a failed transaction fails every
/// batch in it, and nothing of them is stored.
async fn writer(store: std::sync::Arc<dyn Store>, mut rx: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut n = first.events.len();
        let mut jobs = vec![first];
        while n < GROUP_COMMIT_MAX {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.events.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let now = jobs
            .iter()
            .map(|j| j.now)
            .max()
            .unwrap_or(Timestamp::from_micros(0));
        let mut all = Vec::with_capacity(n);
        let mut sizes = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            sizes.push(j.events.len());
            all.extend(j.events);
            replies.push(j.done);
        }
        match store.insert_botnet_events(&all, now).await {
            Ok(out) => {
                let mut ids = out.ids.into_iter();
                for (size, reply) in sizes.into_iter().zip(replies) {
                    let mine: Vec<Option<i64>> = ids.by_ref().take(size).collect();
                    let stored: Vec<i64> = mine.iter().flatten().copied().collect();
                    let _ = reply.send(Ok(BotnetInsertOutcome {
                        inserted: stored.len() as u64,
                        duplicates: (size - stored.len()) as u64,
                        first_id: stored.iter().min().copied(),
                        last_id: stored.iter().max().copied(),
                        ids: mine,
                    }));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
}

/// Stores checked events (enriched and matched here, written by the
/// node's group-commit writer) and wakes the streams.
pub async fn ingest(
    store: &std::sync::Arc<dyn Store>,
    geo: &isx_geo::GeoDb,
    hub: &BotnetHub,
    events: Vec<BotnetEvent>,
    now: Timestamp,
) -> Result<BotnetInsertOutcome, AppError> {
    let matcher = hub.matcher(store.as_ref()).await?;
    let prepared = prepare(geo, &matcher, events);
    let queue = {
        let mut w = hub
            .writer
            .lock()
            .map_err(|_| AppError::Internal("writer lock poisoned".to_owned()))?;
        match w.as_ref() {
            Some(tx) if !tx.is_closed() => tx.clone(),
            _ => {
                let (tx, rx) = tokio::sync::mpsc::channel(64);
                tokio::spawn(writer(store.clone(), rx));
                *w = Some(tx.clone());
                tx
            }
        }
    };
    let (done, result) = tokio::sync::oneshot::channel();
    queue
        .send(Job {
            events: prepared,
            now,
            done,
        })
        .await
        .map_err(|_| AppError::Internal("the botnet writer stopped".to_owned()))?;
    let out = result
        .await
        .map_err(|_| AppError::Internal("the botnet writer stopped".to_owned()))?
        .map_err(AppError::Internal)?;
    hub.events_ingested
        .fetch_add(out.inserted, Ordering::Relaxed);
    hub.events_duplicate
        .fetch_add(out.duplicates, Ordering::Relaxed);
    if let Some(last) = out.last_id {
        hub.stored(last);
    }
    Ok(out)
}

/// Whether `principal` may see a stored event now: the policy function's
/// answer on the event's metadata.
pub fn visible(principal: &Principal, e: &StoredBotnetEvent, now: Timestamp) -> bool {
    isx_policy::decide(principal, &crate::records::botnet_event(e), now).is_allowed()
}

/// The events of `query` that `principal` may see (pre-selected for the
/// member in SQL, decided per event here).
pub async fn events_for(
    store: &dyn Store,
    principal: &Principal,
    query: BotnetQuery,
    now: Timestamp,
) -> Result<Vec<StoredBotnetEvent>, AppError> {
    // Reads until the page holds `limit` events the caller may see (or
    // the events run out): a page cut short by rows the caller may not
    // see would count them, and an empty one would end its paging.
    let limit = query.limit;
    let mut query = query;
    let mut out = Vec::new();
    loop {
        let (shown, last) = read_page(store, principal, query.clone(), now).await?;
        out.extend(shown);
        match last {
            Some(last) if limit != 0 && out.len() < limit as usize => query.after_id = Some(last),
            _ => break,
        }
    }
    if limit != 0 {
        out.truncate(limit as usize);
    }
    Ok(out)
}

/// One read for `principal`: the events it may see, as it receives them,
/// and the id of the last row read (shown or withheld), from which the
/// next read goes on.
pub async fn read_page(
    store: &dyn Store,
    principal: &Principal,
    mut query: BotnetQuery,
    now: Timestamp,
) -> Result<(Vec<StoredBotnetEvent>, Option<i64>), AppError> {
    if !principal.operator {
        // Without a member there is nothing: victim data names its members,
        // and the rest needs a signed-in member unless TLP:CLEAR.
        query.member = Some(principal.member.unwrap_or(MemberId(0)));
    }
    let rows = store.botnet_events(&query).await?;
    let last = rows.last().map(|r| r.id);
    let shown = rows
        .into_iter()
        .filter(|e| visible(principal, e, now))
        .map(|e| for_caller(principal, e))
        .collect();
    Ok((shown, last))
}

/// The constituency view over the last `days` days (7 by default, at most
/// the retention).
pub async fn summary_days(
    app: &crate::App,
    principal: &Principal,
    days: Option<i64>,
) -> Result<BotnetSummary, AppError> {
    let days = days
        .unwrap_or(7)
        .clamp(1, app.settings.botnet_retention_days.max(1));
    let now = app.clock.now();
    summary(
        app.store.as_ref(),
        principal,
        now.add_secs(-days * 86_400),
        now,
    )
    .await
}

/// An event as `principal` receives it: a member learns only that the
/// event concerns *it*, never which other members it concerns.
pub fn for_caller(principal: &Principal, mut e: StoredBotnetEvent) -> StoredBotnetEvent {
    if !principal.operator {
        e.recipients.retain(|m| Some(*m) == principal.member);
    }
    e
}

/// Filters of the event list and the stream.
#[derive(Debug, Default, Deserialize)]
pub struct EventFilter {
    /// Comma-separated products (`infected,iot,c2,domains`); default all.
    pub products: Option<String>,
    /// Events after this id.
    pub after: Option<i64>,
    /// Events last seen at or after (RFC 3339).
    pub since: Option<String>,
    pub ip: Option<String>,
    pub family: Option<String>,
    /// At most (default 1,000, at most 10,000).
    pub limit: Option<u32>,
}

impl EventFilter {
    pub fn query(&self) -> Result<BotnetQuery, AppError> {
        let products = match &self.products {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(BotnetProduct::from_any)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| AppError::invalid(format!("products: {e}")))?,
        };
        let since = crate::urls::given(&self.since)
            .map(Timestamp::parse)
            .transpose()
            .map_err(|e| AppError::invalid(format!("since: {e}")))?;
        let ip = crate::urls::given(&self.ip)
            .map(|t| t.trim().parse::<std::net::IpAddr>())
            .transpose()
            .map_err(|_| AppError::invalid("ip: not an IP address"))?
            .map(|i| i.to_string());
        Ok(BotnetQuery {
            products,
            after_id: self.after,
            since,
            ip,
            family: self.family.clone(),
            limit: self.limit.unwrap_or(1000).clamp(1, 10_000),
            ..BotnetQuery::default()
        })
    }
}

/// What the constituency view shows, computed from the events a caller may
/// see (the same events the API gives that caller).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BotnetSummary {
    /// The period: events last seen at or after this instant.
    pub since: String,
    pub infected_events: u64,
    pub iot_events: u64,
    /// Distinct infected or IoT addresses.
    pub victim_ips: u64,
    /// (day `YYYY-MM-DD`, family, events) for infected and IoT, days ascending.
    pub per_day: Vec<(String, String, u64)>,
    /// Victim addresses with the most events: ip, product, family, events, last seen.
    pub top_ips: Vec<TopIp>,
    /// Located victim addresses, for a map.
    pub points: Vec<Located>,
    pub c2: Vec<Indicator>,
    pub domains: Vec<Indicator>,
}

/// A victim address with coordinates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Located {
    pub ip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country: Option<String>,
    pub events: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TopIp {
    pub ip: String,
    pub product: String,
    pub family: String,
    pub events: u64,
    pub last_seen: String,
}

/// A C2 server or malicious domain as of its latest event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Indicator {
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub domain: Option<String>,
    pub family: String,
    pub status: Option<String>,
    pub purpose: Option<String>,
    pub last_seen: String,
    pub marking: String,
}

/// The constituency view of `principal` over events last seen since `since`.
pub async fn summary(
    store: &dyn Store,
    principal: &Principal,
    since: Timestamp,
    now: Timestamp,
) -> Result<BotnetSummary, AppError> {
    use std::collections::{BTreeMap, HashMap};
    let query = BotnetQuery {
        since: Some(since),
        limit: 200_000,
        ..BotnetQuery::default()
    };
    let events = events_for(store, principal, query, now).await?;
    let mut s = BotnetSummary {
        since: since.to_rfc3339(),
        ..BotnetSummary::default()
    };
    let mut per_day: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut ips: HashMap<std::net::IpAddr, (TopIp, Option<Located>)> = HashMap::new();
    let mut c2: BTreeMap<String, (Timestamp, Indicator)> = BTreeMap::new();
    let mut domains: BTreeMap<String, (Timestamp, Indicator)> = BTreeMap::new();
    for se in &events {
        let e = &se.event;
        match e.product {
            BotnetProduct::Infected | BotnetProduct::Iot => {
                if e.product == BotnetProduct::Infected {
                    s.infected_events += 1;
                } else {
                    s.iot_events += 1;
                }
                let day = e.seen_at.to_rfc3339().get(..10).unwrap_or("").to_owned();
                *per_day.entry((day, e.family.clone())).or_default() += 1;
                if let Some(ip) = e.ip {
                    let entry = ips.entry(ip).or_insert_with(|| {
                        (
                            TopIp {
                                ip: ip.to_string(),
                                product: e.product.short().to_owned(),
                                family: e.family.clone(),
                                events: 0,
                                last_seen: e.last_seen.to_rfc3339(),
                            },
                            None,
                        )
                    });
                    entry.0.events += 1;
                    if e.last_seen.to_rfc3339() > entry.0.last_seen {
                        entry.0.last_seen = e.last_seen.to_rfc3339();
                    }
                    if let (Some(latitude), Some(longitude)) = (e.latitude, e.longitude) {
                        entry.1 = Some(Located {
                            ip: ip.to_string(),
                            latitude,
                            longitude,
                            country: e.country.map(|c| c.to_string()),
                            events: 0,
                        });
                    }
                }
            }
            BotnetProduct::C2 | BotnetProduct::Domains => {
                let key = format!(
                    "{}|{}|{}",
                    e.ip.map(|i| i.to_string()).unwrap_or_default(),
                    e.port.unwrap_or(0),
                    e.domain.as_ref().map(|d| d.as_str()).unwrap_or("")
                );
                let ind = Indicator {
                    ip: e.ip.map(|i| i.to_string()),
                    port: e.port,
                    domain: e.domain.as_ref().map(|d| d.as_str().to_owned()),
                    family: e.family.clone(),
                    status: e.status.clone(),
                    purpose: e.purpose.clone(),
                    last_seen: e.last_seen.to_rfc3339(),
                    marking: e.marking.as_str().to_owned(),
                };
                let map = if e.product == BotnetProduct::C2 {
                    &mut c2
                } else {
                    &mut domains
                };
                match map.get(&key) {
                    Some((t, _)) if *t > e.last_seen => {}
                    _ => {
                        map.insert(key, (e.last_seen, ind));
                    }
                }
            }
        }
    }
    s.victim_ips = ips.len() as u64;
    s.per_day = per_day.into_iter().map(|((d, f), n)| (d, f, n)).collect();
    let mut located: Vec<Located> = ips
        .values()
        .filter_map(|(t, loc)| {
            loc.as_ref().map(|l| Located {
                events: t.events,
                ..l.clone()
            })
        })
        .collect();
    located.sort_by(|a, b| a.ip.cmp(&b.ip));
    s.points = located;
    let mut top: Vec<TopIp> = ips.into_values().map(|(t, _)| t).collect();
    top.sort_by(|a, b| b.events.cmp(&a.events).then(a.ip.cmp(&b.ip)));
    top.truncate(20);
    s.top_ips = top;
    s.c2 = c2.into_values().map(|(_, i)| i).collect();
    s.domains = domains.into_values().map(|(_, i)| i).collect();
    Ok(s)
}
