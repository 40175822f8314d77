//! Importing FollowTheMoney entities (one JSON object a line, optionally gzip-compressed) as
//! person alerts of one agency and category.
//!
//! Two passes over the file: the first collects the `Passport` and `Identification` entities
//! by holder (they may come before or after their holder), the second turns each `Person` into
//! an alert and writes them in batches. A batch is acknowledged when its transaction commits;
//! the progress callback hears of each acknowledged batch. An entity already imported (same
//! agency, same entity id) is updated if it changed and left alone if not, so importing the
//! same file twice changes nothing. A malformed line is reported with its number and skipped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Serialize;
use tabadul_audit::ops;
use tabadul_domain::{Alert, AlertId, Category, HandlingCode, Subject, SubjectKind};
use tabadul_ftm::{Entity, LINE_BYTES_MAX, Schema, parse_line, person_from_entity};
use tabadul_store::AlertWrite;

use crate::{Actor, Node, NodeError, Result, details, new_id};

/// Most line errors and warnings kept for the summary (all are counted).
pub const REPORTED_LINES_MAX: usize = 1000;
/// Alerts written per transaction by default.
pub const IMPORT_BATCH_DEFAULT: usize = 1000;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub category: Category,
    pub handling: HandlingCode,
    pub batch_size: usize,
}

/// Where an import is, for a progress bar or a log.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ImportProgress {
    /// 1 while collecting documents, 2 while writing alerts.
    pub pass: u8,
    pub bytes_read: u64,
    pub bytes_total: u64,
    /// Alerts created or updated and acknowledged (committed) so far.
    pub committed: u64,
    /// Every person up to this line is acknowledged (written, or found unchanged).
    pub committed_through_line: u64,
}

/// A line that was skipped or only partly taken, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub lines: u64,
    pub persons: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Document entities attached to a person of the file.
    pub documents: u64,
    /// Entities of other schemas, by schema, not imported.
    pub skipped_schemas: BTreeMap<String, u64>,
    pub error_count: u64,
    pub errors: Vec<LineError>,
    pub warning_count: u64,
    pub warnings: Vec<LineError>,
}

impl ImportSummary {
    fn error(&mut self, line: u64, message: String) {
        self.error_count += 1;
        if self.errors.len() < REPORTED_LINES_MAX {
            self.errors.push(LineError { line, message });
        }
    }

    fn warning(&mut self, line: u64, message: String) {
        self.warning_count += 1;
        if self.warnings.len() < REPORTED_LINES_MAX {
            self.warnings.push(LineError { line, message });
        }
    }
}

/// Counts the bytes read from the file (before decompression), for progress.
struct Counting<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// The lines of a file, plain or gzip-compressed, each at most [`LINE_BYTES_MAX`] bytes.
struct Lines {
    reader: Box<dyn BufRead>,
    count: std::rc::Rc<std::cell::Cell<u64>>,
    total: u64,
    number: u64,
    buffer: Vec<u8>,
}

enum Line {
    Text(String),
    Bad(String),
}

/// A buffered reader of `source`'s text, decompressed if it starts like gzip (`1f 8b`).
pub fn decoded_reader<R: Read + 'static>(source: R) -> std::io::Result<Box<dyn BufRead>> {
    let mut buffered = BufReader::with_capacity(1 << 16, source);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip { Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(buffered))) } else { Box::new(buffered) })
}

impl Lines {
    fn open(path: &Path) -> Result<Lines> {
        let io = |context: &str| {
            let context = format!("{context} {}", path.display());
            move |source| NodeError::Io { context, source }
        };
        let file = File::open(path).map_err(io("open"))?;
        let total = file.metadata().map_err(io("read the size of"))?.len();
        let count = std::rc::Rc::new(std::cell::Cell::new(0));
        let counted = Counting { inner: file, count: count.clone() };
        let reader = decoded_reader(counted).map_err(io("read"))?;
        Ok(Lines { reader, count, total, number: 0, buffer: Vec::new() })
    }

    /// The next line, or none at the end of the file.
    fn next(&mut self) -> Result<Option<Line>> {
        self.buffer.clear();
        let io = |source| NodeError::Io { context: "read the import file".into(), source };
        let limit = LINE_BYTES_MAX as u64 + 1;
        let read = self.reader.by_ref().take(limit).read_until(b'\n', &mut self.buffer).map_err(io)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buffer.len() > LINE_BYTES_MAX && self.buffer.last() != Some(&b'\n') {
            // Skip the rest of the over-long line.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let n = self.reader.by_ref().take(1 << 20).read_until(b'\n', &mut rest).map_err(io)?;
                if n == 0 || rest.last() == Some(&b'\n') {
                    break;
                }
            }
            return Ok(Some(Line::Bad(format!("the line is longer than {LINE_BYTES_MAX} bytes"))));
        }
        match std::str::from_utf8(&self.buffer) {
            Ok(text) => Ok(Some(Line::Text(text.trim().to_string()))),
            Err(e) => Ok(Some(Line::Bad(format!("not UTF-8 text ({e})")))),
        }
    }

    fn bytes_read(&self) -> u64 {
        self.count.get()
    }
}

impl Node {
    /// Imports the file at `path` as alerts of the actor's agency; see the module documentation.
    pub fn import_ftm(
        &self,
        actor: &Actor,
        path: &Path,
        options: &ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportSummary> {
        actor.require(&[tabadul_domain::Role::Analyst])?;
        self.alerts_writable()?;
        let owner = actor.agency()?.clone();
        self.known_agency(&owner)?;
        if options.category.subject_kind() != SubjectKind::Person {
            return Err(NodeError::Invalid(format!(
                "category {} is not about persons; FollowTheMoney import makes person alerts",
                options.category
            )));
        }
        let batch_size = options.batch_size.clamp(1, tabadul_store::WRITES_PER_BATCH_MAX);
        let documents = self.collect_documents(path, progress)?;

        let mut summary = ImportSummary::default();
        let mut lines = Lines::open(path)?;
        let mut seen = HashSet::new();
        let mut batch = Vec::with_capacity(batch_size);
        let mut report = ImportProgress {
            pass: 2,
            bytes_read: 0,
            bytes_total: lines.total,
            committed: 0,
            committed_through_line: 0,
        };
        while let Some(line) = lines.next()? {
            let number = lines.number;
            let text = match line {
                Line::Bad(message) => {
                    summary.error(number, message);
                    continue;
                }
                Line::Text(text) if text.is_empty() => continue,
                Line::Text(text) => text,
            };
            if let Some(alert) =
                self.import_line(&owner, options, &text, number, &documents, &mut seen, &mut summary)?
            {
                batch.push(alert);
            }
            if batch.len() >= batch_size {
                self.commit_import(actor, path, &mut batch, number, &mut report, &mut summary)?;
                report.bytes_read = lines.bytes_read();
                progress(report);
            }
        }
        summary.lines = lines.number;
        self.commit_import(actor, path, &mut batch, lines.number, &mut report, &mut summary)?;
        report.bytes_read = lines.bytes_read();
        progress(report);
        let audit = self
            .audit(actor, ops::ALERT_IMPORT)
            .details(details(serde_json::json!({
                "file": path.display().to_string(),
                "category": options.category.as_str(),
                "lines": summary.lines,
                "persons": summary.persons,
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "errors": summary.error_count,
            })))
            .result_count(summary.created + summary.updated);
        self.store.append_audit(audit)?;
        Ok(summary)
    }

    fn collect_documents(
        &self,
        path: &Path,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<HashMap<String, Vec<Entity>>> {
        let mut documents: HashMap<String, Vec<Entity>> = HashMap::new();
        let mut lines = Lines::open(path)?;
        while let Some(line) = lines.next()? {
            let Line::Text(text) = line else { continue };
            if !(text.contains("\"Passport\"") || text.contains("\"Identification\"")) {
                continue;
            }
            if let Ok(entity) = parse_line(&text)
                && matches!(entity.schema, Schema::Passport | Schema::Identification)
            {
                for holder in entity.holders() {
                    documents.entry(holder.clone()).or_default().push(entity.clone());
                }
            }
            if lines.number % 10_000 == 0 {
                progress(ImportProgress {
                    pass: 1,
                    bytes_read: lines.bytes_read(),
                    bytes_total: lines.total,
                    committed: 0,
                    committed_through_line: 0,
                });
            }
        }
        Ok(documents)
    }

    /// The alert one line makes, if any; what is wrong with it goes into the summary.
    #[allow(clippy::too_many_arguments)]
    fn import_line(
        &self,
        owner: &tabadul_domain::AgencyCode,
        options: &ImportOptions,
        text: &str,
        number: u64,
        documents: &HashMap<String, Vec<Entity>>,
        seen: &mut HashSet<String>,
        summary: &mut ImportSummary,
    ) -> Result<Option<Alert>> {
        let entity = match parse_line(text) {
            Ok(entity) => entity,
            Err(e) => {
                summary.error(number, e.to_string());
                return Ok(None);
            }
        };
        match &entity.schema {
            Schema::Person => {}
            Schema::Passport | Schema::Identification => {
                if entity.holders().iter().any(|h| documents.contains_key(h)) {
                    summary.documents += 1;
                }
                return Ok(None);
            }
            Schema::Other(schema) => {
                *summary.skipped_schemas.entry(schema.clone()).or_default() += 1;
                return Ok(None);
            }
        }
        if !seen.insert(entity.id.clone()) {
            summary.error(number, format!("person {} appears again: this line is skipped", entity.id));
            return Ok(None);
        }
        let held = documents.get(&entity.id).map_or(&[][..], Vec::as_slice);
        let converted = match person_from_entity(&entity, held) {
            Ok(converted) => converted,
            Err(e) => {
                summary.error(number, e.to_string());
                return Ok(None);
            }
        };
        summary.persons += 1;
        for warning in converted.warnings {
            summary.warning(number, format!("{}: {warning}", entity.id));
        }
        let alert = Alert {
            id: AlertId(new_id()),
            owner: owner.clone(),
            category: options.category,
            subject: Subject::Person(converted.person),
            action: None,
            handling: options.handling.clone(),
            review_date: None,
            expires: None,
            remarks: converted.remarks,
            source_id: Some(entity.id.clone()),
            refer_to: None,
        };
        if let Err(e) = alert.validate() {
            summary.persons -= 1;
            summary.error(number, format!("person {}: {e}", entity.id));
            return Ok(None);
        }
        Ok(Some(alert))
    }

    /// Writes a batch of imported persons: each one imported before (same owner, same
    /// entity id) keeps its id and what the agency added to it (action, review date, expiry)
    /// and is updated only if it changed; the others are created. The batch's earlier imports
    /// are looked up at once.
    fn commit_import(
        &self,
        actor: &Actor,
        path: &Path,
        batch: &mut Vec<Alert>,
        through_line: u64,
        report: &mut ImportProgress,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let Some(owner) = batch.first().map(|alert| alert.owner.clone()) else {
            report.committed_through_line = through_line;
            return Ok(());
        };
        let sources: Vec<&str> = batch.iter().filter_map(|alert| alert.source_id.as_deref()).collect();
        let existing: HashMap<String, tabadul_store::StoredAlert> = self
            .store
            .alerts_by_source(&owner, &sources)?
            .into_iter()
            .filter_map(|stored| Some((stored.alert.source_id.clone()?, stored)))
            .collect();
        let mut writes = Vec::with_capacity(batch.len());
        for mut alert in batch.drain(..) {
            let Some(stored) = alert.source_id.as_ref().and_then(|source| existing.get(source)) else {
                summary.created += 1;
                writes.push(AlertWrite::Create(alert));
                continue;
            };
            alert.id = stored.alert.id;
            alert.action = stored.alert.action;
            alert.review_date = stored.alert.review_date;
            alert.expires = stored.alert.expires;
            if stored.alert == alert {
                summary.unchanged += 1;
            } else {
                summary.updated += 1;
                writes.push(AlertWrite::Update { alert, expected_version: stored.version });
            }
        }
        if !writes.is_empty() {
            let audit = self
                .audit(actor, ops::ALERT_IMPORT)
                .targets(writes.iter().map(AlertWrite::id))
                .details(details(serde_json::json!({
                    "file": path.display().to_string(),
                    "through_line": through_line,
                })))
                .result_count(writes.len() as u64);
            self.write(&writes, audit)?;
            report.committed += writes.len() as u64;
        }
        report.committed_through_line = through_line;
        Ok(())
    }
}
