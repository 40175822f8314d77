//! Two nodes, Iraq's and the Czech Republic's, each with its own store, exchange alerts over a
//! real nats-server (started here, installed from Debian when missing) with `tabadul federate`:
//! what the memorandum shares in full reaches the Czech node and its border checks, across
//! scripts; only Iraq changes it; a deletion reaches the partner; nothing is applied twice.

mod common;

use common::{Node, free_port, http};
use tabadul_backbone::throwaway::Nats;

const SECRET: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn set_up(node: &Node) {
    node.ok(&["init"]);
    node.ok(&["agency", "add", "IQ-MOI", "--country", "IQ", "--name", "Ministry of Interior"]);
    node.ok(&["agency", "add", "CZ-MV", "--country", "CZ", "--name", "Ministerstvo vnitra"]);
    let share = "wanted-for-arrest=full,trafficking-risk=hit";
    node.ok(&["agreement", "add", "--title", "Iraq-Czech MoU", "--party", "IQ-MOI", "--party", "CZ-MV"]
        .into_iter()
        .chain(["--share", share, "--from", "2026-01-01", "--legal-ref", "MoU 2026/4"])
        .collect::<Vec<_>>());
}

fn configure(node: &Node, me: &str, nats: &str, partner: &str, partner_key: &str) {
    let text = format!(
        "[node]\nagency = \"{me}\"\n[federation]\nnats = \"{nats}\"\n[[federation.partners]]\nagency = \"{partner}\"\nkey = \"{partner_key}\"\nsecret = \"{SECRET}\"\n"
    );
    std::fs::write(node.dir.path().join("tabadul.toml"), text).unwrap();
}

/// An envelope from `origin` to `partner` deleting alert `id`, numbered 3 and signed with a key
/// that is not the origin's node key.
fn forged(
    origin: &str,
    partner: &str,
    id: tabadul_domain::AlertId,
) -> (tabadul_federation::Envelope, tabadul_federation::Sealed) {
    use tabadul_domain::AgencyCode;
    use tabadul_federation::{ENVELOPE_VERSION, Envelope, Payload, RemoveReason, seal};
    let envelope = Envelope {
        version: ENVELOPE_VERSION,
        origin: AgencyCode::new(origin).unwrap(),
        partner: AgencyCode::new(partner).unwrap(),
        seq: 3,
        alert_id: id,
        alert_version: 9,
        payload: Payload::Remove { reason: RemoveReason::Deleted },
    };
    let sealed = seal(&envelope, &ed25519_dalek::SigningKey::from_bytes(&[42; 32]));
    (envelope, sealed)
}

/// Runs `f` with a backbone connected as agency `me`.
fn on_backbone(nats: &Nats, me: &str, f: impl AsyncFnOnce(&tabadul_backbone::Backbone)) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let me = tabadul_domain::AgencyCode::new(me).unwrap();
        let backbone = tabadul_backbone::Backbone::connect(&nats.url(), me).await.unwrap();
        f(&backbone).await;
    });
}

/// Publishes, as Iraq, an envelope deleting alert `id` for the Czech node, signed with a key that
/// is not Iraq's node key.
fn forge(nats: &Nats, id: &str) {
    let (envelope, sealed) = forged("IQ-MOI", "CZ-MV", tabadul_domain::AlertId::parse(id).unwrap());
    on_backbone(nats, "GB-HO", async |backbone| backbone.publish(&envelope, &sealed).await.unwrap());
}

/// Iraq's node and the Czech node, set up alike, each configured with the other as partner.
fn two_nodes(nats: &Nats) -> (Node, Node) {
    let (iraq, czech) = (Node::new(), Node::new());
    set_up(&iraq);
    set_up(&czech);
    let iraq_key = iraq.ok(&["federate", "--show-key"]).trim().to_string();
    let czech_key = czech.ok(&["federate", "--show-key"]).trim().to_string();
    assert_eq!(iraq_key.len(), 64);
    configure(&iraq, "IQ-MOI", &nats.url(), "CZ-MV", &czech_key);
    configure(&czech, "CZ-MV", &nats.url(), "IQ-MOI", &iraq_key);
    (iraq, czech)
}

fn czech_check(node: &Node) -> serde_json::Value {
    let answer = node.json(&[
        "check",
        "--agency",
        "CZ-MV",
        "--post",
        "PRG-AIRPORT",
        "--name",
        "Ali Hassan al-Shammari",
        "--birth-date",
        "1988-03-15",
    ]);
    answer["check"]["result"]["persons"].clone()
}

#[test]
fn two_nodes_share_what_their_memorandum_says_over_nats() {
    let nats = Nats::start().expect("start nats-server");
    let (iraq, czech) = two_nodes(&nats);

    let added = iraq.json(&[
        "alert",
        "add",
        "--agency",
        "IQ-MOI",
        "--category",
        "wanted-for-arrest",
        "--name",
        "علي حسن الشمري",
        "--birth-date",
        "1988-03-15",
        "--nationality",
        "IQ",
        "--marker",
        "armed",
    ]);
    let id = added["alert"]["id"].as_str().unwrap().to_string();
    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "trafficking-risk", "--name", "نور عباس التميمي"]);
    // Before replication, the Czech node knows nothing of it.
    assert_eq!(czech_check(&czech).as_array().unwrap().len(), 0);

    let published = iraq.json(&["federate"]);
    assert_eq!(published["published"], 2, "{published}");
    let applied = czech.json(&["federate"]);
    assert_eq!(
        (applied["applied"].as_u64(), applied["rejected"].as_array().map(Vec::len)),
        (Some(2), Some(0)),
        "{applied}"
    );

    // The Czech officer's check finds Iraq's wanted man, written in Arabic script.
    let persons = czech_check(&czech);
    assert_eq!(persons.as_array().unwrap().len(), 1, "{persons:#}");
    assert_eq!((persons[0]["owner"].as_str(), persons[0]["alert_id"].as_str()), (Some("IQ-MOI"), Some(id.as_str())));
    assert_eq!(persons[0]["level"], "full");
    // The girl at risk, shared at hit level: the Czech check finds that Iraq has an alert, whom
    // to call and what to do — protect, not arrest — and nothing else, across scripts.
    let answer = czech.json(&["check", "--agency", "CZ-MV", "--post", "PRG-AIRPORT", "--name", "NOOR ABBAS ALTAMIMI"]);
    let persons = &answer["check"]["result"]["persons"];
    assert_eq!(persons.as_array().unwrap().len(), 1, "{answer:#}");
    assert_eq!((persons[0]["level"].as_str(), persons[0]["action"].as_str()), (Some("hit"), Some("protect-and-refer")));
    assert_eq!(persons[0]["owner"], "IQ-MOI");
    let text = answer.to_string();
    assert!(!text.contains("التميمي") && !text.contains("trafficking-risk"), "{text}");
    assert!(persons[0]["instruction"].as_str().unwrap().contains("not an arrest"));
    // It stays Iraq's: the Czech node cannot change it.
    let refused = czech.fails(&["alert", "delete", &id, "--agency", "CZ-MV"]);
    assert!(refused.contains("IQ-MOI"), "{refused}");
    // Another round brings nothing new.
    assert_eq!(czech.json(&["federate"])["applied"], 0);
    // Somebody on the backbone signs an envelope with a key of their own and says it is Iraq's:
    // the Czech node refuses it, logs it, applies nothing.
    forge(&nats, &id);
    let round = czech.json(&["federate"]);
    assert_eq!((round["applied"].as_u64(), round["rejected"].as_array().map(Vec::len)), (Some(0), Some(1)), "{round}");
    assert!(round["rejected"][0].as_str().unwrap().contains("signature"), "{round}");
    let refusals = czech.json(&["audit", "list", "--limit", "1000"]);
    assert_eq!(refusals.as_array().unwrap().iter().filter(|e| e["operation"] == "federation.refuse").count(), 1);
    assert_eq!(czech_check(&czech).as_array().unwrap().len(), 1, "the real alert is untouched");

    // The Czech officer confirms the hit: the notification reaches Iraq's inbox over the
    // backbone.
    let hit = persons[0]["hit_id"].as_str().unwrap().to_string();
    czech.ok(&["hits", "confirm", &hit, "--agency", "CZ-MV", "--action-taken", "detained at PRG, gate B4"]);
    assert_eq!(czech.json(&["federate"])["published"], 1);
    assert_eq!(iraq.json(&["federate"])["applied"], 1);
    let inbox = iraq.json(&["hits", "inbox", "--agency", "IQ-MOI"]);
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox:#}");
    assert_eq!((inbox[0]["agency"].as_str(), inbox[0]["post"].as_str()), (Some("CZ-MV"), Some("PRG-AIRPORT")));
    assert_eq!(inbox[0]["action_taken"], "detained at PRG, gate B4");
    // Sent once.
    assert_eq!(czech.json(&["federate"])["published"], 0);

    // Iraq deletes the alert: gone from the Czech node after the next rounds.
    iraq.ok(&["alert", "delete", &id, "--agency", "IQ-MOI"]);
    assert_eq!(iraq.json(&["federate"])["published"], 1);
    assert_eq!(czech.json(&["federate"])["applied"], 1);
    assert_eq!(czech_check(&czech).as_array().unwrap().len(), 0);
    assert!(iraq.ok(&["audit", "verify"]).starts_with("audit log intact"));
    // Every write of replication is in the Czech audit log, which verifies.
    let entries = czech.json(&["audit", "list", "--limit", "1000"]);
    let applies = entries.as_array().unwrap().iter().filter(|e| e["operation"] == "federation.apply").count();
    assert_eq!(applies, 2);
    assert!(czech.ok(&["audit", "verify"]).starts_with("audit log intact"));
}

/// A node of `me` among Iraq, France and the Czech Republic, with the agreements all three
/// record: Iraq–Czech (wanted persons, in full), Iraq–France (suspected smugglers, in full),
/// and the summit (trafficking risk and smuggling, at hit level, among all).
fn summit_node(me: &str) -> Node {
    let node = Node::new();
    node.ok(&["init"]);
    for (code, country) in [("IQ-MOI", "IQ"), ("FR-MI", "FR"), ("CZ-MV", "CZ")] {
        node.ok(&["agency", "add", code, "--country", country, "--name", code]);
    }
    let agreement = |title: &str, parties: &[&str], share: &str| {
        let mut args =
            vec!["agreement", "add", "--title", title, "--share", share, "--from", "2026-01-01", "--legal-ref", "MoU"];
        for party in parties {
            args.extend(["--party", party]);
        }
        node.ok(&args);
    };
    agreement("Iraq-Czech MoU", &["IQ-MOI", "CZ-MV"], "wanted-for-arrest=full");
    agreement("Iraq-France MoU", &["IQ-MOI", "FR-MI"], "suspected-smuggler=full");
    agreement("Summit", &["IQ-MOI", "FR-MI", "CZ-MV"], "trafficking-risk=hit,suspected-smuggler=hit");
    let _ = me;
    node
}

fn configure_many(node: &Node, me: &str, nats: &str, partners: &[(&str, &str)]) {
    let mut text = format!("[node]\nagency = \"{me}\"\n[federation]\nnats = \"{nats}\"\n");
    for (agency, key) in partners {
        text.push_str(&format!(
            "[[federation.partners]]\nagency = \"{agency}\"\nkey = \"{key}\"\nsecret = \"{SECRET}\"\n"
        ));
    }
    std::fs::write(node.dir.path().join("tabadul.toml"), text).unwrap();
}

fn persons(node: &Node, agency: &str, name: &str) -> Vec<serde_json::Value> {
    let answer = node.json(&["check", "--agency", agency, "--post", "BORDER", "--name", name]);
    answer["check"]["result"]["persons"].as_array().unwrap().clone()
}

#[test]
fn three_nodes_share_as_their_agreements_say_through_revocation_and_a_partition() {
    let mut nats = Nats::start().expect("start nats-server");
    let nodes: Vec<(&str, Node)> = ["IQ-MOI", "FR-MI", "CZ-MV"].into_iter().map(|me| (me, summit_node(me))).collect();
    let keys: Vec<(&str, String)> =
        nodes.iter().map(|(me, node)| (*me, node.ok(&["federate", "--show-key"]).trim().to_string())).collect();
    for (me, node) in &nodes {
        let partners: Vec<(&str, &str)> =
            keys.iter().filter(|(agency, _)| agency != me).map(|(agency, key)| (*agency, key.as_str())).collect();
        configure_many(node, me, &nats.url(), &partners);
    }
    let (iraq, france, czech) = (&nodes[0].1, &nodes[1].1, &nodes[2].1);
    let round = || {
        for (_, node) in &nodes {
            node.ok(&["federate"]);
        }
    };

    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "كريم جبار الساعدي"]);
    iraq.ok(&[
        "alert",
        "add",
        "--agency",
        "IQ-MOI",
        "--category",
        "suspected-smuggler",
        "--name",
        "حيدر عبد الرحمن الزبيدي",
    ]);
    round();
    // The wanted man: in full to the Czech Republic, not at all to France.
    let wanted = persons(czech, "CZ-MV", "Karim Jabbar al-Saadi");
    assert_eq!((wanted.len(), wanted[0]["level"].as_str()), (1, Some("full")));
    assert!(persons(france, "FR-MI", "Karim Jabbar al-Saadi").is_empty());
    // The smuggler: in full to France, at hit level to the Czech Republic.
    let smuggler = "Haidar Abdulrahman al-Zubaidi";
    let found = persons(france, "FR-MI", smuggler);
    assert_eq!(found.len(), 1, "{}", france.ok(&["alert", "list", "--agency", "FR-MI"]));
    assert_eq!(found[0]["level"], "full");
    let hit = persons(czech, "CZ-MV", smuggler);
    assert_eq!((hit.len(), hit[0]["level"].as_str()), (1, Some("hit")), "{hit:?}");
    assert!(hit[0]["names"].is_null() && hit[0]["category"].is_null());

    // Iraq revokes the Iraq-Czech memorandum: the wanted man is gone from the Czech node.
    let agreements = iraq.json(&["agreement", "list"]);
    let memorandum = agreements.as_array().unwrap().iter().find(|a| a["title"] == "Iraq-Czech MoU").unwrap();
    iraq.ok(&["agreement", "revoke", memorandum["id"].as_str().unwrap()]);
    round();
    assert!(persons(czech, "CZ-MV", "Karim Jabbar al-Saadi").is_empty());
    assert_eq!(persons(france, "FR-MI", smuggler)[0]["level"], "full", "what France holds is untouched");

    // A partition: NATS is down; Iraq's round fails and says why, nothing is lost.
    nats.stop();
    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "suspected-smuggler", "--name", "مصطفى كاظم"]);
    let error = iraq.fails(&["federate"]);
    assert!(error.contains("backbone"), "{error}");
    nats.run().unwrap();
    round();
    assert_eq!(persons(france, "FR-MI", "Mustafa Kadhim")[0]["level"], "full");
    // Nothing twice: another round applies nothing anywhere.
    for (_, node) in &nodes {
        let quiet = node.json(&["federate"]);
        assert_eq!((quiet["applied"].as_u64(), quiet["published"].as_u64()), (Some(0), Some(0)), "{quiet}");
    }
    for (_, node) in &nodes {
        assert!(node.ok(&["audit", "verify"]).starts_with("audit log intact"));
    }
}

/// A server of `node` on a free port, federating in the background; killed when dropped.
struct Server(std::process::Child, u16);

impl Server {
    fn start(node: &Node) -> Server {
        let port = free_port();
        let child = node
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while http_ready(port).is_none() {
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "the server did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Server(child, port)
    }
}

fn http_ready(port: u16) -> Option<()> {
    std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    (http(port, "GET", "/ready", None, None).0 == 200).then_some(())
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn add_user(node: &Node, name: &str, agency: &str, role: &str) {
    use std::io::Write;
    let mut child = node
        .command(&["user", "add", name, "--agency", agency, "--role", role])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "a long enough password").unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn running_servers_federate_in_the_background_and_checks_see_it_at_once() {
    let nats = Nats::start().expect("start nats-server");
    let (iraq, czech) = two_nodes(&nats);
    add_user(&czech, "officer@cz", "CZ-MV", "officer");
    let _iraq_server = Server::start(&iraq);
    let czech_server = Server::start(&czech);

    // Iraq records a wanted man (at its node, here from the command line); its server publishes
    // it, the Czech server applies it, and a Czech check over the API finds it.
    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "علي حسن الشمري"]);
    let login = r#"{"user": "officer@cz", "password": "a long enough password"}"#;
    let (status, body) = http(czech_server.1, "POST", "/api/v1/sessions", None, Some(login));
    assert_eq!(status, 201, "{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"].as_str().unwrap().to_string();
    let check = r#"{"post": "PRG-AIRPORT", "names": ["Ali Hassan al-Shammari"]}"#;
    let started = std::time::Instant::now();
    loop {
        let (status, body) = http(czech_server.1, "POST", "/api/v1/checks", Some(&token), Some(check));
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        if answer["check"]["result"]["persons"].as_array().is_some_and(|p| !p.is_empty()) {
            assert_eq!(answer["check"]["result"]["persons"][0]["owner"], "IQ-MOI");
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "not replicated in 30 s: {body}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    // The node's status says how far replication is.
    let (status, body) = http(czech_server.1, "GET", "/api/v1/node", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    let node: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(node["federation"]["partners"][0]["agency"], "IQ-MOI", "{node}");
    assert!(node["federation"]["partners"][0]["applied"].as_u64().unwrap() >= 1, "{node}");
}

#[test]
fn a_national_node_on_postgres_federates_like_any_other() {
    let nats = Nats::start().expect("start nats-server");
    let cluster = tabadul_store_postgres::throwaway::Cluster::start().expect("start PostgreSQL");
    let iraq = Node::new();
    let czech = Node::on(&cluster.create_database().unwrap());
    set_up(&iraq);
    set_up(&czech);
    let iraq_key = iraq.ok(&["federate", "--show-key"]).trim().to_string();
    let czech_key = czech.ok(&["federate", "--show-key"]).trim().to_string();
    configure(&iraq, "IQ-MOI", &nats.url(), "CZ-MV", &czech_key);
    configure(&czech, "CZ-MV", &nats.url(), "IQ-MOI", &iraq_key);
    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "علي حسن الشمري"]);
    iraq.ok(&["federate"]);
    assert_eq!(czech.json(&["federate"])["applied"], 1);
    let persons = czech_check(&czech);
    assert_eq!((persons.as_array().unwrap().len(), persons[0]["owner"].as_str()), (1, Some("IQ-MOI")));
    // The replica's state is in the database: a second round, a new process, applies nothing.
    assert_eq!(czech.json(&["federate"])["applied"], 0);
    let status = czech.json(&["federate", "--status"]);
    assert_eq!(status["partners"][0]["agency"], "IQ-MOI");
    assert_eq!((status["partners"][0]["applied"].as_u64(), status["partners"][0]["held"].as_u64()), (Some(1), Some(1)));
    assert_eq!(iraq.json(&["federate", "--status"])["partners"][0]["sent"], 1);
}

/// Relays to Iraq's posts an envelope said to be France's, signed with a key that is not
/// France's node key.
fn forge_relay(nats: &Nats) {
    let (envelope, sealed) = forged("FR-MI", "IQ-MOI", tabadul_domain::AlertId(1));
    on_backbone(nats, "IQ-MOI", async |backbone| {
        backbone.relay(&envelope.origin, envelope.seq, &sealed).await.unwrap()
    });
}

/// Iraq's border post at Basra: a replica of Iraq's national node. It receives Iraq's own
/// alerts and what France shares with Iraq (relayed unchanged, verified at the post against
/// France's key), answers checks with NATS down, and reports its checks and the hit confirmed
/// there when the link returns; the notification then reaches France.
#[test]
fn a_border_post_answers_offline_and_reports_when_the_link_returns() {
    let mut nats = Nats::start().expect("start nats-server");
    let (iraq, france, czech) = (summit_node("IQ-MOI"), summit_node("FR-MI"), summit_node("CZ-MV"));
    // The post starts empty: the agencies and agreements come from Iraq's node with the alerts.
    let post = Node::new();
    post.ok(&["init"]);
    let key = |node: &Node| node.ok(&["federate", "--show-key"]).trim().to_string();
    let (iraq_key, france_key, czech_key, post_key) = (key(&iraq), key(&france), key(&czech), key(&post));
    configure_many(&france, "FR-MI", &nats.url(), &[("IQ-MOI", &iraq_key), ("CZ-MV", &czech_key)]);
    configure_many(&czech, "CZ-MV", &nats.url(), &[("IQ-MOI", &iraq_key), ("FR-MI", &france_key)]);
    configure_many(&iraq, "IQ-MOI", &nats.url(), &[("FR-MI", &france_key), ("CZ-MV", &czech_key)]);
    let posts = format!("[[federation.posts]]\nname = \"BSR\"\nkey = \"{post_key}\"\n");
    let config = iraq.dir.path().join("tabadul.toml");
    std::fs::write(&config, std::fs::read_to_string(&config).unwrap() + &posts).unwrap();
    let nats_url = nats.url();
    let configure_post = |node: &Node, name: &str| {
        std::fs::write(
            node.dir.path().join("tabadul.toml"),
            format!(
                "[node]\nagency = \"IQ-MOI\"\n[federation]\nnats = \"{}\"\npost = \"{name}\"\nnational_key = \"{iraq_key}\"\n\
                 [[federation.partners]]\nagency = \"FR-MI\"\nkey = \"{france_key}\"\nsecret = \"{SECRET}\"\n\
                 [[federation.partners]]\nagency = \"CZ-MV\"\nkey = \"{czech_key}\"\nsecret = \"{SECRET}\"\n",
                nats_url
            ),
        )
        .unwrap();
    };
    configure_post(&post, "BSR");

    let wanted = iraq.json(&[
        "alert",
        "add",
        "--agency",
        "IQ-MOI",
        "--category",
        "wanted-for-arrest",
        "--name",
        "كريم جبار الساعدي",
    ]);
    let wanted_id = wanted["alert"]["id"].as_str().unwrap().to_string();
    france.ok(&["alert", "add", "--agency", "FR-MI", "--category", "suspected-smuggler", "--name", "Walid Mansour"]);
    france.ok(&["alert", "add", "--agency", "FR-MI", "--category", "trafficking-risk", "--name", "Amina Diallo"]);
    // Not shared with Iraq: it must reach neither Iraq nor its post.
    france.ok(&["alert", "add", "--agency", "FR-MI", "--category", "wanted-for-arrest", "--name", "Paul Lefebvre"]);
    czech.ok(&["alert", "add", "--agency", "CZ-MV", "--category", "wanted-for-arrest", "--name", "Jan Novak"]);
    france.ok(&["federate"]);
    czech.ok(&["federate"]);
    let national = iraq.json(&["federate"]);
    assert_eq!(national["applied"], 3, "{national}");
    let replicated = post.json(&["federate"]);
    assert_eq!((replicated["applied"].as_u64(), replicated["rejected"].as_array().map(Vec::len)), (Some(5), Some(0)));
    assert_eq!(post.json(&["agreement", "list"]).as_array().unwrap().len(), 3);
    // Somebody relays to the post an envelope said to be France's, signed with another key: it
    // is refused and logged, and nothing changes.
    forge_relay(&nats);
    let round = post.json(&["federate"]);
    assert_eq!((round["applied"].as_u64(), round["rejected"].as_array().map(Vec::len)), (Some(0), Some(1)), "{round}");

    // The link is down: the post answers from its replica alone.
    nats.stop();
    let check = |name: &str| post.json(&["check", "--agency", "IQ-MOI", "--post", "BSR-GATE-2", "--name", name]);
    let answer = check("Karim Jabbar al-Saadi");
    let persons = answer["check"]["result"]["persons"].as_array().unwrap().clone();
    assert_eq!((persons.len(), persons[0]["owner"].as_str()), (1, Some("IQ-MOI")), "{answer:#}");
    // Its receipt names the data that answered: Iraq's change 1, France's envelope 2, the Czech
    // Republic's 1.
    let version = &answer["receipt"]["replica_version"];
    assert_eq!(
        version,
        &serde_json::json!([{"owner": "CZ-MV", "seq": 1}, {"owner": "FR-MI", "seq": 2}, {"owner": "IQ-MOI", "seq": 1}]),
        "{answer:#}"
    );
    assert!(check("Paul Lefebvre")["check"]["result"]["persons"].as_array().unwrap().is_empty());
    let czech_wanted = check("JAN NOVAK")["check"]["result"]["persons"].clone();
    assert_eq!((czech_wanted[0]["owner"].as_str(), czech_wanted[0]["level"].as_str()), (Some("CZ-MV"), Some("full")));
    let smuggler = check("WALID MANSOUR")["check"]["result"]["persons"].clone();
    assert_eq!((smuggler[0]["owner"].as_str(), smuggler[0]["level"].as_str()), (Some("FR-MI"), Some("full")));
    let risk = check("Amina Diallo")["check"]["result"]["persons"].clone();
    assert_eq!((risk[0]["owner"].as_str(), risk[0]["level"].as_str()), (Some("FR-MI"), Some("hit")), "{risk:#}");
    let hit = smuggler[0]["hit_id"].as_str().unwrap().to_string();
    post.ok(&["hits", "confirm", &hit, "--agency", "IQ-MOI", "--action-taken", "held at Basra, gate 2"]);
    // A post changes no alerts: they are its national node's.
    let refused =
        post.fails(&["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "X Y"]);
    assert!(refused.contains("border post BSR"), "{refused}");
    let refused = post.fails(&["alert", "delete", &wanted_id, "--agency", "IQ-MOI"]);
    assert!(refused.contains("national node"), "{refused}");
    let error = post.fails(&["federate"]);
    assert!(error.contains("backbone"), "{error}");

    // The link returns: five checks and one outcome go up, once.
    nats.run().unwrap();
    assert_eq!(post.json(&["federate"])["published"], 6);
    assert_eq!(post.json(&["federate"])["published"], 0);
    assert_eq!(iraq.json(&["federate"])["applied"], 6);
    let audit = iraq.json(&["audit", "list", "--limit", "1000"]);
    let checks: Vec<&serde_json::Value> =
        audit.as_array().unwrap().iter().filter(|e| e["operation"] == "check").collect();
    assert_eq!(checks.len(), 5, "{audit:#}");
    for entry in &checks {
        let details: serde_json::Value = serde_json::from_str(entry["details"].as_str().unwrap()).unwrap();
        assert_eq!(details["border_post"]["post"], "BSR", "{details}");
        assert_eq!(details["post"], "BSR-GATE-2");
    }
    // The confirmed hit's notification goes on to France, the alert's owner.
    assert_eq!(iraq.json(&["federate"])["published"], 1);
    assert_eq!(france.json(&["federate"])["applied"], 1);
    let inbox = france.json(&["hits", "inbox", "--agency", "FR-MI"]);
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox:#}");
    assert_eq!(
        (inbox[0]["post"].as_str(), inbox[0]["action_taken"].as_str()),
        (Some("BSR-GATE-2"), Some("held at Basra, gate 2"))
    );
    let status = post.json(&["federate", "--status"]);
    assert_eq!(status["reporting"]["reports_sent"], 6, "{status}");
    assert_eq!(iraq.json(&["federate", "--status"])["posts"][0]["reports_applied"], 6);
    // France learnt nothing of Jan Novak, whom the Czech Republic shares with Iraq only.
    let french = france.json(&["check", "--agency", "FR-MI", "--post", "CDG", "--name", "Jan Novak"]);
    assert!(french["check"]["result"]["persons"].as_array().unwrap().is_empty(), "{french:#}");

    // Iraq deletes its alert and revokes the Iraq-Czech memorandum: after the next rounds the
    // post finds neither its alert nor the Czech one.
    iraq.ok(&["alert", "delete", &wanted_id, "--agency", "IQ-MOI"]);
    let agreements = iraq.json(&["agreement", "list"]);
    let memorandum = agreements.as_array().unwrap().iter().find(|a| a["title"] == "Iraq-Czech MoU").unwrap();
    iraq.ok(&["agreement", "revoke", memorandum["id"].as_str().unwrap()]);
    iraq.ok(&["federate"]);
    assert_eq!(post.json(&["federate"])["applied"], 2);
    assert!(check("Karim Jabbar al-Saadi")["check"]["result"]["persons"].as_array().unwrap().is_empty());
    assert!(check("JAN NOVAK")["check"]["result"]["persons"].as_array().unwrap().is_empty());
    let refusals = post.json(&["audit", "list", "--limit", "1000"]);
    assert_eq!(refusals.as_array().unwrap().iter().filter(|e| e["operation"] == "federation.refuse").count(), 1);

    // A second post, added later, reads what the stream still holds: Iraq's own alerts passed
    // on again from its first change, and what partners sent, relayed before it existed.
    iraq.ok(&["alert", "add", "--agency", "IQ-MOI", "--category", "wanted-for-arrest", "--name", "حسين علي الربيعي"]);
    let zakho = Node::new();
    zakho.ok(&["init"]);
    let zakho_post = format!("[[federation.posts]]\nname = \"ZAKHO\"\nkey = \"{}\"\n", key(&zakho));
    std::fs::write(&config, std::fs::read_to_string(&config).unwrap() + &zakho_post).unwrap();
    configure_post(&zakho, "ZAKHO");
    iraq.ok(&["federate"]);
    let caught_up = zakho.json(&["federate"]);
    assert_eq!(caught_up["rejected"].as_array().map(Vec::len), Some(1), "the forgery again: {caught_up}");
    let at_zakho = |name: &str| {
        let answer = zakho.json(&["check", "--agency", "IQ-MOI", "--post", "ZAKHO-1", "--name", name]);
        answer["check"]["result"]["persons"].as_array().unwrap().clone()
    };
    assert_eq!(at_zakho("Hussein Ali al-Rubaie")[0]["owner"], "IQ-MOI");
    assert_eq!(at_zakho("Walid Mansour")[0]["owner"], "FR-MI");
    assert!(at_zakho("Karim Jabbar al-Saadi").is_empty() && at_zakho("Jan Novak").is_empty());
    // The first post takes only what is new to it.
    let basra = post.json(&["federate"]);
    assert_eq!((basra["applied"].as_u64(), basra["rejected"].as_array().map(Vec::len)), (Some(2), Some(0)), "{basra}");
    for node in [&iraq, &france, &czech, &post, &zakho] {
        assert!(node.ok(&["audit", "verify"]).starts_with("audit log intact"));
    }
}

/// France's alerts reached Iraq's node before it had any border post: a post added afterwards
/// gets them from a snapshot Iraq's node signs, then France's later changes relayed as usual.
#[test]
fn a_post_added_after_partners_data_arrived_gets_it_from_a_snapshot() {
    let nats = Nats::start().expect("start nats-server");
    let (iraq, france) = (summit_node("IQ-MOI"), summit_node("FR-MI"));
    let key = |node: &Node| node.ok(&["federate", "--show-key"]).trim().to_string();
    let (iraq_key, france_key) = (key(&iraq), key(&france));
    configure_many(&france, "FR-MI", &nats.url(), &[("IQ-MOI", &iraq_key)]);
    configure_many(&iraq, "IQ-MOI", &nats.url(), &[("FR-MI", &france_key)]);
    let smuggler = france.json(&[
        "alert",
        "add",
        "--agency",
        "FR-MI",
        "--category",
        "suspected-smuggler",
        "--name",
        "Walid Mansour",
    ]);
    france.ok(&["alert", "add", "--agency", "FR-MI", "--category", "trafficking-risk", "--name", "Amina Diallo"]);
    france.ok(&["federate"]);
    assert_eq!(iraq.json(&["federate"])["applied"], 2);

    let post = Node::new();
    post.ok(&["init"]);
    let config = iraq.dir.path().join("tabadul.toml");
    let posts = format!("[[federation.posts]]\nname = \"BSR\"\nkey = \"{}\"\n", key(&post));
    std::fs::write(&config, std::fs::read_to_string(&config).unwrap() + &posts).unwrap();
    std::fs::write(
        post.dir.path().join("tabadul.toml"),
        format!(
            "[node]\nagency = \"IQ-MOI\"\n[federation]\nnats = \"{}\"\npost = \"BSR\"\nnational_key = \"{iraq_key}\"\n\
             [[federation.partners]]\nagency = \"FR-MI\"\nkey = \"{france_key}\"\nsecret = \"{SECRET}\"\n",
            nats.url()
        ),
    )
    .unwrap();
    iraq.ok(&["federate"]);
    let caught_up = post.json(&["federate"]);
    assert_eq!(caught_up["rejected"].as_array().map(Vec::len), Some(0), "{caught_up}");
    let check = |name: &str| {
        let answer = post.json(&["check", "--agency", "IQ-MOI", "--post", "BSR-1", "--name", name]);
        answer["check"]["result"]["persons"].as_array().unwrap().clone()
    };
    let found = check("WALID MANSOUR");
    assert_eq!((found.len(), found[0]["owner"].as_str(), found[0]["level"].as_str()), (1, Some("FR-MI"), Some("full")));
    let found = check("Amina Diallo");
    assert_eq!((found.len(), found[0]["level"].as_str()), (1, Some("hit")), "{found:?}");

    // France deletes its alert: the deletion comes relayed, verified against France's key, and
    // applies after the snapshot's position.
    france.ok(&["alert", "delete", smuggler["alert"]["id"].as_str().unwrap(), "--agency", "FR-MI"]);
    france.ok(&["federate"]);
    iraq.ok(&["federate"]);
    let round = post.json(&["federate"]);
    assert_eq!((round["applied"].as_u64(), round["rejected"].as_array().map(Vec::len)), (Some(1), Some(0)), "{round}");
    assert!(check("WALID MANSOUR").is_empty());
    // Another post round: nothing more.
    assert_eq!(post.json(&["federate"])["applied"], 0);
    assert!(post.ok(&["audit", "verify"]).starts_with("audit log intact"));
}
