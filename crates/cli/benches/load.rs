//! A bounded load test of `isx serve` on loopback (SQLite, HTTPS): 1,000
//! concurrent clients, each from its own loopback address (isx takes at
//! most 256 connections from one), for ISX_LOAD_SECS (default 15) seconds —
//!
//! - 400 idle sockets: connect, send nothing, and connect again when the
//!   server drops them (its TLS-handshake timeout), as a slow-loris
//!   attacker would;
//! - 350 REST readers, each its own client and connection: URL search,
//!   `/api/v1/me`, URL statistics;
//! - 250 TAXII clients paging the URL collection (100 objects a page,
//!   following `next`) from the start again when they reach the end.
//!
//! It prints requests per second, latency percentiles of the legitimate
//! requests while the idle sockets are held, the server's resident memory
//! before, at its peak and after, and how many idle sockets the server
//! dropped; it fails (exit code 1) if any legitimate request failed or the
//! server's memory exceeded ISX_LOAD_MAX_RSS_MB (default 1,024).
//!
//! `cargo bench -p isx --bench load`; ISX_LOAD_CLIENTS scales the three
//! groups together (default 1000). `cargo test --benches` runs a small,
//! short version.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn isx(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("ISX_DATABASE_URL")
        .output()
        .expect("run isx")
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &std::path::Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        // Members' clients share one key here: no per-key limit stands
        // between them and what is measured.
        .env("ISX_RATE_PER_MINUTE", "100000000")
        .env("ISX_RATE_BURST", "10000000")
        .env_remove("ISX_DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn isx serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("isx is serving at ") {
                    break url.trim().to_owned();
                }
            }
            _ => panic!("isx serve did not start"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    errors: AtomicU64,
    pages: AtomicU64,
    idle_dropped: AtomicU64,
}

fn client(ca: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca).expect("CA"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The source address of simulated client `n`: clients are many machines,
/// not one (isx serves at most 256 connections per address), so each
/// gets its own loopback address (Linux answers all of 127.0.0.0/8).
fn source(n: u64) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 1, (n / 250) as u8, (n % 250) as u8 + 1])
}

fn client_from(ca: &[u8], n: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca).expect("CA"))
        .timeout(Duration::from_secs(30))
        .local_address(source(n))
        .build()
        .expect("client")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let smoke = std::env::args().any(|a| a == "--test" || a == "--list")
        || std::env::var("ISX_LOAD_SMOKE").is_ok();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let clients = env_u64("ISX_LOAD_CLIENTS", if smoke { 40 } else { 1000 });
    let secs = env_u64("ISX_LOAD_SECS", if smoke { 3 } else { 15 });
    let max_rss = env_u64("ISX_LOAD_MAX_RSS_MB", 1024) as f64;
    let (idle, rest, taxii) = (clients * 40 / 100, clients * 35 / 100, clients * 25 / 100);

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(
        isx(d, &["member", "add", "--name", "Ops", "--kind", "operator"])
            .status
            .success()
    );
    assert!(isx(
        d,
        &["member", "add", "--name", "Partner", "--kind", "enterprise"]
    )
    .status
    .success());
    let key = |member: &str, role: &str| {
        let out = isx(
            d,
            &[
                "key", "create", "--member", member, "--name", "load", "--role", role, "--json",
            ],
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("key json");
        v["token"].as_str().expect("token").to_owned()
    };
    let (op, member) = (key("Ops", "admin"), key("Partner", "member"));
    let server = serve(d);
    let pid = server.child.id();
    let base = server.base.clone();
    let ca = std::fs::read(d.join("tls/ca.pem")).expect("CA");
    let setup = client(&ca);
    let urls: Vec<String> = (0..5_000)
        .map(|i| format!("{{\"url\":\"http://load-{i}.example/x\",\"threat\":\"malware_download\",\"tlp\":\"green\"}}"))
        .collect();
    let res = setup
        .post(format!("{base}/api/v1/urls"))
        .bearer_auth(&op)
        .header("content-type", "application/x-ndjson")
        .body(urls.join("\n"))
        .send()
        .await
        .expect("import");
    assert!(
        res.status().is_success(),
        "{}",
        res.text().await.unwrap_or_default()
    );
    let cols: Value = setup
        .get(format!("{base}/taxii2/isx/collections/"))
        .bearer_auth(&member)
        .header("accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .expect("collections")
        .json()
        .await
        .expect("json");
    let collection = cols["collections"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["alias"] == "urls"))
        .and_then(|c| c["id"].as_str())
        .expect("urls collection")
        .to_owned();
    let rss_before = rss_mb(pid);

    let counters = Arc::new(Counters::default());
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<Duration>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let addr = base
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned();
    let mut tasks = Vec::new();
    let server_addr: std::net::SocketAddr = addr.parse().expect("server address");
    for n in 0..idle {
        let c = counters.clone();
        tasks.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            while Instant::now() < deadline {
                let connected = async {
                    let socket = tokio::net::TcpSocket::new_v4()?;
                    socket.bind(std::net::SocketAddr::new(source(n), 0))?;
                    socket.connect(server_addr).await
                };
                let Ok(mut s) = connected.await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let mut buf = [0u8; 64];
                let left = deadline.saturating_duration_since(Instant::now());
                // Held until the server drops it (or the run ends).
                if let Ok(Ok(_)) = tokio::time::timeout(left, s.read(&mut buf)).await {
                    c.idle_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for i in 0..rest {
        let (base, token, c, l, ca) = (
            base.clone(),
            member.clone(),
            counters.clone(),
            latencies.clone(),
            ca.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client_from(&ca, idle + i);
            let paths = ["/api/v1/urls?limit=50", "/api/v1/me", "/api/v1/urls/stats"];
            let mut k = i as usize;
            while Instant::now() < deadline {
                let path = paths[k % paths.len()];
                k += 1;
                let started = Instant::now();
                let res = match http
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        r.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    Ok(r) => Err(r.status().to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match res {
                    Ok(()) => {
                        c.ok.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut l) = l.lock() {
                            l.push(started.elapsed());
                        }
                    }
                    Err(e) => {
                        eprintln!("load: GET {path}: {e}");
                        c.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in 0..taxii {
        let (base, token, c, l, ca, col) = (
            base.clone(),
            member.clone(),
            counters.clone(),
            latencies.clone(),
            ca.clone(),
            collection.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client_from(&ca, idle + rest + t);
            let mut next: Option<String> = None;
            while Instant::now() < deadline {
                let mut url = format!("{base}/taxii2/isx/collections/{col}/objects/?limit=100");
                if let Some(n) = &next {
                    url.push_str(&format!("&next={n}"));
                }
                let started = Instant::now();
                let res = http
                    .get(&url)
                    .bearer_auth(&token)
                    .header("accept", "application/taxii+json;version=2.1")
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                        Ok(page) => {
                            c.ok.fetch_add(1, Ordering::Relaxed);
                            c.pages.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut l) = l.lock() {
                                l.push(started.elapsed());
                            }
                            next = page["next"].as_str().map(str::to_owned);
                        }
                        Err(e) => {
                            eprintln!("load: TAXII page: {e}");
                            c.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    Ok(r) => {
                        eprintln!("load: TAXII page: {}", r.status());
                        c.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("load: TAXII page: {e}");
                        c.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    let mut peak = rss_before;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(rss_mb(pid));
    }
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_mb(pid);
    let ok = counters.ok.load(Ordering::Relaxed);
    let errors = counters.errors.load(Ordering::Relaxed);
    let mut l = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "load: {clients} clients ({idle} idle sockets, {rest} REST, {taxii} TAXII) for {secs} s"
    );
    println!(
        "load: {ok} requests answered ({:.0}/s, {} TAXII pages), {errors} errors; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ok as f64 / secs as f64,
        counters.pages.load(Ordering::Relaxed),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "load: server RSS {rss_before:.0} MB before, {peak:.0} MB peak, {rss_after:.0} MB after; {} idle sockets dropped by the server",
        counters.idle_dropped.load(Ordering::Relaxed)
    );
    drop(server);
    // Longer than the TLS-handshake timeout (10 s): the server must have
    // dropped the idle sockets rather than kept them.
    let dropped = counters.idle_dropped.load(Ordering::Relaxed);
    if secs >= 12 && idle > 0 && dropped == 0 {
        eprintln!("load: FAILED (the server kept every idle socket for {secs} s)");
        std::process::exit(1);
    }
    if errors > 0 || ok == 0 || peak > max_rss {
        eprintln!(
            "load: FAILED ({errors} errors, {ok} answered, peak {peak:.0} MB > {max_rss} MB?)"
        );
        std::process::exit(1);
    }
}
