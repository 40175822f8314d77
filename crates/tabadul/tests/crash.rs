//! Crash safety: a node killed (SIGKILL) in the middle of a large import keeps every alert it
//! acknowledged, and its store opens cleanly afterwards with an intact audit chain, on SQLite
//! and on PostgreSQL alike.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use tabadul_domain::AgencyCode;
use tabadul_store::Store;
use tabadul_store_postgres::PgStore;
use tabadul_store_postgres::throwaway::Cluster;
use tabadul_store_sqlite::SqliteStore;

const PERSONS: usize = 100_000;

fn tabadul(dir: &std::path::Path, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tabadul"));
    command.current_dir(dir).env("TABADUL_DB", db).env_remove("TABADUL_CONFIG");
    command
}

/// Writes a FollowTheMoney file of `PERSONS` persons, a passport after every tenth; returns the
/// line number of each person's entity id.
fn write_entities(path: &std::path::Path) -> Vec<(u64, String)> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut persons = Vec::with_capacity(PERSONS);
    let mut line = 0;
    for i in 0..PERSONS {
        let id = format!("crash-{i}");
        writeln!(
            file,
            r#"{{"id":"{id}","schema":"Person","properties":{{"name":["Person {i} al-Test","شخص {i}"],"birthDate":["{}"],"nationality":["iq"]}}}}"#,
            1950 + i % 50
        )
        .unwrap();
        line += 1;
        persons.push((line, id.clone()));
        if i % 10 == 0 {
            writeln!(file, r#"{{"id":"pass-{i}","schema":"Passport","properties":{{"holder":["{id}"],"number":["P{i:07}"],"country":["iq"]}}}}"#).unwrap();
            line += 1;
        }
    }
    file.flush().unwrap();
    persons
}

#[test]
fn a_killed_import_keeps_every_acknowledged_alert_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tabadul.db");
    let verify_store = |db: &str| {
        let store = SqliteStore::open_existing(db).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
        Box::new(store) as Box<dyn Store>
    };
    a_killed_import_keeps_every_acknowledged_alert(dir.path(), db.to_str().unwrap(), verify_store);
}

#[test]
fn a_killed_import_keeps_every_acknowledged_alert_in_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start().expect("start a throw-away PostgreSQL cluster");
    let url = cluster.create_database().unwrap();
    let verify_store = |url: &str| Box::new(PgStore::connect(url).unwrap()) as Box<dyn Store>;
    a_killed_import_keeps_every_acknowledged_alert(dir.path(), &url, verify_store);
}

fn a_killed_import_keeps_every_acknowledged_alert(
    dir: &std::path::Path,
    db: &str,
    reopen: impl Fn(&str) -> Box<dyn Store>,
) {
    let file = dir.join("big.ftm.jsonl");
    let persons = write_entities(&file);
    let setup = |args: &[&str]| assert!(tabadul(dir, db).args(args).status().unwrap().success(), "{args:?}");
    setup(&["init"]);
    setup(&["agency", "add", "IQ-MOI", "--country", "IQ", "--name", "Ministry of Interior"]);

    let mut child = tabadul(dir, db)
        .args(["import", file.to_str().unwrap(), "--agency", "IQ-MOI", "--category", "wanted-for-arrest"])
        .args(["--progress", "lines", "--batch-size", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut acknowledged = (0u64, 0u64);
    let mut batches = 0;
    for line in stderr.lines() {
        let line = line.unwrap();
        // "committed N alerts through line L"
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["committed", count, "alerts", "through", "line", through] = words[..] {
            acknowledged = (count.parse().unwrap(), through.parse().unwrap());
            batches += 1;
            if batches == 5 {
                child.kill().unwrap(); // SIGKILL: no destructor, no rollback, no flush
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the import finished before it was killed: make the file larger");
    let (count, through_line) = acknowledged;
    assert!(count >= 2000, "{acknowledged:?}");

    let store = reopen(db);
    assert!(store.alert_count().unwrap() >= count);
    let owner = AgencyCode::new("IQ-MOI").unwrap();
    let mut checked = 0;
    for (line, id) in persons.iter().take_while(|(line, _)| *line <= through_line) {
        let stored = store.alert_by_source(&owner, id).unwrap();
        assert!(stored.is_some(), "acknowledged person {id} of line {line} is missing");
        checked += 1;
    }
    assert_eq!(checked as u64, count);
    drop(store);

    let verify = tabadul(dir, db).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
