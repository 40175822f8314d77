//! The identities of hits (one alert found by one check) and of the notifications a confirmed
//! hit sends to the alert's owner.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AlertId, DomainError};

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(pub u128);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                crate::alert::serialize_uuid(self.0, serializer)
            }
        }

        impl $name {
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                AlertId::parse(text)
                    .map(|id| $name(id.0))
                    .map_err(|_| DomainError::new(format!(concat!("`{}` is not a ", $what, " id (a UUID)"), text)))
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(text: String) -> Result<Self, DomainError> {
                $name::parse(&text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                AlertId(self.0).fmt(f)
            }
        }
    };
}

uuid_id!(
    /// One alert found by one check: what the officer confirms or rejects.
    HitId,
    "hit"
);

uuid_id!(
    /// A notification to an alert's owner that a partner confirmed a hit on it.
    NotificationId,
    "notification"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_say_what_they_are() {
        let id = HitId(0x0193_0000_0000_7000_8000_0000_0000_0001);
        assert_eq!(HitId::parse(&id.to_string()).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<HitId>(&json).unwrap(), id);
        assert!(HitId::parse("nope").unwrap_err().to_string().contains("not a hit id"));
        assert!(NotificationId::parse("nope").unwrap_err().to_string().contains("not a notification id"));
    }
}
