//! Reading rows into records: a value of the wrong type or out of range is `Corrupt`; and the
//! JSON and SQL helpers every module shares.

use crate::StoreError;
use rusqlite::Row;
use rusqlite::types::FromSql;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Display;
use std::str::FromStr;

/// Reads a row's columns one after the other, in the order of the `SELECT`. Looking a
/// column up by name costs a scan of the statement's column names per value (most of the
/// time of reading a 1,000-step status document); the names are kept for error messages,
/// and debug builds check them against the statement.
pub(crate) struct Columns<'a, 'r> {
    row: &'a Row<'r>,
    next: usize,
    what: &'static str,
}

impl<'a, 'r> Columns<'a, 'r> {
    pub(crate) fn new(row: &'a Row<'r>, what: &'static str) -> Self {
        Columns { row, next: 0, what }
    }

    pub(crate) fn get<T: FromSql>(&mut self, name: &str) -> Result<T, StoreError> {
        let index = self.next;
        self.next += 1;
        debug_assert_eq!(
            self.row.as_ref().column_name(index).ok(),
            Some(name),
            "column {index} of a {} query",
            self.what
        );
        self.row.get(index).map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt {
                what: self.what,
                detail: format!("column `{name}`: {e}"),
            },
            other => StoreError::Sqlite(other),
        })
    }

    pub(crate) fn int<T: TryFrom<i64>>(&mut self, name: &str) -> Result<T, StoreError> {
        let value: i64 = self.get(name)?;
        T::try_from(value).map_err(|_| out_of_range(name, self.what, value))
    }

    pub(crate) fn opt_int<T: TryFrom<i64>>(&mut self, name: &str) -> Result<Option<T>, StoreError> {
        let value: Option<i64> = self.get(name)?;
        value
            .map(|v| T::try_from(v).map_err(|_| out_of_range(name, self.what, v)))
            .transpose()
    }

    /// A text column parsed with `FromStr` (the enums).
    pub(crate) fn parsed<T>(&mut self, name: &str) -> Result<T, StoreError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let text: String = self.get(name)?;
        text.parse().map_err(|e: T::Err| StoreError::Corrupt {
            what: self.what,
            detail: format!("column `{name}`: {e}"),
        })
    }

    pub(crate) fn json<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, StoreError> {
        let text: String = self.get(name)?;
        parse_json(&text, name, self.what)
    }

    pub(crate) fn opt_json<T: DeserializeOwned>(
        &mut self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = self.get(name)?;
        text.map(|t| parse_json(&t, name, self.what)).transpose()
    }
}

pub(crate) fn out_of_range(name: &str, what: &'static str, value: i64) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("column `{name}`: value {value} is out of range"),
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(
    text: &str,
    name: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        detail: format!("column `{name}`: {e}"),
    })
}

// ---- writing helpers ----

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))
}

/// `Value::Null` is stored as SQL `NULL`.
pub(crate) fn nullable_json(value: &serde_json::Value) -> Result<Option<String>, StoreError> {
    if value.is_null() {
        Ok(None)
    } else {
        to_json(value).map(Some)
    }
}

pub(crate) fn expect_one_row(changed: usize) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    } else {
        Ok(())
    }
}

pub(crate) fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Puts the database path into errors raised while opening it.
pub(crate) fn with_path(error: StoreError, path: &str) -> StoreError {
    match error {
        StoreError::Sqlite(source) => StoreError::Open {
            path: path.to_owned(),
            source,
        },
        other => other,
    }
}
