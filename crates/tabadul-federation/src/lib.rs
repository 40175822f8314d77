//! Federation: what one node (the *origin*, owner of its agencies' alerts) tells each partner
//! node of its alert changes, and how the partner applies them. Pure: no I/O, no clock, no
//! randomness; the backbone (NATS JetStream) and the stores are outside.
//!
//! - [`Outbox`] (at the origin): each change to an alert becomes, for every partner, the alert
//!   in full, its [`HitKeys`] (for a `hit`-level partner) or a removal (deleted, expired, or no
//!   longer shared: an agreement revoked), numbered in one gapless sequence per partner and
//!   kept for resending. [`Outbox::reshare`] re-evaluates everything shared when agreements
//!   change.
//! - [`envelope`]: an [`Envelope`] is sealed by signing its exact JSON bytes with the origin's
//!   ed25519 key; [`open`] verifies the signature against the origin's known key before it
//!   reads anything.
//! - [`Inbox`] (at the partner): applies a stream in order, once: duplicates are ignored,
//!   envelopes that arrive early wait (bounded) and the gap is reported to be asked for again;
//!   a removal removes; an envelope whose alert belongs to another agency than its origin is
//!   refused. Its state is what the partner's checks search (read-only).
//! - [`report`]: border posts. A post replicates its national node (the node's own alerts,
//!   numbered by its change log, and its partners' envelopes relayed unchanged) and reports
//!   upward each check it answered and each hit outcome recorded there ([`Report`]).

pub mod envelope;
mod hitkeys;
mod inbox;
mod outbox;
pub mod report;
mod state;

pub use envelope::{ENVELOPE_VERSION, Envelope, Payload, RemoveReason, Sealed, open, seal};
pub use hitkeys::{HitIndex, HitKeys, PossibleHit, TravellerData, hit_keys, traveller_keys};
pub use inbox::{Accepted, Inbox, PENDING_MAX, Rejection, Replicated};
pub use outbox::{Outbox, Sharing};
pub use report::{
    Directory, PostName, PostProgress, REPORT_VERSION, Report, ReportBody, ReportOrder, Reports, SNAPSHOT_PART_ALERTS,
    Snapshot, SnapshotEntry, open_directory, open_report, open_snapshot, seal_directory, seal_report, seal_snapshot,
};
pub use state::{NodeState, PartnerStatus, Status};
