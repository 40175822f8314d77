//! Border checks: a traveller (a passport's MRZ, or a typed identity) against the alerts the
//! checking agency may see, with the hits ranked and explained, written to the audit log and
//! answered with a signed receipt.
//!
//! The node keeps the screening index in memory once a check needs it: built from the store,
//! then kept in step with every write the node makes (one writer at a time, so the index and
//! the data version it reports never disagree with the store).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use serde::Serialize;
use tabadul_audit::{AuditDraft, AuditEntry, ops};
use tabadul_domain::{
    Action, AgencyCode, Alert, AlertId, Category, CountryCode, DocumentStatus, Gender, HitId, PartialDate, Role,
    SharingTable, Subject, Visibility, WarningMarker,
};
use tabadul_engine::PersonQuery;
use tabadul_index::{Change as IndexChange, Index, IndexedAlert, SearchOptions};
use tabadul_store::{AlertFilter, Change, HitRecord, Store};

use crate::canonical::{canonical_json, canonical_sha256};
use crate::receipt::{DataHead, NodeKey, Receipt};
use crate::{Actor, Node, NodeError, Result, new_id};

/// Most names one check searches.
pub const NAMES_PER_CHECK_MAX: usize = 8;
/// Most bytes of any one field of a check.
pub const CHECK_FIELD_BYTES_MAX: usize = 256;

/// What an officer checks: an MRZ, typed data, or both (typed data adds to the MRZ's).
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    /// The border crossing point.
    pub post: String,
    pub mrz: Option<String>,
    pub names: Vec<String>,
    pub birth_dates: Vec<PartialDate>,
    pub nationalities: Vec<CountryCode>,
    pub gender: Option<Gender>,
    pub document_number: Option<String>,
    /// The document's issuing state, as the MRZ writes it (ICAO code).
    pub document_state: Option<String>,
    pub vin: Option<String>,
    pub plate: Option<String>,
}

/// The traveller data a check searched: what its receipt's query hash covers.
#[derive(Debug, Clone, Serialize)]
pub struct Traveller {
    pub names: Vec<String>,
    pub birth_dates: Vec<String>,
    pub nationalities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentSeen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleSeen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<MrzSeen>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentSeen {
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_state: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VehicleSeen {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
}

/// The MRZ as read: its format, lines, and what was wrong with it.
#[derive(Debug, Clone, Serialize)]
pub struct MrzSeen {
    pub format: String,
    pub lines: Vec<String>,
    /// Whether every check digit is valid.
    pub checks_valid: bool,
    /// Failed check digits and other problems, in words.
    pub diagnostics: Vec<String>,
    /// Digits put back where a reader read letters, in words.
    pub corrections: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
    /// Whether the document expired before the day of the check.
    pub expired: bool,
}

/// What a hit tells the officer. At `hit` level only that the owner has an alert, its
/// reference, and what to do; at `full` level the alert's details and the explanation.
///
/// The fields in the order of their names: a receipt hashes every hit as canonical JSON (keys
/// sorted), which then writes them as they come instead of moving a kilobyte of text each.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub action: Action,
    pub alert_id: AlertId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
    /// The explanation in Arabic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanation_ar: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handling: Option<std::borrow::Cow<'static, str>>,
    /// This hit, to record its outcome with (`hits confirm` or `hits reject`).
    pub hit_id: HitId,
    /// What to do, in words.
    pub instruction: String,
    /// `full` or `hit`.
    pub level: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<WarningMarker>,
    /// The names the alert records (person hits, full level).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub owner: AgencyCode,
    /// For a person to protect: the service to refer them to (at every level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remarks: String,
    /// For person hits: the score in [0, 1], to three decimals (an `f64`, so that the JSON
    /// printed and the JSON hashed for the receipt write it alike).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The document's status (document hits, full level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DocumentStatus>,
}

impl Hit {
    /// A hit as a `hit`-level partner is told it: whom to contact, the reference, what to do.
    pub(crate) fn at_hit_level(
        alert_id: AlertId,
        owner: AgencyCode,
        action: Action,
        instruction: String,
        refer_to: Option<String>,
        score: Option<f64>,
    ) -> Hit {
        Hit {
            hit_id: HitId(new_id()),
            alert_id,
            owner,
            level: "hit",
            action,
            instruction,
            refer_to,
            score,
            category: None,
            explanation: Vec::new(),
            explanation_ar: Vec::new(),
            markers: Vec::new(),
            handling: None,
            names: Vec::new(),
            status: None,
            remarks: String::new(),
        }
    }
}

/// The answer of a check: document first, then persons (ranked), then vehicles.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub documents: Vec<Hit>,
    pub persons: Vec<Hit>,
    pub vehicles: Vec<Hit>,
}

impl CheckResult {
    pub fn hit_count(&self) -> usize {
        self.documents.len() + self.persons.len() + self.vehicles.len()
    }
}

/// A check's lists of hits as JSON, written once: the receipt's hash of the result is taken
/// from them, and a manifest's report writes them as they are (each hit's text was written
/// twice again otherwise, some 3,000 of them a flight).
#[derive(Debug, Clone)]
pub(crate) struct ResultJson {
    pub(crate) documents: Box<serde_json::value::RawValue>,
    pub(crate) persons: Box<serde_json::value::RawValue>,
    pub(crate) vehicles: Box<serde_json::value::RawValue>,
}

impl ResultJson {
    fn of(result: &CheckResult) -> Result<ResultJson> {
        let list = |hits: &[Hit]| {
            serde_json::value::to_raw_value(hits)
                .map_err(|e| NodeError::Internal(tabadul_store::StoreError::Backend(format!("writing hits: {e}"))))
        };
        Ok(ResultJson {
            documents: list(&result.documents)?,
            persons: list(&result.persons)?,
            vehicles: list(&result.vehicles)?,
        })
    }

    /// The SHA-256 of the result's canonical JSON, in hex, as [`canonical_sha256`] gives it:
    /// a hit's plain JSON is its canonical JSON (its fields are declared in the order of
    /// their names, which a test holds), so the result's is its three lists under their keys,
    /// in that order.
    fn sha256(&self) -> String {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        for (key, list) in
            [("{\"documents\":", &self.documents), (",\"persons\":", &self.persons), (",\"vehicles\":", &self.vehicles)]
        {
            hasher.update(key.as_bytes());
            hasher.update(list.get().as_bytes());
        }
        hasher.update(b"}");
        hex::encode(hasher.finalize())
    }
}

/// A check as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub at: String,
    pub agency: AgencyCode,
    pub user: String,
    pub post: String,
    pub traveller: Traveller,
    pub result: CheckResult,
}

/// A check and its signed receipt.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub check: CheckReport,
    pub receipt: Receipt,
}

/// A check searched and answered but not yet recorded ([`Node::search_checks`]); it is recorded
/// by [`Node::record_checks`], which signs its receipt.
pub struct PreparedCheck {
    pub(crate) check: CheckReport,
    /// Signed once the audit entry's number is known.
    receipt: Receipt,
    pub(crate) records: Vec<HitRecord>,
    pub(crate) audit: AuditDraft,
    /// The result's lists of hits as JSON.
    pub(crate) json: ResultJson,
}

impl PreparedCheck {
    /// The check as answered, its receipt naming audit entry `audit_seq` and signed.
    pub(crate) fn finish(check: CheckReport, receipt: Receipt, audit_seq: u64, key: &NodeKey) -> CheckOutcome {
        let receipt = Receipt { audit_seq, ..receipt }.sign(key);
        CheckOutcome { check, receipt }
    }
}

/// Checks waiting to be written, and whether a writer is at work: concurrent checks are
/// recorded together, in one transaction and one write to disk (group commit). The first check
/// to arrive while nobody writes takes every check queued by then and writes them all; the
/// others wait for their entries. A batch that fails is retried check by check, so that one
/// check's error is its own.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<Queue>,
    written: Condvar,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, Vec<HitRecord>, AuditDraft)>,
    done: HashMap<u64, Result<AuditEntry>>,
    writing: bool,
}

impl GroupCommit {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records checks' hits and audit entries, together with the checks of other threads that
    /// arrive meanwhile; returns when they are durable, each check's result in order.
    pub(crate) fn record(
        &self,
        store: &dyn Store,
        checks: Vec<(Vec<HitRecord>, AuditDraft)>,
    ) -> Vec<Result<AuditEntry>> {
        let mut queue = self.lock();
        let first = queue.next_ticket;
        let count = checks.len() as u64;
        queue.next_ticket += count;
        queue.waiting.extend((first..).zip(checks).map(|(ticket, (hits, audit))| (ticket, hits, audit)));
        loop {
            if (first..first + count).all(|ticket| queue.done.contains_key(&ticket)) {
                return (first..first + count).filter_map(|ticket| queue.done.remove(&ticket)).collect();
            }
            if queue.writing {
                queue = self.written.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            queue.writing = true;
            let batch = std::mem::take(&mut queue.waiting);
            drop(queue);
            let results = write_batch(store, batch);
            queue = self.lock();
            queue.writing = false;
            queue.done.extend(results);
            self.written.notify_all();
        }
    }
}

fn write_batch(store: &dyn Store, batch: Vec<(u64, Vec<HitRecord>, AuditDraft)>) -> Vec<(u64, Result<AuditEntry>)> {
    if batch.len() > 1 {
        let checks = batch.iter().map(|(_, hits, audit)| (hits.clone(), audit.clone())).collect();
        if let Ok(entries) = store.record_checks(checks) {
            return batch.iter().map(|(ticket, _, _)| *ticket).zip(entries.into_iter().map(Ok)).collect();
        }
    }
    batch
        .into_iter()
        .map(|(ticket, hits, audit)| (ticket, store.record_check(&hits, audit).map_err(NodeError::from)))
        .collect()
}

/// The index a node checks against, with the data version it holds.
struct Snapshot {
    index: Index,
    heads: Vec<(AgencyCode, u64)>,
}

/// The node's screening state: built on the first check, kept in step with writes after.
#[derive(Default)]
pub(crate) struct Screening {
    current: OnceLock<arc_swap::ArcSwap<Snapshot>>,
    /// Partners' alerts shared with this node at `hit` level, by their hit keys.
    federated: std::sync::RwLock<Option<Arc<FederatedHits>>>,
    /// Set on a border post: what it replicates, and how far.
    replica: std::sync::RwLock<Option<Replica>>,
    /// How far each origin's replicated stream is applied (a federating node's receipts name it).
    replica_version: std::sync::RwLock<Vec<DataHead>>,
    /// Alerts that hits were made of lately, kept in step with writes like the index.
    alerts: AlertCache,
    /// Agencies read from the store: an agency is never changed or removed once made (the
    /// store has no such operation), so what is kept stays true. Every check reads its own
    /// agency and the owners of its hits.
    pub(crate) agencies: std::sync::RwLock<HashMap<AgencyCode, tabadul_domain::Agency>>,
    /// Checks being recorded.
    pub(crate) commits: GroupCommit,
    /// Held by every write and by the first build, so that none is missed or applied twice.
    writer: Mutex<()>,
}

/// The hit keys partners shared with this node, and the secret shared with each.
#[derive(Debug, Default)]
pub struct FederatedHits {
    pub index: tabadul_federation::HitIndex,
    pub secrets: BTreeMap<AgencyCode, [u8; 32]>,
}

/// Alerts read for hits, by id, with their version (`None`: removed), so that the alerts a
/// popular name hits again and again are read from the store once. Bounded: emptied when full.
#[derive(Default)]
struct AlertCache {
    inner: Mutex<AlertCacheInner>,
}

#[derive(Default)]
struct AlertCacheInner {
    alerts: HashMap<AlertId, (u64, Option<Arc<Alert>>)>,
    /// Counts the times the cache was emptied: a read from the store that began before is not
    /// kept (a removal it missed may have been forgotten with the rest).
    generation: u64,
}

impl AlertCacheInner {
    /// Empties the cache if it holds `limit` alerts or more (a new generation); whether it did.
    fn empty_if_full(&mut self, limit: usize) -> bool {
        let full = self.alerts.len() >= limit;
        if full {
            self.alerts.clear();
            self.generation += 1;
        }
        full
    }
}

/// Alerts kept in the cache at most.
const ALERTS_CACHED_MAX: usize = 50_000;

impl AlertCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, AlertCacheInner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The alert if kept, else the cache's generation to hand to [`AlertCache::keep`].
    fn get(&self, id: AlertId) -> Result<Arc<Alert>, u64> {
        let inner = self.inner();
        match inner.alerts.get(&id) {
            Some((_, Some(alert))) => Ok(alert.clone()),
            _ => Err(inner.generation),
        }
    }

    /// Keeps an alert read from the store at `version`, unless a newer version (or its removal)
    /// is known or the cache was emptied since the read began.
    fn keep(&self, generation: u64, version: u64, alert: Arc<Alert>) {
        let mut inner = self.inner();
        if inner.generation != generation {
            return;
        }
        if inner.empty_if_full(ALERTS_CACHED_MAX) {
            return;
        }
        let slot = inner.alerts.entry(alert.id).or_insert((0, None));
        if slot.0 < version || (slot.0 == version && slot.1.is_none() && version > 0) {
            *slot = (version, Some(alert));
        }
    }

    /// A write's changes: the alerts kept are replaced or marked removed; for the others only
    /// the version is noted, so that a read that began before the write cannot keep the old one.
    fn apply(&self, changes: &[Change]) {
        let mut inner = self.inner();
        for change in changes {
            let slot = inner.alerts.entry(change.alert_id).or_insert((0, None));
            if slot.0 <= change.version {
                let kept = slot.1.is_some();
                *slot = (change.version, change.alert.as_ref().filter(|_| kept).map(|a| Arc::new(a.clone())));
            }
        }
        inner.empty_if_full(ALERTS_CACHED_MAX + 1);
    }
}

/// What a border post replicates: its national node's data. Alerts are changed there, never at
/// the post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// The agency whose national node the post replicates.
    pub agency: AgencyCode,
    /// The post's name.
    pub post: String,
}

impl Screening {
    pub(crate) fn replica(&self) -> Option<Replica> {
        self.replica.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn replica_version(&self) -> Vec<DataHead> {
        self.replica_version.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn federated(&self) -> Option<Arc<FederatedHits>> {
        self.federated.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies changes the store made, if the index is built (the caller holds the lock).
    pub(crate) fn apply(&self, changes: &[Change]) {
        self.alerts.apply(changes);
        let Some(current) = self.current.get() else { return };
        let snapshot = current.load();
        let updates = changes
            .iter()
            .map(|change| match &change.alert {
                Some(alert) => IndexChange::Upsert(IndexedAlert::from_alert(alert)),
                None => IndexChange::Remove(change.alert_id),
            })
            .collect();
        let mut heads = snapshot.heads.clone();
        for change in changes {
            match heads.iter_mut().find(|(owner, _)| *owner == change.owner) {
                Some((_, seq)) => *seq = (*seq).max(change.seq),
                None => heads.push((change.owner.clone(), change.seq)),
            }
        }
        heads.sort();
        current.store(Arc::new(Snapshot { index: snapshot.index.apply(updates), heads }));
    }
}

impl Node {
    /// Builds the screening index from the store, if it is not built yet: what a check does
    /// itself, for one check from the command line.
    pub fn load_index(&self) -> Result<()> {
        self.build_index(false)
    }

    /// Whether the screening index is built (checks answer at once).
    pub fn index_ready(&self) -> bool {
        self.screening.current.get().is_some()
    }

    /// Builds the screening index and computes each name's close spellings ahead, on every
    /// core: what a server does at start, so that no check pays for them.
    pub fn prepare_index(&self) -> Result<()> {
        self.build_index(true)
    }

    fn build_index(&self, warm: bool) -> Result<()> {
        if self.screening.current.get().is_some() {
            return Ok(());
        }
        let _one_writer = self.screening.lock();
        if self.screening.current.get().is_some() {
            return Ok(());
        }
        let mut alerts = Vec::new();
        let mut filter = AlertFilter::default();
        loop {
            let page = self.store.alerts(&filter)?;
            let Some(last) = page.last() else { break };
            filter.after = Some(last.alert.id);
            alerts.extend(page.iter().map(|stored| IndexedAlert::from_alert(&stored.alert)));
        }
        let heads = self.store.change_heads()?;
        let index = Index::build(alerts);
        if warm {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            std::thread::scope(|scope| {
                for part in 0..threads {
                    let index = &index;
                    scope.spawn(move || index.warm(part, threads));
                }
            });
        }
        let snapshot = Snapshot { index, heads };
        let _ = self.screening.current.set(arc_swap::ArcSwap::from_pointee(snapshot));
        Ok(())
    }

    fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.load_index()?;
        let current = self.screening.current.get().ok_or_else(|| NodeError::Invalid("no index".into()))?;
        Ok(current.load_full())
    }

    /// Makes this node a border post's replica: alert writes are refused from now on.
    pub fn set_replica(&self, replica: Replica) {
        *self.screening.replica.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(replica);
    }

    /// The border post this node replicates for, if it is one.
    pub fn replica(&self) -> Option<Replica> {
        self.screening.replica()
    }

    /// How far each origin's stream is applied (what receipts name), as last set.
    pub fn replica_version(&self) -> Vec<DataHead> {
        self.screening.replica_version()
    }

    /// How far each origin's stream is applied here (`owner` the origin, `seq` the last envelope
    /// applied): receipts of checks from now on name it, so that a check answered offline at a
    /// post proves which data answered it.
    pub fn set_replica_version(&self, version: Vec<DataHead>) {
        *self.screening.replica_version.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = version;
    }

    /// The partners' hit keys that checks also search from now on (replaced whole).
    pub fn set_federated_hits(&self, hits: FederatedHits) {
        *self.screening.federated.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(hits));
    }

    /// Checks a traveller for the actor's agency at a border post: every alert the agency may
    /// see, at the level it may see it; the check is audited and its receipt signed with `key`.
    pub fn check(&self, actor: &Actor, key: &NodeKey, request: &CheckRequest) -> Result<CheckOutcome> {
        let table = self.checking_table(actor)?;
        self.check_with(actor, key, request, &table)
    }

    /// What the actor's agency may see today, once it is known that the actor may check.
    pub(crate) fn checking_table(&self, actor: &Actor) -> Result<SharingTable> {
        actor.require(&[Role::Officer, Role::Analyst])?;
        let agency = actor.agency()?;
        self.known_agency(agency)?;
        self.sharing_table(agency)
    }

    /// [`Node::check`] with the agency's sharing table already made.
    pub(crate) fn check_with(
        &self,
        actor: &Actor,
        key: &NodeKey,
        request: &CheckRequest,
        table: &SharingTable,
    ) -> Result<CheckOutcome> {
        let prepared = self.prepare_check(actor, request, table, &mut tabadul_index::SearchBatch::default())?;
        self.record_checks(vec![prepared], key)
            .pop()
            .unwrap_or_else(|| Err(NodeError::Invalid("nothing to record".into())))
    }

    /// The first half of [`Node::check`] for a batch of checks (one, or a bus's passengers): the
    /// searches, which are what takes the processor. A server bounds how many of these run at
    /// once, and lets [`Node::record_checks`] wait for the disk without holding that bound.
    /// Each check is searched on its own, sharing what their searches compute alike: each
    /// one's result or error, in order (an error of the caller's agency refuses them all).
    pub fn search_checks(&self, actor: &Actor, requests: &[CheckRequest]) -> Result<Vec<Result<PreparedCheck>>> {
        let table = self.checking_table(actor)?;
        let mut batch = tabadul_index::SearchBatch::default();
        Ok(requests.iter().map(|request| self.prepare_check(actor, request, &table, &mut batch)).collect())
    }

    /// The second half of [`Node::check`]: records checks (their hits and audit entries) with
    /// those of other threads in one write (group commit) and signs their receipts; each
    /// check's answer in order.
    pub fn record_checks(&self, checks: Vec<PreparedCheck>, key: &NodeKey) -> Vec<Result<CheckOutcome>> {
        let mut answers = Vec::with_capacity(checks.len());
        let mut records = Vec::with_capacity(checks.len());
        for PreparedCheck { check, receipt, records: hits, audit, .. } in checks {
            answers.push((check, receipt));
            records.push((hits, audit));
        }
        let entries = self.screening.commits.record(self.store(), records);
        answers
            .into_iter()
            .zip(entries)
            .map(|((check, receipt), entry)| Ok(PreparedCheck::finish(check, receipt, entry?.seq, key)))
            .collect()
    }

    /// A check searched and answered, not yet recorded: what it found, its hits as the store
    /// keeps them and its audit entry to be.
    pub(crate) fn prepare_check(
        &self,
        actor: &Actor,
        request: &CheckRequest,
        table: &SharingTable,
        batch: &mut tabadul_index::SearchBatch,
    ) -> Result<PreparedCheck> {
        let agency = actor.agency()?.clone();
        let today = self.today();
        let (traveller, search) = traveller(request, today)?;
        let snapshot = self.snapshot()?;
        let index = &snapshot.index;
        // The owners' names, read once per check however many of their alerts hit.
        let mut owners = BTreeMap::new();

        let mut documents = Vec::new();
        if let Some(document) = &traveller.document {
            let state = document.issuing_state.as_deref().unwrap_or_default();
            for hit in index.search_document(&document.number, state, table, today) {
                documents.push(self.hit(&mut owners, hit.id, hit.visibility, None, Vec::new())?);
            }
        }
        let mut persons = Vec::new();
        if !search.names.is_empty() {
            let prepared = search.prepare();
            let (hits, _) = index.search_person_in(&prepared, table, &SearchOptions::new(today), batch);
            for hit in hits {
                let score = (f64::from(hit.result.score) * 1000.0).round() / 1000.0;
                persons.push(self.hit(&mut owners, hit.id, hit.visibility, Some(score), hit.result.reasons)?);
            }
        }
        let found: Vec<&Hit> = documents.iter().chain(&persons).collect();
        let federated = self.federated_hits(&mut owners, &traveller, today, &found)?;
        persons.extend(federated);
        let mut vehicles = Vec::new();
        if let Some(vehicle) = &traveller.vehicle {
            for hit in index.search_vehicle(vehicle.vin.as_deref(), vehicle.plate.as_deref(), table, today) {
                vehicles.push(self.hit(&mut owners, hit.id, hit.visibility, None, Vec::new())?);
            }
        }
        let result = CheckResult { documents, persons, vehicles };

        let id = uuid::Uuid::from_u128(new_id()).to_string();
        let now = self.now();
        let at = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let query_sha256 = canonical_sha256(&traveller);
        let json = ResultJson::of(&result)?;
        let result_sha256 = json.sha256();
        let data_version: Vec<DataHead> =
            snapshot.heads.iter().map(|(owner, seq)| DataHead { owner: owner.to_string(), seq: *seq }).collect();
        let hit_ids: Vec<AlertId> =
            result.documents.iter().chain(&result.persons).chain(&result.vehicles).map(|h| h.alert_id).collect();
        let audit = self
            .audit(actor, ops::CHECK)
            .targets(hit_ids.iter().copied())
            .details(canonical_json(&CheckDetails {
                check: &id,
                post: &request.post,
                traveller: &traveller,
                hits: result
                    .documents
                    .iter()
                    .chain(&result.persons)
                    .chain(&result.vehicles)
                    .map(HitDetails::of)
                    .collect(),
                query_sha256: &query_sha256,
                result_sha256: &result_sha256,
                data_version: &data_version,
            }))
            .result_count(hit_ids.len() as u64);
        let traveller_json = Arc::new(serde_json::to_value(&traveller).unwrap_or_default());
        let at_unix_us = audit.at_unix_us;
        // What the check's hits share, once.
        let (check_id, user, post): (Arc<str>, Arc<str>, Arc<str>) =
            (id.as_str().into(), actor.user.as_str().into(), request.post.as_str().into());
        let records: Vec<HitRecord> = result
            .documents
            .iter()
            .chain(&result.persons)
            .chain(&result.vehicles)
            .map(|hit| HitRecord {
                id: hit.hit_id,
                check_id: check_id.clone(),
                alert_id: hit.alert_id,
                owner: hit.owner.clone(),
                agency: agency.clone(),
                user: user.clone(),
                post: post.clone(),
                at_unix_us,
                level: hit.level.into(),
                score: hit.score,
                action: hit.action,
                traveller: traveller_json.clone(),
                outcome: None,
            })
            .collect();
        let receipt = Receipt {
            id: id.clone(),
            at: at.clone(),
            agency: agency.to_string(),
            user: actor.user.clone(),
            post: request.post.clone(),
            query_sha256,
            result_sha256,
            data_version,
            replica_version: self.screening.replica_version(),
            audit_seq: 0,
            node_key: String::new(),
            signature: String::new(),
        };
        let check =
            CheckReport { id, at, agency, user: actor.user.clone(), post: request.post.clone(), traveller, result };
        Ok(PreparedCheck { check, receipt, records, audit, json })
    }

    /// An agency's name, read once per check.
    fn owner_name<'n>(&self, owners: &'n mut BTreeMap<AgencyCode, String>, owner: &AgencyCode) -> Result<&'n str> {
        if !owners.contains_key(owner) {
            let name = self.agency(owner)?.map_or_else(|| owner.to_string(), |a| a.name);
            owners.insert(owner.clone(), name);
        }
        Ok(owners.get(owner).map_or("", String::as_str))
    }

    /// The partners' alerts shared with this node at `hit` level that the traveller may be
    /// (found by their hit keys), as hits that say whom to contact and what to do, nothing more.
    fn federated_hits(
        &self,
        owners: &mut BTreeMap<AgencyCode, String>,
        traveller: &Traveller,
        today: time::Date,
        found: &[&Hit],
    ) -> Result<Vec<Hit>> {
        let Some(federated) = self.screening.federated() else { return Ok(Vec::new()) };
        let data = tabadul_federation::TravellerData {
            names: traveller.names.clone(),
            birth_years: traveller.birth_dates.iter().filter_map(|d| d.get(..4)?.parse().ok()).collect(),
            documents: traveller
                .document
                .iter()
                .map(|d| (d.issuing_state.clone().unwrap_or_default(), d.number.clone()))
                .collect(),
        };
        let secret = |origin: &AgencyCode| federated.secrets.get(origin).copied().unwrap_or([0; 32]);
        let mut hits = Vec::new();
        for possible in federated.index.search(&data, today, &secret) {
            if found.iter().any(|hit| hit.alert_id == possible.alert_id) {
                continue;
            }
            let owner_name = self.owner_name(owners, &possible.origin)?;
            let refer_to = (possible.action == Action::ProtectAndRefer).then(|| {
                possible.refer_to.clone().unwrap_or_else(|| format!("the protection service named by {owner_name}"))
            });
            let what = instruction_for(possible.action, "document", owner_name, refer_to.as_deref());
            let instruction = format!(
                "{owner_name} has an alert on this traveller, shared with you at hit level: contact them with reference {}. {what}",
                possible.alert_id
            );
            hits.push(Hit::at_hit_level(
                possible.alert_id,
                possible.origin.clone(),
                possible.action,
                instruction,
                refer_to,
                None,
            ));
        }
        Ok(hits)
    }

    /// What the officer is told of a hit on alert `id`, at the level the agency may see.
    fn hit(
        &self,
        owners: &mut BTreeMap<AgencyCode, String>,
        id: AlertId,
        visibility: Visibility,
        score: Option<f64>,
        reasons: Vec<tabadul_engine::Reason>,
    ) -> Result<Hit> {
        let alert = match self.screening.alerts.get(id) {
            Ok(alert) => alert,
            Err(generation) => {
                let stored = self.store.alert(id)?.ok_or_else(|| NodeError::NotFound(format!("alert {id}")))?;
                let alert = Arc::new(stored.alert);
                self.screening.alerts.keep(generation, stored.version, alert.clone());
                alert
            }
        };
        let alert = alert.as_ref();
        let owner_name = self.owner_name(owners, &alert.owner)?;
        let action = alert.effective_action();
        let refer_to = alert
            .category
            .is_protective()
            .then(|| alert.refer_to.clone().unwrap_or_else(|| format!("the protection service named by {owner_name}")));
        let full = visibility == Visibility::Full;
        let mut instruction = instruction(action, alert, owner_name, refer_to.as_deref());
        if !full {
            instruction = format!(
                "{owner_name} has an alert on this traveller, shared with you at hit level: contact them with reference {id}. {instruction}"
            );
        }
        let mut hit = Hit::at_hit_level(id, alert.owner.clone(), action, instruction, refer_to, score);
        if full {
            hit.level = "full";
            hit.category = Some(alert.category);
            (hit.explanation, hit.explanation_ar) = reasons.into_iter().map(|r| (r.text, r.text_ar)).unzip();
            hit.handling = Some(alert.handling.describe());
            hit.remarks = alert.remarks.clone();
            match &alert.subject {
                Subject::Person(person) => {
                    hit.markers = person.markers.clone();
                    hit.names = person.names.iter().map(|n| n.full.clone()).collect();
                }
                Subject::Document(document) => hit.status = Some(document.status),
                Subject::Vehicle(_) => {}
            }
        }
        Ok(hit)
    }
}

/// What to do on a hit, in words. A person to protect is never to be arrested.
fn instruction(action: Action, alert: &Alert, owner: &str, refer_to: Option<&str>) -> String {
    let what = match alert.subject {
        Subject::Vehicle(_) => "vehicle",
        _ => "document",
    };
    instruction_for(action, what, owner, refer_to)
}

/// What to do on a hit, in words; `what` is the thing to seize (`document`, `vehicle`).
fn instruction_for(action: Action, what: &str, owner: &str, refer_to: Option<&str>) -> String {
    match action {
        Action::Arrest => format!("Arrest: detain the person and contact {owner} to confirm the warrant."),
        Action::RefuseEntry => format!("Refuse entry as {owner} asks, and record the refusal."),
        Action::ProtectAndRefer => format!(
            "Protect the person: this is not an arrest. Keep them safe and refer them to {}.",
            refer_to.unwrap_or(owner)
        ),
        Action::ReportDiscreetly => {
            format!("Do not let the person know. Let them proceed and report the encounter to {owner}.")
        }
        Action::Question => format!("Question the person and report the encounter to {owner}."),
        Action::Seize => format!("Seize the {what} and report to {owner}."),
    }
}

/// The traveller data of a request (the MRZ read, then typed data added), and the person
/// query to search with.
fn traveller(request: &CheckRequest, today: time::Date) -> Result<(Traveller, PersonQuery)> {
    let fields = [&request.post]
        .into_iter()
        .chain(&request.names)
        .chain(request.document_number.as_ref())
        .chain(request.document_state.as_ref())
        .chain(request.vin.as_ref())
        .chain(request.plate.as_ref());
    for field in fields {
        if field.len() > CHECK_FIELD_BYTES_MAX {
            return Err(NodeError::Invalid(format!(
                "a field of the check is longer than {CHECK_FIELD_BYTES_MAX} bytes"
            )));
        }
        // Nothing a person or a document is called by; a NUL would also stop a store's move
        // of its records (PostgreSQL's jsonb refuses it). The MRZ's lines are checked apart.
        if field.chars().any(|c| c.is_ascii_control()) {
            return Err(NodeError::Invalid("a field of the check holds a control character".into()));
        }
    }
    if request.post.trim().is_empty() {
        return Err(NodeError::Invalid("a check needs the border crossing point (--post)".into()));
    }
    let mut query = PersonQuery::default();
    let mut document: Option<DocumentSeen> = None;
    let mut mrz_seen = None;
    if let Some(text) = &request.mrz {
        let mrz = tabadul_mrz::parse(text, today).map_err(|e| NodeError::Invalid(format!("MRZ: {e}")))?;
        let name = mrz.full_name();
        if !name.is_empty() {
            query.names.push(name);
        }
        query.birth_dates.extend(mrz.birth_date);
        query.nationalities.extend(mrz.nationality_country());
        query.gender = mrz.sex;
        if !mrz.document_number.is_empty() {
            query.documents.push(mrz.document_number.clone());
            document = Some(DocumentSeen {
                number: mrz.document_number.clone(),
                issuing_state: Some(mrz.issuing_state.clone()).filter(|s| !s.is_empty()),
            });
        }
        mrz_seen = Some(MrzSeen {
            format: mrz.format.as_str().to_string(),
            lines: mrz.lines.clone(),
            checks_valid: mrz.checks_valid(),
            diagnostics: mrz.diagnostics(),
            corrections: mrz
                .corrections
                .iter()
                .map(|c| format!("{} read {} as {}", c.field.as_str(), c.read, c.corrected))
                .collect(),
            expiry_date: mrz.expiry_date.map(|d| d.to_string()),
            expired: mrz.expiry_date.is_some_and(|d| d < today),
        });
    }
    for name in &request.names {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if !name.is_empty() && !query.names.contains(&name) {
            query.names.push(name);
        }
    }
    if query.names.len() > NAMES_PER_CHECK_MAX {
        return Err(NodeError::Invalid(format!("a check searches at most {NAMES_PER_CHECK_MAX} names")));
    }
    for date in &request.birth_dates {
        if !query.birth_dates.contains(date) {
            query.birth_dates.push(*date);
        }
    }
    for nationality in &request.nationalities {
        if !query.nationalities.contains(nationality) {
            query.nationalities.push(*nationality);
        }
    }
    query.gender = request.gender.or(query.gender);
    if let Some(number) = request.document_number.as_ref().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !query.documents.iter().any(|d| d == number) {
            query.documents.push(number.to_string());
        }
        let state = request.document_state.clone().or_else(|| document.as_ref().and_then(|d| d.issuing_state.clone()));
        document = Some(DocumentSeen { number: number.to_string(), issuing_state: state });
    } else if let (Some(document), Some(state)) = (document.as_mut(), &request.document_state) {
        document.issuing_state = Some(state.trim().to_ascii_uppercase());
    }
    let vehicle = (request.vin.is_some() || request.plate.is_some())
        .then(|| VehicleSeen { vin: request.vin.clone(), plate: request.plate.clone() });
    if query.names.is_empty() && document.is_none() && vehicle.is_none() {
        return Err(NodeError::Invalid(
            "a check needs something to search: an MRZ, a name, a document number or a vehicle".into(),
        ));
    }
    let traveller = Traveller {
        names: query.names.clone(),
        birth_dates: query.birth_dates.iter().map(|d| d.to_string()).collect(),
        nationalities: query.nationalities.iter().map(|c| c.to_string()).collect(),
        gender: query.gender,
        document,
        vehicle,
        mrz: mrz_seen,
    };
    Ok((traveller, query))
}

/// What the audit log records of a check, written as canonical JSON (keys sorted, as the log
/// has always written them; the fields in that order, so that nothing is moved).
#[derive(Serialize)]
struct CheckDetails<'a> {
    check: &'a str,
    data_version: &'a [DataHead],
    hits: Vec<HitDetails<'a>>,
    post: &'a str,
    query_sha256: &'a str,
    result_sha256: &'a str,
    traveller: &'a Traveller,
}

/// What the audit log records of each hit of a check (the fields in the order of their names).
#[derive(Serialize)]
struct HitDetails<'a> {
    action: &'a Action,
    alert: AlertId,
    category: &'a Option<Category>,
    hit: HitId,
    level: &'a str,
    score: Option<f64>,
}

impl HitDetails<'_> {
    fn of(hit: &Hit) -> HitDetails<'_> {
        HitDetails {
            hit: hit.hit_id,
            alert: hit.alert_id,
            level: hit.level,
            score: hit.score,
            action: &hit.action,
            category: &hit.category,
        }
    }
}

#[cfg(test)]
mod alert_cache_tests {
    use super::*;
    use tabadul_store::ChangeOp;
    use tabadul_store::conformance::person_alert;

    fn change(alert: &Alert, version: u64, removed: bool) -> Change {
        Change {
            owner: alert.owner.clone(),
            seq: version,
            alert_id: alert.id,
            version,
            op: if removed { ChangeOp::Delete } else { ChangeOp::Update },
            at_unix_us: 0,
            alert: (!removed).then(|| alert.clone()),
        }
    }

    #[test]
    fn the_cache_never_keeps_an_alert_older_than_a_write_it_saw() {
        let cache = AlertCache::default();
        let v1 = person_alert(1, "IQ-MOI", "Ali Hassan");
        let mut v2 = v1.clone();
        v2.remarks = "seen in Basra".into();
        // Read before a write, kept after it: the older version is refused.
        let generation = cache.get(v1.id).unwrap_err();
        cache.apply(&[change(&v2, 2, false)]);
        cache.keep(generation, 1, Arc::new(v1.clone()));
        let generation = cache.get(v1.id).unwrap_err();
        // Read again, at the version written: kept.
        cache.keep(generation, 2, Arc::new(v2.clone()));
        assert_eq!(cache.get(v1.id).unwrap().remarks, "seen in Basra");
        // A later write replaces what is kept; a removal forgets it.
        let mut v3 = v2.clone();
        v3.remarks = "arrested".into();
        cache.apply(&[change(&v3, 3, false)]);
        assert_eq!(cache.get(v1.id).unwrap().remarks, "arrested");
        cache.apply(&[change(&v3, 4, true)]);
        assert!(cache.get(v1.id).is_err());
        // A read that began before the cache was emptied is not kept.
        let other = person_alert(2, "IQ-MOI", "Omar Said");
        let generation = cache.get(other.id).unwrap_err();
        cache.inner().generation += 1;
        cache.keep(generation, 1, Arc::new(other.clone()));
        assert!(cache.get(other.id).is_err());
    }
}

#[cfg(test)]
mod canonical_order_tests {
    use super::*;
    use tabadul_domain::{DocumentStatus, WarningMarker};

    /// A hit with every field written, and what the audit log records of a check with it.
    fn full_hit() -> Hit {
        let owner = "IQ-MOI".parse::<AgencyCode>().expect("a valid code");
        let mut hit =
            Hit::at_hit_level(AlertId(7), owner, Action::Arrest, "Arrest.".into(), Some("IOM".into()), Some(0.9));
        hit.level = "full";
        hit.category = Some(Category::WantedForArrest);
        hit.explanation = vec!["name ali ≈ علي".into()];
        hit.explanation_ar = vec!["الاسم ali ≈ علي".into()];
        hit.markers = vec![WarningMarker::Armed];
        hit.handling = Some("H0".into());
        hit.names = vec!["علي حسن".into()];
        hit.status = Some(DocumentStatus::Lost);
        hit.remarks = "seen in Basra".into();
        hit
    }

    /// The structs a check hashes and logs declare their fields in the order of their names,
    /// so that canonical JSON writes them as they come: their plain JSON is their canonical
    /// JSON. A field added out of order fails here (and would cost every hit a move).
    #[test]
    fn hits_and_check_details_are_written_in_canonical_order() {
        let hit = full_hit();
        assert_eq!(serde_json::to_string(&hit).unwrap(), canonical_json(&hit));
        let result = CheckResult { documents: vec![hit.clone()], persons: vec![hit.clone()], vehicles: Vec::new() };
        assert_eq!(serde_json::to_string(&result).unwrap(), canonical_json(&result));
        let traveller = Traveller {
            names: vec!["Ali Hassan".into()],
            birth_dates: Vec::new(),
            nationalities: Vec::new(),
            gender: None,
            document: None,
            vehicle: None,
            mrz: None,
        };
        let details = CheckDetails {
            check: "c",
            data_version: &[],
            hits: vec![HitDetails::of(&hit)],
            post: "BGW",
            query_sha256: "q",
            result_sha256: "r",
            traveller: &traveller,
        };
        // The result's hash, taken from its lists as written once, is its canonical JSON's.
        let json = ResultJson::of(&result).unwrap();
        assert_eq!(json.sha256(), canonical_sha256(&result));
        assert_eq!(json.persons.get(), canonical_json(&result.persons));
        let empty = CheckResult { documents: Vec::new(), persons: Vec::new(), vehicles: Vec::new() };
        assert_eq!(ResultJson::of(&empty).unwrap().sha256(), canonical_sha256(&empty));
        let plain = serde_json::to_string(&details).unwrap();
        // The traveller, shown to officers names first, is the one object moved.
        assert_eq!(
            plain.replace(&serde_json::to_string(&traveller).unwrap(), &canonical_json(&traveller)),
            canonical_json(&details)
        );
    }
}
