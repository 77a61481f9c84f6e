//! Clean file metadata end to end: import, exact bulk lookups (hits,
//! misses and malformed hashes mixed, by position) on both engines, single
//! lookups by each algorithm, removal, merges of the hash set, the
//! 3-hourly delta/full/Bloom files checked independently (Python `flor`
//! reads the Bloom filter), and CIRCL's own client `pyhashlookup` against
//! isx unchanged.

use std::collections::BTreeMap;

use isx_domain::Clock;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::app::{Backend, TestApp};

/// A generated known-good file: SHA-256 of its name; SHA-1 and MD5 taken
/// from other digests (their values only need to be distinct and stable).
pub(crate) struct Gen {
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
    pub name: String,
}

pub(crate) fn generated(i: usize) -> Gen {
    let name = format!("file-{i}.dll");
    let d = |salt: &str| hex::encode(Sha256::digest(format!("{salt}{name}").as_bytes()));
    Gen {
        sha256: d(""),
        sha1: d("sha1:")[..40].to_owned(),
        md5: d("md5:")[..32].to_owned(),
        name,
    }
}

pub(crate) fn csv_of(range: std::ops::Range<usize>) -> String {
    let mut csv = String::from("sha256,sha1,md5,size,file_name,product,version,vendor\n");
    for i in range {
        let g = generated(i);
        csv.push_str(&format!(
            "{},{},{},{},{},Product {},{}.0,Vendor {}\n",
            g.sha256,
            g.sha1.to_uppercase(),
            g.md5,
            1000 + i,
            g.name,
            i % 7,
            i % 3,
            i % 5
        ));
    }
    csv
}

async fn import(app: &TestApp, token: &str, csv: String) -> reqwest::Response {
    app.req(
        reqwest::Method::POST,
        "/api/v1/cleanfiles?source=test",
        token,
    )
    .header("content-type", "text/csv")
    .body(csv)
    .send()
    .await
    .expect("send")
}

async fn bulk(app: &TestApp, query: &str, accept: &str, body: String) -> reqwest::Response {
    app.req(
        reqwest::Method::POST,
        &format!("/api/v1/cleanfiles/lookup{query}"),
        &app.a.token,
    )
    .header("content-type", "application/json")
    .header("accept", accept)
    .body(body)
    .send()
    .await
    .expect("send")
}

async fn bulk_lookup_is_exact(backend: Backend) {
    // A tiny merge threshold: imports after the first are merged into new
    // hash set generations, so lookups go through files and overlay both.
    let app = TestApp::spawn_with(backend, |c| c.clean_merge_threshold = 500).await;
    let op = app.operator.token.clone();
    assert_eq!(
        import(&app, &app.a.token, csv_of(0..10)).await.status(),
        StatusCode::FORBIDDEN,
        "members do not import"
    );
    let bad = import(&app, &op, format!("{}zz,x\n", csv_of(0..3))).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["pointer"], "/line/5", "{problem}");
    for part in [0..1000, 1000..2000, 2000..3000] {
        let res = import(&app, &op, csv_of(part)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let r: Value = res.json().await.expect("report");
        assert_eq!(r["added"], 1000, "{r}");
    }
    let again: Value = import(&app, &op, csv_of(0..3000))
        .await
        .json()
        .await
        .expect("report");
    assert_eq!(
        (again["added"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(3000))
    );
    assert!(
        std::fs::read_dir(app.data_dir.path().join("cleanfiles"))
            .expect("set dir")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("sha256-")),
        "the overlay was merged into a set file"
    );

    // Known (every algorithm), unknown and malformed, in a known order.
    let mut hashes = Vec::new();
    let mut want: Vec<Option<bool>> = Vec::new();
    for i in 0..4000usize {
        let g = generated(i);
        let h = match i % 3 {
            0 => g.sha256,
            1 => g.sha1,
            _ => g.md5.to_uppercase(),
        };
        hashes.push(h);
        want.push(Some(i < 3000));
    }
    // (A megabyte of garbage is repeated back by its first 128 characters.)
    let huge = "q".repeat(1 << 20);
    for (at, bad) in [
        (5usize, "zz"),
        (777, "abc"),
        (3999, &"g".repeat(64)[..]),
        (1234, &huge[..]),
    ] {
        hashes[at] = bad.to_owned();
        want[at] = None;
    }
    let body = serde_json::to_string(&hashes).expect("json");
    let res = bulk(&app, "", "application/x-ndjson", body.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let text = res.text().await.expect("text");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert_eq!(lines.len(), 4000);
    for (i, (l, w)) in lines.iter().zip(&want).enumerate() {
        assert_eq!(l["index"], i, "{l}");
        match w {
            None => {
                assert!(l["error"].is_string(), "{l}");
                assert!(l["hash"].as_str().is_some_and(|h| h.len() <= 128), "{i}");
            }
            Some(k) => {
                assert_eq!(l["known"].as_bool(), Some(*k), "{i}: {l}");
                if *k {
                    assert_eq!(l["file"]["file_name"], format!("file-{i}.dll"), "{l}");
                }
            }
        }
    }
    // The same answers without metadata, as a JSON array, and as CSV.
    let res = bulk(&app, "?metadata=false", "application/json", body.clone()).await;
    let arr: Vec<Value> = res.json().await.expect("array");
    assert_eq!(arr.len(), 4000);
    for (l, w) in arr.iter().zip(&want) {
        assert_eq!(l["known"].as_bool(), *w, "{l}");
        assert!(l.get("file").is_none());
    }
    let csv = bulk(&app, "?format=csv", "*/*", body)
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), 4001);
    assert!(csv.lines().nth(1).expect("row").starts_with("0,"));
    // Text, one hash per line.
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/cleanfiles/lookup",
            &app.b.token,
        )
        .header("content-type", "text/plain")
        .body(format!(
            "{}\n\n{}\n",
            generated(1).sha256,
            generated(99_999).sha256
        ))
        .send()
        .await
        .expect("send");
    let text = res.text().await.expect("text");
    let known: Vec<bool> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("line")["known"]
                .as_bool()
                .expect("known")
        })
        .collect();
    assert_eq!(known, vec![true, false]);

    // More than 1,000,000 hashes: 413, nothing looked up.
    let too_many = format!("[{}\"a\"]", "\"a\",".repeat(1_000_000));
    let res = bulk(&app, "", "application/x-ndjson", too_many).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let p: Value = res.json().await.expect("problem");
    assert!(
        p["detail"].as_str().unwrap_or("").contains("1000000"),
        "{p}"
    );

    // Single lookups.
    let g = generated(42);
    let one = app
        .get_json(&format!("/api/v1/cleanfiles/sha1/{}", g.sha1), &app.a.token)
        .await;
    assert_eq!(one["known"], true);
    assert_eq!(one["files"][0]["sha256"], g.sha256);
    assert_eq!(one["files"][0]["source"], "test");
    for (path, status) in [
        (
            format!("/api/v1/cleanfiles/sha256/{}", g.sha256),
            StatusCode::OK,
        ),
        (format!("/api/v1/cleanfiles/md5/{}", g.md5), StatusCode::OK),
        (
            format!("/api/v1/cleanfiles/sha256/{}", generated(5000).sha256),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/cleanfiles/sha256/abc".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/cleanfiles/crc32/abcd".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let res = app.get(&path, &app.b.token).send().await.expect("send");
        assert_eq!(res.status(), status, "{path}");
        if status != StatusCode::OK {
            let p: Value = res.json().await.expect("problem");
            assert!(p["title"].is_string(), "{p}");
        }
    }

    // Removal: operator only; gone from every channel at once.
    let del = |token: String| {
        app.req(
            reqwest::Method::DELETE,
            &format!("/api/v1/cleanfiles/sha256/{}", g.sha256),
            &token,
        )
        .send()
    };
    assert_eq!(
        del(app.a.token.clone()).await.expect("send").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        del(op.clone()).await.expect("send").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        del(op.clone()).await.expect("send").status(),
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/api/v1/cleanfiles/sha256/{}", g.sha256),
        format!("/api/v1/cleanfiles/sha1/{}", g.sha1),
    ] {
        let res = app.get(&path, &app.a.token).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let stats = app.get_json("/api/v1/cleanfiles/stats", &app.a.token).await;
    assert_eq!(stats["files"], 2999);
    assert!(
        stats["bytes_per_sha256"].as_f64().expect("bytes") <= 40.0,
        "{stats}"
    );
    let metrics = app.get_text("/metrics", &op).await;
    assert!(metrics.contains("isx_cleanfiles_lookups_total"), "metrics");
}

/// The Bloom filter (read by DCSO's Python `flor`), the delta and the full
/// set, their signatures and SHA-256 (the shared feed checks).
const BLOOM_CHECK: &str = r#"
import json, sys
from flor import BloomFilter
doc = json.load(sys.stdin)
bf = BloomFilter()
with open(doc["bloom"], "rb") as f:
    bf.read(f)
hits = sum(1 for h in doc["members"] if h.upper().encode() in bf)
false = sum(1 for h in doc["others"] if h.upper().encode() in bf)
print(json.dumps({"hits": hits, "false": false, "n": bf.N}))
"#;

async fn feed_files_delta_full_and_bloom() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let op = app.operator.token.clone();
    let t0 = app.clock.now();
    assert_eq!(
        import(&app, &op, csv_of(0..300)).await.status(),
        StatusCode::OK
    );
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("feed context");
    app.clock.set(t0.add_secs(3 * 3600));
    let runs = isx_app::cleanfile_files::produce_due(&ctx)
        .await
        .expect("produce");
    assert!(!runs.is_empty());
    assert!(
        isx_app::cleanfile_files::produce_due(&ctx)
            .await
            .expect("again")
            .is_empty(),
        "no slot twice"
    );
    // A removal and 20 more files; the next slot's delta says exactly that.
    let g = generated(7);
    let res = app
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v1/cleanfiles/sha256/{}", g.sha256),
            &op,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        import(&app, &op, csv_of(300..320)).await.status(),
        StatusCode::OK
    );
    app.clock.set(t0.add_secs(6 * 3600 + 60));
    isx_app::cleanfile_files::produce_due(&ctx)
        .await
        .expect("produce");
    let dir = tempfile::tempdir().expect("tempdir");
    let (manifest, entries) = crate::oracles::download_feed(&app, "cleanfiles", dir.path()).await;
    let newest_delta = entries
        .iter()
        .filter(|e| e["kind"] == "delta" && e["format"] == "ndjson")
        .max_by_key(|e| e["slot"].as_str().map(str::to_owned))
        .expect("delta");
    let rows: Vec<Value> = std::fs::read_to_string(newest_delta["path"].as_str().expect("path"))
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("row"))
        .collect();
    let ops: BTreeMap<&str, usize> = rows.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["op"].as_str().expect("op")).or_default() += 1;
        m
    });
    assert_eq!(
        ops,
        BTreeMap::from([("added", 20), ("removed", 1)]),
        "{rows:?}"
    );
    assert!(rows
        .iter()
        .any(|r| r["op"] == "removed" && r["sha256"] == g.sha256));
    // Signatures and hashes of every file, independently.
    crate::oracles::check_feed(&manifest, &entries);
    // The newest Bloom filter holds every file's hashes and few others.
    let bloom = app
        .get("/api/v1/feeds/cleanfiles/latest.bloom", &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(bloom.status(), StatusCode::OK);
    let path = dir.path().join("latest.bloom");
    std::fs::write(&path, bloom.bytes().await.expect("bytes")).expect("write");
    let mut members = Vec::new();
    for i in (0..320).filter(|i| *i != 7) {
        let g = generated(i);
        members.extend([g.sha256, g.sha1, g.md5]);
    }
    let others: Vec<String> = (10_000..12_000).map(|i| generated(i).sha256).collect();
    let input = serde_json::json!({"bloom": path, "members": members, "others": others});
    let out: Value =
        serde_json::from_str(&crate::oracles::run_python(BLOOM_CHECK, &input.to_string()))
            .expect("python json");
    assert_eq!(out["hits"].as_u64(), Some(members.len() as u64), "{out}");
    assert!(out["false"].as_u64().expect("false") < 20, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_files_delta_full_and_bloom_sqlite() {
    feed_files_delta_full_and_bloom().await;
}

/// CIRCL's own Python client, unchanged, every method it has but the two
/// that ask CIRCL's DNS servers (`*_over_dns`, `info_over_dns`: they name
/// `dns.hashlookup.circl.lu` and take no server address) — single lookups
/// by each algorithm, bulk MD5 and SHA-1, `lookup` of one hash and of a
/// list, parents and children with paging, `top` and `info` —
/// authenticated with the key id and secret in the URL (HTTP Basic),
/// verifying isx's certificate; then hashlookup's sessions (which
/// pyhashlookup does not wrap) with `requests` and the session header.
const PYHASHLOOKUP: &str = r#"
import json, sys, requests
from urllib.parse import quote
from pyhashlookup import Hashlookup
doc = json.load(sys.stdin)
h = Hashlookup(root_url=doc["url"])
out = {}
out["sha256"] = h.sha256_lookup(doc["sha256"])
out["sha1"] = h.sha1_lookup(doc["sha1"])
out["md5"] = h.md5_lookup(doc["md5"])
out["unknown"] = h.md5_lookup("0" * 32)
out["bulk_md5"] = h.md5_bulk_lookup(doc["md5s"])
out["bulk_sha1"] = h.sha1_bulk_lookup(doc["sha1s"])
out["lookup"] = h.lookup(doc["sha1"])
out["lookup_list"] = h.lookup(doc["md5s"][:1])
out["package"] = h.sha1_lookup(doc["package"])
out["extra"] = h.sha1_lookup(doc["extra"])
out["children_1"] = h.sha1_children(doc["package"], count=2)
out["children_2"] = h.sha1_children(doc["package"], count=2, cursor=out["children_1"]["cursor"])
out["parents"] = h.sha1_parents(doc["sha1"])
out["no_children"] = h.sha1_children(doc["sha1"])
out["info"] = h.info()
out["top"] = h.top()
b = Hashlookup(root_url=doc["url_b"])
out["top_b"] = b.top()

# Sessions: created by A, used with the header, read back; B's view.
def get(url, path, **kw):
    r = requests.get(url + path, **kw)
    return {"status": r.status_code, "body": r.json()}
out["created"] = get(doc["url"], "session/create/case-1")
s = requests.Session()
s.headers["hashlookup_session"] = "case-1"
s.get(doc["url"] + "lookup/md5/" + doc["session_md5"])
s.get(doc["url"] + "lookup/sha1/" + doc["session_sha1"])
s.get(doc["url"] + "lookup/md5/" + "0" * 32)
out["session"] = get(doc["url"], "session/get/case-1")
out["matches"] = get(doc["url"], "session/matches/case-1")
out["session_b"] = get(doc["url_b"], "session/get/case-1")
out["bad_name"] = get(doc["url"], "session/create/" + quote("a b"))
out["bad_count"] = get(doc["url"], "children/" + doc["package"] + "/0/0")
out["bad_sha1"] = get(doc["url"], "parents/xyz")
out["bad_utf8"] = get(doc["url"], "lookup/sha1/" + "a" * 38 + "%FF")
# The same hash 2,500 times (a disk holds one DLL many times): each answer
# is the file's record with its evidence counted once.
out["repeated"] = h.sha1_bulk_lookup([doc["sha1"]] * 2500)
print(json.dumps(out))
"#;

/// The files of the hashlookup test beyond `csv_of(0..50)` ("test"): a
/// Debian package (file 100) holding files 3, 5 and 60, file 3 also in a
/// package isx does not list (file 101, named only by its SHA-256), and
/// file 60 with NSRL's CRC32, operating system and special code.
fn debian_csv() -> String {
    let (pkg, other) = (generated(100), generated(101));
    let mut csv = String::from(
        "sha256,sha1,md5,file_name,crc32,os_name,os_version,special_code,parent_sha256,source\n",
    );
    csv.push_str(&format!(
        "{},{},{},pkg-100.deb,,,,,,Debian\n",
        pkg.sha256, pkg.sha1, pkg.md5
    ));
    for (i, parents) in [
        (3, format!("{} {}", pkg.sha256, other.sha256)),
        (5, pkg.sha256.clone()),
        (60, pkg.sha256.clone()),
    ] {
        let g = generated(i);
        // crc32, os_name, os_version, special_code
        let extra = if i == 60 {
            "1a2b3c4d,Debian,12,S"
        } else {
            ",,,"
        };
        csv.push_str(&format!(
            "{},{},{},{},{extra},{parents},Debian\n",
            g.sha256, g.sha1, g.md5, g.name
        ));
    }
    csv
}

fn basic_url(app: &TestApp, token: &str) -> String {
    let (key_id, secret) = token[4..].split_once('_').expect("token shape");
    app.url("/")
        .replacen("https://", &format!("https://{key_id}:{secret}@"), 1)
}

async fn pyhashlookup_every_method(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for csv in [csv_of(0..50), debian_csv()] {
        assert_eq!(
            import(&app, &app.operator.token, csv).await.status(),
            StatusCode::OK
        );
    }
    let g = generated(3);
    let (pkg, other) = (generated(100), generated(101));
    let input = serde_json::json!({
        "url": basic_url(&app, &app.a.token),
        "url_b": basic_url(&app, &app.b.token),
        "sha256": g.sha256, "sha1": g.sha1, "md5": g.md5,
        "md5s": [generated(1).md5, "f".repeat(32), "not-a-hash", generated(2).md5],
        "sha1s": [generated(4).sha1, "e".repeat(40), "xyz"],
        "package": pkg.sha1, "extra": generated(60).sha1,
        "session_md5": generated(4).md5,
        "session_sha1": generated(4).sha1,
    });
    let ca = app.data_dir.path().join("tls").join("ca.pem");
    let run = |input: &Value| {
        let out = crate::oracles::run_python_env(
            PYHASHLOOKUP,
            &input.to_string(),
            &[("REQUESTS_CA_BUNDLE", ca.to_str().expect("path"))],
        );
        serde_json::from_str::<Value>(&out).expect("python json")
    };
    let out = run(&input);
    // Lookups by each algorithm, in CIRCL's field names.
    assert_eq!(out["sha256"]["SHA-256"], g.sha256.to_uppercase(), "{out}");
    assert_eq!(out["sha256"]["FileName"], "file-3.dll");
    assert_eq!(out["sha1"]["MD5"], g.md5.to_uppercase());
    assert_eq!(out["md5"]["SHA-1"], g.sha1.to_uppercase());
    assert_eq!(out["md5"]["ProductCode"]["ProductName"], "Product 3");
    assert_eq!(out["unknown"]["message"], "Non existing MD5");
    // Trust from the evidence: file 3 is named by two sources and found
    // in two packages (50 + 2×20 + 2×5); file 4 by one source (70).
    assert_eq!(
        out["sha1"]["sources"],
        serde_json::json!(["Debian", "test"])
    );
    assert_eq!(out["sha1"]["hashlookup:trust"], 100, "{out}");
    assert_eq!(out["sha1"]["hashlookup:parent-total"], 2);
    let parents = out["sha1"]["parents"].as_array().expect("parents");
    assert_eq!(parents.len(), 2, "{out}");
    assert!(parents.iter().any(|p| p["FileName"] == "pkg-100.deb"));
    assert!(parents
        .iter()
        .any(|p| p["SHA-256"] == other.sha256.to_uppercase() && p.get("FileName").is_none()));
    let bulk_sha1 = out["bulk_sha1"].as_array().expect("list");
    assert_eq!(bulk_sha1.len(), 3);
    assert_eq!(bulk_sha1[0]["FileName"], "file-4.dll");
    assert_eq!(bulk_sha1[0]["hashlookup:trust"], 70);
    assert_eq!(
        bulk_sha1[1],
        serde_json::json!({}),
        "an unknown SHA-1 is {{}}"
    );
    // A malformed hash answers as an unknown one does.
    assert_eq!(bulk_sha1[2], serde_json::json!({}), "{out}");
    let bulk_md5 = out["bulk_md5"].as_array().expect("list");
    assert_eq!(bulk_md5.len(), 2, "unknown MD5s are left out: {out}");
    assert_eq!(bulk_md5[1]["FileName"], "file-2.dll");
    assert_eq!(out["lookup"]["FileName"], "file-3.dll");
    assert_eq!(out["lookup_list"][0]["FileName"], "file-1.dll");
    // CRC32, operating system and special code, where the source gave them.
    assert_eq!(out["extra"]["CRC32"], "1A2B3C4D", "{out}");
    assert_eq!(out["extra"]["OpSystemCode"]["OpSystemName"], "Debian");
    assert_eq!(out["extra"]["OpSystemCode"]["OpSystemVersion"], "12");
    assert_eq!(out["extra"]["SpecialCode"], "S");
    assert_eq!(out["extra"]["hashlookup:trust"], 75);
    assert!(out["sha1"].get("CRC32").is_none(), "not given: not made up");
    // The package's children, in pages of two.
    assert_eq!(out["package"]["hashlookup:children-total"], 3);
    assert_eq!(out["package"]["children"].as_array().map(Vec::len), Some(3));
    let mut children: Vec<String> = [3, 5, 60]
        .iter()
        .map(|i| generated(*i).sha1.to_uppercase())
        .collect();
    let mut paged = Vec::new();
    for page in ["children_1", "children_2"] {
        assert_eq!(out[page]["total"], 3, "{out}");
        for c in out[page]["children"].as_array().expect("children") {
            paged.push(c.as_str().expect("sha1").to_owned());
        }
    }
    assert_eq!(
        out["children_1"]["children"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(out["children_1"]["cursor"], "2");
    assert_eq!(
        out["children_2"]["cursor"], "0",
        "the last page ends the list"
    );
    let mut sorted = paged.clone();
    sorted.sort();
    children.sort();
    assert_eq!(sorted, children, "every child once: {paged:?}");
    assert_eq!(out["parents"]["total"], 2);
    assert_eq!(
        out["no_children"]["message"],
        "The SHA1 value has no known child."
    );
    // /info in CIRCL's shape.
    assert!(out["info"]["hashlookup-version"]
        .as_str()
        .is_some_and(|v| v.starts_with("isx")));
    assert_eq!(out["info"]["isx-files"], "52");
    assert_eq!(out["info"]["nsrl-NSRLMfg"], "5");
    assert_eq!(out["info"]["nsrl-NSRLProd"], "7");
    assert_eq!(out["info"]["nsrl-NSRLOS"], "1");
    // /stats/top: A's own single lookups, most first; B looked up nothing.
    let top = &out["top"];
    assert_eq!(
        top["exist"][0]["SHA-1"],
        serde_json::json!([g.sha1.to_uppercase(), 2]),
        "{top}"
    );
    assert_eq!(top["exist"][0]["FileName"], "file-3.dll");
    assert!(top["nx"]
        .as_array()
        .expect("nx")
        .iter()
        .any(|e| e[0] == "0".repeat(32)));
    assert_eq!(
        out["top_b"],
        serde_json::json!({"nx": [], "exist": []}),
        "{out}"
    );
    // Sessions: A's session noted both lookups; B has no session "case-1".
    assert_eq!(out["created"]["status"], 200, "{out}");
    assert_eq!(out["session"]["status"], 200);
    let mut exist = vec![
        generated(4).md5.to_uppercase(),
        generated(4).sha1.to_uppercase(),
    ];
    exist.sort();
    assert_eq!(out["session"]["body"]["exist"], serde_json::json!(exist));
    assert_eq!(
        out["session"]["body"]["nx"],
        serde_json::json!(["0".repeat(32)])
    );
    assert_eq!(
        out["matches"]["body"]["total"], 1,
        "one file looked up by two hashes is one match"
    );
    assert_eq!(
        out["matches"]["body"]["matches"][0]["FileName"],
        "file-4.dll"
    );
    assert_eq!(out["session_b"]["status"], 404, "another member's session");
    let repeated = out["repeated"].as_array().expect("list");
    assert_eq!(repeated.len(), 2500);
    assert!(
        repeated.iter().all(|r| r["hashlookup:trust"] == 100
            && r["sources"] == serde_json::json!(["Debian", "test"])),
        "evidence counted once: {}",
        repeated[2499]
    );
    // Pairs are named after their hash's algorithm.
    assert!(top["exist"]
        .as_array()
        .expect("exist")
        .iter()
        .any(|e| e["MD5"] == serde_json::json!([g.md5.to_uppercase(), 1])));
    for bad in ["bad_name", "bad_count", "bad_sha1", "bad_utf8"] {
        assert_eq!(out[bad]["status"], 400, "{bad}: {out}");
        assert!(out[bad]["body"]["message"].is_string());
    }
    // Removing the package removes its relations: file 3 keeps the parent
    // isx does not list, and the package has no children left.
    let res = app
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v1/cleanfiles/sha256/{}", pkg.sha256),
            &app.operator.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let parents: Value = app
        .get_json(&format!("/parents/{}", g.sha1), &app.a.token)
        .await;
    assert_eq!(parents["total"], 1, "{parents}");
    assert_eq!(
        parents["parents"],
        serde_json::json!([other.sha256.to_uppercase()])
    );
    let gone = app
        .get(&format!("/children/{}", pkg.sha1), &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // Re-importing changes nothing: the same sources and parents.
    assert_eq!(
        import(&app, &app.operator.token, debian_csv())
            .await
            .status(),
        StatusCode::OK
    );
    let again: Value = app
        .get_json(&format!("/lookup/sha1/{}", g.sha1), &app.a.token)
        .await;
    assert_eq!(again["sources"], serde_json::json!(["Debian", "test"]));
    assert_eq!(again["hashlookup:parent-total"], 2, "{again}");
}

/// Issue 19: a CSV list whose header names no SHA-256 column, and a
/// hashlookup bulk body without a `hashes` array, are refused with a
/// problem (before: 200 `{"added":0}` and `[]`), and change nothing.
async fn bad_clean_inputs_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = import(&app, &app.operator.token, "garbage,header\n1,2\n".into()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.expect("problem");
    assert!(
        problem.to_string().contains("no SHA-256 column")
            && problem.to_string().contains("/line/1"),
        "{problem}"
    );
    let stats: Value = app
        .get_json("/api/v1/cleanfiles/stats", &app.operator.token)
        .await;
    assert!(
        !stats.to_string().contains("\"test\""),
        "nothing imported: {stats}"
    );
    // A header with the column in another spelling is fine.
    let ok = import(
        &app,
        &app.operator.token,
        format!("SHA-256,file_name\n{},a.dll\n", "a".repeat(64)),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    for body in ["{}", r#"{"hashes": "abc"}"#, "[1,2]", "not json"] {
        let res = app
            .req(reqwest::Method::POST, "/bulk/md5", &app.a.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = res.json().await.expect("json");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains("'hashes'")),
            "{answer}"
        );
    }
}

crate::on_both_backends!(
    bulk_lookup_is_exact,
    bad_clean_inputs_are_refused,
    pyhashlookup_every_method
);

fn run(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = crate::cli::isx(data_dir, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An NSRL RDS v3 database of that layout (FILE, PKG, OS, MFG, VERSION)
/// with generated files `range`, and a malformed SHA-256 in row `bad`.
async fn rds(path: &std::path::Path, range: std::ops::Range<usize>, bad: Option<usize>) {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .expect("opts")
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.expect("rds");
    for ddl in [
        "CREATE TABLE VERSION (version VARCHAR UNIQUE NOT NULL, build_set VARCHAR NOT NULL, build_date TIMESTAMP NOT NULL, release_date TIMESTAMP NOT NULL, description VARCHAR NOT NULL)",
        "CREATE TABLE MFG (manufacturer_id INTEGER NOT NULL, name VARCHAR NOT NULL)",
        "CREATE TABLE OS (operating_system_id INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL, manufacturer_id INTEGER NOT NULL)",
        "CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL, version VARCHAR NOT NULL, operating_system_id INTEGER NOT NULL, manufacturer_id INTEGER NOT NULL, language VARCHAR NOT NULL, application_type VARCHAR NOT NULL)",
        "CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL, crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id INTEGER NOT NULL)",
        "INSERT INTO VERSION VALUES ('2025.03.1', 'modern', '2025-03-01', '2025-03-10', 'test')",
        "INSERT INTO MFG VALUES (1, 'Microsoft Corporation'), (2, 'Canonical')",
        "INSERT INTO OS VALUES (10, 'Windows', '11', 1)",
        "INSERT INTO PKG VALUES (100, 'Windows 11', '23H2', 10, 1, 'English', 'Operating System'), (101, 'Ubuntu', '24.04', 10, 2, 'English', 'Operating System')",
    ] {
        sqlx::query(ddl).execute(&pool).await.expect("ddl");
    }
    for i in range {
        let g = generated(i);
        let sha = if Some(i) == bad {
            "not-a-hash".to_owned()
        } else {
            g.sha256.to_uppercase()
        };
        sqlx::query("INSERT INTO FILE VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(sha)
            .bind(g.sha1.to_uppercase())
            .bind(g.md5.to_uppercase())
            .bind(format!("{:08X}", i * 7919))
            .bind(&g.name)
            .bind(i as i64)
            .bind(100 + (i % 2) as i64)
            .execute(&pool)
            .await
            .expect("row");
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_imports_nsrl_looks_up_and_scans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // A malformed row: nothing is imported, the row is named.
    let bad = dir.path().join("bad.db");
    rds(&bad, 0..50, Some(17)).await;
    let (ok, _, err) = run(&data, &["cleanfiles", "import", bad.to_str().expect("p")]);
    assert!(!ok);
    assert!(
        err.contains("FILE row 18") && err.contains("nothing was imported"),
        "{err}"
    );
    let g0 = generated(0);
    let (_, out, _) = run(
        &data,
        &["cleanfiles", "lookup", "--output", "json", &g0.sha256],
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["known"], false, "the refused import stored nothing");

    let good = dir.path().join("rds.db");
    rds(&good, 0..200, None).await;
    let (ok, out, err) = run(&data, &["cleanfiles", "import", good.to_str().expect("p")]);
    assert!(ok, "{err}");
    assert!(out.contains("200 added"), "{out}");
    let (_, out, _) = run(&data, &["cleanfiles", "import", good.to_str().expect("p")]);
    assert!(out.contains("0 added, 200 already known"), "{out}");
    let (_, out, _) = run(
        &data,
        &[
            "cleanfiles",
            "lookup",
            "--output",
            "json",
            &g0.md5,
            &generated(1).sha1,
            &generated(999).sha256,
            "xyz",
        ],
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["known"], true);
    assert_eq!(v[0]["file"]["product"], "Windows 11");
    assert_eq!(v[0]["file"]["vendor"], "Microsoft Corporation");
    assert_eq!(v[0]["file"]["source"], "NSRL RDS 2025.03.1");
    assert_eq!(v[1]["file"]["product"], "Ubuntu");
    // NSRL's CRC32 and operating system (through the package) are kept.
    assert_eq!(v[1]["file"]["crc32"], 7919);
    assert_eq!(v[1]["file"]["os_name"], "Windows");
    assert_eq!(v[1]["file"]["os_version"], "11");
    assert_eq!(v[2]["known"], false);
    assert!(v[3]["error"].is_string());

    // A damaged hash set (a crash, a bad disk) is rebuilt from the store.
    let set_dir = data.join("cleanfiles");
    let set = std::fs::read_dir(&set_dir)
        .expect("set dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("sha256-"))
        })
        .expect("sha256 set");
    let bytes = std::fs::read(&set).expect("read");
    std::fs::write(&set, &bytes[..bytes.len() / 2]).expect("truncate");
    let (ok, out, err) = run(
        &data,
        &["cleanfiles", "lookup", "--output", "json", &g0.sha256],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["known"], true, "rebuilt: {err}");

    // A tree with three known-good files and two unknown ones.
    let tree = dir.path().join("evidence");
    std::fs::create_dir_all(tree.join("sub")).expect("mkdir");
    let mut list = String::new();
    for (i, rel) in ["a.dll", "sub/b.exe", "sub/c.sys", "x.bin", "sub/y.tmp"]
        .iter()
        .enumerate()
    {
        let content = format!("content of file {i}").repeat(1000 * (i + 1));
        std::fs::write(tree.join(rel), &content).expect("write");
        if i < 3 {
            list.push_str(&format!(
                "{}  {rel}\n",
                hex::encode(Sha256::digest(content.as_bytes()))
            ));
        }
    }
    let known_list = dir.path().join("vendor.sha256");
    std::fs::write(&known_list, list).expect("write");
    let (ok, out, err) = run(
        &data,
        &[
            "cleanfiles",
            "import",
            "--source",
            "Vendor X",
            known_list.to_str().expect("p"),
        ],
    );
    assert!(ok && out.contains("3 added"), "{out}{err}");
    let (ok, out, err) = run(
        &data,
        &["scan", "--output", "json", tree.to_str().expect("p")],
    );
    assert!(ok, "{err}");
    assert!(err.contains("5 file(s): 3 known-good, 2 unknown"), "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).expect("json");
    let status: BTreeMap<String, String> = rows
        .iter()
        .map(|r| {
            let p = r["path"].as_str().expect("path");
            (
                p[tree.to_str().expect("p").len() + 1..].to_owned(),
                r["status"].as_str().expect("s").to_owned(),
            )
        })
        .collect();
    assert_eq!(status["a.dll"], "known-good");
    assert_eq!(status["sub/c.sys"], "known-good");
    assert_eq!(status["x.bin"], "unknown");
    assert_eq!(status["sub/y.tmp"], "unknown");
    let (_, out, _) = run(
        &data,
        &[
            "scan",
            "--unknown-only",
            "--output",
            "csv",
            "--jobs",
            "3",
            tree.to_str().expect("p"),
        ],
    );
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines().skip(1).all(|l| l.contains(",unknown,")),
        "{out}"
    );

    // Offline, against the published Bloom filter.
    let (ok, _, err) = run(&data, &["cleanfiles", "feed"]);
    assert!(ok, "{err}");
    let bloom = std::fs::read_dir(data.join("feeds").join("cleanfiles"))
        .expect("feed dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "bloom"))
        .expect("bloom file");
    let (ok, out, err) = run(
        &data,
        &[
            "scan",
            "--bloom",
            bloom.to_str().expect("p"),
            "--output",
            "json",
            tree.to_str().expect("p"),
        ],
    );
    assert!(ok, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(
        rows.iter().filter(|r| r["status"] == "known-good").count(),
        3,
        "{out}"
    );
}

/// `isx scan --server`: a member scans a tree against a remote isx over
/// HTTPS (bulk API, its API key, the instance's CA), with metadata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_against_a_remote_server() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let mut csv = String::from("sha256,file_name,product,vendor\n");
    for i in 0..4 {
        let content = format!("remote file {i}").repeat(100);
        std::fs::write(tree.join(format!("f{i}.bin")), &content).expect("write");
        if i % 2 == 0 {
            csv.push_str(&format!(
                "{},f{i}.bin,Suite,Contoso\n",
                hex::encode(Sha256::digest(content.as_bytes()))
            ));
        }
    }
    assert_eq!(
        import(&app, &app.operator.token, csv).await.status(),
        StatusCode::OK
    );
    let ca = app.data_dir.path().join("tls").join("ca.pem");
    let base = app.url("/");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_isx"))
        .args([
            "scan",
            "--output",
            "json",
            "--server",
            base.trim_end_matches('/'),
        ])
        .arg("--ca")
        .arg(&ca)
        .arg(&tree)
        .env("ISX_API_KEY", &app.b.token)
        .env_remove("ISX_DATA_DIR")
        .env_remove("ISX_DATABASE_URL")
        .output()
        .expect("run isx");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("4 file(s): 2 known-good, 2 unknown"), "{err}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    for r in &rows {
        let name = r["path"]
            .as_str()
            .expect("path")
            .rsplit('/')
            .next()
            .expect("name")
            .to_owned();
        let known = name == "f0.bin" || name == "f2.bin";
        assert_eq!(
            r["status"],
            if known { "known-good" } else { "unknown" },
            "{r}"
        );
        if known {
            assert_eq!(r["file"]["vendor"], "Contoso", "{r}");
        }
    }
    // A wrong key: a clear error, exit code 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_isx"))
        .args([
            "scan",
            "--server",
            base.trim_end_matches('/'),
            "--api-key",
            "isx_0000_bad",
        ])
        .arg("--ca")
        .arg(&ca)
        .arg(&tree)
        .output()
        .expect("run isx");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
