//! The EDIFACT reader and PAXLST: never panic, whatever a carrier sends; and the CUSRES answer
//! to whatever was read reads back with one directive per traveller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabadul_edifact::cusres::{self, Answer, Directive, Envelope, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(interchange) = tabadul_edifact::parse(data) {
        let manifests = tabadul_edifact::manifests(&interchange, time::macros::date!(2026 - 11 - 29));
        let mut responses = Vec::new();
        for manifest in &manifests {
            let mut answers = Vec::new();
            for traveller in &manifest.travellers {
                answers.push(Answer {
                    reservation: traveller.reservation.clone(),
                    passenger: traveller.passenger_reference.clone(),
                    name: traveller.full_name(),
                    directive: Directive::ContactGovernment,
                });
            }
            responses.push(Response {
                message_reference: manifest.reference.clone(),
                common_reference: manifest.common_reference.clone(),
                transaction: manifest.transaction.clone(),
                leg: manifest.legs.last().cloned(),
                answers,
            });
        }
        let envelope = Envelope {
            sender: interchange.recipient.clone(),
            recipient: interchange.sender.clone(),
            control_reference: interchange.control_reference.clone(),
            date: "261129".into(),
            time: "1200".into(),
        };
        let answer = cusres::write(&envelope, &responses);
        let read = tabadul_edifact::parse(answer.as_bytes()).expect("the answer is an interchange");
        let travellers: usize = manifests.iter().map(|m| m.travellers.len()).sum();
        let directives = read.messages.iter().flat_map(|m| &m.segments).filter(|s| s.tag == "ERC").count();
        assert_eq!(directives, travellers);
    }
});
