//! The store's errors: what a caller did wrong, apart from what went wrong inside.

use tabadul_domain::{AgencyCode, AlertId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("alert {id} is at version {actual}, not {expected}: somebody changed it meanwhile")]
    VersionConflict { id: AlertId, expected: u64, actual: u64 },
    #[error("alert {id} belongs to {owner}: only its owner may change it")]
    NotOwner { id: AlertId, owner: AgencyCode },
    #[error("{0}")]
    Invalid(String),
    #[error("the store was written by a newer tabadul (schema {found}, this build reads up to {supported})")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("the store holds a record that does not load: {0}")]
    Corrupt(String),
    #[error("storage failed: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether the caller can fix this by changing the request (as opposed to a failure of
    /// the storage itself).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::AlreadyExists(_)
                | StoreError::VersionConflict { .. }
                | StoreError::NotOwner { .. }
                | StoreError::Invalid(_)
        )
    }
}
