//! The domain's text parsers (dates, codes, ids, enumerations): never panic, and what they
//! accept prints back to something they accept again, unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tabadul_domain::{AgencyCode, AlertId, Category, CountryCode, HandlingCode, IcaoState, PartialDate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(date) = PartialDate::parse(text) {
        assert_eq!(PartialDate::parse(&date.to_string()), Ok(date));
    }
    if let Ok(id) = AlertId::parse(text) {
        assert_eq!(AlertId::parse(&id.to_string()), Ok(id));
    }
    if let Ok(code) = AgencyCode::new(text) {
        assert_eq!(AgencyCode::new(code.as_str()).as_ref(), Ok(&code));
    }
    let _ = CountryCode::new(text).map(|c| c.alpha3());
    let _ = IcaoState::new(text);
    let _ = CountryCode::from_alpha3(text);
    let _ = text.parse::<Category>();
    let _ = HandlingCode::parse(text, Some(text));
    let _ = tabadul_domain::parse_date(text);
    let _ = tabadul_domain::detect_script(text);
});
