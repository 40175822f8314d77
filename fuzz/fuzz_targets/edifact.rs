//! The EDIFACT reader and PAXLST: never panic, whatever a carrier sends; and the CUSRES answer
//! to whatever was read reads back with one directive per traveller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabadul_edifact::cusres::{self, Answer, Directive, Envelope, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(interchange) = tabadul_edifact::parse(data) {
        let manifests = tabadul_edifact::manifests(&interchange, time::macros::date!(2026 - 11 - 29));
        let responses: Vec<Response> = manifests
            .iter()
            .map(|manifest| {
                let answers = manifest.travellers.iter().map(|t| Answer::to(t, Directive::ContactGovernment)).collect();
                Response::to(manifest, answers)
            })
            .collect();
        let envelope = Envelope::answering(&interchange, "261129".into(), "1200".into());
        let answer = cusres::write(&envelope, &responses);
        let read = tabadul_edifact::parse(&answer).expect("the answer is an interchange");
        let travellers: usize = manifests.iter().map(|m| m.travellers.len()).sum();
        let directives = read.messages.iter().flat_map(|m| &m.segments).filter(|s| s.tag == "ERC").count();
        assert_eq!(directives, travellers);
    }
});
