//! Validated codes: agency codes, ISO 3166-1 country codes and ICAO issuing-state codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

macro_rules! code_type {
    ($(#[$meta:meta])* $name:ident, $capacity:expr, $check:expr) => {
        $(#[$meta])*
        ///
        /// Kept inline (a length and the bytes): a check copies the owners' and the checking
        /// agency's codes into every hit and every record of it, thousands a manifest, and a
        /// copy of a `String` is an allocation.
        #[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name {
            len: u8,
            bytes: [u8; $capacity],
        }

        impl $name {
            /// Validates `text` (trimmed, upper-cased) as this kind of code.
            pub fn new(text: &str) -> Result<Self, DomainError> {
                let code = text.trim().to_ascii_uppercase();
                let check: fn(&str) -> Result<(), String> = $check;
                check(&code).map_err(DomainError::new)?;
                let mut bytes = [0; $capacity];
                let (Some(slot), Ok(len)) = (bytes.get_mut(..code.len()), u8::try_from(code.len())) else {
                    return Err(DomainError::new(format!("`{code}` is longer than {} bytes", $capacity)));
                };
                slot.copy_from_slice(code.as_bytes());
                Ok($name { len, bytes })
            }

            pub fn as_str(&self) -> &str {
                // ASCII, checked by `new`.
                std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
            }
        }

        // Ordered as their text (the fields would order them by length first): the bytes
        // after a code are zeros, below every letter, so its bytes compare as its text does.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.bytes.cmp(&other.bytes)
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_str()).finish()
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(text: String) -> Result<Self, DomainError> {
                $name::new(&text)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(text: &str) -> Result<Self, DomainError> {
                $name::new(text)
            }
        }
    };
}

code_type!(
    /// An agency's code, such as `IQ-MOI`: 2 to 32 of `A-Z`, `0-9` and `-`, starting with a letter.
    AgencyCode,
    32,
    |code| {
        let ok = (2..=32).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{code}` is not an agency code (2 to 32 letters, digits and '-', starting with a letter, such as IQ-MOI)"
            ))
        }
    }
);

/// An ISO 3166-1 alpha-2 country code, such as `IQ`, upper case (XK for Kosovo is accepted).
/// Two bytes inline: persons carry them by the million and compare them at every check.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Validates `text` (trimmed, upper-cased) as a country code.
    pub fn new(text: &str) -> Result<Self, DomainError> {
        let code = text.trim().to_ascii_uppercase();
        match code.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(CountryCode([*a, *b])),
            _ => Err(DomainError::new(format!(
                "`{code}` is not an ISO 3166-1 alpha-2 country code (two letters, such as IQ)"
            ))),
        }
    }

    pub fn as_str(&self) -> &str {
        // Two ASCII letters, checked by `new`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        CountryCode::new(&text)
    }
}

impl From<CountryCode> for String {
    fn from(code: CountryCode) -> String {
        code.as_str().to_owned()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CountryCode {
    type Err = DomainError;
    fn from_str(text: &str) -> Result<Self, DomainError> {
        CountryCode::new(text)
    }
}

code_type!(
    /// An issuing state or organisation as ICAO Doc 9303 writes it: three letters such as `IRQ`,
    /// or the one- and two-letter forms it allows (`D` for Germany), padded fillers removed.
    IcaoState,
    3,
    |code| {
        if (1..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(())
        } else {
            Err(format!("`{code}` is not an ICAO state code (one to three letters, such as IRQ or D)"))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        assert_eq!(AgencyCode::new(" iq-moi ").unwrap().as_str(), "IQ-MOI");
        for bad in ["", "I", "-IQ", "IQ MOI", "IQ_MOI", "1Q-MOI", &"A".repeat(33)] {
            assert!(AgencyCode::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn inline_codes_behave_as_their_text() {
        let codes: Vec<AgencyCode> = ["UK-NCA", "IQ-MOI", "FR", "CZ-POLICE", &"Z".repeat(32)]
            .iter()
            .map(|c| AgencyCode::new(c).unwrap())
            .collect();
        let mut sorted = codes.clone();
        sorted.sort();
        let texts: Vec<&str> = sorted.iter().map(AgencyCode::as_str).collect();
        assert_eq!(texts, ["CZ-POLICE", "FR", "IQ-MOI", "UK-NCA", &"Z".repeat(32)]);
        let prefixed = [AgencyCode::new("IQ-MOI").unwrap(), AgencyCode::new("IQ").unwrap()];
        assert!(prefixed[1] < prefixed[0] && prefixed[0].as_str() > prefixed[1].as_str());
        let json = serde_json::to_string(&codes).unwrap();
        assert_eq!(json, format!(r#"["UK-NCA","IQ-MOI","FR","CZ-POLICE","{}"]"#, "Z".repeat(32)));
        assert_eq!(serde_json::from_str::<Vec<AgencyCode>>(&json).unwrap(), codes);
        assert!(serde_json::from_str::<AgencyCode>(r#""iq moi""#).is_err());
        assert_eq!(format!("{:?}", codes[1]), r#"AgencyCode("IQ-MOI")"#);
        assert_eq!(format!("{}", IcaoState::new("irq").unwrap()), "IRQ");
        assert_ne!(AgencyCode::new("IQ").unwrap(), AgencyCode::new("IQ-MOI").unwrap());
    }

    proptest::proptest! {
        /// Codes compare, and are equal, as their texts do.
        #[test]
        fn codes_compare_as_their_texts(a in "[A-Z][A-Z0-9-]{1,31}", b in "[A-Z][A-Z0-9-]{1,31}") {
            let (x, y) = (AgencyCode::new(&a).unwrap(), AgencyCode::new(&b).unwrap());
            proptest::prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            proptest::prop_assert_eq!(x == y, a == b);
        }
    }

    #[test]
    fn country_and_icao_codes() {
        assert_eq!(CountryCode::new("iq").unwrap().as_str(), "IQ");
        assert!(CountryCode::new("IRQ").is_err());
        assert_eq!(IcaoState::new("D").unwrap().as_str(), "D");
        assert_eq!(IcaoState::new("gbr").unwrap().as_str(), "GBR");
        assert!(IcaoState::new("GB1").is_err());
        let parsed: Result<CountryCode, _> = serde_json::from_str("\"FRA\"");
        assert!(parsed.is_err());
    }
}
