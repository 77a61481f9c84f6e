//! Which members an event concerns.
//!
//! CIDR prefixes form a laminar family (two prefixes are nested or
//! disjoint), so the address space splits into intervals on each of which
//! the set of covering prefixes is constant. The matcher stores, per address
//! family, the sorted interval starts and the *interned* member set of each
//! interval — the union of the members of every covering prefix, so an ISP
//! and its customer both receive an event about the customer's network —
//! and finds an address with a 16-bit bucket index plus a binary search
//! inside the bucket. ASNs, countries and domain suffixes (including the
//! ccTLD of a national CERT) are hash lookups to interned sets.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use isx_domain::{Asn, Constituency, CountryCode, MemberId};

/// An index into the matcher's interned member sets; 0 is the empty set.
type SetId = u32;

/// What an event is matched on.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchKey<'a> {
    pub ip: Option<IpAddr>,
    pub asn: Option<Asn>,
    /// The country the IP is located in.
    pub country: Option<CountryCode>,
    /// A hostname or domain (lower case, no trailing dot).
    pub domain: Option<&'a str>,
}

/// Sizes of the built tables (for logs and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatcherStats {
    pub members: usize,
    pub prefixes: usize,
    pub intervals: usize,
    pub sets: usize,
}

/// The constituency matcher. Build it with [`Matcher::build`] whenever
/// constituencies change and swap it in; lookups never allocate when the
/// caller reuses its output buffer.
#[derive(Debug, Clone)]
pub struct Matcher {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
    asns: HashMap<u32, SetId>,
    countries: HashMap<CountryCode, SetId>,
    domains: HashMap<Box<str>, SetId>,
    sets: Vec<Box<[MemberId]>>,
    stats: MatcherStats,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher::build(&[])
    }
}

impl Matcher {
    /// Builds the tables for these members' constituencies.
    pub fn build(members: &[(MemberId, Constituency)]) -> Matcher {
        let mut interner = Interner::default();
        let mut v4: BTreeMap<(u32, std::cmp::Reverse<u32>), Vec<MemberId>> = BTreeMap::new();
        let mut v6: BTreeMap<(u128, std::cmp::Reverse<u128>), Vec<MemberId>> = BTreeMap::new();
        let mut asns: HashMap<u32, Vec<MemberId>> = HashMap::new();
        let mut countries: HashMap<CountryCode, Vec<MemberId>> = HashMap::new();
        let mut domains: HashMap<String, Vec<MemberId>> = HashMap::new();
        let mut prefixes = 0;
        for (member, c) in members {
            for cidr in &c.cidrs {
                prefixes += 1;
                match cidr.net() {
                    IpNet::V4(n) => {
                        let (s, e) = (u32::from(n.network()), u32::from(n.broadcast()));
                        v4.entry((s, std::cmp::Reverse(e)))
                            .or_default()
                            .push(*member);
                    }
                    IpNet::V6(n) => {
                        let (s, e) = (u128::from(n.network()), u128::from(n.broadcast()));
                        v6.entry((s, std::cmp::Reverse(e)))
                            .or_default()
                            .push(*member);
                    }
                }
            }
            for a in &c.asns {
                asns.entry(a.get()).or_default().push(*member);
            }
            for d in &c.domains {
                domains
                    .entry(d.as_str().to_owned())
                    .or_default()
                    .push(*member);
            }
            if let Some(cc) = c.country {
                countries.entry(cc).or_default().push(*member);
                domains.entry(cc.cctld()).or_default().push(*member);
            }
        }
        let v4 = Ranges::build(v4.into_iter().map(|((s, e), m)| (s, e.0, m)), &mut interner);
        let v6 = Ranges::build(v6.into_iter().map(|((s, e), m)| (s, e.0, m)), &mut interner);
        let asns = asns
            .into_iter()
            .map(|(k, m)| (k, interner.intern(m)))
            .collect();
        let countries = countries
            .into_iter()
            .map(|(k, m)| (k, interner.intern(m)))
            .collect();
        let domains = domains
            .into_iter()
            .map(|(k, m)| (k.into_boxed_str(), interner.intern(m)))
            .collect();
        let stats = MatcherStats {
            members: members.len(),
            prefixes,
            intervals: v4.entries.len() + v6.entries.len(),
            sets: interner.sets.len(),
        };
        Matcher {
            v4,
            v6,
            asns,
            countries,
            domains,
            sets: interner.sets,
            stats,
        }
    }

    pub fn stats(&self) -> MatcherStats {
        self.stats
    }

    /// The members whose networks contain `ip` (every covering prefix).
    #[inline]
    pub fn by_ip(&self, ip: IpAddr) -> &[MemberId] {
        match ip {
            IpAddr::V4(a) => self.v4.find(u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.v4.find(u32::from(v4)),
                None => self.v6.find(u128::from(a)),
            },
        }
    }

    /// [`Matcher::by_ip`] for many addresses: `f(i, members)` for each
    /// `ips[i]`. Faster than one at a time on large tables: the memory reads
    /// of a group of lookups are started together and overlap.
    pub fn by_ip_batch<'a>(&'a self, ips: &[IpAddr], mut f: impl FnMut(usize, &'a [MemberId])) {
        self.groups(ips, |ip| Some(*ip), |i, _, members| f(i, members));
    }

    /// Every member the event concerns, sorted and without repeats, into
    /// `out` (cleared first).
    #[inline]
    pub fn recipients_into(&self, key: &MatchKey<'_>, out: &mut Vec<MemberId>) {
        out.clear();
        let by_ip = match key.ip {
            Some(ip) => self.by_ip(ip),
            None => &[],
        };
        self.complete(key, by_ip, out);
    }

    /// [`Matcher::recipients_into`] for many events at once (the address
    /// lookups of a group overlap in memory): `f(i, recipients)` per key.
    pub fn recipients_batch(&self, keys: &[MatchKey<'_>], mut f: impl FnMut(usize, &[MemberId])) {
        let mut out = Vec::new();
        self.groups(
            keys,
            |k| k.ip,
            |i, k, by_ip| {
                if k.asn.is_none() && k.country.is_none() && k.domain.is_none() {
                    // Only the address: its member set as it is, no copy.
                    f(i, by_ip);
                } else {
                    out.clear();
                    self.complete(k, by_ip, &mut out);
                    f(i, &out);
                }
            },
        );
    }

    /// Looks up the addresses of `items` (`ip(item)`) in groups: first
    /// every IPv4 lookup's bucket is found and its entries prefetched, then
    /// each is searched and handed to `found(i, items[i], members)`.
    #[inline]
    fn groups<'a, T>(
        &'a self,
        items: &[T],
        ip: impl Fn(&T) -> Option<IpAddr>,
        mut found: impl FnMut(usize, &T, &'a [MemberId]),
    ) {
        const GROUP: usize = 16;
        for (g, group) in items.chunks(GROUP).enumerate() {
            let mut v4 = [None::<(u32, usize, usize)>; GROUP];
            for (slot, item) in v4.iter_mut().zip(group) {
                let a = match ip(item) {
                    Some(IpAddr::V4(a)) => Some(u32::from(a)),
                    Some(IpAddr::V6(a)) => a.to_ipv4_mapped().map(u32::from),
                    None => None,
                };
                if let Some(a) = a {
                    let (lo, hi) = self.v4.bounds(a);
                    self.v4.prefetch(lo);
                    *slot = Some((a, lo, hi));
                }
            }
            for (k, (slot, item)) in v4.iter().zip(group).enumerate() {
                let members = match (*slot, ip(item)) {
                    (Some((a, lo, hi)), _) => self.v4.members(self.v4.search(a, lo, hi)),
                    (None, Some(other)) => self.by_ip(other),
                    (None, None) => &[],
                };
                found(g * GROUP + k, item, members);
            }
        }
    }

    /// Adds the members found by address, then those of the ASN, country
    /// and domain suffixes; sorted and without repeats.
    #[inline]
    fn complete(&self, key: &MatchKey<'_>, by_ip: &[MemberId], out: &mut Vec<MemberId>) {
        out.extend_from_slice(by_ip);
        if key.asn.is_none() && key.country.is_none() && key.domain.is_none() {
            return;
        }
        self.complete_other(key, !by_ip.is_empty(), out);
    }

    /// The rarer keys: hash lookups to interned sets.
    #[inline(never)]
    fn complete_other(&self, key: &MatchKey<'_>, had_ip: bool, out: &mut Vec<MemberId>) {
        let mut parts = usize::from(had_ip);
        let mut add = |id: Option<&SetId>| {
            let set = id.filter(|&&id| id != 0);
            if let Some(members) = set.and_then(|&id| self.sets.get(id as usize)) {
                out.extend_from_slice(members);
                parts += 1;
            }
        };
        if let Some(a) = key.asn {
            add(self.asns.get(&a.get()));
        }
        if let Some(c) = key.country {
            add(self.countries.get(&c));
        }
        if let Some(d) = key.domain {
            let mut rest = d;
            loop {
                add(self.domains.get(rest));
                match rest.split_once('.') {
                    Some((_, tail)) => rest = tail,
                    None => break,
                }
            }
        }
        if parts > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// [`Matcher::recipients_into`] into a new vector.
    pub fn recipients(&self, key: &MatchKey<'_>) -> Vec<MemberId> {
        let mut out = Vec::new();
        self.recipients_into(key, &mut out);
        out
    }
}

/// Interned member sets: equal sets share one id; the empty set is 0.
struct Interner {
    sets: Vec<Box<[MemberId]>>,
    ids: HashMap<Box<[MemberId]>, SetId>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            sets: vec![Box::new([])],
            ids: HashMap::from([(Box::new([]) as Box<[MemberId]>, 0)]),
        }
    }
}

impl Interner {
    fn intern(&mut self, mut members: Vec<MemberId>) -> SetId {
        members.sort_unstable();
        members.dedup();
        let key = members.into_boxed_slice();
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = SetId::try_from(self.sets.len()).unwrap_or(SetId::MAX);
        self.sets.push(key.clone());
        self.ids.insert(key, id);
        id
    }
}

/// An address type the interval tables work on.
trait Addr: Copy + Ord + std::fmt::Debug {
    const ZERO: Self;
    const MAX: Self;
    fn succ(self) -> Self;
    /// The top 16 bits, for the bucket index.
    fn bucket(self) -> usize;
    fn bucket_start(b: usize) -> Self;
}

impl Addr for u32 {
    const ZERO: Self = 0;
    const MAX: Self = u32::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self) -> usize {
        (self >> 16) as usize
    }
    fn bucket_start(b: usize) -> Self {
        u32::try_from(b).unwrap_or(u32::MAX >> 16) << 16
    }
}

impl Addr for u128 {
    const ZERO: Self = 0;
    const MAX: Self = u128::MAX;
    fn succ(self) -> Self {
        self + 1
    }
    fn bucket(self) -> usize {
        (self >> 112) as usize
    }
    fn bucket_start(b: usize) -> Self {
        (b as u128) << 112
    }
}

/// Members inline in an interval entry: most intervals concern one or two
/// members, so a lookup usually touches one cache line of the table.
const INLINE: usize = 2;

/// One interval: where it starts and the members it concerns — inline
/// when there are at most [`INLINE`], else `overflow[off..off + len]`.
#[derive(Debug, Clone, Copy)]
struct Entry<A> {
    start: A,
    len: u32,
    off: u32,
    inline: [MemberId; INLINE],
}

/// Disjoint intervals covering the whole address space: entry `i` runs
/// from `entries[i].start` to `entries[i + 1].start - 1`.
#[derive(Debug, Clone)]
struct Ranges<A> {
    entries: Vec<Entry<A>>,
    overflow: Vec<MemberId>,
    /// `index[b]`: how many intervals start before bucket `b` (65,537 entries).
    index: Vec<u32>,
}

impl<A: Addr> Ranges<A> {
    /// `prefixes` sorted by start, then by end descending (outer first).
    fn build(
        prefixes: impl Iterator<Item = (A, A, Vec<MemberId>)>,
        interner: &mut Interner,
    ) -> Self {
        let mut b = Sweep {
            starts: vec![A::ZERO],
            sets: vec![0],
            open: Vec::new(),
        };
        for (start, end, members) in prefixes {
            b.close_before(Some(start));
            let mut all = b.open.last().map(|(_, m, _)| m.clone()).unwrap_or_default();
            all.extend(members);
            all.sort_unstable();
            all.dedup();
            let id = interner.intern(all.clone());
            b.emit(start, id);
            b.open.push((end, all, id));
        }
        b.close_before(None);
        let Sweep { starts, sets, .. } = b;
        // Neighbours with the same set merge.
        let mut m_starts = Vec::with_capacity(starts.len());
        let mut m_sets: Vec<SetId> = Vec::with_capacity(sets.len());
        for (s, id) in starts.into_iter().zip(sets) {
            if m_sets.last() != Some(&id) {
                m_starts.push(s);
                m_sets.push(id);
            }
        }
        let mut index = Vec::with_capacity(65_537);
        for b in 0..=65_536usize {
            let n = if b == 65_536 {
                m_starts.len()
            } else {
                m_starts.partition_point(|s| *s < A::bucket_start(b))
            };
            index.push(u32::try_from(n).unwrap_or(u32::MAX));
        }
        let mut overflow = Vec::new();
        let entries = m_starts
            .into_iter()
            .zip(m_sets)
            .map(|(start, id)| {
                let members: &[MemberId] = interner.sets.get(id as usize).map_or(&[], |m| m);
                let mut e = Entry {
                    start,
                    len: u32::try_from(members.len()).unwrap_or(u32::MAX),
                    off: 0,
                    inline: [MemberId(0); INLINE],
                };
                if let Some(inline) = e.inline.get_mut(..members.len()) {
                    inline.copy_from_slice(members);
                } else {
                    e.off = u32::try_from(overflow.len()).unwrap_or(u32::MAX);
                    overflow.extend_from_slice(members);
                }
                e
            })
            .collect();
        Ranges {
            entries,
            overflow,
            index,
        }
    }

    /// The members of the interval that holds `a`.
    #[inline]
    fn find(&self, a: A) -> &[MemberId] {
        let (lo, hi) = self.bounds(a);
        self.members(self.search(a, lo, hi))
    }

    /// The entries of `a`'s bucket: the interval holding `a` is the last
    /// of them that starts at or before `a`, or the one before them.
    #[inline]
    fn bounds(&self, a: A) -> (usize, usize) {
        let b = a.bucket();
        // `index` has an entry for every bucket and one past the last.
        match self.index.get(b..b + 2) {
            Some(&[lo, hi]) => (lo as usize, hi as usize),
            _ => (0, 0),
        }
    }

    #[inline]
    fn search(&self, a: A, lo: usize, hi: usize) -> usize {
        let bucket = self.entries.get(lo..hi).unwrap_or_default();
        // Buckets are short: a scan beats a binary search's mispredictions.
        let k = if bucket.len() <= 8 {
            bucket.iter().take_while(|e| e.start <= a).count()
        } else {
            bucket.partition_point(|e| e.start <= a)
        };
        // entries[0] starts at zero, so an interval always holds `a`.
        (lo + k).saturating_sub(1)
    }

    /// Asks the CPU to start loading the entry at `i` (no effect elsewhere).
    #[inline]
    fn prefetch(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        if let Some(e) = self.entries.get(i) {
            // SAFETY: a prefetch is a hint that never faults and reads no
            // memory into Rust values; SSE is part of the x86_64 baseline.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    (e as *const Entry<A>).cast::<i8>(),
                );
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    #[inline]
    fn members(&self, i: usize) -> &[MemberId] {
        let Some(e) = self.entries.get(i) else {
            return &[];
        };
        let len = e.len as usize;
        match e.inline.get(..len) {
            Some(inline) => inline,
            None => {
                let off = e.off as usize;
                self.overflow.get(off..off + len).unwrap_or_default()
            }
        }
    }
}

/// The state of [`Ranges::build`]'s sweep over the sorted prefixes.
struct Sweep<A> {
    starts: Vec<A>,
    sets: Vec<SetId>,
    /// Open prefixes, innermost last: (end, members of it and its parents, their set).
    open: Vec<(A, Vec<MemberId>, SetId)>,
}

impl<A: Addr> Sweep<A> {
    /// Starts an interval at `at`; a later interval at the same address wins.
    fn emit(&mut self, at: A, set: SetId) {
        if self.starts.last() == Some(&at) {
            if let Some(s) = self.sets.last_mut() {
                *s = set;
            }
        } else {
            self.starts.push(at);
            self.sets.push(set);
        }
    }

    /// Closes the open prefixes that end before `limit` (all, for `None`).
    fn close_before(&mut self, limit: Option<A>) {
        while let Some((end, _, _)) = self.open.last() {
            let end = *end;
            if limit.is_some_and(|l| end >= l) {
                break;
            }
            self.open.pop();
            if end != A::MAX {
                let parent = self.open.last().map_or(0, |(_, _, id)| *id);
                self.emit(end.succ(), parent);
            }
        }
    }
}

#[cfg(test)]
mod tests;
