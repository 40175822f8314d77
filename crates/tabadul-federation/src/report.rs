//! Border posts: replicas of their national node that answer checks offline, and report upward
//! what they did.
//!
//! Downstream, a post reads what its national node holds, as the node received it: the node's
//! own alerts as envelopes numbered by its change log, and its partners' envelopes relayed
//! unchanged, each verified at the post against its origin's key. Nothing new is needed for that
//! direction: the post's [`crate::Inbox`] is the national node's, one hop later.
//!
//! Upstream, a post sends [`Report`]s, signed with its own key and numbered in one gapless
//! sequence: each check it answered (its audit entry and hits) and each outcome an officer
//! recorded there (with the notification a confirmed hit sends the alert's owner). The national
//! node applies each post's reports in order, once ([`Reports`]), into its own store: its audit
//! log then names every check made at its posts, and notifications reach partners from there.
//!
//! Besides alerts, a post needs what decides what its officers may see: the agencies and the
//! agreements as the national node records them. The national node sends them as a signed,
//! numbered [`Directory`] whenever they change; a post applies only a newer one.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tabadul_audit::AuditDraft;
use tabadul_domain::{Agency, AgencyCode, Agreement, HitId};
use tabadul_store::{HitRecord, Notification, Outcome};

use crate::envelope::{ENVELOPE_BYTES_MAX, Sealed};
use crate::inbox::Rejection;

/// The report format this build writes and reads.
pub const REPORT_VERSION: u32 = 1;
/// Hits one check report carries, at most (a check returns at most 100 persons).
pub const REPORT_HITS_MAX: usize = 1000;

/// What the signature of a report covers begins with this, so that no envelope or receipt of
/// the same key can pass for a report.
const DOMAIN: &[u8] = b"tabadul post report v1\n";
/// The same for a directory.
const DIRECTORY_DOMAIN: &[u8] = b"tabadul post directory v1\n";
/// Agencies and agreements a directory holds, at most each.
pub const DIRECTORY_ENTRIES_MAX: usize = 10_000;

/// A border post's name: 1 to 16 capital letters, digits and hyphens (`BSR`, `TREBIBIL-1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostName(String);

impl PostName {
    pub fn new(text: &str) -> Result<PostName, String> {
        let name = text.trim().to_ascii_uppercase();
        let ok = (1..=16).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(PostName(name))
        } else {
            Err(format!("`{text}` is not a post name (1 to 16 capital letters, digits and hyphens, such as BSR)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PostName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PostName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        PostName::new(&text)
    }
}

impl From<PostName> for String {
    fn from(name: PostName) -> String {
        name.0
    }
}

/// One thing a post did, for its national node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub version: u32,
    /// The agency the post checks for (its national node's).
    pub agency: AgencyCode,
    pub post: PostName,
    /// Its number in the post's reports: from 1, without gaps.
    pub seq: u64,
    pub body: ReportBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReportBody {
    /// A check answered at the post: its entry in the post's audit log (`post_audit_seq`) and
    /// the hits it recorded.
    Check { post_audit_seq: u64, audit: AuditDraft, hits: Vec<HitRecord> },
    /// An officer at the post recorded what a hit was; a confirmed hit's notification to the
    /// alert's owner goes with it.
    Outcome {
        post_audit_seq: u64,
        audit: AuditDraft,
        hit_id: HitId,
        outcome: Outcome,
        notification: Option<Box<Notification>>,
    },
}

fn signed_bytes(domain: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut signed = domain.to_vec();
    signed.extend_from_slice(bytes);
    signed
}

/// Reads a sealed value signed under `domain` by `key` (`signer` names it in a refusal):
/// verified before it is parsed.
fn open_as<T: serde::de::DeserializeOwned>(
    domain: &[u8],
    what: &str,
    sealed: &Sealed,
    key: &VerifyingKey,
    signer: impl FnOnce() -> AgencyCode,
) -> Result<T, Rejection> {
    if sealed.bytes.len() > ENVELOPE_BYTES_MAX {
        return Err(Rejection::Malformed(format!("{} bytes, more than {ENVELOPE_BYTES_MAX}", sealed.bytes.len())));
    }
    key.verify(&signed_bytes(domain, &sealed.bytes), &Signature::from_bytes(&sealed.signature))
        .map_err(|_| Rejection::BadSignature(signer()))?;
    serde_json::from_slice(&sealed.bytes).map_err(|e| Rejection::Malformed(format!("{what}: {e}")))
}

fn seal_as(domain: &[u8], value: &impl Serialize, key: &SigningKey) -> Sealed {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let signature = key.sign(&signed_bytes(domain, &bytes)).to_bytes();
    Sealed { bytes, signature }
}

/// Seals a report with the post's key.
pub fn seal_report(report: &Report, key: &SigningKey) -> Sealed {
    seal_as(DOMAIN, report, key)
}

/// The agencies and agreements of a national node, for its posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub version: u32,
    pub agency: AgencyCode,
    /// Its number: a post applies a directory only if it is newer than the one it has.
    pub seq: u64,
    pub agencies: Vec<Agency>,
    pub agreements: Vec<Agreement>,
}

/// What a national node holds of one partner's alerts, for a border post that joins after it
/// received them (the stream keeps relayed envelopes for 30 days only). Vouched for by the
/// national node's signature, not the partner's: the changes after `position` come relayed and
/// are verified against the partner's key as usual. Sent in parts (a message is at most
/// 256 KiB); a post takes a snapshot only of an origin it holds nothing of, and only whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub version: u32,
    pub agency: AgencyCode,
    /// The partner whose alerts these are.
    pub origin: AgencyCode,
    /// The last envelope of the origin's stream these holdings reflect.
    pub position: u64,
    /// This part's number, from 1, of `parts`.
    pub part: u32,
    pub parts: u32,
    pub held: Vec<SnapshotEntry>,
}

/// One alert of a snapshot: in full, or its hit keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEntry {
    pub alert_id: tabadul_domain::AlertId,
    pub alert_version: u64,
    pub payload: crate::Payload,
}

/// Alerts a snapshot part holds at most (a part stays well under a message's 256 KiB).
pub const SNAPSHOT_PART_ALERTS: usize = 100;

/// What the signature of a snapshot part covers begins with this.
const SNAPSHOT_DOMAIN: &[u8] = b"tabadul post snapshot v1\n";

/// Seals a snapshot part with the national node's key.
pub fn seal_snapshot(snapshot: &Snapshot, key: &SigningKey) -> Sealed {
    seal_as(SNAPSHOT_DOMAIN, snapshot, key)
}

/// Verifies a sealed snapshot part against the national node's key, then reads it: only full
/// alerts and hit keys of the origin it names, for this agency.
pub fn open_snapshot(sealed: &Sealed, agency: &AgencyCode, key: &VerifyingKey) -> Result<Snapshot, Rejection> {
    let snapshot: Snapshot = open_as(SNAPSHOT_DOMAIN, "snapshot", sealed, key, || agency.clone())?;
    if snapshot.version != REPORT_VERSION || &snapshot.agency != agency || snapshot.origin == *agency {
        return Err(Rejection::Malformed("a snapshot of another agency or of the node's own".into()));
    }
    if snapshot.part == 0 || snapshot.part > snapshot.parts || snapshot.held.len() > SNAPSHOT_PART_ALERTS {
        return Err(Rejection::Malformed(format!("snapshot part {} of {}", snapshot.part, snapshot.parts)));
    }
    for entry in &snapshot.held {
        let owner = match &entry.payload {
            crate::Payload::Full { alert } if alert.id == entry.alert_id => {
                alert.validate().map_err(|e| Rejection::Malformed(e.to_string()))?;
                &alert.owner
            }
            crate::Payload::Hit { keys } => &keys.owner,
            _ => return Err(Rejection::Malformed(format!("snapshot entry {}", entry.alert_id))),
        };
        if owner != &snapshot.origin {
            return Err(Rejection::NotOwner { origin: snapshot.origin.clone(), claimed: owner.clone() });
        }
    }
    Ok(snapshot)
}

/// Seals a directory with the national node's key.
pub fn seal_directory(directory: &Directory, key: &SigningKey) -> Sealed {
    seal_as(DIRECTORY_DOMAIN, directory, key)
}

/// Verifies a sealed directory against the national node's key, then reads it.
pub fn open_directory(sealed: &Sealed, agency: &AgencyCode, key: &VerifyingKey) -> Result<Directory, Rejection> {
    let directory: Directory = open_as(DIRECTORY_DOMAIN, "directory", sealed, key, || agency.clone())?;
    if directory.version != REPORT_VERSION || &directory.agency != agency {
        return Err(Rejection::Malformed(format!("directory version {} of {}", directory.version, directory.agency)));
    }
    if directory.agencies.len() > DIRECTORY_ENTRIES_MAX || directory.agreements.len() > DIRECTORY_ENTRIES_MAX {
        return Err(Rejection::Malformed("a directory with too many entries".into()));
    }
    for agreement in &directory.agreements {
        agreement.validate().map_err(|e| Rejection::Malformed(format!("agreement {}: {e}", agreement.id)))?;
    }
    Ok(directory)
}

/// Verifies a sealed report said to come from `post` of `agency` against that post's key from
/// `keys`, then reads it: the agency and post inside must be those that signed.
pub fn open_report(
    sealed: &Sealed,
    agency: &AgencyCode,
    post: &PostName,
    keys: &dyn Fn(&PostName) -> Option<VerifyingKey>,
) -> Result<Report, Rejection> {
    let who = || AgencyCode::new(&format!("{agency}-{post}")).unwrap_or_else(|_| agency.clone());
    let key = keys(post).ok_or_else(|| Rejection::UnknownOrigin(who()))?;
    let report: Report = open_as(DOMAIN, "report", sealed, &key, who)?;
    if report.version != REPORT_VERSION {
        return Err(Rejection::Malformed(format!("report version {}", report.version)));
    }
    if &report.agency != agency || &report.post != post {
        return Err(Rejection::NotOwner { origin: who(), claimed: report.agency.clone() });
    }
    if report.seq == 0 {
        return Err(Rejection::Malformed("report number 0".into()));
    }
    match &report.body {
        ReportBody::Check { hits, audit, .. } => {
            if hits.len() > REPORT_HITS_MAX {
                return Err(Rejection::Malformed(format!("{} hits in one check", hits.len())));
            }
            // A post checks for its agency only.
            if audit.agency.as_deref() != Some(agency.as_str()) || hits.iter().any(|h| &h.agency != agency) {
                return Err(Rejection::Malformed("a check of another agency".into()));
            }
        }
        ReportBody::Outcome { notification, hit_id, .. } => {
            if notification.as_ref().is_some_and(|n| &n.agency != agency || n.hit_id != *hit_id) {
                return Err(Rejection::Malformed("a notification of another agency or hit".into()));
            }
        }
    }
    Ok(report)
}

/// What the national node does with a report it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOrder {
    /// The next one: apply it, then [`Reports::applied`].
    Next,
    /// Applied before (a redelivery).
    Duplicate,
    /// Earlier ones are missing: leave it for later.
    Early { missing_from: u64 },
}

/// The national node's place in each post's reports (serialisable: part of its state).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reports {
    /// The next number expected from each post.
    next: BTreeMap<PostName, u64>,
}

impl Reports {
    pub fn order(&self, report: &Report) -> ReportOrder {
        let next = self.position(&report.post);
        match report.seq.cmp(&next) {
            std::cmp::Ordering::Less => ReportOrder::Duplicate,
            std::cmp::Ordering::Equal => ReportOrder::Next,
            std::cmp::Ordering::Greater => ReportOrder::Early { missing_from: next },
        }
    }

    /// The report `order` called next was applied.
    pub fn applied(&mut self, report: &Report) {
        if self.order(report) == ReportOrder::Next {
            self.next.insert(report.post.clone(), report.seq + 1);
        }
    }

    /// The next number expected from `post`.
    pub fn position(&self, post: &PostName) -> u64 {
        self.next.get(post).copied().unwrap_or(1)
    }

    pub fn posts(&self) -> impl Iterator<Item = (&PostName, u64)> {
        self.next.iter().map(|(post, next)| (post, *next))
    }
}

/// A post's side: how far its audit log has been reported, and the next report's number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostProgress {
    pub post: PostName,
    /// Audit entries through this one are reported (or are not checks or outcomes).
    pub reported_through: u64,
    /// The number the next report gets.
    pub next_seq: u64,
}

impl PostProgress {
    pub fn new(post: PostName) -> PostProgress {
        PostProgress { post, reported_through: 0, next_seq: 1 }
    }

    /// The report of a post's audit entry `audit_seq`, numbered next.
    pub fn report(&mut self, agency: &AgencyCode, audit_seq: u64, body: ReportBody) -> Report {
        let report = Report {
            version: REPORT_VERSION,
            agency: agency.clone(),
            post: self.post.clone(),
            seq: self.next_seq,
            body,
        };
        self.next_seq += 1;
        self.reported_through = self.reported_through.max(audit_seq);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(agency: &str) -> AuditDraft {
        AuditDraft::new(time::OffsetDateTime::UNIX_EPOCH, "officer@iq", Some(agency), "check")
    }

    fn report(seq: u64) -> Report {
        Report {
            version: REPORT_VERSION,
            agency: AgencyCode::new("IQ-MOI").unwrap(),
            post: PostName::new("bsr").unwrap(),
            seq,
            body: ReportBody::Check { post_audit_seq: seq, audit: draft("IQ-MOI"), hits: Vec::new() },
        }
    }

    #[test]
    fn a_report_opens_only_with_its_posts_key_and_unaltered() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let (agency, post) = (AgencyCode::new("IQ-MOI").unwrap(), PostName::new("BSR").unwrap());
        let sealed = seal_report(&report(1), &key);
        let keys = |p: &PostName| (p.as_str() == "BSR").then(|| key.verifying_key());
        assert_eq!(open_report(&sealed, &agency, &post, &keys).unwrap(), report(1));
        let forged = seal_report(&report(1), &other);
        assert!(matches!(open_report(&forged, &agency, &post, &keys), Err(Rejection::BadSignature(_))));
        let mut altered = sealed.clone();
        altered.bytes[10] ^= 1;
        assert!(open_report(&altered, &agency, &post, &keys).is_err());
        let elsewhere = PostName::new("ZAKHO").unwrap();
        assert!(matches!(open_report(&sealed, &agency, &elsewhere, &keys), Err(Rejection::UnknownOrigin(_))));
        // Another post's report sent as this post's: its key does not sign it.
        let keys_both = |_: &PostName| Some(key.verifying_key());
        assert!(matches!(open_report(&sealed, &agency, &elsewhere, &keys_both), Err(Rejection::NotOwner { .. })));
        // A check said to be another agency's is refused.
        let mut foreign = report(1);
        foreign.body = ReportBody::Check { post_audit_seq: 1, audit: draft("FR-MI"), hits: Vec::new() };
        let sealed = seal_report(&foreign, &key);
        assert!(matches!(open_report(&sealed, &agency, &post, &keys), Err(Rejection::Malformed(_))));
    }

    #[test]
    fn a_directory_opens_only_with_the_national_key_and_is_not_a_report() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let agency = AgencyCode::new("IQ-MOI").unwrap();
        let directory =
            Directory { version: REPORT_VERSION, agency: agency.clone(), seq: 1, agencies: vec![], agreements: vec![] };
        let sealed = seal_directory(&directory, &key);
        assert_eq!(open_directory(&sealed, &agency, &key.verifying_key()).unwrap(), directory);
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(open_directory(&sealed, &agency, &other.verifying_key()).is_err());
        // Signed under another domain: a report's signature does not make a directory.
        let report = seal_report(&report(1), &key);
        assert!(open_directory(&report, &agency, &key.verifying_key()).is_err());
        let keys = |_: &PostName| Some(key.verifying_key());
        assert!(open_report(&sealed, &agency, &PostName::new("BSR").unwrap(), &keys).is_err());
    }

    #[test]
    fn a_snapshot_holds_only_its_origins_alerts_and_seeds_only_an_unknown_origin() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let (iraq, france) = (AgencyCode::new("IQ-MOI").unwrap(), AgencyCode::new("FR-MI").unwrap());
        let alert = |owner: &str| tabadul_store::conformance::person_alert(5, owner, "Walid Mansour");
        let entry = |owner: &str| SnapshotEntry {
            alert_id: alert(owner).id,
            alert_version: 1,
            payload: crate::Payload::Full { alert: Box::new(alert(owner)) },
        };
        let snapshot = |owner: &str| Snapshot {
            version: REPORT_VERSION,
            agency: iraq.clone(),
            origin: france.clone(),
            position: 4,
            part: 1,
            parts: 1,
            held: vec![entry(owner)],
        };
        let sealed = seal_snapshot(&snapshot("FR-MI"), &key);
        assert_eq!(open_snapshot(&sealed, &iraq, &key.verifying_key()).unwrap(), snapshot("FR-MI"));
        let foreign = seal_snapshot(&snapshot("CZ-MV"), &key);
        assert!(matches!(open_snapshot(&foreign, &iraq, &key.verifying_key()), Err(Rejection::NotOwner { .. })));
        let mut inbox = crate::Inbox::new(iraq.clone());
        let held = vec![(alert("FR-MI").id, 1, crate::Replicated::Full { alert: Box::new(alert("FR-MI")) })];
        assert!(inbox.seed(&france, 4, held.clone()));
        assert_eq!(inbox.position(&france), 5);
        assert_eq!(inbox.alert(&france, &alert("FR-MI").id), Some(&crate::Replicated::Stored));
        assert!(!inbox.seed(&france, 9, held), "an origin already held is not seeded again");
        assert_eq!(inbox.position(&france), 5);
    }

    #[test]
    fn reports_apply_in_order_and_once() {
        let mut reports = Reports::default();
        assert_eq!(reports.order(&report(2)), ReportOrder::Early { missing_from: 1 });
        assert_eq!(reports.order(&report(1)), ReportOrder::Next);
        reports.applied(&report(1));
        assert_eq!(reports.order(&report(1)), ReportOrder::Duplicate);
        reports.applied(&report(1));
        assert_eq!(reports.order(&report(2)), ReportOrder::Next);
        assert_eq!(reports.position(&PostName::new("BSR").unwrap()), 2);
        assert!(PostName::new("").is_err() && PostName::new("a b").is_err() && PostName::new("-X").is_err());
    }
}
