//! Agreements (memoranda of understanding): which partners see which categories, at which level.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AgencyCode, Category, DomainError, PARTIES_PER_AGREEMENT_MAX, TEXT_BYTES_MAX};

/// The identity of an agreement (a UUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgreementId(pub u128);

impl TryFrom<String> for AgreementId {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        AgreementId::parse(&text)
    }
}

impl From<AgreementId> for String {
    fn from(id: AgreementId) -> String {
        id.to_string()
    }
}

impl AgreementId {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        crate::AlertId::parse(text)
            .map(|id| AgreementId(id.0))
            .map_err(|_| DomainError::new(format!("`{text}` is not an agreement id (a UUID)")))
    }
}

impl fmt::Display for AgreementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::AlertId(self.0).fmt(f)
    }
}

/// How much of an alert a partner sees. Ordered: `Hit` < `Full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharingLevel {
    /// The partner's checks learn that there is a hit, the action and the owner to contact.
    Hit,
    /// The partner sees the whole alert.
    Full,
}

impl std::str::FromStr for SharingLevel {
    type Err = DomainError;
    fn from_str(text: &str) -> Result<Self, DomainError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hit" => Ok(SharingLevel::Hit),
            "full" => Ok(SharingLevel::Full),
            other => Err(DomainError::new(format!("`{other}` is not a sharing level (full or hit)"))),
        }
    }
}

impl fmt::Display for SharingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SharingLevel::Hit => "hit",
            SharingLevel::Full => "full",
        })
    }
}

/// An agreement between two or more agencies. Every party shares its alerts of the covered
/// categories with every other party, at the level set per category, from `valid_from` to
/// `valid_until` (inclusive) unless revoked earlier — once every party has consented: an
/// agreement one party proposes shares nothing while others are still `awaiting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    pub id: AgreementId,
    pub title: String,
    pub parties: BTreeSet<AgencyCode>,
    pub levels: BTreeMap<Category, SharingLevel>,
    #[serde(with = "crate::serde_date")]
    pub valid_from: time::Date,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::serde_date::option")]
    pub valid_until: Option<time::Date>,
    /// The memorandum of understanding this agreement implements.
    pub legal_reference: String,
    /// From this day on the agreement no longer applies.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::serde_date::option")]
    pub revoked_on: Option<time::Date>,
    /// The parties that have not consented yet; the agreement applies only when none is left.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub awaiting: BTreeSet<AgencyCode>,
}

impl Agreement {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.title.trim().is_empty() {
            return Err(DomainError::new("an agreement needs a title"));
        }
        if self.parties.len() < 2 {
            return Err(DomainError::new("an agreement needs at least two parties"));
        }
        if self.parties.len() > PARTIES_PER_AGREEMENT_MAX {
            return Err(DomainError::new(format!("an agreement has at most {PARTIES_PER_AGREEMENT_MAX} parties")));
        }
        if self.levels.is_empty() {
            return Err(DomainError::new("an agreement must cover at least one category"));
        }
        if self.legal_reference.trim().is_empty() {
            return Err(DomainError::new("an agreement needs its legal reference (the memorandum)"));
        }
        if self.title.len() > TEXT_BYTES_MAX || self.legal_reference.len() > TEXT_BYTES_MAX {
            return Err(DomainError::new(format!("title or legal reference longer than {TEXT_BYTES_MAX} bytes")));
        }
        if let Some(until) = self.valid_until
            && until < self.valid_from
        {
            return Err(DomainError::new("an agreement cannot end before it starts"));
        }
        if !self.awaiting.is_subset(&self.parties) {
            return Err(DomainError::new("only a party can be awaited to consent to an agreement"));
        }
        Ok(())
    }

    /// Whether the agreement applies on `date`: every party consented, within its dates, not
    /// revoked.
    pub fn is_active_on(&self, date: time::Date) -> bool {
        self.awaiting.is_empty()
            && self.valid_from <= date
            && self.valid_until.is_none_or(|until| date <= until)
            && self.revoked_on.is_none_or(|revoked| date < revoked)
    }

    /// The level at which `viewer` sees `owner`'s alerts of `category` under this agreement on
    /// `date`, if at all.
    pub fn level_for(
        &self,
        owner: &AgencyCode,
        category: Category,
        viewer: &AgencyCode,
        date: time::Date,
    ) -> Option<SharingLevel> {
        if owner == viewer || !self.is_active_on(date) {
            return None;
        }
        if !self.parties.contains(owner) || !self.parties.contains(viewer) {
            return None;
        }
        self.levels.get(&category).copied()
    }
}
