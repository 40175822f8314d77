//! Border checks end to end on the in-memory store: a stolen document, a person across
//! scripts, what a `hit`-level partner learns (and does not), hidden alerts, the index kept in
//! step with writes, the audit entry and the signed receipt.

use std::sync::Arc;

use tabadul_audit::ops;
use tabadul_domain::{
    Action, Agency, AgencyCode, Category, CountryCode, DocumentStatus, DocumentType, HandlingCode, IcaoState, NameKind,
    PartialDate, Person, PersonName, SharingLevel, Subject, TravelDocument, WarningMarker,
};
use tabadul_node::{
    Actor, AgreementDraft, AlertDraft, CheckOutcome, CheckRequest, FixedClock, Node, NodeError, NodeKey, OutcomeKind,
    verify_receipt,
};
use tabadul_store::MemStore;

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

fn officer(agency: &str) -> Actor {
    Actor::new(format!("officer@{agency}"), Some(code(agency)))
}

/// Iraq, the Czech Republic, France and the UK. Iraq and the Czech Republic share wanted
/// persons and stolen documents in full; the summit's agreement shares trafficking risk at hit
/// level with France; the UK has no agreement.
fn summit() -> Node {
    let clock = FixedClock(time::macros::datetime!(2026-11-29 12:00 UTC));
    let node = Node::new(Arc::new(MemStore::new()), Arc::new(clock));
    let admin = Actor::new("admin", None);
    for (agency, country, name) in [
        ("IQ-MOI", "IQ", "Iraqi Ministry of Interior"),
        ("CZ-MV", "CZ", "Czech Ministry of the Interior"),
        ("FR-MI", "FR", "French Ministry of the Interior"),
        ("GB-HO", "GB", "UK Home Office"),
    ] {
        let agency = Agency::new(code(agency), CountryCode::new(country).unwrap(), name, None).unwrap();
        node.add_agency(&admin, agency).unwrap();
    }
    let draft = |title: &str, parties: &[&str], levels: Vec<(Category, SharingLevel)>| AgreementDraft {
        title: title.into(),
        parties: parties.iter().map(|p| code(p)).collect(),
        levels,
        valid_from: Some(time::macros::date!(2026 - 01 - 01)),
        valid_until: None,
        legal_reference: "MoU".into(),
    };
    let full = vec![
        (Category::WantedForArrest, SharingLevel::Full),
        (Category::StolenDocument, SharingLevel::Full),
        (Category::TraffickingRisk, SharingLevel::Full),
    ];
    node.add_agreement(&admin, draft("Iraq-Czech MoU", &["IQ-MOI", "CZ-MV"], full)).unwrap();
    let hit = vec![(Category::TraffickingRisk, SharingLevel::Hit), (Category::WantedForArrest, SharingLevel::Hit)];
    node.add_agreement(&admin, draft("London summit", &["IQ-MOI", "FR-MI"], hit)).unwrap();
    node
}

fn alert(category: Category, subject: Subject) -> AlertDraft {
    AlertDraft {
        category,
        subject,
        action: None,
        handling: HandlingCode::H1,
        review_date: None,
        expires: None,
        remarks: "seen in Mosul, 2025".into(),
        source_id: None,
        refer_to: None,
    }
}

fn person(names: &[&str], birth: &str, markers: Vec<WarningMarker>) -> Subject {
    Subject::Person(Person {
        names: names.iter().map(|n| PersonName::new(n, NameKind::Primary)).collect(),
        birth_dates: vec![PartialDate::parse(birth).unwrap()],
        nationalities: vec![CountryCode::new("IQ").unwrap()],
        markers,
        ..Person::default()
    })
}

/// A passport of Abdul Ameer al-Shammari, as the MRZ romanises his name (check digits valid).
const SHAMMARI_MRZ: &str = "P<IRQALSHAMMARI<<ABDULAMEER<HASSAN<<<<<<<<<<\nA123456784IRQ8501019M3105205<<<<<<<<<<<<<<02";

/// Iraq's alert on Abdul Ameer al-Shammari, wanted for arrest, in Arabic script.
fn wanted_shammari(node: &Node) -> tabadul_store::StoredAlert {
    let subject = person(&["عبد الأمير حسن الشمري"], "1985-01-01", vec![]);
    node.create_alert(&officer("IQ-MOI"), alert(Category::WantedForArrest, subject)).unwrap()
}

fn check(node: &Node, key: &NodeKey, agency: &str, request: CheckRequest) -> CheckOutcome {
    node.check(&officer(agency), key, &CheckRequest { post: "BGW-AIRPORT".into(), ..request }).unwrap()
}

fn mrz(text: &str) -> CheckRequest {
    CheckRequest { mrz: Some(text.into()), ..CheckRequest::default() }
}

#[test]
fn a_passport_hits_a_person_across_scripts_and_a_stolen_document() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let iraq = officer("IQ-MOI");
    let wanted = node
        .create_alert(
            &iraq,
            alert(
                Category::WantedForArrest,
                person(&["عبد الأمير حسن الشمري"], "1985-01-01", vec![WarningMarker::Armed]),
            ),
        )
        .unwrap();
    let stolen = node
        .create_alert(
            &iraq,
            alert(
                Category::StolenDocument,
                Subject::Document(TravelDocument {
                    number: "A12345678".into(),
                    issuing_state: IcaoState::new("IRQ").unwrap(),
                    doc_type: DocumentType::Passport,
                    status: DocumentStatus::StolenBlank,
                }),
            ),
        )
        .unwrap();
    // Someone else entirely, who must not come up.
    node.create_alert(&iraq, alert(Category::WantedForArrest, person(&["Karim Jabbar"], "1970", vec![]))).unwrap();

    let outcome = check(&node, &key, "CZ-MV", mrz(SHAMMARI_MRZ));
    let result = &outcome.check.result;
    assert_eq!(result.documents.len(), 1, "{result:#?}");
    let document = &result.documents[0];
    assert_eq!(
        (document.alert_id, document.level, document.status),
        (stolen.alert.id, "full", Some(DocumentStatus::StolenBlank))
    );
    assert_eq!(document.action, Action::Seize);

    assert_eq!(result.persons.len(), 1, "{result:#?}");
    let hit = &result.persons[0];
    assert_eq!((hit.alert_id, hit.level, hit.action), (wanted.alert.id, "full", Action::Arrest));
    assert!(hit.score.unwrap() >= 0.5);
    assert_eq!(hit.markers, [WarningMarker::Armed]);
    assert_eq!(hit.names, ["عبد الأمير حسن الشمري"]);
    let explanation = hit.explanation.join("; ");
    assert!(explanation.contains("birth date matches"), "{explanation}");
    assert!(explanation.contains("transliteration") || explanation.contains("known variant"), "{explanation}");
    assert!(hit.instruction.starts_with("Arrest"), "{}", hit.instruction);

    let traveller = &outcome.check.traveller;
    assert_eq!(traveller.names, ["ABDULAMEER HASSAN ALSHAMMARI"]);
    let seen = traveller.mrz.as_ref().unwrap();
    assert!(seen.checks_valid && !seen.expired && seen.format == "TD3");
}

#[test]
fn a_hit_level_partner_learns_only_that_there_is_a_hit() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let mut draft =
        alert(Category::TraffickingRisk, person(&["Amal Hussein Kadhim", "أمل حسين كاظم"], "2009-03-02", vec![]));
    draft.refer_to = Some("Iraqi anti-trafficking directorate, victim support".into());
    let risk = node.create_alert(&officer("IQ-MOI"), draft).unwrap();
    let request = CheckRequest {
        names: vec!["Amal Hussain Kazim".into()],
        birth_dates: vec![PartialDate::parse("2009-03-02").unwrap()],
        ..CheckRequest::default()
    };

    let france = check(&node, &key, "FR-MI", request.clone());
    let hit = &france.check.result.persons[0];
    assert_eq!((hit.alert_id, hit.level, hit.action), (risk.alert.id, "hit", Action::ProtectAndRefer));
    assert!(hit.category.is_none() && hit.names.is_empty() && hit.explanation.is_empty() && hit.remarks.is_empty());
    assert!(hit.handling.is_none() && hit.status.is_none());
    assert_eq!(hit.refer_to.as_deref(), Some("Iraqi anti-trafficking directorate, victim support"));
    // Protection, never an arrest.
    assert!(hit.instruction.contains("Protect the person: this is not an arrest"), "{}", hit.instruction);
    assert!(!hit.instruction.to_lowercase().contains("arrest:"), "{}", hit.instruction);
    // Nothing of the alert leaks through the serialised answer either.
    let json = serde_json::to_string(&france).unwrap();
    assert!(!json.contains("Kadhim") && !json.contains("كاظم") && !json.contains("Mosul"), "{json}");

    let czech = check(&node, &key, "CZ-MV", request.clone());
    let hit = &czech.check.result.persons[0];
    assert_eq!((hit.level, hit.category), ("full", Some(Category::TraffickingRisk)));
    assert!(!hit.explanation.is_empty() && hit.instruction.contains("Protect"));

    // The UK has no agreement: nothing, not even that there is something.
    let uk = check(&node, &key, "GB-HO", request);
    assert_eq!(uk.check.result.hit_count(), 0);
}

#[test]
fn the_index_follows_every_write() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let iraq = officer("IQ-MOI");
    let request = CheckRequest { names: vec!["Mustafa Kamal Rashid".into()], ..CheckRequest::default() };
    assert_eq!(check(&node, &key, "IQ-MOI", request.clone()).check.result.hit_count(), 0);

    let created = node
        .create_alert(&iraq, alert(Category::WantedForArrest, person(&["مصطفى كمال رشيد"], "1990", vec![])))
        .unwrap();
    let found = check(&node, &key, "IQ-MOI", request.clone());
    assert_eq!(found.check.result.persons.iter().map(|h| h.alert_id).collect::<Vec<_>>(), [created.alert.id]);
    // The receipt names the data version: Iraq's change log at its first change.
    assert!(found.receipt.data_version.iter().any(|h| h.owner == "IQ-MOI" && h.seq == 1));

    node.delete_alert(&iraq, created.alert.id, None).unwrap();
    let gone = check(&node, &key, "IQ-MOI", request);
    assert_eq!(gone.check.result.hit_count(), 0);
    assert!(gone.receipt.data_version.iter().any(|h| h.owner == "IQ-MOI" && h.seq == 2));
}

#[test]
fn every_check_is_audited_and_its_receipt_verifies() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    node.create_alert(
        &officer("IQ-MOI"),
        alert(Category::WantedForArrest, person(&["Ali Hassan Jaber"], "1980", vec![])),
    )
    .unwrap();
    let outcome =
        check(&node, &key, "IQ-MOI", CheckRequest { names: vec!["علي حسن جابر".into()], ..CheckRequest::default() });
    assert_eq!(outcome.check.result.persons.len(), 1);

    let entries = node.store().audit_entries(0, 1000).unwrap();
    let entry = entries.iter().find(|e| e.draft.operation == ops::CHECK).unwrap();
    assert_eq!(entry.seq, outcome.receipt.audit_seq);
    assert_eq!(entry.draft.result_count, 1);
    assert!(entry.draft.details.contains("BGW-AIRPORT") && entry.draft.details.contains(&outcome.check.id));
    // The details are canonical JSON (keys sorted, as the log has always written them) naming
    // each hit and the receipt's hashes.
    let details: serde_json::Value = serde_json::from_str(&entry.draft.details).unwrap();
    assert_eq!(details.to_string(), entry.draft.details);
    let hit = &outcome.check.result.persons[0];
    assert_eq!(details["hits"][0]["hit"], hit.hit_id.to_string());
    assert_eq!(details["hits"][0]["alert"], hit.alert_id.to_string());
    assert_eq!(details["hits"][0]["score"], serde_json::json!(hit.score));
    assert_eq!(details["hits"][0]["level"], "full");
    assert_eq!(details["query_sha256"], outcome.receipt.query_sha256.as_str());
    assert_eq!(details["result_sha256"], outcome.receipt.result_sha256.as_str());

    let printed = serde_json::to_value(&outcome).unwrap();
    let verification = verify_receipt(&printed, &key.public_hex()).unwrap();
    assert!(verification.is_valid(), "{:?}", verification.problems());
    assert_eq!((verification.query_matches, verification.result_matches), (Some(true), Some(true)));

    // A result edited after the fact (the hit removed) is caught.
    let mut edited = printed.clone();
    edited["check"]["result"]["persons"] = serde_json::json!([]);
    let verification = verify_receipt(&edited, &key.public_hex()).unwrap();
    assert_eq!(verification.result_matches, Some(false));
    assert!(!verification.is_valid());

    // So is a receipt whose fields were changed, or one checked against another node's key.
    let mut tampered = printed.clone();
    tampered["receipt"]["post"] = serde_json::json!("ERBIL-AIRPORT");
    assert!(!verify_receipt(&tampered, &key.public_hex()).unwrap().signature_valid);
    let other = NodeKey::generate().unwrap();
    assert!(!verify_receipt(&printed, &other.public_hex()).unwrap().key_trusted);
    // And what is not a receipt at all is an error, not a pass.
    assert!(verify_receipt(&serde_json::json!({"hello": 1}), &key.public_hex()).is_err());
}

#[test]
fn bad_checks_are_refused_with_a_reason() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let refuse = |agency: &str, request: CheckRequest| node.check(&officer(agency), &key, &request).unwrap_err();
    let at_post = |request: CheckRequest| CheckRequest { post: "BGW-AIRPORT".into(), ..request };

    let error = refuse("IQ-MOI", at_post(mrz("P<UTOERIKSSON")));
    assert!(matches!(&error, NodeError::Invalid(m) if m.starts_with("MRZ:")), "{error}");
    let error = refuse("IQ-MOI", at_post(CheckRequest::default()));
    assert!(matches!(&error, NodeError::Invalid(m) if m.contains("needs something to search")), "{error}");
    let error = refuse("IQ-MOI", CheckRequest { names: vec!["Ali".into()], ..CheckRequest::default() });
    assert!(matches!(&error, NodeError::Invalid(m) if m.contains("--post")), "{error}");
    let error = refuse("XX-NONE", at_post(CheckRequest { names: vec!["Ali".into()], ..CheckRequest::default() }));
    assert!(matches!(error, NodeError::NotFound(_)), "{error}");
    // An agency not found is not remembered as missing: made later, its officers check.
    let made = Agency::new(code("XX-NONE"), CountryCode::new("JO").unwrap(), "Jordan", None).unwrap();
    node.add_agency(&Actor::new("admin", None), made).unwrap();
    check(&node, &key, "XX-NONE", at_post(CheckRequest { names: vec!["Ali".into()], ..CheckRequest::default() }));
    let long = CheckRequest { names: vec!["A".repeat(300)], ..CheckRequest::default() };
    assert!(matches!(refuse("IQ-MOI", at_post(long)), NodeError::Invalid(_)));
    let many = CheckRequest { names: (0..9).map(|i| format!("Name{i}")).collect(), ..CheckRequest::default() };
    assert!(matches!(refuse("IQ-MOI", at_post(many)), NodeError::Invalid(_)));
    for name in ["Ali\u{0}Hassan", "Ali\nHassan", "Ali\u{7f}"] {
        let control = CheckRequest { names: vec![name.into()], ..CheckRequest::default() };
        let error = refuse("IQ-MOI", at_post(control));
        assert!(matches!(&error, NodeError::Invalid(m) if m.contains("control character")), "{error}");
    }

    // A damaged MRZ is still screened, and flagged.
    let damaged = SHAMMARI_MRZ.replace("8501019", "8501015");
    let outcome = check(&node, &key, "IQ-MOI", mrz(&damaged));
    let seen = outcome.check.traveller.mrz.unwrap();
    assert!(!seen.checks_valid);
    assert!(seen.diagnostics.iter().any(|d| d.contains("birth date")), "{:?}", seen.diagnostics);
}

#[test]
fn a_confirmed_hit_reaches_the_owners_inbox_and_false_positives_are_counted() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let iraq = officer("IQ-MOI");
    let wanted = wanted_shammari(&node);
    let czech = check(&node, &key, "CZ-MV", mrz(SHAMMARI_MRZ));
    let hit = czech.check.result.persons[0].hit_id;

    // Only the checking agency records the outcome; a confirmation says what was done.
    let error = node.record_hit_outcome(&iraq, hit, OutcomeKind::Confirmed, "arrested", "").unwrap_err();
    assert!(matches!(error, NodeError::NotFound(_)), "{error}");
    let error = node.record_hit_outcome(&officer("CZ-MV"), hit, OutcomeKind::Confirmed, " ", "").unwrap_err();
    assert!(matches!(&error, NodeError::Invalid(m) if m.contains("action taken")), "{error}");
    let confirmed = node
        .record_hit_outcome(&officer("CZ-MV"), hit, OutcomeKind::Confirmed, "detained, owner called", "gate B4")
        .unwrap();
    assert_eq!(confirmed.outcome.as_ref().map(|o| o.kind), Some(OutcomeKind::Confirmed));
    let twice = node.record_hit_outcome(&officer("CZ-MV"), hit, OutcomeKind::FalsePositive, "", "").unwrap_err();
    assert!(matches!(twice, NodeError::Conflict(_)), "{twice}");

    // The owner's inbox: who, where, when, the traveller seen, the action taken.
    let inbox = node.hit_inbox(&iraq, false, 50).unwrap();
    assert_eq!(inbox.len(), 1);
    let note = &inbox[0];
    assert_eq!((note.alert_id, note.agency.as_str(), note.post.as_str()), (wanted.alert.id, "CZ-MV", "BGW-AIRPORT"));
    assert_eq!(note.action_taken, "detained, owner called");
    assert_eq!(note.traveller["names"][0], "ABDULAMEER HASSAN ALSHAMMARI");
    assert!(node.hit_inbox(&officer("CZ-MV"), true, 50).unwrap().is_empty());
    let error = node.acknowledge_notification(&officer("CZ-MV"), note.id).unwrap_err();
    assert!(matches!(error, NodeError::NotFound(_)), "{error}");
    let acknowledged = node.acknowledge_notification(&iraq, note.id).unwrap();
    assert!(acknowledged.acknowledged.is_some());
    assert!(node.hit_inbox(&iraq, false, 50).unwrap().is_empty());
    assert_eq!(node.hit_inbox(&iraq, true, 50).unwrap().len(), 1);

    // France, at hit level, finds it is someone else: the owner sees the count.
    let france = check(&node, &key, "FR-MI", mrz(SHAMMARI_MRZ));
    let hit = france.check.result.persons[0].hit_id;
    node.record_hit_outcome(&officer("FR-MI"), hit, OutcomeKind::FalsePositive, "", "another man, born 1958").unwrap();
    let counts = node.false_positives(&iraq).unwrap();
    assert_eq!(counts.iter().map(|c| (c.alert_id, c.false_positives)).collect::<Vec<_>>(), [(wanted.alert.id, 1)]);
    assert!(node.false_positives(&officer("FR-MI")).unwrap().is_empty());
}

#[test]
fn a_manifest_is_screened_traveller_by_traveller_most_severe_first() {
    let node = summit();
    let iraq = officer("IQ-MOI");
    let wanted = wanted_shammari(&node);
    let mut at_risk = alert(Category::TraffickingRisk, person(&["نور عباس التميمي"], "2009-03-02", vec![]));
    at_risk.refer_to = Some("Iraqi anti-trafficking directorate".into());
    let risk = node.create_alert(&iraq, at_risk).unwrap();
    let paxlst = "UNA:+.? 'UNB+UNOA:4+IA:ZZ+CZAPI+261129:0600+9'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'\
        TDT+20+IA231+++IA'LOC+125+BGW'DTM+189:2611290900:201'LOC+87+PRG'DTM+232:2611291500:201'\
        NAD+FL+++NOVAK:JAN'ATT+2++M'DTM+329:800101'NAT+2+CZE'DOC+P+99887766'DTM+36:300101'LOC+91+CZE'\
        NAD+FL+++ALTAMIMI:NOOR:ABBAS'ATT+2++F'DTM+329:090302'NAT+2+IRQ'\
        NAD+FL+++ALSHAMMARI:ABDULAMEER:HASSAN'ATT+2++M'DTM+329:850101'NAT+2+IRQ'DOC+P+A12345678'DTM+36:310520'LOC+91+IRQ'\
        NAD+FL+++'\
        CNT+42:4'UNT+27+1'UNZ+1+9'";
    let reports = node.screen_manifest(&officer("CZ-MV"), paxlst.as_bytes()).unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!((report.travellers, report.screened, report.declared), (4, 3, Some(4)));
    assert_eq!(report.legs[0].flight, "IA231");
    let order: Vec<(&str, Action)> = report.hits.iter().map(|t| (t.name.as_str(), t.action)).collect();
    assert_eq!(
        order,
        [("ABDULAMEER HASSAN ALSHAMMARI", Action::Arrest), ("NOOR ABBAS ALTAMIMI", Action::ProtectAndRefer)]
    );
    assert_eq!(report.hits[0].persons[0].alert_id, wanted.alert.id);
    assert_eq!(report.hits[1].persons[0].alert_id, risk.alert.id);
    assert_eq!(report.hits[1].persons[0].refer_to.as_deref(), Some("Iraqi anti-trafficking directorate"));
    assert_eq!(report.not_screened.len(), 1, "{:?}", report.not_screened);
    assert!(report.problems.iter().any(|p| p.contains("without a name")), "{:?}", report.problems);
    // Each traveller screened is a check in the audit log, and the manifest one entry more.
    let entries = node.store().audit_entries(0, 1000).unwrap();
    assert_eq!(entries.iter().filter(|e| e.draft.operation == "check").count(), 3);
    assert_eq!(entries.iter().filter(|e| e.draft.operation == "manifest.screen").count(), 1);
    // Not EDIFACT, or no PAXLST: refused with a reason.
    let error = node.screen_manifest(&officer("CZ-MV"), b"hello").unwrap_err();
    assert!(matches!(&error, NodeError::Invalid(m) if m.starts_with("EDIFACT")), "{error}");
}

#[test]
fn the_dashboard_counts_checks_and_hits_and_discloses_no_more_than_the_checks_did() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let risk = alert(Category::TraffickingRisk, person(&["أمل حسين كاظم"], "2009-03-02", vec![]));
    node.create_alert(&officer("IQ-MOI"), risk).unwrap();
    let amal = CheckRequest {
        names: vec!["Amal Hussain Kazim".into()],
        birth_dates: vec![PartialDate::parse("2009-03-02").unwrap()],
        ..CheckRequest::default()
    };
    let france = officer("FR-MI");
    let first = check(&node, &key, "FR-MI", amal.clone());
    check(&node, &key, "FR-MI", amal.clone());
    let nobody = CheckRequest { names: vec!["Jean Dupont".into()], post: "CDG-T2".into(), ..CheckRequest::default() };
    node.check(&france, &key, &nobody).unwrap();
    node.record_hit_outcome(&france, first.check.result.persons[0].hit_id, OutcomeKind::FalsePositive, "", "").unwrap();
    check(&node, &key, "CZ-MV", amal);

    let board = node.dashboard(&france, 7).unwrap();
    assert_eq!((board.checks, board.checks_with_hits, board.hits), (3, 2, 2));
    assert_eq!((board.confirmed, board.false_positives), (0, 1));
    assert_eq!(board.days.len(), 7);
    assert_eq!((board.days[6].date.as_str(), board.days[6].checks, board.days[6].hits), ("2026-11-29", 3, 2));
    assert!(board.days[..6].iter().all(|d| d.checks == 0));
    let posts: Vec<(&str, u64, u64)> = board.posts.iter().map(|t| (t.key.as_str(), t.checks, t.hits)).collect();
    assert_eq!(posts, [("BGW-AIRPORT", 2, 2), ("CDG-T2", 1, 0)]);
    // France saw the alert at hit level: its category stays undisclosed here too.
    let categories: Vec<(&str, u64)> = board.categories.iter().map(|t| (t.key.as_str(), t.hits)).collect();
    assert_eq!(categories, [("undisclosed", 2)]);
    assert_eq!(board.actions[0].key, "protect-and-refer");
    // The Czech Republic sees it in full, and only its own check.
    let czech = node.dashboard(&officer("CZ-MV"), 30).unwrap();
    assert_eq!((czech.checks, czech.categories[0].key.as_str()), (1, "trafficking-risk"));
    // Officers check; the dashboard is for analysts, supervisors and auditors.
    let only_officer =
        Actor { user: "gate".into(), agency: Some(code("FR-MI")), roles: vec![tabadul_domain::Role::Officer] };
    assert!(matches!(node.dashboard(&only_officer, 7), Err(NodeError::Forbidden(_))));
}

#[test]
fn an_auditor_searches_the_log_by_operation_user_and_alert() {
    let node = summit();
    let key = NodeKey::generate().unwrap();
    let wanted = wanted_shammari(&node);
    check(&node, &key, "CZ-MV", mrz(SHAMMARI_MRZ));
    check(&node, &key, "IQ-MOI", mrz(SHAMMARI_MRZ));
    let auditor =
        Actor { user: "auditor".into(), agency: Some(code("CZ-MV")), roles: vec![tabadul_domain::Role::Auditor] };
    let search = |query: tabadul_node::AuditQuery| node.search_audit(&auditor, &query).unwrap();
    let query = tabadul_node::AuditQuery { limit: 100, ..Default::default() };
    let checks = search(tabadul_node::AuditQuery { operation: Some("check".into()), ..query.clone() });
    assert_eq!(checks.len(), 1, "an agency's auditor sees its own agency's entries");
    let by_alert = search(tabadul_node::AuditQuery { target: Some(wanted.alert.id.to_string()), ..query.clone() });
    assert!(by_alert.iter().all(|e| e.draft.targets.contains(&wanted.alert.id.to_string())) && !by_alert.is_empty());
    let family = node
        .search_audit(
            &officer("IQ-MOI"),
            &tabadul_node::AuditQuery { operation: Some("alert".into()), ..query.clone() },
        )
        .unwrap();
    assert!(!family.is_empty() && family.iter().all(|e| e.draft.operation.starts_with("alert.")));
    let nobody = search(tabadul_node::AuditQuery { user: Some("nobody".into()), ..query });
    assert!(nobody.is_empty());
}

#[test]
fn concurrent_checks_are_recorded_together_each_with_its_own_entry() {
    let node = std::sync::Arc::new(summit());
    let key = std::sync::Arc::new(NodeKey::generate().unwrap());
    wanted_shammari(&node);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (node, key) = (node.clone(), key.clone());
            std::thread::spawn(move || {
                (0..15)
                    .map(|_| {
                        let agency = if t % 2 == 0 { "CZ-MV" } else { "IQ-MOI" };
                        let outcome = check(&node, &key, agency, mrz(SHAMMARI_MRZ));
                        let printed = serde_json::to_value(&outcome).unwrap();
                        assert!(verify_receipt(&printed, &key.public_hex()).unwrap().is_valid());
                        (outcome.receipt.audit_seq, outcome.check.id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let receipts: Vec<(u64, String)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let entries = node.store().audit_entries(0, 10_000).unwrap();
    let mut verifier = tabadul_audit::ChainVerifier::default();
    for entry in &entries {
        verifier.push(entry).unwrap();
    }
    // Every receipt names its own entry, and that entry is its check.
    let mut seqs: Vec<u64> = receipts.iter().map(|(seq, _)| *seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 120);
    for (seq, check_id) in &receipts {
        let entry = &entries[*seq as usize - 1];
        assert_eq!(entry.draft.operation, ops::CHECK);
        assert!(entry.draft.details.contains(check_id.as_str()), "entry {seq} is not check {check_id}");
    }
}

#[test]
fn an_agreement_one_party_proposes_shares_nothing_until_the_others_consent() {
    let node = summit();
    let supervisor = |agency: &str| Actor {
        user: format!("supervisor@{agency}"),
        agency: Some(code(agency)),
        roles: vec![tabadul_domain::Role::Supervisor],
    };
    // The UK's smuggler alert; Iraq proposes to see the UK's smugglers in full.
    let uk = officer("GB-HO");
    node.create_alert(&uk, alert(Category::SuspectedSmuggler, person(&["Karim Jabbar"], "1970", vec![]))).unwrap();
    let draft = AgreementDraft {
        title: "Iraq-UK proposal".into(),
        parties: vec![code("IQ-MOI"), code("GB-HO")],
        levels: vec![(Category::SuspectedSmuggler, SharingLevel::Full)],
        valid_from: Some(time::macros::date!(2026 - 01 - 01)),
        valid_until: None,
        legal_reference: "draft MoU".into(),
    };
    let proposed = node.add_agreement(&supervisor("IQ-MOI"), draft).unwrap();
    assert_eq!(proposed.awaiting.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["GB-HO"]);
    let key = NodeKey::generate().unwrap();
    let karim = CheckRequest { names: vec!["Karim Jabbar".into()], ..CheckRequest::default() };
    assert_eq!(check(&node, &key, "IQ-MOI", karim.clone()).check.result.hit_count(), 0, "nothing before consent");
    // Iraq cannot consent for the UK; France is no party.
    let error = node.consent_to_agreement(&supervisor("IQ-MOI"), proposed.id).unwrap_err();
    assert!(matches!(error, NodeError::Conflict(_)), "{error}");
    assert!(node.consent_to_agreement(&supervisor("FR-MI"), proposed.id).is_err());
    let agreed = node.consent_to_agreement(&supervisor("GB-HO"), proposed.id).unwrap();
    assert!(agreed.awaiting.is_empty());
    assert_eq!(check(&node, &key, "IQ-MOI", karim).check.result.persons[0].level, "full");
}
