//! The tamper-evident audit log's chain: how an entry is sealed and how a chain is verified.
//!
//! Pure: the store keeps the entries, this crate only hashes them. Each entry's hash is
//! SHA-256 over a fixed, length-prefixed encoding of its fields and the previous entry's hash
//! (the first entry chains to 32 zero bytes), so changing, removing or reordering any entry
//! breaks every hash after it, and [`ChainVerifier`] names the first entry that does not fit.
//!
//! Encoding (version 1), each field as its little-endian `u64` byte length then its bytes:
//! `"tabadul-audit-v1"`, seq (decimal), at (unix microseconds, decimal), user, agency (empty
//! when none), operation, targets (joined by `\n`), details (the JSON text as stored),
//! result count (decimal), previous hash (32 raw bytes).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// What the first entry chains to.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = hex::decode(text).ok()?;
        Some(Hash(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Hash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("not a 64-digit hex SHA-256"))
    }
}

/// What happened, before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    /// When, in microseconds since the Unix epoch (UTC).
    pub at_unix_us: i64,
    /// Who: the user name.
    pub user: String,
    /// On behalf of which agency, if any (node administration acts for none).
    pub agency: Option<String>,
    /// What: a dotted operation name such as `alert.create` (see [`ops`]).
    pub operation: String,
    /// The ids of the alerts, agreements or agencies the operation touched or returned.
    pub targets: Vec<String>,
    /// A JSON object with the operation's parameters: for reads and checks, what was searched.
    pub details: String,
    /// How many results the operation returned or records it changed.
    pub result_count: u64,
}

impl AuditDraft {
    pub fn new(at: time::OffsetDateTime, user: &str, agency: Option<&str>, operation: &str) -> Self {
        AuditDraft {
            at_unix_us: (at.unix_timestamp_nanos() / 1000) as i64,
            user: user.to_string(),
            agency: agency.map(str::to_string),
            operation: operation.to_string(),
            targets: Vec::new(),
            details: "{}".to_string(),
            result_count: 0,
        }
    }

    pub fn targets(mut self, targets: impl IntoIterator<Item = impl ToString>) -> Self {
        self.targets = targets.into_iter().map(|t| t.to_string()).collect();
        self
    }

    pub fn details(mut self, details: String) -> Self {
        self.details = details;
        self
    }

    pub fn result_count(mut self, count: u64) -> Self {
        self.result_count = count;
        self
    }
}

/// Operation names written to the log.
pub mod ops {
    pub const AGENCY_CREATE: &str = "agency.create";
    pub const AGENCY_LIST: &str = "agency.list";
    pub const AGREEMENT_CREATE: &str = "agreement.create";
    pub const AGREEMENT_REVOKE: &str = "agreement.revoke";
    pub const AGREEMENT_READ: &str = "agreement.read";
    pub const AGREEMENT_LIST: &str = "agreement.list";
    pub const ALERT_CREATE: &str = "alert.create";
    pub const ALERT_UPDATE: &str = "alert.update";
    pub const ALERT_DELETE: &str = "alert.delete";
    pub const ALERT_READ: &str = "alert.read";
    pub const ALERT_LIST: &str = "alert.list";
    pub const ALERT_LINK: &str = "alert.link";
    pub const ALERT_IMPORT: &str = "alert.import";
    pub const ALERT_PURGE: &str = "alert.purge";
    pub const AUDIT_VERIFY: &str = "audit.verify";
    pub const AUDIT_READ: &str = "audit.read";
    pub const CHECK: &str = "check";
    pub const MANIFEST_SCREEN: &str = "manifest.screen";
    pub const HIT_CONFIRM: &str = "hit.confirm";
    pub const HIT_REJECT: &str = "hit.reject";
    pub const HIT_INBOX: &str = "hit.inbox";
    pub const HIT_ACKNOWLEDGE: &str = "hit.acknowledge";
    pub const HIT_FALSE_POSITIVES: &str = "hit.false-positives";
    pub const USER_CREATE: &str = "user.create";
    pub const USER_LIST: &str = "user.list";
    pub const USER_UPDATE: &str = "user.update";
    pub const AUTH_LOGIN: &str = "auth.login";
    pub const AUTH_LOGIN_FAILED: &str = "auth.login-failed";
    pub const AUTH_TOKEN_CREATE: &str = "auth.token-create";
    pub const AUTH_REVOKE: &str = "auth.revoke";
    pub const STORE_MIGRATE: &str = "store.migrate";
    pub const DASHBOARD_READ: &str = "dashboard.read";
    pub const AGREEMENT_CONSENT: &str = "agreement.consent";
}

/// An entry of the log, sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub draft: AuditDraft,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl AuditEntry {
    /// Seals `draft` as entry `seq` after an entry whose hash is `prev_hash`.
    pub fn seal(seq: u64, prev_hash: Hash, draft: AuditDraft) -> AuditEntry {
        let hash = entry_hash(seq, &draft, prev_hash);
        AuditEntry { seq, draft, prev_hash, hash }
    }

    /// The hash this entry's fields give; equals `hash` unless the entry was altered.
    pub fn computed_hash(&self) -> Hash {
        entry_hash(self.seq, &self.draft, self.prev_hash)
    }
}

fn entry_hash(seq: u64, draft: &AuditDraft, prev_hash: Hash) -> Hash {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(b"tabadul-audit-v1");
    field(seq.to_string().as_bytes());
    field(draft.at_unix_us.to_string().as_bytes());
    field(draft.user.as_bytes());
    field(draft.agency.as_deref().unwrap_or("").as_bytes());
    field(draft.operation.as_bytes());
    field(draft.targets.join("\n").as_bytes());
    field(draft.details.as_bytes());
    field(draft.result_count.to_string().as_bytes());
    field(&prev_hash.0);
    Hash(hasher.finalize().into())
}

/// Why a chain does not verify, naming the first entry that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("audit log broken at entry {seq}: {reason}")]
pub struct Broken {
    pub seq: u64,
    pub reason: String,
}

/// Verifies a chain entry by entry, so that a log of any length is checked in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev_hash: Hash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { next_seq: 1, prev_hash: Hash::GENESIS }
    }
}

impl ChainVerifier {
    /// Checks the next entry: its number follows the last, it names the last entry's hash, and
    /// its own hash is what its fields give.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), Broken> {
        let broken = |reason: String| Broken { seq: entry.seq, reason };
        if entry.seq != self.next_seq {
            return Err(Broken {
                seq: self.next_seq,
                reason: format!("entry {} is missing (the next entry is numbered {})", self.next_seq, entry.seq),
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(broken("it does not chain to the entry before it".into()));
        }
        if entry.computed_hash() != entry.hash {
            return Err(broken("its content does not match its hash (the entry was altered)".into()));
        }
        self.next_seq += 1;
        self.prev_hash = entry.hash;
        Ok(())
    }

    /// How many entries verified so far.
    pub fn count(&self) -> u64 {
        self.next_seq - 1
    }

    /// The hash of the last verified entry.
    pub fn head(&self) -> Hash {
        self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut prev = Hash::GENESIS;
        (1..=n)
            .map(|seq| {
                let draft = AuditDraft {
                    at_unix_us: 1_700_000_000_000_000 + seq as i64,
                    user: "amira".into(),
                    agency: Some("IQ-MOI".into()),
                    operation: ops::ALERT_READ.into(),
                    targets: vec![format!("alert-{seq}")],
                    details: "{}".into(),
                    result_count: 1,
                };
                let entry = AuditEntry::seal(seq, prev, draft);
                prev = entry.hash;
                entry
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<u64, Broken> {
        let mut verifier = ChainVerifier::default();
        for entry in entries {
            verifier.push(entry)?;
        }
        Ok(verifier.count())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn any_altered_field_is_found_at_its_entry() {
        let alterations: [fn(&mut AuditEntry); 7] = [
            |e| e.draft.user.push('x'),
            |e| e.draft.agency = None,
            |e| e.draft.operation = ops::ALERT_DELETE.into(),
            |e| e.draft.targets.clear(),
            |e| e.draft.details = "{\"q\":1}".into(),
            |e| e.draft.result_count += 1,
            |e| e.draft.at_unix_us -= 1,
        ];
        for alter in alterations {
            let mut entries = chain(5);
            alter(&mut entries[2]);
            assert_eq!(verify(&entries).unwrap_err().seq, 3);
        }
    }

    #[test]
    fn a_removed_or_reordered_entry_is_found() {
        let mut entries = chain(5);
        entries.remove(1);
        let broken = verify(&entries).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("missing"), "{broken}");

        let mut entries = chain(5);
        entries.swap(1, 2);
        assert_eq!(verify(&entries).unwrap_err().seq, 2);
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].draft.user = "mallory".into();
        entries[2].hash = entries[2].computed_hash();
        assert_eq!(verify(&entries).unwrap_err().seq, 4);
    }

    #[test]
    fn hashes_round_trip_as_hex() {
        let entry = &chain(1)[0];
        assert_eq!(Hash::from_hex(&entry.hash.to_hex()), Some(entry.hash));
        assert_eq!(Hash::from_hex("abc"), None);
    }
}
