//! The node end to end on the in-memory store: who may do what, what each agency sees, the
//! audit of every read and write, purging, and importing FollowTheMoney files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tabadul_audit::ops;
use tabadul_domain::{
    Agency, AgencyCode, Category, CountryCode, HandlingCode, LinkKind, NameKind, Person, PersonName, SharingLevel,
    Subject,
};
use tabadul_node::{Actor, AgreementDraft, AlertDraft, AlertQuery, FixedClock, ImportOptions, Node, NodeError};
use tabadul_store::{ChangeOp, MemStore};

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

fn actor(agency: &str) -> Actor {
    Actor::new(format!("analyst@{agency}"), Some(code(agency)))
}

fn admin() -> Actor {
    Actor::new("admin", None)
}

fn node_on(day: time::Date) -> Node {
    let clock = FixedClock(day.with_hms(12, 0, 0).unwrap().assume_utc());
    Node::new(Arc::new(MemStore::new()), Arc::new(clock))
}

/// Iraq, the Czech Republic, France and the UK; the Iraq–Czech memorandum shares smugglers in
/// full and the summit's agreement shares trafficking categories at hit level with everyone.
fn summit() -> Node {
    let node = node_on(time::macros::date!(2026 - 11 - 29));
    for (agency, country) in [("IQ-MOI", "IQ"), ("CZ-MV", "CZ"), ("FR-MI", "FR"), ("GB-HO", "GB")] {
        let agency =
            Agency::new(code(agency), CountryCode::new(country).unwrap(), "Ministry of the Interior", None).unwrap();
        node.add_agency(&admin(), agency).unwrap();
    }
    let draft = |title: &str, parties: &[&str], levels: Vec<(Category, SharingLevel)>| AgreementDraft {
        title: title.into(),
        parties: parties.iter().map(|p| code(p)).collect(),
        levels,
        valid_from: Some(time::macros::date!(2026 - 01 - 01)),
        valid_until: None,
        legal_reference: "MoU".into(),
    };
    node.add_agreement(
        &admin(),
        draft("Iraq-Czech MoU", &["IQ-MOI", "CZ-MV"], vec![(Category::SuspectedSmuggler, SharingLevel::Full)]),
    )
    .unwrap();
    node.add_agreement(
        &admin(),
        draft(
            "London summit",
            &["IQ-MOI", "CZ-MV", "FR-MI"],
            vec![(Category::SuspectedSmuggler, SharingLevel::Hit), (Category::TraffickingRisk, SharingLevel::Hit)],
        ),
    )
    .unwrap();
    node
}

fn person(category: Category, name: &str) -> AlertDraft {
    AlertDraft {
        category,
        subject: Subject::Person(Person { names: vec![PersonName::new(name, NameKind::Primary)], ..Person::default() }),
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
fn each_agency_sees_what_its_agreements_allow() {
    let node = summit();
    let smuggler =
        node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "عبد الأمير الشمري")).unwrap();
    let wanted = node.create_alert(&actor("IQ-MOI"), person(Category::WantedForArrest, "Ali Hassan")).unwrap();
    let id = smuggler.alert.id;

    assert_eq!(node.alert(&actor("IQ-MOI"), id).unwrap().stored, smuggler);
    assert_eq!(node.alert(&actor("CZ-MV"), id).unwrap().stored, smuggler);
    assert!(matches!(node.alert(&actor("FR-MI"), id), Err(NodeError::Forbidden(_))));
    assert!(matches!(node.alert(&actor("GB-HO"), id), Err(NodeError::NotFound(_))));
    assert!(matches!(node.alert(&actor("CZ-MV"), wanted.alert.id), Err(NodeError::NotFound(_))));

    let listed = |agency: &str| -> Vec<_> {
        node.alerts(&actor(agency), &AlertQuery::default()).unwrap().into_iter().map(|s| s.alert.id).collect()
    };
    assert_eq!(listed("IQ-MOI").len(), 2);
    assert_eq!(listed("CZ-MV"), [id]);
    assert!(listed("FR-MI").is_empty());
    assert!(listed("GB-HO").is_empty());
}

#[test]
fn only_the_owner_changes_an_alert() {
    let node = summit();
    let alert = node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "Ahmed")).unwrap();
    let id = alert.alert.id;
    let edit = |a: &mut tabadul_domain::Alert| {
        a.remarks = "changed".into();
        Ok(())
    };
    assert!(matches!(node.update_alert(&actor("CZ-MV"), id, None, edit), Err(NodeError::Forbidden(_))));
    assert!(matches!(node.update_alert(&actor("GB-HO"), id, None, edit), Err(NodeError::NotFound(_))));
    assert!(matches!(node.delete_alert(&actor("CZ-MV"), id, None), Err(NodeError::Forbidden(_))));
    let steal = |a: &mut tabadul_domain::Alert| {
        a.owner = code("CZ-MV");
        Ok(())
    };
    assert!(matches!(node.update_alert(&actor("IQ-MOI"), id, None, steal), Err(NodeError::Invalid(_))));

    let updated = node.update_alert(&actor("IQ-MOI"), id, Some(1), edit).unwrap();
    assert_eq!((updated.version, updated.alert.remarks.as_str()), (2, "changed"));
    assert!(matches!(node.update_alert(&actor("IQ-MOI"), id, Some(1), edit), Err(NodeError::Conflict(_))));
    node.delete_alert(&actor("IQ-MOI"), id, None).unwrap();
    assert!(matches!(node.alert(&actor("IQ-MOI"), id), Err(NodeError::NotFound(_))));
    let ops: Vec<ChangeOp> = node.store().changes(&code("IQ-MOI"), 0, 10).unwrap().iter().map(|c| c.op).collect();
    assert_eq!(ops, [ChangeOp::Create, ChangeOp::Update, ChangeOp::Delete]);
}

#[test]
fn alerts_need_a_known_agency() {
    let node = summit();
    let unknown = node.create_alert(&actor("XX-NOPE"), person(Category::SuspectedSmuggler, "A"));
    assert!(matches!(unknown, Err(NodeError::NotFound(ref m)) if m.contains("XX-NOPE")), "{unknown:?}");
    let nobody = node.create_alert(&admin(), person(Category::SuspectedSmuggler, "A"));
    assert!(matches!(nobody, Err(NodeError::Invalid(_))));
    let wrong_kind = node.create_alert(&actor("IQ-MOI"), person(Category::StolenVehicle, "A"));
    assert!(matches!(wrong_kind, Err(NodeError::Invalid(_))));
}

#[test]
fn links_need_full_sight_of_both_alerts() {
    let node = summit();
    let a = node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "A")).unwrap().alert.id;
    let b = node.create_alert(&actor("CZ-MV"), person(Category::SuspectedSmuggler, "B")).unwrap().alert.id;
    let c = node.create_alert(&actor("IQ-MOI"), person(Category::WantedForArrest, "C")).unwrap().alert.id;
    let link = node.link_alerts(&actor("CZ-MV"), a, b, LinkKind::SameNetwork).unwrap();
    assert_eq!(link.created_by, code("CZ-MV"));
    assert!(matches!(node.link_alerts(&actor("CZ-MV"), b, c, LinkKind::SameCase), Err(NodeError::NotFound(_))));
    assert!(matches!(node.link_alerts(&actor("FR-MI"), a, b, LinkKind::SameCase), Err(NodeError::Forbidden(_))));
    // Iraq sees the link only while it sees the Czech alert in full: it does.
    assert_eq!(node.alert(&actor("IQ-MOI"), a).unwrap().links, std::slice::from_ref(&link));
    node.link_alerts(&actor("IQ-MOI"), a, c, LinkKind::SameCase).unwrap();
    // The Czech view of `a` leaves out the link to the alert it may not see.
    assert_eq!(node.alert(&actor("CZ-MV"), a).unwrap().links, [link]);
}

#[test]
fn revoking_an_agreement_hides_at_once() {
    let node = summit();
    let id = node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "A")).unwrap().alert.id;
    let bilateral =
        node.agreements(&actor("CZ-MV")).unwrap().into_iter().find(|a| a.title.starts_with("Iraq")).unwrap();
    assert!(matches!(node.revoke_agreement(&actor("GB-HO"), bilateral.id, None), Err(NodeError::NotFound(_))));
    node.revoke_agreement(&actor("CZ-MV"), bilateral.id, None).unwrap();
    // The summit agreement still tells Prague of hits, no more.
    assert!(matches!(node.alert(&actor("CZ-MV"), id), Err(NodeError::Forbidden(_))));
    assert_eq!(node.agreements(&actor("GB-HO")).unwrap().len(), 0);
    assert_eq!(node.agreements(&admin()).unwrap().len(), 2);
}

#[test]
fn expired_alerts_hide_from_partners_and_are_purged() {
    let node = summit();
    let mut draft = person(Category::SuspectedSmuggler, "A");
    draft.expires = Some(time::macros::date!(2026 - 11 - 28));
    let expired = node.create_alert(&actor("IQ-MOI"), draft).unwrap().alert.id;
    let live = node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "B")).unwrap().alert.id;
    assert!(matches!(node.alert(&actor("CZ-MV"), expired), Err(NodeError::NotFound(_))));
    assert!(node.alert(&actor("IQ-MOI"), expired).is_ok());
    assert_eq!(node.purge_expired(&admin()).unwrap(), 1);
    assert!(matches!(node.alert(&actor("IQ-MOI"), expired), Err(NodeError::NotFound(_))));
    assert!(node.alert(&actor("IQ-MOI"), live).is_ok());
    let purge = node
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .find(|e| e.draft.operation == ops::ALERT_PURGE)
        .unwrap();
    assert_eq!(purge.draft.targets, [expired.to_string()]);
    assert_eq!(node.purge_expired(&admin()).unwrap(), 0);
}

#[test]
fn every_read_and_write_is_audited_with_who_asked() {
    let node = summit();
    let id = node.create_alert(&actor("IQ-MOI"), person(Category::SuspectedSmuggler, "A")).unwrap().alert.id;
    let before = node.store().audit_entries(0, 1000).unwrap().len();
    let _ = node.alert(&actor("GB-HO"), id);
    let _ = node.alert(&actor("CZ-MV"), id);
    node.alerts(&actor("CZ-MV"), &AlertQuery::default()).unwrap();
    let entries = node.store().audit_entries(before as u64, 10).unwrap();
    let seen: Vec<(&str, Option<&str>, u64)> =
        entries.iter().map(|e| (e.draft.operation.as_str(), e.draft.agency.as_deref(), e.draft.result_count)).collect();
    assert_eq!(
        seen,
        [(ops::ALERT_READ, Some("GB-HO"), 0), (ops::ALERT_READ, Some("CZ-MV"), 1), (ops::ALERT_LIST, Some("CZ-MV"), 1)]
    );
    assert_eq!(entries[0].draft.targets, [id.to_string()]);
    assert!(entries[0].draft.details.contains("hidden"));
    let report = node.verify_audit(&admin()).unwrap();
    assert!(report.broken.is_none());
    assert_eq!(report.entries as usize, before + 3);
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn import(node: &Node, path: &Path) -> tabadul_node::ImportSummary {
    let options = ImportOptions { category: Category::SuspectedSmuggler, handling: HandlingCode::H0, batch_size: 2 };
    node.import_ftm(&actor("IQ-MOI"), path, &options, &mut |_| {}).unwrap()
}

#[test]
fn a_malformed_file_keeps_its_good_lines_and_names_the_bad_ones() {
    let node = summit();
    let summary = import(&node, &data("mixed.ftm.jsonl"));
    let errors: Vec<(u64, &str)> = summary.errors.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert_eq!(errors[0].0, 3);
    assert!(errors[0].1.starts_with("not valid JSON"), "{errors:?}");
    assert_eq!(errors[1], (7, "person p-3 has no name"));
    assert_eq!(errors[2], (8, "not a FollowTheMoney entity: no `id` string"));
    assert_eq!(errors[3], (9, "person p-1 appears again: this line is skipped"));
    assert_eq!(errors[4].0, 12);
    assert_eq!((summary.lines, summary.persons, summary.created, summary.unchanged), (12, 3, 3, 0));
    assert_eq!(summary.documents, 2);
    assert_eq!(summary.skipped_schemas.get("Company"), Some(&1));
    assert_eq!(summary.warning_count, 2, "{:?}", summary.warnings);

    let p1 = node.store().alert_by_source(&code("IQ-MOI"), "p-1").unwrap().unwrap();
    let Subject::Person(person) = &p1.alert.subject else { panic!("a person") };
    assert_eq!(person.names.len(), 2);
    assert_eq!(person.documents[0].number, "A1234567");
    assert_eq!(person.documents[0].issuing_state.as_ref().unwrap().as_str(), "IRQ");
    let p4 = node.store().alert_by_source(&code("IQ-MOI"), "p-4").unwrap().unwrap();
    let Subject::Person(person) = &p4.alert.subject else { panic!("a person") };
    let numbers: Vec<&str> = person.documents.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, ["7788", "IQ-ID-99"]);
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let node = summit();
    let first = import(&node, &data("mixed.ftm.jsonl"));
    let changes = node.store().changes(&code("IQ-MOI"), 0, 100).unwrap();
    let second = import(&node, &data("mixed.ftm.jsonl"));
    assert_eq!((second.created, second.updated, second.unchanged), (0, 0, first.created));
    assert_eq!(node.store().changes(&code("IQ-MOI"), 0, 100).unwrap(), changes);
}

#[test]
fn a_changed_entity_updates_its_alert() {
    let node = summit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.jsonl");
    std::fs::write(&path, r#"{"id":"p-9","schema":"Person","properties":{"name":["Omar"]}}"#).unwrap();
    import(&node, &path);
    std::fs::write(&path, r#"{"id":"p-9","schema":"Person","properties":{"name":["Omar"],"birthDate":["1990"]}}"#)
        .unwrap();
    let summary = import(&node, &path);
    assert_eq!((summary.created, summary.updated), (0, 1));
    let stored = node.store().alert_by_source(&code("IQ-MOI"), "p-9").unwrap().unwrap();
    assert_eq!(stored.version, 2);
}

#[test]
fn gzip_files_import_like_plain_ones() {
    use std::io::Write;
    let node = summit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    encoder.write_all(&std::fs::read(data("mixed.ftm.jsonl")).unwrap()).unwrap();
    encoder.finish().unwrap();
    let summary = import(&node, &path);
    assert_eq!((summary.created, summary.error_count), (3, 5));
}

#[test]
fn import_refuses_what_it_cannot_do() {
    let node = summit();
    let options = ImportOptions { category: Category::StolenDocument, handling: HandlingCode::H0, batch_size: 10 };
    let wrong = node.import_ftm(&actor("IQ-MOI"), &data("mixed.ftm.jsonl"), &options, &mut |_| {});
    assert!(matches!(wrong, Err(NodeError::Invalid(_))));
    let options = ImportOptions { category: Category::SuspectedSmuggler, ..options };
    let missing = node.import_ftm(&actor("IQ-MOI"), Path::new("/nonexistent.jsonl"), &options, &mut |_| {});
    assert!(matches!(missing, Err(NodeError::Io { .. })));
    let stranger = node.import_ftm(&actor("XX-NOPE"), &data("mixed.ftm.jsonl"), &options, &mut |_| {});
    assert!(matches!(stranger, Err(NodeError::NotFound(_))));
}
