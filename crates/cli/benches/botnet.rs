//! Botnet benchmarks, each next to a peer measured in the same run:
//!
//! 1. The constituency matcher with 100,000 member prefixes (nested: ISPs
//!    and their customers) against PostgreSQL's `inet` containment join
//!    with a GiST index on the same prefixes and events — and the two must
//!    find the same (event, member) pairs.
//! 2. Ingest-to-stream latency: a producer posts events at 50,000 per
//!    second to a running server (SQLite, HTTPS on loopback), a member
//!    reads them from the SSE stream; p50/p99 of (received − sent).
//!
//! `cargo bench -p isx --bench botnet` (ISX_BENCH_PARTS=1 or 2 for one part;
//! ISX_BENCH_EVENTS, ISX_BENCH_PREFIXES, ISX_BENCH_PG_EVENTS,
//! ISX_BENCH_RATE, ISX_BENCH_SECONDS change the sizes).
//! `cargo test --benches` runs a small smoke size.

#[path = "../tests/support/pg.rs"]
#[allow(dead_code)]
mod pg;
// Its own members (a constituency, an operator): not member_with_key.
#[path = "support/server.rs"]
#[allow(dead_code)]
mod server;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use isx_botnet::{MatchKey, Matcher};
use isx_domain::{Cidr, Clock, Constituency, MemberId, SystemClock, Timestamp};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `n` prefixes: a tenth are ISP blocks (/12–/16), the rest customer
/// blocks (/20–/29) inside a random ISP block. Two prefixes per member.
fn prefixes(n: usize, rng: &mut Rng) -> Vec<(MemberId, Cidr)> {
    let isps = (n / 10).max(1);
    let mut out = Vec::with_capacity(n);
    let mut blocks = Vec::with_capacity(isps);
    for i in 0..isps {
        let len = 12 + (rng.next() % 5) as u32;
        let base = ((rng.next() as u32) & !((1u32 << (32 - len)) - 1)) | 0x0100_0000;
        blocks.push((base, len));
        out.push((i, base, len));
    }
    for i in isps..n {
        let (base, blen) = blocks[(rng.next() as usize) % blocks.len()];
        let len = 20 + (rng.next() % 10) as u32;
        let offset = (rng.next() as u32) & ((1u32 << (32 - blen)) - 1);
        let start = (base | offset) & !((1u32 << (32 - len)) - 1);
        out.push((i, start, len));
    }
    out.into_iter()
        .map(|(i, start, len)| {
            let cidr: Cidr = format!("{}/{len}", Ipv4Addr::from(start))
                .parse()
                .expect("cidr");
            (MemberId((i / 2) as i64 + 1), cidr)
        })
        .collect()
}

/// Events: half inside some prefix, half anywhere.
fn events(n: usize, prefixes: &[(MemberId, Cidr)], rng: &mut Rng) -> Vec<IpAddr> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let net = prefixes[(rng.next() as usize) % prefixes.len()].1.net();
                let (lo, hi) = match (net.network(), net.broadcast()) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a), u32::from(b)),
                    _ => (0, 0),
                };
                IpAddr::V4(Ipv4Addr::from(lo + (rng.next() as u32) % (hi - lo + 1)))
            } else {
                IpAddr::V4(Ipv4Addr::from(rng.next() as u32))
            }
        })
        .collect()
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let parts = std::env::var("ISX_BENCH_PARTS").unwrap_or_else(|_| "12".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if parts.contains('1') {
        rt.block_on(matcher(smoke));
    }
    if parts.contains('2') {
        rt.block_on(latency(smoke));
    }
}

async fn matcher(smoke: bool) {
    let n_prefixes = if smoke {
        2_000
    } else {
        env_usize("ISX_BENCH_PREFIXES", 100_000)
    };
    let n_events = if smoke {
        100_000
    } else {
        env_usize("ISX_BENCH_EVENTS", 20_000_000)
    };
    let n_pg = if smoke {
        5_000
    } else {
        env_usize("ISX_BENCH_PG_EVENTS", 200_000)
    };
    let mut rng = Rng(42);
    let pfx = prefixes(n_prefixes, &mut rng);
    let mut by_member: std::collections::BTreeMap<MemberId, Constituency> = Default::default();
    for (m, c) in &pfx {
        by_member.entry(*m).or_default().cidrs.push(*c);
    }
    let members: Vec<(MemberId, Constituency)> = by_member.into_iter().collect();
    let started = Instant::now();
    let m = Matcher::build(&members);
    let build = started.elapsed().as_secs_f64();
    let ips = events(n_events, &pfx, &mut rng);
    let mut out = Vec::new();
    let mut pairs = 0usize;
    let started = Instant::now();
    for ip in &ips {
        m.recipients_into(
            &MatchKey {
                ip: Some(*ip),
                ..MatchKey::default()
            },
            &mut out,
        );
        pairs += out.len();
    }
    let single_secs = started.elapsed().as_secs_f64();
    let single = n_events as f64 / single_secs;
    // The batch form the server's ingest uses.
    let keys: Vec<MatchKey<'_>> = ips
        .iter()
        .map(|ip| MatchKey {
            ip: Some(*ip),
            ..MatchKey::default()
        })
        .collect();
    let mut batch_pairs = 0usize;
    let started = Instant::now();
    for chunk in keys.chunks(5_000) {
        m.recipients_batch(chunk, |_, found| batch_pairs += found.len());
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(batch_pairs, pairs, "batch and single lookups agree");
    let ours = n_events as f64 / secs;
    println!(
        "matcher, one event at a time: {:.1} M events/s on one core",
        single / 1e6
    );
    println!(
        "matcher, batches of 5,000 (as ingest uses it): {} members, {} prefixes ({:?}), built in {:.2} s; {} events in {:.2} s = {:.1} M events/s on one core ({} deliveries)",
        members.len(),
        n_prefixes,
        m.stats(),
        build,
        n_events,
        secs,
        ours / 1e6,
        pairs
    );

    // The peer: PostgreSQL, inet containment with a GiST index.
    let url = pg::fresh_database().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    use sqlx::Executor;
    conn.execute("CREATE TABLE prefixes (member BIGINT NOT NULL, net CIDR NOT NULL)")
        .await
        .expect("ddl");
    conn.execute("CREATE TABLE events (id BIGINT PRIMARY KEY, ip INET NOT NULL)")
        .await
        .expect("ddl");
    for chunk in pfx.chunks(5_000) {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO prefixes (member, net) ");
        q.push_values(chunk, |mut b, (m, c)| {
            b.push_bind(m.0)
                .push_bind(c.to_string())
                .push_unseparated("::cidr");
        });
        q.build().execute(&mut conn).await.expect("insert prefixes");
    }
    let sample = &ips[..n_pg.min(ips.len())];
    for (i, chunk) in sample.chunks(5_000).enumerate() {
        let mut q = sqlx::QueryBuilder::new("INSERT INTO events (id, ip) ");
        q.push_values(chunk.iter().enumerate(), |mut b, (j, ip)| {
            b.push_bind((i * 5_000 + j) as i64)
                .push_bind(ip.to_string())
                .push_unseparated("::inet");
        });
        q.build().execute(&mut conn).await.expect("insert events");
    }
    conn.execute("CREATE INDEX prefixes_net ON prefixes USING gist (net inet_ops)")
        .await
        .expect("gist");
    conn.execute("ANALYZE").await.expect("analyze");
    conn.execute("SET enable_seqscan = off").await.expect("set");
    let started = Instant::now();
    let pg_pairs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events e JOIN prefixes p ON p.net >>= e.ip")
            .fetch_one(&mut conn)
            .await
            .expect("join");
    let pg_secs = started.elapsed().as_secs_f64();
    let theirs = sample.len() as f64 / pg_secs;
    // The same events through the matcher: the same pairs (a member with
    // two covering prefixes counts once in ours, so count distinct).
    let pg_distinct: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT e.id, p.member FROM events e JOIN prefixes p ON p.net >>= e.ip) x",
    )
    .fetch_one(&mut conn)
    .await
    .expect("join");
    let mut ours_pairs = 0usize;
    for ip in sample {
        m.recipients_into(
            &MatchKey {
                ip: Some(*ip),
                ..MatchKey::default()
            },
            &mut out,
        );
        ours_pairs += out.len();
    }
    assert_eq!(
        ours_pairs as i64, pg_distinct,
        "the matcher and PostgreSQL disagree"
    );
    println!(
        "postgres inet GiST join: {} events in {:.2} s = {:.0} events/s ({} pairs, {} distinct = the matcher's); matcher/postgres = {:.0}x",
        sample.len(),
        pg_secs,
        theirs,
        pg_pairs,
        pg_distinct,
        ours / theirs
    );
}

async fn latency(smoke: bool) {
    let rate = if smoke {
        2_000
    } else {
        env_usize("ISX_BENCH_RATE", 50_000)
    };
    let seconds = if smoke {
        2
    } else {
        env_usize("ISX_BENCH_SECONDS", 10)
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // ISX_BENCH_STORE=postgres runs the server on a throwaway PostgreSQL cluster.
    let postgres = std::env::var("ISX_BENCH_STORE").is_ok_and(|v| v == "postgres");
    let url = if postgres {
        pg::fresh_database().await
    } else {
        dir.path().join("isx.sqlite").display().to_string()
    };
    let store = isx_store::open(&url).await.expect("store");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let s = store.as_ref();
    let member = isx_app::admin::create_member(
        s,
        clock.as_ref(),
        &isx_domain::NewMember {
            name: isx_domain::MemberName::new("Bench ISP").expect("name"),
            kind: isx_domain::MemberKind::CriticalInfrastructure,
            country: None,
            tier: isx_domain::Tier::Standard,
            clearance: isx_domain::Clearance::None,
            constituency: Constituency {
                cidrs: vec!["10.0.0.0/8".parse().expect("cidr")],
                ..Default::default()
            },
        },
    )
    .await
    .expect("member");
    let operator = isx_app::admin::create_member(
        s,
        clock.as_ref(),
        &isx_domain::NewMember {
            name: isx_domain::MemberName::new("Bench operator").expect("name"),
            kind: isx_domain::MemberKind::Operator,
            country: None,
            tier: isx_domain::Tier::Standard,
            clearance: isx_domain::Clearance::Secret,
            constituency: Constituency::default(),
        },
    )
    .await
    .expect("operator");
    let (_, member_key) = isx_app::admin::create_api_key(
        s,
        clock.as_ref(),
        None,
        &isx_app::admin::KeySpec::cli(&member, "b"),
    )
    .await
    .expect("key");
    let (_, op_key) = isx_app::admin::create_api_key(
        s,
        clock.as_ref(),
        None,
        &isx_app::admin::KeySpec::cli(&operator, "b"),
    )
    .await
    .expect("key");
    // Over HTTPS, as members connect.
    let server = server::start(dir.path(), store.clone(), clock.clone(), |_| {}).await;
    let (base, client) = (&server.base, &server.client);
    let mut sse = client
        .get(format!("{base}/api/v1/botnet/stream"))
        .bearer_auth(member_key.expose())
        .send()
        .await
        .expect("stream");
    // Several senders, as a fleet of sinkholes would post: each offers its
    // share every 20 ms on its own connection, awaiting its acknowledgement.
    let senders = if smoke {
        2
    } else {
        env_usize("ISX_BENCH_SENDERS", 4)
    }
    .max(1);
    let total = rate * seconds;
    let per_tick = (rate / 50 / senders).max(1);
    let mut producers = Vec::new();
    for p in 0..senders {
        let client = client.clone();
        let base = base.clone();
        let key = op_key.expose();
        let share = total / senders;
        producers.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut sent = 0usize;
            while sent < share {
                tick.tick().await;
                let now = SystemClock.now();
                let mut body = String::with_capacity(per_tick * 120);
                for i in 0..per_tick.min(share - sent) {
                    let n = p * share + sent + i;
                    // The send time travels in the event's own time.
                    body.push_str(&format!(
                        "{{\"product\":\"infected\",\"time\":\"{}\",\"ip\":\"10.{}.{}.{}\",\"port\":{},\"family\":\"bench\"}}\n",
                        now.to_rfc3339(),
                        (n >> 16) & 255,
                        (n >> 8) & 255,
                        n & 255,
                        1024 + n % 60_000
                    ));
                }
                let res = client
                    .post(format!("{base}/api/v1/botnet/events"))
                    .bearer_auth(&key)
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert!(res.status().is_success(), "{}", res.status());
                let _ = res.bytes().await;
                sent += per_tick.min(share - sent);
            }
        }));
    }
    let total = total / senders * senders;
    let mut latencies: Vec<f64> = Vec::with_capacity(total);
    let mut buf = String::new();
    let started = Instant::now();
    while latencies.len() < total
        && started.elapsed() < Duration::from_secs(seconds as u64 * 4 + 30)
    {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(10), sse.chunk()).await
        else {
            break;
        };
        let received = SystemClock.now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        let mut used = 0;
        while let Some(end) = buf[used..].find("\n\n") {
            let block = &buf[used..used + end];
            used += end + 2;
            if let Some(t) = block
                .split("\"seen_at\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
            {
                if let Ok(sent) = Timestamp::parse(t) {
                    latencies.push((received.as_micros() - sent.as_micros()) as f64 / 1000.0);
                }
            }
        }
        buf.drain(..used);
    }
    let elapsed = started.elapsed().as_secs_f64();
    for p in producers {
        p.await.expect("producer");
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "ingest-to-stream ({}, HTTPS, {} events/s offered by {} senders for {} s): {} of {} received in {:.1} s = {:.0} events/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        if postgres { "PostgreSQL" } else { "SQLite" },
        rate,
        senders,
        seconds,
        latencies.len(),
        total,
        elapsed,
        latencies.len() as f64 / elapsed,
        q(0.5),
        q(0.99),
        q(1.0)
    );
}
