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
    #[error(
        "cannot write to the database `{path}`: the disk is full; free some space there and \
         try again (nothing was changed)"
    )]
    DiskFull { path: String },
    #[error(
        "cannot write to the database `{path}`: it is read-only ({detail}); make the file and \
         its directory writable, then restart the daemon with `do daemon stop`"
    )]
    ReadOnly { path: String, detail: String },
    #[error("a failed write could not be undone, so every write of its batch was rolled back")]
    BatchRolledBack,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Names the database file in the errors a person can fix there: a full disk, a
    /// read-only file or file system.
    pub(crate) fn at(self, path: Option<&str>) -> StoreError {
        use rusqlite::ErrorCode;
        let path = path.unwrap_or("the database").to_owned();
        match &self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => match failure.code {
                ErrorCode::DiskFull => StoreError::DiskFull { path },
                ErrorCode::ReadOnly => StoreError::ReadOnly {
                    detail: self.to_string(),
                    path,
                },
                _ => self,
            },
            _ => self,
        }
    }
}
