//! The REST API against the real server, on both store backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

async fn problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "problem has a detail: {body}"
    );
    body
}

async fn member_count(app: &TestApp) -> usize {
    app.store.members().await.expect("members").len()
}

async fn unauthenticated_and_bad_keys_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/api/v1/me", "").send().await.expect("send");
    let www = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(www.contains("Bearer") && www.contains("Basic"), "{www}");
    problem(res, StatusCode::UNAUTHORIZED).await;
    problem(
        app.get("/api/v1/me", "isx_nonsense")
            .send()
            .await
            .expect("send"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // A real key id with a wrong secret.
    let key_id = &app.a.token[4..20];
    let forged = format!("isx_{key_id}_{}", "0".repeat(64));
    problem(
        app.get("/api/v1/me", &forged).send().await.expect("send"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let ok = app
        .get("/api/v1/me", &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::OK);
    let me: Value = ok.json().await.expect("json");
    assert_eq!(me["member"]["name"], "Member A");
    assert_eq!(me["admin"], false);
}

async fn basic_auth_with_key_id_and_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (key_id, secret) = app.b.token[4..].split_once('_').expect("token shape");
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .basic_auth(key_id, Some(secret))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["member"]["name"], "Member B");
    let bad = app
        .client
        .get(app.url("/api/v1/me"))
        .basic_auth(key_id, Some("f".repeat(64)))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}

async fn one_member_never_reads_another_members_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (&app.a, &app.b);
    let list: Vec<Value> = app
        .get("/api/v1/members", &a.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(list.len(), 1, "A sees only itself: {list:?}");
    assert_eq!(list[0]["name"], "Member A");
    assert_eq!(list[0]["constituency"]["cidrs"][0], "192.0.2.0/24");

    // B's record is indistinguishable from a missing one.
    let other = problem(
        app.get(&format!("/api/v1/members/{}", b.member.id), &a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let missing = problem(
        app.get("/api/v1/members/999999", &a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(other["title"], missing["title"]);
    assert!(
        !other.to_string().contains("198.51.100"),
        "no constituency leaks: {other}"
    );

    let keys: Vec<Value> = app
        .get("/api/v1/keys", &a.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        keys.iter().all(|k| k["member"] == a.member.id.0),
        "{keys:?}"
    );
    assert!(keys
        .iter()
        .all(|k| k.get("secret_hash").is_none() && k.get("token").is_none()));

    // A cannot revoke B's key, and B's key keeps working.
    let b_key_id = &b.token[4..20];
    problem(
        app.req(
            Method::DELETE,
            &format!("/api/v1/keys/{b_key_id}"),
            &a.token,
        )
        .send()
        .await
        .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", &b.token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );

    // Nor create keys for B, nor register members, nor read the audit log.
    let res = app
        .post_json(
            "/api/v1/keys",
            &a.token,
            &json!({"name": "x", "member": b.member.id.0}),
        )
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::FORBIDDEN).await;
    let res = app
        .post_json(
            "/api/v1/members",
            &a.token,
            &json!({"name": "Sneaky", "kind": "enterprise"}),
        )
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::FORBIDDEN).await;
    problem(
        app.get("/api/v1/audit", &a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get("/api/v1/users", &a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;

    let all: Vec<Value> = app
        .get("/api/v1/members", &app.operator.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(all.len(), 3, "the operator sees every member");
}

async fn revoked_and_expired_keys_fail_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .post_json(
            "/api/v1/keys",
            &app.a.token,
            &json!({"name": "short-lived"}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let token = created["token"]
        .as_str()
        .expect("token shown once")
        .to_owned();
    let key_id = created["key_id"].as_str().expect("key id").to_owned();
    assert!(token.starts_with(&format!("isx_{key_id}_")));
    assert_eq!(
        app.get("/api/v1/me", &token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );

    let stored = app
        .store
        .api_key(&isx_domain::KeyId::new(&key_id).expect("id"))
        .await
        .expect("get")
        .expect("stored");
    assert!(
        !stored.secret_hash.contains(&token[21..]),
        "only a hash is stored"
    );

    let revoked = app
        .req(
            Method::DELETE,
            &format!("/api/v1/keys/{key_id}"),
            &app.a.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(revoked.status(), StatusCode::OK);
    problem(
        app.get("/api/v1/me", &token).send().await.expect("send"),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let expiring = app.clock_now_plus(60);
    let created: Value = app
        .post_json(
            "/api/v1/keys",
            &app.a.token,
            &json!({"name": "expiring", "expires_at": expiring}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.get("/api/v1/me", &token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    app.clock.advance_secs(61);
    problem(
        app.get("/api/v1/me", &token).send().await.expect("send"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let past = problem(
        app.post_json(
            "/api/v1/keys",
            &app.a.token,
            &json!({"name": "old", "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .send()
        .await
        .expect("send"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(past["detail"].as_str().unwrap_or("").contains("future"));
}

impl TestApp {
    fn clock_now_plus(&self, secs: i64) -> String {
        use isx_domain::Clock;
        self.clock.now().add_secs(secs).to_rfc3339()
    }
}

async fn bad_input_is_a_clear_4xx_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = &app.operator.token;
    let before = member_count(&app).await;
    let post_raw = |body: &'static str, ct: &'static str| {
        app.req(Method::POST, "/api/v1/members", op)
            .header("content-type", ct)
            .body(body)
    };

    let p = problem(
        post_raw("{\"name\": \"X\", ", "application/json")
            .send()
            .await
            .expect("send"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("malformed JSON"),
        "{p}"
    );

    let p = problem(
        post_raw(
            r#"{"name":"X","kind":"enterprise","colour":"red"}"#,
            "application/json",
        )
        .send()
        .await
        .expect("send"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field `colour`"),
        "{p}"
    );

    let cases = [
        (
            json!({"name":"X","kind":"enterprise","constituency":{"cidrs":["192.0.2.1/24"]}}),
            "/constituency/cidrs/0",
            "host bits",
        ),
        (
            json!({"name":"X","kind":"enterprise","constituency":{"cidrs":["10.0.0.0/8","300.0.0.0/8"]}}),
            "/constituency/cidrs/1",
            "invalid CIDR",
        ),
        (
            json!({"name":"X","kind":"enterprise","constituency":{"asns":[0]}}),
            "/constituency/asns/0",
            "invalid ASN",
        ),
        (
            json!({"name":"X","kind":"enterprise","country":"Netherlands"}),
            "/country",
            "invalid country",
        ),
        (
            json!({"name":"X","kind":"pirate"}),
            "/kind",
            "invalid member kind",
        ),
        (
            json!({"name":"X","kind":"enterprise","tier":"gold"}),
            "/tier",
            "advance-24h",
        ),
        (
            json!({"name":"","kind":"enterprise"}),
            "/name",
            "must not be empty",
        ),
    ];
    for (body, pointer, needle) in cases {
        let p = problem(
            app.post_json("/api/v1/members", op, &body)
                .send()
                .await
                .expect("send"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
        assert!(
            p["detail"].as_str().unwrap_or("").contains(needle),
            "{needle}: {p}"
        );
    }

    let p = problem(
        post_raw(r#"{"name":"X","kind":"enterprise"}"#, "text/plain")
            .send()
            .await
            .expect("send"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert!(p["detail"]
        .as_str()
        .unwrap_or("")
        .contains("application/json"));
    problem(
        app.req(Method::POST, "/api/v1/members", op)
            .body("{}")
            .send()
            .await
            .expect("send"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;

    let huge = format!(
        r#"{{"name":"X","kind":"enterprise","pad":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let res = app
        .req(Method::POST, "/api/v1/members", op)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;

    let res = app
        .post_json(
            "/api/v1/members",
            op,
            &json!({"name":"Member A","kind":"enterprise"}),
        )
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::CONFLICT).await;
    let res = app
        .post_json(
            "/api/v1/groups",
            op,
            &json!({"name":"G","kind":{"kind":"formal","agreement":"A"},"owner":app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        member_count(&app).await,
        before,
        "rejected requests changed nothing"
    );
    assert!(app.store.groups().await.expect("groups").is_empty());

    let ok = app
        .post_json("/api/v1/members", op, &json!({"name":"Example ISP","kind":"critical-infrastructure","tier":"advance-5d",
            "constituency":{"cidrs":["2001:db8::/32","192.0.2.0/24"],"asns":["AS64496"],"domains":["Example.NET"]}}))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::CREATED);
    let m: Value = ok.json().await.expect("json");
    assert_eq!(m["constituency"]["domains"][0], "example.net");
    assert_eq!(m["constituency"]["asns"][0], 64496);
    assert_eq!(member_count(&app).await, before + 1);
}

async fn audit_log_records_reads_and_changes_with_source(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get(
        &format!("/api/v1/members/{}", app.a.member.id),
        &app.a.token,
    )
    .send()
    .await
    .expect("send");
    app.get(
        &format!("/api/v1/members/{}", app.b.member.id),
        &app.a.token,
    )
    .send()
    .await
    .expect("send");
    app.post_json("/api/v1/keys", &app.b.token, &json!({"name": "audited"}))
        .send()
        .await
        .expect("send");
    let events: Vec<Value> = app
        .get("/api/v1/audit?limit=50", &app.operator.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let a_actor = format!("key:{}", &app.a.token[4..20]);
    let read_other = events
        .iter()
        .find(|e| {
            e["actor"] == a_actor && e["target"] == format!("/api/v1/members/{}", app.b.member.id)
        })
        .expect("A's attempt to read B is in the log");
    assert_eq!(read_other["outcome"], "404");
    assert_eq!(read_other["source_ip"], "127.0.0.1");
    assert!(events.iter().any(|e| e["action"] == "key.create"
        && e["member"] == app.b.member.id.0
        && e["outcome"] == "201"));
    let text = serde_json::to_string(&events).expect("json");
    for t in [&app.a.token, &app.b.token] {
        assert!(!text.contains(&t[21..]), "no secret in the audit log");
    }
    let mine: Vec<Value> = app
        .get(
            &format!("/api/v1/audit?member={}", app.b.member.id),
            &app.operator.token,
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(!mine.is_empty() && mine.iter().all(|e| e["member"] == app.b.member.id.0));
    problem(
        app.get("/api/v1/audit?limit=abc", &app.operator.token)
            .send()
            .await
            .expect("send"),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

async fn trust_groups_and_hidden_rosters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = &app.operator.token;
    let g: Value = app
        .post_json("/api/v1/groups", op, &json!({"name":"Energy ISAC","kind":{"kind":"formal","agreement":"MoU-1","min_clearance":"restricted"},"hide_members":true,"owner":app.a.member.id.0}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let gid = g["id"].as_i64().expect("id");
    assert_eq!(g["kind"], "formal");
    // B is not a member yet: the group does not exist for B.
    problem(
        app.get(&format!("/api/v1/groups/{gid}"), &app.b.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let none: Vec<Value> = app
        .get("/api/v1/groups", &app.b.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(none.is_empty());
    // B cannot admit itself; A (owner) can admit B.
    problem(
        app.post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &app.b.token,
            &json!({"member":app.b.member.id.0,"role":"reader"}),
        )
        .send()
        .await
        .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let joined = app
        .post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &app.a.token,
            &json!({"member":app.b.member.id.0,"role":"reader"}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(joined.status(), StatusCode::OK);
    let seen: Vec<Value> = app
        .get("/api/v1/groups", &app.b.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(seen.len(), 1);
    // The roster is hidden from B, and the refusal names no member.
    let p = problem(
        app.get(&format!("/api/v1/groups/{gid}/members"), &app.b.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(!p.to_string().contains("Member A"));
    let roster: Vec<Value> = app
        .get(&format!("/api/v1/groups/{gid}/members"), &app.a.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(roster.len(), 2);
    // Clearance: a member below the group's minimum cannot be admitted.
    let mut low = app
        .store
        .member(app.b.member.id)
        .await
        .expect("get")
        .expect("b");
    low.clearance = isx_domain::Clearance::None;
    let update = isx_domain::NewMember {
        name: low.name,
        kind: low.kind,
        country: low.country,
        tier: low.tier,
        clearance: low.clearance,
        constituency: low.constituency,
    };
    app.store
        .update_member(app.b.member.id, &update)
        .await
        .expect("lower clearance");
    let p = problem(
        app.post_json(
            &format!("/api/v1/groups/{gid}/members"),
            op,
            &json!({"member":app.b.member.id.0,"role":"contributor"}),
        )
        .send()
        .await
        .expect("send"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or("")
            .contains("requires restricted"),
        "{p}"
    );
    // And with its clearance now below the minimum, B no longer sees the group.
    problem(
        app.get(&format!("/api/v1/groups/{gid}"), &app.b.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn rate_limit_answers_429(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.rate_limit = isx_server::RateLimit {
            per_minute: 6,
            burst: 3,
        }
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/me", &app.a.token)
                .send()
                .await
                .expect("send")
                .status(),
            StatusCode::OK
        );
    }
    let res = app
        .get("/api/v1/me", &app.a.token)
        .send()
        .await
        .expect("send");
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        retry.parse::<u64>().is_ok_and(|s| s >= 1),
        "Retry-After: {retry:?}"
    );
    assert_eq!(
        app.get("/api/v1/me", &app.b.token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK,
        "budgets are per key"
    );
    app.clock.advance_secs(10);
    assert_eq!(
        app.get("/api/v1/me", &app.a.token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK,
        "refilled"
    );
}

async fn health_metrics_openapi(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let h: Value = app
        .get("/healthz", "")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(h["status"], "ok");
    assert_eq!(
        h["backend"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    app.get("/api/v1/me", &app.a.token)
        .send()
        .await
        .expect("send");
    app.get("/api/v1/nothing-here", &app.a.token)
        .send()
        .await
        .expect("send");
    // The counters say how much each product holds: the operator's
    // staff read them, members and strangers do not.
    problem(
        app.get("/metrics", "").send().await.expect("send"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        app.get("/metrics", &app.a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let metrics = app
        .get("/metrics", &app.operator.token)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .contains(r#"isx_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            // (`prometheus-client` writes `le` first; label order carries
            // no meaning in the format)
            "isx_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/api/v1/me\"} 1"
        ),
        "{metrics}"
    );
    // Prometheus's own OpenMetrics parser (Python `prometheus-client`)
    // reads every family back; a malformed line or a missing `# EOF` fails.
    let families = crate::oracles::run_python(
        r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
names = sorted({f.name for f in text_string_to_metric_families(sys.stdin.read())})
print(" ".join(names))
"#,
        &metrics,
    );
    for family in [
        "isx_http_requests",
        "isx_http_request_duration_seconds",
        "isx_feed_slots_produced",
        "isx_botnet_events_ingested",
        "isx_geo_databases_loaded",
    ] {
        assert!(
            families.split_whitespace().any(|f| f == family),
            "{family} not parsed from the exposition: {families}"
        );
    }
    let spec: Value = app
        .get("/api/openapi.json", "")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(spec["openapi"].as_str().unwrap_or("").starts_with("3."));
    for path in [
        "/api/v1/members",
        "/api/v1/keys/{key_id}",
        "/api/v1/groups/{id}/members",
        "/api/v1/audit",
        "/healthz",
        "/api/v1/urls",
        "/api/v1/urls/stats",
        "/api/v1/feeds/urls/{name}",
        "/api/v1/feeds/signing-key",
        "/api/v1/groups/{id}/import/misp",
        "/lookup/sha1/{hash}",
        "/bulk/md5",
        "/parents/{sha1}/{count}/{cursor}",
        "/children/{sha1}/{count}/{cursor}",
        "/stats/top",
        "/session/create/{name}",
        "/session/get/{name}",
        "/session/matches/{name}",
        "/info",
        "/taxii2/",
        "/taxii2/isx/collections/",
        "/taxii2/isx/collections/{cid}/objects/",
        "/taxii2/isx/collections/{cid}/manifest/",
        "/taxii2/isx/status/{sid}/",
        "/.well-known/csaf/provider-metadata.json",
        "/.well-known/csaf/{folder}/{year}/{file}",
        "/.well-known/security.txt",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "OpenAPI documents {path}"
        );
    }
    assert!(spec["components"]["securitySchemes"]
        .get("api_key")
        .is_some());
    assert!(spec["components"]["schemas"].get("Problem").is_some());
    // Tagged bodies are described variant by variant, `kind` required
    // (they were an open `Object`).
    for (schema, variants) in [
        ("DetailsDto", 5),
        ("GroupKindDto", 2),
        ("ShareTargetDto", 2),
    ] {
        let one_of = spec["components"]["schemas"][schema]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is a oneOf"));
        assert_eq!(one_of.len(), variants, "{schema}");
        for v in one_of {
            assert!(
                v["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!("kind"))),
                "{schema}: {v}"
            );
        }
    }
    // The document is made from the router: every schema it refers to is
    // defined, and every operation it describes answers (401 without a
    // key, or 200 for the open ones) rather than falling through to 404
    // or 405.
    let mut refs = Vec::new();
    collect_refs(&spec, &mut refs);
    assert!(refs.len() > 50, "{} schema references", refs.len());
    for r in &refs {
        let name = r.strip_prefix("#/components/schemas/").expect(r);
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} is not defined"
        );
    }
    // Issue 19: the stats answer objects, as their schemas say (they
    // were arrays of tuples under an `Object` schema).
    for (schema, field) in [("UrlStatsDto", "by_threat"), ("CleanStatsDto", "sources")] {
        let items = &spec["components"]["schemas"][schema]["properties"][field]["items"];
        assert!(
            items["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("CountDto")),
            "{schema}.{field}: {items}"
        );
    }
    let body = "id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n1,2026-11-01 10:00:00 UTC,http://stats.example/a,online,,malware_download,,https://urlhaus.abuse.ch/url/1/,r\n".to_owned();
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let stats = app
        .get_json("/api/v1/urls/stats", &app.operator.token)
        .await;
    let first = &stats["by_threat"][0];
    assert!(
        first["threat"].is_string() && first["count"].as_i64() >= Some(1),
        "{stats}"
    );
    assert!(stats["per_day"][0]["day"].is_string(), "{stats}");
    let clean = app
        .get_json("/api/v1/cleanfiles/stats", &app.operator.token)
        .await;
    assert!(clean["sources"].is_array(), "{clean}");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() > 50, "{} paths", paths.len());
    // Issue 19 part 5: the document is as strict as the server.
    // - A path parameter is in its path (query filters were documented
    //   as required path parameters).
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                assert!(
                    p["in"] != "path" || path.contains(&format!("{{{name}}}")),
                    "{method} {path}: {name} is no path parameter"
                );
            }
        }
    }
    // - Operation ids are unique (OpenAPI requires it; tools select by them).
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "duplicate operationIds");
    // - A route per hash algorithm, its digest's length in the pattern.
    assert!(paths.keys().all(|p| !p.contains("{algorithm}")));
    for (algorithm, hex) in [("md5", 32), ("sha1", 40), ("sha256", 64)] {
        let hash = &spec["paths"][format!("/lookup/{algorithm}/{{hash}}")]["get"]["parameters"][0];
        assert_eq!(
            hash["schema"]["pattern"],
            format!("^[0-9A-Fa-f]{{{hex}}}$"),
            "{hash}"
        );
    }
    // - Integers carry their Rust type's range; AS numbers exclude the
    //   reserved 0 and 2³²−1.
    let limit = spec["paths"]["/api/v1/audit"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .expect("audit limit");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["schema"]["maximum"], json!(u32::MAX), "{limit}");
    assert_eq!(limit["schema"]["minimum"], 0, "{limit}");
    assert!(
        !spec.to_string().contains("\"u-int"),
        "unsigned formats left"
    );
    let asn = &spec["components"]["schemas"]["AsnNumber"];
    assert_eq!(
        (&asn["minimum"], &asn["maximum"]),
        (&json!(1), &json!(u32::MAX - 1))
    );
    // - An optional instant is "an RFC 3339 instant in the years isx
    //   holds, or null"; editing a contribution names its version.
    let expires = &spec["components"]["schemas"]["NewKeyRequest"]["properties"]["expires_at"];
    assert_eq!(expires["oneOf"][0]["format"], "date-time", "{expires}");
    assert_eq!(expires["oneOf"][1]["type"], "null", "{expires}");
    assert!(expires["oneOf"][0]["pattern"].is_string(), "{expires}");
    let edit = &spec["paths"]["/api/v1/contributions/{id}"]["put"]["requestBody"]["content"]
        ["application/json"]["schema"]["allOf"][1];
    assert_eq!(edit["required"], json!(["version"]), "{edit}");
    // - The closed request enums take no other field.
    for v in spec["components"]["schemas"]["ShareTargetDto"]["oneOf"]
        .as_array()
        .expect("variants")
    {
        assert_eq!(v["additionalProperties"], false, "{v}");
    }
    // A bulk lookup without a body is refused (it answered 200, empty).
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/cleanfiles/lookup",
            &app.a.token,
        )
        .send()
        .await
        .expect("send");
    problem(res, StatusCode::BAD_REQUEST).await;
    let fallback = app
        .client
        .get(format!("{}/no/such/route", app.base))
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    for (path, item) in paths {
        let concrete = path
            .replace("{algorithm}", "sha256")
            .replace("{hash}", &"ab".repeat(32))
            .replace("{cve}", "CVE-2024-0001")
            .replace("{name}", "none.json")
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("item").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect(method);
            let res = app
                .client
                .request(m, format!("{}{concrete}", app.base))
                .send()
                .await
                .expect("send");
            let status = res.status();
            // A public route answers 404 for a resource that is not there,
            // in its own words; a route that is not wired answers the
            // router's fallback.
            let answered = res.bytes().await.unwrap_or_default() != fallback;
            assert!(
                (status != StatusCode::NOT_FOUND || answered)
                    && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but answers {status}"
            );
            // What it answers without a key is among what it documents
            // (issue 19: the 401s, 429s and body errors are described).
            let responses = item[method]["responses"].as_object().expect("responses");
            assert!(
                responses.contains_key(status.as_str()),
                "{method} {path} answers {status} without a key, documented: {:?}",
                responses.keys().collect::<Vec<_>>()
            );
            for (code, r) in responses {
                assert!(
                    !r["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|s| s.ends_with("/Problem")),
                    "{method} {path} {code}: problems are application/problem+json"
                );
            }
            if item[method]["requestBody"].is_object() {
                for code in ["400", "413", "415", "422", "429"] {
                    assert!(responses.contains_key(code), "{method} {path}: no {code}");
                }
            }
        }
    }
    let p = problem(
        app.get("/api/v1/nothing-here", &app.a.token)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(p["type"], "urn:isx:problem:not-found");
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

async fn tls_is_on_by_default_and_plain_http_is_explicit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert!(app.base.starts_with("https://"));
    let ca = app.data_dir.path().join("tls/ca.pem");
    let key = app.data_dir.path().join("tls/key.pem");
    assert!(ca.exists() && key.exists());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o077,
        0,
        "private key is not group/world readable"
    );
    // A client that does not trust the CA refuses the connection.
    let strict = reqwest::Client::new();
    assert!(strict.get(app.url("/healthz")).send().await.is_err());
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = app.base.replace("https://", "http://");
    assert!(reqwest::get(format!("{plain}/healthz"))
        .await
        .map(|r| r.status() != StatusCode::OK)
        .unwrap_or(true));

    let insecure = TestApp::spawn_with(backend, |c| c.tls = isx_server::TlsMode::Disabled).await;
    assert!(insecure.base.starts_with("http://"));
    assert_eq!(
        insecure
            .get("/healthz", "")
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
}

/// Red-team finding 6 (2026-12): what the router itself refused — a path
/// parameter or query that does not parse, a method a path does not take,
/// a path that does not exist — answered plain text or nothing at all.
async fn router_rejections_are_problems_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = &app.a.token;
    let p = problem(
        app.get("/api/v1/releases/abc", t)
            .send()
            .await
            .expect("send"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap_or("").contains("parse"), "{p}");
    let gid = app.ad_hoc_group("Dash", app.a.member.id).await;
    problem(
        app.get(&format!("/api/v1/groups/{gid}/dashboard?days=abc"), t)
            .send()
            .await
            .expect("send"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let res = app
        .req(Method::DELETE, "/api/v1/me", t)
        .send()
        .await
        .expect("send");
    let allow = res
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(allow.contains("GET"), "the Allow header stays: {allow:?}");
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    problem(
        app.get("/api/v1/no-such-thing", t)
            .send()
            .await
            .expect("send"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

crate::on_both_backends!(
    unauthenticated_and_bad_keys_are_401,
    basic_auth_with_key_id_and_secret,
    one_member_never_reads_another_members_data,
    revoked_and_expired_keys_fail_at_once,
    bad_input_is_a_clear_4xx_and_changes_nothing,
    audit_log_records_reads_and_changes_with_source,
    trust_groups_and_hidden_rosters,
    rate_limit_answers_429,
    health_metrics_openapi,
    tls_is_on_by_default_and_plain_http_is_explicit,
    router_rejections_are_problems_too,
);
