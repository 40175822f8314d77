//! A store's content record by record, verbatim: what `tabadul migrate` copies from one
//! backend to another with nothing lost (sequence numbers, versions, the audit chain as it is).

use serde::Serialize;
use tabadul_audit::AuditEntry;
use tabadul_domain::{Agency, AgencyCode, Agreement, Link};

use crate::{Change, HitRecord, Notification, StoredAlert, StoredUser, TokenRecord};

/// One record of a store. [`Store::export`](crate::Store::export) gives them kind by kind in
/// the order of [`RecordKind::ALL`], which [`Store::restore`](crate::Store::restore) accepts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "record", rename_all = "kebab-case")]
pub enum Record {
    Agency(Agency),
    Agreement(Agreement),
    User(StoredUser),
    Token(TokenRecord),
    Alert(StoredAlert),
    /// The last sequence number given to an owner's changes.
    Head {
        owner: AgencyCode,
        last_seq: u64,
    },
    Change(Change),
    Link(Link),
    Hit(HitRecord),
    Notification(Notification),
    /// The federation state document.
    Federation(String),
    Audit(AuditEntry),
}

/// The kinds of record, in export order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    Agency,
    Agreement,
    User,
    Token,
    Alert,
    Head,
    Change,
    Link,
    Hit,
    Notification,
    Federation,
    Audit,
}

impl RecordKind {
    pub const ALL: [RecordKind; 12] = [
        RecordKind::Agency,
        RecordKind::Agreement,
        RecordKind::User,
        RecordKind::Token,
        RecordKind::Alert,
        RecordKind::Head,
        RecordKind::Change,
        RecordKind::Link,
        RecordKind::Hit,
        RecordKind::Notification,
        RecordKind::Federation,
        RecordKind::Audit,
    ];

    /// The plural, for reports: "alerts", "audit entries".
    pub fn plural(self) -> &'static str {
        match self {
            RecordKind::Agency => "agencies",
            RecordKind::Agreement => "agreements",
            RecordKind::User => "users",
            RecordKind::Token => "tokens",
            RecordKind::Alert => "alerts",
            RecordKind::Head => "change heads",
            RecordKind::Change => "changes",
            RecordKind::Link => "links",
            RecordKind::Hit => "hits",
            RecordKind::Notification => "notifications",
            RecordKind::Federation => "federation states",
            RecordKind::Audit => "audit entries",
        }
    }
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Agency(_) => RecordKind::Agency,
            Record::Agreement(_) => RecordKind::Agreement,
            Record::User(_) => RecordKind::User,
            Record::Token(_) => RecordKind::Token,
            Record::Alert(_) => RecordKind::Alert,
            Record::Head { .. } => RecordKind::Head,
            Record::Change(_) => RecordKind::Change,
            Record::Link(_) => RecordKind::Link,
            Record::Hit(_) => RecordKind::Hit,
            Record::Notification(_) => RecordKind::Notification,
            Record::Federation(_) => RecordKind::Federation,
            Record::Audit(_) => RecordKind::Audit,
        }
    }
}

/// Most records one `restore` call takes.
pub const RECORDS_PER_RESTORE_MAX: usize = 10_000;
