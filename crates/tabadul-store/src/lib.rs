//! The store: the one narrow interface through which a node keeps agencies, agreements, alerts,
//! their change log, links and the audit log.
//!
//! Implementations: [`MemStore`] here (the in-memory twin, for tests), SQLite in
//! `tabadul-store-sqlite`. Every implementation passes the same [`conformance`] suite.
//!
//! Semantics every implementation keeps:
//! - each mutating call is one transaction together with the audit entry it carries: either
//!   the change and its entry are both durable when the call returns, or neither happened;
//! - every change to an alert gets the next sequence number of its owner agency (from 1,
//!   without gaps) and the alert's next version (from 1), and is kept in the change log;
//! - only the owner changes an alert: an update may not change the owner, a delete names it;
//! - alerts are validated before they are written and after they are read.

pub mod codec;
mod error;
mod hits;
mod mem;
mod records;
mod users;

pub mod conformance;

use serde::{Deserialize, Serialize};
use tabadul_audit::{AuditDraft, AuditEntry};
use tabadul_domain::{
    Agency, AgencyCode, Agreement, AgreementId, Alert, AlertId, Category, HitId, Link, NotificationId,
};

pub use error::StoreError;
pub use hits::{Acknowledgement, HitRecord, Notification, Outcome, OutcomeKind, StoredCheck, StoredHit};
pub use mem::MemStore;
pub use records::{RECORDS_PER_RESTORE_MAX, Record, RecordKind};
pub use users::{StoredUser, TokenKind, TokenRecord};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The version of the data layout that this build writes and reads.
pub const SCHEMA_VERSION: u32 = 6;
/// Most hits one check records.
pub const HITS_PER_CHECK_MAX: usize = 1000;
/// Most alerts one read returns.
pub const ALERTS_PER_READ_MAX: usize = 10_000;
/// Most writes in one atomic batch.
pub const WRITES_PER_BATCH_MAX: usize = 10_000;

/// An alert as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub alert: Alert,
    /// How many times the alert was written, from 1.
    pub version: u64,
    /// The owner's sequence number of the alert's last change.
    pub seq: u64,
    pub created_at_unix_us: i64,
    pub updated_at_unix_us: i64,
}

/// What a change did to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
    /// Removed because it expired (a purge).
    Expire,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
            ChangeOp::Expire => "expire",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeOp> {
        [ChangeOp::Create, ChangeOp::Update, ChangeOp::Delete, ChangeOp::Expire]
            .into_iter()
            .find(|op| op.as_str() == text)
    }
}

/// One entry of the change log: what later replicates to partner nodes, in order per owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub owner: AgencyCode,
    pub seq: u64,
    pub alert_id: AlertId,
    pub version: u64,
    pub op: ChangeOp,
    pub at_unix_us: i64,
    /// The alert after the change; none for a removal.
    pub alert: Option<Alert>,
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertWrite {
    Create(Alert),
    /// Replace an alert whose current version is `expected_version`.
    Update {
        alert: Alert,
        expected_version: u64,
    },
    /// Remove an alert of `owner`; `op` is [`ChangeOp::Delete`] or [`ChangeOp::Expire`].
    Remove {
        owner: AgencyCode,
        id: AlertId,
        expected_version: Option<u64>,
        op: ChangeOp,
    },
}

/// Which alerts a read returns: in id order, after `after`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFilter {
    pub owner: Option<AgencyCode>,
    pub category: Option<Category>,
    pub after: Option<AlertId>,
    pub limit: usize,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter { owner: None, category: None, after: None, limit: ALERTS_PER_READ_MAX }
    }
}

/// The store interface. Object safe: the node holds an `Arc<dyn Store>`.
pub trait Store: Send + Sync {
    fn create_agency(&self, agency: &Agency, audit: AuditDraft) -> Result<()>;
    fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>>;
    /// All agencies, by code.
    fn agencies(&self) -> Result<Vec<Agency>>;

    fn create_agreement(&self, agreement: &Agreement, audit: AuditDraft) -> Result<()>;
    /// Marks the agreement revoked from `on`; revoking twice is an error.
    fn revoke_agreement(&self, id: AgreementId, on: time::Date, audit: AuditDraft) -> Result<Agreement>;
    /// Records `party`'s consent to an agreement that awaits it (`Invalid` if it does not).
    fn consent_to_agreement(&self, id: AgreementId, party: &AgencyCode, audit: AuditDraft) -> Result<Agreement>;
    fn agreement(&self, id: AgreementId) -> Result<Option<Agreement>>;
    /// All agreements, by id.
    fn agreements(&self) -> Result<Vec<Agreement>>;

    /// Applies `writes` atomically, in order, with one audit entry; returns their changes.
    fn write_alerts(&self, writes: &[AlertWrite], at_unix_us: i64, audit: AuditDraft) -> Result<Vec<Change>>;
    fn alert(&self, id: AlertId) -> Result<Option<StoredAlert>>;
    /// The owner's alerts with these source ids (those that exist, in no particular order); at
    /// most [`WRITES_PER_BATCH_MAX`] ids at a time.
    fn alerts_by_source(&self, owner: &AgencyCode, source_ids: &[&str]) -> Result<Vec<StoredAlert>>;
    fn alert_by_source(&self, owner: &AgencyCode, source_id: &str) -> Result<Option<StoredAlert>> {
        Ok(self.alerts_by_source(owner, &[source_id])?.pop())
    }
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>>;
    fn alert_count(&self) -> Result<u64>;
    /// The owner's changes with a sequence number above `after_seq`, in order, at most `limit`.
    fn changes(&self, owner: &AgencyCode, after_seq: u64, limit: usize) -> Result<Vec<Change>>;
    /// The last sequence number of each owner agency that has changed an alert, by owner: the
    /// version of the data, from which the change log rebuilds exactly this state.
    fn change_heads(&self) -> Result<Vec<(AgencyCode, u64)>>;

    fn create_link(&self, link: &Link, audit: AuditDraft) -> Result<()>;
    /// The links from or to an alert.
    fn links(&self, id: AlertId) -> Result<Vec<Link>>;

    /// Appends an entry for an operation that changes nothing else (a read, a verification).
    fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry>;
    /// Entries with a sequence number above `after_seq`, in order, at most `limit`.
    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>>;

    /// Records the hits of a check together with the check's audit entry.
    fn record_check(&self, hits: &[HitRecord], audit: AuditDraft) -> Result<AuditEntry> {
        let mut entries = self.record_checks(vec![(hits.to_vec(), audit)])?;
        entries.pop().ok_or_else(|| StoreError::Backend("a recorded check has no audit entry".into()))
    }
    /// Records several checks in one transaction (one write to disk): each check's hits and its
    /// audit entry, in order; the entries are returned in the same order. All or nothing.
    fn record_checks(&self, checks: Vec<(Vec<HitRecord>, AuditDraft)>) -> Result<Vec<AuditEntry>>;
    fn hit(&self, id: HitId) -> Result<Option<HitRecord>>;
    /// Records the outcome of a hit that has none yet (else `AlreadyExists`), with the
    /// notification a confirmation sends its owner, and one audit entry.
    fn record_outcome(
        &self,
        id: HitId,
        outcome: &Outcome,
        notification: Option<&Notification>,
        audit: AuditDraft,
    ) -> Result<HitRecord>;
    /// One notification, by its id.
    fn notification(&self, id: NotificationId) -> Result<Option<Notification>>;
    /// The notifications to `owner`, newest first, those not acknowledged only if `pending`.
    fn notifications(&self, owner: &AgencyCode, pending: bool, limit: usize) -> Result<Vec<Notification>>;
    /// Keeps a notification a partner node sent about a hit on one of this node's alerts (the
    /// hit itself is the partner's), with its audit entry; `AlreadyExists` if it is here.
    fn receive_notification(&self, notification: &Notification, audit: AuditDraft) -> Result<()>;
    /// Acknowledges a notification to `owner` (`NotFound` for another owner's).
    fn acknowledge(
        &self,
        id: NotificationId,
        owner: &AgencyCode,
        acknowledgement: &Acknowledgement,
        audit: AuditDraft,
    ) -> Result<Notification>;
    /// How many hits on each of `owner`'s alerts were found false positives, by alert.
    fn false_positives(&self, owner: &AgencyCode) -> Result<Vec<(AlertId, u64)>>;

    /// Adds a user (`AlreadyExists` if the name is taken).
    fn create_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()>;
    /// Replaces a user's roles, full name, disabled flag or password (`NotFound` if none).
    fn update_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()>;
    fn user(&self, name: &str) -> Result<Option<StoredUser>>;
    /// The users of `agency` (all if none), by name.
    fn users(&self, agency: Option<&AgencyCode>) -> Result<Vec<StoredUser>>;
    /// Keeps a token (its hash) with the audit entry of its making.
    fn create_token(&self, token: &TokenRecord, audit: AuditDraft) -> Result<()>;
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// The tokens of a user, oldest first.
    fn tokens(&self, user: &str) -> Result<Vec<TokenRecord>>;
    /// Revokes a token (`NotFound` if none).
    fn revoke_token(&self, hash: &str, audit: AuditDraft) -> Result<()>;

    /// The node's federation state (what it sent each partner, how far it applied each
    /// partner's stream), as the federation code writes it: one JSON document, none before the
    /// first round.
    fn federation_state(&self) -> Result<Option<String>>;
    /// Replaces the federation state.
    fn save_federation_state(&self, state: &str) -> Result<()>;

    /// Gives every record to `visit`, verbatim, kind by kind in the order of
    /// [`RecordKind::ALL`] and within a kind in key order, from one consistent state. Stops at
    /// the first error of `visit`.
    fn export(&self, visit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()>;
    /// Writes exported records verbatim, in one transaction: no audit entry, no new sequence
    /// numbers. For moving a node to another backend; a record already there is an error.
    fn restore(&self, records: &[Record]) -> Result<()>;
}

/// `agreement` revoked from `on`, if it was not already.
pub fn with_revocation(mut agreement: Agreement, on: time::Date) -> Result<Agreement> {
    if agreement.revoked_on.is_some() {
        return Err(StoreError::Invalid(format!("agreement {} is already revoked", agreement.id)));
    }
    agreement.revoked_on = Some(on);
    Ok(agreement)
}

/// `agreement` with `party`'s consent, if it awaited it.
pub fn with_consent(mut agreement: Agreement, party: &AgencyCode) -> Result<Agreement> {
    if !agreement.awaiting.remove(party) {
        return Err(StoreError::Invalid(format!("agreement {} does not await the consent of {party}", agreement.id)));
    }
    Ok(agreement)
}

/// Checks that an outcome may be recorded on `hit`, and that `notification` belongs to it.
pub fn check_outcome(hit: &HitRecord, outcome: &Outcome, notification: Option<&Notification>) -> Result<()> {
    if hit.outcome.is_some() {
        return Err(StoreError::AlreadyExists(format!("an outcome of hit {}", hit.id)));
    }
    match (outcome.kind, notification) {
        (OutcomeKind::Confirmed, Some(n)) if n.hit_id == hit.id && n.owner == hit.owner => Ok(()),
        (OutcomeKind::FalsePositive, None) => Ok(()),
        _ => Err(StoreError::Invalid("a confirmed hit, and only a confirmed hit, notifies the owner".into())),
    }
}

/// Checks a restore batch before any of it is written: its size, and that its alerts validate.
pub fn check_restore(records: &[Record]) -> Result<()> {
    if records.len() > RECORDS_PER_RESTORE_MAX {
        return Err(StoreError::Invalid(format!("more than {RECORDS_PER_RESTORE_MAX} records in one restore")));
    }
    for record in records {
        if let Record::Alert(stored) = record {
            stored
                .alert
                .validate()
                .map_err(|e| StoreError::Invalid(format!("alert {} does not validate: {e}", stored.alert.id)))?;
        }
    }
    Ok(())
}

/// Most checks recorded in one transaction.
pub const CHECKS_PER_BATCH_MAX: usize = 2000;

/// Checks a batch of checks to record: its size, each check's, and that no hit comes twice.
pub fn check_checks(checks: &[(Vec<HitRecord>, AuditDraft)]) -> Result<()> {
    if checks.len() > CHECKS_PER_BATCH_MAX {
        return Err(StoreError::Invalid(format!("more than {CHECKS_PER_BATCH_MAX} checks in one batch")));
    }
    let mut seen = std::collections::HashSet::new();
    for (hits, _) in checks {
        if hits.len() > HITS_PER_CHECK_MAX {
            return Err(StoreError::Invalid(format!("more than {HITS_PER_CHECK_MAX} hits in one check")));
        }
        if let Some(hit) = hits.iter().find(|hit| !seen.insert(hit.id)) {
            return Err(StoreError::AlreadyExists(format!("hit {}", hit.id)));
        }
    }
    // A check's hits share who checked, where, when and whom: a store keeps that once.
    let mut firsts: std::collections::HashMap<&str, &HitRecord> = std::collections::HashMap::new();
    for hit in checks.iter().flat_map(|(hits, _)| hits) {
        let first = *firsts.entry(&*hit.check_id).or_insert(hit);
        if !first.same_check(hit) {
            return Err(check_differs(hit));
        }
    }
    Ok(())
}

/// The error for a hit whose check differs from the check's other hits'.
pub fn check_differs(hit: &HitRecord) -> StoreError {
    StoreError::Invalid(format!(
        "hit {} of check {} differs from the check's other hits in who checked, where, when or whom",
        hit.id, hit.check_id
    ))
}

/// Checks the size of a lookup by source ids.
pub fn check_sources(source_ids: &[&str]) -> Result<()> {
    if source_ids.len() > WRITES_PER_BATCH_MAX {
        return Err(StoreError::Invalid(format!("more than {WRITES_PER_BATCH_MAX} source ids in one lookup")));
    }
    Ok(())
}

/// Checks a batch before any of it is applied: size, validity, owner of each write.
pub fn check_batch(writes: &[AlertWrite]) -> Result<()> {
    if writes.len() > WRITES_PER_BATCH_MAX {
        return Err(StoreError::Invalid(format!("more than {WRITES_PER_BATCH_MAX} writes in one batch")));
    }
    for write in writes {
        match write {
            AlertWrite::Create(alert) | AlertWrite::Update { alert, .. } => {
                alert.validate().map_err(|e| StoreError::Invalid(e.to_string()))?
            }
            AlertWrite::Remove { op: ChangeOp::Create | ChangeOp::Update, .. } => {
                return Err(StoreError::Invalid("a removal is a delete or an expiry".into()));
            }
            AlertWrite::Remove { .. } => {}
        }
    }
    Ok(())
}

/// The change that `write` makes to `current` (the alert as stored, if any), with the owner's
/// next sequence number `seq`. Shared by every implementation so that they agree on the rules.
pub fn plan_write(
    write: &AlertWrite,
    current: Option<&StoredAlert>,
    seq: u64,
    at_unix_us: i64,
) -> Result<(Change, Option<StoredAlert>)> {
    match write {
        AlertWrite::Create(alert) => {
            if current.is_some() {
                return Err(StoreError::AlreadyExists(format!("alert {}", alert.id)));
            }
            let stored = StoredAlert {
                alert: alert.clone(),
                version: 1,
                seq,
                created_at_unix_us: at_unix_us,
                updated_at_unix_us: at_unix_us,
            };
            Ok((change(&stored, ChangeOp::Create), Some(stored)))
        }
        AlertWrite::Update { alert, expected_version } => {
            let current = current.ok_or_else(|| StoreError::NotFound(format!("alert {}", alert.id)))?;
            check_owner(current, &alert.owner)?;
            check_version(current, Some(*expected_version))?;
            let stored = StoredAlert {
                alert: alert.clone(),
                version: current.version + 1,
                seq,
                created_at_unix_us: current.created_at_unix_us,
                updated_at_unix_us: at_unix_us,
            };
            Ok((change(&stored, ChangeOp::Update), Some(stored)))
        }
        AlertWrite::Remove { owner, id, expected_version, op } => {
            let current = current.ok_or_else(|| StoreError::NotFound(format!("alert {id}")))?;
            check_owner(current, owner)?;
            check_version(current, *expected_version)?;
            let change = Change {
                owner: owner.clone(),
                seq,
                alert_id: *id,
                version: current.version + 1,
                op: *op,
                at_unix_us,
                alert: None,
            };
            Ok((change, None))
        }
    }
}

impl AlertWrite {
    pub fn id(&self) -> AlertId {
        match self {
            AlertWrite::Create(alert) | AlertWrite::Update { alert, .. } => alert.id,
            AlertWrite::Remove { id, .. } => *id,
        }
    }

    pub fn owner(&self) -> &AgencyCode {
        match self {
            AlertWrite::Create(alert) | AlertWrite::Update { alert, .. } => &alert.owner,
            AlertWrite::Remove { owner, .. } => owner,
        }
    }
}

fn change(stored: &StoredAlert, op: ChangeOp) -> Change {
    Change {
        owner: stored.alert.owner.clone(),
        seq: stored.seq,
        alert_id: stored.alert.id,
        version: stored.version,
        op,
        at_unix_us: stored.updated_at_unix_us,
        alert: Some(stored.alert.clone()),
    }
}

fn check_owner(current: &StoredAlert, owner: &AgencyCode) -> Result<()> {
    if &current.alert.owner != owner {
        return Err(StoreError::NotOwner { id: current.alert.id, owner: current.alert.owner.clone() });
    }
    Ok(())
}

fn check_version(current: &StoredAlert, expected: Option<u64>) -> Result<()> {
    match expected {
        Some(expected) if expected != current.version => {
            Err(StoreError::VersionConflict { id: current.alert.id, expected, actual: current.version })
        }
        _ => Ok(()),
    }
}

/// Validates an alert read back from storage.
pub fn check_loaded(stored: StoredAlert) -> Result<StoredAlert> {
    stored
        .alert
        .validate()
        .map_err(|e| StoreError::Corrupt(format!("alert {} does not validate: {e}", stored.alert.id)))?;
    Ok(stored)
}
