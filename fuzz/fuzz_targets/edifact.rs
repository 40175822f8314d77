//! The EDIFACT reader and PAXLST: never panic, whatever a carrier sends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(interchange) = tabadul_edifact::parse(data) {
        let manifests = tabadul_edifact::manifests(&interchange, time::macros::date!(2026 - 11 - 29));
        for manifest in &manifests {
            for traveller in &manifest.travellers {
                let _ = traveller.full_name();
            }
        }
    }
});
