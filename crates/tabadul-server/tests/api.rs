//! The API end to end through its router: authentication, roles, what each agency sees through
//! every read endpoint, checks and their receipts, the hit inbox, and the error table's answers
//! to bad requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tabadul_domain::{
    Agency, AgencyCode, Category, CountryCode, HandlingCode, NameKind, PartialDate, Person, PersonName, Role,
    SharingLevel, Subject, User,
};
use tabadul_node::{Actor, AgreementDraft, AlertDraft, FixedClock, Node, NodeKey};
use tabadul_server::{AppState, ERRORS, router};
use tabadul_store::MemStore;
use tabadul_store_postgres::throwaway::Cluster;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

struct Api {
    app: axum::Router,
    /// The node behind the router (a clone shares its state).
    node: Node,
    /// Alerts of Iraq: a suspected smuggler (full for the Czech Republic, hit level for
    /// France), a wanted person (shared with nobody).
    smuggler: String,
    wanted: String,
}

/// Iraq, the Czech Republic, France and the UK, an officer and an analyst in each, an Iraqi
/// auditor.
fn api() -> Api {
    api_on(Arc::new(MemStore::new()))
}

/// The same, on a PostgreSQL database of a throw-away cluster this test process starts.
fn api_on_postgres() -> Api {
    static CLUSTER: std::sync::OnceLock<Cluster> = std::sync::OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| Cluster::start().expect("start a throw-away PostgreSQL cluster"));
    let url = cluster.create_database().unwrap();
    api_on(Arc::new(tabadul_store_postgres::PgStore::connect(&url).unwrap()))
}

fn api_on(store: Arc<dyn tabadul_store::Store>) -> Api {
    let clock = FixedClock(time::macros::datetime!(2026-11-29 12:00 UTC));
    let node = Node::new(store, Arc::new(clock));
    let operator = Actor::new("operator", None);
    for (agency, country) in [("IQ-MOI", "IQ"), ("CZ-MV", "CZ"), ("FR-MI", "FR"), ("GB-HO", "GB")] {
        let agency = Agency::new(code(agency), CountryCode::new(country).unwrap(), "Ministry of the Interior", None);
        node.add_agency(&operator, agency.unwrap()).unwrap();
        for role in [Role::Officer, Role::Analyst] {
            let name = format!("{}@{}", role.as_str(), agency_name(country));
            let user = User {
                name,
                agency: code(agency_code(country)),
                roles: vec![role],
                full_name: String::new(),
                disabled: false,
            };
            node.add_user(&operator, user, PASSWORD).unwrap();
        }
    }
    for (name, role) in
        [("auditor@iq", Role::Auditor), ("supervisor@iq", Role::Supervisor), ("admin@iq", Role::Administrator)]
    {
        let user = User {
            name: name.into(),
            agency: code("IQ-MOI"),
            roles: vec![role],
            full_name: String::new(),
            disabled: false,
        };
        node.add_user(&operator, user, PASSWORD).unwrap();
    }
    let agreement = |parties: &[&str], level: SharingLevel| AgreementDraft {
        title: "MoU".into(),
        parties: parties.iter().map(|p| code(p)).collect(),
        levels: vec![(Category::SuspectedSmuggler, level)],
        valid_from: Some(time::macros::date!(2026 - 01 - 01)),
        valid_until: None,
        legal_reference: "MoU".into(),
    };
    node.add_agreement(&operator, agreement(&["IQ-MOI", "CZ-MV"], SharingLevel::Full)).unwrap();
    node.add_agreement(&operator, agreement(&["IQ-MOI", "FR-MI"], SharingLevel::Hit)).unwrap();
    let iraq = Actor::new("analyst@iq", Some(code("IQ-MOI")));
    let person = |category: Category, name: &str| AlertDraft {
        category,
        subject: Subject::Person(Person {
            names: vec![PersonName::new(name, NameKind::Primary)],
            birth_dates: vec![PartialDate::parse("1985-01-01").unwrap()],
            ..Person::default()
        }),
        action: None,
        handling: HandlingCode::H1,
        review_date: None,
        expires: None,
        remarks: "informant report 2025/114".into(),
        source_id: None,
        refer_to: None,
    };
    let smuggler = node.create_alert(&iraq, person(Category::SuspectedSmuggler, "عبد الأمير حسن الشمري")).unwrap();
    let wanted = node.create_alert(&iraq, person(Category::WantedForArrest, "كريم جبار الساعدي")).unwrap();
    let state = AppState::new(node.clone(), NodeKey::generate().unwrap(), 4);
    Api { app: router(state), node, smuggler: smuggler.alert.id.to_string(), wanted: wanted.alert.id.to_string() }
}

fn agency_code(country: &str) -> &'static str {
    match country {
        "IQ" => "IQ-MOI",
        "CZ" => "CZ-MV",
        "FR" => "FR-MI",
        _ => "GB-HO",
    }
}

fn agency_name(country: &str) -> String {
    country.to_ascii_lowercase()
}

impl Api {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header("Content-Type", "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, value)
    }

    async fn login(&self, user: &str) -> String {
        let (status, body) =
            self.call(Method::POST, "/api/v1/sessions", None, Some(json!({"user": user, "password": PASSWORD}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_string()
    }
}

fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["code"], code, "{}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.1);
}

#[tokio::test]
async fn only_health_answers_without_a_token() {
    let api = api();
    let (status, body) = api.call(Method::GET, "/health", None, None).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    // Not ready until the screening index is built (here, by the first check).
    assert_error(&api.call(Method::GET, "/ready", None, None).await, StatusCode::SERVICE_UNAVAILABLE, "busy");
    let officer = api.login("officer@iq").await;
    api.call(Method::POST, "/api/v1/checks", Some(&officer), Some(json!({"post": "BGW", "names": ["Ali"]}))).await;
    assert_eq!(api.call(Method::GET, "/ready", None, None).await.0, StatusCode::OK);
    for path in ["/api/v1/alerts", "/api/v1/node", "/api/v1/hits/inbox", "/api/v1/audit/verify"] {
        assert_error(&api.call(Method::GET, path, None, None).await, StatusCode::UNAUTHORIZED, "unauthenticated");
        let forged = api.call(Method::GET, path, Some("tbd_0123"), None).await;
        assert_error(&forged, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let wrong =
        api.call(Method::POST, "/api/v1/sessions", None, Some(json!({"user": "analyst@iq", "password": "nope"}))).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthenticated");

    // Logging out revokes the token.
    let token = api.login("analyst@iq").await;
    assert_eq!(api.call(Method::DELETE, "/api/v1/sessions", Some(&token), None).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &api.call(Method::GET, "/api/v1/node", Some(&token), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn no_read_endpoint_shows_more_than_the_agreements_allow() {
    every_read_endpoint_keeps_to_the_agreements(api()).await;
}

#[tokio::test]
async fn no_read_endpoint_shows_more_than_the_agreements_allow_on_postgres() {
    every_read_endpoint_keeps_to_the_agreements(api_on_postgres()).await;
}

async fn every_read_endpoint_keeps_to_the_agreements(api: Api) {
    let alert = |id: &str| format!("/api/v1/alerts/{id}");
    // Iraq, the owner, sees both; the Czech analyst the smuggler in full; France (hit level)
    // and the UK (no agreement) neither, and the UK is not even told the alert exists.
    let cases = [
        ("analyst@iq", 2, StatusCode::OK, StatusCode::OK),
        ("analyst@cz", 1, StatusCode::OK, StatusCode::NOT_FOUND),
        ("analyst@fr", 0, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND),
        ("analyst@gb", 0, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
    ];
    for (user, listed, smuggler, wanted) in cases {
        let token = api.login(user).await;
        let (status, list) = api.call(Method::GET, "/api/v1/alerts", Some(&token), None).await;
        assert_eq!((status, list.as_array().map(Vec::len)), (StatusCode::OK, Some(listed)), "{user}: {list}");
        assert_eq!(api.call(Method::GET, &alert(&api.smuggler), Some(&token), None).await.0, smuggler, "{user}");
        assert_eq!(api.call(Method::GET, &alert(&api.wanted), Some(&token), None).await.0, wanted, "{user}");
    }

    // The other read endpoints, the same scenario: yente's match (the level of each hit), the
    // agreements (only those the agency is party to), the hit inbox (only the owner's).
    let example = json!({"queries": {"q": {"schema": "Person", "properties": {
        "name": ["Abdul Ameer Hassan al-Shammari"], "birthDate": ["1985-01-01"],
    }}}});
    for (user, level, agreements) in [
        ("analyst@iq", Some("full"), 2),
        ("analyst@cz", Some("full"), 1),
        ("analyst@fr", Some("hit"), 1),
        ("analyst@gb", None, 0),
    ] {
        let token = api.login(user).await;
        let (_, matched) = api.call(Method::POST, "/match/default", Some(&token), Some(example.clone())).await;
        let results = matched["responses"]["q"]["results"].as_array().cloned().unwrap_or_default();
        let name = results.first().map(|r| r["properties"].get("name").is_some());
        assert_eq!(name, level.map(|l| l == "full"), "{user}: {matched}");
        let (_, listed) = api.call(Method::GET, "/api/v1/agreements", Some(&token), None).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(agreements), "{user}: {listed}");
        let (_, inbox) = api.call(Method::GET, "/api/v1/hits/inbox", Some(&token), None).await;
        assert_eq!(inbox.as_array().map(Vec::len), Some(0), "{user}");
        let (_, counts) = api.call(Method::GET, "/api/v1/hits/false-positives", Some(&token), None).await;
        assert_eq!(counts.as_array().map(Vec::len), Some(0), "{user}");
    }

    // Checks: the Czech officer gets the smuggler in full, the French officer only a hit, the
    // British officer nothing.
    let check = json!({"post": "BGW", "names": ["Abdul Ameer Hassan al-Shammari"], "birth_dates": ["1985-01-01"]});
    let persons = |answer: &Value| answer["check"]["result"]["persons"].as_array().cloned().unwrap_or_default();
    let czech =
        api.call(Method::POST, "/api/v1/checks", Some(&api.login("officer@cz").await), Some(check.clone())).await;
    assert_eq!(czech.0, StatusCode::OK, "{}", czech.1);
    let hits = persons(&czech.1);
    assert_eq!((hits.len(), hits[0]["level"].as_str()), (1, Some("full")));
    assert_eq!(hits[0]["alert_id"].as_str(), Some(api.smuggler.as_str()));
    let french =
        api.call(Method::POST, "/api/v1/checks", Some(&api.login("officer@fr").await), Some(check.clone())).await;
    let hits = persons(&french.1);
    assert_eq!((hits.len(), hits[0]["level"].as_str()), (1, Some("hit")));
    let text = french.1.to_string();
    assert!(!text.contains("الشمري") && !text.contains("informant") && !text.contains("explanation"), "{text}");
    let british = api.call(Method::POST, "/api/v1/checks", Some(&api.login("officer@gb").await), Some(check)).await;
    assert!(persons(&british.1).is_empty(), "{}", british.1);
}

#[tokio::test]
async fn roles_are_checked_by_the_node() {
    let api = api();
    let officer = api.login("officer@iq").await;
    let analyst = api.login("analyst@iq").await;
    let auditor = api.login("auditor@iq").await;
    assert_error(
        &api.call(Method::GET, "/api/v1/alerts", Some(&officer), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let check = json!({"post": "BGW", "names": ["Ali"]});
    assert_error(
        &api.call(Method::POST, "/api/v1/checks", Some(&auditor), Some(check)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &api.call(Method::GET, "/api/v1/audit/verify", Some(&analyst), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, report) = api.call(Method::GET, "/api/v1/audit/verify", Some(&auditor), None).await;
    assert_eq!((status, report["broken"].is_null()), (StatusCode::OK, true), "{report}");
}

#[tokio::test]
async fn a_confirmed_hit_reaches_the_owner_and_the_receipt_verifies() {
    a_confirmed_hit_reaches_the_owner(api()).await;
}

#[tokio::test]
async fn a_confirmed_hit_reaches_the_owner_on_postgres() {
    a_confirmed_hit_reaches_the_owner(api_on_postgres()).await;
}

async fn a_confirmed_hit_reaches_the_owner(api: Api) {
    let officer = api.login("officer@cz").await;
    let check = json!({"post": "PRG", "names": ["عبد الأمير حسن الشمري"], "birth_dates": ["1985-01-01"]});
    let (_, outcome) = api.call(Method::POST, "/api/v1/checks", Some(&officer), Some(check)).await;

    let verify = |document: Value| json!({ "document": document });
    let (status, answer) =
        api.call(Method::POST, "/api/v1/receipts/verify", Some(&officer), Some(verify(outcome.clone()))).await;
    assert_eq!((status, answer["valid"].as_bool()), (StatusCode::OK, Some(true)), "{answer}");
    let mut edited = outcome.clone();
    edited["check"]["result"]["persons"] = json!([]);
    let (_, answer) = api.call(Method::POST, "/api/v1/receipts/verify", Some(&officer), Some(verify(edited))).await;
    assert_eq!(answer["valid"].as_bool(), Some(false), "{answer}");

    let hit = outcome["check"]["result"]["persons"][0]["hit_id"].as_str().unwrap();
    let confirm = json!({"action_taken": "detained at gate B4"});
    let (status, _) =
        api.call(Method::POST, &format!("/api/v1/hits/{hit}/confirm"), Some(&officer), Some(confirm.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let again = api.call(Method::POST, &format!("/api/v1/hits/{hit}/confirm"), Some(&officer), Some(confirm)).await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    let owner = api.login("analyst@iq").await;
    let (_, inbox) = api.call(Method::GET, "/api/v1/hits/inbox", Some(&owner), None).await;
    assert_eq!(inbox[0]["action_taken"], "detained at gate B4", "{inbox}");
    let note = inbox[0]["id"].as_str().unwrap();
    let (status, _) = api.call(Method::POST, &format!("/api/v1/notifications/{note}/ack"), Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, inbox) = api.call(Method::GET, "/api/v1/hits/inbox", Some(&owner), None).await;
    assert_eq!(inbox.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn bad_requests_get_a_code_and_a_message_never_a_500() {
    let api = api();
    let token = api.login("officer@iq").await;
    let raw = |body: &str, content_type: Option<&str>| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/checks")
            .header("Authorization", format!("Bearer {token}"));
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.body(Body::from(body.to_string())).unwrap()
    };
    let json = Some("application/json");
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (raw("{\"post\": ", json), StatusCode::BAD_REQUEST, "malformed"),
        (raw("{\"post\": 3}", json), StatusCode::BAD_REQUEST, "malformed"),
        (raw("{\"post\": \"P\", \"names\": [\"x\"], \"colour\": 1}", json), StatusCode::BAD_REQUEST, "malformed"),
        (raw("{\"post\": \"P\", \"birth_dates\": [\"1985-02-30\"]}", json), StatusCode::BAD_REQUEST, "malformed"),
        (raw("{\"post\": \"P\"}", None), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
        (
            raw(&format!("{{\"post\": \"{}\"}}", "x".repeat(300 * 1024)), json),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
        ),
        (raw("{\"post\": \"P\"}", json), StatusCode::BAD_REQUEST, "invalid"),
        (raw("{\"post\": \"P\", \"mrz\": \"P<UTO\"}", json), StatusCode::BAD_REQUEST, "invalid"),
    ];
    for (request, status, code) in cases {
        assert_error(&api.send(request).await, status, code);
    }
    let path_cases = [
        (Method::GET, "/api/v1/alerts/not-an-id", StatusCode::BAD_REQUEST, "invalid"),
        (Method::GET, "/api/v1/alerts?limit=many", StatusCode::BAD_REQUEST, "malformed"),
        (Method::GET, "/api/v1/nothing-here", StatusCode::NOT_FOUND, "not-found"),
        (Method::DELETE, "/api/v1/checks", StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        (
            Method::POST,
            "/api/v1/hits/01a225c1-0000-7000-8000-000000000000/reject",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
    ];
    for (method, path, status, code) in path_cases {
        assert_error(&api.call(method, path, Some(&token), None).await, status, code);
    }
    let unknown_hit = api
        .call(Method::POST, "/api/v1/hits/01a225c1-0000-7000-8000-000000000000/reject", Some(&token), Some(json!({})))
        .await;
    assert_error(&unknown_hit, StatusCode::NOT_FOUND, "not-found");
}

#[test]
fn the_error_table_is_one_code_one_status() {
    let mut codes: Vec<&str> = ERRORS.iter().map(|(code, _, _)| *code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), ERRORS.len());
    for (code, status, meaning) in ERRORS {
        assert!((400..600).contains(status) && !meaning.is_empty(), "{code}");
    }
}

#[tokio::test]
async fn a_border_post_says_so_and_refuses_alert_changes() {
    let api = api();
    let officer = api.login("officer@iq").await;
    let (status, node) = api.call(Method::GET, "/api/v1/node", Some(&officer), None).await;
    assert_eq!((status, node.get("replica")), (StatusCode::OK, None), "{node}");
    api.node.set_replica(tabadul_node::Replica { agency: code("IQ-MOI"), post: "BSR".into() });
    api.node.set_replica_version(vec![tabadul_node::DataHead { owner: "FR-MI".into(), seq: 7 }]);
    let (_, node) = api.call(Method::GET, "/api/v1/node", Some(&officer), None).await;
    assert_eq!(
        node["replica"],
        json!({"agency": "IQ-MOI", "post": "BSR", "data_version": [{"owner": "FR-MI", "seq": 7}]})
    );
    let analyst = api.login("analyst@iq").await;
    let alert = json!({
        "category": "wanted-for-arrest",
        "subject": {"kind": "person", "names": [{"full": "Karim Jabbar", "kind": "primary"}]},
    });
    let refused = api.call(Method::POST, "/api/v1/alerts", Some(&analyst), Some(alert)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    assert!(refused.1["message"].as_str().unwrap().contains("border post BSR"), "{}", refused.1);
    let path = format!("/api/v1/alerts/{}", api.wanted);
    assert_error(&api.call(Method::DELETE, &path, Some(&analyst), None).await, StatusCode::FORBIDDEN, "forbidden");
    // Checks go on.
    let check = json!({"post": "BSR-GATE-2", "names": ["Karim Jabbar al-Saadi"]});
    let (status, answer) = api.call(Method::POST, "/api/v1/checks", Some(&officer), Some(check)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["receipt"]["replica_version"], json!([{"owner": "FR-MI", "seq": 7}]));
}

#[tokio::test]
async fn alerts_agreements_users_and_agencies_are_managed_over_the_api() {
    let api = api();
    let analyst = api.login("analyst@iq").await;
    let alert = json!({
        "category": "trafficking-risk",
        "subject": {"kind": "person", "names": [{"full": "نور عباس التميمي", "script": "arabic", "kind": "primary"}]},
        "refer_to": "Iraqi anti-trafficking directorate",
        "expires": "2027-12-31",
    });
    let (status, created) = api.call(Method::POST, "/api/v1/alerts", Some(&analyst), Some(alert.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["alert"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/alerts/{id}");
    let mut changed = alert.clone();
    changed["remarks"] = json!("seen in Basra");
    let (status, updated) =
        api.call(Method::PUT, &format!("{path}?version=1"), Some(&analyst), Some(changed.clone())).await;
    assert_eq!((status, updated["version"].as_u64()), (StatusCode::OK, Some(2)), "{updated}");
    let stale = api.call(Method::PUT, &format!("{path}?version=1"), Some(&analyst), Some(changed)).await;
    assert_error(&stale, StatusCode::CONFLICT, "conflict");
    let link = json!({"to": api.smuggler, "kind": "same-network"});
    assert_eq!(
        api.call(Method::POST, &format!("{path}/links"), Some(&analyst), Some(link)).await.0,
        StatusCode::CREATED
    );
    // Another agency's analyst cannot change it, and is not told it exists.
    let czech = api.login("analyst@cz").await;
    let foreign = api.call(Method::DELETE, &path, Some(&czech), None).await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(api.call(Method::DELETE, &path, Some(&analyst), None).await.0, StatusCode::NO_CONTENT);
    assert_error(&api.call(Method::GET, &path, Some(&analyst), None).await, StatusCode::NOT_FOUND, "not-found");

    // A supervisor adds users of its agency and makes agreements it is party to.
    let supervisor = api.login("supervisor@iq").await;
    let user = json!({"name": "officer2@iq", "agency": "IQ-MOI", "roles": ["officer"], "password": PASSWORD});
    assert_eq!(
        api.call(Method::POST, "/api/v1/users", Some(&supervisor), Some(user.clone())).await.0,
        StatusCode::CREATED
    );
    assert_error(
        &api.call(Method::POST, "/api/v1/users", Some(&analyst), Some(user)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    api.login("officer2@iq").await;
    let agreement = json!({
        "title": "Iraq-UK memorandum", "parties": ["IQ-MOI", "GB-HO"], "levels": {"wanted-for-arrest": "hit"},
        "legal_reference": "MoU IQ-GB 2026/1",
    });
    let (status, made) = api.call(Method::POST, "/api/v1/agreements", Some(&supervisor), Some(agreement)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["awaiting"], json!(["GB-HO"]), "{made}");
    let british = api.login("officer@gb").await;
    let check = json!({"post": "LHR", "names": ["كريم جبار الساعدي"], "birth_dates": ["1985-01-01"]});
    let (_, seen) = api.call(Method::POST, "/api/v1/checks", Some(&british), Some(check.clone())).await;
    assert_eq!(seen["check"]["result"]["persons"].as_array().map(Vec::len), Some(0), "before the UK consents: {seen}");
    // The UK's supervisor consents; Iraq's cannot for the UK.
    let admin = api.login("admin@iq").await;
    let uk_supervisor =
        json!({"name": "supervisor@gb", "agency": "GB-HO", "roles": ["supervisor"], "password": PASSWORD});
    assert_eq!(api.call(Method::POST, "/api/v1/users", Some(&admin), Some(uk_supervisor)).await.0, StatusCode::CREATED);
    let consent = format!("/api/v1/agreements/{}/consent", made["id"].as_str().unwrap());
    assert_error(&api.call(Method::POST, &consent, Some(&supervisor), None).await, StatusCode::CONFLICT, "conflict");
    let uk = api.login("supervisor@gb").await;
    let (status, agreed) = api.call(Method::POST, &consent, Some(&uk), None).await;
    assert_eq!((status, agreed.get("awaiting")), (StatusCode::OK, None), "{agreed}");
    let (_, seen) = api.call(Method::POST, "/api/v1/checks", Some(&british), Some(check.clone())).await;
    assert_eq!(seen["check"]["result"]["persons"][0]["level"], "hit", "{seen}");
    let revoke = format!("/api/v1/agreements/{}/revoke", made["id"].as_str().unwrap());
    assert_eq!(api.call(Method::POST, &revoke, Some(&supervisor), Some(json!({}))).await.0, StatusCode::OK);
    let (_, seen) = api.call(Method::POST, "/api/v1/checks", Some(&british), Some(check)).await;
    assert_eq!(seen["check"]["result"]["persons"].as_array().map(Vec::len), Some(0), "{seen}");

    // Only an administrator adds agencies.
    let agency = json!({"code": "JO-PSD", "country": "JO", "name": "Public Security Directorate"});
    assert_error(
        &api.call(Method::POST, "/api/v1/agencies", Some(&supervisor), Some(agency.clone())).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let admin = api.login("admin@iq").await;
    assert_eq!(api.call(Method::POST, "/api/v1/agencies", Some(&admin), Some(agency)).await.0, StatusCode::CREATED);
    let (_, agencies) = api.call(Method::GET, "/api/v1/agencies", Some(&analyst), None).await;
    assert_eq!(agencies.as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn a_batch_answers_each_check_on_its_own() {
    let api = api();
    let officer = api.login("officer@iq").await;
    let batch = json!({"checks": [
        {"post": "PRG", "names": ["Abdul Ameer Hassan al-Shammari"], "birth_dates": ["1985-01-01"]},
        {"post": "PRG", "mrz": "P<BROKEN"},
        {"post": "PRG", "names": ["Jan Novak"]},
    ]});
    let (status, answers) = api.call(Method::POST, "/api/v1/checks/batch", Some(&officer), Some(batch)).await;
    assert_eq!(status, StatusCode::OK, "{answers}");
    let answers = answers.as_array().unwrap();
    assert_eq!(answers[0]["check"]["result"]["persons"].as_array().map(Vec::len), Some(1));
    assert_eq!(answers[1]["error"]["code"], "invalid");
    assert_eq!(answers[2]["check"]["result"]["persons"].as_array().map(Vec::len), Some(0));
    // Recorded together, each with its own audit entry and a receipt that verifies.
    let seq = |answer: &Value| answer["receipt"]["audit_seq"].as_u64();
    assert!(seq(&answers[0]).is_some() && seq(&answers[0]) != seq(&answers[2]), "{answers:?}");
    for answer in [&answers[0], &answers[2]] {
        let document = json!({ "document": answer });
        let (status, verified) =
            api.call(Method::POST, "/api/v1/receipts/verify", Some(&officer), Some(document)).await;
        assert_eq!((status, verified["valid"].as_bool()), (StatusCode::OK, Some(true)), "{verified}");
    }
    let too_many = json!({"checks": vec![json!({"post": "P", "names": ["x"]}); 101]});
    assert_error(
        &api.call(Method::POST, "/api/v1/checks/batch", Some(&officer), Some(too_many)).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );

    let auditor = api.login("auditor@iq").await;
    let (status, entries) = api.call(Method::GET, "/api/v1/audit?limit=500", Some(&auditor), None).await;
    assert_eq!(status, StatusCode::OK);
    let checks = entries.as_array().unwrap().iter().filter(|e| e["operation"] == "check").count();
    assert_eq!(checks, 2, "the refused check is not a check, and an auditor reads its own agency's entries");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_checks() {
    let api = api();
    let officer = api.login("officer@cz").await;
    let check = json!({"post": "PRG", "names": ["Abdul Ameer Hassan al-Shammari"], "birth_dates": ["1985-01-01"]});
    api.call(Method::POST, "/api/v1/checks", Some(&officer), Some(check)).await;
    api.call(Method::GET, &format!("/api/v1/alerts/{}", api.smuggler), Some(&officer), None).await;
    assert_error(&api.call(Method::GET, "/metrics", Some(&officer), None).await, StatusCode::FORBIDDEN, "forbidden");

    let admin = api.login("admin@iq").await;
    let request = Request::builder()
        .uri("/metrics")
        .header("Authorization", format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.contains(r#"tabadul_http_requests_total{method="POST",route="/api/v1/checks",status="200"} 1"#),
        "{text}"
    );
    // Routes are counted by their template, never by the ids in a path.
    assert!(text.contains(r#"route="/api/v1/alerts/{id}",status="403""#), "{text}");
    assert!(!text.contains(&api.smuggler));
    assert!(
        text.contains("tabadul_checks_total 1")
            && text.contains("tabadul_hits_total 1")
            && text.contains("tabadul_alerts 2"),
        "{text}"
    );
}

#[tokio::test]
async fn the_api_describes_itself_in_openapi_and_swagger_ui_is_served_offline() {
    let api = api();
    let (status, doc) = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    let mut documented: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    documented.sort();
    let mut served = vec![
        "POST /api/v1/sessions",
        "DELETE /api/v1/sessions",
        "POST /api/v1/tokens",
        "POST /api/v1/checks",
        "POST /api/v1/checks/batch",
        "GET /api/v1/agencies",
        "POST /api/v1/agencies",
        "GET /api/v1/users",
        "POST /api/v1/users",
        "GET /api/v1/alerts",
        "POST /api/v1/alerts",
        "GET /api/v1/alerts/{id}",
        "PUT /api/v1/alerts/{id}",
        "DELETE /api/v1/alerts/{id}",
        "POST /api/v1/alerts/{id}/links",
        "GET /api/v1/agreements",
        "POST /api/v1/agreements",
        "GET /api/v1/agreements/{id}",
        "POST /api/v1/agreements/{id}/revoke",
        "GET /api/v1/audit",
        "GET /api/v1/hits/inbox",
        "GET /api/v1/hits/false-positives",
        "POST /api/v1/hits/{id}/confirm",
        "POST /api/v1/hits/{id}/reject",
        "POST /api/v1/notifications/{id}/ack",
        "POST /api/v1/receipts/verify",
        "GET /api/v1/audit/verify",
        "GET /api/v1/node",
        "GET /metrics",
        "GET /health",
        "GET /ready",
        "POST /match/{dataset}",
        "POST /api/v1/imports",
        "GET /api/v1/imports/{id}",
        "PATCH /api/v1/users/{name}",
        "POST /api/v1/manifests",
        "GET /api/v1/tokens",
        "DELETE /api/v1/tokens/{id}",
        "GET /api/v1/dashboard",
        "POST /api/v1/agreements/{id}/consent",
    ];
    served.sort_unstable();
    assert_eq!(documented, served);
    // Every documented error is an error of the table.
    assert!(doc["components"]["schemas"]["ApiError"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let request = Request::builder().uri("/docs/").body(Body::empty()).unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("swagger-ui") && !page.contains("https://"), "the page loads nothing from the internet");
}

#[tokio::test]
async fn yente_clients_match_persons_unchanged() {
    let api = api();
    let query = json!({"queries": {
        "traveller": {"schema": "Person", "properties": {
            "name": ["Abdul Ameer Hassan al-Shammari"], "birthDate": ["1985-01-01"], "nationality": ["iq"],
        }},
        "nobody": {"schema": "Person", "properties": {"name": "Jan Novak"}},
    }});
    let czech = api.login("officer@cz").await;
    let (status, answer) =
        api.call(Method::POST, "/match/default?threshold=0.7&limit=3", Some(&czech), Some(query.clone())).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let found = &answer["responses"]["traveller"];
    assert_eq!((found["status"].as_u64(), found["total"]["value"].as_u64()), (Some(200), Some(1)), "{answer}");
    let result = &found["results"][0];
    assert_eq!(result["id"].as_str(), Some(api.smuggler.as_str()));
    assert_eq!((result["schema"].as_str(), result["match"].as_bool()), (Some("Person"), Some(true)));
    assert!(result["score"].as_f64().unwrap() >= 0.7 && result["properties"]["name"][0] == "عبد الأمير حسن الشمري");
    assert_eq!(found["query"]["properties"]["name"][0], "Abdul Ameer Hassan al-Shammari");
    assert_eq!(answer["responses"]["nobody"]["total"]["value"], 0);
    assert_eq!(answer["limit"], 3);
    assert!(answer["matcher"]["tabadul"]["description"].is_string());

    // At hit level, the entity says who to contact and nothing of the person.
    let french = api.login("officer@fr").await;
    let (_, answer) = api.call(Method::POST, "/match/default", Some(&french), Some(query)).await;
    let result = &answer["responses"]["traveller"]["results"][0];
    assert_eq!(result["caption"], "Alert of IQ-MOI (shared at hit level)");
    assert!(result["properties"].get("name").is_none() && !answer.to_string().contains("الشمري"), "{answer}");

    let company = json!({"queries": {"q": {"schema": "Company", "properties": {"name": ["Acme"]}}}});
    assert_error(
        &api.call(Method::POST, "/match/default", Some(&czech), Some(company)).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    let other = json!({"queries": {}});
    assert_error(
        &api.call(Method::POST, "/match/sanctions", Some(&czech), Some(other)).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
}

#[tokio::test]
async fn an_import_runs_as_a_job_with_progress() {
    let api = api();
    let analyst = api.login("analyst@iq").await;
    let lines = [
        r#"{"id": "p-1", "schema": "Person", "properties": {"name": ["Mustafa Kamal Rashid"], "birthDate": ["1990"]}}"#,
        r#"{"id": "p-2", "schema": "Person", "properties": {"name": ["حيدر عباس الموسوي"]}}"#,
        "not json",
    ];
    let upload = |token: &str, body: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/imports?category=wanted-for-arrest&handling=H1")
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/x-ndjson")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, job) = api.send(upload(&analyst, lines.join("\n"))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let path = format!("/api/v1/imports/{}", job["id"].as_str().unwrap());
    let mut job = job;
    for _ in 0..200 {
        job = api.call(Method::GET, &path, Some(&analyst), None).await.1;
        if job["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        (job["summary"]["created"].as_u64(), job["summary"]["error_count"].as_u64()),
        (Some(2), Some(1)),
        "{job}"
    );
    let (_, alerts) = api.call(Method::GET, "/api/v1/alerts", Some(&analyst), None).await;
    assert_eq!(alerts.as_array().map(Vec::len), Some(4));

    // Another agency is not told of the job; an officer may not import; nothing is no import.
    let czech = api.login("analyst@cz").await;
    assert_error(&api.call(Method::GET, &path, Some(&czech), None).await, StatusCode::NOT_FOUND, "not-found");
    let officer = api.login("officer@iq").await;
    assert_error(&api.send(upload(&officer, lines.join("\n"))).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&api.send(upload(&analyst, String::new())).await, StatusCode::BAD_REQUEST, "invalid");
}

#[tokio::test]
async fn users_are_disabled_and_tokens_listed_and_revoked() {
    let api = api();
    let supervisor = api.login("supervisor@iq").await;
    let officer = api.login("officer@iq").await;
    // An API token for a system, listed without its secret, then revoked by its id.
    let (status, made) =
        api.call(Method::POST, "/api/v1/tokens", Some(&officer), Some(json!({"label": "kiosk", "days": 30}))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let system = made["token"].as_str().unwrap().to_string();
    let (_, listed) = api.call(Method::GET, "/api/v1/tokens", Some(&officer), None).await;
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "the session and the API token");
    assert!(!serde_json::to_string(&listed).unwrap().contains(&system[4..]));
    let id = listed.iter().find(|t| t["label"] == "kiosk").unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(api.call(Method::GET, "/api/v1/node", Some(&system), None).await.0, StatusCode::OK);
    assert_eq!(
        api.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&officer), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &api.call(Method::GET, "/api/v1/node", Some(&system), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &api.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), Some(&supervisor), None).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );

    // A supervisor disables a user of its agency: its tokens stop working at once.
    let disable = json!({"disabled": true});
    let czech = api.call(Method::PATCH, "/api/v1/users/officer@cz", Some(&supervisor), Some(disable.clone())).await;
    assert_error(&czech, StatusCode::NOT_FOUND, "not-found");
    let (status, user) = api.call(Method::PATCH, "/api/v1/users/officer@iq", Some(&supervisor), Some(disable)).await;
    assert_eq!((status, user["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{user}");
    assert_error(
        &api.call(Method::GET, "/api/v1/node", Some(&officer), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let promote = json!({"roles": ["administrator"]});
    let refused = api.call(Method::PATCH, "/api/v1/users/analyst@iq", Some(&supervisor), Some(promote)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_manifest_is_screened_over_the_api() {
    let api = api();
    let officer = api.login("officer@cz").await;
    let paxlst = "UNB+UNOA:4+IA+CZAPI+261129:0600+9'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'TDT+20+IA231'LOC+125+BGW'LOC+87+PRG'\
        NAD+FL+++ALSHAMMARI:ABDULAMEER:HASSAN'ATT+2++M'DTM+329:850101'NAT+2+IRQ'NAD+FL+++NOVAK:JAN'CNT+42:2'UNT+12+1'UNZ+1+9'";
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/manifests")
        .header("Authorization", format!("Bearer {officer}"))
        .header("Content-Type", "application/edifact")
        .body(Body::from(paxlst))
        .unwrap();
    let (status, reports) = api.send(request).await;
    assert_eq!(status, StatusCode::OK, "{reports}");
    let report = &reports[0];
    assert_eq!((report["travellers"].as_u64(), report["screened"].as_u64()), (Some(2), Some(2)));
    assert_eq!(report["hits"][0]["name"], "ABDULAMEER HASSAN ALSHAMMARI");
    assert_eq!(report["hits"][0]["persons"][0]["alert_id"].as_str(), Some(api.smuggler.as_str()));
    let garbage = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/manifests")
        .header("Authorization", format!("Bearer {officer}"))
        .body(Body::from("not edifact"))
        .unwrap();
    assert_error(&api.send(garbage).await, StatusCode::BAD_REQUEST, "invalid");
    // The carrier's answer: every traveller's directive, and nothing of why.
    let cusres = |answer: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/manifests?answer={answer}"))
            .header("Authorization", format!("Bearer {officer}"))
            .body(Body::from(paxlst))
            .unwrap()
    };
    let response = api.app.clone().oneshot(cusres("cusres")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/edifact");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("UNB+UNOC:4+CZAPI+IA+") && body.contains("CUSRES:D:05B:UN:IATA"), "{body}");
    // A suspected smuggler is questioned on arrival: the carrier boards him, unaware.
    assert_eq!(body.matches("ERC+0Z'").count(), 2, "{body}");
    // Without a reference from the carrier, a traveller is named; the alert never is.
    assert!(body.contains("FTX+AAP+++OK TO BOARD ALSHAMMARI/ABDULAMEER HASSAN'"), "{body}");
    assert!(!body.contains(api.smuggler.as_str()), "{body}");
    assert_error(&api.send(cusres("xml")).await, StatusCode::BAD_REQUEST, "malformed");
}
