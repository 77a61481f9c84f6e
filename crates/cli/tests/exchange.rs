//! TAXII 2.1 end to end: OASIS's Python client `taxii2-client` walks every
//! collection with pagination, filters, manifest, versions, POST with status
//! polling and DELETE; every object isx serves passes `stix2-validator`
//! (strict) and parses with `stix2`; group collections are closed to
//! outsiders; the frame (media types, 401/403/404/406/413/415) follows the
//! specification; and a differential test gives the same STIX bundle to isx
//! and to the OASIS reference server `medallion` and compares the answers
//! to the same client calls.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

const TAXII: &str = "application/taxii+json;version=2.1";

/// A bundle's objects: an identity, an indicator in two versions, malware,
/// a relationship, a sighting and an IPv4 observable.
/// Member A's bundle: its identity, objects created by it, an SCO.
pub(crate) fn bundle(app: &TestApp) -> Vec<Value> {
    let identity = isx_formats::partnership::member_identity(app.a.member.id);
    bundle_as(&identity, app.a.member.name.as_str())
}

/// A bundle created by the identity `id` named `name`.
pub(crate) fn bundle_as(id: &str, name: &str) -> Vec<Value> {
    let ind = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    let mal = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc";
    let green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    let indicator = |modified: &str, ip: &str| {
        json!({"type": "indicator", "spec_version": "2.1", "id": ind, "created_by_ref": id,
               "created": "2026-11-01T10:00:00.000Z", "modified": modified,
               "name": "C2 address", "description": "Seen beaconing from member networks.",
               "indicator_types": ["malicious-activity"],
               "pattern": format!("[ipv4-addr:value = '{ip}']"), "pattern_type": "stix",
               "valid_from": "2026-11-01T10:00:00Z", "object_marking_refs": [green]})
    };
    vec![
        json!({"type": "identity", "spec_version": "2.1", "id": id,
               "created": "2026-11-01T09:00:00.000Z", "modified": "2026-11-01T09:00:00.000Z",
               "name": name, "identity_class": "organization"}),
        indicator("2026-11-01T10:00:00.000Z", "198.51.100.7"),
        indicator("2026-11-02T10:00:00.000Z", "198.51.100.8"),
        json!({"type": "malware", "spec_version": "2.1", "id": mal, "created_by_ref": id,
               "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
               "name": "Mozi", "description": "IoT botnet.", "malware_types": ["bot"], "is_family": true,
               "object_marking_refs": [green]}),
        json!({"type": "relationship", "spec_version": "2.1",
               "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad", "created_by_ref": id,
               "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
               "relationship_type": "indicates", "source_ref": ind, "target_ref": mal,
               "object_marking_refs": [green]}),
        json!({"type": "sighting", "spec_version": "2.1",
               "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75", "created_by_ref": id,
               "created": "2026-11-03T10:00:00.000Z", "modified": "2026-11-03T10:00:00.000Z",
               "sighting_of_ref": ind, "count": 12, "first_seen": "2026-11-02T00:00:00Z",
               "last_seen": "2026-11-03T00:00:00Z", "where_sighted_refs": [id],
               "object_marking_refs": [green]}),
        json!({"type": "ipv4-addr", "spec_version": "2.1",
               "id": "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db", "value": "198.51.100.7"}),
    ]
}

/// The same sequence of `taxii2-client` calls, against any server: every
/// collection paged, then writes and reads on one writable collection.
/// Prints what each call answered (ids and versions, not date_added,
/// which differs between servers).
const CLIENT: &str = r#"
import json, sys
import stix2
from stix2validator import validate_string, ValidationOptions
from taxii2client.v21 import Server, Collection, as_pages
from taxii2client.exceptions import TAXIIServiceException
import requests

doc = json.load(sys.stdin)
auth = dict(user=doc["user"], password=doc["password"], verify=doc.get("ca") or False)
out = {"collections": {}, "invalid": []}
srv = Server(doc["discovery"], **auth)
out["title"] = srv.title
root = srv.api_roots[0]
out["max_content_length"] = root.max_content_length
opts = ValidationOptions(strict=True, version="2.1")
if doc.get("walk"):
    for c in root.collections:
        objs, man = [], []
        for env in as_pages(c.get_objects, per_request=doc["per_request"]):
            objs += env.get("objects", [])
        for env in as_pages(c.get_manifest, per_request=doc["per_request"]):
            man += env.get("objects", [])
        for o in objs:
            r = validate_string(json.dumps(o), opts)
            if not r.is_valid:
                out["invalid"].append([o["id"], [str(e) for e in r.errors]])
            stix2.parse(o, allow_custom=False)
        out["collections"][c.title] = {
            "id": c.id, "can_read": c.can_read, "can_write": c.can_write,
            "ids": [o["id"] for o in objs], "types": sorted({o["type"] for o in objs}),
            "manifest": [[m["id"], m["version"]] for m in man],
            "date_added": [m["date_added"] for m in man],
        }

col = Collection(doc["collection"], **auth)
from datetime import datetime
SCO = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "file")
def version(oid, v):
    # Observables carry no version: each server dates them itself.
    if oid.split("--")[0] in SCO:
        return "server-assigned"
    if v is None:
        return None
    return datetime.strptime(v.rstrip("Z")[:26].ljust(26, "0") if "." in v else v.rstrip("Z") + ".000000", "%Y-%m-%dT%H:%M:%S.%f").isoformat()
def ids(env):
    # Objects posted together share medallion's date_added, so their order
    # is not defined there: compare as sorted lists.
    return sorted([o["id"], version(o["id"], o.get("modified"))] for o in env.get("objects", []))
def status_of(st):
    return {"status": st.status, "total": st.total_count, "success": st.success_count,
            "failure": st.failure_count, "pending": st.pending_count,
            "failures": [f.get("message", "") for f in st.failures]}
res = {}
st = col.add_objects(json.dumps({"objects": doc["objects"]}), wait_for_completion=True, poll_interval=0.2, timeout=20)
res["post"] = status_of(st)
st.refresh()
res["status_again"] = status_of(st)
res["all"] = ids(col.get_objects())
pages = [ids(env) for env in as_pages(col.get_objects, per_request=2)]
res["page_sizes"] = [len(p) for p in pages]
res["paged"] = sorted(x for p in pages for x in p)
res["indicators"] = ids(col.get_objects(type="indicator"))
res["two_types"] = ids(col.get_objects(type="malware,relationship"))
res["by_id"] = ids(col.get_objects(id=doc["indicator"]))
res["all_versions"] = ids(col.get_objects(id=doc["indicator"], version="all"))
res["first"] = ids(col.get_objects(id=doc["indicator"], version="first"))
res["at_version"] = ids(col.get_objects(version="2026-11-01T10:00:00.000Z"))
res["spec"] = ids(col.get_objects(spec_version="2.1", type="sighting"))
res["object"] = ids(col.get_object(doc["indicator"]))
res["object_all"] = ids(col.get_object(doc["indicator"], version="all"))
res["versions"] = sorted(version(doc["indicator"], v) for v in col.object_versions(doc["indicator"]).get("versions", []))
def manifest(env):
    return sorted([m["id"], version(m["id"], m["version"])] for m in env.get("objects", []))
res["manifest"] = manifest(col.get_manifest())
mpages = [manifest(env) for env in as_pages(col.get_manifest, per_request=3)]
res["manifest_page_sizes"] = [len(p) for p in mpages]
res["manifest_paged"] = sorted(x for p in mpages for x in p)
col.delete_object(doc["malware"])
res["after_delete"] = ids(col.get_objects())
try:
    col.get_object(doc["malware"])
    res["deleted_object"] = 200
except requests.exceptions.HTTPError as e:
    res["deleted_object"] = e.response.status_code
out["calls"] = res
print(json.dumps(out))
"#;

fn client(input: &Value, ca: Option<&str>) -> Value {
    let mut input = input.clone();
    let mut env = Vec::new();
    if let Some(ca) = ca {
        input["ca"] = json!(ca);
        // requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        env.push(("REQUESTS_CA_BUNDLE", ca));
    }
    let out = crate::oracles::run_python_env(CLIENT, &input.to_string(), &env);
    serde_json::from_str(&out).expect("client json")
}

async fn post(app: &TestApp, path: &str, token: &str, ct: &str, body: String) -> reqwest::Response {
    app.req(reqwest::Method::POST, path, token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("send")
}

pub(crate) async fn group(app: &TestApp, name: &str) -> i64 {
    let res = app
        .post_json(
            "/api/v1/groups",
            &app.operator.token,
            &json!({"name": name, "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let g: Value = res.json().await.expect("json");
    g["id"].as_i64().expect("id")
}

fn urls_csv(n: usize) -> String {
    let mut csv =
        String::from("id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{i},2026-11-22 10:00:00,http://bad-{i}.example/x/{i},online,,malware_download,elf,https://urlhaus.abuse.ch/url/{i}/,r\n"
        ));
    }
    csv
}

fn basic(app: &TestApp, token: &str) -> (String, String, String) {
    let (key_id, secret) = token[4..].split_once('_').expect("token shape");
    let ca = app.data_dir.path().join("tls").join("ca.pem");
    (
        key_id.to_owned(),
        secret.to_owned(),
        ca.to_str().expect("path").to_owned(),
    )
}

async fn client_walks_every_collection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    assert_eq!(
        post(
            &app,
            "/api/v1/urls?source=test",
            &op,
            "text/csv",
            urls_csv(25)
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/cleanfiles?source=test",
            &op,
            "text/csv",
            crate::cleanfiles::csv_of(0..30)
        )
        .await
        .status(),
        StatusCode::OK
    );
    // Botnet events of every product, some in A's network (192.0.2.0/24).
    let at = isx_domain::Clock::now(app.clock.as_ref()).to_rfc3339();
    let events = format!(
        "{{\"product\":\"infected\",\"ip\":\"192.0.2.10\",\"port\":49152,\"dst_ip\":\"198.18.0.1\",\"dst_port\":80,\"protocol\":\"tcp\",\"family\":\"emotet\",\"time\":\"{at}\"}}\n\
         {{\"product\":\"iot\",\"ip\":\"192.0.2.11\",\"family\":\"mirai\",\"device_type\":\"camera\",\"time\":\"{at}\"}}\n\
         {{\"product\":\"c2\",\"ip\":\"198.18.0.66\",\"port\":443,\"family\":\"emotet\",\"status\":\"online\",\"time\":\"{at}\"}}\n\
         {{\"product\":\"domains\",\"domain\":\"dga-abc.test\",\"family\":\"necurs\",\"purpose\":\"dga\",\"time\":\"{at}\"}}\n"
    );
    assert_eq!(
        post(
            &app,
            "/api/v1/botnet/events",
            &op,
            "application/x-ndjson",
            events
        )
        .await
        .status(),
        StatusCode::OK
    );
    let gid = group(&app, "Energy sector exchange").await;
    let private = group(&app, "Owners only").await;
    // Contributions of every kind, with a comment, in A's private group:
    // their STIX objects are walked and validated with the rest.
    let mut first = None;
    for (i, details) in [
        json!({"kind": "incident", "impact": "moderate", "status": "open", "sector": "energy",
               "techniques": ["T1566.001"], "intent": "espionage",
               "timeline": [{"at": "2026-11-20T08:00:00Z", "text": "first phishing mail"}]}),
        json!({"kind": "sighting", "indicator_type": "domain", "value": "c2.evil.example", "count": 3,
               "first_seen": "2026-11-20T00:00:00Z", "last_seen": "2026-11-21T00:00:00Z", "location": "IT"}),
        json!({"kind": "indicator", "indicator_type": "sha256", "value": "a".repeat(64)}),
        json!({"kind": "mitigation", "techniques": ["T1566"]}),
        json!({"kind": "analysis"}),
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post_json(
                &format!("/api/v1/groups/{private}/contributions"),
                &app.a.token,
                &json!({"title": format!("Contribution {i}"), "description": "details", "marking": "amber",
                        "anonymous": i == 1, "details": details}),
            )
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::CREATED);
        let c: Value = res.json().await.expect("json");
        first.get_or_insert(c["id"].as_i64().expect("id"));
    }
    let res = app
        .post_json(
            &format!(
                "/api/v1/contributions/{}/comments",
                first.unwrap_or_default()
            ),
            &app.a.token,
            &json!({"text": "Seen in two more plants."}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &op,
            &json!({"member": app.b.member.id.0, "role": "reader"}),
        )
        .send()
        .await
        .expect("send");
    assert!(res.status().is_success(), "{}", res.status());

    let collections: Value = app.get_json("/taxii2/isx/collections/", &app.a.token).await;
    let group_col = collections["collections"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["alias"] == format!("group-{gid}"))
        .expect("group collection")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (user, password, ca) = basic(&app, &app.a.token);
    let mut objects = bundle(&app);
    // One object isx must refuse (its id does not match its type); the
    // others are kept.
    objects.push(json!({"type": "indicator", "spec_version": "2.1", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                        "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z"}));
    let input = json!({
        "discovery": app.url("/taxii2/"),
        "api_root": app.url("/taxii2/isx/"),
        "collection": app.url(&format!("/taxii2/isx/collections/{group_col}/")),
        "user": user, "password": password, "walk": true, "per_request": 7,
        "objects": objects,
        "indicator": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "malware": "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc",
    });
    let out = client(&input, Some(&ca));
    assert_eq!(
        out["invalid"],
        json!([]),
        "every object passes stix2-validator --strict"
    );
    assert_eq!(out["max_content_length"], 10 * 1024 * 1024);
    let cols = out["collections"].as_object().expect("collections");
    let by_title = |prefix: &str| {
        cols.iter()
            .find(|(t, _)| t.starts_with(prefix))
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| panic!("no collection {prefix}: {out}"))
    };
    let urls = by_title("Malicious URLs");
    let ids: std::collections::BTreeSet<&str> = urls["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Each malware-download URL: its indicator, the hosting-malware
    // infrastructure and the relationship between them, each once across
    // pages of 7 (which split records' objects).
    assert_eq!(ids.len(), 75, "{urls}");
    assert_eq!(
        urls["ids"].as_array().map(Vec::len),
        Some(75),
        "no object twice"
    );
    assert_eq!(
        urls["types"],
        json!(["indicator", "infrastructure", "relationship"])
    );
    assert_eq!(urls["manifest"].as_array().map(Vec::len), Some(75));
    let clean = by_title("Clean file");
    assert_eq!(clean["ids"].as_array().map(Vec::len), Some(30));
    assert_eq!(clean["types"], json!(["file"]));
    for c in [&urls, &clean] {
        let added: Vec<&str> = c["date_added"]
            .as_array()
            .expect("dates")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            added.windows(2).all(|w| w[0] < w[1]),
            "date_added distinct and ascending: {added:?}"
        );
        assert!(
            added.iter().all(|d| d.len() == 27),
            "microseconds: {added:?}"
        );
        assert_eq!(c["can_write"], false);
    }
    assert_eq!(cols.len(), 6, "four products and A's two groups: {out}");
    let botnet = by_title("Botnet feeds");
    assert_eq!(
        botnet["types"],
        json!(["indicator", "sighting"]),
        "A's victims and everyone's C2 and domains: {botnet}"
    );
    assert_eq!(botnet["ids"].as_array().map(Vec::len), Some(6));
    let contributed = by_title("Trust group: Owners only");
    assert_eq!(
        contributed["types"],
        json!([
            "course-of-action",
            "incident",
            "indicator",
            "note",
            "report",
            "sighting"
        ]),
        "{contributed}"
    );

    let calls = &out["calls"];
    let ind = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    assert_eq!(calls["post"]["status"], "complete");
    assert_eq!(calls["post"]["success"], 7, "{calls}");
    assert_eq!(calls["post"]["failure"], 1, "{calls}");
    assert!(
        calls["post"]["failures"][0]
            .as_str()
            .is_some_and(|m| m.contains("does not start with its type")),
        "{calls}"
    );
    // Latest versions only by default: 6 objects.
    assert_eq!(calls["all"].as_array().map(Vec::len), Some(6), "{calls}");
    assert_eq!(calls["page_sizes"], json!([2, 2, 2]), "{calls}");
    assert_eq!(
        calls["paged"], calls["all"],
        "pages of 2 add up to the whole"
    );
    assert_eq!(calls["indicators"], json!([[ind, "2026-11-02T10:00:00"]]));
    assert_eq!(calls["two_types"].as_array().map(Vec::len), Some(2));
    assert_eq!(calls["all_versions"].as_array().map(Vec::len), Some(2));
    assert_eq!(calls["first"], json!([[ind, "2026-11-01T10:00:00"]]));
    assert_eq!(calls["object_all"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        calls["versions"],
        json!(["2026-11-01T10:00:00", "2026-11-02T10:00:00"])
    );
    assert_eq!(calls["manifest"].as_array().map(Vec::len), Some(6));
    assert_eq!(calls["after_delete"].as_array().map(Vec::len), Some(5));
    assert_eq!(calls["deleted_object"], 404);

    // B reads the group (reader) but may not write to it; it does not see
    // the group it is not in, on any TAXII path.
    let b_cols: Value = app.get_json("/taxii2/isx/collections/", &app.b.token).await;
    let b_text = b_cols.to_string();
    assert!(b_text.contains(&format!("group-{gid}")));
    assert!(!b_text.contains(&format!("group-{private}")), "{b_text}");
    assert!(!b_text.contains("Owners only"), "{b_text}");
    let b_objs: Value = app
        .get_json(
            &format!("/taxii2/isx/collections/{group_col}/objects/"),
            &app.b.token,
        )
        .await;
    assert_eq!(b_objs["objects"].as_array().map(Vec::len), Some(5));
    let res = post(
        &app,
        &format!("/taxii2/isx/collections/{group_col}/objects/"),
        &app.b.token,
        TAXII,
        json!({"objects": []}).to_string(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()["content-type"], TAXII);
    let hidden = format!("/taxii2/isx/collections/group-{private}/objects/");
    for path in [
        hidden.clone(),
        format!("/taxii2/isx/collections/group-{private}/"),
        format!("/taxii2/isx/collections/group-{private}/manifest/"),
        format!("/taxii2/isx/collections/group-{private}/objects/{ind}/"),
    ] {
        let res = app.get(&path, &app.b.token).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = res.json().await.expect("taxii error");
        assert_eq!(body["http_status"], "404");
        assert!(!body.to_string().contains("Owners only"));
    }
}

/// Issue 19: `taxii2-client`'s `TokenAuth` (`Authorization: Token <key>`)
/// reads as a Bearer key does; a bad token is refused, never anonymous.
async fn taxii2_client_token_auth(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ca = app.data_dir.path().join("tls/ca.pem");
    let script = r#"
import json, sys
from taxii2client.v21 import Server
from taxii2client.common import TokenAuth
import requests
doc = json.load(sys.stdin)
out = {}
srv = Server(doc["discovery"], auth=TokenAuth(doc["key"]), verify=doc["ca"])
out["titles"] = sorted(c.title for c in srv.api_roots[0].collections)
try:
    bad = doc["key"][:-1] + ("1" if doc["key"].endswith("0") else "0")
    Server(doc["discovery"], auth=TokenAuth(bad), verify=doc["ca"]).api_roots
    out["bad"] = 200
except requests.exceptions.HTTPError as e:
    out["bad"] = e.response.status_code
print(json.dumps(out))
"#;
    let input = json!({
        "discovery": app.url("/taxii2/"),
        "key": app.a.token,
        "ca": ca.display().to_string(),
    });
    let out = crate::oracles::run_python_env(
        script,
        &input.to_string(),
        &[("REQUESTS_CA_BUNDLE", ca.to_str().expect("path"))],
    );
    let out: Value = serde_json::from_str(&out).expect("json");
    assert!(
        out["titles"]
            .to_string()
            .contains("Advance vulnerability notices"),
        "{out}"
    );
    assert_eq!(out["bad"], 401, "{out}");
}

crate::on_both_backends!(
    client_walks_every_collection,
    taxii2_client_token_auth,
    unmarked_is_amber_and_red_is_refused,
    siem_polling_loops,
    urls_leaving_the_feed_are_revoked,
    c2_offline_is_revoked
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frame_follows_the_specification() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let gid = group(&app, "Frame").await;
    let col = format!("/taxii2/isx/collections/group-{gid}/objects/");
    // 401 with a Basic challenge and a TAXII error body.
    let res = app
        .client
        .get(app.url("/taxii2/"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .expect("text")
        .starts_with("Basic"));
    assert_eq!(res.headers()["content-type"], TAXII);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["http_status"], "401");
    assert!(body["title"].is_string());
    // Answers made outside the TAXII routes are TAXII errors too: an
    // unknown path, a method no path takes, a target too long.
    let long = format!("/taxii2/isx/collections/?x={}", "a".repeat(9_000));
    for (method, path, status) in [
        (
            reqwest::Method::GET,
            format!("/taxii2/isx/collections/group-{gid}/nope/"),
            StatusCode::NOT_FOUND,
        ),
        (
            reqwest::Method::PATCH,
            col.clone(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (reqwest::Method::GET, long, StatusCode::URI_TOO_LONG),
    ] {
        let res = app
            .req(method.clone(), &path, &app.a.token)
            .header("accept", TAXII)
            .send()
            .await
            .expect("send");
        assert_eq!(
            res.status(),
            status,
            "{method} {}",
            &path[..60.min(path.len())]
        );
        assert_eq!(res.headers()["content-type"], TAXII, "{method}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["http_status"], status.as_u16().to_string(), "{body}");
    }
    // Basic with key id and secret works like Bearer.
    let (user, password, _) = basic(&app, &app.a.token);
    let res = app
        .client
        .get(app.url("/taxii2"))
        .basic_auth(&user, Some(&password))
        .header("accept", "application/taxii+json; version=2.1")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], TAXII);
    let d: Value = res.json().await.expect("json");
    assert!(
        d["api_roots"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("https://") && r.ends_with("/taxii2/isx/")),
        "absolute API root URLs: {d}"
    );
    // 406 for an Accept without TAXII 2.1, 415 for a non-TAXII body, 413
    // over max_content_length, 400 for a bad filter or a foreign next.
    let res = app
        .get("/taxii2/isx/collections/", &app.a.token)
        .header("accept", "application/json")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(res.headers()["content-type"], TAXII);
    let res = post(&app, &col, &app.a.token, "application/json", "{}".into()).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.headers()["content-type"], TAXII);
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        "x".repeat(10 * 1024 * 1024 + 1),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.headers()["content-type"], TAXII);
    for q in [
        "limit=0",
        "added_after=yesterday",
        "match[version]=newest",
        "next=1-abc",
    ] {
        let res = app
            .get(&format!("{col}?{q}"), &app.a.token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(res.headers()["content-type"], TAXII);
    }
    // An empty page is {} and carries no date headers; a full one carries both.
    let res = app.get(&col, &app.a.token).send().await.expect("send");
    assert!(res.headers().get("x-taxii-date-added-first").is_none());
    assert_eq!(res.text().await.expect("text"), "{}");
    let objects = bundle(&app);
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        json!({"objects": objects}).to_string(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let status: Value = res.json().await.expect("json");
    assert_eq!(status["success_count"], 7);
    let again: Value = app
        .get_json(
            &format!("/taxii2/isx/status/{}/", status["id"].as_str().expect("id")),
            &app.a.token,
        )
        .await;
    assert_eq!(again, status);
    // Another member cannot read a status it did not make.
    let res = app
        .get(
            &format!("/taxii2/isx/status/{}/", status["id"].as_str().expect("id")),
            &app.b.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Posting the same envelope again keeps nothing new.
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        json!({"objects": objects}).to_string(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app
        .get(&format!("{col}?limit=2"), &app.a.token)
        .send()
        .await
        .expect("send");
    let first = res.headers()["x-taxii-date-added-first"]
        .to_str()
        .expect("h")
        .to_owned();
    let last = res.headers()["x-taxii-date-added-last"]
        .to_str()
        .expect("h")
        .to_owned();
    assert!(first < last && last.len() == 27, "{first} {last}");
    let page: Value = res.json().await.expect("json");
    assert_eq!(page["more"], true);
    // Paging by added_after = the last date_added gives the rest, as
    // clients without `next` do.
    let rest: Value = app
        .get_json(&format!("{col}?added_after={last}"), &app.a.token)
        .await;
    assert_eq!(
        rest["objects"].as_array().map(Vec::len),
        Some(4),
        "6 objects in all: {rest}"
    );
    // A next token with other filters is refused.
    let next = page["next"].as_str().expect("next");
    let res = app
        .get(
            &format!("{col}?next={next}&match[type]=malware"),
            &app.a.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

struct Medallion {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Starts the OASIS reference server (medallion, memory backend) on
/// loopback with one empty writable collection.
fn medallion(collection: &str) -> (Medallion, String) {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = json!({
        "/discovery": {"title": "medallion", "default": format!("{base}/api1/"), "api_roots": [format!("{base}/api1/")]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 10_485_760},
            "status": [],
            "collections": [{"id": collection, "title": "diff", "can_read": true, "can_write": true,
                              "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}]
        }
    });
    let data_path = dir.path().join("data.json");
    std::fs::write(&data_path, data.to_string()).expect("data");
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": data_path},
        "users": {"admin": "Password0"},
        "taxii": {"max_page_size": 100}
    });
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).expect("config");
    let bin = crate::oracles::python().with_file_name("medallion");
    let child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start medallion (pip install medallion==3.0.0)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (Medallion { child, _dir: dir }, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_answers_as_medallion() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let gid = group(&app, "Differential").await;
    let collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    let (_m, base) = medallion(collection);
    let (user, password, ca) = basic(&app, &app.a.token);
    let common = json!({
        "per_request": 2, "walk": false, "objects": bundle(&app),
        "indicator": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "malware": "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc",
    });
    let mut isx_in = common.clone();
    isx_in["discovery"] = json!(app.url("/taxii2/"));
    isx_in["api_root"] = json!(app.url("/taxii2/isx/"));
    let info: Value = app
        .get_json(
            &format!("/taxii2/isx/collections/group-{gid}/"),
            &app.a.token,
        )
        .await;
    let cid = info["id"].as_str().expect("collection id");
    isx_in["collection"] = json!(app.url(&format!("/taxii2/isx/collections/{cid}/")));
    isx_in["user"] = json!(user);
    isx_in["password"] = json!(password);
    let mut med_in = common;
    med_in["discovery"] = json!(format!("{base}/taxii2/"));
    med_in["api_root"] = json!(format!("{base}/api1/"));
    med_in["collection"] = json!(format!("{base}/api1/collections/{collection}/"));
    med_in["user"] = json!("admin");
    med_in["password"] = json!("Password0");
    let ours = client(&isx_in, Some(&ca));
    let theirs = client(&med_in, None);
    let (a, b) = (&ours["calls"], &theirs["calls"]);
    let keys: Vec<&String> = b.as_object().expect("calls").keys().collect();
    assert!(keys.len() >= 18, "{b}");
    for k in keys {
        assert_eq!(
            a[k], b[k],
            "isx and medallion differ on {k}:\nisx: {}\nmedallion: {}",
            a[k], b[k]
        );
    }
}

/// Issue 19 part 3: an object posted without a marking is judged and
/// served as TLP:AMBER (the body carries the marking, so the reader's
/// tool knows it); a TLP:RED one — naming recipients or not, marked whole
/// or in part — is refused with its own reason while the rest of the
/// envelope is stored.
async fn unmarked_is_amber_and_red_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gid = group(&app, "Markings").await;
    let identity = isx_formats::partnership::member_identity(app.a.member.id);
    let red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    let amber = isx_formats::stix::tlp_marking_id(isx_domain::Tlp::Amber);
    let indicator = |id: &str, marking: Option<&str>| {
        let mut o = json!({"type": "indicator", "spec_version": "2.1", "id": id, "created_by_ref": identity,
            "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
            "indicator_types": ["malicious-activity"], "pattern": "[domain-name:value = 'x.evil.test']",
            "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"});
        if let Some(m) = marking {
            o["object_marking_refs"] = json!([m]);
        }
        o
    };
    let unmarked = "indicator--1f0c1b8e-6a4c-4b5e-9d1e-0a1b2c3d4e5f";
    let redone = "indicator--2f0c1b8e-6a4c-4b5e-9d1e-0a1b2c3d4e5f";
    let col = format!("/taxii2/isx/collections/group-{gid}/objects/");
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        json!({"objects": [indicator(unmarked, None), indicator(redone, Some(red))]}).to_string(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let status: Value = res.json().await.expect("status");
    assert_eq!(status["success_count"], 1, "{status}");
    assert_eq!(status["failure_count"], 1, "{status}");
    let failure = &status["failures"][0];
    assert_eq!(failure["id"], redone);
    assert!(
        failure["message"]
            .as_str()
            .unwrap_or("")
            .contains("TLP:RED"),
        "{status}"
    );
    let got = app
        .get_json(&format!("{col}{unmarked}/"), &app.a.token)
        .await;
    assert_eq!(
        got["objects"][0]["object_marking_refs"],
        json!([amber]),
        "{got}"
    );
    let res = app
        .get(&format!("{col}{redone}/"), &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "nothing of the refused object is stored"
    );

    // TLP:RED stays out even when it names people (x_isx_recipients) or
    // marks only part of the object (a granular marking): a group's
    // collection is read by all its members.
    let named = {
        let mut o = indicator("indicator--3f0c1b8e-6a4c-4b5e-9d1e-0a1b2c3d4e5f", Some(red));
        o["x_isx_recipients"] = json!([isx_formats::partnership::member_identity(app.b.member.id)]);
        o
    };
    let mut granular = indicator("indicator--9f0c1b8e-6a4c-4b5e-9d1e-0a1b2c3d4e5f", None);
    granular["granular_markings"] = json!([{"marking_ref": red, "selectors": ["pattern"]}]);
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        json!({"objects": [named, granular]}).to_string(),
    )
    .await;
    let refused: Value = res.json().await.expect("status");
    assert_eq!(refused["failure_count"], 2, "{refused}");
    assert!(
        refused["failures"]
            .as_array()
            .expect("failures")
            .iter()
            .all(|f| f["message"].as_str().unwrap_or("").contains("TLP:RED")),
        "{refused}"
    );
    // Red team 2026-12-07, 9: a status repeats at most a few hundred
    // characters of what was posted.
    let huge = json!({"objects": [{"id": "x".repeat(100_000), "modified": "y".repeat(100_000)}]});
    let res = post(&app, &col, &app.a.token, TAXII, huge.to_string()).await;
    let echoed: Value = res.json().await.expect("status");
    let f = &echoed["failures"][0];
    assert!(
        f["id"].as_str().is_some_and(|s| s.chars().count() <= 201)
            && f["version"]
                .as_str()
                .is_some_and(|s| s.chars().count() <= 201)
            && f["message"]
                .as_str()
                .is_some_and(|s| s.chars().count() <= 801),
        "{}",
        &echoed.to_string()[..600]
    );
    // Red team 2026-12-07 (third pass): an object keeps at most
    // MAX_VERSIONS versions — ten thousand of one id made every member's
    // reads a hundred times slower.
    let id = "indicator--af0c1b8e-6a4c-4b5e-9d1e-0a1b2c3d4e5f";
    let versions: Vec<Value> = (0..=isx_store::MAX_VERSIONS)
        .map(|i| {
            let mut o = indicator(
                id,
                Some(isx_formats::stix::tlp_marking_id(isx_domain::Tlp::Green)),
            );
            let t = isx_domain::Timestamp::parse("2026-11-01T10:00:00Z")
                .expect("time")
                .add_secs(i);
            o["modified"] = json!(isx_formats::stix::timestamp(t));
            o
        })
        .collect();
    let res = post(
        &app,
        &col,
        &app.a.token,
        TAXII,
        json!({"objects": versions}).to_string(),
    )
    .await;
    let capped: Value = res.json().await.expect("status");
    assert_eq!(
        (
            capped["success_count"].as_i64(),
            capped["failure_count"].as_i64()
        ),
        (Some(isx_store::MAX_VERSIONS), Some(1)),
        "{}",
        capped["failures"]
    );
    assert!(
        capped["failures"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 1000 versions")),
        "{}",
        capped["failures"]
    );
    // The roster names each member's STIX identity (its created_by_ref).
    let roster: Vec<Value> = app
        .get(&format!("/api/v1/groups/{gid}/members"), &app.a.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("roster");
    assert_eq!(
        roster[0]["stix_identity"],
        json!(isx_formats::partnership::member_identity(app.a.member.id)),
        "{roster:?}"
    );
}

/// How a SIEM or TI platform polls a collection (their loops, replayed).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Poller {
    /// OpenCTI's TAXII feed: `next` while there is more, repeating its
    /// `added_after`; then `added_after` from `X-TAXII-Date-Added-Last`
    /// through a JavaScript `Date` (milliseconds).
    OpenCti,
    /// Elastic's TAXII input: `next` alone with `limit`; its cursor is the
    /// last `X-TAXII-Date-Added-Last` as sent (none: it starts over).
    Elastic,
    /// Older clients that ignore `next`: `added_after` from the header,
    /// truncated to milliseconds, while there is more.
    HeaderOnly,
}

/// A poller's state between polls.
#[derive(Default)]
struct PollState {
    added_after: Option<String>,
    cursor: Option<String>,
    requests: usize,
}

/// Milliseconds, as `new Date(header).toISOString()` keeps them.
fn to_millis(header: &str) -> String {
    let t = isx_domain::Timestamp::parse(header).expect("header timestamp");
    isx_exchange::taxii_timestamp(isx_domain::Timestamp::from_micros(
        t.as_micros().div_euclid(1000) * 1000,
    ))
}

/// One poll (a run of requests until the client stops): the ids received.
async fn poll_once(
    app: &TestApp,
    col: &str,
    kind: Poller,
    limit: usize,
    filter: &[(&str, &str)],
    state: &mut PollState,
) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        state.requests += 1;
        assert!(state.requests < 400, "{kind:?}: endless polling");
        let mut params: Vec<(String, String)> = vec![("limit".into(), limit.to_string())];
        let with_filters = !(kind == Poller::Elastic && state.cursor.is_some());
        if with_filters {
            params.extend(
                filter
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
        }
        match (kind, &state.cursor, &state.added_after) {
            (Poller::Elastic, Some(n), _) => params.push(("next".into(), n.clone())),
            (Poller::OpenCti, Some(n), a) => {
                params.push(("next".into(), n.clone()));
                if let Some(a) = a {
                    params.push(("added_after".into(), a.clone()));
                }
            }
            (_, _, Some(a)) => params.push(("added_after".into(), a.clone())),
            _ => {}
        }
        let res = app
            .get(col, &app.a.token)
            .header("accept", TAXII)
            .query(&params)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK, "{kind:?} {params:?}");
        let last = res
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = res.json().await.expect("envelope");
        let objects = body["objects"].as_array().cloned().unwrap_or_default();
        let more = body["more"].as_bool().unwrap_or(false);
        let next = body["next"].as_str().map(str::to_owned);
        got.extend(
            objects
                .iter()
                .map(|o| o["id"].as_str().expect("id").to_owned()),
        );
        match kind {
            Poller::OpenCti => {
                if objects.is_empty() {
                    state.cursor = None;
                    return got;
                }
                if more && next.is_some() {
                    state.cursor = next;
                } else {
                    state.cursor = None;
                    state.added_after = last.as_deref().map(to_millis);
                    return got;
                }
            }
            Poller::Elastic => {
                // The cursor is replaced by each answer's header: without
                // one, Elastic would start over from its initial interval.
                state.added_after = last;
                assert!(
                    state.added_after.is_some() || state.requests == 1,
                    "an answer without X-TAXII-Date-Added-Last loses Elastic's place"
                );
                state.cursor = next;
                if state.cursor.is_none() {
                    return got;
                }
            }
            Poller::HeaderOnly => {
                if let Some(l) = &last {
                    state.added_after = Some(to_millis(l));
                }
                if !more {
                    return got;
                }
            }
        }
    }
}

/// Botnet events ingested as the operator (NDJSON), every one stored.
async fn ingest_botnet(app: &TestApp, body: String) {
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/botnet/events",
            &app.operator.token,
        )
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("send");
    // The answer streams one acknowledgement per stored batch: read to
    // its end, when every batch is stored.
    let status = res.status();
    let acks = res.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{acks}");
    assert!(!acks.contains("\"error\""), "{acks}");
}

/// An envelope of `n` indicators, ids numbered from `from`.
fn indicators(app: &TestApp, from: usize, n: usize) -> Value {
    let identity = isx_formats::partnership::member_identity(app.a.member.id);
    let green = isx_formats::stix::tlp_marking_id(isx_domain::Tlp::Green);
    let objects: Vec<Value> = (from..from + n)
        .map(|i| {
            json!({"type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i),
                "created_by_ref": identity,
                "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
                "indicator_types": ["malicious-activity"],
                "pattern": format!("[ipv4-addr:value = '198.51.{}.{}']", (i / 250) % 250, i % 250),
                "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z",
                "object_marking_refs": [green]})
        })
        .collect();
    json!({ "objects": objects })
}

/// Issue 19 part 3: the polling loops of OpenCTI's TAXII feed, Elastic's
/// TAXII input and clients that ignore `next`, against a collection where
/// 10,000 objects arrive in one post (one instant) and more in later
/// ones, and against the botnet collection's per-reader spread: every object once, nothing missed, no endless loop, and a poll
/// after the end gets nothing — with `added_after` truncated to
/// milliseconds, `next` with and without the filters repeated.
async fn siem_polling_loops(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gid = group(&app, "Polling").await;
    let col = format!("/taxii2/isx/collections/group-{gid}/objects/");
    let send = |body: Value| {
        let app = &app;
        let col = col.clone();
        async move {
            let res = post(app, &col, &app.a.token, TAXII, body.to_string()).await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            let status: Value = res.json().await.expect("status");
            assert_eq!(status["failure_count"], 0, "{status}");
        }
    };
    send(indicators(&app, 0, 10_000)).await;
    // (client, page size, filters): a page smaller than a millisecond's
    // objects, a page of exactly one (1,000 objects: the header-only
    // client needs a page to hold a millisecond), and a filter.
    type Filters = Vec<(&'static str, &'static str)>;
    let clients: Vec<(Poller, usize, Filters)> = vec![
        (Poller::OpenCti, 700, vec![]),
        (Poller::OpenCti, 700, vec![("match[type]", "indicator")]),
        (Poller::OpenCti, 10_000, vec![]),
        (Poller::Elastic, 700, vec![]),
        (Poller::HeaderOnly, 1_000, vec![]),
    ];
    let mut states: Vec<PollState> = clients.iter().map(|_| PollState::default()).collect();
    let want = |range: std::ops::Range<usize>| -> Vec<String> {
        range
            .map(|i| format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i))
            .collect()
    };
    for ((kind, limit, filter), state) in clients.iter().zip(states.iter_mut()) {
        let got = poll_once(&app, &col, *kind, *limit, filter, state).await;
        assert_eq!(got.len(), 10_000, "{kind:?}/{limit}: {} objects", got.len());
        assert_eq!(
            got,
            want(0..10_000),
            "{kind:?}/{limit}: in order, once each"
        );
    }
    // Two later posts; each client's next poll gets just those.
    send(indicators(&app, 10_000, 1_500)).await;
    send(indicators(&app, 11_500, 1_500)).await;
    for ((kind, limit, filter), state) in clients.iter().zip(states.iter_mut()) {
        let got = poll_once(&app, &col, *kind, *limit, filter, state).await;
        assert_eq!(
            got,
            want(10_000..13_000),
            "{kind:?}/{limit}: the new objects once"
        );
        let again = poll_once(&app, &col, *kind, *limit, filter, state).await;
        assert!(
            again.is_empty(),
            "{kind:?}/{limit}: {} repeated",
            again.len()
        );
    }
    // The same loops on a product collection, where each reader's objects
    // are spread over the microseconds after their import's instant: A's
    // botnet victims, imported with as many of B's, 6,000 of A's objects
    // in one import, then another import.
    let botnet = "/taxii2/isx/collections/botnet/objects/";
    let now = isx_domain::Clock::now(app.clock.as_ref());
    let import = |from: u32| {
        let mut body = String::new();
        for i in from..from + 3_000 {
            for ip in ["192.0.2.10", "198.51.100.7"] {
                body.push_str(&format!(
                    "{{\"product\":\"infected\",\"time\":\"{}\",\"ip\":\"{ip}\",\"port\":{},\"family\":\"necurs\"}}\n",
                    now.to_rfc3339(),
                    1_024 + i
                ));
            }
        }
        body
    };
    let ingest = |body: String| ingest_botnet(&app, body);
    // What A may see, read whole (the reference).
    let whole = || {
        let app = &app;
        async move {
            let mut state = PollState::default();
            poll_once(app, botnet, Poller::OpenCti, 10_000, &[], &mut state).await
        }
    };
    ingest(import(0)).await;
    let first = whole().await;
    assert_eq!(
        first.len(),
        6_000,
        "A's 3,000 victims: an indicator and a sighting each"
    );
    let clients: Vec<(Poller, usize)> = vec![
        (Poller::OpenCti, 700),
        (Poller::Elastic, 700),
        (Poller::HeaderOnly, 1_000),
    ];
    let mut states: Vec<PollState> = clients.iter().map(|_| PollState::default()).collect();
    for ((kind, limit), state) in clients.iter().zip(states.iter_mut()) {
        let got = poll_once(&app, botnet, *kind, *limit, &[], state).await;
        assert_eq!(
            got, first,
            "{kind:?}/{limit} on botnet: every object once, in order"
        );
    }
    ingest(import(3_000)).await;
    let all = whole().await;
    assert_eq!(all.len(), 12_000);
    for ((kind, limit), state) in clients.iter().zip(states.iter_mut()) {
        let got = poll_once(&app, botnet, *kind, *limit, &[], state).await;
        assert_eq!(
            got,
            all[6_000..].to_vec(),
            "{kind:?}/{limit} on botnet: the new objects once"
        );
        let again = poll_once(&app, botnet, *kind, *limit, &[], state).await;
        assert!(
            again.is_empty(),
            "{kind:?}/{limit} on botnet: {} repeated",
            again.len()
        );
    }
    // An empty page reports where it was asked to start, so a client that
    // takes its cursor from the header keeps its place.
    let after = "2030-01-01T00:00:00.000000Z";
    let res = app
        .get(&format!("{col}?added_after={after}"), &app.a.token)
        .header("accept", TAXII)
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok()),
        Some(after)
    );
}

/// A SIEM's poll of the URL collection from where the last one ended
/// (`added_after` from `X-TAXII-Date-Added-Last`, `next` while there is
/// more): the objects received, in order.
async fn poll_urls(app: &TestApp, added_after: &mut Option<String>) -> Vec<Value> {
    let mut got = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..100 {
        let mut params = vec![("limit".to_owned(), "5".to_owned())];
        match (&next, added_after.as_ref()) {
            (Some(n), _) => params.push(("next".into(), n.clone())),
            (None, Some(a)) => params.push(("added_after".into(), a.clone())),
            (None, None) => {}
        }
        let res = app
            .get("/taxii2/isx/collections/urls/objects/", &app.a.token)
            .header("accept", TAXII)
            .query(&params)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
        let last = res
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = res.json().await.expect("envelope");
        got.extend(body["objects"].as_array().cloned().unwrap_or_default());
        next = body["next"].as_str().map(str::to_owned);
        if last.is_some() {
            *added_after = last;
        }
        if !body["more"].as_bool().unwrap_or(false) || next.is_none() {
            return got;
        }
    }
    panic!("endless polling");
}

/// Issue 19 part 3: a URL that leaves the feed (five days after its last
/// sighting) gets a final `revoked: true` version of its indicator,
/// infrastructure and relationship, which a polling SIEM receives after
/// what it already had; a URL seen again afterwards is a new indicator (a
/// revoked one is never valid again); old news for a revoked URL adds no
/// version after the revoked one; the revocation is no change for the
/// 3-hourly files; and every object passes `stix2-validator`.
async fn urls_leaving_the_feed_are_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = app.store.as_ref();
    let now = || isx_domain::Clock::now(app.clock.as_ref());
    let import = |rows: Value| {
        let app = &app;
        async move {
            let res = app
                .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
                .header("content-type", "application/json")
                .body(rows.to_string())
                .send()
                .await
                .expect("send");
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{}",
                res.text().await.unwrap_or_default()
            );
        }
    };
    let row = |url: &str, first: isx_domain::Timestamp, last: isx_domain::Timestamp| {
        json!({"url": url, "threat": "phishing", "tlp": "green",
               "first_seen": first.to_rfc3339(), "last_seen": last.to_rfc3339()})
    };
    let day = 86_400;
    let t0 = now();
    import(json!([
        row("http://live-a.example/login", t0.add_secs(-3_600), t0),
        row(
            "http://old-b.example/login",
            t0.add_secs(-9 * day),
            t0.add_secs(-6 * day)
        ),
        row("http://live-c.example/login", t0.add_secs(-60), t0),
    ]))
    .await;
    let indicators = |objects: &[Value]| -> Vec<Value> {
        objects
            .iter()
            .filter(|o| o["type"] == "indicator")
            .cloned()
            .collect()
    };
    let of = |objects: &[Value], host: &str| -> Vec<Value> {
        indicators(objects)
            .into_iter()
            .filter(|o| o["pattern"].as_str().unwrap_or("").contains(host))
            .collect()
    };
    let mut cursor = None;
    let first = poll_urls(&app, &mut cursor).await;
    // A second reader polls now and next only after A comes back.
    let mut late = cursor.clone();
    // Phishing URLs: indicator, infrastructure, relationship each.
    assert_eq!(first.len(), 9, "{first:#?}");
    let a0 = of(&first, "live-a")[0].clone();
    assert!(a0.get("revoked").is_none(), "{a0}");
    // Old news enters revoked, with its infrastructure and relationship.
    let b = of(&first, "old-b")[0].clone();
    assert_eq!(b["revoked"], true, "{b}");
    assert!(first.iter().filter(|o| o["revoked"] == true).count() == 3);
    let seq_before = store
        .url_seq_before(t0.add_secs(30 * day))
        .await
        .expect("seq");

    // Six days on: A and C have left the feed; D is new.
    app.clock.advance_secs(6 * day);
    let t1 = now();
    assert_eq!(
        isx_app::urls::revoke_stale(store, t1)
            .await
            .expect("revoke"),
        2
    );
    assert_eq!(
        isx_app::urls::revoke_stale(store, t1).await.expect("again"),
        0,
        "idempotent"
    );
    assert_eq!(
        store
            .url_seq_before(t0.add_secs(30 * day))
            .await
            .expect("seq"),
        seq_before,
        "a revocation is no batch: the 3-hourly files see no change"
    );
    import(json!([row("http://new-d.example/x", t1.add_secs(-60), t1)])).await;
    let second = poll_urls(&app, &mut cursor).await;
    let ids: Vec<&str> = second.iter().filter_map(|o| o["id"].as_str()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "no duplicates: {ids:?}");
    assert_eq!(
        second.len(),
        9,
        "A and C revoked (3 objects each), D new: {second:#?}"
    );
    let a1 = of(&second, "live-a")[0].clone();
    assert_eq!(a1["id"], a0["id"], "the same indicator");
    assert_eq!(a1["revoked"], true);
    assert!(
        isx_domain::Timestamp::parse(a1["modified"].as_str().unwrap()).unwrap()
            > isx_domain::Timestamp::parse(a0["modified"].as_str().unwrap()).unwrap(),
        "a later version: {a0} then {a1}"
    );
    assert!(of(&second, "new-d")[0].get("revoked").is_none());
    assert!(of(&second, "old-b").is_empty(), "nothing new for B");

    // A is seen again: a new indicator, valid from the new activity. C's
    // old news leaves it revoked, and nothing follows its final version.
    let t2 = now();
    import(json!([
        row("http://live-a.example/login", t2.add_secs(-120), t2),
        row(
            "http://live-c.example/login",
            t0.add_secs(-2 * day),
            t0.add_secs(-day)
        ),
    ]))
    .await;
    let third = poll_urls(&app, &mut cursor).await;
    // A's ended generation comes first, the very versions already sent,
    // then its new one.
    assert_eq!(third.len(), 6, "A's objects only: {third:#?}");
    let revoked_again: Vec<&Value> = third.iter().filter(|o| o["revoked"] == true).collect();
    assert_eq!(revoked_again.len(), 3);
    for o in &revoked_again {
        assert!(second.contains(o), "the same final version: {o}");
    }
    // A reader that did not poll while A was out still gets its revocation
    // (A's record was overwritten by its return).
    let caught_up = poll_urls(&app, &mut late).await;
    let a_revoked = of(&caught_up, "live-a")
        .into_iter()
        .find(|o| o["revoked"] == true)
        .expect("the revoked version of A's first indicator");
    assert_eq!(a_revoked["id"], a0["id"]);
    let a2 = of(&third, "live-a")
        .into_iter()
        .find(|o| o.get("revoked").is_none())
        .expect("A's new indicator");
    assert_ne!(
        a2["id"], a0["id"],
        "a revoked indicator is never valid again"
    );
    assert!(a2.get("revoked").is_none(), "{a2}");
    // (STIX timestamps here carry milliseconds.)
    assert_eq!(
        isx_domain::Timestamp::parse(a2["valid_from"].as_str().unwrap())
            .unwrap()
            .as_micros(),
        t2.add_secs(-120).as_micros() / 1000 * 1000
    );
    assert!(of(&third, "live-c").is_empty());
    let c = store
        .url_records(&isx_store::UrlQuery {
            text: Some("live-c".into()),
            markings: isx_domain::Tlp::ALL.to_vec(),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("records");
    assert_eq!(
        (c[0].times_seen, c[0].live),
        (1, false),
        "old news changes nothing of a revoked URL, not even its count"
    );

    // D's threat changes from phishing (infrastructure: phishing) to spam
    // (none): its indicator, infrastructure and relationship end revoked,
    // and a new indicator says what it is now. An earlier sighting does
    // not move `created` (fixed per generation).
    let d0 = of(&second, "new-d")[0].clone();
    let t3 = now();
    import(json!([
        {"url": "http://new-d.example/x", "threat": "spam", "tlp": "green", "source": "trap",
         "first_seen": t3.add_secs(-30).to_rfc3339(), "last_seen": t3.to_rfc3339()},
    ]))
    .await;
    let fourth = poll_urls(&app, &mut cursor).await;
    let ended: Vec<&Value> = fourth.iter().filter(|o| o["revoked"] == true).collect();
    assert_eq!(
        ended.len(),
        3,
        "indicator, infrastructure, relationship: {fourth:#?}"
    );
    assert!(ended.iter().any(|o| o["id"] == d0["id"]));
    let d1 = of(&fourth, "new-d")
        .into_iter()
        .find(|o| o.get("revoked").is_none())
        .expect("D's new indicator");
    assert_ne!(d1["id"], d0["id"]);
    import(json!([row(
        "http://new-d.example/x",
        t3.add_secs(-3 * day),
        t3.add_secs(-day)
    )]))
    .await;
    let fifth = poll_urls(&app, &mut cursor).await;
    let d2 = of(&fifth, "new-d")
        .into_iter()
        .find(|o| o["id"] == d1["id"])
        .expect("a later version of D's indicator");
    assert_eq!(d2["created"], d1["created"], "created never changes");
    // A sighting from the future is refused.
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
        .header("content-type", "application/json")
        .body(json!([row("http://future.example/", t3, t3.add_secs(400 * day))]).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Every object, revoked or not, is valid STIX 2.1 (strict).
    let all: Vec<Value> = first
        .into_iter()
        .chain(second)
        .chain(third)
        .chain(caught_up)
        .chain(fourth)
        .chain(fifth)
        .collect();
    assert_valid_stix(all);
}

/// Issue 19 part 3: a C2 server in the botnet collection is one indicator
/// per generation, each report that tells something new a later version
/// of it; a source reporting it offline adds the final `revoked: true`
/// version, and nothing follows (old news and repeated offline reports
/// add no version); back online, it is a new indicator. Versions come in
/// the order the sources saw, a polling client gets each once, and every
/// object passes `stix2-validator`.
async fn c2_offline_is_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = isx_domain::Clock::now(app.clock.as_ref());
    let at = |secs: i64| t.add_secs(secs).to_rfc3339();
    let line = |time: String, status: &str| {
        format!(
            "{{\"product\":\"c2\",\"time\":\"{time}\",\"ip\":\"203.0.113.66\",\"port\":443,\"family\":\"emotet\",\"status\":\"{status}\",\"tlp\":\"green\"}}\n"
        )
    };
    let ingest = |body: String| ingest_botnet(&app, body);
    let col = "/taxii2/isx/collections/botnet/objects/";
    async fn versions(app: &TestApp, col: &str, id: &str) -> Vec<Value> {
        let res = app
            .get(&format!("{col}{id}/versions/"), &app.a.token)
            .header("accept", TAXII)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("versions");
        let mut out = Vec::new();
        for v in body["versions"].as_array().cloned().unwrap_or_default() {
            let res = app
                .get(&format!("{col}{id}/"), &app.a.token)
                .header("accept", TAXII)
                .query(&[("match[version]", v.as_str().unwrap_or_default())])
                .send()
                .await
                .expect("send");
            let body: Value = res.json().await.expect("object");
            out.extend(body["objects"].as_array().cloned().unwrap_or_default());
        }
        out
    }
    let mut state = PollState::default();
    ingest([line(at(-300), "online"), line(at(-200), "online")].concat()).await;
    // Old news (seen before the last version), arriving later: nothing new.
    ingest(line(at(-250), "online")).await;
    let first = poll_once(&app, col, Poller::OpenCti, 2, &[], &mut state).await;
    // One indicator (its latest version, as TAXII serves by default).
    assert_eq!(first.len(), 1, "{first:?}");
    let id = first[0].clone();
    assert_eq!(
        versions(&app, col, &id).await.len(),
        2,
        "two versions so far"
    );
    ingest([line(at(-100), "offline"), line(at(-50), "offline")].concat()).await;
    let second = poll_once(&app, col, Poller::OpenCti, 2, &[], &mut state).await;
    assert_eq!(second, vec![id.clone()], "the revoked version, once");
    let all = versions(&app, col, &id).await;
    assert_eq!(all.len(), 3, "{all:#?}");
    let last = &all[2];
    assert_eq!(last["revoked"], true, "{last}");
    let modified: Vec<&str> = all.iter().filter_map(|o| o["modified"].as_str()).collect();
    assert!(modified.windows(2).all(|w| w[0] < w[1]), "{modified:?}");
    assert!(all.iter().all(|o| o["created"] == all[0]["created"]));
    // Back online: a new indicator; a report from before it went
    // offline still adds nothing.
    ingest([line(at(-150), "online"), line(at(-10), "online")].concat()).await;
    let third = poll_once(&app, col, Poller::OpenCti, 2, &[], &mut state).await;
    assert_eq!(third.len(), 1, "{third:?}");
    assert_ne!(third[0], id, "a revoked indicator is never valid again");
    let back = versions(&app, col, &third[0]).await;
    assert!(back[0].get("revoked").is_none(), "{back:#?}");
    assert!(
        poll_once(&app, col, Poller::OpenCti, 2, &[], &mut state)
            .await
            .is_empty(),
        "nothing after the end"
    );
    // Every version is valid STIX 2.1 (strict).
    let every: Vec<Value> = all.into_iter().chain(back).collect();
    assert_valid_stix(every);
}

/// Every object passes `stix2-validator` (strict, STIX 2.1).
fn assert_valid_stix(objects: Vec<Value>) {
    const VALIDATE: &str = r#"
import json, sys
from stix2validator import validate_string, ValidationOptions
bad = []
for o in json.load(sys.stdin):
    r = validate_string(json.dumps(o), ValidationOptions(strict=True, version="2.1"))
    if not r.is_valid:
        bad.append([o["id"], [str(e) for e in r.errors]])
print(json.dumps(bad))
"#;
    let out = crate::oracles::run_python(VALIDATE, &Value::Array(objects).to_string());
    assert_eq!(out.trim(), "[]", "{out}");
}
