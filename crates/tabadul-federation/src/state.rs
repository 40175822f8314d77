//! A node's federation state as it keeps it between rounds, and what it says of each partner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tabadul_domain::AgencyCode;

use crate::{Inbox, Outbox};

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
        Status { agency: self.agency.clone(), published_through: self.published_through, partners }
    }
}

/// Replication as a supervisor or an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub agency: AgencyCode,
    /// This node's own changes published through this change-log number.
    pub published_through: u64,
    pub partners: Vec<PartnerStatus>,
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
