//! Hole 14 (rest): webhook deliveries of a withdrawn release stop — the
//! policy is asked again at every attempt.

use isx_advisories::{NewRelease, ReleaseStatus};
use isx_domain::{Clock, Tier, Tlp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::advisories::eventually;
use crate::support::app::{Backend, TestApp};

async fn deliveries_of_a_withdrawn_release_stop(backend: Backend) {
    // The receiver fails the first attempt, then accepts everything.
    let receiver = crate::support::receiver::Receiver::start(vec![500]).await;
    let ca = receiver.ca.clone();
    let app = TestApp::spawn_with(backend, move |c| {
        c.notify_interval_ms = 100;
        c.webhook_ca = Some(ca);
        c.webhook_allow_private = true;
    })
    .await;
    let early = app.tier_member("early", Tier::Advance24h).await;
    let res = app
        .req(
            reqwest::Method::PUT,
            "/api/v1/webhook",
            &app.member_admin_key(&early.member).await,
        )
        .json(&json!({"url": receiver.url, "secret": "a shared secret for hooks"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let now = app.clock.now();
    let r = app
        .store
        .insert_release(
            &NewRelease {
                title: "Embargoed".into(),
                release_at: now.add_secs(3_600),
                notes: String::new(),
                status: ReleaseStatus::Scheduled,
                marking: Tlp::Green,
            },
            now,
        )
        .await
        .expect("release");
    eventually("the first attempt", || async { receiver.count() >= 1 }).await;
    // Withdrawn before the retry: the retry is cancelled, not sent.
    let res = app
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v1/releases/{}", r.id),
            &app.operator.token,
        )
        .json(&json!({"status": "withdrawn", "summary": "pulled"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    app.clock.advance_secs(61);
    eventually("the delivery is cancelled", || async {
        let d: Vec<Value> = app
            .get("/api/v1/webhook-deliveries", &app.operator.token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        d.first().is_some_and(|d| d["status"] == "cancelled")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(receiver.count(), 1, "no delivery after the withdrawal");
}

crate::on_both_backends!(deliveries_of_a_withdrawn_release_stop);
