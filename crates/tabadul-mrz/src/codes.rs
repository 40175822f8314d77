//! The three-letter codes of issuing states and nationalities: ISO 3166-1 alpha-3, and the
//! codes ICAO Doc 9303 part 3 adds for what ISO does not name.

use tabadul_domain::CountryCode;

/// Codes that ICAO uses beyond ISO 3166-1 alpha-3: the code, what it means, and the country
/// whose nationality it implies for screening, if any.
const SPECIAL: &[(&str, &str, Option<&str>)] = &[
    ("D", "Germany", Some("DE")),
    ("GBD", "British Overseas Territories Citizen", Some("GB")),
    ("GBN", "British National (Overseas)", Some("GB")),
    ("GBO", "British Overseas Citizen", Some("GB")),
    ("GBP", "British Protected Person", Some("GB")),
    ("GBS", "British Subject", Some("GB")),
    ("RKS", "Kosovo", Some("XK")),
    ("UNK", "Resident of Kosovo, travel document issued by UNMIK", Some("XK")),
    ("UNO", "United Nations Organization or one of its officials", None),
    ("UNA", "Specialized agency of the United Nations or one of its officials", None),
    ("EUE", "European Union", None),
    ("XBA", "African Development Bank", None),
    ("XIM", "African Export-Import Bank", None),
    ("XCC", "Caribbean Community", None),
    ("XCE", "Council of Europe", None),
    ("XCO", "Common Market for Eastern and Southern Africa", None),
    ("XDC", "Southern African Development Community", None),
    ("XEC", "Economic Community of West African States", None),
    ("XES", "Organisation of Eastern Caribbean States", None),
    ("XMP", "Parliamentary Assembly of the Mediterranean", None),
    ("XOM", "Sovereign Military Order of Malta", None),
    ("XPO", "INTERPOL", None),
    ("XXA", "Stateless person", None),
    ("XXB", "Refugee (1951 Convention)", None),
    ("XXC", "Refugee (other)", None),
    ("XXX", "Unspecified nationality", None),
    ("UTO", "Utopia (ICAO specimen documents)", None),
];

/// What a code stands for, when ICAO gives it a meaning beyond ISO 3166-1.
pub fn describe(code: &str) -> Option<&'static str> {
    SPECIAL.iter().find(|(c, _, _)| *c == code).map(|(_, meaning, _)| *meaning)
}

/// The country of a code, for comparing nationalities: ISO alpha-3, or a special code that
/// implies one (the British nationality categories, Germany's `D`, Kosovo).
pub fn country(code: &str) -> Option<CountryCode> {
    if let Some((_, _, country)) = SPECIAL.iter().find(|(c, _, _)| *c == code) {
        return country.and_then(|c| CountryCode::new(c).ok());
    }
    CountryCode::from_alpha3(code)
}

/// Whether a code is one ISO or ICAO assigns.
pub fn is_known(code: &str) -> bool {
    describe(code).is_some() || CountryCode::from_alpha3(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_iso_and_icao_codes() {
        assert_eq!(country("IRQ").unwrap().as_str(), "IQ");
        assert_eq!(country("D").unwrap().as_str(), "DE");
        assert_eq!(country("GBN").unwrap().as_str(), "GB");
        assert_eq!(country("RKS").unwrap().as_str(), "XK");
        assert_eq!(country("XXA"), None);
        assert!(is_known("XXA") && is_known("UTO") && is_known("CZE"));
        assert!(!is_known("QQQ"));
        assert_eq!(describe("XPO"), Some("INTERPOL"));
    }
}
