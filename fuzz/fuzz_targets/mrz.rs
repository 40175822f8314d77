//! The MRZ reader: never panics, whatever a passport reader or a typist sends; what it reads
//! it reads again the same way from the lines it kept.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let today = time::macros::date!(2026 - 11 - 29);
    if let Ok(mrz) = tabadul_mrz::parse(text, today) {
        let _ = (mrz.full_name(), mrz.diagnostics(), mrz.nationality_country(), mrz.issuing_country());
        let again = tabadul_mrz::parse(&mrz.lines.join("\n"), today).expect("the lines kept are a zone");
        assert_eq!(again.document_number, mrz.document_number);
        assert_eq!(again.birth_date, mrz.birth_date);
        assert_eq!(again.primary_identifier, mrz.primary_identifier);
    }
});
