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
    /// Hex HMAC-SHA-256 digests, each after the kind of key it hides (`n:` a name token, `p:` a
    /// pair of tokens of one name, `y:` a birth year, `d:` a document), sorted (so their order
    /// tells nothing).
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
                keys.push(year_key(i32::from(birth.year_value())));
            }
            for document in &person.documents {
                let state = document.issuing_state.as_ref().map_or("", |s| s.as_str());
                keys.push(document_key(state, &document.number));
            }
        }
        Subject::Document(document) => keys.push(document_key(document.issuing_state.as_str(), &document.number)),
        Subject::Vehicle(vehicle) => keys.extend(vehicle.vin.iter().map(|vin| document_key("VIN", vin))),
    }
    HitKeys {
        owner: alert.owner.clone(),
        action: alert.effective_action(),
        refer_to: alert.refer_to.clone(),
        expires: alert.expires,
        keys: digests(keys, secret),
    }
}

/// A traveller as a partner's check sees it.
#[derive(Debug, Clone, Default)]
pub struct TravellerData {
    pub names: Vec<String>,
    pub birth_years: Vec<i32>,
    /// Documents as issuing state (ICAO code) and number.
    pub documents: Vec<(String, String)>,
}

/// The keys of a traveller, to look up in an origin's hit keys under the secret shared with it.
pub fn traveller_keys(traveller: &TravellerData, secret: &[u8; 32]) -> Vec<String> {
    let mut keys = Vec::new();
    for name in &traveller.names {
        name_keys(name, &mut keys);
    }
    keys.extend(traveller.birth_years.iter().map(|year| year_key(*year)));
    keys.extend(traveller.documents.iter().map(|(state, number)| document_key(state, number)));
    digests(keys, secret)
}

fn year_key(year: i32) -> (char, String) {
    ('y', year.to_string())
}

fn document_key(state: &str, number: &str) -> (char, String) {
    let number: String = number.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    ('d', format!("{}:{}", state.to_uppercase(), number.to_uppercase()))
}

/// Name keys on the coarse consonant skeleton of each reading of each token (the index's own
/// blocking space: two spellings of one name across scripts nearly always share it), and on
/// each pair of tokens of the name.
fn name_keys(name: &str, keys: &mut Vec<(char, String)>) {
    let analysed = tabadul_names::analyze(name);
    let tokens: Vec<Vec<String>> = analysed
        .tokens
        .iter()
        .map(|token| {
            let mut readings: Vec<String> = std::iter::once(token.cross.as_slice())
                .chain(token.alternative.as_ref().map(|a| a.cross.as_slice()))
                .map(|cross| hex::encode(tabadul_names::coarse_skeleton_of(cross)))
                .filter(|skeleton| !skeleton.is_empty())
                .collect();
            readings.sort();
            readings.dedup();
            readings
        })
        .collect();
    for (i, readings) in tokens.iter().enumerate() {
        for token in readings {
            keys.push(('n', token.clone()));
            for other in tokens[i + 1..].iter().flatten() {
                let (a, b) = if token <= other { (token, other) } else { (other, token) };
                keys.push(('p', format!("{a}:{b}")));
            }
        }
    }
}

fn digests(mut keys: Vec<(char, String)>, secret: &[u8; 32]) -> Vec<String> {
    keys.sort();
    keys.dedup();
    let mut digests: Vec<String> = keys
        .iter()
        .map(|(kind, key)| format!("{kind}:{}", hex::encode(hmac(secret, format!("{kind}:{key}").as_bytes()))))
        .collect();
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
        let named = |name: &str, years: Vec<i32>| TravellerData {
            names: vec![name.into()],
            birth_years: years,
            ..Default::default()
        };
        let traveller = traveller_keys(&named("ALI HASSAN ALSHAMMARI", vec![1988]), &secret);
        let shared = alert.iter().filter(|k| traveller.contains(k)).count();
        assert!(shared >= 3, "{shared} keys in common");
        let other = traveller_keys(&named("Jan Novak", vec![1988]), &secret);
        assert_eq!(alert.iter().filter(|k| other.contains(k)).count(), 0);
        // Another secret, other keys: nothing in common.
        let elsewhere = traveller_keys(&named("ALI HASSAN ALSHAMMARI", vec![]), &[8u8; 32]);
        assert_eq!(alert.iter().filter(|k| elsewhere.contains(k)).count(), 0);
        assert!(alert.iter().all(|k| k.len() == 66 && !k.contains("ali")));
    }
}

/// A `hit`-level alert a traveller may be, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PossibleHit {
    pub origin: AgencyCode,
    pub alert_id: tabadul_domain::AlertId,
    pub action: Action,
    pub refer_to: Option<String>,
    /// `document` (a document key in common) or `name` (two tokens of one name in common, and
    /// the birth year when both sides have one).
    pub on: &'static str,
}

/// The hit keys a partner holds, by origin, for its checks.
#[derive(Debug, Clone, Default)]
pub struct HitIndex {
    origins: std::collections::BTreeMap<AgencyCode, OriginKeys>,
}

#[derive(Debug, Clone, Default)]
struct OriginKeys {
    alerts: std::collections::BTreeMap<tabadul_domain::AlertId, HitKeys>,
    by_key: std::collections::HashMap<String, Vec<tabadul_domain::AlertId>>,
}

impl HitIndex {
    /// Holds (or replaces) an origin's alert's keys.
    pub fn insert(&mut self, origin: &AgencyCode, id: tabadul_domain::AlertId, keys: HitKeys) {
        self.remove(origin, id);
        let entry = self.origins.entry(origin.clone()).or_default();
        for key in &keys.keys {
            entry.by_key.entry(key.clone()).or_default().push(id);
        }
        entry.alerts.insert(id, keys);
    }

    pub fn remove(&mut self, origin: &AgencyCode, id: tabadul_domain::AlertId) {
        let Some(entry) = self.origins.get_mut(origin) else { return };
        if let Some(keys) = entry.alerts.remove(&id) {
            for key in &keys.keys {
                if let Some(ids) = entry.by_key.get_mut(key) {
                    ids.retain(|other| *other != id);
                }
            }
        }
    }

    /// The alerts `traveller` may be, on `date` (expired ones left out), computing the
    /// traveller's keys with each origin's secret.
    pub fn search(
        &self,
        traveller: &TravellerData,
        date: time::Date,
        secret: &dyn Fn(&AgencyCode) -> [u8; 32],
    ) -> Vec<PossibleHit> {
        let mut found = Vec::new();
        for (origin, entry) in &self.origins {
            let keys = traveller_keys(traveller, &secret(origin));
            let mut matched: std::collections::BTreeMap<tabadul_domain::AlertId, Vec<char>> = Default::default();
            for key in &keys {
                for id in entry.by_key.get(key).into_iter().flatten() {
                    matched.entry(*id).or_default().push(key.chars().next().unwrap_or(' '));
                }
            }
            let traveller_has_year = keys.iter().any(|k| k.starts_with('y'));
            for (id, kinds) in matched {
                let alert = &entry.alerts[&id];
                if alert.expires.is_some_and(|expires| expires < date) {
                    continue;
                }
                let alert_has_year = alert.keys.iter().any(|k| k.starts_with('y'));
                let year_agrees = !(traveller_has_year && alert_has_year) || kinds.contains(&'y');
                let on = if kinds.contains(&'d') {
                    "document"
                } else if kinds.contains(&'p') && year_agrees {
                    "name"
                } else {
                    continue;
                };
                found.push(PossibleHit {
                    origin: origin.clone(),
                    alert_id: id,
                    action: alert.action,
                    refer_to: alert.refer_to.clone(),
                    on,
                });
            }
        }
        found
    }
}
