//! Clean-file benchmarks on a generated set of SHA-256 values (100 million
//! by default), next to Redis (`redis-server` from Debian) measured in the
//! same run on the same set — a Redis set with pipelined `SISMEMBER` is
//! what hashlookup deployments use:
//!
//! 1. Build: generate (a slice of the key space at a time), sort and write
//!    the memory-mapped set file, and open it; bytes per
//!    entry.
//! 2. In-process lookups per second on one core, hits and misses mixed
//!    half and half (batched, and one at a time).
//! 3. Redis: load the same set (pipelined `SADD`), its memory per entry,
//!    and pipelined `SISMEMBER` per second on the same queries.
//! 4. HTTP bulk lookups per second: a running isx (HTTPS on loopback,
//!    SQLite) answering `POST /api/v1/cleanfiles/lookup` with 1,000,000
//!    hashes per request from the same set file.
//!
//! `cargo bench -p isx --bench cleanfiles`; ISX_BENCH_KEYS (set size),
//! ISX_BENCH_QUERIES (in-process queries), ISX_BENCH_REDIS_QUERIES,
//! ISX_BENCH_PARTS (e.g. `1,2,4` to skip Redis). `cargo test --benches`
//! runs a small smoke size.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use isx_cleanfiles::generation;
use isx_cleanfiles::set::{SetFile, SetWriter};
use isx_cleanfiles::HashAlgo;
use isx_domain::{Clock, SystemClock};

#[path = "support/server.rs"]
mod server;

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
    fn key(&mut self) -> [u8; 32] {
        let mut k = [0u8; 32];
        for c in k.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        k
    }
}

/// A `/proc/self` figure given in kB (`VmRSS:` in `status`, or
/// `FilePmdMapped:` in `smaps_rollup`: how much of this process's file
/// mappings the kernel maps with 2 MiB pages — the set file is the only
/// large one), in MiB.
fn proc_mib(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/self/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = if smoke {
        200_000
    } else {
        env_usize("ISX_BENCH_KEYS", 100_000_000)
    };
    let q = if smoke {
        200_000
    } else {
        env_usize("ISX_BENCH_QUERIES", 20_000_000)
    };
    let rq = if smoke {
        100_000
    } else {
        env_usize("ISX_BENCH_REDIS_QUERIES", 4_000_000)
    };
    let parts = std::env::var("ISX_BENCH_PARTS").unwrap_or_else(|_| "1,2,3,4".into());
    let want = |p: &str| parts.split(',').any(|x| x.trim() == p);
    let dir = tempfile::tempdir().expect("tempdir");
    let set_dir = dir.path().join("cleanfiles");
    std::fs::create_dir_all(&set_dir).expect("mkdir");

    // 1. Build.
    println!("clean files: {n} SHA-256 values, {q} in-process queries (half hits)");
    // Keys are generated and written in ascending order a slice of the
    // key space at a time (the first 12 bits fixed per slice, the rest
    // random), so no more than a slice is ever held in memory: 500 million
    // values build on a machine whose memory the set file alone nearly
    // fills. A sample of members is kept for the queries.
    let mut rng = Rng(0x5eed);
    let slices: usize = if n >= 1 << 20 { 4096 } else { 1 };
    let members_wanted = q.div_ceil(2);
    let stride = (n / members_wanted.max(1)).max(1);
    let mut members: Vec<[u8; 32]> = Vec::with_capacity(members_wanted + slices);
    let (mut generated, mut sorted) = (Duration::ZERO, Duration::ZERO);
    let t = Instant::now();
    let path = generation::tmp_path(&set_dir, HashAlgo::Sha256, 0);
    let mut w = SetWriter::create(&path, 32, n as u64, 0).expect("writer");
    let mut slice = Vec::with_capacity(n / slices + 1);
    let mut count = 0usize;
    for s in 0..slices {
        let g = Instant::now();
        slice.clear();
        let m = n / slices + usize::from(s < n % slices);
        slice.extend((0..m).map(|_| {
            let mut k = rng.key();
            if slices > 1 {
                k[0] = (s >> 4) as u8;
                k[1] = (k[1] & 0x0f) | (((s & 0x0f) as u8) << 4);
            }
            k
        }));
        generated += g.elapsed();
        let o = Instant::now();
        slice.sort_unstable();
        slice.dedup();
        sorted += o.elapsed();
        for k in &slice {
            w.push(k).expect("push");
            if count.is_multiple_of(stride) {
                members.push(*k);
            }
            count += 1;
        }
    }
    w.finish().expect("finish");
    for algo in [HashAlgo::Sha1, HashAlgo::Md5] {
        isx_cleanfiles::set::write_sorted(
            &generation::tmp_path(&set_dir, algo, 0),
            algo.bytes(),
            0,
            0,
            std::iter::empty(),
        )
        .expect("empty set");
    }
    generation::commit(&set_dir, 0).expect("commit");
    let written = t.elapsed() - generated - sorted;
    drop(slice);
    // Queries: half members in random order, half random values (absent
    // with overwhelming odds).
    for i in (1..members.len()).rev() {
        members.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let mut queries = Vec::with_capacity(q * 32);
    for i in 0..q {
        if i % 2 == 0 {
            queries.extend_from_slice(&members[(i / 2) % members.len()]);
        } else {
            queries.extend_from_slice(&rng.key());
        }
    }
    drop(members);
    let t = Instant::now();
    let set = SetFile::open(&set_dir.join("sha256-0.set")).expect("open set");
    let opened = t.elapsed();
    let view = set.view();
    let per_entry = view.bytes() as f64 / view.len() as f64;
    println!(
        "  build: generate {:.1} s, sort {:.1} s, write {:.1} s, open {:.1} s; {:.2} bytes per SHA-256 (goal <= 40)",
        generated.as_secs_f64(),
        sorted.as_secs_f64(),
        written.as_secs_f64(),
        opened.as_secs_f64(),
        per_entry
    );
    println!(
        "  mapped in 2 MiB pages: {} of {} MiB",
        proc_mib("smaps_rollup", "FilePmdMapped:"),
        view.bytes() >> 20
    );

    // 2. In-process lookups, one core.
    let mut isx_rate = 0.0f64;
    if want("2") {
        // Touch the whole set once (as a running server has).
        let mut warm = Vec::new();
        view.contains_many(&queries, &mut warm);
        let mut rates = Vec::new();
        let mut hits = 0;
        for _ in 0..5 {
            let mut out = Vec::with_capacity(q);
            let t = Instant::now();
            view.contains_many(&queries, &mut out);
            rates.push(q as f64 / t.elapsed().as_secs_f64());
            hits = out.iter().filter(|b| **b).count();
        }
        rates.sort_by(f64::total_cmp);
        isx_rate = rates[2];
        let t = Instant::now();
        let single = queries
            .chunks_exact(32)
            .filter(|k| view.contains(k))
            .count();
        let single_rate = q as f64 / t.elapsed().as_secs_f64();
        assert_eq!(single, hits, "batched and single lookups agree");
        assert!(hits >= q / 2, "every generated member is found");
        println!(
            "  isx in-process: {:.1} M lookups/s per core batched (median of 5; slowest {:.1}, fastest {:.1}), {:.1} M/s one at a time (goal >= 20 M/s)",
            isx_rate / 1e6,
            rates[0] / 1e6,
            rates[4] / 1e6,
            single_rate / 1e6
        );
    }

    // 3. Redis on the same set.
    if want("3") {
        match redis(dir.path(), &view, &queries[..rq.min(q) * 32]) {
            Ok((load, mem, rate)) => {
                println!(
                    "  redis-server {}: load {:.1} s ({:.2} M SADD/s), {:.1} bytes per member, {:.2} M SISMEMBER/s pipelined",
                    redis_version(),
                    load.as_secs_f64(),
                    view.len() as f64 / load.as_secs_f64() / 1e6,
                    mem as f64 / view.len() as f64,
                    rate / 1e6
                );
                if isx_rate > 0.0 {
                    println!(
                        "  ratio: isx in-process / Redis pipelined = {:.0}x (goal >= 10x); memory Redis / isx = {:.1}x",
                        isx_rate / rate,
                        mem as f64 / view.bytes() as f64
                    );
                }
            }
            Err(e) => println!("  redis: skipped ({e}); install Debian's redis-server"),
        }
    }

    // 4. HTTP bulk lookups against a running server.
    if want("4") {
        drop(set);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let bulk = if smoke { 50_000 } else { 1_000_000 };
        rt.block_on(http(dir.path(), &queries[..bulk.min(q) * 32], smoke));
    }
    println!("  (process RSS now {} MiB)", proc_mib("status", "VmRSS:"));
}

fn redis_version() -> String {
    Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.split_whitespace()
                .find(|w| w.starts_with("v="))
                .map(|w| w[2..].to_owned())
        })
        .unwrap_or_default()
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes `commands` to the socket while a thread reads one reply line per
/// command (integer replies), so neither side blocks on full buffers.
fn pipeline(
    sock: &Path,
    write: impl FnOnce(&mut BufWriter<UnixStream>) -> std::io::Result<u64>,
) -> std::io::Result<(u64, u64)> {
    let stream = UnixStream::connect(sock)?;
    let reader = stream.try_clone()?;
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let handle = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut r = BufReader::with_capacity(1 << 20, reader);
        let expected = rx.recv().unwrap_or(0);
        let mut ones = 0u64;
        let mut line = String::new();
        for _ in 0..expected {
            line.clear();
            r.read_line(&mut line)?;
            if line.starts_with(":1") {
                ones += 1;
            } else if !line.starts_with(':') {
                return Err(std::io::Error::other(format!("redis: {line}")));
            }
        }
        Ok(ones)
    });
    let mut w = BufWriter::with_capacity(1 << 20, stream);
    let commands = write(&mut w)?;
    w.flush()?;
    let _ = tx.send(commands);
    let ones = handle
        .join()
        .map_err(|_| std::io::Error::other("reader panicked"))??;
    Ok((commands, ones))
}

fn redis(
    dir: &Path,
    view: &isx_cleanfiles::set::SetView<'_>,
    queries: &[u8],
) -> Result<(Duration, u64, f64), String> {
    let sock = dir.join("redis.sock");
    let child = Command::new("redis-server")
        .args(["--port", "0", "--unixsocket"])
        .arg(&sock)
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server: {e}"))?;
    let _guard = Redis(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(&sock).is_err() {
        if Instant::now() > deadline {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let io = |e: std::io::Error| e.to_string();
    // Load: SADD s k1 … k1000 per command, pipelined.
    let t = Instant::now();
    let (_, _) = pipeline(&sock, |w| {
        let mut commands = 0u64;
        let mut batch: Vec<&[u8]> = Vec::with_capacity(1000);
        let flush =
            |w: &mut BufWriter<UnixStream>, batch: &mut Vec<&[u8]>| -> std::io::Result<()> {
                write!(w, "*{}\r\n$4\r\nSADD\r\n$1\r\ns\r\n", batch.len() + 2)?;
                for k in batch.iter() {
                    w.write_all(b"$32\r\n")?;
                    w.write_all(k)?;
                    w.write_all(b"\r\n")?;
                }
                batch.clear();
                Ok(())
            };
        for k in view.iter() {
            batch.push(k);
            if batch.len() == 1000 {
                flush(w, &mut batch)?;
                commands += 1;
            }
        }
        if !batch.is_empty() {
            flush(w, &mut batch)?;
            commands += 1;
        }
        Ok(commands)
    })
    .map_err(io)?;
    let load = t.elapsed();
    let mem = info_memory(&sock).map_err(io)?;
    // SISMEMBER, pipelined (the client writes while it reads).
    let n = queries.len() / 32;
    let mut best = 0.0f64;
    let mut found = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (_, ones) = pipeline(&sock, |w| {
            for k in queries.chunks_exact(32) {
                w.write_all(b"*3\r\n$9\r\nSISMEMBER\r\n$1\r\ns\r\n$32\r\n")?;
                w.write_all(k)?;
                w.write_all(b"\r\n")?;
            }
            Ok(n as u64)
        })
        .map_err(io)?;
        best = best.max(n as f64 / t.elapsed().as_secs_f64());
        found = ones;
    }
    let want = queries
        .chunks_exact(32)
        .filter(|k| view.contains(k))
        .count() as u64;
    if found != want {
        return Err(format!("redis found {found} members, isx {want}"));
    }
    Ok((load, mem, best))
}

fn info_memory(sock: &Path) -> std::io::Result<u64> {
    let mut s = UnixStream::connect(sock)?;
    s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let len: usize = line.trim().trim_start_matches('$').parse().unwrap_or(0);
    let mut body = vec![0u8; len + 2];
    std::io::Read::read_exact(&mut r, &mut body)?;
    Ok(String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

async fn http(dir: &Path, queries: &[u8], smoke: bool) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = isx_store::open(&dir.join("isx.sqlite").display().to_string())
        .await
        .expect("store");
    let (_, key) = server::member_with_key(store.as_ref(), clock.as_ref()).await;
    let server = server::start(dir, store.clone(), clock.clone(), |_| {}).await;
    let (base, client) = (&server.base, &server.client);
    let n = queries.len() / 32;
    let mut body = String::with_capacity(n * 65);
    for k in queries.chunks_exact(32) {
        body.push_str(&hex::encode(k));
        body.push('\n');
    }
    let mut rates = Vec::new();
    for _ in 0..if smoke { 1 } else { 3 } {
        let t = Instant::now();
        let res = client
            .post(format!("{base}/api/v1/cleanfiles/lookup?metadata=false"))
            .bearer_auth(key.expose())
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert!(res.status().is_success(), "{}", res.status());
        let text = res.text().await.expect("answer");
        let elapsed = t.elapsed();
        let answered = text.lines().count();
        assert_eq!(answered, n, "one answer per hash");
        let known = text.matches("\"known\":true").count();
        assert!(known >= n / 2, "{known} of {n} known");
        rates.push(n as f64 / elapsed.as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "  HTTP bulk (HTTPS, {} hashes per request, known/unknown only): {:.2} M hashes/s (median), {:.0} ms per request",
        n,
        rates[rates.len() / 2] / 1e6,
        n as f64 / rates[rates.len() / 2] * 1e3
    );
}
