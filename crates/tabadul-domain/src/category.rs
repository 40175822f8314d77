//! Alert categories and the action an officer takes on a hit.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, SubjectKind};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The identifier used on the command line, in the API and in the store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(text: &str) -> Result<Self, DomainError> {
                let text = text.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str().eq_ignore_ascii_case(text))
                    .ok_or_else(|| {
                        let known: Vec<&str> = $name::ALL.iter().map(|value| value.as_str()).collect();
                        DomainError::new(format!(
                            "`{text}` is not a known {}; expected one of: {}",
                            crate::category::words(stringify!($name)),
                            known.join(", ")
                        ))
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

/// `WarningMarker` -> `warning marker`, for error messages.
pub(crate) fn words(type_name: &str) -> String {
    let mut out = String::new();
    for (i, c) in type_name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

string_enum!(
    /// Why an alert exists. One per alert; it decides the default action on a hit, the kind of
    /// subject the alert is about, and which agreements share it.
    Category {
        WantedForArrest = "wanted-for-arrest",
        RefusalOfEntry = "refusal-of-entry",
        MissingPerson = "missing-person",
        TraffickingRisk = "trafficking-risk",
        SuspectedTrafficker = "suspected-trafficker",
        SuspectedSmuggler = "suspected-smuggler",
        Terrorism = "terrorism",
        DiscreetCheck = "discreet-check",
        InquiryCheck = "inquiry-check",
        SpecificCheck = "specific-check",
        StolenDocument = "stolen-document",
        StolenVehicle = "stolen-vehicle",
    }
);

string_enum!(
    /// What the officer does on a hit.
    Action {
        Arrest = "arrest",
        RefuseEntry = "refuse-entry",
        ProtectAndRefer = "protect-and-refer",
        ReportDiscreetly = "report-discreetly",
        Question = "question",
        Seize = "seize",
    }
);

impl Category {
    /// The action on a hit unless the alert overrides it. A person at risk of trafficking, or a
    /// missing person, is protected and referred, never arrested.
    pub fn default_action(self) -> Action {
        match self {
            Category::WantedForArrest => Action::Arrest,
            Category::RefusalOfEntry => Action::RefuseEntry,
            Category::MissingPerson | Category::TraffickingRisk => Action::ProtectAndRefer,
            Category::DiscreetCheck => Action::ReportDiscreetly,
            Category::SuspectedTrafficker
            | Category::SuspectedSmuggler
            | Category::Terrorism
            | Category::InquiryCheck
            | Category::SpecificCheck => Action::Question,
            Category::StolenDocument | Category::StolenVehicle => Action::Seize,
        }
    }

    /// The kind of subject alerts of this category are about.
    pub fn subject_kind(self) -> SubjectKind {
        match self {
            Category::StolenDocument => SubjectKind::Document,
            Category::StolenVehicle => SubjectKind::Vehicle,
            _ => SubjectKind::Person,
        }
    }

    /// Whether a hit on this category protects the person rather than acts against them.
    pub fn is_protective(self) -> bool {
        matches!(self, Category::MissingPerson | Category::TraffickingRisk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for category in Category::ALL {
            assert_eq!(category.as_str().parse::<Category>().unwrap(), *category);
            let json = serde_json::to_string(category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.as_str()));
        }
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>().unwrap(), *action);
        }
    }

    #[test]
    fn unknown_category_lists_the_known_ones() {
        let err = "wanted".parse::<Category>().unwrap_err().to_string();
        assert!(err.contains("not a known category"), "{err}");
        assert!(err.contains("wanted-for-arrest"), "{err}");
    }

    #[test]
    fn protective_categories_never_arrest() {
        for category in Category::ALL.iter().filter(|c| c.is_protective()) {
            assert_eq!(category.default_action(), Action::ProtectAndRefer);
        }
    }
}
