use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open the database at `{path}`: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the database at `{path}` has schema version {found}, newer than this `do` understands ({supported}); \
         upgrade `do` or point `--data-dir` at another directory"
    )]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("{what} `{id}` already exists")]
    Conflict { what: &'static str, id: String },
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
