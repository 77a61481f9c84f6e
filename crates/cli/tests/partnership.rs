//! Partnership end to end over the API, on both engines: posting with the
//! PII review, anonymity, hidden member lists, outsiders, edits with
//! history, discussion, attachments, sharing with the owning member's
//! approval, rules and reporting, an ad hoc group closing on its end date,
//! retention, dashboards, TAXII objects and the audit log.

use isx_app::admin;
use isx_domain::{
    Clearance, Clock, Constituency, GroupRole, MemberKind, MemberName, NewMember, Tier,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, Tenant, TestApp};

async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let c = app.clock.as_ref() as &dyn Clock;
    let member = admin::create_member(
        app.store.as_ref(),
        c,
        &NewMember {
            name: MemberName::new(name).expect("name"),
            kind: MemberKind::Enterprise,
            country: None,
            tier: Tier::Standard,
            clearance: Clearance::Restricted,
            constituency: Constituency::default(),
        },
    )
    .await
    .expect("member");
    let (_, token) = admin::create_api_key(
        app.store.as_ref(),
        c,
        None,
        &isx_app::admin::KeySpec::cli(&member, "test"),
    )
    .await
    .expect("key");
    Tenant {
        member,
        token: token.expose(),
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("send");
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn group(
    app: &TestApp,
    name: &str,
    hide: bool,
    ends_in_days: i64,
    members: &[(&Tenant, &str)],
) -> i64 {
    let ends = app.clock.now().add_secs(ends_in_days * 86_400).to_rfc3339();
    let (s, g) = send(app.post_json(
        "/api/v1/groups",
        &app.operator.token,
        &json!({"name": name, "kind": {"kind": "ad-hoc", "ends_at": ends}, "hide_members": hide, "owner": members[0].0.member.id.0}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let id = g["id"].as_i64().expect("id");
    for (t, role) in &members[1..] {
        let (s, body) = send(app.post_json(
            &format!("/api/v1/groups/{id}/members"),
            &app.operator.token,
            &json!({"member": t.member.id.0, "role": role}),
        ))
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    id
}

fn incident(description: &str) -> Value {
    json!({
        "title": "Ransomware at a water utility",
        "description": description,
        "marking": "amber",
        "details": {"kind": "incident", "impact": "high", "status": "open", "sector": "water",
                    "techniques": ["T1486", "t1566.001"], "information_lost": "none", "intent": "extortion"}
    })
}

async fn view(app: &TestApp, token: &str, id: i64) -> Value {
    app.get_json(&format!("/api/v1/contributions/{id}"), token)
        .await
}

async fn partnership_end_to_end(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (&app.a, &app.b);
    let c = tenant(&app, "Member C").await;
    // G1 hides its member list: A owns it, B contributes, C is outside.
    let g1 = group(
        &app,
        "Water sector cell",
        true,
        10,
        &[(a, "owner"), (b, "contributor")],
    )
    .await;
    // G2 is open about its members: A owns, B contributes, C reads.
    let g2 = group(
        &app,
        "Regional CERTs",
        false,
        30,
        &[(a, "owner"), (b, "contributor"), (&c, "reader")],
    )
    .await;
    let list = |t: &str, g: i64| {
        app.get(&format!("/api/v1/groups/{g}/contributions"), t)
            .send()
    };

    // Posting: personal data must be redacted or kept; nothing is posted until then.
    let body =
        incident("Reported by jane.doe@utility.example from 198.51.100.23; encrypted historians.");
    let (s, p) = send(app.post_json(
        &format!("/api/v1/groups/{g1}/contributions"),
        &a.token,
        &body,
    ))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let flagged: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap_or(""),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        flagged.contains(&("/pii/email", "jane.doe@utility.example")),
        "{p}"
    );
    assert!(
        flagged.contains(&("/pii/ip-address", "198.51.100.23")),
        "{p}"
    );
    let listed: Value = list(&a.token, g1)
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(0),
        "a refused post stores nothing"
    );
    let mut body = body;
    body["pii"] = json!({"redact": ["jane.doe@utility.example"], "keep": ["198.51.100.23"]});
    let (s, inc) = send(app.post_json(
        &format!("/api/v1/groups/{g1}/contributions"),
        &a.token,
        &body,
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let inc_id = inc["id"].as_i64().expect("id");
    assert_eq!(
        inc["description"],
        "Reported by [redacted e-mail] from 198.51.100.23; encrypted historians."
    );
    assert_eq!(inc["details"]["techniques"], json!(["T1486", "T1566.001"]));

    // TLP:RED and bad technique ids are refused with a pointer.
    let mut red = incident("x");
    red["marking"] = json!("red");
    let (s, p) = send(app.post_json(
        &format!("/api/v1/groups/{g1}/contributions"),
        &a.token,
        &red,
    ))
    .await;
    assert_eq!(
        (s, p["errors"][0]["pointer"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/marking")),
        "{p}"
    );

    // B posts an anonymous sighting.
    let sighting = json!({"title": "Beacon to C2", "marking": "green", "anonymous": true,
        "details": {"kind": "sighting", "indicator_type": "ipv4", "value": "203.0.113.77", "count": 4,
                    "first_seen": "2026-11-20T00:00:00Z", "last_seen": "2026-11-21T00:00:00Z", "location": "OT network"}});
    let (s, sig) = send(app.post_json(
        &format!("/api/v1/groups/{g1}/contributions"),
        &b.token,
        &sighting,
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{sig}");
    let sig_id = sig["id"].as_i64().expect("id");

    // Anonymity and the hidden roster: authors withheld from other members, kept for the author and the operator.
    let as_a = view(&app, &a.token, sig_id).await;
    assert!(as_a.get("author").is_none(), "anonymous: {as_a}");
    assert!(!as_a.to_string().contains("Member B"));
    assert_eq!(
        view(&app, &b.token, sig_id).await["author"]["name"],
        "Member B"
    );
    assert_eq!(
        view(&app, &app.operator.token, sig_id).await["author"]["name"],
        "Member B"
    );
    let as_b = view(&app, &b.token, inc_id).await;
    assert!(
        as_b.get("author").is_none(),
        "hidden roster hides named authors too: {as_b}"
    );
    let b_list = app
        .get_text(&format!("/api/v1/groups/{g1}/contributions"), &b.token)
        .await;
    assert!(
        !b_list.contains("Member A")
            && !b_list.contains(&format!("\"author\":{{\"id\":{}", a.member.id.0)),
        "{b_list}"
    );
    let (s, p) = send(app.get(&format!("/api/v1/groups/{g1}/members"), &b.token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!p.to_string().contains("Member A"), "{p}");
    let (s, p) = send(app.get(&format!("/api/v1/groups/{g1}/reporting"), &b.token)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{p}");
    assert!(!p.to_string().contains("Member"), "{p}");

    // The outsider reads nothing of G1 on any channel.
    for path in [
        format!("/api/v1/groups/{g1}"),
        format!("/api/v1/groups/{g1}/contributions"),
        format!("/api/v1/groups/{g1}/dashboard"),
        format!("/api/v1/groups/{g1}/rules"),
        format!("/api/v1/contributions/{inc_id}"),
        format!("/api/v1/contributions/{inc_id}/versions"),
        format!("/taxii2/isx/collections/group-{g1}/objects/"),
    ] {
        let res = app
            .get(&path, &c.token)
            .header("Accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let text = res.text().await.expect("text");
        assert!(
            !text.contains("Water sector cell") && !text.contains("Ransomware"),
            "{path}: {text}"
        );
    }
    let (s, _) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/comments"),
        &c.token,
        &json!({"text": "hi"}),
    ))
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_json("/api/v1/partnership/dashboard", &c.token)
            .await["total"],
        0
    );

    // Edits keep history; a stale version is refused; only the author edits.
    let mut edit =
        incident("Encrypted historians at 198.51.100.23; contained by isolating the OT network.");
    edit["details"]["status"] = json!("contained");
    edit["version"] = json!(1);
    edit["pii"] = json!({"keep": ["198.51.100.23"]});
    let (s, e) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/contributions/{inc_id}"),
            &a.token,
        )
        .json(&edit),
    )
    .await;
    assert_eq!((s, e["version"].as_u64()), (StatusCode::OK, Some(2)), "{e}");
    let (s, _) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/contributions/{inc_id}"),
            &a.token,
        )
        .json(&edit),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let mut b_edit = edit.clone();
    b_edit["version"] = json!(2);
    let (s, _) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/contributions/{inc_id}"),
            &b.token,
        )
        .json(&b_edit),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let versions = app
        .get_json(
            &format!("/api/v1/contributions/{inc_id}/versions"),
            &a.token,
        )
        .await;
    assert_eq!(versions.as_array().map(Vec::len), Some(2));
    assert_eq!(versions[0]["details"]["status"], "open");
    assert_eq!(versions[1]["details"]["status"], "contained");

    // Discussion, threaded.
    let (s, k) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/comments"),
        &b.token,
        &json!({"text": "Same lure here."}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let (s, _) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/comments"),
        &a.token,
        &json!({"text": "Thanks, which sender?", "parent": k["id"]}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, p) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/comments"),
        &a.token,
        &json!({"text": "Call me at +31 20 555 0199"}),
    ))
    .await;
    assert_eq!(
        (s, p["errors"][0]["pointer"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("/pii/phone"))
    );
    let detail = view(&app, &a.token, inc_id).await;
    let depths: Vec<u64> = detail["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .filter_map(|c| c["depth"].as_u64())
        .collect();
    assert_eq!(depths, vec![0, 1]);

    // Attachments: the author attaches; members download the same bytes, as a download.
    let pdf = b"%PDF-1.7 analysis".to_vec();
    let res = app
        .req(
            reqwest::Method::POST,
            &format!("/api/v1/contributions/{inc_id}/attachments?name=report.pdf"),
            &a.token,
        )
        .header("Content-Type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .expect("attach");
    assert_eq!(res.status(), StatusCode::CREATED);
    let att: Value = res.json().await.expect("json");
    let res = app
        .get(&format!("/api/v1/attachments/{}", att["id"]), &b.token)
        .send()
        .await
        .expect("download");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap_or("")
        .starts_with("attachment"));
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), pdf.as_slice());
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{}", att["id"]), &c.token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::NOT_FOUND
    );

    // Sharing wider: B asks to share A's incident with G2; only A decides, and must decide on the PII again.
    let (s, req) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/shares"),
        &b.token,
        &json!({"target": {"kind": "group", "group": g2}, "reason": "other regions see the same"}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    let share_id = req["id"].as_i64().expect("id");
    assert!(!req["decides"].as_bool().unwrap_or(true));
    let (s, _) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/shares"),
        &b.token,
        &json!({"target": {"kind": "group", "group": g2}}),
    ))
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "one pending request per target");
    let (s, _) = send(app.post_json(
        &format!("/api/v1/shares/{share_id}/approve"),
        &b.token,
        &json!({}),
    ))
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mine = app.get_json("/api/v1/shares", &a.token).await;
    assert_eq!(mine[0]["decides"], true);
    assert_eq!(mine[0]["findings"][0]["text"], "198.51.100.23");
    assert!(
        mine[0].get("requested_by").is_none(),
        "G1 hides its members: the owner is not told who asked: {mine}"
    );
    assert_eq!(
        app.get_json("/api/v1/shares", &b.token).await[0]["requested_by"],
        b.member.id.0,
        "the one who asked sees itself"
    );
    assert_eq!(app.get_json("/api/v1/shares", &c.token).await, json!([]));
    let (s, p) = send(app.post_json(
        &format!("/api/v1/shares/{share_id}/approve"),
        &a.token,
        &json!({}),
    ))
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(app
        .get_json(&format!("/api/v1/groups/{g2}/contributions"), &c.token)
        .await
        .as_array()
        .expect("list")
        .is_empty());
    let (s, done) = send(app.post_json(
        &format!("/api/v1/shares/{share_id}/approve"),
        &a.token,
        &json!({"pii": {"redact": ["198.51.100.23"]}}),
    ))
    .await;
    assert_eq!(
        (s, done["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{done}"
    );
    assert!(done.get("requested_by").is_none(), "{done}");
    let in_g2 = app
        .get_json(&format!("/api/v1/groups/{g2}/contributions"), &c.token)
        .await;
    // G1 hides its members: the copy is anonymous in G2 (no author, no
    // origin that would lead back to it).
    assert!(in_g2[0]["origin"].is_null(), "{in_g2}");
    assert!(in_g2[0]["author"].is_null(), "{in_g2}");
    assert_eq!(
        in_g2[0]["description"],
        "Encrypted historians at [redacted IP address]; contained by isolating the OT network."
    );

    let (s, _) = send(app.post_json(
        &format!("/api/v1/shares/{share_id}/reject"),
        &a.token,
        &json!({}),
    ))
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // A reader cannot post or comment.
    let (s, _) = send(app.post_json(
        &format!("/api/v1/groups/{g2}/contributions"),
        &c.token,
        &incident("x"),
    ))
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Rules and reporting (owners only).
    let (s, _) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{g1}/rules"),
            &b.token,
        )
        .json(&json!({"mandatory": ["incident"], "report_period_days": 30})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, r) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{g1}/rules"),
            &a.token,
        )
        .json(&json!({"mandatory": ["incident", "sighting"], "report_period_days": 30})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let rep = app
        .get_json(&format!("/api/v1/groups/{g1}/reporting"), &a.token)
        .await;
    let status = |m: i64, cat: &str| {
        rep.as_array()
            .expect("rows")
            .iter()
            .find(|r| r["member"] == m && r["category"] == cat)
            .map(|r| r["reported"].as_bool())
    };
    assert_eq!(status(a.member.id.0, "incident"), Some(Some(true)));
    assert_eq!(status(b.member.id.0, "incident"), Some(Some(false)));
    assert_eq!(
        status(b.member.id.0, "sighting"),
        Some(Some(false)),
        "anonymous: not attributed for owners"
    );
    let rep = app
        .get_json(
            &format!("/api/v1/groups/{g1}/reporting"),
            &app.operator.token,
        )
        .await;
    assert!(rep
        .as_array()
        .expect("rows")
        .iter()
        .any(|r| r["member"] == b.member.id.0
            && r["category"] == "sighting"
            && r["reported"] == true));

    // Dashboards.
    let d = app
        .get_json(&format!("/api/v1/groups/{g1}/dashboard"), &a.token)
        .await;
    assert_eq!(
        (d["total"].as_u64(), d["open_incidents"].as_u64()),
        (Some(2), Some(0)),
        "{d}"
    );
    assert_eq!(d["top_techniques"][0], json!(["T1486", 1]));
    assert_eq!(
        app.get_json("/api/v1/partnership/dashboard", &app.operator.token)
            .await["total"],
        3
    );

    // TAXII: the group collection holds the contributions as STIX; nothing names an anonymous or hidden author.
    let objects = app
        .get(
            &format!("/taxii2/isx/collections/group-{g1}/objects/"),
            &b.token,
        )
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .expect("taxii")
        .json::<Value>()
        .await
        .expect("json");
    let types: Vec<&str> = objects["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["type"].as_str())
        .collect();
    for t in ["incident", "sighting", "indicator", "note"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    assert!(
        objects["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .all(|o| o.get("created_by_ref").is_none()),
        "{objects}"
    );

    // The audit log has the reads and changes of group data.
    let audit = app
        .get_text("/api/v1/audit?limit=500", &app.operator.token)
        .await;
    for action in [
        "contribution.create",
        "contribution.edit",
        "comment.create",
        "share.request",
        "share.approve",
        "group.rules",
        "attachment.create",
    ] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(
        audit.contains(&format!("/api/v1/contributions/{inc_id}")),
        "reads are audited"
    );

    // The web pages keep the same secrets: the outsider gets 404 pages, the
    // hidden roster and the anonymous author appear on no page.
    let page = |cookie: String, path: String| {
        let req = app.get(&path, "").header("cookie", cookie);
        async move {
            let res = req.send().await.expect("send");
            (res.status(), res.text().await.expect("page"))
        }
    };
    let c_web = app
        .session_cookie(c.member.id, "c-analyst", isx_domain::UserRole::Member)
        .await;
    for path in [
        format!("/groups/{g1}"),
        format!("/contributions/{inc_id}"),
        format!("/contributions/{sig_id}"),
    ] {
        let (s, text) = page(c_web.clone(), path.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !text.contains("Water sector cell") && !text.contains("Ransomware"),
            "{path}"
        );
    }
    let (_, groups_page) = page(c_web.clone(), "/groups".into()).await;
    assert!(!groups_page.contains("Water sector cell"));
    let b_web = app
        .session_cookie(b.member.id, "b-analyst", isx_domain::UserRole::Member)
        .await;
    let a_web = app
        .session_cookie(a.member.id, "a-analyst", isx_domain::UserRole::Member)
        .await;
    let (_, groups_page) = page(b_web.clone(), "/groups".into()).await;
    let card = groups_page
        .split("Water sector cell")
        .nth(1)
        .and_then(|rest| rest.split("class=\"card\"").next())
        .expect("G1's card");
    assert!(
        card.contains("member list of this group is hidden") && !card.contains("Member A"),
        "{card}"
    );
    for path in [
        format!("/groups/{g1}"),
        format!("/contributions/{inc_id}"),
        "/partnership".to_owned(),
    ] {
        let (s, text) = page(b_web.clone(), path.clone()).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(
            !text.contains("Member A"),
            "the hidden roster leaks on {path}"
        );
    }
    // The operator's administrator administers G1 without being in it:
    // the page does not call it the owner (issue 19 part 6).
    let op_web = app
        .session_cookie(
            app.operator.member.id,
            "op-admin",
            isx_domain::UserRole::Admin,
        )
        .await;
    let (s, op_page) = page(op_web, format!("/groups/{g1}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        op_page.contains("your role: operator administrator (not a member)")
            && !op_page.contains("your role: owner"),
        "{op_page}"
    );
    let (_, g1_page) = page(a_web.clone(), format!("/groups/{g1}")).await;
    assert!(g1_page.contains("your role: "), "A's page names A's role");
    let row = g1_page
        .split(&format!("data-id=\"{sig_id}\""))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("the sighting's row");
    assert!(row.contains("<td class=\"author\">anonymous</td>"), "{row}");
    let (s, text) = page(a_web.clone(), format!("/contributions/{sig_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !text.contains("Member B"),
        "the anonymous author leaks on its page"
    );

    // Into a product feed: a URL indicator, approved by its owner, enters the malicious-URL feed.
    let url = "https://login-grid-portal.example/reset.php";
    let (s, ind) = send(app.post_json(
        &format!("/api/v1/groups/{g2}/contributions"),
        &b.token,
        &json!({"title": "Credential phishing page", "marking": "green",
                "details": {"kind": "indicator", "indicator_type": "url", "value": url}}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{ind}");
    let (s, req) = send(app.post_json(
        &format!("/api/v1/contributions/{}/shares", ind["id"]),
        &a.token,
        &json!({"target": {"kind": "url-feed"}}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    assert!(app
        .get_json("/api/v1/urls?q=login-grid-portal", &a.token)
        .await
        .as_array()
        .is_none_or(Vec::is_empty));
    let (s, done) = send(app.post_json(
        &format!("/api/v1/shares/{}/approve", req["id"]),
        &b.token,
        &json!({}),
    ))
    .await;
    assert_eq!(
        (s, done["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{done}"
    );
    let found = app
        .get_text("/api/v1/urls?host=login-grid-portal.example", &c.token)
        .await;
    assert!(found.contains(url), "{found}");
    let (s, _) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/shares"),
        &a.token,
        &json!({"target": {"kind": "url-feed"}}),
    ))
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only URL indicators go into the URL feed"
    );

    // The ad hoc group closes on its end date: read-only, still readable.
    app.clock.advance_secs(11 * 86_400);
    let (s, p) = send(app.post_json(
        &format!("/api/v1/groups/{g1}/contributions"),
        &a.token,
        &incident("late"),
    ))
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(p["detail"].as_str().unwrap_or("").contains("closed"), "{p}");
    let (s, _) = send(app.post_json(
        &format!("/api/v1/contributions/{inc_id}/comments"),
        &b.token,
        &json!({"text": "late"}),
    ))
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        list(&b.token, g1).await.expect("list").status(),
        StatusCode::OK
    );

    // Retention: G2 keeps contributions 5 days; 11 days after the copy it goes.
    let (s, _) = send(
        app.req(
            reqwest::Method::PUT,
            &format!("/api/v1/groups/{g2}/rules"),
            &a.token,
        )
        .json(&json!({"retention_days": 5})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let pruned = isx_app::partnership::prune(app.store.as_ref(), app.clock.now())
        .await
        .expect("prune");
    assert_eq!(pruned, 2, "the shared copy and the URL indicator");
    assert!(app
        .get_json(&format!("/api/v1/groups/{g2}/contributions"), &c.token)
        .await
        .as_array()
        .expect("list")
        .is_empty());
    let _ = GroupRole::Owner;
}

crate::on_both_backends!(partnership_end_to_end);

/// The redaction and approval workflows through the web application: the
/// contributor meets the PII detector's findings on the posting form and
/// decides on each; the owning member approves a share request on the
/// approvals page, redacting for the wider audience; the group's dashboard
/// draws what the API counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redaction_and_approval_in_the_browser() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (a, b) = (&app.a, &app.b);
    let c = tenant(&app, "Member C").await;
    let g1 = group(
        &app,
        "Energy incident cell",
        false,
        30,
        &[(a, "owner"), (b, "contributor")],
    )
    .await;
    let g2 = group(
        &app,
        "National exchange",
        false,
        30,
        &[(a, "owner"), (b, "contributor"), (&c, "reader")],
    )
    .await;

    // Redaction: A's analyst posts an incident with an e-mail address and a phone number.
    let web = crate::support::browser::signed_in(
        &app,
        a.member.id,
        "analyst-a",
        "correct horse battery staple",
    )
    .await;
    web.goto(&app.url(&format!("/groups/{g1}"))).await;
    web.type_into("#title", "Phishing against control-room staff")
        .await;
    web.type_into(
        "#description",
        "Lure sent to jane.doe@grid.example; the sender called +31 20 555 0199 to follow up.",
    )
    .await;
    web.type_into("input[name=techniques]", "T1566.001").await;
    web.type_into("input[name=sector]", "energy").await;
    web.click("#post").await;
    let review = web
        .wait_text("#pii-review", |t| t.contains("jane.doe@grid.example"))
        .await;
    assert!(review.contains("+31 20 555 0199"), "{review}");
    assert!(
        app.get_json(&format!("/api/v1/groups/{g1}/contributions"), &a.token)
            .await
            == json!([]),
        "nothing is posted before the contributor decides"
    );
    // Keep the phone number (a public switchboard), redact the e-mail address (preselected).
    web.execute(
        "for (const l of document.querySelectorAll('#pii-review label')) \
         if (l.textContent.includes('+31')) l.querySelector('select').value = 'keep';",
    )
    .await;
    web.click("#post").await;
    let shown = web
        .wait_text("#description", |t| t.contains("[redacted e-mail]"))
        .await;
    assert!(
        shown.contains("+31 20 555 0199") && !shown.contains("jane.doe"),
        "{shown}"
    );
    let posted = app
        .get_json(&format!("/api/v1/groups/{g1}/contributions"), &b.token)
        .await;
    let id = posted[0]["id"].as_i64().expect("posted");
    assert!(
        !posted.to_string().contains("jane.doe@grid.example"),
        "{posted}"
    );

    // The dashboard draws what the API counts.
    let api = app
        .get_json(&format!("/api/v1/groups/{g1}/dashboard"), &a.token)
        .await;
    web.goto(&app.url(&format!("/groups/{g1}"))).await;
    assert_eq!(web.text("#total").await, api["total"].to_string());
    let drawn = web
        .execute("return [...document.querySelectorAll('#activity rect.bar')].reduce((n, r) => n + Number(r.dataset.count), 0);")
        .await;
    assert_eq!(drawn, api["total"], "bars add up to the API's total");
    // ATT&CK ids with their names (issue 19 part 6), from ATT&CK's data.
    let top = web.text("#top-techniques").await;
    assert!(
        top.contains("T1566.001 Phishing: Spearphishing Attachment"),
        "{top}"
    );
    web.goto(&app.url(&format!("/contributions/{id}"))).await;
    let page = web.text("body").await;
    assert!(
        page.contains("T1566.001 Phishing: Spearphishing Attachment"),
        "{page}"
    );

    // Approval: B asks to share it with G2; A's analyst approves on the approvals page, redacting the phone too.
    let (s, req) = send(app.post_json(
        &format!("/api/v1/contributions/{id}/shares"),
        &b.token,
        &json!({"target": {"kind": "group", "group": g2}, "reason": "the other grid operators"}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    web.goto(&app.url("/shares")).await;
    let form = format!("#share-{}", req["id"]);
    let text = web.text(&form).await;
    assert!(
        text.contains("National exchange") && text.contains("+31 20 555 0199"),
        "{text}"
    );
    web.click(&format!("{form} button.approve")).await;
    web.wait_text("#notice", |t| t.contains("approved")).await;
    let copy = app
        .get_json(&format!("/api/v1/groups/{g2}/contributions"), &c.token)
        .await;
    assert_eq!(copy[0]["origin"], id, "{copy}");
    let d = copy[0]["description"].as_str().unwrap_or("");
    assert_eq!(
        d,
        "Lure sent to [redacted e-mail]; the sender called [redacted phone] to follow up."
    );
    // The original in G1 keeps what its group agreed to see.
    let original = app
        .get_json(&format!("/api/v1/contributions/{id}"), &b.token)
        .await;
    assert!(original["description"]
        .as_str()
        .unwrap_or("")
        .contains("+31 20 555 0199"));
    assert_eq!(web.text("#other-shares .status").await, "approved");
    // Editing meets the same review: a new address in the description.
    web.goto(&app.url(&format!("/contributions/{id}"))).await;
    web.type_into(
        "#edit-form textarea[name=description]",
        " Contact: ops@grid.example",
    )
    .await;
    web.click("#edit-form button").await;
    let review = web
        .wait_text("#edit-pii-review", |t| t.contains("ops@grid.example"))
        .await;
    assert!(review.contains("+31 20 555 0199"), "{review}");
    assert_eq!(
        app.get_json(&format!("/api/v1/contributions/{id}"), &a.token)
            .await["version"],
        1,
        "nothing saved before the decision"
    );
    web.execute(
        "for (const l of document.querySelectorAll('#edit-pii-review label')) \
         if (l.textContent.includes('+31')) l.querySelector('select').value = 'keep';",
    )
    .await;
    web.click("#edit-form button").await;
    web.wait_text("#notice", |t| t.contains("version 2")).await;
    let edited = app
        .get_json(&format!("/api/v1/contributions/{id}"), &a.token)
        .await;
    let d = edited["description"].as_str().unwrap_or("");
    assert!(
        d.ends_with("Contact: [redacted e-mail]") && d.contains("+31 20 555 0199"),
        "{d}"
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    web.goto(&app.url(&format!("/groups/{g1}"))).await;
    web.screenshot(&shots.join("group.png")).await;
}

/// Issue 19 part 6: the long lists of the web application are paged — a
/// trust group's contributions and the release packages, 50 a page, with
/// links to the pages around, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lists_are_paged() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let gid = crate::exchange::group(&app, "Paged").await;
    for i in 0..53 {
        let (s, body) = send(app.post_json(
            &format!("/api/v1/groups/{gid}/contributions"),
            &app.a.token,
            &json!({"title": format!("Paged note {i:02}"), "description": "x", "marking": "green",
                    "details": {"kind": "analysis"}}),
        ))
        .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let t = app.clock.now().add_secs(86_400 * (i + 1));
        let (s, body) = send(app.post_json(
            "/api/v1/releases",
            &app.operator.token,
            &json!({"title": format!("Paged release {i:02}"), "release_at": t.to_rfc3339(),
                    "status": "scheduled", "marking": "amber"}),
        ))
        .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    let cookie = app
        .session_cookie(app.operator.member.id, "pager", isx_domain::UserRole::Admin)
        .await;
    let page = |path: String| {
        let app = &app;
        let cookie = cookie.clone();
        async move { app.page(&cookie, &path).await }
    };
    let next_link = |html: &str| crate::support::app::href_at(html, "class=\"list-next\"");
    for (path, marker) in [
        (format!("/groups/{gid}"), "Paged note "),
        ("/releases".to_owned(), "Paged release "),
    ] {
        let first = page(path.clone()).await;
        assert!(first.contains("1–50 of 53"), "{path}");
        assert_eq!(first.matches(marker).count(), 50, "{path}");
        let next = next_link(&first).expect("a next page");
        let second = page(next).await;
        assert!(second.contains("51–53 of 53"), "{path}");
        assert_eq!(second.matches(marker).count(), 3, "{path}");
        assert!(next_link(&second).is_none(), "{path}: the last page");
        let names = |html: &str| -> Vec<String> {
            html.match_indices(marker)
                .filter_map(|(i, _)| html.get(i..i + marker.len() + 2).map(str::to_owned))
                .collect()
        };
        let mut all = names(&first);
        all.extend(names(&second));
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!((n, all.len()), (53, 53), "{path}: each once");
    }
}
