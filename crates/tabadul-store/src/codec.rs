//! How the database backends lay records out: records as JSON text, ids as 16 big-endian
//! bytes (so that byte order is numeric order), counters as signed 64-bit integers. Shared so
//! that the SQLite and PostgreSQL stores write the same bytes and read them back the same way.

use crate::{Record, Result, StoreError};

/// A record as JSON text.
pub fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(encode_error)
}

/// A record as JSON text written into `buffer` (cleared first), for a batch that writes many
/// records one after the other without a string of its own for each.
pub fn json_in<'b, T: serde::Serialize>(buffer: &'b mut Vec<u8>, value: &T) -> Result<&'b str> {
    buffer.clear();
    serde_json::to_writer(&mut *buffer, value).map_err(encode_error)?;
    std::str::from_utf8(buffer).map_err(encode_error)
}

/// A record that could not be written as JSON.
fn encode_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("encode record: {error}"))
}

/// A record read back from JSON text; `what` names it in the error.
pub fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub fn id_bytes(id: u128) -> [u8; 16] {
    id.to_be_bytes()
}

pub fn id_from(bytes: &[u8]) -> Result<u128> {
    let array: [u8; 16] = bytes.try_into().map_err(|_| StoreError::Corrupt("an id is not 16 bytes".into()))?;
    Ok(u128::from_be_bytes(array))
}

/// An agency code read back from a column.
pub fn agency_code(text: &str) -> Result<tabadul_domain::AgencyCode> {
    tabadul_domain::AgencyCode::new(text).map_err(|e| StoreError::Corrupt(format!("agency code {text:?}: {e}")))
}

/// A counter read back from a signed column.
pub fn count(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

/// A counter for a signed column.
pub fn signed(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{what} {value} is too large")))
}

/// What names a record, for an error about it.
pub fn record_key(record: &Record) -> String {
    match record {
        Record::Agency(a) => a.code.to_string(),
        Record::Agreement(a) => a.id.to_string(),
        Record::User(u) => u.user.name.clone(),
        Record::Token(_) => "(a token)".into(),
        Record::Alert(a) => a.alert.id.to_string(),
        Record::Head { owner, .. } => owner.to_string(),
        Record::Change(c) => format!("{} {}", c.owner, c.seq),
        Record::Link(l) => format!("{} {} {}", l.kind, l.from, l.to),
        Record::Hit(h) => h.id.to_string(),
        Record::Notification(n) => n.id.to_string(),
        Record::Federation(_) => "(the federation state)".into(),
        Record::Audit(e) => e.seq.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_order_as_bytes() {
        let ids = [0u128, 1, 255, 256, u64::MAX as u128, u128::MAX];
        for pair in ids.windows(2) {
            assert!(id_bytes(pair[0]) < id_bytes(pair[1]));
            assert_eq!(id_from(&id_bytes(pair[1])).unwrap(), pair[1]);
        }
        assert!(id_from(&[1, 2, 3]).is_err());
        assert!(count(-1, "seq").is_err());
        assert!(signed(u64::MAX, "seq").is_err());
    }
}
