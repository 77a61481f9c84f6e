//! Hole 3: TAXII integrity. An object id belongs to the member that first
//! posted it; a member posts as itself, never as the instance or another
//! member.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

const TAXII: &str = "application/taxii+json;version=2.1";

async fn post(app: &TestApp, collection: &str, token: &str, objects: Vec<Value>) -> Value {
    let res = app
        .req(
            reqwest::Method::POST,
            &format!("/taxii2/isx/collections/{collection}/objects/"),
            token,
        )
        .header("content-type", TAXII)
        .body(json!({ "objects": objects }).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.expect("status")
}

async fn latest(app: &TestApp, collection: &str, token: &str, id: &str) -> Value {
    let env = app
        .get_json(
            &format!("/taxii2/isx/collections/{collection}/objects/{id}/"),
            token,
        )
        .await;
    env["objects"][0].clone()
}

fn indicator(id: &str, modified: &str, name: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1", "id": id,
           "created": "2026-11-01T10:00:00.000Z", "modified": modified,
           "name": name, "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
           "valid_from": "2026-11-01T10:00:00Z"})
}

async fn group(app: &TestApp, name: &str, hide: bool) -> i64 {
    let g: Value = app
        .post_json(
            "/api/v1/groups",
            &app.operator.token,
            &json!({"name": name, "kind": {"kind": "ad-hoc"}, "hide_members": hide,
                    "owner": app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let gid = g["id"].as_i64().expect("group id");
    let res = app
        .post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &app.a.token,
            &json!({"member": app.b.member.id.0, "role": "contributor"}),
        )
        .send()
        .await
        .expect("send");
    assert!(res.status().is_success(), "{}", res.status());
    gid
}

async fn objects_belong_to_their_first_poster(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gid = group(&app, "Integrity", false).await;
    let col = format!("group-{gid}");
    let a_identity = isx_formats::partnership::member_identity(app.a.member.id);
    let b_identity = isx_formats::partnership::member_identity(app.b.member.id);
    let ind = "indicator--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e01";

    // A posts an indicator; isx names A as its creator.
    let st = post(
        &app,
        &col,
        &app.a.token,
        vec![indicator(ind, "2026-11-01T10:00:00.000Z", "A's")],
    )
    .await;
    assert_eq!(st["success_count"], 1, "{st}");
    let mine = latest(&app, &col, &app.b.token, ind).await;
    assert_eq!(mine["created_by_ref"], a_identity.as_str(), "{mine}");

    // B posts a newer version of A's object: refused, and every channel
    // still serves A's version.
    let st = post(
        &app,
        &col,
        &app.b.token,
        vec![indicator(ind, "2026-11-05T10:00:00.000Z", "B's takeover")],
    )
    .await;
    assert_eq!(
        (st["success_count"].as_u64(), st["failure_count"].as_u64()),
        (Some(0), Some(1)),
        "{st}"
    );
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("belongs to"),
        "{st}"
    );
    for who in [&app.a.token, &app.b.token, &app.operator.token] {
        assert_eq!(latest(&app, &col, who, ind).await["name"], "A's");
    }
    let versions = app
        .get_json(
            &format!("/taxii2/isx/collections/{col}/objects/{ind}/versions/"),
            &app.a.token,
        )
        .await;
    assert_eq!(
        versions["versions"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );

    // The same for the STIX object of a contribution made over REST.
    let c: Value = app
        .post_json(
            &format!("/api/v1/groups/{gid}/contributions"),
            &app.a.token,
            &json!({"title": "Phishing wave", "description": "details", "marking": "amber",
                    "details": {"kind": "indicator", "indicator_type": "domain", "value": "evil.example"}}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let sid = c["stix_id"].as_str().expect("stix id").to_owned();
    let mut forged = latest(&app, &col, &app.b.token, &sid).await;
    forged["modified"] = json!("2030-01-01T00:00:00.000Z");
    forged["name"] = json!("Nothing to see");
    forged
        .as_object_mut()
        .expect("object")
        .remove("created_by_ref");
    let st = post(&app, &col, &app.b.token, vec![forged]).await;
    assert_eq!(st["failure_count"], 1, "{st}");
    let served = latest(&app, &col, &app.b.token, &sid).await;
    assert_eq!(
        served["name"], "Phishing wave",
        "REST and TAXII agree: {served}"
    );

    // Deleted over TAXII by the group's owner, the contribution's id still
    // belongs to A (REST still serves the contribution): B cannot take it.
    let res = app
        .req(
            reqwest::Method::DELETE,
            &format!("/taxii2/isx/collections/{col}/objects/{sid}/"),
            &app.a.token,
        )
        .header("accept", TAXII)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let mut takeover = indicator(&sid, "2026-11-01T10:00:00.000Z", "mine now");
    takeover["type"] = json!(sid.split("--").next().unwrap_or("indicator"));
    let st = post(&app, &col, &app.b.token, vec![takeover]).await;
    assert_eq!(st["success_count"], 0, "{st}");
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("belongs to"),
        "{st}"
    );
    // Nor with the id spelled in capitals, nor from the future, nor as an
    // official TLP marking definition.
    let mut shouting = indicator(
        &ind.to_uppercase().replace("INDICATOR--", "indicator--"),
        "2026-11-07T10:00:00.000Z",
        "caps",
    );
    shouting["name"] = json!("caps");
    let future = indicator(
        "indicator--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e77",
        "2099-01-01T00:00:00.000Z",
        "later",
    );
    let tlp = json!({"type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "statement", "definition": {"statement": "TLP:CLEAR - ok to publish"}});
    let st = post(&app, &col, &app.b.token, vec![shouting, future, tlp]).await;
    assert_eq!(
        (st["success_count"].as_u64(), st["failure_count"].as_u64()),
        (Some(0), Some(3)),
        "{st}"
    );

    // B cannot post as the instance or as A, nor A's (or a new) identity
    // named after A; its own identity is fine.
    let instance_identity = isx_formats::stix::instance_identity("isx")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (i, creator) in [instance_identity.as_str(), a_identity.as_str()]
        .into_iter()
        .enumerate()
    {
        let mut o = indicator(
            &format!("indicator--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e1{i}"),
            "2026-11-01T10:00:00.000Z",
            "as someone else",
        );
        o["created_by_ref"] = json!(creator);
        let st = post(&app, &col, &app.b.token, vec![o]).await;
        assert_eq!(st["failure_count"], 1, "created_by_ref {creator}: {st}");
        assert!(st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not your identity"));
    }
    let identity = |id: &str, name: &str| {
        json!({"type": "identity", "spec_version": "2.1", "id": id, "name": name,
               "identity_class": "organization",
               "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z"})
    };
    let st = post(
        &app,
        &col,
        &app.b.token,
        vec![
            identity(&a_identity, "Member A"),
            identity("identity--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e99", "Member A"),
            identity(&b_identity, "Member A"),
            identity(&b_identity, app.b.member.name.as_str()),
        ],
    )
    .await;
    assert_eq!(
        (st["success_count"].as_u64(), st["failure_count"].as_u64()),
        (Some(1), Some(3)),
        "{st}"
    );
    assert_eq!(st["successes"][0]["id"], b_identity.as_str());

    // A member-role key of the operator's organisation is a member here: it
    // adds no version of A's object (the group admits the operator).
    let (_, weak) = isx_app::admin::create_api_key(
        app.store.as_ref(),
        app.clock.as_ref(),
        None,
        &isx_app::admin::KeySpec {
            member: app.operator.member.id,
            name: "weak",
            role: isx_domain::UserRole::Member,
            expires_at: None,
        },
    )
    .await
    .expect("key");
    let res = app
        .post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &app.operator.token,
            &json!({"member": app.operator.member.id.0, "role": "contributor"}),
        )
        .send()
        .await
        .expect("send");
    assert!(res.status().is_success());
    let st = post(
        &app,
        &col,
        &weak.expose(),
        vec![indicator(ind, "2026-11-06T09:00:00.000Z", "weak takeover")],
    )
    .await;
    assert_eq!(st["success_count"], 0, "{st}");
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("belongs to"),
        "{st}"
    );

    // The operator's administrator may add a version of any object.
    let st = post(
        &app,
        &col,
        &app.operator.token,
        vec![indicator(
            ind,
            "2026-11-06T10:00:00.000Z",
            "corrected by the operator",
        )],
    )
    .await;
    assert_eq!(st["success_count"], 1, "{st}");
    assert_eq!(
        latest(&app, &col, &app.b.token, ind).await["name"],
        "corrected by the operator"
    );
}

async fn a_hidden_roster_names_no_poster(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gid = group(&app, "Quiet", true).await;
    let col = format!("group-{gid}");
    let ind = "indicator--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e02";
    let st = post(
        &app,
        &col,
        &app.b.token,
        vec![indicator(ind, "2026-11-01T10:00:00.000Z", "quiet")],
    )
    .await;
    assert_eq!(st["success_count"], 1, "{st}");
    let o = latest(&app, &col, &app.a.token, ind).await;
    assert!(o.get("created_by_ref").is_none(), "{o}");
}

/// Red-team hole 4 (2026-12): the answer to a post told whether another
/// member held the id, even one the poster could not read. Observable ids
/// are derived from their value, so any contributor could test whether
/// someone had posted a given IP address as TLP:RED. Now a collection
/// holds only what every member may read, and an id whose versions are
/// all gone is free again.
async fn a_post_tells_nothing_of_objects_the_poster_cannot_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let gid = group(&app, "Oracle", false).await;
    let col = format!("group-{gid}");
    const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    let ip = |marking: Option<&str>| {
        let mut o = json!({"type": "ipv4-addr", "spec_version": "2.1",
            "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"});
        if let Some(m) = marking {
            o["object_marking_refs"] = json!([m]);
        }
        o
    };
    // TLP:RED names recipients; a group's collection has none.
    let st = post(&app, &col, &app.a.token, vec![ip(Some(RED))]).await;
    assert_eq!(st["failure_count"], 1, "{st}");
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("TLP:RED"),
        "{st}"
    );
    // So the id is still free: B's post of it succeeds like any new id's.
    let st = post(&app, &col, &app.b.token, vec![ip(None)]).await;
    assert_eq!(st["success_count"], 1, "{st}");
    // Refusing A's later post of the id tells A nothing it cannot read.
    let st = post(&app, &col, &app.a.token, vec![ip(None)]).await;
    assert_eq!(st["failure_count"], 1, "{st}");
    let seen = latest(
        &app,
        &col,
        &app.a.token,
        "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
    )
    .await;
    assert_eq!(seen["value"], "198.51.100.3", "A reads what it was refused");
    // Deleted by its poster, the id is nobody's: A may post it as new.
    let res = app
        .req(
            reqwest::Method::DELETE,
            &format!("/taxii2/isx/collections/{col}/objects/ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd/"),
            &app.b.token,
        )
        .header("accept", TAXII)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let st = post(&app, &col, &app.a.token, vec![ip(None)]).await;
    assert_eq!(st["success_count"], 1, "after deletion: {st}");
    // An envelope is at most one page of objects.
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"type": "domain-name", "spec_version": "2.1",
            "id": format!("domain-name--00000000-0000-5000-8000-{i:012}"), "value": format!("d{i}.example")}))
        .collect();
    let res = app
        .req(
            reqwest::Method::POST,
            &format!("/taxii2/isx/collections/{col}/objects/"),
            &app.a.token,
        )
        .header("content-type", TAXII)
        .body(json!({ "objects": many }).to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let said: Value = res.json().await.expect("TAXII error");
    assert!(
        said["description"]
            .as_str()
            .unwrap_or("")
            .contains("10000 objects"),
        "says why: {said}"
    );
}

crate::on_both_backends!(
    objects_belong_to_their_first_poster,
    a_hidden_roster_names_no_poster,
    a_post_tells_nothing_of_objects_the_poster_cannot_read,
);
