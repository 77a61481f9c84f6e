//! Hole 10: the account life cycle. A user can be disabled (locked out at
//! once, on every channel), its sessions ended, and a member removed from a
//! trust group — each by the people entitled to, and audited.

use isx_domain::UserRole;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{form, shown_token};
use crate::support::app::{Backend, TestApp};

const PASSWORD: &str = "a long test password";

fn session_of(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("isx_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    let res = app
        .get("/keys", "")
        .header("cookie", cookie)
        .send()
        .await
        .expect("send");
    res.status() == StatusCode::OK
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    let users = app.get_json("/api/v1/users", &app.operator.token).await;
    users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["login"] == login)
        .and_then(|u| u["id"].as_i64())
        .expect("user id")
}

async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let log = app.get_json("/api/v1/audit", &app.operator.token).await;
    log.as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn a_disabled_user_is_locked_out_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cookie = app
        .session_cookie(app.a.member.id, "carol", UserRole::Member)
        .await;
    let page = form(&app, &cookie, "/keys", &[("name", "carol's script")]).await;
    assert_eq!(page.status(), StatusCode::CREATED);
    let key = shown_token(&page.text().await.expect("page"));
    let csrf = app.login_csrf().await;
    let res = app.sign_in(&csrf, "carol", PASSWORD).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let second = session_of(&res).expect("a second session");
    assert!(signed_in(&app, &cookie).await && signed_in(&app, &second).await);
    assert_eq!(
        app.get("/api/v1/me", &key)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    let id = user_id(&app, "carol").await;

    // Who may not: a plain member of carol's own organisation (403), and
    // another member's key (404: it may not learn the user exists).
    for (token, want) in [
        (&app.a.token, StatusCode::FORBIDDEN),
        (&app.b.token, StatusCode::NOT_FOUND),
    ] {
        let res = app
            .req(Method::POST, &format!("/api/v1/users/{id}/disable"), token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), want);
    }
    assert!(signed_in(&app, &cookie).await, "nothing changed");

    // The operator's administrator disables carol: both sessions end, the
    // key carol made is revoked, sign-in is refused like a wrong password.
    let res = app
        .req(
            Method::POST,
            &format!("/api/v1/users/{id}/disable"),
            &app.operator.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.expect("json");
    assert_eq!(
        (
            done["sessions_ended"].as_u64(),
            done["keys_revoked"].as_u64()
        ),
        (Some(2), Some(1)),
        "{done}"
    );
    assert!(done["user"]["disabled_at"].is_string(), "{done}");
    assert!(!signed_in(&app, &cookie).await && !signed_in(&app, &second).await);
    assert_eq!(
        app.get("/api/v1/me", &key)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app.sign_in(&csrf, "carol", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res
        .text()
        .await
        .expect("page")
        .contains("Wrong login or password."));
    let events = audited(&app, "user.disable").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0]["target"].as_str().unwrap_or("").contains("carol"));

    // Enabled again, carol signs in; the revoked key stays revoked.
    let res = app
        .req(
            Method::POST,
            &format!("/api/v1/users/{id}/enable"),
            &app.operator.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.sign_in(&csrf, "carol", PASSWORD).await;
    assert!(res.status().is_redirection());
    let third = session_of(&res).expect("session");
    assert_eq!(
        app.get("/api/v1/me", &key)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Ending carol's sessions signs her out everywhere, and only that.
    let res = app
        .req(
            Method::DELETE,
            &format!("/api/v1/users/{id}/sessions"),
            &app.operator.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.expect("json")["sessions_ended"],
        1
    );
    assert!(!signed_in(&app, &third).await);
    assert!(app
        .sign_in(&csrf, "carol", PASSWORD)
        .await
        .status()
        .is_redirection());
    assert_eq!(audited(&app, "user.sign-out").await.len(), 1);
    assert_eq!(audited(&app, "user.enable").await.len(), 1);

    // On the web: the administrator's users page disables with one button.
    let admin = app
        .session_cookie(app.operator.member.id, "root", UserRole::Admin)
        .await;
    let page = form(&app, &admin, &format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    assert!(html.contains("User carol disabled"), "{html}");
    assert!(app.sign_in(&csrf, "carol", PASSWORD).await.status() == StatusCode::UNAUTHORIZED);
    // Nobody disables themselves.
    let root = user_id(&app, "root").await;
    let page = form(&app, &admin, &format!("/admin/users/{root}/disable"), &[]).await;
    assert!(page
        .text()
        .await
        .expect("page")
        .contains("cannot disable yourself"));
    assert!(signed_in(&app, &admin).await);
}

async fn a_member_admin_manages_only_its_own_users(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.session_cookie(app.a.member.id, "dave", UserRole::Member)
        .await;
    app.session_cookie(app.b.member.id, "erin", UserRole::Member)
        .await;
    let (dave, erin) = (user_id(&app, "dave").await, user_id(&app, "erin").await);
    let (_, token) = isx_app::admin::create_api_key(
        app.store.as_ref(),
        app.clock.as_ref(),
        None,
        &isx_app::admin::KeySpec {
            member: app.a.member.id,
            name: "a-admin",
            role: UserRole::MemberAdmin,
            expires_at: None,
        },
    )
    .await
    .expect("key");
    let token = token.expose();
    let listed = app.get_json("/api/v1/users", &token).await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "only A's users: {listed}"
    );
    let disable = |id: i64| {
        app.req(Method::POST, &format!("/api/v1/users/{id}/disable"), &token)
            .send()
    };
    assert_eq!(
        disable(erin).await.expect("send").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(disable(dave).await.expect("send").status(), StatusCode::OK);
}

async fn removing_a_member_from_a_group_ends_its_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let g: Value = app
        .post_json(
            "/api/v1/groups",
            &app.operator.token,
            &json!({"name": "Water", "kind": {"kind": "ad-hoc"}, "owner": app.a.member.id.0}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let gid = g["id"].as_i64().expect("id");
    let admit = |who: i64| {
        app.post_json(
            &format!("/api/v1/groups/{gid}/members"),
            &app.a.token,
            &json!({"member": who, "role": "contributor"}),
        )
        .send()
    };
    assert!(admit(app.b.member.id.0)
        .await
        .expect("send")
        .status()
        .is_success());
    let c: Value = app
        .post_json(
            &format!("/api/v1/groups/{gid}/contributions"),
            &app.a.token,
            &json!({"title": "Pump stations", "description": "details", "marking": "amber",
                    "details": {"kind": "analysis"}}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let contribution = format!("/api/v1/contributions/{}", c["id"]);
    // B asks for A's URL indicator to go into the URL feed: B sees its
    // request while it is in the group.
    let url: Value = app
        .post_json(
            &format!("/api/v1/groups/{gid}/contributions"),
            &app.a.token,
            &json!({"title": "Dropper", "description": "details", "marking": "amber",
                    "details": {"kind": "indicator", "indicator_type": "url", "value": "http://drop.example/x"}}),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let res = app
        .post_json(
            &format!("/api/v1/contributions/{}/shares", url["id"]),
            &app.b.token,
            &json!({"target": {"kind": "url-feed"}, "reason": "block it"}),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::CREATED);
    let app = &app;
    let shares = |token: String| async move { app.get_json("/api/v1/shares", &token).await };
    assert_eq!(
        shares(app.b.token.clone()).await.as_array().map(Vec::len),
        Some(1)
    );
    let collection = format!("/taxii2/isx/collections/group-{gid}/objects/");
    assert_eq!(
        app.get(&contribution, &app.b.token)
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );

    let remove = |who: i64, token: &str| {
        app.req(
            Method::DELETE,
            &format!("/api/v1/groups/{gid}/members/{who}"),
            token,
        )
        .send()
    };
    // A member that does not own the group removes nobody else.
    assert_eq!(
        remove(app.a.member.id.0, &app.b.token)
            .await
            .expect("send")
            .status(),
        StatusCode::FORBIDDEN
    );
    // The owner removes B: B reads nothing of the group any more.
    assert_eq!(
        remove(app.b.member.id.0, &app.a.token)
            .await
            .expect("send")
            .status(),
        StatusCode::NO_CONTENT
    );
    for path in [
        contribution.as_str(),
        collection.as_str(),
        &format!("/api/v1/groups/{gid}"),
    ] {
        assert_eq!(
            app.get(path, &app.b.token)
                .send()
                .await
                .expect("send")
                .status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        shares(app.b.token.clone()).await,
        json!([]),
        "a removed member no longer sees the contribution through its share request"
    );
    assert_eq!(
        shares(app.a.token.clone()).await.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(audited(app, "group.remove").await.len(), 1);
    // The last owner stays; a member may leave by itself.
    let res = remove(app.a.member.id.0, &app.a.token).await.expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("text").contains("last owner"));
    assert!(admit(app.b.member.id.0)
        .await
        .expect("send")
        .status()
        .is_success());
    assert_eq!(
        remove(app.b.member.id.0, &app.b.token)
            .await
            .expect("send")
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[test]
fn the_cli_disables_users_and_removes_group_members() {
    use crate::cli::isx;
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = |args: &[&str]| {
        let out = isx(dir.path(), args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ok(&["member", "add", "--name", "Grid Co", "--kind", "enterprise"]);
    ok(&[
        "member",
        "add",
        "--name",
        "Water Co",
        "--kind",
        "enterprise",
    ]);
    let out = isx(
        dir.path(),
        &["user", "add", "--login", "frank", "--member", "Grid Co"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = ok(&["user", "disable", "frank"]);
    assert!(text.contains("disabled user frank"), "{text}");
    let users: Value = serde_json::from_str(&ok(&["user", "list", "--json"])).expect("json");
    assert!(users[0]["disabled_at"].is_string(), "{users}");
    ok(&["user", "enable", "frank"]);
    assert!(ok(&["user", "sign-out", "frank"]).contains("0 session(s)"));
    ok(&["group", "add", "--name", "Utilities", "--owner", "Grid Co"]);
    ok(&[
        "group",
        "join",
        "Utilities",
        "--member",
        "Water Co",
        "--role",
        "contributor",
    ]);
    assert!(ok(&["group", "remove", "Utilities", "--member", "Water Co"]).contains("no longer in"));
    let out = isx(
        dir.path(),
        &["group", "remove", "Utilities", "--member", "Grid Co"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("last owner"));
    let unknown = isx(dir.path(), &["user", "disable", "nobody"]);
    assert!(!unknown.status.success());
}

crate::on_both_backends!(
    a_disabled_user_is_locked_out_at_once,
    a_member_admin_manages_only_its_own_users,
    removing_a_member_from_a_group_ends_its_access,
);
