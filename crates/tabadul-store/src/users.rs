//! Users with their credentials, and the tokens that authenticate requests.

use serde::{Deserialize, Serialize};
use tabadul_domain::User;

/// A user and the hash of their password (argon2id, in PHC string form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    pub user: User,
    pub password_hash: String,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Made by logging in with a password (the console); short-lived.
    Session,
    /// Made for a system that calls the API; lives until it expires or is revoked.
    Api,
}

/// A token as stored: never the token itself, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    pub hash: String,
    pub user: String,
    pub kind: TokenKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    pub created_at_unix_us: i64,
    pub expires_at_unix_us: i64,
    #[serde(default)]
    pub revoked: bool,
}
