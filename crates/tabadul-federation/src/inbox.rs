//! The partner's side: each origin's stream applied in order, once.

use std::collections::BTreeMap;

use tabadul_domain::{AgencyCode, Alert, AlertId};

use crate::envelope::{Envelope, Payload};
use crate::hitkeys::HitKeys;

/// Envelopes that arrived ahead of a gap kept per origin at most; beyond, they are dropped and
/// asked for again once the gap is filled.
pub const PENDING_MAX: usize = 10_000;

/// Why an envelope was refused (and logged).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("envelope from {0}, a node this one has no key for")]
    UnknownOrigin(AgencyCode),
    #[error("envelope said to be from {0} whose signature does not verify: forged or altered")]
    BadSignature(AgencyCode),
    #[error("envelope from {origin} about an alert of {claimed}: only the owner sends its alerts")]
    NotOwner { origin: AgencyCode, claimed: AgencyCode },
    #[error("envelope for {0}, not for this node")]
    NotForUs(AgencyCode),
    #[error("malformed envelope: {0}")]
    Malformed(String),
}

/// What a partner holds of an origin's alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "level", rename_all = "kebab-case")]
pub enum Replicated {
    Full {
        alert: Box<Alert>,
    },
    Hit {
        keys: HitKeys,
    },
    /// Held in full, in the node's store (see [`Inbox::compact`]): only its version is kept here.
    Stored,
}

/// What became of an envelope that was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Applied, with those that waited for it: how many envelopes in all.
    Applied(usize),
    /// Seen before: nothing to do (a redelivery).
    Duplicate,
    /// Early: kept until the envelopes from `missing_from` have come; ask for them.
    Early { missing_from: u64 },
}

/// One origin's stream as the partner has applied it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct OriginState {
    /// The next number to apply (all before it are applied).
    next: u64,
    /// Early envelopes, by number. Not durable: lost on restart, asked for again.
    #[serde(skip)]
    pending: BTreeMap<u64, Envelope>,
    alerts: BTreeMap<AlertId, (u64, Replicated)>,
}

/// The partner node's replicas of its origins' streams (serialisable without the early
/// envelopes, which are not durable).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Inbox {
    me: AgencyCode,
    origins: BTreeMap<AgencyCode, OriginState>,
    /// Envelopes applied since [`Inbox::take_applied`] was last called, in order.
    #[serde(skip)]
    applied: Vec<Envelope>,
}

impl Inbox {
    pub fn new(me: AgencyCode) -> Inbox {
        Inbox { me, origins: BTreeMap::new(), applied: Vec::new() }
    }

    /// Takes an opened (verified) envelope.
    pub fn receive(&mut self, envelope: Envelope) -> Result<Accepted, Rejection> {
        if envelope.partner != self.me {
            return Err(Rejection::NotForUs(envelope.partner));
        }
        if let Payload::Full { alert } = &envelope.payload {
            if alert.owner != envelope.origin {
                return Err(Rejection::NotOwner { origin: envelope.origin, claimed: alert.owner.clone() });
            }
            if alert.id != envelope.alert_id {
                return Err(Rejection::Malformed(format!("envelope about {} carries {}", envelope.alert_id, alert.id)));
            }
            alert.validate().map_err(|e| Rejection::Malformed(e.to_string()))?;
        }
        if let Payload::Hit { keys } = &envelope.payload
            && keys.owner != envelope.origin
        {
            return Err(Rejection::NotOwner { origin: envelope.origin, claimed: keys.owner.clone() });
        }
        if let Payload::Notification { notification } = &envelope.payload
            && (notification.owner != self.me || notification.agency != envelope.origin)
        {
            return Err(Rejection::NotOwner { origin: envelope.origin, claimed: notification.agency.clone() });
        }
        if envelope.seq == 0 {
            return Err(Rejection::Malformed("envelope number 0".into()));
        }
        let state = self
            .origins
            .entry(envelope.origin.clone())
            .or_insert_with(|| OriginState { next: 1, ..Default::default() });
        if envelope.seq < state.next || state.pending.contains_key(&envelope.seq) {
            return Ok(Accepted::Duplicate);
        }
        if envelope.seq > state.next {
            if state.pending.len() < PENDING_MAX {
                state.pending.insert(envelope.seq, envelope);
            }
            return Ok(Accepted::Early { missing_from: state.next });
        }
        let mut applied = vec![envelope];
        while let Some(next) = state.pending.remove(&(applied.last().map_or(0, |e| e.seq) + 1)) {
            applied.push(next);
        }
        for envelope in &applied {
            apply(state, envelope.clone());
        }
        let count = applied.len();
        self.applied.extend(applied);
        Ok(Accepted::Applied(count))
    }

    /// The origin announced the last number it sent: the number to ask again from, if this
    /// node has not applied everything up to it.
    pub fn behind(&self, origin: &AgencyCode, head: u64) -> Option<u64> {
        let next = self.origins.get(origin).map_or(1, |s| s.next);
        (next <= head).then_some(next)
    }

    /// The next number expected from each origin (all before it applied): the durable part of
    /// the state, with the alerts.
    pub fn position(&self, origin: &AgencyCode) -> u64 {
        self.origins.get(origin).map_or(1, |s| s.next)
    }

    /// Starts `origin`'s stream at `position` (the number of the last envelope its holdings
    /// reflect) with those holdings, if nothing of it is held yet: how a border post added
    /// after its national node received them catches up ([`crate::Snapshot`]). Returns whether
    /// it did; the full alerts among `held` are for the caller to write to its store.
    pub fn seed(&mut self, origin: &AgencyCode, position: u64, held: Vec<(AlertId, u64, Replicated)>) -> bool {
        if self.origins.contains_key(origin) {
            return false;
        }
        let alerts = held
            .into_iter()
            .map(|(id, version, replicated)| {
                let kept = if matches!(replicated, Replicated::Full { .. }) { Replicated::Stored } else { replicated };
                (id, (version, kept))
            })
            .collect();
        self.origins.insert(origin.clone(), OriginState { next: position + 1, alerts, ..Default::default() });
        true
    }

    /// Each origin heard from, with the number of the last envelope applied from it.
    pub fn positions(&self) -> impl Iterator<Item = (&AgencyCode, u64)> {
        self.origins.iter().map(|(origin, state)| (origin, state.next.saturating_sub(1)))
    }

    /// The envelopes applied since the last call, in order: what the node mirrors into its
    /// store (the alerts its checks search).
    pub fn take_applied(&mut self) -> Vec<Envelope> {
        std::mem::take(&mut self.applied)
    }

    /// Drops the copies of full alerts once the node has written them to its own store, which
    /// keeps them: the replica keeps their versions, and the hit keys.
    pub fn compact(&mut self) {
        for state in self.origins.values_mut() {
            for (_, replicated) in state.alerts.values_mut() {
                if matches!(replicated, Replicated::Full { .. }) {
                    *replicated = Replicated::Stored;
                }
            }
        }
    }

    /// Forgets what is not durable (a restart): the early envelopes.
    pub fn restart(&mut self) {
        for state in self.origins.values_mut() {
            state.pending.clear();
        }
    }

    /// Everything held, by origin and alert: what the node's checks search.
    pub fn alerts(&self) -> impl Iterator<Item = (&AgencyCode, &AlertId, &Replicated)> {
        self.origins.iter().flat_map(|(origin, state)| state.alerts.iter().map(move |(id, (_, r))| (origin, id, r)))
    }

    /// The version held of an origin's alert.
    pub fn version(&self, origin: &AgencyCode, id: &AlertId) -> Option<u64> {
        self.origins.get(origin)?.alerts.get(id).map(|(version, _)| *version)
    }

    pub fn alert(&self, origin: &AgencyCode, id: &AlertId) -> Option<&Replicated> {
        self.origins.get(origin)?.alerts.get(id).map(|(_, r)| r)
    }
}

fn apply(state: &mut OriginState, envelope: Envelope) {
    state.next = envelope.seq + 1;
    let id = envelope.alert_id;
    // Versions only go forward: an envelope about an older version than held changes nothing
    // (it cannot happen in one ordered stream, but a resent stream after a restart of the
    // origin's log could repeat one).
    if state.alerts.get(&id).is_some_and(|(held, _)| *held > envelope.alert_version) {
        return;
    }
    match envelope.payload {
        Payload::Full { alert } => {
            state.alerts.insert(id, (envelope.alert_version, Replicated::Full { alert }));
        }
        Payload::Hit { keys } => {
            state.alerts.insert(id, (envelope.alert_version, Replicated::Hit { keys }));
        }
        Payload::Remove { .. } => {
            state.alerts.remove(&id);
        }
        // Not about what this node holds of the origin's alerts: the node keeps it itself.
        Payload::Notification { .. } => {}
    }
}
