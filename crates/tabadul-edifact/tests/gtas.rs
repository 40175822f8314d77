//! Golden tests: the real, untidy PAXLST messages of GTAS (../shared/data/edifact/paxlst, read
//! where they lie) and hand-made ones. Every traveller that parses is read, and every quirk is
//! reported.

use std::path::{Path, PathBuf};

use tabadul_domain::Gender;
use tabadul_edifact::{Manifest, Role, manifests, parse};

const TODAY: time::Date = time::macros::date!(2026 - 11 - 29);

fn shared(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/edifact/paxlst").join(file)
}

/// A file's one manifest, and every problem reported (interchange and manifest) in words.
fn read(file: &str) -> (Manifest, Vec<String>) {
    let data = std::fs::read(shared(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let interchange = parse(&data).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut found = manifests(&interchange, TODAY);
    assert_eq!(found.len(), 1, "{file}");
    let manifest = found.remove(0);
    let problems = interchange.problems.iter().chain(&manifest.problems).map(|p| p.message.clone()).collect();
    (manifest, problems)
}

fn said(problems: &[String], words: &str) -> bool {
    problems.iter().any(|p| p.contains(words))
}

#[test]
fn a_crew_list_without_una_with_a_padded_count_and_a_misplaced_separator() {
    let (manifest, problems) = read("gtas-loader-apis-Test1.txt");
    assert_eq!((manifest.role, manifest.travellers.len(), manifest.declared_count), (Role::Crew, 8, Some(8)));
    let first = &manifest.travellers[0];
    assert_eq!((first.surname.as_str(), first.given_names.join(" ").as_str()), ("Steur", "Andrea Pat"));
    assert_eq!(
        (first.gender, first.birth_date.map(|d| d.to_string())),
        (Some(Gender::Female), Some("1978-07-06".into()))
    );
    assert_eq!((first.nationality.as_str(), first.birth_place.as_str()), ("GBR", "Hartford USA"));
    assert_eq!(first.documents[0].number, "123456789");
    assert_eq!((first.documents[0].issuing_state.as_str(), first.documents[0].expiry.as_str()), ("GBR", "610218"));
    let leg = &manifest.legs[0];
    assert_eq!((leg.flight.as_str(), leg.departure.as_ref().unwrap().airport.as_str()), ("UA0989", "FRA"));
    assert!(said(&problems, "UNT counts 152 segments"), "{problems:?}");
    assert!(said(&problems, "CNT writes its count as a separate element"), "{problems:?}");
}

#[test]
fn a_large_flight_with_a_byte_outside_its_character_set() {
    let (manifest, problems) = read("gtas-loader-apis-Test3.txt");
    assert_eq!(manifest.travellers.len(), 260);
    assert!(manifest.travellers.iter().all(|t| !t.surname.is_empty() && t.birth_date.is_some()));
    assert!(said(&problems, "byte 0x87 is outside UNOA"), "{problems:?}");
    assert!(said(&problems, "declares 206 travellers (CNT) and lists 260"), "{problems:?}");
    // The traveller with the stray byte is read, not dropped.
    assert!(manifest.travellers.iter().any(|t| t.surname.starts_with("Nov") && t.given_names[0] == "Jeffrey"));
}

#[test]
fn a_star_separated_message_one_segment_a_line_with_crlf() {
    let (manifest, problems) = read("gtas-loader-apis-airline2.edi");
    assert_eq!(manifest.travellers.len(), 10);
    let first = &manifest.travellers[0];
    assert_eq!((first.full_name().as_str(), first.reservation.as_str()), ("DAVID BETTON", "QXGYLO"));
    assert_eq!(first.birth_date.map(|d| d.to_string()), Some("1954-10-16".into()));
    assert_eq!((first.embarkation.as_str(), first.debarkation.as_str()), ("BRE", "YEU"));
    assert!(said(&problems, "UNT's reference `140211180 0` is not UNH's `1402111800`"), "{problems:?}");
}

#[test]
fn a_flight_of_three_legs_with_text_after_the_end() {
    let (manifest, problems) = read("gtas-loader-apis-multiple_flight_leg_apis.txt");
    let legs: Vec<(&str, &str, &str)> = manifest
        .legs
        .iter()
        .map(|l| {
            (
                l.flight.as_str(),
                l.departure.as_ref().unwrap().airport.as_str(),
                l.arrival.as_ref().unwrap().airport.as_str(),
            )
        })
        .collect();
    assert_eq!(legs, [("QQ877", "MIA", "IAD"), ("QQ827", "IAD", "JFK"), ("QQ827", "JFK", "CDG")]);
    assert_eq!(manifest.travellers.len(), 2);
    assert_eq!(manifest.travellers[0].documents[0].number, "YY3478621G");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(said(&problems, "after UNZ"), "{problems:?}");
    // What an interactive answer quotes back: the transaction and each traveller's references.
    assert_eq!(manifest.transaction, "BART34567890");
    let references: Vec<(&str, &str)> =
        manifest.travellers.iter().map(|t| (t.reservation.as_str(), t.passenger_reference.as_str())).collect();
    assert_eq!(references, [("GJIO3RT", "UUI34T543"), ("GJIO3RT", "ABC124")]);
}

#[test]
fn the_answer_to_a_gtas_manifest_quotes_its_references_and_reads_back() {
    use tabadul_edifact::cusres::{self, Answer, Directive, Envelope, Response};
    let data = std::fs::read(shared("gtas-loader-apis-multiple_flight_leg_apis.txt")).unwrap();
    let interchange = parse(&data).unwrap();
    let manifest = manifests(&interchange, TODAY).remove(0);
    let directives = [Directive::Board, Directive::NoBoard];
    let answers = manifest.travellers.iter().zip(directives).map(|(t, d)| Answer::to(t, d)).collect();
    let response = Response::to(&manifest, answers);
    let envelope = Envelope::answering(&interchange, "261129".into(), "1200".into());
    let bytes = cusres::write(&envelope, &[response]);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("RFF+TN:BART34567890'\nRFF+AF:QQ827'"), "{text}");
    assert!(text.contains("LOC+125+JFK'\nLOC+87+CDG'"), "{text}");
    assert!(text.contains("RFF+ABO:UUI34T543'\nERC+0Z'"), "{text}");
    assert!(text.contains("RFF+ABO:ABC124'\nERC+1Z'\nFTX+AAP+++NO BOARD'"), "{text}");
    let answer = parse(&bytes).unwrap();
    assert!(answer.problems.is_empty(), "{:?}", answer.problems);
    assert_eq!(
        (answer.sender.as_str(), answer.recipient.as_str()),
        (interchange.recipient.as_str(), interchange.sender.as_str())
    );
    let codes: Vec<&str> = answer.messages[0].segments.iter().filter(|s| s.tag == "ERC").map(|s| s.get(0, 0)).collect();
    assert_eq!(codes, ["0Z", "1Z"]);
}

#[test]
fn segments_indented_and_several_on_a_line() {
    let (manifest, problems) = read("gtas-parsers-apis-apisMessage.txt");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(manifest.legs.len(), 2);
    assert_eq!(
        manifest.travellers.iter().map(|t| t.full_name()).collect::<Vec<_>>(),
        ["MICHAEL CLARK", "CHERYL CLARK"]
    );
}

#[test]
fn unoc_releases_repetitions_and_a_two_part_manifest() {
    // ISO 8859-1 (UNOC) for a French name, a released apostrophe, and one manifest sent in two
    // parts with the same common access reference.
    let mut data = b"UNA:+.? 'UNB+UNOC:4+AF:ZZ+DGAF+261129:0600+7'".to_vec();
    data.extend_from_slice(
        b"UNH+1+PAXLST:D:05B:UN:IATA+AF1234+01:C'BGM+745'TDT+20+AF1234'LOC+125+CDG'DTM+189:2611290900:201'LOC+87+BGW'",
    );
    data.extend_from_slice(b"NAD+FL+++D?'ARTAGNAN:Ren\xe9'ATT+2++M'DTM+329:900101'NAT+2+FRA'DOC+P+12AB34567'DTM+36:301231'LOC+91+FRA'UNT+14+1'");
    data.extend_from_slice(b"UNH+2+PAXLST:D:05B:UN:IATA+AF1234+02:F'BGM+745'NAD+FL+++ALSHAMMARI:ABDULAMEER:HASSAN'ATT+2++M'DTM+329:850101'NAT+2+IRQ'DOC+P+A12345678'DTM+36:310520'LOC+91+IRQ'CNT+42:2'UNT+11+2'UNZ+2+7'");
    let interchange = parse(&data).unwrap();
    assert!(interchange.problems.is_empty(), "{:?}", interchange.problems);
    let found = manifests(&interchange, TODAY);
    assert_eq!(found.len(), 1, "the two parts are one manifest");
    let manifest = &found[0];
    assert!(manifest.problems.is_empty(), "{:?}", manifest.problems);
    let names: Vec<String> = manifest.travellers.iter().map(|t| t.full_name()).collect();
    assert_eq!(names, ["René D'ARTAGNAN", "ABDULAMEER HASSAN ALSHAMMARI"]);
    assert_eq!(manifest.travellers[1].birth_date.map(|d| d.to_string()), Some("1985-01-01".into()));
    assert_eq!(manifest.legs[0].arrival.as_ref().unwrap().airport, "BGW");
}

#[test]
fn what_is_not_an_interchange_is_refused_clearly() {
    assert_eq!(parse(b"").unwrap_err(), tabadul_edifact::EdifactError::Empty);
    assert_eq!(parse(b"UNA:+").unwrap_err(), tabadul_edifact::EdifactError::ShortUna);
    let error = parse(b"hello, world").unwrap_err().to_string();
    assert!(error.contains("not an EDIFACT interchange"), "{error}");
    // A message cut short: the travellers read so far are kept, and the cut is said.
    let cut =
        parse(b"UNB+UNOA:4+S+R+261129:0600+9'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DOE:JOHN'ATT+2++M").unwrap();
    let found = manifests(&cut, TODAY);
    assert_eq!(found[0].travellers.len(), 1);
    assert_eq!(found[0].travellers[0].gender, Some(Gender::Male));
    let problems: Vec<&str> = cut.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        problems.iter().any(|p| p.contains("has no UNT")) && problems.iter().any(|p| p.contains("no UNZ")),
        "{problems:?}"
    );
}

fn own(file: &str) -> (Vec<Manifest>, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
    let interchange = parse(&std::fs::read(path).unwrap()).unwrap();
    let found = manifests(&interchange, TODAY);
    let problems =
        interchange.problems.iter().chain(found.iter().flat_map(|m| &m.problems)).map(|p| p.message.clone()).collect();
    (found, problems)
}

#[test]
fn our_own_samples_in_three_carriers_styles_read_clean() {
    // Iraqi Airways: UNA, one segment a line with CRLF, a group, names as the MRZ romanises them.
    let (found, problems) = own("iraqi-airways-bgw-prg.edi");
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<String> = found[0].travellers.iter().map(|t| t.full_name()).collect();
    assert_eq!(names, ["ALI HASSAN ALSHAMMARI", "FATIMA KHALID ALOBAIDI", "MUSTAFA KAMAL ABDULRAHMAN"]);
    assert_eq!(found[0].travellers[0].documents[0].number, "P12345671");
    // Royal Jordanian: `*` and `$` separators, UNOC (ISO 8859-1), a released apostrophe, one
    // manifest in two parts.
    let (found, problems) = own("royal-jordanian-amm-cdg.edi");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(found.len(), 1);
    let names: Vec<String> = found[0].travellers.iter().map(|t| t.full_name()).collect();
    assert_eq!(names, ["OMAR HASSAN AL-AZZAWI", "RIM EL KHOURY", "SAMIRA BENALI", "HÉLÈNE D'ESTAING"]);
    assert_eq!(found[0].travellers[1].birth_date.map(|d| d.to_string()), Some("2001-09-11".into()));
    // Smartwings, interactive (iAPI): no UNA, a crew list and a passenger list in one
    // interchange, transaction and passenger references, a visa listed before the passport.
    let (found, problems) = own("smartwings-ebl-prg.edi");
    assert!(problems.is_empty(), "{problems:?}");
    let lists: Vec<(Role, usize, Option<usize>, &str)> =
        found.iter().map(|m| (m.role, m.travellers.len(), m.declared_count, m.transaction.as_str())).collect();
    assert_eq!(lists, [(Role::Crew, 2, Some(2), "QS1288C261129"), (Role::Passenger, 2, Some(2), "QS1288P261129")]);
    let barzani = &found[1].travellers[0];
    assert_eq!(barzani.full_name(), "HAWAR ABDULKARIM BARZANI");
    assert_eq!((barzani.reservation.as_str(), barzani.passenger_reference.as_str()), ("K4MZ2P", "0013PX01"));
    let documents: Vec<(&str, &str)> = barzani.documents.iter().map(|d| (d.kind.as_str(), d.number.as_str())).collect();
    assert_eq!(documents, [("V", "CZ0098812"), ("P", "A19876543")]);
}
