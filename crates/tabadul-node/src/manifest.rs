//! Passenger manifests (PAXLST) screened before the flight lands: every passenger and crew
//! member checked as at a border (document, person, visibility), and a report of the flight
//! with the travellers who hit, the most severe first, and what the carrier is told of each
//! traveller (board, no board, contact the government), which [`boarding_answer`] writes as
//! the interactive API's CUSRES message.

use serde::Serialize;
use tabadul_audit::ops;
use tabadul_domain::{Action, CountryCode};
use tabadul_edifact::cusres::{self, Directive};
use tabadul_edifact::{Leg, Traveller};

use crate::check::{CheckRequest, Hit};
use crate::{Actor, Node, NodeError, Result, details};

/// The most travellers screened from one interchange.
pub const TRAVELLERS_PER_MANIFEST_MAX: usize = 2000;

/// A traveller of the manifest who hit, with the hits.
#[derive(Debug, Clone, Serialize)]
pub struct TravellerHits {
    pub name: String,
    /// `passenger` or `crew`.
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nationality: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The most severe action of the hits.
    pub action: Action,
    /// The check that found them (its receipt is in the audit log).
    pub check_id: String,
    #[serde(skip)]
    pub documents: Vec<Hit>,
    #[serde(skip)]
    pub persons: Vec<Hit>,
    /// `documents` and `persons` as the check wrote them for its receipt's hash, written into
    /// the report as they are.
    #[serde(rename = "documents")]
    documents_json: Box<serde_json::value::RawValue>,
    #[serde(rename = "persons")]
    persons_json: Box<serde_json::value::RawValue>,
}

/// The interchange a manifest came in, as its answer echoes it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Envelope {
    /// The carrier (UNB sender) and the receiving authority (UNB recipient), with their code
    /// qualifiers.
    pub sender: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sender_qualifier: String,
    pub recipient: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub recipient_qualifier: String,
    pub control_reference: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub common_reference: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub transaction: String,
}

/// A manifest screened.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestReport {
    pub reference: String,
    pub envelope: Envelope,
    pub legs: Vec<Leg>,
    pub travellers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<usize>,
    pub screened: usize,
    /// Travellers with hits, the most severe first.
    pub hits: Vec<TravellerHits>,
    /// Travellers that could not be checked (no name, no document), with why.
    pub not_screened: Vec<String>,
    /// What was malformed in the message, by segment.
    pub problems: Vec<String>,
    /// Every traveller, in the manifest's order, with what the carrier is told (only the
    /// directive, never why) and the references it is quoted by.
    pub boarding: Vec<cusres::Answer>,
}

/// What the carrier is told of a traveller with these hits (document hits first, then person
/// hits), or of one that could not be screened (`screened` false).
///
/// - A travel document reported stolen, lost or refused (its number and issuing state equal:
///   strong evidence) is not valid for travel: **no board**.
/// - A person who may be wanted for arrest or refused entry, or a document that may belong to
///   one, is held until an officer has looked: **contact the government**. A name match is
///   not proof, so it never denies boarding on its own; a traveller too poorly described to
///   be screened is held the same way.
/// - Everything else boards: questions are asked on arrival, a person at risk is protected
///   and referred on arrival, and the carrier must never learn of a discreet check.
pub fn boarding_directive(documents: &[Hit], persons: &[Hit], screened: bool) -> Directive {
    if !screened {
        return Directive::ContactGovernment;
    }
    let mut directive = Directive::Board;
    for hit in documents {
        match hit.action {
            Action::Seize | Action::RefuseEntry => return Directive::NoBoard,
            Action::Arrest => directive = Directive::ContactGovernment,
            Action::ProtectAndRefer | Action::ReportDiscreetly | Action::Question => {}
        }
    }
    if persons.iter().any(|h| matches!(h.action, Action::Arrest | Action::RefuseEntry)) {
        directive = Directive::ContactGovernment;
    }
    directive
}

/// The interactive API's answer to the manifests of one interchange: a CUSRES message per
/// manifest with every traveller's directive, prepared at `at` (UTC), in ISO 8859-1 as it
/// declares.
pub fn boarding_answer(reports: &[ManifestReport], at: time::OffsetDateTime) -> Vec<u8> {
    let at = at.to_offset(time::UtcOffset::UTC);
    let envelope = reports.first().map(|r| r.envelope.clone()).unwrap_or_default();
    let answers: Vec<cusres::Response> = reports
        .iter()
        .map(|report| cusres::Response {
            message_reference: report.reference.clone(),
            common_reference: report.envelope.common_reference.clone(),
            transaction: report.envelope.transaction.clone(),
            leg: report.legs.last().cloned(),
            answers: report.boarding.clone(),
        })
        .collect();
    let format = |description| at.format(description).unwrap_or_default();
    cusres::write(
        &cusres::Envelope {
            // The answer goes back the way the manifest came.
            sender: (envelope.recipient, envelope.recipient_qualifier),
            recipient: (envelope.sender, envelope.sender_qualifier),
            control_reference: envelope.control_reference,
            date: format(time::macros::format_description!("[year repr:last_two][month][day]")),
            time: format(time::macros::format_description!("[hour][minute]")),
        },
        &answers,
    )
}

/// How severe an action is, for ordering: arrest first.
fn severity(action: Action) -> u8 {
    match action {
        Action::Arrest => 6,
        Action::RefuseEntry => 5,
        Action::ProtectAndRefer => 4,
        Action::Seize => 3,
        Action::ReportDiscreetly => 2,
        Action::Question => 1,
    }
}

fn request(traveller: &Traveller, leg: Option<&Leg>) -> CheckRequest {
    // The travel document (a passport, an identity card), not a visa listed before it.
    let document = traveller.documents.iter().find(|d| !d.kind.trim().starts_with('V')).or(traveller.documents.first());
    CheckRequest {
        post: format!("manifest:{}", leg.map_or("?", |l| l.flight.as_str())),
        mrz: None,
        names: Some(traveller.full_name()).filter(|n| !n.is_empty()).into_iter().collect(),
        birth_dates: traveller.birth_date.into_iter().collect(),
        nationalities: CountryCode::from_alpha3(&traveller.nationality).into_iter().collect(),
        gender: traveller.gender,
        document_number: document.map(|d| d.number.clone()).filter(|n| !n.is_empty()),
        document_state: document.map(|d| d.issuing_state.clone()).filter(|s| !s.is_empty()),
        vin: None,
        plate: None,
    }
}

impl Node {
    /// Screens the PAXLST manifests of an EDIFACT interchange for the actor's agency: each
    /// traveller is a check (audited, with its receipt), the manifest itself one more entry.
    pub fn screen_manifest(&self, actor: &Actor, data: &[u8]) -> Result<Vec<ManifestReport>> {
        // One sharing table for every traveller of the interchange.
        let table = self.checking_table(actor)?;
        let interchange = tabadul_edifact::parse(data).map_err(|e| NodeError::Invalid(format!("EDIFACT: {e}")))?;
        let manifests = tabadul_edifact::manifests(&interchange, self.today());
        if manifests.is_empty() {
            return Err(NodeError::Invalid("the interchange holds no PAXLST message".into()));
        }
        let total: usize = manifests.iter().map(|m| m.travellers.len()).sum();
        if total > TRAVELLERS_PER_MANIFEST_MAX {
            return Err(NodeError::Invalid(format!(
                "{total} travellers; a manifest screened at once holds at most {TRAVELLERS_PER_MANIFEST_MAX}"
            )));
        }
        let interchange_problems: Vec<String> =
            interchange.problems.iter().map(|p| format!("segment {}: {}", p.segment, p.message)).collect();
        let mut reports = Vec::new();
        for manifest in manifests {
            let leg = manifest.legs.last();
            let mut hits = Vec::new();
            let mut not_screened = Vec::new();
            let mut screened = 0;
            // Every traveller is searched first, then all their checks are recorded at once
            // with the manifest's own entry: one transaction, one write to disk.
            let mut checked = Vec::new();
            // Until screened, a traveller is held (too poorly described to be screened).
            let mut boarding: Vec<cusres::Answer> = manifest
                .travellers
                .iter()
                .map(|t| cusres::Answer::to(t, boarding_directive(&[], &[], false)))
                .collect();
            // What the travellers' searches compute alike (a family's name), computed once.
            let mut batch = tabadul_index::SearchBatch::default();
            for (at, traveller) in manifest.travellers.iter().enumerate() {
                let request = request(traveller, leg);
                if request.names.is_empty() && request.document_number.is_none() {
                    not_screened.push(format!("segment {}: no name and no document", traveller.segment));
                    continue;
                }
                match self.prepare_check(actor, &request, &table, &mut batch) {
                    Ok(prepared) => checked.push((at, traveller, request, prepared)),
                    Err(NodeError::Invalid(why)) => not_screened.push(format!("segment {}: {why}", traveller.segment)),
                    Err(error) => return Err(error),
                }
            }
            screened += checked.len();
            let mut records = Vec::with_capacity(checked.len() + 1);
            for (at, traveller, request, prepared) in checked {
                records.push((prepared.records, prepared.audit));
                let result = prepared.check.result;
                boarding[at].directive = boarding_directive(&result.documents, &result.persons, true);
                let found: Vec<&Hit> = result.documents.iter().chain(&result.persons).collect();
                let Some(action) = found.iter().map(|h| h.action).max_by_key(|a| severity(*a)) else { continue };
                hits.push(TravellerHits {
                    name: traveller.full_name(),
                    role: match traveller.role {
                        tabadul_edifact::Role::Passenger => "passenger",
                        tabadul_edifact::Role::Crew => "crew",
                    },
                    birth_date: traveller.birth_date.map(|d| d.to_string()),
                    nationality: traveller.nationality.clone(),
                    document: request.document_number.clone(),
                    action,
                    check_id: prepared.check.id,
                    documents: result.documents,
                    persons: result.persons,
                    documents_json: prepared.json.documents,
                    persons_json: prepared.json.persons,
                });
            }
            let best = |t: &TravellerHits| t.persons.iter().filter_map(|h| h.score).fold(0.0f64, f64::max);
            hits.sort_by(|a, b| {
                severity(b.action).cmp(&severity(a.action)).then(best(b).total_cmp(&best(a))).then(a.name.cmp(&b.name))
            });
            let mut problems = interchange_problems.clone();
            problems.extend(manifest.problems.iter().map(|p| format!("segment {}: {}", p.segment, p.message)));
            let report = ManifestReport {
                reference: manifest.reference.clone(),
                envelope: Envelope {
                    sender: interchange.sender.clone(),
                    sender_qualifier: interchange.sender_qualifier.clone(),
                    recipient: interchange.recipient.clone(),
                    recipient_qualifier: interchange.recipient_qualifier.clone(),
                    control_reference: interchange.control_reference.clone(),
                    common_reference: manifest.common_reference.clone(),
                    transaction: manifest.transaction.clone(),
                },
                legs: manifest.legs.clone(),
                travellers: manifest.travellers.len(),
                declared: manifest.declared_count,
                screened,
                hits,
                not_screened,
                problems,
                boarding,
            };
            let told = |d: Directive| report.boarding.iter().filter(|b| b.directive == d).count();
            let audit = self
                .audit(actor, ops::MANIFEST_SCREEN)
                .targets(report.hits.iter().flat_map(|t| t.documents.iter().chain(&t.persons).map(|h| h.alert_id)))
                .details(details(serde_json::json!({
                    "reference": report.reference,
                    "flights": report.legs.iter().map(|l| l.flight.clone()).collect::<Vec<_>>(),
                    "travellers": report.travellers,
                    "screened": report.screened,
                    "checks": report.hits.iter().map(|t| t.check_id.clone()).collect::<Vec<_>>(),
                    "problems": report.problems.len(),
                    "no_board": told(Directive::NoBoard),
                    "contact_government": told(Directive::ContactGovernment),
                })))
                .result_count(report.hits.len() as u64);
            records.push((Vec::new(), audit));
            while !records.is_empty() {
                let rest = records.split_off(records.len().min(tabadul_store::CHECKS_PER_BATCH_MAX));
                self.store.record_checks(std::mem::replace(&mut records, rest))?;
            }
            reports.push(report);
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tabadul_domain::{AgencyCode, AlertId};

    fn hit(action: Action) -> Hit {
        let owner = "IQ-MOI".parse::<AgencyCode>().expect("a valid code");
        Hit::at_hit_level(AlertId(1), owner, action, String::new(), None, None)
    }

    #[test]
    fn the_travel_document_is_screened_not_a_visa_listed_first() {
        let document = |kind: &str, number: &str| tabadul_edifact::Document {
            kind: kind.into(),
            number: number.into(),
            expiry: String::new(),
            issuing_state: "IRQ".into(),
        };
        let data = "UNB+UNOA:4+IA+CZ+261129:0600+1'UNH+1+PAXLST:D:05B:UN:IATA'NAD+FL+++ALI:HASSAN'UNT+3+1'UNZ+1+1'";
        let interchange = tabadul_edifact::parse(data.as_bytes()).expect("an interchange");
        let mut traveller = tabadul_edifact::manifests(&interchange, time::macros::date!(2026 - 11 - 29))
            .remove(0)
            .travellers
            .remove(0);
        traveller.documents = vec![document("V", "V123"), document("P", "A7654321")];
        assert_eq!(request(&traveller, None).document_number.as_deref(), Some("A7654321"));
        traveller.documents = vec![document("V", "V123")];
        assert_eq!(request(&traveller, None).document_number.as_deref(), Some("V123"));
    }

    #[test]
    fn the_carrier_is_told_to_hold_on_a_name_and_to_refuse_on_a_document() {
        use Action::*;
        use Directive::*;
        let cases: &[(&[Action], &[Action], Directive)] = &[
            (&[], &[], Board),
            // Questions, protection and discreet checks happen on arrival, unknown to the carrier.
            (&[], &[Question, ProtectAndRefer, ReportDiscreetly], Board),
            (&[ReportDiscreetly], &[], Board),
            // A name match is not proof: an officer looks before boarding is refused.
            (&[], &[Arrest], ContactGovernment),
            (&[], &[RefuseEntry, Question], ContactGovernment),
            (&[Arrest], &[], ContactGovernment),
            // A stolen or refused document is not valid for travel, whatever else is found.
            (&[Seize], &[], NoBoard),
            (&[Arrest, RefuseEntry], &[Arrest], NoBoard),
        ];
        for (documents, persons, expected) in cases {
            let documents: Vec<Hit> = documents.iter().copied().map(hit).collect();
            let persons: Vec<Hit> = persons.iter().copied().map(hit).collect();
            assert_eq!(boarding_directive(&documents, &persons, true), *expected, "{documents:?} {persons:?}");
        }
        assert_eq!(boarding_directive(&[], &[], false), ContactGovernment, "not screened: held");
    }
}
