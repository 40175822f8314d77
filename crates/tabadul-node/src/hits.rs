//! What happens after a hit: the officer records it as confirmed (with the action taken) or as
//! a false positive; a confirmation notifies the alert's owner, who sees it in its hit inbox
//! and acknowledges it; the owner sees how often each of its alerts matched the wrong person.

use serde::Serialize;
use tabadul_audit::ops;
use tabadul_domain::{AlertId, HitId, NotificationId, Role, TEXT_BYTES_MAX};
use tabadul_store::{Acknowledgement, HitRecord, Notification, Outcome, OutcomeKind};

use crate::{Actor, Node, NodeError, Result, details, new_id};

/// Most notifications one inbox read returns.
pub const INBOX_LIMIT_MAX: usize = 1000;

/// An alert of the owner's and how many of its hits were false positives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FalsePositives {
    pub alert_id: AlertId,
    pub false_positives: u64,
}

fn checked_text(what: &str, text: &str) -> Result<String> {
    let text = text.trim();
    if text.len() > TEXT_BYTES_MAX {
        return Err(NodeError::Invalid(format!("the {what} is longer than {TEXT_BYTES_MAX} bytes")));
    }
    Ok(text.to_string())
}

impl Node {
    /// Records what a hit turned out to be. Only the agency whose officer checked may; a
    /// confirmation needs the action taken and notifies the alert's owner.
    pub fn record_hit_outcome(
        &self,
        actor: &Actor,
        id: HitId,
        kind: OutcomeKind,
        action_taken: &str,
        remarks: &str,
    ) -> Result<HitRecord> {
        actor.require(&[Role::Officer, Role::Analyst])?;
        let agency = actor.agency()?;
        let hit = self.store.hit(id)?.filter(|hit| &hit.agency == agency);
        // Another agency's hit is reported as not found: it may not know that it exists.
        let hit = hit.ok_or_else(|| NodeError::NotFound(format!("hit {id}")))?;
        let action_taken = checked_text("action taken", action_taken)?;
        let remarks = checked_text("remarks", remarks)?;
        if kind == OutcomeKind::Confirmed && action_taken.is_empty() {
            return Err(NodeError::Invalid("a confirmed hit needs the action taken (--action-taken)".into()));
        }
        let at_unix_us = tabadul_domain::unix_us(self.now());
        let outcome = Outcome {
            kind,
            action_taken: action_taken.clone(),
            remarks: remarks.clone(),
            user: actor.user.clone(),
            at_unix_us,
        };
        let notification = (kind == OutcomeKind::Confirmed).then(|| Notification {
            id: NotificationId(new_id()),
            hit_id: hit.id,
            alert_id: hit.alert_id,
            owner: hit.owner.clone(),
            agency: hit.agency.clone(),
            user: actor.user.clone(),
            post: hit.post.to_string(),
            checked_at_unix_us: hit.at_unix_us,
            confirmed_at_unix_us: at_unix_us,
            traveller: (*hit.traveller).clone(),
            action_taken,
            remarks,
            acknowledged: None,
        });
        let operation = match kind {
            OutcomeKind::Confirmed => ops::HIT_CONFIRM,
            OutcomeKind::FalsePositive => ops::HIT_REJECT,
        };
        let audit = self
            .audit(actor, operation)
            .targets([hit.alert_id])
            .details(details(serde_json::json!({
                "hit": id.to_string(),
                "check": hit.check_id,
                "notification": notification.as_ref().map(|n| n.id.to_string()),
            })))
            .result_count(1);
        Ok(self.store.record_outcome(id, &outcome, notification.as_ref(), audit)?)
    }

    /// The notifications of confirmed hits on the actor's agency's alerts, newest first; those
    /// not yet acknowledged only, unless `all`.
    pub fn hit_inbox(&self, actor: &Actor, all: bool, limit: usize) -> Result<Vec<Notification>> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        self.known_agency(agency)?;
        let found = self.store.notifications(agency, !all, limit.clamp(1, INBOX_LIMIT_MAX))?;
        let audit = self
            .audit(actor, ops::HIT_INBOX)
            .targets(found.iter().map(|n| n.alert_id))
            .details(details(serde_json::json!({ "all": all })))
            .result_count(found.len() as u64);
        self.store.append_audit(audit)?;
        Ok(found)
    }

    /// The owner acknowledges a notification.
    pub fn acknowledge_notification(&self, actor: &Actor, id: NotificationId) -> Result<Notification> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        let at_unix_us = tabadul_domain::unix_us(self.now());
        let acknowledgement = Acknowledgement { user: actor.user.clone(), at_unix_us };
        let audit = self
            .audit(actor, ops::HIT_ACKNOWLEDGE)
            .details(details(serde_json::json!({ "notification": id.to_string() })))
            .result_count(1);
        Ok(self.store.acknowledge(id, agency, &acknowledgement, audit)?)
    }

    /// How many hits on each of the actor's agency's alerts were false positives.
    pub fn false_positives(&self, actor: &Actor) -> Result<Vec<FalsePositives>> {
        actor.require(&[Role::Analyst])?;
        let agency = actor.agency()?;
        self.known_agency(agency)?;
        let counts = self.store.false_positives(agency)?;
        let found: Vec<FalsePositives> = counts
            .into_iter()
            .map(|(alert_id, false_positives)| FalsePositives { alert_id, false_positives })
            .collect();
        let audit = self
            .audit(actor, ops::HIT_FALSE_POSITIVES)
            .targets(found.iter().map(|f| f.alert_id))
            .result_count(found.len() as u64);
        self.store.append_audit(audit)?;
        Ok(found)
    }
}
