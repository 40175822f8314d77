//! The conformance suite: the behaviour every [`Store`] implementation must have.
//!
//! Each function takes a fresh, empty store and panics on a violation. An implementation's
//! tests run them all with [`conformance_suite!`](crate::conformance_suite):
//!
//! ```text
//! tabadul_store::conformance_suite!(Box::new(tabadul_store::MemStore::new()));
//! ```
//!
//! The expression is evaluated once per test and must dereference to a `Store`.

use tabadul_audit::{AuditDraft, ChainVerifier, ops};
use tabadul_domain::{
    Agency, AgencyCode, Agreement, AgreementId, Alert, AlertId, Category, CountryCode, HandlingCode, Link, LinkKind,
    NameKind, Person, PersonName, SharingLevel, Subject,
};

use crate::{AlertFilter, AlertWrite, ChangeOp, Store, StoreError};

/// Generates one `#[test]` per conformance check for the store that `$make` builds.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@tests $make;
            agencies_round_trip,
            agreements_round_trip_and_revoke,
            alerts_round_trip,
            sequence_numbers_are_per_owner_and_gapless,
            updates_check_version_and_owner,
            removals_leave_a_change_and_drop_links,
            a_failed_batch_changes_nothing,
            invalid_alerts_are_refused,
            source_ids_are_unique_per_owner,
            filters_and_pages,
            links_round_trip,
            every_write_is_audited_in_one_chain,
            hits_take_one_outcome_and_notify_the_owner,
            users_and_tokens_round_trip,
            checks_are_recorded_together_or_not_at_all,
        );
        #[test]
        fn export_and_restore_keep_everything() {
            let (source, target) = ($make, $make);
            $crate::conformance::export_and_restore_keep_everything(&*source, &*target);
        }
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let fixture = $make;
                $crate::conformance::$name(&*fixture);
            }
        )*
    };
}

const T0: i64 = 1_790_000_000_000_000;

pub fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).expect("valid test agency code")
}

pub fn audit(operation: &str) -> AuditDraft {
    AuditDraft {
        at_unix_us: T0,
        ..AuditDraft::new(time::OffsetDateTime::UNIX_EPOCH, "tester", Some("IQ-MOI"), operation)
    }
}

pub fn person_alert(id: u128, owner: &str, name: &str) -> Alert {
    Alert {
        id: AlertId(id),
        owner: code(owner),
        category: Category::SuspectedSmuggler,
        subject: Subject::Person(Person { names: vec![PersonName::new(name, NameKind::Primary)], ..Person::default() }),
        action: None,
        handling: HandlingCode::H0,
        review_date: None,
        expires: None,
        remarks: String::new(),
        source_id: None,
        refer_to: None,
    }
}

fn create(store: &dyn Store, alerts: &[Alert]) -> Vec<crate::Change> {
    let writes: Vec<AlertWrite> = alerts.iter().cloned().map(AlertWrite::Create).collect();
    store.write_alerts(&writes, T0, audit(ops::ALERT_CREATE)).expect("create alerts")
}

fn agency(code_text: &str) -> Agency {
    Agency::new(code(code_text), CountryCode::new(&code_text[..2]).unwrap(), "Ministry", None).unwrap()
}

fn agreement(id: u128) -> Agreement {
    Agreement {
        id: AgreementId(id),
        title: "Iraq-Czech memorandum".into(),
        parties: [code("IQ-MOI"), code("CZ-MV")].into(),
        levels: [(Category::SuspectedSmuggler, SharingLevel::Full), (Category::TraffickingRisk, SharingLevel::Hit)]
            .into(),
        valid_from: time::macros::date!(2026 - 01 - 01),
        valid_until: None,
        legal_reference: "MoU IQ-CZ 2026/4".into(),
        revoked_on: None,
        awaiting: Default::default(),
    }
}

pub fn agencies_round_trip(store: &dyn Store) {
    let mut iq = agency("IQ-MOI");
    iq.name_ar = Some("وزارة الداخلية".into());
    store.create_agency(&agency("CZ-MV"), audit(ops::AGENCY_CREATE)).unwrap();
    store.create_agency(&iq, audit(ops::AGENCY_CREATE)).unwrap();
    assert_eq!(store.agency(&code("IQ-MOI")).unwrap(), Some(iq.clone()));
    assert_eq!(store.agency(&code("FR-MI")).unwrap(), None);
    let codes: Vec<String> = store.agencies().unwrap().into_iter().map(|a| a.code.to_string()).collect();
    assert_eq!(codes, ["CZ-MV", "IQ-MOI"]);
    let again = store.create_agency(&iq, audit(ops::AGENCY_CREATE));
    assert!(matches!(again, Err(StoreError::AlreadyExists(_))), "{again:?}");
}

pub fn agreements_round_trip_and_revoke(store: &dyn Store) {
    let first = agreement(2);
    let second = Agreement { id: AgreementId(1), ..agreement(1) };
    store.create_agreement(&first, audit(ops::AGREEMENT_CREATE)).unwrap();
    store.create_agreement(&second, audit(ops::AGREEMENT_CREATE)).unwrap();
    assert_eq!(store.agreement(AgreementId(2)).unwrap(), Some(first.clone()));
    let ids: Vec<u128> = store.agreements().unwrap().iter().map(|a| a.id.0).collect();
    assert_eq!(ids, [1, 2]);
    assert!(matches!(store.create_agreement(&first, audit(ops::AGREEMENT_CREATE)), Err(StoreError::AlreadyExists(_))));

    let day = time::macros::date!(2026 - 06 - 01);
    let revoked = store.revoke_agreement(AgreementId(2), day, audit(ops::AGREEMENT_REVOKE)).unwrap();
    assert_eq!(revoked.revoked_on, Some(day));
    assert_eq!(store.agreement(AgreementId(2)).unwrap().unwrap().revoked_on, Some(day));
    assert!(matches!(
        store.revoke_agreement(AgreementId(2), day, audit(ops::AGREEMENT_REVOKE)),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.revoke_agreement(AgreementId(9), day, audit(ops::AGREEMENT_REVOKE)),
        Err(StoreError::NotFound(_))
    ));

    // One party proposes, the other consents.
    let proposed = Agreement { id: AgreementId(4), awaiting: [code("CZ-MV")].into(), ..agreement(4) };
    store.create_agreement(&proposed, audit(ops::AGREEMENT_CREATE)).unwrap();
    assert!(!store.agreement(AgreementId(4)).unwrap().unwrap().is_active_on(time::macros::date!(2026 - 06 - 01)));
    assert!(matches!(
        store.consent_to_agreement(AgreementId(4), &code("IQ-MOI"), audit("agreement.consent")),
        Err(StoreError::Invalid(_))
    ));
    let consented = store.consent_to_agreement(AgreementId(4), &code("CZ-MV"), audit("agreement.consent")).unwrap();
    assert!(consented.awaiting.is_empty() && consented.is_active_on(time::macros::date!(2026 - 06 - 01)));
    assert_eq!(store.agreement(AgreementId(4)).unwrap(), Some(consented));
    assert!(matches!(
        store.consent_to_agreement(AgreementId(9), &code("CZ-MV"), audit("agreement.consent")),
        Err(StoreError::NotFound(_))
    ));

    let mut bad = agreement(3);
    bad.parties = [code("IQ-MOI")].into();
    assert!(matches!(store.create_agreement(&bad, audit(ops::AGREEMENT_CREATE)), Err(StoreError::Invalid(_))));
}

pub fn alerts_round_trip(store: &dyn Store) {
    let mut alert = person_alert(10, "IQ-MOI", "عبد الأمير الشمري");
    alert.source_id = Some("ftm-1".into());
    alert.remarks = "seen at Zakho\ncrossing".into();
    let changes = create(store, std::slice::from_ref(&alert));
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].seq, changes[0].version, changes[0].op), (1, 1, ChangeOp::Create));
    let stored = store.alert(AlertId(10)).unwrap().expect("alert stored");
    assert_eq!(stored.alert, alert);
    assert_eq!((stored.version, stored.seq, stored.created_at_unix_us), (1, 1, T0));
    assert_eq!(store.alert_by_source(&code("IQ-MOI"), "ftm-1").unwrap(), Some(stored));
    assert_eq!(store.alert_by_source(&code("CZ-MV"), "ftm-1").unwrap(), None);
    let mut other = person_alert(12, "IQ-MOI", "Ali");
    other.source_id = Some("ftm-2".into());
    create(store, std::slice::from_ref(&other));
    let mut found: Vec<u128> = store
        .alerts_by_source(&code("IQ-MOI"), &["ftm-2", "ftm-9", "ftm-1"])
        .unwrap()
        .into_iter()
        .map(|s| s.alert.id.0)
        .collect();
    found.sort();
    assert_eq!(found, [10, 12]);
    assert!(store.alerts_by_source(&code("IQ-MOI"), &[]).unwrap().is_empty());
    let too_many = vec!["x"; crate::WRITES_PER_BATCH_MAX + 1];
    assert!(matches!(store.alerts_by_source(&code("IQ-MOI"), &too_many), Err(StoreError::Invalid(_))));
    assert_eq!(store.alert(AlertId(11)).unwrap(), None);
    assert_eq!(store.alert_count().unwrap(), 2);
}

pub fn sequence_numbers_are_per_owner_and_gapless(store: &dyn Store) {
    create(store, &[person_alert(1, "IQ-MOI", "A"), person_alert(2, "CZ-MV", "B")]);
    create(store, &[person_alert(3, "IQ-MOI", "C"), person_alert(4, "IQ-MOI", "D")]);
    let iq = store.changes(&code("IQ-MOI"), 0, 100).unwrap();
    let seqs: Vec<(u64, u128)> = iq.iter().map(|c| (c.seq, c.alert_id.0)).collect();
    assert_eq!(seqs, [(1, 1), (2, 3), (3, 4)]);
    let cz = store.changes(&code("CZ-MV"), 0, 100).unwrap();
    assert_eq!(cz.iter().map(|c| c.seq).collect::<Vec<_>>(), [1]);
    let after = store.changes(&code("IQ-MOI"), 1, 1).unwrap();
    assert_eq!(after.iter().map(|c| c.seq).collect::<Vec<_>>(), [2]);
    assert_eq!(after[0].alert.as_ref().map(|a| a.id), Some(AlertId(3)));
    assert!(store.changes(&code("FR-MI"), 0, 100).unwrap().is_empty());
    assert_eq!(store.change_heads().unwrap(), [(code("CZ-MV"), 1), (code("IQ-MOI"), 3)]);
}

pub fn updates_check_version_and_owner(store: &dyn Store) {
    let alert = person_alert(1, "IQ-MOI", "Ahmed");
    create(store, std::slice::from_ref(&alert));
    let mut changed = alert.clone();
    changed.remarks = "updated".into();
    let update = AlertWrite::Update { alert: changed.clone(), expected_version: 1 };
    let changes = store.write_alerts(std::slice::from_ref(&update), T0 + 5, audit(ops::ALERT_UPDATE)).unwrap();
    assert_eq!((changes[0].seq, changes[0].version, changes[0].op), (2, 2, ChangeOp::Update));
    let stored = store.alert(AlertId(1)).unwrap().unwrap();
    assert_eq!((stored.version, stored.seq), (2, 2));
    assert_eq!((stored.created_at_unix_us, stored.updated_at_unix_us), (T0, T0 + 5));
    assert_eq!(stored.alert.remarks, "updated");

    let stale = store.write_alerts(&[update], T0, audit(ops::ALERT_UPDATE));
    assert!(matches!(stale, Err(StoreError::VersionConflict { expected: 1, actual: 2, .. })), "{stale:?}");

    let mut stolen = changed.clone();
    stolen.owner = code("CZ-MV");
    let hijack =
        store.write_alerts(&[AlertWrite::Update { alert: stolen, expected_version: 2 }], T0, audit(ops::ALERT_UPDATE));
    assert!(matches!(hijack, Err(StoreError::NotOwner { .. })), "{hijack:?}");
    let remove =
        AlertWrite::Remove { owner: code("CZ-MV"), id: AlertId(1), expected_version: None, op: ChangeOp::Delete };
    assert!(matches!(store.write_alerts(&[remove], T0, audit(ops::ALERT_DELETE)), Err(StoreError::NotOwner { .. })));

    let missing = AlertWrite::Update { alert: person_alert(9, "IQ-MOI", "X"), expected_version: 1 };
    assert!(matches!(store.write_alerts(&[missing], T0, audit(ops::ALERT_UPDATE)), Err(StoreError::NotFound(_))));
    assert_eq!(store.alert(AlertId(1)).unwrap().unwrap().alert, changed);
}

pub fn removals_leave_a_change_and_drop_links(store: &dyn Store) {
    create(store, &[person_alert(1, "IQ-MOI", "A"), person_alert(2, "IQ-MOI", "B")]);
    let link = Link {
        from: AlertId(1),
        to: AlertId(2),
        kind: LinkKind::SameNetwork,
        created_by: code("IQ-MOI"),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    store.create_link(&link, audit(ops::ALERT_LINK)).unwrap();
    let remove =
        AlertWrite::Remove { owner: code("IQ-MOI"), id: AlertId(1), expected_version: Some(1), op: ChangeOp::Delete };
    let changes = store.write_alerts(std::slice::from_ref(&remove), T0, audit(ops::ALERT_DELETE)).unwrap();
    assert_eq!((changes[0].seq, changes[0].version, changes[0].op), (3, 2, ChangeOp::Delete));
    assert_eq!(changes[0].alert, None);
    assert_eq!(store.alert(AlertId(1)).unwrap(), None);
    assert!(store.links(AlertId(2)).unwrap().is_empty());
    assert!(matches!(store.write_alerts(&[remove], T0, audit(ops::ALERT_DELETE)), Err(StoreError::NotFound(_))));

    let expire =
        AlertWrite::Remove { owner: code("IQ-MOI"), id: AlertId(2), expected_version: None, op: ChangeOp::Expire };
    let changes = store.write_alerts(&[expire], T0, audit(ops::ALERT_PURGE)).unwrap();
    assert_eq!((changes[0].seq, changes[0].op), (4, ChangeOp::Expire));
    let log = store.changes(&code("IQ-MOI"), 0, 10).unwrap();
    assert_eq!(
        log.iter().map(|c| c.op).collect::<Vec<_>>(),
        [ChangeOp::Create, ChangeOp::Create, ChangeOp::Delete, ChangeOp::Expire]
    );
    assert_eq!(store.alert_count().unwrap(), 0);
}

pub fn a_failed_batch_changes_nothing(store: &dyn Store) {
    create(store, &[person_alert(1, "IQ-MOI", "A")]);
    let entries_before = store.audit_entries(0, 100).unwrap().len();
    let batch = [
        AlertWrite::Create(person_alert(2, "IQ-MOI", "B")),
        AlertWrite::Create(person_alert(3, "CZ-MV", "C")),
        AlertWrite::Create(person_alert(1, "IQ-MOI", "duplicate")),
    ];
    let result = store.write_alerts(&batch, T0, audit(ops::ALERT_CREATE));
    assert!(matches!(result, Err(StoreError::AlreadyExists(_))), "{result:?}");
    assert_eq!(store.alert(AlertId(2)).unwrap(), None);
    assert_eq!(store.alert(AlertId(3)).unwrap(), None);
    assert_eq!(store.alert_count().unwrap(), 1);
    assert_eq!(store.audit_entries(0, 100).unwrap().len(), entries_before);
    // No sequence number was consumed by the failed batch.
    let changes = create(store, &[person_alert(4, "IQ-MOI", "D"), person_alert(5, "CZ-MV", "E")]);
    assert_eq!(changes.iter().map(|c| c.seq).collect::<Vec<_>>(), [2, 1]);
}

pub fn invalid_alerts_are_refused(store: &dyn Store) {
    let mut nameless = person_alert(1, "IQ-MOI", "A");
    nameless.subject = Subject::Person(Person::default());
    let result = store.write_alerts(&[AlertWrite::Create(nameless)], T0, audit(ops::ALERT_CREATE));
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    let mut wrong = person_alert(2, "IQ-MOI", "A");
    wrong.category = Category::StolenDocument;
    assert!(matches!(
        store.write_alerts(&[AlertWrite::Create(wrong)], T0, audit(ops::ALERT_CREATE)),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.alert_count().unwrap(), 0);
    assert!(store.audit_entries(0, 10).unwrap().is_empty());
}

pub fn source_ids_are_unique_per_owner(store: &dyn Store) {
    let mut first = person_alert(1, "IQ-MOI", "A");
    first.source_id = Some("NK-1".into());
    let mut other_owner = person_alert(2, "CZ-MV", "A");
    other_owner.source_id = Some("NK-1".into());
    create(store, &[first.clone(), other_owner]);
    let mut clash = person_alert(3, "IQ-MOI", "B");
    clash.source_id = Some("NK-1".into());
    let result = store.write_alerts(&[AlertWrite::Create(clash)], T0, audit(ops::ALERT_CREATE));
    assert!(matches!(result, Err(StoreError::AlreadyExists(_))), "{result:?}");
    // Updating an alert may change its source id, freeing the old one.
    let mut moved = first;
    moved.source_id = Some("NK-2".into());
    store
        .write_alerts(&[AlertWrite::Update { alert: moved, expected_version: 1 }], T0, audit(ops::ALERT_UPDATE))
        .unwrap();
    assert_eq!(store.alert_by_source(&code("IQ-MOI"), "NK-1").unwrap(), None);
    assert_eq!(store.alert_by_source(&code("IQ-MOI"), "NK-2").unwrap().map(|s| s.alert.id), Some(AlertId(1)));
}

pub fn filters_and_pages(store: &dyn Store) {
    let mut alerts: Vec<Alert> =
        (1..=6).map(|i| person_alert(i, if i % 2 == 0 { "CZ-MV" } else { "IQ-MOI" }, "N")).collect();
    alerts[0].category = Category::TraffickingRisk;
    create(store, &alerts);
    let ids =
        |filter: AlertFilter| -> Vec<u128> { store.alerts(&filter).unwrap().iter().map(|s| s.alert.id.0).collect() };
    assert_eq!(ids(AlertFilter::default()), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(AlertFilter { owner: Some(code("IQ-MOI")), ..AlertFilter::default() }), [1, 3, 5]);
    assert_eq!(
        ids(AlertFilter { category: Some(Category::SuspectedSmuggler), ..AlertFilter::default() }),
        [2, 3, 4, 5, 6]
    );
    assert_eq!(ids(AlertFilter { after: Some(AlertId(2)), limit: 2, ..AlertFilter::default() }), [3, 4]);
    let page = AlertFilter { owner: Some(code("CZ-MV")), after: Some(AlertId(2)), limit: 1, ..AlertFilter::default() };
    assert_eq!(ids(page), [4]);
    // Ids order as unsigned 128-bit numbers, whatever the backend's integer types.
    create(store, &[person_alert(u128::MAX, "IQ-MOI", "Z"), person_alert(1 << 127, "IQ-MOI", "Y")]);
    let last_two = ids(AlertFilter { after: Some(AlertId(6)), ..AlertFilter::default() });
    assert_eq!(last_two, [1 << 127, u128::MAX]);
}

pub fn links_round_trip(store: &dyn Store) {
    create(store, &[person_alert(1, "IQ-MOI", "A"), person_alert(2, "CZ-MV", "B")]);
    let link = Link {
        from: AlertId(1),
        to: AlertId(2),
        kind: LinkKind::SameCase,
        created_by: code("CZ-MV"),
        created_at: time::macros::datetime!(2026-11-29 10:00 UTC),
    };
    store.create_link(&link, audit(ops::ALERT_LINK)).unwrap();
    assert_eq!(store.links(AlertId(1)).unwrap(), std::slice::from_ref(&link));
    assert_eq!(store.links(AlertId(2)).unwrap(), std::slice::from_ref(&link));
    let reversed = Link { from: AlertId(2), to: AlertId(1), ..link.clone() };
    assert!(matches!(store.create_link(&reversed, audit(ops::ALERT_LINK)), Err(StoreError::AlreadyExists(_))));
    let other_kind = Link { kind: LinkKind::SameNetwork, ..link.clone() };
    store.create_link(&other_kind, audit(ops::ALERT_LINK)).unwrap();
    assert_eq!(store.links(AlertId(2)).unwrap().len(), 2);
    let dangling = Link { to: AlertId(9), ..link.clone() };
    assert!(matches!(store.create_link(&dangling, audit(ops::ALERT_LINK)), Err(StoreError::NotFound(_))));
    let itself = Link { to: AlertId(1), ..link };
    assert!(matches!(store.create_link(&itself, audit(ops::ALERT_LINK)), Err(StoreError::Invalid(_))));
}

pub fn every_write_is_audited_in_one_chain(store: &dyn Store) {
    store.create_agency(&agency("IQ-MOI"), audit(ops::AGENCY_CREATE)).unwrap();
    store.create_agreement(&agreement(1), audit(ops::AGREEMENT_CREATE)).unwrap();
    create(store, &[person_alert(1, "IQ-MOI", "A"), person_alert(2, "IQ-MOI", "B")]);
    let read = audit(ops::ALERT_READ).targets([AlertId(1)]).details(r#"{"q":"عبد"}"#.into()).result_count(1);
    let entry = store.append_audit(read.clone()).unwrap();
    assert_eq!(entry.seq, 4);
    assert_eq!(entry.draft, read);
    let entries = store.audit_entries(0, 100).unwrap();
    let operations: Vec<&str> = entries.iter().map(|e| e.draft.operation.as_str()).collect();
    assert_eq!(operations, [ops::AGENCY_CREATE, ops::AGREEMENT_CREATE, ops::ALERT_CREATE, ops::ALERT_READ]);
    let mut verifier = ChainVerifier::default();
    for entry in &entries {
        verifier.push(entry).unwrap();
    }
    assert_eq!(verifier.count(), 4);
    assert_eq!(store.audit_entries(2, 1).unwrap(), entries[2..3]);
    assert_eq!(entries[3], entry);
}

fn hit_record(id: u128, alert: u128, owner: &str, agency: &str) -> crate::HitRecord {
    crate::HitRecord {
        id: tabadul_domain::HitId(id),
        check_id: format!("check-{id}").into(),
        alert_id: AlertId(alert),
        owner: code(owner),
        agency: code(agency),
        user: "officer".into(),
        post: "BGW-AIRPORT".into(),
        at_unix_us: T0,
        level: "full".into(),
        score: Some(0.913),
        action: tabadul_domain::Action::Question,
        traveller: std::sync::Arc::new(serde_json::json!({"names": ["ALI HASSAN"]})),
        outcome: None,
    }
}

/// Three hits of two checks, the second with an outcome: what a store that moves each check's
/// shared part out of its hits' rows is tested with.
pub fn hits_of_two_checks() -> Vec<crate::HitRecord> {
    let hit = |id: u128, check: &str, outcome: Option<crate::Outcome>| crate::HitRecord {
        check_id: check.into(),
        post: format!("post of {check}").into(),
        traveller: std::sync::Arc::new(serde_json::json!({"names": [format!("traveller of {check}")]})),
        outcome,
        ..hit_record(id, 10 + id, "IQ-MOI", "CZ-MV")
    };
    vec![
        hit(1, "check-a", None),
        hit(2, "check-a", Some(outcome(crate::OutcomeKind::Confirmed))),
        hit(3, "check-b", None),
    ]
}

/// That `store` holds `hits` and no others, read one by one and exported (a store migrated
/// from an earlier layout of hits, say).
pub fn holds_exactly_these_hits(store: &dyn Store, hits: &[crate::HitRecord]) {
    for hit in hits {
        assert_eq!(store.hit(hit.id).unwrap().as_ref(), Some(hit));
    }
    let mut exported = Vec::new();
    store
        .export(&mut |record| {
            if let crate::Record::Hit(hit) = record {
                exported.push(hit);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(exported, hits);
}

fn outcome(kind: crate::OutcomeKind) -> crate::Outcome {
    crate::Outcome {
        kind,
        action_taken: "questioned".into(),
        remarks: String::new(),
        user: "officer".into(),
        at_unix_us: T0,
    }
}

fn notification(id: u128, hit: &crate::HitRecord) -> crate::Notification {
    crate::Notification {
        id: tabadul_domain::NotificationId(id),
        hit_id: hit.id,
        alert_id: hit.alert_id,
        owner: hit.owner.clone(),
        agency: hit.agency.clone(),
        user: hit.user.to_string(),
        post: hit.post.to_string(),
        checked_at_unix_us: hit.at_unix_us,
        confirmed_at_unix_us: T0 + 1,
        traveller: (*hit.traveller).clone(),
        action_taken: "questioned".into(),
        remarks: String::new(),
        acknowledged: None,
    }
}

pub fn hits_take_one_outcome_and_notify_the_owner(store: &dyn Store) {
    use crate::OutcomeKind::{Confirmed, FalsePositive};
    let hits = [
        hit_record(1, 10, "IQ-MOI", "CZ-MV"),
        hit_record(2, 10, "IQ-MOI", "CZ-MV"),
        hit_record(3, 11, "IQ-MOI", "CZ-MV"),
    ];
    // A check's hits share who checked, where, when and whom (the second two are one check's).
    let hits =
        [hits[0].clone(), hits[1].clone(), crate::HitRecord { check_id: hits[1].check_id.clone(), ..hits[2].clone() }];
    let differing = crate::HitRecord {
        id: tabadul_domain::HitId(4),
        traveller: std::sync::Arc::new(serde_json::json!({"names": ["OMAR HASSAN"]})),
        ..hits[2].clone()
    };
    let refused = store.record_check(&[hits[1].clone(), differing], audit(ops::CHECK));
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    let entry = store.record_check(&hits, audit(ops::CHECK)).unwrap();
    assert_eq!(store.audit_entries(0, 10).unwrap().last().map(|e| e.seq), Some(entry.seq));
    assert_eq!(store.hit(tabadul_domain::HitId(2)).unwrap(), Some(hits[1].clone()));
    assert_eq!(store.hit(tabadul_domain::HitId(3)).unwrap(), Some(hits[2].clone()));
    assert!(store.hit(tabadul_domain::HitId(99)).unwrap().is_none());
    assert!(matches!(store.record_check(&hits[..1], audit(ops::CHECK)), Err(StoreError::AlreadyExists(_))));

    // A confirmation notifies the owner; a second outcome is refused.
    let note = notification(100, &hits[0]);
    let confirmed =
        store.record_outcome(hits[0].id, &outcome(Confirmed), Some(&note), audit(ops::HIT_CONFIRM)).unwrap();
    assert_eq!(confirmed.outcome.map(|o| o.kind), Some(Confirmed));
    let again = store.record_outcome(hits[0].id, &outcome(FalsePositive), None, audit(ops::HIT_REJECT));
    assert!(matches!(again, Err(StoreError::AlreadyExists(_))));
    // A confirmation without its notification, or a rejection with one, is not taken.
    let bare = store.record_outcome(hits[1].id, &outcome(Confirmed), None, audit(ops::HIT_CONFIRM));
    assert!(matches!(bare, Err(StoreError::Invalid(_))));
    assert!(store.hit(hits[1].id).unwrap().unwrap().outcome.is_none());

    store.record_outcome(hits[1].id, &outcome(FalsePositive), None, audit(ops::HIT_REJECT)).unwrap();
    store.record_outcome(hits[2].id, &outcome(FalsePositive), None, audit(ops::HIT_REJECT)).unwrap();
    assert_eq!(store.false_positives(&code("IQ-MOI")).unwrap(), [(AlertId(10), 1), (AlertId(11), 1)]);
    assert!(store.false_positives(&code("CZ-MV")).unwrap().is_empty());

    // The owner's inbox, and nobody else's.
    assert_eq!(store.notifications(&code("IQ-MOI"), true, 10).unwrap(), std::slice::from_ref(&note));
    assert!(store.notifications(&code("CZ-MV"), false, 10).unwrap().is_empty());
    assert_eq!(store.notification(note.id).unwrap().as_ref(), Some(&note));
    assert_eq!(store.notification(crate::NotificationId(7)).unwrap(), None);
    let ack = crate::Acknowledgement { user: "analyst".into(), at_unix_us: T0 + 2 };
    let wrong_owner = store.acknowledge(note.id, &code("CZ-MV"), &ack, audit(ops::HIT_ACKNOWLEDGE));
    assert!(matches!(wrong_owner, Err(StoreError::NotFound(_))));
    let acknowledged = store.acknowledge(note.id, &code("IQ-MOI"), &ack, audit(ops::HIT_ACKNOWLEDGE)).unwrap();
    assert_eq!(acknowledged.acknowledged, Some(ack.clone()));
    assert!(store.notifications(&code("IQ-MOI"), true, 10).unwrap().is_empty());
    assert_eq!(store.notifications(&code("IQ-MOI"), false, 10).unwrap(), [acknowledged]);
    let twice = store.acknowledge(note.id, &code("IQ-MOI"), &ack, audit(ops::HIT_ACKNOWLEDGE));
    assert!(matches!(twice, Err(StoreError::AlreadyExists(_))));
    // A notification a partner node sends about a hit at its border: kept, once.
    let from_partner = crate::Notification { id: tabadul_domain::NotificationId(200), ..notification(200, &hits[2]) };
    store.receive_notification(&from_partner, audit("federation.notification")).unwrap();
    let again = store.receive_notification(&from_partner, audit("federation.notification"));
    assert!(matches!(again, Err(StoreError::AlreadyExists(_))));
    assert!(store.notifications(&code("IQ-MOI"), true, 10).unwrap().contains(&from_partner));
    // Check, confirm, two rejections, acknowledgement: each with its entry, in one chain.
    let operations: Vec<String> = store.audit_entries(0, 100).unwrap().into_iter().map(|e| e.draft.operation).collect();
    assert_eq!(
        operations,
        [
            ops::CHECK,
            ops::HIT_CONFIRM,
            ops::HIT_REJECT,
            ops::HIT_REJECT,
            ops::HIT_ACKNOWLEDGE,
            "federation.notification"
        ]
    );
}

pub fn users_and_tokens_round_trip(store: &dyn Store) {
    use tabadul_domain::{Role, User};
    let user = |name: &str, agency: &str, roles: Vec<Role>| crate::StoredUser {
        user: User { name: name.into(), agency: code(agency), roles, full_name: String::new(), disabled: false },
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
    };
    let officer = user("officer.bgw", "IQ-MOI", vec![Role::Officer]);
    store.create_user(&officer, audit("user.create")).unwrap();
    store.create_user(&user("analyst.prg", "CZ-MV", vec![Role::Analyst, Role::Officer]), audit("user.create")).unwrap();
    assert!(matches!(store.create_user(&officer, audit("user.create")), Err(StoreError::AlreadyExists(_))));
    let invalid = user("Not A Name", "IQ-MOI", vec![Role::Officer]);
    assert!(matches!(store.create_user(&invalid, audit("user.create")), Err(StoreError::Invalid(_))));
    assert_eq!(store.user("officer.bgw").unwrap(), Some(officer.clone()));
    assert!(store.user("nobody").unwrap().is_none());
    let names = |agency: Option<&str>| -> Vec<String> {
        store.users(agency.map(code).as_ref()).unwrap().into_iter().map(|u| u.user.name).collect()
    };
    assert_eq!(names(None), ["analyst.prg", "officer.bgw"]);
    assert_eq!(names(Some("IQ-MOI")), ["officer.bgw"]);

    let mut disabled = officer.clone();
    disabled.user.disabled = true;
    store.update_user(&disabled, audit("user.update")).unwrap();
    assert!(store.user("officer.bgw").unwrap().unwrap().user.disabled);
    let ghost = user("ghost", "IQ-MOI", vec![Role::Officer]);
    assert!(matches!(store.update_user(&ghost, audit("user.update")), Err(StoreError::NotFound(_))));

    let token = crate::TokenRecord {
        hash: "ab".repeat(32),
        user: "officer.bgw".into(),
        kind: crate::TokenKind::Session,
        label: String::new(),
        created_at_unix_us: T0,
        expires_at_unix_us: T0 + 3_600_000_000,
        revoked: false,
    };
    store.create_token(&token, audit("auth.login")).unwrap();
    assert!(matches!(store.create_token(&token, audit("auth.login")), Err(StoreError::AlreadyExists(_))));
    let orphan = crate::TokenRecord { hash: "cd".repeat(32), user: "nobody".into(), ..token.clone() };
    assert!(matches!(store.create_token(&orphan, audit("auth.login")), Err(StoreError::NotFound(_))));
    assert_eq!(store.token(&token.hash).unwrap(), Some(token.clone()));
    assert_eq!(store.tokens("officer.bgw").unwrap(), std::slice::from_ref(&token));
    assert!(store.tokens("analyst.prg").unwrap().is_empty());
    store.revoke_token(&token.hash, audit("auth.revoke")).unwrap();
    assert!(store.token(&token.hash).unwrap().unwrap().revoked);
    assert!(matches!(store.revoke_token("ef", audit("auth.revoke")), Err(StoreError::NotFound(_))));
    // Two users, one update and one token made and revoked: five entries, no more.
    assert_eq!(store.audit_entries(0, 100).unwrap().len(), 5);
}

/// Fills `store` with some of every kind of record.
pub fn fill_with_every_kind(store: &dyn Store) {
    use crate::OutcomeKind::{Confirmed, FalsePositive};
    store.create_agency(&agency("IQ-MOI"), audit(ops::AGENCY_CREATE)).unwrap();
    store.create_agency(&agency("CZ-MV"), audit(ops::AGENCY_CREATE)).unwrap();
    store.create_agreement(&agreement(1), audit(ops::AGREEMENT_CREATE)).unwrap();
    let mut sourced = person_alert(3, "CZ-MV", "Jan Novák");
    sourced.source_id = Some("ftm-3".into());
    create(store, &[person_alert(1, "IQ-MOI", "علي حسن"), person_alert(2, "IQ-MOI", "B"), sourced]);
    let mut updated = person_alert(1, "IQ-MOI", "علي حسن الشمري");
    updated.remarks = "armed".into();
    store
        .write_alerts(&[AlertWrite::Update { alert: updated, expected_version: 1 }], T0 + 1, audit(ops::ALERT_UPDATE))
        .unwrap();
    let link = |to: u128, kind| Link {
        from: AlertId(1),
        to: AlertId(to),
        kind,
        created_by: code("IQ-MOI"),
        created_at: time::macros::datetime!(2026-11-29 10:00 UTC),
    };
    store.create_link(&link(3, LinkKind::SameCase), audit(ops::ALERT_LINK)).unwrap();
    store.create_link(&link(2, LinkKind::SameNetwork), audit(ops::ALERT_LINK)).unwrap();
    let remove =
        AlertWrite::Remove { owner: code("IQ-MOI"), id: AlertId(2), expected_version: None, op: ChangeOp::Delete };
    store.write_alerts(&[remove], T0 + 2, audit(ops::ALERT_DELETE)).unwrap();
    let hits = [hit_record(1, 1, "IQ-MOI", "CZ-MV"), hit_record(2, 1, "IQ-MOI", "CZ-MV")];
    store.record_check(&hits, audit(ops::CHECK)).unwrap();
    let note = notification(7, &hits[0]);
    store.record_outcome(hits[0].id, &outcome(Confirmed), Some(&note), audit(ops::HIT_CONFIRM)).unwrap();
    store.record_outcome(hits[1].id, &outcome(FalsePositive), None, audit(ops::HIT_REJECT)).unwrap();
    let ack = crate::Acknowledgement { user: "analyst".into(), at_unix_us: T0 + 3 };
    store.acknowledge(note.id, &code("IQ-MOI"), &ack, audit(ops::HIT_ACKNOWLEDGE)).unwrap();
    let user = crate::StoredUser {
        user: tabadul_domain::User {
            name: "officer.prg".into(),
            agency: code("CZ-MV"),
            roles: vec![tabadul_domain::Role::Officer],
            full_name: "Jana Dvořáková".into(),
            disabled: false,
        },
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash".into(),
    };
    store.create_user(&user, audit("user.create")).unwrap();
    let token = crate::TokenRecord {
        hash: "ab".repeat(32),
        user: "officer.prg".into(),
        kind: crate::TokenKind::Api,
        label: "gate 4".into(),
        created_at_unix_us: T0,
        expires_at_unix_us: T0 + 3_600_000_000,
        revoked: false,
    };
    store.create_token(&token, audit("auth.token.create")).unwrap();
    assert_eq!(store.federation_state().unwrap(), None);
    store.save_federation_state(r#"{"agency":"IQ-MOI","old":true}"#).unwrap();
    store.save_federation_state(r#"{"agency":"IQ-MOI","published_through":4}"#).unwrap();
    assert_eq!(store.federation_state().unwrap().as_deref(), Some(r#"{"agency":"IQ-MOI","published_through":4}"#));
}

fn export_all(store: &dyn Store) -> Vec<crate::Record> {
    let mut records = Vec::new();
    store
        .export(&mut |record| {
            records.push(record);
            Ok(())
        })
        .unwrap();
    records
}

/// Everything exported from `source` and restored into an empty `target` (of the same kind
/// or another) exports the same again, record for record; the target then goes on where the
/// source stopped: the next sequence number, the next audit entry in the same chain.
pub fn export_and_restore_keep_everything(source: &dyn Store, target: &dyn Store) {
    use crate::RecordKind;
    fill_with_every_kind(source);
    let records = export_all(source);
    let kinds: std::collections::BTreeSet<RecordKind> = records.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), RecordKind::ALL, "every kind is exported");
    let order: Vec<RecordKind> = records.iter().map(|r| r.kind()).collect();
    assert!(order.is_sorted(), "kind by kind: {order:?}");

    for batch in records.chunks(5) {
        target.restore(batch).unwrap();
    }
    assert_eq!(export_all(target), records);
    // Nothing twice: a record already there is refused, and the batch with it leaves nothing.
    let again = target.restore(&records[records.len() - 3..]);
    assert!(matches!(again, Err(StoreError::AlreadyExists(_))), "{again:?}");
    assert_eq!(export_all(target), records);
    let too_many = vec![records[0].clone(); crate::RECORDS_PER_RESTORE_MAX + 1];
    assert!(matches!(target.restore(&too_many), Err(StoreError::Invalid(_))));
    // A hit of a check the target holds, but seen by another officer: refused, not merged.
    let Some(crate::Record::Hit(hit)) = records.iter().find(|r| matches!(r, crate::Record::Hit(_))) else {
        panic!("a hit is exported")
    };
    let other = crate::HitRecord { id: tabadul_domain::HitId(hit.id.0 + 1000), user: "another".into(), ..hit.clone() };
    let refused = target.restore(&[crate::Record::Hit(other)]);
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    assert_eq!(export_all(target), records);

    // The target carries on where the source stopped.
    assert_eq!(target.change_heads().unwrap(), source.change_heads().unwrap());
    let changes = create(target, &[person_alert(9, "IQ-MOI", "C")]);
    assert_eq!(changes[0].seq, 5, "IQ-MOI had 4 changes");
    let entries = target.audit_entries(0, 1000).unwrap();
    let mut verifier = ChainVerifier::default();
    for entry in &entries {
        verifier.push(entry).expect("one chain across the move");
    }
    assert_eq!(entries.len(), source.audit_entries(0, 1000).unwrap().len() + 1);
    assert_eq!(target.links(AlertId(1)).unwrap(), source.links(AlertId(1)).unwrap());
    assert_eq!(
        target.alert_by_source(&code("CZ-MV"), "ftm-3").unwrap(),
        source.alert_by_source(&code("CZ-MV"), "ftm-3").unwrap()
    );
}

/// Several checks in one transaction: each with its own entry, in order, in one chain; a batch
/// with a hit already recorded (or twice in it) records nothing.
pub fn checks_are_recorded_together_or_not_at_all(store: &dyn Store) {
    let check = |hits: Vec<crate::HitRecord>| (hits, audit(ops::CHECK));
    let first = hit_record(1, 10, "IQ-MOI", "CZ-MV");
    let entries = store
        .record_checks(vec![
            check(vec![first.clone()]),
            check(vec![]),
            check(vec![hit_record(2, 11, "IQ-MOI", "CZ-MV")]),
        ])
        .unwrap();
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(store.hit(first.id).unwrap(), Some(first.clone()));
    assert!(store.record_checks(vec![]).unwrap().is_empty());

    let again =
        store.record_checks(vec![check(vec![hit_record(3, 10, "IQ-MOI", "CZ-MV")]), check(vec![first.clone()])]);
    assert!(matches!(again, Err(StoreError::AlreadyExists(_))), "{again:?}");
    let twice = store.record_checks(vec![
        check(vec![hit_record(4, 10, "IQ-MOI", "CZ-MV")]),
        check(vec![hit_record(4, 10, "IQ-MOI", "CZ-MV")]),
    ]);
    assert!(matches!(twice, Err(StoreError::AlreadyExists(_))), "{twice:?}");
    assert!(
        store.hit(tabadul_domain::HitId(3)).unwrap().is_none()
            && store.hit(tabadul_domain::HitId(4)).unwrap().is_none()
    );
    let too_many = (0..=crate::CHECKS_PER_BATCH_MAX).map(|_| check(vec![])).collect();
    assert!(matches!(store.record_checks(too_many), Err(StoreError::Invalid(_))));
    assert_eq!(store.audit_entries(0, 100).unwrap().len(), 3);
}
