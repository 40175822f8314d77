//! `tabadul federate`: replication with the partner nodes of `[federation]`, over NATS
//! JetStream. One round publishes this node's changes since the last round (and, when the
//! agreements changed, what partners gain or must forget), then applies what partners sent:
//! their alerts shared in full go into this node's store (read-only to its users: they belong
//! to another agency), so that its checks find them; hit-level keys are kept in the state.
//!
//! The state between rounds (the outbox numbering and what each partner holds, the replica
//! positions and hit keys, how far the change log was published) is kept in the store
//! (`Store::federation_state`), so that it moves with the node (`tabadul migrate`) and lives in
//! PostgreSQL on a national node. A round that stops half-way publishes again what it had
//! published (JetStream keeps one copy) and applies nothing twice (the replica's positions are
//! saved after what was written to the store, and before it is acknowledged).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tabadul_audit::AuditDraft;
use tabadul_backbone::Backbone;
use tabadul_domain::{AgencyCode, Alert, NotificationId};
use tabadul_federation::{
    Accepted, Directory, ENVELOPE_VERSION, Envelope, NodeState, Payload, PostName, PostProgress, REPORT_VERSION,
    Rejection, RemoveReason, Report, ReportBody, ReportOrder, Sharing, Snapshot, open, open_directory, open_report,
    open_snapshot, seal, seal_directory, seal_report, seal_snapshot,
};
use tabadul_node::{Node, NodeKey};
use tabadul_store::{AlertFilter, AlertWrite, ChangeOp, Store};

use crate::cli::FederateArgs;
use crate::commands::Session;
use crate::config::Federation;
use crate::output;

/// Changes published between two saves of the state.
const SAVE_EVERY: usize = 5000;
/// Envelopes fetched, applied in one transaction and acknowledged together.
const FETCH_BATCH: usize = 1000;
/// Batches applied between two saves of the state (and acknowledgements) at most, and the
/// longest time between them: well within JetStream's 30 s wait for an acknowledgement.
const SAVE_BATCHES: usize = 10;
const SAVE_INTERVAL: Duration = Duration::from_secs(2);

/// The operation of the audit entries of what replication writes.
const FEDERATION_APPLY: &str = "federation.apply";
/// The operation of the audit entry of a notification received from a partner.
const FEDERATION_NOTIFY: &str = "federation.notification";
/// The operation of the audit entries of a directory applied at a post.
const FEDERATION_DIRECTORY: &str = "federation.directory";

type State = NodeState;

#[derive(Debug, Default, Serialize)]
struct Round {
    published: usize,
    applied: usize,
    duplicates: usize,
    waiting: usize,
    rejected: Vec<String>,
}

impl Round {
    /// A delivery that could be read, or none (the reason counted as a refusal: the backbone
    /// already acknowledged it).
    fn usable(
        &mut self,
        delivery: tabadul_backbone::Result<tabadul_backbone::Delivery>,
    ) -> Option<tabadul_backbone::Delivery> {
        delivery.map_err(|error| self.rejected.push(error.to_string())).ok()
    }

    /// Something refused: written to the audit log and counted.
    fn refuse(&mut self, store: &dyn Store, node: &Node, rejection: &Rejection) -> Result<()> {
        log_rejection(store, node, rejection)?;
        self.rejected.push(rejection.to_string());
        Ok(())
    }
}

fn load(store: &dyn Store, agency: &AgencyCode, partners: &[AgencyCode]) -> Result<State> {
    let mut state = match store.federation_state()? {
        Some(text) => {
            let state: State = serde_json::from_str(&text).context("read the federation state")?;
            if &state.agency != agency {
                bail!("the store's federation state is {}'s, not {agency}'s", state.agency);
            }
            state
        }
        None => NodeState::new(agency.clone()),
    };
    for partner in partners {
        state.outbox.add_partner(partner.clone());
    }
    Ok(state)
}

fn save(store: &dyn Store, state: &State) -> Result<()> {
    store.save_federation_state(&serde_json::to_string(state)?).context("save the federation state")
}

/// Lets `node`'s checks search the hit keys partners shared with it (as of the last round), if
/// this node federates.
pub fn attach(cx: &Session, node: &Node) -> Result<()> {
    let Some(federation) = &cx.config.federation else { return Ok(()) };
    let Some(text) = node.store().federation_state()? else { return Ok(()) };
    let state: State = serde_json::from_str(&text).context("read the federation state")?;
    node.set_federated_hits(hits_of(&state, federation));
    node.set_replica_version(replica_version(&state));
    Ok(())
}

/// How far each origin's stream is applied: what receipts name.
fn replica_version(state: &State) -> Vec<tabadul_node::DataHead> {
    state.inbox.positions().map(|(origin, seq)| tabadul_node::DataHead { owner: origin.to_string(), seq }).collect()
}

/// Federates in the background of a running server: the hit keys of the last run handed to
/// the node's checks at once, then a round every `interval` (the keys again whenever a round
/// applied something); a failed round (NATS away) is reported and tried again.
pub fn spawn_background(cx: &Session, node: Node, interval: Duration) -> Result<()> {
    let Some(federation) = cx.config.federation.clone() else { return Ok(()) };
    let agency = cx.config.default_agency.clone().context("the node's agency is [node] agency in the configuration")?;
    let key = crate::check::node_key(&cx.config.key_path)?;
    let partners: Vec<AgencyCode> = federation.partners.iter().map(|p| p.agency.clone()).collect();
    let mut state = load(node.store(), &agency, &partners)?;
    node.set_federated_hits(hits_of(&state, &federation));
    node.set_replica_version(replica_version(&state));
    std::thread::Builder::new()
        .name("federation".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                eprintln!("federation: no runtime; not federating");
                return;
            };
            loop {
                match runtime.block_on(round(&node, &key, &federation, &mut state)) {
                    Ok(done) if done.published + done.applied + done.rejected.len() > 0 => {
                        eprintln!(
                            "federation: published {}, applied {}, refused {}",
                            done.published,
                            done.applied,
                            done.rejected.len()
                        );
                        // Hit keys change only with what was applied; the index is rebuilt then.
                        if done.applied > 0 {
                            node.set_federated_hits(hits_of(&state, &federation));
                            node.set_replica_version(replica_version(&state));
                        }
                    }
                    Ok(_) => {}
                    Err(error) => {
                        eprintln!("federation: {error:#} (trying again)");
                        // What the failed round changed in memory but did not save (numbers
                        // given to envelopes it could not publish) is forgotten: the next
                        // round starts from the saved state, as after a crash.
                        match load(node.store(), &agency, &partners) {
                            Ok(saved) => state = saved,
                            Err(error) => eprintln!("federation: {error:#} (reading the saved state)"),
                        }
                    }
                }
                std::thread::sleep(interval);
            }
        })
        .context("start the federation thread")?;
    Ok(())
}

fn hits_of(state: &State, federation: &Federation) -> tabadul_node::FederatedHits {
    let mut index = tabadul_federation::HitIndex::default();
    for (origin, id, replicated) in state.inbox.alerts() {
        if let tabadul_federation::Replicated::Hit { keys } = replicated {
            index.insert(origin, *id, keys.clone());
        }
    }
    let secrets = federation.partners.iter().map(|p| (p.agency.clone(), p.secret)).collect();
    tabadul_node::FederatedHits { index, secrets }
}

pub fn run(cx: &Session, args: &FederateArgs) -> Result<ExitCode> {
    let key = crate::check::node_key(&cx.config.key_path)?;
    if args.show_key {
        say!("{}", key.public_hex());
        return Ok(ExitCode::SUCCESS);
    }
    let federation = cx.config.federation.clone().context("there is no [federation] section in the configuration")?;
    let agency = cx.config.default_agency.clone().context("the node's agency is [node] agency in the configuration")?;
    let node = cx.node()?;
    if args.status {
        let partners: Vec<AgencyCode> = federation.partners.iter().map(|p| p.agency.clone()).collect();
        let status = load(node.store(), &agency, &partners)?.status();
        if cx.json {
            output::json(&status)?;
        } else {
            say!("{}: own changes published through number {}", status.agency, status.published_through);
            let rows: Vec<Vec<String>> = status
                .partners
                .iter()
                .map(|p| vec![p.agency.to_string(), p.sent.to_string(), p.applied.to_string(), p.held.to_string()])
                .collect();
            output::table(&["PARTNER", "SENT", "APPLIED", "HELD"], &rows);
            for post in &status.posts {
                say!("border post {}: {} reports applied", post.post, post.reports_applied);
            }
            if let Some(reporting) = &status.reporting {
                say!(
                    "this node is border post {}: {} reports sent, audit log reported through entry {}",
                    reporting.post,
                    reporting.reports_sent,
                    reporting.audit_reported_through
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start the federation runtime")?;
    let partners: Vec<AgencyCode> = federation.partners.iter().map(|p| p.agency.clone()).collect();
    let mut state = load(node.store(), &agency, &partners)?;
    let rounds = if args.follow { u64::MAX } else { 1 };
    for round_number in 0..rounds {
        let round = match runtime.block_on(round(&node, &key, &federation, &mut state)) {
            Ok(round) => round,
            // Following, a failed round (the link down) is reported and tried again from the
            // saved state, as after a crash.
            Err(error) if args.follow => {
                eprintln!("federation: {error:#} (trying again)");
                state = load(node.store(), &agency, &partners)?;
                std::thread::sleep(Duration::from_secs(2));
                continue;
            }
            Err(error) => return Err(error),
        };
        if cx.json {
            output::json(&round)?;
        } else if !args.follow || round.published + round.applied + round.rejected.len() > 0 {
            say!(
                "published {} envelopes; applied {} ({} already had, {} waiting for earlier ones); refused {}",
                round.published,
                round.applied,
                round.duplicates,
                round.waiting,
                round.rejected.len()
            );
            for why in &round.rejected {
                say!("  refused: {why}");
            }
        }
        if args.follow && round_number + 1 < rounds {
            std::thread::sleep(Duration::from_secs(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn round(node: &Node, key: &NodeKey, federation: &Federation, state: &mut State) -> Result<Round> {
    let post = federation.post.as_ref();
    let backbone = Backbone::connect_as(
        &federation.nats,
        state.agency.clone(),
        post.map(|p| p.name.clone()),
        federation.tls.as_ref(),
    )
    .await
    .context("connect to the backbone")?;
    let mut round = Round::default();
    // Whose envelopes this node verifies: its partners', and a post its national node's.
    let mut keys: BTreeMap<AgencyCode, ed25519_dalek::VerifyingKey> = federation
        .partners
        .iter()
        .filter_map(|p| Some((p.agency.clone(), ed25519_dalek::VerifyingKey::from_bytes(&p.key).ok()?)))
        .collect();
    match post {
        Some(post) => {
            let national = ed25519_dalek::VerifyingKey::from_bytes(&post.national_key)
                .context("[federation] national_key is not an ed25519 public key")?;
            keys.insert(state.agency.clone(), national);
            // A post changes no alerts and tells partners nothing itself: it receives what its
            // national node holds and reports what it did.
            receive(&backbone, node, state, &keys, false, &mut round).await?;
            report(&backbone, node, key, state, &post.name, &mut round).await?;
        }
        None => {
            publish_own(&backbone, node, key, federation, state, &mut round).await?;
            let posts = !federation.posts.is_empty();
            if posts {
                // A post not seen before reads the posts' subjects from what the stream still
                // holds (30 days): the node's own alerts are passed on again from its first
                // change, and the directory with them (the posts that have them ignore them).
                let new_posts: Vec<String> = federation
                    .posts
                    .iter()
                    .map(|p| p.name.to_string())
                    .filter(|name| !state.posts_known.contains(name))
                    .collect();
                let joined = !new_posts.is_empty();
                if joined {
                    state.posts_published_through = 0;
                    state.posts_directory.clear();
                }
                relay_own(&backbone, node, key, state, &mut round).await?;
                if joined {
                    // Partners' alerts received before the stream's 30 days or before the
                    // node had posts: vouched for by this node, for a post that holds
                    // nothing of a partner yet.
                    round.published += send_snapshots(&backbone, node, key, state).await?;
                    state.posts_known.extend(new_posts);
                    save(node.store(), state)?;
                }
            }
            receive(&backbone, node, state, &keys, posts, &mut round).await?;
            if posts {
                apply_reports(&backbone, node, federation, state, &mut round).await?;
            }
        }
    }
    Ok(round)
}

/// This node's changes, hit notifications and re-sharing, to its partners.
async fn publish_own(
    backbone: &Backbone,
    node: &Node,
    key: &NodeKey,
    federation: &Federation,
    state: &mut State,
    round: &mut Round,
) -> Result<()> {
    let secrets: BTreeMap<AgencyCode, [u8; 32]> =
        federation.partners.iter().map(|p| (p.agency.clone(), p.secret)).collect();
    let secret = |partner: &AgencyCode| secrets.get(partner).copied().unwrap_or([0; 32]);
    let store = node.store();
    let today = node.today();
    let agreements = store.agreements()?;
    let sharing = Sharing { date: today, agreements: &agreements, secret: &secret };

    // This node's changes since the last round. The state is saved now and then, not after
    // every page: after a crash the same envelopes are made and published again, and
    // JetStream keeps one copy of each.
    let mut unsaved = 0;
    loop {
        let changes = store.changes(&state.agency, state.published_through, 500)?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        unsaved += changes.len();
        let mut envelopes = Vec::new();
        for change in &changes {
            let reason = if change.op == ChangeOp::Expire { RemoveReason::Expired } else { RemoveReason::Deleted };
            envelopes.extend(state.outbox.change(
                change.alert_id,
                change.version,
                change.alert.as_ref(),
                reason,
                &sharing,
            ));
        }
        round.published += publish(backbone, key, &envelopes).await?;
        state.published_through = last;
        state.outbox.compact();
        if unsaved >= SAVE_EVERY {
            save(store, state)?;
            unsaved = 0;
        }
    }
    if unsaved > 0 {
        save(store, state)?;
    }
    // Hits on partners' alerts confirmed here since: their owners are told.
    for partner in federation.partners.iter().map(|p| &p.agency) {
        let through = state.notified_through.get(partner).copied().unwrap_or(0);
        let mut new: Vec<_> = store
            .notifications(partner, false, tabadul_node::INBOX_LIMIT_MAX)?
            .into_iter()
            .filter(|n| n.id.0 > through && n.agency == state.agency)
            .collect();
        new.sort_by_key(|n| n.id.0);
        for notification in &new {
            let envelopes: Vec<_> = state.outbox.notify(notification).into_iter().collect();
            round.published += publish(backbone, key, &envelopes).await?;
            state.outbox.compact();
            state.notified_through.insert(partner.clone(), notification.id.0);
        }
        if !new.is_empty() {
            save(store, state)?;
        }
    }
    // Agreements made or revoked since: what partners gain or must forget.
    let fingerprint = format!("{today}:{}", serde_json::to_string(&agreements)?);
    if fingerprint != state.agreements {
        let alerts = own_alerts(store, &state.agency)?;
        let envelopes = state.outbox.reshare(&alerts, &sharing);
        round.published += publish(backbone, key, &envelopes).await?;
        state.outbox.compact();
        state.agreements = fingerprint;
        save(store, state)?;
    }

    Ok(())
}

/// This node's own changes, to its border posts: its change log numbers them (gapless from 1
/// for each owner), so a post's inbox applies them in order and once like any origin's.
async fn relay_own(
    backbone: &Backbone,
    node: &Node,
    key: &NodeKey,
    state: &mut State,
    round: &mut Round,
) -> Result<()> {
    let store = node.store();
    // The agencies and agreements first, when they changed: they decide what the posts'
    // officers see of what follows.
    let (agencies, agreements) = (store.agencies()?, store.agreements()?);
    let fingerprint = serde_json::to_string(&(&agencies, &agreements))?;
    if fingerprint != state.posts_directory {
        let directory = Directory {
            version: REPORT_VERSION,
            agency: state.agency.clone(),
            seq: state.posts_directory_seq + 1,
            agencies,
            agreements,
        };
        let sealed = seal_directory(&directory, key.signing_key());
        backbone.relay_directory(&directory, &sealed).await.context("pass the agreements to the posts")?;
        round.published += 1;
        state.posts_directory = fingerprint;
        state.posts_directory_seq = directory.seq;
        save(store, state)?;
    }
    let mut unsaved = 0;
    loop {
        let changes = store.changes(&state.agency, state.posts_published_through, 500)?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        let mut sealed = Vec::with_capacity(changes.len());
        for change in &changes {
            let payload = match &change.alert {
                Some(alert) => Payload::Full { alert: Box::new(alert.clone()) },
                None if change.op == ChangeOp::Expire => Payload::Remove { reason: RemoveReason::Expired },
                None => Payload::Remove { reason: RemoveReason::Deleted },
            };
            let envelope = Envelope {
                version: ENVELOPE_VERSION,
                origin: state.agency.clone(),
                partner: state.agency.clone(),
                seq: change.seq,
                alert_id: change.alert_id,
                alert_version: change.version,
                payload,
            };
            sealed.push((change.seq, seal(&envelope, key.signing_key())));
        }
        backbone
            .relay_all(sealed.iter().map(|(seq, sealed)| (&state.agency, *seq, sealed)))
            .await
            .context("pass changes to the posts")?;
        round.published += sealed.len();
        unsaved += changes.len();
        state.posts_published_through = last;
        if unsaved >= SAVE_EVERY {
            save(store, state)?;
            unsaved = 0;
        }
    }
    if unsaved > 0 {
        save(store, state)?;
    }
    Ok(())
}

/// Snapshots of what this node holds of each partner's alerts (in full from the store, hit
/// keys from the replica), in parts, for its posts; how many parts were sent.
async fn send_snapshots(backbone: &Backbone, node: &Node, key: &NodeKey, state: &State) -> Result<usize> {
    let store = node.store();
    let mut sent = 0;
    let origins: Vec<(AgencyCode, u64)> =
        state.inbox.positions().filter(|(origin, _)| **origin != state.agency).map(|(o, p)| (o.clone(), p)).collect();
    for (origin, position) in origins {
        if position == 0 {
            continue;
        }
        let mut held = Vec::new();
        for (id, replicated) in state.inbox.alerts().filter(|(o, _, _)| **o == origin).map(|(_, id, r)| (*id, r)) {
            let payload = match replicated {
                tabadul_federation::Replicated::Hit { keys } => Payload::Hit { keys: keys.clone() },
                tabadul_federation::Replicated::Full { alert } => Payload::Full { alert: alert.clone() },
                tabadul_federation::Replicated::Stored => match store.alert(id)? {
                    Some(stored) if stored.alert.owner == origin => Payload::Full { alert: Box::new(stored.alert) },
                    _ => continue,
                },
            };
            let alert_version = state.inbox.version(&origin, &id).unwrap_or(0);
            held.push(tabadul_federation::SnapshotEntry { alert_id: id, alert_version, payload });
        }
        // At least one part, so that a partner of whom nothing is held still sets the position.
        let mut chunks: Vec<Vec<_>> =
            held.chunks(tabadul_federation::SNAPSHOT_PART_ALERTS).map(<[_]>::to_vec).collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        let parts = chunks.len();
        for (index, held) in chunks.into_iter().enumerate() {
            let snapshot = Snapshot {
                version: REPORT_VERSION,
                agency: state.agency.clone(),
                origin: origin.clone(),
                position,
                part: index as u32 + 1,
                parts: parts as u32,
                held,
            };
            let sealed = seal_snapshot(&snapshot, key.signing_key());
            backbone.relay_snapshot(&snapshot, &sealed).await.context("send a snapshot to the posts")?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// A snapshot whose parts all came: the origin's stream starts there, if the post held
/// nothing of it; its full alerts go into the store.
fn apply_snapshot(node: &Node, state: &mut State, parts: &[Snapshot]) -> Result<bool> {
    let Some(first) = parts.first() else { return Ok(false) };
    let mut held = Vec::new();
    let mut to_mirror = Vec::new();
    for entry in parts.iter().flat_map(|part| &part.held) {
        let replicated = match &entry.payload {
            Payload::Full { alert } => {
                to_mirror.push(Envelope {
                    version: ENVELOPE_VERSION,
                    origin: first.origin.clone(),
                    partner: state.agency.clone(),
                    seq: first.position,
                    alert_id: entry.alert_id,
                    alert_version: entry.alert_version,
                    payload: entry.payload.clone(),
                });
                tabadul_federation::Replicated::Full { alert: alert.clone() }
            }
            Payload::Hit { keys } => tabadul_federation::Replicated::Hit { keys: keys.clone() },
            _ => continue,
        };
        held.push((entry.alert_id, entry.alert_version, replicated));
    }
    if !state.inbox.seed(&first.origin, first.position, held) {
        return Ok(false);
    }
    mirror(node.store(), node, &to_mirror)?;
    Ok(true)
}

/// What partners (for a post: its national node) sent, applied in order and once; a national
/// node with posts passes each verified envelope on to them unchanged before it acknowledges
/// it.
async fn receive(
    backbone: &Backbone,
    node: &Node,
    state: &mut State,
    keys: &BTreeMap<AgencyCode, ed25519_dalek::VerifyingKey>,
    relay: bool,
    round: &mut Round,
) -> Result<()> {
    let store = node.store();
    // Applied to the store and the state first, the state saved, then acknowledged: an
    // envelope acknowledged is one this node will never need again. The state (one document)
    // is saved every few batches, not after each, during a long catch-up.
    let mut acks = Vec::new();
    let mut naks = Vec::new();
    // Parts of snapshots waiting for the rest (given back if the round ends first).
    let mut snapshots: BTreeMap<(AgencyCode, u64, u32), Vec<(Snapshot, tabadul_backbone::Delivery)>> = BTreeMap::new();
    let mut unsaved = 0;
    let mut saved_at = std::time::Instant::now();
    // A post's national node signs its directories and snapshots (a national node reads none).
    let national = keys.get(&state.agency).copied();
    let agency = state.agency.clone();
    let national_key = || national.ok_or_else(|| Rejection::UnknownOrigin(agency.clone()));
    loop {
        let deliveries =
            backbone.fetch(FETCH_BATCH, Duration::from_millis(500)).await.context("fetch from the backbone")?;
        if deliveries.is_empty() {
            break;
        }
        let last_batch = deliveries.len() < FETCH_BATCH;
        // JetStream stops delivering when this many wait for their acknowledgement.
        let room = backbone.ack_pending_max().saturating_sub(acks.len() + naks.len() + deliveries.len());
        let mut to_mirror = Vec::new();
        let mut to_relay = Vec::new();
        for delivery in deliveries {
            let Some(delivery) = round.usable(delivery) else { continue };
            if delivery.snapshot {
                // A post takes a snapshot only whole.
                match national_key().and_then(|key| open_snapshot(&delivery.sealed, &agency, &key)) {
                    Ok(part) => {
                        let set = (part.origin.clone(), part.position, part.parts);
                        let parts = snapshots.entry(set.clone()).or_default();
                        if !parts.iter().any(|(held, _): &(Snapshot, _)| held.part == part.part) {
                            parts.push((part, delivery));
                        } else {
                            acks.push(delivery);
                        }
                        if parts.len() == set.2 as usize {
                            let parts = snapshots.remove(&set).unwrap_or_default();
                            let (parts, deliveries): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
                            if apply_snapshot(node, state, &parts)? {
                                round.applied += parts.iter().map(|p| p.held.len()).sum::<usize>();
                            }
                            acks.extend(deliveries);
                        }
                    }
                    Err(rejection) => {
                        round.refuse(store, node, &rejection)?;
                        acks.push(delivery);
                    }
                }
                continue;
            }
            if delivery.directory {
                match national_key().and_then(|key| open_directory(&delivery.sealed, &agency, &key)) {
                    Ok(directory) if directory.seq > state.directory_seq => {
                        apply_directory(node, &directory)?;
                        state.directory_seq = directory.seq;
                        round.applied += 1;
                    }
                    Ok(_) => round.duplicates += 1,
                    Err(rejection) => {
                        round.refuse(store, node, &rejection)?;
                    }
                }
                acks.push(delivery);
                continue;
            }
            let opened = open(&delivery.sealed, &delivery.origin, &|agency| keys.get(agency).copied());
            if relay
                && let Ok(envelope) = &opened
                && !matches!(envelope.payload, Payload::Notification { .. })
            {
                to_relay.push((delivery.origin.clone(), envelope.seq, delivery.sealed.clone()));
            }
            let outcome = opened.and_then(|envelope| state.inbox.receive(envelope));
            match outcome {
                Ok(Accepted::Applied(_)) => {
                    let applied = state.inbox.take_applied();
                    round.applied += applied.len();
                    to_mirror.extend(applied);
                    acks.push(delivery);
                }
                Ok(Accepted::Duplicate) => {
                    round.duplicates += 1;
                    acks.push(delivery);
                }
                Ok(Accepted::Early { .. }) => {
                    round.waiting += 1;
                    naks.push(delivery);
                }
                Err(rejection) => {
                    round.refuse(store, node, &rejection)?;
                    acks.push(delivery);
                }
            }
        }
        // Passed on to the posts before anything is acknowledged.
        backbone
            .relay_all(to_relay.iter().map(|(origin, seq, sealed)| (origin, *seq, sealed)))
            .await
            .context("pass partners' envelopes to the posts")?;
        mirror(store, node, &to_mirror)?;
        state.inbox.compact();
        unsaved += 1;
        if last_batch || room < FETCH_BATCH || unsaved >= SAVE_BATCHES || saved_at.elapsed() >= SAVE_INTERVAL {
            save_and_acknowledge(store, state, &mut acks, &mut naks).await?;
            (unsaved, saved_at) = (0, std::time::Instant::now());
        }
    }
    naks.extend(snapshots.into_values().flatten().map(|(_, delivery)| delivery));
    if !acks.is_empty() || !naks.is_empty() {
        save_and_acknowledge(store, state, &mut acks, &mut naks).await?;
    }
    Ok(())
}

/// Saves the state, then acknowledges what it covers (and hands back the early envelopes).
async fn save_and_acknowledge(
    store: &dyn Store,
    state: &State,
    acks: &mut Vec<tabadul_backbone::Delivery>,
    naks: &mut Vec<tabadul_backbone::Delivery>,
) -> Result<()> {
    save(store, state)?;
    for delivery in acks.drain(..) {
        delivery.ack().await?;
    }
    for delivery in naks.drain(..) {
        delivery.nak().await?;
    }
    Ok(())
}

/// A border post's checks and hit outcomes since the last round, to its national node, in the
/// order of its audit log. A report is published before the progress is saved: after a crash
/// the same report is made again with the same number, and JetStream and the national node
/// keep one.
async fn report(
    backbone: &Backbone,
    node: &Node,
    key: &NodeKey,
    state: &mut State,
    post: &PostName,
    round: &mut Round,
) -> Result<()> {
    let store = node.store();
    let mut progress = state.post.clone().unwrap_or_else(|| PostProgress::new(post.clone()));
    loop {
        let entries = store.audit_entries(progress.reported_through, 500)?;
        if entries.is_empty() {
            break;
        }
        for entry in entries {
            match report_body(store, &entry)? {
                Some(body) => {
                    let report = progress.report(&state.agency, entry.seq, body);
                    let sealed = seal_report(&report, key.signing_key());
                    backbone.report(&report, &sealed).await.context("report to the national node")?;
                    round.published += 1;
                }
                None => progress.reported_through = entry.seq,
            }
        }
        state.post = Some(progress.clone());
        save(store, state)?;
    }
    Ok(())
}

/// What the national node is told of one entry of a post's audit log: its checks (with their
/// hits, without outcomes: those follow in their own reports) and hit outcomes; nothing else.
fn report_body(store: &dyn Store, entry: &tabadul_audit::AuditEntry) -> Result<Option<ReportBody>> {
    use tabadul_audit::ops;
    let details: serde_json::Value = serde_json::from_str(&entry.draft.details).unwrap_or_default();
    let hit = |text: Option<&str>| -> Result<Option<tabadul_store::HitRecord>> {
        let Some(id) = text.and_then(|t| tabadul_domain::HitId::parse(t).ok()) else { return Ok(None) };
        Ok(store.hit(id)?)
    };
    let body = match entry.draft.operation.as_str() {
        ops::CHECK | ops::MANIFEST_SCREEN => {
            let mut hits = Vec::new();
            for listed in details["hits"].as_array().into_iter().flatten() {
                if let Some(mut record) = hit(listed["hit"].as_str())? {
                    record.outcome = None;
                    hits.push(record);
                }
            }
            ReportBody::Check { post_audit_seq: entry.seq, audit: entry.draft.clone(), hits }
        }
        ops::HIT_CONFIRM | ops::HIT_REJECT => {
            let Some(record) = hit(details["hit"].as_str())? else { return Ok(None) };
            let Some(outcome) = record.outcome.clone() else { return Ok(None) };
            let notification = match details["notification"].as_str().and_then(|id| NotificationId::parse(id).ok()) {
                Some(id) => store.notification(id)?.map(Box::new),
                None => None,
            };
            ReportBody::Outcome {
                post_audit_seq: entry.seq,
                audit: entry.draft.clone(),
                hit_id: record.id,
                outcome,
                notification,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(body))
}

/// The border posts' reports, applied in order and once per post into this node's store: its
/// audit log records each check made at a post (the post's entry, named in the details), its
/// hit records and inbox what officers there found, and notifications of confirmed hits on
/// partners' alerts go on to them in the next round.
async fn apply_reports(
    backbone: &Backbone,
    node: &Node,
    federation: &Federation,
    state: &mut State,
    round: &mut Round,
) -> Result<()> {
    let store = node.store();
    let keys: BTreeMap<PostName, ed25519_dalek::VerifyingKey> = federation
        .posts
        .iter()
        .filter_map(|p| Some((p.name.clone(), ed25519_dalek::VerifyingKey::from_bytes(&p.key).ok()?)))
        .collect();
    loop {
        let deliveries = backbone
            .fetch_reports(FETCH_BATCH, Duration::from_millis(500))
            .await
            .context("fetch the posts' reports")?;
        if deliveries.is_empty() {
            break;
        }
        let mut acks = Vec::new();
        let mut naks = Vec::new();
        for delivery in deliveries {
            let Some(delivery) = round.usable(delivery) else { continue };
            let opened = match &delivery.post {
                Some(post) => open_report(&delivery.sealed, &state.agency, post, &|p| keys.get(p).copied()),
                None => Err(Rejection::Malformed("a report that names no post".into())),
            };
            match opened {
                Ok(report) => match state.reports.order(&report) {
                    ReportOrder::Next => {
                        apply_report(node, &report)?;
                        state.reports.applied(&report);
                        round.applied += 1;
                        acks.push(delivery);
                    }
                    ReportOrder::Duplicate => {
                        round.duplicates += 1;
                        acks.push(delivery);
                    }
                    ReportOrder::Early { .. } => {
                        round.waiting += 1;
                        naks.push(delivery);
                    }
                },
                Err(rejection) => {
                    round.refuse(store, node, &rejection)?;
                    acks.push(delivery);
                }
            }
        }
        save_and_acknowledge(store, state, &mut acks, &mut naks).await?;
    }
    Ok(())
}

/// One report of a post, into this node's store (again: a report applied before changes
/// nothing).
fn apply_report(node: &Node, report: &Report) -> Result<()> {
    let store = node.store();
    let draft = |audit: &AuditDraft, post_audit_seq: u64| {
        let mut details: serde_json::Value = serde_json::from_str(&audit.details).unwrap_or_default();
        if !details.is_object() {
            details = serde_json::json!({});
        }
        details["border_post"] = serde_json::json!({
            "post": report.post, "audit_seq": post_audit_seq, "at_unix_us": audit.at_unix_us, "report": report.seq,
        });
        let mut draft = AuditDraft::new(node.now(), &audit.user, audit.agency.as_deref(), &audit.operation)
            .details(details.to_string())
            .result_count(audit.result_count);
        draft.targets = audit.targets.clone();
        draft
    };
    let done = match &report.body {
        ReportBody::Check { post_audit_seq, audit, hits } => {
            store.record_checks(vec![(hits.clone(), draft(audit, *post_audit_seq))]).map(|_| ())
        }
        ReportBody::Outcome { post_audit_seq, audit, hit_id, outcome, notification } => {
            store.record_outcome(*hit_id, outcome, notification.as_deref(), draft(audit, *post_audit_seq)).map(|_| ())
        }
    };
    match done {
        Ok(()) | Err(tabadul_store::StoreError::AlreadyExists(_)) => Ok(()),
        Err(error) => Err(error).with_context(|| format!("apply report {} of post {}", report.seq, report.post)),
    }
}

/// A national node's agencies and agreements, at its post: the agencies it lacks are added,
/// agreements it lacks are made as they are, and consents and revocations made since are
/// applied; each change audited as `federation.directory`.
fn apply_directory(node: &Node, directory: &Directory) -> Result<()> {
    let store = node.store();
    let audit = |change: &str, target: String| {
        AuditDraft::new(node.now(), "federation", None, FEDERATION_DIRECTORY)
            .targets([target])
            .details(serde_json::json!({ "directory": directory.seq, "change": change }).to_string())
            .result_count(1)
    };
    let known: std::collections::BTreeSet<AgencyCode> = store.agencies()?.into_iter().map(|a| a.code).collect();
    for agency in directory.agencies.iter().filter(|a| !known.contains(&a.code)) {
        store.create_agency(agency, audit("agency", agency.code.to_string())).context("add an agency")?;
    }
    let held: BTreeMap<tabadul_domain::AgreementId, tabadul_domain::Agreement> =
        store.agreements()?.into_iter().map(|a| (a.id, a)).collect();
    for agreement in &directory.agreements {
        let id = agreement.id;
        match held.get(&id) {
            None => {
                store.create_agreement(agreement, audit("agreement", id.to_string())).context("add an agreement")?
            }
            Some(local) if local == agreement => {}
            Some(local) => {
                for party in local.awaiting.difference(&agreement.awaiting) {
                    store
                        .consent_to_agreement(id, party, audit("consent", id.to_string()))
                        .context("record a consent")?;
                }
                if let (None, Some(on)) = (local.revoked_on, agreement.revoked_on) {
                    store.revoke_agreement(id, on, audit("revoke", id.to_string())).context("revoke an agreement")?;
                }
            }
        }
    }
    Ok(())
}

/// Publishes envelopes; the stream keeps them for partners, so the outbox need not.
async fn publish(backbone: &Backbone, key: &NodeKey, envelopes: &[tabadul_federation::Envelope]) -> Result<usize> {
    let sealed: Vec<_> = envelopes.iter().map(|envelope| seal(envelope, key.signing_key())).collect();
    backbone.publish_all(envelopes.iter().zip(&sealed)).await.context("publish to the backbone")?;
    Ok(envelopes.len())
}

fn own_alerts(store: &dyn Store, agency: &AgencyCode) -> Result<Vec<(Alert, u64)>> {
    let mut alerts = Vec::new();
    let mut filter = AlertFilter { owner: Some(agency.clone()), ..AlertFilter::default() };
    loop {
        let page = store.alerts(&filter)?;
        let Some(last) = page.last().map(|s| s.alert.id) else { break };
        alerts.extend(page.into_iter().map(|s| (s.alert, s.version)));
        filter.after = Some(last);
    }
    Ok(alerts)
}

/// Writes applied envelopes into the node's store, in one transaction: a partner's alert shared
/// in full is kept as it is (its owner stays the partner's agency, so that only the owner may
/// change it), a removal (or a downgrade to hit level) removes it. One audit entry names them.
fn mirror(store: &dyn Store, node: &Node, applied: &[tabadul_federation::Envelope]) -> Result<()> {
    // What the store holds of each alert as the batch goes: its local version, or none.
    let mut held: BTreeMap<tabadul_domain::AlertId, Option<(AgencyCode, u64)>> = BTreeMap::new();
    let mut writes = Vec::new();
    for envelope in applied {
        let id = envelope.alert_id;
        let current = match held.get(&id) {
            Some(known) => known.clone(),
            None => store.alert(id)?.map(|s| (s.alert.owner, s.version)),
        };
        let (write, next) = match (&envelope.payload, current) {
            (Payload::Full { alert }, None) => (AlertWrite::Create((**alert).clone()), Some((alert.owner.clone(), 1))),
            (Payload::Full { alert }, Some((owner, version))) => {
                (AlertWrite::Update { alert: (**alert).clone(), expected_version: version }, Some((owner, version + 1)))
            }
            (Payload::Hit { .. } | Payload::Remove { .. }, Some((owner, _))) => {
                (AlertWrite::Remove { owner, id, expected_version: None, op: ChangeOp::Delete }, None)
            }
            (Payload::Hit { .. } | Payload::Remove { .. }, None) => continue,
            (Payload::Notification { notification }, _) => {
                let audit =
                    AuditDraft::new(node.now(), "federation", Some(notification.agency.as_str()), FEDERATION_NOTIFY)
                        .targets([notification.alert_id])
                        .details(
                            serde_json::json!({ "origin": envelope.origin, "post": notification.post }).to_string(),
                        )
                        .result_count(1);
                match store.receive_notification(notification, audit) {
                    Ok(()) | Err(tabadul_store::StoreError::AlreadyExists(_)) => {}
                    Err(error) => return Err(error).context("keep a partner's notification"),
                }
                continue;
            }
        };
        held.insert(id, next);
        writes.push(write);
    }
    let origins: std::collections::BTreeSet<String> = applied.iter().map(|e| e.origin.to_string()).collect();
    for chunk in writes.chunks(tabadul_store::WRITES_PER_BATCH_MAX) {
        let audit = AuditDraft::new(node.now(), "federation", None, FEDERATION_APPLY)
            .targets(chunk.iter().map(AlertWrite::id))
            .details(serde_json::json!({ "origins": origins, "writes": chunk.len() }).to_string())
            .result_count(chunk.len() as u64);
        node.write_replicated(chunk, audit).context("apply partners' alerts")?;
    }
    Ok(())
}

fn log_rejection(store: &dyn Store, node: &Node, rejection: &Rejection) -> Result<()> {
    let origin = match rejection {
        Rejection::UnknownOrigin(origin) | Rejection::BadSignature(origin) => origin.to_string(),
        Rejection::NotOwner { origin, .. } => origin.to_string(),
        Rejection::NotForUs(_) | Rejection::Malformed(_) => String::new(),
    };
    let audit = AuditDraft::new(node.now(), "federation", None, "federation.refuse")
        .details(serde_json::json!({ "origin": origin, "why": rejection.to_string() }).to_string());
    store.append_audit(audit)?;
    Ok(())
}
