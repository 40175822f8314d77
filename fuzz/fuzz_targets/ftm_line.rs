//! A FollowTheMoney line, parsed and converted: never panics; a converted person always
//! validates as an alert subject.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(entity) = tabadul_ftm::parse_line(text) else { return };
    let documents = [entity.clone()];
    if let Ok(converted) = tabadul_ftm::person_from_entity(&entity, &documents) {
        assert!(!converted.person.names.is_empty());
    }
});
