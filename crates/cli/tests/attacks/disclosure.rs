//! Hole 9: disclosure to group owners. Nothing about non-members leaves
//! through messages, and no hidden author leaves through shares.

use isx_domain::{Clock, Tier};
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

/// The `date_added` values of a TAXII collection, in order, paged with
/// `next`.
async fn date_added(app: &TestApp, token: &str, collection: &str) -> Vec<i64> {
    manifest(app, token, collection)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// The (id, `date_added`) entries of a TAXII collection's manifest, in
/// order, paged with `next`.
async fn manifest(app: &TestApp, token: &str, collection: &str) -> Vec<(String, i64)> {
    manifest_paged(app, token, collection, 7).await
}

/// The same, `limit` entries a page.
async fn manifest_paged(
    app: &TestApp,
    token: &str,
    collection: &str,
    limit: usize,
) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/taxii2/isx/collections/{collection}/manifest/?limit={limit}");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let res = app
            .get(&path, token)
            .header("Accept", "application/taxii+json;version=2.1")
            .send()
            .await
            .expect("manifest");
        assert_eq!(res.status(), StatusCode::OK);
        let m: Value = res.json().await.expect("manifest json");
        out.extend(m["objects"].as_array().into_iter().flatten().map(|o| {
            (
                o["id"].as_str().expect("id").to_owned(),
                isx_domain::Timestamp::parse(o["date_added"].as_str().expect("date_added"))
                    .expect("timestamp")
                    .as_micros(),
            )
        }));
        if m["more"] != true {
            return out;
        }
        next = m["next"].as_str().map(str::to_owned);
    }
}

fn botnet_line(ip: &str, port: u32, at: isx_domain::Timestamp) -> String {
    format!(
        "{{\"product\":\"infected\",\"time\":\"{}\",\"ip\":\"{ip}\",\"port\":{port},\"family\":\"necurs\",\"dst_ip\":\"203.0.113.250\",\"dst_port\":80}}\n",
        at.to_rfc3339()
    )
}

/// Red-team finding F1 (2026-12): every botnet event and URL record had
/// an arrival stamp of its own, a few microseconds after the one before,
/// so the gap between two `date_added` (or `received_at`) values a member
/// saw counted the rows it could not see — another member's victims, the
/// TLP:RED URLs. Now an import's rows share one instant and each reader's
/// rows are spread over the microseconds after it: what a member sees is
/// the same whatever else the import held.
async fn arrival_times_count_nothing_a_member_cannot_see(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.operator.token.clone();
    let now = app.clock.now();
    // Two imports: A's victims with 5, then 50, of B's between them.
    let import = |hidden: u32, tag: u32| {
        let mut body = String::new();
        for i in 0..3u32 {
            body.push_str(&botnet_line("192.0.2.10", 1000 + tag * 10 + i, now));
            for j in 0..hidden {
                body.push_str(&botnet_line(
                    "198.51.100.7",
                    20_000 + tag * 1000 + i * 100 + j,
                    now,
                ));
            }
        }
        body
    };
    for (tag, hidden) in [(1, 5), (2, 50)] {
        let res = app
            .req(reqwest::Method::POST, "/api/v1/botnet/events", &op)
            .header("content-type", "application/x-ndjson")
            .body(import(hidden, tag))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::OK);
    }
    let objects = manifest(&app, &app.a.token, "botnet").await;
    let seen: Vec<i64> = objects.iter().map(|(_, t)| *t).collect();
    assert_eq!(
        seen.len(),
        12,
        "A's 6 victims, an indicator and a sighting each"
    );
    // The objects' ids do not derive from the stored event ids either
    // (red-team pass 2026-12-02: the stored id, and so the count of
    // others' events, could be found by trying every number).
    let ids: std::collections::BTreeSet<&str> = objects.iter().map(|(id, _)| id.as_str()).collect();
    for n in 1..=2_000 {
        for kind in ["indicator", "sighting"] {
            let guess = isx_formats::stix::object_id(kind, &format!("isx-botnet-event:{n}"));
            assert!(
                !ids.contains(guess.as_str()),
                "{guess} gives away event {n}"
            );
        }
    }
    let steps: Vec<i64> = seen.windows(2).map(|w| w[1] - w[0]).collect();
    // Within an import, one microsecond per object; between the imports
    // the least room there is (one millisecond: an import starts one
    // microsecond into a millisecond of its own), not a count of B's 15
    // or 150 events.
    assert_eq!(&steps[..5], &[1, 1, 1, 1, 1], "{steps:?}");
    assert_eq!(&steps[6..], &[1, 1, 1, 1, 1], "{steps:?}");
    let room = (isx_store::ARRIVAL_ROOM + 999) / 1000 * 1000;
    assert_eq!(steps[5], room - 5, "{steps:?}");
    assert_eq!(
        seen[0].rem_euclid(1000),
        1,
        "an import starts 1 µs into a millisecond"
    );
    // URLs: a member may not see TLP:RED records; they leave no hole.
    let mut csv = String::from("url,threat,first_seen,tlp\n");
    for i in 0..4 {
        csv.push_str(&format!(
            "http://seen-{i}.example/x,phishing,2026-11-22T00:00:00Z,green\n"
        ));
        for j in 0..(3 * i + 1) {
            csv.push_str(&format!(
                "http://hidden-{i}-{j}.example/x,phishing,2026-11-22T00:00:00Z,red\n"
            ));
        }
    }
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let first_read = manifest(&app, &app.a.token, "urls").await;
    let seen: Vec<i64> = first_read.iter().map(|(_, t)| *t).collect();
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(
        url_places_are_consecutive(&seen),
        "A's records take consecutive places: {seen:?}"
    );
    // The operator sees every record, still each at its own microseconds.
    let all = date_added(&app, &op, "urls").await;
    assert!(all.len() > seen.len(), "{} vs {}", all.len(), seen.len());
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");

    // A later import that moves records on leaves the places of the
    // others: resuming with added_after at A's second object still gives
    // everything after it.
    let again =
        "url,threat,first_seen,tlp\nhttp://seen-0.example/x,phishing,2026-11-23T00:00:00Z,green\n";
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &op)
        .header("content-type", "text/csv")
        .body(again)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let after = isx_domain::Timestamp::from_micros(seen[1]).to_rfc3339();
    let res = app
        .get(
            &format!(
                "/taxii2/isx/collections/urls/manifest/?added_after={}",
                after.replace('+', "%2B")
            ),
            &app.a.token,
        )
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .expect("manifest");
    let m: Value = res.json().await.expect("json");
    let ids: std::collections::BTreeSet<&str> = m["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str())
        .collect();
    // Nothing after the resume point is skipped (the moved record's
    // objects come again with its new import).
    for (id, _) in &first_read[2..] {
        assert!(ids.contains(id.as_str()), "{id} skipped: {m}");
    }
}

fn c2_line(ip: &str, tlp: &str, at: isx_domain::Timestamp) -> String {
    format!(
        "{{\"product\":\"c2\",\"time\":\"{}\",\"ip\":\"{ip}\",\"port\":443,\"family\":\"qakbot\",\"tlp\":\"{tlp}\"}}\n",
        at.to_rfc3339()
    )
}

/// Red-team pass 2026-12-02: REST pages of botnet events were cut short
/// by the rows a member may not see (TLP:RED C2 servers), so the size of
/// a page counted them, and a page of only hidden rows came back empty,
/// which ended the member's paging early.
async fn botnet_pages_are_full_whatever_is_hidden_between(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = app.clock.now();
    let mut body = String::new();
    for i in 0..3 {
        body.push_str(&c2_line(&format!("203.0.113.{}", 10 + i), "green", now));
    }
    for i in 0..20 {
        body.push_str(&c2_line(&format!("203.0.113.{}", 100 + i), "red", now));
    }
    for i in 0..3 {
        body.push_str(&c2_line(&format!("203.0.113.{}", 20 + i), "green", now));
    }
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/v1/botnet/events",
            &app.operator.token,
        )
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    let mut sizes = Vec::new();
    let mut after = String::new();
    let mut total = 0;
    loop {
        let page: Value = app
            .get_json(
                &format!("/api/v1/botnet/events?limit=5{after}"),
                &app.a.token,
            )
            .await;
        let page = page.as_array().expect("array").clone();
        if page.is_empty() {
            break;
        }
        sizes.push(page.len());
        total += page.len();
        after = format!(
            "&after={}",
            page.last().and_then(|e| e["id"].as_i64()).expect("id")
        );
        assert!(sizes.len() < 10, "{sizes:?}");
    }
    assert_eq!(total, 6, "every visible C2 server arrives: {sizes:?}");
    assert_eq!(sizes, vec![5, 1], "pages are full whatever lies between");
}

/// Red-team pass 2026-12-02 (F5): a URL named twice in one import, in two
/// of its 500-row chunks, was placed twice; its first place stayed
/// counted in the records between, a hole in a member's spread (and, as
/// the stricter marking wins, a sign of a record turned TLP:RED).
async fn a_url_named_twice_in_an_import_leaves_no_hole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut csv = String::from("url,threat,first_seen,tlp\n");
    for i in 0..10 {
        csv.push_str(&format!(
            "http://before-{i}.example/x,phishing,2026-11-22T00:00:00Z,green\n"
        ));
    }
    csv.push_str("http://twice.example/x,phishing,2026-11-22T00:00:00Z,green\n");
    for i in 0..650 {
        csv.push_str(&format!(
            "http://row-{i}.example/x,phishing,2026-11-22T00:00:00Z,green\n"
        ));
    }
    csv.push_str("http://twice.example/x,phishing,2026-11-23T00:00:00Z,red\n");
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let seen: Vec<i64> = manifest_paged(&app, &app.a.token, "urls", 500)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        seen.len(),
        661 * 3,
        "the 661 GREEN records (twice.example's RED sighting takes nothing \
         from a member), three objects each"
    );
    assert!(url_places_are_consecutive(&seen), "no hole: {seen:?}");
}

/// Whether the `date_added` of a reader's URL objects (three per record,
/// one import) are its records' places, one after the other: each record
/// takes `isx_store::URL_OBJECTS_PER_RECORD` microseconds (room for an
/// ended generation's objects), the reader's k-th record the k-th place,
/// so they count no record the reader cannot see.
fn url_places_are_consecutive(seen: &[i64]) -> bool {
    let width = isx_store::URL_OBJECTS_PER_RECORD;
    let Some(&base) = seen.first() else {
        return true;
    };
    seen.iter().enumerate().all(|(i, t)| {
        let i = i64::try_from(i).unwrap_or(i64::MAX);
        *t - base == width * (i / 3) + i % 3
    })
}

/// Every object of a collection `token` reads, in one page.
async fn taxii_objects(app: &TestApp, token: &str, collection: &str) -> Vec<Value> {
    let res = app
        .get(
            &format!("/taxii2/isx/collections/{collection}/objects/?limit=1000"),
            token,
        )
        .header("Accept", "application/taxii+json;version=2.1")
        .send()
        .await
        .expect("objects");
    assert_eq!(res.status(), StatusCode::OK);
    let env: Value = res.json().await.expect("envelope");
    env["objects"].as_array().cloned().unwrap_or_default()
}

async fn import_csv(app: &TestApp, csv: &str) {
    let res = app
        .req(reqwest::Method::POST, "/api/v1/urls", &app.operator.token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

/// Red-team pass 2026-12-05 (F1): a URL record took the strictest
/// marking of its sightings, so one TLP:RED sighting of a GREEN URL took
/// the URL away from every member (no revocation: its indicator just
/// stopped), left a hole at its place in their TAXII spread, and showed
/// the hidden sighting as a count. A member now reads what it read
/// before, unchanged, and the operator the RED record.
async fn a_stricter_sighting_takes_nothing_from_a_looser_reader(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ago = |hours: i64| app.clock.now().add_secs(-hours * 3600).to_rfc3339();
    let mut csv = String::from("url,threat,first_seen,tlp,source\n");
    for i in 0..3 {
        csv.push_str(&format!(
            "http://shared-{i}.example/x,phishing,{},green,crawler\n",
            ago(48)
        ));
    }
    import_csv(&app, &csv).await;
    let a = app.a.token.clone();
    let objects = taxii_objects(&app, &a, "urls").await;
    let places = manifest(&app, &a, "urls").await;
    let rest: Value = app.get_json("/api/v1/urls", &a).await;
    assert_eq!(places.len(), 9, "three records, three objects each");

    import_csv(
        &app,
        &format!(
            "url,threat,first_seen,last_seen,tlp,source\nhttp://shared-1.example/x,malware_download,{},{},red,secret-source\n",
            ago(36),
            ago(24)
        ),
    )
    .await;
    assert_eq!(
        taxii_objects(&app, &a, "urls").await,
        objects,
        "a member's objects are as they were"
    );
    assert_eq!(manifest(&app, &a, "urls").await, places, "and their places");
    assert_eq!(app.get_json("/api/v1/urls", &a).await, rest);
    let all: Value = app.get_json("/api/v1/urls", &app.operator.token).await;
    let rows = all.as_array().expect("list");
    assert_eq!(rows.len(), 3, "the operator reads one record per URL");
    let red: Vec<&Value> = rows.iter().filter(|r| r["tlp"] == "red").collect();
    assert_eq!(red.len(), 1, "{all}");
    assert_eq!(red[0]["times_seen"], 2);
    assert_eq!(red[0]["source"], "secret-source");

    // A later GREEN sighting is news for the member: a new version of the
    // same indicator, counting the GREEN sightings only.
    import_csv(
        &app,
        &format!(
            "url,threat,first_seen,tlp,source\nhttp://shared-1.example/x,phishing,{},green,crawler\n",
            ago(12)
        ),
    )
    .await;
    let after = taxii_objects(&app, &a, "urls").await;
    let indicator = |objs: &[Value]| {
        objs.iter()
            .find(|o| {
                o["type"] == "indicator"
                    && o["pattern"]
                        .as_str()
                        .is_some_and(|p| p.contains("shared-1.example"))
            })
            .cloned()
            .expect("shared-1's indicator")
    };
    let (old, new) = (indicator(&objects), indicator(&after));
    assert_eq!(old["id"], new["id"], "the same indicator");
    assert!(new["modified"].as_str() > old["modified"].as_str());
    let text = serde_json::to_string(&after).expect("json");
    let red_last = ago(24);
    assert!(
        !text.contains("secret-source") && !text.contains(&red_last[..19]),
        "{text}"
    );
    let mine: Value = app.get_json("/api/v1/urls?host=shared-1.example", &a).await;
    assert_eq!(mine[0]["times_seen"], 2, "{mine}");
    assert_eq!(mine[0]["tlp"], "green");
    let seen: Vec<i64> = manifest(&app, &a, "urls")
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(seen.len(), 9);
    let theirs: Value = app
        .get_json("/api/v1/urls?host=shared-1.example", &app.operator.token)
        .await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(1));
    assert_eq!(theirs[0]["times_seen"], 3, "{theirs}");
}

/// The ids of the STIX objects a reader reads, sorted.
async fn taxii_ids(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids: Vec<String> = taxii_objects(app, token, "urls")
        .await
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// Red-team pass 2026-12-07 (1): a URL's generations were numbered across
/// its records, so a member whose first indicator of a URL was its second
/// generation learnt that a stricter record came first. A member's ids
/// are now what they would be had the stricter sightings never been.
async fn a_member_s_ids_say_nothing_of_a_stricter_record(backend: Backend) {
    let with = TestApp::spawn(backend).await;
    let without = TestApp::spawn(backend).await;
    let ago = |hours: i64| with.clock.now().add_secs(-hours * 3600).to_rfc3339();
    let red = format!(
        "url,threat,first_seen,tlp,source\n\
         http://red-first.example/x,phishing,{},red,secret\n\
         http://both.example/x,phishing,{},red,secret\n",
        ago(40),
        ago(40)
    );
    let green = format!(
        "url,threat,first_seen,tlp,source\n\
         http://red-first.example/x,phishing,{},green,crawler\n\
         http://both.example/x,phishing,{},green,crawler\n",
        ago(30),
        ago(30)
    );
    // The RED sightings first, and again (changing threat: a new
    // generation of the RED record) after the GREEN ones.
    let red_again = red.replace("phishing", "malware_download");
    import_csv(&with, &red).await;
    import_csv(&with, &green).await;
    import_csv(&with, &red_again).await;
    import_csv(&without, &green).await;
    let mine = taxii_ids(&with, &with.a.token).await;
    assert_eq!(mine.len(), 6, "{mine:?}");
    assert_eq!(mine, taxii_ids(&without, &without.a.token).await);
    // The operator reads the RED records: other ids.
    let theirs = taxii_ids(&with, &with.operator.token).await;
    assert!(theirs.iter().all(|id| !mine.contains(id)), "{theirs:?}");
}

/// Red-team pass 2026-12-07 (2): a RED record started from a GREEN one
/// kept its STIX id, so one (id, modified) carried the member's content
/// and the operator's. One version has one content.
async fn one_stix_version_has_one_content(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ago = |hours: i64| app.clock.now().add_secs(-hours * 3600).to_rfc3339();
    let row = |first: String, tlp: &str, src: &str| {
        format!("url,threat,first_seen,tlp,source\nhttp://shared.example/x,phishing,{first},{tlp},{src}\n")
    };
    import_csv(&app, &row(ago(48), "green", "crawler")).await;
    import_csv(&app, &row(ago(36), "red", "secret-source")).await;
    import_csv(&app, &row(ago(12), "green", "crawler")).await;
    let mine = taxii_objects(&app, &app.a.token, "urls").await;
    let theirs = taxii_objects(&app, &app.operator.token, "urls").await;
    // The operator's: the GREEN indicator's final version (it read it
    // until the RED record began), then the RED record's.
    assert_eq!((mine.len(), theirs.len()), (3, 6));
    for m in &mine {
        for t in &theirs {
            if m["id"] == t["id"] && m["modified"] == t["modified"] {
                assert_eq!(m, t, "one (id, modified), one content");
            }
        }
    }
}

/// Red-team pass 2026-12-07 (3): a URL's CLEAR and GREEN records placed
/// in one import both counted for a member, who reads only the GREEN
/// one: a hole in its spread.
async fn a_url_with_two_records_a_member_may_see_leaves_no_hole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.clock.now().add_secs(-10 * 3600).to_rfc3339();
    import_csv(
        &app,
        &format!(
            "url,threat,first_seen,tlp\nhttp://before.example/x,phishing,{t},green\n\
             http://both.example/x,phishing,{t},clear\nhttp://both.example/x,phishing,{t},green\n\
             http://after.example/x,phishing,{t},green\n"
        ),
    )
    .await;
    for token in [app.a.token.clone(), app.operator.token.clone()] {
        let seen: Vec<i64> = manifest(&app, &token, "urls")
            .await
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(seen.len(), 9);
        assert!(url_places_are_consecutive(&seen), "no hole: {seen:?}");
    }
}

/// Red-team pass 2026-12-07 (4): a sighting's key does not hold its
/// marking, so a sighting first imported RED and then, the same, GREEN
/// was "already known" and never reached a member. It does now, once.
async fn a_sighting_re_marked_looser_reaches_the_looser_reader(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.clock.now().add_secs(-10 * 3600).to_rfc3339();
    let row = |tlp: &str| {
        format!(
            "url,threat,first_seen,tlp,source\nhttp://remarked.example/x,phishing,{t},{tlp},feed\n"
        )
    };
    for tlp in ["red", "green", "green", "red"] {
        import_csv(&app, &row(tlp)).await;
    }
    let mine: Value = app
        .get_json("/api/v1/urls?host=remarked.example", &app.a.token)
        .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(
        (mine[0]["tlp"].clone(), mine[0]["times_seen"].clone()),
        (json!("green"), json!(1))
    );
    let theirs: Value = app
        .get_json("/api/v1/urls?host=remarked.example", &app.operator.token)
        .await;
    assert_eq!(theirs[0]["tlp"], "red");
    assert_eq!(theirs[0]["times_seen"], 1, "one sighting, counted once");
}

/// Red-team pass 2026-12-07 (5): a record read by id skipped the
/// stricter-record rule, so a member still read a URL's superseded
/// CLEAR record beside the GREEN one it lists.
async fn a_superseded_record_is_not_read_by_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ago = |hours: i64| app.clock.now().add_secs(-hours * 3600).to_rfc3339();
    let a = app.a.token.clone();
    let import = |tlp: &str, at: String| {
        format!("url,threat,first_seen,tlp\nhttp://byid.example/x,phishing,{at},{tlp}\n")
    };
    import_csv(&app, &import("clear", ago(20))).await;
    let before: Value = app.get_json("/api/v1/urls?host=byid.example", &a).await;
    let old = before[0]["id"].clone();
    import_csv(&app, &import("green", ago(10))).await;
    let now: Value = app.get_json("/api/v1/urls?host=byid.example", &a).await;
    assert_eq!(now.as_array().map(Vec::len), Some(1));
    assert_eq!(now[0]["tlp"], "green");
    assert_ne!(now[0]["id"], old, "the GREEN record is another record");
    let id = |v: &Value| {
        v.as_i64()
            .map(|i| i.to_string())
            .or_else(|| v.as_str().map(str::to_owned))
            .expect("id")
    };
    let res = app
        .get(&format!("/api/v1/urls/{}", id(&old)), &a)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "one record per URL, by id too"
    );
    let res = app
        .get(&format!("/api/v1/urls/{}", id(&now[0]["id"])), &a)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
}

/// Red-team pass 2026-12-07 (second, F1): old news marked RED that started
/// no record was filed as seen GREEN, so the same sighting declassified
/// later counted nothing for GREEN readers: their count depended on a RED
/// import. It is what it would be without it.
async fn hidden_old_news_does_not_swallow_the_same_sighting_declassified(backend: Backend) {
    let with = TestApp::spawn(backend).await;
    let without = TestApp::spawn(backend).await;
    let ago = |h: i64| with.clock.now().add_secs(-h * 3600).to_rfc3339();
    let row = |at: String, tlp: &str, src: &str| {
        format!("url,threat,first_seen,tlp,source\nhttp://declassified.example/x,phishing,{at},{tlp},{src}\n")
    };
    for app in [&with, &without] {
        import_csv(app, &row(ago(8 * 24), "green", "public")).await;
    }
    import_csv(&with, &row(ago(7 * 24), "red", "partner")).await;
    for app in [&with, &without] {
        import_csv(app, &row(ago(2), "green", "public")).await;
        import_csv(app, &row(ago(7 * 24), "green", "partner")).await;
    }
    let q = "/api/v1/urls?host=declassified.example";
    let mine: Value = with.get_json(q, &with.a.token).await;
    let control: Value = without.get_json(q, &without.a.token).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(control[0]["times_seen"], 3, "{control}");
    for field in ["times_seen", "first_seen", "last_seen", "tlp"] {
        assert_eq!(
            mine[0][field], control[0][field],
            "{field}: {mine} / {control}"
        );
    }
    assert_eq!(
        taxii_ids(&with, &with.a.token).await,
        taxii_ids(&without, &without.a.token).await
    );
}

/// Red-team pass 2026-12-07 (second, F2): when a URL gains a record a
/// reader may see, the reader stops reading the looser one; its indicator
/// of it got no final version and stayed valid in its tools beside the
/// new one. It is revoked for that reader, and only for it.
async fn a_reader_moved_to_a_stricter_record_gets_the_looser_one_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ago = |h: i64| app.clock.now().add_secs(-h * 3600).to_rfc3339();
    let row = |tlp: &str, at: String| {
        format!("url,threat,first_seen,tlp\nhttp://moved.example/x,phishing,{at},{tlp}\n")
    };
    import_csv(&app, &row("green", ago(20))).await;
    let indicator = |objs: &[Value]| -> Vec<Value> {
        objs.iter()
            .filter(|o| o["type"] == "indicator")
            .cloned()
            .collect()
    };
    let op = app.operator.token.clone();
    let had = indicator(&taxii_objects(&app, &op, "urls").await);
    assert_eq!(had.len(), 1);
    import_csv(&app, &row("red", ago(10))).await;
    let now = indicator(&taxii_objects(&app, &op, "urls").await);
    assert_eq!(now.len(), 2, "the old one's end, the new one: {now:?}");
    let end = now
        .iter()
        .find(|o| o["id"] == had[0]["id"])
        .expect("the GREEN indicator's final version");
    assert_eq!(end["revoked"], true);
    assert!(end["modified"].as_str() > had[0]["modified"].as_str());
    assert_eq!(end["object_marking_refs"], had[0]["object_marking_refs"]);
    let new = now.iter().find(|o| o["id"] != had[0]["id"]).expect("new");
    assert!(new.get("revoked").is_none());
    // The GREEN readers still read the GREEN indicator, live, as it was.
    let member = indicator(&taxii_objects(&app, &app.a.token, "urls").await);
    assert_eq!(member, had);
    assert_ne!(
        member[0]["modified"], end["modified"],
        "one version, one content"
    );
}

/// Red-team pass 2026-12-07 (third, F1): a record held one end of a
/// looser lineage, so a reader moved over two new records — in one import
/// or in two between its reads — never got the indicator it held revoked.
async fn a_reader_moved_over_two_records_gets_the_one_it_had_revoked(backend: Backend) {
    for split in [false, true] {
        let app = TestApp::spawn(backend).await;
        let ago = |h: i64| app.clock.now().add_secs(-h * 3600).to_rfc3339();
        let row = |tlp: &str, h: i64| format!("http://twice.example/x,phishing,{},{tlp}\n", ago(h));
        let head = "url,threat,first_seen,tlp\n";
        import_csv(&app, &format!("{head}{}", row("green", 20))).await;
        let op = app.operator.token.clone();
        let indicators = |o: Vec<Value>| -> Vec<Value> {
            o.into_iter().filter(|o| o["type"] == "indicator").collect()
        };
        let had = indicators(taxii_objects(&app, &op, "urls").await);
        assert_eq!(had.len(), 1);
        if split {
            import_csv(&app, &format!("{head}{}", row("amber", 12))).await;
            import_csv(&app, &format!("{head}{}", row("red", 10))).await;
        } else {
            import_csv(
                &app,
                &format!("{head}{}{}", row("amber", 12), row("red", 10)),
            )
            .await;
        }
        let now = indicators(taxii_objects(&app, &op, "urls").await);
        let end = now
            .iter()
            .find(|o| o["id"] == had[0]["id"])
            .unwrap_or_else(|| panic!("split {split}: the GREEN indicator's end: {now:?}"));
        assert_eq!(end["revoked"], true);
        // Every indicator but the current one is revoked, each once.
        let live: Vec<&Value> = now.iter().filter(|o| o.get("revoked").is_none()).collect();
        assert_eq!(live.len(), 1, "{now:?}");
        let mut ids: Vec<&Value> = now.iter().map(|o| &o["id"]).collect();
        ids.sort_by_key(|v| v.to_string());
        ids.dedup();
        assert_eq!(ids.len(), now.len(), "{now:?}");
        // The operator's places stay consecutive with the wider records.
        let seen: Vec<i64> = manifest(&app, &op, "urls")
            .await
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert!(!seen.is_empty());
    }
}

/// Red-team pass 2026-12-07 (third, F2): a threat change ended the old
/// indicator one microsecond after its last version, in the same STIX
/// millisecond: one (id, modified), two contents.
async fn a_threat_change_ends_the_indicator_in_a_later_millisecond(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ago = |h: i64| app.clock.now().add_secs(-h * 3600).to_rfc3339();
    let ahead = app.clock.now().add_secs(120).to_rfc3339();
    let a = app.a.token.clone();
    let row = |threat: &str| {
        format!("url,threat,first_seen,last_seen,tlp\nhttp://turn.example/x,{threat},{},{ahead},green\n", ago(1))
    };
    import_csv(&app, &row("phishing")).await;
    let before = taxii_objects(&app, &a, "urls")
        .await
        .into_iter()
        .find(|o| o["type"] == "indicator")
        .expect("indicator");
    app.clock.advance_secs(1);
    import_csv(&app, &row("malware_download")).await;
    let after = taxii_objects(&app, &a, "urls").await;
    let end = after
        .iter()
        .find(|o| o["id"] == before["id"])
        .expect("final version");
    assert_eq!(end["revoked"], true);
    assert_ne!(
        end["modified"], before["modified"],
        "one (id, modified), one content"
    );
}

crate::on_both_backends!(
    a_reader_moved_over_two_records_gets_the_one_it_had_revoked,
    a_threat_change_ends_the_indicator_in_a_later_millisecond,
    hidden_old_news_does_not_swallow_the_same_sighting_declassified,
    a_reader_moved_to_a_stricter_record_gets_the_looser_one_revoked,
    a_member_s_ids_say_nothing_of_a_stricter_record,
    one_stix_version_has_one_content,
    a_url_with_two_records_a_member_may_see_leaves_no_hole,
    a_sighting_re_marked_looser_reaches_the_looser_reader,
    a_superseded_record_is_not_read_by_id,
    a_stricter_sighting_takes_nothing_from_a_looser_reader,
    a_url_named_twice_in_an_import_leaves_no_hole,
    botnet_pages_are_full_whatever_is_hidden_between,
    arrival_times_count_nothing_a_member_cannot_see,
    owners_learn_nothing_about_members_they_cannot_admit,
    a_share_from_a_hidden_roster_names_no_author,
);
