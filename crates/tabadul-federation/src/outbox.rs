//! The origin's side: every change, for every partner, as the agreements allow; numbered per
//! partner and kept for resending.

use std::collections::BTreeMap;

use tabadul_domain::{AgencyCode, Agreement, Alert, AlertId, SharingTable, Visibility};

use crate::envelope::{ENVELOPE_VERSION, Envelope, Payload, RemoveReason};
use crate::hitkeys::hit_keys;

/// What decides what a partner may hold: the day, the agreements in force, and the secret of
/// the hit keys shared with each partner.
#[derive(Clone, Copy)]
pub struct Sharing<'a> {
    pub date: time::Date,
    pub agreements: &'a [Agreement],
    pub secret: &'a dyn Fn(&AgencyCode) -> [u8; 32],
}

/// One partner's stream.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Stream {
    /// Envelopes sent before `log` begins (dropped by [`Outbox::compact`]).
    #[serde(default)]
    base: u64,
    /// The envelopes sent since, in order (`log[i].seq == base + i + 1`): what a partner that
    /// missed some asks for again.
    log: Vec<Envelope>,
    /// What the partner holds now of each alert, as last sent.
    shared: BTreeMap<AlertId, Visibility>,
}

impl Stream {
    /// The number of the next envelope to this partner.
    fn next_seq(&self) -> u64 {
        self.base + self.log.len() as u64 + 1
    }
}

/// The origin node's outbox (serialisable, so that a node keeps it between runs).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Outbox {
    origin: AgencyCode,
    streams: BTreeMap<AgencyCode, Stream>,
}

impl Outbox {
    pub fn new(origin: AgencyCode, partners: impl IntoIterator<Item = AgencyCode>) -> Outbox {
        let streams = partners.into_iter().filter(|p| *p != origin).map(|p| (p, Stream::default())).collect();
        Outbox { origin, streams }
    }

    pub fn origin(&self) -> &AgencyCode {
        &self.origin
    }

    /// Adds a partner (a new agreement party); an existing one keeps its stream.
    pub fn add_partner(&mut self, partner: AgencyCode) {
        if partner != self.origin {
            self.streams.entry(partner).or_default();
        }
    }

    pub fn partners(&self) -> impl Iterator<Item = &AgencyCode> {
        self.streams.keys()
    }

    /// The last sequence number sent to `partner` (0 before the first): announced now and then
    /// so that a partner notices what it never received at the end of a stream.
    pub fn head(&self, partner: &AgencyCode) -> u64 {
        self.streams.get(partner).map_or(0, |s| s.next_seq() - 1)
    }

    /// Forgets the envelopes sent so far (the backbone keeps them for as long as partners need
    /// them): only the numbering and what each partner holds remain.
    pub fn compact(&mut self) {
        for stream in self.streams.values_mut() {
            stream.base += stream.log.len() as u64;
            stream.log.clear();
        }
    }

    /// The envelopes to `partner` from number `from` on, at most `limit`.
    pub fn resend(&self, partner: &AgencyCode, from: u64, limit: usize) -> &[Envelope] {
        let Some(stream) = self.streams.get(partner) else { return &[] };
        let start = from.max(stream.base + 1).saturating_sub(stream.base + 1) as usize;
        let end = start.saturating_add(limit).min(stream.log.len());
        stream.log.get(start..end).unwrap_or(&[])
    }

    /// A hit confirmed at this node on an alert of `notification.owner`: the notification, to
    /// that partner, in its stream.
    pub fn notify(&mut self, notification: &tabadul_store::Notification) -> Option<Envelope> {
        let stream = self.streams.get_mut(&notification.owner)?;
        let envelope = Envelope {
            version: ENVELOPE_VERSION,
            origin: self.origin.clone(),
            partner: notification.owner.clone(),
            seq: stream.next_seq(),
            alert_id: notification.alert_id,
            alert_version: 0,
            payload: Payload::Notification { notification: Box::new(notification.clone()) },
        };
        stream.log.push(envelope.clone());
        Some(envelope)
    }

    /// A change to one of the origin's alerts: `alert` as it is now (`None` once removed, for
    /// `reason`) at `version`. Gives each partner what it may now hold of it under `sharing`.
    pub fn change(
        &mut self,
        id: AlertId,
        version: u64,
        alert: Option<&Alert>,
        reason: RemoveReason,
        sharing: &Sharing<'_>,
    ) -> Vec<Envelope> {
        self.emit(id, version, alert, reason, sharing, false)
    }

    /// Agreements changed (made, revoked, ended) or a day passed: every alert of the origin is
    /// looked at again, with its version, and each partner whose level changed is told what it
    /// gains or must forget.
    pub fn reshare(&mut self, alerts: &[(Alert, u64)], sharing: &Sharing<'_>) -> Vec<Envelope> {
        let reason = RemoveReason::NoLongerShared;
        alerts
            .iter()
            .flat_map(|(alert, version)| self.emit(alert.id, *version, Some(alert), reason, sharing, true))
            .collect()
    }

    fn emit(
        &mut self,
        id: AlertId,
        version: u64,
        alert: Option<&Alert>,
        reason: RemoveReason,
        sharing: &Sharing<'_>,
        only_changed: bool,
    ) -> Vec<Envelope> {
        let Sharing { date, agreements, secret } = *sharing;
        if alert.is_some_and(|a| a.owner != self.origin || a.id != id) {
            return Vec::new();
        }
        let origin = self.origin.clone();
        let mut sent = Vec::new();
        for (partner, stream) in &mut self.streams {
            let level = match alert {
                Some(alert) => SharingTable::new(partner, date, agreements).visibility(alert.scope()),
                None => Visibility::Hidden,
            };
            let held = stream.shared.get(&id).copied().unwrap_or(Visibility::Hidden);
            if only_changed && level == held {
                continue;
            }
            let payload = match (level, alert) {
                (Visibility::Full, Some(alert)) => Payload::Full { alert: Box::new(alert.clone()) },
                (Visibility::HitOnly, Some(alert)) => Payload::Hit { keys: hit_keys(alert, &secret(partner)) },
                _ if held == Visibility::Hidden => continue,
                _ => Payload::Remove { reason: if alert.is_some() { RemoveReason::NoLongerShared } else { reason } },
            };
            if level == Visibility::Hidden {
                stream.shared.remove(&id);
            } else {
                stream.shared.insert(id, level);
            }
            let envelope = Envelope {
                version: ENVELOPE_VERSION,
                origin: origin.clone(),
                partner: partner.clone(),
                seq: stream.next_seq(),
                alert_id: id,
                alert_version: version,
                payload,
            };
            stream.log.push(envelope.clone());
            sent.push(envelope);
        }
        sent
    }
}
