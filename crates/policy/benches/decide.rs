//! Decisions per second of the one policy function, on a realistic mix of
//! principals and records (embargoed advisories, group content, victim data).
//!
//! Run: `cargo bench -p isx-policy --bench decide`

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use isx_domain::{Clearance, GroupId, MemberId, Tier, Timestamp, Tlp};
use isx_policy::{decide, Audience, Embargo, Principal, RecordMeta};

fn main() {
    divan::main();
}

const T: Timestamp = Timestamp::from_secs(1_800_000_000);

fn principals() -> Vec<Principal> {
    (0..64)
        .map(|i| {
            let tier = Tier::ALL[i as usize % Tier::ALL.len()];
            let groups = (0..(i % 6)).map(|g| GroupId((i + g) % 20)).collect();
            Principal::member(
                MemberId(i),
                false,
                tier,
                Clearance::ALL[i as usize % 4],
                groups,
            )
        })
        .collect()
}

fn records() -> Vec<RecordMeta> {
    (0..256)
        .map(|i| {
            let audience = match i % 4 {
                0 => Audience::Everyone,
                1 => Audience::Group(GroupId(i % 20)),
                2 => Audience::Recipients(vec![MemberId(i % 64), MemberId((i * 7) % 64)]),
                _ => Audience::Everyone,
            };
            RecordMeta {
                marking: Tlp::ALL[i as usize % 5],
                audience,
                author: Some(MemberId(i % 97)),
                anonymous: i % 3 == 0,
                embargo: (i % 4 == 3).then(|| Embargo::advance_notice(T)),
                min_clearance: Clearance::ALL[i as usize % 3],
            }
        })
        .collect()
}

/// 16,384 decisions per iteration: every principal against every record.
#[divan::bench]
fn mixed(bencher: Bencher) {
    let ps = principals();
    let rs = records();
    let now = T.add_secs(-30 * 3600);
    bencher
        .counter(ItemsCount::new(ps.len() * rs.len()))
        .bench_local(|| {
            let mut allowed = 0u32;
            for p in &ps {
                for r in &rs {
                    allowed += u32::from(decide(black_box(p), black_box(r), now).is_allowed());
                }
            }
            allowed
        });
}
