//! Envelopes between nodes over a real nats-server with JetStream, which this test starts
//! itself (installed from Debian's packages when missing): delivered to the partner named and
//! nobody else, once, verified, across a restart of the receiving node and of NATS itself.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use tabadul_backbone::throwaway::Nats;
use tabadul_backbone::{Backbone, Delivery};
use tabadul_domain::{AgencyCode, Agreement, AgreementId, Alert, AlertId, Category, SharingLevel};
use tabadul_federation::{Accepted, Envelope, Inbox, Outbox, Rejection, RemoveReason, Sharing, open, seal};

const DAY: time::Date = time::macros::date!(2026 - 11 - 29);
const WAIT: Duration = Duration::from_millis(500);

fn code(text: &str) -> AgencyCode {
    AgencyCode::new(text).unwrap()
}

fn key_of(agency: &AgencyCode) -> SigningKey {
    let mut seed = [3u8; 32];
    seed[..agency.as_str().len()].copy_from_slice(agency.as_str().as_bytes());
    SigningKey::from_bytes(&seed)
}

fn keys(agency: &AgencyCode) -> Option<ed25519_dalek::VerifyingKey> {
    ["IQ-MOI", "CZ-MV", "GB-HO"].contains(&agency.as_str()).then(|| key_of(agency).verifying_key())
}

fn wanted(id: u128, name: &str) -> Alert {
    Alert { category: Category::WantedForArrest, ..tabadul_store::conformance::person_alert(id, "IQ-MOI", name) }
}

fn agreements() -> Vec<Agreement> {
    vec![Agreement {
        id: AgreementId(1),
        title: "Iraq-Czech memorandum".into(),
        parties: [code("IQ-MOI"), code("CZ-MV")].into(),
        levels: [(Category::WantedForArrest, SharingLevel::Full)].into(),
        valid_from: time::macros::date!(2026 - 01 - 01),
        valid_until: None,
        legal_reference: "MoU".into(),
        revoked_on: None,
        awaiting: Default::default(),
    }]
}

/// Iraq's node: its outbox, publishing what each change gives.
struct Origin {
    outbox: Outbox,
    backbone: Backbone,
}

impl Origin {
    async fn change(&mut self, id: u128, version: u64, alert: Option<&Alert>) -> Vec<Envelope> {
        let envelopes = self.outbox.change(
            AlertId(id),
            version,
            alert,
            RemoveReason::Deleted,
            &Sharing { date: DAY, agreements: &agreements(), secret: &|_| [9; 32] },
        );
        for envelope in &envelopes {
            let sealed = seal(envelope, &key_of(&code("IQ-MOI")));
            self.backbone.publish(envelope, &sealed).await.unwrap();
        }
        envelopes
    }
}

/// Fetches, verifies and applies what there is for `backbone`'s node; returns what happened.
async fn drain(backbone: &Backbone, inbox: &mut Inbox) -> Vec<Result<Accepted, Rejection>> {
    let mut outcomes = Vec::new();
    loop {
        let deliveries = backbone.fetch(50, WAIT).await.unwrap();
        if deliveries.is_empty() {
            return outcomes;
        }
        for delivery in deliveries {
            let delivery: Delivery = delivery.unwrap();
            let outcome = open(&delivery.sealed, &delivery.origin, &keys).and_then(|e| inbox.receive(e));
            outcomes.push(outcome);
            delivery.ack().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_reach_their_partner_once_across_restarts_and_forgeries_are_refused() {
    let mut nats = Nats::start().expect("start nats-server");
    let iraq = code("IQ-MOI");
    let mut origin = Origin {
        outbox: Outbox::new(iraq.clone(), [code("CZ-MV"), code("GB-HO")]),
        backbone: Backbone::connect(&nats.url(), iraq.clone()).await.unwrap(),
    };
    let czech = Backbone::connect(&nats.url(), code("CZ-MV")).await.unwrap();
    let british = Backbone::connect(&nats.url(), code("GB-HO")).await.unwrap();
    let mut czech_inbox = Inbox::new(code("CZ-MV"));
    let mut british_inbox = Inbox::new(code("GB-HO"));

    let ali = wanted(1, "علي حسن الشمري");
    let karim = wanted(2, "كريم جبار");
    origin.change(1, 1, Some(&ali)).await;
    let sent = origin.change(2, 1, Some(&karim)).await;
    assert_eq!(sent.len(), 1, "the UK has no agreement: nothing is sent to it");
    // A copy published again (a retry after a lost acknowledgement) is stored once.
    let sealed = seal(&sent[0], &key_of(&iraq));
    origin.backbone.publish(&sent[0], &sealed).await.unwrap();

    let outcomes = drain(&czech, &mut czech_inbox).await;
    assert_eq!(outcomes, [Ok(Accepted::Applied(1)), Ok(Accepted::Applied(1))]);
    assert!(drain(&british, &mut british_inbox).await.is_empty());
    assert_eq!(czech_inbox.alerts().count(), 2);

    // The Czech node restarts: what it acknowledged does not come again.
    drop(czech);
    let czech = Backbone::connect(&nats.url(), code("CZ-MV")).await.unwrap();
    origin.change(1, 2, None).await; // Iraq deletes Ali's alert
    assert_eq!(drain(&czech, &mut czech_inbox).await, [Ok(Accepted::Applied(1))]);
    assert_eq!(czech_inbox.alerts().count(), 1);

    // NATS itself stops and starts again (a partition); what was stored survives, and what is
    // published afterwards arrives.
    nats.stop();
    assert!(Backbone::connect(&nats.url(), code("CZ-MV")).await.is_err());
    nats.run().unwrap();
    let origin_backbone = Backbone::connect(&nats.url(), iraq.clone()).await.unwrap();
    origin.backbone = origin_backbone;
    let mut karim_again = karim.clone();
    karim_again.remarks = "seen at Zakho".into();
    origin.change(2, 2, Some(&karim_again)).await;
    let czech = Backbone::connect(&nats.url(), code("CZ-MV")).await.unwrap();
    assert_eq!(drain(&czech, &mut czech_inbox).await, [Ok(Accepted::Applied(1))]);
    assert_eq!(czech_inbox.position(&iraq), 5, "four envelopes applied, in order");

    // A forged envelope: the United Kingdom signs Iraq's name on one; and an altered one.
    let mut forged = sent[0].clone();
    forged.seq = 5;
    let forged_sealed = seal(&forged, &key_of(&code("GB-HO")));
    origin.backbone.publish(&forged, &forged_sealed).await.unwrap();
    let mut altered = seal(&Envelope { seq: 6, ..sent[0].clone() }, &key_of(&iraq));
    let last = altered.bytes.len() - 5;
    altered.bytes[last] ^= 1;
    origin.backbone.publish(&Envelope { seq: 6, ..sent[0].clone() }, &altered).await.unwrap();
    let outcomes = drain(&czech, &mut czech_inbox).await;
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| matches!(o, Err(Rejection::BadSignature(_)))), "{outcomes:?}");
    assert_eq!(czech_inbox.position(&iraq), 5, "nothing forged was applied");
}

/// A certificate authority, and certificates it signs, for the mutual TLS test.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "tabadul test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        for (name, san) in [("server", "127.0.0.1"), ("node", "iq-moi.tabadul.test")] {
            let params = rcgen::CertificateParams::new(vec![san.to_string()]).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.path().join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.path().join(format!("{name}-key.pem")), key.serialize_pem()).unwrap();
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reaches_nats_over_mutual_tls_and_nothing_else_does() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.path().join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {:?} }}\ntls {{\n  cert_file: {:?}\n  key_file: {:?}\n  ca_file: {:?}\n  verify: true\n}}\n",
            dir.path().join("js"),
            pki.path("server.pem"),
            pki.path("server-key.pem"),
            pki.path("ca.pem"),
        ),
    )
    .unwrap();
    let mut child = Command::new(tabadul_backbone::throwaway::nats_binary().unwrap())
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("tls://127.0.0.1:{port}");
    let tls =
        tabadul_backbone::Tls { ca: pki.path("ca.pem"), cert: pki.path("node.pem"), key: pki.path("node-key.pem") };
    let node = Backbone::connect_with(&url, code("CZ-MV"), Some(&tls)).await;
    // Without a client certificate, or without TLS at all: refused.
    let plain = Backbone::connect(&format!("nats://127.0.0.1:{port}"), code("CZ-MV")).await;
    let missing = tabadul_backbone::Tls { cert: pki.path("nothing.pem"), ..tls.clone() };
    let no_file = Backbone::connect_with(&url, code("CZ-MV"), Some(&missing)).await;
    let _ = child.kill();
    let _ = child.wait();
    let node = node.expect("the node connects over mutual TLS");
    assert_eq!(node.me().as_str(), "CZ-MV");
    assert!(plain.is_err(), "a client without a certificate got in");
    assert!(no_file.err().unwrap().to_string().contains("no TLS file"));
}
