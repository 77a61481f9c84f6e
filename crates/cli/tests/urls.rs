//! Malicious URLs end to end: import (API and CLI, URLhaus CSV as it is),
//! idempotent re-import, all-or-nothing batches with line numbers, search
//! through the policy function, statistics, and the signed feed files with
//! a scheduler that survives restarts.

use crate::cli::isx;
use std::path::Path;

use isx_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Digest;

use crate::support::app::{Backend, TestApp};

/// A URLhaus "recent URLs" CSV dump, in its own layout.
pub const URLHAUS_CSV: &str = "################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #
# Last updated: 2026-11-23 09:05:12 (UTC)                      #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
\"3301004\",\"2026-11-22 21:03:11\",\"http://81.2.69.142/bins/mips\",\"online\",\"2026-11-23 08:00:00\",\"malware_download\",\"elf,mips,Mozi\",\"https://urlhaus.abuse.ch/url/3301004/\",\"geenensp\"
\"3301003\",\"2026-11-22 20:51:10\",\"https://Login.Evil-Bank.example.co.uk:443/./secure/../signin\",\"online\",\"\",\"phishing\",\"bank\",\"https://urlhaus.abuse.ch/url/3301003/\",\"reporter2\"
\"3301002\",\"2026-11-22 19:30:00\",\"http://175.16.199.7:8080/i\",\"offline\",\"2026-11-22 23:00:00\",\"malware_download\",\"32-bit,elf\",\"https://urlhaus.abuse.ch/url/3301002/\",\"geenensp\"
\"3301001\",\"2026-11-22 18:00:00\",\"http://89.160.20.115/gate.php\",\"online\",\"2026-11-23 07:00:00\",\"botnet_cc\",\"\",\"https://urlhaus.abuse.ch/url/3301001/\",\"c2hunter\"
";

fn shared_geo(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/geoip")
        .join(name)
}

async fn json(res: reqwest::Response) -> Value {
    res.json().await.expect("JSON body")
}

async fn count(app: &TestApp, token: &str, query: &str) -> usize {
    let res = app
        .get(&format!("/api/v1/urls?{query}"), token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK, "GET /api/v1/urls?{query}");
    json(res).await.as_array().expect("array").len()
}

async fn post_csv(app: &TestApp, token: &str, query: &str, body: &str) -> reqwest::Response {
    app.req(
        reqwest::Method::POST,
        &format!("/api/v1/urls{query}"),
        token,
    )
    .header("content-type", "text/csv")
    .body(body.to_owned())
    .send()
    .await
    .expect("send")
}

async fn api_import_search_and_policy(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.geoip_location = Some(shared_geo("GeoIP2-City-Test.mmdb"));
        c.geoip_asn = Some(shared_geo("GeoLite2-ASN-Test.mmdb"));
    })
    .await;
    let op = app.operator.token.clone();

    // Members cannot import; only CSV/JSON/NDJSON are accepted.
    assert_eq!(
        post_csv(&app, &app.a.token, "", URLHAUS_CSV).await.status(),
        StatusCode::FORBIDDEN
    );
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "application/xml")
        .body("<x/>")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    // A URLhaus dump as it is.
    let res = post_csv(&app, &op, "?source=urlhaus", URLHAUS_CSV).await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = json(res).await;
    assert_eq!(
        (report["created"].as_u64(), report["unchanged"].as_u64()),
        (Some(4), Some(0)),
        "{report}"
    );
    assert_eq!(report["geo_enrichment"], true);
    // The same file again changes nothing.
    let again = json(post_csv(&app, &op, "?source=urlhaus", URLHAUS_CSV).await).await;
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(4))
    );
    assert_eq!(again["batch"], Value::Null);

    // A batch with one bad row stores nothing and says which line.
    let bad = "url,threat,first_seen\nhttp://new-1.example/,phishing,2026-11-22T00:00:00Z\nhttp://new-2.example/,phishing,not-a-time\njavascript:alert(1),phishing,2026-11-22T00:00:00Z\n";
    let res = post_csv(&app, &op, "", bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = json(res).await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["pointer"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(pointers, vec!["/line/3", "/line/4"], "{problem}");
    assert_eq!(
        count(&app, &op, "limit=1000").await,
        4,
        "nothing of the bad batch was stored"
    );
    // With skip_invalid the good row goes in and the others are reported.
    let skipped = json(post_csv(&app, &op, "?skip_invalid=true", bad).await).await;
    assert_eq!(
        (
            skipped["created"].as_u64(),
            skipped["skipped_total"].as_u64()
        ),
        (Some(1), Some(2))
    );

    // Canonical form, PSL domain, taxonomy and enrichment.
    let phish = app
        .get_json("/api/v1/urls?threat=phishing&domain=example.co.uk", &op)
        .await;
    assert_eq!(
        phish[0]["url"],
        "https://login.evil-bank.example.co.uk/signin"
    );
    let mips = app.get_json("/api/v1/urls?ip=81.2.69.142", &op).await;
    assert_eq!(mips[0]["country"], "GB", "enriched from the City database");
    assert_eq!(mips[0]["city"], "London");
    assert_eq!(mips[0]["threat"], "malware-distribution");
    assert_eq!(
        mips[0]["source"], "geenensp",
        "the row's reporter is its source"
    );
    assert_eq!(
        count(&app, &op, "threat=command-and-control").await,
        1,
        "botnet_cc maps to C2"
    );
    assert_eq!(count(&app, &op, "country=SE").await, 1);
    assert_eq!(count(&app, &op, "q=BINS").await, 1);
    assert_eq!(count(&app, &op, "since=2026-11-23T07:30:00Z").await, 1);
    let res = app
        .get("/api/v1/urls?threat=nonsense", &op)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap_or("")
            .contains("phishing"),
        "lists the taxonomy"
    );

    // TLP:RED reaches no member: not in search, not by id, not in stats.
    let red = "{\"url\":\"http://red.example/secret\",\"threat\":\"phishing\",\"tlp\":\"red\",\"first_seen\":\"2026-11-22T00:00:00Z\"}\n";
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "application/x-ndjson")
        .body(red)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let red_rec = app.get_json("/api/v1/urls?q=red.example", &op).await;
    let red_id = red_rec[0]["id"].as_i64().expect("operator sees it");
    assert_eq!(count(&app, &app.a.token, "q=red.example").await, 0);
    // Hidden and missing answer alike, and name no stored id (the red-team
    // read "URL record 804 not found" off the hidden one).
    let hidden = app
        .get(&format!("/api/v1/urls/{red_id}"), &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let hidden = hidden.text().await.expect("body");
    let missing = app
        .get(&format!("/api/v1/urls/{}", red_id ^ 1), &app.a.token)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert_eq!(hidden, missing);
    let detail: Value = serde_json::from_str(&hidden).expect("problem");
    assert_eq!(detail["detail"], "URL record not found", "{hidden}");
    let member_stats = app.get_json("/api/v1/urls/stats", &app.a.token).await;
    let op_stats = app.get_json("/api/v1/urls/stats", &op).await;
    assert_eq!(op_stats["total"].as_i64(), Some(6));
    assert_eq!(
        member_stats["total"].as_i64(),
        Some(5),
        "aggregates follow the policy too"
    );
    // Nor by the ids around it: record ids are opaque, so the hidden one
    // leaves no gap (stored ids would run 1…5 and then 7).
    let mine: Vec<i64> = app
        .get_json("/api/v1/urls", &app.a.token)
        .await
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(mine.len(), 5);
    let spread = mine.iter().max().unwrap_or(&0) - mine.iter().min().unwrap_or(&0);
    assert!(spread > 1_000_000, "{mine:?}");
    for id in &mine {
        let one = app
            .get_json(&format!("/api/v1/urls/{id}"), &app.a.token)
            .await;
        assert_eq!(
            one["id"].as_i64(),
            Some(*id),
            "the id reads its record back"
        );
    }
    assert!(member_stats["points"]
        .as_array()
        .expect("points")
        .iter()
        .any(|p| p["ip"] == "81.2.69.142"));

    // Exports of a search in the other formats.
    let csv = app
        .get("/api/v1/urls?format=csv", &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.expect("text").lines().count(),
        6,
        "header + 5 visible"
    );
    let stix = app.get_json("/api/v1/urls?format=stix", &app.a.token).await;
    assert_eq!(
        stix["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| o["type"] == "indicator")
            .count(),
        5
    );

    let metrics = app.get_text("/metrics", &app.operator.token).await;
    for line in [
        "isx_url_rows_imported_total{outcome=\"created\"} 6",
        "isx_url_rows_imported_total{outcome=\"unchanged\"} 4",
        "isx_url_rows_imported_total{outcome=\"skipped\"} 2",
        "isx_geo_databases_loaded{product=\"urls\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Files are written per slot, once; a restart produces what it missed;
/// increments hold exactly what changed between slots; files match their
/// signed manifest entries.
async fn feed_files_follow_the_slots(backend: Backend) {
    // This test watches the server's own scheduler produce the current slot.
    let app = TestApp::spawn_with(backend, |c| c.feed_scheduler = true).await;
    let op = app.operator.token.clone();
    // The server's scheduler produced the current slot at start.
    let mut waited = 0;
    while app
        .store
        .last_feed_run("urls")
        .await
        .expect("runs")
        .is_none()
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
        assert!(
            waited < 200,
            "the scheduler produces the current slot at start"
        );
    }
    let first = app
        .store
        .last_feed_run("urls")
        .await
        .expect("runs")
        .expect("run")
        .slot;
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("feed context");
    assert!(
        isx_app::url_files::produce_due(&ctx)
            .await
            .expect("produce")
            .is_empty(),
        "no slot twice"
    );

    // One batch before the next slot, one after it; then the clock jumps
    // over two more slots (a stopped instance) and one run catches up.
    app.clock.set(first.add_secs(3600));
    let rows = |host: &str, n: usize| {
        (0..n).map(|i| format!("{{\"url\":\"http://{host}/{i}\",\"threat\":\"phishing\",\"first_seen\":\"{}\"}}\n", first.add_secs(1800).to_rfc3339())).collect::<String>()
    };
    let post = |body: String| {
        app.req(reqwest::Method::POST, "/api/v1/urls", &op)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    assert_eq!(
        post(rows("one.example", 3)).await.expect("send").status(),
        StatusCode::OK
    );
    app.clock.set(first.add_secs(3 * 3600 + 60));
    assert_eq!(
        post(rows("two.example", 2)).await.expect("send").status(),
        StatusCode::OK
    );
    app.clock.set(first.add_secs(9 * 3600 + 60));
    let runs = isx_app::url_files::produce_due(&ctx)
        .await
        .expect("catch up");
    let slots: Vec<Timestamp> = runs.iter().map(|r| r.slot).collect();
    assert_eq!(
        slots,
        vec![
            first.add_secs(3 * 3600),
            first.add_secs(6 * 3600),
            first.add_secs(9 * 3600)
        ]
    );
    assert!(isx_app::url_files::produce_due(&ctx)
        .await
        .expect("again")
        .is_empty());

    let manifest = app.get_json("/api/v1/feeds/urls", &app.a.token).await;
    let files = manifest["files"].as_array().expect("files");
    assert_eq!(
        files.len(),
        4 * 8,
        "four slots, increment and full set in four formats"
    );
    let records_of = |kind: &str, slot: Timestamp, format: &str| {
        files
            .iter()
            .find(|f| f["kind"] == kind && f["format"] == format && f["slot"] == slot.to_rfc3339())
            .map(|f| f["records"].as_i64().unwrap_or(-1))
    };
    assert_eq!(
        records_of("increment", first.add_secs(3 * 3600), "json"),
        Some(3)
    );
    assert_eq!(
        records_of("increment", first.add_secs(6 * 3600), "json"),
        Some(2)
    );
    assert_eq!(
        records_of("increment", first.add_secs(9 * 3600), "json"),
        Some(0)
    );
    assert_eq!(
        records_of("full", first.add_secs(9 * 3600), "stix"),
        Some(5)
    );

    // Each file is what its entry says; the public key verifies (checked
    // independently with Python in the oracles); no temporary files remain.
    for f in files {
        let name = f["name"].as_str().expect("name");
        let res = app
            .get(&format!("/api/v1/feeds/urls/{name}"), &app.b.token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        assert_eq!(
            res.headers()["x-isx-sha256"].to_str().ok(),
            f["sha256"].as_str()
        );
        let body = res.bytes().await.expect("body");
        assert_eq!(
            sha256_hex(&body),
            f["sha256"].as_str().unwrap_or(""),
            "{name}"
        );
        assert_eq!(body.len() as i64, f["size"].as_i64().unwrap_or(-1));
        if f["format"] == "json" {
            let parsed: Value = serde_json::from_slice(&body).expect("a plain JSON array");
            assert_eq!(
                parsed.as_array().map(Vec::len),
                f["records"].as_u64().map(|n| n as usize)
            );
        }
    }
    // The web page lists the files and downloads them with a session.
    let cookie = app
        .session_cookie(app.a.member.id, "analyst", isx_domain::UserRole::Member)
        .await;
    let page = app
        .get("/urls", "")
        .header("cookie", &cookie)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("page");
    let first_name = files[0]["name"].as_str().expect("name");
    assert!(
        page.contains(&format!("/urls/files/{first_name}")),
        "the page links the files"
    );
    let res = app
        .get(&format!("/urls/files/{first_name}"), "")
        .header("cookie", &cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        sha256_hex(&res.bytes().await.expect("body")),
        files[0]["sha256"].as_str().unwrap_or("")
    );
    let metrics = app.get_text("/metrics", &app.operator.token).await;
    assert!(
        metrics.contains("isx_feed_slots_produced_total{product=\"urls\"} 1"),
        "the start-up slot: {metrics}"
    );

    let leftovers: Vec<_> = std::fs::read_dir(app.data_dir.path().join("feeds/urls"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files: {leftovers:?}");
    assert_eq!(
        app.get("/api/v1/feeds/urls/..%2F..%2Fisx.sqlite", &op)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/feeds/urls", "")
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

crate::on_both_backends!(
    api_import_search_and_policy,
    feed_files_follow_the_slots,
    web_list_is_paged
);

#[test]
fn cli_imports_lists_exports_and_produces_feeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let csv = d.join("csv.txt");
    std::fs::write(&csv, URLHAUS_CSV).expect("write");
    let geo = [
        "--geoip-location",
        &shared_geo("GeoIP2-City-Test.mmdb").display().to_string(),
        "--geoip-asn",
        &shared_geo("GeoLite2-ASN-Test.mmdb").display().to_string(),
    ]
    .map(str::to_owned);
    let mut args: Vec<&str> = geo.iter().map(String::as_str).collect();
    args.extend(["urls", "import", "--json", csv.to_str().expect("path")]);
    let out = isx(d, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["created"], 4);
    let again = isx(d, &["urls", "import", csv.to_str().expect("path")]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 new URLs, 0 updated, 4 already known"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let bad = d.join("bad.ndjson");
    std::fs::write(&bad, "{\"url\":\"http://fine.example/\"}\n{\"url\":\"http://fine2.example/\",\"confidence\":900}\n").expect("write");
    let out = isx(d, &["urls", "import", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.ndjson: line 2") && err.contains("nothing was imported"),
        "{err}"
    );

    let list = isx(d, &["urls", "list", "--json", "--country", "SE"]);
    let rows: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["url"], "http://89.160.20.115/gate.php");

    let stix = d.join("all.stix.json");
    let out = isx(
        d,
        &[
            "urls",
            "export",
            "--format",
            "stix",
            "--output",
            stix.to_str().expect("path"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(&stix).expect("read")).expect("bundle");
    assert_eq!(
        bundle["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| o["type"] == "indicator")
            .count(),
        4
    );

    let feed = isx(d, &["urls", "feed", "--json"]);
    assert!(
        feed.status.success(),
        "{}",
        String::from_utf8_lossy(&feed.stderr)
    );
    let runs: Value = serde_json::from_slice(&feed.stdout).expect("json");
    assert_eq!(runs.as_array().map(Vec::len), Some(1));
    let again = isx(d, &["urls", "feed"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("no feed slot is due"));
    assert!(d.join("feeds/urls").read_dir().expect("files").count() >= 8);
}

/// Issue 19 part 6: the web page's record table is paged (100 a page),
/// every filter kept in the links, with where the page stands in the list.
async fn web_list_is_paged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = String::new();
    for i in 0..230 {
        let threat = if i % 2 == 0 { "phishing" } else { "scam" };
        body.push_str(&format!(
            "{{\"url\":\"http://paged-{i}.example/x\",\"threat\":\"{threat}\",\"tlp\":\"green\",\"first_seen\":\"2026-11-22T00:00:00Z\"}}\n"
        ));
    }
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = app
        .session_cookie(app.a.member.id, "pager", isx_domain::UserRole::Member)
        .await;
    let page = |path: String| {
        let app = &app;
        let cookie = cookie.clone();
        async move { app.page(&cookie, &path).await }
    };
    let link = |html: &str, id: &str| crate::support::app::href_at(html, &format!("id=\"{id}\""));
    let rows = |html: &str| html.matches("paged-").count();
    let first = page("/urls?threat=phishing".into()).await;
    assert!(first.contains("1–100 of 115"), "115 phishing records");
    assert_eq!(rows(&first), 100);
    assert!(link(&first, "url-prev").is_none());
    let next = link(&first, "url-next").expect("a next page");
    assert!(
        next.contains("threat=phishing") && next.contains("offset=100"),
        "{next}"
    );
    let second = page(next).await;
    assert!(
        second.contains("101–115 of 115"),
        "{}",
        &second[second.find("url-pager").unwrap_or(0)..]
            [..300.min(second.len() - second.find("url-pager").unwrap_or(0))]
    );
    assert_eq!(rows(&second), 15);
    assert!(link(&second, "url-next").is_none(), "the last page");
    let back = link(&second, "url-prev").expect("a previous page");
    assert_eq!(rows(&page(back).await), 100);
    // No record twice across the pages.
    let names = |html: &str| -> Vec<String> {
        html.match_indices("http://paged-")
            .filter_map(|(i, _)| {
                let rest = html.get(i..)?;
                Some(rest.get(..rest.find('<')?)?.to_owned())
            })
            .collect()
    };
    let mut all = names(&first);
    all.extend(names(&second));
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no record on two pages");
    assert_eq!(n, 115);

    // Sorting: the URL column's header sorts by URL (ascending), its link
    // then turns it round; pages keep the order; the API sorts the same.
    let url_header = |html: &str| {
        crate::support::app::href_at(html, "data-sort=\"url\"").expect("a URL header link")
    };
    let sorted = url_header(&first);
    assert!(
        sorted.contains("sort=url")
            && sorted.contains("threat=phishing")
            && !sorted.contains("dir="),
        "{sorted}"
    );
    let asc = page(sorted).await;
    let mut want: Vec<String> = (0..230)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("http://paged-{i}.example/x"))
        .collect();
    want.sort();
    assert_eq!(names(&asc), want[..100].to_vec(), "ascending by URL");
    assert!(asc.contains("URL ▲"));
    let next = link(&asc, "url-next").expect("next");
    assert!(next.contains("sort=url"), "{next}");
    assert_eq!(names(&page(next).await), want[100..].to_vec());
    let desc = page(url_header(&asc)).await;
    let mut reversed = want.clone();
    reversed.reverse();
    assert_eq!(names(&desc), reversed[..100].to_vec(), "turned round");
    assert!(desc.contains("URL ▼"));
    let api = app
        .get_json(
            "/api/v1/urls?threat=phishing&sort=url&dir=asc&limit=5",
            &app.a.token,
        )
        .await;
    let urls: Vec<&str> = api
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert_eq!(
        urls,
        want[..5].iter().map(String::as_str).collect::<Vec<_>>()
    );
    for bad in [
        "sort=ip",
        "sort=url;drop",
        "dir=up",
        "sort=%20url%20",
        "dir=%0Adesc",
    ] {
        let res = app
            .get(&format!("/api/v1/urls?{bad}"), &app.a.token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}
