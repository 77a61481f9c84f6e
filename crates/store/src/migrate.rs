//! Schema migrations: numbered SQL files per engine, embedded in the binary,
//! each applied in its own transaction together with its bookkeeping row.

use sqlx::Pool;

use crate::engine::{commit, maybe_scalar, rollback, take_lock, Engine, Run, WriteLock};
use crate::{Result, StoreError};

/// One migration step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/sqlite/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "advisories",
        sql: include_str!("../migrations/sqlite/0002_advisories.sql"),
    },
    Migration {
        version: 3,
        name: "notifications",
        sql: include_str!("../migrations/sqlite/0003_notifications.sql"),
    },
    Migration {
        version: 4,
        name: "urls",
        sql: include_str!("../migrations/sqlite/0004_urls.sql"),
    },
    Migration {
        version: 5,
        name: "botnet",
        sql: include_str!("../migrations/sqlite/0005_botnet.sql"),
    },
    Migration {
        version: 6,
        name: "cleanfiles",
        sql: include_str!("../migrations/sqlite/0006_cleanfiles.sql"),
    },
    Migration {
        version: 7,
        name: "exchange",
        sql: include_str!("../migrations/sqlite/0007_exchange.sql"),
    },
    Migration {
        version: 8,
        name: "partnership",
        sql: include_str!("../migrations/sqlite/0008_partnership.sql"),
    },
    Migration {
        version: 9,
        name: "botnet_arrival",
        sql: include_str!("../migrations/sqlite/0009_botnet_arrival.sql"),
    },
    Migration {
        version: 10,
        name: "key_authority",
        sql: include_str!("../migrations/sqlite/0010_key_authority.sql"),
    },
    Migration {
        version: 11,
        name: "account_life_cycle",
        sql: include_str!("../migrations/sqlite/0011_account_life_cycle.sql"),
    },
    Migration {
        version: 12,
        name: "instance_secrets",
        sql: include_str!("../migrations/sqlite/0012_instance_secrets.sql"),
    },
    Migration {
        version: 13,
        name: "arrival_ranks",
        sql: include_str!("../migrations/sqlite/0013_arrival_ranks.sql"),
    },
    Migration {
        version: 14,
        name: "exploitation_context",
        sql: include_str!("../migrations/sqlite/0014_exploitation_context.sql"),
    },
    Migration {
        version: 15,
        name: "advisory_ids",
        sql: include_str!("../migrations/sqlite/0015_advisory_ids.sql"),
    },
    Migration {
        version: 16,
        name: "hashlookup",
        sql: include_str!("../migrations/sqlite/0016_hashlookup.sql"),
    },
    Migration {
        version: 17,
        name: "url_revocation",
        sql: include_str!("../migrations/sqlite/0017_url_revocation.sql"),
    },
    Migration {
        version: 18,
        name: "botnet_indicators",
        sql: include_str!("../migrations/sqlite/0018_botnet_indicators.sql"),
    },
    Migration {
        version: 19,
        name: "url_levels",
        sql: include_str!("../migrations/sqlite/0019_url_levels.sql"),
    },
    Migration {
        version: 20,
        name: "url_lineages",
        sql: include_str!("../migrations/sqlite/0020_url_lineages.sql"),
    },
    Migration {
        version: 21,
        name: "url_lineage_fix",
        sql: include_str!("../migrations/sqlite/0021_url_lineage_fix.sql"),
    },
    Migration {
        version: 22,
        name: "second_factors",
        sql: include_str!("../migrations/sqlite/0022_second_factors.sql"),
    },
    Migration {
        version: 23,
        name: "url_superseded",
        sql: include_str!("../migrations/sqlite/0023_url_superseded.sql"),
    },
    Migration {
        version: 24,
        name: "factor_failures",
        sql: include_str!("../migrations/sqlite/0024_factor_failures.sql"),
    },
    Migration {
        version: 25,
        name: "session_origin",
        sql: include_str!("../migrations/sqlite/0025_session_origin.sql"),
    },
    Migration {
        version: 26,
        name: "client_certs",
        sql: include_str!("../migrations/sqlite/0026_client_certs.sql"),
    },
    Migration {
        version: 27,
        name: "disabled_by_operator",
        sql: include_str!("../migrations/sqlite/0027_disabled_by_operator.sql"),
    },
    Migration {
        version: 28,
        name: "single_sign_on",
        sql: include_str!("../migrations/sqlite/0028_single_sign_on.sql"),
    },
    Migration {
        version: 29,
        name: "passkeys",
        sql: include_str!("../migrations/sqlite/0029_passkeys.sql"),
    },
    Migration {
        version: 30,
        name: "client_cas",
        sql: include_str!("../migrations/sqlite/0030_client_cas.sql"),
    },
    Migration {
        version: 31,
        name: "member_recipients",
        sql: include_str!("../migrations/sqlite/0031_member_recipients.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "advisories",
        sql: include_str!("../migrations/postgres/0002_advisories.sql"),
    },
    Migration {
        version: 3,
        name: "notifications",
        sql: include_str!("../migrations/postgres/0003_notifications.sql"),
    },
    Migration {
        version: 4,
        name: "urls",
        sql: include_str!("../migrations/postgres/0004_urls.sql"),
    },
    Migration {
        version: 5,
        name: "botnet",
        sql: include_str!("../migrations/postgres/0005_botnet.sql"),
    },
    Migration {
        version: 6,
        name: "cleanfiles",
        sql: include_str!("../migrations/postgres/0006_cleanfiles.sql"),
    },
    Migration {
        version: 7,
        name: "exchange",
        sql: include_str!("../migrations/postgres/0007_exchange.sql"),
    },
    Migration {
        version: 8,
        name: "partnership",
        sql: include_str!("../migrations/postgres/0008_partnership.sql"),
    },
    Migration {
        version: 9,
        name: "botnet_arrival",
        sql: include_str!("../migrations/postgres/0009_botnet_arrival.sql"),
    },
    Migration {
        version: 10,
        name: "key_authority",
        sql: include_str!("../migrations/postgres/0010_key_authority.sql"),
    },
    Migration {
        version: 11,
        name: "account_life_cycle",
        sql: include_str!("../migrations/postgres/0011_account_life_cycle.sql"),
    },
    Migration {
        version: 12,
        name: "instance_secrets",
        sql: include_str!("../migrations/postgres/0012_instance_secrets.sql"),
    },
    Migration {
        version: 13,
        name: "arrival_ranks",
        sql: include_str!("../migrations/postgres/0013_arrival_ranks.sql"),
    },
    Migration {
        version: 14,
        name: "exploitation_context",
        sql: include_str!("../migrations/postgres/0014_exploitation_context.sql"),
    },
    Migration {
        version: 15,
        name: "advisory_ids",
        sql: include_str!("../migrations/postgres/0015_advisory_ids.sql"),
    },
    Migration {
        version: 16,
        name: "hashlookup",
        sql: include_str!("../migrations/postgres/0016_hashlookup.sql"),
    },
    Migration {
        version: 17,
        name: "url_revocation",
        sql: include_str!("../migrations/postgres/0017_url_revocation.sql"),
    },
    Migration {
        version: 18,
        name: "botnet_indicators",
        sql: include_str!("../migrations/postgres/0018_botnet_indicators.sql"),
    },
    Migration {
        version: 19,
        name: "url_levels",
        sql: include_str!("../migrations/postgres/0019_url_levels.sql"),
    },
    Migration {
        version: 20,
        name: "url_lineages",
        sql: include_str!("../migrations/postgres/0020_url_lineages.sql"),
    },
    Migration {
        version: 21,
        name: "url_lineage_fix",
        sql: include_str!("../migrations/postgres/0021_url_lineage_fix.sql"),
    },
    Migration {
        version: 22,
        name: "second_factors",
        sql: include_str!("../migrations/postgres/0022_second_factors.sql"),
    },
    Migration {
        version: 23,
        name: "url_superseded",
        sql: include_str!("../migrations/postgres/0023_url_superseded.sql"),
    },
    Migration {
        version: 24,
        name: "factor_failures",
        sql: include_str!("../migrations/postgres/0024_factor_failures.sql"),
    },
    Migration {
        version: 25,
        name: "session_origin",
        sql: include_str!("../migrations/postgres/0025_session_origin.sql"),
    },
    Migration {
        version: 26,
        name: "client_certs",
        sql: include_str!("../migrations/postgres/0026_client_certs.sql"),
    },
    Migration {
        version: 27,
        name: "disabled_by_operator",
        sql: include_str!("../migrations/postgres/0027_disabled_by_operator.sql"),
    },
    Migration {
        version: 28,
        name: "single_sign_on",
        sql: include_str!("../migrations/postgres/0028_single_sign_on.sql"),
    },
    Migration {
        version: 29,
        name: "passkeys",
        sql: include_str!("../migrations/postgres/0029_passkeys.sql"),
    },
    Migration {
        version: 30,
        name: "client_cas",
        sql: include_str!("../migrations/postgres/0030_client_cas.sql"),
    },
    Migration {
        version: 31,
        name: "member_recipients",
        sql: include_str!("../migrations/postgres/0031_member_recipients.sql"),
    },
];

/// The bookkeeping table, identical on both engines.
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS isx_schema (
    version     BIGINT PRIMARY KEY,
    name        TEXT   NOT NULL,
    applied_at  BIGINT NOT NULL
)";

/// Splits a migration file into statements (on `;` at the end of a line).
pub(crate) fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| {
        !s.is_empty()
            && !s
                .lines()
                .all(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
    })
}

/// Applies the engine's migrations not yet recorded, in order, each in a
/// write transaction (SQLite: `BEGIN IMMEDIATE`, which takes the write lock
/// up front and waits through the busy timeout) that first serialises
/// against other nodes starting at the same time
/// ([`WriteLock::Migration`]; PostgreSQL: an advisory lock), before the
/// bookkeeping table is made.
pub(crate) async fn run<DB: Engine>(pool: &Pool<DB>) -> Result<usize> {
    run_through(pool, i64::MAX).await
}

/// [`run`] for the migrations up to version `last` (an upgrade test starts
/// from an older schema).
pub(crate) async fn run_through<DB: Engine>(pool: &Pool<DB>, last: i64) -> Result<usize> {
    let mut applied = 0usize;
    for m in DB::MIGRATIONS.iter().filter(|m| m.version <= last) {
        let mut tx = DB::begin_write(pool).await?;
        take_lock(&mut tx, WriteLock::Migration).await?;
        sqlx::query(CREATE_TABLE).run(&mut tx).await?;
        let done: Option<i64> = maybe_scalar(
            sqlx::query("SELECT version FROM isx_schema WHERE version = $1").arg(m.version),
            &mut tx,
        )
        .await?;
        if done.is_some() {
            // End the transaction here: a dropped sqlx transaction rolls
            // back lazily, and on SQLite it would hold the write lock
            // while the next iteration waits for it.
            rollback(tx).await?;
            continue;
        }
        for stmt in statements(m.sql) {
            sqlx::query(stmt)
                .run(&mut tx)
                .await
                .map_err(|source| StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    source,
                })?;
        }
        sqlx::query("INSERT INTO isx_schema (version, name, applied_at) VALUES ($1, $2, $3)")
            .arg(m.version)
            .arg(m.name)
            .arg(
                <isx_domain::SystemClock as isx_domain::Clock>::now(&isx_domain::SystemClock)
                    .as_micros(),
            )
            .run(&mut tx)
            .await?;
        commit(tx).await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}
