//! The node: the application layer between the command line (and later the server) and the
//! store. It decides who may do what, applies the visibility rule to every read, writes every
//! read and write to the audit log, and gives new alerts and agreements their ids.
//!
//! Time comes from a [`Clock`], so tests fix it. Nothing here formats output or parses flags.

mod canonical;
mod check;
mod dashboard;
pub mod demo;
mod error;
mod hits;
mod import;
mod manifest;
mod receipt;
mod users;

use std::sync::Arc;

use serde::Serialize;
use tabadul_audit::{AuditDraft, AuditEntry, Broken, ChainVerifier, Hash, ops};
use tabadul_domain::{
    Agency, AgencyCode, Agreement, AgreementId, Alert, AlertId, Category, Link, LinkKind, Role, SharingLevel,
    SharingTable, Subject, Visibility,
};
use tabadul_store::{AlertFilter, AlertWrite, ChangeOp, Store, StoredAlert};

pub use canonical::canonical_json;
pub use check::{
    CHECK_FIELD_BYTES_MAX, CheckOutcome, CheckReport, CheckRequest, CheckResult, DocumentSeen, FederatedHits, Hit,
    MrzSeen, NAMES_PER_CHECK_MAX, PreparedCheck, Replica, Traveller, VehicleSeen,
};
pub use dashboard::{DASHBOARD_DAYS_MAX, Dashboard, DayCount, Tally};
pub use error::{NodeError, Result};
pub use hits::{FalsePositives, INBOX_LIMIT_MAX};
pub use import::{IMPORT_BATCH_DEFAULT, ImportOptions, ImportProgress, ImportSummary, LineError, decoded_reader};
pub use manifest::{
    Envelope, ManifestReport, TRAVELLERS_PER_MANIFEST_MAX, TravellerHits, boarding_answer, boarding_directive,
};
pub use receipt::{DataHead, NodeKey, Receipt, ReceiptVerification, sha256_hex, verify_receipt};
/// The score from which a person comparison is a hit.
pub use tabadul_engine::HIT_THRESHOLD_DEFAULT as HIT_THRESHOLD;
pub use tabadul_store::{HitRecord, Notification, OutcomeKind};
pub use users::{
    API_TOKEN_DAYS_MAX, IssuedToken, PASSWORD_BYTES_MAX, PASSWORD_CHARS_MIN, SESSION_MINUTES, TokenInfo, UserChange,
};

/// Most alerts one list returns.
pub const LIST_LIMIT_MAX: usize = 1000;
/// Audit entries read per step while verifying the chain.
const AUDIT_PAGE: usize = 5000;

/// Where the node reads the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> time::OffsetDateTime;
}

/// The system clock, in UTC.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

/// A clock that always says the same time, for tests and reproducible runs.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub time::OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0
    }
}

/// Who acts: a user, on behalf of an agency (none for node administration), with the roles
/// that decide what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: String,
    pub agency: Option<AgencyCode>,
    pub roles: Vec<Role>,
}

impl Actor {
    /// The node's operator at its command line: whoever can open the store file holds every
    /// role.
    pub fn new(user: impl Into<String>, agency: Option<AgencyCode>) -> Self {
        Actor { user: user.into(), agency, roles: Role::ALL.to_vec() }
    }

    /// A user of the API, with the roles the node gave them.
    pub fn for_user(user: &tabadul_domain::User) -> Self {
        Actor { user: user.name.clone(), agency: Some(user.agency.clone()), roles: user.roles.clone() }
    }

    /// Succeeds if the actor holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<()> {
        if roles.iter().any(|r| self.roles.contains(r)) {
            return Ok(());
        }
        let needed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(NodeError::Forbidden(format!("this needs the role {} (user {})", needed.join(" or "), self.user)))
    }

    fn agency(&self) -> Result<&AgencyCode> {
        self.agency.as_ref().ok_or_else(|| NodeError::Invalid("this needs the agency you act for (--agency)".into()))
    }
}

/// What an auditor looks for in the audit log; an empty field matches every entry.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Entries after this sequence number.
    pub after: u64,
    pub limit: usize,
    /// The operation, or its family: `check`, `alert` (every `alert.*`).
    pub operation: Option<String>,
    pub user: Option<String>,
    /// An alert (or other target) the entry names.
    pub target: Option<String>,
}

impl AuditQuery {
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let operation = &entry.draft.operation;
        self.operation
            .as_deref()
            .is_none_or(|o| operation == o || operation.strip_prefix(o).is_some_and(|rest| rest.starts_with('.')))
            && self.user.as_deref().is_none_or(|u| entry.draft.user == u)
            && self.target.as_deref().is_none_or(|t| entry.draft.targets.iter().any(|x| x == t))
    }
}

/// An agreement as a supervisor proposes it; the node gives it its id.
#[derive(Debug, Clone)]
pub struct AgreementDraft {
    pub title: String,
    pub parties: Vec<AgencyCode>,
    pub levels: Vec<(Category, SharingLevel)>,
    pub valid_from: Option<time::Date>,
    pub valid_until: Option<time::Date>,
    pub legal_reference: String,
}

/// An alert as its owner writes it, before it has an id and an owner.
#[derive(Debug, Clone)]
pub struct AlertDraft {
    pub category: Category,
    pub subject: Subject,
    pub action: Option<tabadul_domain::Action>,
    pub handling: tabadul_domain::HandlingCode,
    pub review_date: Option<time::Date>,
    pub expires: Option<time::Date>,
    pub remarks: String,
    pub source_id: Option<String>,
    pub refer_to: Option<String>,
}

/// An alert as one agency may read it, with the links it may see.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    #[serde(flatten)]
    pub stored: StoredAlert,
    pub links: Vec<Link>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub owner: Option<AgencyCode>,
    pub category: Option<Category>,
    pub after: Option<AlertId>,
    pub limit: Option<usize>,
}

/// The outcome of verifying the audit chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub entries: u64,
    pub head: Hash,
    pub broken: Option<Broken>,
}

/// A node over one store.
#[derive(Clone)]
pub struct Node {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    screening: Arc<check::Screening>,
}

fn new_id() -> u128 {
    uuid::Uuid::now_v7().as_u128()
}

fn details(value: serde_json::Value) -> String {
    value.to_string()
}

impl Node {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Node { store, clock, screening: Arc::default() }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub fn today(&self) -> time::Date {
        self.clock.now().date()
    }

    fn audit(&self, actor: &Actor, operation: &str) -> AuditDraft {
        AuditDraft::new(self.now(), &actor.user, actor.agency.as_ref().map(|a| a.as_str()), operation)
    }

    fn known_agency(&self, code: &AgencyCode) -> Result<Agency> {
        self.agency(code)?.ok_or_else(|| NodeError::NotFound(format!("agency {code}")))
    }

    /// An agency, from the ones kept or the store (which keeps them then: an agency never
    /// changes once made). One not found is asked of the store again next time.
    fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        let kept = self.screening.agencies.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(code).cloned();
        if kept.is_some() {
            return Ok(kept);
        }
        let found = self.store.agency(code)?;
        if let Some(agency) = &found {
            let mut kept = self.screening.agencies.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            kept.insert(code.clone(), agency.clone());
        }
        Ok(found)
    }

    // --- agencies -------------------------------------------------------------------------

    pub fn add_agency(&self, actor: &Actor, agency: Agency) -> Result<Agency> {
        actor.require(&[Role::Administrator])?;
        let audit = self.audit(actor, ops::AGENCY_CREATE).targets([&agency.code]).result_count(1);
        self.store.create_agency(&agency, audit)?;
        Ok(agency)
    }

    pub fn agencies(&self, actor: &Actor) -> Result<Vec<Agency>> {
        let agencies = self.store.agencies()?;
        self.store.append_audit(self.audit(actor, ops::AGENCY_LIST).result_count(agencies.len() as u64))?;
        Ok(agencies)
    }

    // --- agreements -----------------------------------------------------------------------

    pub fn add_agreement(&self, actor: &Actor, draft: AgreementDraft) -> Result<Agreement> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        for party in &draft.parties {
            self.known_agency(party)?;
        }
        if let Some(agency) = &actor.agency
            && !draft.parties.contains(agency)
        {
            return Err(NodeError::Forbidden(format!("{agency} can only make agreements it is party to")));
        }
        let mut levels = std::collections::BTreeMap::new();
        for (category, level) in draft.levels {
            if levels.insert(category, level).is_some() {
                return Err(NodeError::Invalid(format!("category {category} is given twice")));
            }
        }
        // The proposing agency consents by proposing; the node's operator (no agency) speaks for
        // every party.
        let awaiting = match &actor.agency {
            Some(proposer) => draft.parties.iter().filter(|p| *p != proposer).cloned().collect(),
            None => Default::default(),
        };
        let agreement = Agreement {
            id: AgreementId(new_id()),
            title: draft.title.trim().to_string(),
            parties: draft.parties.into_iter().collect(),
            levels,
            valid_from: draft.valid_from.unwrap_or_else(|| self.today()),
            valid_until: draft.valid_until,
            legal_reference: draft.legal_reference.trim().to_string(),
            revoked_on: None,
            awaiting,
        };
        agreement.validate()?;
        let audit = self
            .audit(actor, ops::AGREEMENT_CREATE)
            .targets([agreement.id])
            .details(serde_json::to_string(&agreement).unwrap_or_default())
            .result_count(1);
        self.store.create_agreement(&agreement, audit)?;
        Ok(agreement)
    }

    /// A party consents to an agreement another party proposed; once every party has, it applies.
    pub fn consent_to_agreement(&self, actor: &Actor, id: AgreementId) -> Result<Agreement> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        let agency = actor.agency()?.clone();
        let agreement = self.agreement_for(actor, id)?;
        if !agreement.awaiting.contains(&agency) {
            return Err(NodeError::Conflict(format!("agreement {id} does not await the consent of {agency}")));
        }
        let audit = self
            .audit(actor, ops::AGREEMENT_CONSENT)
            .targets([id])
            .details(details(serde_json::json!({ "party": agency })))
            .result_count(1);
        Ok(self.store.consent_to_agreement(id, &agency, audit)?)
    }

    pub fn revoke_agreement(&self, actor: &Actor, id: AgreementId, on: Option<time::Date>) -> Result<Agreement> {
        actor.require(&[Role::Supervisor, Role::Administrator])?;
        let agreement = self.agreement_for(actor, id)?;
        let on = on.unwrap_or_else(|| self.today());
        if on < agreement.valid_from {
            return Err(NodeError::Invalid(format!("agreement {id} starts on {}, after {on}", agreement.valid_from)));
        }
        let audit = self
            .audit(actor, ops::AGREEMENT_REVOKE)
            .targets([id])
            .details(details(serde_json::json!({ "revoked_on": tabadul_domain::format_date(on) })))
            .result_count(1);
        Ok(self.store.revoke_agreement(id, on, audit)?)
    }

    fn agreement_for(&self, actor: &Actor, id: AgreementId) -> Result<Agreement> {
        let agreement =
            self.store.agreement(id)?.filter(|a| actor.agency.as_ref().is_none_or(|agency| a.parties.contains(agency)));
        agreement.ok_or_else(|| NodeError::NotFound(format!("agreement {id}")))
    }

    pub fn agreement(&self, actor: &Actor, id: AgreementId) -> Result<Agreement> {
        let found = self.agreement_for(actor, id);
        let audit = self.audit(actor, ops::AGREEMENT_READ).targets([id]).result_count(found.is_ok() as u64);
        self.store.append_audit(audit)?;
        found
    }

    /// The agreements the actor's agency is party to (all of them for node administration).
    pub fn agreements(&self, actor: &Actor) -> Result<Vec<Agreement>> {
        let agreements: Vec<Agreement> = self
            .store
            .agreements()?
            .into_iter()
            .filter(|a| actor.agency.as_ref().is_none_or(|agency| a.parties.contains(agency)))
            .collect();
        self.store.append_audit(self.audit(actor, ops::AGREEMENT_LIST).result_count(agreements.len() as u64))?;
        Ok(agreements)
    }

    /// What the actor's agency may see of alerts today.
    pub fn sharing_table(&self, viewer: &AgencyCode) -> Result<SharingTable> {
        Ok(SharingTable::new(viewer, self.today(), &self.store.agreements()?))
    }

    // --- alerts ---------------------------------------------------------------------------

    pub fn create_alert(&self, actor: &Actor, draft: AlertDraft) -> Result<StoredAlert> {
        let mut created = self.create_alerts(actor, vec![draft])?;
        created.pop().ok_or_else(|| NodeError::Invalid("nothing to create".into()))
    }

    /// Creates several alerts of the actor's agency in one transaction: all or none.
    pub fn create_alerts(&self, actor: &Actor, drafts: Vec<AlertDraft>) -> Result<Vec<StoredAlert>> {
        actor.require(&[Role::Analyst])?;
        self.alerts_writable()?;
        let owner = actor.agency()?.clone();
        self.known_agency(&owner)?;
        let alerts = drafts
            .into_iter()
            .map(|draft| {
                let alert = Self::new_alert(owner.clone(), draft);
                alert.validate()?;
                Ok(alert)
            })
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<AlertId> = alerts.iter().map(|a| a.id).collect();
        let audit = self.audit(actor, ops::ALERT_CREATE).targets(&ids).result_count(ids.len() as u64);
        let writes: Vec<AlertWrite> = alerts.into_iter().map(AlertWrite::Create).collect();
        self.write(&writes, audit)?;
        ids.into_iter().map(|id| self.load(id)).collect()
    }

    fn new_alert(owner: AgencyCode, draft: AlertDraft) -> Alert {
        Alert {
            id: AlertId(new_id()),
            owner,
            category: draft.category,
            subject: draft.subject,
            action: draft.action,
            handling: draft.handling,
            review_date: draft.review_date,
            expires: draft.expires,
            remarks: draft.remarks,
            source_id: draft.source_id,
            refer_to: draft.refer_to,
        }
    }

    /// Writes alerts, and keeps the screening index (if built) in step.
    /// Writes partners' alerts that replication brought (their owner is another agency; the
    /// envelopes were verified to come from it), keeping the screening index in step so that
    /// a running server's checks find them at once.
    pub fn write_replicated(&self, writes: &[AlertWrite], audit: AuditDraft) -> Result<Vec<tabadul_store::Change>> {
        self.write(writes, audit)
    }

    fn write(&self, writes: &[AlertWrite], audit: AuditDraft) -> Result<Vec<tabadul_store::Change>> {
        let _one_writer = self.screening.lock();
        let changes = self.store.write_alerts(writes, audit.at_unix_us, audit)?;
        self.screening.apply(&changes);
        Ok(changes)
    }

    fn load(&self, id: AlertId) -> Result<StoredAlert> {
        self.store.alert(id)?.ok_or_else(|| NodeError::NotFound(format!("alert {id}")))
    }

    /// Refuses alert changes on a border post: its alerts are its national node's, replicated.
    pub(crate) fn alerts_writable(&self) -> Result<()> {
        match self.screening.replica() {
            Some(replica) => Err(NodeError::Forbidden(format!(
                "this node is border post {} of {}: alerts are changed at the national node",
                replica.post, replica.agency
            ))),
            None => Ok(()),
        }
    }

    /// Loads an alert the actor's agency owns, for changing it.
    fn owned(&self, actor: &Actor, id: AlertId) -> Result<StoredAlert> {
        self.alerts_writable()?;
        let agency = actor.agency()?;
        let stored = self.load(id)?;
        if &stored.alert.owner != agency {
            let seen = self.sharing_table(agency)?.visibility(stored.alert.scope());
            if seen == Visibility::Hidden {
                return Err(NodeError::NotFound(format!("alert {id}")));
            }
            return Err(NodeError::Forbidden(format!(
                "alert {id} belongs to {}: only its owner may change it",
                stored.alert.owner
            )));
        }
        Ok(stored)
    }

    /// Changes an alert the actor's agency owns. `edit` may change anything but the id and the
    /// owner. With `expected_version`, the change applies only to that version.
    pub fn update_alert(
        &self,
        actor: &Actor,
        id: AlertId,
        expected_version: Option<u64>,
        edit: impl FnOnce(&mut Alert) -> Result<()>,
    ) -> Result<StoredAlert> {
        actor.require(&[Role::Analyst])?;
        let stored = self.owned(actor, id)?;
        let version = expected_version.unwrap_or(stored.version);
        let mut alert = stored.alert.clone();
        edit(&mut alert)?;
        if alert.id != id || alert.owner != stored.alert.owner {
            return Err(NodeError::Invalid("an update cannot change the alert's id or owner".into()));
        }
        alert.validate()?;
        let audit = self.audit(actor, ops::ALERT_UPDATE).targets([id]).result_count(1);
        self.write(&[AlertWrite::Update { alert, expected_version: version }], audit)?;
        self.load(id)
    }

    pub fn delete_alert(&self, actor: &Actor, id: AlertId, expected_version: Option<u64>) -> Result<()> {
        actor.require(&[Role::Analyst])?;
        let stored = self.owned(actor, id)?;
        let audit = self.audit(actor, ops::ALERT_DELETE).targets([id]).result_count(1);
        let remove = AlertWrite::Remove { owner: stored.alert.owner, id, expected_version, op: ChangeOp::Delete };
        self.write(&[remove], audit)?;
        Ok(())
    }

    /// Reads one alert as the actor's agency may see it: in full, or not at all. A `hit`-level
    /// partner learns of the alert only through a check's hit; an alert it may not see is
    /// reported as not found, exactly like one that does not exist.
    pub fn alert(&self, actor: &Actor, id: AlertId) -> Result<AlertView> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        let table = self.sharing_table(agency)?;
        let stored = self.store.alert(id)?;
        let seen = stored.as_ref().map_or(Visibility::Hidden, |s| table.visibility(s.alert.scope()));
        let audit = self
            .audit(actor, ops::ALERT_READ)
            .targets([id])
            .details(details(serde_json::json!({ "visibility": seen.as_str() })))
            .result_count((seen == Visibility::Full) as u64);
        self.store.append_audit(audit)?;
        match (stored, seen) {
            (Some(stored), Visibility::Full) => {
                let links = self.visible_links(&table, id)?;
                Ok(AlertView { stored, links })
            }
            (Some(_), Visibility::HitOnly) => Err(NodeError::Forbidden(format!(
                "{agency} is told of alert {id} only when a check hits it (sharing level hit)"
            ))),
            _ => Err(NodeError::NotFound(format!("alert {id}"))),
        }
    }

    fn visible_links(&self, table: &SharingTable, id: AlertId) -> Result<Vec<Link>> {
        let mut links = Vec::new();
        for link in self.store.links(id)? {
            let other = if link.from == id { link.to } else { link.from };
            let other_seen = self.store.alert(other)?.map(|s| table.visibility(s.alert.scope()));
            if other_seen == Some(Visibility::Full) {
                links.push(link);
            }
        }
        Ok(links)
    }

    /// Lists the alerts the actor's agency sees in full, in id order, a page at a time.
    pub fn alerts(&self, actor: &Actor, query: &AlertQuery) -> Result<Vec<StoredAlert>> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        let table = self.sharing_table(agency)?;
        let limit = query.limit.unwrap_or(100).clamp(1, LIST_LIMIT_MAX);
        let mut filter = AlertFilter {
            owner: query.owner.clone(),
            category: query.category,
            after: query.after,
            limit: LIST_LIMIT_MAX,
        };
        let mut found = Vec::new();
        while found.len() < limit {
            let page = self.store.alerts(&filter)?;
            let Some(last) = page.last() else { break };
            filter.after = Some(last.alert.id);
            let full = page.into_iter().filter(|s| table.visibility(s.alert.scope()) == Visibility::Full);
            found.extend(full.take(limit - found.len()));
        }
        let audit = self
            .audit(actor, ops::ALERT_LIST)
            .targets(found.iter().map(|s| s.alert.id))
            .details(details(serde_json::json!({
                "owner": query.owner.as_ref().map(|o| o.as_str()),
                "category": query.category.map(|c| c.as_str()),
                "after": query.after.map(|a| a.to_string()),
                "limit": limit,
            })))
            .result_count(found.len() as u64);
        self.store.append_audit(audit)?;
        Ok(found)
    }

    /// Links two alerts that the actor's agency sees in full.
    pub fn link_alerts(&self, actor: &Actor, from: AlertId, to: AlertId, kind: LinkKind) -> Result<Link> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        let table = self.sharing_table(agency)?;
        for id in [from, to] {
            let seen = self.store.alert(id)?.map(|s| table.visibility(s.alert.scope()));
            match seen {
                Some(Visibility::Full) => {}
                Some(Visibility::HitOnly) => {
                    return Err(NodeError::Forbidden(format!(
                        "{agency} does not see alert {id} in full, so cannot link it"
                    )));
                }
                _ => return Err(NodeError::NotFound(format!("alert {id}"))),
            }
        }
        let link = Link { from, to, kind, created_by: agency.clone(), created_at: self.now() };
        let audit = self
            .audit(actor, ops::ALERT_LINK)
            .targets([from, to])
            .details(details(serde_json::json!({ "kind": kind.as_str() })))
            .result_count(1);
        self.store.create_link(&link, audit)?;
        Ok(link)
    }

    /// Removes every alert that expired before today, in batches; each batch is one audit
    /// entry naming the alerts it removed. Returns how many were removed.
    pub fn purge_expired(&self, actor: &Actor) -> Result<u64> {
        actor.require(&[Role::Administrator])?;
        let today = self.today();
        let mut filter = AlertFilter::default();
        let mut expired = Vec::new();
        loop {
            let page = self.store.alerts(&filter)?;
            let Some(last) = page.last() else { break };
            filter.after = Some(last.alert.id);
            expired.extend(
                page.into_iter()
                    .filter(|s| !s.alert.is_active_on(today))
                    .map(|s| (s.alert.owner, s.alert.id, s.version)),
            );
        }
        for chunk in expired.chunks(tabadul_store::WRITES_PER_BATCH_MAX) {
            let writes: Vec<AlertWrite> = chunk
                .iter()
                .map(|(owner, id, version)| AlertWrite::Remove {
                    owner: owner.clone(),
                    id: *id,
                    expected_version: Some(*version),
                    op: ChangeOp::Expire,
                })
                .collect();
            let audit = self
                .audit(actor, ops::ALERT_PURGE)
                .targets(chunk.iter().map(|(_, id, _)| id))
                .details(details(serde_json::json!({ "expired_before": tabadul_domain::format_date(today) })))
                .result_count(chunk.len() as u64);
            self.write(&writes, audit)?;
        }
        Ok(expired.len() as u64)
    }

    // --- audit ----------------------------------------------------------------------------

    /// Recomputes the whole chain and names the first entry that does not fit; then logs that
    /// it verified.
    pub fn verify_audit(&self, actor: &Actor) -> Result<AuditReport> {
        actor.require(&[Role::Auditor])?;
        let mut verifier = ChainVerifier::default();
        let mut broken = None;
        let mut after = 0;
        'pages: loop {
            let page = self.store.audit_entries(after, AUDIT_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in &page {
                if let Err(error) = verifier.push(entry) {
                    broken = Some(error);
                    break 'pages;
                }
            }
        }
        let report = AuditReport { entries: verifier.count(), head: verifier.head(), broken };
        let audit = self
            .audit(actor, ops::AUDIT_VERIFY)
            .details(details(serde_json::json!({
                "verified": report.entries,
                "broken_at": report.broken.as_ref().map(|b| b.seq),
            })))
            .result_count(report.entries);
        self.store.append_audit(audit)?;
        Ok(report)
    }

    /// Reads audit entries (for auditors); the read is itself logged.
    /// Entries of the audit log after `after_seq`. An agency's auditor reads the entries of its
    /// own agency's users (what they read, checked and changed); an auditor who is also an
    /// administrator of the node, or the operator, reads every entry.
    pub fn audit_entries(&self, actor: &Actor, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.search_audit(actor, &AuditQuery { after: after_seq, limit, ..AuditQuery::default() })
    }

    /// Entries of the audit log that match `query`, in order, after `query.after`: an
    /// auditor's search (who did what to which alert). Scoped as [`Node::audit_entries`].
    pub fn search_audit(&self, actor: &Actor, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        actor.require(&[Role::Auditor])?;
        let limit = query.limit.clamp(1, AUDIT_PAGE);
        let own_only = if actor.roles.contains(&Role::Administrator) { None } else { actor.agency.clone() };
        let mut entries = Vec::new();
        let mut after = query.after;
        while entries.len() < limit {
            let page = self.store.audit_entries(after, AUDIT_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mine = |e: &AuditEntry| own_only.as_ref().is_none_or(|a| e.draft.agency.as_deref() == Some(a.as_str()));
            entries.extend(page.into_iter().filter(|e| mine(e) && query.matches(e)).take(limit - entries.len()));
        }
        let audit = self
            .audit(actor, ops::AUDIT_READ)
            .details(details(serde_json::json!({
                "after": query.after,
                "limit": limit,
                "operation": query.operation,
                "user": query.user,
                "target": query.target,
            })))
            .result_count(entries.len() as u64);
        self.store.append_audit(audit)?;
        Ok(entries)
    }
}
