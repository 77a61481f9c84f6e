//! URL records: what a source reports (an observation), what isx keeps
//! (a record, one per canonical URL) and how sightings merge.

use std::net::IpAddr;

use isx_domain::{GeoInfo, ThreatType, Timestamp, Tlp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canon::{canonicalize, CanonicalUrl};
use crate::UrlError;

/// At most this many tags per record, each at most [`MAX_TAG_LEN`] bytes.
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_LEN: usize = 64;

/// One row of a source, as parsed, before canonicalisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UrlObservation {
    pub url: String,
    /// The source's word for the threat (mapped onto [`ThreatType`]).
    #[serde(default)]
    pub threat: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// 0 to 100.
    #[serde(default)]
    pub confidence: Option<i64>,
    #[serde(default)]
    pub first_seen: Option<Timestamp>,
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// The address the URL's host resolved to, when the source says.
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// Geo fields the source supplies itself (a crawler that resolved and
    /// located the host). The configured databases fill what is missing.
    #[serde(default)]
    pub geo: GeoInfo,
    #[serde(default)]
    pub tlp: Option<Tlp>,
}

/// What an import applies when a row does not say.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    pub source: String,
    pub tlp: Tlp,
    pub confidence: u8,
    /// Threat type for rows without one.
    pub threat: ThreatType,
    pub now: Timestamp,
}

/// A checked, canonical observation, ready to merge into the store.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlCandidate {
    pub canon: CanonicalUrl,
    pub threat: ThreatType,
    pub tags: Vec<String>,
    pub source: String,
    pub confidence: u8,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub ip: Option<IpAddr>,
    pub geo: GeoInfo,
    pub tlp: Tlp,
    /// Identity of this sighting: the same source reporting the same URL
    /// with the same times is the same sighting, however often imported.
    pub sighting: String,
}

/// What isx keeps about one canonical URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlRecord {
    pub id: i64,
    pub url: String,
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<IpAddr>,
    #[serde(flatten)]
    pub geo: GeoInfo,
    pub threat: ThreatType,
    pub tags: Vec<String>,
    /// The source of the latest sighting.
    pub source: String,
    pub confidence: u8,
    pub tlp: Tlp,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Distinct sightings (source and times) merged into this record.
    pub times_seen: i64,
    /// The import batch that last changed the record (feeds select by it).
    #[serde(skip)]
    pub changed_seq: i64,
    pub changed_at: Timestamp,
    /// Which indicator of the URL this is: 0 until the URL first leaves
    /// the feed, one more each time it comes back (a revoked STIX
    /// indicator is never valid again: a return is a new one).
    #[serde(skip)]
    pub generation: i64,
    /// Whether the URL is in the feed (false once revoked, until a
    /// sighting brings it back).
    #[serde(skip, default = "live")]
    pub live: bool,
    /// When the URL last left the feed.
    #[serde(skip)]
    pub revoked_at: Option<Timestamp>,
    /// The generation before this one, as it ended (kept until the next
    /// one ends, so its final STIX version reaches every reader).
    #[serde(skip)]
    pub ended: Option<Ended>,
    /// When the current generation began: its indicator's `created` and
    /// `valid_from`, fixed for the generation (`first_seen` when the
    /// record entered; `None` only for a record built by hand).
    #[serde(skip)]
    pub live_since: Option<Timestamp>,
    /// The marking of the URL's next stricter record, if it has one (see
    /// [`merge_levels`]): a reader who may see that marking reads that
    /// record instead of this one.
    #[serde(skip)]
    pub above: Option<Tlp>,
    /// Whether the record's STIX ids are keyed by its URL alone, as they
    /// were before a URL had a record per marking (records stored then
    /// keep their ids); later records key them by URL and marking.
    #[serde(skip)]
    pub legacy_ids: bool,
    /// The final versions of the looser records whose readers now read
    /// this one (at most one per looser marking): each ended for them
    /// when this record started, and they get it with this record's
    /// objects, however many records they moved over between two reads.
    #[serde(skip)]
    pub superseded: Vec<Ended>,
}

fn live() -> bool {
    true
}

/// A generation of a URL's indicator as it ended: what its final,
/// revoked STIX version says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub generation: i64,
    pub valid_from: Timestamp,
    pub revoked_at: Timestamp,
    /// The last sighting of the generation.
    pub last_seen: Timestamp,
    pub threat: ThreatType,
    pub tags: Vec<String>,
    pub tlp: Tlp,
    pub confidence: u8,
    /// Set when the ended indicator is of another lineage than the record
    /// holding it (a looser record's, whose readers now read this one):
    /// that lineage's id form. `None`: the holder's own lineage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_ids: Option<bool>,
}

impl Ended {
    /// How `r`'s current generation ends at `at`.
    fn of(r: &UrlRecord, at: Timestamp) -> Ended {
        Ended {
            legacy_ids: None,
            generation: r.generation,
            valid_from: r.valid_from(),
            revoked_at: at,
            last_seen: r.last_seen.max(r.first_seen),
            threat: r.threat,
            tags: r.tags.clone(),
            tlp: r.tlp,
            confidence: r.confidence,
        }
    }
}

/// The rolling feed's window.
fn window() -> i64 {
    crate::FeedSchedule::default().window_secs
}

impl UrlRecord {
    /// When the URL leaves the rolling feed: a window after its last
    /// sighting (the indicator's `valid_until`).
    pub fn leaves_feed_at(&self) -> Timestamp {
        self.last_seen.max(self.first_seen).add_secs(window())
    }

    /// The previous generation as a revoked record, to write its final
    /// objects again.
    pub fn ended_record(&self) -> Option<UrlRecord> {
        let e = self.ended.as_ref()?;
        Some(UrlRecord {
            threat: e.threat,
            tags: e.tags.clone(),
            tlp: e.tlp,
            confidence: e.confidence,
            last_seen: e.last_seen,
            first_seen: self.first_seen.min(e.last_seen),
            generation: e.generation,
            live: false,
            revoked_at: Some(e.revoked_at),
            live_since: Some(e.valid_from),
            changed_at: e.revoked_at,
            ended: None,
            above: self.above,
            legacy_ids: e.legacy_ids.unwrap_or(self.legacy_ids),
            superseded: Vec::new(),
            ..self.clone()
        })
    }

    /// The superseded looser records' final versions as revoked records,
    /// to write their objects with this record's.
    pub fn superseded_records(&self) -> Vec<UrlRecord> {
        self.superseded
            .iter()
            .filter_map(|e| {
                UrlRecord {
                    ended: Some(e.clone()),
                    superseded: Vec::new(),
                    ..self.clone()
                }
                .ended_record()
            })
            .collect()
    }

    /// The key of the record's lineage of ids under `prefix` (STIX ids,
    /// MISP object ids): `prefix@marking:url` — each of a URL's records a
    /// lineage of its own, no id of one an id of another — or, for a
    /// record stored before URLs had a record per marking, `prefix:url`
    /// as it was (the `@` before the `:` keeps the two forms apart, as a
    /// URL's path may hold an `@`).
    pub fn lineage_key(&self, prefix: &str) -> String {
        if self.legacy_ids {
            format!("{prefix}:{}", self.url)
        } else {
            format!("{prefix}@{}:{}", self.tlp.as_str(), self.url)
        }
    }

    /// When the current generation's indicator became valid.
    pub fn valid_from(&self) -> Timestamp {
        self.live_since.unwrap_or(self.first_seen)
    }
}

/// How far after the import's time a sighting may be (clock skew).
pub const MAX_AHEAD_SECS: i64 = isx_domain::MAX_CLOCK_SKEW_SECS;

/// Checks and canonicalises one observation.
pub fn prepare(obs: &UrlObservation, d: &ImportDefaults) -> Result<UrlCandidate, UrlError> {
    let canon = canonicalize(&obs.url)?;
    let mut tags: Vec<String> = Vec::new();
    let threat = match obs
        .threat
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => d.threat,
        Some(term) => match ThreatType::from_source_term(term) {
            Some(t) => t,
            None => {
                // Unknown vocabulary: kept as a tag so nothing is lost.
                tags.push(term.to_ascii_lowercase());
                ThreatType::Other
            }
        },
    };
    for t in &obs.tags {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.len() > MAX_TAG_LEN || t.chars().any(char::is_control) {
            return Err(UrlError::Invalid(format!(
                "tag {:?}: at most {MAX_TAG_LEN} bytes, no control characters",
                t.chars().take(80).collect::<String>()
            )));
        }
        tags.push(t.to_owned());
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(UrlError::Invalid(format!(
            "{} tags: at most {MAX_TAGS}",
            tags.len()
        )));
    }
    let confidence = match obs.confidence {
        None => d.confidence,
        Some(c) => u8::try_from(c)
            .ok()
            .filter(|c| *c <= 100)
            .ok_or_else(|| UrlError::Invalid(format!("confidence {c}: expected 0 to 100")))?,
    };
    let source = obs
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&d.source)
        .to_owned();
    if source.len() > 200 || source.chars().any(char::is_control) {
        return Err(UrlError::Invalid(
            "source: at most 200 printable characters".into(),
        ));
    }
    let first_seen = obs.first_seen.or(obs.last_seen).unwrap_or(d.now);
    let last_seen = obs.last_seen.unwrap_or(first_seen).max(first_seen);
    if let (Some(f), Some(l)) = (obs.first_seen, obs.last_seen) {
        if l < f {
            return Err(UrlError::Invalid(format!(
                "last_seen {l} is before first_seen {f}"
            )));
        }
    }
    // A clock a little fast is tolerated; a sighting from the future is not
    // (it would date the record, and its STIX versions, ahead of every
    // later real one).
    if last_seen > d.now.add_secs(MAX_AHEAD_SECS) {
        return Err(UrlError::Invalid(format!(
            "last_seen {last_seen} is in the future (more than {MAX_AHEAD_SECS} s after now)"
        )));
    }
    let ip = obs.ip.or(canon.ip);
    let sighting = sighting_key(&canon.url, &source, obs.first_seen, obs.last_seen);
    Ok(UrlCandidate {
        canon,
        threat,
        tags,
        source,
        confidence,
        first_seen,
        last_seen,
        ip,
        geo: obs.geo.clone(),
        tlp: obs.tlp.unwrap_or(d.tlp),
        sighting,
    })
}

/// The identity of a sighting: the source's own words (URL, source, and
/// the times it gave, absent ones included), not the time of import.
pub fn sighting_key(
    url: &str,
    source: &str,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
) -> String {
    let mut h = Sha256::new();
    for part in [
        url.as_bytes(),
        b"\0",
        source.as_bytes(),
        b"\0",
        first
            .map(|t| t.as_micros().to_string())
            .unwrap_or_default()
            .as_bytes(),
        b"\0",
        last.map(|t| t.as_micros().to_string())
            .unwrap_or_default()
            .as_bytes(),
    ] {
        h.update(part);
    }
    // Keys are the digest's first 16 bytes, in hex.
    let mut key = hex::encode(h.finalize());
    key.truncate(32);
    key
}

/// Merges a new sighting into the record of its URL (or starts one).
///
/// * first/last seen widen; times seen counts sightings;
/// * threat, source, confidence, address and location come from the most
///   recent sighting (by its last-seen time), missing fields filled from
///   the other;
/// * tags are the union;
/// * the marking is the most restrictive one any source gave: a record is
///   never shared wider than one of its sources allowed.
pub fn merge(
    existing: Option<&UrlRecord>,
    c: &UrlCandidate,
    seq: i64,
    now: Timestamp,
) -> UrlRecord {
    let fresh = UrlRecord {
        id: existing.map_or(0, |e| e.id),
        url: c.canon.url.clone(),
        host: c.canon.host.clone(),
        domain: c.canon.domain.clone(),
        ip: c.ip,
        geo: c.geo.clone(),
        threat: c.threat,
        tags: c.tags.clone(),
        source: c.source.clone(),
        confidence: c.confidence,
        tlp: c.tlp,
        first_seen: c.first_seen,
        last_seen: c.last_seen,
        times_seen: 1,
        changed_seq: seq,
        changed_at: now,
        generation: 0,
        live: true,
        revoked_at: None,
        live_since: Some(c.first_seen),
        ended: None,
        above: None,
        legacy_ids: false,
        superseded: Vec::new(),
    };
    let Some(old) = existing else {
        // Old news: a URL already out of the feed enters it revoked.
        let live = fresh.leaves_feed_at() >= now;
        return UrlRecord {
            live,
            revoked_at: (!live).then_some(now),
            ..fresh
        };
    };
    // Within one import (the same batch) the record has not been served:
    // it merges plainly.
    let same_import = old.changed_seq == seq;
    if !same_import
        && !old.live
        && old
            .last_seen
            .max(c.last_seen)
            .max(old.first_seen)
            .add_secs(window())
            < now
    {
        // Old news for a revoked URL changes nothing of it: not its final,
        // revoked STIX version, not its count, not its batch (a hidden
        // sighting must show nowhere). Its sighting key is kept, so a
        // re-import stays idempotent.
        return old.clone();
    }
    let (newer, older) = if c.last_seen >= old.last_seen {
        (fresh, old.clone())
    } else {
        (old.clone(), fresh)
    };
    let ip = newer.ip.or(older.ip);
    // Location belongs to an address: only borrow it when the address agrees.
    let geo = if newer.ip == ip {
        if older.ip == ip {
            newer.geo.or(older.geo)
        } else {
            newer.geo
        }
    } else {
        older.geo
    };
    let mut tags = newer.tags;
    tags.extend(older.tags);
    tags.sort();
    tags.dedup();
    tags.truncate(MAX_TAGS);
    let mut merged = UrlRecord {
        id: old.id,
        url: old.url.clone(),
        host: old.host.clone(),
        domain: old.domain.clone(),
        ip,
        geo,
        threat: newer.threat,
        tags,
        source: newer.source,
        confidence: newer.confidence,
        tlp: old.tlp.max(c.tlp),
        first_seen: old.first_seen.min(c.first_seen),
        last_seen: old.last_seen.max(c.last_seen),
        times_seen: old.times_seen + 1,
        changed_seq: seq,
        changed_at: now,
        generation: old.generation,
        live: old.live,
        revoked_at: old.revoked_at,
        live_since: old.live_since.or(Some(old.first_seen)),
        ended: old.ended.clone(),
        above: old.above,
        legacy_ids: old.legacy_ids,
        superseded: old.superseded.clone(),
    };
    // A revoked URL seen again within the window comes back as a new
    // indicator, valid from the activity after the one that ended; a
    // sighting that is old news leaves it revoked.
    if same_import {
        // Nothing of it was served yet: no generation to end.
        if !merged.live && merged.leaves_feed_at() >= now {
            merged.live = true;
            merged.revoked_at = old.ended.as_ref().map(|e| e.revoked_at);
        }
    } else if !merged.live && merged.leaves_feed_at() >= now {
        merged.ended = Some(Ended::of(old, old.revoked_at.unwrap_or(old.changed_at)));
        merged.generation += 1;
        merged.live = true;
        merged.live_since = Some(c.first_seen.max(old.last_seen).min(c.last_seen));
    } else if merged.live && merged.threat.infrastructure() != old.threat.infrastructure() {
        // What the URL is part of changed: the indicator, infrastructure
        // and relationship of the old reading end (revoked, after their
        // last version), and a new generation says the new one.
        // After every version of the old reading (a sighting may be a
        // little ahead of the clock).
        // In a millisecond of its own (STIX times are milliseconds): one
        // version, one content.
        let last = old.changed_at.max(old.last_seen).max(old.valid_from());
        let at = now.max(next_millisecond(last));
        merged.ended = Some(Ended::of(old, at));
        merged.revoked_at = Some(at);
        merged.generation += 1;
        merged.live_since = Some(c.first_seen.max(old.valid_from()).min(c.last_seen));
    }
    merged
}

/// An instant in the millisecond after `t`'s, two microseconds in (never
/// an import's instant, which is one microsecond into its millisecond).
fn next_millisecond(t: Timestamp) -> Timestamp {
    Timestamp::from_micros(
        (t.as_micros().div_euclid(1000).saturating_add(1))
            .saturating_mul(1000)
            .saturating_add(2),
    )
}

/// Dates the ends of looser records that a new stricter one superseded
/// in this import (see [`merge_levels`]; `now` is the import's clock time,
/// `arrival` its instant, which `r` is stamped with): at the import's
/// arrival, and in a millisecond after every version of the looser record
/// (STIX times are milliseconds). The looser record did not change in
/// this import, so its own next version is at a later import's instant.
/// One STIX version, one content.
pub fn date_superseded(r: &mut UrlRecord, now: Timestamp, arrival: Timestamp) {
    for e in r.superseded.iter_mut().filter(|e| e.revoked_at == now) {
        e.revoked_at = arrival
            .max(next_millisecond(e.last_seen))
            .max(next_millisecond(e.valid_from));
    }
}

/// Merges a new sighting into the records of its URL, one record per
/// marking its sightings had, sorted from the loosest marking to the
/// strictest (`rows`, changed in place). Returns the markings of the
/// records that changed.
///
/// A record holds every sighting of its marking *or a looser one*, and is
/// marked with its own marking. A reader who may see several markings
/// reads the strictest record it may see (the one whose [`UrlRecord::above`]
/// it may not see), so it sees everything it may see of the URL, once,
/// and a sighting a reader may not see changes nothing it reads: not the
/// records it reads, not their ids, versions or places. (One record per
/// URL with the strictest marking of all its sightings took the URL away
/// from every reader of the looser markings, with no revocation.)
///
/// * a sighting changes the records of its marking and of every stricter
///   one below `held_from` (the loosest record that already holds it: the
///   same sighting seen before with a stricter marking); the record of its
///   marking, when there was none, starts with the content of the URL's
///   next looser record and the sighting merged;
/// * each record is a lineage of STIX indicators of its own (its marking
///   is in their ids, its generations count its own returns), so nothing
///   in the ids a reader sees depends on a record it may not see, and no
///   two contents share an id and version.
pub fn merge_levels(
    rows: &mut Vec<UrlRecord>,
    c: &UrlCandidate,
    held_from: Option<Tlp>,
    seq: i64,
    now: Timestamp,
) -> Vec<Tlp> {
    rows.sort_by_key(|r| r.tlp);
    let reaches = |t: Tlp| t >= c.tlp && held_from.is_none_or(|h| t < h);
    let mut changed = Vec::new();
    let started = !rows.iter().any(|r| r.tlp == c.tlp);
    if started {
        let below = rows.iter().rev().find(|r| r.tlp < c.tlp);
        let start = match below {
            None => Some(merge(None, c, seq, now)),
            Some(b) => {
                let m = merge(Some(b), c, seq, now);
                // The readers of the new record read `b` until now: a live,
                // stored `b` ends for them (its final, revoked version comes
                // with the new record's objects, dated by the store with
                // [`date_superseded`]; `b`'s own readers keep it). Not when
                // `b` changed in this import too: its new version takes
                // the import's instant, and one version has one content
                // (that indicator lapses at its `valid_until`).
                // And the looser records `b`'s readers moved from before:
                // they may not have read `b` in between.
                let mut superseded = b.superseded.clone();
                if b.live && b.id != 0 && b.changed_seq != seq {
                    superseded.retain(|e| e.tlp != b.tlp);
                    superseded.push(Ended {
                        legacy_ids: Some(b.legacy_ids),
                        ..Ended::of(b, now)
                    });
                }
                // Old news for a revoked URL changes nothing, for any reader.
                (m != *b).then_some(UrlRecord {
                    id: 0,
                    tlp: c.tlp,
                    // A lineage of its own: the looser record's ids stay
                    // the looser record's.
                    generation: 0,
                    ended: None,
                    superseded,
                    legacy_ids: false,
                    revoked_at: if m.live { None } else { m.revoked_at },
                    ..m.clone()
                })
            }
        };
        if let Some(r) = start {
            rows.push(r);
            rows.sort_by_key(|r| r.tlp);
            changed.push(c.tlp);
        }
    }
    for row in rows.iter_mut() {
        if !reaches(row.tlp) || (started && row.tlp == c.tlp) {
            continue;
        }
        let m = merge(Some(row), c, seq, now);
        if m != *row {
            *row = m;
            changed.push(row.tlp);
        }
    }
    let markings: Vec<Tlp> = rows.iter().map(|r| r.tlp).collect();
    for (i, r) in rows.iter_mut().enumerate() {
        r.above = markings.get(i + 1).copied();
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ImportDefaults {
        ImportDefaults {
            source: "crawler".into(),
            tlp: Tlp::Green,
            confidence: 50,
            threat: ThreatType::Other,
            now: Timestamp::from_secs(1_800_000_000),
        }
    }

    fn obs(url: &str, first: i64, last: i64) -> UrlObservation {
        UrlObservation {
            url: url.into(),
            threat: Some("malware_download".into()),
            first_seen: Some(Timestamp::from_secs(first)),
            last_seen: Some(Timestamp::from_secs(last)),
            ..Default::default()
        }
    }

    #[test]
    fn prepare_applies_defaults_and_maps_the_threat() {
        let c = prepare(&obs("HTTP://Evil.example/x", 10, 20), &defaults()).unwrap();
        assert_eq!(c.canon.url, "http://evil.example/x");
        assert_eq!(c.threat, ThreatType::MalwareDistribution);
        assert_eq!(c.source, "crawler");
        assert_eq!((c.tlp, c.confidence), (Tlp::Green, 50));
        let mut unknown = obs("http://a.example/", 1, 1);
        unknown.threat = Some("Banking-Trojan".into());
        let c = prepare(&unknown, &defaults()).unwrap();
        assert_eq!(c.threat, ThreatType::Other);
        assert_eq!(c.tags, vec!["banking-trojan".to_owned()]);
    }

    #[test]
    fn prepare_refuses_impossible_rows() {
        let mut o = obs("http://a.example/", 20, 10);
        assert!(prepare(&o, &defaults())
            .unwrap_err()
            .to_string()
            .contains("before"));
        o = obs("http://a.example/", 1, 2);
        o.confidence = Some(101);
        assert!(prepare(&o, &defaults()).is_err());
        o.confidence = Some(100);
        assert!(prepare(&o, &defaults()).is_ok());
    }

    #[test]
    fn the_same_sighting_has_the_same_key_and_others_differ() {
        let a = prepare(&obs("http://a.example/", 1, 2), &defaults()).unwrap();
        let b = prepare(&obs("http://A.example:80/", 1, 2), &defaults()).unwrap();
        let later = prepare(&obs("http://a.example/", 1, 3), &defaults()).unwrap();
        assert_eq!(a.sighting, b.sighting);
        assert_ne!(a.sighting, later.sighting);
    }

    #[test]
    fn a_revoked_url_comes_back_as_a_new_generation_only_when_seen_in_the_window() {
        let d = defaults();
        let day = 86_400;
        let now = Timestamp::from_secs(100 * day);
        let c = prepare(&obs("http://a.example/", 90 * day, 91 * day), &d).unwrap();
        // Old news enters revoked: it left the feed at day 96.
        let r = merge(None, &c, 1, now);
        assert!(!r.live && r.revoked_at == Some(now) && r.generation == 0);
        assert_eq!(r.leaves_feed_at(), Timestamp::from_secs(96 * day));
        // Older news keeps it revoked.
        let c = prepare(&obs("http://a.example/", 92 * day, 94 * day), &d).unwrap();
        let r = merge(Some(&r), &c, 2, now);
        assert!(!r.live && r.generation == 0 && r.times_seen == 1);
        // Activity in the window brings it back, as the next indicator,
        // valid from the new activity.
        let c = prepare(&obs("http://a.example/", 98 * day, 99 * day), &d).unwrap();
        let back = merge(Some(&r), &c, 3, now);
        assert!(back.live && back.generation == 1);
        assert_eq!(back.valid_from(), Timestamp::from_secs(98 * day));
        assert_eq!(back.revoked_at, Some(now), "the last revocation is kept");
        // A live record merges without changing generation, nor its start.
        let again = merge(Some(&back), &c, 4, now);
        assert!(again.live && again.generation == 1);
        let earlier = prepare(&obs("http://a.example/", 97 * day, 99 * day), &d).unwrap();
        let wider = merge(Some(&again), &earlier, 5, now);
        assert_eq!(wider.first_seen, Timestamp::from_secs(90 * day));
        assert_eq!(
            wider.valid_from(),
            back.valid_from(),
            "created is fixed per generation"
        );
    }

    #[test]
    fn old_news_leaves_a_revoked_record_as_it_was() {
        let d = defaults();
        let day = 86_400;
        let now = Timestamp::from_secs(100 * day);
        let c = prepare(&obs("http://a.example/", 80 * day, 81 * day), &d).unwrap();
        let r = merge(None, &c, 1, now);
        let mut news = obs("http://a.example/", 82 * day, 90 * day);
        news.threat = Some("spam".into());
        news.tlp = Some(Tlp::Red);
        news.source = Some("secret".into());
        let after = merge(Some(&r), &prepare(&news, &d).unwrap(), 2, now);
        assert_eq!(
            after, r,
            "a hidden sighting shows nowhere, not even as a count"
        );
    }

    #[test]
    fn sightings_from_the_future_are_refused() {
        let d = defaults();
        let now = d.now.as_secs();
        assert!(prepare(&obs("http://a.example/", now, now + MAX_AHEAD_SECS), &d).is_ok());
        let e = prepare(&obs("http://a.example/", now, now + MAX_AHEAD_SECS + 1), &d).unwrap_err();
        assert!(e.to_string().contains("future"), "{e}");
    }

    #[test]
    fn merging_widens_times_unions_tags_and_keeps_the_strictest_marking() {
        let d = defaults();
        // Merged while the sightings are in the feed's window.
        let soon = Timestamp::from_secs(400);
        let mut first = obs("http://a.example/", 100, 200);
        first.tags = vec!["emotet".into()];
        first.ip = Some("192.0.2.1".parse().unwrap());
        first.geo.latitude = Some(1.0);
        let rec = merge(None, &prepare(&first, &d).unwrap(), 1, soon);
        assert_eq!(rec.times_seen, 1);
        let mut second = obs("http://a.example/", 50, 300);
        second.threat = Some("phishing".into());
        second.tags = vec!["kit".into()];
        second.tlp = Some(Tlp::Amber);
        let merged = merge(Some(&rec), &prepare(&second, &d).unwrap(), 2, soon);
        assert_eq!(merged.first_seen, Timestamp::from_secs(50));
        assert_eq!(merged.last_seen, Timestamp::from_secs(300));
        assert_eq!(merged.times_seen, 2);
        assert_eq!(
            merged.threat,
            ThreatType::Phishing,
            "newest sighting's threat"
        );
        assert_eq!(merged.tags, vec!["emotet".to_owned(), "kit".to_owned()]);
        assert_eq!(merged.tlp, Tlp::Amber);
        assert_eq!(merged.ip, first.ip, "address kept from the older sighting");
        assert_eq!(merged.geo.latitude, Some(1.0));
        assert_eq!(merged.changed_seq, 2);
        // An older sighting arriving late does not overwrite newer fields.
        let mut old = obs("http://a.example/", 10, 20);
        old.threat = Some("spam".into());
        let merged2 = merge(Some(&merged), &prepare(&old, &d).unwrap(), 3, soon);
        assert_eq!(merged2.threat, ThreatType::Phishing);
        assert_eq!(merged2.first_seen, Timestamp::from_secs(10));
        assert_eq!(merged2.tlp, Tlp::Amber, "marking never loosens");
    }

    fn sighting(url: &str, first: i64, last: i64, tlp: Tlp, source: &str) -> UrlCandidate {
        let mut o = obs(url, first, last);
        o.tlp = Some(tlp);
        o.source = Some(source.into());
        prepare(&o, &defaults()).unwrap()
    }

    #[test]
    fn a_stricter_sighting_changes_nothing_a_looser_reader_reads() {
        let soon = Timestamp::from_secs(1_000);
        let mut rows = Vec::new();
        let clear = sighting("http://a.example/", 100, 200, Tlp::Clear, "public");
        assert_eq!(
            merge_levels(&mut rows, &clear, None, 1, soon),
            vec![Tlp::Clear]
        );
        let before = rows[0].clone();
        // A TLP:RED sighting: a record of its own, started from the
        // CLEAR one (the same indicator for a reader who may see both).
        let red = sighting("http://a.example/", 150, 300, Tlp::Red, "secret");
        assert_eq!(merge_levels(&mut rows, &red, None, 2, soon), vec![Tlp::Red]);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            UrlRecord {
                above: None,
                ..rows[0].clone()
            },
            before,
            "the CLEAR record is as its readers saw it"
        );
        assert_eq!(rows[0].above, Some(Tlp::Red));
        let r = &rows[1];
        assert_eq!((r.tlp, r.id, r.times_seen, r.above), (Tlp::Red, 0, 2, None));
        assert_eq!(r.source, "secret");
        assert_eq!(r.last_seen, Timestamp::from_secs(300));
        assert_eq!(
            (r.generation, r.legacy_ids, r.superseded.is_empty()),
            (0, false, true),
            "an indicator lineage of its own"
        );
        // A CLEAR sighting reaches both; a GREEN one starts a GREEN record
        // between them, from the CLEAR one.
        let clear2 = sighting("http://a.example/", 400, 500, Tlp::Clear, "public");
        let mut changed = merge_levels(&mut rows, &clear2, None, 3, soon);
        changed.sort();
        assert_eq!(changed, vec![Tlp::Clear, Tlp::Red]);
        assert_eq!((rows[0].times_seen, rows[1].times_seen), (2, 3));
        let green = sighting("http://a.example/", 450, 460, Tlp::Green, "partner");
        let mut changed = merge_levels(&mut rows, &green, None, 4, soon);
        changed.sort();
        assert_eq!(changed, vec![Tlp::Green, Tlp::Red]);
        let marks: Vec<(Tlp, Option<Tlp>, i64)> = rows
            .iter()
            .map(|r| (r.tlp, r.above, r.times_seen))
            .collect();
        assert_eq!(
            marks,
            vec![
                (Tlp::Clear, Some(Tlp::Green), 2),
                (Tlp::Green, Some(Tlp::Red), 3),
                (Tlp::Red, None, 4)
            ]
        );
    }

    #[test]
    fn each_record_is_a_lineage_of_its_own() {
        let day = 86_400;
        let mut rows = Vec::new();
        // A RED record first, then a CLEAR one with no looser record to
        // start from: both first indicators of their lineages (their ids
        // differ by marking), nothing of one in the other's numbers.
        let red = sighting("http://a.example/", 10 * day, 10 * day, Tlp::Red, "s");
        merge_levels(&mut rows, &red, None, 1, Timestamp::from_secs(11 * day));
        let clear = sighting("http://a.example/", 11 * day, 11 * day, Tlp::Clear, "p");
        merge_levels(&mut rows, &clear, None, 2, Timestamp::from_secs(12 * day));
        let lineage: Vec<(Tlp, i64)> = rows.iter().map(|r| (r.tlp, r.generation)).collect();
        assert_eq!(lineage, vec![(Tlp::Clear, 0), (Tlp::Red, 0)]);
        // Both leave the feed, and come back: each its own next generation.
        for r in &mut rows {
            r.live = false;
            r.revoked_at = Some(Timestamp::from_secs(20 * day));
        }
        let back = sighting("http://a.example/", 30 * day, 30 * day, Tlp::Clear, "p");
        let changed = merge_levels(&mut rows, &back, None, 3, Timestamp::from_secs(31 * day));
        assert_eq!(changed.len(), 2);
        assert!(rows.iter().all(|r| r.live && r.generation == 1), "{rows:?}");
        // Old news for a revoked URL starts no record.
        let mut gone = vec![rows[0].clone()];
        gone[0].live = false;
        let old = sighting("http://a.example/", day, day, Tlp::Amber, "x");
        assert!(merge_levels(&mut gone, &old, None, 4, Timestamp::from_secs(40 * day)).is_empty());
        assert_eq!(gone.len(), 1);
    }

    #[test]
    fn a_sighting_seen_again_looser_reaches_only_the_looser_records() {
        let soon = Timestamp::from_secs(1_000);
        let mut rows = Vec::new();
        let red = sighting("http://a.example/", 100, 200, Tlp::Red, "feed");
        merge_levels(&mut rows, &red, None, 1, soon);
        let before = rows[0].clone();
        // The same sighting, marked GREEN by a later import: the RED
        // record holds it already.
        let green = sighting("http://a.example/", 100, 200, Tlp::Green, "feed");
        assert_eq!(green.sighting, red.sighting);
        let changed = merge_levels(&mut rows, &green, Some(Tlp::Red), 2, soon);
        assert_eq!(changed, vec![Tlp::Green]);
        assert_eq!((rows[0].tlp, rows[0].times_seen), (Tlp::Green, 1));
        assert_eq!(
            UrlRecord {
                above: None,
                ..rows[1].clone()
            },
            before,
            "the RED record as it was"
        );
    }
}
