//! An agency's dashboard: its checks and what they found, day by day, by border post, by
//! category and action, and the outcomes its officers recorded; read from the audit log, so
//! it shows exactly what happened and nothing an agreement does not let the agency see (a hit
//! at `hit` level is counted, its category stays undisclosed).

use std::collections::BTreeMap;

use serde::Serialize;
use tabadul_audit::{AuditEntry, ops};
use tabadul_domain::{AgencyCode, Role};

use crate::{Actor, Node, Result, details};

/// The longest window a dashboard covers, in days.
pub const DASHBOARD_DAYS_MAX: u32 = 366;
/// Audit entries read a page at a time.
const PAGE: usize = 5000;

/// Counts for one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub date: String,
    pub checks: u64,
    pub hits: u64,
}

/// Counts under one key (a post, a category, an action).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub key: String,
    pub checks: u64,
    pub hits: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub agency: AgencyCode,
    /// The first and last day covered (UTC).
    pub from: String,
    pub to: String,
    pub checks: u64,
    /// Checks that found at least one alert.
    pub checks_with_hits: u64,
    pub hits: u64,
    /// Every day of the window, oldest first.
    pub days: Vec<DayCount>,
    /// By border crossing point, most checks first.
    pub posts: Vec<Tally>,
    /// Hits by the alert's category; `undisclosed` for alerts shared at `hit` level.
    pub categories: Vec<Tally>,
    /// Hits by the action the alert asks for.
    pub actions: Vec<Tally>,
    /// Outcomes the agency's officers recorded in the window.
    pub confirmed: u64,
    pub false_positives: u64,
}

/// The category of a hit that the checking agency may not know.
pub const UNDISCLOSED: &str = "undisclosed";

impl Node {
    /// The actor's agency's dashboard over the last `days` days (today included).
    pub fn dashboard(&self, actor: &Actor, days: u32) -> Result<Dashboard> {
        actor.require(&[Role::Analyst, Role::Supervisor, Role::Auditor])?;
        let agency = actor.agency()?.clone();
        self.known_agency(&agency)?;
        let days = days.clamp(1, DASHBOARD_DAYS_MAX);
        let today = self.now().date();
        let first = today - time::Duration::days(i64::from(days) - 1);
        let since_us = tabadul_domain::unix_us(first.midnight().assume_utc());

        let mut board = Board::new(first, days);
        let mut after = self.first_audit_at(since_us)?;
        loop {
            let page = self.store.audit_entries(after, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in page.iter().filter(|e| e.draft.agency.as_deref() == Some(agency.as_str())) {
                board.add(entry);
            }
        }
        let dashboard = board.finish(agency, first, today);
        let audit = self
            .audit(actor, ops::DASHBOARD_READ)
            .details(details(serde_json::json!({ "days": days })))
            .result_count(dashboard.checks);
        self.store.append_audit(audit)?;
        Ok(dashboard)
    }

    /// The sequence number just before the first audit entry at or after `since_us` (the log
    /// is in time order): a binary search, a handful of reads however long the log.
    fn first_audit_at(&self, since_us: i64) -> Result<u64> {
        let at = |seq: u64| -> Result<Option<i64>> {
            Ok(self.store.audit_entries(seq.saturating_sub(1), 1)?.first().map(|e| e.draft.at_unix_us))
        };
        // The first entry's number is 1; find an entry past the log's end or after `since`.
        let mut high = 1u64;
        while matches!(at(high)?, Some(t) if t < since_us) {
            high = high.saturating_mul(2);
        }
        let mut low = high / 2; // every entry up to `low` is before `since` (or low is 0)
        while low + 1 < high {
            let mid = low + (high - low) / 2;
            match at(mid)? {
                Some(t) if t < since_us => low = mid,
                _ => high = mid,
            }
        }
        Ok(low)
    }
}

struct Board {
    first: time::Date,
    days: Vec<DayCount>,
    posts: BTreeMap<String, Tally>,
    categories: BTreeMap<String, Tally>,
    actions: BTreeMap<String, Tally>,
    checks: u64,
    checks_with_hits: u64,
    hits: u64,
    confirmed: u64,
    false_positives: u64,
}

impl Board {
    fn new(first: time::Date, days: u32) -> Board {
        let days = (0..days)
            .map(|i| DayCount {
                date: tabadul_domain::format_date(first + time::Duration::days(i64::from(i))),
                ..DayCount::default()
            })
            .collect();
        Board {
            first,
            days,
            posts: BTreeMap::new(),
            categories: BTreeMap::new(),
            actions: BTreeMap::new(),
            checks: 0,
            checks_with_hits: 0,
            hits: 0,
            confirmed: 0,
            false_positives: 0,
        }
    }

    fn add(&mut self, entry: &AuditEntry) {
        match entry.draft.operation.as_str() {
            ops::HIT_CONFIRM => self.confirmed += 1,
            ops::HIT_REJECT => self.false_positives += 1,
            ops::CHECK => self.add_check(entry),
            _ => {}
        }
    }

    fn add_check(&mut self, entry: &AuditEntry) {
        let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.draft.at_unix_us) * 1000) else {
            return;
        };
        let index = (at.date() - self.first).whole_days();
        let Some(day) = usize::try_from(index).ok().and_then(|i| self.days.get_mut(i)) else { return };
        let details: serde_json::Value = serde_json::from_str(&entry.draft.details).unwrap_or_default();
        let hits = details["hits"].as_array().map_or(&[][..], Vec::as_slice);
        let found = hits.len() as u64;
        day.checks += 1;
        day.hits += found;
        self.checks += 1;
        self.hits += found;
        self.checks_with_hits += u64::from(found > 0);
        let post = details["post"].as_str().unwrap_or("").to_string();
        let tally = self.posts.entry(post.clone()).or_insert_with(|| Tally { key: post, ..Tally::default() });
        tally.checks += 1;
        tally.hits += found;
        for hit in hits {
            let category = hit["category"].as_str().unwrap_or(UNDISCLOSED).to_string();
            self.categories
                .entry(category.clone())
                .or_insert_with(|| Tally { key: category, ..Tally::default() })
                .hits += 1;
            let action = hit["action"].as_str().unwrap_or("unknown").to_string();
            self.actions.entry(action.clone()).or_insert_with(|| Tally { key: action, ..Tally::default() }).hits += 1;
        }
    }

    fn finish(self, agency: AgencyCode, first: time::Date, today: time::Date) -> Dashboard {
        let ranked = |map: BTreeMap<String, Tally>| {
            let mut tallies: Vec<Tally> = map.into_values().collect();
            tallies.sort_by(|a, b| (b.checks, b.hits).cmp(&(a.checks, a.hits)).then_with(|| a.key.cmp(&b.key)));
            tallies
        };
        Dashboard {
            agency,
            from: tabadul_domain::format_date(first),
            to: tabadul_domain::format_date(today),
            checks: self.checks,
            checks_with_hits: self.checks_with_hits,
            hits: self.hits,
            days: self.days,
            posts: ranked(self.posts),
            categories: ranked(self.categories),
            actions: ranked(self.actions),
            confirmed: self.confirmed,
            false_positives: self.false_positives,
        }
    }
}
