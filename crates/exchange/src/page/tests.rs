use proptest::prelude::*;

use super::*;

fn entry(id: &str, version: i64, spec: &str, added: i64) -> Entry {
    Entry {
        id: id.to_owned(),
        object_type: id.split("--").next().unwrap_or_default().to_owned(),
        version: Timestamp::from_secs(version),
        spec_version: spec.to_owned(),
        date_added: Timestamp::from_micros(added),
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ids(p: &Page<'_>) -> Vec<(String, i64)> {
    p.entries
        .iter()
        .map(|e| (e.id.clone(), e.version.as_secs()))
        .collect()
}

fn sample() -> Vec<Entry> {
    vec![
        entry("indicator--a", 100, "2.1", 1),
        entry("indicator--b", 100, "2.1", 2),
        entry("indicator--a", 200, "2.1", 3),
        entry("malware--m", 50, "2.1", 4),
        entry("indicator--a", 300, "2.1", 5),
        entry("sighting--s", 10, "2.0", 6),
        entry("sighting--s", 20, "2.1", 7),
    ]
}

#[test]
fn defaults_give_each_objects_latest_version_in_date_added_order() {
    let e = sample();
    let p = select(&e, &Filter::from_query(&[], 100).unwrap());
    assert_eq!(
        ids(&p),
        vec![
            ("indicator--b".into(), 100),
            ("malware--m".into(), 50),
            ("indicator--a".into(), 300),
            ("sighting--s".into(), 20)
        ]
    );
    assert!(!p.more);
    assert_eq!(p.next, None);
}

#[test]
fn version_and_type_and_spec_filters() {
    let e = sample();
    let f = Filter::from_query(
        &q(&[("match[version]", "first"), ("match[type]", "indicator")]),
        100,
    )
    .unwrap();
    assert_eq!(
        ids(&select(&e, &f)),
        vec![("indicator--a".into(), 100), ("indicator--b".into(), 100)]
    );
    let f = Filter::from_query(
        &q(&[("match[version]", "all"), ("match[id]", "indicator--a")]),
        100,
    )
    .unwrap();
    assert_eq!(select(&e, &f).entries.len(), 3);
    let at = Timestamp::from_secs(200).to_rfc3339();
    let f = Filter::from_query(&q(&[("match[version]", &format!("first,{at}"))]), 100).unwrap();
    assert!(ids(&select(&e, &f)).contains(&("indicator--a".into(), 200)));
    let f = Filter::from_query(&q(&[("match[spec_version]", "2.0")]), 100).unwrap();
    assert_eq!(ids(&select(&e, &f)), vec![("sighting--s".into(), 10)]);
    let f = Filter::from_query(
        &q(&[("added_after", &Timestamp::from_micros(4).to_rfc3339())]),
        100,
    )
    .unwrap();
    assert_eq!(
        ids(&select(&e, &f)),
        vec![("indicator--a".into(), 300), ("sighting--s".into(), 20)]
    );
}

#[test]
fn bad_parameters_are_named() {
    for (k, v) in [
        ("limit", "0"),
        ("limit", "ten"),
        ("added_after", "yesterday"),
        ("match[version]", "newest"),
        ("next", "garbage"),
    ] {
        match Filter::from_query(&q(&[(k, v)]), 100) {
            Err(ExchangeError::BadParameter { parameter, .. }) => assert_eq!(parameter, k),
            other => panic!("{k}={v}: {other:?}"),
        }
    }
}

#[test]
fn a_token_is_refused_with_other_filters() {
    let e = sample();
    let f = Filter::from_query(&q(&[("limit", "2")]), 100).unwrap();
    let p = select(&e, &f);
    let token = p.next.clone().unwrap();
    assert!(
        Filter::from_query(&q(&[("next", &token), ("limit", "5")]), 100).is_ok(),
        "page size may change"
    );
    assert!(Filter::from_query(&q(&[("next", &token), ("match[type]", "malware")]), 100).is_err());
}

/// A collection from generated (object, version, old spec) triples, each
/// added 7 µs after the one before.
fn generated(versions: &[(u8, i64, bool)]) -> Vec<Entry> {
    versions
        .iter()
        .enumerate()
        .map(|(i, (obj, v, old_spec))| {
            let t = ["indicator", "malware", "sighting"][(*obj % 3) as usize];
            entry(
                &format!("{t}--{obj}"),
                *v,
                if *old_spec { "2.0" } else { "2.1" },
                i as i64 * 7 + 1,
            )
        })
        .collect()
}

proptest! {
    /// Paging with `next` (any page size) yields exactly the unpaged
    /// result, in order, nothing twice; pages never exceed the limit.
    #[test]
    fn paging_covers_the_result_exactly(
        versions in proptest::collection::vec((0u8..12, 0i64..5, any::<bool>()), 0..80),
        limit in 1usize..9,
        kind in prop::sample::select(vec!["", "indicator", "malware,sighting"]),
        version in prop::sample::select(vec!["last", "first", "all"]),
    ) {
        let entries = generated(&versions);
        let mut base = vec![("match[version]", version)];
        if !kind.is_empty() {
            base.push(("match[type]", kind));
        }
        let all = select(&entries, &Filter::from_query(&q(&base), 10_000).unwrap());
        let mut paged: Vec<&Entry> = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut params = base.clone();
            let l = limit.to_string();
            params.push(("limit", &l));
            let token;
            if let Some(n) = &next {
                token = n.clone();
                params.push(("next", &token));
            }
            let p = select(&entries, &Filter::from_query(&q(&params), 10_000).unwrap());
            prop_assert!(p.entries.len() <= limit);
            paged.extend(p.entries.iter().copied());
            prop_assert_eq!(p.more, p.next.is_some());
            match p.next {
                Some(n) => next = Some(n),
                None => break,
            }
        }
        prop_assert_eq!(paged, all.entries);
    }

    /// Reading in windows (any size) and asking `select_window` gives
    /// exactly the page `select` gives over the whole collection.
    #[test]
    fn windows_give_the_same_pages(
        versions in proptest::collection::vec((0u8..12, 0i64..5, any::<bool>()), 0..80),
        limit in 1usize..9,
        first_window in 1usize..12,
        after in prop::option::of(0i64..600),
        kind in prop::sample::select(vec!["", "indicator", "malware,sighting"]),
        version in prop::sample::select(vec!["last", "first", "all"]),
    ) {
        let entries = generated(&versions);
        let l = limit.to_string();
        let mut params = vec![("match[version]", version), ("limit", l.as_str())];
        if !kind.is_empty() {
            params.push(("match[type]", kind));
        }
        let stamp;
        if let Some(a) = after {
            stamp = crate::taxii_timestamp(Timestamp::from_micros(a));
            params.push(("added_after", stamp.as_str()));
        }
        let filter = Filter::from_query(&q(&params), 10_000).unwrap();
        let whole = select(&entries, &filter);
        let start = after.map(Timestamp::from_micros);
        let mut window = first_window;
        loop {
            let rows: Vec<&Entry> = entries
                .iter()
                .filter(|e| start.is_none_or(|s| e.date_added > s))
                .take(window)
                .collect();
            let end = (rows.len() == window).then(|| rows[rows.len() - 1].date_added);
            let ids: std::collections::BTreeSet<&str> = rows.iter().map(|e| e.id.as_str()).collect();
            let of_ids: Vec<Entry> = entries.iter().filter(|e| ids.contains(e.id.as_str())).cloned().collect();
            if let Some(p) = select_window(&of_ids, &filter, end) {
                prop_assert_eq!(&p.entries, &whole.entries);
                prop_assert_eq!(p.more, whole.more);
                prop_assert_eq!(p.next, whole.next);
                break;
            }
            prop_assert!(end.is_some(), "an exhausted window always decides");
            window *= 2;
        }
    }
}

#[test]
fn a_token_alone_continues_its_query() {
    let e = sample();
    let f = Filter::from_query(&q(&[("limit", "1"), ("match[type]", "indicator")]), 100).unwrap();
    let first = select(&e, &f);
    let token = first.next.clone().unwrap();
    // Elastic's TAXII input sends `next` (and `limit`) only.
    let alone = Filter::from_query(&q(&[("next", &token), ("limit", "10")]), 100).unwrap();
    assert_eq!(alone.types, vec!["indicator".to_owned()]);
    let rest = select(&e, &alone);
    assert_eq!(ids(&rest), vec![("indicator--a".into(), 300)]);
    // OpenCTI repeats the filters: the same ones are accepted…
    let repeated =
        Filter::from_query(&q(&[("next", &token), ("match[type]", "indicator")]), 100).unwrap();
    assert_eq!(ids(&select(&e, &repeated)), ids(&rest));
    // …other ones are refused, and so is a forged token.
    assert!(Filter::from_query(&q(&[("next", &token), ("match[type]", "malware")]), 100).is_err());
    let forged = format!("{}x", token);
    assert!(Filter::from_query(&q(&[("next", &forged)]), 100).is_err());
    // Instants no timestamp gives, and a token selecting no versions.
    use base64::Engine as _;
    let enc = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    for bad in [
        format!("9223372036854775807~{}", enc(r#"{"a":null,"v":["last"]}"#)),
        format!("-9223372036854775807~{}", enc(r#"{"a":null,"v":["last"]}"#)),
        format!("5~{}", enc(r#"{"a":9223372036854775807,"v":["last"]}"#)),
        format!("5~{}", enc(r#"{"a":null,"v":[]}"#)),
        format!("5~{}", enc(r#"{"a":null,"v":["newest"]}"#)),
        format!("5~{}", enc(r#"{"a":null,"v":["last"],"z":1}"#)),
    ] {
        assert!(
            Filter::from_query(&q(&[("next", &bad)]), 100).is_err(),
            "{bad}"
        );
    }
    // The earlier token form, `{instant}-{fingerprint}`, still resumes.
    let legacy = format!("{}-{}", 2, f.fingerprint());
    let g =
        Filter::from_query(&q(&[("next", &legacy), ("match[type]", "indicator")]), 100).unwrap();
    assert_eq!(g.after, Some(Timestamp::from_micros(2)));
}

#[test]
fn a_page_ends_with_a_whole_millisecond_when_it_can() {
    // Three entries in millisecond 1 (0.2, 0.5, 0.9 ms), two in 2.
    let e: Vec<Entry> = [200, 500, 900, 1_100, 1_400]
        .iter()
        .enumerate()
        .map(|(i, us)| entry(&format!("indicator--{i}"), 1, "2.1", *us))
        .collect();
    let p = select(&e, &Filter::from_query(&q(&[("limit", "4")]), 100).unwrap());
    assert_eq!(p.entries.len(), 3, "the fourth would split millisecond 2");
    assert!(p.more && p.sealed);
    assert_eq!(p.date_added_last(), Some(Timestamp::from_micros(1_000)));
    // A millisecond longer than the page: `next` pages it, the header is exact.
    let p = select(&e, &Filter::from_query(&q(&[("limit", "2")]), 100).unwrap());
    assert_eq!(p.entries.len(), 2);
    assert!(!p.sealed);
    assert_eq!(p.date_added_last(), Some(Timestamp::from_micros(500)));
    // The end of the collection is sealed.
    let p = select(&e, &Filter::from_query(&q(&[("limit", "9")]), 100).unwrap());
    assert!(!p.more && p.sealed);
    assert_eq!(p.date_added_last(), Some(Timestamp::from_micros(2_000)));
}

/// Entries whose `date_added` values cluster: each gap is 1–3 µs (the same
/// millisecond) or 1–3 ms.
fn clustered(gaps: &[(u8, bool)]) -> Vec<Entry> {
    let mut at = 1_000_000i64;
    gaps.iter()
        .enumerate()
        .map(|(i, (obj, far))| {
            at += if *far {
                1_000 * (i64::from(*obj % 3) + 1)
            } else {
                i64::from(*obj % 3) + 1
            };
            let t = ["indicator", "malware", "sighting"][(*obj % 3) as usize];
            entry(&format!("{t}--{i}"), 1, "2.1", at)
        })
        .collect()
}

/// The first entry at or after `split` that starts a later millisecond
/// than the one before it (where a later import may begin).
fn import_at(gaps: &[(u8, bool)], split: usize) -> usize {
    (split..gaps.len())
        .find(|i| gaps[*i].1)
        .unwrap_or(gaps.len())
}

/// Millisecond truncation, as `new Date(header).toISOString()` does.
fn truncated(t: Timestamp) -> String {
    crate::taxii_timestamp(Timestamp::from_micros(
        t.as_micros().div_euclid(1000) * 1000,
    ))
}

/// The page the header and body of `select` give.
fn poll<'a>(entries: &'a [Entry], params: &[(&str, &str)]) -> Page<'a> {
    select(entries, &Filter::from_query(&q(params), 10_000).unwrap())
}

proptest! {
    /// OpenCTI's TAXII feed: `next` while there is more (repeating
    /// `added_after`), then `added_after` from the last header truncated
    /// to milliseconds. Every entry once, and a poll after the end gets
    /// nothing — whatever the clustering and the page size.
    #[test]
    fn opencti_polling_gets_each_entry_once(
        gaps in proptest::collection::vec((0u8..9, any::<bool>()), 0..120),
        limit in 1usize..9,
        kind in prop::sample::select(vec!["", "indicator", "malware,sighting"]),
        split in 0usize..120,
    ) {
        let all = clustered(&gaps);
        let l = limit.to_string();
        let mut got: Vec<String> = Vec::new();
        let mut added_after: Option<String> = None;
        let mut cursor: Option<String> = None;
        let mut requests = 0;
        // The collection grows between polls: the entries before a later
        // import (which starts in a millisecond of its own, as the store
        // starts every import), then all of them.
        for visible in [import_at(&gaps, split), all.len(), all.len()] {
            let entries = &all[..visible];
            loop {
                requests += 1;
                prop_assert!(requests < 1_000, "endless polling");
                let mut params = vec![("limit", l.as_str())];
                if !kind.is_empty() { params.push(("match[type]", kind)); }
                if let Some(a) = &added_after { params.push(("added_after", a)); }
                if let Some(c) = &cursor { params.push(("next", c)); }
                let p = poll(entries, &params);
                if p.entries.is_empty() {
                    cursor = None;
                    break;
                }
                got.extend(p.entries.iter().map(|e| e.id.clone()));
                if p.more && p.next.is_some() {
                    cursor = p.next.clone();
                } else {
                    cursor = None;
                    added_after = p.date_added_last().map(truncated);
                    break;
                }
            }
        }
        // (An empty `match[type]` selects every type.)
        let want: Vec<String> = poll(&all, &[("match[type]", kind)])
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect();
        prop_assert_eq!(got, want);
    }

    /// Elastic's TAXII input: `next` alone (with `limit`) while there is
    /// more; the cursor is the last header, kept as sent (an empty page
    /// keeps it).
    #[test]
    fn elastic_polling_gets_each_entry_once(
        gaps in proptest::collection::vec((0u8..9, any::<bool>()), 0..120),
        limit in 1usize..9,
        split in 0usize..120,
    ) {
        let all = clustered(&gaps);
        let l = limit.to_string();
        let mut got: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut next: Option<String> = None;
        let mut requests = 0;
        for visible in [import_at(&gaps, split), all.len(), all.len()] {
            let entries = &all[..visible];
            loop {
                requests += 1;
                prop_assert!(requests < 1_000, "endless polling");
                let mut params = vec![("limit", l.as_str())];
                match (&next, &cursor) {
                    (Some(n), _) => params.push(("next", n)),
                    (None, Some(c)) => params.push(("added_after", c)),
                    (None, None) => {}
                }
                let p = poll(entries, &params);
                got.extend(p.entries.iter().map(|e| e.id.clone()));
                if let Some(last) = p.date_added_last() {
                    cursor = Some(crate::taxii_timestamp(last));
                }
                next = p.next.clone();
                if next.is_none() {
                    break;
                }
            }
        }
        prop_assert_eq!(got, all.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
    }

    /// A client that ignores `next` and pages by `added_after` from the
    /// header, truncated to milliseconds: exact whenever no millisecond
    /// holds more entries than a page.
    #[test]
    fn paging_by_truncated_headers_alone_is_exact(
        gaps in proptest::collection::vec((0u8..9, any::<bool>()), 0..120),
        limit in 3usize..9,
    ) {
        let all = clustered(&gaps);
        // The most entries one millisecond holds: a run of near gaps.
        let mut run = 0;
        let mut widest = 0;
        for (_, far) in &gaps {
            run = if *far { 1 } else { run + 1 };
            widest = widest.max(run);
        }
        prop_assume!(widest <= limit);
        let l = limit.to_string();
        let mut got: Vec<String> = Vec::new();
        let mut added_after: Option<String> = None;
        let mut requests = 0;
        loop {
            requests += 1;
            prop_assert!(requests < 1_000, "endless polling");
            let mut params = vec![("limit", l.as_str())];
            if let Some(a) = &added_after { params.push(("added_after", a)); }
            let p = poll(&all, &params);
            got.extend(p.entries.iter().map(|e| e.id.clone()));
            if !p.more {
                break;
            }
            added_after = p.date_added_last().map(truncated);
        }
        prop_assert_eq!(got, all.iter().map(|e| e.id.clone()).collect::<Vec<_>>());
    }
}

#[test]
fn a_partial_page_pages_on_after_what_was_read() {
    let e = sample();
    // Read up to the fourth entry: two objects' last versions so far.
    let f = Filter::from_query(&q(&[("match[type]", "malware")]), 100).unwrap();
    let p = partial_page(&e, &f, Timestamp::from_micros(3));
    assert!(p.entries.is_empty() && p.more);
    let token = p.next.clone().unwrap();
    let rest = Filter::from_query(&q(&[("next", &token)]), 100).unwrap();
    assert_eq!(rest.after, Some(Timestamp::from_micros(3)));
    assert_eq!(ids(&select(&e, &rest)), vec![("malware--m".into(), 50)]);
}
