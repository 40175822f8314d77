//! Users, roles and tokens: who may do what, and tokens that expire, are revoked, and never
//! stored in the clear.

use std::sync::{Arc, Mutex};

use tabadul_domain::{Agency, AgencyCode, CountryCode, Role, User};
use tabadul_node::{Actor, AlertQuery, CheckRequest, Clock, Node, NodeError, NodeKey};
use tabadul_store::MemStore;

/// A clock the test moves.
struct Moving(Mutex<time::OffsetDateTime>);

impl Clock for Moving {
    fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

fn user(name: &str, agency: &str, roles: &[Role]) -> User {
    User { name: name.into(), agency: code(agency), roles: roles.to_vec(), full_name: String::new(), disabled: false }
}

const PASSWORD: &str = "correct horse battery staple";

fn node() -> (Node, Arc<Moving>) {
    let clock = Arc::new(Moving(Mutex::new(time::macros::datetime!(2026-11-29 08:00 UTC))));
    let node = Node::new(Arc::new(MemStore::new()), clock.clone());
    let operator = Actor::new("operator", None);
    for (agency, country) in [("IQ-MOI", "IQ"), ("CZ-MV", "CZ")] {
        let agency = Agency::new(code(agency), CountryCode::new(country).unwrap(), "Ministry", None).unwrap();
        node.add_agency(&operator, agency).unwrap();
    }
    node.add_user(&operator, user("sup.iq", "IQ-MOI", &[Role::Supervisor]), PASSWORD).unwrap();
    (node, clock)
}

fn logged_in(node: &Node, name: &str) -> Actor {
    let issued = node.login(name, PASSWORD).unwrap();
    node.authenticate(&issued.token).unwrap()
}

#[test]
fn supervisors_manage_their_own_agency_only() {
    let (node, _) = node();
    let supervisor = logged_in(&node, "sup.iq");
    assert_eq!(supervisor.roles, [Role::Supervisor]);
    node.add_user(&supervisor, user("officer.bgw", "IQ-MOI", &[Role::Officer]), PASSWORD).unwrap();
    let refused = [
        (user("officer.prg", "CZ-MV", &[Role::Officer]), PASSWORD, "own agency"),
        (user("root.iq", "IQ-MOI", &[Role::Administrator]), PASSWORD, "only an administrator"),
    ];
    for (new, password, said) in refused {
        let error = node.add_user(&supervisor, new, password).unwrap_err();
        assert!(matches!(&error, NodeError::Forbidden(m) if m.contains(said)), "{error}");
    }
    let error = node.add_user(&supervisor, user("short.pw", "IQ-MOI", &[Role::Officer]), "short").unwrap_err();
    assert!(matches!(&error, NodeError::Invalid(m) if m.contains("at least 12")), "{error}");
    let error = node.add_user(&supervisor, user("officer.bgw", "IQ-MOI", &[Role::Officer]), PASSWORD).unwrap_err();
    assert!(matches!(error, NodeError::Conflict(_)), "{error}");
    let names: Vec<String> = node.users(&supervisor).unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["officer.bgw", "sup.iq"]);
    let officer = logged_in(&node, "officer.bgw");
    assert!(matches!(node.users(&officer), Err(NodeError::Forbidden(_))));
}

#[test]
fn roles_decide_what_a_user_may_do() {
    let (node, _) = node();
    let operator = Actor::new("operator", None);
    node.add_user(&operator, user("officer.bgw", "IQ-MOI", &[Role::Officer]), PASSWORD).unwrap();
    node.add_user(&operator, user("auditor.iq", "IQ-MOI", &[Role::Auditor]), PASSWORD).unwrap();
    let officer = logged_in(&node, "officer.bgw");
    let auditor = logged_in(&node, "auditor.iq");
    let key = NodeKey::generate().unwrap();
    let request = CheckRequest { post: "BGW".into(), names: vec!["Ali Hassan".into()], ..CheckRequest::default() };

    assert!(node.check(&officer, &key, &request).is_ok());
    let error = node.alerts(&officer, &AlertQuery::default()).unwrap_err();
    assert!(matches!(&error, NodeError::Forbidden(m) if m.contains("analyst")), "{error}");
    assert!(matches!(node.check(&auditor, &key, &request), Err(NodeError::Forbidden(_))));
    assert!(node.verify_audit(&auditor).unwrap().broken.is_none());
    assert!(matches!(node.verify_audit(&officer), Err(NodeError::Forbidden(_))));
}

#[test]
fn tokens_expire_can_be_revoked_and_are_stored_hashed() {
    let (node, clock) = node();
    let wrong = node.login("sup.iq", "not the password at all").unwrap_err();
    let unknown = node.login("nobody", PASSWORD).unwrap_err();
    // The same answer for a wrong password and an unknown user.
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert!(matches!(wrong, NodeError::Unauthenticated(_)));

    let issued = node.login("sup.iq", PASSWORD).unwrap();
    assert!(issued.token.starts_with("tbd_") && issued.expires_at.starts_with("2026-11-29T16:00:00"));
    let hash = tabadul_node::sha256_hex(&issued.token);
    let stored = node.store().token(&hash).unwrap().unwrap();
    assert!(!serde_json::to_string(&stored).unwrap().contains(&issued.token[4..]));
    assert!(node.authenticate(&issued.token).is_ok());
    for bad in ["", "Bearer x", "tbd_0000", &format!("{}0", issued.token)] {
        assert!(matches!(node.authenticate(bad), Err(NodeError::Unauthenticated(_))), "{bad}");
    }

    *clock.0.lock().unwrap() += time::Duration::hours(9);
    let error = node.authenticate(&issued.token).unwrap_err();
    assert!(error.to_string().contains("expired"), "{error}");

    let again = node.login("sup.iq", PASSWORD).unwrap();
    let actor = node.authenticate(&again.token).unwrap();
    let api = node.create_api_token(&actor, "manifest gateway", 30).unwrap();
    node.revoke_token(&actor, &again.token).unwrap();
    assert!(node.authenticate(&again.token).unwrap_err().to_string().contains("revoked"));
    assert!(node.authenticate(&api.token).is_ok());
    assert!(matches!(node.create_api_token(&actor, "x", 1000), Err(NodeError::Invalid(_))));

    // Every login, failed or not, is in the audit log.
    let operations: Vec<String> =
        node.store().audit_entries(0, 100).unwrap().into_iter().map(|e| e.draft.operation).collect();
    assert_eq!(operations.iter().filter(|o| *o == "auth.login-failed").count(), 2);
    assert_eq!(operations.iter().filter(|o| *o == "auth.login").count(), 2);
}

#[test]
fn an_agency_auditor_reads_its_own_agency_entries_only() {
    let (node, _) = node();
    let operator = Actor::new("operator", None);
    node.add_user(&operator, user("auditor.iq", "IQ-MOI", &[Role::Auditor]), PASSWORD).unwrap();
    node.add_user(&operator, user("officer.prg", "CZ-MV", &[Role::Officer]), PASSWORD).unwrap();
    let czech = logged_in(&node, "officer.prg");
    let key = NodeKey::generate().unwrap();
    let request = CheckRequest { post: "PRG".into(), names: vec!["Jan Novak".into()], ..CheckRequest::default() };
    node.check(&czech, &key, &request).unwrap();

    let auditor = logged_in(&node, "auditor.iq");
    let entries = node.audit_entries(&auditor, 0, 1000).unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e.draft.agency.as_deref() == Some("IQ-MOI")), "{entries:?}");
    assert!(!entries.iter().any(|e| e.draft.details.contains("Jan Novak")));
    // The operator (and an administrator) reads them all, the Czech check among them.
    let all = node.audit_entries(&operator, 0, 1000).unwrap();
    assert!(all.iter().any(|e| e.draft.operation == "check" && e.draft.details.contains("Jan Novak")));
}
