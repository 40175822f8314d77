//! Envelopes from partner nodes: any bytes, even correctly signed by a known partner, are
//! refused or applied, never a panic. The signature is made over the fuzzed bytes so that the
//! parser and the replica behind the signature check are reached.
#![no_main]

use std::sync::OnceLock;

use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use tabadul_domain::AgencyCode;
use tabadul_federation::{Inbox, Sealed, open};

fn origin() -> &'static (AgencyCode, SigningKey) {
    static ORIGIN: OnceLock<(AgencyCode, SigningKey)> = OnceLock::new();
    ORIGIN.get_or_init(|| (AgencyCode::new("IQ-MOI").unwrap(), SigningKey::from_bytes(&[7; 32])))
}

fuzz_target!(|data: &[u8]| {
    let (code, key) = origin();
    let sealed = Sealed { bytes: data.to_vec(), signature: key.sign(data).to_bytes() };
    let keys = |agency: &AgencyCode| (agency == code).then(|| key.verifying_key());
    if let Ok(envelope) = open(&sealed, code, &keys) {
        let mut inbox = Inbox::new(AgencyCode::new("CZ-MV").unwrap());
        let _ = inbox.receive(envelope.clone());
        let _ = inbox.receive(envelope);
        let _ = inbox.alerts().count();
    }
});
