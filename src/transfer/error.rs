//! Why an export or import stopped.

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file or the databases are not what the command needs; the message says why.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<diesel::result::Error> for TransferError {
    fn from(e: diesel::result::Error) -> Self {
        TransferError::Db(e.into())
    }
}
