//! The PostgreSQL store passes the store conformance suite, each test in a fresh database of
//! one throw-away cluster that this test process starts (and that goes when it ends).

use std::sync::OnceLock;

use tabadul_store::{Store, StoreError};
use tabadul_store_postgres::throwaway::Cluster;
use tabadul_store_postgres::{PG_SCHEMA_VERSION, PgStore};

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start().expect("start a throw-away PostgreSQL cluster"))
}

fn fresh() -> PgStore {
    let url = cluster().create_database().expect("create a database");
    PgStore::connect(&url).expect("connect to the new database")
}

tabadul_store::conformance_suite!(Box::new(fresh()));

#[test]
fn connecting_again_keeps_everything_and_migrates_once() {
    let url = cluster().create_database().unwrap();
    let store = PgStore::connect(&url).unwrap();
    assert_eq!(store.schema_version().unwrap(), PG_SCHEMA_VERSION);
    let alert = tabadul_store::conformance::person_alert(1, "IQ-MOI", "محمد");
    store
        .write_alerts(&[tabadul_store::AlertWrite::Create(alert.clone())], 5, tabadul_store::conformance::audit("x"))
        .unwrap();
    drop(store);
    let store = PgStore::connect(&url).unwrap();
    assert_eq!(store.alert(tabadul_domain::AlertId(1)).unwrap().unwrap().alert, alert);
    assert_eq!(store.audit_entries(0, 10).unwrap().len(), 1);
    assert!(store.size_on_disk().unwrap() > 1_000_000);
}

/// Runs `batch` on the database at `url` as it is, beside the store.
fn sql(url: &str, batch: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        let connection = tokio::spawn(connection);
        client.batch_execute(batch).await.unwrap();
        drop(client);
        connection.await.unwrap().unwrap();
    });
}

#[test]
fn a_store_before_its_checks_table_keeps_each_check_once_for_its_hits() {
    let url = cluster().create_database().unwrap();
    drop(PgStore::connect(&url).unwrap());
    // Hits as the schema before wrote them: each row with its check's officer, post, time and
    // traveller.
    let hits = tabadul_store::conformance::hits_of_two_checks();
    let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let bytes = |id: u128| format!("'\\x{id:032x}'::bytea");
    let rows: Vec<String> = hits
        .iter()
        .map(|hit| {
            let outcome = hit.outcome.as_ref().map_or("NULL".into(), |o| quoted(o.kind.as_str()));
            let body = quoted(&tabadul_store::codec::json(hit).unwrap());
            format!(
                "({}, {}, {}, {outcome}, {body})",
                bytes(hit.id.0),
                bytes(hit.alert_id.0),
                quoted(hit.owner.as_str())
            )
        })
        .collect();
    sql(
        &url,
        &format!(
            "DROP TABLE checks; ALTER TABLE hits DROP COLUMN check_id; UPDATE tabadul_schema SET version = {};
             INSERT INTO hits (id, alert_id, owner, outcome, body) VALUES {};",
            PG_SCHEMA_VERSION - 1,
            rows.join(", ")
        ),
    );
    let store = PgStore::connect(&url).unwrap();
    assert_eq!(store.schema_version().unwrap(), PG_SCHEMA_VERSION);
    tabadul_store::conformance::holds_exactly_these_hits(&store, &hits);
}

#[test]
fn bad_urls_and_unreachable_servers_are_clear_errors() {
    let error = PgStore::connect("postgres://[not a host").unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error}");
    // A port nothing listens on: refused at once, named in the message.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error = PgStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/none")).unwrap_err();
    assert!(error.to_string().contains(&port.to_string()), "{error}");
}

#[test]
fn many_threads_write_and_the_chain_stays_one() {
    let store = std::sync::Arc::new(fresh());
    let threads: Vec<_> = (0..8u128)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..20u128 {
                    let alert = tabadul_store::conformance::person_alert(1000 * (t + 1) + i, "IQ-MOI", "Ali");
                    let write = tabadul_store::AlertWrite::Create(alert);
                    store.write_alerts(&[write], 5, tabadul_store::conformance::audit("alert.create")).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let entries = store.audit_entries(0, 1000).unwrap();
    assert_eq!(entries.len(), 160);
    let mut verifier = tabadul_audit::ChainVerifier::default();
    for entry in &entries {
        verifier.push(entry).unwrap();
    }
    let changes = store.changes(&tabadul_store::conformance::code("IQ-MOI"), 0, 1000).unwrap();
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=160).collect::<Vec<_>>());
}
