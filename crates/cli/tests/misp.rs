//! Issue 19 part 1: each member's MISP feed, read the way a MISP instance
//! reads it and judged with PyPI's `pymisp`: every event loads, validates
//! against PyMISP's schema, uses MISP's attribute types and categories and
//! its object templates; `manifest.json` and `hashes.csv` equal what
//! PyMISP's feed generator computes from the events; a member's feed
//! holds its own victims and nobody else's; timestamps move only when an
//! event changes.

use isx_domain::{Clock, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

const DAY: i64 = 86_400;

/// Reads a member's feed with pymisp and checks it; answers a summary.
const PYMISP_CHECK: &str = r#"
import json, os, sys, tempfile, hashlib, pathlib
import requests, jsonschema, pymisp
from pymisp import MISPEvent
from pymisp.tools import feed_meta_generator

doc = json.load(sys.stdin)
data = os.path.join(os.path.dirname(pymisp.__file__), "data")
schema = json.load(open(os.path.join(data, "schema-lax.json")))
types = json.load(open(os.path.join(data, "describeTypes.json")))["result"]
s = requests.Session()
s.headers["Authorization"] = "Bearer " + doc["key"]
s.verify = doc["ca"]
base = doc["base"]
errors = []
r = s.get(base + "manifest.json")
r.raise_for_status()
manifest = r.json()
hashes = s.get(base + "hashes.csv").text
out = {"events": {}, "victims": [], "objects": set(), "types": set(), "tags": set()}
tmp = pathlib.Path(tempfile.mkdtemp())
for uuid in manifest:
    r = s.get(base + uuid + ".json")
    if r.status_code != 200:
        errors.append(f"{uuid}: HTTP {r.status_code}")
        continue
    body = r.json()
    try:
        jsonschema.validate(body, schema)
    except jsonschema.ValidationError as e:
        errors.append(f"{uuid}: schema: {e.message}")
    (tmp / f"{uuid}.json").write_text(json.dumps(body))
    ev = MISPEvent(strict_validation=True)
    ev.load(json.dumps(body))
    if ev.uuid != uuid:
        errors.append(f"{uuid}: loads as {ev.uuid}")
    attrs = list(ev.attributes) + [a for o in ev.objects for a in o.attributes]
    for a in attrs:
        out["types"].add(a.type)
        if a.type not in types["types"]:
            errors.append(f"{uuid}: unknown type {a.type}")
        elif a.type not in types["category_type_mappings"].get(a.category, []):
            errors.append(f"{uuid}: type {a.type} not in category {a.category}")
    for o in ev.objects:
        out["objects"].add(o.name)
        t = json.load(open(os.path.join(data, "misp-objects", "objects", o.name, "definition.json")))
        if o.template_uuid != t["uuid"] or str(o.template_version) != str(t["version"]):
            errors.append(f"{uuid}: object {o.name} template {o.template_uuid} v{o.template_version}")
        rels = [a.object_relation for a in o.attributes]
        for a in o.attributes:
            spec = t["attributes"].get(a.object_relation)
            if spec is None:
                errors.append(f"{uuid}: {o.name} has no relation {a.object_relation}")
            elif spec["misp-attribute"] != a.type:
                errors.append(f"{uuid}: {o.name}.{a.object_relation} is {a.type}, template says {spec['misp-attribute']}")
            elif bool(spec.get("disable_correlation", False)) != bool(a.disable_correlation):
                errors.append(f"{uuid}: {o.name}.{a.object_relation} disable_correlation {a.disable_correlation}, template says {spec.get('disable_correlation', False)}")
            elif spec.get("categories") and a.category not in spec["categories"]:
                errors.append(f"{uuid}: {o.name}.{a.object_relation} category {a.category} not in {spec['categories']}")
            elif not spec.get("multiple") and rels.count(a.object_relation) > 1:
                errors.append(f"{uuid}: {o.name}.{a.object_relation} repeated")
        for req in t.get("required", []):
            if req not in rels:
                errors.append(f"{uuid}: {o.name} lacks required {req}")
        if t.get("requiredOneOf") and not set(rels) & set(t["requiredOneOf"]):
            errors.append(f"{uuid}: {o.name} has none of {t['requiredOneOf']}")
        if o.name == "ip-port":
            out["victims"] += [a.value for a in o.attributes if a.object_relation == "ip-src"]
    tlp = [t.name for t in ev.tags if t.name.startswith("tlp:")]
    out["tags"].update(t.name for t in ev.tags)
    if len(tlp) != 1:
        errors.append(f"{uuid}: TLP tags {tlp}")
    out["events"][uuid] = {"info": ev.info, "timestamp": manifest[uuid]["timestamp"],
                           "attributes": len(attrs), "tlp": tlp,
                           "values": sorted(str(a.value) for a in attrs)}
# What PyMISP's feed generator computes from these events.
feed_meta_generator(tmp)
computed = json.loads((tmp / "manifest.json").read_text())
if computed != manifest:
    diff = [u for u in set(computed) | set(manifest) if computed.get(u) != manifest.get(u)]
    errors.append(f"manifest differs at {diff[:3]}: {[computed.get(u) for u in diff[:1]]} vs {[manifest.get(u) for u in diff[:1]]}")
if sorted((tmp / "hashes.csv").read_text().splitlines()) != sorted(hashes.splitlines()):
    errors.append("hashes.csv differs from the feed generator's")
out["hash_lines"] = len(hashes.splitlines())
bad = s.get(base + "00000000-0000-4000-8000-000000000000.json")
out["unknown_event"] = bad.status_code
out["errors"] = errors
for k in ("objects", "types", "tags"):
    out[k] = sorted(out[k])
print(json.dumps(out))
"#;

fn pymisp_feed(app: &TestApp, key: &str) -> Value {
    let ca = app.data_dir.path().join("tls/ca.pem");
    let input = json!({
        "base": app.url("/api/v1/feeds/misp/"),
        "key": key,
        "ca": ca.display().to_string(),
    });
    // requests lets the environment's CA bundle override a session's.
    let out = crate::oracles::run_python_env(
        PYMISP_CHECK,
        &input.to_string(),
        &[("REQUESTS_CA_BUNDLE", ca.to_str().expect("path"))],
    );
    serde_json::from_str(&out).expect("summary JSON")
}

async fn post(app: &TestApp, path: &str, content_type: &str, body: String) -> Value {
    let res = app
        .req(reqwest::Method::POST, path, &app.operator.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK, "POST {path}");
    let text = res.text().await.expect("body");
    serde_json::from_str(text.lines().next().unwrap_or("{}")).unwrap_or(Value::Null)
}

fn urls(now: Timestamp, from: usize, n: usize) -> String {
    let rows: Vec<Value> = (from..from + n)
        .map(|i| {
            json!({
                "url": format!("http://phish-{i}.example/login/{i}"),
                "threat": if i % 2 == 0 { "phishing" } else { "malware_download" },
                "first_seen": now.add_secs(-(i as i64 % 4) * 4 * 3600 - 600).to_rfc3339(),
                "last_seen": now.add_secs(-300).to_rfc3339(),
                "tlp": if i % 4 == 3 { "amber" } else { "green" },
                "source": "crawler",
            })
        })
        .collect();
    Value::Array(rows).to_string()
}

fn botnet(now: Timestamp) -> String {
    let t = now.add_secs(-600).to_rfc3339();
    format!(
        "{{\"product\":\"infected\",\"time\":\"{t}\",\"ip\":\"192.0.2.10\",\"port\":51000,\"family\":\"emotet\"}}\n\
         {{\"product\":\"infected\",\"time\":\"{t}\",\"ip\":\"198.51.100.7\",\"port\":4444,\"family\":\"qakbot\"}}\n\
         {{\"product\":\"iot\",\"time\":\"{t}\",\"ip\":\"192.0.2.77\",\"family\":\"mirai\",\"device_type\":\"camera\"}}\n\
         {{\"product\":\"c2\",\"time\":\"{t}\",\"ip\":\"203.0.113.66\",\"port\":443,\"domain\":\"panel.evil.test\",\"family\":\"emotet\",\"status\":\"online\",\"tlp\":\"amber\"}}\n\
         {{\"product\":\"c2\",\"time\":\"{t}\",\"ip\":\"203.0.113.67\",\"port\":8080,\"family\":\"qakbot\",\"status\":\"offline\"}}\n\
         {{\"product\":\"domains\",\"time\":\"{t}\",\"domain\":\"dga-xyz.test\",\"family\":\"necurs\",\"purpose\":\"dga\",\"tlp\":\"green\"}}\n"
    )
}

async fn feeds_for_misp(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = app.clock.now();
    post(
        &app,
        "/api/v1/urls?source=crawler",
        "application/json",
        urls(now, 0, 12),
    )
    .await;
    post(
        &app,
        "/api/v1/botnet/events",
        "application/x-ndjson",
        botnet(now),
    )
    .await;
    // A published release (released: every member sees it) and one still
    // under embargo beyond every member's window.
    for (title, at) in [
        ("released", now.add_secs(-DAY)),
        ("embargoed", now.add_secs(30 * DAY)),
    ] {
        let r: Value = app
            .post_json(
                "/api/v1/releases",
                &app.operator.token,
                &json!({"title": title, "release_at": at.to_rfc3339(), "status": "scheduled", "marking": "clear"}),
            )
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let cve = if title == "released" {
            "CVE-2026-30001"
        } else {
            "CVE-2026-30002"
        };
        let doc = isx_formats::csaf::to_csaf(
            &crate::advisories::advisory(cve),
            &isx_formats::csaf::ExportContext {
                publisher_name: "Contoso".into(),
                publisher_namespace: "https://contoso.example".into(),
                tracking_id: format!("CONTOSO-{cve}"),
                title: "Contoso".into(),
                tlp: isx_domain::Tlp::Clear,
                is_final: true,
                initial_release: at,
                current_release: at,
            },
        );
        let res = app
            .post_json(
                &format!("/api/v1/releases/{}/advisories", r["id"]),
                &app.operator.token,
                &doc,
            )
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
    }
    // A trust group of A's, with an indicator and a sighting.
    let g: Value = app
        .post_json(
            "/api/v1/groups",
            &app.operator.token,
            &json!({"name": "MISP exchange", "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    for details in [
        json!({"kind": "indicator", "indicator_type": "domain", "value": "c2.shared.example"}),
        json!({"kind": "sighting", "indicator_type": "ipv4", "value": "203.0.113.99", "count": 2,
               "first_seen": now.add_secs(-DAY).to_rfc3339(), "last_seen": now.to_rfc3339()}),
    ] {
        let res = app
            .post_json(
                &format!("/api/v1/groups/{}/contributions", g["id"]),
                &app.a.token,
                &json!({"title": "shared", "marking": "amber", "details": details}),
            )
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    let a = pymisp_feed(&app, &app.a.token);
    assert_eq!(a["errors"], json!([]), "{a:#}");
    assert_eq!(a["unknown_event"], 404);
    for o in ["url", "ip-port", "domain-ip", "vulnerability"] {
        assert!(
            a["objects"].to_string().contains(&format!("\"{o}\"")),
            "{o}: {a}"
        );
    }
    for t in ["tlp:green", "tlp:amber", "tlp:clear"] {
        assert!(a["tags"].to_string().contains(t), "{t}: {a}");
    }
    let values = a["events"].to_string();
    // A's own victims, nobody else's; C2 that is online, not offline.
    let victims: Vec<&str> = a["victims"]
        .as_array()
        .expect("victims")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(victims, ["192.0.2.10", "192.0.2.77"], "{a}");
    assert!(!values.contains("198.51.100.7"));
    assert!(values.contains("203.0.113.66") && values.contains("dga-xyz.test"));
    assert!(
        !values.contains("203.0.113.67"),
        "an offline C2 is not current"
    );
    assert!(values.contains("CVE-2026-30001") && !values.contains("CVE-2026-30002"));
    assert!(values.contains("c2.shared.example") && values.contains("203.0.113.99"));
    assert!(values.contains("http://phish-11.example/login/11"));

    let b = pymisp_feed(&app, &app.b.token);
    assert_eq!(b["errors"], json!([]), "{b:#}");
    let victims: Vec<&str> = b["victims"]
        .as_array()
        .expect("victims")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(victims, ["198.51.100.7"], "{b}");
    let values = b["events"].to_string();
    assert!(!values.contains("192.0.2.10") && !values.contains("192.0.2.77"));
    assert!(
        !values.contains("c2.shared.example"),
        "B is not in A's group"
    );

    // Without a key: 401; with a forged event id: 404 (above).
    let res = app
        .client
        .get(app.url("/api/v1/feeds/misp/manifest.json"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Time passing changes nothing; one new URL moves exactly the events
    // that now hold it (the rolling set and its slot).
    let stamps = |v: &Value| -> std::collections::BTreeMap<String, i64> {
        v["events"]
            .as_object()
            .expect("events")
            .iter()
            .map(|(k, e)| (k.clone(), e["timestamp"].as_i64().expect("ts")))
            .collect()
    };
    let before = stamps(&a);
    app.clock.advance_secs(60);
    let later = pymisp_feed(&app, &app.a.token);
    assert_eq!(stamps(&later), before, "nothing changed");
    let now = app.clock.now();
    let one = json!([{"url": "http://new-one.example/x", "threat": "phishing",
        "first_seen": now.add_secs(-30).to_rfc3339(), "last_seen": now.add_secs(-30).to_rfc3339(),
        "tlp": "green", "source": "crawler"}]);
    post(
        &app,
        "/api/v1/urls?source=crawler",
        "application/json",
        one.to_string(),
    )
    .await;
    // A feed is built at most once a minute per principal.
    let cached = pymisp_feed(&app, &app.a.token);
    assert_eq!(stamps(&cached), before, "served from the minute's build");
    app.clock.advance_secs(isx_app::misp::CACHE_SECS);
    let after = pymisp_feed(&app, &app.a.token);
    let after_stamps = stamps(&after);
    let moved: Vec<&String> = after_stamps
        .iter()
        .filter(|(k, t)| before.get(*k) != Some(*t))
        .map(|(k, _)| k)
        .collect();
    let holding: Vec<&String> = after["events"]
        .as_object()
        .expect("events")
        .iter()
        .filter(|(_, e)| e["values"].to_string().contains("http://new-one.example/x"))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        holding.len(),
        2,
        "the rolling event and one slot event: {after}"
    );
    let moved: std::collections::BTreeSet<&String> = moved.into_iter().collect();
    let holding: std::collections::BTreeSet<&String> = holding.into_iter().collect();
    assert_eq!(moved, holding, "only the events holding the new URL moved");
    assert!(after["hash_lines"].as_u64() > a["hash_lines"].as_u64());
}

crate::on_both_backends!(feeds_for_misp, misp_events_into_a_group);

/// A MISP event as MISP's own library writes it: an event marked
/// TLP:GREEN naming an ATT&CK technique (a galaxy tag), a domain and an
/// `ip-dst|port` meant for detection (the latter sighted twice), a `url`
/// object whose attribute is TLP:AMBER+STRICT, a SHA-256 whose comment
/// names a person's e-mail address, and attributes isx has no use for (a
/// text, an e-mail address not meant for detection).
const PYMISP_EVENT: &str = r#"
import json, sys
from pymisp import MISPEvent, MISPObject
doc = json.load(sys.stdin)
e = MISPEvent()
e.uuid = doc["event"]
e.info = "Phishing wave against energy companies"
e.threat_level_id = 2
e.analysis = 1
e.add_tag("tlp:green")
e.add_tag('misp-galaxy:mitre-attack-pattern="Spearphishing Link - T1566.002"')
e.add_tag("sector:energy")
d = e.add_attribute("domain", "login-portal.example", to_ids=True, uuid=doc["domain"])
ip = e.add_attribute("ip-dst|port", "203.0.113.9|443", to_ids=True, uuid=doc["ip"])
for t in doc["sighted"]:
    ip.add_sighting({"date_sighting": t, "type": "0"})
ip.add_sighting({"date_sighting": doc["sighted"][0], "type": "1"})
o = MISPObject("url")
u = o.add_attribute("url", value="https://login-portal.example/owa", to_ids=True, uuid=doc["url"])
u.add_tag("tlp:amber+strict")
e.add_object(o)
e.add_attribute("sha256", "ab" * 32, to_ids=True, comment="reported by bob.jones@example.org")
e.add_attribute("text", "campaign notes")
e.add_attribute("email-src", "hr@login-portal.example", to_ids=False)
if doc.get("red"):
    e.add_attribute("ip-dst", "198.51.100.200", to_ids=True).add_tag("tlp:red")
print(e.to_json())
"#;

async fn import_misp(
    app: &TestApp,
    token: &str,
    group: i64,
    query: &str,
    body: &str,
) -> (StatusCode, Value) {
    let res = app
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/groups/{group}/import/misp{query}"),
            token,
        )
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = res.status();
    let text = res.text().await.expect("text");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn count_in(app: &TestApp, g: i64) -> usize {
    app.get_json(&format!("/api/v1/groups/{g}/contributions"), &app.a.token)
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

/// Issue 19 part 2: MISP events into a trust group — through the same
/// checks, PII review and access as a contribution by hand, keeping UUIDs,
/// tags and TLP, all or nothing, idempotent; and an event from isx's own
/// MISP feed imported into a second group.
async fn misp_events_into_a_group(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let g = crate::exchange::group(&app, "Energy exchange").await;
    let ids = json!({
        "event": "5c0a4a9e-0000-4000-8000-00000000e001",
        "domain": "5c0a4a9e-0000-4000-8000-00000000a001",
        "ip": "5c0a4a9e-0000-4000-8000-00000000a002",
        "url": "5c0a4a9e-0000-4000-8000-00000000a003",
        "sighted": [1_795_000_000, 1_795_003_600],
    });
    let event = crate::oracles::run_python(PYMISP_EVENT, &ids.to_string());
    // Personal data in a comment: listed, nothing imported.
    let (s, p) = import_misp(&app, &app.a.token, g, "", &event).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("bob.jones@example.org"), "{p}");
    assert_eq!(count_in(&app, g).await, 0, "nothing imported");
    // Someone outside the group cannot import into it (nor learn of it).
    let (s, _) = import_misp(&app, &app.b.token, g, "?pii=redact-all", &event).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Not MISP, not JSON, not JSON's media type.
    let (s, _) = import_misp(&app, &app.a.token, g, "", "{\"Event\": {\"info\": \"x\"}}").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = import_misp(&app, &app.a.token, g, "", "not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let res = app
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/groups/{g}/import/misp"),
            &app.a.token,
        )
        .header("content-type", "text/plain")
        .body(event.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (s, out) = import_misp(&app, &app.a.token, g, "?pii=redact-all", &event).await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["events"], 1);
    // An incident, indicators for the domain, IP, URL and SHA-256, and a
    // sighting of the IP; the text and the non-detection e-mail skipped.
    assert_eq!(out["added"], 6, "{out}");
    assert_eq!(
        out["skipped"],
        json!({"to_ids off": 1, "type text": 1}),
        "{out}"
    );
    assert_eq!(out["redacted"], 1);
    let list = app
        .get_json(&format!("/api/v1/groups/{g}/contributions"), &app.a.token)
        .await;
    // Each contribution names the MISP UUID it came from; its STIX id is
    // keyed to this group and member (nobody else can compute it).
    let by_uuid = |uuid: &str, kind: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|c| {
                c["kind"] == kind && c["description"].as_str().is_some_and(|d| d.contains(uuid))
            })
            .cloned()
            .unwrap_or_else(|| panic!("{uuid} not in {list}"))
    };
    let domain = by_uuid(
        "attribute 5c0a4a9e-0000-4000-8000-00000000a001",
        "indicator",
    );
    assert!(domain["stix_id"]
        .as_str()
        .is_some_and(|i| i.starts_with("indicator--") && !i.contains("5c0a4a9e")));
    assert_eq!(domain["marking"], "green", "the event's TLP");
    assert_eq!(domain["details"]["value"], "login-portal.example");
    assert!(domain["description"].as_str().is_some_and(|d| d
        .contains("5c0a4a9e-0000-4000-8000-00000000e001")
        && d.contains("sector:energy")));
    let url = by_uuid(
        "attribute 5c0a4a9e-0000-4000-8000-00000000a003",
        "indicator",
    );
    assert_eq!(url["marking"], "amber+strict", "the attribute's own TLP");
    let ip = by_uuid(
        "attribute 5c0a4a9e-0000-4000-8000-00000000a002",
        "indicator",
    );
    assert_eq!(ip["details"]["indicator_type"], "ipv4");
    assert_eq!(ip["details"]["value"], "203.0.113.9");
    let incident = by_uuid("5c0a4a9e-0000-4000-8000-00000000e001", "incident");
    assert_eq!(incident["details"]["techniques"], json!(["T1566.002"]));
    assert_eq!(incident["details"]["impact"], "moderate");
    let sighting = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["kind"] == "sighting")
        .expect("sighting");
    assert_eq!(
        sighting["details"]["count"], 2,
        "a false positive is not a sighting"
    );
    assert_eq!(
        sighting["details"]["first_seen"],
        Timestamp::from_secs(1_795_000_000).to_rfc3339()
    );
    let hash = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["details"]["indicator_type"] == "sha256")
        .expect("sha256");
    assert!(
        !hash.to_string().contains("bob.jones@example.org"),
        "redacted: {hash}"
    );
    assert_eq!(domain["author"]["id"], app.a.member.id.0);

    // Again: nothing new. With a TLP:RED attribute: refused, nothing changes.
    let (s, again) = import_misp(&app, &app.a.token, g, "?pii=redact-all", &event).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (again["added"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(6))
    );
    let mut red_ids = ids.clone();
    red_ids["red"] = json!(true);
    red_ids["event"] = json!("5c0a4a9e-0000-4000-8000-00000000e002");
    let red = crate::oracles::run_python(PYMISP_EVENT, &red_ids.to_string());
    let (s, p) = import_misp(&app, &app.a.token, g, "?pii=redact-all", &red).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.to_string().contains("TLP:RED") && p.to_string().contains("/Attribute/"),
        "{p}"
    );
    assert_eq!(count_in(&app, g).await, 6, "all or nothing");

    // Red team: another member of the group importing the same UUIDs gets
    // contributions of its own (it neither takes over A's nor is told they
    // are "already there"), and A's are untouched.
    let res = app
        .post_json(
            &format!("/api/v1/groups/{g}/members"),
            &app.operator.token,
            &json!({"member": app.b.member.id.0, "role": "contributor"}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let (s, out) = import_misp(&app, &app.b.token, g, "?pii=redact-all", &event).await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["added"], 6, "B's own: {out}");
    let after = app
        .get_json(&format!("/api/v1/groups/{g}/contributions"), &app.a.token)
        .await;
    assert_eq!(after.as_array().map(Vec::len), Some(12));
    let stix_ids: std::collections::BTreeSet<&str> = after
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["stix_id"].as_str())
        .collect();
    assert_eq!(stix_ids.len(), 12, "no id shared between the two imports");
    assert!(after
        .to_string()
        .contains(domain["stix_id"].as_str().expect("id")));

    // Markings isx must not guess, in every shape MISP writes tags, refuse
    // the import; so does a TLP:RED attribute isx would not import itself.
    let raw = |tags: &str, attr_tags: &str, kind: &str, extra: &str| {
        format!(
            r#"{{"Event": {{"uuid": "5c0a4a9e-0000-4000-8000-00000000e003", "info": "{long}", {tags}
                "Attribute": [{{"uuid": "5c0a4a9e-0000-4000-8000-00000000a009", "type": "{kind}",
                  "value": "edge.example", "to_ids": true, {attr_tags} {extra} "category": "Network activity"}}]}}}}"#,
            long = "x".repeat(190)
        )
    };
    for (tags, attr_tags, kind, want) in [
        (r#""Tag": [{"name": "tlp: red"}],"#, "", "domain", "TLP:RED"),
        (
            r#""EventTag": [{"Tag": {"name": "tlp:red"}}],"#,
            "",
            "domain",
            "TLP:RED",
        ),
        (
            "",
            r#""Tag": [{"Tag": {"name": "tlp:red"}}],"#,
            "text",
            "TLP:RED",
        ),
        (
            r#""Tag": [{"name": "tlp:ex:chr"}],"#,
            "",
            "domain",
            "no TLP 2.0 marking",
        ),
    ] {
        let (s, p) = import_misp(
            &app,
            &app.a.token,
            g,
            "?pii=redact-all",
            &raw(tags, attr_tags, kind, ""),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{tags}{attr_tags}: {p}"
        );
        assert!(p.to_string().contains(want), "{p}");
    }
    assert_eq!(count_in(&app, g).await, 12, "nothing imported");
    // A long title is clipped, not refused; retracted and organisation-only
    // attributes are not shared.
    let (s, out) = import_misp(
        &app,
        &app.a.token,
        g,
        "",
        &raw(r#""Tag": [{"name": "tlp:green"}],"#, "", "domain", ""),
    )
    .await;
    assert_eq!(
        (s, out["added"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{out}"
    );
    for (extra, why) in [
        (r#""deleted": true,"#, "deleted in MISP"),
        (
            r#""distribution": "0","#,
            "distribution: your organisation only",
        ),
    ] {
        let doc = raw("", "", "domain", extra)
            .replace("e003", "e004")
            .replace("a009", "a010");
        let (s, out) = import_misp(&app, &app.a.token, g, "", &doc).await;
        assert_eq!(s, StatusCode::OK, "{out}");
        assert_eq!(
            (out["added"].as_u64(), out["skipped"][why].as_u64()),
            (Some(0), Some(1)),
            "{out}"
        );
    }
    let (s, p) = import_misp(
        &app,
        &app.a.token,
        g,
        "",
        &format!(r#"{{"misp": {event}, "pii": {{"redact_all": true}}}}"#),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "unknown keys of the wrapped form: {p}"
    );

    // isx's own MISP feed serves the group's event; imported into a second
    // group it adds the same contributions there under ids of their own.
    let g2 = crate::exchange::group(&app, "Second exchange").await;
    let manifest = app
        .get_json("/api/v1/feeds/misp/manifest.json", &app.a.token)
        .await;
    let group_event = manifest
        .as_object()
        .expect("manifest")
        .iter()
        .find(|(_, e)| {
            e["info"]
                .as_str()
                .is_some_and(|i| i.contains("Energy exchange"))
        })
        .map(|(uuid, _)| uuid.clone())
        .unwrap_or_else(|| panic!("no group event in {manifest}"));
    let feed_event = app
        .get(
            &format!("/api/v1/feeds/misp/{group_event}.json"),
            &app.a.token,
        )
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let (s, out) = import_misp(&app, &app.a.token, g2, "?pii=redact-all", &feed_event).await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert!(out["added"].as_u64() >= Some(4), "{out}");
    assert_eq!(count_in(&app, g).await, 13, "the first group is unchanged");

    // The command line does the same, as a member of the group.
    let file = app.data_dir.path().join("event.json");
    std::fs::write(&file, &event).expect("write");
    let g3 = crate::exchange::group(&app, "Third exchange").await;
    let out = crate::cli::isx_with(
        &app,
        &[
            "partnership",
            "import",
            "--group",
            "Third exchange",
            "--as",
            &app.a.member.name.to_string(),
            "--pii",
            "redact-all",
            "--json",
            file.to_str().expect("path"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["added"], 6, "{report}");
    assert_eq!(count_in(&app, g3).await, 6);
    let out = crate::cli::isx_with(
        &app,
        &[
            "partnership",
            "import",
            "--group",
            "Third exchange",
            "--as",
            &app.b.member.name.to_string(),
            "--pii",
            "redact-all",
            file.to_str().expect("path"),
        ],
    );
    assert!(!out.status.success(), "B is not in the group");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
}
