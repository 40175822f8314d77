//! The command line on PostgreSQL, and `tabadul migrate` from an SQLite file to PostgreSQL,
//! against a throw-away cluster this test process starts.

mod common;

use std::sync::OnceLock;

use common::Node;
use tabadul_store_postgres::throwaway::Cluster;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start().expect("start a throw-away PostgreSQL cluster"))
}

fn database() -> String {
    cluster().create_database().expect("create a database")
}

/// Abdul Ameer al-Shammari of `Node::shammari`.
const SHAMMARI_MRZ: &str = "P<IRQALSHAMMARI<<ABDULAMEER<HASSAN<<<<<<<<<<\nA123456784IRQ8501019M3105205<<<<<<<<<<<<<<02";
/// Ali Hassan al-Shammari, wanted by Iraq in the demo.
const DEMO_MRZ: &str = "P<IRQALSHAMMARI<<ALI<HASSAN<<<<<<<<<<<<<<<<<\nP123456712IRQ8803159M3001019<<<<<<<<<<<<<<06";

/// The Czech officer's check of `mrz`: the person hits.
fn check(node: &Node, mrz: &str) -> serde_json::Value {
    let answer = node.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", mrz]);
    answer["check"]["result"]["persons"].clone()
}

#[test]
fn a_node_runs_on_postgres_from_the_command_line() {
    let url = database();
    let node = Node::on(&url);
    node.partners();
    node.shammari();
    let persons = check(&node, SHAMMARI_MRZ);
    assert_eq!(persons.as_array().unwrap().len(), 1, "{persons:#}");
    assert_eq!(persons[0]["level"], "full");
    let hit = persons[0]["hit_id"].as_str().unwrap().to_owned();
    node.ok(&["hits", "confirm", &hit, "--agency", "CZ-MV", "--action-taken", "questioned at the gate"]);
    let inbox = node.json(&["hits", "inbox", "--agency", "IQ-MOI"]);
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox:#}");
    assert!(node.ok(&["audit", "verify"]).starts_with("audit log intact"));

    // The password never shows; the configuration check connects.
    let config = node.json(&["check-config"]);
    assert_eq!(config["store"]["schema_version"], tabadul_store_postgres::PG_SCHEMA_VERSION);
    assert!(config["store"]["server"].as_str().is_some_and(|v| !v.is_empty()), "{config:#}");
    assert!(node.ok(&["check-config"]).contains("PostgreSQL"));
    // An unreachable server is a clear error, not a hang or a panic.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gone = Node::on(&format!("postgres://tabadul:secret@127.0.0.1:{port}/none"));
    let error = gone.fails(&["alert", "list"]);
    assert!(error.contains(&format!("127.0.0.1:{port}")) && !error.contains("secret"), "{error}");
    assert!(!error.contains("panicked"), "{error}");
}

#[test]
fn migrate_moves_a_node_from_its_file_to_postgres_with_nothing_lost() {
    let node = Node::new();
    node.ok(&["demo", "--alerts-per-agency", "30"]);
    let persons = check(&node, DEMO_MRZ);
    let hit = persons[0]["hit_id"].as_str().unwrap().to_owned();
    node.ok(&["hits", "reject", &hit, "--agency", "CZ-MV"]);
    let file = node.db();
    let file = file.to_str().unwrap();
    let alerts_before = node.json(&["alert", "list", "--agency", "CZ-MV"]);
    let false_before = node.json(&["hits", "false-positives", "--agency", "IQ-MOI"]);
    assert!(!false_before.as_array().unwrap().is_empty());

    let url = database();
    let moved = node.json(&["migrate", "--from", file, "--to", &url]);
    assert_eq!(moved["verified"], true);
    assert!(moved["records"]["alert"].as_u64().unwrap() > 200, "{moved:#}");
    assert!(moved["records"]["hit"].as_u64().unwrap() >= 1, "{moved:#}");
    let copied_entries = moved["records"]["audit"].as_u64().unwrap();

    let moved_node = Node::on(&url);
    // The same alerts as the partner sees them, the same hit outcome, one chain with the move
    // logged last.
    assert_eq!(moved_node.json(&["alert", "list", "--agency", "CZ-MV"]), alerts_before);
    assert_eq!(moved_node.json(&["hits", "false-positives", "--agency", "IQ-MOI"]), false_before);
    let audit_after = moved_node.json(&["audit", "verify"]);
    assert!(audit_after["entries"].as_u64().unwrap() > copied_entries, "{audit_after:#}");
    let last = moved_node.json(&["audit", "list", "--after", &copied_entries.to_string()]);
    assert_eq!(last[0]["operation"], "store.migrate");
    // The node goes on working where it stopped.
    assert_eq!(check(&moved_node, DEMO_MRZ)[0]["alert_id"], persons[0]["alert_id"]);

    // Never into a store that holds data, never a broken log.
    let refused = node.fails(&["migrate", "--from", file, "--to", &url]);
    assert!(refused.contains("holds data already"), "{refused}");
    let connection = rusqlite::Connection::open(file).unwrap();
    connection.execute("UPDATE audit SET user = 'mallory' WHERE seq = 5", []).unwrap();
    drop(connection);
    let refused = node.fails(&["migrate", "--from", file, "--to", &database()]);
    assert!(refused.contains("audit log broken at entry 5"), "{refused}");
    let refused = node.fails(&["migrate", "--from", "missing.db", "--to", &database()]);
    assert!(refused.contains("no store at missing.db"), "{refused}");
}
