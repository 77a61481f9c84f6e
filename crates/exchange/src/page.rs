//! Filters and pagination of a collection's entries (TAXII 2.1 §3.4):
//! `added_after`, `limit`, `next`, `match[id]`, `match[type]`,
//! `match[version]` (`last` — the default —, `first`, `all` or
//! timestamps), `match[spec_version]` (default: each object's latest).
//!
//! Entries are ordered by their `date_added` in the collection, which the
//! server keeps distinct (microseconds apart), so a page ends at a
//! `date_added` and the next one starts strictly after it — the opaque
//! `next` token carries that point and a fingerprint of the filters, and a
//! token sent with other filters is refused (clients must repeat them).

use std::collections::{BTreeSet, HashMap};

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
        for (k, v) in pairs {
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
                        f.versions.push(match s.as_str() {
                            "last" => VersionSel::Last,
                            "first" => VersionSel::First,
                            "all" => VersionSel::All,
                            t => VersionSel::At(crate::parse_timestamp(t).ok_or_else(|| {
                                ExchangeError::bad(
                                    "match[version]",
                                    format!("{t:?}: expected last, first, all or a timestamp"),
                                )
                            })?),
                        });
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
            f.after = Some(f.resume_point(&token)?);
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

    /// The token that resumes after `date_added`.
    pub fn next_token(&self, date_added: Timestamp) -> String {
        format!("{}-{}", date_added.as_micros(), self.fingerprint())
    }

    fn resume_point(&self, token: &str) -> Result<Timestamp, ExchangeError> {
        let bad = || ExchangeError::bad("next", "not a token this server gave for these filters");
        // The fingerprint is hex, so the last '-' ends the instant (which
        // may be negative).
        let (micros, print) = token.rsplit_once('-').ok_or_else(bad)?;
        if print != self.fingerprint() {
            return Err(bad());
        }
        micros
            .parse::<i64>()
            .map(Timestamp::from_micros)
            .map_err(|_| bad())
    }
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    pub entries: Vec<&'a Entry>,
    pub more: bool,
    pub next: Option<String>,
}

impl Page<'_> {
    /// `X-TAXII-Date-Added-First` and `-Last`.
    pub fn date_added_range(&self) -> Option<(Timestamp, Timestamp)> {
        Some((
            self.entries.first()?.date_added,
            self.entries.last()?.date_added,
        ))
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
    let page: Vec<&Entry> = matching.by_ref().take(filter.limit).collect();
    let more = matching.next().is_some();
    let next = match (more, page.last()) {
        (true, Some(last)) => Some(filter.next_token(last.date_added)),
        _ => None,
    };
    Page {
        entries: page,
        more,
        next,
    }
}

#[cfg(test)]
mod tests;
