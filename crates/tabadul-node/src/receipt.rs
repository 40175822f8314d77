//! Receipts: what a node signs for every check, so that an agency can later prove what was
//! checked, when, against which data, and what the answer was.
//!
//! A receipt holds the SHA-256 of the traveller data searched and of the result (each as
//! canonical JSON: keys sorted, no spaces), the data version (the last change-log sequence
//! number of each owner agency: the change log rebuilds exactly that state), the check's entry
//! in the audit log, and an ed25519 signature by the node's key over all of it.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::canonical_json;
use crate::{NodeError, Result};

/// What the signature covers begins with this, so that no other signed message of the node
/// can pass for a receipt.
const DOMAIN: &[u8] = b"tabadul check receipt v1\n";

/// The node's signing key.
#[derive(Clone)]
pub struct NodeKey {
    signing: SigningKey,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.public_hex())
    }
}

impl NodeKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<NodeKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NodeError::Invalid(format!("no randomness for a node key: {e}")))?;
        Ok(NodeKey { signing: SigningKey::from_bytes(&seed) })
    }

    /// A key from its secret seed, 64 hexadecimal digits (as [`NodeKey::secret_hex`] writes it).
    pub fn from_secret_hex(text: &str) -> Result<NodeKey> {
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| NodeError::Invalid("a node key is 64 hexadecimal digits".into()))?;
        Ok(NodeKey { signing: SigningKey::from_bytes(&seed) })
    }

    pub fn secret_hex(&self) -> String {
        hex::encode(self.signing.to_bytes())
    }

    /// The public key, 64 hexadecimal digits: what partners use to verify receipts.
    /// The ed25519 key itself: the node signs its replication envelopes with it too.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }
}

/// The last change-log sequence number of one owner agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataHead {
    pub owner: String,
    pub seq: u64,
}

/// A signed receipt of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The check's id.
    pub id: String,
    /// When the check ran (RFC 3339, UTC).
    pub at: String,
    pub agency: String,
    pub user: String,
    /// The border crossing point.
    pub post: String,
    /// SHA-256 of the traveller data searched, as canonical JSON.
    pub query_sha256: String,
    /// SHA-256 of the result, as canonical JSON.
    pub result_sha256: String,
    /// The data the check ran against.
    pub data_version: Vec<DataHead>,
    /// On a node that replicates others' data (a border post, or a node with partners): the
    /// last envelope of each origin's stream applied when the check ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_version: Vec<DataHead>,
    /// The check's entry in the node's audit log.
    pub audit_seq: u64,
    /// The node's public key (hex).
    pub node_key: String,
    /// The ed25519 signature (hex) of everything above.
    #[serde(default)]
    pub signature: String,
}

impl Receipt {
    /// The bytes the signature covers: the domain, then the receipt without its signature as
    /// canonical JSON.
    fn signed_bytes(&self) -> Vec<u8> {
        let unsigned = Receipt { signature: String::new(), ..self.clone() };
        let mut bytes = DOMAIN.to_vec();
        bytes.extend_from_slice(canonical_json(&unsigned).as_bytes());
        bytes
    }

    pub(crate) fn sign(mut self, key: &NodeKey) -> Receipt {
        self.node_key = key.public_hex();
        self.signature = hex::encode(key.signing.sign(&self.signed_bytes()).to_bytes());
        self
    }

    /// Whether the signature is the node key's over this receipt.
    fn signature_valid(&self) -> bool {
        let key: Option<[u8; 32]> = hex::decode(&self.node_key).ok().and_then(|b| b.try_into().ok());
        let signature: Option<[u8; 64]> = hex::decode(&self.signature).ok().and_then(|b| b.try_into().ok());
        let (Some(key), Some(signature)) = (key, signature) else { return false };
        let Ok(key) = VerifyingKey::from_bytes(&key) else { return false };
        key.verify(&self.signed_bytes(), &Signature::from_bytes(&signature)).is_ok()
    }
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What verifying a receipt found.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptVerification {
    pub receipt: Receipt,
    /// The signature is valid for the key the receipt names.
    pub signature_valid: bool,
    /// The key the receipt names is the one trusted (this node's, or the one given).
    pub key_trusted: bool,
    /// Whether the traveller data given with the receipt is what it was signed over (none when
    /// only the receipt was given).
    pub query_matches: Option<bool>,
    /// Whether the result given with the receipt is what it was signed over.
    pub result_matches: Option<bool>,
}

impl ReceiptVerification {
    pub fn is_valid(&self) -> bool {
        self.signature_valid
            && self.key_trusted
            && self.query_matches != Some(false)
            && self.result_matches != Some(false)
    }

    /// What is wrong, in words.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.signature_valid {
            problems.push("the signature does not match the receipt: it was altered or not signed by its key".into());
        }
        if !self.key_trusted {
            problems.push(format!("the receipt is signed by key {}, not the node's", self.receipt.node_key));
        }
        if self.query_matches == Some(false) {
            problems.push("the traveller data is not what the receipt was signed over".into());
        }
        if self.result_matches == Some(false) {
            problems.push("the result is not what the receipt was signed over".into());
        }
        problems
    }
}

/// Verifies a receipt against the trusted public key (hex): `document` is a receipt, or a
/// check as `check --json` prints it (`{"check": {..., "traveller", "result"}, "receipt"}`),
/// whose traveller data and result are then verified too.
pub fn verify_receipt(document: &serde_json::Value, trusted_key_hex: &str) -> Result<ReceiptVerification> {
    let (receipt_value, check) = match document.get("receipt") {
        Some(receipt) => (receipt, document.get("check")),
        None => (document, None),
    };
    let receipt: Receipt = serde_json::from_value(receipt_value.clone())
        .map_err(|e| NodeError::Invalid(format!("this is not a tabadul receipt: {e}")))?;
    let hash_of = |field: &str| check.and_then(|c| c.get(field)).map(|v| sha256_hex(&v.to_string()));
    let query_matches = hash_of("traveller").map(|hash| hash == receipt.query_sha256);
    let result_matches = hash_of("result").map(|hash| hash == receipt.result_sha256);
    Ok(ReceiptVerification {
        signature_valid: receipt.signature_valid(),
        key_trusted: receipt.node_key.eq_ignore_ascii_case(trusted_key_hex.trim()),
        query_matches,
        result_matches,
        receipt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            id: "0193".into(),
            at: "2026-11-29T06:00:00Z".into(),
            agency: "IQ-MOI".into(),
            user: "officer".into(),
            post: "BGW-AIRPORT".into(),
            query_sha256: sha256_hex("{}"),
            result_sha256: sha256_hex("[]"),
            data_version: vec![DataHead { owner: "IQ-MOI".into(), seq: 12 }],
            replica_version: Vec::new(),
            audit_seq: 40,
            node_key: String::new(),
            signature: String::new(),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_and_any_change_breaks_it() {
        let key = NodeKey::generate().unwrap();
        let signed = receipt().sign(&key);
        let value = serde_json::to_value(&signed).unwrap();
        assert!(verify_receipt(&value, &key.public_hex()).unwrap().is_valid());

        let mut altered = signed.clone();
        altered.data_version[0].seq = 13;
        let value = serde_json::to_value(&altered).unwrap();
        let verification = verify_receipt(&value, &key.public_hex()).unwrap();
        assert!(!verification.signature_valid && !verification.is_valid());

        // A post's receipt names the replicated streams too; they are signed like the rest.
        let post =
            Receipt { replica_version: vec![DataHead { owner: "FR-MI".into(), seq: 7 }], ..receipt() }.sign(&key);
        assert!(verify_receipt(&serde_json::to_value(&post).unwrap(), &key.public_hex()).unwrap().is_valid());
        let mut altered = post.clone();
        altered.replica_version[0].seq = 8;
        assert!(!verify_receipt(&serde_json::to_value(&altered).unwrap(), &key.public_hex()).unwrap().is_valid());
        // A receipt without them reads as before (the field is left out, not empty).
        assert!(!serde_json::to_string(&signed).unwrap().contains("replica_version"));

        let other = NodeKey::generate().unwrap();
        let forged = receipt().sign(&other);
        let verification = verify_receipt(&serde_json::to_value(&forged).unwrap(), &key.public_hex()).unwrap();
        assert!(verification.signature_valid && !verification.key_trusted && !verification.is_valid());
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let key = NodeKey::generate().unwrap();
        let again = NodeKey::from_secret_hex(&key.secret_hex()).unwrap();
        assert_eq!(again.public_hex(), key.public_hex());
        assert!(NodeKey::from_secret_hex("abc").is_err());
    }
}
