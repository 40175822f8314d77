//! `tabadul migrate`: moves a node's store to another backend with nothing lost.
//!
//! Every record is exported from the source in one consistent snapshot and restored verbatim
//! into an empty destination, in batches (each batch one transaction). The source's audit
//! chain is verified on the way. The destination is then exported again and compared with the
//! source kind by kind: the count and a SHA-256 over the records' JSON must be equal, and its
//! audit chain must verify to the same head. Only then is the move logged, as the next entry
//! of the same chain at the destination.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tabadul_audit::{AuditDraft, ChainVerifier, ops};
use tabadul_store::{Record, RecordKind, Store, StoreError};

use crate::cli::MigrateArgs;
use crate::commands::Session;
use crate::output;
use crate::store::StoreLocation;

/// Records per restore transaction.
const BATCH: usize = 2000;

/// What one side holds: per kind, how many records and the digest of their JSON, in order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    kinds: BTreeMap<RecordKind, (u64, Sha256Hex)>,
    audit_head: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Sha256Hex(String);

/// Reads a store through, verifying its audit chain, and tallies it; gives each record to
/// `sink` as well.
fn tally(store: &dyn Store, mut sink: impl FnMut(Record) -> Result<(), StoreError>) -> Result<Tally> {
    let mut hashers: BTreeMap<RecordKind, (u64, Sha256)> = BTreeMap::new();
    let mut chain = ChainVerifier::default();
    let mut broken = None;
    store.export(&mut |record| {
        let (count, hasher) = hashers.entry(record.kind()).or_insert_with(|| (0, Sha256::new()));
        *count += 1;
        let json = serde_json::to_vec(&record).map_err(|e| StoreError::Backend(format!("encode record: {e}")))?;
        hasher.update((json.len() as u64).to_le_bytes());
        hasher.update(&json);
        if let Record::Audit(entry) = &record
            && broken.is_none()
            && let Err(error) = chain.push(entry)
        {
            broken = Some(error);
        }
        sink(record)
    })?;
    if let Some(error) = broken {
        bail!("{error}: the audit log must verify before it is moved (see `tabadul audit verify`)");
    }
    let kinds = RecordKind::ALL
        .into_iter()
        .map(|kind| {
            let (count, hasher) = hashers.remove(&kind).unwrap_or_else(|| (0, Sha256::new()));
            (kind, (count, Sha256Hex(hex::encode(hasher.finalize()))))
        })
        .collect();
    Ok(Tally { kinds, audit_head: chain.head().to_hex() })
}

#[derive(Serialize)]
struct Report {
    from: String,
    to: String,
    records: BTreeMap<RecordKind, u64>,
    audit_head: String,
    verified: bool,
    seconds: f64,
}

pub fn run(cx: &Session, args: &MigrateArgs) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let from = StoreLocation::parse(&args.from);
    let to = StoreLocation::parse(&args.to);
    from.validate().context("check --from")?;
    to.validate().context("check --to")?;
    if from == to {
        bail!("--from and --to name the same store");
    }
    if !from.exists() {
        bail!("there is no store at {from}");
    }
    let source = from.open()?;
    let destination = to.open()?;
    if !destination.is_empty()? {
        bail!("{to} holds data already: migrate copies into an empty store only");
    }
    let (source, destination) = (source.store(), destination.store());

    // Copy, batch by batch.
    let mut batch = Vec::with_capacity(BATCH);
    let mut copied = 0u64;
    let mut flush = |batch: &mut Vec<Record>| -> Result<(), StoreError> {
        destination.restore(batch)?;
        copied += batch.len() as u64;
        batch.clear();
        if copied.is_multiple_of(100_000) && !cx.json {
            eprintln!("copied {copied} records");
        }
        Ok(())
    };
    let copy = tally(&*source, |record| {
        batch.push(record);
        if batch.len() == BATCH { flush(&mut batch) } else { Ok(()) }
    });
    let copy = copy.and_then(|tally| {
        flush(&mut batch)?;
        Ok(tally)
    });
    let expected = copy.with_context(|| {
        format!("copy {from} to {to} (what was copied stays there: empty {to} before trying again)")
    })?;

    // Verify the copy as it is now stored.
    let found = tally(&*destination, |_| Ok(())).with_context(|| format!("read back {to}"))?;
    for kind in RecordKind::ALL {
        let (want, got) = (&expected.kinds[&kind], &found.kinds[&kind]);
        if want != got {
            bail!(
                "the copy differs in its {}: {} at the source, {} at the destination{}",
                kind.plural(),
                want.0,
                got.0,
                if want.0 == got.0 { " (same count, different content)" } else { "" }
            );
        }
    }
    if expected.audit_head != found.audit_head {
        bail!("the copy's audit chain ends elsewhere than the source's");
    }
    if source.change_heads()? != destination.change_heads()? {
        bail!("the copy's sequence numbers differ from the source's");
    }

    let records: BTreeMap<RecordKind, u64> = expected.kinds.iter().map(|(kind, (n, _))| (*kind, *n)).collect();
    let total: u64 = records.values().sum();
    let draft = AuditDraft::new(time::OffsetDateTime::now_utc(), &cx.user, None, ops::STORE_MIGRATE)
        .targets([from.to_string()])
        .details(serde_json::json!({ "from": from.to_string(), "records": total }).to_string())
        .result_count(total);
    destination.append_audit(draft).context("log the move at the destination")?;

    let report = Report {
        from: from.to_string(),
        to: to.to_string(),
        records,
        audit_head: expected.audit_head,
        verified: true,
        seconds: started.elapsed().as_secs_f64(),
    };
    if cx.json {
        output::json(&report)?;
    } else {
        say!("moved {} to {} in {:.1} s, verified:", report.from, report.to, report.seconds);
        let rows: Vec<Vec<String>> = RecordKind::ALL
            .iter()
            .map(|kind| vec![kind.plural().to_string(), report.records[kind].to_string()])
            .collect();
        output::table(&["RECORDS", "COUNT"], &rows);
        say!("audit chain verified to the same head ({}), the move logged after it", &report.audit_head[..16]);
        say!("point the node at the new store: --db {} (or [store] in tabadul.toml)", report.to);
    }
    Ok(ExitCode::SUCCESS)
}
