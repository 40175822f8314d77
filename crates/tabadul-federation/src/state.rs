//! A node's federation state as it keeps it between rounds, and what it says of each partner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tabadul_domain::AgencyCode;

use crate::{Inbox, Outbox, PostProgress, Reports};

/// Everything a node keeps between rounds (in its store).
#[derive(Debug, Serialize, Deserialize)]
pub struct NodeState {
    pub agency: AgencyCode,
    /// The change-log number of this node's agency published through.
    pub published_through: u64,
    /// The agreements as last shared by (the day and their JSON), to notice a change.
    pub agreements: String,
    pub outbox: Outbox,
    pub inbox: Inbox,
    /// The last notification sent to each partner (of hits on its alerts confirmed here).
    #[serde(default)]
    pub notified_through: BTreeMap<AgencyCode, u128>,
    /// A national node with border posts: its own changes sent to them through this
    /// change-log number.
    #[serde(default)]
    pub posts_published_through: u64,
    /// A national node with border posts: the agencies and agreements last sent to them (their
    /// JSON), and that directory's number.
    #[serde(default)]
    pub posts_directory: String,
    #[serde(default)]
    pub posts_directory_seq: u64,
    /// A border post: the number of the directory applied.
    #[serde(default)]
    pub directory_seq: u64,
    /// A national node: the posts its own alerts were passed on for (a new one has them all
    /// passed on again).
    #[serde(default)]
    pub posts_known: std::collections::BTreeSet<String>,
    /// A national node: how far each post's reports are applied.
    #[serde(default)]
    pub reports: Reports,
    /// A border post: how far its checks and outcomes are reported upward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<PostProgress>,
}

impl NodeState {
    pub fn new(agency: AgencyCode) -> NodeState {
        NodeState {
            outbox: Outbox::new(agency.clone(), []),
            inbox: Inbox::new(agency.clone()),
            agency,
            published_through: 0,
            agreements: String::new(),
            notified_through: BTreeMap::new(),
            posts_published_through: 0,
            posts_directory: String::new(),
            posts_directory_seq: 0,
            posts_known: Default::default(),
            directory_seq: 0,
            reports: Reports::default(),
            post: None,
        }
    }

    /// How far replication is with each partner.
    pub fn status(&self) -> Status {
        let partners = self
            .outbox
            .partners()
            .map(|partner| PartnerStatus {
                agency: partner.clone(),
                sent: self.outbox.head(partner),
                applied: self.inbox.position(partner) - 1,
                held: self.inbox.alerts().filter(|(origin, _, _)| *origin == partner).count(),
            })
            .collect();
        let posts = self
            .reports
            .posts()
            .map(|(post, next)| PostStatus { post: post.clone(), reports_applied: next - 1 })
            .collect();
        let reporting = self.post.as_ref().map(|progress| Reporting {
            post: progress.post.clone(),
            reports_sent: progress.next_seq - 1,
            audit_reported_through: progress.reported_through,
        });
        Status { agency: self.agency.clone(), published_through: self.published_through, partners, posts, reporting }
    }
}

/// Replication as a supervisor or an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub agency: AgencyCode,
    /// This node's own changes published through this change-log number.
    pub published_through: u64,
    pub partners: Vec<PartnerStatus>,
    /// A national node: its border posts, and how many reports of each it applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub posts: Vec<PostStatus>,
    /// A border post: how far it reported upward.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting: Option<Reporting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostStatus {
    pub post: crate::PostName,
    pub reports_applied: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reporting {
    pub post: crate::PostName,
    pub reports_sent: u64,
    /// The post's audit log is reported through this entry.
    pub audit_reported_through: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerStatus {
    pub agency: AgencyCode,
    /// Envelopes sent to the partner.
    pub sent: u64,
    /// Envelopes from the partner applied here.
    pub applied: u64,
    /// The partner's alerts held here (in full or as hit keys).
    pub held: usize,
}
