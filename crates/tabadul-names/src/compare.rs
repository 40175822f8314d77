//! Comparing two analysed names: token similarity, an alignment of tokens, and the features a
//! scorer combines into a score.
//!
//! The alignment considers every token and every pair of adjacent tokens read as one (a name
//! written joined on one side and apart on the other: ظاهرعويس / Dahir Aweys), pairs them
//! greedily from the most similar, and never uses a token twice. What it does not align is as
//! telling as what it does: relatives share family and father's names but not the given name.

use std::borrow::Cow;

use crate::analyze::{CompoundKind, Name, Token};
use crate::convert;
use crate::phonetic::similarity;
use crate::script::TokenScript;

/// Why two tokens were taken as the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// The same letters.
    Exact,
    /// Two spellings of one entry of the known-names table.
    KnownVariant,
    /// Alike in the comparison space, across scripts.
    Transliteration,
    /// Alike in the comparison space, within one script.
    Spelling,
    /// An initial and a name that starts with it.
    Initial,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "same spelling",
            MatchKind::KnownVariant => "known variant",
            MatchKind::Transliteration => "transliteration",
            MatchKind::Spelling => "spelling variant",
            MatchKind::Initial => "initial",
        }
    }
}

/// Below this similarity two tokens are not aligned.
pub const ALIGN_SIMILARITY_MIN: f32 = 0.6;

/// The similarity of two tokens and why.
pub fn token_similarity(a: &Token, b: &Token) -> (f32, MatchKind) {
    if a.key == b.key {
        return (1.0, MatchKind::Exact);
    }
    if let (Some(x), Some(y)) = (a.known, b.known) {
        if x == y {
            return (1.0, MatchKind::KnownVariant);
        }
        // Two different entries: different names however alike (Hassan, Hussein).
        let (sim, kind) = unit_similarity(&Unit::of(a), &Unit::of(b));
        return (sim.min(0.5), kind);
    }
    unit_similarity(&Unit::of(a), &Unit::of(b))
}

/// A token, or two adjacent tokens read as one.
#[derive(Debug, Clone)]
struct Unit<'a> {
    start: usize,
    len: usize,
    full: Cow<'a, [u8]>,
    cross: Cow<'a, [u8]>,
    script: TokenScript,
    known: Option<u16>,
    initial: bool,
    key: Cow<'a, str>,
    compound: Option<&'a (CompoundKind, Vec<u8>, Vec<u8>)>,
}

impl<'a> Unit<'a> {
    fn of(token: &'a Token) -> Unit<'a> {
        Unit {
            start: 0,
            len: 1,
            full: Cow::Borrowed(&token.full),
            cross: Cow::Borrowed(&token.cross),
            script: token.script,
            known: token.known,
            initial: token.initial,
            key: Cow::Borrowed(&token.key),
            compound: token.compound.as_ref(),
        }
    }

    fn units(name: &'a Name) -> Vec<Unit<'a>> {
        let mut units: Vec<Unit<'a>> =
            name.tokens.iter().enumerate().map(|(i, t)| Unit { start: i, ..Unit::of(t) }).collect();
        for (i, pair) in name.tokens.windows(2).enumerate() {
            let [a, b] = pair else { continue };
            if a.script != b.script || a.initial || b.initial {
                continue;
            }
            let mut full = a.full.clone();
            full.extend_from_slice(&b.full);
            full.dedup();
            let cross = convert::cross(&full);
            let key = format!("{}{}", a.key, b.key);
            units.push(Unit {
                start: i,
                len: 2,
                full: Cow::Owned(full),
                cross: Cow::Owned(cross),
                script: a.script,
                known: None,
                initial: false,
                key: Cow::Owned(key),
                compound: None,
            });
        }
        units
    }
}

fn unit_similarity(a: &Unit, b: &Unit) -> (f32, MatchKind) {
    if a.key == b.key {
        return (1.0, MatchKind::Exact);
    }
    if let (Some(x), Some(y)) = (a.known, b.known)
        && x == y
    {
        return (1.0, MatchKind::KnownVariant);
    }
    if a.initial || b.initial {
        let first = |u: &Unit| u.full.first().copied();
        let same = first(a).is_some() && first(a) == first(b);
        return (if same { 0.75 } else { 0.0 }, MatchKind::Initial);
    }
    let kind = if a.script == b.script { MatchKind::Spelling } else { MatchKind::Transliteration };
    let both_latin = a.script == TokenScript::Latin && b.script == TokenScript::Latin;
    let phonetic = |(full_a, cross_a): (&[u8], &[u8]), (full_b, cross_b): (&[u8], &[u8])| {
        if both_latin {
            // Latin spellings of an Arabic name differ in their vowels as much as anywhere else.
            similarity(full_a, full_b).max(similarity(cross_a, cross_b) * 0.97)
        } else {
            similarity(cross_a, cross_b)
        }
    };
    let whole = phonetic((&a.full, &a.cross), (&b.full, &b.cross));
    let sim = match (a.compound, b.compound) {
        // Two names in abd (or abu): what follows decides; the shared head says nothing.
        (Some((ka, sa, ca)), Some((kb, sb, cb))) if ka == kb => phonetic((sa, ca), (sb, cb)),
        (Some((CompoundKind::Abd | CompoundKind::Abu, ..)), _)
        | (_, Some((CompoundKind::Abd | CompoundKind::Abu, ..))) => whole,
        // Siraj / Sirajuddin, Ezat / Ezatullah: the short form of the same name.
        (Some((_, stem, stem_cross)), None) => whole.max(0.9 * phonetic((stem, stem_cross), (&b.full, &b.cross))),
        (None, Some((_, stem, stem_cross))) => whole.max(0.9 * phonetic((&a.full, &a.cross), (stem, stem_cross))),
        _ => whole,
    };
    (sim, kind)
}

/// Two aligned spans, one of each name.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// First token and number of tokens (1 or 2) on the query side.
    pub query: (usize, usize),
    pub candidate: (usize, usize),
    pub similarity: f32,
    pub kind: MatchKind,
}

/// How two names line up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alignment {
    pub pairs: Vec<Pair>,
    pub unmatched_query: Vec<usize>,
    pub unmatched_candidate: Vec<usize>,
}

/// What the scorer learns from a comparison of two names. Coverages are weighted by the
/// tokens' weights (frequent names weigh less).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NameFeatures {
    /// How much of the query is matched, 0 to 1.
    pub query_coverage: f32,
    /// How much of the candidate is matched, 0 to 1.
    pub candidate_coverage: f32,
    /// The matched weight itself: several rare tokens matched say more than one.
    pub matched_weight: f32,
    /// The weight of query tokens left unmatched.
    pub unmatched_query_weight: f32,
    /// The weight of candidate tokens left unmatched.
    pub unmatched_candidate_weight: f32,
    /// Whether the candidate's first token (usually its given name) found no match.
    pub candidate_first_unmatched: f32,
    /// Whether the query's first token found no match.
    pub query_first_unmatched: f32,
    /// The share of aligned pairs that are in a different order on the two sides.
    pub inversions: f32,
    /// The lowest similarity among aligned pairs (1 if none).
    pub weakest_pair: f32,
    /// Whether the two first tokens (usually the given names) are aligned with each other.
    pub first_tokens_aligned: f32,
    /// Whether a first token is aligned with a later token of the other name while the other
    /// first token is left unmatched: the pattern of a parent and child, or of siblings, whose
    /// names repeat the father's and family names.
    pub given_name_shift: f32,
    /// Whether neither first token found a match.
    pub both_first_unmatched: f32,
    /// The similarity of the pair that aligns the two first tokens (0 if they are not aligned).
    pub first_pair_similarity: f32,
    /// The share of the query's tokens matched, each counted alike.
    pub query_matched_share: f32,
    /// The share of the candidate's tokens matched, each counted alike.
    pub candidate_matched_share: f32,
}

impl NameFeatures {
    pub const COUNT: usize = 15;

    pub fn to_array(&self) -> [f32; Self::COUNT] {
        [
            self.query_coverage,
            self.candidate_coverage,
            self.matched_weight,
            self.unmatched_query_weight,
            self.unmatched_candidate_weight,
            self.candidate_first_unmatched,
            self.query_first_unmatched,
            self.inversions,
            self.weakest_pair,
            self.first_tokens_aligned,
            self.given_name_shift,
            self.both_first_unmatched,
            self.query_matched_share,
            self.candidate_matched_share,
            self.first_pair_similarity,
        ]
    }
}

/// Aligns two names and measures how well they agree.
pub fn compare(query: &Name, candidate: &Name) -> (NameFeatures, Alignment) {
    let query_units = Unit::units(query);
    let candidate_units = Unit::units(candidate);
    let mut scored: Vec<(f32, MatchKind, usize, usize)> = Vec::new();
    for (qi, qu) in query_units.iter().enumerate() {
        for (ci, cu) in candidate_units.iter().enumerate() {
            if qu.len == 2 && cu.len == 2 {
                continue;
            }
            let (sim, kind) = if qu.len == 1 && cu.len == 1 {
                token_similarity(&query.tokens[qu.start], &candidate.tokens[cu.start])
            } else {
                unit_similarity(qu, cu)
            };
            if sim >= ALIGN_SIMILARITY_MIN {
                scored.push((sim, kind, qi, ci));
            }
        }
    }
    // Most similar first; on a tie, single tokens before joined pairs, then nearer positions.
    scored.sort_by(|a, b| {
        let span = |x: &(f32, MatchKind, usize, usize)| query_units[x.2].len + candidate_units[x.3].len;
        let distance = |x: &(f32, MatchKind, usize, usize)| query_units[x.2].start.abs_diff(candidate_units[x.3].start);
        b.0.total_cmp(&a.0)
            .then(span(a).cmp(&span(b)))
            .then(distance(a).cmp(&distance(b)))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let mut query_used = vec![0.0f32; query.tokens.len()];
    let mut candidate_used = vec![0.0f32; candidate.tokens.len()];
    let mut pairs = Vec::new();
    for (sim, kind, qi, ci) in scored {
        let (qu, cu) = (&query_units[qi], &candidate_units[ci]);
        let free = |used: &[f32], unit: &Unit| used[unit.start..unit.start + unit.len].iter().all(|u| *u == 0.0);
        if !free(&query_used, qu) || !free(&candidate_used, cu) {
            continue;
        }
        query_used[qu.start..qu.start + qu.len].iter_mut().for_each(|u| *u = sim);
        candidate_used[cu.start..cu.start + cu.len].iter_mut().for_each(|u| *u = sim);
        pairs.push(Pair { query: (qu.start, qu.len), candidate: (cu.start, cu.len), similarity: sim, kind });
    }
    pairs.sort_by_key(|p| p.query.0);
    let features = features(query, candidate, &query_used, &candidate_used, &pairs);
    let unmatched = |used: &[f32]| used.iter().enumerate().filter(|(_, u)| **u == 0.0).map(|(i, _)| i).collect();
    let alignment =
        Alignment { unmatched_query: unmatched(&query_used), unmatched_candidate: unmatched(&candidate_used), pairs };
    (features, alignment)
}

/// The share of tokens with a match.
fn share(used: &[f32]) -> f32 {
    if used.is_empty() { 0.0 } else { used.iter().filter(|u| **u > 0.0).count() as f32 / used.len() as f32 }
}

fn features(
    query: &Name,
    candidate: &Name,
    query_used: &[f32],
    candidate_used: &[f32],
    pairs: &[Pair],
) -> NameFeatures {
    let coverage = |name: &Name, used: &[f32]| -> (f32, f32, f32) {
        let total: f32 = name.tokens.iter().map(|t| t.weight()).sum();
        let matched: f32 = name.tokens.iter().zip(used).map(|(t, u)| t.weight() * u).sum();
        let unmatched: f32 = name.tokens.iter().zip(used).filter(|(_, u)| **u == 0.0).map(|(t, _)| t.weight()).sum();
        (if total > 0.0 { matched / total } else { 0.0 }, matched, unmatched)
    };
    let (query_coverage, query_matched, unmatched_query_weight) = coverage(query, query_used);
    let (candidate_coverage, candidate_matched, unmatched_candidate_weight) = coverage(candidate, candidate_used);
    let mut inversions = 0;
    let mut comparisons = 0;
    for (i, a) in pairs.iter().enumerate() {
        for b in &pairs[i + 1..] {
            comparisons += 1;
            if (a.query.0 < b.query.0) != (a.candidate.0 < b.candidate.0) {
                inversions += 1;
            }
        }
    }
    let first_pair = pairs.iter().find(|p| p.query.0 == 0 || p.candidate.0 == 0);
    let first_tokens_aligned = pairs.iter().any(|p| p.query.0 == 0 && p.candidate.0 == 0);
    let query_first_unmatched = query_used.first().is_some_and(|u| *u == 0.0);
    let candidate_first_unmatched = candidate_used.first().is_some_and(|u| *u == 0.0);
    let given_name_shift =
        !first_tokens_aligned && first_pair.is_some() && (query_first_unmatched || candidate_first_unmatched);
    NameFeatures {
        first_tokens_aligned: f32::from(first_tokens_aligned),
        given_name_shift: f32::from(given_name_shift),
        both_first_unmatched: f32::from(query_first_unmatched && candidate_first_unmatched),
        first_pair_similarity: pairs
            .iter()
            .find(|p| p.query.0 == 0 && p.candidate.0 == 0)
            .map_or(0.0, |p| p.similarity),
        query_matched_share: share(query_used),
        candidate_matched_share: share(candidate_used),
        query_coverage,
        candidate_coverage,
        matched_weight: (query_matched + candidate_matched) / 2.0,
        unmatched_query_weight,
        unmatched_candidate_weight,
        candidate_first_unmatched: f32::from(candidate_first_unmatched),
        query_first_unmatched: f32::from(query_first_unmatched),
        inversions: if comparisons > 0 { inversions as f32 / comparisons as f32 } else { 0.0 },
        weakest_pair: pairs.iter().map(|p| p.similarity).fold(1.0, f32::min),
    }
}
