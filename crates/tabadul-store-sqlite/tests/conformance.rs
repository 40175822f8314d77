//! The SQLite store passes the store conformance suite, each test on a fresh file.

use tabadul_store_sqlite::SqliteStore;

struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TempStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

fn fresh() -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("tabadul.db")).expect("open store");
    TempStore { store, _dir: dir }
}

tabadul_store::conformance_suite!(fresh());
