//! The periodic jobs of a node: every product's feed production (each a
//! [`FeedProducer`]), the revocation of URL indicators that left the feed
//! and the retention of trust-group contributions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use isx_domain::Timestamp;

use crate::feeds::{FeedContext, FeedProducer};

/// Every product's feed files, in the order the scheduler produces them.
pub const PRODUCERS: [&dyn FeedProducer; 3] = [
    &crate::url_files::UrlFeed,
    &crate::botnet_files::BotnetFiles,
    &crate::cleanfile_files::CleanFileFiles,
];

/// The scheduler: looks for due slots every `feed_tick_ms` (and at start,
/// which produces what a stopped instance missed).
pub async fn run(ctx: Arc<FeedContext>, tick_ms: u64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(tick_ms.max(100)));
    let mut pruned_at: Option<Timestamp> = None;
    loop {
        tick.tick().await;
        // Retention of trust-group contributions, checked hourly.
        let now = ctx.clock.now();
        if pruned_at.is_none_or(|t| now >= t.add_secs(3_600)) {
            match crate::partnership::prune(ctx.store.as_ref(), now).await {
                Ok(_) => pruned_at = Some(now),
                Err(e) => {
                    tracing::warn!(error = %e, "retention of contributions failed; will retry")
                }
            }
        }
        if let Err(e) = crate::urls::revoke_stale(ctx.store.as_ref(), now).await {
            tracing::warn!(error = %e, "revoking URL indicators failed; will retry");
        }
        for p in PRODUCERS {
            if let Err(e) = p.produce_due(&ctx).await {
                p.stats(&ctx).failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, product = p.product(), "feed production failed; will retry");
            }
        }
    }
}
