//! Hole 7: a store that cannot write. Writes recover by themselves once it
//! can again (the SQLITE_FULL reproduction is `isx_store`'s
//! `writes_recover_by_themselves_after_the_disk_was_full`), and `/healthz`
//! reports the store that cannot write instead of answering 200.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::app::{Backend, TestApp};

/// Runs SQL on the app's database from outside, as an operator's tool
/// would.
async fn sql(app: &TestApp, backend: Backend, statements: &[&str]) {
    use sqlx::{Connection, Executor};
    match backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db_url))
                .await
                .expect("connect");
            for s in statements {
                c.execute(*s).await.expect("sql");
            }
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.db_url)
                .await
                .expect("connect");
            for s in statements {
                c.execute(*s).await.expect("sql");
            }
        }
    }
}

async fn health_reports_a_store_that_cannot_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = || async { app.get("/healthz", "").send().await.expect("send") };
    assert_eq!(health().await.status(), StatusCode::OK);
    // Every write now fails, as on a full disk.
    let (refuse, allow): (&[&str], &[&str]) = match backend {
        Backend::Sqlite => (
            &["CREATE TRIGGER no_space BEFORE INSERT ON isx_health BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"],
            &["DROP TRIGGER no_space"],
        ),
        Backend::Postgres => (
            &[
                "CREATE FUNCTION no_space() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$",
                "CREATE TRIGGER no_space BEFORE INSERT OR UPDATE ON isx_health FOR EACH ROW EXECUTE FUNCTION no_space()",
            ],
            &["DROP TRIGGER no_space ON isx_health", "DROP FUNCTION no_space()"],
        ),
    };
    sql(&app, backend, refuse).await;
    let res = health().await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = res.json().await.expect("problem body");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("cannot write"),
        "{problem}"
    );
    // Space returns: healthy again, without a restart.
    sql(&app, backend, allow).await;
    assert_eq!(health().await.status(), StatusCode::OK);
}

crate::on_both_backends!(health_reports_a_store_that_cannot_write);
