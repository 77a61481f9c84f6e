//! isx against independent implementations from PyPI (installed into .venv
//! by scripts/test): Python's `cvss` for scores, Python's `jsonschema` for
//! CSAF exports.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use isx_advisories::{CvssV3, CvssV4};

pub(crate) fn python() -> PathBuf {
    let p = std::env::var_os("ISX_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.venv/bin/python"
            ))
        });
    assert!(p.exists(), "{} is missing: run `bash scripts/test`, which prepares .venv with cvss and jsonschema from PyPI", p.display());
    p
}

/// The optional (§6.2) and informative (§6.3) findings of the official
/// validator library on `files`: `(file, test, message)` each.
pub(crate) fn csaf_validator_optional(files: &[PathBuf]) -> Vec<(String, String, String)> {
    let lib = std::env::var_os("CSAF_VALIDATOR_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.ci-node/node_modules/@secvisogram/csaf-validator-lib"
            ))
        });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/csaf-validator.mjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg("optional")
        .args(files)
        .env("CSAF_VALIDATOR_LIB", &lib)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "the CSAF validator library failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
                parts.next().unwrap_or("").to_owned(),
            ))
        })
        .collect()
}

/// Judges CSAF documents with the official validator library (BSI's
/// `@secvisogram/csaf-validator-lib`, installed by scripts/test into
/// .ci-node): each must pass the schema and every mandatory test.
pub(crate) fn csaf_validator(files: &[PathBuf]) {
    let lib = std::env::var_os("CSAF_VALIDATOR_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.ci-node/node_modules/@secvisogram/csaf-validator-lib"
            ))
        });
    assert!(
        lib.join("package.json").exists(),
        "{} is missing: run `bash scripts/test`, which installs the CSAF validator library from npm",
        lib.display()
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/csaf-validator.mjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg("valid")
        .args(files)
        .env("CSAF_VALIDATOR_LIB", &lib)
        .output()
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the CSAF validator library disagrees:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("{} documents, 0 disagreements", files.len())),
        "{text}"
    );
}

pub(crate) fn run_python(script: &str, input: &str) -> String {
    run_python_env(script, input, &[])
}

/// Runs `script` with `input` on stdin and extra environment variables.
pub(crate) fn run_python_env(script: &str, input: &str, envs: &[(&str, &str)]) -> String {
    let mut child = Command::new(python())
        .args(["-c", script])
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        xs[(self.0 % xs.len() as u64) as usize]
    }
}

fn v3_vectors(n: usize) -> Vec<String> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let version = if i % 5 == 0 { "3.0" } else { "3.1" };
            let mut v = format!(
                "CVSS:{version}/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
                r.pick(&["N", "A", "L", "P"]),
                r.pick(&["L", "H"]),
                r.pick(&["N", "L", "H"]),
                r.pick(&["N", "R"]),
                r.pick(&["U", "C"]),
                r.pick(&["N", "L", "H"]),
                r.pick(&["N", "L", "H"]),
                r.pick(&["N", "L", "H"]),
            );
            if i % 3 == 0 {
                v.push_str(&format!(
                    "/E:{}/RL:{}/RC:{}",
                    r.pick(&["X", "U", "P", "F", "H"]),
                    r.pick(&["X", "O", "T", "W", "U"]),
                    r.pick(&["X", "U", "R", "C"])
                ));
            }
            v
        })
        .collect()
}

fn v4_vectors(n: usize) -> Vec<String> {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    (0..n)
        .map(|i| {
            let mut v = format!(
                "CVSS:4.0/AV:{}/AC:{}/AT:{}/PR:{}/UI:{}/VC:{}/VI:{}/VA:{}/SC:{}/SI:{}/SA:{}",
                r.pick(&["N", "A", "L", "P"]),
                r.pick(&["L", "H"]),
                r.pick(&["N", "P"]),
                r.pick(&["N", "L", "H"]),
                r.pick(&["N", "P", "A"]),
                r.pick(&["H", "L", "N"]),
                r.pick(&["H", "L", "N"]),
                r.pick(&["H", "L", "N"]),
                r.pick(&["H", "L", "N"]),
                r.pick(&["H", "L", "N"]),
                r.pick(&["H", "L", "N"]),
            );
            if i % 4 == 0 {
                v.push_str(&format!("/E:{}", r.pick(&["X", "A", "P", "U"])));
            }
            v
        })
        .collect()
}

#[test]
fn cvss_scores_equal_pythons_cvss_package() {
    let v3 = v3_vectors(3000);
    let v4 = v4_vectors(1500);
    let script = "import sys\nfrom cvss import CVSS3, CVSS4\nfor line in sys.stdin:\n    v = line.strip()\n    c = CVSS4(v) if v.startswith('CVSS:4.0/') else CVSS3(v)\n    print(c.base_score)\n";
    let all: Vec<&String> = v3.iter().chain(v4.iter()).collect();
    let input = all
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let expected: Vec<f64> = run_python(script, &input)
        .lines()
        .map(|l| l.trim().parse().expect("python score"))
        .collect();
    assert_eq!(expected.len(), all.len());
    let mut mismatches = Vec::new();
    for (v, want) in all.iter().zip(&expected) {
        let got = if v.starts_with("CVSS:4.0/") {
            CvssV4::parse(v).expect("v4").score()
        } else {
            CvssV3::parse(v).expect("v3").score()
        };
        if (got - want).abs() > 1e-9 {
            mismatches.push(format!("{v}: isx {got}, python {want}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} scores differ:\n{}",
        mismatches.len(),
        all.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn csaf_exports_validate_with_python_jsonschema() {
    let data = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/csaf"
    ));
    let schema_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../formats/schema"));
    let out = tempfile::tempdir().expect("tempdir");
    let ctx = |id: &str, is_final| isx_formats::csaf::ExportContext {
        publisher_name: "isx test".into(),
        publisher_namespace: "https://isx.example".into(),
        tracking_id: id.into(),
        title: "export".into(),
        tlp: isx_domain::Tlp::AmberStrict,
        is_final,
        initial_release: isx_domain::Timestamp::from_secs(1_800_000_000),
        current_release: isx_domain::Timestamp::from_secs(1_800_000_000),
    };
    let mut n = 0;
    for name in [
        "bsi-2022-0001.json",
        "rhsa-2021_5217.json",
        "rhsa-2022_0011.json",
        "2022-evd-uc-01-a-001.json",
    ] {
        let doc = isx_formats::csaf::parse(&std::fs::read(data.join(name)).expect("read"))
            .expect("parse");
        for (i, a) in doc.advisories.iter().enumerate() {
            for is_final in [false, true] {
                let exported = isx_formats::csaf::to_csaf(a, &ctx(&format!("ISX-{i}"), is_final));
                std::fs::write(
                    out.path().join(format!("{n}.json")),
                    serde_json::to_vec(&exported).expect("ser"),
                )
                .expect("write");
                n += 1;
            }
        }
    }
    assert!(n >= 6);
    let script = r#"
import json, sys, pathlib
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
schemas = pathlib.Path(sys.argv[1])
registry = Registry()
for name in ["cvss-v2.0.json", "cvss-v3.0.json", "cvss-v3.1.json"]:
    # The CVSS schemas are draft-04/07 documents referenced by URL; the
    # CSAF schema validates instances against them as plain schema content.
    registry = registry.with_resource("https://www.first.org/cvss/" + name, Resource.opaque(json.loads((schemas / name).read_text())))
csaf = json.loads((schemas / "csaf_json_schema.json").read_text())
v = Draft202012Validator(csaf, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
bad = 0
for f in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
    for e in v.iter_errors(json.loads(f.read_text())):
        bad += 1
        print(f.name, "/".join(map(str, e.absolute_path)), e.message)
print("checked", len(list(pathlib.Path(sys.argv[2]).glob("*.json"))), "invalid", bad)
"#;
    let child = Command::new(python())
        .args(["-c", script])
        .arg(&schema_dir)
        .arg(out.path())
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&child.stdout).into_owned();
    assert!(
        child.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(
        text.trim_end().ends_with(&format!("checked {n} invalid 0")),
        "{text}"
    );
    // And the official validator library: schema and mandatory tests.
    let files: Vec<PathBuf> = (0..n)
        .map(|i| out.path().join(format!("{i}.json")))
        .collect();
    csaf_validator(&files);
}

/// URL feed files read by independent tools: every STIX bundle passes the
/// OASIS `stix2-validator` in strict mode and parses with `stix2` without
/// custom content; the JSON full set parses with Python's plain `json`; each
/// manifest signature verifies with Python `cryptography` (Ed25519) over
/// the documented text, and each SHA-256 matches.
async fn url_feed_files_pass_independent_checks(backend: crate::support::app::Backend) {
    use crate::support::app::TestApp;
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "text/csv")
        .body(crate::urls::URLHAUS_CSV)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    // AMBER (not AMBER+STRICT, which never enters shared feed files).
    let amber = "{\"url\":\"http://quote.example/it's\\\\odd\",\"threat\":\"scam\",\"tlp\":\"amber\",\"tags\":[\"x\"]}\n";
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "application/x-ndjson")
        .body(amber)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    app.clock
        .set(isx_domain::Clock::now(app.clock.as_ref()).add_secs(3 * 3600 + 1));
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("ctx");
    isx_app::url_files::produce_due(&ctx)
        .await
        .expect("produce");
    let dir = tempfile::tempdir().expect("tempdir");
    let (manifest, entries) = download_feed(&app, "urls", dir.path()).await;
    let full_stix = entries
        .iter()
        .filter(|e| e["format"] == "stix" && e["records"].as_i64() == Some(5))
        .count();
    assert!(full_stix >= 1, "a STIX file with all five records");
    let input = serde_json::json!({"public_key": manifest["public_key"], "files": entries});
    let out: serde_json::Value =
        serde_json::from_str(&run_python(FEED_CHECKS, &input.to_string())).expect("python json");
    assert_eq!(out["signatures"].as_u64(), Some(entries.len() as u64));
    assert!(out["stix"].as_u64().unwrap_or(0) >= 2);
    assert!(out["indicators"].as_u64().unwrap_or(0) >= 5);
    assert!(out["json"].as_u64().unwrap_or(0) >= 2);
}

/// Downloads every file of a product's manifest as member A into `dir`;
/// returns the manifest and its entries, each with the local `path`.
pub(crate) async fn download_feed(
    app: &crate::support::app::TestApp,
    product: &str,
    dir: &std::path::Path,
) -> (serde_json::Value, Vec<serde_json::Value>) {
    let manifest: serde_json::Value = app
        .get_json(&format!("/api/v1/feeds/{product}"), &app.a.token)
        .await;
    let mut entries = Vec::new();
    for f in manifest["files"].as_array().expect("files") {
        let name = f["name"].as_str().expect("name");
        let res = app
            .get(&format!("/api/v1/feeds/{product}/{name}"), &app.a.token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{name}");
        let body = res.bytes().await.expect("bytes");
        let path = dir.join(name);
        std::fs::write(&path, &body).expect("write");
        let mut e = f.clone();
        e["path"] = serde_json::Value::String(path.display().to_string());
        entries.push(e);
    }
    (manifest, entries)
}

/// Runs [`FEED_CHECKS`] over downloaded files and checks that every
/// signature was verified; returns the counts.
pub(crate) fn check_feed(
    manifest: &serde_json::Value,
    entries: &[serde_json::Value],
) -> serde_json::Value {
    let input = serde_json::json!({"public_key": manifest["public_key"], "files": entries});
    let out: serde_json::Value =
        serde_json::from_str(&run_python(FEED_CHECKS, &input.to_string())).expect("python json");
    assert_eq!(out["signatures"].as_u64(), Some(entries.len() as u64));
    out
}

/// Checks downloaded feed files independently: SHA-256, the Ed25519
/// signature of each manifest entry (Python `cryptography`), STIX bundles
/// with `stix2-validator` (strict) and `stix2.parse`, JSON arrays with
/// Python's `json`. Prints counts.
const FEED_CHECKS: &str = r#"
import base64, hashlib, json, sys
import stix2
from stix2validator import validate_string, ValidationOptions
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
doc = json.load(sys.stdin)
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"]))
checked = {"stix": 0, "json": 0, "signatures": 0, "indicators": 0}
for f in doc["files"]:
    data = open(f["path"], "rb").read()
    assert hashlib.sha256(data).hexdigest() == f["sha256"], f["name"]
    text = "\n".join(["isx-feed-file-v1", f["name"], f["product"], f["kind"], f["sha256"], str(f["size"]),
                      str(f["records"]), f["period_start"], f["period_end"]]) + "\n"
    key.verify(base64.b64decode(f["signature"]), text.encode())
    checked["signatures"] += 1
    if f["format"] == "stix":
        results = validate_string(data.decode(), ValidationOptions(strict=True, version="2.1"))
        if not results.is_valid:
            for r in results.errors: print("ERROR", f["name"], r, file=sys.stderr)
            for r in results.warnings: print("WARNING", f["name"], r, file=sys.stderr)
            sys.exit(1)
        bundle = stix2.parse(data.decode(), allow_custom=False)
        checked["indicators"] += sum(1 for o in bundle.objects if o.type == "indicator")
        checked["stix"] += 1
    if f["format"] == "json":
        rows = json.loads(data)
        assert isinstance(rows, list) and len(rows) == f["records"], f["name"]
        checked["json"] += 1
print(json.dumps(checked))
"#;

async fn botnet_files_pass_independent_checks(backend: crate::support::app::Backend) {
    use crate::support::app::TestApp;
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let t0 = isx_domain::Clock::now(app.clock.as_ref());
    let t = t0.to_rfc3339();
    let body = format!(
        "product,ip,port,dst_ip,dst_port,domain,family,status,protocol,time,tlp\n\
         infected,192.0.2.10,5555,203.0.113.250,80,,emotet,,tcp,{t},amber\n\
         infected,192.0.2.10,5555,203.0.113.250,80,,emotet,,tcp,{t},red\n\
         iot,2001:db8::7,23,,,,mirai,,udp,{t},amber\n\
         c2,203.0.113.66,443,,,panel.evil.test,emotet,online,,{t},green\n\
         domains,,,,,dga-xyz.test,necurs,,,{t},clear\n"
    );
    let res = app
        .req(reqwest::Method::POST, "/api/v1/botnet/events", &op)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    app.clock.set(t0.add_secs(3600 + 60));
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("ctx");
    isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("produce");
    let dir = tempfile::tempdir().expect("tempdir");
    let (manifest, entries) = download_feed(&app, "botnet", dir.path()).await;
    let mine = entries
        .iter()
        .filter(|e| {
            e["format"] == "stix"
                && e["member"] == app.a.member.id.0
                && e["records"].as_i64() == Some(1)
        })
        .count();
    assert!(
        mine >= 1,
        "A's batch in STIX with its one (deduplicated) row: {:?}",
        entries
            .iter()
            .map(|e| (e["name"].clone(), e["member"].clone(), e["records"].clone()))
            .collect::<Vec<_>>()
    );
    let input = serde_json::json!({"public_key": manifest["public_key"], "files": entries});
    let out: serde_json::Value =
        serde_json::from_str(&run_python(FEED_CHECKS, &input.to_string())).expect("python json");
    assert_eq!(out["signatures"].as_u64(), Some(entries.len() as u64));
    assert!(out["stix"].as_u64().unwrap_or(0) >= 2, "{out}");
    assert!(
        out["indicators"].as_u64().unwrap_or(0) >= 2,
        "the C2 and the domain: {out}"
    );
}

crate::on_both_backends!(
    url_feed_files_pass_independent_checks,
    botnet_files_pass_independent_checks
);

/// The optional (§6.2) and informative (§6.3) tests: on every case
/// document isx ships, isx and the official validator library find the
/// same tests failing (the tests isx does not run — 6.2.13, 6.2.20,
/// 6.3.6–6.3.9 — are left out of the comparison).
#[test]
fn optional_csaf_tests_agree_with_the_validator_library() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/testdata/csaf-optional"
    ));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let skipped = ["6.2.13", "6.2.20", "6.3.6", "6.3.7", "6.3.8", "6.3.9"];
    let theirs: std::collections::BTreeSet<(String, String)> = csaf_validator_optional(&files)
        .into_iter()
        .filter(|(_, t, _)| !skipped.contains(&t.as_str()))
        .map(|(f, t, _)| (f, t))
        .collect();
    let mut ours = std::collections::BTreeSet::new();
    for f in &files {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(f).expect("read")).expect("json");
        let name = f.file_name().expect("name").to_string_lossy().into_owned();
        for finding in isx_formats::csaf::optional::run(&doc) {
            ours.insert((name.clone(), finding.test.to_owned()));
        }
    }
    assert!(
        files.len() >= 50 && theirs.len() >= 25,
        "{} files, {} findings",
        files.len(),
        theirs.len()
    );
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "isx only: {only_ours:?}\nthe library only: {only_theirs:?}"
    );
}

/// CSAF test 6.1.9 on CVSS v2: for every base vector (729) and 1,500
/// vectors with temporal and environmental metrics, the scores PyPI's
/// `cvss` computes are accepted, and a stated score 0.1 off is refused.
#[test]
fn cvss_v2_computation_agrees_with_pythons_cvss_package() {
    let pick = |seed: &mut u64, options: &[&'static str]| -> &'static str {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        options[(*seed >> 33) as usize % options.len()]
    };
    let mut vectors = Vec::new();
    for av in ["L", "A", "N"] {
        for ac in ["H", "M", "L"] {
            for au in ["M", "S", "N"] {
                for c in ["N", "P", "C"] {
                    for i in ["N", "P", "C"] {
                        for a in ["N", "P", "C"] {
                            vectors.push(format!("AV:{av}/AC:{ac}/Au:{au}/C:{c}/I:{i}/A:{a}"));
                        }
                    }
                }
            }
        }
    }
    let mut seed = 7u64;
    for _ in 0..1500 {
        let base = vectors[(seed >> 20) as usize % 729].clone();
        let mut v = base;
        for (k, opts) in [
            ("E", &["U", "POC", "F", "H", "ND"][..]),
            ("RL", &["OF", "TF", "W", "U", "ND"][..]),
            ("RC", &["UC", "UR", "C", "ND"][..]),
            ("CDP", &["N", "L", "LM", "MH", "H", "ND"][..]),
            ("TD", &["N", "L", "M", "H", "ND"][..]),
            ("CR", &["L", "M", "H", "ND"][..]),
            ("IR", &["L", "M", "H", "ND"][..]),
            ("AR", &["L", "M", "H", "ND"][..]),
        ] {
            v.push_str(&format!("/{k}:{}", pick(&mut seed, opts)));
        }
        vectors.push(v);
    }
    let script = "import sys\nfrom cvss import CVSS2\nfor line in sys.stdin:\n    b, t, e = CVSS2(line.strip()).scores()\n    print(b, t, e)\n";
    let out = run_python(script, &vectors.join("\n"));
    let mut mismatches = Vec::new();
    for (v, line) in vectors.iter().zip(out.lines()) {
        // Python gives None for the temporal and environmental scores of a
        // vector without those metrics: not stated then.
        let s: Vec<Option<f64>> = line
            .split_whitespace()
            .map(|x| (x != "None").then(|| x.parse().expect("score")))
            .collect();
        let base = s[0].expect("base score");
        let doc = |base: f64| {
            let mut c = serde_json::json!({"version": "2.0", "vectorString": v, "baseScore": base});
            if let Some(t) = s[1] {
                c["temporalScore"] = t.into();
            }
            if let Some(e) = s[2] {
                c["environmentalScore"] = e.into();
            }
            serde_json::json!({"vulnerabilities": [{"scores": [{"products": ["P"], "cvss_v2": c}]}]})
        };
        let mut found = Vec::new();
        isx_formats::csaf::mandatory::invalid_cvss_computation(&doc(base), &mut found);
        if !found.is_empty() {
            mismatches.push(format!("{v}: python {line}, isx {found:?}"));
        }
        let mut off = Vec::new();
        isx_formats::csaf::mandatory::invalid_cvss_computation(&doc(base + 0.1), &mut off);
        assert!(
            off.iter().any(|f| f.pointer.ends_with("/baseScore")),
            "{v}: a wrong base score must be found"
        );
    }
    assert_eq!(out.lines().count(), vectors.len());
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        vectors.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
