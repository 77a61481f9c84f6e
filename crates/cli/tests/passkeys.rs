//! WebAuthn passkeys (issue 20, part 2) in headless Chromium with the
//! WebDriver virtual authenticator: registration on the account page, the
//! sign-in's second step, and the attacks on the ceremony endpoints.
//!
//! WebAuthn needs a domain name, so these tests reach isx as
//! `https://localhost:<port>` (its public URL), and Chromium is told to
//! trust isx's certificate by its key (a page with a certificate error
//! gets no WebAuthn).

use std::process::Command;

use isx_domain::{Clock, Login, UserRole};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::app::{Backend, TestApp};
use crate::support::browser::Browser;

const PASSWORD: &str = "a long enough passphrase";

/// An app whose public URL is `https://localhost:<port>`, and that port.
async fn app_on_localhost(backend: Backend) -> (TestApp, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let app = TestApp::spawn_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().expect("addr");
        c.public_url = Some(format!("https://localhost:{port}"));
        c.login_rate_limit = isx_server::RateLimit {
            per_minute: 600,
            burst: 100,
        };
    })
    .await;
    (app, port)
}

/// Chromium's `--ignore-certificate-errors-spki-list` for isx's server
/// certificate (the SHA-256 of its public key, base64).
fn trust_isx(app: &TestApp) -> String {
    let cert = app.data_dir.path().join("tls/cert.pem");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
            cert.display()
        ))
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "--ignore-certificate-errors-spki-list={}",
        String::from_utf8_lossy(&out.stdout).trim()
    )
}

async fn user(app: &TestApp, login: &str) -> isx_domain::User {
    isx_app::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn Clock,
        &Login::new(login).expect("login"),
        PASSWORD,
        app.a.member.id,
        UserRole::Member,
    )
    .await
    .expect("user")
}

async fn password_step(b: &Browser, base: &str, login: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#login", login).await;
    b.type_into("#password", PASSWORD).await;
    b.click("#sign-in").await;
}

async fn outcomes(app: &TestApp, action: &str) -> Vec<String> {
    app.store
        .audit_events(&isx_store::AuditQuery {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.event.action == action)
        .map(|e| e.event.outcome)
        .collect()
}

async fn a_passkey_is_registered_and_signs_in(backend: Backend) {
    let (app, port) = app_on_localhost(backend).await;
    let base = format!("https://localhost:{port}");
    let alice = user(&app, "alice").await;
    let b = Browser::start_with(&[trust_isx(&app)]).await;
    let authenticator = b.add_virtual_authenticator().await;
    password_step(&b, &base, "alice").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    b.goto(&format!("{base}/account")).await;
    // A wrong password adds nothing.
    b.type_into("#passkey-name", " one").await;
    b.type_into("#passkey-password", "not the password").await;
    b.click("#add-passkey").await;
    b.wait_text("#passkey-message", |t| t.contains("wrong password"))
        .await;
    assert!(app.store.passkeys(alice.id).await.expect("keys").is_empty());
    b.goto(&format!("{base}/account")).await;
    b.execute("document.querySelector('#passkey-name').value = ''; return true")
        .await;
    b.type_into("#passkey-name", "Laptop").await;
    b.type_into("#passkey-password", PASSWORD).await;
    b.click("#add-passkey").await;
    b.wait_text("#passkey-list", |t| t.contains("Laptop")).await;
    let keys = app.store.passkeys(alice.id).await.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(b.authenticator_credentials(&authenticator).await.len(), 1);
    assert_eq!(
        outcomes(&app, "factor.passkey.add").await,
        vec!["ok", "401"]
    );

    // Sign out; the password is now the first step, the passkey the second.
    b.execute("document.querySelector('form[action=\"/logout\"]').submit(); return true")
        .await;
    b.wait_text("h1", |t| t == "isx").await;
    password_step(&b, &base, "alice").await;
    b.click("#use-passkey").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    assert_eq!(
        outcomes(&app, "session.second_factor").await,
        vec!["passkey"]
    );
    let used = app.store.passkeys(alice.id).await.expect("keys");
    assert!(used[0].last_used_at.is_some());
    assert_ne!(
        used[0].passkey, keys[0].passkey,
        "its counter was written back"
    );

    // Removing it takes the password too.
    b.goto(&format!("{base}/account")).await;
    b.type_into("#passkey-list input[name=password]", "wrong")
        .await;
    b.click(".remove-passkey").await;
    b.wait_text(".flash.error", |t| t.contains("Wrong password"))
        .await;
    assert_eq!(app.store.passkeys(alice.id).await.expect("keys").len(), 1);
    b.type_into("#passkey-list input[name=password]", PASSWORD)
        .await;
    b.click(".remove-passkey").await;
    b.wait_text(".flash.ok", |t| t.contains("Passkey removed"))
        .await;
    assert!(app.store.passkeys(alice.id).await.expect("keys").is_empty());
}

/// The ceremony endpoints, attacked without a browser: a sign-in step
/// opens nothing with a forged assertion, a used or another user's
/// ceremony, or no step at all; an operator's reset removes passkeys.
async fn the_passkey_step_refuses_forgeries(backend: Backend) {
    let (app, port) = app_on_localhost(backend).await;
    let base = format!("https://localhost:{port}");
    let alice = user(&app, "alice").await;
    let b = Browser::start_with(&[trust_isx(&app)]).await;
    b.add_virtual_authenticator().await;
    password_step(&b, &base, "alice").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    b.goto(&format!("{base}/account")).await;
    b.type_into("#passkey-password", PASSWORD).await;
    b.click("#add-passkey").await;
    b.wait_text("#passkey-list", |t| t.contains("Passkey"))
        .await;

    // The password step over plain HTTP: a challenge cookie.
    let (cookie, csrf) = app.login_csrf().await;
    let res = app
        .client
        .post(app.url("/login"))
        .header("cookie", cookie.clone())
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("password");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let challenge =
        crate::support::app::cookie_pair(&res, "isx_challenge").expect("challenge cookie");
    let cookies = format!("{cookie}; {challenge}");
    let post = |path: &str, body: serde_json::Value, with: &str| {
        app.client
            .post(app.url(path))
            .header("cookie", with.to_owned())
            .json(&body)
            .send()
    };
    let options = post(
        "/login/second-factor/passkey/options",
        json!({"csrf": csrf}),
        &cookies,
    )
    .await
    .expect("options");
    assert_eq!(options.status(), StatusCode::OK);
    let options: serde_json::Value = options.json().await.expect("json");
    let token = options["token"].as_str().expect("token").to_owned();
    assert!(options["options"]["publicKey"]["challenge"].is_string());
    assert_eq!(
        options["options"]["publicKey"]["rpId"], "localhost",
        "the relying party is the public URL's host"
    );
    // A forged assertion (the right credential id, made-up signature).
    let cred_id = app.store.passkeys(alice.id).await.expect("keys")[0]
        .credential_id
        .clone();
    let forged = json!({
        "id": cred_id, "rawId": cred_id, "type": "public-key", "extensions": {},
        "response": {
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
            "signature": "MEUCIQ",
            "userHandle": null
        }
    });
    let res = post(
        "/login/second-factor/passkey",
        json!({"csrf": csrf, "token": token, "credential": forged}),
        &cookies,
    )
    .await
    .expect("forged");
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "403, not 401: no browser password dialog"
    );
    assert!(res.headers().get("www-authenticate").is_none());
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    // The same ceremony again: used up.
    let res = post(
        "/login/second-factor/passkey",
        json!({"csrf": csrf, "token": token, "credential": forged}),
        &cookies,
    )
    .await
    .expect("again");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Without the sign-in step's cookie, or with the wrong form token.
    let res = post(
        "/login/second-factor/passkey/options",
        json!({"csrf": csrf}),
        &cookie,
    )
    .await
    .expect("no step");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(
        "/login/second-factor/passkey/options",
        json!({"csrf": "forged"}),
        &cookies,
    )
    .await
    .expect("csrf");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Bob's step with a ceremony made for Alice's: nothing.
    let bob = user(&app, "bob").await;
    assert!(app
        .store
        .insert_passkey(&isx_store::StoredPasskey {
            user: bob.id,
            credential_id: "Ym9i".into(),
            ..app.store.passkeys(alice.id).await.expect("keys")[0].clone()
        })
        .await
        .expect("bob's"));
    let alices = post(
        "/login/second-factor/passkey/options",
        json!({"csrf": csrf}),
        &cookies,
    )
    .await
    .expect("options")
    .json::<serde_json::Value>()
    .await
    .expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (bob_cookie, bob_csrf) = app.login_csrf().await;
    let res = app
        .client
        .post(app.url("/login"))
        .header("cookie", bob_cookie.clone())
        .form(&[
            ("csrf", bob_csrf.as_str()),
            ("login", "bob"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("bob");
    let bob_challenge =
        crate::support::app::cookie_pair(&res, "isx_challenge").expect("bob's challenge");
    let res = post(
        "/login/second-factor/passkey",
        json!({"csrf": bob_csrf, "token": alices, "credential": forged}),
        &format!("{bob_cookie}; {bob_challenge}"),
    )
    .await
    .expect("swap");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(app.store.sessions_of(bob.id).await.expect("s").is_empty());
    // Only the browser's own session (none from these attempts).
    assert_eq!(app.store.sessions_of(alice.id).await.expect("s").len(), 1);
    // An operator's reset of the second factor removes the passkeys.
    isx_app::admin::reset_second_factor(app.store.as_ref(), alice.id, None)
        .await
        .expect("reset");
    assert!(app.store.passkeys(alice.id).await.expect("keys").is_empty());
}

/// On an instance reached by an IP address the account page says why
/// passkeys are not offered, rather than failing in the browser.
async fn passkeys_need_a_domain_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app
        .session_cookie(app.a.member.id, "alice", UserRole::Member)
        .await;
    let page = app.page(&cookie, "/account").await;
    assert!(page.contains("id=\"passkey-problem\""), "{page}");
    assert!(page.contains("domain name"));
    assert!(!page.contains("id=\"add-passkey\""));
}

/// The red team's findings on changing factors: a user with an
/// authenticator app adds a passkey only with a current code; password
/// tries on the account page count against the sign-in limits; the last
/// factor of a member that requires one is not removed.
async fn changing_passkeys_takes_more_than_a_stolen_session(backend: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let app = TestApp::spawn_with(backend, |c| {
        c.listen = format!("127.0.0.1:{port}").parse().expect("addr");
        c.public_url = Some(format!("https://localhost:{port}"));
    })
    .await;
    // The session helper makes the user (with its password) and a session
    // whose form token is "csrf".
    let cookie = app
        .session_cookie(app.a.member.id, "tom", UserRole::Member)
        .await;
    let tom = app
        .store
        .user_by_login(&Login::new("tom").expect("login"))
        .await
        .expect("user")
        .expect("tom");
    let secret = isx_app::second_factor::new_secret();
    assert!(app
        .store
        .put_totp(tom.id, &secret, 0, &[], false, app.clock.now())
        .await
        .expect("totp"));
    let options = |body: serde_json::Value| {
        app.client
            .post(app.url("/account/passkeys/options"))
            .header("cookie", cookie.clone())
            .json(&body)
            .send()
    };
    let password = "a long test password";
    let res = options(json!({"csrf": "csrf", "password": password}))
        .await
        .expect("no code");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("body").contains("current code"));
    let uri = format!("otpauth://totp/isx:tom?secret={secret}&issuer=isx");
    let (code, _, _) = crate::identity::pyotp(&uri, app.clock.now().as_secs());
    let res = options(json!({"csrf": "csrf", "password": password, "code": code}))
        .await
        .expect("with code");
    assert_eq!(res.status(), StatusCode::OK);
    // Password guesses from a session: the sign-in budget of the address
    // (10 a minute here), not a way round it.
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = options(json!({"csrf": "csrf", "password": "guess", "code": "000000"}))
            .await
            .expect("guess")
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

    // Ann has one passkey and no app; her member requires a factor.
    let ann_cookie = app
        .session_cookie(app.a.member.id, "ann", UserRole::Member)
        .await;
    let ann = app
        .store
        .user_by_login(&Login::new("ann").expect("login"))
        .await
        .expect("user")
        .expect("ann");
    assert!(app
        .store
        .insert_passkey(&isx_store::StoredPasskey {
            credential_id: "YW5u".into(),
            user: ann.id,
            name: "key".into(),
            passkey: "{}".into(),
            created_at: app.clock.now(),
            last_used_at: None,
        })
        .await
        .expect("passkey"));
    app.store
        .set_second_factor_required(app.a.member.id, true)
        .await
        .expect("require");
    let res = app
        .client
        .post(app.url("/account/passkeys/remove"))
        .header("cookie", ann_cookie)
        .form(&[("csrf", "csrf"), ("id", "YW5u"), ("password", password)])
        .send()
        .await
        .expect("remove");
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("requires a second factor"));
    assert_eq!(app.store.passkeys(ann.id).await.expect("keys").len(), 1);
}

crate::on_both_backends!(
    changing_passkeys_takes_more_than_a_stolen_session,
    a_passkey_is_registered_and_signs_in,
    the_passkey_step_refuses_forgeries,
    passkeys_need_a_domain_name,
);
