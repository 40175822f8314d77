//! Agencies: the ministries, police forces and border services that own alerts.

use serde::{Deserialize, Serialize};

use crate::{AgencyCode, CountryCode, DomainError, NAME_BYTES_MAX};

/// An agency of a partner state. Its code is its identity everywhere in tabadul.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub code: AgencyCode,
    pub country: CountryCode,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_ar: Option<String>,
}

impl Agency {
    pub fn new(
        code: AgencyCode,
        country: CountryCode,
        name: impl Into<String>,
        name_ar: Option<String>,
    ) -> Result<Self, DomainError> {
        let agency = Agency { code, country, name: name.into().trim().to_string(), name_ar };
        agency.validate()?;
        Ok(agency)
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::new("an agency needs a name"));
        }
        for name in std::iter::once(&self.name).chain(self.name_ar.iter()) {
            if name.len() > NAME_BYTES_MAX {
                return Err(DomainError::new(format!("agency name longer than {NAME_BYTES_MAX} bytes")));
            }
        }
        Ok(())
    }
}
