//! A deterministic simulation of replication over an unreliable backbone: two origin nodes
//! (Iraq, France) change alerts at random and agreements are revoked and made, while the
//! in-memory backbone drops, duplicates, delays and reorders envelopes and partner nodes
//! restart, losing what they had not applied. Partners ask for what they miss (gaps, and the
//! heads origins announce). After the storm, every node holds exactly what the agreements let
//! it hold, of every origin: nothing lost, nothing kept that should be gone, nothing twice.
//! Run over many seeds.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::SigningKey;
use tabadul_domain::{
    AgencyCode, Agreement, AgreementId, Alert, AlertId, Category, NameKind, PersonName, SharingLevel, SharingTable,
    Subject, Visibility,
};
use tabadul_federation::{
    Accepted, Envelope, Inbox, Outbox, Payload, Rejection, RemoveReason, Replicated, Sealed, Sharing, hit_keys, open,
    seal,
};

struct Dice(u64);

impl Dice {
    fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.roll() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

const DAY: time::Date = time::macros::date!(2026 - 11 - 29);
const ORIGINS: [&str; 2] = ["IQ-MOI", "FR-MI"];
const NODES: [&str; 4] = ["IQ-MOI", "FR-MI", "CZ-MV", "GB-HO"];
const NAMES: [&str; 6] =
    ["علي حسن الشمري", "Karim Jabbar al-Saadi", "نور عباس التميمي", "Jean Moreau", "Ahmed Ali", "مريم صالح"];
const CATEGORIES: [Category; 4] =
    [Category::WantedForArrest, Category::SuspectedSmuggler, Category::TraffickingRisk, Category::SuspectedTrafficker];

fn agreement(id: u128, parties: &[&str], levels: &[(Category, SharingLevel)]) -> Agreement {
    Agreement {
        id: AgreementId(id),
        title: format!("agreement {id}"),
        parties: parties.iter().map(|p| code(p)).collect(),
        levels: levels.iter().copied().collect(),
        valid_from: time::macros::date!(2026 - 01 - 01),
        valid_until: None,
        legal_reference: "MoU".into(),
        revoked_on: None,
        awaiting: Default::default(),
    }
}

fn secret(origin: &AgencyCode, partner: &AgencyCode) -> [u8; 32] {
    let mut secret = [0u8; 32];
    for (i, byte) in format!("{origin}|{partner}").bytes().enumerate() {
        secret[i % 32] ^= byte;
    }
    secret
}

fn key_of(agency: &AgencyCode) -> SigningKey {
    let mut seed = [1u8; 32];
    seed[..agency.as_str().len()].copy_from_slice(agency.as_str().as_bytes());
    SigningKey::from_bytes(&seed)
}

enum Message {
    Envelope { origin: AgencyCode, to: AgencyCode, sealed: Sealed },
    Resend { from_node: AgencyCode, to_origin: AgencyCode, from: u64 },
    Head { origin: AgencyCode, to: AgencyCode, head: u64 },
}

struct World {
    dice: Dice,
    now: u64,
    agreements: Vec<Agreement>,
    /// Each origin's alerts and versions.
    alerts: BTreeMap<AgencyCode, BTreeMap<AlertId, (Alert, u64)>>,
    outboxes: BTreeMap<AgencyCode, Outbox>,
    inboxes: BTreeMap<AgencyCode, Inbox>,
    network: Vec<(u64, Message)>,
    next_id: u128,
    faults: bool,
    rejected: usize,
}

impl World {
    fn new(seed: u64) -> World {
        let agreements = vec![
            agreement(1, &["IQ-MOI", "CZ-MV"], &[(Category::WantedForArrest, SharingLevel::Full)]),
            agreement(
                2,
                &NODES,
                &[(Category::TraffickingRisk, SharingLevel::Hit), (Category::SuspectedSmuggler, SharingLevel::Hit)],
            ),
            agreement(3, &["FR-MI", "GB-HO", "IQ-MOI"], &[(Category::SuspectedSmuggler, SharingLevel::Full)]),
        ];
        let nodes: Vec<AgencyCode> = NODES.iter().map(|n| code(n)).collect();
        World {
            dice: Dice(seed),
            now: 0,
            agreements,
            alerts: ORIGINS.iter().map(|o| (code(o), BTreeMap::new())).collect(),
            outboxes: ORIGINS.iter().map(|o| (code(o), Outbox::new(code(o), nodes.clone()))).collect(),
            inboxes: nodes.iter().map(|n| (n.clone(), Inbox::new(n.clone()))).collect(),
            network: Vec::new(),
            next_id: 1,
            faults: true,
            rejected: 0,
        }
    }

    fn send(&mut self, message: Message) {
        if self.faults && self.dice.chance(10) {
            return; // dropped
        }
        let delay = 1 + self.dice.below(if self.faults { 25 } else { 3 });
        if self.faults && self.dice.chance(5) {
            let copy = match &message {
                Message::Envelope { origin, to, sealed } => {
                    Message::Envelope { origin: origin.clone(), to: to.clone(), sealed: sealed.clone() }
                }
                Message::Resend { from_node, to_origin, from } => {
                    Message::Resend { from_node: from_node.clone(), to_origin: to_origin.clone(), from: *from }
                }
                Message::Head { origin, to, head } => {
                    Message::Head { origin: origin.clone(), to: to.clone(), head: *head }
                }
            };
            self.network.push((self.now + delay + self.dice.below(10), copy));
        }
        self.network.push((self.now + delay, message));
    }

    fn ship(&mut self, envelopes: Vec<Envelope>) {
        for envelope in envelopes {
            let sealed = seal(&envelope, &key_of(&envelope.origin));
            self.send(Message::Envelope { origin: envelope.origin.clone(), to: envelope.partner.clone(), sealed });
        }
    }

    /// A random change at a random origin.
    fn change(&mut self) {
        let origin = code(ORIGINS[self.dice.below(2) as usize]);
        let alerts = &self.alerts[&origin];
        let existing: Vec<AlertId> = alerts.keys().copied().collect();
        let (id, version, alert, reason) = if existing.is_empty() || self.dice.chance(45) {
            let id = AlertId(self.next_id);
            self.next_id += 1;
            (id, 1, Some(self.person(id, &origin)), RemoveReason::Deleted)
        } else {
            let id = existing[self.dice.below(existing.len() as u64) as usize];
            let (alert, version) = alerts[&id].clone();
            if self.dice.chance(30) {
                (id, version + 1, None, RemoveReason::Deleted)
            } else {
                let mut alert = alert;
                alert.category = CATEGORIES[self.dice.below(4) as usize];
                alert.remarks = format!("update {}", self.now);
                (id, version + 1, Some(alert), RemoveReason::Deleted)
            }
        };
        match &alert {
            Some(alert) => self.alerts.get_mut(&origin).unwrap().insert(id, (alert.clone(), version)),
            None => self.alerts.get_mut(&origin).unwrap().remove(&id),
        };
        let agreements = self.agreements.clone();
        let sharing = Sharing { date: DAY, agreements: &agreements, secret: &|partner| secret(&origin, partner) };
        let envelopes = self.outboxes.get_mut(&origin).unwrap().change(id, version, alert.as_ref(), reason, &sharing);
        self.ship(envelopes);
    }

    fn person(&mut self, id: AlertId, origin: &AgencyCode) -> Alert {
        let category = CATEGORIES[self.dice.below(4) as usize];
        let name = NAMES[self.dice.below(6) as usize];
        Alert { category, ..tabadul_store::conformance::person_alert(id.0, origin.as_str(), name) }
    }

    /// An agreement revoked, or made again: origins reshare.
    fn agreements_change(&mut self) {
        let index = self.dice.below(self.agreements.len() as u64) as usize;
        let agreement = &mut self.agreements[index];
        agreement.revoked_on = if agreement.revoked_on.is_some() { None } else { Some(DAY) };
        let agreements = self.agreements.clone();
        for origin in ORIGINS.map(code) {
            let alerts: Vec<(Alert, u64)> = self.alerts[&origin].values().cloned().collect();
            let envelopes = self.outboxes.get_mut(&origin).unwrap().reshare(
                &alerts,
                &Sharing { date: DAY, agreements: &agreements, secret: &|partner| secret(&origin, partner) },
            );
            self.ship(envelopes);
        }
    }

    fn announce_heads(&mut self) {
        for origin in ORIGINS.map(code) {
            let heads: Vec<(AgencyCode, u64)> = {
                let outbox = &self.outboxes[&origin];
                outbox.partners().map(|p| (p.clone(), outbox.head(p))).collect()
            };
            for (to, head) in heads {
                self.send(Message::Head { origin: origin.clone(), to, head });
            }
        }
    }

    fn deliver(&mut self) {
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.network).into_iter().partition(|(at, _)| *at <= self.now);
        self.network = later;
        for (_, message) in due {
            match message {
                Message::Envelope { origin, to, sealed } => {
                    let envelope = match open(&sealed, &origin, &|agency| Some(key_of(agency).verifying_key())) {
                        Ok(envelope) => envelope,
                        Err(_) => {
                            self.rejected += 1;
                            continue;
                        }
                    };
                    match self.inboxes.get_mut(&to).unwrap().receive(envelope) {
                        Ok(Accepted::Early { missing_from }) => {
                            self.send(Message::Resend { from_node: to, to_origin: origin, from: missing_from })
                        }
                        Ok(_) => {}
                        Err(_) => self.rejected += 1,
                    }
                }
                Message::Head { origin, to, head } => {
                    if let Some(from) = self.inboxes[&to].behind(&origin, head) {
                        self.send(Message::Resend { from_node: to, to_origin: origin, from });
                    }
                }
                Message::Resend { from_node, to_origin, from } => {
                    let envelopes = self.outboxes[&to_origin].resend(&from_node, from, 40).to_vec();
                    self.ship(envelopes);
                }
            }
        }
    }

    /// Every node has applied every envelope its origins sent it (what is still in flight can
    /// only be a copy or an announcement).
    fn caught_up(&self) -> bool {
        ORIGINS.map(code).iter().all(|origin| {
            let outbox = &self.outboxes[origin];
            outbox.partners().all(|p| self.inboxes[p].position(origin) == outbox.head(p) + 1)
        })
    }

    /// What each node must hold of each origin, from the origins' alerts and the agreements.
    fn expected(&self, node: &AgencyCode) -> BTreeSet<(String, u128, String)> {
        let mut expected = BTreeSet::new();
        for (origin, alerts) in &self.alerts {
            if origin == node {
                continue;
            }
            let table = SharingTable::new(node, DAY, &self.agreements);
            for (alert, _) in alerts.values() {
                match table.visibility(alert.scope()) {
                    Visibility::Full => {
                        expected.insert((
                            origin.to_string(),
                            alert.id.0,
                            format!("full {}", serde_json::to_string(alert).unwrap()),
                        ));
                    }
                    Visibility::HitOnly => {
                        let keys = hit_keys(alert, &secret(origin, node));
                        expected.insert((
                            origin.to_string(),
                            alert.id.0,
                            format!("hit {}", serde_json::to_string(&keys).unwrap()),
                        ));
                    }
                    Visibility::Hidden => {}
                }
            }
        }
        expected
    }

    fn held(&self, node: &AgencyCode) -> BTreeSet<(String, u128, String)> {
        self.inboxes[node]
            .alerts()
            .map(|(origin, id, replicated)| {
                let held = match replicated {
                    Replicated::Full { alert } => format!("full {}", serde_json::to_string(alert).unwrap()),
                    Replicated::Hit { keys } => format!("hit {}", serde_json::to_string(keys).unwrap()),
                    Replicated::Stored => "stored".into(),
                };
                (origin.to_string(), id.0, held)
            })
            .collect()
    }
}

fn run(seed: u64) -> World {
    let mut world = World::new(seed);
    for step in 0..400 {
        world.now = step;
        if world.dice.chance(35) {
            world.change();
        }
        if world.dice.chance(2) {
            world.agreements_change();
        }
        if step % 10 == 0 {
            world.announce_heads();
        }
        if world.dice.chance(2) {
            let nodes: Vec<AgencyCode> = world.inboxes.keys().cloned().collect();
            let node = &nodes[world.dice.below(nodes.len() as u64) as usize];
            world.inboxes.get_mut(node).unwrap().restart();
        }
        world.deliver();
    }
    // The storm passes; the backbone still loses a message now and then, and heads are
    // announced until everybody has caught up.
    for step in 400..20_000 {
        world.now = step;
        if step % 7 == 0 {
            world.announce_heads();
        }
        world.deliver();
        if step > 450 && world.caught_up() {
            break;
        }
    }
    assert!(world.caught_up(), "seed {seed}: not caught up after 20,000 steps");
    world
}

#[test]
fn replication_converges_over_an_unreliable_backbone_for_many_seeds() {
    // TABADUL_SIM_SEEDS=N runs more (each seed is one whole storm).
    let seeds = std::env::var("TABADUL_SIM_SEEDS").ok().and_then(|n| n.parse().ok()).unwrap_or(64);
    let mut shared = 0;
    for seed in 0..seeds {
        let world = run(seed);
        for node in NODES.map(code) {
            let (held, expected) = (world.held(&node), world.expected(&node));
            assert_eq!(held, expected, "seed {seed}, node {node}");
            shared += held.len();
        }
    }
    assert!(shared > seeds as usize * 5, "the simulation shares little: {shared}");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let (a, b) = (run(7), run(7));
    for node in NODES.map(code) {
        assert_eq!(a.held(&node), b.held(&node));
    }
    assert_eq!(a.now, b.now);
}

fn sample_envelope() -> Envelope {
    let iraq = code("IQ-MOI");
    let mut outbox = Outbox::new(iraq.clone(), [code("CZ-MV")]);
    let mut world = World::new(1);
    let alert = Alert { category: Category::WantedForArrest, ..world.person(AlertId(5), &iraq) };
    let agreements = world.agreements.clone();
    outbox
        .change(
            AlertId(5),
            1,
            Some(&alert),
            RemoveReason::Deleted,
            &Sharing { date: DAY, agreements: &agreements, secret: &|_| [0; 32] },
        )
        .pop()
        .unwrap()
}

#[test]
fn a_forged_or_altered_envelope_is_refused() {
    let envelope = sample_envelope();
    let iraq = code("IQ-MOI");
    let keys = |agency: &AgencyCode| (agency.as_str() != "XX-NONE").then(|| key_of(agency).verifying_key());
    let sealed = seal(&envelope, &key_of(&iraq));
    assert_eq!(open(&sealed, &iraq, &keys).unwrap(), envelope);

    // One byte changed: the signature no longer holds.
    let mut altered = sealed.clone();
    let at = altered.bytes.len() / 2;
    altered.bytes[at] ^= 1;
    assert!(matches!(open(&altered, &iraq, &keys), Err(Rejection::BadSignature(_))));
    // Signed by France, presented as Iraq's.
    let forged = seal(&envelope, &key_of(&code("FR-MI")));
    assert!(matches!(open(&forged, &iraq, &keys), Err(Rejection::BadSignature(_))));
    // France signing an envelope that says it comes from Iraq.
    assert!(matches!(open(&forged, &code("FR-MI"), &keys), Err(Rejection::NotOwner { .. })));
    // From a node nobody knows; not JSON at all.
    assert!(matches!(open(&sealed, &code("XX-NONE"), &keys), Err(Rejection::UnknownOrigin(_))));
    let garbage = Sealed { bytes: b"not json".to_vec(), signature: key_of(&iraq).sign_bytes(b"not json") };
    assert!(matches!(open(&garbage, &iraq, &keys), Err(Rejection::Malformed(_))));
}

trait SignBytes {
    fn sign_bytes(&self, bytes: &[u8]) -> [u8; 64];
}

impl SignBytes for SigningKey {
    fn sign_bytes(&self, bytes: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.sign(bytes).to_bytes()
    }
}

#[test]
fn a_partner_refuses_an_alert_its_origin_does_not_own_and_applies_each_envelope_once() {
    let envelope = sample_envelope();
    let mut inbox = Inbox::new(code("CZ-MV"));
    let mut stolen = envelope.clone();
    if let Payload::Full { alert } = &mut stolen.payload {
        alert.owner = code("FR-MI");
    }
    assert!(matches!(inbox.receive(stolen), Err(Rejection::NotOwner { .. })));
    let elsewhere = Envelope { partner: code("GB-HO"), ..envelope.clone() };
    assert!(matches!(inbox.receive(elsewhere), Err(Rejection::NotForUs(_))));

    let later = Envelope { seq: 3, ..envelope.clone() };
    assert_eq!(inbox.receive(later.clone()), Ok(Accepted::Early { missing_from: 1 }));
    assert_eq!(inbox.receive(later), Ok(Accepted::Duplicate));
    assert_eq!(inbox.receive(envelope.clone()), Ok(Accepted::Applied(1)));
    assert_eq!(inbox.receive(envelope.clone()), Ok(Accepted::Duplicate));
    assert_eq!(inbox.position(&code("IQ-MOI")), 2);
    assert_eq!(inbox.behind(&code("IQ-MOI"), 3), Some(2));
    let second = Envelope { seq: 2, ..envelope };
    assert_eq!(inbox.receive(second), Ok(Accepted::Applied(2)));
    assert_eq!(inbox.behind(&code("IQ-MOI"), 3), None);
    assert_eq!(inbox.alerts().count(), 1);
}

#[test]
fn a_hit_level_partner_gets_digests_not_the_person() {
    let iraq = code("IQ-MOI");
    let mut world = World::new(3);
    let mut alert = world.person(AlertId(9), &iraq);
    alert.category = Category::TraffickingRisk;
    alert.remarks = "seen in Mosul".into();
    let agreements = world.agreements.clone();
    let mut outbox = Outbox::new(iraq.clone(), NODES.map(code));
    let envelopes = outbox.change(
        AlertId(9),
        1,
        Some(&alert),
        RemoveReason::Deleted,
        &Sharing { date: DAY, agreements: &agreements, secret: &|p| secret(&iraq, p) },
    );
    assert_eq!(envelopes.len(), 3, "the summit shares trafficking risk with every partner at hit level");
    for envelope in &envelopes {
        let Payload::Hit { keys } = &envelope.payload else { panic!("{envelope:?}") };
        let json = serde_json::to_string(envelope).unwrap();
        for leak in ["Mosul", "علي", "Karim", "نور", "Jean", "Ahmed", "مريم", "trafficking-risk"] {
            assert!(!json.contains(leak), "{leak} in {json}");
        }
        assert_eq!(keys.action, tabadul_domain::Action::ProtectAndRefer);
    }
    // Revoking the summit's agreement: every partner is told to forget it.
    let mut revoked = agreements.clone();
    revoked[1].revoked_on = Some(DAY);
    let revoked_sharing = Sharing { date: DAY, agreements: &revoked, secret: &|p| secret(&iraq, p) };
    let removals = outbox.reshare(&[(alert, 1)], &revoked_sharing);
    assert_eq!(removals.len(), 3);
    assert!(removals.iter().all(|e| e.payload == Payload::Remove { reason: RemoveReason::NoLongerShared }));
    assert!(removals.iter().all(|e| e.seq == 2));
    // Nothing changes: nothing is sent.
    assert!(outbox.reshare(&[], &revoked_sharing).is_empty());
}

#[test]
fn a_hit_level_partner_finds_the_person_across_scripts_and_only_them() {
    let iraq = code("IQ-MOI");
    let mut world = World::new(5);
    let mut alert = world.person(AlertId(11), &iraq);
    alert.category = Category::TraffickingRisk;
    if let Subject::Person(person) = &mut alert.subject {
        person.names = vec![PersonName::new("نور عباس التميمي", NameKind::Primary)];
        person.birth_dates = vec![tabadul_domain::PartialDate::parse("2009-03-02").unwrap()];
    }
    let czech = code("CZ-MV");
    let mut index = tabadul_federation::HitIndex::default();
    index.insert(&iraq, alert.id, hit_keys(&alert, &secret(&iraq, &czech)));
    let search = |index: &tabadul_federation::HitIndex, names: &[&str], years: &[i32]| {
        let traveller = tabadul_federation::TravellerData {
            names: names.iter().map(|n| n.to_string()).collect(),
            birth_years: years.to_vec(),
            ..Default::default()
        };
        index.search(&traveller, DAY, &|origin| secret(origin, &czech))
    };
    let found = search(&index, &["NOOR ABBAS ALTAMIMI"], &[2009]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].alert_id, found[0].on, found[0].action),
        (alert.id, "name", tabadul_domain::Action::ProtectAndRefer)
    );
    assert!(search(&index, &["NOOR ABBAS ALTAMIMI"], &[1970]).is_empty(), "another generation");
    assert!(search(&index, &["Noor Novak"], &[2009]).is_empty(), "one name in common is not enough");
    assert!(search(&index, &["Jan Novak"], &[]).is_empty());
    index.remove(&iraq, alert.id);
    assert!(search(&index, &["NOOR ABBAS ALTAMIMI"], &[2009]).is_empty());
}

#[test]
fn a_compacted_outbox_keeps_its_numbering() {
    let iraq = code("IQ-MOI");
    let czech = code("CZ-MV");
    let mut world = World::new(11);
    let agreements = world.agreements.clone();
    let sharing = Sharing { date: DAY, agreements: &agreements, secret: &|_| [1; 32] };
    let mut outbox = Outbox::new(iraq.clone(), [czech.clone()]);
    let wanted =
        |world: &mut World, id: u128| Alert { category: Category::WantedForArrest, ..world.person(AlertId(id), &iraq) };
    let first = wanted(&mut world, 1);
    outbox.change(AlertId(1), 1, Some(&first), RemoveReason::Deleted, &sharing);
    outbox.compact();
    assert_eq!(outbox.head(&czech), 1);
    assert!(outbox.resend(&czech, 1, 10).is_empty(), "compacted away: the backbone keeps it");
    let second = wanted(&mut world, 2);
    let sent = outbox.change(AlertId(2), 1, Some(&second), RemoveReason::Deleted, &sharing);
    assert_eq!(sent[0].seq, 2);
    assert_eq!(outbox.resend(&czech, 1, 10).iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
}
