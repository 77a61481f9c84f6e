//! The web application in a real browser (headless Chromium): sign in, see
//! the dashboard, create an API key on the keys page, use it on the API.

use isx_domain::{Clock, Login, UserRole};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::app::{Backend, TestApp};
use crate::support::browser::Browser;

const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// An operator administrator `admin` with [`ADMIN_PASSWORD`].
async fn add_admin(app: &TestApp) {
    isx_app::admin::create_user(
        app.store.as_ref(),
        app.clock.as_ref() as &dyn Clock,
        &Login::new("admin").expect("login"),
        ADMIN_PASSWORD,
        app.operator.member.id,
        UserRole::Admin,
    )
    .await
    .expect("admin user");
}

async fn sign_in_create_key_and_use_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let password = ADMIN_PASSWORD;
    add_admin(&app).await;

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
    // New keys are member keys unless their maker picks more (at most its own).
    let offered = b
        .execute("return Array.from(document.querySelectorAll('#key-role option')).map(o => o.value).join(',')")
        .await;
    assert_eq!(offered, "member,member-admin,staff,admin");
    b.execute("document.querySelector('#key-role').value = 'admin'; return true")
        .await;
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

/// The malicious-URL page in Chromium: import through the form, then the
/// map's points and the chart's bars must be exactly the data the API
/// reports for the same filter, drawn where the projection puts them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_map_and_chart_draw_the_data() {
    let geo = |n: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/geoip")
            .join(n)
    };
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.geoip_location = Some(geo("GeoIP2-City-Test.mmdb"));
        c.geoip_asn = Some(geo("GeoLite2-ASN-Test.mmdb"));
    })
    .await;
    add_admin(&app).await;
    let b = Browser::start().await;
    b.goto(&app.url("/login")).await;
    b.type_into("#login", "admin").await;
    b.type_into("#password", ADMIN_PASSWORD).await;
    b.click("#sign-in").await;
    b.wait_text("h1", |t| t == "Dashboard").await;

    b.goto(&app.url("/urls")).await;
    b.wait_text("#url-total", |t| t == "0").await;
    // The URLhaus sample plus rows whose source gives the location itself.
    let extra: String = (0..3)
        .map(|i| {
            format!(
                "\n\"http://extra{i}.example/x\",\"2026-11-21 10:00:00\",\"phishing\",\"203.0.113.{i}\",\"{}\",\"{}\"",
                -33.9 + f64::from(i),
                151.2
            )
        })
        .collect();
    let csv = format!("url,dateadded,threat,ip,latitude,longitude{extra}\n");
    b.type_into("#import-data", crate::urls::URLHAUS_CSV).await;
    b.click("#import-button").await;
    b.wait_text("#notice", |t| t.contains("4 new")).await;
    b.type_into("#import-data", &csv).await;
    b.click("#import-button").await;
    b.wait_text("#notice", |t| t.contains("3 new")).await;
    b.goto(&app.url("/urls")).await;
    b.wait_text("#url-total", |t| t == "7").await;
    // Issue 19: times read as people read them — local, with how long ago —
    // and the exact instant on hover.
    let times = b
        .execute(
            "return Array.from(document.querySelectorAll('#url-records time')).map(t => ({
                text: t.textContent, title: t.title, exact: t.getAttribute('datetime') }));",
        )
        .await;
    let times = times.as_array().expect("times");
    assert_eq!(times.len(), 7, "one per record: {times:?}");
    for t in times {
        let (text, title, exact) = (
            t["text"].as_str().unwrap_or(""),
            t["title"].as_str().unwrap_or(""),
            t["exact"].as_str().unwrap_or(""),
        );
        assert!(exact.starts_with("2026-") && exact.contains('T'), "{t}");
        assert_eq!(title, exact, "the exact instant on hover");
        assert!(
            text != exact && !text.contains('T') && text.contains('(') && text.contains("2026"),
            "readable: {t}"
        );
    }

    let stats: Value = app
        .get_json("/api/v1/urls/stats", &app.operator.token)
        .await;
    let drawn = b
        .execute(
            "return Array.from(document.querySelectorAll('#url-map circle.point')).map(c => ({
                ip: c.dataset.ip, cx: c.cx.baseVal.value, cy: c.cy.baseVal.value,
                lat: +c.dataset.lat, lon: +c.dataset.lon, urls: +c.dataset.urls,
                shown: c.getBoundingClientRect().width > 0 }));",
        )
        .await;
    let drawn = drawn.as_array().expect("circles");
    let points = stats["points"].as_array().expect("points");
    assert_eq!(drawn.len(), points.len(), "one circle per located address");
    assert_eq!(
        points.len(),
        6,
        "three from the GeoIP test databases, three from the source"
    );
    for p in points {
        let c = drawn
            .iter()
            .find(|c| c["ip"] == p["ip"])
            .unwrap_or_else(|| panic!("no circle for {p}"));
        let (lat, lon) = (
            p["latitude"].as_f64().expect("lat"),
            p["longitude"].as_f64().expect("lon"),
        );
        let (x, y) = ((lon + 180.0) * 2.0, (90.0 - lat) * 2.0);
        assert!(
            (c["cx"].as_f64().expect("cx") - x).abs() < 0.01,
            "{c} vs {p}"
        );
        assert!(
            (c["cy"].as_f64().expect("cy") - y).abs() < 0.01,
            "{c} vs {p}"
        );
        assert_eq!(c["urls"], p["urls"]);
        assert_eq!(c["shown"], true, "rendered with a size");
    }
    let london = drawn
        .iter()
        .find(|c| c["ip"] == "81.2.69.142")
        .expect("London");
    assert!((london["lat"].as_f64().unwrap_or(0.0) - 51.5142).abs() < 0.001);

    let bars = b
        .execute(
            "return Array.from(document.querySelectorAll('#threat-chart rect.bar')).map(r => ({
                threat: r.dataset.threat, count: +r.dataset.count, h: r.height.baseVal.value }));",
        )
        .await;
    let mut drawn_totals = std::collections::BTreeMap::<String, i64>::new();
    for bar in bars.as_array().expect("bars") {
        assert!(bar["h"].as_f64().unwrap_or(0.0) > 0.0, "{bar}");
        *drawn_totals
            .entry(bar["threat"].as_str().unwrap_or("").to_owned())
            .or_default() += bar["count"].as_i64().unwrap_or(0);
    }
    let api_totals: std::collections::BTreeMap<String, i64> = stats["by_threat"]
        .as_array()
        .expect("by_threat")
        .iter()
        .map(|t| {
            (
                t["threat"].as_str().unwrap_or("").to_owned(),
                t["count"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(drawn_totals, api_totals, "the chart adds up to the data");
    // Issue 19: no day label runs past the chart's edges (the last one was
    // clipped).
    let ticks = b
        .execute(
            "const svg = document.querySelector('#threat-chart');
             const w = svg.viewBox.baseVal.width;
             return Array.from(svg.querySelectorAll('text.tick')).map(t => {
                 const b = t.getBBox(); return { text: t.textContent, x: b.x, right: b.x + b.width, w: w }; });",
        )
        .await;
    let ticks = ticks.as_array().expect("ticks");
    assert!(ticks.len() >= 2, "{ticks:?}");
    for t in ticks {
        assert!(
            t["x"].as_f64() >= Some(0.0) && t["right"].as_f64() <= t["w"].as_f64(),
            "label inside the chart: {t}"
        );
    }
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    b.screenshot(&shots.join("urls.png")).await;

    // The dashboard counts what was seen in the last 24 hours, like the API.
    let since = app.clock.now().add_secs(-86_400).to_rfc3339();
    let day = app
        .get_json(
            &format!("/api/v1/urls/stats?since={since}"),
            &app.operator.token,
        )
        .await;
    b.goto(&app.url("/")).await;
    let shown = b.text("#urls-24h").await;
    assert_eq!(shown, day["total"].to_string(), "dashboard and API agree");
    b.goto(&app.url("/urls")).await;

    // A filter narrows the map, the chart and the table alike.
    b.execute("document.querySelector('#f-threat').value = 'phishing'; return null;")
        .await;
    b.click("#search").await;
    b.wait_text("#url-total", |t| t == "4").await;
    let n = b
        .execute("return document.querySelectorAll('#url-map circle.point').length;")
        .await;
    assert_eq!(
        n.as_u64(),
        Some(3),
        "only the phishing rows with a location"
    );
    assert!(b
        .text("#url-records")
        .await
        .contains("https://login.evil-bank.example.co.uk/signin"));
}

/// The constituency view in Chromium: a member sees its own victims drawn
/// (map circles and chart bars that add up to the API's summary), the
/// shared C2 list, and nothing of another member's networks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botnet_constituency_view_draws_only_my_data() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let now = app.clock.now();
    let mut csv = String::from("product,ip,port,family,latitude,longitude,time\n");
    for (i, (ip, family, lat, lon)) in [
        ("192.0.2.10", "emotet", 52.37, 4.90),
        ("192.0.2.11", "emotet", 51.92, 4.48),
        ("192.0.2.12", "qakbot", 53.22, 6.57),
        ("198.51.100.99", "emotet", 50.85, 4.35),
    ]
    .iter()
    .enumerate()
    {
        for k in 0..=i {
            csv.push_str(&format!(
                "infected,{ip},{},{family},{lat},{lon},{}\n",
                1000 + k,
                now.add_secs(-(k as i64) * 86_400 - 60).to_rfc3339()
            ));
        }
    }
    csv.push_str(&format!("iot,192.0.2.13,23,mirai,,,{}\n", now.to_rfc3339()));
    csv.push_str(&format!(
        "c2,203.0.113.66,443,emotet,,,{}\n",
        now.to_rfc3339()
    ));
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/botnet/events",
            &app.operator.token,
        )
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let summary = app.get_json("/api/v1/botnet/summary", &app.a.token).await;

    let b = analyst_of_a(&app).await;
    b.goto(&app.url("/botnet")).await;
    b.wait_text("h1", |t| t == "Botnet").await;
    assert_eq!(
        b.text("#infected-events").await,
        summary["infected_events"].to_string()
    );
    assert_eq!(b.text("#iot-events").await, "1");
    assert_eq!(b.text("#constituency").await, "192.0.2.0/24");

    let drawn = b
        .execute(
            "return Array.from(document.querySelectorAll('#botnet-map circle.point')).map(c => ({
                ip: c.dataset.ip, events: +c.dataset.urls, cx: c.cx.baseVal.value,
                shown: c.getBoundingClientRect().width > 0 }));",
        )
        .await;
    let drawn = drawn.as_array().expect("circles");
    let points = summary["points"].as_array().expect("points");
    assert_eq!(drawn.len(), 3, "three of A's addresses have coordinates");
    assert_eq!(drawn.len(), points.len());
    for p in points {
        let c = drawn
            .iter()
            .find(|c| c["ip"] == p["ip"])
            .unwrap_or_else(|| panic!("no circle for {p}"));
        assert_eq!(c["events"], p["events"]);
        let x = (p["longitude"].as_f64().expect("lon") + 180.0) * 2.0;
        assert!((c["cx"].as_f64().expect("cx") - x).abs() < 0.01);
        assert_eq!(c["shown"], true);
    }
    let bars = b
        .execute(
            "return Array.from(document.querySelectorAll('#botnet-chart rect.bar')).map(r => ({
                family: r.dataset.series, count: +r.dataset.count, h: r.height.baseVal.value }));",
        )
        .await;
    let mut by_family = std::collections::BTreeMap::<String, u64>::new();
    for bar in bars.as_array().expect("bars") {
        assert!(bar["h"].as_f64().unwrap_or(0.0) > 0.0);
        *by_family
            .entry(bar["family"].as_str().unwrap_or("").to_owned())
            .or_default() += bar["count"].as_u64().unwrap_or(0);
    }
    // A: 1 + 2 emotet, 3 qakbot, 1 mirai (B's 4 emotet are not A's).
    assert_eq!(
        by_family,
        std::collections::BTreeMap::from([
            ("emotet".to_owned(), 3),
            ("mirai".to_owned(), 1),
            ("qakbot".to_owned(), 3)
        ])
    );
    let c2_rows = b
        .execute("return document.querySelectorAll('#c2-list tr').length - 1;")
        .await;
    assert_eq!(c2_rows, 1);
    let html = b.source().await;
    assert!(
        !html.contains("198.51.100.99"),
        "B's victim never reaches A's page"
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    b.screenshot(&shots.join("botnet.png")).await;
}

/// The clean-files page in Chromium: pasted hashes (known, unknown,
/// malformed) and a file picked from disk, hashed by the browser's own
/// SHA-256 and never uploaded, are answered like the API answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_file_lookup_page_hashes_files_in_the_browser() {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let picked = dir.path().join("setup.exe");
    let content = b"MZ\x90\x00 a vendor's installer".repeat(500);
    std::fs::write(&picked, &content).expect("write");
    let picked_sha = hex::encode(Sha256::digest(&content));
    let mut csv = crate::cleanfiles::csv_of(0..20);
    csv.push_str(&format!(
        "{picked_sha},,,{},setup.exe,Installer,2.1,Contoso\n",
        content.len()
    ));
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/cleanfiles?source=vendor",
            &app.operator.token,
        )
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);

    let b = analyst_of_a(&app).await;
    assert_eq!(b.text("#clean-files-count").await, "21");
    b.goto(&app.url("/cleanfiles")).await;
    b.wait_text("h1", |t| t == "Clean files").await;
    assert_eq!(b.text("#clean-files").await, "21");
    let known = crate::cleanfiles::generated(4);
    let unknown = crate::cleanfiles::generated(500);
    b.type_into(
        "#hashes",
        &format!(
            "{}  kernel.dll\n{}\nnot-a-hash\n",
            known.md5, unknown.sha256
        ),
    )
    .await;
    b.type_into("#hash-files", picked.to_str().expect("path"))
        .await;
    b.wait_text("#hash-status", |t| t.contains("1 file(s) hashed"))
        .await;
    b.click("#lookup-submit").await;
    b.wait_text("#known-count", |t| t == "2").await;
    assert_eq!(b.text("#unknown-count").await, "1");
    let rows = b
        .execute(
            "return Array.from(document.querySelectorAll('#lookup-results tr[data-status]')).map(r => ({
                status: r.dataset.status, hash: r.dataset.hash, cells: Array.from(r.cells).map(c => c.textContent) }));",
        )
        .await;
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0]["status"], "known-good");
    assert_eq!(rows[0]["cells"][2], "kernel.dll");
    assert_eq!(rows[0]["cells"][3], "file-4.dll");
    assert_eq!(rows[1]["status"], "unknown");
    assert_eq!(rows[2]["status"], "invalid");
    assert_eq!(
        rows[3]["status"], "known-good",
        "the browser's SHA-256 of the file"
    );
    assert_eq!(rows[3]["hash"], picked_sha);
    assert_eq!(rows[3]["cells"][4], "Contoso Installer 2.1");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    b.screenshot(&shots.join("cleanfiles.png")).await;
}

/// A web user of member A ("analyst-a"), signed in in a new browser that
/// shows the dashboard.
async fn analyst_of_a(app: &TestApp) -> Browser {
    crate::support::browser::signed_in(app, app.a.member.id, "analyst-a", ADMIN_PASSWORD).await
}
