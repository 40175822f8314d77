//! `tabadul eval pairs`: the matcher measured on labelled pairs.

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Deserialize;
use tabadul_domain::{CountryCode, Gender, PartialDate};
use tabadul_engine::{HIT_THRESHOLD_DEFAULT, PersonQuery, eval::metrics, score};

use crate::cli::EvalCommand;

#[derive(Debug, Deserialize)]
struct PairLine {
    #[serde(default)]
    id: Option<String>,
    label: u8,
    #[serde(default)]
    alias_relation: Option<String>,
    query: PersonLine,
    candidate: PersonLine,
}

#[derive(Debug, Deserialize)]
struct PersonLine {
    name: String,
    #[serde(default)]
    birth_date: Vec<String>,
    #[serde(default)]
    nationality: Vec<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    id_number: Vec<String>,
}

impl PersonLine {
    /// The person as the engine takes it; values it cannot read are left out.
    fn query(&self) -> PersonQuery {
        PersonQuery {
            names: vec![self.name.clone()],
            birth_dates: self.birth_date.iter().filter_map(|d| PartialDate::parse(d).ok()).collect(),
            nationalities: self.nationality.iter().filter_map(|n| CountryCode::new(n).ok()).collect(),
            gender: self.gender.as_deref().and_then(|g| g.parse::<Gender>().ok()),
            documents: self.id_number.clone(),
        }
    }
}

pub fn run(command: EvalCommand) -> Result<ExitCode> {
    let EvalCommand::Pairs { file, all, features, errors } = command;
    let reader = BufReader::new(std::fs::File::open(&file).with_context(|| format!("open {}", file.display()))?);
    let mut pairs = Vec::new();
    let mut left_out = 0;
    for (number, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("read {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let pair: PairLine = match serde_json::from_str(&line) {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("line {}: skipped: {e}", number + 1);
                continue;
            }
        };
        if !all && pair.label == 1 && pair.alias_relation.as_deref() == Some("different_name") {
            left_out += 1;
            continue;
        }
        pairs.push(pair);
    }
    let started = Instant::now();
    let results: Vec<_> =
        pairs.iter().map(|pair| score(&pair.query.query().prepare(), &pair.candidate.query().prepare())).collect();
    let seconds = started.elapsed().as_secs_f64();
    let scored: Vec<(f32, bool)> = results.iter().zip(&pairs).map(|(r, p)| (r.score, p.label == 1)).collect();
    let measured = metrics(&scored, HIT_THRESHOLD_DEFAULT);

    if let Some(path) = features {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?,
        );
        for (result, pair) in results.iter().zip(&pairs) {
            writeln!(out, "{}", serde_json::json!({ "label": pair.label, "features": result.features.to_vec() }))?;
        }
        out.flush()?;
    }
    if let Some(path) = errors {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?,
        );
        for (result, pair) in results.iter().zip(&pairs) {
            if (result.score >= HIT_THRESHOLD_DEFAULT) != (pair.label == 1) {
                let reasons: Vec<&str> = result.reasons.iter().map(|r| r.text.as_str()).collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "id": pair.id, "label": pair.label, "score": result.score, "name_score": result.name_score,
                        "query": pair.query.name, "candidate": pair.candidate.name, "reasons": reasons,
                    })
                )?;
            }
        }
        out.flush()?;
    }
    let mut report = serde_json::to_value(measured)?;
    report["pairs_per_second"] = serde_json::json!((pairs.len() as f64 / seconds.max(1e-9)).round());
    report["left_out"] = serde_json::json!(left_out);
    say!("{report}");
    Ok(ExitCode::SUCCESS)
}
