//! ISO 9735 syntax: the service string advice (UNA), segments, data elements, components and
//! repetitions, the release character, and the interchange's envelopes (UNB/UNZ, UNG/UNE,
//! UNH/UNT) with their counts and references checked.
//!
//! Carrier traffic is untidy, so the reader is forgiving where nothing is lost and says what it
//! forgave: line ends and spaces between segments, a space inside a segment tag, text after
//! UNZ, a byte outside the declared character set (read as ISO 8859-1), a wrong count.

use serde::Serialize;

/// The largest interchange read.
pub const INTERCHANGE_BYTES_MAX: usize = 16 << 20;
/// The most segments one interchange may hold.
pub const SEGMENTS_MAX: usize = 500_000;

/// The service characters of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Separators {
    pub component: u8,
    pub element: u8,
    pub decimal: u8,
    pub release: u8,
    /// The repetition separator (syntax version 4); a space means none.
    pub repetition: u8,
    pub segment: u8,
}

impl Default for Separators {
    /// ISO 9735's defaults, for an interchange without UNA.
    fn default() -> Separators {
        Separators { component: b':', element: b'+', decimal: b'.', release: b'?', repetition: b' ', segment: b'\'' }
    }
}

/// A segment: its tag, its data elements (each a list of repetitions, each a list of
/// components), and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub tag: String,
    pub elements: Vec<Vec<Vec<String>>>,
    /// 1 for the first segment after UNA.
    pub position: usize,
    /// The byte where it starts.
    pub offset: usize,
}

impl Segment {
    /// Component `component` (from 0) of the first repetition of data element `element` (from
    /// 0: the first after the tag); empty when absent.
    pub fn get(&self, element: usize, component: usize) -> &str {
        self.elements
            .get(element)
            .and_then(|repetitions| repetitions.first())
            .and_then(|components| components.get(component))
            .map_or("", String::as_str)
    }

    /// Every component of the first repetition of data element `element`.
    pub fn components(&self, element: usize) -> &[String] {
        self.elements.get(element).and_then(|r| r.first()).map_or(&[], Vec::as_slice)
    }
}

/// Something wrong or unusual in the interchange, with the segment where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The segment's position (0 for the interchange as a whole).
    pub segment: usize,
    pub message: String,
}

/// One message (UNH ... UNT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// UNH's message reference.
    pub reference: String,
    /// The message type, version, release and agency (`PAXLST`, `D`, `02B`, `UN`).
    pub kind: String,
    pub version: String,
    pub release: String,
    /// UNH's common access reference (the same for the parts of one large manifest).
    pub common_reference: String,
    /// UNH's sequence of transfers: the part's number and whether it is the first (`C`) or
    /// last (`F`).
    pub part: (String, String),
    /// The segments between UNH and UNT, without them.
    pub segments: Vec<Segment>,
}

/// An interchange, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interchange {
    pub separators: Separators,
    /// The syntax identifier (UNOA, UNOB, UNOC...) and version.
    pub syntax: String,
    pub syntax_version: String,
    pub sender: String,
    /// The code qualifier of the sender's identification (UNB S002), if any: `ZZ` mutually
    /// defined, an IATA or ICAO designator's...
    pub sender_qualifier: String,
    pub recipient: String,
    pub recipient_qualifier: String,
    pub control_reference: String,
    pub messages: Vec<Message>,
    pub problems: Vec<Problem>,
}

/// Why bytes could not be read as an interchange at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdifactError {
    #[error("the interchange is empty")]
    Empty,
    #[error("the interchange is {0} bytes; at most {INTERCHANGE_BYTES_MAX} are read")]
    TooLarge(usize),
    #[error("more than {SEGMENTS_MAX} segments")]
    TooManySegments,
    #[error("the service string advice (UNA) is cut short: it needs six characters")]
    ShortUna,
    #[error("no UNB segment: this is not an EDIFACT interchange (it starts with `{0}`)")]
    NoUnb(String),
}

/// Decodes one segment's bytes: ISO 8859-1 (which UNOA, UNOB and UNOC all fit in), noting
/// bytes outside the declared repertoire.
fn decode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// Splits the interchange into raw segments (their bytes as sent, release characters and all,
/// and their start offsets), honouring the release character.
fn raw_segments<'a>(data: &'a [u8], start: usize, sep: &Separators) -> Vec<(&'a [u8], usize)> {
    let mut segments = Vec::new();
    let mut begin = None;
    let mut i = start;
    while i < data.len() {
        let byte = data[i];
        if begin.is_none() {
            // Line ends and spaces between segments belong to no segment.
            if byte.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            begin = Some(i);
        }
        if byte == sep.release && i + 1 < data.len() {
            i += 2;
            continue;
        }
        if byte == sep.segment {
            let from = begin.take().unwrap_or(i);
            segments.push((&data[from..i], from));
        }
        i += 1;
    }
    if let Some(begin) = begin {
        let rest = &data[begin..];
        if rest.iter().any(|b| !b.is_ascii_whitespace()) {
            segments.push((rest, begin));
        }
    }
    segments
}

/// The parts of `bytes` between the `separator`s that are not released; the release characters
/// stay. There is always one part, empty for no bytes.
fn split(bytes: &[u8], separator: u8, release: u8) -> Split<'_> {
    Split { bytes, separator, release, start: Some(0) }
}

struct Split<'a> {
    bytes: &'a [u8],
    separator: u8,
    release: u8,
    /// Where the next part starts; none once the last is given.
    start: Option<usize>,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.start?;
        let mut i = start;
        while i < self.bytes.len() {
            if self.bytes[i] == self.release {
                i += 2;
                continue;
            }
            if self.bytes[i] == self.separator {
                self.start = Some(i + 1);
                return Some(&self.bytes[start..i]);
            }
            i += 1;
        }
        self.start = None;
        Some(&self.bytes[start.min(self.bytes.len())..])
    }
}

/// A component's text: its release characters removed, its bytes decoded as ISO 8859-1.
fn component_text(bytes: &[u8], release: u8) -> String {
    let mut text = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == release && i + 1 < bytes.len() {
            i += 1;
        }
        text.push(char::from(bytes[i]));
        i += 1;
    }
    text
}

fn parse_segment(raw: &[u8], sep: &Separators, position: usize, offset: usize) -> Segment {
    let mut elements = split(raw, sep.element, sep.release);
    let tag = decode(elements.next().unwrap_or_default()).trim().to_ascii_uppercase();
    let repeats = !(sep.repetition == b' ' || sep.repetition == sep.element);
    let components = |repetition: &[u8]| -> Vec<String> {
        split(repetition, sep.component, sep.release).map(|component| component_text(component, sep.release)).collect()
    };
    let elements = elements
        .map(|element| {
            if repeats {
                split(element, sep.repetition, sep.release).map(components).collect()
            } else {
                vec![components(element)]
            }
        })
        .collect();
    Segment { tag, elements, position, offset }
}

/// Reads an interchange.
pub fn parse(data: &[u8]) -> Result<Interchange, EdifactError> {
    if data.len() > INTERCHANGE_BYTES_MAX {
        return Err(EdifactError::TooLarge(data.len()));
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let start = data.iter().position(|b| !b.is_ascii_whitespace()).ok_or(EdifactError::Empty)?;
    let mut problems = Vec::new();
    let (separators, body) = if data[start..].starts_with(b"UNA") {
        let advice = data.get(start + 3..start + 9).ok_or(EdifactError::ShortUna)?;
        let separators = Separators {
            component: advice[0],
            element: advice[1],
            decimal: advice[2],
            release: advice[3],
            repetition: advice[4],
            segment: advice[5],
        };
        (separators, start + 9)
    } else {
        (Separators::default(), start)
    };
    let raw = raw_segments(data, body, &separators);
    if raw.len() > SEGMENTS_MAX {
        return Err(EdifactError::TooManySegments);
    }
    let segments: Vec<Segment> =
        raw.iter().enumerate().map(|(i, &(bytes, offset))| parse_segment(bytes, &separators, i + 1, offset)).collect();
    let Some(unb) = segments.first().filter(|s| s.tag == "UNB") else {
        let first = segments.first().map(|s| s.tag.clone()).unwrap_or_default();
        return Err(EdifactError::NoUnb(first.chars().take(20).collect()));
    };
    let syntax = unb.get(0, 0).to_string();
    let charset_ascii = matches!(syntax.as_str(), "UNOA" | "UNOB");
    for (i, (bytes, _)) in raw.iter().enumerate() {
        if let Some(byte) = bytes.iter().find(|b| **b > 0x7f).filter(|_| charset_ascii) {
            problems.push(Problem {
                segment: i + 1,
                message: format!("byte 0x{byte:02X} is outside {syntax}; read as ISO 8859-1"),
            });
        }
    }
    let mut interchange = Interchange {
        separators,
        syntax,
        syntax_version: unb.get(0, 1).to_string(),
        sender: unb.get(1, 0).to_string(),
        sender_qualifier: unb.get(1, 1).to_string(),
        recipient: unb.get(2, 0).to_string(),
        recipient_qualifier: unb.get(2, 1).to_string(),
        control_reference: unb.get(4, 0).to_string(),
        messages: Vec::new(),
        problems,
    };
    envelopes(segments, &mut interchange);
    Ok(interchange)
}

/// Notes a closing segment whose reference (its second element) is not its opening's.
fn same_reference(problems: &mut Vec<Problem>, closing: &Segment, (tag, opening): (&str, &str), reference: &str) {
    let found = closing.get(1, 0);
    if found.trim() != reference.trim() {
        problems.push(Problem {
            segment: closing.position,
            message: format!("{tag}'s reference `{found}` is not {opening}'s `{reference}`"),
        });
    }
}

fn count(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

/// Walks UNG/UNE, UNH/UNT and UNZ, collecting messages and checking counts and references.
fn envelopes(segments: Vec<Segment>, interchange: &mut Interchange) {
    let mut problems = Vec::new();
    let mut open: Option<(Message, usize)> = None;
    let mut group: Option<(String, usize, usize)> = None;
    let mut messages_in_interchange = 0usize;
    let mut groups = 0usize;
    let mut ended = false;
    // The first is the UNB, read already; each message's segments are moved into it.
    for segment in segments.into_iter().skip(1) {
        if ended {
            problems.push(Problem {
                segment: segment.position,
                message: format!("`{}` after UNZ, the end of the interchange: left out", segment.tag),
            });
            continue;
        }
        match segment.tag.as_str() {
            "UNH" => {
                if let Some((message, at)) = open.take() {
                    problems
                        .push(Problem { segment: at, message: format!("message {} has no UNT", message.reference) });
                    interchange.messages.push(message);
                }
                let message = Message {
                    reference: segment.get(0, 0).to_string(),
                    kind: segment.get(1, 0).to_string(),
                    version: segment.get(1, 1).to_string(),
                    release: segment.get(1, 2).to_string(),
                    common_reference: segment.get(2, 0).to_string(),
                    part: (segment.get(3, 0).to_string(), segment.get(3, 1).to_string()),
                    segments: Vec::new(),
                };
                open = Some((message, segment.position));
            }
            "UNT" => match open.take() {
                Some((message, at)) => {
                    let counted = segment.position - at + 1;
                    match count(segment.get(0, 0)) {
                        Some(n) if n == counted => {}
                        Some(n) => problems.push(Problem {
                            segment: segment.position,
                            message: format!("UNT counts {n} segments; message {} has {counted}", message.reference),
                        }),
                        None => problems.push(Problem {
                            segment: segment.position,
                            message: format!("UNT's segment count `{}` is not a number", segment.get(0, 0)),
                        }),
                    }
                    same_reference(&mut problems, &segment, ("UNT", "UNH"), &message.reference);
                    messages_in_interchange += 1;
                    if let Some((_, _, n)) = group.as_mut() {
                        *n += 1;
                    }
                    interchange.messages.push(message);
                }
                None => problems.push(Problem { segment: segment.position, message: "UNT without UNH".into() }),
            },
            "UNG" => {
                groups += 1;
                group = Some((segment.get(4, 0).to_string(), segment.position, 0));
            }
            "UNE" => match group.take() {
                Some((_, _, n)) => {
                    if count(segment.get(0, 0)) != Some(n) {
                        problems.push(Problem {
                            segment: segment.position,
                            message: format!("UNE counts {} messages; the group has {n}", segment.get(0, 0)),
                        });
                    }
                }
                None => problems.push(Problem { segment: segment.position, message: "UNE without UNG".into() }),
            },
            "UNZ" => {
                let expected = if groups > 0 { groups } else { messages_in_interchange };
                if count(segment.get(0, 0)) != Some(expected) {
                    problems.push(Problem {
                        segment: segment.position,
                        message: format!("UNZ counts {}; the interchange has {expected}", segment.get(0, 0)),
                    });
                }
                same_reference(&mut problems, &segment, ("UNZ", "UNB"), &interchange.control_reference);
                ended = true;
            }
            _ => match open.as_mut() {
                Some((message, _)) => message.segments.push(segment),
                None => problems.push(Problem {
                    segment: segment.position,
                    message: format!("`{}` outside any message: left out", segment.tag),
                }),
            },
        }
    }
    if let Some((message, at)) = open.take() {
        problems.push(Problem { segment: at, message: format!("message {} has no UNT", message.reference) });
        interchange.messages.push(message);
    }
    if !ended {
        problems.push(Problem { segment: 0, message: "the interchange has no UNZ: it may be cut short".into() });
    }
    interchange.problems.extend(problems);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_separators_and_reads_components() {
        let interchange = parse(b"UNA:+.? 'UNB+UNOA:4+S+R+200101:1200+42'UNH+1+PAXLST:D:02B:UN:IATA'NAD+FL+++O?'BRIEN:ANN?+MARIE'UNT+3+1'UNZ+1+42'").unwrap();
        assert!(interchange.problems.is_empty(), "{:?}", interchange.problems);
        let nad = &interchange.messages[0].segments[0];
        assert_eq!(nad.components(3), ["O'BRIEN", "ANN+MARIE"]);
        assert_eq!(nad.get(0, 0), "FL");
    }

    #[test]
    fn splits_repetitions_when_the_advice_names_a_separator() {
        let interchange =
            parse(b"UNA:+.?*'UNB+UNOC:4+S+R+200101:1200+1'UNH+1+PAXLST:D:05B:UN'FTX+AAH+++A:1*B:2'UNT+3+1'UNZ+1+1'")
                .unwrap();
        let ftx = &interchange.messages[0].segments[0];
        assert_eq!(ftx.elements[3], [vec!["A".to_string(), "1".into()], vec!["B".into(), "2".into()]]);
        assert_eq!(interchange.separators.repetition, b'*');
    }

    #[test]
    fn counts_and_references_are_checked() {
        let interchange =
            parse(b"UNB+UNOA:4+S+R+200101:1200+42'UNH+1+PAXLST:D:02B:UN'BGM+745'UNT+9+2'UNZ+3+43'extra").unwrap();
        let messages: Vec<&str> = interchange.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(messages[0].contains("UNT counts 9 segments; message 1 has 3"));
        assert!(messages[1].contains("UNT's reference `2`"));
        assert!(messages[4].contains("after UNZ"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(interchange) = super::parse(&data) {
                let _ = crate::manifests(&interchange, time::macros::date!(2026 - 11 - 29));
            }
        }

        #[test]
        fn never_panics_on_interchange_shaped_text(body in "(UNH|NAD|DTM|LOC|DOC|ATT|CNT|UNT|TDT|BGM)[+:?'A-Z0-9 ]{0,30}('[A-Z]{3}[+:?A-Z0-9]{0,20}){0,20}") {
            let data = format!("UNB+UNOA:4+S+R+200101:1200+1'{body}'UNZ+1+1'");
            if let Ok(interchange) = super::parse(data.as_bytes()) {
                let _ = crate::manifests(&interchange, time::macros::date!(2026 - 11 - 29));
            }
        }
    }
}
