//! Users, passwords and tokens: who may call the API, and as whom.
//!
//! Passwords are hashed with argon2id; tokens are 32 random bytes shown once to their holder
//! and kept only as their SHA-256, so a copy of the store authenticates nobody. A session
//! token (from logging in) lives [`SESSION_MINUTES`]; an API token (for a system) lives the
//! days it was made for; either can be revoked.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Serialize;
use tabadul_audit::ops;
use tabadul_domain::{AgencyCode, Role, User, unix_us};
use tabadul_store::{StoredUser, TokenKind, TokenRecord};

use crate::{Actor, Node, NodeError, Result, details, sha256_hex};

/// How long a session lasts after logging in.
pub const SESSION_MINUTES: i64 = 8 * 60;
/// The longest an API token may live.
pub const API_TOKEN_DAYS_MAX: i64 = 366;
/// Passwords are at least this long.
pub const PASSWORD_CHARS_MIN: usize = 12;
/// ... and at most this many bytes (argon2 reads them all).
pub const PASSWORD_BYTES_MAX: usize = 1024;
/// Tokens begin with this, so that a leaked one is recognisable in logs and scanners.
const TOKEN_PREFIX: &str = "tbd_";

/// A token as its holder lists it: never the secret, an id made of its hash's first digits.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub kind: TokenKind,
    pub label: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked: bool,
}

/// How many hex digits of a token's hash name it.
const TOKEN_ID_DIGITS: usize = 16;

/// What a change to a user sets; what it leaves `None` stays.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub roles: Option<Vec<Role>>,
    pub full_name: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

/// A token just made: the secret, shown once, and when it expires.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub user: String,
    pub agency: AgencyCode,
    pub roles: Vec<Role>,
    /// RFC 3339.
    pub expires_at: String,
}

fn unauthenticated() -> NodeError {
    NodeError::Unauthenticated("wrong user name or password".into())
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(NodeError::Invalid(format!("a password has at least {PASSWORD_CHARS_MIN} characters")));
    }
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(NodeError::Invalid(format!("a password has at most {PASSWORD_BYTES_MAX} bytes")));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| NodeError::Invalid(format!("the password could not be hashed: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the user does not exist, so that the answer takes as long
/// as for a wrong password and does not tell which user names exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

fn rfc3339(unix_us: i64) -> String {
    tabadul_domain::format_unix_us(unix_us).unwrap_or_default()
}

impl Node {
    /// Adds a user. A supervisor adds users of its own agency (never administrators); an
    /// administrator adds anyone.
    pub fn add_user(&self, actor: &Actor, user: User, password: &str) -> Result<User> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        if !actor.roles.contains(&Role::Administrator) {
            if actor.agency.as_ref() != Some(&user.agency) {
                return Err(NodeError::Forbidden("a supervisor adds users of its own agency only".into()));
            }
            if user.has(Role::Administrator) {
                return Err(NodeError::Forbidden("only an administrator makes administrators".into()));
            }
        }
        user.validate()?;
        self.known_agency(&user.agency)?;
        check_password(password)?;
        let stored = StoredUser { user: user.clone(), password_hash: hash_password(password)? };
        let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
        let audit = self
            .audit(actor, ops::USER_CREATE)
            .details(details(serde_json::json!({ "user": user.name, "agency": user.agency, "roles": roles })));
        self.store.create_user(&stored, audit)?;
        Ok(user)
    }

    /// The users the actor may manage: its agency's (a supervisor), or all (an administrator).
    pub fn users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        let agency = if actor.roles.contains(&Role::Administrator) { None } else { Some(actor.agency()?) };
        let users: Vec<User> = self.store.users(agency)?.into_iter().map(|u| u.user).collect();
        self.store.append_audit(self.audit(actor, ops::USER_LIST).result_count(users.len() as u64))?;
        Ok(users)
    }

    /// Logs a user in with their password: a session token.
    pub fn login(&self, name: &str, password: &str) -> Result<IssuedToken> {
        let stored = self.store.user(name.trim())?;
        let Some(stored) = stored.filter(|s| !s.user.disabled) else {
            let _ = password_matches(password, decoy_hash());
            self.failed_login(name)?;
            return Err(unauthenticated());
        };
        if password.len() > PASSWORD_BYTES_MAX || !password_matches(password, &stored.password_hash) {
            self.failed_login(name)?;
            return Err(unauthenticated());
        }
        let minutes = time::Duration::minutes(SESSION_MINUTES);
        self.issue(&stored.user, TokenKind::Session, "", minutes, ops::AUTH_LOGIN)
    }

    fn failed_login(&self, name: &str) -> Result<()> {
        let name: String = name.chars().take(64).collect();
        let audit = tabadul_audit::AuditDraft::new(self.now(), &name, None, ops::AUTH_LOGIN_FAILED);
        self.store.append_audit(audit)?;
        Ok(())
    }

    /// Makes an API token for the actor's own use by a system, living `days`.
    pub fn create_api_token(&self, actor: &Actor, label: &str, days: i64) -> Result<IssuedToken> {
        if !(1..=API_TOKEN_DAYS_MAX).contains(&days) {
            return Err(NodeError::Invalid(format!("an API token lives 1 to {API_TOKEN_DAYS_MAX} days")));
        }
        let stored =
            self.store.user(&actor.user)?.ok_or_else(|| NodeError::NotFound(format!("user {}", actor.user)))?;
        let label: String = label.trim().chars().take(128).collect();
        self.issue(&stored.user, TokenKind::Api, &label, time::Duration::days(days), ops::AUTH_TOKEN_CREATE)
    }

    fn issue(
        &self,
        user: &User,
        kind: TokenKind,
        label: &str,
        life: time::Duration,
        operation: &str,
    ) -> Result<IssuedToken> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| NodeError::Invalid(format!("no randomness for a token: {e}")))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let now = self.now();
        let record = TokenRecord {
            hash: sha256_hex(&token),
            user: user.name.clone(),
            kind,
            label: label.to_string(),
            created_at_unix_us: unix_us(now),
            expires_at_unix_us: unix_us(now + life),
            revoked: false,
        };
        let actor = Actor::for_user(user);
        let audit = self
            .audit(&actor, operation)
            .details(details(serde_json::json!({ "kind": kind, "label": label, "token": &record.hash[..12] })));
        self.store.create_token(&record, audit)?;
        Ok(IssuedToken {
            token,
            user: user.name.clone(),
            agency: user.agency.clone(),
            roles: user.roles.clone(),
            expires_at: rfc3339(record.expires_at_unix_us),
        })
    }

    /// The actor a token stands for: refused if unknown, expired, revoked, or its user is
    /// disabled.
    pub fn authenticate(&self, token: &str) -> Result<Actor> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(NodeError::Unauthenticated("that is not a tabadul token".into()));
        }
        let record = self
            .store
            .token(&sha256_hex(token))?
            .ok_or_else(|| NodeError::Unauthenticated("unknown token: log in again".into()))?;
        if record.revoked {
            return Err(NodeError::Unauthenticated("this token was revoked: log in again".into()));
        }
        if record.expires_at_unix_us <= unix_us(self.now()) {
            return Err(NodeError::Unauthenticated("this token has expired: log in again".into()));
        }
        let user = self
            .store
            .user(&record.user)?
            .filter(|u| !u.user.disabled)
            .ok_or_else(|| NodeError::Unauthenticated("this user is disabled".into()))?;
        Ok(Actor::for_user(&user.user))
    }

    /// Changes a user: a supervisor those of its own agency (never to or from administrator),
    /// an administrator anyone. A disabled user's tokens stop working at once.
    pub fn update_user(&self, actor: &Actor, name: &str, change: UserChange) -> Result<User> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        let mut stored = self.store.user(name)?.ok_or_else(|| NodeError::NotFound(format!("user {name}")))?;
        if !actor.roles.contains(&Role::Administrator) {
            if actor.agency.as_ref() != Some(&stored.user.agency) {
                return Err(NodeError::NotFound(format!("user {name}")));
            }
            let makes_admin = change.roles.as_ref().is_some_and(|roles| roles.contains(&Role::Administrator));
            if stored.user.has(Role::Administrator) || makes_admin {
                return Err(NodeError::Forbidden("only an administrator changes administrators".into()));
            }
        }
        if let Some(roles) = change.roles {
            stored.user.roles = roles;
        }
        if let Some(full_name) = change.full_name {
            stored.user.full_name = full_name.trim().to_string();
        }
        if let Some(disabled) = change.disabled {
            stored.user.disabled = disabled;
        }
        if let Some(password) = &change.password {
            check_password(password)?;
            stored.password_hash = hash_password(password)?;
        }
        stored.user.validate()?;
        let roles: Vec<&str> = stored.user.roles.iter().map(|r| r.as_str()).collect();
        let audit = self.audit(actor, ops::USER_UPDATE).details(details(serde_json::json!({
            "user": name, "roles": roles, "disabled": stored.user.disabled, "password_changed": change.password.is_some(),
        })));
        self.store.update_user(&stored, audit)?;
        Ok(stored.user)
    }

    /// The actor's own tokens, without their secrets.
    pub fn tokens(&self, actor: &Actor) -> Result<Vec<TokenInfo>> {
        let tokens = self.store.tokens(&actor.user)?;
        Ok(tokens
            .into_iter()
            .map(|t| TokenInfo {
                id: t.hash[..TOKEN_ID_DIGITS.min(t.hash.len())].to_string(),
                kind: t.kind,
                label: t.label,
                created_at: rfc3339(t.created_at_unix_us),
                expires_at: rfc3339(t.expires_at_unix_us),
                revoked: t.revoked,
            })
            .collect())
    }

    /// Revokes one of the actor's own tokens by its id (as [`Node::tokens`] lists it).
    pub fn revoke_token_by_id(&self, actor: &Actor, id: &str) -> Result<()> {
        let id = id.trim().to_ascii_lowercase();
        let found = self
            .store
            .tokens(&actor.user)?
            .into_iter()
            .find(|t| t.hash.len() >= TOKEN_ID_DIGITS && t.hash[..TOKEN_ID_DIGITS] == id);
        let token = found.ok_or_else(|| NodeError::NotFound(format!("token {id}")))?;
        let audit =
            self.audit(actor, ops::AUTH_REVOKE).details(details(serde_json::json!({ "token": &token.hash[..12] })));
        Ok(self.store.revoke_token(&token.hash, audit)?)
    }

    /// Revokes a token (logging out): the holder revokes their own.
    pub fn revoke_token(&self, actor: &Actor, token: &str) -> Result<()> {
        let hash = sha256_hex(token.trim());
        let record = self.store.token(&hash)?.filter(|r| r.user == actor.user);
        if record.is_none() {
            return Err(NodeError::NotFound("token".into()));
        }
        let audit = self.audit(actor, ops::AUTH_REVOKE).details(details(serde_json::json!({ "token": &hash[..12] })));
        Ok(self.store.revoke_token(&hash, audit)?)
    }
}
