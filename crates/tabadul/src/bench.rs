//! `tabadul bench`: the index measured on a population and a set of checks.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use tabadul_domain::{AgencyCode, AlertId, Category, CountryCode, Gender, PartialDate, Visibility};
use tabadul_engine::{PersonQuery, PreparedPerson};
use tabadul_ftm::Schema;
use tabadul_index::{Index, IndexedAlert, IndexedSubject, SearchOptions, Viewer};

use crate::cli::{BenchArgs, BenchCommand};

/// The benchmark's checking agency sees every alert in full.
struct SeeAll;

impl Viewer for SeeAll {
    fn visibility(&self, _: &AgencyCode, _: Category, _: Option<time::Date>) -> Visibility {
        Visibility::Full
    }
}

#[derive(Debug, Deserialize)]
struct QueryLine {
    name: String,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    nationality: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    /// The entity id of the person this check should find, if any.
    #[serde(default)]
    expected: Option<String>,
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(BenchCommand::Generate { count, query_count, queries_out, seed }) = args.command {
        let stdout = std::io::stdout();
        let mut alerts = std::io::BufWriter::new(stdout.lock());
        match queries_out {
            Some(path) => {
                let file = std::fs::File::create(&path).with_context(|| format!("create {}", path.display()))?;
                let mut queries = std::io::BufWriter::new(file);
                crate::generate::write(count, seed, &mut alerts, Some((&mut queries, query_count)))?;
                queries.flush()?;
            }
            None if query_count > 0 => bail!("--query-count needs --queries-out FILE"),
            None => crate::generate::write(count, seed, &mut alerts, None)?,
        }
        alerts.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(alerts_path), Some(queries_path)) = (args.alerts, args.queries) else {
        bail!("give --alerts FILE and --queries FILE (or `tabadul bench generate N`)");
    };
    let rss_start = rss_bytes();
    let (alerts, entity_ids) = read_alerts(&alerts_path)?;
    let queries = read_queries(&queries_path)?;
    let count = alerts.len();
    let started = Instant::now();
    let index = Index::build(alerts);
    let build_seconds = started.elapsed().as_secs_f64();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for part in 0..threads {
            let index = &index;
            scope.spawn(move || index.warm(part, threads));
        }
    });
    let warm_seconds = started.elapsed().as_secs_f64();
    let rss_built = rss_bytes();
    let today = time::OffsetDateTime::now_utc().date();
    let options = SearchOptions { candidates_max: args.candidates_max, ..SearchOptions::new(today) };

    if let Some(pause) = &args.pause_before_rounds {
        std::fs::write(pause, b"warmed\n").with_context(|| format!("writing {}", pause.display()))?;
        while pause.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    // One core, `rounds` times over the same checks (what they find is the same every time):
    // the median round by checks per second.
    let mut rounds: Vec<Round> = (0..args.rounds).map(|_| one_core(&index, &queries, &entity_ids, &options)).collect();
    let per_second = |seconds: f64| (queries.len() as f64 / seconds.max(1e-9)).round();
    let per_round: Vec<f64> = rounds.iter().map(|r| per_second(r.seconds)).collect();
    rounds.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let Round { seconds, latencies_us, expected, strangers, tallies, totals } = rounds.swap_remove(rounds.len() / 2);
    let Tally { hits, found_expected, strangers_hit, other_hits, .. } = tallies[0];
    let percentile =
        |p: f64| latencies_us.get(((latencies_us.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);

    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (index, queries, options) = (&index, &queries, &options);
            scope.spawn(move || {
                for (query, _) in queries.iter().skip(t).step_by(threads) {
                    let _ = index.search_person(&query.prepare(), &SeeAll, options);
                }
            });
        }
    });
    let all_cores_seconds = started.elapsed().as_secs_f64();

    let report = serde_json::json!({
        "alerts": count,
        "build_seconds": (build_seconds * 1000.0).round() / 1000.0,
        "warm_seconds": (warm_seconds * 1000.0).round() / 1000.0,
        "index_bytes": index.memory_bytes(),
        "rss_bytes": rss_built,
        "rss_before_bytes": rss_start,
        "queries": queries.len(),
        "hits": hits,
        "expected": expected,
        "expected_found": found_expected,
        "other_hits": other_hits,
        "strangers": strangers,
        "strangers_hit": strangers_hit,
        "by_threshold": tallies.iter().map(|t| serde_json::json!({
            "threshold": t.threshold,
            "hits": t.hits,
            "expected_found": t.found_expected,
            "strangers_hit": t.strangers_hit,
            "other_hits": t.other_hits,
        })).collect::<Vec<_>>(),
        "p50_us": percentile(0.5).round(),
        "p99_us": percentile(0.99).round(),
        "checks_per_second": per_second(seconds),
        "checks_per_second_all_cores": per_second(all_cores_seconds),
        "checks_per_second_rounds": per_round,
        "threads": threads,
        "mean_postings_read": totals.postings_read / queries.len().max(1),
        "mean_candidates": totals.candidates / queries.len().max(1),
        "mean_scored": totals.scored / queries.len().max(1),
    });
    say!("{report}");
    // Freeing a million alerts one by one takes seconds the process is about to give back.
    std::mem::forget(index);
    Ok(ExitCode::SUCCESS)
}

/// What one pass of the checks on one core measured and found.
struct Round {
    seconds: f64,
    /// Each check's latency, sorted.
    latencies_us: Vec<f64>,
    expected: usize,
    /// Checks of somebody who is not in the population.
    strangers: usize,
    /// What was found at the search's threshold, then at higher ones.
    tallies: Vec<Tally>,
    totals: tabadul_index::SearchStats,
}

/// What the checks found with hits from one threshold on.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    threshold: f32,
    hits: usize,
    /// Checks that found the person they were made from.
    found_expected: usize,
    /// Checks of a stranger with a hit.
    strangers_hit: usize,
    /// Hits that are not the person a check was made from: on this population, false hits
    /// (a few are relatives or namesakes born the same year).
    other_hits: usize,
}

/// Thresholds above the search's that the benchmark also counts hits at.
const HIGHER_THRESHOLDS: [f32; 4] = [0.6, 0.7, 0.8, 0.9];

fn one_core(
    index: &Index,
    queries: &[(PersonQuery, Option<String>)],
    entity_ids: &std::collections::HashMap<String, AlertId>,
    options: &SearchOptions,
) -> Round {
    let mut round = Round {
        seconds: 0.0,
        latencies_us: Vec::with_capacity(queries.len()),
        expected: 0,
        strangers: 0,
        tallies: std::iter::once(options.threshold)
            .chain(HIGHER_THRESHOLDS.into_iter().filter(|t| *t > options.threshold))
            .map(|threshold| Tally { threshold, ..Tally::default() })
            .collect(),
        totals: tabadul_index::SearchStats::default(),
    };
    let started = Instant::now();
    for (query, wanted) in queries {
        let begun = Instant::now();
        let prepared: PreparedPerson = query.prepare();
        let (found, stats) = index.search_person(&prepared, &SeeAll, options);
        // The check's latency, without the counting below.
        round.latencies_us.push(begun.elapsed().as_secs_f64() * 1e6);
        let wanted = wanted.as_ref().and_then(|w| entity_ids.get(w));
        match wanted {
            Some(_) => round.expected += 1,
            None => round.strangers += 1,
        }
        for tally in &mut round.tallies {
            let above = || found.iter().filter(|hit| hit.result.score >= tally.threshold);
            tally.hits += above().count();
            match wanted {
                Some(wanted) => tally.found_expected += usize::from(above().any(|hit| hit.id == *wanted)),
                None => tally.strangers_hit += usize::from(above().next().is_some()),
            }
            tally.other_hits += above().filter(|hit| Some(&hit.id) != wanted).count();
        }
        round.totals.postings_read += stats.postings_read;
        round.totals.candidates += stats.candidates;
        round.totals.scored += stats.scored;
    }
    round.seconds = started.elapsed().as_secs_f64();
    round.latencies_us.sort_by(f64::total_cmp);
    round
}

/// The resident memory of this process, from /proc (0 where there is none).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    tabadul_node::decoded_reader(file).with_context(|| format!("read {}", path.display()))
}

/// Alert ids are numbered from the entities' lines; the map gives each entity's alert id.
fn read_alerts(path: &Path) -> Result<(Vec<IndexedAlert>, std::collections::HashMap<String, AlertId>)> {
    let owner = AgencyCode::new("IQ-MOI")?;
    let mut alerts = Vec::new();
    let mut ids = std::collections::HashMap::new();
    for (number, line) in open(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("read {}", path.display()))?;
        let Ok(entity) = tabadul_ftm::parse_line(&line) else { continue };
        if entity.schema != Schema::Person {
            continue;
        }
        let Ok(converted) = tabadul_ftm::person_from_entity(&entity, &[]) else { continue };
        ids.insert(entity.id.clone(), AlertId(number as u128 + 1));
        alerts.push(IndexedAlert {
            id: AlertId(number as u128 + 1),
            owner: owner.clone(),
            category: Category::WantedForArrest,
            expires: None,
            subject: IndexedSubject::Person(PersonQuery::from_person(&converted.person)),
        });
    }
    Ok((alerts, ids))
}

fn read_queries(path: &Path) -> Result<Vec<(PersonQuery, Option<String>)>> {
    let mut queries = Vec::new();
    for (number, line) in open(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let query: QueryLine =
            serde_json::from_str(&line).with_context(|| format!("line {} of {}", number + 1, path.display()))?;
        let person = PersonQuery {
            names: vec![query.name],
            birth_dates: query.birth_date.iter().filter_map(|d| PartialDate::parse(d).ok()).collect(),
            nationalities: query.nationality.iter().filter_map(|n| CountryCode::new(n).ok()).collect(),
            gender: query.gender.and_then(|g| g.parse::<Gender>().ok()),
            documents: Vec::new(),
        };
        queries.push((person, query.expected));
    }
    Ok(queries)
}
