//! Users of a node and their roles. Every user belongs to one agency.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::category::string_enum;
use crate::{AgencyCode, DomainError, NAME_BYTES_MAX};

string_enum!(
    /// What a user may do; a user has one or more. An officer checks travellers and records
    /// the outcome of hits; an analyst keeps the agency's alerts and links and reads its hit
    /// inbox; a supervisor manages the agency's users and the agreements it is party to; an
    /// auditor reads and verifies the audit log; an administrator manages agencies and the node.
    Role {
        Officer = "officer",
        Analyst = "analyst",
        Supervisor = "supervisor",
        Auditor = "auditor",
        Administrator = "administrator",
    }
);

/// A user as the node knows them (without credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The login name: 2 to 64 of `a-z 0-9 . _ @ -`.
    pub name: String,
    pub agency: AgencyCode,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub full_name: String,
    #[serde(default)]
    pub disabled: bool,
}

impl User {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_user_name(&self.name)?;
        if self.roles.is_empty() {
            return Err(DomainError::new("a user needs at least one role"));
        }
        if self.full_name.len() > NAME_BYTES_MAX {
            return Err(DomainError::new(format!("a full name is at most {NAME_BYTES_MAX} bytes")));
        }
        Ok(())
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Checks a login name.
pub fn check_user_name(name: &str) -> Result<(), DomainError> {
    let ok = (2..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(format!(
            "`{name}` is not a user name (2 to 64 of lower-case letters, digits, '.', '_', '@' and '-')"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_validate() {
        let user = User {
            name: "officer.bgw".into(),
            agency: AgencyCode::new("IQ-MOI").unwrap(),
            roles: vec![Role::Officer],
            full_name: String::new(),
            disabled: false,
        };
        assert!(user.validate().is_ok() && user.has(Role::Officer) && !user.has(Role::Auditor));
        assert!(User { name: "Bad Name".into(), ..user.clone() }.validate().is_err());
        assert!(User { roles: vec![], ..user }.validate().is_err());
        assert_eq!("AUDITOR".parse::<Role>().unwrap(), Role::Auditor);
    }
}
