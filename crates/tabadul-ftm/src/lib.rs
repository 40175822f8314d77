//! FollowTheMoney entities, one JSON object a line, as OpenSanctions publishes them, and their
//! conversion into tabadul's person alerts.
//!
//! Pure: the caller reads the lines (and decompresses them); this crate parses one line into an
//! [`Entity`] and turns a `Person` entity, with the `Passport` and `Identification` entities
//! whose `holder` it is, into a [`Person`] with the warnings a person should read.
//!
//! The entity format (what is read; everything else is ignored):
//!
//! | key | meaning |
//! |---|---|
//! | `id` | the entity's id, a non-empty string |
//! | `schema` | `Person`, `Passport`, `Identification`, or another schema (skipped) |
//! | `properties` | an object of lists of strings; a nested entity is taken by its `id` |
//!
//! Person properties used: `name` (the first is primary, further ones are kept as aliases),
//! `alias`, `weakAlias`, `previousName`, `firstName`, `fatherName`, `lastName`, `birthDate`,
//! `birthPlace`, `nationality`, `citizenship`, `gender`, `passportNumber`, `idNumber`, `notes`.
//! Document properties used: `holder`, `number`, `country`, `type`.

use std::collections::BTreeMap;

use tabadul_domain::{
    CountryCode, DocumentType, Gender, IdentityDocument, NAME_BYTES_MAX, NAMES_PER_PERSON_MAX, NameKind, PartialDate,
    Person, PersonName, VALUES_PER_FIELD_MAX,
};

/// Longest line read, in bytes; a longer line is reported, not parsed.
pub const LINE_BYTES_MAX: usize = 8 * 1024 * 1024;

/// The schemas tabadul reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schema {
    Person,
    Passport,
    Identification,
    Other(String),
}

/// One FollowTheMoney entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub id: String,
    pub schema: Schema,
    pub properties: BTreeMap<String, Vec<String>>,
}

/// Why a line is not an entity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FtmError {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("the line is longer than {LINE_BYTES_MAX} bytes")]
    TooLong,
    #[error("not a FollowTheMoney entity: {0}")]
    NotAnEntity(String),
    #[error("person {0} has no name")]
    NoName(String),
}

/// Parses one line. Blank lines are the caller's to skip.
pub fn parse_line(line: &str) -> Result<Entity, FtmError> {
    if line.len() > LINE_BYTES_MAX {
        return Err(FtmError::TooLong);
    }
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| FtmError::Json(e.to_string()))?;
    let serde_json::Value::Object(mut raw) = value else {
        return Err(FtmError::NotAnEntity("not a JSON object".into()));
    };
    let id = match raw.remove("id") {
        Some(serde_json::Value::String(id)) if !id.trim().is_empty() => id,
        _ => return Err(FtmError::NotAnEntity("no `id` string".into())),
    };
    let schema = match raw.remove("schema") {
        Some(serde_json::Value::String(schema)) => match schema.as_str() {
            "Person" => Schema::Person,
            "Passport" => Schema::Passport,
            "Identification" => Schema::Identification,
            _ => Schema::Other(schema),
        },
        _ => return Err(FtmError::NotAnEntity("no `schema` string".into())),
    };
    let properties = match raw.remove("properties") {
        None | Some(serde_json::Value::Null) => BTreeMap::new(),
        Some(serde_json::Value::Object(map)) => map.into_iter().map(|(key, value)| (key, strings(value))).collect(),
        Some(_) => return Err(FtmError::NotAnEntity("`properties` is not an object".into())),
    };
    Ok(Entity { id, schema, properties })
}

/// The strings of a property value: a list of strings (the usual form), a single string, or
/// nested entities taken by their id. Anything else is dropped.
fn strings(value: serde_json::Value) -> Vec<String> {
    let one = |value: serde_json::Value| match value {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Object(mut map) => match map.remove("id") {
            Some(serde_json::Value::String(id)) => Some(id),
            _ => None,
        },
        _ => None,
    };
    match value {
        serde_json::Value::Array(values) => values.into_iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

impl Entity {
    pub fn values(&self, property: &str) -> &[String] {
        self.properties.get(property).map_or(&[], Vec::as_slice)
    }

    /// For a document entity, the ids of its holders.
    pub fn holders(&self) -> &[String] {
        self.values("holder")
    }
}

/// A person read from an entity, with what could not be taken over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub person: Person,
    /// The entity's `notes`, cut to fit the alert's remarks.
    pub remarks: String,
    pub warnings: Vec<String>,
}

/// Turns a `Person` entity and the document entities it holds into a person.
pub fn person_from_entity(entity: &Entity, documents: &[Entity]) -> Result<Converted, FtmError> {
    let mut warnings = Vec::new();
    let mut person = Person::default();
    let mut seen_names = std::collections::HashSet::new();
    let name_sources = [("name", true), ("alias", false), ("previousName", false), ("weakAlias", false)];
    for (property, primary) in name_sources {
        for value in entity.values(property) {
            let name = PersonName::new(
                value,
                if primary && person.names.is_empty() { NameKind::Primary } else { NameKind::Alias },
            );
            if name.full.is_empty() || !seen_names.insert(name.full.clone()) {
                continue;
            }
            if name.full.len() > NAME_BYTES_MAX {
                warnings.push(format!("name longer than {NAME_BYTES_MAX} bytes left out"));
                continue;
            }
            if person.names.len() == NAMES_PER_PERSON_MAX {
                warnings.push(format!("more than {NAMES_PER_PERSON_MAX} names: the rest left out"));
                break;
            }
            person.names.push(name);
        }
    }
    if person.names.is_empty() {
        return Err(FtmError::NoName(entity.id.clone()));
    }
    if person.names[0].kind != NameKind::Primary {
        person.names[0].kind = NameKind::Primary;
    }
    let single = |property: &str| match entity.values(property) {
        [one] => Some(one.trim().to_string()).filter(|v| !v.is_empty() && v.len() <= NAME_BYTES_MAX),
        _ => None,
    };
    person.names[0].given = single("firstName");
    person.names[0].father = single("fatherName");
    person.names[0].family = single("lastName");

    for value in entity.values("birthDate") {
        match PartialDate::parse(value) {
            Ok(date) if !person.birth_dates.contains(&date) => person.birth_dates.push(date),
            Ok(_) => {}
            Err(e) => warnings.push(format!("birth date left out: {e}")),
        }
    }
    for value in entity.values("birthPlace") {
        let place = value.trim();
        if !place.is_empty() && place.len() <= NAME_BYTES_MAX && !person.birth_places.iter().any(|p| p == place) {
            person.birth_places.push(place.to_string());
        }
    }
    for value in entity.values("nationality").iter().chain(entity.values("citizenship")) {
        match CountryCode::new(value).ok().filter(CountryCode::is_assigned) {
            Some(country) if !person.nationalities.contains(&country) => person.nationalities.push(country),
            Some(_) => {}
            None => warnings.push(format!("nationality `{value}` is not an ISO country code: left out")),
        }
    }
    person.gender = entity.values("gender").iter().find_map(|g| g.parse::<Gender>().ok());

    let mut add_document = |number: &str, country: Option<&str>, doc_type: Option<DocumentType>| {
        let number = number.trim();
        if number.is_empty() || number.len() > tabadul_domain::NUMBER_BYTES_MAX {
            return;
        }
        let issuing_state = country.and_then(|c| CountryCode::new(c).ok()).and_then(|c| c.alpha3());
        let document = IdentityDocument { number: number.to_string(), issuing_state, doc_type };
        if !person.documents.contains(&document) && person.documents.len() < VALUES_PER_FIELD_MAX {
            person.documents.push(document);
        }
    };
    for number in entity.values("passportNumber") {
        add_document(number, None, Some(DocumentType::Passport));
    }
    for number in entity.values("idNumber") {
        add_document(number, None, None);
    }
    for document in documents {
        let doc_type = match document.schema {
            Schema::Passport => Some(DocumentType::Passport),
            _ => document.values("type").first().and_then(|t| document_type(t)),
        };
        let country = document.values("country").first().map(String::as_str);
        for number in document.values("number") {
            add_document(number, country, doc_type);
        }
    }
    person.birth_dates.truncate(VALUES_PER_FIELD_MAX);
    person.birth_places.truncate(VALUES_PER_FIELD_MAX);
    person.nationalities.truncate(VALUES_PER_FIELD_MAX);

    let remarks = cut(&entity.values("notes").join("\n"), tabadul_domain::TEXT_BYTES_MAX);
    Ok(Converted { person, remarks, warnings })
}

fn document_type(text: &str) -> Option<DocumentType> {
    let text = text.to_lowercase();
    if text.contains("passport") {
        Some(DocumentType::Passport)
    } else if text.contains("identi") || text.contains("national id") {
        Some(DocumentType::IdCard)
    } else {
        None
    }
}

/// The longest prefix of `text` within `max` bytes, without control characters but newlines.
fn cut(text: &str, max: usize) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control() || *c == '\n').collect();
    let mut end = clean.len().min(max);
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean[..end].trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: &str = r#"{"id":"NK-abc","schema":"Person","caption":"Saddam","properties":{"name":["SADDAM HUSSEIN AL-TIKRITI"],"alias":["صدام حسين التكريتي","Abu Uday","SADDAM HUSSEIN AL-TIKRITI"],"birthDate":["1937-04-28","28 April 1937"],"nationality":["iq","suhh"],"gender":["male"],"passportNumber":["A123"],"notes":["Former president"],"topics":["sanction"]},"datasets":["un_sc_sanctions"]}"#;
    const PASSPORT: &str = r#"{"id":"pass-1","schema":"Passport","properties":{"holder":["NK-abc"],"number":["B7654321"],"country":["iq"]}}"#;

    #[test]
    fn reads_a_person_with_documents() {
        let person = parse_line(PERSON).unwrap();
        assert_eq!(person.schema, Schema::Person);
        let passport = parse_line(PASSPORT).unwrap();
        assert_eq!(passport.holders(), ["NK-abc"]);
        let converted = person_from_entity(&person, &[passport]).unwrap();
        let p = &converted.person;
        let names: Vec<(&str, NameKind)> = p.names.iter().map(|n| (n.full.as_str(), n.kind)).collect();
        assert_eq!(
            names,
            [
                ("SADDAM HUSSEIN AL-TIKRITI", NameKind::Primary),
                ("صدام حسين التكريتي", NameKind::Alias),
                ("Abu Uday", NameKind::Alias)
            ]
        );
        assert_eq!(p.names[1].script, tabadul_domain::Script::Arabic);
        assert_eq!(p.birth_dates, [PartialDate::parse("1937-04-28").unwrap()]);
        assert_eq!(p.nationalities, [CountryCode::new("IQ").unwrap()]);
        assert_eq!(p.gender, Some(Gender::Male));
        let docs: Vec<(&str, Option<&str>)> =
            p.documents.iter().map(|d| (d.number.as_str(), d.issuing_state.as_ref().map(|s| s.as_str()))).collect();
        assert_eq!(docs, [("A123", None), ("B7654321", Some("IRQ"))]);
        assert_eq!(converted.remarks, "Former president");
        assert_eq!(converted.warnings.len(), 2, "{:?}", converted.warnings);
    }

    fn check_error(line: &str, expected: &str) {
        let error = parse_line(line).unwrap_err().to_string();
        assert!(error.contains(expected), "{line}: {error}");
    }

    #[test]
    fn malformed_lines_say_why() {
        check_error("{", "not valid JSON");
        check_error("[1,2]", "not a JSON object");
        check_error(r#"{"schema":"Person"}"#, "no `id`");
        check_error(r#"{"id":"x"}"#, "no `schema`");
        check_error(r#"{"id":"x","schema":"Person","properties":[]}"#, "not an object");
        check_error(r#"{"id":"","schema":"Person"}"#, "no `id`");
    }

    #[test]
    fn a_person_without_a_name_is_an_error() {
        let entity = parse_line(r#"{"id":"x","schema":"Person","properties":{"birthDate":["1970"]}}"#).unwrap();
        assert_eq!(person_from_entity(&entity, &[]), Err(FtmError::NoName("x".into())));
    }

    #[test]
    fn odd_property_values_are_tolerated() {
        let entity = parse_line(
            r#"{"id":"x","schema":"Person","properties":{"name":"Single","holder":[{"id":"n1"}],"gender":[3,null]}}"#,
        )
        .unwrap();
        assert_eq!(entity.values("name"), ["Single"]);
        assert_eq!(entity.values("holder"), ["n1"]);
        assert!(entity.values("gender").is_empty());
    }

    #[test]
    fn long_notes_are_cut_at_a_character() {
        assert_eq!(cut("عبد", 3), "ع");
        assert_eq!(cut("a\u{7}b", 10), "ab");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn json_like() -> impl Strategy<Value = String> {
        let person = r#"\{"id":"[a-z0-9-]{0,6}","schema":"(Person|Passport|Identification|Company)","properties":\{"(name|alias|birthDate|nationality|holder|number|country|notes)":\[("[^"\\]{0,12}",?){0,3}\]\}\}"#;
        prop_oneof![any::<String>(), person.prop_map(|s| s)]
    }

    proptest! {
        /// The same property the `ftm_line` fuzz target checks, run on every test run.
        #[test]
        fn any_line_is_read_or_refused_without_panic(line in json_like()) {
            if let Ok(entity) = parse_line(&line) {
                let documents = [entity.clone()];
                if let Ok(converted) = person_from_entity(&entity, &documents) {
                    prop_assert!(!converted.person.names.is_empty());
                }
            }
        }
    }
}
