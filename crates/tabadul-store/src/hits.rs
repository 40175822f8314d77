//! Hits and the notifications they send: what a check found, what the officer did about it,
//! and what the alert's owner is told.

use serde::{Deserialize, Serialize};
use tabadul_domain::{Action, AgencyCode, AlertId, HitId, NotificationId};

/// One alert found by one check, kept so that the officer can record the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HitRecord {
    pub id: HitId,
    /// The check (its receipt's id).
    pub check_id: String,
    pub alert_id: AlertId,
    /// The alert's owner, who is notified of a confirmed hit.
    pub owner: AgencyCode,
    /// The agency that checked.
    pub agency: AgencyCode,
    pub user: String,
    /// The border crossing point.
    pub post: String,
    pub at_unix_us: i64,
    /// `full` or `hit`: what the checking agency saw of the alert.
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub action: Action,
    /// The traveller data the check searched (its JSON), shared by the check's hits (a
    /// manifest's check finds up to 20; each held a copy).
    pub traveller: std::sync::Arc<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// What the officer found a hit to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The traveller is the person (or document, vehicle) of the alert; action was taken.
    Confirmed,
    /// The traveller is not: the alert matched someone else.
    FalsePositive,
}

impl OutcomeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Confirmed => "confirmed",
            OutcomeKind::FalsePositive => "false-positive",
        }
    }
}

/// The outcome of a hit, as the officer records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// What was done (for a confirmed hit).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action_taken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remarks: String,
    pub user: String,
    pub at_unix_us: i64,
}

/// The owner's acknowledgement of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub user: String,
    pub at_unix_us: i64,
}

/// A confirmed hit, told to the alert's owner: who, where, when, the traveller data seen and
/// the action taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub id: NotificationId,
    pub hit_id: HitId,
    pub alert_id: AlertId,
    pub owner: AgencyCode,
    /// The agency whose officer confirmed the hit.
    pub agency: AgencyCode,
    pub user: String,
    pub post: String,
    /// When the check ran.
    pub checked_at_unix_us: i64,
    /// When the hit was confirmed.
    pub confirmed_at_unix_us: i64,
    pub traveller: serde_json::Value,
    pub action_taken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remarks: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<Acknowledgement>,
}
