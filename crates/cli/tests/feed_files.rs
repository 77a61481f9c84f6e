//! Signed feed files, one code path for every product and channel: each
//! product's files are listed in its manifest, found by name (and never
//! under another product's path), signed, and served with the media type
//! of their format — on the REST API and in the web application alike.

use isx_domain::{Clock, UserRole};
use reqwest::StatusCode;
use sha2::Digest;

use crate::support::app::{Backend, TestApp};

/// What each format is served as (independent of the server's table).
fn expected_media(format: &str) -> &'static str {
    match format {
        "json" => "application/json",
        "ndjson" => "application/x-ndjson",
        "csv" => "text/csv; charset=utf-8",
        "stix" => "application/stix+json;version=2.1",
        "rpz" => "text/dns",
        "plain" | "cidr" | "nftables" | "ipset" => "text/plain; charset=utf-8",
        "bloom" => "application/octet-stream",
        other => panic!("a format the test does not know: {other}"),
    }
}

async fn post(app: &TestApp, path: &str, content_type: &str, body: String) {
    let res = app
        .req(reqwest::Method::POST, path, &app.operator.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    let _ = res.bytes().await;
}

async fn every_products_files_are_listed_found_signed_and_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = app.clock.now();
    let t = now.to_rfc3339();
    post(
        &app,
        "/api/v1/urls",
        "application/x-ndjson",
        "{\"url\":\"http://files.example/a\",\"threat\":\"phishing\",\"tlp\":\"green\"}\n".into(),
    )
    .await;
    post(
        &app,
        "/api/v1/botnet/events",
        "text/csv",
        format!(
            "product,ip,port,domain,family,status,tlp,time\n\
             c2,203.0.113.66,443,panel.evil.test,emotet,online,green,{t}\n\
             domains,,,dga-xyz.test,necurs,,green,{t}\n\
             infected,192.0.2.9,,,necurs,,amber,{t}\n"
        ),
    )
    .await;
    post(
        &app,
        "/api/v1/cleanfiles",
        "text/plain",
        format!("{}\n", "ab".repeat(32)),
    )
    .await;
    app.clock.set(now.add_secs(3 * 3600 + 60));
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("ctx");
    isx_app::url_files::produce_due(&ctx)
        .await
        .expect("URL files");
    isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("botnet files");
    isx_app::cleanfile_files::produce_due(&ctx)
        .await
        .expect("clean files");

    let cookie = app
        .session_cookie(app.a.member.id, "files-user", UserRole::Member)
        .await;
    let mut names: Vec<(&str, String)> = Vec::new();
    let mut a_batch: Vec<String> = Vec::new();
    for (product, web) in [
        ("urls", "urls"),
        ("botnet", "botnet"),
        ("cleanfiles", "cleanfiles"),
    ] {
        let manifest = app
            .get_json(&format!("/api/v1/feeds/{product}"), &app.a.token)
            .await;
        let files = manifest["files"].as_array().cloned().unwrap_or_default();
        assert!(!files.is_empty(), "{product}: files listed: {manifest}");
        for f in &files {
            let name = f["name"].as_str().expect("name");
            assert_eq!(f["product"], product, "{name}");
            assert!(
                f["signature"].as_str().is_some_and(|s| s.len() > 40),
                "{name} is signed"
            );
            let want = expected_media(f["format"].as_str().expect("format"));
            for (channel, req) in [
                (
                    "API",
                    app.get(&format!("/api/v1/feeds/{product}/{name}"), &app.a.token),
                ),
                (
                    "web",
                    app.get(&format!("/{web}/files/{name}"), "")
                        .header("cookie", &cookie),
                ),
            ] {
                let res = req.send().await.expect("send");
                assert_eq!(res.status(), StatusCode::OK, "{channel} {name}");
                let h = res.headers().clone();
                assert_eq!(h["content-type"], want, "{channel} {name}");
                assert_eq!(
                    h["x-isx-signature"],
                    f["signature"].as_str().unwrap_or(""),
                    "{channel} {name}"
                );
                let body = res.bytes().await.expect("body");
                assert_eq!(
                    hex::encode(sha2::Sha256::digest(&body)),
                    f["sha256"].as_str().unwrap_or(""),
                    "{channel} {name}: the bytes are the signed ones"
                );
            }
            if f["member"] == app.a.member.id.0 {
                a_batch.push(name.to_owned());
            }
            names.push((product, name.to_owned()));
        }
    }
    // The newest-of-a-kind aliases, typed the same on both channels.
    for (product, alias, want) in [
        ("botnet", "latest.rpz", "text/dns"),
        ("botnet", "latest-c2.nft", "text/plain; charset=utf-8"),
        ("cleanfiles", "latest.bloom", "application/octet-stream"),
        ("cleanfiles", "latest-full.csv", "text/csv; charset=utf-8"),
    ] {
        for req in [
            app.get(&format!("/api/v1/feeds/{product}/{alias}"), &app.a.token),
            app.get(&format!("/{product}/files/{alias}"), "")
                .header("cookie", &cookie),
        ] {
            let res = req.send().await.expect("send");
            assert_eq!(res.status(), StatusCode::OK, "{product} {alias}");
            assert_eq!(res.headers()["content-type"], want, "{product} {alias}");
        }
    }
    // A file is found only under its own product (before: the URL path
    // served any product's file).
    for (product, name) in &names {
        for other in ["urls", "botnet", "cleanfiles"]
            .into_iter()
            .filter(|o| o != product)
        {
            let res = app
                .get(&format!("/api/v1/feeds/{other}/{name}"), &app.a.token)
                .send()
                .await
                .expect("send");
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{name} under {other}");
            let res = app
                .get(&format!("/{other}/files/{name}"), "")
                .header("cookie", &cookie)
                .send()
                .await
                .expect("send");
            assert_eq!(
                res.status(),
                StatusCode::NOT_FOUND,
                "web: {name} under {other}"
            );
        }
    }
    // A's own botnet batch is A's: B neither lists nor fetches it.
    assert!(
        !a_batch.is_empty(),
        "A has a batch of its own (its infected machine)"
    );
    let b_manifest = app.get_json("/api/v1/feeds/botnet", &app.b.token).await;
    for n in &a_batch {
        assert!(
            !b_manifest.to_string().contains(n.as_str()),
            "{n} listed for B"
        );
        let res = app
            .get(&format!("/api/v1/feeds/botnet/{n}"), &app.b.token)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{n} served to B");
    }
}

crate::on_both_backends!(every_products_files_are_listed_found_signed_and_typed);
