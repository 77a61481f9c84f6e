//! The shared conformance suite, on both engines.

use crate::support::app::{open_store, Backend};

async fn conformance(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_store(backend, dir.path()).await;
    assert_eq!(
        store.backend(),
        match backend {
            Backend::Sqlite => isx_store::Backend::Sqlite,
            Backend::Postgres => isx_store::Backend::Postgres,
        }
    );
    isx_store::conformance::run(store.as_ref()).await;
}

async fn concurrent_migrations_apply_once(backend: Backend) {
    // Several nodes starting at once against one database must not race.
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match backend {
        Backend::Sqlite => dir.path().join("isx.sqlite").display().to_string(),
        Backend::Postgres => crate::support::pg::fresh_database().await,
    };
    let opens = (0..4).map(|_| {
        let url = url.clone();
        async move { isx_store::open(&url).await }
    });
    for r in futures_join_all(opens).await {
        let store = r.expect("open while others migrate");
        assert_eq!(store.migrate().await.expect("migrate"), 0);
    }
}

async fn futures_join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

async fn data_survives_reopen(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match backend {
        Backend::Sqlite => dir.path().join("isx.sqlite").display().to_string(),
        Backend::Postgres => crate::support::pg::fresh_database().await,
    };
    {
        let store = isx_store::open(&url).await.expect("open");
        let new = isx_domain::NewMember {
            name: isx_domain::MemberName::new("Durable").expect("name"),
            kind: isx_domain::MemberKind::Researcher,
            country: None,
            tier: isx_domain::Tier::Standard,
            clearance: isx_domain::Clearance::None,
            constituency: Default::default(),
        };
        store
            .insert_member(&new, isx_domain::Timestamp::from_secs(1))
            .await
            .expect("insert");
    }
    let again = isx_store::open(&url).await.expect("reopen");
    assert!(again
        .member_by_name("Durable")
        .await
        .expect("get")
        .is_some());
}

async fn url_records_upgrade_to_one_per_marking(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match backend {
        Backend::Sqlite => dir.path().join("isx.sqlite").display().to_string(),
        Backend::Postgres => crate::support::pg::fresh_database().await,
    };
    isx_store::conformance::url_levels_upgrade(&url).await;
}

async fn url_records_of_one_url_never_share_ids_after_upgrade(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match backend {
        Backend::Sqlite => dir.path().join("isx.sqlite").display().to_string(),
        Backend::Postgres => crate::support::pg::fresh_database().await,
    };
    isx_store::conformance::url_lineage_upgrade(&url).await;
}

crate::on_both_backends!(
    url_records_of_one_url_never_share_ids_after_upgrade,
    url_records_upgrade_to_one_per_marking,
    conformance,
    concurrent_migrations_apply_once,
    data_survives_reopen
);
