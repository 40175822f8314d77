//! PAXLST (advance passenger information) as the WCO/IATA/ICAO API guidelines lay it out,
//! directories D02B and D05B: the flight legs, and each passenger or crew member with their
//! names, gender, birth date, nationality, places, documents and reservation reference.
//!
//! Segment groups are recognised by their leading segment (TDT starts a leg, NAD+FL/FM/DDT/DDU
//! a traveller, DOC a document); what a traveller's segments say is read whatever their order.

use serde::Serialize;
use tabadul_domain::{Gender, PartialDate};

use crate::syntax::{Interchange, Message, Problem, Segment};

/// Passengers or crew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Passenger,
    Crew,
}

/// A place and time of a leg.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stop {
    /// The airport (IATA code).
    pub airport: String,
    /// As the message writes it (YYMMDDHHMM).
    pub time: String,
}

/// One flight leg (TDT, with its LOC and DTM).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Leg {
    pub flight: String,
    pub carrier: String,
    pub departure: Option<Stop>,
    pub arrival: Option<Stop>,
}

/// A travel document of a traveller (DOC, with DTM 36 and LOC 91).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Document {
    /// The document type: `P` passport, `V` visa, `I`/`A`/`C` identity cards...
    pub kind: String,
    pub number: String,
    /// YYMMDD as written.
    pub expiry: String,
    /// The issuing state (ISO alpha-3 or ICAO code).
    pub issuing_state: String,
}

/// A passenger or crew member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Traveller {
    pub role: Role,
    pub surname: String,
    pub given_names: Vec<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<PartialDate>,
    /// As written (ISO alpha-3 usually).
    pub nationality: String,
    pub birth_place: String,
    pub residence: String,
    pub embarkation: String,
    pub debarkation: String,
    pub documents: Vec<Document>,
    /// The reservation reference (RFF AVF).
    pub reservation: String,
    /// The carrier's reference of the traveller (RFF ABO), which an interactive answer quotes.
    pub passenger_reference: String,
    /// Where the traveller's NAD stands in the interchange.
    pub segment: usize,
}

impl Traveller {
    /// `SURNAME/GIVEN NAMES`, as carriers write a name.
    pub fn carrier_name(&self) -> String {
        let given = self.given_names.join(" ");
        if given.is_empty() { self.surname.clone() } else { format!("{}/{given}", self.surname) }
    }

    /// Given names then surname.
    pub fn full_name(&self) -> String {
        let mut parts: Vec<&str> = self.given_names.iter().map(String::as_str).collect();
        parts.push(&self.surname);
        parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
    }
}

/// A passenger (or crew) manifest: one message, or several parts joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The message reference of its (first) part.
    pub reference: String,
    pub version: String,
    pub role: Role,
    /// UNH's common access reference (shared by the parts of one manifest).
    pub common_reference: String,
    /// The transaction reference (RFF TN before the first traveller), which an answer quotes.
    pub transaction: String,
    pub legs: Vec<Leg>,
    pub travellers: Vec<Traveller>,
    /// The count the message declares (CNT 41 crew or 42 passengers), if any.
    pub declared_count: Option<usize>,
    pub problems: Vec<Problem>,
}

/// The manifests of an interchange: every PAXLST message, the parts of a large one (the same
/// UNH common access reference) joined in order. `today` decides the century of two-digit
/// birth years (a birth is never in the future).
pub fn manifests(interchange: &Interchange, today: time::Date) -> Vec<Manifest> {
    let mut found: Vec<Manifest> = Vec::new();
    let mut joined: Vec<String> = Vec::new();
    for message in interchange.messages.iter().filter(|m| m.kind == "PAXLST") {
        let manifest = manifest(message, today);
        let key = message.common_reference.trim().to_string();
        match joined.iter().position(|k| !key.is_empty() && *k == key) {
            Some(at) => {
                let into = &mut found[at];
                into.travellers.extend(manifest.travellers);
                into.problems.extend(manifest.problems);
                if into.legs.is_empty() {
                    into.legs = manifest.legs;
                }
                if into.transaction.is_empty() {
                    into.transaction = manifest.transaction;
                }
                into.declared_count = match (into.declared_count, manifest.declared_count) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
            }
            None => {
                joined.push(key);
                found.push(manifest);
            }
        }
    }
    for manifest in &mut found {
        if let Some(declared) = manifest.declared_count
            && declared != manifest.travellers.len()
        {
            manifest.problems.push(Problem {
                segment: 0,
                message: format!(
                    "the manifest declares {declared} travellers (CNT) and lists {}",
                    manifest.travellers.len()
                ),
            });
        }
    }
    found
}

/// A birth date written YYMMDD: the latest century that does not put it after `today`.
fn birth_date(text: &str, today: time::Date) -> Option<PartialDate> {
    let digits: String = text.trim().chars().take(6).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: u8 = digits[0..2].parse().ok()?;
    let (month, day): (u8, u8) = (digits[2..4].parse().ok()?, digits[4..6].parse().ok()?);
    let year = PartialDate::birth_year_from_two_digits(yy, Some(month), Some(day), today);
    PartialDate::new(year, Some(month), Some(day)).ok()
}

fn manifest(message: &Message, today: time::Date) -> Manifest {
    let mut problems = Vec::new();
    let mut role = Role::Passenger;
    let mut legs: Vec<Leg> = Vec::new();
    let mut travellers: Vec<Traveller> = Vec::new();
    let mut declared_count = None;
    let mut transaction = String::new();
    // What the last LOC was about, so that the DTM after it lands on the right stop.
    let mut last_stop: Option<u8> = None;
    for segment in &message.segments {
        let in_traveller = !travellers.is_empty();
        match segment.tag.as_str() {
            "BGM" if segment.get(0, 0) == "250" => role = Role::Crew,
            "RFF" if !in_traveller && segment.get(0, 0) == "TN" => transaction = segment.get(0, 1).trim().to_string(),
            "TDT" if !in_traveller => legs.push(Leg {
                flight: segment.get(1, 0).to_string(),
                carrier: segment.get(4, 0).to_string(),
                ..Leg::default()
            }),
            "LOC" if !in_traveller => {
                let airport = segment.get(1, 0).to_string();
                let Some(leg) = legs.last_mut() else { continue };
                match segment.get(0, 0) {
                    "125" => {
                        leg.departure = Some(Stop { airport, time: String::new() });
                        last_stop = Some(1);
                    }
                    "87" => {
                        leg.arrival = Some(Stop { airport, time: String::new() });
                        last_stop = Some(2);
                    }
                    // 92: a stop of a multi-leg flight, departure first, then arrival.
                    "92" if leg.departure.is_none() => {
                        leg.departure = Some(Stop { airport, time: String::new() });
                        last_stop = Some(1);
                    }
                    "92" => {
                        leg.arrival = Some(Stop { airport, time: String::new() });
                        last_stop = Some(2);
                    }
                    _ => {}
                }
            }
            "DTM" if !in_traveller => {
                let Some(leg) = legs.last_mut() else { continue };
                let time = segment.get(0, 1).to_string();
                match (segment.get(0, 0), last_stop) {
                    ("189", _) | (_, Some(1)) => {
                        if let Some(stop) = leg.departure.as_mut() {
                            stop.time = time;
                        }
                    }
                    ("232", _) | (_, Some(2)) => {
                        if let Some(stop) = leg.arrival.as_mut() {
                            stop.time = time;
                        }
                    }
                    _ => {}
                }
            }
            "NAD" if matches!(segment.get(0, 0), "FL" | "FM" | "DDT" | "DDU") => {
                let qualifier = segment.get(0, 0);
                let name = segment.components(3);
                let surname = name.first().cloned().unwrap_or_default().trim().to_string();
                let given_names: Vec<String> =
                    name.iter().skip(1).map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
                if surname.is_empty() && given_names.is_empty() {
                    problems.push(Problem {
                        segment: segment.position,
                        message: "a traveller without a name (NAD element 4)".into(),
                    });
                }
                travellers.push(Traveller {
                    role: if qualifier == "FL" { Role::Passenger } else { Role::Crew },
                    surname,
                    given_names,
                    gender: None,
                    birth_date: None,
                    nationality: String::new(),
                    birth_place: String::new(),
                    residence: String::new(),
                    embarkation: String::new(),
                    debarkation: String::new(),
                    documents: Vec::new(),
                    reservation: String::new(),
                    passenger_reference: String::new(),
                    segment: segment.position,
                });
            }
            "CNT" => {
                // CNT+42:N is right; some carriers write CNT+42+N.
                let (qualifier, value) = match segment.get(0, 1) {
                    "" => (segment.get(0, 0), segment.get(1, 0)),
                    value => (segment.get(0, 0), value),
                };
                if segment.get(0, 1).is_empty() && !segment.get(1, 0).is_empty() {
                    problems.push(Problem {
                        segment: segment.position,
                        message: format!("CNT writes its count as a separate element (`{}`); read anyway", value),
                    });
                }
                if matches!(qualifier, "41" | "42") {
                    declared_count = value.trim().parse().ok();
                }
            }
            _ if in_traveller => traveller_segment(segment, travellers.last_mut(), today, &mut problems),
            _ => {}
        }
    }
    Manifest {
        reference: message.reference.clone(),
        common_reference: message.common_reference.trim().to_string(),
        transaction,
        version: format!("{}:{}", message.version, message.release),
        role,
        legs,
        travellers,
        declared_count,
        problems,
    }
}

fn traveller_segment(
    segment: &Segment,
    traveller: Option<&mut Traveller>,
    today: time::Date,
    problems: &mut Vec<Problem>,
) {
    let Some(traveller) = traveller else { return };
    match segment.tag.as_str() {
        "ATT" if segment.get(0, 0) == "2" => {
            traveller.gender = match segment.get(2, 0).trim() {
                "M" => Some(Gender::Male),
                "F" => Some(Gender::Female),
                "X" | "U" => Some(Gender::Other),
                _ => None,
            }
        }
        "DTM" => match segment.get(0, 0) {
            "329" => {
                traveller.birth_date = birth_date(segment.get(0, 1), today);
                if traveller.birth_date.is_none() {
                    problems.push(Problem {
                        segment: segment.position,
                        message: format!("`{}` is not a birth date (YYMMDD)", segment.get(0, 1)),
                    });
                }
            }
            "36" => {
                if let Some(document) = traveller.documents.last_mut() {
                    document.expiry = segment.get(0, 1).to_string();
                }
            }
            _ => {}
        },
        "NAT" => traveller.nationality = segment.get(1, 0).trim().to_string(),
        "LOC" => {
            let place = match segment.get(1, 0) {
                "" => segment.get(1, 3).to_string(),
                code => code.to_string(),
            };
            match segment.get(0, 0) {
                "174" => traveller.residence = place,
                "178" => traveller.embarkation = place,
                "179" => traveller.debarkation = place,
                "180" => traveller.birth_place = place,
                "91" => {
                    if let Some(document) = traveller.documents.last_mut() {
                        document.issuing_state = place;
                    }
                }
                _ => {}
            }
        }
        "DOC" => traveller.documents.push(Document {
            kind: segment.get(0, 0).to_string(),
            number: segment.get(1, 0).trim().to_string(),
            ..Document::default()
        }),
        "RFF" => match segment.get(0, 0) {
            "AVF" => traveller.reservation = segment.get(0, 1).trim().to_string(),
            "ABO" => traveller.passenger_reference = segment.get(0, 1).trim().to_string(),
            _ => {}
        },
        _ => {}
    }
}
