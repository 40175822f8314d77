//! Golden tests: the specimen documents of ICAO Doc 9303 and hand-made zones, valid and
//! broken, each with what must be read from it.

use tabadul_mrz::{Field, Format, Mrz, MrzError, parse};
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 29);

/// What a case expects; `None` fields are not looked at.
#[derive(Default)]
struct Expect {
    format: Option<Format>,
    code: Option<&'static str>,
    state: Option<&'static str>,
    primary: Option<&'static str>,
    secondary: Option<&'static str>,
    number: Option<&'static str>,
    nationality: Option<&'static str>,
    birth: Option<&'static str>,
    expiry: Option<&'static str>,
    sex: Option<&'static str>,
    optional: Option<&'static str>,
    /// The fields whose check digit fails (empty: all valid).
    failed: &'static [Field],
    /// The fields corrected for OCR confusions.
    corrected: &'static [Field],
    /// Fields with a problem reported.
    problems: &'static [Field],
    truncated: bool,
}

fn check(name: &str, text: &str, expect: Expect) {
    let mrz: Mrz = parse(text, TODAY).unwrap_or_else(|e| panic!("{name}: {e}"));
    let fail = |what: &str| -> String { format!("{name}: {what}\n{mrz:#?}") };
    if let Some(format) = expect.format {
        assert_eq!(mrz.format, format, "{}", fail("format"));
    }
    let fields: [(&str, Option<&str>, String); 10] = [
        ("code", expect.code, mrz.document_code.clone()),
        ("state", expect.state, mrz.issuing_state.clone()),
        ("primary", expect.primary, mrz.primary_identifier.clone()),
        ("secondary", expect.secondary, mrz.secondary_identifier.clone()),
        ("number", expect.number, mrz.document_number.clone()),
        ("nationality", expect.nationality, mrz.nationality.clone()),
        ("birth", expect.birth, mrz.birth_date.map(|d| d.to_string()).unwrap_or_default()),
        ("expiry", expect.expiry, mrz.expiry_date.map(|d| d.to_string()).unwrap_or_default()),
        ("sex", expect.sex, mrz.sex.map(|s| s.to_string()).unwrap_or_default()),
        ("optional", expect.optional, mrz.optional_data.clone()),
    ];
    for (field, wanted, got) in fields {
        if let Some(wanted) = wanted {
            assert_eq!(got, wanted, "{}", fail(field));
        }
    }
    let failed: Vec<Field> = mrz.checks.iter().filter(|c| !c.valid).map(|c| c.field).collect();
    assert_eq!(failed, expect.failed, "{}", fail("failed checks"));
    let corrected: Vec<Field> = mrz.corrections.iter().map(|c| c.field).collect();
    assert_eq!(corrected, expect.corrected, "{}", fail("corrections"));
    let problems: Vec<Field> = mrz.problems.iter().map(|p| p.field).collect();
    assert_eq!(problems, expect.problems, "{}", fail("problems"));
    assert_eq!(mrz.name_truncated, expect.truncated, "{}", fail("truncation"));
    // Every failed check and every problem is said in words.
    assert_eq!(mrz.diagnostics().len(), failed.len() + problems.len(), "{}", fail("diagnostics"));
}

const TD3_SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

#[test]
fn icao_specimens() {
    check(
        "TD3 specimen (Doc 9303 part 4)",
        TD3_SPECIMEN,
        Expect {
            format: Some(Format::Td3),
            code: Some("P"),
            state: Some("UTO"),
            primary: Some("ERIKSSON"),
            secondary: Some("ANNA MARIA"),
            number: Some("L898902C3"),
            nationality: Some("UTO"),
            birth: Some("1974-08-12"),
            expiry: Some("2012-04-15"),
            sex: Some("female"),
            optional: Some("ZE184226B"),
            ..Expect::default()
        },
    );
    check(
        "TD1 specimen (Doc 9303 part 5)",
        "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
        Expect {
            format: Some(Format::Td1),
            code: Some("I"),
            number: Some("D23145890"),
            primary: Some("ERIKSSON"),
            secondary: Some("ANNA MARIA"),
            birth: Some("1974-08-12"),
            expiry: Some("2012-04-15"),
            ..Expect::default()
        },
    );
    check(
        "TD2 specimen (Doc 9303 part 6)",
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
        Expect {
            format: Some(Format::Td2),
            number: Some("D23145890"),
            secondary: Some("ANNA MARIA"),
            birth: Some("1974-08-12"),
            ..Expect::default()
        },
    );
    check(
        "MRV-A specimen (Doc 9303 part 7)",
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<",
        Expect {
            format: Some(Format::MrvA),
            code: Some("V"),
            number: Some("L8988901C"),
            nationality: Some("XXX"),
            birth: Some("1940-09-07"),
            expiry: Some("1996-12-10"),
            optional: Some("6ZE184226B"),
            ..Expect::default()
        },
    );
    check(
        "MRV-B specimen (Doc 9303 part 7)",
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<",
        Expect {
            format: Some(Format::MrvB),
            number: Some("L8988901C"),
            expiry: Some("1996-12-10"),
            ..Expect::default()
        },
    );
}

#[test]
fn hand_made_zones() {
    check(
        "an Iraqi passport, the name as the MRZ romanises it",
        "P<IRQALSHAMMARI<<ABDULAMEER<HASSAN<<<<<<<<<<\nA123456784IRQ8501019M3105205<<<<<<<<<<<<<<02",
        Expect {
            state: Some("IRQ"),
            primary: Some("ALSHAMMARI"),
            secondary: Some("ABDULAMEER HASSAN"),
            number: Some("A12345678"),
            birth: Some("1985-01-01"),
            expiry: Some("2031-05-20"),
            sex: Some("male"),
            optional: Some(""),
            ..Expect::default()
        },
    );
    check(
        "a German identity card: state D, sex unspecified",
        "IDD<<T220001293<<<<<<<<<<<<<<<\n6408125<2010315D<<<<<<<<<<<<<4\nMUSTERMANN<<ERIKA<<<<<<<<<<<<<",
        Expect {
            format: Some(Format::Td1),
            code: Some("ID"),
            state: Some("D"),
            number: Some("T22000129"),
            nationality: Some("D"),
            birth: Some("1964-08-12"),
            expiry: Some("2020-10-31"),
            sex: Some(""),
            ..Expect::default()
        },
    );
    check(
        "a TD1 card whose number runs into the optional data",
        "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<",
        Expect {
            format: Some(Format::Td1),
            number: Some("D23145890734"),
            primary: Some("STEVENSON"),
            secondary: Some("PETER JOHN"),
            birth: Some("1934-07-12"),
            expiry: Some("1995-07-12"),
            sex: Some("male"),
            ..Expect::default()
        },
    );
    check(
        "a refugee's travel document: nationality XXB",
        "PTUTOREFUGEE<<AMAL<<<<<<<<<<<<<<<<<<<<<<<<<<\nR0012345<8XXB9905050F3012316<<<<<<<<<<<<<<08",
        Expect { code: Some("PT"), nationality: Some("XXB"), birth: Some("1999-05-05"), ..Expect::default() },
    );
    check(
        "a name that fills its field (may be truncated)",
        "P<UTOABDULRAHMANALKHAZRAJIALTAMIMI<<MOHAMMED\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
        Expect {
            primary: Some("ABDULRAHMANALKHAZRAJIALTAMIMI"),
            secondary: Some("MOHAMMED"),
            truncated: true,
            ..Expect::default()
        },
    );
}

#[test]
fn broken_zones_are_read_and_flagged() {
    check(
        "a wrong birth-date check digit",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408125F1204159ZE184226B<<<<<10",
        Expect { birth: Some("1974-08-12"), failed: &[Field::BirthDate, Field::Composite], ..Expect::default() },
    );
    check(
        "O for 0 and I for 1 in the dates: corrected, reported",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO74O8122F12O4I59ZE184226B<<<<<10",
        Expect {
            birth: Some("1974-08-12"),
            expiry: Some("2012-04-15"),
            corrected: &[Field::BirthDate, Field::ExpiryDate],
            ..Expect::default()
        },
    );
    check(
        "S for 5 in a check digit",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F300107SZE184226B<<<<<10",
        Expect { expiry: Some("2030-01-07"), corrected: &[Field::ExpiryDate], ..Expect::default() },
    );
    check(
        "a confusion that does not make the check valid is left alone",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408B32F1204159ZE184226B<<<<<10",
        Expect {
            birth: Some(""),
            failed: &[Field::BirthDate, Field::Composite],
            problems: &[Field::BirthDate],
            ..Expect::default()
        },
    );
    check(
        "lower case, spaces and a stray character",
        "p<utoeriksson<<anna<maria<<<<<<<<<<<<<<<<<<<\nL898902C36UTO 7408122F1204159ZE184226B<<<<<1«",
        Expect {
            primary: Some("ERIKSSON"),
            failed: &[Field::Composite],
            problems: &[Field::Characters, Field::Characters],
            ..Expect::default()
        },
    );
    check(
        "an unknown state, sex and document code",
        "Q<QQQERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36QQQ7408122Z1204159ZE184226B<<<<<10",
        Expect {
            problems: &[Field::DocumentCode, Field::IssuingState, Field::Nationality, Field::Sex],
            ..Expect::default()
        },
    );
    check(
        "an impossible date",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7413322F1204159ZE184226B<<<<<10",
        Expect {
            birth: Some(""),
            failed: &[Field::BirthDate, Field::Composite],
            problems: &[Field::BirthDate],
            ..Expect::default()
        },
    );
}

#[test]
fn other_ways_of_writing_a_zone() {
    let one_line = TD3_SPECIMEN.replace('\n', "");
    let shell = TD3_SPECIMEN.replace('\n', "\\n");
    let crlf = format!("  {}\r\n", TD3_SPECIMEN.replace('\n', "\r\n"));
    for text in [one_line, shell, crlf] {
        let mrz = parse(&text, TODAY).unwrap();
        assert!(mrz.is_clean(), "{text:?}: {:?}", mrz.diagnostics());
        assert_eq!(mrz.full_name(), "ANNA MARIA ERIKSSON");
    }
}

#[test]
fn what_is_not_a_zone_is_refused_clearly() {
    let refused: [(&str, MrzError); 4] = [
        ("", MrzError::Empty),
        ("  \n ", MrzError::Empty),
        ("P<UTOERIKSSON<<ANNA", MrzError::Shape(vec![19])),
        (
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<1",
            MrzError::Shape(vec![44, 43]),
        ),
    ];
    for (text, error) in refused {
        assert_eq!(parse(text, TODAY).unwrap_err(), error, "{text:?}");
    }
    let message = parse("P<UTO\nL89", TODAY).unwrap_err().to_string();
    assert!(message.contains("2 lines of 5, 3") && message.contains("TD3"), "{message}");
    assert!(matches!(parse(&"<".repeat(600), TODAY), Err(MrzError::TooLong(600))));
}

#[test]
fn nationalities_map_to_countries() {
    let mrz =
        parse("P<GBRSMITH<<JOHN<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n1234567897GBN8001014M3001019<<<<<<<<<<<<<<08", TODAY)
            .unwrap();
    assert_eq!(mrz.nationality, "GBN");
    assert_eq!(mrz.nationality_country().map(|c| c.to_string()), Some("GB".into()));
    assert_eq!(mrz.issuing_country().map(|c| c.to_string()), Some("GB".into()));
}
