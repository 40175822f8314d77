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
use tabadul_domain::{AgencyCode, Alert};
use tabadul_federation::{Accepted, NodeState, Payload, Rejection, RemoveReason, Sharing, open, seal};
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

/// The operation of the audit entries of what replication writes.
const FEDERATION_APPLY: &str = "federation.apply";
/// The operation of the audit entry of a notification received from a partner.
const FEDERATION_NOTIFY: &str = "federation.notification";

type State = NodeState;

#[derive(Debug, Default, Serialize)]
struct Round {
    published: usize,
    applied: usize,
    duplicates: usize,
    waiting: usize,
    rejected: Vec<String>,
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
    Ok(())
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
                        }
                    }
                    Ok(_) => {}
                    Err(error) => eprintln!("federation: {error:#} (trying again)"),
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
        let round = runtime.block_on(round(&node, &key, &federation, &mut state))?;
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
    let backbone = Backbone::connect_with(&federation.nats, state.agency.clone(), federation.tls.as_ref())
        .await
        .context("connect to the backbone")?;
    let secrets: BTreeMap<AgencyCode, [u8; 32]> =
        federation.partners.iter().map(|p| (p.agency.clone(), p.secret)).collect();
    let secret = |partner: &AgencyCode| secrets.get(partner).copied().unwrap_or([0; 32]);
    let store = node.store();
    let today = node.today();
    let agreements = store.agreements()?;
    let sharing = Sharing { date: today, agreements: &agreements, secret: &secret };
    let mut round = Round::default();

    // This node's changes since the last round. The state is saved now and then, not after
    // every page: after a crash the same envelopes are made and published again, and
    // JetStream keeps one copy of each.
    let mut unsaved = 0;
    loop {
        let changes = store.changes(&state.agency, state.published_through, 500)?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        unsaved += changes.len();
        for change in &changes {
            let reason = if change.op == ChangeOp::Expire { RemoveReason::Expired } else { RemoveReason::Deleted };
            let envelopes =
                state.outbox.change(change.alert_id, change.version, change.alert.as_ref(), reason, &sharing);
            round.published += publish(&backbone, key, &envelopes).await?;
        }
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
            round.published += publish(&backbone, key, &envelopes).await?;
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
        round.published += publish(&backbone, key, &envelopes).await?;
        state.outbox.compact();
        state.agreements = fingerprint;
        save(store, state)?;
    }

    // What partners sent.
    let keys: BTreeMap<AgencyCode, ed25519_dalek::VerifyingKey> = federation
        .partners
        .iter()
        .filter_map(|p| Some((p.agency.clone(), ed25519_dalek::VerifyingKey::from_bytes(&p.key).ok()?)))
        .collect();
    loop {
        let deliveries =
            backbone.fetch(FETCH_BATCH, Duration::from_millis(500)).await.context("fetch from the backbone")?;
        if deliveries.is_empty() {
            break;
        }
        // Applied to the store and the state first, saved, then acknowledged: an envelope
        // acknowledged is one this node will never need again.
        let mut acks = Vec::new();
        let mut naks = Vec::new();
        let mut to_mirror = Vec::new();
        for delivery in deliveries {
            let delivery = match delivery {
                Ok(delivery) => delivery,
                Err(error) => {
                    round.rejected.push(error.to_string());
                    continue;
                }
            };
            let outcome = open(&delivery.sealed, &delivery.origin, &|agency| keys.get(agency).copied())
                .and_then(|envelope| state.inbox.receive(envelope));
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
                    log_rejection(store, node, &rejection)?;
                    round.rejected.push(rejection.to_string());
                    acks.push(delivery);
                }
            }
        }
        mirror(store, node, &to_mirror)?;
        state.inbox.compact();
        save(store, state)?;
        for delivery in acks {
            delivery.ack().await?;
        }
        for delivery in naks {
            delivery.nak().await?;
        }
    }
    Ok(round)
}

/// Publishes envelopes; the stream keeps them for partners, so the outbox need not.
async fn publish(backbone: &Backbone, key: &NodeKey, envelopes: &[tabadul_federation::Envelope]) -> Result<usize> {
    for envelope in envelopes {
        let sealed = seal(envelope, key.signing_key());
        backbone.publish(envelope, &sealed).await.context("publish to the backbone")?;
    }
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
