//! The web application in a real browser (headless Chromium): sign in, see
//! the dashboard, create an API key on the keys page, use it on the API.

use isx_domain::{Clock, Login, UserRole};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::app::{Backend, TestApp};
use crate::support::browser::Browser;

async fn sign_in_create_key_and_use_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let password = "correct horse battery staple";
    isx_server::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn Clock,
        &Login::new("admin").expect("login"),
        password,
        app.operator.member.id,
        UserRole::Admin,
    )
    .await
    .expect("admin user");

    let b = Browser::start().await;
    b.goto(&app.url("/")).await;
    assert!(
        b.current_url().await.ends_with("/login"),
        "signed-out visitors are sent to the login page"
    );

    b.type_into("#login", "admin").await;
    b.type_into("#password", "wrong password here").await;
    b.click("#sign-in").await;
    b.wait_text("#error", |t| t.contains("Wrong login or password"))
        .await;

    b.type_into("#login", "admin").await;
    b.type_into("#password", password).await;
    b.click("#sign-in").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    assert!(b.text("#whoami").await.contains("admin"));
    assert_eq!(b.text("#member-count").await, "3");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    b.screenshot(&shots.join(format!("dashboard-{backend:?}.png")))
        .await;

    b.goto(&app.url("/keys")).await;
    b.type_into("#key-name", "browser-made").await;
    b.click("#create-key-button").await;
    let token = b.wait_text("#new-token", |t| t.starts_with("isx_")).await;
    assert!(
        token.starts_with("isx_"),
        "the page shows the new key once: {token:?}"
    );
    b.screenshot(&shots.join(format!("keys-{backend:?}.png")))
        .await;

    let res = app.get("/api/v1/me", &token).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["member"]["name"], "Operator");
    assert_eq!(me["admin"], true);

    b.goto(&app.url("/keys")).await;
    assert!(
        !b.source().await.contains(&token[21..]),
        "the secret is never shown again"
    );

    b.goto(&app.url("/admin/audit")).await;
    let audit = b.text("#audit").await;
    assert!(
        audit.contains("key.create") && audit.contains("session.login"),
        "{audit}"
    );
    b.screenshot(&shots.join(format!("audit-{backend:?}.png")))
        .await;

    // The operator's editor: create a release, import a CSAF document, see the table.
    b.goto(&app.url("/releases")).await;
    b.type_into("#create-release input[name=title]", "Browser release")
        .await;
    let t = app.clock.now().add_secs(86_400).to_rfc3339();
    b.type_into("#create-release input[name=release_at]", &t)
        .await;
    b.click("#create-release button").await;
    b.wait_text("#notice", |t| t.contains("Browser release"))
        .await;
    b.click("#releases a").await;
    b.wait_text("#release-title", |t| t == "Browser release")
        .await;
    let csaf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/csaf/bsi-2022-0001.json"
    ))
    .expect("sample");
    let compact =
        serde_json::to_string(&serde_json::from_str::<Value>(&csaf).expect("json")).expect("ser");
    b.type_into("#import-csaf textarea", &compact).await;
    b.click("#import-csaf button").await;
    b.wait_text("#notice", |t| t.contains("1 created")).await;
    let table = b
        .wait_text("#affected", |t| t.contains("CVE-2022-27193"))
        .await;
    assert!(table.contains("CVRF-CSAF-Converter"), "{table}");
    b.screenshot(&shots.join(format!("release-{backend:?}.png")))
        .await;
    b.click("#affected a").await;
    b.wait_text("h1", |t| t.starts_with("CVE-2022-27193")).await;
    b.screenshot(&shots.join(format!("advisory-{backend:?}.png")))
        .await;

    b.goto(&app.url("/admin/members")).await;
    assert!(b.text("#members").await.contains("Member B"));
}

crate::on_both_backends!(sign_in_create_key_and_use_it);
