//! The one storage trait, [`Database`], and what the store's code writes
//! its SQL with: a transaction ([`Tx`]) that takes [`Param`]s and gives
//! owned [`Row`]s. The store's statements are written once, in the SQL
//! that SQLite and PostgreSQL share, with `?N` parameters; each backend
//! runs them its own way (`sqlite.rs`, `postgres.rs`).

use std::path::Path;

use crate::error::Failure;

/// A database the store keeps its runs in: SQLite (one file) or
/// PostgreSQL (shared by several processes).
pub(crate) trait Database: Send + Sync {
    /// Run `work` in one transaction, and commit it when `work` returns
    /// `Ok`. A read sees one consistent state. Writes must be safe with
    /// other writers going on at once (PostgreSQL lets them; SQLite's take
    /// turns): a run's own rows are written only under its lock, and every
    /// other write is an insert that a key decides.
    fn transact(
        &self,
        write: bool,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Failure>,
    ) -> Result<(), Failure>;

    /// Take the exclusive lock of `run` without waiting: held until the
    /// guard is dropped, and released by the database or the kernel when
    /// the process dies however it dies.
    fn lock(&self, run: &str) -> Result<Box<dyn Held>, crate::lock::LockError>;

    /// Where it is, as errors name it: the SQLite file, or the PostgreSQL
    /// URL without its password.
    fn place(&self) -> &Path;

    /// Why it may no longer be written, if it may not (see
    /// `RunStore::usable`).
    fn unusable(&self) -> Option<Failure> {
        None
    }
}

/// A run's lock, held until dropped.
pub(crate) trait Held: Send {
    /// Release the lock of a run that has ended, leaving nothing behind.
    fn remove(self: Box<Self>);
}

/// One transaction.
pub(crate) trait Tx {
    /// Run `sql`, binding `params` to `?1`, `?2`…: how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Failure>;

    /// The rows `sql` gives, with `params` bound.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Failure>;
}

impl dyn Tx + '_ {
    /// The first row `sql` gives, if any.
    pub(crate) fn optional(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Option<Row>, Failure> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row `sql` gives; an error when it gives none.
    pub(crate) fn one(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Row, Failure> {
        self.optional(sql, params)?.ok_or_else(|| {
            Failure::Missing(sql.split_whitespace().take(6).collect::<Vec<_>>().join(" "))
        })
    }
}

/// A value bound to a statement.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Param<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::Blob(bytes)
    }
}

impl<'a> From<&'a [u8; 32]> for Param<'a> {
    fn from(bytes: &'a [u8; 32]) -> Self {
        Self::Blob(bytes)
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<u32> for Param<'_> {
    fn from(value: u32) -> Self {
        Self::Int(value.into())
    }
}

impl From<u64> for Param<'_> {
    fn from(value: u64) -> Self {
        Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// `&[Param]` of the values given, for [`Tx`].
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::sql::Param::from($value)),*]
    };
}
pub(crate) use args;

/// A value read from a column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row of a result, its cells in the order the statement gives them.
#[derive(Debug)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    /// Column `index`, as `T`.
    pub(crate) fn get<T: FromCell>(&self, index: usize) -> Result<T, Failure> {
        let cell = self.0.get(index).unwrap_or(&Cell::Null);
        T::from_cell(cell).ok_or_else(|| Failure::Column {
            index,
            found: format!("{cell:?}").chars().take(40).collect(),
            wanted: std::any::type_name::<T>(),
        })
    }
}

/// What a column's value can be read as.
pub(crate) trait FromCell: Sized {
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Int(value) => Some(*value),
            _ => None,
        }
    }
}

impl FromCell for u64 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).and_then(|value| u64::try_from(value).ok())
    }
}

impl FromCell for u32 {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).and_then(|value| u32::try_from(value).ok())
    }
}

impl FromCell for bool {
    fn from_cell(cell: &Cell) -> Option<Self> {
        i64::from_cell(cell).map(|value| value != 0)
    }
}

impl FromCell for String {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Text(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Blob(bytes) => Some(bytes.clone()),
            _ => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_what_they_hold_and_nothing_else() {
        let row = Row(vec![
            Cell::Int(7),
            Cell::Null,
            Cell::Text("a".into()),
            Cell::Int(-1),
        ]);
        assert_eq!(row.get::<u32>(0).ok(), Some(7));
        assert_eq!(row.get::<Option<u64>>(1).ok(), Some(None));
        assert_eq!(row.get::<String>(2).ok().as_deref(), Some("a"));
        assert!(row.get::<u64>(3).is_err(), "a negative count is no u64");
        assert!(row.get::<String>(0).is_err());
        assert!(row.get::<i64>(9).is_err(), "a missing column is an error");
    }
}
