//! The unit of replication and its seal.
//!
//! An envelope is written once as JSON and signed as those exact bytes: the receiver verifies
//! the bytes it got, then parses them; nothing is re-serialised before verification.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tabadul_domain::{AgencyCode, Alert, AlertId};

use crate::hitkeys::HitKeys;
use crate::inbox::Rejection;

/// The envelope format this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;
/// Largest sealed envelope read, in bytes.
pub const ENVELOPE_BYTES_MAX: usize = 256 * 1024;

/// One change to one alert, for one partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub version: u32,
    /// The agency whose node sends it and owns the alert.
    pub origin: AgencyCode,
    /// The agency it is for.
    pub partner: AgencyCode,
    /// Its number in the origin's stream to this partner: from 1, without gaps.
    pub seq: u64,
    pub alert_id: AlertId,
    /// The alert's version at the origin after the change.
    pub alert_version: u64,
    pub payload: Payload,
}

/// What the partner is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Payload {
    /// The alert, for a partner that may see it in full.
    Full { alert: Box<Alert> },
    /// What lets a `hit`-level partner's checks find the alert, and no more.
    Hit { keys: HitKeys },
    /// The partner must forget the alert.
    Remove { reason: RemoveReason },
    /// The other way: a hit on one of the partner's alerts was confirmed at this node's border
    /// (the partner owns the alert, this node the hit).
    Notification { notification: Box<tabadul_store::Notification> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoveReason {
    Deleted,
    Expired,
    /// The agreement that shared it was revoked or ended, or the alert left its categories.
    NoLongerShared,
}

/// An envelope as it travels: its JSON bytes and their signature by the origin's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub bytes: Vec<u8>,
    pub signature: [u8; 64],
}

/// Seals `envelope` with the origin's key.
pub fn seal(envelope: &Envelope, key: &SigningKey) -> Sealed {
    let bytes = serde_json::to_vec(envelope).unwrap_or_default();
    let signature = key.sign(&bytes).to_bytes();
    Sealed { bytes, signature }
}

/// Verifies a sealed envelope sent as `origin` (as the backbone says) against that origin's key
/// from `keys`, then reads it; the origin inside must be the one that signed.
pub fn open(
    sealed: &Sealed,
    origin: &AgencyCode,
    keys: &dyn Fn(&AgencyCode) -> Option<VerifyingKey>,
) -> Result<Envelope, Rejection> {
    if sealed.bytes.len() > ENVELOPE_BYTES_MAX {
        return Err(Rejection::Malformed(format!("{} bytes, more than {ENVELOPE_BYTES_MAX}", sealed.bytes.len())));
    }
    let key = keys(origin).ok_or_else(|| Rejection::UnknownOrigin(origin.clone()))?;
    key.verify(&sealed.bytes, &Signature::from_bytes(&sealed.signature))
        .map_err(|_| Rejection::BadSignature(origin.clone()))?;
    let envelope: Envelope =
        serde_json::from_slice(&sealed.bytes).map_err(|e| Rejection::Malformed(format!("envelope: {e}")))?;
    if envelope.version != ENVELOPE_VERSION {
        return Err(Rejection::Malformed(format!("envelope version {}", envelope.version)));
    }
    if &envelope.origin != origin {
        return Err(Rejection::NotOwner { origin: origin.clone(), claimed: envelope.origin.clone() });
    }
    Ok(envelope)
}
