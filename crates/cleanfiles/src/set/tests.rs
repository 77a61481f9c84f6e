use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn build(dir: &Path, name: &str, keys: &BTreeSet<Vec<u8>>, key_len: usize) -> SetFile {
    let path = dir.join(name);
    write_sorted(
        &path,
        key_len,
        keys.len() as u64,
        7,
        keys.iter().map(Vec::as_slice),
    )
    .unwrap();
    SetFile::open(&path).unwrap()
}

fn key_strategy(key_len: usize) -> impl Strategy<Value = Vec<u8>> {
    // A narrow first byte crowds keys into few buckets; the rest random.
    (0u8..4, proptest::collection::vec(any::<u8>(), key_len - 1)).prop_map(|(a, mut rest)| {
        rest.insert(0, a.wrapping_mul(61));
        rest
    })
}

fn crowded_key() -> impl Strategy<Value = Vec<u8>> {
    // First byte: one of three buckets' worth; bytes 8–9 (the
    // fingerprint): one of four values.
    (0u8..3, 0u8..4, proptest::collection::vec(any::<u8>(), 17)).prop_map(|(a, f, rest)| {
        let mut k = vec![a.wrapping_mul(0x7f), 0, 0, 0, 0, 0, 0, 0, f, 0];
        k[1..8].copy_from_slice(&rest[..7]);
        k.extend_from_slice(&rest[7..]);
        k
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn answers_like_a_btreeset(
        (key_len, keys, probes) in prop::sample::select(vec![16usize, 20, 32]).prop_flat_map(|kl| (
            Just(kl),
            proptest::collection::btree_set(key_strategy(kl), 0..600),
            proptest::collection::vec(key_strategy(kl), 0..300),
        )),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let set = build(dir.path(), "s.set", &keys, key_len);
        let view = set.view();
        prop_assert_eq!(view.len(), keys.len() as u64);
        prop_assert_eq!(view.seq(), 7);
        let mut queries: Vec<Vec<u8>> = keys.iter().step_by(3).cloned().collect();
        queries.extend(probes);
        let flat: Vec<u8> = queries.concat();
        let mut many = Vec::new();
        view.contains_many(&flat, &mut many);
        prop_assert_eq!(many.len(), queries.len());
        for (q, m) in queries.iter().zip(&many) {
            let want = keys.contains(q);
            prop_assert_eq!(view.contains(q), want);
            prop_assert_eq!(*m, want);
        }
        prop_assert!(view.iter().map(<[u8]>::to_vec).eq(keys.iter().cloned()));
    }

    /// Keys crowded into few buckets and few fingerprints: overfull
    /// buckets, runs of equal fingerprints, and fingerprint matches of
    /// keys that are not there.
    #[test]
    fn answers_like_a_btreeset_when_fingerprints_collide(
        keys in proptest::collection::btree_set(crowded_key(), 0..400),
        probes in proptest::collection::vec(crowded_key(), 0..200),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let set = build(dir.path(), "c.set", &keys, 20);
        let view = set.view();
        let queries: Vec<Vec<u8>> = keys.iter().cloned().chain(probes).collect();
        let mut many = Vec::new();
        view.contains_many(&queries.concat(), &mut many);
        for (q, m) in queries.iter().zip(&many) {
            let want = keys.contains(q);
            prop_assert_eq!(view.contains(q), want);
            prop_assert_eq!(*m, want);
        }
    }

    /// The header's checksum does not cover the bucket table: whatever
    /// its bytes become, a lookup neither panics nor finds a key that is
    /// not in the file.
    #[test]
    fn a_damaged_table_never_invents_a_member(
        keys in proptest::collection::btree_set(crowded_key(), 1..300),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40),
        probes in proptest::collection::vec(crowded_key(), 0..100),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.set");
        write_sorted(&path, 20, 0, 1, keys.iter().map(Vec::as_slice)).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let table = HEADER + padded(keys.len() * 20);
        let end = bytes.len() - FOOTER;
        for (at, value) in damage {
            bytes[table + at.index(end - table)] = value;
        }
        std::fs::write(&path, &bytes).unwrap();
        let set = SetFile::open(&path).unwrap();
        let view = set.view();
        let queries: Vec<Vec<u8>> = keys.iter().cloned().chain(probes).collect();
        let mut many = Vec::new();
        view.contains_many(&queries.concat(), &mut many);
        for (q, m) in queries.iter().zip(&many) {
            if !keys.contains(q) {
                prop_assert!(!*m);
                prop_assert!(!view.contains(q));
            }
        }
    }

    #[test]
    fn merge_equals_set_arithmetic(
        old in proptest::collection::btree_set(key_strategy(20), 0..200),
        added in proptest::collection::btree_set(key_strategy(20), 0..100),
        removed_from_old in proptest::collection::vec(any::<prop::sample::Index>(), 0..50),
        removed_new in proptest::collection::btree_set(key_strategy(20), 0..20),
    ) {
        let old_v: Vec<Vec<u8>> = old.iter().cloned().collect();
        let mut removed: BTreeSet<Vec<u8>> = removed_new;
        if !old_v.is_empty() {
            for i in removed_from_old {
                removed.insert(old_v[i.index(old_v.len())].clone());
            }
        }
        let added_v: Vec<Vec<u8>> = added.iter().cloned().collect();
        let removed_v: Vec<Vec<u8>> = removed.iter().cloned().collect();
        let got: Vec<Vec<u8>> = merge(old_v.iter().map(Vec::as_slice), &added_v, &removed_v)
            .map(<[u8]>::to_vec)
            .collect();
        let want: Vec<Vec<u8>> = old.union(&added).filter(|k| !removed.contains(*k)).cloned().collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn unfinished_and_damaged_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let keys: BTreeSet<Vec<u8>> = (0u32..1000)
        .map(|i| {
            let mut k = vec![0u8; 32];
            k[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
            k
        })
        .collect();
    let path = dir.path().join("a.set");
    write_sorted(&path, 32, 1000, 1, keys.iter().map(Vec::as_slice)).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // A writer that never finished: no header, no footer.
    let p = dir.path().join("unfinished.set");
    let mut w = SetWriter::create(&p, 32, 1000, 1).unwrap();
    for k in keys.iter().take(10) {
        w.push(k).unwrap();
    }
    drop(w);
    assert!(matches!(SetFile::open(&p), Err(SetError::Invalid { .. })));

    // Truncated.
    let p = dir.path().join("short.set");
    std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    assert!(matches!(SetFile::open(&p), Err(SetError::Invalid { .. })));

    // A flipped header byte.
    let mut bad = bytes.clone();
    bad[20] ^= 1;
    let p = dir.path().join("flipped.set");
    std::fs::write(&p, &bad).unwrap();
    assert!(matches!(SetFile::open(&p), Err(SetError::Invalid { .. })));

    assert!(SetFile::open(&path).is_ok());
}

#[test]
fn writer_refuses_unsorted_or_repeated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = SetWriter::create(&dir.path().join("x.set"), 16, 10, 0).unwrap();
    w.push(&[5u8; 16]).unwrap();
    assert!(matches!(w.push(&[5u8; 16]), Err(SetError::Unsorted)));
    assert!(matches!(w.push(&[4u8; 16]), Err(SetError::Unsorted)));
    assert!(matches!(w.push(&[6u8; 20]), Err(SetError::Unsorted)));
}

#[test]
fn empty_set_answers_no() {
    let dir = tempfile::tempdir().unwrap();
    let set = build(dir.path(), "e.set", &BTreeSet::new(), 32);
    assert!(set.view().is_empty());
    assert!(!set.view().contains(&[0u8; 32]));
    let mut out = Vec::new();
    set.view().contains_many(&[0u8; 64], &mut out);
    assert_eq!(out, vec![false, false]);
}

#[test]
fn the_all_zero_key_is_an_ordinary_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys: BTreeSet<Vec<u8>> = [vec![0u8; 16], vec![1u8; 16], vec![0xffu8; 16]].into();
    let set = build(dir.path(), "z.set", &keys, 16);
    let v = set.view();
    assert!(v.contains(&[0u8; 16]));
    assert!(v.contains(&[0xffu8; 16]));
    assert!(!v.contains(&[2u8; 16]));
    assert_eq!(v.iter().map(<[u8]>::to_vec).collect::<BTreeSet<_>>(), keys);
    let without: BTreeSet<Vec<u8>> = [vec![1u8; 16]].into();
    let set = build(dir.path(), "nz.set", &without, 16);
    assert!(!set.view().contains(&[0u8; 16]));
    let mut out = Vec::new();
    set.view()
        .contains_many(&[[0u8; 16], [1u8; 16]].concat(), &mut out);
    assert_eq!(out, vec![false, true]);
}

/// Keys whose first eight bytes put them in the given buckets of a
/// 1,000-key set (63 buckets).
fn keys_in(first_bytes: &[u8], n: u32) -> BTreeSet<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut k = vec![0u8; 32];
            k[0] = first_bytes[i as usize % first_bytes.len()];
            k[4..8].copy_from_slice(&i.to_be_bytes());
            k[8..12].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
            k
        })
        .collect()
}

#[test]
fn overfull_buckets_at_the_start_middle_and_end_are_searched_whole() {
    let dir = tempfile::tempdir().unwrap();
    // All in the first bucket; all in one middle bucket with empty ones
    // after it; all in the last bucket.
    for (name, first) in [
        ("first", &[0u8][..]),
        ("middle", &[0x80]),
        ("last", &[0xff]),
        ("mixed", &[0, 0x80, 0xff]),
    ] {
        let keys = keys_in(first, 1000);
        let set = build(dir.path(), name, &keys, 32);
        let v = set.view();
        let mut absent: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| {
                let mut a = k.clone();
                a[31] ^= 1;
                a
            })
            .collect();
        absent.push(vec![0x40; 32]);
        for k in &keys {
            assert!(v.contains(k), "{name}: member {k:02x?}");
        }
        for k in &absent {
            assert!(!v.contains(k), "{name}: non-member {k:02x?}");
        }
        let mut out = Vec::new();
        v.contains_many(
            &keys
                .iter()
                .chain(&absent)
                .cloned()
                .collect::<Vec<_>>()
                .concat(),
            &mut out,
        );
        assert_eq!(out.iter().filter(|b| **b).count(), keys.len(), "{name}");
        assert!(out[..keys.len()].iter().all(|b| *b), "{name}");
    }
}

#[test]
fn a_set_of_the_older_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.set");
    let mut bytes = vec![0u8; 128];
    bytes[..8].copy_from_slice(b"ISXHSET2");
    std::fs::write(&path, &bytes).unwrap();
    match SetFile::open(&path) {
        Err(SetError::Invalid { reason, .. }) => assert!(reason.contains("format 2"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_damaged_bucket_table_gives_no_false_member_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_in(&[0, 0x33, 0x80, 0xc0, 0xff], 1000);
    let path = dir.path().join("d.set");
    write_sorted(&path, 32, 1000, 1, keys.iter().map(Vec::as_slice)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // The table sits between the keys and the footer; the header's
    // checksum does not cover it. Scramble every line's start and length.
    let table = HEADER + padded(1000 * 32);
    let end = bytes.len() - FOOTER;
    for line in bytes[table..end].chunks_mut(LINE) {
        line[..6].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f, 0xff, 0xff]);
    }
    std::fs::write(&path, &bytes).unwrap();
    let set = SetFile::open(&path).unwrap();
    let v = set.view();
    let probes: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| {
            let mut a = k.clone();
            a[20] ^= 0x55;
            a
        })
        .collect();
    let mut out = Vec::new();
    v.contains_many(&probes.concat(), &mut out);
    assert!(out.iter().all(|b| !*b));
    assert!(probes.iter().all(|p| !v.contains(p)));
    for k in &keys {
        let _ = v.contains(k);
    }
}
