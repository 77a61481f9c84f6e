//! Advance vulnerability notices over the REST API: the embargo matrix on
//! every read channel, on both store backends.

use isx_advisories::{Advisory, CvssV3, ExploitIndex, Exploitability, NewRelease, ReleaseStatus};
use isx_domain::{Clearance, Clock, MemberKind, MemberName, NewMember, Tier, Timestamp, Tlp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

const DAY: i64 = 86_400;

pub(crate) fn advisory(cve: &str) -> Advisory {
    Advisory {
        id: cve.parse().expect("cve"),
        kind: isx_advisories::AdvisoryKind::Vulnerability,
        other_ids: vec![],
        title: format!("{cve} in Contoso Gateway"),
        description: "Remote code execution.".into(),
        cwe: None,
        cvss_v31: Some(
            CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").expect("vector"),
        ),
        cvss_v40: None,
        exploitability: Some(Exploitability {
            latest: ExploitIndex::MoreLikely,
            older: ExploitIndex::Unlikely,
            publicly_disclosed: false,
            exploited: false,
        }),
        exploit_statement: None,
        epss: None,
        ssvc: None,
        known_exploited: None,
        affected: vec![isx_advisories::AffectedProduct {
            product_id: "CGW-1".into(),
            vendor: "Contoso".into(),
            product: "Gateway".into(),
            version: Some("4.2".into()),
            platform: None,
            cpe: None,
            purl: None,
            status: isx_advisories::ProductStatus::Affected,
            fix: Some("4.2.7".into()),
            csaf_status: None,
            justification: None,
            impact_statement: None,
        }],
        remediations: vec![],
        faqs: vec![],
        references: vec![],
        revisions: vec![],
    }
}

struct Tiered {
    app: TestApp,
    keys: Vec<(Tier, String)>,
    /// Web session cookies of one user per tier.
    cookies: Vec<String>,
    release: i64,
    t: Timestamp,
}

async fn setup(backend: Backend) -> Tiered {
    let app = TestApp::spawn_with(backend, |c| c.notify_interval_ms = 50).await;
    let c = app.clock.as_ref() as &dyn Clock;
    let mut keys = Vec::new();
    let mut cookies = Vec::new();
    for tier in [Tier::Standard, Tier::Advance5d, Tier::Advance24h] {
        let m = isx_app::admin::create_member(
            app.store.as_ref(),
            c,
            &NewMember {
                name: MemberName::new(&format!("tier {tier}")).expect("name"),
                kind: MemberKind::Enterprise,
                country: None,
                tier,
                clearance: Clearance::None,
                constituency: Default::default(),
            },
        )
        .await
        .expect("member");
        let (_, token) = isx_app::admin::create_api_key(
            app.store.as_ref(),
            c,
            None,
            &isx_app::admin::KeySpec::cli(&m, "t"),
        )
        .await
        .expect("key");
        keys.push((tier, token.expose()));
        cookies.push(
            app.session_cookie(m.id, &format!("user-{tier}"), isx_domain::UserRole::Member)
                .await,
        );
    }
    let t = c.now().add_secs(10 * DAY);
    let r: Value = app
        .post_json("/api/v1/releases", &app.operator.token, &json!({"title": "2026-12", "release_at": t.to_rfc3339(), "status": "scheduled", "marking": "amber"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let release = r["id"].as_i64().expect("id");
    let doc = isx_formats::csaf::to_csaf(
        &advisory("CVE-2026-20001"),
        &isx_formats::csaf::ExportContext {
            publisher_name: "Contoso".into(),
            publisher_namespace: "https://contoso.example".into(),
            tracking_id: "CONTOSO-2026-1".into(),
            title: "Contoso".into(),
            tlp: Tlp::Amber,
            is_final: false,
            initial_release: t,
            current_release: t,
        },
    );
    let res = app
        .post_json(
            &format!("/api/v1/releases/{release}/advisories"),
            &app.operator.token,
            &doc,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.expect("json");
    assert_eq!(out["created"], 1);
    Tiered {
        app,
        keys,
        cookies,
        release,
        t,
    }
}

/// What the rules say: visible from the tier's window, exploitability from 24 h.
fn expected(tier: Tier, offset: i64) -> (bool, bool) {
    let released = offset >= 0;
    let visible = released
        || (tier == Tier::Advance5d && offset >= -5 * DAY)
        || (tier == Tier::Advance24h && offset >= -DAY);
    let exploitability = released || (tier == Tier::Advance24h && offset >= -DAY);
    (visible, exploitability)
}

async fn embargo_matrix_on_every_rest_channel(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    let cve = "CVE-2026-20001";
    let meta: Value = app
        .get("/.well-known/csaf/provider-metadata.json", "")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["role"], "csaf_trusted_provider");
    // Every CSAF export as each tier sees it, for the official validator.
    let exports = tempfile::tempdir().expect("tempdir");
    let mut exported: Vec<std::path::PathBuf> = Vec::new();
    for offset in [-6 * DAY, -5 * DAY, -25 * 3600, -DAY, 0] {
        app.clock.set(s.t.add_secs(offset));
        for ((tier, key), cookie) in s.keys.iter().zip(&s.cookies) {
            let (visible, expl) = expected(*tier, offset);
            let at = format!("{tier} at T{offset:+}s");
            let get = |path: String| app.get(&path, key).send();

            let list: Vec<Value> = get("/api/v1/releases".into())
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            assert_eq!(
                list.iter().any(|r| r["id"] == s.release),
                visible,
                "release list, {at}"
            );

            let detail = get(format!("/api/v1/releases/{}", s.release))
                .await
                .expect("send");
            assert_eq!(
                detail.status() == StatusCode::OK,
                visible,
                "release detail, {at}"
            );
            if visible {
                let d: Value = detail.json().await.expect("json");
                assert_eq!(
                    d["advisories"][0]["exploitability"].is_object(),
                    expl,
                    "release detail exploitability, {at}"
                );
                assert_eq!(d["exploitability_withheld"], !expl, "{at}");
            }

            let found: Vec<Value> = get(format!("/api/v1/advisories?q={cve}"))
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            assert_eq!(found.len(), usize::from(visible), "search, {at}");
            let by_expl: Vec<Value> = get("/api/v1/advisories?exploitability=1".into())
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            assert_eq!(
                by_expl.len(),
                usize::from(expl),
                "a search on exploitability never matches withheld data, {at}"
            );

            let one = get(format!("/api/v1/advisories/{cve}"))
                .await
                .expect("send");
            assert_eq!(one.status() == StatusCode::OK, visible, "advisory, {at}");
            if visible {
                let a: Value = one.json().await.expect("json");
                assert_eq!(
                    a["advisory"]["exploitability"].is_object(),
                    expl,
                    "advisory exploitability, {at}"
                );
                assert_eq!(a["score"], 9.8);
            }

            // TAXII: the vulnerability object, dated into the collection
            // when the member's view last changed, so a client polling
            // with added_after receives it when it opens and again when
            // the exploitability index is added.
            let taxii = get("/taxii2/isx/collections/advisories/objects/".into())
                .await
                .expect("send");
            assert_eq!(taxii.status(), StatusCode::OK, "TAXII, {at}");
            let env: Value = taxii.json().await.expect("json");
            let objects = env["objects"].as_array().cloned().unwrap_or_default();
            let vuln = objects.iter().find(|o| o["name"] == cve);
            assert_eq!(vuln.is_some(), visible, "TAXII objects, {at}: {env}");
            if let Some(v) = vuln {
                assert_eq!(v["type"], "vulnerability");
                assert_eq!(v["external_references"][0]["external_id"], cve);
                assert_eq!(
                    v["extensions"][isx_formats::stix::ISX_EXTENSION]["exploitability"].is_object(),
                    expl,
                    "TAXII exploitability, {at}: {v}"
                );
                let man: Value = get("/taxii2/isx/collections/advisories/manifest/".into())
                    .await
                    .expect("send")
                    .json()
                    .await
                    .expect("json");
                let added =
                    Timestamp::parse(man["objects"][0]["date_added"].as_str().expect("date"))
                        .expect("timestamp");
                let opened = match (*tier, offset >= 0, expl) {
                    (_, true, _) if *tier != Tier::Advance24h => s.t,
                    (Tier::Advance5d, false, _) => s.t.add_secs(-5 * DAY),
                    _ => s.t.add_secs(-DAY),
                };
                assert!(
                    added >= opened,
                    "date_added {added} is not before the view changed ({opened}), {at}"
                );
                let later = get(format!(
                    "/taxii2/isx/collections/advisories/objects/?added_after={}",
                    isx_exchange::taxii_timestamp(added)
                ))
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json");
                assert!(
                    later.get("objects").is_none(),
                    "nothing after the last date_added: {later}"
                );
            }

            let table = get(format!("/api/v1/releases/{}/table?format=csv", s.release))
                .await
                .expect("send");
            assert_eq!(table.status() == StatusCode::OK, visible, "table, {at}");
            if visible {
                let text = table.text().await.expect("text");
                assert_eq!(
                    text.contains("more-likely"),
                    expl,
                    "table exploitability, {at}: {text}"
                );
            }

            let csaf = get(format!("/api/v1/advisories/{cve}/csaf"))
                .await
                .expect("send");
            assert_eq!(
                csaf.status() == StatusCode::OK,
                visible,
                "CSAF export, {at}"
            );
            if visible {
                let doc: Value = csaf.json().await.expect("json");
                assert!(
                    isx_formats::csaf::validate(&doc).is_ok(),
                    "export validates, {at}"
                );
                assert_eq!(
                    isx_formats::csaf::mandatory::run(&doc),
                    Vec::new(),
                    "export passes the mandatory tests, {at}"
                );
                let file = exports.path().join(format!("{}.json", exported.len()));
                std::fs::write(&file, serde_json::to_vec(&doc).expect("ser")).expect("write");
                exported.push(file);
                assert_eq!(
                    doc["vulnerabilities"][0].get("threats").is_some(),
                    expl,
                    "CSAF threats, {at}"
                );
                assert_eq!(
                    doc["document"]["tracking"]["status"],
                    if offset >= 0 { "final" } else { "interim" },
                    "{at}"
                );
            }

            // Notifications: a member is notified once its window is open.
            if visible {
                let key = key.clone();
                let want = if offset >= 0 { "release" } else { "advance" };
                eventually(&format!("notification {want}, {at}"), || {
                    let key = key.clone();
                    async move { kinds(app, &key).await.iter().any(|k| k == want) }
                })
                .await;
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                assert!(
                    kinds(app, key).await.is_empty(),
                    "no notification before the window, {at}"
                );
            }

            let feed: Value = get("/csaf/feed.json".into())
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            let listed = feed["feed"]["entry"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x["id"] == format!("ISX-{cve}")));
            assert_eq!(listed, visible, "ROLIE feed, {at}");
            // The CSAF provider's AMBER folder: the same document, the same
            // embargo (an AMBER release, so in amber before and after T).
            let folder = "/.well-known/csaf/amber";
            let index = app.get_text(&format!("{folder}/index.txt"), key).await;
            let file = format!("{}/isx-{}.json", &s.t.to_rfc3339()[..4], cve.to_lowercase());
            assert_eq!(
                index.lines().any(|l| l == file),
                visible,
                "provider index, {at}: {index}"
            );
            let provided = get(format!("{folder}/{file}")).await.expect("send");
            assert_eq!(
                provided.status() == StatusCode::OK,
                visible,
                "provider document, {at}"
            );
            if visible {
                let provided: Value = provided.json().await.expect("json");
                let exported = app
                    .get_json(&format!("/api/v1/advisories/{cve}/csaf"), key)
                    .await;
                assert_eq!(provided, exported, "provider document = CSAF export, {at}");
            }

            // The web pages: the list, the release with its table, the advisory.
            let page = |path: String| {
                app.client
                    .get(app.url(&path))
                    .header("cookie", cookie.as_str())
                    .send()
            };
            let list = page("/releases".into())
                .await
                .expect("send")
                .text()
                .await
                .expect("text");
            assert_eq!(list.contains("2026-12"), visible, "releases page, {at}");
            let rel = page(format!("/releases/{}", s.release))
                .await
                .expect("send");
            assert_eq!(
                rel.status() == StatusCode::OK,
                visible,
                "release page, {at}"
            );
            if visible {
                let html = rel.text().await.expect("text");
                assert!(html.contains(cve), "{at}");
                assert_eq!(
                    html.contains("Exploitation More Likely"),
                    expl,
                    "release page exploitability, {at}"
                );
            }
            let adv = page(format!("/advisories/{cve}")).await.expect("send");
            assert_eq!(
                adv.status() == StatusCode::OK,
                visible,
                "advisory page, {at}"
            );
            if visible {
                let html = adv.text().await.expect("text");
                assert_eq!(
                    html.contains("withheld until"),
                    !expl,
                    "advisory page exploitability, {at}"
                );
            }
            // The downloads the pages link to work with the session (issue
            // 19: they answered 401), through the same policy.
            let csv = page(format!("/releases/{}/table?format=csv", s.release))
                .await
                .expect("send");
            assert_eq!(csv.status() == StatusCode::OK, visible, "web table, {at}");
            if visible {
                assert!(csv
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| t.starts_with("text/csv")));
                let text = csv.text().await.expect("text");
                assert!(text.contains(cve), "{at}");
                assert_eq!(
                    text.contains("more-likely"),
                    expl,
                    "web table exploitability, {at}"
                );
            }
            let doc = page(format!("/advisories/{cve}/csaf")).await.expect("send");
            assert_eq!(doc.status() == StatusCode::OK, visible, "web CSAF, {at}");
            if visible {
                let doc: Value = doc.json().await.expect("json");
                assert_eq!(doc["vulnerabilities"][0]["cve"], cve, "{at}");
            }
        }
        // The operator sees everything, always.
        let op: Value = app
            .get(&format!("/api/v1/advisories/{cve}"), &app.operator.token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert!(op["advisory"]["exploitability"].is_object());
    }
    assert_eq!(exported.len(), 7, "the visible exports of the matrix");
    crate::oracles::csaf_validator(&exported);
}

async fn drafts_moves_withdrawals_and_revisions(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    let key24 = &s.keys[2].1;
    let op = &app.operator.token;
    app.clock.set(s.t.add_secs(-2 * DAY));
    assert_eq!(
        app.get(&format!("/api/v1/releases/{}", s.release), key24)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND,
        "not yet in the 24 h window"
    );
    // Moving T earlier opens the window.
    let moved = s.t.add_secs(-DAY - 3600);
    let res = app
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v1/releases/{}", s.release),
            op,
        )
        .json(&json!({"release_at": moved.to_rfc3339(), "summary": "moved a day earlier"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/releases/{}", s.release), key24)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    // Withdrawn: gone for members at once, kept for the operator.
    app.req(
        reqwest::Method::PATCH,
        &format!("/api/v1/releases/{}", s.release),
        op,
    )
    .json(&json!({"status": "withdrawn", "summary": "withdrawn"}))
    .send()
    .await
    .expect("send");
    assert_eq!(
        app.get("/api/v1/advisories/CVE-2026-20001", key24)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );
    let r: Value = app
        .get(&format!("/api/v1/releases/{}", s.release), op)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["state"], "withdrawn");
    assert_eq!(r["revisions"].as_array().map(Vec::len), Some(2));
    // A draft is the operator's alone, even after its release time.
    let draft = app
        .store
        .insert_release(
            &NewRelease {
                title: "draft".into(),
                release_at: s.t.add_secs(-30 * DAY),
                notes: String::new(),
                status: ReleaseStatus::Draft,
                marking: Tlp::Green,
            },
            s.t,
        )
        .await
        .expect("draft");
    assert_eq!(
        app.get(&format!("/api/v1/releases/{}", draft.id), key24)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );
    // Bad input: a broken CSAF document names the JSON path and stores nothing.
    let res = app
        .post_json(
            &format!("/api/v1/releases/{}/advisories", draft.id),
            op,
            &json!({"document": {"category": "csaf_security_advisory"}}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.expect("json");
    assert!(p["errors"][0]["pointer"].as_str().is_some(), "{p}");
    assert!(app
        .store
        .advisories(Some(draft.id))
        .await
        .expect("list")
        .is_empty());
    // Members cannot create or change releases.
    let res = app
        .post_json(
            "/api/v1/releases",
            key24,
            &json!({"title": "x", "release_at": s.t.to_rfc3339()}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A CSAF case document isx ships (`crates/formats/testdata/csaf-mandatory`).
fn csaf_case(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/testdata/csaf-mandatory")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("case")).expect("JSON")
}

/// Issue 18: a document failing a CSAF 2.0 mandatory test is refused
/// naming the test, the place and the value, and stores nothing; a valid
/// document whose exploit status is free text imports, keeps the text,
/// and the text is exploitability data (withheld before the 24-hour
/// window, like the index).
async fn csaf_imports_hold_to_the_mandatory_tests(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    let op = &app.operator.token;
    let before = app
        .store
        .advisories(Some(s.release))
        .await
        .expect("list")
        .len();
    let res = app
        .post_json(
            &format!("/api/v1/releases/{}/advisories", s.release),
            op,
            &csaf_case("6.1.1-fail-01.json"),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.expect("problem");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("6.1.1 missing product definition at /vulnerabilities/0/product_status/known_affected/1: CSAFPID-9080700"),
        "{p}"
    );
    assert_eq!(
        app.store
            .advisories(Some(s.release))
            .await
            .expect("list")
            .len(),
        before,
        "nothing stored"
    );

    let mut doc = csaf_case("base.json");
    doc["vulnerabilities"][0]["threats"]
        .as_array_mut()
        .expect("threats")
        .push(json!({"category": "exploit_status", "details": "Reliable exploits integrated in Metasploit."}));
    let res = app
        .post_json(
            &format!("/api/v1/releases/{}/advisories", s.release),
            op,
            &doc,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let seen: Value = app.get_json("/api/v1/advisories/CVE-2026-0001", op).await;
    assert_eq!(
        seen["advisory"]["exploit_statement"], "Reliable exploits integrated in Metasploit.",
        "{seen}"
    );
    // Three days before release: the 5-day tier sees the advisory, not
    // how it is exploited.
    app.clock.set(s.t.add_secs(-3 * DAY));
    let key5 = &s
        .keys
        .iter()
        .find(|(t, _)| *t == Tier::Advance5d)
        .expect("5d")
        .1;
    let early: Value = app.get_json("/api/v1/advisories/CVE-2026-0001", key5).await;
    assert_eq!(early["advisory"]["id"], "CVE-2026-0001", "{early}");
    assert!(
        early["advisory"]
            .get("exploit_statement")
            .is_none_or(Value::is_null),
        "{early}"
    );
    let csaf: Value = app
        .get_json("/api/v1/advisories/CVE-2026-0001/csaf", key5)
        .await;
    assert!(!csaf.to_string().contains("Metasploit"), "{csaf}");
    let csaf: Value = app
        .get_json("/api/v1/advisories/CVE-2026-0001/csaf", op)
        .await;
    assert!(csaf.to_string().contains("Metasploit"), "{csaf}");
    assert_eq!(
        isx_formats::csaf::mandatory::run(&csaf),
        Vec::new(),
        "{csaf}"
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// FIRST's EPSS and CISA's SSVC: imported from the files they publish,
/// shown, filtered and sorted by, exported — and withheld with the
/// exploitability index until the 24-hour window, everywhere (a 5-day
/// member cannot even sort by them).
async fn exploitation_context_epss_and_ssvc(backend: Backend) {
    let s = setup(backend).await;
    let app = &s.app;
    let op = &app.operator.token;
    let record = std::fs::read(fixture("cve-2026-20002-with-ssvc.json")).expect("record");
    let res = app
        .post_json(
            &format!("/api/v1/releases/{}/advisories", s.release),
            op,
            &serde_json::from_slice(&record).expect("json"),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let epss = |body: Vec<u8>, key: &str| {
        app.req(reqwest::Method::POST, "/api/v1/advisories/epss", key)
            .header("content-type", "application/gzip")
            .body(body)
            .send()
    };
    // Day one as FIRST publishes it: gzipped.
    let gz = std::process::Command::new("gzip")
        .arg("-c")
        .arg(fixture("epss_scores-2026-11-30.csv"))
        .output()
        .expect("gzip")
        .stdout;
    let out: Value = epss(gz.clone(), op)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(out["date"], "2026-11-30", "{out}");
    assert_eq!(
        (
            out["scores"].as_u64(),
            out["stored"].as_u64(),
            out["other_cves"].as_u64()
        ),
        (Some(3), Some(2), Some(1)),
        "{out}"
    );
    let again: Value = epss(gz, op)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        again["stored"], 0,
        "the same file again changes nothing: {again}"
    );
    let day2 = std::fs::read(fixture("epss_scores-2026-12-01.csv")).expect("day 2");
    let out: Value = epss(day2.clone(), op)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(out["stored"], 2, "{out}");
    // A bad file changes nothing and says where.
    let bad = String::from_utf8(day2.clone())
        .expect("utf-8")
        .replace("0.94012", "1.7");
    let res = epss(bad.into_bytes(), op).await.expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("line 5:")),
        "{problem}"
    );
    let res = epss(b"\x1f\x8bnot gzip".to_vec(), op).await.expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Members do not import.
    let res = epss(day2, &s.keys[2].1).await.expect("send");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (five, day) = (&s.keys[1].1, &s.keys[2].1);
    let cves = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["advisory"]["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let search = |q: &str, key: &str| {
        let (path, key) = (
            format!("/api/v1/advisories?release={}&{q}", s.release),
            key.to_owned(),
        );
        async move { app.get_json(&path, &key).await }
    };

    // T−2 days: the 5-day member sees the advisories, not the context.
    app.clock.set(s.t.add_secs(-2 * DAY));
    let a = app
        .get_json("/api/v1/advisories/CVE-2026-20002", five)
        .await;
    assert!(
        a["advisory"].get("epss").is_none() && a["advisory"].get("ssvc").is_none(),
        "{a}"
    );
    let h = app
        .get_json("/api/v1/advisories/CVE-2026-20002/epss", five)
        .await;
    assert_eq!(
        (h["withheld"].clone(), h["scores"].clone()),
        (json!(true), json!([])),
        "{h}"
    );
    assert_eq!(
        cves(&search("epss_min=0.5", five).await),
        Vec::<String>::new()
    );
    assert_eq!(
        cves(&search("ssvc_exploitation=poc", five).await),
        Vec::<String>::new()
    );
    assert_eq!(
        cves(&search("sort=epss", five).await),
        vec!["CVE-2026-20001", "CVE-2026-20002"],
        "a withheld score sorts nothing"
    );
    let csaf = app
        .get_json("/api/v1/advisories/CVE-2026-20002/csaf", five)
        .await;
    assert!(
        !csaf.to_string().contains("EPSS") && !csaf.to_string().contains("SSVC"),
        "{csaf}"
    );
    let page = app
        .client
        .get(app.url("/advisories/CVE-2026-20002"))
        .header("cookie", s.cookies[1].as_str())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains(r#"<div id="epss"><span class="muted">withheld"#),
        "{page}"
    );
    assert!(!page.contains("94.0%"));

    // T−12 h: the 24-hour member sees, filters and sorts by both.
    app.clock.set(s.t.add_secs(-12 * 3600));
    let a = app.get_json("/api/v1/advisories/CVE-2026-20002", day).await;
    assert_eq!(a["advisory"]["epss"]["epss"], 0.94012, "{a}");
    assert_eq!(a["advisory"]["epss"]["date"], "2026-12-01");
    assert_eq!(a["advisory"]["ssvc"]["exploitation"], "active");
    assert_eq!(a["advisory"]["ssvc"]["automatable"], true);
    assert_eq!(a["advisory"]["ssvc"]["technical_impact"], "total");
    let h = app
        .get_json("/api/v1/advisories/CVE-2026-20002/epss", day)
        .await;
    let dates: Vec<&str> = h["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .filter_map(|x| x["date"].as_str())
        .collect();
    assert_eq!(dates, vec!["2026-11-30", "2026-12-01"], "{h}");
    assert_eq!(h["scores"][0]["epss"], 0.8177);
    assert_eq!(
        cves(&search("epss_min=0.5", day).await),
        vec!["CVE-2026-20002"]
    );
    assert_eq!(
        cves(&search("ssvc_exploitation=active", day).await),
        vec!["CVE-2026-20002"]
    );
    assert_eq!(
        cves(&search("sort=epss", day).await),
        vec!["CVE-2026-20002", "CVE-2026-20001"]
    );
    assert_eq!(
        cves(&search("sort=ssvc", day).await),
        vec!["CVE-2026-20002", "CVE-2026-20001"]
    );
    for bad in ["sort=newest", "epss_min=2", "ssvc_exploitation=rumoured"] {
        let res = app
            .get(&format!("/api/v1/advisories?{bad}"), day)
            .send()
            .await
            .expect("send");
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
    }
    let csaf = app
        .get_json("/api/v1/advisories/CVE-2026-20002/csaf", day)
        .await;
    let notes = csaf["vulnerabilities"][0]["notes"].to_string();
    assert!(
        notes.contains("EPSS 0.94012 (percentile 0.99921) on 2026-12-01"),
        "{notes}"
    );
    assert!(
        notes.contains("Exploitation: active; Automatable: yes; Technical Impact: total"),
        "{notes}"
    );
    assert_eq!(isx_formats::csaf::mandatory::run(&csaf), Vec::new());
    let page = app
        .client
        .get(app.url("/advisories/CVE-2026-20002"))
        .header("cookie", s.cookies[2].as_str())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("94.0% (99.9th percentile, 2026-12-01)"),
        "{page}"
    );
    assert!(
        page.contains("2 daily scores") && page.contains("<polyline"),
        "{page}"
    );
    assert!(page.contains("Exploitation: active · Automatable: yes · Technical impact: total"));
    let table = app
        .client
        .get(app.url(&format!("/releases/{}?sort=epss&epss_min=50", s.release)))
        .header("cookie", s.cookies[2].as_str())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        table.contains("CVE-2026-20002") && !table.contains(">CVE-2026-20001<"),
        "{table}"
    );
}

/// Issue 18: what the field publishes without CVE ids — an informational
/// advisory, a vulnerability known by a GHSA id, one known by nothing but
/// its document — is stored, named in the import answer, embargoed like
/// every advisory, shown on the web, exported valid and published by the
/// provider.
async fn advisories_without_cve_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reader = tier_member(&app, "standard reader", Tier::Standard).await;
    let t = app.clock.now().add_secs(2 * DAY);
    let r: Value = app
        .post_json("/api/v1/releases", &app.operator.token, &json!({"title": "no CVE", "release_at": t.to_rfc3339(), "status": "scheduled", "marking": "clear"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let release = r["id"].as_i64().expect("id");
    let informational: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../formats/testdata/csaf-mandatory/6.1.27.3-pass-01.json"
        ))
        .expect("read"),
    )
    .expect("json");
    let mut ghsa: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/csaf/bsi-2022-0001.json"
        ))
        .expect("read"),
    )
    .expect("json");
    let mut bare = ghsa["vulnerabilities"][0].clone();
    let v = ghsa["vulnerabilities"][0].as_object_mut().expect("vuln");
    v.remove("cve");
    v.insert(
        "ids".into(),
        json!([{"system_name": "GitHub Security Advisory", "text": "GHSA-jfh8-c2jp-5v3q"}]),
    );
    let b = bare.as_object_mut().expect("vuln");
    b.remove("cve");
    b.remove("ids");
    ghsa["vulnerabilities"] = json!([ghsa["vulnerabilities"][0].clone(), bare]);
    let mut stored = Vec::new();
    for doc in [&informational, &ghsa] {
        let res = app
            .post_json(
                &format!("/api/v1/releases/{release}/advisories"),
                &app.operator.token,
                doc,
            )
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
        let out: Value = res.json().await.expect("json");
        assert!(out["warnings"].to_string().contains("stored as"), "{out}");
        stored.extend(
            out["stored"]
                .as_array()
                .expect("stored")
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned)),
        );
    }
    assert_eq!(
        stored,
        [
            "ISX-TEST-6.1.27.3-pass-01",
            "GHSA-jfh8-c2jp-5v3q",
            "BSI-2022-0001"
        ],
        "the import answer names what was stored"
    );
    let import = |doc: Value| {
        let app = &app;
        async move {
            let res = app
                .post_json(
                    &format!("/api/v1/releases/{release}/advisories"),
                    &app.operator.token,
                    &doc,
                )
                .send()
                .await
                .expect("send");
            let status = res.status();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    // Again: nothing changes.
    let (status, again) = import(ghsa.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            again["created"].as_u64(),
            again["revised"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(2)),
        "{again}"
    );
    // Red-team findings (2026-12): an id that a file name writes like
    // another's would share its provider URL, and a vulnerability could
    // replace an informational advisory (or back). Both are refused, and
    // the refused document stores nothing.
    let mut case = ghsa.clone();
    case["document"]["tracking"]["id"] = json!("RT-CASE-1");
    case["vulnerabilities"][0]["ids"][0]["text"] = json!("ghsa-JFH8-c2jp-5v3q");
    case["vulnerabilities"][1]["ids"] = json!([{"system_name": "X", "text": "GHSA-new-0001"}]);
    let (status, problem) = import(case).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("GHSA-jfh8-c2jp-5v3q"),
        "{problem}"
    );
    let mut kind = ghsa.clone();
    kind["vulnerabilities"] = json!([ghsa["vulnerabilities"][0].clone()]);
    kind["vulnerabilities"][0]["ids"] =
        json!([{"system_name": "X", "text": "ISX-TEST-6.1.27.3-pass-01"}]);
    let (status, problem) = import(kind).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let none = app
        .get("/api/v1/advisories/GHSA-new-0001", &app.operator.token)
        .send()
        .await
        .expect("send");
    assert_eq!(
        none.status(),
        StatusCode::NOT_FOUND,
        "nothing of a refused document"
    );
    let info: Value = app
        .get_json(
            "/api/v1/advisories/ISX-TEST-6.1.27.3-pass-01",
            &app.operator.token,
        )
        .await;
    assert_eq!(info["advisory"]["kind"], "informational");

    // Embargoed like any advisory: the standard tier sees nothing before T.
    for id in &stored {
        let res = app
            .get(&format!("/api/v1/advisories/{id}"), &reader)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{id} before T");
    }
    let white = app
        .client
        .get(app.url("/.well-known/csaf/white/index.txt"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        !white.contains("ghsa"),
        "nothing published before T: {white}"
    );

    app.clock.set(t.add_secs(60));
    let mut exported = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    for id in &stored {
        let a: Value = app
            .get_json(&format!("/api/v1/advisories/{id}"), &reader)
            .await;
        assert_eq!(a["advisory"]["id"], id.as_str(), "{a}");
        let csaf: Value = app
            .get_json(&format!("/api/v1/advisories/{id}/csaf"), &reader)
            .await;
        let path = dir.path().join(format!("{}.json", exported.len()));
        std::fs::write(&path, serde_json::to_vec(&csaf).expect("ser")).expect("write");
        exported.push(path);
    }
    let informational_export: Value =
        serde_json::from_slice(&std::fs::read(&exported[0]).expect("read")).expect("json");
    assert_eq!(
        informational_export["document"]["category"],
        "csaf_informational_advisory"
    );
    let ghsa_export: Value =
        serde_json::from_slice(&std::fs::read(&exported[1]).expect("read")).expect("json");
    assert!(ghsa_export["vulnerabilities"][0].get("cve").is_none());
    assert!(ghsa_export["vulnerabilities"][0]["ids"]
        .to_string()
        .contains("GHSA-jfh8-c2jp-5v3q"));
    crate::oracles::csaf_validator(&exported);

    // Searchable by its id, and published in the white folder.
    let found: Value = app
        .get_json("/api/v1/advisories?q=GHSA-jfh8", &reader)
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let white = app
        .client
        .get(app.url("/.well-known/csaf/white/index.txt"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    for (name, path) in [
        "isx-isx-test-6_1_27_3-pass-01.json",
        "isx-ghsa-jfh8-c2jp-5v3q.json",
        "isx-bsi-2022-0001.json",
    ]
    .iter()
    .zip(&exported)
    {
        let line = white
            .lines()
            .find(|l| l.ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {white}"));
        // The document is there too, as its reader's export.
        let doc: Value = app
            .get_json(&format!("/.well-known/csaf/white/{line}"), &reader)
            .await;
        let export: Value =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
        assert_eq!(doc, export, "{name}");
        // Its file name in another case is not it.
        let res = app
            .get(
                &format!("/.well-known/csaf/white/{}", line.to_ascii_uppercase()),
                "",
            )
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    // The web page says what it is.
    let cookie = app
        .session_cookie(
            app.operator.member.id,
            "op-web",
            isx_domain::UserRole::Admin,
        )
        .await;
    let page = app
        .client
        .get(app.url("/advisories/ISX-TEST-6.1.27.3-pass-01"))
        .header("cookie", cookie.as_str())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(page.contains("informational advisory"), "{page}");
    // Issue 19: the TLP label in its colour, and an icon.
    assert!(
        page.contains(r#"class="tlp" data-tlp="TLP:CLEAR""#),
        "{page}"
    );
    assert!(page.contains(r#"rel="icon" href="/favicon.svg""#));
    let icon = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .expect("send");
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(
        icon.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(icon.text().await.expect("svg").starts_with("<svg"));
    assert!(!page.contains("Affected software"), "{page}");
    let page = app
        .client
        .get(app.url("/advisories/GHSA-jfh8-c2jp-5v3q"))
        .header("cookie", cookie.as_str())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("GitHub Security Advisory GHSA-jfh8-c2jp-5v3q"),
        "{page}"
    );
}

crate::on_both_backends!(
    advisories_without_cve_ids,
    csaf_imports_hold_to_the_mandatory_tests,
    exploitation_context_epss_and_ssvc,
    embargo_matrix_on_every_rest_channel,
    drafts_moves_withdrawals_and_revisions,
    notifications_and_signed_webhooks
);

async fn tier_member(app: &TestApp, name: &str, tier: Tier) -> String {
    let c = app.clock.as_ref() as &dyn Clock;
    let m = isx_app::admin::create_member(
        app.store.as_ref(),
        c,
        &NewMember {
            name: MemberName::new(name).expect("name"),
            kind: MemberKind::Enterprise,
            country: None,
            tier,
            clearance: Clearance::None,
            constituency: Default::default(),
        },
    )
    .await
    .expect("member");
    isx_app::admin::create_api_key(
        app.store.as_ref(),
        c,
        None,
        &isx_app::admin::KeySpec::cli(&m, "t"),
    )
    .await
    .expect("key")
    .1
    .expose()
}

/// Polls `f` every 50 ms for up to 10 s.
pub(crate) async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn kinds(app: &TestApp, key: &str) -> Vec<String> {
    let list: Vec<Value> = app
        .get("/api/v1/notifications", key)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    list.iter()
        .filter_map(|n| n["kind"].as_str().map(str::to_owned))
        .collect()
}

async fn notifications_and_signed_webhooks(backend: Backend) {
    use hmac::Mac;
    let receiver = crate::support::receiver::Receiver::start(vec![500]).await;
    let ca = receiver.ca.clone();
    let app = TestApp::spawn_with(backend, move |c| {
        c.notify_interval_ms = 100;
        c.webhook_ca = Some(ca);
        // The test's receiver listens on loopback.
        c.webhook_allow_private = true;
    })
    .await;
    let k24 = tier_member(&app, "early", Tier::Advance24h).await;
    let kstd = tier_member(&app, "late", Tier::Standard).await;
    let early = app
        .store
        .member_by_name("early")
        .await
        .expect("member")
        .expect("early");
    let k24_admin = app.member_admin_key(&early).await;
    let secret = "a shared secret for hooks";
    let bad = app
        .req(reqwest::Method::PUT, "/api/v1/webhook", &k24_admin)
        .json(&json!({"url": "http://127.0.0.1/x", "secret": secret}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        bad.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "plain-HTTP webhooks are refused"
    );
    let ok = app
        .req(reqwest::Method::PUT, "/api/v1/webhook", &k24_admin)
        .json(&json!({"url": receiver.url, "secret": secret}))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);

    let now = app.clock.now();
    let t = now.add_secs(3 * DAY);
    let r = app
        .store
        .insert_release(
            &NewRelease {
                title: "2026-12".into(),
                release_at: t,
                notes: String::new(),
                status: ReleaseStatus::Scheduled,
                marking: Tlp::Green,
            },
            now,
        )
        .await
        .expect("release");
    app.store
        .put_advisories(r.id, &[advisory("CVE-2026-20002")], "Initial", now)
        .await
        .expect("advisories");

    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        kinds(&app, &k24).await.is_empty(),
        "nothing before the window opens"
    );
    assert_eq!(receiver.count(), 0);

    app.clock.set(t.add_secs(-DAY));
    eventually("the 24-hour member is notified", || async {
        kinds(&app, &k24).await == ["advance"]
    })
    .await;
    assert!(
        kinds(&app, &kstd).await.is_empty(),
        "the standard tier waits for T"
    );
    eventually("the first delivery attempt", || async {
        receiver.count() >= 1
    })
    .await;
    // The receiver answered 500: the next attempt comes after the backoff.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(receiver.count(), 1, "no retry before the backoff");
    app.clock.advance_secs(61);
    eventually("the retry", || async { receiver.count() >= 2 }).await;

    let got = receiver.received.lock().expect("lock")[1].clone();
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("hmac");
    mac.update(&got.body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        got.header("x-isx-signature"),
        Some(want.as_str()),
        "signed with the member's secret"
    );
    let payload: Value = serde_json::from_slice(&got.body).expect("json payload");
    assert_eq!(payload["kind"], "advance");
    assert_eq!(payload["release"]["id"], r.id);

    let deliveries: Vec<Value> = app
        .get("/api/v1/webhook-deliveries", &app.operator.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    eventually("the operator sees the delivery as delivered", || async {
        let d: Vec<Value> = app
            .get("/api/v1/webhook-deliveries", &app.operator.token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        d.first()
            .is_some_and(|d| d["status"] == "delivered" && d["attempts"] == 2)
    })
    .await;
    assert!(!deliveries.is_empty());
    let own: Vec<Value> = app
        .get("/api/v1/webhook-deliveries", &k24)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(!own.is_empty(), "a member sees its own deliveries");
    let others: Vec<Value> = app
        .get("/api/v1/webhook-deliveries", &kstd)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(others.is_empty(), "and never another member's");
    let admin = app
        .session_cookie(app.operator.member.id, "ops", isx_domain::UserRole::Admin)
        .await;
    let page = app
        .client
        .get(app.url("/admin/deliveries"))
        .header("cookie", admin)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("delivered") && page.contains(&receiver.url),
        "the operator's web page shows the delivery"
    );

    // A revision notifies again; the public release notifies everyone.
    let mut changed = advisory("CVE-2026-20002");
    changed.title = "corrected title".into();
    app.store
        .put_advisories(r.id, &[changed], "Title corrected", app.clock.now())
        .await
        .expect("revise");
    eventually("a revision notification", || async {
        kinds(&app, &k24).await.contains(&"revision".to_owned())
    })
    .await;
    app.clock.set(t.add_secs(1));
    eventually("the release notification, standard tier", || async {
        kinds(&app, &kstd).await == ["release"]
    })
    .await;
    eventually("the release notification, 24-hour tier", || async {
        kinds(&app, &k24).await.contains(&"release".to_owned())
    })
    .await;
}
