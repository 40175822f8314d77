//! Printing results: JSON for scripts (`--json`), aligned text for people.

use std::fmt::Write as _;

use serde::Serialize;
use tabadul_domain::{Agency, Agreement, Alert, Subject, format_date};
use tabadul_store::StoredAlert;

/// Writes one line of output. When the reader has gone (a closed pipe), the command has
/// nothing more to say: the process ends quietly, as Unix tools do.
pub fn line(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{args}") {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: write the output: {error}");
        }
        std::process::exit(if error.kind() == std::io::ErrorKind::BrokenPipe { 0 } else { 1 });
    }
}

/// Prints `value` as pretty JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints rows as columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell}{}  ", " ".repeat(width - cell.chars().count()));
            }
        }
        say!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

pub fn agencies(agencies: &[Agency]) {
    let rows: Vec<Vec<String>> = agencies
        .iter()
        .map(|a| vec![a.code.to_string(), a.country.to_string(), a.name.clone(), a.name_ar.clone().unwrap_or_default()])
        .collect();
    table(&["CODE", "COUNTRY", "NAME", "NAME (AR)"], &rows);
}

pub fn agreements(agreements: &[Agreement]) {
    let rows: Vec<Vec<String>> = agreements
        .iter()
        .map(|a| {
            let parties: Vec<&str> = a.parties.iter().map(|p| p.as_str()).collect();
            let state = match a.revoked_on {
                Some(day) => format!("revoked {}", format_date(day)),
                None => "in force".into(),
            };
            vec![a.id.to_string(), a.title.clone(), parties.join(","), a.levels.len().to_string(), state]
        })
        .collect();
    table(&["ID", "TITLE", "PARTIES", "CATEGORIES", "STATE"], &rows);
}

pub fn agreement(a: &Agreement) {
    say!("agreement {}", a.id);
    say!("  title:      {}", a.title);
    say!("  legal ref:  {}", a.legal_reference);
    let parties: Vec<&str> = a.parties.iter().map(|p| p.as_str()).collect();
    say!("  parties:    {}", parties.join(", "));
    let until = a.valid_until.map_or("open-ended".to_string(), format_date);
    say!("  valid:      {} to {}", format_date(a.valid_from), until);
    if let Some(day) = a.revoked_on {
        say!("  revoked on: {}", format_date(day));
    }
    for (category, level) in &a.levels {
        say!("  shares:     {category} at level {level}");
    }
}

pub fn alerts(alerts: &[StoredAlert]) {
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|s| {
            let a = &s.alert;
            vec![a.id.to_string(), a.owner.to_string(), a.category.to_string(), a.label(), s.version.to_string()]
        })
        .collect();
    table(&["ID", "OWNER", "CATEGORY", "SUBJECT", "VERSION"], &rows);
}

pub fn alert(stored: &StoredAlert, links: &[tabadul_domain::Link]) {
    let a: &Alert = &stored.alert;
    say!("alert {} (version {}, owner {})", a.id, stored.version, a.owner);
    say!("  category:   {}", a.category);
    say!("  action:     {}", a.effective_action());
    say!("  handling:   {}", a.handling.describe());
    if let Some(day) = a.review_date {
        say!("  review:     {}", format_date(day));
    }
    if let Some(day) = a.expires {
        say!("  expires:    {}", format_date(day));
    }
    match &a.subject {
        Subject::Person(p) => {
            for name in &p.names {
                say!("  name:       {} ({}, {})", name.full, name.kind, name.script.as_str());
            }
            let list = |values: Vec<String>| values.join(", ");
            if !p.birth_dates.is_empty() {
                say!("  born:       {}", list(p.birth_dates.iter().map(|d| d.to_string()).collect()));
            }
            if !p.birth_places.is_empty() {
                say!("  born in:    {}", p.birth_places.join("; "));
            }
            if !p.nationalities.is_empty() {
                say!("  nationality: {}", list(p.nationalities.iter().map(|c| c.to_string()).collect()));
            }
            if let Some(gender) = p.gender {
                say!("  gender:     {gender}");
            }
            for d in &p.documents {
                let state = d.issuing_state.as_ref().map_or(String::new(), |s| format!("{s} "));
                let kind = d.doc_type.map_or(String::new(), |t| format!(" ({t})"));
                say!("  document:   {state}{}{kind}", d.number);
            }
            if !p.markers.is_empty() {
                say!("  WARNING:    {}", list(p.markers.iter().map(|m| m.to_string()).collect()));
            }
        }
        Subject::Document(d) => {
            say!("  document:   {} {} {} ({})", d.doc_type, d.issuing_state, d.number, d.status);
        }
        Subject::Vehicle(v) => {
            let fields =
                [("vin", &v.vin), ("plate", &v.plate), ("make", &v.make), ("model", &v.model), ("colour", &v.colour)];
            for (label, value) in fields {
                if let Some(value) = value {
                    say!("  {label}:{}{value}", " ".repeat(11 - label.len()));
                }
            }
            if let Some(country) = &v.plate_country {
                say!("  plate of:   {country}");
            }
        }
    }
    if !a.remarks.is_empty() {
        say!("  remarks:    {}", a.remarks.replace('\n', "\n              "));
    }
    if let Some(source) = &a.source_id {
        say!("  source:     {source}");
    }
    for link in links {
        let other = if link.from == a.id { link.to } else { link.from };
        say!("  linked:     {} {} (by {})", link.kind, other, link.created_by);
    }
}
