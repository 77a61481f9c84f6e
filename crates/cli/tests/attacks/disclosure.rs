//! Hole 9: disclosure to group owners. Nothing about non-members leaves
//! through messages, and no hidden author leaves through shares.

use isx_domain::Tier;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("send");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn group(app: &TestApp, body: Value) -> i64 {
    let (s, g) = send(app.post_json("/api/v1/groups", &app.operator.token, &body)).await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    g["id"].as_i64().expect("group id")
}

async fn owners_learn_nothing_about_members_they_cannot_admit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // C has no clearance; the formal group needs "restricted".
    let c = app.tier_member("Secret Squirrel Ltd", Tier::Standard).await;
    let gid = group(
        &app,
        json!({"name": "Formal", "kind": {"kind": "formal", "agreement": "MoU-7", "min_clearance": "restricted"},
               "owner": app.a.member.id.0}),
    )
    .await;
    let admit = |who: i64, token: &str| {
        app.post_json(
            &format!("/api/v1/groups/{gid}/members"),
            token,
            &json!({"member": who, "role": "reader"}),
        )
    };
    let (s1, uncleared) = send(admit(c.member.id.0, &app.a.token)).await;
    let (s2, missing) = send(admit(987_654, &app.a.token)).await;
    assert_eq!(
        (s1, s2),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    for p in [&uncleared, &missing] {
        let text = p.to_string();
        assert!(
            !text.contains("Secret Squirrel") && !text.contains("none"),
            "{text}"
        );
    }
    // The two answers differ only in the id asked about.
    assert_eq!(
        uncleared["detail"]
            .as_str()
            .map(|d| d.replace(&c.member.id.0.to_string(), "N")),
        missing["detail"].as_str().map(|d| d.replace("987654", "N")),
    );
    // The operator's administrator is told why.
    let (_, why) = send(admit(c.member.id.0, &app.operator.token)).await;
    assert!(why.to_string().contains("clearance"), "{why}");
    // And a cleared member is admitted by the owner as before.
    let (s, _) = send(admit(app.b.member.id.0, &app.a.token)).await;
    assert_eq!(s, StatusCode::OK);
}

async fn a_share_from_a_hidden_roster_names_no_author(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let quiet = group(
        &app,
        json!({"name": "Quiet", "kind": {"kind": "ad-hoc"}, "hide_members": true, "owner": app.a.member.id.0}),
    )
    .await;
    let open = group(
        &app,
        json!({"name": "Open", "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
    )
    .await;
    let (s, _) = send(app.post_json(
        &format!("/api/v1/groups/{open}/members"),
        &app.a.token,
        &json!({"member": app.b.member.id.0, "role": "reader"}),
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, c) = send(app.post_json(
        &format!("/api/v1/groups/{quiet}/contributions"),
        &app.a.token,
        &json!({"title": "Seen in the quiet group", "description": "details", "marking": "amber",
                "details": {"kind": "analysis"}}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, req) = send(app.post_json(
        &format!("/api/v1/contributions/{}/shares", c["id"]),
        &app.a.token,
        &json!({"target": {"kind": "group", "group": open}}),
    ))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    let (s, done) = send(app.post_json(
        &format!("/api/v1/shares/{}/approve", req["id"]),
        &app.a.token,
        &json!({}),
    ))
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");

    // B, in the open group only, sees the copy — by nobody, from nowhere.
    let list = app
        .get_json(
            &format!("/api/v1/groups/{open}/contributions"),
            &app.b.token,
        )
        .await;
    let copy = &list[0];
    assert_eq!(copy["title"], "Seen in the quiet group");
    assert!(
        copy["author"].is_null() && copy["origin"].is_null(),
        "{copy}"
    );
    let one = app
        .get_json(
            &format!("/api/v1/contributions/{}", copy["id"]),
            &app.b.token,
        )
        .await;
    assert!(one["author"].is_null() && one["origin"].is_null(), "{one}");
    let stix = app
        .get_text(
            &format!("/taxii2/isx/collections/group-{open}/objects/"),
            &app.b.token,
        )
        .await;
    let a_identity = isx_formats::partnership::member_identity(app.a.member.id);
    assert!(!stix.contains(&a_identity), "{stix}");
    let cookie = app
        .session_cookie(app.b.member.id, "bob", isx_domain::UserRole::Member)
        .await;
    let page = app
        .get(&format!("/contributions/{}", copy["id"]), "")
        .header("cookie", cookie)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Seen in the quiet group"));
    assert!(
        !page.contains("Member A") && !page.contains("shared from"),
        "{page}"
    );
}

crate::on_both_backends!(
    owners_learn_nothing_about_members_they_cannot_admit,
    a_share_from_a_hidden_roster_names_no_author,
);
