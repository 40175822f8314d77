//! The node's errors, by kind: the HTTP edge maps each kind to a status, the command line to
//! a message and an exit code.

use tabadul_domain::DomainError;
use tabadul_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request is malformed or breaks a rule of the domain.
    #[error("{0}")]
    Invalid(String),
    /// The thing does not exist, or the actor may not know that it does.
    #[error("{0} not found")]
    NotFound(String),
    /// The request carries no valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state (a duplicate, a stale version).
    #[error("{0}")]
    Conflict(String),
    /// A file could not be read.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The storage failed or holds something it should not.
    #[error(transparent)]
    Internal(StoreError),
}

impl From<DomainError> for NodeError {
    fn from(error: DomainError) -> Self {
        NodeError::Invalid(error.to_string())
    }
}

impl From<StoreError> for NodeError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => NodeError::NotFound(what),
            StoreError::AlreadyExists(_) | StoreError::VersionConflict { .. } => NodeError::Conflict(error.to_string()),
            StoreError::NotOwner { .. } => NodeError::Forbidden(error.to_string()),
            StoreError::Invalid(message) => NodeError::Invalid(message),
            other => NodeError::Internal(other),
        }
    }
}

pub type Result<T, E = NodeError> = std::result::Result<T, E>;
