//! The machine-readable zone of travel documents, as ICAO Doc 9303 defines it: passports
//! (TD3), identity cards (TD1, TD2) and visas (MRV-A, MRV-B).
//!
//! [`parse`] reads every field, verifies every check digit and says which failed, and reads a
//! damaged zone as far as it can: a border check screens a damaged document too, flagged. Where
//! an optical reader took a digit for a letter (O/0, I/1, B/8, S/5) in a numeric field, the
//! digit is put back only if that makes the field's check digit valid, and the correction is
//! reported. Pure: the date of today, needed to tell 1990 from 2090, is an argument.

mod codes;
mod digits;

use serde::Serialize;
use tabadul_domain::{CountryCode, DocumentType, Gender, PartialDate};

pub use codes::{country, describe as describe_code, is_known as is_known_code};
pub use digits::check_digit;

/// The most characters [`parse`] reads: three lines of 44 and their line ends, generously.
pub const INPUT_BYTES_MAX: usize = 512;

/// The layouts of Doc 9303.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// Identity card: three lines of 30.
    #[serde(rename = "TD1")]
    Td1,
    /// Identity card or official travel document: two lines of 36.
    #[serde(rename = "TD2")]
    Td2,
    /// Passport: two lines of 44.
    #[serde(rename = "TD3")]
    Td3,
    /// Visa, two lines of 44.
    #[serde(rename = "MRV-A")]
    MrvA,
    /// Visa, two lines of 36.
    #[serde(rename = "MRV-B")]
    MrvB,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Td1 => "TD1",
            Format::Td2 => "TD2",
            Format::Td3 => "TD3",
            Format::MrvA => "MRV-A",
            Format::MrvB => "MRV-B",
        }
    }
}

/// A field of the zone, as diagnostics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Characters,
    DocumentCode,
    IssuingState,
    Name,
    DocumentNumber,
    Nationality,
    BirthDate,
    Sex,
    ExpiryDate,
    OptionalData,
    OptionalData2,
    Composite,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Characters => "characters",
            Field::DocumentCode => "document code",
            Field::IssuingState => "issuing state",
            Field::Name => "name",
            Field::DocumentNumber => "document number",
            Field::Nationality => "nationality",
            Field::BirthDate => "birth date",
            Field::Sex => "sex",
            Field::ExpiryDate => "expiry date",
            Field::OptionalData => "optional data",
            Field::OptionalData2 => "optional data 2",
            Field::Composite => "composite",
        }
    }
}

/// One check digit, verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub field: Field,
    /// The check digit the zone holds (after any correction).
    pub found: char,
    /// The check digit computed from the field.
    pub computed: char,
    pub valid: bool,
}

/// A numeric field read again with the digits an optical reader took for letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub field: Field,
    /// The field and its check digit as read.
    pub read: String,
    /// As corrected (the check digit now valid).
    pub corrected: String,
}

/// Something wrong or unusual in the zone that did not stop it from being read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: Field,
    pub message: String,
}

/// A machine-readable zone, read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mrz {
    pub format: Format,
    /// The document code without fillers: `P`, `PN`, `I`, `ID`, `V`...
    pub document_code: String,
    pub document_type: DocumentType,
    /// The issuing state or organisation, as written without fillers (`D`, `IRQ`, `XPO`).
    pub issuing_state: String,
    /// The primary identifier (the surname), its parts separated by spaces.
    pub primary_identifier: String,
    /// The secondary identifier (the given names), its parts separated by spaces.
    pub secondary_identifier: String,
    /// Whether the name fills its field to the end, so that it may have been cut.
    pub name_truncated: bool,
    pub document_number: String,
    /// The nationality, as written without fillers (`IRQ`, `GBN`, `XXA`).
    pub nationality: String,
    pub birth_date: Option<PartialDate>,
    pub sex: Option<Gender>,
    pub expiry_date: Option<time::Date>,
    /// The optional data (the personal number of a passport), without trailing fillers.
    pub optional_data: String,
    /// The second optional data field of a TD1 card.
    pub optional_data_2: String,
    pub checks: Vec<Check>,
    pub corrections: Vec<Correction>,
    pub problems: Vec<Problem>,
    /// The lines as read (after corrections), for the record of a check.
    pub lines: Vec<String>,
}

impl Mrz {
    /// Whether every check digit is valid.
    pub fn checks_valid(&self) -> bool {
        self.checks.iter().all(|c| c.valid)
    }

    /// Whether the zone was read without any failed check or problem.
    pub fn is_clean(&self) -> bool {
        self.checks_valid() && self.problems.is_empty()
    }

    /// The name in reading order: given names, then the surname.
    pub fn full_name(&self) -> String {
        match (self.secondary_identifier.is_empty(), self.primary_identifier.is_empty()) {
            (true, _) => self.primary_identifier.clone(),
            (false, true) => self.secondary_identifier.clone(),
            (false, false) => format!("{} {}", self.secondary_identifier, self.primary_identifier),
        }
    }

    /// The country of the nationality, for comparing with alerts.
    pub fn nationality_country(&self) -> Option<CountryCode> {
        codes::country(&self.nationality)
    }

    /// The country of the issuing state.
    pub fn issuing_country(&self) -> Option<CountryCode> {
        codes::country(&self.issuing_state)
    }

    /// What failed, in words: each invalid check digit, then each problem.
    pub fn diagnostics(&self) -> Vec<String> {
        let checks = self
            .checks
            .iter()
            .filter(|c| !c.valid)
            .map(|c| format!("check digit of the {} is {}, computed {}", c.field.as_str(), c.found, c.computed));
        checks.chain(self.problems.iter().map(|p| format!("{}: {}", p.field.as_str(), p.message))).collect()
    }
}

/// Why a text could not be read as a machine-readable zone at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("the MRZ is empty")]
    Empty,
    #[error("the MRZ is {0} bytes long; at most {INPUT_BYTES_MAX} are read")]
    TooLong(usize),
    #[error(
        "an MRZ has 3 lines of 30 characters (TD1), 2 of 36 (TD2, MRV-B) or 2 of 44 (TD3, MRV-A); this one has {}",
        describe_lines(.0)
    )]
    Shape(Vec<usize>),
}

fn describe_lines(lengths: &[usize]) -> String {
    let lines = if lengths.len() == 1 { "line" } else { "lines" };
    let list = lengths.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
    format!("{} {lines} of {list}", lengths.len())
}

/// A field: line, first column, length.
type Span = (usize, usize, usize);

/// Reads a machine-readable zone: its two or three lines separated by line ends (or the
/// two characters `\n`, as a shell passes them), or all in one line.
pub fn parse(text: &str, today: time::Date) -> Result<Mrz, MrzError> {
    if text.len() > INPUT_BYTES_MAX {
        return Err(MrzError::TooLong(text.len()));
    }
    let mut problems = Vec::new();
    let mut lines = split_lines(text, &mut problems);
    if lines.is_empty() {
        return Err(MrzError::Empty);
    }
    let lengths: Vec<usize> = lines.iter().map(Vec::len).collect();
    let visa = lines[0].first() == Some(&b'V');
    let format = match (lengths.as_slice(), visa) {
        ([30, 30, 30], _) => Format::Td1,
        ([36, 36], false) => Format::Td2,
        ([36, 36], true) => Format::MrvB,
        ([44, 44], false) => Format::Td3,
        ([44, 44], true) => Format::MrvA,
        _ => return Err(MrzError::Shape(lengths)),
    };
    let layout = Layout::of(format);
    let mut reader = Reader { lines: &mut lines, checks: Vec::new(), corrections: Vec::new(), problems };

    // The document number, which a TD1 or TD2 card may continue in its optional data.
    let (mut number, number_check) = (reader.text(layout.number), layout.number_check);
    let mut optional_span = layout.optional;
    let number_extended = matches!(format, Format::Td1 | Format::Td2) && reader.byte(number_check) == b'<';
    if number_extended {
        let optional = reader.text(optional_span);
        let rest = optional.split('<').next().unwrap_or_default().to_string();
        if rest.is_empty() {
            reader.problem(Field::DocumentNumber, "the check digit of the document number is a filler".into());
        } else {
            let (more, digit) = rest.split_at(rest.len() - 1);
            number = format!("{}{more}", number.trim_end_matches('<'));
            let digit = digit.as_bytes()[0];
            reader.verify_text(Field::DocumentNumber, number.as_bytes(), digit);
            let (line, start, len) = optional_span;
            optional_span = (line, start + rest.len(), len - rest.len());
        }
    } else {
        reader.verify(Field::DocumentNumber, layout.number, number_check, false);
        number = reader.text(layout.number);
    }
    reader.verify(Field::BirthDate, layout.birth, layout.birth_check, true);
    reader.verify(Field::ExpiryDate, layout.expiry, layout.expiry_check, true);
    if let Some(check) = layout.optional_check {
        let field = reader.text(optional_span);
        let found = reader.byte(check);
        let unused = field.bytes().all(|b| b == b'<') && matches!(found, b'<' | b'0');
        if !unused {
            reader.verify(Field::OptionalData, optional_span, check, false);
        }
    }
    if let Some((spans, check)) = &layout.composite {
        reader.verify_composite(spans, *check);
    }

    let code = reader.text(layout.code).trim_end_matches('<').to_string();
    let document_type = match code.as_bytes().first() {
        Some(b'P') => DocumentType::Passport,
        Some(b'V') => DocumentType::Visa,
        Some(b'I' | b'A' | b'C') => DocumentType::IdCard,
        _ => {
            reader.problem(Field::DocumentCode, format!("`{code}` is not a document code of Doc 9303 (P, I, A, C, V)"));
            DocumentType::Other
        }
    };
    let issuing_state = reader.state(Field::IssuingState, layout.state);
    let nationality = reader.state(Field::Nationality, layout.nationality);
    let name_field = reader.text(layout.name);
    let (primary_identifier, secondary_identifier, name_truncated) = read_name(&name_field);
    if primary_identifier.is_empty() && secondary_identifier.is_empty() {
        reader.problem(Field::Name, "the name is empty".into());
    }
    let birth_date = reader.date(Field::BirthDate, layout.birth).and_then(|(yy, month, day)| {
        let year = PartialDate::birth_year_from_two_digits(yy, month, day, today);
        PartialDate::new(year, month, day).ok()
    });
    let expiry_date = reader.date(Field::ExpiryDate, layout.expiry).and_then(|(yy, month, day)| {
        let year = expiry_year(yy, today);
        match (month, day) {
            (Some(month), Some(day)) => PartialDate::new(year, Some(month), Some(day)).ok().and_then(|d| d.to_date()),
            _ => None,
        }
    });
    let sex = match reader.byte(layout.sex) {
        b'M' => Some(Gender::Male),
        b'F' => Some(Gender::Female),
        b'X' => Some(Gender::Other),
        b'<' => None,
        other => {
            reader.problem(Field::Sex, format!("`{}` is not a sex of Doc 9303 (M, F, X or <)", char::from(other)));
            None
        }
    };
    let optional_data = reader.text(optional_span).trim_end_matches('<').to_string();
    let optional_data_2 = layout.optional_2.map(|span| reader.text(span).trim_end_matches('<').to_string());
    let Reader { checks, corrections, problems, .. } = reader;
    Ok(Mrz {
        format,
        document_code: code,
        document_type,
        issuing_state,
        primary_identifier,
        secondary_identifier,
        name_truncated,
        document_number: number.trim_end_matches('<').to_string(),
        nationality,
        birth_date,
        sex,
        expiry_date,
        optional_data,
        optional_data_2: optional_data_2.unwrap_or_default(),
        checks,
        corrections,
        problems,
        lines: lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect(),
    })
}

/// Where each field of a format lies.
struct Layout {
    code: Span,
    state: Span,
    name: Span,
    number: Span,
    number_check: (usize, usize),
    nationality: Span,
    birth: Span,
    birth_check: (usize, usize),
    sex: (usize, usize),
    expiry: Span,
    expiry_check: (usize, usize),
    optional: Span,
    optional_check: Option<(usize, usize)>,
    optional_2: Option<Span>,
    composite: Option<(Vec<Span>, (usize, usize))>,
}

impl Layout {
    fn of(format: Format) -> Layout {
        match format {
            Format::Td1 => Layout {
                code: (0, 0, 2),
                state: (0, 2, 3),
                number: (0, 5, 9),
                number_check: (0, 14),
                optional: (0, 15, 15),
                birth: (1, 0, 6),
                birth_check: (1, 6),
                sex: (1, 7),
                expiry: (1, 8, 6),
                expiry_check: (1, 14),
                nationality: (1, 15, 3),
                optional_2: Some((1, 18, 11)),
                composite: Some((vec![(0, 5, 25), (1, 0, 7), (1, 8, 7), (1, 18, 11)], (1, 29))),
                name: (2, 0, 30),
                optional_check: None,
            },
            // The two-line formats share their second line up to the optional data.
            Format::Td2 | Format::Td3 | Format::MrvA | Format::MrvB => {
                let width = if matches!(format, Format::Td2 | Format::MrvB) { 36 } else { 44 };
                let (optional_len, optional_check, composite) = match format {
                    Format::Td3 => (14, Some((1, 42)), Some((vec![(1, 0, 10), (1, 13, 7), (1, 21, 22)], (1, 43)))),
                    Format::Td2 => (7, None, Some((vec![(1, 0, 10), (1, 13, 7), (1, 21, 14)], (1, 35)))),
                    _ => (width - 28, None, None),
                };
                Layout {
                    code: (0, 0, 2),
                    state: (0, 2, 3),
                    name: (0, 5, width - 5),
                    number: (1, 0, 9),
                    number_check: (1, 9),
                    nationality: (1, 10, 3),
                    birth: (1, 13, 6),
                    birth_check: (1, 19),
                    sex: (1, 20),
                    expiry: (1, 21, 6),
                    expiry_check: (1, 27),
                    optional: (1, 28, optional_len),
                    optional_check,
                    optional_2: None,
                    composite,
                }
            }
        }
    }
}

/// The lines of the zone, upper case, with anything that is not an MRZ character read as a
/// filler (and reported).
fn split_lines(text: &str, problems: &mut Vec<Problem>) -> Vec<Vec<u8>> {
    let text = text.replace("\\n", "\n");
    let mut lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    // One line holding a whole zone, as some readers send it.
    if let [line] = lines.as_slice() {
        let width = match line.chars().count() {
            90 => Some(30),
            72 => Some(36),
            88 => Some(44),
            _ => None,
        };
        if let Some(width) = width {
            let chars: Vec<char> = line.chars().collect();
            lines = chars.chunks(width).map(|c| c.iter().collect()).collect();
        }
    }
    let mut lowercase = false;
    let mut read = Vec::with_capacity(lines.len());
    for (l, line) in lines.iter().enumerate() {
        // Spaces inside a line are a reader's or a typist's, never the zone's.
        let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        let mut bytes = Vec::with_capacity(line.len());
        for (c, ch) in line.chars().enumerate() {
            let byte = match ch {
                'A'..='Z' | '0'..='9' | '<' => ch as u8,
                'a'..='z' => {
                    lowercase = true;
                    ch.to_ascii_uppercase() as u8
                }
                other => {
                    problems.push(Problem {
                        field: Field::Characters,
                        message: format!(
                            "`{other}` at line {}, position {} is not an MRZ character; read as a filler",
                            l + 1,
                            c + 1
                        ),
                    });
                    b'<'
                }
            };
            bytes.push(byte);
        }
        read.push(bytes);
    }
    if lowercase {
        problems.push(Problem { field: Field::Characters, message: "lower-case letters read as upper case".into() });
    }
    read
}

/// Reads fields out of the lines, verifies and corrects them, and keeps the record.
struct Reader<'a> {
    lines: &'a mut [Vec<u8>],
    checks: Vec<Check>,
    corrections: Vec<Correction>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn text(&self, (line, start, len): Span) -> String {
        String::from_utf8_lossy(&self.lines[line][start..start + len]).into_owned()
    }

    fn byte(&self, (line, column): (usize, usize)) -> u8 {
        self.lines[line][column]
    }

    fn problem(&mut self, field: Field, message: String) {
        self.problems.push(Problem { field, message });
    }

    /// Verifies a field's check digit; a numeric field (and any check digit) read with
    /// letters for digits is corrected if that makes the check digit valid.
    fn verify(&mut self, field: Field, span: Span, check: (usize, usize), numeric: bool) {
        let (line, start, len) = span;
        let value = self.lines[line][start..start + len].to_vec();
        let digit = self.byte(check);
        if digits::check_digit(&value) != digit {
            let fixed_value: Vec<u8> =
                if numeric { value.iter().map(|b| digits::as_digit(*b)).collect() } else { value.clone() };
            let fixed_digit = digits::as_digit(digit);
            let changed = fixed_value != value || fixed_digit != digit;
            if changed && digits::check_digit(&fixed_value) == fixed_digit {
                self.lines[line][start..start + len].copy_from_slice(&fixed_value);
                self.lines[check.0][check.1] = fixed_digit;
                let text = |v: &[u8], d: u8| format!("{}{}", String::from_utf8_lossy(v), char::from(d));
                self.corrections.push(Correction {
                    field,
                    read: text(&value, digit),
                    corrected: text(&fixed_value, fixed_digit),
                });
            }
        }
        let (line, start, len) = span;
        let value = self.lines[line][start..start + len].to_vec();
        self.verify_text(field, &value, self.byte(check));
    }

    fn verify_text(&mut self, field: Field, value: &[u8], digit: u8) {
        let computed = digits::check_digit(value);
        let (digit, computed) = (char::from(digit), char::from(computed));
        self.checks.push(Check { field, found: digit, computed, valid: digit == computed });
    }

    /// The composite check digit over several fields, read after their corrections.
    fn verify_composite(&mut self, spans: &[Span], check: (usize, usize)) {
        let value: Vec<u8> =
            spans.iter().flat_map(|(line, start, len)| self.lines[*line][*start..*start + *len].to_vec()).collect();
        let digit = self.byte(check);
        if digits::check_digit(&value) != digit && digits::has_confusion(&[digit]) {
            let fixed = digits::as_digit(digit);
            if digits::check_digit(&value) == fixed {
                self.lines[check.0][check.1] = fixed;
                self.corrections.push(Correction {
                    field: Field::Composite,
                    read: char::from(digit).to_string(),
                    corrected: char::from(fixed).to_string(),
                });
            }
        }
        self.verify_text(Field::Composite, &value, self.byte(check));
    }

    /// A state or nationality code without its fillers, reported if neither ISO nor ICAO
    /// assigns it.
    fn state(&mut self, field: Field, span: Span) -> String {
        let code = self.text(span).trim_end_matches('<').to_string();
        if code.is_empty() {
            self.problem(field, "the code is empty".into());
        } else if !codes::is_known(&code) {
            self.problem(field, format!("`{code}` is not an ISO 3166-1 or ICAO code"));
        }
        code
    }

    /// A YYMMDD date: the two-digit year, and the month and day when known (`<<` where the
    /// document leaves them unknown).
    fn date(&mut self, field: Field, span: Span) -> Option<(u8, Option<u8>, Option<u8>)> {
        let text = self.text(span);
        let bytes = text.as_bytes();
        let number = |pair: &[u8]| -> Result<Option<u8>, ()> {
            match pair {
                [b'<', b'<'] => Ok(None),
                [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Ok(Some((a - b'0') * 10 + (b - b'0'))),
                _ => Err(()),
            }
        };
        let parsed = (number(&bytes[0..2]), number(&bytes[2..4]), number(&bytes[4..6]));
        match parsed {
            (Ok(Some(year)), Ok(month), Ok(day))
                if month.is_none_or(|m| (1..=12).contains(&m))
                    && day.is_none_or(|d| (1..=31).contains(&d))
                    && !(month.is_none() && day.is_some()) =>
            {
                Some((year, month, day))
            }
            (Ok(None), Ok(None), Ok(None)) => None,
            _ => {
                self.problem(field, format!("`{text}` is not a date (YYMMDD)"));
                None
            }
        }
    }
}

/// The primary and secondary identifiers of a name field, and whether it may be truncated.
fn read_name(field: &str) -> (String, String, bool) {
    let truncated = !field.is_empty() && !field.ends_with('<');
    let field = field.trim_end_matches('<');
    let (primary, secondary) = field.split_once("<<").unwrap_or((field, ""));
    let words = |part: &str| part.split('<').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    (words(primary), words(secondary), truncated)
}

/// The year of expiry: 20YY, unless that is more than 50 years ahead (an old document).
fn expiry_year(yy: u8, today: time::Date) -> i16 {
    let year = 2000 + i16::from(yy);
    if i32::from(year) > today.year() + 50 { year - 100 } else { year }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_with_parts_and_truncation() {
        assert_eq!(read_name("ERIKSSON<<ANNA<MARIA<<<<<<<<<"), ("ERIKSSON".into(), "ANNA MARIA".into(), false));
        assert_eq!(read_name("AL<SHAMMARI<<ABDUL<AMEER<<<"), ("AL SHAMMARI".into(), "ABDUL AMEER".into(), false));
        assert_eq!(read_name("SOLO<<<<<<"), ("SOLO".into(), String::new(), false));
        assert_eq!(read_name("LONGNAME<<GIVENNAMESCU"), ("LONGNAME".into(), "GIVENNAMESCU".into(), true));
    }

    #[test]
    fn infers_centuries_from_today() {
        let today = time::macros::date!(2026 - 11 - 29);
        // Birth years: `PartialDate::birth_year_from_two_digits`, tested in the domain.
        assert_eq!(expiry_year(12, today), 2012);
        assert_eq!(expiry_year(35, today), 2035);
        assert_eq!(expiry_year(99, today), 1999);
    }
}
