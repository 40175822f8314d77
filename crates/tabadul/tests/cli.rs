//! The `tabadul` binary end to end: each test runs the real command line on a fresh store.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Node, free_port, http};

fn str_of(value: &serde_json::Value) -> &str {
    value.as_str().expect("a string")
}

#[test]
fn alerts_round_trip_through_the_command_line() {
    let node = Node::new();
    node.partners();
    let agencies = node.json(&["agency", "list"]);
    assert_eq!(agencies.as_array().unwrap().len(), 3);
    assert_eq!(agencies[2]["name_ar"], "وزارة الداخلية");

    let added = node.json(&[
        "alert",
        "add",
        "--agency",
        "IQ-MOI",
        "--category",
        "suspected-smuggler",
        "--name",
        "عبد الأمير الشمري",
        "--name",
        "Abdul Amir al-Shammari",
        "--alias",
        "Abu Ali",
        "--birth-date",
        "1975-03",
        "--nationality",
        "IQ",
        "--gender",
        "male",
        "--document",
        "IRQ:A1234567",
        "--marker",
        "armed",
        "--handling",
        "H2",
        "--remarks",
        "Zakho crossing",
    ]);
    let id = str_of(&added["alert"]["id"]).to_string();
    assert_eq!(added["alert"]["subject"]["names"][0]["script"], "arabic");
    assert_eq!(added["alert"]["subject"]["names"][2]["kind"], "alias");
    assert_eq!(added["version"], 1);

    let text = node.ok(&["alert", "show", &id, "--agency", "CZ-MV"]);
    assert!(text.contains("عبد الأمير الشمري") && text.contains("WARNING:    armed"), "{text}");
    let hidden = node.fails(&["alert", "show", &id, "--agency", "GB-HO"]);
    assert!(hidden.contains(&format!("alert {id} not found")), "{hidden}");
    assert_eq!(node.json(&["alert", "list", "--agency", "GB-HO"]).as_array().unwrap().len(), 0);
    assert_eq!(node.json(&["alert", "list", "--agency", "CZ-MV"]).as_array().unwrap().len(), 1);

    let refused = node.fails(&["alert", "update", &id, "--agency", "CZ-MV", "--remarks", "mine now"]);
    assert!(refused.contains("only its owner may change it"), "{refused}");
    let updated =
        node.json(&["alert", "update", &id, "--agency", "IQ-MOI", "--expires", "2030-01-01", "--version", "1"]);
    assert_eq!((updated["version"].as_u64(), str_of(&updated["alert"]["expires"])), (Some(2), "2030-01-01"));
    assert_eq!(updated["alert"]["remarks"], "Zakho crossing");
    let stale = node.fails(&["alert", "update", &id, "--agency", "IQ-MOI", "--remarks", "x", "--version", "1"]);
    assert!(stale.contains("somebody changed it meanwhile"), "{stale}");

    let document = node.json(&[
        "alert",
        "add",
        "--agency",
        "IQ-MOI",
        "--category",
        "stolen-document",
        "--doc-number",
        "A7654321",
        "--doc-state",
        "IRQ",
        "--doc-type",
        "passport",
        "--doc-status",
        "stolen-blank",
    ]);
    let doc_id = str_of(&document["alert"]["id"]).to_string();
    node.ok(&["alert", "link", &id, &doc_id, "--kind", "same-case", "--agency", "IQ-MOI"]);
    let view = node.json(&["alert", "show", &id, "--agency", "IQ-MOI"]);
    assert_eq!(view["links"][0]["kind"], "same-case");
    node.ok(&["alert", "delete", &doc_id, "--agency", "IQ-MOI"]);
    assert!(node.fails(&["alert", "show", &doc_id, "--agency", "IQ-MOI"]).contains("not found"));

    let verified = node.json(&["audit", "verify"]);
    assert!(verified["broken"].is_null());
    assert!(verified["entries"].as_u64().unwrap() > 10);
    let entries = node.json(&["audit", "list", "--limit", "1000"]);
    let reads: Vec<&serde_json::Value> =
        entries.as_array().unwrap().iter().filter(|e| e["operation"] == "alert.read").collect();
    assert!(reads.iter().any(|e| e["agency"] == "GB-HO" && e["result_count"] == 0 && e["user"] == "tester"));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let node = Node::new();
    assert!(node.fails(&["agency", "list"]).contains("run `tabadul init` first"));
    node.partners();
    // Each case: the arguments (split at spaces) and what the error must say.
    let cases: &[(&str, &str)] = &[
        ("agency add iq_moi --country IQ --name x", "is not an agency code"),
        ("agency add IQ-MOI --country IQ --name x", "agency IQ-MOI already exists"),
        ("agency add FR-MI --country FRA --name x", "not an ISO 3166-1 alpha-2"),
        ("alert add --agency IQ-MOI --category wanted --name x", "not a known category"),
        ("alert add --agency XX-NONE --category missing-person --name x", "agency XX-NONE not found"),
        ("alert add --category missing-person --name x", "needs the agency you act for"),
        ("alert add --agency IQ-MOI --category missing-person --name x --birth-date 1975-02-30", "not a calendar day"),
        ("alert add --agency IQ-MOI --category missing-person", "at least one name"),
        (
            "alert add --agency IQ-MOI --category missing-person --name x --vin V1",
            "do not apply to a missing-person alert",
        ),
        ("alert add --agency IQ-MOI --category stolen-document --doc-number 1", "needs --doc-state"),
        (
            "alert add --agency IQ-MOI --category missing-person --name x --handling H3",
            "needs the text of its restriction",
        ),
        ("alert show not-a-uuid --agency IQ-MOI", "is not an alert id"),
        (
            "agreement add --title t --party IQ-MOI --party XX-NONE --share terrorism=full --legal-ref r",
            "agency XX-NONE not found",
        ),
        (
            "agreement add --title t --party IQ-MOI --party CZ-MV --share terrorism --legal-ref r",
            "is not CATEGORY=LEVEL",
        ),
        (
            "agreement add --title t --party IQ-MOI --party CZ-MV --share terrorism=some --legal-ref r",
            "not a sharing level",
        ),
        ("agreement add --title t --party IQ-MOI --share terrorism=full --legal-ref r", "at least two parties"),
        ("import /nonexistent.jsonl --agency IQ-MOI --category missing-person", "open /nonexistent.jsonl"),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.split(' ').collect();
        let error = node.fails(&args);
        assert!(error.starts_with("error: ") && error.contains(expected), "{args:?}: {error}");
        assert!(!error.contains("panicked"), "{args:?}: {error}");
    }
}

#[test]
fn every_command_has_help() {
    let node = Node::new();
    let commands: &[&[&str]] = &[
        &[],
        &["init"],
        &["agency"],
        &["agency", "add"],
        &["agency", "list"],
        &["agreement"],
        &["agreement", "add"],
        &["agreement", "list"],
        &["agreement", "show"],
        &["agreement", "revoke"],
        &["alert"],
        &["alert", "add"],
        &["alert", "show"],
        &["alert", "list"],
        &["alert", "update"],
        &["alert", "delete"],
        &["alert", "link"],
        &["import"],
        &["purge"],
        &["audit"],
        &["audit", "verify"],
        &["audit", "list"],
        &["check-config"],
        &["check"],
        &["receipt"],
        &["receipt", "verify"],
        &["screen"],
        &["hits"],
        &["hits", "inbox"],
        &["hits", "confirm"],
        &["hits", "reject"],
        &["hits", "ack"],
        &["hits", "false-positives"],
        &["serve"],
        &["user"],
        &["user", "add"],
        &["user", "list"],
        &["demo"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = node.ok(&args);
        assert!(help.contains("Usage: tabadul"), "{command:?}: {help}");
    }
}

#[test]
fn an_altered_audit_row_is_named_by_verify() {
    let node = Node::new();
    node.partners();
    assert!(node.ok(&["audit", "verify"]).starts_with("audit log intact"));
    let connection = rusqlite::Connection::open(node.db()).unwrap();
    connection.execute("UPDATE audit SET user = 'mallory' WHERE seq = 3", []).unwrap();
    drop(connection);
    let output = node.run(&["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("audit log broken at entry 3: its content does not match its hash"), "{text}");
    let report = node.json_allowing_failure(&["audit", "verify"]);
    assert_eq!(report["broken"]["seq"], 3);
    assert_eq!(report["entries"], 2);

    // Deleting a row instead is found at the gap.
    let connection = rusqlite::Connection::open(node.db()).unwrap();
    connection.execute("UPDATE audit SET user = 'tester' WHERE seq = 3", []).unwrap();
    connection.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
    drop(connection);
    let report = node.json_allowing_failure(&["audit", "verify"]);
    assert_eq!(report["broken"]["seq"], 2, "{report}");
}

fn shared_or_local(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn importing_a_malformed_file_reports_lines_and_keeps_the_good_ones() {
    let node = Node::new();
    node.partners();
    let file = shared_or_local("../tabadul-node/tests/data/mixed.ftm.jsonl");
    let file = file.to_str().unwrap();
    let output =
        node.run(&["import", file, "--agency", "IQ-MOI", "--category", "suspected-smuggler", "--progress", "none"]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [
        "line 3: not valid JSON",
        "line 7: person p-3 has no name",
        "line 9: person p-1 appears again",
        "line 12: not valid JSON",
    ] {
        assert!(stderr.contains(line), "{line} missing from:\n{stderr}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("12 lines: 3 persons (3 created, 0 updated, 0 unchanged)"), "{stdout}");
    assert!(stdout.contains("not imported: 1 Company"), "{stdout}");
    let again =
        node.json(&["import", file, "--agency", "IQ-MOI", "--category", "suspected-smuggler", "--progress", "none"]);
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)));
}

#[test]
fn configuration_is_checked_before_use() {
    let node = Node::new();
    std::fs::write(node.dir.path().join("tabadul.toml"), "[node]\nagency = \"CZ-MV\"\n[import]\nbatch_size = 10\n")
        .unwrap();
    let report = node.json(&["check-config"]);
    assert_eq!(report["config"]["default_agency"], "CZ-MV");
    assert!(report["store"].is_null());
    node.partners();
    // The configured agency acts when --agency is not given.
    assert_eq!(node.json(&["agreement", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(node.json(&["check-config"])["store"]["integrity"], "ok");
    std::fs::write(node.dir.path().join("bad.toml"), "[store]\npaht = 1\n").unwrap();
    let error = node.fails(&["--config", "bad.toml", "check-config"]);
    assert!(
        error.contains("parse the configuration file bad.toml") && error.contains("unknown field `paht`"),
        "{error}"
    );
}

#[test]
fn the_demo_starts_on_a_fresh_file() {
    let node = Node::new();
    let summary = node.json(&["demo", "--alerts-per-agency", "20"]);
    assert_eq!((summary["agencies"].as_u64(), summary["alerts"].as_u64()), (Some(8), Some(163)));
    assert!(node.fails(&["demo"]).contains("exists already"));
    let agreements = node.json(&["agreement", "list", "--agency", "CZ-MV"]);
    assert_eq!(agreements.as_array().unwrap().len(), 2);
    assert!(node.json(&["audit", "verify"])["broken"].is_null());
    // The README's example: a Czech officer reads an Iraqi passport.
    let mrz = "P<IRQALSHAMMARI<<ALI<HASSAN<<<<<<<<<<<<<<<<<\\nP123456712IRQ8803159M3001019<<<<<<<<<<<<<<06";
    let check = node.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", mrz]);
    let result = &check["check"]["result"];
    assert_eq!(result["documents"][0]["status"], "stolen-from-holder", "{check:#}");
    assert_eq!(
        (result["persons"][0]["level"].as_str(), result["persons"][0]["names"][0].as_str()),
        (Some("full"), Some("علي حسن الشمري"))
    );
    assert_eq!(result["persons"][0]["action"], "arrest");
}

fn shared_eval(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/eval").join(file)
}

#[test]
fn eval_pairs_reports_every_measure() {
    let node = Node::new();
    let file = shared_eval("xs_names_dev.jsonl");
    let report = node.json(&["eval", "pairs", file.to_str().unwrap()]);
    for key in [
        "pairs",
        "positives",
        "negatives",
        "threshold",
        "precision",
        "recall",
        "f1",
        "ap",
        "best_f1",
        "recall_at_p95",
        "pairs_per_second",
    ] {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["left_out"], 131);
    // A floor far below the measured figures (ap 0.97): it catches a broken matcher, not noise.
    assert!(report["ap"].as_f64().unwrap() > 0.9, "{report}");
    let all = node.json(&["eval", "pairs", file.to_str().unwrap(), "--all"]);
    assert_eq!(all["pairs"], 1500);
}

#[test]
fn bench_generates_a_population_and_measures_it() {
    let node = Node::new();
    let queries = node.dir.path().join("queries.jsonl");
    let population =
        node.ok(&["bench", "generate", "300", "--query-count", "40", "--queries-out", queries.to_str().unwrap()]);
    assert_eq!(population.lines().count(), 300);
    assert!(population.lines().any(|l| l.contains("\"schema\":\"Person\"")));
    let arabic = population.chars().filter(|c| ('\u{0600}'..='\u{06FF}').contains(c)).count();
    assert!(arabic > 1000, "names in Arabic script expected");
    // The same seed gives the same population.
    assert!(node.ok(&["bench", "generate", "300"]) == population, "the population changed with the same seed");
    let alerts = node.dir.path().join("alerts.jsonl");
    std::fs::write(&alerts, &population).unwrap();
    let (alerts, queries) = (alerts.to_str().unwrap(), queries.to_str().unwrap());
    let report = node.json(&["bench", "--alerts", alerts, "--queries", queries, "--rounds", "3"]);
    assert_eq!((report["alerts"].as_u64(), report["queries"].as_u64()), (Some(300), Some(40)));
    // Three rounds on one core, the median reported.
    let rounds = report["checks_per_second_rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3, "{report}");
    let mut sorted: Vec<f64> = rounds.iter().map(|r| r.as_f64().unwrap()).collect();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(report["checks_per_second"].as_f64(), Some(sorted[1]), "{report}");
    assert!(node.fails(&["bench", "--alerts", alerts, "--queries", queries, "--rounds", "0"]).contains("--rounds"));
    assert!(report["hits"].as_u64().unwrap() > 0, "{report}");
    for key in [
        "build_seconds",
        "index_bytes",
        "rss_bytes",
        "p50_us",
        "p99_us",
        "checks_per_second",
        "checks_per_second_all_cores",
    ] {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
}

/// A passport of Abdul Ameer al-Shammari, as the MRZ romanises his name (check digits valid).
const SHAMMARI_MRZ: &str = "P<IRQALSHAMMARI<<ABDULAMEER<HASSAN<<<<<<<<<<\nA123456784IRQ8501019M3105205<<<<<<<<<<<<<<02";

#[test]
fn a_border_check_hits_across_scripts_and_its_receipt_verifies() {
    let node = Node::new();
    node.partners();
    node.shammari();
    node.stolen_document("A12345678", "IRQ", "stolen-blank");

    // The Czech officer sees the smuggler in full (the MoU), not the Iraqi stolen document.
    let czech = node.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", SHAMMARI_MRZ]);
    let persons = czech["check"]["result"]["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 1, "{czech:#}");
    assert_eq!((str_of(&persons[0]["level"]), str_of(&persons[0]["action"])), ("full", "question"));
    assert!(czech["check"]["result"]["documents"].as_array().unwrap().is_empty());
    // Iraq, the owner, sees its stolen document first.
    let iraq = node.json(&["check", "--agency", "IQ-MOI", "--post", "BGW-AIRPORT", "--mrz", SHAMMARI_MRZ]);
    assert_eq!(str_of(&iraq["check"]["result"]["documents"][0]["status"]), "stolen-blank");

    // The printed check and its receipt verify; edited, they do not.
    let file = node.dir.path().join("check.json");
    std::fs::write(&file, serde_json::to_string_pretty(&czech).unwrap()).unwrap();
    let file = file.to_str().unwrap();
    assert!(node.ok(&["receipt", "verify", file]).contains("holds"));
    let mut edited = czech.clone();
    edited["check"]["result"]["persons"] = serde_json::json!([]);
    let edited_file = node.dir.path().join("edited.json");
    std::fs::write(&edited_file, edited.to_string()).unwrap();
    let output = node.run(&["receipt", "verify", edited_file.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("the result is not what the receipt was signed over"));
    let foreign = "0".repeat(64);
    assert!(!node.run(&["receipt", "verify", file, "--public-key", &foreign]).status.success());

    // In words, for the officer.
    let text = node.ok(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", SHAMMARI_MRZ]);
    assert!(text.contains("MRZ TD3: every check digit valid"), "{text}");
    assert!(text.contains("WARNING: armed") && text.contains("QUESTION"), "{text}");

    // Every check is in the audit log.
    let entries = node.json(&["audit", "list", "--limit", "1000"]);
    let checks = entries.as_array().unwrap().iter().filter(|e| e["operation"] == "check").count();
    assert_eq!(checks, 3);
}

#[test]
fn bad_checks_get_a_clear_error() {
    let node = Node::new();
    node.partners();
    let cases: &[(&[&str], &str)] = &[
        (&["check", "--agency", "IQ-MOI", "--post", "P", "--mrz", "P<IRQ"], "MRZ: an MRZ has 3 lines"),
        (&["check", "--agency", "IQ-MOI", "--post", "P"], "needs something to search"),
        (&["check", "--agency", "IQ-MOI", "--post", "P", "--name", "x", "--nationality", "XYZ"], "alpha-3"),
        (&["check", "--agency", "IQ-MOI", "--post", "P", "--name", "x", "--birth-date", "85"], "date"),
        (&["check", "--agency", "XX-NONE", "--post", "P", "--name", "x"], "agency XX-NONE not found"),
        (&["check", "--agency", "IQ-MOI", "--name", "x"], "--post"),
        (&["receipt", "verify", "/nonexistent.json"], "read /nonexistent.json"),
    ];
    for (args, expected) in cases {
        let error = node.fails(args);
        assert!(error.contains(expected) && !error.contains("panicked"), "{args:?}: {error}");
    }
    let not_json = node.dir.path().join("receipt.txt");
    std::fs::write(&not_json, "hello").unwrap();
    assert!(node.fails(&["receipt", "verify", not_json.to_str().unwrap()]).contains("is not JSON"));
}

#[test]
fn a_confirmed_hit_reaches_the_owners_inbox() {
    let node = Node::new();
    node.partners();
    node.shammari();
    let check = node.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", SHAMMARI_MRZ]);
    let hit = str_of(&check["check"]["result"]["persons"][0]["hit_id"]).to_string();
    assert!(node.fails(&["hits", "confirm", &hit, "--agency", "IQ-MOI", "--action-taken", "x"]).contains("not found"));
    assert!(
        node.ok(&["hits", "confirm", &hit, "--agency", "CZ-MV", "--action-taken", "detained"])
            .contains("IQ-MOI is notified")
    );
    assert!(node.fails(&["hits", "reject", &hit, "--agency", "CZ-MV"]).contains("already exists"));

    let inbox = node.ok(&["hits", "inbox", "--agency", "IQ-MOI"]);
    assert!(
        inbox.contains("[NEW]") && inbox.contains("ABDULAMEER HASSAN ALSHAMMARI") && inbox.contains("detained"),
        "{inbox}"
    );
    let notes = node.json(&["hits", "inbox", "--agency", "IQ-MOI"]);
    let id = str_of(&notes[0]["id"]).to_string();
    assert!(node.fails(&["hits", "ack", &id, "--agency", "CZ-MV"]).contains("not found"));
    node.ok(&["hits", "ack", &id, "--agency", "IQ-MOI"]);
    assert!(node.ok(&["hits", "inbox", "--agency", "IQ-MOI"]).contains("no new notification"));
    assert_eq!(node.json(&["hits", "inbox", "--agency", "IQ-MOI", "--all"]).as_array().unwrap().len(), 1);

    let again = node.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--mrz", SHAMMARI_MRZ]);
    let hit = str_of(&again["check"]["result"]["persons"][0]["hit_id"]).to_string();
    node.ok(&["hits", "reject", &hit, "--agency", "CZ-MV", "--remarks", "another man"]);
    let counts = node.json(&["hits", "false-positives", "--agency", "IQ-MOI"]);
    assert_eq!(counts[0]["false_positives"], 1);
    assert!(
        node.fails(&["hits", "confirm", "nope", "--agency", "CZ-MV", "--action-taken", "x"]).contains("not a hit id")
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let node = Node::new();
    node.ok(&["demo"]);
    // The reader closes its end before the command writes (`tabadul ... | head -0`); the
    // output (some 200 alerts) is more than a pipe holds.
    let mut child = node
        .command(&["alert", "list", "--agency", "IQ-MOI", "--limit", "1000", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && !stderr.contains("panicked"), "{stderr}");
}

/// A free port on the loopback interface.
#[test]
fn serve_demo_answers_checks_over_http_and_stops_on_sigterm() {
    let node = Node::new();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = node
        .command(&["serve", "--demo", "--alerts-per-agency", "50", "--listen", &listen])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(http(port, "GET", "/health", None, None).0, 200);
    let login = r#"{"user": "officer@cz-mv", "password": "tabadul-demo-2026"}"#;
    let (status, body) = http(port, "POST", "/api/v1/sessions", None, Some(login));
    assert_eq!(status, 201, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = session["token"].as_str().unwrap();
    let check = format!(r#"{{"post": "PRG-AIRPORT", "mrz": "{}"}}"#, SHAMMARI_MRZ.replace('\n', "\\n"));
    let (status, body) = http(port, "POST", "/api/v1/checks", Some(token), Some(&check));
    assert_eq!(status, 200, "{body}");
    let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["check"]["traveller"]["names"][0], "ABDULAMEER HASSAN ALSHAMMARI");
    assert_eq!(http(port, "GET", "/api/v1/alerts", Some(token), None).0, 403);

    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    let output = server.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("officer@cz-mv") && stdout.contains("tabadul-demo-2026"), "{stdout}");
}

#[test]
fn the_first_users_of_a_node_are_made_on_the_command_line() {
    use std::io::Write;
    let node = Node::new();
    node.partners();
    let add = |args: &[&str], password: &str| {
        let mut child = node
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let made =
        add(&["user", "add", "root@iq", "--agency", "IQ-MOI", "--role", "administrator"], "a long enough password");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let short = add(&["user", "add", "x@iq", "--agency", "IQ-MOI", "--role", "officer"], "short");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let bad_role = add(&["user", "add", "y@iq", "--agency", "IQ-MOI", "--role", "boss"], "a long enough password");
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("not a known role"));
    let users = node.json(&["user", "list", "--agency", "IQ-MOI"]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["roles"][0], "administrator");
}

#[test]
fn a_passenger_manifest_is_screened_before_the_flight_lands() {
    let node = Node::new();
    node.partners();
    let alert = ["alert", "add", "--agency", "IQ-MOI", "--category", "suspected-smuggler", "--name", "علي حسن الشمري"];
    node.ok(&[&alert[..], &["--birth-date", "1988-03-15", "--nationality", "IQ"]].concat());
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tabadul-edifact/tests/data/iraqi-airways-bgw-prg.edi");
    let manifest = manifest.to_str().unwrap();
    let text = node.ok(&["screen", manifest, "--agency", "CZ-MV"]);
    assert!(text.contains("3 travellers, 3 screened, 1 with hits"), "{text}");
    assert!(text.contains("QUESTION ALI HASSAN ALSHAMMARI"), "{text}");
    let table = node.ok(&["screen", manifest, "--agency", "CZ-MV", "--csv"]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[1].starts_with("IA231,ALI HASSAN ALSHAMMARI,1988-03-15,IRQ,P12345671,question,"), "{table}");
    let reports = node.json(&["screen", manifest, "--agency", "CZ-MV"]);
    assert_eq!(reports[0]["hits"][0]["persons"][0]["level"], "full");
    // The GTAS message with a wrong count and text after its end is screened, its quirks noted.
    let gtas = shared_or_local("../../../shared/data/edifact/paxlst/gtas-loader-apis-multiple_flight_leg_apis.txt");
    let text = node.ok(&["screen", gtas.to_str().unwrap(), "--agency", "CZ-MV"]);
    assert!(text.contains("2 travellers, 2 screened") && text.contains("after UNZ"), "{text}");
    assert!(node.fails(&["screen", "/nonexistent.edi", "--agency", "CZ-MV"]).contains("read /nonexistent.edi"));
}

#[test]
fn the_carrier_is_told_whom_to_board_in_a_cusres_answer() {
    let node = Node::new();
    node.partners();
    // The third traveller's passport is reported stolen; the second may be a wanted woman.
    node.stolen_document("N0498812", "JOR", "stolen-from-holder");
    let wanted =
        ["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "فاطمة خالد العبيدي"];
    node.ok(&[&wanted[..], &["--birth-date", "1992-07-04", "--nationality", "IQ"]].concat());
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tabadul-edifact/tests/data/iraqi-airways-bgw-prg.edi");
    let answer = node.ok(&["screen", manifest.to_str().unwrap(), "--agency", "IQ-MOI", "--cusres"]);
    assert!(answer.starts_with("UNA:+.?*'\nUNB+UNOC:4+CZAPI:ZZ+IA:ZZ+"), "{answer}");
    assert!(answer.contains("UNH+IA0231+CUSRES:D:05B:UN:IATA+IA0231/261129/0900+01:F'"), "{answer}");
    let codes: Vec<&str> = answer.lines().filter_map(|l| l.strip_prefix("ERC+")).collect();
    assert_eq!(codes, ["0Z'", "2Z'", "1Z'"], "{answer}");
    // The carrier learns the directive, never why; without its passenger reference (a booking's
    // is shared by all booked together) each traveller is named.
    assert!(
        answer
            .contains("RFF+AVF:X7Q2LM'\nERC+2Z'\nFTX+AAP+++CONTACT GOVERNMENT BEFORE BOARDING ALOBAIDI/FATIMA KHALID'"),
        "{answer}"
    );
    assert!(!answer.to_lowercase().contains("stolen") && !answer.to_lowercase().contains("wanted"), "{answer}");
    // The report says the same, traveller by traveller.
    let reports = node.json(&["screen", manifest.to_str().unwrap(), "--agency", "IQ-MOI"]);
    let told: Vec<&str> =
        reports[0]["boarding"].as_array().unwrap().iter().map(|b| b["directive"].as_str().unwrap()).collect();
    assert_eq!(told, ["board", "contact_government", "no_board"]);
    assert_eq!(reports[0]["boarding"][2]["reservation"], "P0K9JD");
    assert!(
        node.fails(&["screen", manifest.to_str().unwrap(), "--agency", "IQ-MOI", "--cusres", "--csv"])
            .contains("cannot be used with")
    );
    // An interactive carrier: a crew list and a passenger list answered in one interchange, each
    // passenger quoted by the carrier's own reference; the passport is screened, not the visa
    // listed before it.
    node.stolen_document("A19876543", "IRQ", "lost");
    let smartwings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tabadul-edifact/tests/data/smartwings-ebl-prg.edi");
    let answer = node.ok(&["screen", smartwings.to_str().unwrap(), "--agency", "IQ-MOI", "--cusres"]);
    assert_eq!(answer.matches("UNH+").count(), 2, "{answer}");
    assert!(answer.contains("RFF+AVF:K4MZ2P'\nRFF+ABO:0013PX01'\nERC+1Z'\nFTX+AAP+++NO BOARD'"), "{answer}");
    assert!(answer.contains("RFF+ABO:0013PX02'\nERC+0Z'\nFTX+AAP+++OK TO BOARD'"), "{answer}");
    assert!(answer.contains("ERC+0Z'\nFTX+AAP+++OK TO BOARD NOVAKOVA/PETRA'"), "{answer}");
}
