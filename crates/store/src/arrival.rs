//! Arrival instants: when rows entered the store, as TAXII shows them
//! (`date_added`) and as botnet events show them (`received_at`).
//!
//! Every row one import writes shares the import's one instant, so an
//! instant tells nothing of how many rows came before or after it. A
//! reader spreads the rows *it may see* over the microseconds after that
//! instant (TAXII needs distinct `date_added` values); the next import's
//! instant leaves room for that spread. The room is rounded up to a power
//! of two milliseconds, at least one ([`MIN_ROOM`] µs), so even two
//! imports committed back to back tell a reader only the order of
//! magnitude of the first one's size.
//!
//! Every import also starts in a millisecond of its own (its first row one
//! microsecond into it, [`own_millisecond`]): TAXII clients that keep
//! `date_added` to milliseconds page by whole milliseconds, and a
//! millisecond a client has read to its end never gains rows.

use isx_domain::Tlp;

/// The least room an import leaves after its instant, in µs: one
/// millisecond (imports start in milliseconds of their own).
pub const MIN_ROOM: i64 = 1000;

/// The instant of an import committed at `now`, after an import at
/// `last` whose readers may spread `span` microseconds after it: at least
/// `last` plus the spread's milliseconds rounded up to a power of two
/// (1, 2, 4 … ms), one microsecond into a millisecond. Imports committed
/// back to back are a whole number of milliseconds apart (`last` is one
/// microsecond into its own), so a busy stream of small imports does not
/// run ahead of the clock faster than one millisecond an import.
pub(crate) fn next_instant(now: i64, last: i64, span: i64) -> i64 {
    let ms = span.max(1).saturating_add(999) / 1000;
    let room = u64::try_from(ms)
        .unwrap_or(1)
        .checked_next_power_of_two()
        .and_then(|r| i64::try_from(r).ok())
        .unwrap_or(i64::MAX / 4_000)
        .saturating_mul(MIN_ROOM);
    own_millisecond(now.max(last.saturating_add(room)))
}

/// The first instant at or after `at` that is one microsecond into a
/// millisecond: a row there shares its millisecond — `(m − 1 ms, m]`, as
/// TAXII pages count them — with no row before `at`.
pub(crate) fn own_millisecond(at: i64) -> i64 {
    let into = at.rem_euclid(1000);
    match into {
        1 => at,
        0 => at.saturating_add(1),
        _ => at.saturating_add(1001 - into),
    }
}

/// Where a URL record sits in the import that last changed it: its place,
/// and how many records of each marking came before it there. A reader
/// that may see the markings `seen` shows the record as the
/// [`UrlArrival::index_among`]-th of the import; the counts are written
/// with the import, so a record that later moves to a newer import leaves
/// the places of the others as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlArrival {
    pub pos: i64,
    /// Counts in the order of [`Tlp::ALL`].
    pub before: [i64; 5],
}

impl UrlArrival {
    /// The record's place among the records of its import a reader who
    /// may see `seen` sees.
    pub fn index_among(&self, seen: &[Tlp]) -> i64 {
        Tlp::ALL
            .iter()
            .zip(self.before)
            .filter(|(t, _)| seen.contains(t))
            .map(|(_, n)| n)
            .sum()
    }

    pub(crate) fn text(&self) -> String {
        self.before
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads `added_ranks` (empty: a row of its own instant, all zero).
    pub(crate) fn parse(pos: i64, text: &str) -> crate::Result<UrlArrival> {
        let mut before = [0i64; 5];
        if !text.is_empty() {
            let parts: Vec<&str> = text.split(',').collect();
            if parts.len() != 5 {
                return Err(crate::StoreError::Corrupt(format!(
                    "url arrival ranks {text:?}"
                )));
            }
            for (slot, p) in before.iter_mut().zip(parts) {
                *slot = crate::rows::parse("url arrival rank", p)?;
            }
        }
        Ok(UrlArrival { pos, before })
    }
}

/// Counts records per marking as an import places them.
///
/// A record of marking `m` under a stricter record of marking `a` (see
/// `isx_urls::merge_levels`) is read by the readers who may see `m` but
/// not `a`: it counts one for `m` and minus one for `a`. A reader's
/// markings are every marking up to its clearance (TLP's order), so its
/// sum counts the record exactly when it reads it.
#[derive(Debug, Default)]
pub(crate) struct Placer {
    pos: i64,
    before: [i64; 5],
}

impl Placer {
    pub(crate) fn place(&mut self, marking: Tlp, above: Option<Tlp>) -> UrlArrival {
        let here = UrlArrival {
            pos: self.pos,
            before: self.before,
        };
        self.pos += 1;
        if let Some(i) = Tlp::ALL.iter().position(|t| *t == marking) {
            self.before[i] += 1;
        }
        if let Some(i) = above.and_then(|a| Tlp::ALL.iter().position(|t| *t == a)) {
            self.before[i] -= 1;
        }
        here
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_a_power_of_two_milliseconds_and_never_less_than_one() {
        // After an import one microsecond into its millisecond, the next
        // starts whole milliseconds later: 1, 2, 4, 8 ms by the spread.
        assert_eq!(next_instant(0, 10_001, 2), 11_001);
        assert_eq!(next_instant(0, 10_001, 1_000), 11_001);
        assert_eq!(next_instant(0, 10_001, 1_001), 12_001);
        assert_eq!(next_instant(0, 10_001, 3_000), 14_001);
        assert_eq!(next_instant(0, 10_001, 4_096), 18_001);
        // After an instant of an earlier release (not 1 µs into its
        // millisecond), the room and then the next millisecond.
        assert_eq!(next_instant(0, 10_000, 2), 11_001);
        // Imports further apart than their room take the clock.
        assert_eq!(next_instant(99_999, 10_001, 2), 100_001);
        assert_eq!(next_instant(100_001, 10_001, 2), 100_001);
        assert!(next_instant(0, i64::MAX - 5, 2) >= i64::MAX - 5);
    }

    #[test]
    fn an_import_starts_in_a_millisecond_of_its_own() {
        // TAXII's milliseconds: (m − 1 ms, m] is millisecond m.
        let ms = |t: i64| (t + 999).div_euclid(1000);
        for at in [
            -2_001,
            -1_000,
            -1,
            0,
            1,
            2,
            999,
            1_000,
            1_001,
            1_999,
            123_456_789,
        ] {
            let own = own_millisecond(at);
            assert!(own >= at && own - at < 1_000, "{at} -> {own}");
            assert_eq!(own.rem_euclid(1_000), 1, "{at} -> {own}");
            // No instant before `at` shares the new import's millisecond.
            assert!(ms(at - 1) < ms(own), "{at} -> {own}");
        }
    }

    #[test]
    fn places_count_only_the_markings_a_reader_sees() {
        let mut p = Placer::default();
        let marks = [Tlp::Clear, Tlp::Red, Tlp::Red, Tlp::Green, Tlp::Clear];
        let placed: Vec<UrlArrival> = marks.iter().map(|m| p.place(*m, None)).collect();
        let seen = [Tlp::Clear, Tlp::Green];
        let shown: Vec<i64> = placed
            .iter()
            .zip(marks)
            .filter(|(_, m)| seen.contains(m))
            .map(|(a, _)| a.index_among(&seen))
            .collect();
        // The two RED records leave no hole for a reader who cannot see them.
        assert_eq!(shown, vec![0, 1, 2]);
        let all: Vec<i64> = placed.iter().map(|a| a.index_among(&Tlp::ALL)).collect();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
        let back = UrlArrival::parse(placed[4].pos, &placed[4].text()).expect("parse");
        assert_eq!(back, placed[4]);
        assert_eq!(
            UrlArrival::parse(7, "")
                .expect("old row")
                .index_among(&seen),
            0
        );
        assert!(UrlArrival::parse(0, "1,2").is_err());
    }

    #[test]
    fn a_record_under_a_stricter_one_counts_only_for_its_readers() {
        // A URL's GREEN record under its RED one, then its RED one, then
        // another URL's GREEN record.
        let mut p = Placer::default();
        let placed = [
            p.place(Tlp::Green, Some(Tlp::Red)),
            p.place(Tlp::Red, None),
            p.place(Tlp::Green, None),
        ];
        let up_to = |top: Tlp| -> Vec<Tlp> { Tlp::ALL.into_iter().filter(|t| *t <= top).collect() };
        // A GREEN reader reads the first and the last: places 0 and 1.
        let green = up_to(Tlp::Green);
        assert_eq!(
            (placed[0].index_among(&green), placed[2].index_among(&green)),
            (0, 1)
        );
        // A RED reader reads the second and the last: 0 and 1, no hole
        // where the record it does not read sits.
        let red = up_to(Tlp::Red);
        assert_eq!(
            (placed[1].index_among(&red), placed[2].index_among(&red)),
            (0, 1)
        );
        let back = UrlArrival::parse(placed[2].pos, &placed[2].text()).expect("parse");
        assert_eq!(back, placed[2]);
    }
}
