//! A segment: alerts indexed once, never changed (a snapshot marks its removed entries).

use std::sync::Arc;

use tabadul_domain::{AgencyCode, AlertId, Category, Visibility};
use tabadul_engine::{PreparedPerson, evidence_logit, normalise_document};
use tabadul_names::{ALIGN_SIMILARITY_MIN, Token, coarse_skeleton, token_similarity};

use crate::fx::FxMap;
use crate::{IndexedAlert, IndexedSubject, SearchStats, Viewer};

/// A query token whose posting lists together hold more entries than this is "common": it
/// adds weight to candidates found by rarer tokens instead of bringing its own.
const RARE_POSTINGS_MAX: usize = 4096;
/// Most candidates a segment gathers for one search before ranking.
const GATHERED_MAX: usize = 50_000;
/// Posting groups below this number are entries of the known-names table; above, tokens.
const TOKEN_GROUPS_START: u32 = 1 << 16;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: AlertId,
    owner: u16,
    pub category: Category,
    pub expires: Option<time::Date>,
    pub person: Option<PreparedPerson>,
    source: IndexedAlert,
}

#[derive(Debug, Default)]
pub(crate) struct Segment {
    agencies: Vec<AgencyCode>,
    entries: Vec<Entry>,
    by_id: FxMap<u128, u32>,
    vocabulary: Vec<Arc<Token>>,
    /// Blocking key -> tokens of the vocabulary.
    keys: FxMap<u64, Vec<u32>>,
    /// Posting group -> entries (ascending).
    postings: FxMap<u32, Vec<u32>>,
    documents: FxMap<(String, String), Vec<u32>>,
    vins: FxMap<String, Vec<u32>>,
    plates: FxMap<String, Vec<u32>>,
}

fn hash_key(tag: u8, symbols: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = crate::fx::FxHasher::default();
    hasher.write(&[tag]);
    hasher.write(symbols);
    hasher.write_usize(symbols.len());
    hasher.finish()
}

/// The blocking keys of a token: the first four symbols of its coarse skeleton, and its first
/// symbol with its last two.
fn blocking_keys(token: &Token) -> [Option<u64>; 2] {
    let coarse = coarse_skeleton(token);
    let prefix = hash_key(b'A', &coarse[..coarse.len().min(4)]);
    let ends =
        (coarse.len() >= 3).then(|| hash_key(b'B', &[coarse[0], coarse[coarse.len() - 2], coarse[coarse.len() - 1]]));
    [Some(prefix), ends]
}

/// A document number or plate as looked up: upper-case letters and digits.
fn normalise(text: &str) -> String {
    normalise_document(text)
}

/// An issuing state as looked up: ICAO's `D` is Germany's `DEU`.
fn normalise_state(state: &str) -> String {
    let state = state.trim().to_ascii_uppercase();
    if state == "D" { "DEU".into() } else { state }
}

impl Segment {
    pub fn build(alerts: Vec<IndexedAlert>) -> Segment {
        let mut segment = Segment::default();
        let mut vocabulary_ids: FxMap<String, u32> = FxMap::default();
        for alert in alerts {
            let index = segment.entries.len() as u32;
            let owner = match segment.agencies.iter().position(|a| *a == alert.owner) {
                Some(i) => i as u16,
                None => {
                    segment.agencies.push(alert.owner.clone());
                    (segment.agencies.len() - 1) as u16
                }
            };
            let mut person = None;
            match &alert.subject {
                IndexedSubject::Person(query) => {
                    let mut prepared = query.prepare();
                    let mut groups = Vec::new();
                    for name in &mut prepared.names {
                        for token in &mut name.tokens {
                            let id = *vocabulary_ids.entry(token.key.clone()).or_insert_with(|| {
                                segment.vocabulary.push(token.clone());
                                (segment.vocabulary.len() - 1) as u32
                            });
                            *token = segment.vocabulary[id as usize].clone();
                            groups.push(group_of(token, id));
                        }
                    }
                    groups.sort_unstable();
                    groups.dedup();
                    for group in groups {
                        segment.postings.entry(group).or_default().push(index);
                    }
                    person = Some(prepared);
                }
                IndexedSubject::Document { number, issuing_state } => {
                    let key = (normalise(number), normalise_state(issuing_state));
                    segment.documents.entry(key).or_default().push(index);
                }
                IndexedSubject::Vehicle { vin, plate, .. } => {
                    if let Some(vin) = vin {
                        segment.vins.entry(normalise(vin)).or_default().push(index);
                    }
                    if let Some(plate) = plate {
                        segment.plates.entry(normalise(plate)).or_default().push(index);
                    }
                }
            }
            segment.by_id.insert(alert.id.0, index);
            segment.entries.push(Entry {
                id: alert.id,
                owner,
                category: alert.category,
                expires: alert.expires,
                person,
                source: alert,
            });
        }
        for (id, token) in segment.vocabulary.iter().enumerate() {
            for key in blocking_keys(token).into_iter().flatten() {
                segment.keys.entry(key).or_default().push(id as u32);
            }
        }
        segment
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entry(&self, index: u32) -> &Entry {
        &self.entries[index as usize]
    }

    pub fn owner(&self, entry: &Entry) -> &AgencyCode {
        &self.agencies[entry.owner as usize]
    }

    pub fn position(&self, id: AlertId) -> Option<u32> {
        self.by_id.get(&id.0).copied()
    }

    pub fn visibility(&self, entry: &Entry, viewer: &dyn Viewer, today: time::Date) -> Visibility {
        if entry.expires.is_some_and(|expires| today > expires) {
            return Visibility::Hidden;
        }
        viewer.visibility(self.owner(entry), entry.category, entry.expires)
    }

    /// The alerts of the entries not removed, to build a merged segment from.
    pub fn live_alerts(&self, removed: impl Fn(u32) -> bool) -> Vec<IndexedAlert> {
        self.entries.iter().enumerate().filter(|(i, _)| !removed(*i as u32)).map(|(_, e)| e.source.clone()).collect()
    }

    pub fn memory_bytes(&self) -> usize {
        let tokens: usize =
            self.vocabulary.iter().map(|t| 64 + t.text.len() + t.key.len() + t.full.len() + t.cross.len()).sum();
        let postings: usize = self.postings.values().map(|p| 16 + p.capacity() * 4).sum();
        let keys: usize = self.keys.values().map(|k| 24 + k.capacity() * 4).sum();
        let entries: usize = self
            .entries
            .iter()
            .map(|e| {
                let names =
                    e.person.as_ref().map_or(0, |p| p.names.iter().map(|n| 48 + n.tokens.len() * 8).sum::<usize>());
                std::mem::size_of::<Entry>() + names + 128
            })
            .sum();
        tokens + postings + keys + entries + self.by_id.len() * 24
    }

    /// Gathers the candidates of a person search that `visible` lets through, each with a
    /// prior: the weight of its matched tokens and what its other evidence says.
    pub fn candidates(
        &self,
        query: &PreparedPerson,
        visible: &dyn Fn(&Entry, u32) -> bool,
        stats: &mut SearchStats,
    ) -> Vec<(f32, u32)> {
        let mut seen_keys: Vec<&str> = Vec::new();
        let mut plans: Vec<(usize, Vec<(u32, f32)>)> = Vec::new();
        for token in query.names.iter().flat_map(|n| n.tokens.iter()) {
            if token.initial || seen_keys.contains(&token.key.as_str()) {
                continue;
            }
            seen_keys.push(&token.key);
            let groups = self.matching_groups(token);
            let size = groups.iter().map(|(g, _)| self.postings.get(g).map_or(0, Vec::len)).sum();
            plans.push((size, groups));
        }
        plans.sort_by_key(|(size, _)| *size);
        let mut gathered: FxMap<u32, f32> = FxMap::default();
        let mut common: Vec<&[(u32, f32)]> = Vec::new();
        for (size, groups) in &plans {
            if *size <= RARE_POSTINGS_MAX {
                for (group, weight) in groups {
                    for &entry in self.postings.get(group).map_or(&[][..], Vec::as_slice) {
                        stats.postings_read += 1;
                        if gathered.len() < GATHERED_MAX || gathered.contains_key(&entry) {
                            *gathered.entry(entry).or_default() += weight;
                        }
                    }
                }
            } else {
                common.push(groups);
            }
        }
        let mut common = common.into_iter();
        if gathered.is_empty() {
            // Every token is common: start from the entries that have the two rarest.
            if let Some(first) = common.next() {
                let second = common.next();
                for (group, weight) in first {
                    for &entry in self.postings.get(group).map_or(&[][..], Vec::as_slice) {
                        stats.postings_read += 1;
                        if gathered.len() >= GATHERED_MAX {
                            break;
                        }
                        let also = second.map_or(Some(0.0), |second| self.weight_in(second, entry));
                        if let Some(also) = also {
                            *gathered.entry(entry).or_default() += weight + also;
                        }
                    }
                }
            }
        }
        for groups in common {
            for (entry, mass) in gathered.iter_mut() {
                stats.postings_read += 1;
                if let Some(weight) = self.weight_in(groups, *entry) {
                    *mass += weight;
                }
            }
        }
        let mut out: Vec<(f32, u32)> = Vec::with_capacity(gathered.len());
        for (entry, mass) in gathered {
            let e = &self.entries[entry as usize];
            let Some(person) = e.person.as_ref() else { continue };
            if !visible(e, entry) {
                continue;
            }
            out.push((mass + 0.5 * evidence_logit(query, person), entry));
        }
        out
    }

    /// The weight an entry gets from a query token's groups, if it is in one of them.
    fn weight_in(&self, groups: &[(u32, f32)], entry: u32) -> Option<f32> {
        groups
            .iter()
            .filter(|(group, _)| self.postings.get(group).is_some_and(|p| p.binary_search(&entry).is_ok()))
            .map(|(_, weight)| *weight)
            .reduce(f32::max)
    }

    /// The posting groups of the vocabulary that a query token matches, with its weight times
    /// the similarity.
    fn matching_groups(&self, token: &Token) -> Vec<(u32, f32)> {
        let mut groups: FxMap<u32, f32> = FxMap::default();
        if let Some(known) = token.known {
            groups.insert(u32::from(known), token.weight());
        }
        let mut tried: Vec<u32> = Vec::new();
        for key in blocking_keys(token).into_iter().flatten() {
            for &id in self.keys.get(&key).map_or(&[][..], Vec::as_slice) {
                if tried.contains(&id) {
                    continue;
                }
                tried.push(id);
                let candidate = &self.vocabulary[id as usize];
                if token.known.is_some() && candidate.known == token.known {
                    continue;
                }
                let (similarity, _) = token_similarity(token, candidate);
                if similarity >= ALIGN_SIMILARITY_MIN {
                    let weight = token.weight() * similarity;
                    let slot = groups.entry(group_of(candidate, id)).or_default();
                    *slot = slot.max(weight);
                }
            }
        }
        let mut groups: Vec<(u32, f32)> = groups.into_iter().collect();
        groups.sort_by_key(|(g, _)| *g);
        groups
    }

    pub fn documents(&self, number: &str, issuing_state: &str) -> Vec<u32> {
        let key = (normalise(number), normalise_state(issuing_state));
        self.documents.get(&key).cloned().unwrap_or_default()
    }

    pub fn vehicles(&self, vin: Option<&str>, plate: Option<&str>) -> Vec<u32> {
        let mut found = Vec::new();
        if let Some(vin) = vin {
            found.extend(self.vins.get(&normalise(vin)).into_iter().flatten());
        }
        if let Some(plate) = plate {
            found.extend(self.plates.get(&normalise(plate)).into_iter().flatten());
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// The posting group of a vocabulary token: its known-names entry, or itself.
fn group_of(token: &Token, id: u32) -> u32 {
    match token.known {
        Some(known) => u32::from(known),
        None => TOKEN_GROUPS_START + id,
    }
}
