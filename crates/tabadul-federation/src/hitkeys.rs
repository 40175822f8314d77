//! What a `hit`-level partner receives of a person alert: keyed hashes of its search keys.
//!
//! The trade-off (also in ARCHITECTURE.md): a `hit`-level partner must be able to find, at its
//! own border post and offline, that a traveller may be the person of an alert, and learn
//! nothing else. It is given, instead of the alert, HMAC-SHA-256 digests under a secret of the
//! two agencies of: each name token in the cross-script comparison space, each pair of tokens of
//! a name, the birth year, and each document as state and number. A check computes the same
//! digests for the traveller and counts equal ones: two name keys (or a document key) make a
//! possible hit, and the officer is told whom to contact, with the reference, and what to do.
//! Nobody without the secret can read anything from the digests, and they are not names: no
//! spelling, no script, no order. The partner, who holds the secret, could still test guesses
//! (a dictionary of names and years) against them; its queries are audited like any other, and
//! an agreement at `hit` level is a statement of trust in that. Matching is exact on
//! comparison-space tokens, so it is coarser than the full scoring: more possible hits, each to
//! be confirmed with the owner, which is what `hit` level means.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tabadul_domain::{Action, AgencyCode, Alert, Subject};

/// The keys of a person or document alert for a `hit`-level partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HitKeys {
    pub owner: AgencyCode,
    /// What to do on a hit (every level is told this).
    pub action: Action,
    /// For a person to protect: the service to refer them to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<time::Date>,
    /// Hex HMAC-SHA-256 digests, sorted (so their order tells nothing).
    pub keys: Vec<String>,
}

/// The hit keys of `alert` under `secret` (shared by the owner and the partner).
pub fn hit_keys(alert: &Alert, secret: &[u8; 32]) -> HitKeys {
    let mut keys = Vec::new();
    match &alert.subject {
        Subject::Person(person) => {
            for name in &person.names {
                name_keys(&name.full, &mut keys);
            }
            for birth in &person.birth_dates {
                keys.push(format!("year:{}", birth.year_value()));
            }
            for document in &person.documents {
                let state = document.issuing_state.as_ref().map_or("", |s| s.as_str());
                keys.push(format!("doc:{state}:{}", document.number.to_uppercase()));
            }
        }
        Subject::Document(document) => {
            keys.push(format!("doc:{}:{}", document.issuing_state.as_str(), document.number.to_uppercase()))
        }
        Subject::Vehicle(vehicle) => keys.extend(vehicle.vin.iter().map(|vin| format!("vin:{}", vin.to_uppercase()))),
    }
    HitKeys {
        owner: alert.owner.clone(),
        action: alert.effective_action(),
        refer_to: alert.refer_to.clone(),
        expires: alert.expires,
        keys: digests(keys, secret),
    }
}

/// The keys of a traveller, to look up in partners' hit keys under `secret`.
pub fn traveller_keys(names: &[String], birth_years: &[i32], secret: &[u8; 32]) -> Vec<String> {
    let mut keys = Vec::new();
    for name in names {
        name_keys(name, &mut keys);
    }
    keys.extend(birth_years.iter().map(|year| format!("year:{year}")));
    digests(keys, secret)
}

fn name_keys(name: &str, keys: &mut Vec<String>) {
    let analysed = tabadul_names::analyze(name);
    let tokens: Vec<String> = analysed.tokens.iter().map(|t| hex::encode(&t.cross)).collect();
    for (i, token) in tokens.iter().enumerate() {
        keys.push(format!("name:{token}"));
        for other in &tokens[i + 1..] {
            let (a, b) = if token <= other { (token, other) } else { (other, token) };
            keys.push(format!("pair:{a}:{b}"));
        }
    }
}

fn digests(mut keys: Vec<String>, secret: &[u8; 32]) -> Vec<String> {
    keys.sort();
    keys.dedup();
    let mut digests: Vec<String> = keys.iter().map(|key| hex::encode(hmac(secret, key.as_bytes()))).collect();
    digests.sort();
    digests
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac(secret: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (i, byte) in secret.iter().enumerate() {
        inner_pad[i] ^= byte;
        outer_pad[i] ^= byte;
    }
    let inner = Sha256::new().chain_update(inner_pad).chain_update(message).finalize();
    Sha256::new().chain_update(outer_pad).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231_test_case_2_shaped() {
        // RFC 4231 case 2 uses a 4-byte key; padded with zeros it is the same HMAC.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac(&key, b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_traveller_in_latin_script_meets_an_alert_in_arabic_script() {
        let secret = [7u8; 32];
        let mut keys = Vec::new();
        name_keys("علي حسن الشمري", &mut keys);
        let alert = digests(keys, &secret);
        let traveller = traveller_keys(&["ALI HASSAN ALSHAMMARI".into()], &[1988], &secret);
        let shared = alert.iter().filter(|k| traveller.contains(k)).count();
        assert!(shared >= 3, "{shared} keys in common");
        let other = traveller_keys(&["Jan Novak".into()], &[1988], &secret);
        assert_eq!(alert.iter().filter(|k| other.contains(k)).count(), 0);
        // Another secret, other keys: nothing in common.
        let elsewhere = traveller_keys(&["ALI HASSAN ALSHAMMARI".into()], &[], &[8u8; 32]);
        assert_eq!(alert.iter().filter(|k| elsewhere.contains(k)).count(), 0);
        assert!(alert.iter().all(|k| k.len() == 64 && !k.contains("ali")));
    }
}
