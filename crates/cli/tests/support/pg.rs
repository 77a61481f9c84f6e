//! A throwaway PostgreSQL cluster for the tests: `initdb` and `postgres`
//! from the installed server (PostgreSQL's bin directory under
//! /usr/lib/postgresql, or PATH), listening only on a Unix socket in a
//! temporary directory. As root, the cluster runs as the `postgres` user
//! (initdb refuses to run as root). One cluster per test process; each test
//! gets its own database. The server is told to stop when this process dies
//! (PR_SET_PDEATHSIG), so no cluster outlives the tests.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Cluster {
    socket_dir: PathBuf,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn bin_dir() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates.reverse();
    if let Ok(path) = std::env::var("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file())
        .ok_or_else(|| {
            "PostgreSQL server binaries (initdb, postgres) not found: apt-get install postgresql"
                .to_owned()
        })
}

/// (uid, gid) of the `postgres` user when running as root.
fn run_as() -> Result<Option<(u32, u32)>, String> {
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"postgres"))
        .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
        .map(Some)
        .ok_or_else(|| {
            "running as root but there is no `postgres` user to run the cluster as".to_owned()
        })
}

fn as_user(cmd: &mut Command, who: Option<(u32, u32)>) {
    if let Some((uid, gid)) = who {
        cmd.uid(uid).gid(gid);
    }
}

fn remove_stale_clusters() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("isx-pg-")
            .and_then(|p| p.parse::<i32>().ok())
        {
            if unsafe { libc::kill(pid, 0) } != 0 {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn start() -> Result<Cluster, String> {
    remove_stale_clusters();
    let bin = bin_dir()?;
    let who = run_as()?;
    let dir = std::env::temp_dir().join(format!("isx-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if let Some((uid, gid)) = who {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    let data = dir.join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data);
    as_user(&mut initdb, who);
    let out = initdb
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let postgres = bin.join("postgres");
    let (tx, rx) = std::sync::mpsc::channel();
    let socket_dir = dir.clone();
    // The thread that starts the server lives as long as the process, because
    // PR_SET_PDEATHSIG fires when the *thread* that forked the child exits.
    std::thread::Builder::new()
        .name("isx-test-postgres".into())
        .spawn(move || {
            let mut cmd = Command::new(postgres);
            cmd.arg("-D").arg(&data).arg("-k").arg(&socket_dir);
            cmd.args([
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "max_connections=300",
            ]);
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            as_user(&mut cmd, who);
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            match cmd.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(()));
                    let _ = child.wait();
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot start postgres: {e}")));
                }
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())??;
    let sock = dir.join(".s.PGSQL.5432");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sock.exists() {
        if Instant::now() > deadline {
            return Err("postgres did not open its socket within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Cluster { socket_dir: dir })
}

fn url(socket_dir: &Path, db: &str) -> String {
    format!(
        "postgres://postgres@localhost/{db}?host={}",
        socket_dir.display()
    )
}

/// A fresh, empty database on the shared test cluster; returns its URL.
pub async fn fresh_database() -> String {
    let cluster = match CLUSTER.get_or_init(start) {
        Ok(c) => c,
        Err(e) => panic!("PostgreSQL test cluster unavailable: {e}"),
    };
    let name = format!("isx_test_{}", NEXT_DB.fetch_add(1, Ordering::SeqCst));
    let admin = url(&cluster.socket_dir, "postgres");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot connect to the test cluster: {e}"),
        }
    };
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    url(&cluster.socket_dir, &name)
}
