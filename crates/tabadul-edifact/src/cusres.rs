//! The interactive API answer: a CUSRES message telling the carrier, for each traveller of a
//! PAXLST manifest, whether to board them, in the shape the iAPI exchanges of the WCO/IATA/ICAO
//! API guidelines use (directory D05B, IATA's message subset):
//!
//! ```text
//! UNH+ref+CUSRES:D:05B:UN:IATA+common+01:F'  the manifest's own references, echoed
//! BGM+962'                                    a response to a passenger list
//! RFF+TN:transaction'  RFF+AF:flight'  DTM+189 / DTM+232  LOC+125 / LOC+87
//! ERP+2'  RFF+AVF:reservation'  RFF+ABO:passenger'  ERC+0Z'  FTX+AAP+++OK TO BOARD'
//! ...                                          one ERP group per traveller
//! UNT+count+ref'
//! ```
//!
//! Pure: the caller gives the time of preparation. The answer is bytes in ISO 8859-1, as its
//! `UNOC` declares: values are written with the release character before any service
//! character, so that what a carrier sent comes back as it was, and a character UNOC cannot
//! hold (or a control character) becomes a space.

use crate::paxlst::Leg;

/// The answer for one traveller (data element 9321 of ERC, as iAPI uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Directive {
    /// `0Z`: the traveller may board.
    Board,
    /// `1Z`: the traveller may not board.
    NoBoard,
    /// `2Z`: the carrier must contact the government before boarding the traveller (a
    /// possible match an officer has to confirm, or data too poor to screen).
    ContactGovernment,
}

impl Directive {
    /// The ERC code.
    pub fn code(self) -> &'static str {
        match self {
            Directive::Board => "0Z",
            Directive::NoBoard => "1Z",
            Directive::ContactGovernment => "2Z",
        }
    }

    /// The free text that goes with the code (FTX AAP), for the carrier's agent.
    pub fn text(self) -> &'static str {
        match self {
            Directive::Board => "OK TO BOARD",
            Directive::NoBoard => "NO BOARD",
            Directive::ContactGovernment => "CONTACT GOVERNMENT BEFORE BOARDING",
        }
    }
}

/// One traveller's answer, identified as the carrier identified them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// The reservation reference (RFF AVF), if the manifest gave one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reservation: String,
    /// The carrier's passenger reference (RFF ABO), if the manifest gave one.
    #[serde(rename = "passenger_reference", skip_serializing_if = "String::is_empty")]
    pub passenger: String,
    /// The traveller's name as the manifest wrote it, `SURNAME/GIVEN NAMES`: said in the free
    /// text unless the carrier's passenger reference identifies the traveller (a reservation
    /// reference is shared by everyone booked together).
    pub name: String,
    pub directive: Directive,
}

impl Answer {
    /// The answer for a traveller of a manifest, identified by the references it gave.
    pub fn to(traveller: &crate::Traveller, directive: Directive) -> Answer {
        Answer {
            reservation: traveller.reservation.clone(),
            passenger: traveller.passenger_reference.clone(),
            name: traveller.carrier_name(),
            directive,
        }
    }
}

/// One manifest's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The PAXLST message's reference and common access reference, echoed.
    pub message_reference: String,
    pub common_reference: String,
    /// The manifest's transaction reference (RFF TN), echoed.
    pub transaction: String,
    /// The leg answered for (the last of the manifest: the one arriving here).
    pub leg: Option<Leg>,
    pub answers: Vec<Answer>,
}

/// The envelope of the answering interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Who answers (the PAXLST's recipient) and to whom (its sender), each with its code
    /// qualifier (empty for none).
    pub sender: (String, String),
    pub recipient: (String, String),
    /// The PAXLST interchange's control reference, echoed.
    pub control_reference: String,
    /// When the answer was prepared: `YYMMDD` and `HHMM`.
    pub date: String,
    pub time: String,
}

impl Response {
    /// The answer to `manifest`, a directive for each of its travellers in order.
    pub fn to(manifest: &crate::Manifest, answers: Vec<Answer>) -> Response {
        Response {
            message_reference: manifest.reference.clone(),
            common_reference: manifest.common_reference.clone(),
            transaction: manifest.transaction.clone(),
            leg: manifest.legs.last().cloned(),
            answers,
        }
    }
}

impl Envelope {
    /// The envelope of the answer to `interchange`, prepared on `date` (YYMMDD) at `time`
    /// (HHMM): back from its recipient to its sender, quoting its control reference.
    pub fn answering(interchange: &crate::Interchange, date: String, time: String) -> Envelope {
        Envelope {
            sender: (interchange.recipient.clone(), interchange.recipient_qualifier.clone()),
            recipient: (interchange.sender.clone(), interchange.sender_qualifier.clone()),
            control_reference: interchange.control_reference.clone(),
            date,
            time,
        }
    }
}

/// The answers as one CUSRES interchange (UNOC, syntax version 4, ISO 9735 default
/// separators with `*` for repetitions), one message per manifest, one segment per line, in
/// ISO 8859-1.
pub fn write(envelope: &Envelope, responses: &[Response]) -> Vec<u8> {
    let mut out = String::from("UNA:+.?*'\n");
    let control = if envelope.control_reference.is_empty() { "1" } else { envelope.control_reference.as_str() };
    segment(
        &mut out,
        "UNB",
        &[
            &["UNOC", "4"],
            &[&envelope.sender.0, &envelope.sender.1],
            &[&envelope.recipient.0, &envelope.recipient.1],
            &[&envelope.date, &envelope.time],
            &[control],
            &[],
            &["IAPI"],
        ],
    );
    for (number, response) in responses.iter().enumerate() {
        let fallback = (number + 1).to_string();
        let reference =
            if response.message_reference.is_empty() { fallback.as_str() } else { &response.message_reference };
        let mut body = String::new();
        let mut count = 0;
        let mut add = |tag: &str, elements: &[&[&str]]| {
            segment(&mut body, tag, elements);
            count += 1;
        };
        add("BGM", &[&["962"]]);
        if !response.transaction.is_empty() {
            add("RFF", &[&["TN", &response.transaction]]);
        }
        if let Some(leg) = &response.leg {
            if !leg.flight.is_empty() {
                add("RFF", &[&["AF", &leg.flight]]);
            }
            for (qualifier, stop) in [("189", &leg.departure), ("232", &leg.arrival)] {
                if let Some(stop) = stop.as_ref().filter(|s| !s.time.is_empty()) {
                    add("DTM", &[&[qualifier, &stop.time, date_format(&stop.time)]]);
                }
            }
            for (qualifier, stop) in [("125", &leg.departure), ("87", &leg.arrival)] {
                if let Some(stop) = stop.as_ref().filter(|s| !s.airport.is_empty()) {
                    add("LOC", &[&[qualifier], &[&stop.airport]]);
                }
            }
        }
        for answer in &response.answers {
            add("ERP", &[&["2"]]);
            if !answer.reservation.is_empty() {
                add("RFF", &[&["AVF", &answer.reservation]]);
            }
            if !answer.passenger.is_empty() {
                add("RFF", &[&["ABO", &answer.passenger]]);
            }
            add("ERC", &[&[answer.directive.code()]]);
            let text = if answer.passenger.is_empty() {
                format!("{} {}", answer.directive.text(), answer.name)
            } else {
                answer.directive.text().to_string()
            };
            add("FTX", &[&["AAP"], &[], &[], &[&text]]);
        }
        let common =
            if response.common_reference.is_empty() { &[][..] } else { &[response.common_reference.as_str()][..] };
        segment(&mut out, "UNH", &[&[reference], &["CUSRES", "D", "05B", "UN", "IATA"], common, &["01", "F"]]);
        out.push_str(&body);
        segment(&mut out, "UNT", &[&[&(count + 2).to_string()], &[reference]]);
    }
    segment(&mut out, "UNZ", &[&[&responses.len().to_string()], &[control]]);
    // Every character is one of ISO 8859-1 by now (see `escape`).
    out.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b' ')).collect()
}

/// The format code (data element 2379) of a date or time as written: `201` for YYMMDDHHMM,
/// `203` for CCYYMMDDHHMM, `101` for YYMMDD, `102` for CCYYMMDD.
fn date_format(value: &str) -> &'static str {
    match value.trim().len() {
        12 => "203",
        6 => "101",
        8 => "102",
        _ => "201",
    }
}

/// Appends one segment: its tag, then its elements (each its components), trailing empty
/// elements and components left out, and the segment terminator with a line end.
fn segment(out: &mut String, tag: &str, elements: &[&[&str]]) {
    out.push_str(tag);
    let last = elements.iter().rposition(|components| components.iter().any(|c| !c.is_empty()));
    for components in elements.iter().take(last.map_or(0, |l| l + 1)) {
        out.push('+');
        let used = components.iter().rposition(|c| !c.is_empty()).map_or(0, |l| l + 1);
        for (i, component) in components.iter().take(used).enumerate() {
            if i > 0 {
                out.push(':');
            }
            escape(out, component);
        }
    }
    out.push_str("'\n");
}

/// Writes a value with the release character before each service character; a control
/// character or one outside ISO 8859-1 (which UNOC holds) becomes a space, so that the answer
/// stays within its declared character set.
fn escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '+' | ':' | '\'' | '?' | '*' => {
                out.push('?');
                out.push(c);
            }
            c if c.is_control() || u32::from(c) > 0xFF => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxlst::Stop;

    fn leg() -> Leg {
        Leg {
            flight: "IA231".into(),
            carrier: "IA".into(),
            departure: Some(Stop { airport: "BGW".into(), time: "2611290900".into() }),
            arrival: Some(Stop { airport: "PRG".into(), time: "2611291515".into() }),
        }
    }

    fn envelope() -> Envelope {
        Envelope {
            sender: ("CZAPI".into(), String::new()),
            recipient: ("IA".into(), "ZZ".into()),
            control_reference: "IA0231001".into(),
            date: "261129".into(),
            time: "0611".into(),
        }
    }

    #[test]
    fn writes_one_erp_group_per_traveller_with_the_counts_right() {
        let response = Response {
            message_reference: "IA0231".into(),
            common_reference: "IA0231/261129/0900".into(),
            transaction: String::new(),
            leg: Some(leg()),
            answers: vec![
                Answer {
                    reservation: "X7Q2LM".into(),
                    passenger: String::new(),
                    name: "ALSHAMMARI/ALI HASSAN".into(),
                    directive: Directive::Board,
                },
                Answer {
                    reservation: String::new(),
                    passenger: String::new(),
                    name: "ALOBAIDI/FATIMA".into(),
                    directive: Directive::NoBoard,
                },
            ],
        };
        let text = write(&envelope(), &[response]);
        let expected = "UNA:+.?*'\n\
UNB+UNOC:4+CZAPI+IA:ZZ+261129:0611+IA0231001++IAPI'\n\
UNH+IA0231+CUSRES:D:05B:UN:IATA+IA0231/261129/0900+01:F'\n\
BGM+962'\n\
RFF+AF:IA231'\n\
DTM+189:2611290900:201'\n\
DTM+232:2611291515:201'\n\
LOC+125+BGW'\n\
LOC+87+PRG'\n\
ERP+2'\n\
RFF+AVF:X7Q2LM'\n\
ERC+0Z'\n\
FTX+AAP+++OK TO BOARD ALSHAMMARI/ALI HASSAN'\n\
ERP+2'\n\
ERC+1Z'\n\
FTX+AAP+++NO BOARD ALOBAIDI/FATIMA'\n\
UNT+15+IA0231'\n\
UNZ+1+IA0231001'\n";
        assert_eq!(String::from_utf8_lossy(&text), expected);
        // What we write, we read back cleanly.
        let interchange = crate::parse(&text).expect("our own answer parses");
        assert!(interchange.problems.is_empty(), "{:?}", interchange.problems);
        assert_eq!(interchange.messages[0].kind, "CUSRES");
    }

    #[test]
    fn service_characters_in_values_are_released() {
        let response = Response {
            message_reference: "M?1".into(),
            common_reference: String::new(),
            transaction: "T+1".into(),
            leg: None,
            answers: vec![Answer {
                reservation: "A:B'C*D".into(),
                passenger: String::new(),
                name: String::new(),
                directive: Directive::ContactGovernment,
            }],
        };
        let text = write(&envelope(), &[response]);
        let interchange = crate::parse(&text).expect("parses");
        assert!(interchange.problems.is_empty(), "{:?}", interchange.problems);
        let message = &interchange.messages[0];
        assert_eq!(message.reference, "M?1");
        let values: Vec<(&str, &str)> =
            message.segments.iter().filter(|s| s.tag == "RFF").map(|s| (s.get(0, 0), s.get(0, 1))).collect();
        assert_eq!(values, [("TN", "T+1"), ("AVF", "A:B'C*D")]);
        assert!(message.segments.iter().any(|s| s.tag == "ERC" && s.get(0, 0) == "2Z"));
    }

    #[test]
    fn the_answer_is_latin_1_as_it_declares() {
        let response = Response {
            message_reference: "1".into(),
            common_reference: String::new(),
            transaction: String::new(),
            leg: None,
            answers: vec![Answer {
                reservation: String::new(),
                passenger: String::new(),
                name: "MÜLLER/JÜRGEN\u{7}عمر".into(),
                directive: Directive::Board,
            }],
        };
        let bytes = write(&envelope(), &[response]);
        let line = bytes.split(|b| *b == b'\n').find(|l| l.starts_with(b"FTX")).expect("an FTX");
        // Ü is one byte (0xDC), not UTF-8's two; a bell and Arabic letters become spaces.
        assert_eq!(line, b"FTX+AAP+++OK TO BOARD M\xDCLLER/J\xDCRGEN    '");
        let read = crate::parse(&bytes).expect("parses");
        assert!(read.problems.is_empty(), "{:?}", read.problems);
    }

    #[test]
    fn dates_say_their_format() {
        assert_eq!(["2611290900", "202611290900", "261129", "20261129"].map(date_format), ["201", "203", "101", "102"]);
    }
}
