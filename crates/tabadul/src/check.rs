//! `tabadul check` and `tabadul receipt verify`: border checks from the command line, and
//! the node's signing key they need.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tabadul_domain::{CountryCode, Gender, HitId, NotificationId, PartialDate};
use tabadul_node::{CheckOutcome, CheckRequest, Hit, NodeKey, Notification, OutcomeKind, verify_receipt};

use crate::cli::{CheckArgs, HitsCommand, ReceiptCommand, ScreenArgs};
use crate::commands::Session;
use crate::output;

/// The largest file `receipt verify` reads.
const RECEIPT_FILE_BYTES_MAX: u64 = 8 << 20;

/// The node's signing key from its file, created (readable by its owner only) if missing.
pub fn node_key(path: &Path) -> Result<NodeKey> {
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("read the node key {}", path.display()))?;
        return NodeKey::from_secret_hex(&text).with_context(|| format!("read the node key {}", path.display()));
    }
    let key = NodeKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("create the node key {}", path.display()))?;
    writeln!(file, "{}", key.secret_hex()).with_context(|| format!("write the node key {}", path.display()))?;
    file.sync_all().with_context(|| format!("write the node key {}", path.display()))?;
    Ok(key)
}

pub fn check(cx: &Session, args: &CheckArgs) -> Result<ExitCode> {
    let request = CheckRequest {
        post: args.post.trim().to_string(),
        mrz: args.mrz.clone(),
        names: args.names.clone(),
        birth_dates: args.birth_dates.iter().map(|d| PartialDate::parse(d)).collect::<Result<_, _>>()?,
        nationalities: args.nationalities.iter().map(|n| CountryCode::from_alpha2_or_3(n)).collect::<Result<_, _>>()?,
        gender: args.gender.as_deref().map(str::parse::<Gender>).transpose()?,
        document_number: args.document.clone(),
        document_state: args.document_state.clone(),
        vin: args.vin.clone(),
        plate: args.plate.clone(),
    };
    let node = cx.checking_node()?;
    let key = node_key(&cx.config.key_path)?;
    let outcome = node.check(&cx.actor(&args.agency)?, &key, &request).context("check")?;
    if cx.json {
        output::json(&outcome)?;
    } else {
        print_check(&outcome);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_check(outcome: &CheckOutcome) {
    let check = &outcome.check;
    let traveller = &check.traveller;
    say!("check {} at {} by {} for {}, at {}", check.id, check.at, check.user, check.agency, check.post);
    let mut about = traveller.names.join(" / ");
    if !traveller.birth_dates.is_empty() {
        about.push_str(&format!(", born {}", traveller.birth_dates.join(" or ")));
    }
    if !traveller.nationalities.is_empty() {
        about.push_str(&format!(", {}", traveller.nationalities.join(", ")));
    }
    if let Some(document) = &traveller.document {
        about.push_str(&format!(", document {}", document.number));
        if let Some(state) = &document.issuing_state {
            about.push_str(&format!(" ({state})"));
        }
    }
    say!("traveller: {}", about.trim_start_matches(", "));
    if let Some(mrz) = &traveller.mrz {
        if mrz.checks_valid && mrz.diagnostics.is_empty() {
            say!("MRZ {}: every check digit valid", mrz.format);
        } else {
            say!("MRZ {}: DAMAGED OR ALTERED: {}", mrz.format, mrz.diagnostics.join("; "));
        }
        for correction in &mrz.corrections {
            say!("  corrected: {correction}");
        }
        if mrz.expired {
            say!("  the document expired on {}", mrz.expiry_date.as_deref().unwrap_or("?"));
        }
    }
    let result = &check.result;
    section("document", &result.documents);
    section("persons", &result.persons);
    section("vehicles", &result.vehicles);
    let receipt = &outcome.receipt;
    say!(
        "receipt {} (audit entry {}), signed by node key {}…",
        receipt.id,
        receipt.audit_seq,
        &receipt.node_key[..16.min(receipt.node_key.len())]
    );
}

fn section(title: &str, hits: &[Hit]) {
    if hits.is_empty() {
        say!("{title}: no hit");
        return;
    }
    say!("{title}: {} hit{}", hits.len(), if hits.len() == 1 { "" } else { "s" });
    for (i, hit) in hits.iter().enumerate() {
        let score = hit.score.map(|s| format!("{s:.3} ")).unwrap_or_default();
        let what = match (hit.category, hit.status) {
            (_, Some(status)) => format!(" [{status}]"),
            (Some(category), None) => format!(" [{category}]"),
            _ => " [shared at hit level]".into(),
        };
        say!(
            "  {}. {score}{}{what}  alert {} of {}",
            i + 1,
            hit.action.as_str().to_uppercase(),
            hit.alert_id,
            hit.owner
        );
        if !hit.names.is_empty() {
            say!("     names: {}", hit.names.join(" / "));
        }
        if !hit.markers.is_empty() {
            let markers: Vec<&str> = hit.markers.iter().map(|m| m.as_str()).collect();
            say!("     WARNING: {}", markers.join(", "));
        }
        for reason in &hit.explanation {
            say!("     - {reason}");
        }
        say!("     do: {}", hit.instruction);
        if let Some(handling) = &hit.handling {
            say!("     handling: {handling}");
        }
    }
}

pub fn receipt(cx: &Session, command: ReceiptCommand) -> Result<ExitCode> {
    let ReceiptCommand::Verify { file, public_key } = command;
    let size = std::fs::metadata(&file).with_context(|| format!("read {}", file.display()))?.len();
    if size > RECEIPT_FILE_BYTES_MAX {
        bail!("{} is {size} bytes; a receipt file is at most {RECEIPT_FILE_BYTES_MAX}", file.display());
    }
    let text = std::fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
    let document: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let trusted = match public_key {
        Some(key) => key,
        None => {
            if !cx.config.key_path.exists() {
                bail!(
                    "no node key at {} to verify against: give the signing node's --public-key",
                    cx.config.key_path.display()
                );
            }
            node_key(&cx.config.key_path)?.public_hex()
        }
    };
    let verification = verify_receipt(&document, &trusted)?;
    let valid = verification.is_valid();
    if cx.json {
        output::json(
            &serde_json::json!({ "valid": valid, "problems": verification.problems(), "verification": verification }),
        )?;
    } else if valid {
        let receipt = &verification.receipt;
        let covered = match (verification.query_matches, verification.result_matches) {
            (Some(true), Some(true)) => ", and the traveller data and result given with it are the ones it covers",
            _ => " (only the receipt was given: its query and result hashes were not compared)",
        };
        say!(
            "receipt {} holds: check by {} for {} at {} on {}, audit entry {}{covered}",
            receipt.id,
            receipt.user,
            receipt.agency,
            receipt.post,
            receipt.at,
            receipt.audit_seq
        );
    } else {
        say!("receipt {} does NOT hold:", verification.receipt.id);
        for problem in verification.problems() {
            say!("  - {problem}");
        }
    }
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A time in microseconds since 1970 as RFC 3339.
fn when(unix_us: i64) -> String {
    tabadul_domain::format_unix_us(unix_us).unwrap_or_else(|| unix_us.to_string())
}

fn print_notification(note: &Notification) {
    let state = match &note.acknowledged {
        Some(ack) => format!("acknowledged by {} at {}", ack.user, when(ack.at_unix_us)),
        None => "NEW".into(),
    };
    say!("notification {} [{state}]", note.id);
    say!("  alert {}: hit confirmed by {} of {} at {}", note.alert_id, note.user, note.agency, note.post);
    say!("  checked {}, confirmed {}", when(note.checked_at_unix_us), when(note.confirmed_at_unix_us));
    let names: Vec<&str> =
        note.traveller["names"].as_array().into_iter().flatten().filter_map(|n| n.as_str()).collect();
    let born: Vec<&str> =
        note.traveller["birth_dates"].as_array().into_iter().flatten().filter_map(|n| n.as_str()).collect();
    say!(
        "  traveller: {} {}",
        names.join(" / "),
        if born.is_empty() { String::new() } else { format!("born {}", born.join(", ")) }
    );
    if let Some(number) = note.traveller["document"]["number"].as_str() {
        say!("  document: {number} {}", note.traveller["document"]["issuing_state"].as_str().unwrap_or_default());
    }
    say!("  action taken: {}", note.action_taken);
    if !note.remarks.is_empty() {
        say!("  remarks: {}", note.remarks);
    }
}

pub fn hits(cx: &Session, command: HitsCommand) -> Result<ExitCode> {
    let node = cx.node()?;
    match command {
        HitsCommand::Inbox { agency, all, limit } => {
            let inbox = node.hit_inbox(&cx.actor(&agency)?, all, limit).context("read the hit inbox")?;
            if cx.json {
                output::json(&inbox)?;
            } else if inbox.is_empty() {
                say!("no {}notification", if all { "" } else { "new " });
            } else {
                inbox.iter().for_each(print_notification);
            }
        }
        HitsCommand::Confirm { hit, agency, action_taken, remarks } => {
            let id = HitId::parse(&hit)?;
            let record = node
                .record_hit_outcome(&cx.actor(&agency)?, id, OutcomeKind::Confirmed, &action_taken, &remarks)
                .context("confirm the hit")?;
            if cx.json {
                output::json(&record)?;
            } else {
                say!("hit {id} confirmed; {} is notified", record.owner);
            }
        }
        HitsCommand::Reject { hit, agency, remarks } => {
            let id = HitId::parse(&hit)?;
            let record = node
                .record_hit_outcome(&cx.actor(&agency)?, id, OutcomeKind::FalsePositive, "", &remarks)
                .context("reject the hit")?;
            if cx.json {
                output::json(&record)?;
            } else {
                say!("hit {id} recorded as a false positive of alert {}", record.alert_id);
            }
        }
        HitsCommand::Ack { notification, agency } => {
            let id = NotificationId::parse(&notification)?;
            let note = node.acknowledge_notification(&cx.actor(&agency)?, id).context("acknowledge")?;
            if cx.json {
                output::json(&note)?;
            } else {
                say!("notification {id} acknowledged");
            }
        }
        HitsCommand::FalsePositives { agency } => {
            let counts = node.false_positives(&cx.actor(&agency)?).context("count false positives")?;
            if cx.json {
                output::json(&counts)?;
            } else if counts.is_empty() {
                say!("no hit on your alerts was found a false positive");
            } else {
                let rows: Vec<Vec<String>> =
                    counts.iter().map(|c| vec![c.alert_id.to_string(), c.false_positives.to_string()]).collect();
                output::table(&["ALERT", "FALSE POSITIVES"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The largest manifest file read.
const MANIFEST_FILE_BYTES_MAX: u64 = 16 << 20;

/// A CSV field, quoted when it needs to be.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

pub fn screen(cx: &Session, args: &ScreenArgs) -> Result<ExitCode> {
    let size = std::fs::metadata(&args.file).with_context(|| format!("read {}", args.file.display()))?.len();
    if size > MANIFEST_FILE_BYTES_MAX {
        bail!("{} is {size} bytes; a manifest is at most {MANIFEST_FILE_BYTES_MAX}", args.file.display());
    }
    let data = std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let node = cx.checking_node()?;
    let reports = node.screen_manifest(&cx.actor(&args.agency)?, &data).context("screen the manifest")?;
    if args.cusres {
        // ISO 8859-1 bytes, as the answer declares: written as they are.
        use std::io::Write;
        let answer = tabadul_node::boarding_answer(&reports, node.now());
        std::io::stdout().write_all(&answer).context("write the answer")?;
        return Ok(ExitCode::SUCCESS);
    }
    if cx.json {
        output::json(&reports)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.csv {
        say!("flight,traveller,birth_date,nationality,document,action,alert,owner,level,score");
        for report in &reports {
            let flight = report.legs.last().map_or(String::new(), |l| l.flight.clone());
            for traveller in &report.hits {
                for hit in traveller.documents.iter().chain(&traveller.persons) {
                    let fields = [
                        flight.clone(),
                        traveller.name.clone(),
                        traveller.birth_date.clone().unwrap_or_default(),
                        traveller.nationality.clone(),
                        traveller.document.clone().unwrap_or_default(),
                        hit.action.as_str().to_string(),
                        hit.alert_id.to_string(),
                        hit.owner.to_string(),
                        hit.level.to_string(),
                        hit.score.map(|s| format!("{s:.3}")).unwrap_or_default(),
                    ];
                    say!("{}", fields.iter().map(|f| csv(f)).collect::<Vec<_>>().join(","));
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    for report in &reports {
        let legs: Vec<String> = report
            .legs
            .iter()
            .map(|l| {
                let stop =
                    |s: &Option<tabadul_edifact::Stop>| s.as_ref().map_or("?".to_string(), |s| s.airport.clone());
                format!("{} {}-{}", l.flight, stop(&l.departure), stop(&l.arrival))
            })
            .collect();
        say!(
            "manifest {} ({}): {} travellers, {} screened, {} with hits",
            report.reference,
            legs.join(", "),
            report.travellers,
            report.screened,
            report.hits.len()
        );
        for traveller in &report.hits {
            say!(
                "  {} {} ({}, born {}, {}): {}",
                traveller.action.as_str().to_uppercase(),
                traveller.name,
                traveller.role,
                traveller.birth_date.as_deref().unwrap_or("?"),
                traveller.nationality,
                traveller.check_id
            );
            section("    document", &traveller.documents);
            section("    persons", &traveller.persons);
        }
        for line in report.not_screened.iter().chain(&report.problems) {
            say!("  note: {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
