//! Notifications for advance vulnerability notices, and their webhooks.
//!
//! A periodic tick asks the policy function, for every member and every
//! scheduled release, whether the member may see the release *now*; the
//! first time it may, the member is notified (`advance` before the release
//! time, `release` after it), and again whenever the release's content
//! changes (`revision`). Notifications are unique per (member, release,
//! kind, version), so several nodes ticking together notify once. Members
//! with a webhook get an HTTPS POST signed with HMAC-SHA256 of their secret
//! (`X-Isx-Signature: sha256=<hex>`), retried with exponential backoff.

use std::collections::HashMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use isx_advisories::Release;
use isx_domain::{MemberId, Timestamp};
use isx_policy::decide;
use isx_store::{Delivery, Notification};
use sha2::Sha256;

use crate::identity::principal_for;
use crate::{records, App, AppError};

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// The release's content version as a member with `mask` sees it: release
/// revisions plus the advisory revisions it may see (a revision of
/// withheld exploitability data notifies nobody it is withheld from).
fn version(
    r: &Release,
    advisories: &[(i64, isx_advisories::Advisory)],
    mask: isx_policy::FieldMask,
) -> i64 {
    r.revisions.len() as i64
        + advisories
            .iter()
            .map(|(_, a)| i64::from(a.revision_seen(mask)))
            .sum::<i64>()
}

/// Creates the notifications that are due now.
pub async fn tick(app: &App) -> Result<usize, AppError> {
    let now = app.clock.now();
    let members = app.store.members().await?;
    let mut created = 0;
    for r in app.store.releases().await? {
        if !r.is_published() {
            continue;
        }
        let meta = records::release(&r);
        let advisories = app.store.advisories(Some(r.id)).await?;
        let mut seen: HashMap<MemberId, Vec<(String, i64)>> = HashMap::new();
        for (m, kind, version) in app.store.notified(r.id).await? {
            seen.entry(m).or_default().push((kind, version));
        }
        for m in members.iter().filter(|m| !m.is_operator()) {
            let principal = principal_for(app.store.as_ref(), m, false).await?;
            let Some(mask) = decide(&principal, &meta, now).mask() else {
                continue;
            };
            let v = version(&r, &advisories, mask);
            let had = seen.get(&m.id).map(Vec::as_slice).unwrap_or(&[]);
            let phase = if now < r.release_at {
                "advance"
            } else {
                "release"
            };
            let kind = if !had.iter().any(|(k, _)| k == phase) {
                phase
            } else if had.iter().map(|(_, v)| *v).max().unwrap_or(0) < v {
                "revision"
            } else {
                continue;
            };
            let message = match kind {
                "advance" => format!(
                    "Release \"{}\" is available to you ahead of its public release at {}.",
                    r.title, r.release_at
                ),
                "release" => format!("Release \"{}\" is now public.", r.title),
                _ => format!("Release \"{}\" was revised.", r.title),
            };
            let n = Notification {
                id: 0,
                member: m.id,
                release: r.id,
                kind: kind.into(),
                version: v,
                at: now,
                message,
            };
            let payload = serde_json::json!({
                "event": "release.notification",
                "kind": n.kind,
                "release": {"id": r.id, "title": r.title, "release_at": r.release_at.to_rfc3339()},
                "version": v,
                "message": n.message,
                "at": now.to_rfc3339(),
            })
            .to_string();
            if app.store.notify(&n, &payload).await? {
                created += 1;
            }
        }
    }
    Ok(created)
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What carries a webhook: an HTTPS POST of `body` with `headers`,
/// answering the response status or why there was none. The server's
/// implementation connects only to addresses `outbound::allowed` permits.
#[async_trait::async_trait]
pub trait WebhookTransport: Send + Sync {
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<u16, String>;
}

/// Attempts the deliveries that are due; returns how many were delivered.
pub async fn deliver(app: &App, http: &dyn WebhookTransport) -> Result<usize, AppError> {
    let now = app.clock.now();
    let mut delivered = 0;
    for mut d in app.store.due_deliveries(now, 50).await? {
        if !app
            .store
            .claim_delivery(d.id, now, now.add_secs(120))
            .await?
        {
            continue;
        }
        let Some(hook) = app.store.webhook(d.member).await? else {
            fail(&mut d, now, "webhook removed".into());
            app.store.finish_delivery(&d).await?;
            continue;
        };
        // Asked again at each attempt: a release withdrawn (or moved out of
        // the member's window) since the notification is not announced.
        if !still_visible(app, &d, now).await? {
            d.status = "cancelled".into();
            d.last_error = Some("the member may no longer see this release".into());
            app.store.finish_delivery(&d).await?;
            continue;
        }
        // Checked again: the rule may have tightened since registration.
        if let Err(e) = crate::outbound::check_url(&d.url, app.settings.webhook_allow_private) {
            d.attempts = MAX_ATTEMPTS;
            fail(&mut d, now, e);
            app.store.finish_delivery(&d).await?;
            continue;
        }
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("x-isx-event", "release.notification".to_owned()),
            ("x-isx-delivery", d.id.to_string()),
            (
                "x-isx-signature",
                signature(&hook.secret, d.payload.as_bytes()),
            ),
        ];
        let result = http.post(&d.url, &headers, d.payload.clone()).await;
        d.attempts += 1;
        match result {
            Ok(status) if (200..300).contains(&status) => {
                d.status = "delivered".into();
                d.delivered_at = Some(now);
                d.last_error = None;
                delivered += 1;
            }
            Ok(status) => fail(&mut d, now, format!("HTTP {status}")),
            Err(e) => fail(&mut d, now, e),
        }
        app.store.finish_delivery(&d).await?;
    }
    Ok(delivered)
}

/// Whether the member a delivery is for may still see its release now.
async fn still_visible(app: &App, d: &Delivery, now: Timestamp) -> Result<bool, AppError> {
    let release = serde_json::from_str::<serde_json::Value>(&d.payload)
        .ok()
        .and_then(|p| p.get("release")?.get("id")?.as_i64());
    let Some(release) = release else {
        return Ok(false);
    };
    let (Some(r), Some(m)) = (
        app.store.release(release).await?,
        app.store.member(d.member).await?,
    ) else {
        return Ok(false);
    };
    let principal = principal_for(app.store.as_ref(), &m, m.is_operator()).await?;
    Ok(decide(&principal, &records::release(&r), now).is_allowed())
}

/// Schedules the next attempt (30 s, 1 min, 2 min, … ) or gives up.
fn fail(d: &mut Delivery, now: Timestamp, error: String) {
    d.last_error = Some(error);
    if d.attempts >= MAX_ATTEMPTS {
        d.status = "failed".into();
    } else {
        d.next_attempt_at = now.add_secs(30 << d.attempts.clamp(0, 20));
    }
}

/// Runs [`tick`] and [`deliver`] every `notify_interval_ms`.
pub async fn run(app: App, http: std::sync::Arc<dyn WebhookTransport>) {
    let mut tick_every = tokio::time::interval(Duration::from_millis(
        app.settings.notify_interval_ms.max(50),
    ));
    loop {
        tick_every.tick().await;
        if let Err(e) = tick(&app).await {
            tracing::warn!(error = %e, "notification tick failed");
        }
        if let Err(e) = deliver(&app, http.as_ref()).await {
            tracing::warn!(error = %e, "webhook delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
