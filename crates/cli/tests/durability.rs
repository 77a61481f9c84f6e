//! Acknowledged data is durable: `isx serve` is killed with SIGKILL while
//! it ingests a botnet event stream and imports URL and clean-file batches,
//! ten times over one data directory. After each kill the store holds every
//! record the server acknowledged, none twice, and passes SQLite's integrity
//! check; the next round starts on it.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{isx, serve};

const ROUNDS: u64 = 10;
/// Events in each round's botnet stream (the server stores and
/// acknowledges them in batches of at most 5,000).
const STREAM_EVENTS: u64 = 20_000;
const BATCH: u64 = 400;

fn ip(n: u64) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

fn sha(n: u64) -> String {
    format!("{n:064x}")
}

fn url(n: u64) -> String {
    format!("http://durable-{n}.example/payload")
}

#[derive(Default)]
struct Acknowledged {
    ips: HashSet<String>,
    urls: HashSet<String>,
    hashes: HashSet<String>,
}

/// Streams one round's botnet events; returns the IPs of the events in
/// acknowledged batches.
async fn stream_events(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    round: u64,
    progress: &AtomicUsize,
) -> Vec<String> {
    let first = round * 1_000_000;
    let mut body = String::new();
    for n in first..first + STREAM_EVENTS {
        body.push_str(&format!(
            "{{\"product\":\"infected\",\"time\":\"2026-11-30T10:00:00Z\",\"ip\":\"{}\",\"family\":\"necurs\"}}\n",
            ip(n)
        ));
    }
    let mut acked = Vec::new();
    let Ok(mut res) = client
        .post(format!("{base}/api/v1/botnet/events"))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
    else {
        return acked;
    };
    let mut pending = Vec::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let Ok(ack) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if ack.get("error").is_some() {
                panic!("a batch was refused: {ack}");
            }
            let (a, b) = (ack["first_line"].as_u64(), ack["last_line"].as_u64());
            if let (Some(a), Some(b)) = (a, b) {
                acked.extend((a..=b).map(|line| ip(first + line - 1)));
                progress.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    acked
}

/// Posts batches until the server goes away; returns what was acknowledged.
async fn import_batches(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    round: u64,
    urls: bool,
    progress: &AtomicUsize,
) -> Vec<String> {
    let mut acked = Vec::new();
    for batch in 0.. {
        let first = round * 1_000_000 + batch * BATCH;
        let items: Vec<String> = (first..first + BATCH)
            .map(|n| if urls { url(n) } else { sha(n) })
            .collect();
        let (path, content_type, body) = if urls {
            let lines: Vec<String> = items
                .iter()
                .map(|u| format!("{{\"url\":\"{u}\",\"threat\":\"malware_download\"}}"))
                .collect();
            ("/api/v1/urls", "application/x-ndjson", lines.join("\n"))
        } else {
            ("/api/v1/cleanfiles", "text/plain", items.join("\n"))
        };
        match client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
        {
            Ok(res) if res.status().is_success() => {
                acked.extend(items);
                progress.fetch_add(1, Ordering::SeqCst);
            }
            Ok(res) => panic!(
                "{path}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            ),
            Err(_) => return acked,
        }
    }
    acked
}

/// What the store holds, read with the server down; panics on duplicates
/// or a store that fails SQLite's checks.
async fn stored(dir: &Path) -> Acknowledged {
    use sqlx::{Connection, Row};
    let mut c =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("isx.sqlite").display()))
            .await
            .expect("open the store");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut c)
        .await
        .expect("integrity check");
    assert_eq!(check, "ok");
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut c)
        .await
        .expect("foreign keys");
    assert!(broken.is_empty(), "foreign keys hold");
    let mut out = Acknowledged::default();
    for (sql, set) in [
        ("SELECT ip FROM botnet_events", &mut out.ips),
        ("SELECT url FROM url_records", &mut out.urls),
        (
            "SELECT lower(hex(sha256)) FROM clean_files",
            &mut out.hashes,
        ),
    ] {
        let rows = sqlx::query(sql).fetch_all(&mut c).await.expect("read");
        let n = rows.len();
        set.extend(rows.iter().map(|r| r.get::<String, _>(0)));
        assert_eq!(set.len(), n, "no record twice: {sql}");
    }
    c.close().await.expect("close");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(
        isx(d, &["member", "add", "--name", "Ops", "--kind", "operator"])
            .status
            .success()
    );
    let key = isx(
        d,
        &[
            "key", "create", "--member", "Ops", "--name", "load", "--role", "admin", "--json",
        ],
    );
    let key: Value = serde_json::from_slice(&key.stdout).expect("key json");
    let token = key["token"].as_str().expect("token").to_owned();
    let mut acked = Acknowledged::default();
    let mut totals = (0, 0, 0);
    for round in 0..ROUNDS {
        let (mut child, base, _logs) = serve(d, &[]);
        let ca = std::fs::read(d.join("tls/ca.pem")).expect("CA");
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("pem"))
            .build()
            .expect("client");
        let progress = [
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ];
        let (events, urls, hashes) = {
            let work = async {
                tokio::join!(
                    stream_events(&client, &base, &token, round, &progress[0]),
                    import_batches(&client, &base, &token, round, true, &progress[1]),
                    import_batches(&client, &base, &token, round, false, &progress[2]),
                )
            };
            // Killed mid-work, at a different moment each round: once every
            // product has had something acknowledged (however slow the
            // machine), then 0 to 1.1 s later.
            let kill_after = Duration::from_millis((round * 277) % 1_100);
            let killer = async {
                let started = Instant::now();
                while progress.iter().any(|p| p.load(Ordering::SeqCst) == 0)
                    && started.elapsed() < Duration::from_secs(60)
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                tokio::time::sleep(kill_after).await;
                child.kill().expect("SIGKILL");
            };
            let (out, ()) = tokio::join!(work, killer);
            out
        };
        let _ = child.wait();
        totals.0 += events.len();
        totals.1 += urls.len();
        totals.2 += hashes.len();
        acked.ips.extend(events);
        acked.urls.extend(urls);
        acked.hashes.extend(hashes);
        let held = stored(d).await;
        for (what, want, have) in [
            ("botnet events", &acked.ips, &held.ips),
            ("URLs", &acked.urls, &held.urls),
            ("clean files", &acked.hashes, &held.hashes),
        ] {
            let lost = want.difference(have).count();
            assert_eq!(lost, 0, "round {round}: {lost} acknowledged {what} lost");
        }
    }
    // The kills landed mid-work: something was acknowledged in every product.
    assert!(totals.0 > 0 && totals.1 > 0 && totals.2 > 0, "{totals:?}");
    eprintln!(
        "durability: {ROUNDS} SIGKILLs; acknowledged and kept {} botnet events, {} URLs, {} clean files",
        totals.0, totals.1, totals.2
    );
}
