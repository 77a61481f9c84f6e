//! The cadence of feed files: fixed slots (every 3 hours by default,
//! aligned to midnight UTC) and the rolling window of the full set.

use isx_domain::Timestamp;

/// When feed files are due and what the full set covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedSchedule {
    /// Seconds between slots; a divisor of a day keeps slots at the same
    /// times every day (3 h → 00:00, 03:00, … UTC).
    pub interval_secs: i64,
    /// The full set holds records seen in this many seconds before a slot.
    pub window_secs: i64,
}

impl Default for FeedSchedule {
    fn default() -> Self {
        FeedSchedule {
            interval_secs: 3 * 3600,
            window_secs: 5 * 86_400,
        }
    }
}

impl FeedSchedule {
    /// The latest slot at or before `t`.
    pub fn slot_at_or_before(&self, t: Timestamp) -> Timestamp {
        let i = self.interval_secs.max(1);
        Timestamp::from_secs(t.as_secs().div_euclid(i) * i)
    }

    /// The slots to produce now, oldest first: every slot after `last_done`
    /// up to the latest one at or before `now` (a restart produces what it
    /// missed), at most `max_catch_up` of them (the newest; older ones are
    /// returned in the second value as skipped). A new instance produces
    /// only the current slot.
    pub fn due_slots(
        &self,
        last_done: Option<Timestamp>,
        now: Timestamp,
        max_catch_up: usize,
    ) -> (Vec<Timestamp>, usize) {
        let latest = self.slot_at_or_before(now);
        let Some(last) = last_done else {
            return (vec![latest], 0);
        };
        let mut due = Vec::new();
        let mut s = self.slot_at_or_before(last).add_secs(self.interval_secs);
        while s <= latest {
            due.push(s);
            s = s.add_secs(self.interval_secs);
        }
        let skipped = due.len().saturating_sub(max_catch_up.max(1));
        (due.split_off(skipped), skipped)
    }

    /// The start of the full set's window for `slot`.
    pub fn window_start(&self, slot: Timestamp) -> Timestamp {
        slot.add_secs(-self.window_secs)
    }
}

/// The compact UTC form used in file names: `20261123T0900Z`.
pub fn slot_label(slot: Timestamp) -> String {
    let s = slot.to_rfc3339(); // 2026-11-23T09:00:00Z
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 12 {
        format!("{}T{}Z", &digits[..8], &digits[8..12])
    } else {
        format!("{}", slot.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn slots_are_aligned_to_three_hours_utc() {
        let s = FeedSchedule::default();
        assert_eq!(
            s.slot_at_or_before(at("2026-11-23T10:59:59Z")),
            at("2026-11-23T09:00:00Z")
        );
        assert_eq!(
            s.slot_at_or_before(at("2026-11-23T09:00:00Z")),
            at("2026-11-23T09:00:00Z")
        );
        assert_eq!(slot_label(at("2026-11-23T09:00:00Z")), "20261123T0900Z");
    }

    #[test]
    fn a_restart_produces_the_missed_slots_once_each() {
        let s = FeedSchedule::default();
        let (due, skipped) = s.due_slots(None, at("2026-11-23T10:00:00Z"), 40);
        assert_eq!((due, skipped), (vec![at("2026-11-23T09:00:00Z")], 0));
        let (due, _) = s.due_slots(
            Some(at("2026-11-23T09:00:00Z")),
            at("2026-11-23T11:00:00Z"),
            40,
        );
        assert!(due.is_empty(), "nothing twice");
        let (due, skipped) = s.due_slots(
            Some(at("2026-11-23T03:00:00Z")),
            at("2026-11-23T13:30:00Z"),
            40,
        );
        assert_eq!(
            due,
            vec![
                at("2026-11-23T06:00:00Z"),
                at("2026-11-23T09:00:00Z"),
                at("2026-11-23T12:00:00Z")
            ]
        );
        assert_eq!(skipped, 0);
        let (due, skipped) = s.due_slots(
            Some(at("2026-11-01T00:00:00Z")),
            at("2026-11-23T00:00:00Z"),
            8,
        );
        assert_eq!(due.len(), 8);
        assert_eq!(due.last(), Some(&at("2026-11-23T00:00:00Z")));
        assert_eq!(skipped, 22 * 8 - 8);
    }
}
