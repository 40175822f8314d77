//! Alerts: what an agency records about a person, a travel document or a vehicle.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::category::string_enum;
use crate::{
    Action, AgencyCode, Category, CountryCode, DomainError, IcaoState, NAME_BYTES_MAX, NAMES_PER_PERSON_MAX,
    NUMBER_BYTES_MAX, PartialDate, Script, TEXT_BYTES_MAX, VALUES_PER_FIELD_MAX, detect_script,
};

/// The identity of an alert, unique across all nodes (a UUID chosen by the owner's node).
/// Written as a hyphenated UUID string everywhere (JSON numbers cannot hold 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct AlertId(pub u128);

impl Serialize for AlertId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_uuid(self.0, serializer)
    }
}

/// A UUID as its hyphenated text, written from a buffer on the stack: a manifest's report,
/// its receipts and its records write some 25,000 ids, each once a `String` of its own.
pub(crate) fn serialize_uuid<S: serde::Serializer>(id: u128, serializer: S) -> Result<S::Ok, S::Error> {
    let text = hyphenated(id);
    serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
}

/// The hyphenated UUID form of `id`, two digits a byte (a manifest writes some 25,000 ids;
/// one digit at a time from a 128-bit shift cost 870 instructions an id).
fn hyphenated(id: u128) -> [u8; 36] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in id.to_be_bytes().into_iter().enumerate() {
        // The hyphens before the 5th, 7th, 9th and 11th bytes: 8-4-4-4-12 digits.
        at += usize::from(matches!(i, 4 | 6 | 8 | 10));
        text[at] = DIGITS[usize::from(byte >> 4)];
        text[at + 1] = DIGITS[usize::from(byte & 0xf)];
        at += 2;
    }
    text
}

impl TryFrom<String> for AlertId {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, DomainError> {
        AlertId::parse(&text)
    }
}

impl AlertId {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let hex: String = text.trim().chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return Err(DomainError::new(format!("`{text}` is not an alert id (a UUID)")));
        }
        u128::from_str_radix(&hex, 16)
            .map(AlertId)
            .map_err(|_| DomainError::new(format!("`{text}` is not an alert id (a UUID)")))
    }
}

impl fmt::Display for AlertId {
    /// The hyphenated UUID form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&hyphenated(self.0)).map_err(|_| fmt::Error)?)
    }
}

/// What an alert is about; decided by its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    Person,
    Document,
    Vehicle,
}

/// The subject of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Subject {
    Person(Person),
    Document(TravelDocument),
    Vehicle(Vehicle),
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Person(_) => SubjectKind::Person,
            Subject::Document(_) => SubjectKind::Document,
            Subject::Vehicle(_) => SubjectKind::Vehicle,
        }
    }
}

/// An alert as its owner wrote it. The store adds version and sequence numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub id: AlertId,
    pub owner: AgencyCode,
    pub category: Category,
    pub subject: Subject,
    /// Overrides the category's default action on a hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    pub handling: HandlingCode,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::serde_date::option")]
    pub review_date: Option<time::Date>,
    /// The last day the alert is in force; from the day after, it no longer matches.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::serde_date::option")]
    pub expires: Option<time::Date>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remarks: String,
    /// Where the alert came from in the owner's systems (an imported entity's id), so that a
    /// second import updates instead of duplicating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// For a person to protect (at risk of trafficking, missing): the service an officer
    /// refers them to on a hit (a national referral mechanism, child protection), named in
    /// every hit, whatever the sharing level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<String>,
}

impl Alert {
    /// The action on a hit: the alert's own, else its category's default.
    pub fn effective_action(&self) -> Action {
        self.action.unwrap_or_else(|| self.category.default_action())
    }

    /// Whether the alert is still in force on `date`.
    pub fn is_active_on(&self, date: time::Date) -> bool {
        self.expires.is_none_or(|expires| date <= expires)
    }

    /// A short human label: the primary name, the document number or the vehicle.
    pub fn label(&self) -> String {
        match &self.subject {
            Subject::Person(person) => person.names.first().map(|n| n.full.clone()).unwrap_or_default(),
            Subject::Document(doc) => format!("{} {} {}", doc.doc_type, doc.issuing_state, doc.number),
            Subject::Vehicle(vehicle) => vehicle.vin.clone().or_else(|| vehicle.plate.clone()).unwrap_or_default(),
        }
    }

    /// Checks the rules that span fields: the subject fits the category, lists and texts are
    /// within their limits, a person has a name, a vehicle a VIN or plate. Run before a store
    /// persists an alert and after it loads one.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.subject.kind() != self.category.subject_kind() {
            return Err(DomainError::new(
                format!(
                    "a {} alert must be about a {:?}, not a {:?}",
                    self.category,
                    self.category.subject_kind(),
                    self.subject.kind()
                )
                .to_lowercase(),
            ));
        }
        check_text("remarks", &self.remarks, TEXT_BYTES_MAX)?;
        if let HandlingCode::H3 { restriction } = &self.handling {
            if restriction.trim().is_empty() {
                return Err(DomainError::new("handling code H3 needs the text of its restriction"));
            }
            check_text("restriction", restriction, TEXT_BYTES_MAX)?;
        }
        if let Some(source) = &self.source_id {
            check_text("source id", source, NAME_BYTES_MAX)?;
        }
        if let Some(service) = &self.refer_to {
            check_text("referral service", service, NAME_BYTES_MAX)?;
        }
        if let (Some(review), Some(expires)) = (self.review_date, self.expires)
            && review > expires
        {
            return Err(DomainError::new("the review date is after the expiry date"));
        }
        match &self.subject {
            Subject::Person(person) => person.validate(),
            Subject::Document(doc) => doc.validate(),
            Subject::Vehicle(vehicle) => vehicle.validate(),
        }
    }
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), DomainError> {
    if text.len() > max {
        return Err(DomainError::new(format!("{what} is longer than {max} bytes")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DomainError::new(format!("{what} contains control characters")));
    }
    Ok(())
}

fn check_count<T>(what: &str, values: &[T], max: usize) -> Result<(), DomainError> {
    if values.len() > max {
        return Err(DomainError::new(format!("more than {max} {what}")));
    }
    Ok(())
}

/// How the information may be used, as INTERPOL-style handling codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(tag = "code")]
pub enum HandlingCode {
    /// To be used only to fight crime.
    #[default]
    H0,
    /// Not to be used in court without the owner's consent.
    H1,
    /// Not to be passed on without the owner's consent.
    H2,
    /// Another restriction, stated in its text.
    H3 { restriction: String },
}

impl HandlingCode {
    /// Parses `H0`..`H3`; `H3` needs its restriction.
    pub fn parse(code: &str, restriction: Option<&str>) -> Result<Self, DomainError> {
        match (code.trim().to_ascii_uppercase().as_str(), restriction) {
            ("H0", None) => Ok(HandlingCode::H0),
            ("H1", None) => Ok(HandlingCode::H1),
            ("H2", None) => Ok(HandlingCode::H2),
            ("H3", Some(text)) if !text.trim().is_empty() => {
                Ok(HandlingCode::H3 { restriction: text.trim().to_string() })
            }
            ("H3", _) => Err(DomainError::new("handling code H3 needs the text of its restriction")),
            ("H0" | "H1" | "H2", Some(_)) => Err(DomainError::new("only handling code H3 takes a restriction text")),
            (other, _) => Err(DomainError::new(format!("`{other}` is not a handling code (H0, H1, H2, H3)"))),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            HandlingCode::H0 => "H0",
            HandlingCode::H1 => "H1",
            HandlingCode::H2 => "H2",
            HandlingCode::H3 { .. } => "H3",
        }
    }

    /// The code and what it asks, in words (written with every hit an officer is shown).
    pub fn describe(&self) -> std::borrow::Cow<'static, str> {
        match self {
            HandlingCode::H0 => "H0: use only to fight crime".into(),
            HandlingCode::H1 => "H1: not to be used in court without the owner's consent".into(),
            HandlingCode::H2 => "H2: not to be passed on without the owner's consent".into(),
            HandlingCode::H3 { restriction } => format!("H3: {restriction}").into(),
        }
    }
}

string_enum!(
    /// Warnings for the officer's safety and the person's.
    WarningMarker {
        Armed = "armed",
        Violent = "violent",
        Escaped = "escaped",
        SuicideRisk = "suicide-risk",
        PublicHealthRisk = "public-health-risk",
        Terrorism = "terrorism",
    }
);

string_enum!(
    /// A person's gender as travel documents record it.
    Gender {
        Male = "male",
        Female = "female",
        Other = "other",
    }
);

string_enum!(
    /// Whether a name is the person's own or an alias.
    NameKind {
        Primary = "primary",
        Alias = "alias",
    }
);

string_enum!(
    /// The type of a travel or identity document.
    DocumentType {
        Passport = "passport",
        IdCard = "id-card",
        Visa = "visa",
        ResidencePermit = "residence-permit",
        TravelDocument = "travel-document",
        Other = "other",
    }
);

string_enum!(
    /// Why a travel document is recorded (INTERPOL SLTD statuses).
    DocumentStatus {
        StolenBlank = "stolen-blank",
        StolenFromHolder = "stolen-from-holder",
        Lost = "lost",
        Revoked = "revoked",
        Invalidated = "invalidated",
    }
);

string_enum!(
    /// Why two alerts are linked.
    LinkKind {
        SameNetwork = "same-network",
        SameCase = "same-case",
        SamePerson = "same-person",
    }
);

/// One name of a person, kept exactly as written, with its script and, when known, its parts.
/// A writer may leave the script out: it is then detected from the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, from = "PersonNameWire")]
pub struct PersonName {
    pub full: String,
    pub script: Script,
    pub kind: NameKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub father: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// A person's name as read, with its script optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonNameWire {
    full: String,
    #[serde(default)]
    script: Option<Script>,
    kind: NameKind,
    #[serde(default)]
    given: Option<String>,
    #[serde(default)]
    father: Option<String>,
    #[serde(default)]
    family: Option<String>,
}

impl From<PersonNameWire> for PersonName {
    fn from(wire: PersonNameWire) -> PersonName {
        PersonName {
            script: wire.script.unwrap_or_else(|| detect_script(&wire.full)),
            full: wire.full,
            kind: wire.kind,
            given: wire.given,
            father: wire.father,
            family: wire.family,
        }
    }
}

impl PersonName {
    /// A name as written; its script is detected.
    pub fn new(full: &str, kind: NameKind) -> Self {
        let full = full.split_whitespace().collect::<Vec<_>>().join(" ");
        PersonName { script: detect_script(&full), full, kind, given: None, father: None, family: None }
    }

    fn validate(&self) -> Result<(), DomainError> {
        if self.full.trim().is_empty() {
            return Err(DomainError::new("a name is empty"));
        }
        for part in
            [Some(&self.full), self.given.as_ref(), self.father.as_ref(), self.family.as_ref()].into_iter().flatten()
        {
            check_text("a name", part, NAME_BYTES_MAX)?;
        }
        Ok(())
    }
}

/// An identity document a person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDocument {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_state: Option<IcaoState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<DocumentType>,
}

/// A person an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub names: Vec<PersonName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub birth_dates: Vec<PartialDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub birth_places: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nationalities: Vec<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<IdentityDocument>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<WarningMarker>,
}

impl Person {
    fn validate(&self) -> Result<(), DomainError> {
        if self.names.is_empty() {
            return Err(DomainError::new("a person alert needs at least one name"));
        }
        check_count("names", &self.names, NAMES_PER_PERSON_MAX)?;
        check_count("birth dates", &self.birth_dates, VALUES_PER_FIELD_MAX)?;
        check_count("birth places", &self.birth_places, VALUES_PER_FIELD_MAX)?;
        check_count("nationalities", &self.nationalities, VALUES_PER_FIELD_MAX)?;
        check_count("documents", &self.documents, VALUES_PER_FIELD_MAX)?;
        for name in &self.names {
            name.validate()?;
        }
        for place in &self.birth_places {
            check_text("a birth place", place, NAME_BYTES_MAX)?;
        }
        for doc in &self.documents {
            check_number("document number", &doc.number)?;
        }
        Ok(())
    }
}

fn check_number(what: &str, number: &str) -> Result<(), DomainError> {
    if number.trim().is_empty() {
        return Err(DomainError::new(format!("the {what} is empty")));
    }
    check_text(what, number, NUMBER_BYTES_MAX)
}

/// A travel document recorded as stolen, lost, revoked or invalidated, whoever held it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TravelDocument {
    pub number: String,
    pub issuing_state: IcaoState,
    pub doc_type: DocumentType,
    pub status: DocumentStatus,
}

impl TravelDocument {
    fn validate(&self) -> Result<(), DomainError> {
        check_number("document number", &self.number)
    }
}

/// A vehicle recorded as stolen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_country: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

impl Vehicle {
    fn validate(&self) -> Result<(), DomainError> {
        if self.vin.is_none() && self.plate.is_none() {
            return Err(DomainError::new("a vehicle alert needs a VIN or a plate"));
        }
        if let Some(vin) = &self.vin {
            check_number("VIN", vin)?;
        }
        if let Some(plate) = &self.plate {
            check_number("plate", plate)?;
        }
        for text in [&self.make, &self.model, &self.colour].into_iter().flatten() {
            check_text("a vehicle description", text, NAME_BYTES_MAX)?;
        }
        Ok(())
    }
}

/// A link between two alerts (same network, same case), made by an agency that sees both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub from: AlertId,
    pub to: AlertId,
    pub kind: LinkKind,
    pub created_by: AgencyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn person_alert() -> Alert {
        Alert {
            id: AlertId(7),
            owner: AgencyCode::new("IQ-MOI").unwrap(),
            category: Category::WantedForArrest,
            subject: Subject::Person(Person {
                names: vec![
                    PersonName::new("عبد الأمير الشمري", NameKind::Primary),
                    PersonName::new("Abdul Amir  al-Shammari", NameKind::Alias),
                ],
                birth_dates: vec![PartialDate::parse("1975-03").unwrap()],
                nationalities: vec![CountryCode::new("IQ").unwrap()],
                ..Person::default()
            }),
            action: None,
            handling: HandlingCode::H1,
            review_date: None,
            expires: None,
            remarks: String::new(),
            source_id: None,
            refer_to: None,
        }
    }

    #[test]
    fn alert_ids_print_and_parse_as_uuids() {
        let id = AlertId(0x0193_0f2a_1b2c_7d3e_8f40_5a6b_7c8d_9e0f);
        let text = id.to_string();
        assert_eq!(text, "01930f2a-1b2c-7d3e-8f40-5a6b7c8d9e0f");
        assert_eq!(AlertId::parse(&text).unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert!(AlertId::parse("not-an-id").is_err());
        assert_eq!(AlertId(0).to_string(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(AlertId(u128::MAX).to_string(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
        // Every digit in its place: the text is the number in hex with the hyphens taken out.
        let mut id = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834_u128;
        for _ in 0..1000 {
            id = id.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(0x1405_7b7e_f767_814f);
            let text = AlertId(id).to_string();
            assert_eq!(text.replace('-', ""), format!("{id:032x}"));
            assert_eq!(text.match_indices('-').map(|(i, _)| i).collect::<Vec<_>>(), [8, 13, 18, 23]);
        }
    }

    #[test]
    fn names_keep_their_script() {
        let alert = person_alert();
        let Subject::Person(person) = &alert.subject else { unreachable!() };
        assert_eq!(person.names[0].script, Script::Arabic);
        assert_eq!(person.names[1].script, Script::Latin);
        assert_eq!(person.names[1].full, "Abdul Amir al-Shammari");
    }

    #[test]
    fn validation_rules() {
        let good = person_alert();
        good.validate().unwrap();
        let json = serde_json::to_string(&good).unwrap();
        let back: Alert = serde_json::from_str(&json).unwrap();
        assert_eq!(back, good);

        let mut wrong_kind = good.clone();
        wrong_kind.category = Category::StolenVehicle;
        assert!(wrong_kind.validate().is_err());

        let mut no_names = good.clone();
        no_names.subject = Subject::Person(Person::default());
        assert!(no_names.validate().is_err());

        let mut h3 = good.clone();
        h3.handling = HandlingCode::H3 { restriction: " ".into() };
        assert!(h3.validate().is_err());

        let mut late_review = good.clone();
        late_review.review_date = Some(time::macros::date!(2030 - 01 - 01));
        late_review.expires = Some(time::macros::date!(2029 - 01 - 01));
        assert!(late_review.validate().is_err());

        let vehicle =
            Alert { category: Category::StolenVehicle, subject: Subject::Vehicle(Vehicle::default()), ..good };
        assert!(vehicle.validate().unwrap_err().to_string().contains("VIN or a plate"));
    }

    #[test]
    fn handling_codes() {
        assert_eq!(HandlingCode::parse("h2", None).unwrap(), HandlingCode::H2);
        assert!(HandlingCode::parse("H3", None).is_err());
        assert!(HandlingCode::parse("H1", Some("x")).is_err());
        assert!(HandlingCode::parse("H9", None).is_err());
        let h3 = HandlingCode::parse("H3", Some("not before 2027")).unwrap();
        assert_eq!(serde_json::to_string(&h3).unwrap(), r#"{"code":"H3","restriction":"not before 2027"}"#);
    }

    #[test]
    fn expiry_is_inclusive() {
        let mut alert = person_alert();
        alert.expires = Some(time::macros::date!(2026 - 11 - 29));
        assert!(alert.is_active_on(time::macros::date!(2026 - 11 - 29)));
        assert!(!alert.is_active_on(time::macros::date!(2026 - 11 - 30)));
    }
}

#[cfg(test)]
mod name_wire_tests {
    use super::*;

    #[test]
    fn a_name_without_its_script_gets_it_detected() {
        let name: PersonName = serde_json::from_str(r#"{"full": "كريم جبار", "kind": "primary"}"#).unwrap();
        assert_eq!(name.script, Script::Arabic);
        let name: PersonName =
            serde_json::from_str(r#"{"full": "Karim", "script": "latin", "kind": "alias"}"#).unwrap();
        assert_eq!((name.script, name.kind), (Script::Latin, NameKind::Alias));
        assert!(serde_json::from_str::<PersonName>(r#"{"full": "K", "kind": "primary", "x": 1}"#).is_err());
    }
}
