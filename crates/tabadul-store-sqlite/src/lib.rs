//! The SQLite store: a node's agencies, agreements, alerts, change log and audit log in one
//! file (the embedded default).
//!
//! One connection behind a mutex: SQLite has one writer at a time anyway, and every call is
//! short. The file runs in WAL mode with `synchronous = FULL`, so a write acknowledged by a
//! returned call survives a crash of the process or of the machine. The log is copied into the
//! file (checkpointed) by a thread of its own, not by the commit that fills it. Writes take the lock at
//! the start of their transaction (`BEGIN IMMEDIATE`), so several processes on one file
//! serialise instead of failing half-way.
//!
//! Layout (schema version in `PRAGMA user_version`, migrated on open):
//! - `alerts`: one row per live alert; the id as 16 big-endian bytes so that byte order is
//!   numeric order; the alert itself as JSON in `body`; owner, category and source id as
//!   columns for filtering and the per-owner unique source index.
//! - `owner_seq`: the last sequence number given to each owner agency.
//! - `changes`: the change log, keyed by (owner, seq).
//! - `audit`: the audit chain, keyed by seq.
//! - `hits`: what checks found, with the officer's outcome (schema 2); `notifications`: the
//!   confirmed hits told to their owners, with the owner's acknowledgement.
//! - `users` (with the argon2id hash of their password) and `tokens` (only the SHA-256 of
//!   each token) (schema 3).
//! - `federation`: the node's federation state, one document (schema 4).
//! - `checks`: what a check's hits share (who checked, where, when, the traveller), one row per
//!   check with hits, keyed by the check's id; each `hits` row keeps its check's id and only
//!   its own fields (level, score, action, outcome) (schema 6).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tabadul_audit::{AuditDraft, AuditEntry, Hash};
use tabadul_domain::{Agency, AgencyCode, Agreement, AgreementId, AlertId, HitId, Link, NotificationId};
use tabadul_store::codec::{agency_code, count, id_bytes, id_from, json, json_in, parse, record_key, signed};
use tabadul_store::{
    Acknowledgement, AlertFilter, AlertWrite, Change, ChangeOp, HitRecord, Notification, Outcome, OutcomeKind, Record,
    RecordKind, Result, SCHEMA_VERSION, Store, StoreError, StoredAlert, StoredCheck, StoredUser, TokenRecord,
    check_batch, check_checks, check_differs, check_loaded, check_outcome, check_restore, check_sources, plan_write,
    with_consent, with_revocation,
};

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE agreements (
    id BLOB PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE alerts (
    id BLOB PRIMARY KEY,
    owner TEXT NOT NULL,
    category TEXT NOT NULL,
    source_id TEXT,
    version INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    created_at_unix_us INTEGER NOT NULL,
    updated_at_unix_us INTEGER NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX alerts_by_source ON alerts (owner, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX alerts_by_owner ON alerts (owner, id);
CREATE INDEX alerts_by_category ON alerts (category, id);
CREATE TABLE owner_seq (
    owner TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE changes (
    owner TEXT NOT NULL,
    seq INTEGER NOT NULL,
    alert_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL,
    at_unix_us INTEGER NOT NULL,
    body TEXT,
    PRIMARY KEY (owner, seq)
) WITHOUT ROWID;
CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    lo BLOB NOT NULL,
    hi BLOB NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (lo, hi, kind)
);
CREATE INDEX links_by_hi ON links (hi);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at_unix_us INTEGER NOT NULL,
    user TEXT NOT NULL,
    agency TEXT,
    operation TEXT NOT NULL,
    targets TEXT NOT NULL,
    details TEXT NOT NULL,
    result_count INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE hits (
    id BLOB PRIMARY KEY,
    alert_id BLOB NOT NULL,
    owner TEXT NOT NULL,
    outcome TEXT,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX hits_by_owner_outcome ON hits (owner, outcome, alert_id);
CREATE TABLE notifications (
    id BLOB PRIMARY KEY,
    owner TEXT NOT NULL,
    acknowledged INTEGER NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX notifications_by_owner ON notifications (owner, acknowledged, id);
"#,
    r#"
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_by_agency ON users (agency, name);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_user ON tokens (user);
"#,
    r#"
CREATE TABLE federation (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
"#,
    // Only hits with an outcome are looked up by owner and outcome (false positives per
    // alert); the many a check records without one no longer each update the index.
    r#"
DROP INDEX hits_by_owner_outcome;
CREATE INDEX hits_by_owner_outcome ON hits (owner, outcome, alert_id) WHERE outcome IS NOT NULL;
"#,
    // What a check's hits share (who checked, where, when, whom) kept once per check, not in
    // each hit's row: the hits a manifest records shrink from ~440 bytes a row to ~120. Hits
    // of one check that differ there (restored so by hand) fail the move, which changes
    // nothing then, rather than one of them standing for all.
    r#"
CREATE TABLE checks (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO checks (id, body)
    SELECT DISTINCT body ->> '$.check_id', json_object(
        'agency', body ->> '$.agency', 'user', body ->> '$.user', 'post', body ->> '$.post',
        'at_unix_us', body ->> '$.at_unix_us', 'traveller', json(body -> '$.traveller'))
    FROM hits;
ALTER TABLE hits ADD COLUMN check_id TEXT NOT NULL DEFAULT '';
UPDATE hits SET check_id = body ->> '$.check_id',
    body = json_remove(body, '$.id', '$.check_id', '$.alert_id', '$.owner', '$.agency', '$.user', '$.post',
        '$.at_unix_us', '$.traveller');
"#,
];

/// A store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// The one connection that writes (and runs transactions).
    connection: Mutex<Connection>,
    /// Connections that only read, taken and given back: in WAL mode they read the last
    /// committed state while the writer writes, so a check's reads never wait for another
    /// check's commit (its fsync).
    readers: Mutex<Vec<Connection>>,
    /// Copies the write-ahead log into the file in the background.
    checkpointer: Checkpointer,
}

/// Pages of write-ahead log after which the background checkpointer copies it into the file
/// (SQLite's own automatic checkpoint starts at as many, in the commit that reaches them).
const CHECKPOINT_PAGES: i32 = 1000;
/// Pages after which the writer copies the log itself, should the checkpointer fall behind (a
/// machine busy for long: it runs at the lowest priority); the log stays under ~32 MiB.
const CHECKPOINT_PAGES_WRITER: i32 = 8 * CHECKPOINT_PAGES;

/// A thread with its own connection that copies the write-ahead log into the database file
/// (a checkpoint: thousands of pages written and synced) when the writer's commits have grown
/// it past [`CHECKPOINT_PAGES`]. The commit that grew it returns at once instead of doing the
/// copy itself: at the border, the check whose commit falls there no longer waits tens of
/// milliseconds (more on a slow disk) for it. It runs at the lowest priority, between checks.
#[derive(Debug)]
struct Checkpointer {
    /// Stops when the writer's hook, which holds the only sender that wakes it, is dropped.
    thread: Option<std::thread::JoinHandle<()>>,
    /// Checkpoints the thread has run, for tests and diagnostics.
    done: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Checkpointer {
    /// Starts the thread on the file at `path`, and hooks `writer`'s commits to it.
    fn start(path: &Path, writer: &mut Connection) -> Result<Checkpointer> {
        let connection = connect(path, "")?;
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = done.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Behind every check and manifest on the processor: the log waits meanwhile.
                #[cfg(target_os = "linux")]
                let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19);
                while woken.recv().is_ok() {
                    // PASSIVE: copies what no reader still needs, never waits for a reader or
                    // the writer. What fails or is busy is left to the next wake-up, or to the
                    // writer; a checkpoint that copied frames is counted.
                    let copied = connection
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                            Ok(row.get::<_, i64>(0)? == 0 && row.get::<_, i64>(2)? > 0)
                        })
                        .unwrap_or(false);
                    if copied {
                        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("start the checkpoint thread: {e}")))?;
        // Replaces SQLite's automatic checkpoint, which is this same hook. A wake-up already
        // pending is enough.
        writer
            .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
                if pages >= CHECKPOINT_PAGES_WRITER {
                    // As SQLite's own hook: the commit is done whatever this does (a
                    // checkpoint busy with the thread's is tried again at the next commit).
                    let _ = wal.checkpoint();
                } else if pages >= CHECKPOINT_PAGES {
                    let _ = wake.try_send(());
                }
                Ok(())
            }))
            .map_err(backend)?;
        Ok(Checkpointer { thread: Some(thread), done })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // The writer's hook holds the thread's only sender: unhooked, the thread's channel closes.
        let writer = self.connection.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writer.wal_hook(None::<fn(&mut rusqlite::hooks::Wal, std::ffi::c_int) -> rusqlite::Result<()>>);
        if let Some(thread) = self.checkpointer.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reading connections kept open, at most.
const READERS_MAX: usize = 8;
/// Each reading connection's page cache, in KiB (SQLite's default is 2 MiB): a check reads the
/// alerts it hits at random places of a file of hundreds of megabytes.
const READER_CACHE_KIB: u64 = 32 << 10;
/// The writer's page cache, in KiB (SQLite's default is 2 MiB): recording checks touches the
/// pages of the hits and the audit log again and again.
const WRITER_CACHE_KIB: u64 = 64 << 10;

/// A connection to the file at `path` with the settings every connection has, then `pragmas`.
fn connect(path: &Path, pragmas: &str) -> Result<Connection> {
    let connection =
        Connection::open(path).map_err(|e| StoreError::Backend(format!("open {}: {e}", path.display())))?;
    // Every statement is prepared once and kept: checks write the same few again and again.
    connection.set_prepared_statement_cache_capacity(64);
    connection.execute_batch(pragmas).map_err(backend)?;
    connection.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
    Ok(connection)
}

fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut connection = connect(
            &path,
            &format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                 PRAGMA cache_size = -{WRITER_CACHE_KIB};"
            ),
        )?;
        let checkpointer = Checkpointer::start(&path, &mut connection)?;
        let store =
            SqliteStore { path, connection: Mutex::new(connection), readers: Mutex::new(Vec::new()), checkpointer };
        store.migrate()?;
        Ok(store)
    }

    /// Checkpoints the background thread has run (that copied frames) since the store was
    /// opened.
    pub fn background_checkpoints(&self) -> u64 {
        self.checkpointer.done.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Opens an existing store (migrating it to this build's schema, as [`SqliteStore::open`]),
    /// without creating one.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(StoreError::NotFound(format!("store file {}", path.display())));
        }
        SqliteStore::open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<u32> {
        self.with(|c| {
            c.prepare_cached("PRAGMA user_version").map_err(backend)?.query_row([], |row| row.get(0)).map_err(backend)
        })
    }

    /// Runs SQLite's own consistency check; `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.with(|c| {
            c.prepare_cached("PRAGMA integrity_check")
                .map_err(backend)?
                .query_row([], |row| row.get(0))
                .map_err(backend)
        })
    }

    fn migrate(&self) -> Result<()> {
        self.with(|c| {
            let found: u32 = c
                .prepare_cached("PRAGMA user_version")
                .map_err(backend)?
                .query_row([], |row| row.get(0))
                .map_err(backend)?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
            }
            debug_assert_eq!(MIGRATIONS.len(), SCHEMA_VERSION as usize);
            for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
                tx.execute_batch(migration)
                    .map_err(|e| StoreError::Backend(format!("moving the store to schema {}: {e}", index + 1)))?;
                tx.pragma_update(None, "user_version", index as u32 + 1).map_err(backend)?;
                tx.commit().map_err(backend)?;
            }
            Ok(())
        })
    }

    /// Runs a read on a reading connection (opened when none is free).
    fn read<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let free = self.readers.lock().map_err(|_| StoreError::Backend("lock poisoned".into()))?.pop();
        let mut connection = match free {
            Some(connection) => connection,
            None => connect(
                &self.path,
                &format!("PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA cache_size = -{READER_CACHE_KIB};"),
            )?,
        };
        let value = f(&mut connection);
        let mut readers = self.readers.lock().map_err(|_| StoreError::Backend("lock poisoned".into()))?;
        if readers.len() < READERS_MAX {
            readers.push(connection);
        }
        value
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().map_err(|_| StoreError::Backend("lock poisoned".into()))?;
        f(&mut connection)
    }

    /// Replaces an agreement by what `change` makes of it, with its audit entry.
    fn change_agreement(
        &self,
        id: AgreementId,
        audit: AuditDraft,
        change: impl FnOnce(Agreement) -> Result<Agreement>,
    ) -> Result<Agreement> {
        self.transaction(|tx| {
            let agreement = load_body(tx, "agreements", "agreement", id.0)?
                .ok_or_else(|| StoreError::NotFound(format!("agreement {id}")))?;
            let agreement = change(agreement)?;
            tx.prepare_cached("UPDATE agreements SET body = ?2 WHERE id = ?1")
                .map_err(backend)?
                .execute(params![id_bytes(id.0), json(&agreement)?])
                .map_err(backend)?;
            append_audit(tx, audit)?;
            Ok(agreement)
        })
    }

    /// Runs `f` in one immediate transaction, committed only if `f` succeeds.
    fn transaction<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let value = f(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
    }
}

/// What a hit is read from: its row, and its check's body.
const HIT_SELECT: &str =
    "SELECT h.id, h.check_id, h.alert_id, h.owner, h.body, c.body FROM hits h LEFT JOIN checks c ON c.id = h.check_id";

/// A row of [`HIT_SELECT`] (its check's body missing were the store damaged).
type HitRow = (Vec<u8>, String, Vec<u8>, String, String, Option<String>);

fn hit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HitRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn hit_from((id, check_id, alert_id, owner, hit, check): HitRow) -> Result<HitRecord> {
    let check = check.ok_or_else(|| StoreError::Corrupt(format!("hit's check {check_id} is missing")))?;
    let key = (HitId(id_from(&id)?), check_id, AlertId(id_from(&alert_id)?), agency_code(&owner)?);
    Ok(HitRecord::from_stored(key, parse("hit", &hit)?, parse("check", &check)?))
}

fn load_hit(c: &Connection, id: HitId) -> Result<Option<HitRecord>> {
    let row = c
        .prepare_cached(&format!("{HIT_SELECT} WHERE h.id = ?1"))
        .map_err(backend)?
        .query_row([id_bytes(id.0)], hit_row)
        .optional()
        .map_err(backend)?;
    row.map(hit_from).transpose()
}

/// The statements that write hits, prepared once for a batch: a manifest writes thousands of
/// hits, and taking a statement from SQLite's cache by its text hashes and copies that text.
struct HitWriter<'c> {
    insert_check: rusqlite::CachedStatement<'c>,
    select_check: rusqlite::CachedStatement<'c>,
    insert_hit: rusqlite::CachedStatement<'c>,
    /// Each row's JSON body is written here.
    body: Vec<u8>,
}

impl<'c> HitWriter<'c> {
    fn new(c: &'c Connection) -> Result<HitWriter<'c>> {
        Ok(HitWriter {
            insert_check: c
                .prepare_cached("INSERT INTO checks (id, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
                .map_err(backend)?,
            select_check: c.prepare_cached("SELECT body FROM checks WHERE id = ?1").map_err(backend)?,
            insert_hit: c
                .prepare_cached(
                    "INSERT INTO hits (id, check_id, alert_id, owner, outcome, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT DO NOTHING",
                )
                .map_err(backend)?,
            body: Vec::new(),
        })
    }

    /// Writes a hit's row, and its check's unless `previous` (the hit written just before it)
    /// is of the same check or the store holds the check already, the same. A hit that exists
    /// is refused, and so is one whose check differs from the one stored.
    fn insert(&mut self, hit: &HitRecord, previous: Option<&HitRecord>) -> Result<()> {
        // Hits of one check written one after the other share it (`check_checks` held them alike).
        if previous.is_none_or(|p| p.check_id != hit.check_id) {
            let check = hit.stored_check();
            let inserted =
                self.insert_check.execute(params![hit.check_id, json_in(&mut self.body, &check)?]).map_err(backend)?;
            if inserted == 0 {
                let kept: String = self.select_check.query_row([&hit.check_id], |row| row.get(0)).map_err(backend)?;
                if parse::<StoredCheck>("check", &kept)? != check {
                    return Err(check_differs(hit));
                }
            }
        }
        let inserted = self
            .insert_hit
            .execute(params![
                id_bytes(hit.id.0),
                hit.check_id,
                id_bytes(hit.alert_id.0),
                hit.owner.as_str(),
                hit.outcome.as_ref().map(|o| o.kind.as_str()),
                json_in(&mut self.body, &hit.stored_hit())?
            ])
            .map_err(backend)?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists(format!("hit {}", hit.id)));
        }
        Ok(())
    }
}

/// The record of `table` (one whose row is an id and a JSON body) with this id, if any.
fn load_body<T: serde::de::DeserializeOwned>(c: &Connection, table: &str, what: &str, id: u128) -> Result<Option<T>> {
    let body: Option<String> = c
        .prepare_cached(&format!("SELECT body FROM {table} WHERE id = ?1"))
        .map_err(backend)?
        .query_row([id_bytes(id)], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    body.map(|body| parse(what, &body)).transpose()
}

/// The audit table's columns, as a literal: read by the queries ([`AUDIT_COLUMNS`]) and
/// written in that order by [`INSERT_AUDIT`].
macro_rules! audit_columns {
    () => {
        "seq, at_unix_us, user, agency, operation, targets, details, result_count, prev_hash, hash"
    };
}

fn append_audit(tx: &Transaction<'_>, draft: AuditDraft) -> Result<AuditEntry> {
    let (seq, prev) = audit_next(tx)?;
    insert_audit(tx, seq, prev, draft)
}

/// The sequence number and the previous hash of the next audit entry.
fn audit_next(tx: &Transaction<'_>) -> Result<(u64, Hash)> {
    let head: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .map_err(backend)?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(backend)?;
    match head {
        None => Ok((1, Hash::GENESIS)),
        Some((seq, hash)) => {
            let prev = Hash::from_hex(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("audit entry {seq} has no valid hash")))?;
            Ok((count(seq, "audit seq")? + 1, prev))
        }
    }
}

/// Seals `draft` as entry `seq` after the entry hashed `prev`, and writes it.
fn insert_audit(tx: &Transaction<'_>, seq: u64, prev: Hash, draft: AuditDraft) -> Result<AuditEntry> {
    write_audit(&mut tx.prepare_cached(INSERT_AUDIT).map_err(backend)?, seq, prev, draft)
}

const INSERT_AUDIT: &str =
    concat!("INSERT INTO audit (", audit_columns!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");

/// [`insert_audit`] through a statement prepared once for a batch of entries.
fn write_audit(
    insert: &mut rusqlite::CachedStatement<'_>,
    seq: u64,
    prev: Hash,
    draft: AuditDraft,
) -> Result<AuditEntry> {
    let entry = AuditEntry::seal(seq, prev, draft);
    insert.execute(AuditColumns::of(&entry)?.params().as_slice()).map_err(backend)?;
    Ok(entry)
}

/// An audit entry as the columns of its row ([`AUDIT_COLUMNS`], in that order).
struct AuditColumns<'a> {
    seq: i64,
    entry: &'a AuditEntry,
    targets: String,
    result_count: i64,
    prev_hash: String,
    hash: String,
}

impl AuditColumns<'_> {
    fn of(entry: &AuditEntry) -> Result<AuditColumns<'_>> {
        Ok(AuditColumns {
            seq: signed(entry.seq, "audit seq")?,
            entry,
            targets: json(&entry.draft.targets)?,
            result_count: signed(entry.draft.result_count, "result count")?,
            prev_hash: entry.prev_hash.to_hex(),
            hash: entry.hash.to_hex(),
        })
    }

    fn params(&self) -> [&dyn rusqlite::ToSql; 10] {
        let draft = &self.entry.draft;
        [
            &self.seq,
            &draft.at_unix_us,
            &draft.user,
            &draft.agency,
            &draft.operation,
            &self.targets,
            &draft.details,
            &self.result_count,
            &self.prev_hash,
            &self.hash,
        ]
    }
}

type AuditRow = (i64, AuditDraft, String, String, String);

const AUDIT_COLUMNS: &str = audit_columns!();

fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok((
        row.get(0)?,
        AuditDraft {
            at_unix_us: row.get(1)?,
            user: row.get(2)?,
            agency: row.get(3)?,
            operation: row.get(4)?,
            targets: Vec::new(),
            details: row.get(6)?,
            result_count: row.get::<_, i64>(7)? as u64,
        },
        row.get(5)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

/// Loaded leniently: a field that was tampered into an unreadable form still loads, so that
/// verification names the entry instead of failing to read the log.
fn audit_entry((seq, mut draft, targets, prev_hash, hash): AuditRow) -> Result<AuditEntry> {
    draft.targets = serde_json::from_str(&targets).unwrap_or_else(|_| vec![targets]);
    Ok(AuditEntry {
        seq: count(seq, "audit seq")?,
        draft,
        prev_hash: Hash::from_hex(&prev_hash).unwrap_or_default(),
        hash: Hash::from_hex(&hash).unwrap_or_default(),
    })
}

type ChangeRow = (i64, Vec<u8>, i64, String, i64, Option<String>);

fn change_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn change_from(owner: AgencyCode, (seq, id, version, op, at, body): ChangeRow) -> Result<Change> {
    Ok(Change {
        owner,
        seq: count(seq, "seq")?,
        alert_id: AlertId(id_from(&id)?),
        version: count(version, "version")?,
        op: ChangeOp::parse(&op).ok_or_else(|| StoreError::Corrupt(format!("unknown change `{op}`")))?,
        at_unix_us: at,
        alert: body.map(|body| parse("change", &body)).transpose()?,
    })
}

const ALERT_COLUMNS: &str = "body, version, seq, created_at_unix_us, updated_at_unix_us";

fn alert_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, i64, i64, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

fn stored_alert((body, version, seq, created, updated): (String, i64, i64, i64, i64)) -> Result<StoredAlert> {
    check_loaded(StoredAlert {
        alert: parse("alert", &body)?,
        version: count(version, "version")?,
        seq: count(seq, "seq")?,
        created_at_unix_us: created,
        updated_at_unix_us: updated,
    })
}

fn load_alert(tx: &Connection, id: AlertId) -> Result<Option<StoredAlert>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1");
    let row =
        tx.prepare_cached(&sql).map_err(backend)?.query_row([id_bytes(id.0)], alert_row).optional().map_err(backend)?;
    row.map(stored_alert).transpose()
}

fn apply_write(tx: &Transaction<'_>, write: &AlertWrite, at_unix_us: i64) -> Result<Change> {
    let owner = write.owner().as_str();
    let last: Option<i64> = tx
        .prepare_cached("SELECT last_seq FROM owner_seq WHERE owner = ?1")
        .map_err(backend)?
        .query_row([owner], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    let seq = count(last.unwrap_or(0), "seq")? + 1;
    let current = load_alert(tx, write.id())?;
    let (change, next) = plan_write(write, current.as_ref(), seq, at_unix_us)?;
    let id = id_bytes(change.alert_id.0);
    match &next {
        Some(stored) => {
            let alert = &stored.alert;
            let result = tx.prepare_cached("INSERT INTO alerts (id, owner, category, source_id, version, seq, created_at_unix_us, updated_at_unix_us, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET category = excluded.category, source_id = excluded.source_id,
                   version = excluded.version, seq = excluded.seq, updated_at_unix_us = excluded.updated_at_unix_us,
                   body = excluded.body").map_err(backend)?.execute(params![
                    id,
                    owner,
                    alert.category.as_str(),
                    alert.source_id,
                    stored.version as i64,
                    stored.seq as i64,
                    stored.created_at_unix_us,
                    stored.updated_at_unix_us,
                    json(alert)?,
                ],
            );
            match result {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    let source = alert.source_id.as_deref().unwrap_or("");
                    return Err(StoreError::AlreadyExists(format!("an alert of {owner} from source {source}")));
                }
                other => other.map_err(backend)?,
            };
        }
        None => {
            tx.prepare_cached("DELETE FROM alerts WHERE id = ?1").map_err(backend)?.execute([id]).map_err(backend)?;
            tx.prepare_cached("DELETE FROM links WHERE lo = ?1 OR hi = ?1")
                .map_err(backend)?
                .execute([id])
                .map_err(backend)?;
        }
    }
    tx.prepare_cached(
        "INSERT INTO owner_seq (owner, last_seq) VALUES (?1, ?2)
         ON CONFLICT (owner) DO UPDATE SET last_seq = excluded.last_seq",
    )
    .map_err(backend)?
    .execute(params![owner, seq as i64])
    .map_err(backend)?;
    tx.prepare_cached(
        "INSERT INTO changes (owner, seq, alert_id, version, op, at_unix_us, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(backend)?
    .execute(params![
        owner,
        seq as i64,
        id,
        change.version as i64,
        change.op.as_str(),
        change.at_unix_us,
        change.alert.as_ref().map(json).transpose()?,
    ])
    .map_err(backend)?;
    Ok(change)
}

/// Visits every record of one kind, in key order.
fn export_kind(c: &Connection, kind: RecordKind, visit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
    fn each<T>(
        c: &Connection,
        sql: &str,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        mut record: impl FnMut(T) -> Result<Record>,
        visit: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        let mut statement = c.prepare(sql).map_err(backend)?;
        let rows = statement.query_map([], read).map_err(backend)?;
        for row in rows {
            visit(record(row.map_err(backend)?)?)?;
        }
        Ok(())
    }
    let text = |row: &rusqlite::Row<'_>| row.get::<_, String>(0);
    match kind {
        RecordKind::Agency => each(
            c,
            "SELECT body FROM agencies ORDER BY code",
            text,
            |b| Ok(Record::Agency(parse("agency", &b)?)),
            visit,
        ),
        RecordKind::Agreement => each(
            c,
            "SELECT body FROM agreements ORDER BY id",
            text,
            |b| Ok(Record::Agreement(parse("agreement", &b)?)),
            visit,
        ),
        RecordKind::User => {
            each(c, "SELECT body FROM users ORDER BY name", text, |b| Ok(Record::User(parse("user", &b)?)), visit)
        }
        RecordKind::Token => {
            each(c, "SELECT body FROM tokens ORDER BY hash", text, |b| Ok(Record::Token(parse("token", &b)?)), visit)
        }
        RecordKind::Alert => each(
            c,
            &format!("SELECT {ALERT_COLUMNS} FROM alerts ORDER BY id"),
            alert_row,
            |row| Ok(Record::Alert(stored_alert(row)?)),
            visit,
        ),
        RecordKind::Head => each(
            c,
            "SELECT owner, last_seq FROM owner_seq ORDER BY owner",
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
            |(owner, seq)| Ok(Record::Head { owner: agency_code(&owner)?, last_seq: count(seq, "seq")? }),
            visit,
        ),
        RecordKind::Change => each(
            c,
            "SELECT seq, alert_id, version, op, at_unix_us, body, owner FROM changes ORDER BY owner, seq",
            |row| Ok((change_row(row)?, row.get::<_, String>(6)?)),
            |(row, owner)| Ok(Record::Change(change_from(agency_code(&owner)?, row)?)),
            visit,
        ),
        RecordKind::Link => {
            each(c, "SELECT body FROM links ORDER BY id", text, |b| Ok(Record::Link(parse("link", &b)?)), visit)
        }
        RecordKind::Hit => {
            each(c, &format!("{HIT_SELECT} ORDER BY h.id"), hit_row, |row| Ok(Record::Hit(hit_from(row)?)), visit)
        }
        RecordKind::Federation => {
            each(c, "SELECT body FROM federation WHERE name = 'state'", text, |b| Ok(Record::Federation(b)), visit)
        }
        RecordKind::Notification => each(
            c,
            "SELECT body FROM notifications ORDER BY id",
            text,
            |b| Ok(Record::Notification(parse("notification", &b)?)),
            visit,
        ),
        RecordKind::Audit => each(
            c,
            &format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq"),
            audit_row,
            |row| Ok(Record::Audit(audit_entry(row)?)),
            visit,
        ),
    }
}

/// Writes one exported record as it is (a hit with `hits`, the statements of the restore).
fn restore_one(tx: &Transaction<'_>, hits: &mut HitWriter<'_>, record: &Record) -> Result<()> {
    let insert = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<()> {
        match tx.prepare_cached(sql).map_err(backend)?.execute(params) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(StoreError::AlreadyExists(format!("{:?} {}", record.kind(), record_key(record))))
            }
            Err(e) => Err(backend(e)),
        }
    };
    match record {
        Record::Agency(a) => {
            insert("INSERT INTO agencies (code, body) VALUES (?1, ?2)", params![a.code.as_str(), json(a)?])
        }
        Record::Agreement(a) => {
            insert("INSERT INTO agreements (id, body) VALUES (?1, ?2)", params![id_bytes(a.id.0), json(a)?])
        }
        Record::User(u) => insert(
            "INSERT INTO users (name, agency, body) VALUES (?1, ?2, ?3)",
            params![u.user.name, u.user.agency.as_str(), json(u)?],
        ),
        Record::Token(t) => {
            insert("INSERT INTO tokens (hash, user, body) VALUES (?1, ?2, ?3)", params![t.hash, t.user, json(t)?])
        }
        Record::Alert(stored) => {
            let alert = &stored.alert;
            insert(
                "INSERT INTO alerts (id, owner, category, source_id, version, seq, created_at_unix_us, updated_at_unix_us, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id_bytes(alert.id.0),
                    alert.owner.as_str(),
                    alert.category.as_str(),
                    alert.source_id,
                    signed(stored.version, "version")?,
                    signed(stored.seq, "seq")?,
                    stored.created_at_unix_us,
                    stored.updated_at_unix_us,
                    json(alert)?,
                ],
            )
        }
        Record::Head { owner, last_seq } => insert(
            "INSERT INTO owner_seq (owner, last_seq) VALUES (?1, ?2)",
            params![owner.as_str(), signed(*last_seq, "seq")?],
        ),
        Record::Change(change) => insert(
            "INSERT INTO changes (owner, seq, alert_id, version, op, at_unix_us, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                change.owner.as_str(),
                signed(change.seq, "seq")?,
                id_bytes(change.alert_id.0),
                signed(change.version, "version")?,
                change.op.as_str(),
                change.at_unix_us,
                change.alert.as_ref().map(json).transpose()?,
            ],
        ),
        Record::Link(link) => {
            let (lo, hi) = if link.from < link.to { (link.from, link.to) } else { (link.to, link.from) };
            insert(
                "INSERT INTO links (lo, hi, kind, body) VALUES (?1, ?2, ?3, ?4)",
                params![id_bytes(lo.0), id_bytes(hi.0), link.kind.as_str(), json(link)?],
            )
        }
        Record::Hit(hit) => hits.insert(hit, None),
        Record::Notification(n) => insert(
            "INSERT INTO notifications (id, owner, acknowledged, body) VALUES (?1, ?2, ?3, ?4)",
            params![id_bytes(n.id.0), n.owner.as_str(), n.acknowledged.is_some(), json(n)?],
        ),
        Record::Federation(document) => {
            insert("INSERT INTO federation (name, body) VALUES ('state', ?1)", params![document])
        }
        Record::Audit(entry) => insert(INSERT_AUDIT, &AuditColumns::of(entry)?.params()),
    }
}

impl Store for SqliteStore {
    fn create_agency(&self, agency: &Agency, audit: AuditDraft) -> Result<()> {
        agency.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|tx| {
            let inserted = tx
                .prepare_cached("INSERT INTO agencies (code, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
                .map_err(backend)?
                .execute(params![agency.code.as_str(), json(agency)?])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("agency {}", agency.code)));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        self.read(|c| {
            let body: Option<String> = c
                .prepare_cached("SELECT body FROM agencies WHERE code = ?1")
                .map_err(backend)?
                .query_row([code.as_str()], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|body| parse("agency", &body)).transpose()
        })
    }

    fn agencies(&self) -> Result<Vec<Agency>> {
        self.read(|c| {
            let mut statement = c.prepare_cached("SELECT body FROM agencies ORDER BY code").map_err(backend)?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0)).map_err(backend)?;
            rows.map(|body| parse("agency", &body.map_err(backend)?)).collect()
        })
    }

    fn create_agreement(&self, agreement: &Agreement, audit: AuditDraft) -> Result<()> {
        agreement.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|tx| {
            let inserted = tx
                .prepare_cached("INSERT INTO agreements (id, body) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
                .map_err(backend)?
                .execute(params![id_bytes(agreement.id.0), json(agreement)?])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("agreement {}", agreement.id)));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn revoke_agreement(&self, id: AgreementId, on: time::Date, audit: AuditDraft) -> Result<Agreement> {
        self.change_agreement(id, audit, |agreement| with_revocation(agreement, on))
    }

    fn consent_to_agreement(&self, id: AgreementId, party: &AgencyCode, audit: AuditDraft) -> Result<Agreement> {
        self.change_agreement(id, audit, |agreement| with_consent(agreement, party))
    }

    fn agreement(&self, id: AgreementId) -> Result<Option<Agreement>> {
        self.read(|c| load_body(c, "agreements", "agreement", id.0))
    }

    fn agreements(&self) -> Result<Vec<Agreement>> {
        self.read(|c| {
            let mut statement = c.prepare_cached("SELECT body FROM agreements ORDER BY id").map_err(backend)?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0)).map_err(backend)?;
            rows.map(|body| parse("agreement", &body.map_err(backend)?)).collect()
        })
    }

    fn write_alerts(&self, writes: &[AlertWrite], at_unix_us: i64, audit: AuditDraft) -> Result<Vec<Change>> {
        check_batch(writes)?;
        self.transaction(|tx| {
            let changes = writes.iter().map(|write| apply_write(tx, write, at_unix_us)).collect::<Result<Vec<_>>>()?;
            append_audit(tx, audit)?;
            Ok(changes)
        })
    }

    fn alert(&self, id: AlertId) -> Result<Option<StoredAlert>> {
        self.read(|c| load_alert(c, id))
    }

    fn alerts_by_source(&self, owner: &AgencyCode, source_ids: &[&str]) -> Result<Vec<StoredAlert>> {
        check_sources(source_ids)?;
        self.read(|c| {
            // One cached statement a source: SQLite answers each from its index in microseconds.
            let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE owner = ?1 AND source_id = ?2");
            let mut statement = c.prepare_cached(&sql).map_err(backend)?;
            let mut found = Vec::new();
            for source_id in source_ids {
                let row =
                    statement.query_row(params![owner.as_str(), source_id], alert_row).optional().map_err(backend)?;
                found.extend(row.map(stored_alert).transpose()?);
            }
            Ok(found)
        })
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {ALERT_COLUMNS} FROM alerts
                 WHERE (?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR category = ?2) AND (?3 IS NULL OR id > ?3)
                 ORDER BY id LIMIT ?4"
            );
            let mut statement = c.prepare_cached(&sql).map_err(backend)?;
            let limit = filter.limit.min(tabadul_store::ALERTS_PER_READ_MAX) as i64;
            let rows = statement
                .query_map(
                    params![
                        filter.owner.as_ref().map(|o| o.as_str()),
                        filter.category.map(|c| c.as_str()),
                        filter.after.map(|id| id_bytes(id.0)),
                        limit
                    ],
                    alert_row,
                )
                .map_err(backend)?;
            rows.map(|row| stored_alert(row.map_err(backend)?)).collect()
        })
    }

    fn alert_count(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c
                .prepare_cached("SELECT count(*) FROM alerts")
                .map_err(backend)?
                .query_row([], |row| row.get(0))
                .map_err(backend)?;
            count(n, "count")
        })
    }

    fn change_heads(&self) -> Result<Vec<(AgencyCode, u64)>> {
        self.read(|c| {
            let mut statement =
                c.prepare_cached("SELECT owner, last_seq FROM owner_seq ORDER BY owner").map_err(backend)?;
            let rows = statement
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
                .map_err(backend)?;
            rows.map(|row| {
                let (owner, seq) = row.map_err(backend)?;
                Ok((agency_code(&owner)?, count(seq, "seq")?))
            })
            .collect()
        })
    }

    fn changes(&self, owner: &AgencyCode, after_seq: u64, limit: usize) -> Result<Vec<Change>> {
        self.read(|c| {
            let mut statement = c
                .prepare_cached(
                    "SELECT seq, alert_id, version, op, at_unix_us, body FROM changes
                     WHERE owner = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![owner.as_str(), after_seq as i64, limit as i64], change_row)
                .map_err(backend)?;
            rows.map(|row| change_from(owner.clone(), row.map_err(backend)?)).collect()
        })
    }

    fn create_link(&self, link: &Link, audit: AuditDraft) -> Result<()> {
        if link.from == link.to {
            return Err(StoreError::Invalid("an alert cannot be linked to itself".into()));
        }
        self.transaction(|tx| {
            for id in [link.from, link.to] {
                let exists: Option<i64> = tx
                    .prepare_cached("SELECT 1 FROM alerts WHERE id = ?1")
                    .map_err(backend)?
                    .query_row([id_bytes(id.0)], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                if exists.is_none() {
                    return Err(StoreError::NotFound(format!("alert {id}")));
                }
            }
            let (lo, hi) = if link.from < link.to { (link.from, link.to) } else { (link.to, link.from) };
            let inserted = tx
                .prepare_cached("INSERT INTO links (lo, hi, kind, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")
                .map_err(backend)?
                .execute(params![id_bytes(lo.0), id_bytes(hi.0), link.kind.as_str(), json(link)?])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!(
                    "{} link between {} and {}",
                    link.kind, link.from, link.to
                )));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn links(&self, id: AlertId) -> Result<Vec<Link>> {
        self.read(|c| {
            let mut statement =
                c.prepare_cached("SELECT body FROM links WHERE lo = ?1 OR hi = ?1 ORDER BY id").map_err(backend)?;
            let rows = statement.query_map([id_bytes(id.0)], |row| row.get::<_, String>(0)).map_err(backend)?;
            rows.map(|body| parse("link", &body.map_err(backend)?)).collect()
        })
    }

    fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry> {
        self.transaction(|tx| append_audit(tx, audit))
    }

    fn record_checks(&self, checks: Vec<(Vec<HitRecord>, AuditDraft)>) -> Result<Vec<AuditEntry>> {
        check_checks(&checks)?;
        self.transaction(|tx| {
            let mut entries = Vec::with_capacity(checks.len());
            // The log's head read once: the batch's entries follow one another.
            let (mut seq, mut prev) = audit_next(tx)?;
            // The statements prepared once for the batch (SQLite's cached ones: a manifest
            // writes thousands of rows), each row's text written into one buffer, each check's
            // shared part once.
            let mut insert_entry = tx.prepare_cached(INSERT_AUDIT).map_err(backend)?;
            let mut hit_writer = HitWriter::new(tx)?;
            for (hits, audit) in checks {
                for (i, hit) in hits.iter().enumerate() {
                    hit_writer.insert(hit, i.checked_sub(1).map(|p| &hits[p]))?;
                }
                let entry = write_audit(&mut insert_entry, seq, prev, audit)?;
                (seq, prev) = (entry.seq + 1, entry.hash);
                entries.push(entry);
            }
            Ok(entries)
        })
    }

    fn hit(&self, id: HitId) -> Result<Option<HitRecord>> {
        self.read(|c| load_hit(c, id))
    }

    fn record_outcome(
        &self,
        id: HitId,
        outcome: &Outcome,
        notification: Option<&Notification>,
        audit: AuditDraft,
    ) -> Result<HitRecord> {
        self.transaction(|tx| {
            let mut hit = load_hit(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("hit {id}")))?;
            check_outcome(&hit, outcome, notification)?;
            hit.outcome = Some(outcome.clone());
            tx.prepare_cached("UPDATE hits SET outcome = ?2, body = ?3 WHERE id = ?1")
                .map_err(backend)?
                .execute(params![id_bytes(id.0), outcome.kind.as_str(), json(&hit.stored_hit())?])
                .map_err(backend)?;
            if let Some(n) = notification {
                tx.prepare_cached("INSERT INTO notifications (id, owner, acknowledged, body) VALUES (?1, ?2, 0, ?3)")
                    .map_err(backend)?
                    .execute(params![id_bytes(n.id.0), n.owner.as_str(), json(n)?])
                    .map_err(backend)?;
            }
            append_audit(tx, audit)?;
            Ok(hit)
        })
    }

    fn receive_notification(&self, notification: &Notification, audit: AuditDraft) -> Result<()> {
        self.transaction(|tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO notifications (id, owner, acknowledged, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                )
                .map_err(backend)?
                .execute(params![
                    id_bytes(notification.id.0),
                    notification.owner.as_str(),
                    notification.acknowledged.is_some(),
                    json(notification)?
                ])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("notification {}", notification.id)));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn notification(&self, id: NotificationId) -> Result<Option<Notification>> {
        self.read(|c| load_body(c, "notifications", "notification", id.0))
    }

    fn notifications(&self, owner: &AgencyCode, pending: bool, limit: usize) -> Result<Vec<Notification>> {
        self.read(|c| {
            let mut statement = c
                .prepare_cached(
                    "SELECT body FROM notifications WHERE owner = ?1 AND (?2 = 0 OR acknowledged = 0)
                     ORDER BY id DESC LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![owner.as_str(), i64::from(pending), limit as i64], |row| row.get::<_, String>(0))
                .map_err(backend)?;
            rows.map(|row| parse("notification", &row.map_err(backend)?)).collect()
        })
    }

    fn acknowledge(
        &self,
        id: NotificationId,
        owner: &AgencyCode,
        acknowledgement: &Acknowledgement,
        audit: AuditDraft,
    ) -> Result<Notification> {
        self.transaction(|tx| {
            let body: Option<String> = tx
                .prepare_cached("SELECT body FROM notifications WHERE id = ?1 AND owner = ?2")
                .map_err(backend)?
                .query_row(params![id_bytes(id.0), owner.as_str()], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            let mut notification: Notification =
                parse("notification", &body.ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?)?;
            if notification.acknowledged.is_some() {
                return Err(StoreError::AlreadyExists(format!("an acknowledgement of notification {id}")));
            }
            notification.acknowledged = Some(acknowledgement.clone());
            tx.prepare_cached("UPDATE notifications SET acknowledged = 1, body = ?2 WHERE id = ?1")
                .map_err(backend)?
                .execute(params![id_bytes(id.0), json(&notification)?])
                .map_err(backend)?;
            append_audit(tx, audit)?;
            Ok(notification)
        })
    }

    fn false_positives(&self, owner: &AgencyCode) -> Result<Vec<(AlertId, u64)>> {
        self.read(|c| {
            let mut statement = c
                .prepare_cached(
                    "SELECT alert_id, COUNT(*) FROM hits WHERE owner = ?1 AND outcome = ?2
                     GROUP BY alert_id ORDER BY alert_id",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![owner.as_str(), OutcomeKind::FalsePositive.as_str()], |row| {
                    Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (id, n) = row.map_err(backend)?;
                Ok((AlertId(id_from(&id)?), count(n, "false positives")?))
            })
            .collect()
        })
    }

    fn create_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        user.user.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|tx| {
            let inserted = tx
                .prepare_cached("INSERT INTO users (name, agency, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .map_err(backend)?
                .execute(params![user.user.name, user.user.agency.as_str(), json(user)?])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists(format!("user {}", user.user.name)));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn update_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        user.user.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|tx| {
            let updated = tx
                .prepare_cached("UPDATE users SET agency = ?2, body = ?3 WHERE name = ?1")
                .map_err(backend)?
                .execute(params![user.user.name, user.user.agency.as_str(), json(user)?])
                .map_err(backend)?;
            if updated == 0 {
                return Err(StoreError::NotFound(format!("user {}", user.user.name)));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn user(&self, name: &str) -> Result<Option<StoredUser>> {
        self.read(|c| {
            let body: Option<String> = c
                .prepare_cached("SELECT body FROM users WHERE name = ?1")
                .map_err(backend)?
                .query_row([name], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|b| parse("user", &b)).transpose()
        })
    }

    fn users(&self, agency: Option<&AgencyCode>) -> Result<Vec<StoredUser>> {
        self.read(|c| {
            let mut statement = c
                .prepare_cached("SELECT body FROM users WHERE ?1 IS NULL OR agency = ?1 ORDER BY name")
                .map_err(backend)?;
            let rows =
                statement.query_map([agency.map(|a| a.as_str())], |row| row.get::<_, String>(0)).map_err(backend)?;
            rows.map(|row| parse("user", &row.map_err(backend)?)).collect()
        })
    }

    fn create_token(&self, token: &TokenRecord, audit: AuditDraft) -> Result<()> {
        self.transaction(|tx| {
            let user: Option<i64> = tx
                .prepare_cached("SELECT 1 FROM users WHERE name = ?1")
                .map_err(backend)?
                .query_row([&token.user], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            if user.is_none() {
                return Err(StoreError::NotFound(format!("user {}", token.user)));
            }
            let inserted = tx
                .prepare_cached("INSERT INTO tokens (hash, user, body) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
                .map_err(backend)?
                .execute(params![token.hash, token.user, json(token)?])
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyExists("that token".into()));
            }
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.read(|c| {
            let body: Option<String> = c
                .prepare_cached("SELECT body FROM tokens WHERE hash = ?1")
                .map_err(backend)?
                .query_row([hash], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            body.map(|b| parse("token", &b)).transpose()
        })
    }

    fn tokens(&self, user: &str) -> Result<Vec<TokenRecord>> {
        self.read(|c| {
            let mut statement = c.prepare_cached("SELECT body FROM tokens WHERE user = ?1").map_err(backend)?;
            let rows = statement.query_map([user], |row| row.get::<_, String>(0)).map_err(backend)?;
            let mut tokens: Vec<TokenRecord> =
                rows.map(|row| parse("token", &row.map_err(backend)?)).collect::<Result<_>>()?;
            tokens.sort_by_key(|t| t.created_at_unix_us);
            Ok(tokens)
        })
    }

    fn revoke_token(&self, hash: &str, audit: AuditDraft) -> Result<()> {
        self.transaction(|tx| {
            let body: Option<String> = tx
                .prepare_cached("SELECT body FROM tokens WHERE hash = ?1")
                .map_err(backend)?
                .query_row([hash], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            let mut token: TokenRecord = parse("token", &body.ok_or_else(|| StoreError::NotFound("token".into()))?)?;
            token.revoked = true;
            tx.prepare_cached("UPDATE tokens SET body = ?2 WHERE hash = ?1")
                .map_err(backend)?
                .execute(params![hash, json(&token)?])
                .map_err(backend)?;
            append_audit(tx, audit)?;
            Ok(())
        })
    }

    fn federation_state(&self) -> Result<Option<String>> {
        self.read(|c| {
            c.prepare_cached("SELECT body FROM federation WHERE name = 'state'")
                .map_err(backend)?
                .query_row([], |row| row.get(0))
                .optional()
                .map_err(backend)
        })
    }

    fn save_federation_state(&self, state: &str) -> Result<()> {
        self.transaction(|tx| {
            tx.prepare_cached(
                "INSERT INTO federation (name, body) VALUES ('state', ?1)
                 ON CONFLICT (name) DO UPDATE SET body = excluded.body",
            )
            .map_err(backend)?
            .execute([state])
            .map_err(backend)?;
            Ok(())
        })
    }

    fn export(&self, visit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        self.with(|c| {
            // One read transaction: a consistent snapshot of every table.
            let tx = c.transaction_with_behavior(TransactionBehavior::Deferred).map_err(backend)?;
            for kind in RecordKind::ALL {
                export_kind(&tx, kind, visit)?;
            }
            tx.commit().map_err(backend)
        })
    }

    fn restore(&self, records: &[Record]) -> Result<()> {
        check_restore(records)?;
        self.transaction(|tx| {
            let mut hits = HitWriter::new(tx)?;
            records.iter().try_for_each(|record| restore_one(tx, &mut hits, record))
        })
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.read(|c| {
            let mut statement = c
                .prepare_cached(&format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"))
                .map_err(backend)?;
            let rows = statement.query_map(params![after_seq as i64, limit as i64], audit_row).map_err(backend)?;
            rows.map(|row| audit_entry(row.map_err(backend)?)).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index of hits by owner and outcome is the partial one of schema 5.
    fn assert_hits_indexed_only_with_an_outcome(store: &SqliteStore) {
        let sql: String = store
            .read(|c| {
                c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'hits_by_owner_outcome'", [], |row| row.get(0))
                    .map_err(backend)
            })
            .unwrap();
        assert!(sql.ends_with("WHERE outcome IS NOT NULL"), "{sql}");
    }

    #[test]
    fn false_positives_are_counted_from_the_index_of_hits_with_an_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let plan: Vec<String> = store
            .read(|c| {
                let mut statement = c
                    .prepare(
                        "EXPLAIN QUERY PLAN SELECT alert_id, COUNT(*) FROM hits WHERE owner = ?1 AND outcome = ?2
                         GROUP BY alert_id ORDER BY alert_id",
                    )
                    .map_err(backend)?;
                let rows = statement
                    .query_map(params!["IQ-MOI", OutcomeKind::FalsePositive.as_str()], |row| row.get::<_, String>(3))
                    .map_err(backend)?;
                rows.map(|row| row.map_err(backend)).collect()
            })
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("USING COVERING INDEX hits_by_owner_outcome")), "{plan:?}");
        // The index leaves out the hits a check records without an outcome.
        assert_hits_indexed_only_with_an_outcome(&store);
    }

    #[test]
    fn a_store_at_schema_4_moves_to_the_partial_index_of_hits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        // The file as schema 4 left it: the index of every hit.
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "DROP TABLE checks;
                 ALTER TABLE hits DROP COLUMN check_id;
                 DROP INDEX hits_by_owner_outcome;
                 CREATE INDEX hits_by_owner_outcome ON hits (owner, outcome, alert_id);
                 PRAGMA user_version = 4;",
            )
            .unwrap();
        drop(connection);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_hits_indexed_only_with_an_outcome(&store);
    }

    /// A store at schema 5 holding `hits` as that schema wrote them: each row with its check's
    /// officer, post, time and traveller.
    fn store_at_schema_5(path: &Path, hits: &[HitRecord]) {
        drop(SqliteStore::open(path).unwrap());
        let connection = Connection::open(path).unwrap();
        connection.execute_batch("DROP TABLE checks; ALTER TABLE hits DROP COLUMN check_id;").unwrap();
        for hit in hits {
            connection
                .execute(
                    "INSERT INTO hits (id, alert_id, owner, outcome, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        id_bytes(hit.id.0),
                        id_bytes(hit.alert_id.0),
                        hit.owner.as_str(),
                        hit.outcome.as_ref().map(|o| o.kind.as_str()),
                        json(hit).unwrap()
                    ],
                )
                .unwrap();
        }
        connection.pragma_update(None, "user_version", 5).unwrap();
        drop(connection);
    }

    #[test]
    fn hits_of_one_check_that_differ_stop_the_move_to_schema_6_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut hits = tabadul_store::conformance::hits_of_two_checks();
        hits[1].user = "another".into();
        store_at_schema_5(&path, &hits);
        let error = SqliteStore::open(&path).unwrap_err();
        assert!(error.to_string().contains("schema 6"), "{error}");
        let connection = Connection::open(&path).unwrap();
        let (version, rows): (u32, i64) = connection
            .query_row("SELECT (SELECT user_version FROM pragma_user_version), (SELECT COUNT(*) FROM hits)", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((version, rows), (5, 3));
    }

    #[test]
    fn a_store_at_schema_5_keeps_each_check_once_for_its_hits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let hits = tabadul_store::conformance::hits_of_two_checks();
        store_at_schema_5(&path, &hits);

        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        tabadul_store::conformance::holds_exactly_these_hits(&store, &hits);
        let (checks, rows): (i64, String) = store
            .with(|c| {
                c.query_row(
                    "SELECT (SELECT COUNT(*) FROM checks), (SELECT body FROM hits WHERE id = ?1)",
                    [id_bytes(1)],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(backend)
            })
            .unwrap();
        assert_eq!(checks, 2, "one row a check");
        assert_eq!(rows, r#"{"level":"full","score":0.913,"action":"question"}"#, "a hit's own fields only");
    }

    #[test]
    fn the_log_is_copied_into_the_file_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&path).unwrap();
        let entry = |n: usize| {
            AuditDraft::new(time::OffsetDateTime::UNIX_EPOCH, "tester", Some("IQ-MOI"), "check")
                .details(format!("{n} {}", "x".repeat(8 << 10)))
        };
        // A few pages of log: nothing to copy yet.
        for n in 0..10 {
            store.append_audit(entry(n)).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(store.background_checkpoints(), 0);
        // Past CHECKPOINT_PAGES (some 2,000 pages of 4 KiB), short of the writer's own limit.
        for n in 10..1000 {
            store.append_audit(entry(n)).unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while store.background_checkpoints() == 0 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint in the background");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok");
        let entries = store.audit_entries(0, 2000).unwrap();
        assert_eq!(entries.len(), 1000);
        assert!(entries[999].draft.details.starts_with("999 "));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        drop(SqliteStore::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(connection);
        let error = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(error, StoreError::SchemaTooNew { .. }), "{error}");
    }

    #[test]
    fn reopening_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&path).unwrap();
        let alert = tabadul_store::conformance::person_alert(1, "IQ-MOI", "محمد");
        let audit = tabadul_store::conformance::audit("alert.create");
        store.write_alerts(&[AlertWrite::Create(alert.clone())], 5, audit).unwrap();
        drop(store);
        let store = SqliteStore::open_existing(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.alert(AlertId(1)).unwrap().unwrap().alert, alert);
        assert_eq!(store.audit_entries(0, 10).unwrap().len(), 1);
        assert_eq!(store.integrity_check().unwrap(), "ok");
        assert!(SqliteStore::open_existing(dir.path().join("missing.db")).is_err());
    }
}
