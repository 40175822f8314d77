//! Hits and the notifications they send: what a check found, what the officer did about it,
//! and what the alert's owner is told.

use serde::{Deserialize, Serialize};
use tabadul_domain::{Action, AgencyCode, AlertId, HitId, NotificationId};

/// One alert found by one check, kept so that the officer can record the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HitRecord {
    pub id: HitId,
    /// The check (its receipt's id). The check's own fields (this one, the officer, the post)
    /// are shared by its hits, not copied into each (a manifest's checks find thousands).
    pub check_id: std::sync::Arc<str>,
    pub alert_id: AlertId,
    /// The alert's owner, who is notified of a confirmed hit.
    pub owner: AgencyCode,
    /// The agency that checked.
    pub agency: AgencyCode,
    pub user: std::sync::Arc<str>,
    /// The border crossing point.
    pub post: std::sync::Arc<str>,
    pub at_unix_us: i64,
    /// `full` or `hit`: what the checking agency saw of the alert.
    pub level: std::borrow::Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub action: Action,
    /// The traveller data the check searched (its JSON), shared by the check's hits (a
    /// manifest's check finds up to 20; each held a copy).
    pub traveller: std::sync::Arc<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// What a database keeps of a hit in its row's body: its id, alert, owner and check are the
/// row's columns, and who checked, where, when and whom is its check's ([`StoredCheck`]),
/// kept once for all the check's hits (a manifest's check finds several; each row carried the
/// traveller and the officer again, three quarters of its bytes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredHit {
    pub level: std::borrow::Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// What a check's hits share, kept once per check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredCheck {
    pub agency: AgencyCode,
    pub user: std::sync::Arc<str>,
    pub post: std::sync::Arc<str>,
    pub at_unix_us: i64,
    pub traveller: std::sync::Arc<serde_json::Value>,
}

impl HitRecord {
    /// The hit's own part, as a database keeps it in the hit's row.
    pub fn stored_hit(&self) -> StoredHit {
        StoredHit { level: self.level.clone(), score: self.score, action: self.action, outcome: self.outcome.clone() }
    }

    /// Its check's part, as a database keeps it once for all the check's hits.
    pub fn stored_check(&self) -> StoredCheck {
        StoredCheck {
            agency: self.agency.clone(),
            user: self.user.clone(),
            post: self.post.clone(),
            at_unix_us: self.at_unix_us,
            traveller: self.traveller.clone(),
        }
    }

    /// Whether two hits are of one check, the same: the same check, officer, post, time and
    /// traveller.
    pub fn same_check(&self, other: &HitRecord) -> bool {
        self.check_id == other.check_id
            && self.agency == other.agency
            && self.user == other.user
            && self.post == other.post
            && self.at_unix_us == other.at_unix_us
            && (std::sync::Arc::ptr_eq(&self.traveller, &other.traveller) || self.traveller == other.traveller)
    }

    /// A hit put together again from its row's columns, its body and its check's.
    pub fn from_stored(
        (id, check_id, alert_id, owner): (HitId, String, AlertId, AgencyCode),
        hit: StoredHit,
        check: StoredCheck,
    ) -> HitRecord {
        HitRecord {
            id,
            check_id: check_id.into(),
            alert_id,
            owner,
            agency: check.agency,
            user: check.user,
            post: check.post,
            at_unix_us: check.at_unix_us,
            level: hit.level,
            score: hit.score,
            action: hit.action,
            traveller: check.traveller,
            outcome: hit.outcome,
        }
    }
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
