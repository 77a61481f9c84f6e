//! Botnet feeds end to end: streaming ingest with acknowledgements, the
//! tailoring of victim data to the members it concerns on every channel
//! (events, stream, files, web), resumable Server-Sent Events, hourly
//! batches, firewall lists checked by `nft -c` and an RPZ zone loaded by a
//! real resolver (unbound).

use std::collections::BTreeSet;
use std::time::Duration;

use isx_domain::{Clock, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cli::isx;
use crate::support::app::{Backend, TestApp};
use crate::support::dns::Resolver;

fn line(product: &str, ip: &str, port: u32, family: &str, at: Timestamp) -> String {
    format!(
        "{{\"product\":\"{product}\",\"time\":\"{}\",\"ip\":\"{ip}\",\"port\":{port},\"family\":\"{family}\",\"dst_ip\":\"203.0.113.250\",\"dst_port\":80}}\n",
        at.to_rfc3339()
    )
}

/// A CTIP line for 192.0.2.200 (in A's network and in C's).
fn ctip(at: Timestamp) -> String {
    format!(
        "{{\"DataFeed\":\"CTIP-Infected\",\"SourcedFrom\":\"SinkHoleMessage\",\"DateTimeReceivedUtcTxt\":\"{}\",\"Malware\":\"Necurs\",\"ThreatCode\":\"B106-NECURS\",\"ThreatConfidence\":\"Medium\",\"TotalEncounters\":4,\"TLP\":\"Amber\",\"SourceIp\":\"192.0.2.200\",\"SourcePort\":61000,\"DestinationIp\":\"203.0.113.251\",\"DestinationPort\":80,\"SourceIpInfo\":{{\"SourceIpAsnNumber\":64496,\"SourceIpCountryCode\":\"NL\"}}}}\n",
        at.to_rfc3339()
    )
}

async fn post(app: &TestApp, token: &str, content_type: &str, body: String) -> reqwest::Response {
    app.req(reqwest::Method::POST, "/api/v1/botnet/events", token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("send")
}

/// The acknowledgement lines of an ingest response.
async fn acks(res: reqwest::Response) -> Vec<Value> {
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("body");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("ack JSON"))
        .collect()
}

async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    // Ids are opaque: the first page has no `after`, each next one the
    // last id of the page before.
    let mut after = String::new();
    loop {
        let page = app
            .get_json(
                &format!("/api/v1/botnet/events?limit=5000{after}&{query}"),
                token,
            )
            .await;
        let page = page.as_array().expect("array").clone();
        if page.is_empty() {
            return all;
        }
        let last = page.last().and_then(|e| e["id"].as_i64()).expect("id");
        after = format!("&after={last}");
        all.extend(page);
    }
}

fn ips(list: &[Value], product: &str) -> BTreeSet<String> {
    list.iter()
        .filter(|e| e["product"] == product)
        .filter_map(|e| e["ip"].as_str().map(str::to_owned))
        .collect()
}

async fn add_member(app: &TestApp, name: &str, cidr: &str) -> (isx_domain::Member, String) {
    let c = app.clock.as_ref() as &dyn Clock;
    let m = isx_app::admin::create_member(
        app.store.as_ref(),
        c,
        &isx_domain::NewMember {
            name: isx_domain::MemberName::new(name).expect("name"),
            kind: isx_domain::MemberKind::Enterprise,
            country: None,
            tier: isx_domain::Tier::Standard,
            clearance: isx_domain::Clearance::None,
            constituency: isx_domain::Constituency {
                cidrs: vec![cidr.parse().expect("cidr")],
                ..Default::default()
            },
        },
    )
    .await
    .expect("member");
    let (_, token) = isx_app::admin::create_api_key(
        app.store.as_ref(),
        c,
        None,
        &isx_app::admin::KeySpec::cli(&m, "t"),
    )
    .await
    .expect("key");
    (m, token.expose())
}

async fn ingest_tailoring_and_policy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // C is a customer inside A's network: both receive what concerns C.
    let (c_member, c_token) = add_member(&app, "Member C", "192.0.2.128/25").await;
    let op = app.operator.token.clone();
    let now = app.clock.now();

    assert_eq!(
        post(&app, &app.a.token, "application/x-ndjson", ctip(now))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "members do not ingest"
    );
    assert_eq!(
        post(&app, &op, "application/xml", "<x/>".into())
            .await
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let bad = post(
        &app,
        &op,
        "application/x-ndjson",
        format!(
            "{{\"product\":\"infected\",\"ip\":\"nope\"}}\n{}",
            ctip(now)
        ),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["pointer"], "/line/1", "{problem}");
    assert!(
        events(&app, &op, "").await.is_empty(),
        "a refused first batch stores nothing"
    );

    // 6,003 events in one streamed request: stored batch by batch as the
    // body arrives (at most 5,000 each), one acknowledgement per batch.
    let mut body = ctip(now);
    for i in 0..6000u32 {
        body.push_str(&line(
            "infected",
            &format!("192.0.2.{}", i % 100),
            1024 + i,
            "emotet",
            now,
        ));
    }
    body.push_str(&line("infected", "198.51.100.7", 4444, "qakbot", now));
    body.push_str(&format!(
        "{{\"product\":\"iot\",\"ip\":\"203.0.113.5\",\"family\":\"mirai\",\"device_type\":\"camera\",\"time\":\"{}\"}}\n",
        now.to_rfc3339()
    ));
    let acked = acks(post(&app, &op, "application/x-ndjson", body.clone()).await).await;
    assert!(acked.len() >= 2, "{acked:?}");
    assert_eq!(
        acked
            .iter()
            .map(|a| a["accepted"].as_u64().expect("n"))
            .sum::<u64>(),
        6003
    );
    for w in acked.windows(2) {
        assert_eq!(
            w[0]["last_id"].as_i64().map(|i| i + 1),
            w[1]["first_id"].as_i64(),
            "ids ascend across batches"
        );
        assert_eq!(
            w[0]["last_line"].as_u64().map(|l| l + 1),
            w[1]["first_line"].as_u64()
        );
        assert!(w[0]["accepted"].as_u64() <= Some(5000));
    }
    assert_eq!(acked.last().expect("ack")["last_line"], 6003);
    // C2 servers (one TLP:RED) and a domain, as CSV.
    let csv = format!(
        "product,ip,port,domain,family,status,tlp,time\n\
         c2,203.0.113.66,443,panel.evil.test,emotet,online,amber,{t}\n\
         c2,203.0.113.67,443,,emotet,online,red,{t}\n\
         domains,,,dga-xyz.test,necurs,,green,{t}\n",
        t = now.to_rfc3339()
    );
    let acked = acks(post(&app, &op, "text/csv", csv.clone()).await).await;
    assert_eq!(acked[0]["accepted"], 3);

    // Sending the same again stores nothing.
    let again = acks(post(&app, &op, "application/x-ndjson", body).await).await;
    assert_eq!(
        again
            .iter()
            .map(|a| a["accepted"].as_u64().expect("n"))
            .sum::<u64>(),
        0
    );
    assert_eq!(
        again
            .iter()
            .map(|a| a["duplicates"].as_u64().expect("n"))
            .sum::<u64>(),
        6003
    );
    // A bad row in the second batch: the first is stored and acknowledged,
    // the stream stops with the line, the rest is not stored.
    let mut body = String::new();
    for i in 0..5000u32 {
        body.push_str(&line("infected", "192.0.2.101", 20_000 + i, "pikabot", now));
    }
    body.push_str(&line("infected", "192.0.2.102", 1, "pikabot", now));
    body.push_str("{\"product\":\"infected\",\"ip\":\"192.0.2.103\",\"port\":99999}\n");
    let acked = acks(post(&app, &op, "application/x-ndjson", body).await).await;
    let (last, stored) = acked.split_last().expect("acks");
    assert!(stored.iter().all(|a| a["error"].is_null()) && !stored.is_empty());
    assert_eq!(last["accepted"], 0);
    assert!(
        last["error"].as_str().expect("error").contains("line 5002"),
        "{last}"
    );
    let kept: u64 = stored
        .iter()
        .map(|a| a["accepted"].as_u64().expect("n"))
        .sum();
    assert!(kept < 5001, "the batch with the bad line is not stored");
    assert_eq!(
        stored.last().expect("ack")["last_line"].as_u64(),
        Some(kept),
        "every line before it is"
    );

    // Tailoring: A has its network, C its part of it, B its own.
    let a = events(&app, &app.a.token, "").await;
    let c = events(&app, &c_token, "").await;
    let b = events(&app, &app.b.token, "").await;
    let all = events(&app, &op, "").await;
    assert_eq!(all.len() as u64, 6003 + 3 + kept);
    let a_ips = ips(&a, "botnet-infected");
    assert!(
        a_ips.iter().all(|ip| ip.starts_with("192.0.2.")),
        "{a_ips:?}"
    );
    assert!(a_ips.contains("192.0.2.200"), "{a_ips:?}");
    assert!(
        a_ips.contains("192.0.2.101") && !a_ips.contains("192.0.2.103"),
        "{a_ips:?}"
    );
    assert_eq!(
        ips(&c, "botnet-infected"),
        BTreeSet::from(["192.0.2.200".to_owned()])
    );
    assert_eq!(
        ips(&b, "botnet-infected"),
        BTreeSet::from(["198.51.100.7".to_owned()])
    );
    assert!(
        ips(&a, "botnet-iot").is_empty() && ips(&b, "botnet-iot").is_empty(),
        "IoT outside every constituency"
    );
    assert_eq!(ips(&all, "botnet-iot").len(), 1, "the operator sees it");
    for list in [&a, &b, &c] {
        assert_eq!(
            ips(list, "botnet-c2"),
            BTreeSet::from(["203.0.113.66".to_owned()]),
            "C2 for every member, TLP:RED for none"
        );
        assert_eq!(
            list.iter()
                .filter(|e| e["product"] == "botnet-domains")
                .count(),
            1
        );
    }
    // A member learns that an event concerns it, not whom else it concerns.
    let shared = a
        .iter()
        .find(|e| e["ip"] == "192.0.2.200")
        .expect("CTIP event");
    assert_eq!(shared["recipients"], serde_json::json!([app.a.member.id.0]));
    assert_eq!(shared["family"], "necurs");
    assert_eq!(shared["count"], 4);
    let op_view = all
        .iter()
        .find(|e| e["ip"] == "192.0.2.200")
        .expect("CTIP event");
    let mut both = vec![app.a.member.id.0, c_member.id.0];
    both.sort_unstable();
    assert_eq!(op_view["recipients"], serde_json::json!(both));
    // Filters and the summary agree with the list.
    let only = events(&app, &app.a.token, "products=c2,domains").await;
    assert_eq!(only.len(), 2);
    let summary = app.get_json("/api/v1/botnet/summary", &app.a.token).await;
    let a_infected = a
        .iter()
        .filter(|e| e["product"] == "botnet-infected")
        .count() as u64;
    assert_eq!(summary["infected_events"].as_u64(), Some(a_infected));
    assert_eq!(summary["victim_ips"].as_u64(), Some(a_ips.len() as u64));
    assert_eq!(summary["c2"].as_array().map(Vec::len), Some(1));
    let b_summary = app.get_json("/api/v1/botnet/summary", &app.b.token).await;
    assert_eq!(b_summary["infected_events"], 1);
    let metrics = app.get_text("/metrics", &app.operator.token).await;
    for expected in [
        format!("isx_botnet_events_ingested_total {}", 6003 + 3 + kept),
        "isx_botnet_events_duplicate_total 6003".to_owned(),
        "isx_botnet_matcher_builds_total 1".to_owned(),
    ] {
        assert!(metrics.contains(&expected), "{expected} in\n{metrics}");
    }
    // TAXII serves each member exactly what the REST API does: its own
    // victims (an indicator of the compromised address and a sighting of
    // it), every member the C2 servers and domains, TLP:RED to nobody.
    for (token, list) in [
        (&app.a.token, &a),
        (&c_token, &c),
        (&app.b.token, &b),
        (&op, &all),
    ] {
        let objects = taxii_botnet(&app, token).await;
        let victims = |product: &str| -> BTreeSet<String> {
            objects
                .iter()
                .filter(|o| o["type"] == "sighting")
                .filter(|o| {
                    o["extensions"]
                        .to_string()
                        .contains(&format!("\"product\":\"{product}\""))
                })
                .filter_map(|o| {
                    o["extensions"]
                        .as_object()
                        .and_then(|x| x.values().next())
                        .and_then(|x| x["src_ip"].as_str())
                        .map(str::to_owned)
                })
                .collect()
        };
        assert_eq!(victims("botnet-infected"), ips(list, "botnet-infected"));
        assert_eq!(victims("botnet-iot"), ips(list, "botnet-iot"));
        let victim_events = list
            .iter()
            .filter(|e| e["product"] == "botnet-infected" || e["product"] == "botnet-iot")
            .count();
        let shared_events = list.len() - victim_events;
        assert_eq!(
            objects.len(),
            2 * victim_events + shared_events,
            "one object per C2/domain event, two per victim event"
        );
        let c2: BTreeSet<&str> = objects
            .iter()
            .filter(|o| o["labels"][0] == "botnet-c2")
            .filter_map(|o| o["pattern"].as_str())
            .collect();
        assert_eq!(c2.len(), ips(list, "botnet-c2").len(), "{c2:?}");
        assert!(
            c2.iter().all(|p| !p.contains("203.0.113.67")) || token == &op,
            "TLP:RED C2 only for the operator"
        );
    }

    // Bad filters are 422 problems.
    let res = app
        .get("/api/v1/botnet/events?products=worms", &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every object of the `botnet` TAXII collection the caller may see, paged
/// with `next`; checks that `date_added` values are distinct and ascending.
async fn taxii_botnet(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = "/taxii2/isx/collections/botnet/objects/?limit=2500".to_owned();
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let res = app
            .get(&path, token)
            .header("Accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .expect("taxii");
        assert_eq!(res.status(), StatusCode::OK);
        let env: Value = res.json().await.expect("envelope");
        out.extend(env["objects"].as_array().cloned().unwrap_or_default());
        let manifest = app
            .get(&path.replace("/objects/", "/manifest/"), token)
            .header("Accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .expect("manifest")
            .json::<Value>()
            .await
            .expect("manifest json");
        added.extend(
            manifest["objects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["date_added"].as_str().map(str::to_owned)),
        );
        if env["more"] != true {
            break;
        }
        next = env["next"].as_str().map(str::to_owned);
    }
    assert!(
        added.windows(2).all(|w| w[0] < w[1]),
        "date_added distinct and ascending"
    );
    out
}

/// Reads Server-Sent Events until `n` events arrived (or the time is up).
async fn read_sse(
    res: &mut reqwest::Response,
    n: usize,
    wait: Duration,
) -> Vec<(i64, String, Value)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < n {
        let chunk = match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for l in block.lines() {
                if let Some(v) = l.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = l.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = l.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if let Some(id) = id {
                out.push((id, event, serde_json::from_str(&data).expect("event JSON")));
            }
        }
    }
    out
}

async fn stream_resumes_without_loss(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let now = app.clock.now();
    let open = |last: Option<i64>| {
        let mut r = app.get("/api/v1/botnet/stream?products=infected", &app.a.token);
        if let Some(id) = last {
            r = r.header("last-event-id", id.to_string());
        }
        r.send()
    };
    let mut res = open(None).await.expect("connect");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/event-stream"));
    let batch = |from: u32, n: u32| {
        (from..from + n)
            .map(|i| {
                line("infected", "192.0.2.9", i, "emotet", now)
                    + &line("infected", "198.51.100.9", i, "emotet", now)
            })
            .collect::<String>()
    };
    acks(post(&app, &op, "application/x-ndjson", batch(0, 20)).await).await;
    let mut first = read_sse(&mut res, 12, Duration::from_secs(15)).await;
    assert!(first.len() >= 12, "events arrive as they are stored");
    // The client handled 12 of them when the connection broke.
    first.truncate(12);
    drop(res);
    acks(post(&app, &op, "application/x-ndjson", batch(20, 10)).await).await;
    let last = first.last().map(|e| e.0).expect("an id");
    let mut res = open(Some(last)).await.expect("reconnect");
    let rest = read_sse(&mut res, 18, Duration::from_secs(15)).await;
    assert_eq!(
        rest.len(),
        18,
        "the 8 not yet read and the 10 sent while away"
    );
    // Nothing more: no repeats.
    let extra = read_sse(&mut res, 1, Duration::from_millis(1500)).await;
    assert!(extra.is_empty(), "{extra:?}");
    let got: Vec<i64> = first.iter().chain(&rest).map(|e| e.0).collect();
    let unique: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "no event twice");
    // Exactly A's events, in the order the API lists them, none of B's.
    let listed: Vec<i64> = events(&app, &app.a.token, "products=infected")
        .await
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(got, listed, "the same events in the same order");
    // The ids are opaque: B's 30 events in between leave no gaps to
    // count (stored ids would run 1, 3, 5, …), and they are not ordered.
    assert!(
        got.windows(2).any(|w| w[0] > w[1]) && got.windows(2).any(|w| w[0] < w[1]),
        "{got:?}"
    );
    assert!(
        got.windows(2).all(|w| (w[0] - w[1]).abs() > 1_000),
        "{got:?}"
    );
    // Paging with `after` takes an opaque id too.
    let after = app
        .get_json(
            &format!("/api/v1/botnet/events?products=infected&after={}", got[9]),
            &app.a.token,
        )
        .await;
    let paged: Vec<i64> = after
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(paged, got[10..].to_vec());
    assert!(first
        .iter()
        .chain(&rest)
        .all(|e| e.1 == "botnet-infected" && e.2["ip"] == "192.0.2.9"));
    // A bad Last-Event-ID is a 422.
    let res = app
        .get("/api/v1/botnet/stream", &app.a.token)
        .header("last-event-id", "abc")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Red-team hole 3 (2026-12): a stream kept delivering victim data after
/// its key was revoked. Events now go out only after the stream's key was
/// checked again, and a revoked key ends the stream.
async fn a_revoked_key_ends_its_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let now = app.clock.now();
    let created: Value = app
        .post_json("/api/v1/keys", &app.a.token, &json!({"name": "stream"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let token = created["token"].as_str().expect("token").to_owned();
    let key_id = created["key_id"].as_str().expect("key id").to_owned();
    let mut res = app
        .get("/api/v1/botnet/stream?products=infected", &token)
        .send()
        .await
        .expect("connect");
    assert_eq!(res.status(), StatusCode::OK);
    let victim = |port: u32| line("infected", "192.0.2.9", port, "emotet", now);
    acks(post(&app, &op, "application/x-ndjson", victim(1)).await).await;
    let before = read_sse(&mut res, 1, Duration::from_secs(15)).await;
    assert_eq!(before.len(), 1, "the stream works while the key does");
    let revoked = app
        .req(
            Method::DELETE,
            &format!("/api/v1/keys/{key_id}"),
            &app.a.token,
        )
        .send()
        .await
        .expect("send");
    assert_eq!(revoked.status(), StatusCode::OK);
    acks(post(&app, &op, "application/x-ndjson", victim(2) + &victim(3)).await).await;
    let after = read_sse(&mut res, 1, Duration::from_secs(8)).await;
    assert!(after.is_empty(), "delivered after revocation: {after:?}");
    // And the stream has ended, rather than merely gone quiet.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match res.chunk().await {
                Ok(Some(c)) if c.starts_with(b":") => continue,
                other => return other.map(|c| c.is_none()).unwrap_or(true),
            }
        }
    })
    .await
    .expect("the stream ends within its recheck interval");
    assert!(end, "no event may follow");
}

async fn batches_firewall_lists_and_rpz(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    // Stand after the slots the scheduler produced at start.
    let t0 = Timestamp::from_secs((app.clock.now().as_secs() / 3600 + 1) * 3600 + 60);
    app.clock.set(t0);
    let mut body = String::new();
    for k in 0..3 {
        body.push_str(&line(
            "infected",
            "192.0.2.10",
            5555,
            "emotet",
            t0.add_secs(k * 10),
        ));
    }
    body.push_str(&line("infected", "198.51.100.10", 5555, "emotet", t0));
    acks(post(&app, &op, "application/x-ndjson", body).await).await;
    let csv = format!(
        "product,ip,port,domain,family,status,time\n\
         c2,203.0.113.66,443,panel.evil.test,emotet,online,{t}\n\
         c2,203.0.113.67,443,,emotet,online,{t}\n\
         c2,203.0.113.68,443,,emotet,offline,{t}\n\
         c2,2001:db8:ffff::66,8080,,qakbot,online,{t}\n\
         domains,,,dga-xyz.test,necurs,,{t}\n",
        t = t0.to_rfc3339()
    );
    acks(post(&app, &op, "text/csv", csv).await).await;
    app.clock.set(t0.add_secs(3600));
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("feed context");
    let runs = isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("produce");
    assert!(
        runs.iter().any(|r| r.product == "botnet-hourly"),
        "{runs:?}"
    );
    assert!(
        isx_app::botnet_files::produce_due(&ctx)
            .await
            .expect("again")
            .is_empty(),
        "no slot twice"
    );

    let manifest = |token: String| {
        let app = &app;
        async move {
            app.get_json("/api/v1/feeds/botnet", &token).await["files"]
                .as_array()
                .expect("files")
                .clone()
        }
    };
    let a_files = manifest(app.a.token.clone()).await;
    let b_files = manifest(app.b.token.clone()).await;
    let name_of = |files: &[Value], pat: &str| {
        files
            .iter()
            .filter(|f| f["format"] == "json")
            .filter_map(|f| f["name"].as_str())
            .filter(|n| n.contains(pat))
            .max()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no file like {pat}"))
    };
    let a_batch = name_of(&a_files, &format!("-m{}-hourly-", app.a.member.id.0));
    assert!(a_batch.ends_with(".json"));
    assert!(
        !b_files.iter().any(|f| f["name"] == a_batch.as_str()),
        "B is not offered A's batch"
    );
    let res = app
        .get(&format!("/api/v1/feeds/botnet/{a_batch}"), &app.b.token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "nor can it fetch it");
    let res = app
        .get(&format!("/api/v1/feeds/botnet/{a_batch}"), &app.a.token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let sha = res.headers()["x-isx-sha256"]
        .to_str()
        .expect("sha")
        .to_owned();
    let bytes = res.bytes().await.expect("body");
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        sha
    );
    let rows: Vec<Value> = serde_json::from_slice(&bytes).expect("JSON array");
    assert_eq!(
        rows.len(),
        1,
        "three sightings of one (ip, port, family, destination): one row"
    );
    assert_eq!(rows[0]["ip"], "192.0.2.10");
    assert_eq!(rows[0]["count"], 3);
    assert_eq!(rows[0]["first_seen"], t0.to_rfc3339());
    assert_eq!(rows[0]["last_seen"], t0.add_secs(20).to_rfc3339());

    // Firewall lists: current C2 addresses (not the offline one), aggregated.
    let text = |name: &str| {
        let app = &app;
        let name = name.to_owned();
        async move {
            let res = app
                .get(&format!("/api/v1/feeds/botnet/{name}"), &app.a.token)
                .send()
                .await
                .expect("send");
            assert_eq!(res.status(), StatusCode::OK, "{name}");
            res.text().await.expect("text")
        }
    };
    let plain = text("latest-c2.ips.txt").await;
    let listed: Vec<&str> = plain.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        listed,
        ["203.0.113.66", "203.0.113.67", "2001:db8:ffff::66"]
    );
    assert_eq!(
        text("latest-c2.cidr.txt")
            .await
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["203.0.113.66/31", "2001:db8:ffff::66/128"]
    );
    let nft = text("latest-c2.nft").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let nft_path = dir.path().join("c2.nft");
    std::fs::write(&nft_path, &nft).expect("write");
    let check = std::process::Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(&nft_path)
        .output()
        .expect("run nft");
    assert!(
        check.status.success(),
        "nft -c: {}\n{nft}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(text("latest-c2.ipset")
        .await
        .contains("add isx-c2-v4 203.0.113.66/31 -exist"));

    // The RPZ zone in a real resolver: listed names are NXDOMAIN, others resolve.
    let zone = text("latest.rpz").await;
    let zone_path = dir.path().join("rpz.zone");
    std::fs::write(&zone_path, &zone).expect("write");
    let resolver = Resolver::start(
        dir.path(),
        &zone_path,
        &[
            ("www.good.test", "192.0.2.10"),
            ("panel.evil.test", "192.0.2.66"),
            ("www.panel.evil.test", "192.0.2.66"),
            ("dga-xyz.test", "192.0.2.67"),
            ("c2-by-address.test", "203.0.113.66"),
        ],
    );
    let status = |n: &str| resolver.status(n).expect("dig answered");
    assert_eq!(
        status("www.good.test"),
        ("NOERROR".into(), vec!["192.0.2.10".into()])
    );
    assert_eq!(status("panel.evil.test").0, "NXDOMAIN");
    assert_eq!(
        status("www.panel.evil.test").0,
        "NXDOMAIN",
        "subdomains too"
    );
    assert_eq!(status("dga-xyz.test").0, "NXDOMAIN");
    assert_eq!(
        status("c2-by-address.test").0,
        "NXDOMAIN",
        "answers that point at a C2 address"
    );
    drop(resolver);

    // The serial moves with the content, and only then.
    let serial = |z: &str| -> i64 {
        z.lines()
            .find(|l| l.contains(" SOA "))
            .and_then(|l| l.split('(').nth(1))
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .expect("serial")
    };
    let s1 = serial(&zone);
    app.clock.set(t0.add_secs(2 * 3600));
    isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("produce");
    let s2 = serial(&text("latest.rpz").await);
    assert_eq!(s2, s1, "unchanged content keeps its serial");
    acks(
        post(
            &app,
            &op,
            "text/csv",
            format!(
                "product,domain,family,time\ndomains,new-dga.test,necurs,{}\n",
                t0.add_secs(2 * 3600 + 5).to_rfc3339()
            ),
        )
        .await,
    )
    .await;
    app.clock.set(t0.add_secs(3 * 3600));
    isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("produce");
    let z3 = text("latest.rpz").await;
    assert!(serial(&z3) > s2 && z3.contains("new-dga.test CNAME ."));
}

/// Issue 21 part 1 (age): a member that registered age recipients gets
/// its own batches encrypted to them (`application/age`), which Debian's
/// `age` decrypts to exactly the manifest's SHA-256; another member's key
/// cannot; shared files stay plain; only the member's administrators set
/// the keys, and a wrong key is a 422.
async fn a_members_own_files_are_encrypted_to_its_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let dir = tempfile::tempdir().expect("dir");
    let keygen = |name: &str| {
        let path = dir.path().join(name);
        let out = std::process::Command::new("age-keygen")
            .arg("-o")
            .arg(&path)
            .output()
            .expect("age-keygen (Debian's age)");
        assert!(out.status.success());
        let text = std::fs::read_to_string(&path).expect("key");
        let public = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key")
            .to_owned();
        (path, public)
    };
    let (a_key, a_pub) = keygen("a.txt");
    let (a2_key, a2_pub) = keygen("a2.txt");
    let (b_key, _) = keygen("b.txt");
    let admin_a = app.member_admin_key(&app.a.member).await;
    // A plain key may not set them; a wrong one is refused and stores nothing.
    let res = app
        .req(reqwest::Method::PUT, "/api/v1/me/recipients", &app.a.token)
        .json(&serde_json::json!({"recipients": [a_pub]}))
        .send()
        .await
        .expect("plain key");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .req(reqwest::Method::PUT, "/api/v1/me/recipients", &admin_a)
        .json(&serde_json::json!({"recipients": [a_pub, "age1notakey"]}))
        .send()
        .await
        .expect("bad key");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app
        .store
        .recipients(app.a.member.id)
        .await
        .expect("r")
        .is_empty());
    let res = app
        .req(reqwest::Method::PUT, "/api/v1/me/recipients", &admin_a)
        .json(&serde_json::json!({"recipients": [a_pub, a2_pub]}))
        .send()
        .await
        .expect("set");
    assert_eq!(res.status(), StatusCode::OK);
    let got = app.get_json("/api/v1/me/recipients", &app.a.token).await;
    assert_eq!(got["recipients"].as_array().map(Vec::len), Some(2));
    // More than ten, or not a list of strings: refused, nothing changed.
    let eleven: Vec<String> = (0..11).map(|_| a_pub.clone()).collect();
    for body in [
        serde_json::json!({"recipients": eleven}),
        serde_json::json!({"recipients": [7]}),
        serde_json::json!({"recipients": [a_pub], "extra": 1}),
    ] {
        let res = app
            .req(reqwest::Method::PUT, "/api/v1/me/recipients", &admin_a)
            .json(&body)
            .send()
            .await
            .expect("bad body");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert_eq!(
        app.store
            .recipients(app.a.member.id)
            .await
            .expect("r")
            .len(),
        2
    );
    // The audit log names the keys set (a swap shows).
    let audited: Vec<String> = app
        .store
        .audit_events(&isx_store::AuditQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.event.action == "recipients.put" && e.event.outcome == "200")
        .map(|e| e.event.target)
        .collect();
    assert!(audited.iter().any(|t| t.contains(&a2_pub)), "{audited:?}");

    let t0 = Timestamp::from_secs((app.clock.now().as_secs() / 3600 + 1) * 3600 + 60);
    app.clock.set(t0);
    let body = line("infected", "192.0.2.10", 5555, "emotet", t0)
        + &line("infected", "198.51.100.10", 5555, "emotet", t0);
    acks(post(&app, &op, "application/x-ndjson", body).await).await;
    let csv = format!(
        "product,ip,port,domain,family,status,time\nc2,203.0.113.66,443,,emotet,online,{t}\n",
        t = t0.to_rfc3339()
    );
    acks(post(&app, &op, "text/csv", csv).await).await;
    app.clock.set(t0.add_secs(3600));
    let config = isx_server::ServerConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        app.data_dir.path().to_owned(),
    );
    let ctx =
        isx_app::feeds::FeedContext::new(&config.settings(), app.store.clone(), app.clock.clone())
            .expect("feed context");
    isx_app::botnet_files::produce_due(&ctx)
        .await
        .expect("produce");
    let name_for = |files: &[Value], member: i64| {
        files
            .iter()
            .filter(|f| f["format"] == "json")
            .filter_map(|f| f["name"].as_str())
            .filter(|n| n.contains(&format!("-m{member}-hourly-")))
            .max()
            .map(str::to_owned)
            .expect("a batch")
    };
    let a_files = app.get_json("/api/v1/feeds/botnet", &app.a.token).await["files"]
        .as_array()
        .expect("files")
        .clone();
    let a_batch = name_for(&a_files, app.a.member.id.0);
    let res = app
        .get(&format!("/api/v1/feeds/botnet/{a_batch}"), &app.a.token)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/age");
    let sha = res.headers()["x-isx-sha256"]
        .to_str()
        .expect("sha")
        .to_owned();
    let sealed = res.bytes().await.expect("body");
    assert!(sealed.starts_with(b"age-encryption.org/v1"));
    assert!(!String::from_utf8_lossy(&sealed).contains("192.0.2.10"));
    let file = dir.path().join("batch.json.age");
    std::fs::write(&file, &sealed).expect("write");
    let decrypt = |key: &std::path::Path| {
        std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(key)
            .arg(&file)
            .output()
            .expect("age")
    };
    for key in [&a_key, &a2_key] {
        let out = decrypt(key);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&out.stdout)),
            sha,
            "decrypted, it is the file the manifest signs"
        );
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(rows[0]["ip"], "192.0.2.10");
    }
    assert!(
        !decrypt(&b_key).status.success(),
        "B's key cannot open A's file"
    );
    // Shared files (C2 lists) stay plain.
    let res = app
        .get("/api/v1/feeds/botnet/latest-c2.ips.txt", &app.a.token)
        .send()
        .await
        .expect("shared");
    assert!(res.text().await.expect("text").contains("203.0.113.66"));
    // B registered nothing: its own batch is plain.
    let b_files = app.get_json("/api/v1/feeds/botnet", &app.b.token).await["files"]
        .as_array()
        .expect("files")
        .clone();
    let b_batch = name_for(&b_files, app.b.member.id.0);
    let res = app
        .get(&format!("/api/v1/feeds/botnet/{b_batch}"), &app.b.token)
        .send()
        .await
        .expect("download");
    assert_eq!(res.headers()["content-type"], "application/json");
    // Cleared: plain again.
    let res = app
        .req(reqwest::Method::PUT, "/api/v1/me/recipients", &admin_a)
        .json(&serde_json::json!({"recipients": []}))
        .send()
        .await
        .expect("clear");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get(&format!("/api/v1/feeds/botnet/{a_batch}"), &app.a.token)
        .send()
        .await
        .expect("download");
    assert_eq!(res.headers()["content-type"], "application/json");
}

crate::on_both_backends!(
    a_members_own_files_are_encrypted_to_its_keys,
    ingest_tailoring_and_policy,
    stream_resumes_without_loss,
    a_revoked_key_ends_its_stream,
    batches_firewall_lists_and_rpz
);

/// A Shadowserver sinkhole-event report and CTIP lines through the CLI.
#[test]
fn cli_imports_shadowserver_and_ctip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let csv = d.join("2026-11-20-event4_sinkhole-nl.csv");
    std::fs::write(
        &csv,
        "\"timestamp\",\"protocol\",\"src_ip\",\"src_port\",\"src_asn\",\"src_geo\",\"src_region\",\"src_city\",\"src_hostname\",\"src_naics\",\"src_sector\",\"device_vendor\",\"device_type\",\"device_model\",\"dst_ip\",\"dst_port\",\"dst_asn\",\"dst_geo\",\"dst_region\",\"dst_city\",\"dst_hostname\",\"dst_naics\",\"dst_sector\",\"public_source\",\"infection\",\"family\",\"tag\",\"application\",\"version\",\"event_id\"\n\
         \"2026-11-20 10:00:01\",\"tcp\",\"192.0.2.44\",\"51234\",\"64500\",\"NL\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"203.0.113.5\",\"80\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"CAISC\",\"andromeda\",\"andromeda\",\"\",\"\",\"\",\"\"\n\
         \"2026-11-20 10:00:02\",\"udp\",\"192.0.2.45\",\"1900\",\"64500\",\"NL\",\"\",\"\",\"\",\"\",\"\",\"Hikvision\",\"camera\",\"\",\"203.0.113.6\",\"23\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"mirai\",\"mirai\",\"iot\",\"\",\"\",\"\"\n",
    )
    .expect("write");
    let nd = d.join("ctip.ndjson");
    std::fs::write(&nd, ctip(Timestamp::from_secs(1_795_000_000))).expect("write");
    let out = isx(
        d,
        &[
            "botnet",
            "import",
            "--json",
            csv.to_str().expect("p"),
            nd.to_str().expect("p"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["inserted"], 3);
    let out = isx(
        d,
        &[
            "botnet",
            "import",
            "--json",
            csv.to_str().expect("p"),
            nd.to_str().expect("p"),
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (v["inserted"].as_u64(), v["duplicates"].as_u64()),
        (Some(0), Some(3))
    );
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "product,ip\ninfected,192.0.2.1\ninfected,300.1.1.1\n").expect("write");
    let out = isx(d, &["botnet", "import", bad.to_str().expect("p")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv: line 3") && err.contains("300.1.1.1"),
        "{err}"
    );
    let out = isx(d, &["botnet", "list", "--json", "--limit", "100"]);
    let list: Value = serde_json::from_slice(&out.stdout).expect("json");
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 3, "the bad file stored nothing");
    let products: BTreeSet<&str> = list.iter().filter_map(|e| e["product"].as_str()).collect();
    assert_eq!(products, BTreeSet::from(["botnet-infected", "botnet-iot"]));
    let out = isx(d, &["botnet", "list", "--products", "iot"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mirai"));
}
