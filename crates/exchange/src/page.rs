//! Filters and pagination of a collection's entries (TAXII 2.1 §3.4):
//! `added_after`, `limit`, `next`, `match[id]`, `match[type]`,
//! `match[version]` (`last` — the default —, `first`, `all` or
//! timestamps), `match[spec_version]` (default: each object's latest).
//!
//! Entries are ordered by their `date_added` in the collection, which the
//! server keeps distinct (microseconds apart), so a page ends at a
//! `date_added` and the next one starts strictly after it. The opaque
//! `next` token carries that point and the filters it was given for: a
//! client may send it alone (Elastic's TAXII input does) or with the same
//! filters (OpenCTI repeats `added_after`); with other filters it is
//! refused.
//!
//! Clients that keep `X-TAXII-Date-Added-Last` at millisecond precision
//! (OpenCTI parses it into a JavaScript `Date`) page by whole
//! milliseconds. So a page that cannot hold every entry of its last
//! millisecond ends before that millisecond when it holds an earlier one
//! ([`Page::sealed`]), and the server then reports the end of that
//! millisecond as the page's last `date_added`
//! ([`Page::date_added_last`]): `added_after` at it, truncated or not,
//! resumes exactly after the page. (The store starts each import in a
//! millisecond of its own, so no later import joins a millisecond a
//! client has read to its end.)

use std::collections::{BTreeSet, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use isx_domain::Timestamp;
use sha2::{Digest, Sha256};

use crate::ExchangeError;

/// One version of an object in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    /// The STIX type (the part of the id before `--`).
    pub object_type: String,
    /// `modified`, else `created`.
    pub version: Timestamp,
    pub spec_version: String,
    /// When this version entered the collection (distinct per collection).
    pub date_added: Timestamp,
}

/// Which versions of each object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSel {
    Last,
    First,
    All,
    At(Timestamp),
}

/// A request's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub added_after: Option<Timestamp>,
    pub limit: usize,
    /// Resume strictly after this `date_added` (from `next`).
    pub after: Option<Timestamp>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: Vec<VersionSel>,
    pub spec_versions: Vec<String>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Filter {
    /// Reads the query parameters (names as sent, e.g. `match[type]`).
    /// `limit` is capped at `max_limit`; without one, `max_limit` applies.
    pub fn from_query(
        pairs: &[(String, String)],
        max_limit: usize,
    ) -> Result<Filter, ExchangeError> {
        let mut f = Filter {
            added_after: None,
            limit: max_limit,
            after: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: Vec::new(),
            spec_versions: Vec::new(),
        };
        let mut next = None;
        // Whether the request names any selection of its own (`limit`
        // excluded): a `next` token alone brings its own.
        let mut selected = false;
        for (k, v) in pairs {
            if k.starts_with("match[") || k == "added_after" {
                selected = true;
            }
            match k.as_str() {
                "added_after" => {
                    f.added_after = Some(crate::parse_timestamp(v).ok_or_else(|| {
                        ExchangeError::bad("added_after", format!("{v:?} is not a timestamp"))
                    })?)
                }
                "limit" => {
                    let n: usize = v.parse().map_err(|_| {
                        ExchangeError::bad("limit", format!("{v:?} is not a positive number"))
                    })?;
                    if n == 0 {
                        return Err(ExchangeError::bad("limit", "must be at least 1"));
                    }
                    f.limit = n.min(max_limit);
                }
                "next" => next = Some(v.clone()),
                "match[id]" => f.ids.extend(list(v)),
                "match[type]" => f.types.extend(list(v)),
                "match[spec_version]" => f.spec_versions.extend(list(v)),
                "match[version]" => {
                    for s in list(v) {
                        f.versions.push(VersionSel::parse(&s).ok_or_else(|| {
                            ExchangeError::bad(
                                "match[version]",
                                format!("{s:?}: expected last, first, all or a timestamp"),
                            )
                        })?);
                    }
                }
                // Unknown parameters are ignored, as the specification asks.
                _ => {}
            }
        }
        if f.versions.is_empty() {
            f.versions.push(VersionSel::Last);
        }
        if let Some(token) = next {
            f.resume(&token, selected)?;
        }
        Ok(f)
    }

    /// What the filters select, for the `next` token (limit excluded: a
    /// client may change the page size).
    fn fingerprint(&self) -> String {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            self.added_after.map(Timestamp::as_micros),
            self.ids,
            self.types,
            self.versions,
            self.spec_versions
        );
        // The digest's first 8 bytes, in hex.
        let mut print = hex::encode(Sha256::digest(text.as_bytes()));
        print.truncate(16);
        print
    }

    /// The token that resumes after `date_added`: the instant and this
    /// filter's selection, so the token alone continues the same query.
    pub fn next_token(&self, date_added: Timestamp) -> String {
        let saved = SavedSelection {
            added_after: self.added_after.map(Timestamp::as_micros),
            ids: self.ids.clone(),
            types: self.types.clone(),
            versions: self.versions.iter().map(VersionSel::text).collect(),
            spec_versions: self.spec_versions.clone(),
        };
        // Serialising plain strings and numbers cannot fail; were it to,
        // the token would carry no selection and be refused on return.
        let json = serde_json::to_vec(&saved).unwrap_or_default();
        format!(
            "{}~{}",
            date_added.as_micros(),
            URL_SAFE_NO_PAD.encode(json)
        )
    }

    /// Continues after the point `token` carries. A request without a
    /// selection of its own takes the token's; one with a selection must
    /// name the same one. Tokens of the earlier form (instant and filter
    /// fingerprint) are still read, with their filters repeated.
    fn resume(&mut self, token: &str, selected: bool) -> Result<(), ExchangeError> {
        let bad = || ExchangeError::bad("next", "not a token this server gave for these filters");
        // An instant a client could have sent as a timestamp, no other
        // (red-team pass 2026-12-07: a forged token took any i64).
        let instant = |micros: i64| {
            let t = Timestamp::from_micros(micros);
            crate::parse_timestamp(&crate::taxii_timestamp(t))
                .filter(|back| *back == t)
                .ok_or_else(bad)
        };
        if let Some((micros, saved)) = token.split_once('~') {
            let at = micros.parse::<i64>().map_err(|_| bad())?;
            instant(at)?;
            let saved: SavedSelection = URL_SAFE_NO_PAD
                .decode(saved)
                .ok()
                .and_then(|json| serde_json::from_slice(&json).ok())
                .ok_or_else(bad)?;
            if let Some(a) = saved.added_after {
                instant(a)?;
            }
            if saved.versions.is_empty() {
                return Err(bad());
            }
            let mut versions = Vec::with_capacity(saved.versions.len());
            for v in &saved.versions {
                versions.push(VersionSel::parse(v).ok_or_else(bad)?);
            }
            let theirs = Filter {
                added_after: saved.added_after.map(Timestamp::from_micros),
                limit: self.limit,
                after: None,
                ids: saved.ids,
                types: saved.types,
                versions,
                spec_versions: saved.spec_versions,
            };
            if selected && theirs.fingerprint() != self.fingerprint() {
                return Err(bad());
            }
            *self = Filter {
                after: Some(Timestamp::from_micros(at)),
                ..theirs
            };
            return Ok(());
        }
        // The earlier form: `{instant}-{fingerprint}`. The fingerprint is
        // hex, so the last '-' ends the instant (which may be negative).
        let (micros, print) = token.rsplit_once('-').ok_or_else(bad)?;
        if print != self.fingerprint() {
            return Err(bad());
        }
        self.after = Some(instant(micros.parse::<i64>().map_err(|_| bad())?)?);
        Ok(())
    }
}

/// The selection a `next` token carries.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSelection {
    #[serde(rename = "a")]
    added_after: Option<i64>,
    #[serde(rename = "i", default, skip_serializing_if = "Vec::is_empty")]
    ids: Vec<String>,
    #[serde(rename = "t", default, skip_serializing_if = "Vec::is_empty")]
    types: Vec<String>,
    #[serde(rename = "v")]
    versions: Vec<String>,
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    spec_versions: Vec<String>,
}

impl VersionSel {
    /// As `match[version]` names it.
    fn text(&self) -> String {
        match self {
            VersionSel::Last => "last".to_owned(),
            VersionSel::First => "first".to_owned(),
            VersionSel::All => "all".to_owned(),
            VersionSel::At(t) => crate::taxii_timestamp(*t),
        }
    }

    fn parse(text: &str) -> Option<VersionSel> {
        Some(match text {
            "last" => VersionSel::Last,
            "first" => VersionSel::First,
            "all" => VersionSel::All,
            t => VersionSel::At(crate::parse_timestamp(t)?),
        })
    }
}

/// The millisecond a `date_added` falls in, named by its end: `(m − 1 ms,
/// m]` is millisecond `m`, so a client that truncates the end of a
/// millisecond to milliseconds changes nothing.
fn millisecond_of(t: Timestamp) -> i64 {
    t.as_micros().saturating_add(999).div_euclid(1000)
}

/// The end of the millisecond `t` falls in (`t` itself when it is one).
pub fn millisecond_end(t: Timestamp) -> Timestamp {
    Timestamp::from_micros(millisecond_of(t).saturating_mul(1000))
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    pub entries: Vec<&'a Entry>,
    pub more: bool,
    pub next: Option<String>,
    /// No entry the filters select after the page shares the millisecond
    /// of its last entry.
    pub sealed: bool,
}

impl Page<'_> {
    /// `X-TAXII-Date-Added-Last`: the last entry's `date_added`, or the
    /// end of its millisecond when the page holds all of that millisecond
    /// (see the module's notes).
    pub fn date_added_last(&self) -> Option<Timestamp> {
        let last = self.entries.last()?.date_added;
        Some(if self.sealed {
            millisecond_end(last)
        } else {
            last
        })
    }
}

/// Selects the page `filter` asks for from `entries` (in ascending
/// `date_added`, as the collection holds them).
pub fn select<'a>(entries: &'a [Entry], filter: &Filter) -> Page<'a> {
    select_upto(entries, filter, None)
}

/// One step of paging a large collection read in windows, so a page costs
/// what it holds rather than the whole collection: the store reads the
/// versions after the resume point in `date_added` order, `window` rows at
/// most; `versions` are *every* version of the objects those rows belong
/// to (which `match[version]` and the default spec version judge by), and
/// `window_end` the `date_added` of the window's last row when the window
/// was full (`None`: it reached the end of the collection). The answer is
/// the page `select` gives over the whole collection, or `None` when this
/// window cannot decide it (the caller reads a larger one).
pub fn select_window<'a>(
    versions: &'a [Entry],
    filter: &Filter,
    window_end: Option<Timestamp>,
) -> Option<Page<'a>> {
    let page = select_upto(versions, filter, window_end);
    (page.more || window_end.is_none()).then_some(page)
}

/// The page a reader gives when it has read as far as it will for one
/// request (`upto`, the `date_added` of the last row read) and that is not
/// enough to fill or end the page: what matched so far, `more`, and a
/// `next` that resumes after `upto` — so a filter that matches little
/// among many rows costs a bounded read per request instead of the whole
/// collection, and the client pages on.
pub fn partial_page<'a>(versions: &'a [Entry], filter: &Filter, upto: Timestamp) -> Page<'a> {
    let page = select_upto(versions, filter, Some(upto));
    if page.more {
        return page;
    }
    Page {
        more: true,
        next: Some(filter.next_token(upto)),
        sealed: false,
        entries: page.entries,
    }
}

/// `select`, giving only entries added up to `upto`; every entry still
/// counts for the first/last versions and the latest spec version.
fn select_upto<'a>(entries: &'a [Entry], filter: &Filter, upto: Option<Timestamp>) -> Page<'a> {
    let ids: BTreeSet<&str> = filter.ids.iter().map(String::as_str).collect();
    let types: BTreeSet<&str> = filter.types.iter().map(String::as_str).collect();
    let specs: BTreeSet<&str> = filter.spec_versions.iter().map(String::as_str).collect();
    let candidate = |e: &Entry| {
        (ids.is_empty() || ids.contains(e.id.as_str()))
            && (types.is_empty() || types.contains(e.object_type.as_str()))
    };
    // Per object: its spec versions (the default keeps only the latest)
    // and, among those, the versions `match[version]` selects.
    let mut latest_spec: HashMap<&str, &str> = HashMap::new();
    for e in entries.iter().filter(|e| candidate(e)) {
        let s = latest_spec
            .entry(e.id.as_str())
            .or_insert(e.spec_version.as_str());
        if e.spec_version.as_str() > *s {
            *s = e.spec_version.as_str();
        }
    }
    let spec_ok = |e: &Entry| {
        if specs.is_empty() {
            latest_spec.get(e.id.as_str()) == Some(&e.spec_version.as_str())
        } else {
            specs.contains(e.spec_version.as_str())
        }
    };
    let mut bounds: HashMap<&str, (Timestamp, Timestamp)> = HashMap::new();
    for e in entries.iter().filter(|e| candidate(e) && spec_ok(e)) {
        let b = bounds
            .entry(e.id.as_str())
            .or_insert((e.version, e.version));
        b.0 = b.0.min(e.version);
        b.1 = b.1.max(e.version);
    }
    let version_ok = |e: &Entry| {
        let Some((first, last)) = bounds.get(e.id.as_str()) else {
            return false;
        };
        filter.versions.iter().any(|v| match v {
            VersionSel::All => true,
            VersionSel::Last => e.version == *last,
            VersionSel::First => e.version == *first,
            VersionSel::At(t) => e.version == *t,
        })
    };
    let start = match (filter.added_after, filter.after) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let mut matching = entries
        .iter()
        .filter(|e| start.is_none_or(|s| e.date_added > s))
        .filter(|e| upto.is_none_or(|u| e.date_added <= u))
        .filter(|e| candidate(e) && spec_ok(e) && version_ok(e));
    let mut page: Vec<&Entry> = matching.by_ref().take(filter.limit).collect();
    let following = matching.next();
    let more = following.is_some();
    // A page that would end inside a millisecond ends before it when it
    // holds an earlier one; one millisecond holding more than a page is
    // paged by `next` alone.
    let sealed = match (following, page.last()) {
        (Some(f), Some(last))
            if millisecond_of(f.date_added) == millisecond_of(last.date_added) =>
        {
            let ms = millisecond_of(last.date_added);
            match page
                .iter()
                .rposition(|e| millisecond_of(e.date_added) != ms)
            {
                Some(i) => {
                    page.truncate(i + 1);
                    true
                }
                None => false,
            }
        }
        _ => true,
    };
    let next = match (more, page.last()) {
        (true, Some(last)) => Some(filter.next_token(last.date_added)),
        _ => None,
    };
    Page {
        entries: page,
        more,
        next,
        sealed,
    }
}

#[cfg(test)]
mod tests;
