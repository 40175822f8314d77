//! The PostgreSQL store, for national central nodes: the same records and the same semantics
//! as the SQLite store (`tabadul-store-sqlite`), in a PostgreSQL database.
//!
//! The [`Store`] interface is synchronous (the core has no async); this store owns a small
//! tokio runtime and a connection pool (deadpool-postgres), runs each call as a task on it and
//! waits for the answer. So it can be called from any thread, inside another runtime or not.
//!
//! Writes are serialised by one transaction-scoped advisory lock, taken first in every
//! writing transaction: the audit chain and the per-owner sequence numbers need one writer at
//! a time, exactly as SQLite gives. Reads do not take it. A write is acknowledged only after
//! its transaction committed (`synchronous_commit` as the server has it, `on` by default).
//!
//! Layout (version in `tabadul_schema`, migrated on connect under the same lock): the tables
//! and columns of the SQLite store, with records as JSON text, ids as 16 big-endian bytes
//! (`bytea`) and counters as `bigint` (see [`tabadul_store::codec`]).

pub mod throwaway;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Transaction};
use tabadul_audit::{AuditDraft, AuditEntry, Hash};
use tabadul_domain::{Agency, AgencyCode, Agreement, AgreementId, AlertId, HitId, Link, NotificationId};
use tabadul_store::codec::{agency_code, count, id_bytes, id_from, json, parse, record_key, signed};
use tabadul_store::{
    Acknowledgement, AlertFilter, AlertWrite, Change, ChangeOp, HitRecord, Notification, Outcome, OutcomeKind, Record,
    RecordKind, Result, Store, StoreError, StoredAlert, StoredCheck, StoredUser, TokenRecord, check_batch,
    check_checks, check_differs, check_loaded, check_outcome, check_restore, check_sources, plan_write, with_consent,
    with_revocation,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// The key of the advisory lock that serialises writers (ASCII "tabadul" in a bigint).
const WRITE_LOCK: i64 = 0x0074_6162_6164_756c;

/// Connections kept open to the server at most.
pub const POOL_SIZE: usize = 16;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE agreements (
    id BYTEA PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE alerts (
    id BYTEA PRIMARY KEY,
    owner TEXT NOT NULL,
    category TEXT NOT NULL,
    source_id TEXT,
    version BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    created_at_unix_us BIGINT NOT NULL,
    updated_at_unix_us BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_by_source ON alerts (owner, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX alerts_by_owner ON alerts (owner, id);
CREATE INDEX alerts_by_category ON alerts (category, id);
CREATE TABLE owner_seq (
    owner TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
CREATE TABLE changes (
    owner TEXT NOT NULL,
    seq BIGINT NOT NULL,
    alert_id BYTEA NOT NULL,
    version BIGINT NOT NULL,
    op TEXT NOT NULL,
    at_unix_us BIGINT NOT NULL,
    body TEXT,
    PRIMARY KEY (owner, seq)
);
CREATE TABLE links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lo BYTEA NOT NULL,
    hi BYTEA NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (lo, hi, kind)
);
CREATE INDEX links_by_hi ON links (hi);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at_unix_us BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    agency TEXT,
    operation TEXT NOT NULL,
    targets TEXT NOT NULL,
    details TEXT NOT NULL,
    result_count BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE hits (
    id BYTEA PRIMARY KEY,
    alert_id BYTEA NOT NULL,
    owner TEXT NOT NULL,
    outcome TEXT,
    body TEXT NOT NULL
);
CREATE INDEX hits_by_owner_outcome ON hits (owner, outcome, alert_id);
CREATE TABLE notifications (
    id BYTEA PRIMARY KEY,
    owner TEXT NOT NULL,
    acknowledged BOOLEAN NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notifications_by_owner ON notifications (owner, acknowledged, id);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX users_by_agency ON users (agency, name);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX tokens_by_user ON tokens (user_name);
"#,
    r#"
CREATE TABLE federation (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
"#,
    // Only hits with an outcome are looked up by owner and outcome (false positives per
    // alert); the many a check records without one no longer each update the index.
    r#"
DROP INDEX hits_by_owner_outcome;
CREATE INDEX hits_by_owner_outcome ON hits (owner, outcome, alert_id) WHERE outcome IS NOT NULL;
"#,
    // What a check's hits share (who checked, where, when, whom) kept once per check, not in
    // each hit's row. Hits of one check that differ there (restored so by hand) fail the move,
    // which changes nothing then, rather than one of them standing for all.
    r#"
CREATE TABLE checks (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
INSERT INTO checks (id, body)
    SELECT DISTINCT body::jsonb ->> 'check_id', jsonb_build_object(
        'agency', body::jsonb -> 'agency', 'user', body::jsonb -> 'user', 'post', body::jsonb -> 'post',
        'at_unix_us', body::jsonb -> 'at_unix_us', 'traveller', body::jsonb -> 'traveller')::text
    FROM hits;
ALTER TABLE hits ADD COLUMN check_id TEXT NOT NULL DEFAULT '';
UPDATE hits SET check_id = body::jsonb ->> 'check_id',
    body = (body::jsonb - ARRAY['id', 'check_id', 'alert_id', 'owner', 'agency', 'user', 'post', 'at_unix_us',
        'traveller'])::text;
ALTER TABLE hits ALTER COLUMN check_id DROP DEFAULT;
"#,
];

/// The schema version this build writes and reads.
pub const PG_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Checks that `url` reads as a PostgreSQL connection URL, without connecting.
pub fn check_url(url: &str) -> Result<()> {
    parse_url(url).map(drop)
}

/// `url` without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match parse_url(url) {
        Ok(config) => {
            let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
            let (host, port, database) = target_parts(&config);
            format!("postgres://{user}{host}:{port}/{database}")
        }
        Err(_) => "postgres://(a URL that does not read)".into(),
    }
}

fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    url.parse().map_err(|e| StoreError::Invalid(format!("the PostgreSQL URL does not read: {e}")))
}

/// A store in a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    /// Taken in `drop`: a runtime may not be dropped where blocking is not allowed.
    runtime: Option<tokio::runtime::Runtime>,
    /// Where the store is, without any password, for messages.
    target: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.target).finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.pool.close();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn backend(error: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(describe(&error))
}

fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("PostgreSQL {}: {}", db.code().code(), db.message()),
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

/// Text PostgreSQL cannot keep (a NUL character) is the caller's error, not the server's.
fn refused_text(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE || *code == SqlState::UNTRANSLATABLE_CHARACTER
    )
}

fn write_error(error: tokio_postgres::Error) -> StoreError {
    if refused_text(&error) { StoreError::Invalid(describe(&error)) } else { backend(error) }
}

fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(e) => backend(e),
        other => StoreError::Backend(format!("no connection to PostgreSQL: {other}")),
    }
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

async fn rows(c: &impl GenericClient, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(backend)?;
    c.query(&statement, params).await.map_err(backend)
}

async fn row(c: &impl GenericClient, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(backend)?;
    c.query_opt(&statement, params).await.map_err(backend)
}

async fn execute(c: &impl GenericClient, sql: &str, params: Params<'_>) -> Result<u64> {
    let statement = c.prepare_cached(sql).await.map_err(backend)?;
    c.execute(&statement, params).await.map_err(write_error)
}

/// The text of the first column of each row, parsed as `what`.
fn bodies<T: serde::de::DeserializeOwned>(what: &str, rows: &[Row]) -> Result<Vec<T>> {
    rows.iter().map(|row| parse(what, row.get::<_, &str>(0))).collect()
}

fn body<T: serde::de::DeserializeOwned>(what: &str, row: Option<Row>) -> Result<Option<T>> {
    row.map(|row| parse(what, row.get::<_, &str>(0))).transpose()
}

/// Begins a writing transaction: takes the writers' lock first.
async fn begin(client: &mut Object) -> Result<Transaction<'_>> {
    let tx = client.transaction().await.map_err(backend)?;
    execute(&tx, "SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).await?;
    Ok(tx)
}

async fn commit(tx: Transaction<'_>) -> Result<()> {
    tx.commit().await.map_err(backend)
}

async fn connection(pool: &Pool) -> Result<Object> {
    pool.get().await.map_err(pool_error)
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// brings its schema up to date.
    pub fn connect(url: &str) -> Result<PgStore> {
        let config = parse_url(url)?;
        let target = describe_target(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tabadul-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("start the PostgreSQL runtime: {e}")))?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| StoreError::Backend(format!("make the connection pool: {e}")))?;
        let store = PgStore { pool, runtime: Some(runtime), target };
        store.migrate().map_err(|e| match e {
            StoreError::Backend(message) => StoreError::Backend(format!("{}: {message}", store.target)),
            other => other,
        })?;
        Ok(store)
    }

    /// Where the store is (host, port, database), without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            let row = row(&c, "SELECT version FROM tabadul_schema", &[]).await?;
            Ok(row.map_or(0, |row| row.get::<_, i32>(0) as u32))
        })
    }

    /// The server's version, as `SHOW server_version` gives it.
    pub fn server_version(&self) -> Result<String> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            Ok(row(&c, "SHOW server_version", &[]).await?.map(|row| row.get::<_, String>(0)).unwrap_or_default())
        })
    }

    /// The database's size on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            let row = row(&c, "SELECT pg_database_size(current_database())", &[]).await?;
            count(row.map_or(0, |row| row.get::<_, i64>(0)), "size")
        })
    }

    fn migrate(&self) -> Result<()> {
        self.run(|pool| async move {
            let mut c = connection(&pool).await?;
            let tx = begin(&mut c).await?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS tabadul_schema (version INTEGER NOT NULL)")
                .await
                .map_err(backend)?;
            let found = match row(&tx, "SELECT version FROM tabadul_schema", &[]).await? {
                Some(row) => row.get::<_, i32>(0) as u32,
                None => {
                    execute(&tx, "INSERT INTO tabadul_schema (version) VALUES (0)", &[]).await?;
                    0
                }
            };
            if found > PG_SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew { found, supported: PG_SCHEMA_VERSION });
            }
            for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.batch_execute(migration).await.map_err(|e| {
                    StoreError::Backend(format!("moving the store to schema {}: {}", index + 1, describe(&e)))
                })?;
                execute(&tx, "UPDATE tabadul_schema SET version = $1", &[&(index as i32 + 1)]).await?;
            }
            commit(tx).await
        })
    }

    /// Replaces an agreement by what `change` makes of it, with its audit entry.
    fn change_agreement(
        &self,
        id: AgreementId,
        audit: AuditDraft,
        change: impl FnOnce(Agreement) -> Result<Agreement> + Send + 'static,
    ) -> Result<Agreement> {
        self.write(audit, move |tx| {
            Box::pin(async move {
                let key = id_bytes(id.0);
                let found = row(tx, "SELECT body FROM agreements WHERE id = $1 FOR UPDATE", &[&key.as_slice()]).await?;
                let agreement: Agreement =
                    body("agreement", found)?.ok_or_else(|| StoreError::NotFound(format!("agreement {id}")))?;
                let agreement = change(agreement)?;
                let sql = "UPDATE agreements SET body = $2 WHERE id = $1";
                execute(tx, sql, &[&key.as_slice(), &json(&agreement)?]).await?;
                Ok(agreement)
            })
        })
        .map(|(agreement, _)| agreement)
    }

    /// Creates a user (`create`), or replaces an existing one.
    fn put_user(&self, user: &StoredUser, audit: AuditDraft, create: bool) -> Result<()> {
        user.user.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (name, agency, body) = (user.user.name.clone(), user.user.agency.clone(), json(user)?);
        self.write(audit, move |tx| {
            Box::pin(async move {
                let sql = if create {
                    "INSERT INTO users (name, agency, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                } else {
                    "UPDATE users SET agency = $2, body = $3 WHERE name = $1"
                };
                match execute(tx, sql, &[&name, &agency.as_str(), &body]).await? {
                    0 if create => Err(StoreError::AlreadyExists(format!("user {name}"))),
                    0 => Err(StoreError::NotFound(format!("user {name}"))),
                    _ => Ok(()),
                }
            })
        })
        .map(drop)
    }

    /// Runs `task` on the store's runtime with the pool and waits for its answer.
    fn run<T, F, Fut>(&self, task: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or_else(|| StoreError::Backend("the store is closed".into()))?;
        let pool = self.pool.clone();
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = answer.send(task(pool).await);
        });
        answered.recv().map_err(|_| StoreError::Backend("a PostgreSQL task ended without an answer".into()))?
    }

    /// Runs `task` in one writing transaction, with the audit entry `audit` appended last.
    fn write<T, F>(&self, audit: AuditDraft, task: F) -> Result<(T, AuditEntry)>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a Transaction<'a>) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        self.run(move |pool| async move {
            let mut c = connection(&pool).await?;
            let tx = begin(&mut c).await?;
            let value = task(&tx).await?;
            let entry = append_audit(&tx, audit).await?;
            commit(tx).await?;
            Ok((value, entry))
        })
    }
}

/// A boxed future, as the writing transactions take.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

fn describe_target(config: &tokio_postgres::Config) -> String {
    let (host, port, database) = target_parts(config);
    format!("PostgreSQL {host}:{port}/{database}")
}

fn target_parts(config: &tokio_postgres::Config) -> (String, u16, &str) {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
    (host, port, database)
}

/// Rows fetched at a time while exporting.
const EXPORT_PAGE: i32 = 1000;

/// Reads every table in one repeatable-read transaction (one consistent snapshot) and sends
/// the records page by page; stops when the receiver is gone.
async fn export_pages(pool: &Pool, pages: &std::sync::mpsc::SyncSender<Result<Vec<Record>>>) -> Result<()> {
    let mut c = connection(pool).await?;
    let tx = c
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(backend)?;
    for kind in RecordKind::ALL {
        let statement = tx.prepare_cached(&export_sql(kind)).await.map_err(backend)?;
        let portal = tx.bind(&statement, &[]).await.map_err(backend)?;
        loop {
            let rows = tx.query_portal(&portal, EXPORT_PAGE).await.map_err(backend)?;
            if rows.is_empty() {
                break;
            }
            let page = rows.iter().map(|row| export_record(kind, row)).collect::<Result<Vec<_>>>()?;
            let last = rows.len() < EXPORT_PAGE as usize;
            if tokio::task::block_in_place(|| pages.send(Ok(page))).is_err() {
                return Ok(());
            }
            if last {
                break;
            }
        }
    }
    Ok(())
}

fn export_sql(kind: RecordKind) -> String {
    match kind {
        RecordKind::Agency => "SELECT body FROM agencies ORDER BY code".into(),
        RecordKind::Agreement => "SELECT body FROM agreements ORDER BY id".into(),
        RecordKind::User => "SELECT body FROM users ORDER BY name".into(),
        RecordKind::Token => "SELECT body FROM tokens ORDER BY hash".into(),
        RecordKind::Alert => format!("SELECT {ALERT_COLUMNS} FROM alerts ORDER BY id"),
        RecordKind::Head => "SELECT owner, last_seq FROM owner_seq ORDER BY owner".into(),
        RecordKind::Change => {
            "SELECT seq, alert_id, version, op, at_unix_us, body, owner FROM changes ORDER BY owner, seq".into()
        }
        RecordKind::Link => "SELECT body FROM links ORDER BY id".into(),
        RecordKind::Hit => format!("{HIT_SELECT} ORDER BY h.id"),
        RecordKind::Notification => "SELECT body FROM notifications ORDER BY id".into(),
        RecordKind::Federation => "SELECT body FROM federation WHERE name = 'state'".into(),
        RecordKind::Audit => format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq"),
    }
}

fn export_record(kind: RecordKind, row: &Row) -> Result<Record> {
    let text = || row.get::<_, &str>(0);
    Ok(match kind {
        RecordKind::Agency => Record::Agency(parse("agency", text())?),
        RecordKind::Agreement => Record::Agreement(parse("agreement", text())?),
        RecordKind::User => Record::User(parse("user", text())?),
        RecordKind::Token => Record::Token(parse("token", text())?),
        RecordKind::Alert => Record::Alert(stored_alert(row)?),
        RecordKind::Head => Record::Head { owner: agency_code(row.get(0))?, last_seq: count(row.get(1), "seq")? },
        RecordKind::Change => Record::Change(change_from(&agency_code(row.get(6))?, row)?),
        RecordKind::Link => Record::Link(parse("link", text())?),
        RecordKind::Hit => Record::Hit(hit_from(row)?),
        RecordKind::Notification => Record::Notification(parse("notification", text())?),
        RecordKind::Federation => Record::Federation(text().to_string()),
        RecordKind::Audit => Record::Audit(audit_entry(row)?),
    })
}

/// Writes one exported record as it is.
async fn restore_one(tx: &Transaction<'_>, record: &Record) -> Result<()> {
    let result = match record {
        Record::Agency(a) => {
            execute(tx, "INSERT INTO agencies (code, body) VALUES ($1, $2)", &[&a.code.as_str(), &json(a)?]).await
        }
        Record::Agreement(a) => {
            let sql = "INSERT INTO agreements (id, body) VALUES ($1, $2)";
            execute(tx, sql, &[&id_bytes(a.id.0).as_slice(), &json(a)?]).await
        }
        Record::User(u) => {
            let sql = "INSERT INTO users (name, agency, body) VALUES ($1, $2, $3)";
            execute(tx, sql, &[&u.user.name, &u.user.agency.as_str(), &json(u)?]).await
        }
        Record::Token(t) => {
            let sql = "INSERT INTO tokens (hash, user_name, body) VALUES ($1, $2, $3)";
            execute(tx, sql, &[&t.hash, &t.user, &json(t)?]).await
        }
        Record::Alert(stored) => {
            let alert = &stored.alert;
            execute(
                tx,
                "INSERT INTO alerts (id, owner, category, source_id, version, seq, created_at_unix_us, updated_at_unix_us, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id_bytes(alert.id.0).as_slice(),
                    &alert.owner.as_str(),
                    &alert.category.as_str(),
                    &alert.source_id,
                    &signed(stored.version, "version")?,
                    &signed(stored.seq, "seq")?,
                    &stored.created_at_unix_us,
                    &stored.updated_at_unix_us,
                    &json(alert)?,
                ],
            )
            .await
        }
        Record::Head { owner, last_seq } => {
            let sql = "INSERT INTO owner_seq (owner, last_seq) VALUES ($1, $2)";
            execute(tx, sql, &[&owner.as_str(), &signed(*last_seq, "seq")?]).await
        }
        Record::Change(change) => execute(
            tx,
            "INSERT INTO changes (owner, seq, alert_id, version, op, at_unix_us, body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &change.owner.as_str(),
                &signed(change.seq, "seq")?,
                &id_bytes(change.alert_id.0).as_slice(),
                &signed(change.version, "version")?,
                &change.op.as_str(),
                &change.at_unix_us,
                &change.alert.as_ref().map(json).transpose()?,
            ],
        )
        .await,
        Record::Link(link) => {
            let (lo, hi) = if link.from < link.to { (link.from, link.to) } else { (link.to, link.from) };
            let sql = "INSERT INTO links (lo, hi, kind, body) VALUES ($1, $2, $3, $4)";
            execute(tx, sql, &[&id_bytes(lo.0).as_slice(), &id_bytes(hi.0).as_slice(), &link.kind.as_str(), &json(link)?])
                .await
        }
        Record::Hit(hit) => insert_hit(tx, hit, None).await.map(|()| 1),
        Record::Notification(n) => {
            let sql = "INSERT INTO notifications (id, owner, acknowledged, body) VALUES ($1, $2, $3, $4)";
            execute(tx, sql, &[&id_bytes(n.id.0).as_slice(), &n.owner.as_str(), &n.acknowledged.is_some(), &json(n)?])
                .await
        }
        Record::Federation(document) => {
            execute(tx, "INSERT INTO federation (name, body) VALUES ('state', $1)", &[document]).await
        }
        Record::Audit(entry) => insert_audit(tx, entry).await.map(|()| 1),
    };
    match result {
        Err(StoreError::Backend(message)) if message.contains(SqlState::UNIQUE_VIOLATION.code()) => {
            Err(StoreError::AlreadyExists(format!("{} {}", record.kind().plural(), record_key(record))))
        }
        other => other.map(drop),
    }
}

async fn append_audit(tx: &Transaction<'_>, draft: AuditDraft) -> Result<AuditEntry> {
    let (seq, prev) = audit_next(tx).await?;
    write_audit(tx, seq, prev, draft).await
}

/// Seals `draft` as entry `seq` after the entry hashed `prev`, and writes it.
async fn write_audit(tx: &Transaction<'_>, seq: u64, prev: Hash, draft: AuditDraft) -> Result<AuditEntry> {
    let entry = AuditEntry::seal(seq, prev, draft);
    insert_audit(tx, &entry).await?;
    Ok(entry)
}

/// The sequence number and the previous hash of the next audit entry.
async fn audit_next(tx: &Transaction<'_>) -> Result<(u64, Hash)> {
    let head = row(tx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[]).await?;
    match head {
        None => Ok((1, Hash::GENESIS)),
        Some(row) => {
            let (seq, hash): (i64, &str) = (row.get(0), row.get(1));
            let prev = Hash::from_hex(hash)
                .ok_or_else(|| StoreError::Corrupt(format!("audit entry {seq} has no valid hash")))?;
            Ok((count(seq, "audit seq")? + 1, prev))
        }
    }
}

async fn insert_audit(c: &impl GenericClient, entry: &AuditEntry) -> Result<()> {
    execute(
        c,
        &format!("INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
        &[
            &signed(entry.seq, "audit seq")?,
            &entry.draft.at_unix_us,
            &entry.draft.user,
            &entry.draft.agency,
            &entry.draft.operation,
            &json(&entry.draft.targets)?,
            &entry.draft.details,
            &signed(entry.draft.result_count, "result count")?,
            &entry.prev_hash.to_hex(),
            &entry.hash.to_hex(),
        ],
    )
    .await?;
    Ok(())
}

const AUDIT_COLUMNS: &str =
    "seq, at_unix_us, user_name, agency, operation, targets, details, result_count, prev_hash, hash";

/// Loaded leniently: a field that was tampered into an unreadable form still loads, so that
/// verification names the entry instead of failing to read the log.
fn audit_entry(row: &Row) -> Result<AuditEntry> {
    let targets: &str = row.get(5);
    Ok(AuditEntry {
        seq: count(row.get(0), "audit seq")?,
        draft: AuditDraft {
            at_unix_us: row.get(1),
            user: row.get(2),
            agency: row.get(3),
            operation: row.get(4),
            targets: serde_json::from_str(targets).unwrap_or_else(|_| vec![targets.to_owned()]),
            details: row.get(6),
            result_count: row.get::<_, i64>(7) as u64,
        },
        prev_hash: Hash::from_hex(row.get(8)).unwrap_or_default(),
        hash: Hash::from_hex(row.get(9)).unwrap_or_default(),
    })
}

const ALERT_COLUMNS: &str = "body, version, seq, created_at_unix_us, updated_at_unix_us";

fn stored_alert(row: &Row) -> Result<StoredAlert> {
    check_loaded(StoredAlert {
        alert: parse("alert", row.get::<_, &str>(0))?,
        version: count(row.get(1), "version")?,
        seq: count(row.get(2), "seq")?,
        created_at_unix_us: row.get(3),
        updated_at_unix_us: row.get(4),
    })
}

async fn load_alert(c: &impl GenericClient, id: AlertId) -> Result<Option<StoredAlert>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
    row(c, &sql, &[&id_bytes(id.0).as_slice()]).await?.as_ref().map(stored_alert).transpose()
}

/// What a hit is read from: its row, and its check's body.
const HIT_SELECT: &str =
    "SELECT h.id, h.check_id, h.alert_id, h.owner, h.body, c.body FROM hits h LEFT JOIN checks c ON c.id = h.check_id";

fn hit_from(row: &Row) -> Result<HitRecord> {
    let key =
        (HitId(id_from(row.get(0))?), row.get::<_, String>(1), AlertId(id_from(row.get(2))?), agency_code(row.get(3))?);
    let check: Option<&str> = row.get(5);
    let check = check.ok_or_else(|| StoreError::Corrupt(format!("hit's check {} is missing", key.1)))?;
    Ok(HitRecord::from_stored(key, parse("hit", row.get(4))?, parse("check", check)?))
}

async fn load_hit(c: &impl GenericClient, id: HitId) -> Result<Option<HitRecord>> {
    let sql = format!("{HIT_SELECT} WHERE h.id = $1");
    row(c, &sql, &[&id_bytes(id.0).as_slice()]).await?.as_ref().map(hit_from).transpose()
}

/// Writes a hit's row, and its check's unless `previous` (the hit written just before it) is
/// of the same check or the store holds the check already, the same. A hit that exists is
/// refused, and so is one whose check differs from the one stored.
async fn insert_hit(tx: &Transaction<'_>, hit: &HitRecord, previous: Option<&HitRecord>) -> Result<()> {
    // Hits of one check written one after the other share it (`check_checks` held them alike).
    if previous.is_none_or(|p| p.check_id != hit.check_id) {
        let check = hit.stored_check();
        let sql = "INSERT INTO checks (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        if execute(tx, sql, &[&&*hit.check_id, &json(&check)?]).await? == 0 {
            let kept = row(tx, "SELECT body FROM checks WHERE id = $1", &[&&*hit.check_id]).await?;
            if body::<StoredCheck>("check", kept)?.as_ref() != Some(&check) {
                return Err(check_differs(hit));
            }
        }
    }
    let inserted = execute(
        tx,
        "INSERT INTO hits (id, check_id, alert_id, owner, outcome, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING",
        &[
            &id_bytes(hit.id.0).as_slice(),
            &&*hit.check_id,
            &id_bytes(hit.alert_id.0).as_slice(),
            &hit.owner.as_str(),
            &hit.outcome.as_ref().map(|o| o.kind.as_str()),
            &json(&hit.stored_hit())?,
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(format!("hit {}", hit.id)));
    }
    Ok(())
}

const UPSERT_ALERT: &str =
    "INSERT INTO alerts (id, owner, category, source_id, version, seq, created_at_unix_us, updated_at_unix_us, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET category = excluded.category, source_id = excluded.source_id,
       version = excluded.version, seq = excluded.seq, updated_at_unix_us = excluded.updated_at_unix_us,
       body = excluded.body";
const INSERT_CHANGE: &str =
    "INSERT INTO changes (owner, seq, alert_id, version, op, at_unix_us, body) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const UPSERT_HEAD: &str = "INSERT INTO owner_seq (owner, last_seq) VALUES ($1, $2)
     ON CONFLICT (owner) DO UPDATE SET last_seq = excluded.last_seq";

/// A planned change as the columns it writes.
struct Effect {
    change: Change,
    id: Vec<u8>,
    /// The alert's columns after the change (none for a removal).
    alert: Option<AlertColumns>,
    change_body: Option<String>,
}

struct AlertColumns {
    category: &'static str,
    source_id: Option<String>,
    version: i64,
    seq: i64,
    created: i64,
    updated: i64,
    body: String,
}

/// Applies a batch of writes with a few round trips whatever its size: the owners' heads and
/// the current alerts are read at once, the batch is planned in memory with the rules every
/// store shares ([`plan_write`]), and its statements are sent pipelined, in order.
async fn apply_writes(tx: &Transaction<'_>, writes: &[AlertWrite], at_unix_us: i64) -> Result<Vec<Change>> {
    let mut owners: Vec<&str> = writes.iter().map(|w| w.owner().as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut heads: HashMap<String, u64> = HashMap::new();
    for row in rows(tx, "SELECT owner, last_seq FROM owner_seq WHERE owner = ANY($1)", &[&owners]).await? {
        heads.insert(row.get(0), count(row.get(1), "seq")?);
    }
    let ids: Vec<Vec<u8>> = writes.iter().map(|w| id_bytes(w.id().0).to_vec()).collect();
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ANY($1)");
    let mut current: HashMap<AlertId, Option<StoredAlert>> = HashMap::new();
    for row in rows(tx, &sql, &[&ids]).await? {
        let stored = stored_alert(&row)?;
        current.insert(stored.alert.id, Some(stored));
    }

    let mut effects = Vec::with_capacity(writes.len());
    for write in writes {
        let owner = write.owner().as_str();
        let seq = heads.get(owner).copied().unwrap_or(0) + 1;
        let (change, next) = plan_write(write, current.get(&write.id()).and_then(Option::as_ref), seq, at_unix_us)?;
        heads.insert(owner.to_owned(), seq);
        let alert = next
            .as_ref()
            .map(|stored| {
                Ok(AlertColumns {
                    category: stored.alert.category.as_str(),
                    source_id: stored.alert.source_id.clone(),
                    version: signed(stored.version, "version")?,
                    seq: signed(stored.seq, "seq")?,
                    created: stored.created_at_unix_us,
                    updated: stored.updated_at_unix_us,
                    body: json(&stored.alert)?,
                })
            })
            .transpose()?;
        let change_body = change.alert.as_ref().map(json).transpose()?;
        current.insert(write.id(), next);
        effects.push(Effect { id: id_bytes(change.alert_id.0).to_vec(), change, alert, change_body });
    }
    let heads: Vec<(String, i64)> = heads
        .into_iter()
        .filter(|(owner, _)| owners.contains(&owner.as_str()))
        .map(|(owner, seq)| Ok((owner, signed(seq, "seq")?)))
        .collect::<Result<_>>()?;

    let upsert = tx.prepare_cached(UPSERT_ALERT).await.map_err(backend)?;
    let delete = tx.prepare_cached("DELETE FROM alerts WHERE id = $1").await.map_err(backend)?;
    let unlink = tx.prepare_cached("DELETE FROM links WHERE lo = $1 OR hi = $1").await.map_err(backend)?;
    let log = tx.prepare_cached(INSERT_CHANGE).await.map_err(backend)?;
    let head = tx.prepare_cached(UPSERT_HEAD).await.map_err(backend)?;
    let mut statements: Vec<BoxFuture<'_, Result<()>>> = Vec::with_capacity(effects.len() * 2 + heads.len());
    for effect in &effects {
        let owner = effect.change.owner.as_str();
        let id = effect.id.as_slice();
        match &effect.alert {
            Some(a) => {
                let (upsert, source) = (&upsert, &a.source_id);
                statements.push(Box::pin(async move {
                    let params: [&(dyn ToSql + Sync); 9] =
                        [&id, &owner, &a.category, source, &a.version, &a.seq, &a.created, &a.updated, &a.body];
                    match tx.execute(upsert, &params).await {
                        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                            let source = source.as_deref().unwrap_or("");
                            Err(StoreError::AlreadyExists(format!("an alert of {owner} from source {source}")))
                        }
                        other => other.map(drop).map_err(write_error),
                    }
                }));
            }
            None => {
                let (delete, unlink) = (&delete, &unlink);
                statements.push(Box::pin(async move {
                    tx.execute(delete, &[&id]).await.map_err(backend)?;
                    Ok(())
                }));
                statements.push(Box::pin(async move {
                    tx.execute(unlink, &[&id]).await.map_err(backend)?;
                    Ok(())
                }));
            }
        }
        let (log, change) = (&log, &effect.change);
        statements.push(Box::pin(async move {
            let (seq, version) = (signed(change.seq, "seq")?, signed(change.version, "version")?);
            let params: [&(dyn ToSql + Sync); 7] =
                [&owner, &seq, &id, &version, &change.op.as_str(), &change.at_unix_us, &effect.change_body];
            tx.execute(log, &params).await.map_err(write_error)?;
            Ok(())
        }));
    }
    for (owner, seq) in &heads {
        let head = &head;
        statements.push(Box::pin(async move {
            tx.execute(head, &[owner, seq]).await.map_err(backend)?;
            Ok(())
        }));
    }
    // Sent in order without waiting for each answer: PostgreSQL runs them in that order.
    futures_util::future::try_join_all(statements).await?;
    Ok(effects.into_iter().map(|effect| effect.change).collect())
}

fn change_from(owner: &AgencyCode, row: &Row) -> Result<Change> {
    let op: &str = row.get(3);
    Ok(Change {
        owner: owner.clone(),
        seq: count(row.get(0), "seq")?,
        alert_id: AlertId(id_from(row.get(1))?),
        version: count(row.get(2), "version")?,
        op: ChangeOp::parse(op).ok_or_else(|| StoreError::Corrupt(format!("unknown change op {op}")))?,
        at_unix_us: row.get(4),
        alert: row.get::<_, Option<&str>>(5).map(|body| parse("change", body)).transpose()?,
    })
}

impl Store for PgStore {
    fn create_agency(&self, agency: &Agency, audit: AuditDraft) -> Result<()> {
        agency.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (code, body) = (agency.code.clone(), json(agency)?);
        self.write(audit, move |tx| {
            Box::pin(async move {
                let sql = "INSERT INTO agencies (code, body) VALUES ($1, $2) ON CONFLICT DO NOTHING";
                if execute(tx, sql, &[&code.as_str(), &body]).await? == 0 {
                    return Err(StoreError::AlreadyExists(format!("agency {code}")));
                }
                Ok(())
            })
        })
        .map(drop)
    }

    fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        let code = code.clone();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            body("agency", row(&c, "SELECT body FROM agencies WHERE code = $1", &[&code.as_str()]).await?)
        })
    }

    fn agencies(&self) -> Result<Vec<Agency>> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            bodies("agency", &rows(&c, "SELECT body FROM agencies ORDER BY code", &[]).await?)
        })
    }

    fn create_agreement(&self, agreement: &Agreement, audit: AuditDraft) -> Result<()> {
        agreement.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (id, body) = (agreement.id, json(agreement)?);
        self.write(audit, move |tx| {
            Box::pin(async move {
                let sql = "INSERT INTO agreements (id, body) VALUES ($1, $2) ON CONFLICT DO NOTHING";
                if execute(tx, sql, &[&id_bytes(id.0).as_slice(), &body]).await? == 0 {
                    return Err(StoreError::AlreadyExists(format!("agreement {id}")));
                }
                Ok(())
            })
        })
        .map(drop)
    }

    fn revoke_agreement(&self, id: AgreementId, on: time::Date, audit: AuditDraft) -> Result<Agreement> {
        self.change_agreement(id, audit, move |agreement| with_revocation(agreement, on))
    }

    fn consent_to_agreement(&self, id: AgreementId, party: &AgencyCode, audit: AuditDraft) -> Result<Agreement> {
        let party = party.clone();
        self.change_agreement(id, audit, move |agreement| with_consent(agreement, &party))
    }

    fn agreement(&self, id: AgreementId) -> Result<Option<Agreement>> {
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = "SELECT body FROM agreements WHERE id = $1";
            body("agreement", row(&c, sql, &[&id_bytes(id.0).as_slice()]).await?)
        })
    }

    fn agreements(&self) -> Result<Vec<Agreement>> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            bodies("agreement", &rows(&c, "SELECT body FROM agreements ORDER BY id", &[]).await?)
        })
    }

    fn write_alerts(&self, writes: &[AlertWrite], at_unix_us: i64, audit: AuditDraft) -> Result<Vec<Change>> {
        check_batch(writes)?;
        let writes = writes.to_vec();
        self.write(audit, move |tx| Box::pin(async move { apply_writes(tx, &writes, at_unix_us).await }))
            .map(|(changes, _)| changes)
    }

    fn alert(&self, id: AlertId) -> Result<Option<StoredAlert>> {
        self.run(move |pool| async move { load_alert(&connection(&pool).await?, id).await })
    }

    fn alerts_by_source(&self, owner: &AgencyCode, source_ids: &[&str]) -> Result<Vec<StoredAlert>> {
        check_sources(source_ids)?;
        let owner = owner.clone();
        let source_ids: Vec<String> = source_ids.iter().map(|s| s.to_string()).collect();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE owner = $1 AND source_id = ANY($2)");
            rows(&c, &sql, &[&owner.as_str(), &source_ids]).await?.iter().map(stored_alert).collect()
        })
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>> {
        let owner = filter.owner.as_ref().map(|o| o.as_str().to_owned());
        let category = filter.category.map(|c| c.as_str());
        let after = filter.after.map(|id| id_bytes(id.0).to_vec());
        let limit = filter.limit.min(tabadul_store::ALERTS_PER_READ_MAX) as i64;
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = format!(
                "SELECT {ALERT_COLUMNS} FROM alerts
                 WHERE ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR category = $2)
                   AND ($3::bytea IS NULL OR id > $3)
                 ORDER BY id LIMIT $4"
            );
            let found = rows(&c, &sql, &[&owner, &category, &after, &limit]).await?;
            found.iter().map(stored_alert).collect()
        })
    }

    fn alert_count(&self) -> Result<u64> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            let n = row(&c, "SELECT count(*) FROM alerts", &[]).await?.map_or(0, |row| row.get::<_, i64>(0));
            count(n, "count")
        })
    }

    fn changes(&self, owner: &AgencyCode, after_seq: u64, limit: usize) -> Result<Vec<Change>> {
        let owner = owner.clone();
        let after = signed(after_seq, "seq")?;
        let limit = limit as i64;
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let found = rows(
                &c,
                "SELECT seq, alert_id, version, op, at_unix_us, body FROM changes
                 WHERE owner = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&owner.as_str(), &after, &limit],
            )
            .await?;
            found.iter().map(|row| change_from(&owner, row)).collect()
        })
    }

    fn change_heads(&self) -> Result<Vec<(AgencyCode, u64)>> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            let found = rows(&c, "SELECT owner, last_seq FROM owner_seq ORDER BY owner", &[]).await?;
            found.iter().map(|row| Ok((agency_code(row.get(0))?, count(row.get(1), "seq")?))).collect()
        })
    }

    fn create_link(&self, link: &Link, audit: AuditDraft) -> Result<()> {
        if link.from == link.to {
            return Err(StoreError::Invalid("an alert cannot be linked to itself".into()));
        }
        let link = link.clone();
        self.write(audit, move |tx| {
            Box::pin(async move {
                for id in [link.from, link.to] {
                    let sql = "SELECT 1 FROM alerts WHERE id = $1";
                    if row(tx, sql, &[&id_bytes(id.0).as_slice()]).await?.is_none() {
                        return Err(StoreError::NotFound(format!("alert {id}")));
                    }
                }
                let (lo, hi) = if link.from < link.to { (link.from, link.to) } else { (link.to, link.from) };
                let inserted = execute(
                    tx,
                    "INSERT INTO links (lo, hi, kind, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&id_bytes(lo.0).as_slice(), &id_bytes(hi.0).as_slice(), &link.kind.as_str(), &json(&link)?],
                )
                .await?;
                if inserted == 0 {
                    return Err(StoreError::AlreadyExists(format!(
                        "{} link between {} and {}",
                        link.kind, link.from, link.to
                    )));
                }
                Ok(())
            })
        })
        .map(drop)
    }

    fn links(&self, id: AlertId) -> Result<Vec<Link>> {
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = "SELECT body FROM links WHERE lo = $1 OR hi = $1 ORDER BY id";
            bodies("link", &rows(&c, sql, &[&id_bytes(id.0).as_slice()]).await?)
        })
    }

    fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry> {
        self.write(audit, |_| Box::pin(async { Ok(()) })).map(|((), entry)| entry)
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        let after = signed(after_seq, "seq")?;
        let limit = limit as i64;
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let found = rows(
                &c,
                &format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after, &limit],
            )
            .await?;
            found.iter().map(audit_entry).collect()
        })
    }

    fn record_checks(&self, checks: Vec<(Vec<HitRecord>, AuditDraft)>) -> Result<Vec<AuditEntry>> {
        check_checks(&checks)?;
        self.run(move |pool| async move {
            let mut c = connection(&pool).await?;
            let tx = begin(&mut c).await?;
            let mut entries = Vec::with_capacity(checks.len());
            // The log's head read once: the batch's entries follow one another.
            let (mut seq, mut prev) = audit_next(&tx).await?;
            for (hits, audit) in checks {
                for (i, hit) in hits.iter().enumerate() {
                    insert_hit(&tx, hit, i.checked_sub(1).map(|p| &hits[p])).await?;
                }
                let entry = write_audit(&tx, seq, prev, audit).await?;
                (seq, prev) = (entry.seq + 1, entry.hash);
                entries.push(entry);
            }
            commit(tx).await?;
            Ok(entries)
        })
    }

    fn hit(&self, id: HitId) -> Result<Option<HitRecord>> {
        self.run(move |pool| async move { load_hit(&connection(&pool).await?, id).await })
    }

    fn record_outcome(
        &self,
        id: HitId,
        outcome: &Outcome,
        notification: Option<&Notification>,
        audit: AuditDraft,
    ) -> Result<HitRecord> {
        let (outcome, notification) = (outcome.clone(), notification.cloned());
        self.write(audit, move |tx| {
            Box::pin(async move {
                let mut hit = load_hit(tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("hit {id}")))?;
                check_outcome(&hit, &outcome, notification.as_ref())?;
                hit.outcome = Some(outcome.clone());
                let sql = "UPDATE hits SET outcome = $2, body = $3 WHERE id = $1";
                let body = json(&hit.stored_hit())?;
                execute(tx, sql, &[&id_bytes(id.0).as_slice(), &outcome.kind.as_str(), &body]).await?;
                if let Some(n) = &notification {
                    let sql = "INSERT INTO notifications (id, owner, acknowledged, body) VALUES ($1, $2, false, $3)";
                    execute(tx, sql, &[&id_bytes(n.id.0).as_slice(), &n.owner.as_str(), &json(n)?]).await?;
                }
                Ok(hit)
            })
        })
        .map(|(hit, _)| hit)
    }

    fn receive_notification(&self, notification: &Notification, audit: AuditDraft) -> Result<()> {
        let (id, owner, acknowledged, body) =
            (notification.id, notification.owner.clone(), notification.acknowledged.is_some(), json(notification)?);
        self.write(audit, move |tx| {
            Box::pin(async move {
                let sql = "INSERT INTO notifications (id, owner, acknowledged, body) VALUES ($1, $2, $3, $4)
                           ON CONFLICT DO NOTHING";
                if execute(tx, sql, &[&id_bytes(id.0).as_slice(), &owner.as_str(), &acknowledged, &body]).await? == 0 {
                    return Err(StoreError::AlreadyExists(format!("notification {id}")));
                }
                Ok(())
            })
        })
        .map(drop)
    }

    fn notification(&self, id: NotificationId) -> Result<Option<Notification>> {
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            body(
                "notification",
                row(&c, "SELECT body FROM notifications WHERE id = $1", &[&id_bytes(id.0).as_slice()]).await?,
            )
        })
    }

    fn notifications(&self, owner: &AgencyCode, pending: bool, limit: usize) -> Result<Vec<Notification>> {
        let owner = owner.clone();
        let limit = limit as i64;
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let found = rows(
                &c,
                "SELECT body FROM notifications WHERE owner = $1 AND (NOT $2 OR NOT acknowledged)
                 ORDER BY id DESC LIMIT $3",
                &[&owner.as_str(), &pending, &limit],
            )
            .await?;
            bodies("notification", &found)
        })
    }

    fn acknowledge(
        &self,
        id: NotificationId,
        owner: &AgencyCode,
        acknowledgement: &Acknowledgement,
        audit: AuditDraft,
    ) -> Result<Notification> {
        let (owner, acknowledgement) = (owner.clone(), acknowledgement.clone());
        self.write(audit, move |tx| {
            Box::pin(async move {
                let key = id_bytes(id.0);
                let sql = "SELECT body FROM notifications WHERE id = $1 AND owner = $2";
                let found = row(tx, sql, &[&key.as_slice(), &owner.as_str()]).await?;
                let mut notification: Notification =
                    body("notification", found)?.ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
                if notification.acknowledged.is_some() {
                    return Err(StoreError::AlreadyExists(format!("an acknowledgement of notification {id}")));
                }
                notification.acknowledged = Some(acknowledgement);
                let sql = "UPDATE notifications SET acknowledged = true, body = $2 WHERE id = $1";
                execute(tx, sql, &[&key.as_slice(), &json(&notification)?]).await?;
                Ok(notification)
            })
        })
        .map(|(notification, _)| notification)
    }

    fn false_positives(&self, owner: &AgencyCode) -> Result<Vec<(AlertId, u64)>> {
        let owner = owner.clone();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let found = rows(
                &c,
                "SELECT alert_id, COUNT(*) FROM hits WHERE owner = $1 AND outcome = $2
                 GROUP BY alert_id ORDER BY alert_id",
                &[&owner.as_str(), &OutcomeKind::FalsePositive.as_str()],
            )
            .await?;
            found.iter().map(|row| Ok((AlertId(id_from(row.get(0))?), count(row.get(1), "false positives")?))).collect()
        })
    }

    fn create_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        self.put_user(user, audit, true)
    }

    fn update_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        self.put_user(user, audit, false)
    }

    fn user(&self, name: &str) -> Result<Option<StoredUser>> {
        let name = name.to_owned();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            body("user", row(&c, "SELECT body FROM users WHERE name = $1", &[&name]).await?)
        })
    }

    fn users(&self, agency: Option<&AgencyCode>) -> Result<Vec<StoredUser>> {
        let agency = agency.map(|a| a.as_str().to_owned());
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = "SELECT body FROM users WHERE $1::text IS NULL OR agency = $1 ORDER BY name";
            bodies("user", &rows(&c, sql, &[&agency]).await?)
        })
    }

    fn create_token(&self, token: &TokenRecord, audit: AuditDraft) -> Result<()> {
        let (hash, user, body) = (token.hash.clone(), token.user.clone(), json(token)?);
        self.write(audit, move |tx| {
            Box::pin(async move {
                if row(tx, "SELECT 1 FROM users WHERE name = $1", &[&user]).await?.is_none() {
                    return Err(StoreError::NotFound(format!("user {user}")));
                }
                let sql = "INSERT INTO tokens (hash, user_name, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
                if execute(tx, sql, &[&hash, &user, &body]).await? == 0 {
                    return Err(StoreError::AlreadyExists("that token".into()));
                }
                Ok(())
            })
        })
        .map(drop)
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let hash = hash.to_owned();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            body("token", row(&c, "SELECT body FROM tokens WHERE hash = $1", &[&hash]).await?)
        })
    }

    fn tokens(&self, user: &str) -> Result<Vec<TokenRecord>> {
        let user = user.to_owned();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let mut tokens: Vec<TokenRecord> =
                bodies("token", &rows(&c, "SELECT body FROM tokens WHERE user_name = $1", &[&user]).await?)?;
            tokens.sort_by_key(|t| t.created_at_unix_us);
            Ok(tokens)
        })
    }

    fn revoke_token(&self, hash: &str, audit: AuditDraft) -> Result<()> {
        let hash = hash.to_owned();
        self.write(audit, move |tx| {
            Box::pin(async move {
                let found = row(tx, "SELECT body FROM tokens WHERE hash = $1", &[&hash]).await?;
                let mut token: TokenRecord =
                    body("token", found)?.ok_or_else(|| StoreError::NotFound("token".into()))?;
                token.revoked = true;
                execute(tx, "UPDATE tokens SET body = $2 WHERE hash = $1", &[&hash, &json(&token)?]).await?;
                Ok(())
            })
        })
        .map(drop)
    }

    fn federation_state(&self) -> Result<Option<String>> {
        self.run(|pool| async move {
            let c = connection(&pool).await?;
            let found = row(&c, "SELECT body FROM federation WHERE name = 'state'", &[]).await?;
            Ok(found.map(|row| row.get::<_, String>(0)))
        })
    }

    fn save_federation_state(&self, state: &str) -> Result<()> {
        let state = state.to_string();
        self.run(move |pool| async move {
            let c = connection(&pool).await?;
            let sql = "INSERT INTO federation (name, body) VALUES ('state', $1)
                       ON CONFLICT (name) DO UPDATE SET body = excluded.body";
            execute(&c, sql, &[&state]).await?;
            Ok(())
        })
    }

    fn export(&self, visit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let runtime = self.runtime.as_ref().ok_or_else(|| StoreError::Backend("the store is closed".into()))?;
        let pool = self.pool.clone();
        let (pages, received) = std::sync::mpsc::sync_channel::<Result<Vec<Record>>>(2);
        runtime.spawn(async move {
            let sent = pages.clone();
            if let Err(error) = export_pages(&pool, &pages).await {
                let _ = tokio::task::block_in_place(|| sent.send(Err(error)));
            }
        });
        for page in received {
            for record in page? {
                visit(record)?;
            }
        }
        Ok(())
    }

    fn restore(&self, records: &[Record]) -> Result<()> {
        check_restore(records)?;
        let records = records.to_vec();
        self.run(move |pool| async move {
            let mut c = connection(&pool).await?;
            let tx = begin(&mut c).await?;
            for run in records.chunk_by(|a, b| a.kind() == b.kind()) {
                if run[0].kind() == RecordKind::Link {
                    // One at a time: their order is the order of their generated ids.
                    for record in run {
                        restore_one(&tx, record).await?;
                    }
                } else {
                    // Sent without waiting for each answer (pipelined).
                    futures_util::future::try_join_all(run.iter().map(|record| restore_one(&tx, record))).await?;
                }
            }
            commit(tx).await
        })
    }
}
