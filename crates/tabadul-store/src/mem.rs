//! The in-memory twin of the store, for tests: the same semantics, nothing durable.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use tabadul_audit::{AuditDraft, AuditEntry, Hash};
use tabadul_domain::{Agency, AgencyCode, Agreement, AgreementId, AlertId, HitId, Link, NotificationId};

use crate::{
    Acknowledgement, AlertFilter, AlertWrite, Change, HitRecord, Notification, Outcome, OutcomeKind, Record, Result,
    Store, StoreError, StoredAlert, StoredUser, TokenRecord, check_batch, check_checks, check_outcome, check_restore,
    check_sources, plan_write, with_consent, with_revocation,
};

#[derive(Debug, Default, Clone)]
struct State {
    agencies: BTreeMap<AgencyCode, Agency>,
    agreements: BTreeMap<AgreementId, Agreement>,
    alerts: BTreeMap<AlertId, StoredAlert>,
    sources: HashMap<(AgencyCode, String), AlertId>,
    last_seq: HashMap<AgencyCode, u64>,
    changes: BTreeMap<(AgencyCode, u64), Change>,
    links: Vec<Link>,
    audit: Vec<AuditEntry>,
    hits: BTreeMap<HitId, HitRecord>,
    notifications: BTreeMap<NotificationId, Notification>,
    users: BTreeMap<String, StoredUser>,
    tokens: BTreeMap<String, TokenRecord>,
    federation: Option<String>,
}

impl State {
    fn append_audit(&mut self, draft: AuditDraft) -> AuditEntry {
        let prev = self.audit.last().map_or(Hash::GENESIS, |entry| entry.hash);
        let entry = AuditEntry::seal(self.audit.len() as u64 + 1, prev, draft);
        self.audit.push(entry.clone());
        entry
    }

    fn apply(&mut self, write: &AlertWrite, at_unix_us: i64) -> Result<Change> {
        let id = write.id();
        let owner = write.owner().clone();
        let seq = self.last_seq.get(&owner).copied().unwrap_or(0) + 1;
        let (change, next) = plan_write(write, self.alerts.get(&id), seq, at_unix_us)?;
        if let Some(previous) = self.alerts.get(&id)
            && let Some(source) = &previous.alert.source_id
        {
            self.sources.remove(&(owner.clone(), source.clone()));
        }
        match next {
            Some(stored) => {
                if let Some(source) = &stored.alert.source_id {
                    let key = (owner.clone(), source.clone());
                    if self.sources.contains_key(&key) {
                        return Err(StoreError::AlreadyExists(format!("an alert of {owner} from source {source}")));
                    }
                    self.sources.insert(key, id);
                }
                self.alerts.insert(id, stored);
            }
            None => {
                self.alerts.remove(&id);
                self.links.retain(|link| link.from != id && link.to != id);
            }
        }
        self.last_seq.insert(owner.clone(), seq);
        self.changes.insert((owner, seq), change.clone());
        Ok(change)
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemStore {
    state: Mutex<State>,
}

impl MemStore {
    pub fn new() -> Self {
        MemStore::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut state = self.state.lock().map_err(|_| StoreError::Backend("lock poisoned".into()))?;
        f(&mut state)
    }

    /// Replaces an agreement by what `change` makes of it, with its audit entry.
    fn change_agreement(
        &self,
        id: AgreementId,
        audit: AuditDraft,
        change: impl FnOnce(Agreement) -> Result<Agreement>,
    ) -> Result<Agreement> {
        self.with(|state| {
            let agreement = state.agreements.get(&id).ok_or_else(|| StoreError::NotFound(format!("agreement {id}")))?;
            let agreement = change(agreement.clone())?;
            state.agreements.insert(id, agreement.clone());
            state.append_audit(audit);
            Ok(agreement)
        })
    }

    /// Runs `f` on a copy of the state and keeps the copy only if `f` succeeds: a transaction.
    fn transaction<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        self.with(|state| {
            let mut scratch = state.clone();
            let value = f(&mut scratch)?;
            *state = scratch;
            Ok(value)
        })
    }
}

impl Store for MemStore {
    fn create_agency(&self, agency: &Agency, audit: AuditDraft) -> Result<()> {
        agency.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|state| {
            if state.agencies.contains_key(&agency.code) {
                return Err(StoreError::AlreadyExists(format!("agency {}", agency.code)));
            }
            state.agencies.insert(agency.code.clone(), agency.clone());
            state.append_audit(audit);
            Ok(())
        })
    }

    fn agency(&self, code: &AgencyCode) -> Result<Option<Agency>> {
        self.with(|state| Ok(state.agencies.get(code).cloned()))
    }

    fn agencies(&self) -> Result<Vec<Agency>> {
        self.with(|state| Ok(state.agencies.values().cloned().collect()))
    }

    fn create_agreement(&self, agreement: &Agreement, audit: AuditDraft) -> Result<()> {
        agreement.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.transaction(|state| {
            if state.agreements.contains_key(&agreement.id) {
                return Err(StoreError::AlreadyExists(format!("agreement {}", agreement.id)));
            }
            state.agreements.insert(agreement.id, agreement.clone());
            state.append_audit(audit);
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
        self.with(|state| Ok(state.agreements.get(&id).cloned()))
    }

    fn agreements(&self) -> Result<Vec<Agreement>> {
        self.with(|state| Ok(state.agreements.values().cloned().collect()))
    }

    fn write_alerts(&self, writes: &[AlertWrite], at_unix_us: i64, audit: AuditDraft) -> Result<Vec<Change>> {
        check_batch(writes)?;
        self.transaction(|state| {
            let changes = writes.iter().map(|write| state.apply(write, at_unix_us)).collect::<Result<Vec<_>>>()?;
            state.append_audit(audit);
            Ok(changes)
        })
    }

    fn alert(&self, id: AlertId) -> Result<Option<StoredAlert>> {
        self.with(|state| Ok(state.alerts.get(&id).cloned()))
    }

    fn alerts_by_source(&self, owner: &AgencyCode, source_ids: &[&str]) -> Result<Vec<StoredAlert>> {
        check_sources(source_ids)?;
        self.with(|state| {
            let ids = source_ids.iter().filter_map(|source| state.sources.get(&(owner.clone(), source.to_string())));
            Ok(ids.filter_map(|id| state.alerts.get(id)).cloned().collect())
        })
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>> {
        self.with(|state| {
            let start = filter.after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
            Ok(state
                .alerts
                .range((start, std::ops::Bound::Unbounded))
                .map(|(_, stored)| stored)
                .filter(|s| filter.owner.as_ref().is_none_or(|owner| &s.alert.owner == owner))
                .filter(|s| filter.category.is_none_or(|category| s.alert.category == category))
                .take(filter.limit.min(crate::ALERTS_PER_READ_MAX))
                .cloned()
                .collect())
        })
    }

    fn alert_count(&self) -> Result<u64> {
        self.with(|state| Ok(state.alerts.len() as u64))
    }

    fn changes(&self, owner: &AgencyCode, after_seq: u64, limit: usize) -> Result<Vec<Change>> {
        self.with(|state| {
            Ok(state
                .changes
                .range((owner.clone(), after_seq + 1)..=(owner.clone(), u64::MAX))
                .take(limit)
                .map(|(_, change)| change.clone())
                .collect())
        })
    }

    fn change_heads(&self) -> Result<Vec<(AgencyCode, u64)>> {
        self.with(|state| {
            let mut heads: Vec<(AgencyCode, u64)> = state.last_seq.iter().map(|(o, s)| (o.clone(), *s)).collect();
            heads.sort();
            Ok(heads)
        })
    }

    fn create_link(&self, link: &Link, audit: AuditDraft) -> Result<()> {
        self.transaction(|state| {
            for id in [link.from, link.to] {
                if !state.alerts.contains_key(&id) {
                    return Err(StoreError::NotFound(format!("alert {id}")));
                }
            }
            if link.from == link.to {
                return Err(StoreError::Invalid("an alert cannot be linked to itself".into()));
            }
            let same = |l: &Link| {
                l.kind == link.kind
                    && ((l.from == link.from && l.to == link.to) || (l.from == link.to && l.to == link.from))
            };
            if state.links.iter().any(same) {
                return Err(StoreError::AlreadyExists(format!(
                    "{} link between {} and {}",
                    link.kind, link.from, link.to
                )));
            }
            state.links.push(link.clone());
            state.append_audit(audit);
            Ok(())
        })
    }

    fn links(&self, id: AlertId) -> Result<Vec<Link>> {
        self.with(|state| Ok(state.links.iter().filter(|link| link.from == id || link.to == id).cloned().collect()))
    }

    fn append_audit(&self, audit: AuditDraft) -> Result<AuditEntry> {
        self.with(|state| Ok(state.append_audit(audit)))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.with(|state| Ok(state.audit.iter().skip(after_seq as usize).take(limit).cloned().collect()))
    }

    fn record_checks(&self, checks: Vec<(Vec<HitRecord>, AuditDraft)>) -> Result<Vec<AuditEntry>> {
        check_checks(&checks)?;
        self.with(|state| {
            if let Some(hit) = checks.iter().flat_map(|(hits, _)| hits).find(|h| state.hits.contains_key(&h.id)) {
                return Err(StoreError::AlreadyExists(format!("hit {}", hit.id)));
            }
            let mut entries = Vec::with_capacity(checks.len());
            for (hits, audit) in checks {
                for hit in hits {
                    state.hits.insert(hit.id, hit);
                }
                entries.push(state.append_audit(audit));
            }
            Ok(entries)
        })
    }

    fn hit(&self, id: HitId) -> Result<Option<HitRecord>> {
        self.with(|state| Ok(state.hits.get(&id).cloned()))
    }

    fn record_outcome(
        &self,
        id: HitId,
        outcome: &Outcome,
        notification: Option<&Notification>,
        audit: AuditDraft,
    ) -> Result<HitRecord> {
        self.with(|state| {
            let hit = state.hits.get(&id).ok_or_else(|| StoreError::NotFound(format!("hit {id}")))?;
            check_outcome(hit, outcome, notification)?;
            let mut hit = hit.clone();
            hit.outcome = Some(outcome.clone());
            state.hits.insert(id, hit.clone());
            if let Some(notification) = notification {
                state.notifications.insert(notification.id, notification.clone());
            }
            state.append_audit(audit);
            Ok(hit)
        })
    }

    fn receive_notification(&self, notification: &Notification, audit: AuditDraft) -> Result<()> {
        self.with(|state| {
            if state.notifications.contains_key(&notification.id) {
                return Err(StoreError::AlreadyExists(format!("notification {}", notification.id)));
            }
            state.notifications.insert(notification.id, notification.clone());
            state.append_audit(audit);
            Ok(())
        })
    }

    fn notification(&self, id: NotificationId) -> Result<Option<Notification>> {
        self.with(|state| Ok(state.notifications.get(&id).cloned()))
    }

    fn notifications(&self, owner: &AgencyCode, pending: bool, limit: usize) -> Result<Vec<Notification>> {
        self.with(|state| {
            Ok(state
                .notifications
                .values()
                .rev()
                .filter(|n| &n.owner == owner && !(pending && n.acknowledged.is_some()))
                .take(limit)
                .cloned()
                .collect())
        })
    }

    fn acknowledge(
        &self,
        id: NotificationId,
        owner: &AgencyCode,
        acknowledgement: &Acknowledgement,
        audit: AuditDraft,
    ) -> Result<Notification> {
        self.with(|state| {
            let notification = state
                .notifications
                .get_mut(&id)
                .filter(|n| &n.owner == owner)
                .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
            if notification.acknowledged.is_some() {
                return Err(StoreError::AlreadyExists(format!("an acknowledgement of notification {id}")));
            }
            notification.acknowledged = Some(acknowledgement.clone());
            let notification = notification.clone();
            state.append_audit(audit);
            Ok(notification)
        })
    }

    fn false_positives(&self, owner: &AgencyCode) -> Result<Vec<(AlertId, u64)>> {
        self.with(|state| {
            let mut counts: BTreeMap<AlertId, u64> = BTreeMap::new();
            for hit in state.hits.values() {
                if &hit.owner == owner && hit.outcome.as_ref().is_some_and(|o| o.kind == OutcomeKind::FalsePositive) {
                    *counts.entry(hit.alert_id).or_default() += 1;
                }
            }
            Ok(counts.into_iter().collect())
        })
    }

    fn create_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        user.user.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.with(|state| {
            if state.users.contains_key(&user.user.name) {
                return Err(StoreError::AlreadyExists(format!("user {}", user.user.name)));
            }
            state.users.insert(user.user.name.clone(), user.clone());
            state.append_audit(audit);
            Ok(())
        })
    }

    fn update_user(&self, user: &StoredUser, audit: AuditDraft) -> Result<()> {
        user.user.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.with(|state| {
            let slot = state
                .users
                .get_mut(&user.user.name)
                .ok_or_else(|| StoreError::NotFound(format!("user {}", user.user.name)))?;
            *slot = user.clone();
            state.append_audit(audit);
            Ok(())
        })
    }

    fn user(&self, name: &str) -> Result<Option<StoredUser>> {
        self.with(|state| Ok(state.users.get(name).cloned()))
    }

    fn users(&self, agency: Option<&AgencyCode>) -> Result<Vec<StoredUser>> {
        self.with(|state| {
            Ok(state.users.values().filter(|u| agency.is_none_or(|a| &u.user.agency == a)).cloned().collect())
        })
    }

    fn create_token(&self, token: &TokenRecord, audit: AuditDraft) -> Result<()> {
        self.with(|state| {
            if !state.users.contains_key(&token.user) {
                return Err(StoreError::NotFound(format!("user {}", token.user)));
            }
            if state.tokens.contains_key(&token.hash) {
                return Err(StoreError::AlreadyExists("that token".into()));
            }
            state.tokens.insert(token.hash.clone(), token.clone());
            state.append_audit(audit);
            Ok(())
        })
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.with(|state| Ok(state.tokens.get(hash).cloned()))
    }

    fn tokens(&self, user: &str) -> Result<Vec<TokenRecord>> {
        self.with(|state| {
            let mut tokens: Vec<TokenRecord> = state.tokens.values().filter(|t| t.user == user).cloned().collect();
            tokens.sort_by_key(|t| t.created_at_unix_us);
            Ok(tokens)
        })
    }

    fn revoke_token(&self, hash: &str, audit: AuditDraft) -> Result<()> {
        self.with(|state| {
            let token = state.tokens.get_mut(hash).ok_or_else(|| StoreError::NotFound("token".into()))?;
            token.revoked = true;
            state.append_audit(audit);
            Ok(())
        })
    }

    fn federation_state(&self) -> Result<Option<String>> {
        self.with(|state| Ok(state.federation.clone()))
    }

    fn save_federation_state(&self, document: &str) -> Result<()> {
        self.with(|state| {
            state.federation = Some(document.to_string());
            Ok(())
        })
    }

    fn export(&self, visit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let state = self.with(|state| Ok(state.clone()))?;
        let mut heads: Vec<_> = state.last_seq.into_iter().collect();
        heads.sort();
        let records = (state.agencies.into_values().map(Record::Agency))
            .chain(state.agreements.into_values().map(Record::Agreement))
            .chain(state.users.into_values().map(Record::User))
            .chain(state.tokens.into_values().map(Record::Token))
            .chain(state.alerts.into_values().map(Record::Alert))
            .chain(heads.into_iter().map(|(owner, last_seq)| Record::Head { owner, last_seq }))
            .chain(state.changes.into_values().map(Record::Change))
            .chain(state.links.into_iter().map(Record::Link))
            .chain(state.hits.into_values().map(Record::Hit))
            .chain(state.notifications.into_values().map(Record::Notification))
            .chain(state.federation.into_iter().map(Record::Federation))
            .chain(state.audit.into_iter().map(Record::Audit));
        records.into_iter().try_for_each(visit)
    }

    fn restore(&self, records: &[Record]) -> Result<()> {
        check_restore(records)?;
        self.transaction(|state| {
            for record in records {
                let taken = |what: String| Err(StoreError::AlreadyExists(what));
                match record.clone() {
                    Record::Agency(agency) => {
                        if state.agencies.insert(agency.code.clone(), agency.clone()).is_some() {
                            return taken(format!("agency {}", agency.code));
                        }
                    }
                    Record::Agreement(agreement) => {
                        if state.agreements.insert(agreement.id, agreement.clone()).is_some() {
                            return taken(format!("agreement {}", agreement.id));
                        }
                    }
                    Record::User(user) => {
                        if state.users.insert(user.user.name.clone(), user.clone()).is_some() {
                            return taken(format!("user {}", user.user.name));
                        }
                    }
                    Record::Token(token) => {
                        if state.tokens.insert(token.hash.clone(), token).is_some() {
                            return taken("a token".into());
                        }
                    }
                    Record::Alert(stored) => {
                        let alert = &stored.alert;
                        if let Some(source) = &alert.source_id {
                            state.sources.insert((alert.owner.clone(), source.clone()), alert.id);
                        }
                        if state.alerts.insert(alert.id, stored.clone()).is_some() {
                            return taken(format!("alert {}", stored.alert.id));
                        }
                    }
                    Record::Head { owner, last_seq } => {
                        if state.last_seq.insert(owner.clone(), last_seq).is_some() {
                            return taken(format!("the change head of {owner}"));
                        }
                    }
                    Record::Change(change) => {
                        let key = (change.owner.clone(), change.seq);
                        if state.changes.insert(key, change.clone()).is_some() {
                            return taken(format!("change {} of {}", change.seq, change.owner));
                        }
                    }
                    Record::Link(link) => state.links.push(link),
                    Record::Hit(hit) => {
                        if state.hits.values().any(|other| other.check_id == hit.check_id && !other.same_check(&hit)) {
                            return Err(crate::check_differs(&hit));
                        }
                        if state.hits.insert(hit.id, hit.clone()).is_some() {
                            return taken(format!("hit {}", hit.id));
                        }
                    }
                    Record::Notification(n) => {
                        if state.notifications.insert(n.id, n.clone()).is_some() {
                            return taken(format!("notification {}", n.id));
                        }
                    }
                    Record::Federation(document) => {
                        if state.federation.replace(document).is_some() {
                            return taken("the federation state".into());
                        }
                    }
                    Record::Audit(entry) => {
                        if entry.seq != state.audit.len() as u64 + 1 {
                            return taken(format!("audit entry {} (the log is at {})", entry.seq, state.audit.len()));
                        }
                        state.audit.push(entry);
                    }
                }
            }
            Ok(())
        })
    }
}
