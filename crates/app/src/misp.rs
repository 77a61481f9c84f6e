//! A member's MISP feed: the products it may see as MISP events, which a
//! MISP instance adds as a feed (`manifest.json`, `hashes.csv`, one
//! `{uuid}.json` per event) with the member's API key in an
//! `Authorization` header.
//!
//! The events, each built for the caller from what the policy function
//! lets it see (the same reads as every other channel):
//!
//! - malicious URLs: one event per 3-hour slot of the rolling window,
//!   holding the URLs first seen in it, and one rolling event of every URL
//!   seen in the window (`url` objects);
//! - botnet: one event per day of the caller's own victims (infected
//!   machines and IoT devices in its constituency; `ip-port` objects),
//!   and one of the current command-and-control servers and malicious
//!   domains (seen in the last 24 hours and not reported offline since;
//!   `domain-ip` objects);
//! - advisories: one event per published release the caller may see,
//!   with a `vulnerability` object per advisory, masked as `decide` says
//!   (no exploitability index before the caller's window for it);
//! - trust groups: one event per group the caller may read, with the
//!   indicators and sightings it may see.
//!
//! UUIDs derive from what an event, object or attribute is about, so they
//! stay the same across fetches, nodes and restarts; an event's
//! `timestamp` is the last change of what it holds (for the windowed
//! events, also the instant the window last dropped something), so MISP
//! fetches an event again exactly when it changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use isx_domain::{BotnetProduct, Timestamp, Tlp};
use isx_formats::misp::{self, AttrType, Attribute, Event, Object, Org, Template};
use isx_partnership::{ContributionKind, Details, IndicatorType};
use isx_store::{BotnetQuery, StoredBotnetEvent, UrlQuery};

use crate::identity::Caller;
use crate::{advisories, records, App, AppError};

/// Days of victim events a feed carries.
pub const VICTIM_DAYS: i64 = 7;
/// What counts as a current C2 server or malicious domain: seen in this
/// many seconds before the current hour.
pub const CURRENT_SECS: i64 = 86_400;

/// How long a built feed is served again to the same principal: a MISP
/// fetch (the manifest, then every event) reads one build instead of
/// building the whole feed per event. New data shows within this time;
/// a change of what the caller may see (a group left, a tier changed)
/// shows at once, for it changes the principal the build is kept under.
pub const CACHE_SECS: i64 = 60;

/// A feed built in a minute (`now / CACHE_SECS`).
type Build = (i64, Arc<Vec<Event>>);

/// Builds kept per principal (at most [`CACHE_ENTRIES`]).
#[derive(Default)]
pub struct FeedCache {
    builds: std::sync::Mutex<std::collections::HashMap<String, Build>>,
}

impl std::fmt::Debug for FeedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedCache").finish_non_exhaustive()
    }
}

const CACHE_ENTRIES: usize = 1_000;

/// Every event of the caller's feed, in a stable order (from the cache
/// when the same principal had it built in the current minute).
pub async fn events(app: &App, caller: &Caller) -> Result<Arc<Vec<Event>>, AppError> {
    let now = app.clock.now();
    let key = format!("{:?}/{}", caller.principal, caller.member.id.0);
    let bucket = now.as_secs().div_euclid(CACHE_SECS);
    let cached = app.misp.builds.lock().ok().and_then(|m| {
        m.get(&key)
            .filter(|(b, _)| *b == bucket)
            .map(|(_, e)| e.clone())
    });
    if let Some(events) = cached {
        return Ok(events);
    }
    let events = Arc::new(build(app, caller, now).await?);
    if let Ok(mut m) = app.misp.builds.lock() {
        m.retain(|_, (b, _)| *b == bucket);
        if m.len() < CACHE_ENTRIES {
            m.insert(key, (bucket, events.clone()));
        }
    }
    Ok(events)
}

async fn build(app: &App, caller: &Caller, now: Timestamp) -> Result<Vec<Event>, AppError> {
    let org = Org {
        name: app.settings.instance_name.clone(),
        uuid: misp::uuid(&format!("org:{}", app.settings.instance_name)),
    };
    let mut out = Vec::new();
    url_events(app, caller, now, &org, &mut out).await?;
    victim_events(app, caller, now, &org, &mut out).await?;
    c2_event(app, caller, now, &org, &mut out).await?;
    advisory_events(app, caller, now, &org, &mut out).await?;
    group_events(app, caller, &org, &mut out).await?;
    Ok(out)
}

/// One event of the caller's feed, or 404 (also for an event it may not
/// see: the answer does not tell the two apart).
pub async fn event(app: &App, caller: &Caller, uuid: &str) -> Result<Event, AppError> {
    events(app, caller)
        .await?
        .iter()
        .find(|e| e.uuid == uuid)
        .cloned()
        .ok_or_else(|| AppError::not_found("MISP event"))
}

fn strictest(markings: impl Iterator<Item = Tlp>) -> Tlp {
    markings.max().unwrap_or(Tlp::Clear)
}

fn isx_tag(product: &str) -> String {
    format!("isx:product=\"{product}\"")
}

fn url_object(scope: &str, r: &isx_urls::UrlRecord) -> Object {
    let at = r.changed_at.max(r.last_seen);
    // One object per record lineage, as STIX ids: two records of a URL
    // are two contents.
    let mut o = Object::new(&r.lineage_key(scope), Template::Url, at);
    o.comment = format!("{} reported by {}", r.threat, r.source);
    o.add("url", AttrType::Url, r.url.clone(), true);
    o.add("host", AttrType::Hostname, r.host.clone(), false);
    if let Some(d) = &r.domain {
        o.add("domain", AttrType::Domain, d.clone(), false);
    }
    if let Some(ip) = r.ip {
        o.add("ip", AttrType::IpDst, ip.to_string(), false);
    }
    o.add(
        "first-seen",
        AttrType::Datetime,
        misp::misp_time(r.first_seen),
        false,
    );
    o.add(
        "last-seen",
        AttrType::Datetime,
        misp::misp_time(r.last_seen),
        false,
    );
    o
}

/// The URL events: per slot of the window, the URLs first seen in it; and
/// the rolling set of URLs seen in the window.
async fn url_events(
    app: &App,
    caller: &Caller,
    now: Timestamp,
    org: &Org,
    out: &mut Vec<Event>,
) -> Result<(), AppError> {
    let schedule = app.feeds.schedule;
    let slot = schedule.slot_at_or_before(now);
    let window = schedule.window_start(slot);
    let earlier = window.add_secs(-schedule.interval_secs);
    let markings = records::url_markings(&caller.principal, now);
    if markings.is_empty() {
        return Ok(());
    }
    let query = UrlQuery {
        since: Some(earlier),
        markings,
        ..UrlQuery::default()
    };
    let mut rows = Vec::new();
    app.store
        .for_each_url(&query, &mut |r| {
            rows.push(r);
            Ok(())
        })
        .await?;
    // Rolling: what is in the window now; something dropped from it at
    // this slot makes the slot the event's last change.
    let (current, dropped): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.last_seen >= window);
    if !current.is_empty() {
        let last = current.iter().map(|r| r.changed_at).max().unwrap_or(slot);
        let timestamp = if dropped.is_empty() {
            last
        } else {
            last.max(slot)
        };
        out.push(Event {
            uuid: misp::uuid("urls:rolling"),
            info: format!(
                "isx malicious URLs: every URL seen in the last {} days",
                schedule.window_secs / 86_400
            ),
            date: slot,
            timestamp,
            marking: strictest(current.iter().map(|r| r.tlp)),
            threat_level: 2,
            tags: vec![isx_tag("urls")],
            org: org.clone(),
            attributes: Vec::new(),
            objects: current
                .iter()
                .map(|r| url_object("urls:rolling", r))
                .collect(),
        });
    }
    // Per slot: the URLs first seen in it (a slot of the window, or the
    // one in progress).
    let mut by_slot: BTreeMap<Timestamp, Vec<&isx_urls::UrlRecord>> = BTreeMap::new();
    for r in &current {
        let start = schedule.slot_at_or_before(r.first_seen);
        if start >= window {
            by_slot.entry(start).or_default().push(r);
        }
    }
    for (start, records) in by_slot {
        let end = start.add_secs(schedule.interval_secs);
        out.push(Event {
            uuid: misp::uuid(&format!("urls:slot:{}", start.as_secs())),
            info: format!(
                "isx malicious URLs first seen {} – {}",
                start.to_rfc3339(),
                end.to_rfc3339()
            ),
            date: start,
            timestamp: records.iter().map(|r| r.changed_at).max().unwrap_or(start),
            marking: strictest(records.iter().map(|r| r.tlp)),
            threat_level: 2,
            tags: vec![isx_tag("urls")],
            org: org.clone(),
            attributes: Vec::new(),
            objects: records.iter().map(|r| url_object("urls:slot", r)).collect(),
        });
    }
    Ok(())
}

/// The events of `query` the caller may see, as it receives them.
async fn visible_botnet(
    app: &App,
    caller: &Caller,
    query: BotnetQuery,
    now: Timestamp,
) -> Result<Vec<StoredBotnetEvent>, AppError> {
    crate::botnet::events_for(app.store.as_ref(), &caller.principal, query, now).await
}

/// The caller's own victims, one event per day of arrival.
async fn victim_events(
    app: &App,
    caller: &Caller,
    now: Timestamp,
    org: &Org,
    out: &mut Vec<Event>,
) -> Result<(), AppError> {
    let today = Timestamp::from_secs(now.as_secs().div_euclid(86_400) * 86_400);
    for back in (0..VICTIM_DAYS).rev() {
        let start = today.add_secs(-back * 86_400);
        let end = start.add_secs(86_400);
        let query = BotnetQuery {
            after_id: Some(app.store.botnet_id_before(start).await?),
            upto_id: Some(app.store.botnet_id_before(end.min(now.add_secs(1))).await?),
            products: vec![BotnetProduct::Infected, BotnetProduct::Iot],
            ..BotnetQuery::default()
        };
        let events = visible_botnet(app, caller, query, now).await?;
        if events.is_empty() {
            continue;
        }
        let mut objects = Vec::new();
        for e in &events {
            let Some(ip) = e.event.ip else { continue };
            let key = format!("botnet:victim:{}:{}", caller.member.id.0, e.id);
            let mut o = Object::new(&key, Template::IpPort, e.received_at);
            o.comment = format!(
                "{} ({}){}",
                e.event.family,
                e.event.product.short(),
                e.event
                    .device_type
                    .as_deref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default()
            );
            o.add("ip-src", AttrType::IpSrc, ip.to_string(), false);
            if let Some(p) = e.event.port {
                o.add("src-port", AttrType::Port, p.to_string(), false);
            }
            if let Some(ip) = e.event.dst_ip {
                o.add("ip-dst", AttrType::IpDst, ip.to_string(), false);
            }
            if let Some(p) = e.event.dst_port {
                o.add("dst-port", AttrType::Port, p.to_string(), false);
            }
            if let Some(asn) = e.event.asn {
                o.add("AS", AttrType::As, format!("AS{}", asn.get()), false);
            }
            if let Some(c) = e.event.country {
                o.add("country-code", AttrType::Text, c.to_string(), false);
            }
            o.add(
                "first-seen",
                AttrType::Datetime,
                misp::misp_time(e.event.first_seen),
                false,
            );
            o.add(
                "last-seen",
                AttrType::Datetime,
                misp::misp_time(e.event.seen_at),
                false,
            );
            objects.push(o);
        }
        out.push(Event {
            uuid: misp::uuid(&format!(
                "botnet:victims:{}:{}",
                caller.member.id.0,
                start.as_secs()
            )),
            info: format!(
                "isx botnet victims in your networks, {}",
                start.to_rfc3339().get(..10).unwrap_or_default()
            ),
            date: start,
            timestamp: events.iter().map(|e| e.received_at).max().unwrap_or(start),
            marking: strictest(events.iter().map(|e| e.event.marking)),
            threat_level: 2,
            tags: vec![isx_tag("botnet-victims")],
            org: org.clone(),
            attributes: Vec::new(),
            objects,
        });
    }
    Ok(())
}

/// What a C2 or domain event is about: its object's key.
fn c2_key(e: &StoredBotnetEvent) -> Option<String> {
    match e.event.product {
        BotnetProduct::C2 => {
            let ip = e.event.ip?;
            Some(format!("c2:{ip}:{}", e.event.port.unwrap_or(0)))
        }
        BotnetProduct::Domains => Some(format!("domain:{}", e.event.domain.as_ref()?)),
        _ => None,
    }
}

/// The current C2 servers and malicious domains, one event.
async fn c2_event(
    app: &App,
    caller: &Caller,
    now: Timestamp,
    org: &Org,
    out: &mut Vec<Event>,
) -> Result<(), AppError> {
    let hour = Timestamp::from_secs(now.as_secs().div_euclid(3600) * 3600);
    let window = hour.add_secs(-CURRENT_SECS);
    let query = BotnetQuery {
        after_id: Some(app.store.botnet_id_before(window.add_secs(-3600)).await?),
        products: vec![BotnetProduct::C2, BotnetProduct::Domains],
        ..BotnetQuery::default()
    };
    let events = visible_botnet(app, caller, query, now).await?;
    // The latest event of each server or domain (ids ascend with arrival).
    let mut latest: BTreeMap<String, &StoredBotnetEvent> = BTreeMap::new();
    let mut before_window: Vec<String> = Vec::new();
    for e in &events {
        let Some(key) = c2_key(e) else { continue };
        if e.received_at < window {
            before_window.push(key);
        } else {
            latest.insert(key, e);
        }
    }
    let current: Vec<(&String, &&StoredBotnetEvent)> = latest
        .iter()
        .filter(|(_, e)| !isx_botnet::indicator::reports_offline(&e.event))
        .collect();
    let offline_since = latest
        .values()
        .filter(|e| isx_botnet::indicator::reports_offline(&e.event))
        .map(|e| e.received_at)
        .max();
    if current.is_empty() && offline_since.is_none() {
        return Ok(());
    }
    let last = latest.values().map(|e| e.received_at).max().unwrap_or(hour);
    // A server or domain that dropped out of the window at this hour.
    let dropped = before_window.iter().any(|k| !latest.contains_key(k));
    let timestamp = if dropped { last.max(hour) } else { last };
    let mut objects = Vec::new();
    for (key, e) in current {
        let mut o = Object::new(&format!("botnet:{key}"), Template::DomainIp, e.received_at);
        o.comment = match (&e.event.purpose, e.event.product) {
            (Some(p), BotnetProduct::Domains) => format!("{} ({p})", e.event.family),
            _ => format!("{} command and control", e.event.family),
        };
        if let Some(d) = &e.event.domain {
            o.add("domain", AttrType::Domain, d.to_string(), true);
        }
        if let Some(ip) = e.event.ip {
            o.add("ip", AttrType::IpDst, ip.to_string(), true);
        }
        if let Some(p) = e.event.port {
            o.add("port", AttrType::Port, p.to_string(), false);
        }
        o.add(
            "first-seen",
            AttrType::Datetime,
            misp::misp_time(e.event.first_seen),
            false,
        );
        o.add(
            "last-seen",
            AttrType::Datetime,
            misp::misp_time(e.event.seen_at),
            false,
        );
        objects.push(o);
    }
    out.push(Event {
        uuid: misp::uuid("botnet:current-c2"),
        info: "isx botnet: current command-and-control servers and malicious domains".into(),
        date: hour,
        timestamp,
        marking: strictest(latest.values().map(|e| e.event.marking)),
        threat_level: 1,
        tags: vec![isx_tag("botnet-c2")],
        org: org.clone(),
        attributes: Vec::new(),
        objects,
    });
    Ok(())
}

/// One event per published release the caller may see.
async fn advisory_events(
    app: &App,
    caller: &Caller,
    now: Timestamp,
    org: &Org,
    out: &mut Vec<Event>,
) -> Result<(), AppError> {
    let found = advisories::search(
        app,
        &caller.principal,
        &advisories::AdvisoryFilter::default(),
    )
    .await?;
    let mut by_release: BTreeMap<i64, (isx_advisories::Release, Vec<isx_advisories::Advisory>)> =
        BTreeMap::new();
    for (r, a) in found {
        if !r.is_published() {
            continue;
        }
        by_release
            .entry(r.id)
            .or_insert_with(|| (r, Vec::new()))
            .1
            .push(a);
    }
    for (id, (r, list)) in by_release {
        let mut timestamp = r.created_at;
        let mut objects = Vec::new();
        let mut top: Option<f64> = None;
        for a in &list {
            let at = crate::exchange::view_changed_at(caller, &r, a, now);
            timestamp = timestamp.max(at);
            top = match (top, a.score()) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            let mut o = Object::new(
                &format!("advisory:{}:{}", r.id, a.id.key()),
                Template::Vulnerability,
                at,
            );
            o.add("id", AttrType::Vulnerability, a.id.as_str(), false);
            o.add("summary", AttrType::Text, a.title.clone(), false);
            if !a.description.is_empty() {
                o.add("description", AttrType::Text, a.description.clone(), false);
            }
            let vector = a
                .cvss_v31
                .as_ref()
                .map(|v| (v.vector().to_owned(), v.score()))
                .or_else(|| {
                    a.cvss_v40
                        .as_ref()
                        .map(|v| (v.vector().to_owned(), v.score()))
                });
            if let Some((vector, score)) = vector {
                o.add("cvss-score", AttrType::Float, format!("{score:.1}"), false);
                o.add("cvss-string", AttrType::Text, vector, false);
            }
            o.add(
                "published",
                AttrType::Datetime,
                misp::misp_time(r.release_at),
                false,
            );
            o.add("modified", AttrType::Datetime, misp::misp_time(at), false);
            let state = if now < r.release_at {
                "Embargo"
            } else {
                "Published"
            };
            o.add("state", AttrType::Text, state, false);
            if let Some(x) = &a.exploitability {
                o.add(
                    "impact",
                    AttrType::Text,
                    format!(
                        "Exploitability index: latest release {}, older releases {}{}{}",
                        x.latest.as_str(),
                        x.older.as_str(),
                        if x.publicly_disclosed {
                            ", publicly disclosed"
                        } else {
                            ""
                        },
                        if x.exploited { ", exploited" } else { "" }
                    ),
                    false,
                );
            }
            if let Some(cve) = a.id.cve() {
                o.add(
                    "references",
                    AttrType::Link,
                    format!("https://www.cve.org/CVERecord?id={}", cve.as_str()),
                    false,
                );
            }
            for reference in &a.references {
                o.add("references", AttrType::Link, reference.url.clone(), false);
            }
            objects.push(o);
        }
        let threat_level = match top {
            Some(s) if s >= 7.0 => 1,
            Some(s) if s >= 4.0 => 2,
            Some(s) if s > 0.0 => 3,
            _ => 4,
        };
        out.push(Event {
            uuid: misp::uuid(&format!("advisories:release:{id}")),
            info: format!("isx advance vulnerability notice: {}", r.title),
            date: r.release_at,
            timestamp,
            marking: r.label_at(now),
            threat_level,
            tags: vec![isx_tag("advisories")],
            org: org.clone(),
            attributes: Vec::new(),
            objects,
        });
    }
    Ok(())
}

/// The MISP attribute type of a shared indicator, by where it is seen.
fn indicator_type(t: IndicatorType, source: bool) -> AttrType {
    match t {
        IndicatorType::Ipv4 | IndicatorType::Ipv6 if source => AttrType::IpSrc,
        IndicatorType::Ipv4 | IndicatorType::Ipv6 => AttrType::IpDst,
        IndicatorType::Domain => AttrType::Domain,
        IndicatorType::Url => AttrType::Url,
        IndicatorType::Email => AttrType::EmailSrc,
        IndicatorType::Sha256 => AttrType::Sha256,
        IndicatorType::Sha1 => AttrType::Sha1,
        IndicatorType::Md5 => AttrType::Md5,
    }
}

/// One event per trust group the caller may read: the indicators and
/// sightings of it the caller may see (authors are not named: the event
/// is the instance's).
async fn group_events(
    app: &App,
    caller: &Caller,
    org: &Org,
    out: &mut Vec<Event>,
) -> Result<(), AppError> {
    for c in crate::exchange::collections(app, caller).await? {
        let crate::exchange::Source::Group(g) = &c.source else {
            continue;
        };
        let seen = crate::partnership::list(app, caller, g).await?;
        let mut attributes = Vec::new();
        let mut markings = Vec::new();
        let mut timestamp = g.created_at;
        for s in &seen {
            let (t, value, to_ids) = match &s.c.content.details {
                Details::Indicator {
                    indicator_type: t,
                    value,
                    valid_until,
                } => (*t, value, valid_until.is_none_or(|u| u > app.clock.now())),
                Details::Sighting {
                    indicator_type: t,
                    value,
                    ..
                } => (*t, value, false),
                _ => continue,
            };
            let kind = indicator_type(t, s.c.kind() == ContributionKind::Sighting);
            let mut a = Attribute::new(
                &format!("group:{}:contribution:{}", g.id.0, s.c.id.0),
                kind,
                value.clone(),
                s.c.updated_at,
            )
            .ids(to_ids)
            .comment(format!("{}: {}", s.c.kind(), s.c.content.title));
            a.tags.push(misp::tlp_tag(s.c.content.marking).to_owned());
            markings.push(s.c.content.marking);
            timestamp = timestamp.max(s.c.updated_at);
            attributes.push(a);
        }
        if attributes.is_empty() {
            continue;
        }
        out.push(Event {
            uuid: misp::uuid(&format!("group:{}", g.id.0)),
            info: format!("isx trust group {}: shared indicators", g.name),
            date: g.created_at,
            timestamp,
            marking: strictest(markings.into_iter()),
            threat_level: 2,
            tags: vec![isx_tag("partnership")],
            org: org.clone(),
            attributes,
            objects: Vec::new(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isx_domain::{Timestamp, Tlp};

    fn record(tlp: Tlp, legacy_ids: bool) -> isx_urls::UrlRecord {
        let obs = isx_urls::UrlObservation {
            url: "http://shared.example/x".into(),
            threat: Some("phishing".into()),
            first_seen: Some(Timestamp::from_secs(100)),
            last_seen: Some(Timestamp::from_secs(200)),
            tlp: Some(tlp),
            ..Default::default()
        };
        let defaults = isx_urls::ImportDefaults {
            source: "s".into(),
            tlp,
            confidence: 50,
            threat: isx_domain::ThreatType::Other,
            now: Timestamp::from_secs(300),
        };
        let c = isx_urls::prepare(&obs, &defaults).expect("candidate");
        isx_urls::UrlRecord {
            legacy_ids,
            ..isx_urls::merge(None, &c, 1, Timestamp::from_secs(300))
        }
    }

    /// Red-team pass 2026-12-07 (F6): two records of one URL are two
    /// contents, so two MISP objects; a record stored before keeps its
    /// object's uuid.
    #[test]
    fn each_record_of_a_url_is_its_own_misp_object() {
        let clear = url_object("urls:rolling", &record(Tlp::Clear, false));
        let amber = url_object("urls:rolling", &record(Tlp::Amber, false));
        assert_ne!(clear.uuid, amber.uuid);
        let legacy = url_object("urls:rolling", &record(Tlp::Amber, true));
        assert_eq!(
            legacy.uuid,
            isx_formats::misp::uuid("urls:rolling:http://shared.example/x")
        );
    }
}
