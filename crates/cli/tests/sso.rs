//! Single sign-on (issue 20, part 1): OpenID Connect against a real
//! provider (panva's oidc-provider from npm, `support/idp.rs`), in
//! headless Chromium and, for the callback attacks, over plain HTTP with
//! a real code from the provider.

use std::collections::BTreeMap;

use isx_domain::{Clock, Login, UserRole};
use isx_store::{SsoMapping, SsoProvider};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::app::{Backend, TestApp};
use crate::support::browser::Browser;
use crate::support::idp::Idp;

const CLIENT: &str = "isx-test";
const SECRET: &str = "a-client-secret-of-the-test";
const PASSWORD: &str = "a long enough passphrase";

fn accounts() -> serde_json::Value {
    json!({
        "alice": {"groups": ["cert-team"]},
        "bob": {"groups": ["nobody"]},
        "carol": {"groups": ["cert-team"]},
        "dave": {"groups": ["cert-team"]},
        "erin": {"groups": ["cert-team", "b-team"]},
        "Frank": {"groups": ["cert-team"]},
        "alice-new": {"groups": ["cert-team"], "preferred_username": "alice"},
        "mallory": {"groups": ["cert-team"]},
    })
}

/// A provider named `test` at `idp`, mapping `cert-team` to member A
/// and `b-team` to member B.
async fn configure(app: &TestApp, idp: &Idp, create_users: bool) -> SsoProvider {
    isx_app::sso::configure(
        app.store.as_ref(),
        app.clock.now(),
        isx_app::sso::ProviderSpec {
            name: "test".into(),
            display_name: Some("Agency account".into()),
            issuer: idp.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: SECRET.into(),
            scopes: vec!["profile".into(), "email".into(), "groups".into()],
            claim: "groups".into(),
            login_claim: "preferred_username".into(),
            mappings: vec![
                SsoMapping {
                    value: "cert-team".into(),
                    member: app.a.member.id,
                    role: UserRole::Member,
                },
                SsoMapping {
                    value: "b-team".into(),
                    member: app.b.member.id,
                    role: UserRole::Member,
                },
            ],
            create_users,
            ca_pem: Some(idp.ca_pem.clone()),
        },
    )
    .await
    .expect("configure")
}

async fn setup(backend: Backend) -> (TestApp, Idp) {
    // Many sign-ins from one address in a few seconds.
    let app = TestApp::spawn_with(backend, |c| {
        c.login_rate_limit = isx_server::RateLimit {
            per_minute: 600,
            burst: 100,
        }
    })
    .await;
    let idp = Idp::start(
        &isx_app::sso::redirect_uri(&app.base, "test"),
        CLIENT,
        SECRET,
        &accounts(),
    );
    configure(&app, &idp, false).await;
    (app, idp)
}

async fn user(app: &TestApp, login: &str, member: isx_domain::MemberId) -> isx_domain::User {
    isx_app::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn Clock,
        &Login::new(login).expect("login"),
        PASSWORD,
        member,
        UserRole::Member,
    )
    .await
    .expect("user")
}

async fn sso_outcomes(app: &TestApp) -> Vec<String> {
    app.store
        .audit_events(&isx_store::AuditQuery {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.event.action == "session.sso")
        .map(|e| format!("{} {}", e.event.actor, e.event.outcome))
        .collect()
}

/// Where a single sign-on in the browser ended.
#[derive(Debug, PartialEq, Eq)]
enum Landed {
    Dashboard,
    Refused(String),
    SecondFactor,
}

/// Clicks the provider's button on isx's sign-in page, signs in at the
/// provider as `login` (its development pages take any password) and
/// consents, until the browser is back at isx.
async fn sso_sign_in(b: &Browser, app: &TestApp, idp: &Idp, login: &str) -> Landed {
    b.goto(&app.url("/login")).await;
    b.click("#sso-test").await;
    let probe = format!(
        "if (window.__isxActed) return 'wait';
         if (location.origin === {idp:?}) {{
           const l = document.querySelector('input[name=login]');
           if (l) {{ l.value = {login:?}; document.querySelector('input[name=password]').value = 'any';
                    window.__isxActed = true; l.form.submit(); return 'acted'; }}
           const f = document.querySelector('form');
           if (f && document.readyState === 'complete') {{ window.__isxActed = true; f.submit(); return 'acted'; }}
           return 'wait';
         }}
         const e = document.querySelector('#sso-error');
         if (e) return 'refused:' + e.textContent;
         if (document.querySelector('#code')) return 'factor';
         const h = document.querySelector('h1');
         if (h && h.textContent === 'Dashboard') return 'dashboard';
         return 'wait';",
        idp = idp.issuer,
    );
    for _ in 0..400 {
        let state = b.try_execute(&probe).await;
        match state.as_ref().and_then(|v| v.as_str()) {
            Some("dashboard") => return Landed::Dashboard,
            Some("factor") => return Landed::SecondFactor,
            Some(r) if r.starts_with("refused:") => {
                return Landed::Refused(r.trim_start_matches("refused:").to_owned())
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    panic!(
        "single sign-on did not come back to isx: {} {}",
        b.current_url().await,
        b.source().await
    );
}

/// Signs out of isx and forgets the provider's session, so that the next
/// sign-in there can be another account.
async fn sign_out_everywhere(b: &Browser, app: &TestApp, idp: &Idp) {
    b.goto(&app.url("/")).await;
    b.execute("const f = document.querySelector('form[action=\"/logout\"]'); if (f) f.submit(); return true")
        .await;
    b.wait_text("h1", |t| t == "isx").await;
    b.goto(&format!("{}/.well-known/openid-configuration", idp.issuer))
        .await;
    b.delete_cookies().await;
}

async fn a_mapped_account_signs_in_through_the_provider(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let alice = user(&app, "alice", app.a.member.id).await;
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    assert_eq!(b.text("#sso-test").await, "Agency account");
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice").await,
        Landed::Dashboard
    );
    assert!(b.source().await.contains("alice"), "signed in as alice");
    let bound = app.store.sso_identities_of(alice.id).await.expect("ids");
    assert_eq!(bound.len(), 1);
    assert_eq!(
        (bound[0].issuer.as_str(), bound[0].subject.as_str()),
        (idp.issuer.as_str(), "alice")
    );
    // Again: the bound identity signs in, whatever the login claim says.
    sign_out_everywhere(&b, &app, &idp).await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice").await,
        Landed::Dashboard
    );
    assert_eq!(
        sso_outcomes(&app).await,
        vec!["user:alice ok".to_owned(), "user:alice linked".to_owned()],
        "newest first"
    );
    // Her account keeps its role (the mapping's role is for new users).
    let again = app
        .store
        .user(alice.id)
        .await
        .expect("user")
        .expect("alice");
    assert_eq!(again.role, UserRole::Member);
}

async fn unmapped_unknown_and_foreign_accounts_get_a_clear_page(backend: Backend) {
    let (app, idp) = setup(backend).await;
    user(&app, "dave", app.b.member.id).await;
    let b = Browser::start().await;
    // The person learns its own mapping's problem; of isx's users it
    // learns nothing (the same page for each), the audit log says which.
    let cannot = "cannot be used to sign in to isx";
    let cases = [
        ("bob", "not mapped to any organisation", "unmapped"),
        ("carol", cannot, "no-user"),
        ("dave", cannot, "other-member"),
        ("erin", "more than one organisation", "ambiguous"),
        ("Frank", "no usable login", "no-login"),
    ];
    for (login, text, outcome) in cases {
        match sso_sign_in(&b, &app, &idp, login).await {
            Landed::Refused(m) => assert!(m.contains(text), "{login}: {m}"),
            other => panic!("{login} was not refused: {other:?}"),
        }
        assert_eq!(
            sso_outcomes(&app).await.first().map(String::as_str),
            Some(format!("sso:test:{login} {outcome}").as_str())
        );
        b.goto(&format!("{}/.well-known/openid-configuration", idp.issuer))
            .await;
        b.delete_cookies().await;
    }
    assert!(
        app.store
            .user_by_login(&Login::new("carol").expect("login"))
            .await
            .expect("user")
            .is_none(),
        "no user is created unless the operator allowed it"
    );
    // With just-in-time creation on, carol gets a user of member A.
    configure(&app, &idp, true).await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "carol").await,
        Landed::Dashboard
    );
    let carol = app
        .store
        .user_by_login(&Login::new("carol").expect("login"))
        .await
        .expect("user")
        .expect("created");
    assert_eq!(
        (carol.member, carol.role),
        (app.a.member.id, UserRole::Member)
    );
    assert!(
        !isx_app::identity::verify_password("", &carol.password_hash)
            && carol.password_hash == isx_app::sso::NO_PASSWORD,
        "a created user has no password"
    );
    assert_eq!(
        sso_outcomes(&app).await.first().map(String::as_str),
        Some("user:carol created")
    );
}

/// The red team's account takeovers: a provider account may not reach a
/// user more powerful than its mapping, a recycled login, a bound user or
/// a disabled one; a user single sign-on made has no password.
async fn provider_accounts_take_over_nobody(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let b = Browser::start().await;
    // Mapped as a member: not the member's administrator.
    isx_app::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn Clock,
        &Login::new("carol").expect("login"),
        PASSWORD,
        app.a.member.id,
        UserRole::MemberAdmin,
    )
    .await
    .expect("admin");
    assert!(matches!(
        sso_sign_in(&b, &app, &idp, "carol").await,
        Landed::Refused(_)
    ));
    assert_eq!(
        sso_outcomes(&app).await.first().map(String::as_str),
        Some("sso:test:carol role-above-mapping")
    );
    // A disabled user is not bound (whoever came first would own it once
    // it is enabled again).
    let dave = user(&app, "dave", app.a.member.id).await;
    app.store
        .set_user_disabled(dave.id, Some(app.clock.now()))
        .await
        .expect("disable");
    idp_forget(&b, &idp).await;
    assert!(matches!(
        sso_sign_in(&b, &app, &idp, "dave").await,
        Landed::Refused(_)
    ));
    assert!(app
        .store
        .sso_identities_of(dave.id)
        .await
        .expect("ids")
        .is_empty());
    // Alice binds; another provider account with her login (recycled, or
    // edited by its holder) is refused.
    let alice = user(&app, "alice", app.a.member.id).await;
    idp_forget(&b, &idp).await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice").await,
        Landed::Dashboard
    );
    sign_out_everywhere(&b, &app, &idp).await;
    assert!(matches!(
        sso_sign_in(&b, &app, &idp, "alice-new").await,
        Landed::Refused(_)
    ));
    assert_eq!(
        sso_outcomes(&app).await.first().map(String::as_str),
        Some("sso:test:alice linked-elsewhere")
    );
    let bound = app.store.sso_identities_of(alice.id).await.expect("ids");
    assert_eq!(bound.len(), 1);
    assert_eq!(bound[0].subject, "alice");
    // The operator unbinds her (`isx sso unlink`): the new account binds.
    let out = crate::cli::isx_with(&app, &["sso", "unlink", "alice"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sign_out_everywhere(&b, &app, &idp).await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice-new").await,
        Landed::Dashboard
    );
    assert_eq!(
        app.store.sso_identities_of(alice.id).await.expect("ids")[0].subject,
        "alice-new"
    );
    // A user single sign-on created signs in with no password, not even
    // an empty one or the marker it stores.
    configure(&app, &idp, true).await;
    sign_out_everywhere(&b, &app, &idp).await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "mallory").await,
        Landed::Dashboard
    );
    let (cookie, csrf) = app.login_csrf().await;
    for password in ["", isx_app::sso::NO_PASSWORD, "x"] {
        let res = app
            .client
            .post(app.url("/login"))
            .header("cookie", cookie.clone())
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", "mallory"),
                ("password", password),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{password:?}");
    }
}

async fn idp_forget(b: &Browser, idp: &Idp) {
    b.goto(&format!("{}/.well-known/openid-configuration", idp.issuer))
        .await;
    b.delete_cookies().await;
}

async fn forged_tokens_are_refused(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let alice = user(&app, "alice", app.a.member.id).await;
    let b = Browser::start().await;
    for (mode, text) in [
        ("tamper", "signature does not verify"),
        ("foreign-key", "signature does not verify"),
        ("audience", "meant for another client"),
        ("expired", "it expired"),
    ] {
        idp.mode(mode).await;
        match sso_sign_in(&b, &app, &idp, "alice").await {
            Landed::Refused(m) => assert!(m.contains(text), "{mode}: {m}"),
            other => panic!("a {mode} token was accepted: {other:?}"),
        }
        assert_eq!(
            sso_outcomes(&app).await.first().map(String::as_str),
            Some("sso:test:? token-refused"),
            "{mode}"
        );
        assert!(
            app.store
                .sessions_of(alice.id)
                .await
                .expect("sessions")
                .is_empty(),
            "{mode}: no session"
        );
        assert!(
            app.store
                .sso_identities_of(alice.id)
                .await
                .expect("ids")
                .is_empty(),
            "{mode}: nothing bound"
        );
    }
    idp.mode("honest").await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice").await,
        Landed::Dashboard
    );
}

async fn a_second_factor_still_applies(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let alice = user(&app, "alice", app.a.member.id).await;
    let secret = isx_app::second_factor::new_secret();
    assert!(app
        .store
        .put_totp(alice.id, &secret, 0, &[], false, app.clock.now())
        .await
        .expect("totp"));
    let b = Browser::start().await;
    assert_eq!(
        sso_sign_in(&b, &app, &idp, "alice").await,
        Landed::SecondFactor,
        "the provider's sign-in is the first step only"
    );
    assert!(app.store.sessions_of(alice.id).await.expect("s").is_empty());
    assert!(
        app.store
            .sso_identities_of(alice.id)
            .await
            .expect("ids")
            .is_empty(),
        "a first sign-in binds nothing before its second factor"
    );
    let uri = format!("otpauth://totp/isx:alice?secret={secret}&issuer=isx");
    let (code, _, _) = crate::identity::pyotp(&uri, app.clock.now().as_secs());
    b.type_into("#code", &code).await;
    b.click("#verify").await;
    b.wait_text("h1", |t| t == "Dashboard").await;
    assert_eq!(app.store.sessions_of(alice.id).await.expect("s").len(), 1);
    assert_eq!(
        app.store
            .sso_identities_of(alice.id)
            .await
            .expect("ids")
            .len(),
        1
    );
    // A member that requires a factor, and a user without one: the
    // provider account may not set one up for it on the way in.
    let ivy = user(&app, "mallory", app.a.member.id).await;
    app.store
        .set_second_factor_required(app.a.member.id, true)
        .await
        .expect("require");
    sign_out_everywhere(&b, &app, &idp).await;
    match sso_sign_in(&b, &app, &idp, "mallory").await {
        Landed::Refused(m) => assert!(m.contains("sign in once with your password"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(app.store.totp(ivy.id).await.expect("totp").is_none());
    assert!(app
        .store
        .sso_identities_of(ivy.id)
        .await
        .expect("ids")
        .is_empty());
    assert_eq!(
        sso_outcomes(&app).await.first().map(String::as_str),
        Some("sso:test:mallory factor-first")
    );
}

/// A minimal cookie jar for driving the provider's pages without a
/// browser: name → value, sent to every path.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, res: &reqwest::Response) {
        for v in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = v.to_str().unwrap_or("");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || text.to_ascii_lowercase().contains("max-age=0") {
                    self.0.remove(k.trim());
                } else {
                    self.0.insert(k.trim().to_owned(), v.to_owned());
                }
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location ({})", res.status()))
        .to_owned()
}

/// Starts a sign-in at isx and walks the provider's pages as `login`:
/// isx's browser cookie and the callback URL the provider sends back.
async fn callback_url(app: &TestApp, idp: &Idp, login: &str) -> (String, String) {
    let (login_cookie, csrf) = app.login_csrf().await;
    let res = app
        .client
        .post(app.url("/login/sso/test"))
        .header("cookie", login_cookie)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::OK);
    let isx_cookie = crate::support::app::set_cookie(&res, "isx_sso").expect("sso cookie");
    assert!(
        isx_cookie.contains("SameSite=Lax") && isx_cookie.contains("HttpOnly"),
        "{isx_cookie}"
    );
    let isx_cookie = isx_cookie.split(';').next().unwrap_or("").to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(idp.ca_pem.as_bytes()).expect("pem"))
        .build()
        .expect("client");
    let mut jar = Jar::default();
    // The page that moves on to the provider by itself.
    let page = res.text().await.expect("page");
    let mut url = page
        .split("url=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the provider's address")
        .replace("&#38;", "&");
    for _ in 0..12 {
        if url.starts_with(&app.base) {
            return (isx_cookie, url);
        }
        let absolute = if url.starts_with('/') {
            format!("{}{url}", idp.issuer)
        } else {
            url.clone()
        };
        let res = http
            .get(&absolute)
            .header("cookie", jar.header())
            .send()
            .await
            .expect("provider");
        jar.take(&res);
        if res.status().is_redirection() {
            url = location(&res);
            continue;
        }
        let page = res.text().await.expect("page");
        let action = page
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a form on the provider's page")
            .to_owned();
        let form: Vec<(&str, &str)> = if page.contains("name=\"login\"") {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            vec![("prompt", "consent")]
        };
        let res = http
            .post(if action.starts_with('/') {
                format!("{}{action}", idp.issuer)
            } else {
                action.clone()
            })
            .header("cookie", jar.header())
            .form(&form)
            .send()
            .await
            .expect("submit");
        jar.take(&res);
        url = location(&res);
    }
    panic!("the provider never sent the browser back to isx");
}

async fn the_callback_is_bound_to_its_browser_and_used_once(backend: Backend) {
    let (app, idp) = setup(backend).await;
    let alice = user(&app, "alice", app.a.member.id).await;
    let callback = |url: String, cookie: Option<String>| {
        let mut req = app.client.get(url);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    // A leaked callback URL without the browser's cookie opens nothing
    // (and uses nothing up: the victim's own browser still can).
    let (cookie, url) = callback_url(&app, &idp, "alice").await;
    assert!(url.contains("code=") && url.contains("state="), "{url}");
    let res = callback(url.clone(), None).await.expect("leaked");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("expired or was already used"));
    // Nor with the attacker's own cookie of a sign-in it started itself
    // (login CSRF the other way round).
    let (own, _) = callback_url(&app, &idp, "alice").await;
    let res = callback(url.clone(), Some(own)).await.expect("swapped");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A forged state with the right cookie: refused, and the sign-in is
    // used up.
    let forged = url.replace("state=", "state=0");
    let res = callback(forged, Some(cookie.clone()))
        .await
        .expect("forged");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = callback(url.clone(), Some(cookie.clone()))
        .await
        .expect("after");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(app.store.sessions_of(alice.id).await.expect("s").is_empty());

    // The right browser, once: a session, set on a page that moves on by
    // itself (so the Strict cookie reaches the next page).
    let (cookie, url) = callback_url(&app, &idp, "alice").await;
    let res = callback(url.clone(), Some(cookie.clone()))
        .await
        .expect("ok");
    assert_eq!(res.status(), StatusCode::OK);
    let set: Vec<String> = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("isx_session=") && c.contains("SameSite=Strict")),
        "{set:?}"
    );
    assert!(set.iter().any(|c| c.starts_with("isx_sso=;")), "{set:?}");
    assert!(res.text().await.expect("page").contains("url=/\""));
    assert_eq!(app.store.sessions_of(alice.id).await.expect("s").len(), 1);
    // Replayed with the same cookie: nothing more.
    let res = callback(url, Some(cookie)).await.expect("replay");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.sessions_of(alice.id).await.expect("s").len(), 1);
    // The provider's error is shown, not taken for a sign-in.
    let (cookie, url) = callback_url(&app, &idp, "alice").await;
    let state = url
        .split("state=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("state");
    let res = callback(
        app.url(&format!(
            "/login/sso/test/callback?error=access_denied&error_description=nope&state={state}"
        )),
        Some(cookie),
    )
    .await
    .expect("error");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("access_denied nope"));
    // Another site cannot start a sign-in in a visitor's browser (an
    // <img> or a link to the start is a GET; a form without the sign-in
    // page's token is refused).
    let res = app
        .client
        .get(app.url("/login/sso/test"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = app
        .client
        .post(app.url("/login/sso/test"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("forged start");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An unknown provider is a 404; a provider that cannot be reached a
    // clear 502 page, which does not show its internal addresses.
    let (login_cookie, csrf) = app.login_csrf().await;
    let start = |name: &'static str| {
        app.client
            .post(app.url(&format!("/login/sso/{name}")))
            .header("cookie", login_cookie.clone())
            .form(&[("csrf", csrf.clone())])
            .send()
    };
    let res = start("nobody").await.expect("404");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let mut gone = configure(&app, &idp, false).await;
    gone.issuer = "https://127.0.0.1:9".into();
    gone.name = "gone".into();
    app.store.put_sso_provider(&gone).await.expect("put");
    let res = start("gone").await.expect("502");
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    let page = res.text().await.expect("page");
    assert!(
        page.contains("could not be reached") && !page.contains("127.0.0.1:9"),
        "{page}"
    );
}

crate::on_both_backends!(
    a_mapped_account_signs_in_through_the_provider,
    unmapped_unknown_and_foreign_accounts_get_a_clear_page,
    forged_tokens_are_refused,
    a_second_factor_still_applies,
    the_callback_is_bound_to_its_browser_and_used_once,
    the_cli_configures_providers,
    provider_accounts_take_over_nobody,
);

/// `isx sso add|list|remove` on the servers' store: the provider the
/// sign-in page then shows, refusals with a message and exit code 2, the
/// secret never printed, and the audit entries.
async fn the_cli_configures_providers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let isx = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--database-url", app.db_url.as_str()];
        all.extend_from_slice(args);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_isx"));
        cmd.arg("--data-dir").arg(app.data_dir.path()).args(&all);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("isx");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let a = app.a.member.name.to_string();
    let map = format!("cert-team={a}");
    let admin_map = format!("cert-admins={a}:member-admin");
    let secret = [("ISX_SSO_CLIENT_SECRET", "very-secret-value")];
    let (code, out) = isx(
        &[
            "sso",
            "add",
            "agency",
            "--issuer",
            "https://idp.example/realms/agency",
            "--client-id",
            "isx",
            "--display",
            "Agency account",
            "--map",
            &map,
            "--map",
            &admin_map,
        ],
        &secret,
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("/login/sso/agency/callback") && !out.contains("very-secret-value"),
        "{out}"
    );
    let p = app
        .store
        .sso_provider("agency")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(p.client_secret, "very-secret-value");
    assert_eq!(p.mappings.len(), 2);
    assert_eq!(p.mappings[1].role, UserRole::MemberAdmin);
    assert_eq!(p.scopes, vec!["profile", "email"]);
    for args in [vec!["sso", "list"], vec!["sso", "list", "--json"]] {
        let (code, out) = isx(&args, &[]);
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("agency") && !out.contains("very-secret-value"),
            "{out}"
        );
    }
    let page = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .expect("login");
    assert!(page
        .text()
        .await
        .expect("page")
        .contains("action=\"/login/sso/agency\""));
    // Refusals: each a message and no change.
    for (args, says) in [
        (
            vec!["--issuer", "http://idp.example", "--map", map.as_str()],
            "https://",
        ),
        (
            vec![
                "--issuer",
                "https://idp.example",
                "--map",
                "x=No Such Member",
            ],
            "no member",
        ),
        (
            vec![
                "--issuer",
                "https://idp.example",
                "--map",
                &format!("x={a}:admin"),
            ],
            "must belong to the operator",
        ),
        (
            vec!["--issuer", "https://idp.example", "--map", "missing-equals"],
            "VALUE=MEMBER",
        ),
        (
            vec![
                "--issuer",
                "https://idp.example",
                "--map",
                map.as_str(),
                "--claim",
                "a..b",
            ],
            "not a claim name",
        ),
    ] {
        let mut all = vec!["sso", "add", "bad", "--client-id", "isx"];
        all.extend(args);
        let (code, out) = isx(&all, &secret);
        assert_ne!(code, Some(0), "{all:?}: {out}");
        assert!(out.contains(says), "{all:?}: {out}");
    }
    let (code, out) = isx(
        &[
            "sso",
            "add",
            "nosecret",
            "--issuer",
            "https://idp.example",
            "--client-id",
            "isx",
            "--map",
            &map,
        ],
        &[],
    );
    assert_ne!(code, Some(0));
    assert!(out.contains("client secret"), "{out}");
    assert!(app.store.sso_provider("bad").await.expect("get").is_none());
    let (code, out) = isx(&["sso", "remove", "agency"], &[]);
    assert_eq!(code, Some(0), "{out}");
    let (code, _) = isx(&["sso", "remove", "agency"], &[]);
    assert_ne!(code, Some(0));
    let actions: Vec<String> = app
        .store
        .audit_events(&isx_store::AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.event.action)
        .filter(|a| a.starts_with("sso."))
        .collect();
    assert_eq!(actions, vec!["sso.provider.remove", "sso.provider.put"]);
}
