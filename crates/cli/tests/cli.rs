//! The `isx` binary as an operator uses it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs the `isx` binary on `data_dir`, untouched by the caller's ISX_* settings.
pub(crate) fn isx(data_dir: &Path, args: &[&str]) -> Output {
    isx_command(data_dir, args)
}

/// `isx` on a running test app's data directory and store (either engine).
pub(crate) fn isx_with(app: &crate::support::app::TestApp, args: &[&str]) -> Output {
    let mut all = vec!["--database-url", app.db_url.as_str()];
    all.extend_from_slice(args);
    isx_command(app.data_dir.path(), &all)
}

fn isx_command(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("ISX_DATA_DIR")
        .env_remove("ISX_DATABASE_URL")
        .env_remove("ISX_CONFIG")
        .output()
        .expect("run isx")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "isx failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("--json prints JSON")
}

#[test]
fn help_teaches() {
    let out = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "demo",
        "serve",
        "member",
        "key",
        "--data-dir",
        "--database-url",
        "ISX_DATA_DIR",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_isx"))
        .args(["member", "add", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--cidr") && text.contains("192.0.2.0/24"),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("frobnicate")
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn members_keys_and_groups_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let m = json(&isx(
        d,
        &[
            "member",
            "add",
            "--name",
            "Example ISP",
            "--kind",
            "critical-infrastructure",
            "--cidr",
            "192.0.2.0/24",
            "--asn",
            "AS64496",
            "--domain",
            "example.net",
            "--tier",
            "advance-5d",
            "--clearance",
            "restricted",
            "--json",
        ],
    ));
    assert_eq!(m["constituency"]["cidrs"][0], "192.0.2.0/24");
    assert_eq!(m["tier"], "advance-5d");

    // Bad input: a clear message, a non-zero exit, nothing stored.
    let bad = isx(
        d,
        &[
            "member",
            "add",
            "--name",
            "Bad",
            "--kind",
            "enterprise",
            "--cidr",
            "192.0.2.1/24",
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("host bits") && err.contains("192.0.2.0/24"),
        "{err}"
    );
    let bad = isx(d, &["member", "add", "--name", "Bad", "--kind", "pirate"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("national-cert"));
    let list = json(&isx(d, &["member", "list", "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert!(ok(&isx(d, &["member", "list"])).contains("AS64496"));

    let created = json(&isx(
        d,
        &[
            "key",
            "create",
            "--member",
            "Example ISP",
            "--name",
            "abuse-desk",
            "--json",
        ],
    ));
    let token = created["token"].as_str().expect("token").to_owned();
    let key_id = created["key"]["key_id"]
        .as_str()
        .expect("key id")
        .to_owned();
    assert!(token.starts_with(&format!("isx_{key_id}_")));
    let keys = ok(&isx(d, &["key", "list", "--json"]));
    assert!(
        keys.contains(&key_id) && !keys.contains(&token[21..]),
        "listing never shows the secret"
    );
    ok(&isx(d, &["key", "revoke", &key_id]));
    let keys = json(&isx(d, &["key", "list", "--json"]));
    assert!(keys[0]["revoked_at"].is_string());
    assert_ne!(isx(d, &["key", "revoke", "nothex"]).status.code(), Some(0));

    ok(&isx(
        d,
        &["member", "add", "--name", "Ops", "--kind", "operator"],
    ));
    let g = json(&isx(
        d,
        &[
            "group",
            "add",
            "--name",
            "Energy ISAC",
            "--owner",
            "Example ISP",
            "--agreement",
            "MoU-7",
            "--min-clearance",
            "restricted",
            "--json",
        ],
    ));
    assert_eq!(g["kind"], "formal");
    let join = isx(
        d,
        &[
            "group",
            "join",
            "Energy ISAC",
            "--member",
            "Ops",
            "--role",
            "reader",
        ],
    );
    assert!(!join.status.success(), "Ops has no clearance for the group");
    assert!(String::from_utf8_lossy(&join.stderr).contains("requires restricted"));
    let groups = json(&isx(d, &["group", "list", "--json"]));
    assert_eq!(groups[0]["members"].as_array().map(Vec::len), Some(1));

    let u = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(d)
        .args([
            "user", "add", "--login", "alice", "--member", "Ops", "--role", "admin", "--json",
        ])
        .env("ISX_PASSWORD", "a long enough password")
        .output()
        .expect("run");
    let u: Value = serde_json::from_str(&ok(&u)).expect("json");
    assert_eq!(u["user"]["role"], "admin");
    assert!(u["generated_password"].is_null());
    let notadmin = isx(
        d,
        &[
            "user",
            "add",
            "--login",
            "bob",
            "--member",
            "Example ISP",
            "--role",
            "admin",
        ],
    );
    assert!(String::from_utf8_lossy(&notadmin.stderr).contains("must belong to the operator"));
}

#[test]
fn configuration_precedence_flag_env_file() {
    let root = tempfile::tempdir().expect("tempdir");
    let (from_file, from_env, from_flag) = (
        root.path().join("file"),
        root.path().join("env"),
        root.path().join("flag"),
    );
    let cfg = root.path().join("isx.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = {:?}\n", from_file.display().to_string()),
    )
    .expect("write config");
    let run = |env_dir: Option<&Path>, flag_dir: Option<&Path>, name: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_isx"));
        c.arg("--config")
            .arg(&cfg)
            .env_remove("ISX_DATA_DIR")
            .env_remove("ISX_DATABASE_URL");
        if let Some(d) = env_dir {
            c.env("ISX_DATA_DIR", d);
        }
        if let Some(d) = flag_dir {
            c.arg("--data-dir").arg(d);
        }
        c.args(["member", "add", "--name", name, "--kind", "researcher"]);
        ok(&c.output().expect("run"));
    };
    run(None, None, "via-file");
    run(Some(&from_env), None, "via-env");
    run(Some(&from_env), Some(&from_flag), "via-flag");
    for (dir, name) in [
        (&from_file, "via-file"),
        (&from_env, "via-env"),
        (&from_flag, "via-flag"),
    ] {
        let list = json(&isx(dir, &["member", "list", "--json"]));
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{}", dir.display());
        assert_eq!(list[0]["name"], name);
    }
    std::fs::write(&cfg, "data_dri = \"typo\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--config")
        .arg(&cfg)
        .args(["member", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data_dri"),
        "unknown keys are named"
    );
}

/// Starts `isx serve` on a free port and returns the child and its base URL.
pub(crate) fn serve(
    data_dir: &Path,
    extra_env: &[(&str, &str)],
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(extra_env.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn isx serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(url) = line.strip_prefix("isx is serving at ") {
                return (child, url.trim().to_owned(), rx);
            }
            seen.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("isx serve did not start: {seen:?}");
}

#[tokio::test]
async fn serve_over_https_and_keep_secrets_out_of_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(&isx(
        d,
        &["member", "add", "--name", "Ops", "--kind", "operator"],
    ));
    let created = json(&isx(
        d,
        &["key", "create", "--member", "Ops", "--name", "t", "--json"],
    ));
    let token = created["token"].as_str().expect("token").to_owned();
    let password = "this password must not be logged";
    let u = Command::new(env!("CARGO_BIN_EXE_isx"))
        .arg("--data-dir")
        .arg(d)
        .args([
            "user",
            "add",
            "--login",
            "admin",
            "--member",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .expect("stdin")
                .write_all(password.as_bytes())?;
            c.wait_with_output()
        })
        .expect("user add");
    ok(&u);

    let (mut child, base, rx) = serve(d, &[("ISX_LOG", "debug"), ("ISX_LOG_FORMAT", "json")]);
    assert!(base.starts_with("https://127.0.0.1:"));
    let ca = std::fs::read(d.join("tls/ca.pem")).expect("generated CA");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("pem"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(me.status(), 200);
    let login_page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let cookie = login_page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("Secure")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let csrf = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("csrf cookie");
    let res = client
        .post(format!("{base}/login"))
        .header("cookie", format!("isx_login_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303, "signed in and redirected");
    let forged = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", "forged"),
            ("login", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(
        forged.status(),
        403,
        "a login form without its CSRF cookie is refused"
    );

    let _ = child.kill();
    let _ = child.wait();
    let logs: Vec<String> = rx.try_iter().collect();
    let all = logs.join("\n");
    assert!(
        all.contains("\"level\""),
        "structured JSON logs: {}",
        logs.first().cloned().unwrap_or_default()
    );
    assert!(
        !all.contains(&token[21..]),
        "the API key secret is not in the logs"
    );
    assert!(!all.contains(password), "the password is not in the logs");
}

fn shared(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

#[test]
fn advisories_import_is_validated_all_or_nothing_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let r = json(&isx(
        d,
        &[
            "release",
            "create",
            "--title",
            "2026-12",
            "--release-at",
            "2026-12-08T17:00:00Z",
            "--json",
        ],
    ));
    let id = r["id"].as_i64().expect("release id").to_string();

    // One bad document in the batch: nothing is imported, and the problem is located.
    let docs = tempfile::tempdir().expect("docs");
    for f in ["bsi-2022-0001.json", "rhsa-2022_0011.json"] {
        std::fs::copy(shared(&format!("csaf/{f}")), docs.path().join(f)).expect("copy");
    }
    let mut bad: Value =
        serde_json::from_slice(&std::fs::read(shared("csaf/rhsa-2021_5217.json")).expect("read"))
            .expect("json");
    bad["document"]["tracking"]["status"] = "almost".into();
    std::fs::write(
        docs.path().join("zz-bad.json"),
        serde_json::to_vec(&bad).expect("ser"),
    )
    .expect("write");
    let out = isx(
        d,
        &[
            "advisories",
            "import",
            "--release",
            &id,
            docs.path().to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("zz-bad.json") && err.contains("/document/tracking/status"),
        "{err}"
    );
    assert_eq!(
        json(&isx(d, &["advisories", "list", "--json"]))
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing imported"
    );

    let report = json(&isx(
        d,
        &[
            "advisories",
            "import",
            "--release",
            &id,
            "--skip-invalid",
            "--json",
            docs.path().to_str().expect("utf8"),
        ],
    ));
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(1));
    let created = report["advisories"]["created"].as_u64().expect("created");
    assert!(created >= 2, "{report}");
    let again = json(&isx(
        d,
        &[
            "advisories",
            "import",
            "--release",
            &id,
            "--skip-invalid",
            "--json",
            docs.path().to_str().expect("utf8"),
        ],
    ));
    assert_eq!(again["advisories"]["created"], 0);
    assert_eq!(
        again["advisories"]["unchanged"], created,
        "re-import changes nothing"
    );

    // The KEV catalogue marks known-exploited CVEs; idempotent too.
    let kev = shared("kev/known_exploited_vulnerabilities.json");
    let k = json(&isx(
        d,
        &[
            "advisories",
            "import",
            "--json",
            kev.to_str().expect("utf8"),
        ],
    ));
    assert!(k["known_exploited_changed"].as_u64().expect("n") > 1000);
    let k2 = json(&isx(
        d,
        &[
            "advisories",
            "import",
            "--json",
            kev.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(k2["known_exploited_changed"], 0);

    let list = ok(&isx(d, &["advisories", "list"]));
    assert!(list.contains("CVE-2022-27193"), "{list}");
    let no_release = isx(
        d,
        &[
            "advisories",
            "import",
            shared("csaf/bsi-2022-0001.json").to_str().expect("utf8"),
        ],
    );
    assert!(String::from_utf8_lossy(&no_release.stderr).contains("--release"));
}

#[test]
fn cve_json5_records_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let r = json(&isx(
        d,
        &[
            "release",
            "create",
            "--title",
            "cve",
            "--release-at",
            "2026-12-08T17:00:00Z",
            "--json",
        ],
    ));
    let id = r["id"].as_i64().expect("id").to_string();
    let rec = serde_json::json!({
        "dataType": "CVE_RECORD", "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2026-30002", "state": "PUBLISHED"},
        "containers": {"cna": {"title": "Example", "descriptions": [{"lang": "en", "value": "d"}],
            "affected": [{"vendor": "V", "product": "P", "versions": [{"version": "1.0", "status": "affected"}]}],
            "metrics": [{"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8}}]}}
    });
    let f = d.join("CVE-2026-30002.json");
    std::fs::write(&f, rec.to_string()).expect("write");
    let out = json(&isx(
        d,
        &[
            "advisories",
            "import",
            "--release",
            &id,
            "--json",
            f.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(out["advisories"]["created"], 1);
    let list = json(&isx(d, &["advisories", "list", "--json"]));
    assert_eq!(list[0]["advisory"]["id"], "CVE-2026-30002");
    assert_eq!(list[0]["advisory"]["affected"][0]["vendor"], "V");
}

/// The quick start's first command: `isx demo` serves every product with
/// generated data, and the keys it prints work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_every_product() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_isx"))
        .args(["--data-dir"])
        .arg(dir.path().join("demo"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start isx demo");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("Press Ctrl-C") {
                let _ = tx.send(text.clone());
            }
        }
    });
    let text = rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the demo starts and prints how to use it");
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_else(|| panic!("no {prefix} line in:\n{text}"))
            .to_owned()
    };
    let base = text
        .lines()
        .find_map(|l| l.split("running at ").nth(1))
        .expect("base URL")
        .trim()
        .to_owned();
    let cert_key = field("National CERT of Examplia");
    let ca = text
        .lines()
        .find_map(|l| l.split("trust ").nth(1))
        .expect("CA path")
        .trim()
        .to_owned();
    let pem = std::fs::read(&ca).expect("CA");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    let get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(&cert_key)
            .header(
                "Accept",
                "application/json, application/taxii+json;version=2.1",
            )
            .send()
    };
    let json = |r: reqwest::Response| async move {
        assert!(r.status().is_success(), "{}", r.status());
        r.json::<Value>().await.expect("json")
    };
    let count = |v: &Value| v.as_array().map(Vec::len).unwrap_or(0);
    assert!(count(&json(get("/api/v1/releases").await.expect("releases")).await) >= 2);
    assert_eq!(
        count(&json(get("/api/v1/urls?limit=5").await.expect("urls")).await),
        5
    );
    let clean = json(get("/api/v1/cleanfiles/stats").await.expect("clean")).await;
    assert!(clean["files"].as_u64().unwrap_or(0) > 20_000, "{clean}");
    let botnet = json(get("/api/v1/botnet/events?limit=5").await.expect("botnet")).await;
    assert!(!botnet.to_string().is_empty());
    // The printed client-certificate command works as printed (mTLS).
    let cert_line = text
        .lines()
        .find(|l| l.contains("--cert "))
        .unwrap_or_else(|| panic!("no client certificate line in:\n{text}"));
    let command = cert_line
        .trim()
        .split("   (")
        .next()
        .unwrap_or_default()
        .to_owned();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} -s"))
        .output()
        .expect("sh");
    let me: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{command}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert!(me["member"]["name"].is_string(), "{me}");
    let situation = json(
        get("/api/v1/partnership/dashboard")
            .await
            .expect("dashboard"),
    )
    .await;
    assert!(
        situation["total"].as_u64().unwrap_or(0) >= 40,
        "{situation}"
    );
    let shares = json(get("/api/v1/shares").await.expect("shares")).await;
    assert_eq!(
        shares[0]["decides"], true,
        "a share waits for the CERT: {shares}"
    );
    let cols = json(get("/taxii2/isx/collections/").await.expect("taxii")).await;
    assert!(count(&cols["collections"]) >= 5, "{cols}");
    // Exploitation context: EPSS history and SSVC on a released advisory.
    let a = json(
        get("/api/v1/advisories/CVE-2026-41001")
            .await
            .expect("advisory"),
    )
    .await;
    assert!(a["advisory"]["epss"]["epss"].as_f64().is_some(), "{a}");
    assert!(a["advisory"]["ssvc"]["exploitation"].is_string(), "{a}");
    let h = json(
        get("/api/v1/advisories/CVE-2026-41001/epss")
            .await
            .expect("epss"),
    )
    .await;
    assert_eq!(count(&h["scores"]), 14, "{h}");
    // The CSAF provider: the released TLP:CLEAR advisories are public.
    let index = client
        .get(format!("{base}/.well-known/csaf/white/index.txt"))
        .send()
        .await
        .expect("csaf index")
        .text()
        .await
        .expect("text");
    assert_eq!(index.lines().count(), 3, "the public CSAF folder: {index}");
    let _ = child.kill();
    let _ = child.wait();
}
