use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A row the operation refers to does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule would be broken (e.g. a member name already taken).
    #[error("{0} already exists")]
    Conflict(String),
    /// A reference to another row is dangling (e.g. a user of an unknown member).
    #[error("{0}")]
    Reference(String),
    /// The database holds a value isx cannot read back; a bug or manual edit.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot open the database: {0}")]
    Open(String),
    /// A value the database cannot hold (text with a NUL character on
    /// PostgreSQL): the caller's input, not a failure of the store.
    #[error("{0}")]
    Unstorable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Writing what was read failed (a full disk while streaming records).
    #[error("cannot write: {0}")]
    Io(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // 22021: invalid byte sequence (a NUL in text); 22P05: a
            // character jsonb cannot hold (\u0000).
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return StoreError::Unstorable(
                    "text must not contain NUL (\\u0000) characters".into(),
                );
            }
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    /// Maps driver errors, recognising uniqueness and foreign-key violations
    /// on both engines.
    pub(crate) fn from_sqlx(what: &str, e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::Reference(format!(
                    "{what} refers to something that does not exist"
                ));
            }
        }
        StoreError::from(e)
    }
}
