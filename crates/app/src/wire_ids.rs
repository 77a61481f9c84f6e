//! Opaque ids on the wire. Stored rows are numbered by one counter per
//! table, so the ids a member sees would tell it how many rows it does not
//! see between them (other members' botnet victims, other members'
//! notifications and webhook deliveries, TLP:RED URL records). Rows that
//! are not read in id order (releases, contributions) get random ids when
//! they are stored instead (`isx_store`'s `random_row_id`). What leaves isx is instead a keyed permutation of the
//! stored id: a 52-bit Feistel network (eight rounds of HMAC-SHA-256 under
//! the instance's secret, one tweak per kind of id), so the ids shown look
//! random, give no order and no count, and decode back only on this
//! instance. 52 bits keep them exact JSON numbers in every client.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What an id names: each kind is its own permutation, so an event id
/// says nothing of the notification with the same stored number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    BotnetEvent = 1,
    Notification = 2,
    WebhookDelivery = 3,
    UrlRecord = 4,
}

const HALF: u32 = 26;
const MASK: u64 = (1 << HALF) - 1;
const ROUNDS: u8 = 8;
/// The name of the key among the instance's secrets.
pub const SECRET: &str = "wire-ids";

/// The instance's id permutation.
#[derive(Clone)]
pub struct WireIds {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for WireIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WireIds(..)")
    }
}

impl WireIds {
    pub fn new(secret: &[u8]) -> Self {
        // HMAC takes a key of any length.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        WireIds { mac }
    }

    fn f(&self, kind: IdKind, round: u8, half: u64) -> u64 {
        let mut m = self.mac.clone();
        m.update(&[kind as u8, round]);
        m.update(&half.to_be_bytes());
        let out = m.finalize().into_bytes();
        let mut word = [0u8; 8];
        word.copy_from_slice(out.get(..8).unwrap_or(&[0; 8]));
        u64::from_be_bytes(word) & MASK
    }

    /// The id shown for stored id `id` (ids are below 2^52).
    pub fn encode(&self, kind: IdKind, id: i64) -> i64 {
        let x = (id as u64) & ((1 << (2 * HALF)) - 1);
        let (mut l, mut r) = (x >> HALF, x & MASK);
        for round in 0..ROUNDS {
            (l, r) = (r, l ^ self.f(kind, round, r));
        }
        ((l << HALF) | r) as i64
    }

    /// The stored id behind a shown one; `None` for a value no id encodes
    /// to (negative, or 2^52 and above).
    pub fn decode(&self, kind: IdKind, shown: i64) -> Option<i64> {
        if !(0..(1i64 << (2 * HALF))).contains(&shown) {
            return None;
        }
        let x = shown as u64;
        let (mut l, mut r) = (x >> HALF, x & MASK);
        for round in (0..ROUNDS).rev() {
            (l, r) = (r ^ self.f(kind, round, l), l);
        }
        Some(((l << HALF) | r) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_look_unrelated() {
        let w = WireIds::new(b"a test secret");
        let shown: Vec<i64> = (1..=1000)
            .map(|i| w.encode(IdKind::BotnetEvent, i))
            .collect();
        for (i, s) in (1..=1000).zip(&shown) {
            assert!((0..1 << 52).contains(s));
            assert_eq!(w.decode(IdKind::BotnetEvent, *s), Some(i));
        }
        let distinct: std::collections::BTreeSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), 1000, "a permutation");
        // Consecutive ids do not come out in order, nor close together.
        let ascending = shown.windows(2).filter(|p| p[0] < p[1]).count();
        assert!((350..650).contains(&ascending), "{ascending}");
        assert!(shown.windows(2).all(|p| (p[0] - p[1]).abs() > 1 << 20));
        // Another kind, another key: other ids.
        assert_ne!(w.encode(IdKind::Notification, 1), shown[0]);
        assert_ne!(
            WireIds::new(b"another").encode(IdKind::BotnetEvent, 1),
            shown[0]
        );
        assert_eq!(w.decode(IdKind::BotnetEvent, -1), None);
        assert_eq!(w.decode(IdKind::BotnetEvent, 1 << 52), None);
    }
}
