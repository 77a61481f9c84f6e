//! Hole 13: the PII review reads every free text a member posts — the
//! incident's sector, an attachment's name and body, a share's reason —
//! before anyone else can read it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::app::{Backend, TestApp};

async fn every_free_text_is_reviewed_for_personal_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (s, g) = {
        let res = app
            .post_json(
                "/api/v1/groups",
                &app.operator.token,
                &json!({"name": "Privacy", "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
            )
            .send()
            .await
            .expect("send");
        (res.status(), res.json::<Value>().await.expect("json"))
    };
    assert_eq!(s, StatusCode::CREATED);
    let gid = g["id"].as_i64().expect("id");
    let incident = |sector: &str, pii: Value| {
        json!({"title": "Outage", "description": "Plant offline.", "marking": "amber",
               "details": {"kind": "incident", "impact": "low", "status": "open", "sector": sector},
               "pii": pii})
    };
    let post = |body: Value| {
        app.post_json(
            &format!("/api/v1/groups/{gid}/contributions"),
            &app.a.token,
            &body,
        )
        .send()
    };
    // The sector is free text: an address in it must be answered.
    let res = post(incident("energy, contact jan.jansen@example.nl", json!({})))
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .expect("text")
        .contains("jan.jansen@example.nl"));
    let res = post(incident(
        "energy, contact jan.jansen@example.nl",
        json!({"redact": ["jan.jansen@example.nl"]}),
    ))
    .await
    .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.expect("json");
    let stored = c["content"]["details"]["sector"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(!stored.contains("jan.jansen"), "{c}");
    let id = c["id"].as_i64().expect("id");

    // An attachment's name and body.
    let attach = |name: &str, extra: &str, body: Vec<u8>, ct: &str| {
        app.req(
            reqwest::Method::POST,
            &format!("/api/v1/contributions/{id}/attachments?name={name}{extra}"),
            &app.a.token,
        )
        .header("content-type", ct)
        .body(body)
        .send()
    };
    let text = b"Logs sent by anna.smit@example.nl at 09:00.".to_vec();
    let res = attach("logs.txt", "", text.clone(), "text/plain")
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the body is reviewed"
    );
    let res = attach(
        "piet%40example.org%20logs.txt",
        "&redact=anna.smit%40example.nl",
        text.clone(),
        "text/plain",
    )
    .await
    .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the name is reviewed"
    );
    assert!(res.text().await.expect("text").contains("piet@example.org"));
    let res = attach(
        "piet%40example.org%20logs.txt",
        "&redact=anna.smit%40example.nl,piet%40example.org",
        text.clone(),
        "text/plain",
    )
    .await
    .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let a: Value = res.json().await.expect("json");
    assert!(!a["name"].as_str().unwrap_or("").contains("piet@"), "{a}");
    let body = app
        .get(&format!("/api/v1/attachments/{}", a["id"]), &app.b.token)
        .send()
        .await
        .expect("send");
    // B is not in the group; the author reads it back redacted.
    assert_eq!(body.status(), StatusCode::NOT_FOUND);
    let body = app
        .get(&format!("/api/v1/attachments/{}", a["id"]), &app.a.token)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert!(
        !body.contains("anna.smit") && body.contains("Logs sent by"),
        "{body}"
    );
    // A binary file: read by its text runs; kept knowingly, stored as is.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend_from_slice(&[0, 159, 146, 150]);
    pdf.extend_from_slice(b"(Author: anna.smit@example.nl)");
    pdf.extend_from_slice(&[0, 255]);
    let res = attach("report.pdf", "", pdf.clone(), "application/pdf")
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = attach(
        "report.pdf",
        "&redact=anna.smit%40example.nl",
        pdf.clone(),
        "application/pdf",
    )
    .await
    .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .expect("text")
        .contains("cannot redact inside"));
    let res = attach(
        "report.pdf",
        "&keep=anna.smit%40example.nl",
        pdf.clone(),
        "application/pdf",
    )
    .await
    .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);

    // Over TAXII too: a note's free text is reviewed; kept knowingly only
    // when listed in x_isx_pii_keep.
    let note = |keep: Option<Vec<&str>>| {
        let mut o = json!({"type": "note", "spec_version": "2.1",
            "id": "note--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e31",
            "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
            "abstract": "Contact", "content": "Call jane.doe@victim.example",
            "object_refs": ["indicator--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e32"]});
        if let Some(k) = keep {
            o["x_isx_pii_keep"] = json!(k);
        }
        json!({ "objects": [o] }).to_string()
    };
    let taxii = |body: String| {
        app.req(
            reqwest::Method::POST,
            &format!("/taxii2/isx/collections/group-{gid}/objects/"),
            &app.a.token,
        )
        .header("content-type", "application/taxii+json;version=2.1")
        .body(body)
        .send()
    };
    let st: Value = taxii(note(None))
        .await
        .expect("send")
        .json()
        .await
        .expect("status");
    assert_eq!(st["failure_count"], 1, "{st}");
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("jane.doe@victim.example"),
        "{st}"
    );
    let st: Value = taxii(note(Some(vec!["jane.doe@victim.example"])))
        .await
        .expect("send")
        .json()
        .await
        .expect("status");
    assert_eq!(st["success_count"], 1, "{st}");
    let stored = app
        .get_text(&format!("/taxii2/isx/collections/group-{gid}/objects/note--0b6b1c52-1a4e-4f0e-9a53-3c1f0d8a1e31/"), &app.a.token)
        .await;
    assert!(!stored.contains("x_isx_pii_keep"), "{stored}");

    // A share's reason goes to the owning member: reviewed too.
    let other: Value = app
        .post_json(
            "/api/v1/groups",
            &app.operator.token,
            &json!({"name": "Other", "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let share = |pii: Value| {
        app.post_json(
            &format!("/api/v1/contributions/{id}/shares"),
            &app.a.token,
            &json!({"target": {"kind": "group", "group": other["id"]},
                    "reason": "ask anna.smit@example.nl", "pii": pii}),
        )
        .send()
    };
    let res = share(json!({})).await.expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text()
        .await
        .expect("text")
        .contains("anna.smit@example.nl"));
    let res = share(json!({"redact": ["anna.smit@example.nl"]}))
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.expect("json");
    assert!(
        !r["reason"].as_str().unwrap_or("").contains("anna.smit"),
        "{r}"
    );
}

crate::on_both_backends!(every_free_text_is_reviewed_for_personal_data);
