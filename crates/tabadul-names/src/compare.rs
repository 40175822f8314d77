//! Comparing two analysed names: token similarity, an alignment of tokens, and the features a
//! scorer combines into a score.
//!
//! The alignment considers every token and every pair of adjacent tokens read as one (a name
//! written joined on one side and apart on the other: ظاهرعويس / Dahir Aweys), pairs them
//! greedily from the most similar, and never uses a token twice. What it does not align is as
//! telling as what it does: relatives share family and father's names but not the given name.

use crate::analyze::{CompoundKind, Name, Spelling, Symbols, TOKENS_PER_NAME_MAX, Token};
use crate::phonetic::{Measure, SYMBOLS_MAX, similarity_weighted, surely_below};
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
    /// How two different spellings of one name are alike: within a script or across two.
    fn between(a: TokenScript, b: TokenScript) -> MatchKind {
        if a == b { MatchKind::Spelling } else { MatchKind::Transliteration }
    }

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

/// The similarity of two tokens and why. A similarity below [`ALIGN_SIMILARITY_MIN`] may be
/// given as 0: only what can be aligned is computed in full.
pub fn token_similarity(a: &Token, b: &Token) -> (f32, MatchKind) {
    token_similarity_from(a, b, 0.0)
}

/// [`token_similarity`] where only a similarity of at least `least` matters: one below it is
/// given as some value below it (often 0), computed only as far as needed to know that. What
/// a search of the spellings close to a name asks once it has found enough closer ones.
pub fn token_similarity_from(a: &Token, b: &Token, least: f32) -> (f32, MatchKind) {
    if std::ptr::eq(a, b) || (a.key_hash == b.key_hash && a.key == b.key) {
        return (1.0, MatchKind::Exact);
    }
    if let (Some(x), Some(y)) = (a.known, b.known) {
        if x == y {
            return (1.0, MatchKind::KnownVariant);
        }
        // Two different entries: different names however alike (Hassan, Hussein); they are
        // never aligned, so how alike is not worth computing.
        return (0.0, MatchKind::between(a.script, b.script));
    }
    unit_similarity(&Unit::of(a), &Unit::of(b), least)
}

/// A token, or two adjacent tokens read as one.
#[derive(Debug, Clone)]
struct Unit<'a> {
    full: &'a [u8],
    cross: &'a [u8],
    script: TokenScript,
    known: Option<u16>,
    initial: bool,
    /// The key, in two parts for two tokens read as one (the second empty for one token).
    key: [&'a str; 2],
    key_hash: u32,
    compound: Option<&'a (CompoundKind, Spelling)>,
    alternative: Option<&'a Spelling>,
    /// What the edit distance reads of `full` and `cross` besides them, computed once.
    measures: (Measure, Measure),
}

impl<'a> Unit<'a> {
    fn of(token: &'a Token) -> Unit<'a> {
        Unit {
            full: &token.full,
            cross: &token.cross,
            script: token.script,
            known: token.known,
            initial: token.initial,
            key: [&token.key, ""],
            key_hash: token.key_hash,
            compound: token.compound.as_deref(),
            alternative: token.alternative.as_deref(),
            measures: token.measures,
        }
    }

    /// Tokens `first` and `second` read as one, as `joined` reads them.
    fn joined(joined: &'a Joined, first: &'a Token, second: &'a Token) -> Unit<'a> {
        Unit {
            full: &joined.full,
            cross: &joined.cross,
            script: joined.script,
            known: None,
            initial: false,
            key: [&first.key, &second.key],
            key_hash: joined.key_hash,
            compound: None,
            alternative: None,
            measures: joined.measures,
        }
    }

    /// Its symbols with their measures.
    fn reading(&self) -> Reading<'a> {
        (self.full, self.measures.0, self.cross, self.measures.1)
    }

    /// Whether two units are the same spelling (their keys, read whole, are equal).
    fn same_key(&self, other: &Unit) -> bool {
        let [a0, a1] = self.key;
        let [b0, b1] = other.key;
        if self.key_hash != other.key_hash || a0.len() + a1.len() != b0.len() + b1.len() {
            return false;
        }
        a0.bytes().chain(a1.bytes()).eq(b0.bytes().chain(b1.bytes()))
    }
}

/// Two adjacent tokens read as one, as compared: built once per search and pair of tokens,
/// without touching the heap (a search builds hundreds).
#[derive(Debug, Clone)]
struct Joined {
    full: Symbols,
    cross: Symbols,
    key_hash: u32,
    script: TokenScript,
    measures: (Measure, Measure),
}

impl Joined {
    /// The two tokens' symbols joined (and their cross-script forms: those of the joined
    /// symbols are the two forms joined alike), with their measures made from the tokens'.
    fn of(a: &Token, b: &Token) -> Joined {
        let joined = |x: &[u8], y: &[u8]| {
            let mut symbols = Symbols::new();
            symbols.extend_from_slice(x);
            let doubled = x.last().is_some() && x.last() == y.first();
            symbols.extend_from_slice(&y[usize::from(doubled)..]);
            symbols
        };
        let (full, cross) = (joined(&a.full, &b.full), joined(&a.cross, &b.cross));
        let measures = (
            joined_measure(a, b, full_of).unwrap_or_else(|| Measure::of(&full)),
            joined_measure(a, b, cross_of).unwrap_or_else(|| Measure::of(&cross)),
        );
        let mut key: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::new();
        key.extend_from_slice(a.key.as_bytes());
        key.extend_from_slice(b.key.as_bytes());
        Joined { key_hash: crate::analyze::key_hash_bytes(&key), script: a.script, full, cross, measures }
    }
}

/// A reading's symbols with their measures: full, its measure, cross-script, its measure.
type Reading<'r> = (&'r [u8], Measure, &'r [u8], Measure);

/// A second reading of a token (an alternative, a stem).
fn reading(spelling: &Spelling) -> Reading<'_> {
    (&spelling.full, spelling.measures.0, &spelling.cross, spelling.measures.1)
}

/// The least similarity that a comparison whose result counts `factor` times can matter with:
/// it must reach the alignment threshold, and beat `above` (the best reading found so far),
/// a hair lower for rounding. What falls short is computed as 0.
fn least(factor: f32, above: f32) -> f32 {
    ALIGN_SIMILARITY_MIN.max(above) / factor * (1.0 - 1e-4)
}

/// How much the cross-script forms of two Latin tokens count beside their full forms.
const CROSS_FOR_LATIN: f32 = 0.97;
/// How much a name without its abd counts (Abdul Qayyum / Qayyum).
const ABD_STEM: f32 = 0.85;
/// How much the short form of a compound counts (Siraj / Sirajuddin).
const SHORT_FORM: f32 = 0.9;

/// The similarity of two units when it is at least `above` (or [`ALIGN_SIMILARITY_MIN`]); some
/// value below that (often 0) when it is less.
fn unit_similarity(a: &Unit, b: &Unit, above: f32) -> (f32, MatchKind) {
    if a.same_key(b) {
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
    let kind = MatchKind::between(a.script, b.script);
    let both_latin = a.script == TokenScript::Latin && b.script == TokenScript::Latin;
    // Only what can matter is computed in full: each comparison is given the least similarity
    // that can (see `least`), and what falls short counts as 0, which no decision can tell from
    // its true value. The edit distance stops early then.
    // The similarity of two readings, where only more than `above` (once times `factor`)
    // matters.
    let phonetic = |(full_a, full_ma, cross_a, cross_ma): Reading,
                    (full_b, full_mb, cross_b, cross_mb): Reading,
                    factor: f32,
                    above: f32| {
        if both_latin {
            // Latin spellings of an Arabic name differ in their vowels as much as anywhere else.
            let full = similarity_weighted(full_a, full_ma, full_b, full_mb, least(factor, above));
            let cross_least = least(factor * CROSS_FOR_LATIN, above.max(full * factor));
            let cross = similarity_weighted(cross_a, cross_ma, cross_b, cross_mb, cross_least);
            full.max(cross * CROSS_FOR_LATIN)
        } else {
            similarity_weighted(cross_a, cross_ma, cross_b, cross_mb, least(factor, above))
        }
    };
    let (this, that) = (a.reading(), b.reading());
    // Two names in abd (or abu): what follows decides; the shared head says nothing.
    if let (Some((ka, sa)), Some((kb, sb))) = (a.compound, b.compound)
        && ka == kb
    {
        return (phonetic(reading(sa), reading(sb), 1.0, above), kind);
    }
    // What a reading must beat to matter: the best so far, and `above`.
    let mut whole = phonetic(this, that, 1.0, above);
    if let Some(alternative) = a.alternative {
        whole = whole.max(phonetic(reading(alternative), that, 1.0, whole.max(above)));
    }
    if let Some(alternative) = b.alternative {
        whole = whole.max(phonetic(this, reading(alternative), 1.0, whole.max(above)));
    }
    let best = whole.max(above);
    let sim = match (a.compound, b.compound) {
        // Abdul Qayyum / Qayyum: the name without its abd, as it is often shortened.
        (Some((CompoundKind::Abd, stem)), None) => whole.max(ABD_STEM * phonetic(reading(stem), that, ABD_STEM, best)),
        (None, Some((CompoundKind::Abd, stem))) => whole.max(ABD_STEM * phonetic(this, reading(stem), ABD_STEM, best)),
        (Some((CompoundKind::Abd | CompoundKind::Abu, ..)), _)
        | (_, Some((CompoundKind::Abd | CompoundKind::Abu, ..))) => whole,
        // Siraj / Sirajuddin, Ezat / Ezatullah: the short form of the same name.
        (Some((_, stem)), None) => whole.max(SHORT_FORM * phonetic(reading(stem), that, SHORT_FORM, best)),
        (None, Some((_, stem))) => whole.max(SHORT_FORM * phonetic(this, reading(stem), SHORT_FORM, best)),
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
    /// Not fitted: a name has a token (not an initial) that the other lacks, so the two
    /// agree on part of their names only, which other persons may share.
    pub partial: bool,
    /// Not fitted: the first two tokens of each name are matched with each other crosswise
    /// (ali hasan / hasan ali): the pattern of a father and his son named after his own father.
    pub first_two_swapped: bool,
    /// Not fitted: which of the candidate's tokens are matched (bit `i` for token `i`).
    pub candidate_matched_tokens: u16,
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

/// Entries a [`SimilarityCache`] keeps room for after [`SimilarityCache::clear`], at least.
const CACHE_KEPT_MIN: usize = 1024;

/// Token similarities remembered across comparisons: within one search the same query tokens
/// meet the same (shared) candidate tokens again and again. Spans are known by their tokens'
/// addresses, so a cache must not outlive the names it was filled from: keep one per search.
///
/// A table with a column per span of the query and a row per span of the candidates met: a
/// comparison finds its spans' rows and columns once each, then reads a cell per pair of
/// spans, instead of hashing every pair.
#[derive(Debug, Default)]
pub struct SimilarityCache {
    /// The query's spans met, by address: a column each (a query has a few).
    columns: Vec<[usize; 2]>,
    /// The candidates' spans met, by address -> their row.
    rows: crate::fx::FxMap<[usize; 2], u32>,
    /// The similarity of a row and a column, by column then row (none: not yet computed).
    cells: Vec<Vec<Option<(f32, MatchKind)>>>,
    /// Pairs of adjacent tokens read as one, by the tokens' addresses.
    joined: crate::fx::FxMap<[usize; 2], Joined>,
    /// The query's names met, by their tokens' address, with their spans placed in columns:
    /// a search compares each with every candidate.
    queries: Vec<(usize, Vec<Placed>)>,
    /// Buffers reused from one comparison to the next.
    spans: (Vec<Span>, Vec<Placed>),
    scored: Vec<(f32, MatchKind, Span, Span)>,
    pairs: Vec<Pair>,
    /// The similarity each token of the query and of the candidate is matched with (0: none).
    used: ([f32; TOKENS_PER_NAME_MAX], [f32; TOKENS_PER_NAME_MAX]),
}

impl SimilarityCache {
    pub fn new() -> SimilarityCache {
        SimilarityCache::default()
    }

    /// Forgets every similarity and joined reading, keeping the memory: what a search does
    /// before it uses a cache that served another (the names it was filled from may be gone).
    pub fn clear(&mut self) {
        // Kept to about what the last search used.
        let (rows, joined) = (self.rows.len(), self.joined.len());
        crate::fx::clear_to_size(&mut self.rows, rows.max(CACHE_KEPT_MIN));
        crate::fx::clear_to_size(&mut self.joined, joined.max(CACHE_KEPT_MIN));
        self.columns.clear();
        self.queries.clear();
        self.cells.iter_mut().for_each(Vec::clear);
    }

    /// The spans of a name of the query, each in its column, placed when first met.
    fn query_spans(&mut self, query: &Name) -> Vec<Placed> {
        let key = query.tokens.as_ptr() as usize;
        if let Some((_, placed)) = self.queries.iter_mut().find(|(k, _)| *k == key) {
            return std::mem::take(placed);
        }
        let mut found = std::mem::take(&mut self.spans.0);
        spans(query, &mut found);
        let placed = found.iter().map(|&span| Placed::of(query, span, self.column(span_key(query, span)))).collect();
        self.spans.0 = found;
        self.queries.push((key, Vec::new()));
        placed
    }

    /// Gives back what [`SimilarityCache::query_spans`] lent.
    fn keep_query_spans(&mut self, query: &Name, placed: Vec<Placed>) {
        let key = query.tokens.as_ptr() as usize;
        if let Some((_, kept)) = self.queries.iter_mut().find(|(k, _)| *k == key) {
            *kept = placed;
        }
    }

    /// The column of a span of the query, added if new.
    fn column(&mut self, key: [usize; 2]) -> usize {
        match self.columns.iter().position(|column| *column == key) {
            Some(column) => column,
            None => {
                self.columns.push(key);
                if self.cells.len() < self.columns.len() {
                    self.cells.push(Vec::new());
                }
                self.columns.len() - 1
            }
        }
    }

    /// The row of a span of a candidate, added if new.
    fn row(&mut self, key: [usize; 2]) -> usize {
        let next = self.rows.len() as u32;
        *self.rows.entry(key).or_insert(next) as usize
    }
}

/// A token (len 1) or two adjacent tokens read as one (len 2).
type Span = (usize, usize);

/// A span as a comparison reads it: its tokens' cross-script length, and its column (query) or
/// row (candidate) in a cache's table.
#[derive(Debug, Clone, Copy)]
struct Placed {
    span: Span,
    length: usize,
    at: usize,
}

impl Placed {
    fn of(name: &Name, span: Span, at: usize) -> Placed {
        Placed { span, length: span_length(name, span), at }
    }
}

fn spans(name: &Name, spans: &mut Vec<Span>) {
    spans.clear();
    spans.extend((0..name.tokens.len()).map(|i| (i, 1)));
    for (i, pair) in name.tokens.windows(2).enumerate() {
        if pair[0].script == pair[1].script && !pair[0].initial && !pair[1].initial {
            spans.push((i, 2));
        }
    }
}

/// Two tokens read as one are compared with a token only if their cross-script forms are
/// about as long: a name written joined is as long as its parts written apart.
const SPAN_LENGTH_DIFFERENCE_MAX: usize = 3;

fn span_length(name: &Name, (start, len): Span) -> usize {
    name.tokens[start..start + len].iter().map(|t| t.cross.len()).sum()
}

fn span_key(name: &Name, (start, len): Span) -> [usize; 2] {
    let address = |i: usize| std::sync::Arc::as_ptr(&name.tokens[i]) as usize;
    [address(start), if len == 2 { address(start + 1) } else { 0 }]
}

/// The joined reading of a span of two tokens, from `joined` or made and kept there.
fn joined_of<'c>(joined: &'c mut crate::fx::FxMap<[usize; 2], Joined>, name: &Name, span: Span) -> &'c Joined {
    joined.entry(span_key(name, span)).or_insert_with(|| Joined::of(&name.tokens[span.0], &name.tokens[span.0 + 1]))
}

/// The unit of a span of two tokens.
fn joined_unit<'a>(joined: &'a mut crate::fx::FxMap<[usize; 2], Joined>, name: &'a Name, span: Span) -> Unit<'a> {
    Unit::joined(joined_of(joined, name, span), &name.tokens[span.0], &name.tokens[span.0 + 1])
}

/// The similarity of two spans, at most one of which is two tokens.
fn span_similarity(
    query: &Name,
    q: Span,
    candidate: &Name,
    c: Span,
    joined: &mut crate::fx::FxMap<[usize; 2], Joined>,
) -> (f32, MatchKind) {
    match (q.1, c.1) {
        (1, 1) => token_similarity(&query.tokens[q.0], &candidate.tokens[c.0]),
        (2, _) => {
            let (first, second, single) = (&query.tokens[q.0], &query.tokens[q.0 + 1], &candidate.tokens[c.0]);
            if joined_surely_apart(first, second, single) {
                return (0.0, MatchKind::between(first.script, single.script));
            }
            unit_similarity(&joined_unit(joined, query, q), &Unit::of(single), 0.0)
        }
        _ => {
            let (first, second, single) = (&candidate.tokens[c.0], &candidate.tokens[c.0 + 1], &query.tokens[q.0]);
            if joined_surely_apart(first, second, single) {
                return (0.0, MatchKind::between(single.script, first.script));
            }
            unit_similarity(&Unit::of(single), &joined_unit(joined, candidate, c), 0.0)
        }
    }
}

/// Whether tokens `first` and `second` read as one surely fall short of
/// [`ALIGN_SIMILARITY_MIN`] with `single`, told without building their joined reading (a
/// search compares hundreds): its measures follow from the tokens' ([`joined_measure`]), and
/// the bounds of [`surely_below`] are those the comparison itself would try first. Only a
/// plain `single` is ruled out so: an initial, a compound and a second reading are compared
/// otherwise.
fn joined_surely_apart(first: &Token, second: &Token, single: &Token) -> bool {
    let same_key = first.key.len() + second.key.len() == single.key.len()
        && single.key.starts_with(first.key.as_str())
        && single.key.ends_with(second.key.as_str());
    if same_key
        || single.initial
        || single.compound.is_some()
        || single.alternative.is_some()
        || first.full.len() + second.full.len() > SYMBOLS_MAX
    {
        return false;
    }
    let both_latin = first.script == TokenScript::Latin && single.script == TokenScript::Latin;
    let cross_least = least(if both_latin { CROSS_FOR_LATIN } else { 1.0 }, 0.0);
    // What unit_similarity asks of its first reading (the guard above keeps both readings
    // within what is compared, so their measures are known).
    let below = |reading: fn(&Token) -> (&[u8], Measure), single: &Measure, min: f32| {
        joined_measure(first, second, reading).is_some_and(|joined| surely_below(&joined, single, min))
    };
    if !below(cross_of, &single.measures.1, cross_least) {
        return false;
    }
    !both_latin || below(full_of, &single.measures.0, least(1.0, 0.0))
}

/// A token's full symbols with their measure.
fn full_of(token: &Token) -> (&[u8], Measure) {
    (&token.full, token.measures.0)
}

/// A token's cross-script symbols with their measure.
fn cross_of(token: &Token) -> (&[u8], Measure) {
    (&token.cross, token.measures.1)
}

/// The measure of tokens `first` and `second` read as one (see [`Measure::joined`]), from
/// theirs: the joined symbols are the two tokens' with the one where they meet written once if
/// doubled (each token's are without doubles already, and the cross-script form of the joined
/// symbols is the two forms joined alike).
fn joined_measure(first: &Token, second: &Token, reading: fn(&Token) -> (&[u8], Measure)) -> Option<Measure> {
    let ((a, measure_a), (b, measure_b)) = (reading(first), reading(second));
    Measure::joined(a, &measure_a, b, &measure_b)
}

/// Aligns two names and measures how well they agree.
pub fn compare(query: &Name, candidate: &Name) -> (NameFeatures, Alignment) {
    compare_cached(query, candidate, &mut SimilarityCache::new())
}

/// [`compare`], remembering token similarities in `cache`.
pub fn compare_cached(query: &Name, candidate: &Name, cache: &mut SimilarityCache) -> (NameFeatures, Alignment) {
    let features = compare_features(query, candidate, cache);
    let pairs = cache.pairs.clone();
    let unmatched = |used: &[f32]| used.iter().enumerate().filter(|(_, u)| **u == 0.0).map(|(i, _)| i).collect();
    let alignment = Alignment {
        unmatched_query: unmatched(&cache.used.0[..query.tokens.len()]),
        unmatched_candidate: unmatched(&cache.used.1[..candidate.tokens.len()]),
        pairs,
    };
    (features, alignment)
}

/// The features of [`compare_cached`] without the alignment, allocating nothing once `cache`
/// has served a few comparisons: what scoring many candidates needs.
pub fn compare_features(query: &Name, candidate: &Name, cache: &mut SimilarityCache) -> NameFeatures {
    let query_spans = cache.query_spans(query);
    let (mut found, mut candidate_spans) = std::mem::take(&mut cache.spans);
    let mut scored = std::mem::take(&mut cache.scored);
    scored.clear();
    spans(candidate, &mut found);
    candidate_spans.clear();
    candidate_spans.extend(found.iter().map(|&span| Placed::of(candidate, span, cache.row(span_key(candidate, span)))));
    for &Placed { span: c, length: c_length, at: row } in &candidate_spans {
        for &Placed { span: q, length: q_length, at: column } in &query_spans {
            if q.1 == 2 && c.1 == 2 {
                continue;
            }
            if q.1 + c.1 > 2 && q_length.abs_diff(c_length) > SPAN_LENGTH_DIFFERENCE_MAX {
                continue;
            }
            let cells = &mut cache.cells[column];
            if cells.len() <= row {
                cells.resize(row + 1, None);
            }
            let (sim, kind) = match cells[row] {
                Some(known) => known,
                None => {
                    let computed = span_similarity(query, q, candidate, c, &mut cache.joined);
                    cells[row] = Some(computed);
                    computed
                }
            };
            if sim >= ALIGN_SIMILARITY_MIN {
                scored.push((sim, kind, q, c));
            }
        }
    }
    cache.keep_query_spans(query, query_spans);
    // Most similar first; on a tie, single tokens before joined pairs, then nearer positions.
    scored.sort_unstable_by(|a, b| {
        let span = |x: &(f32, MatchKind, Span, Span)| x.2.1 + x.3.1;
        let distance = |x: &(f32, MatchKind, Span, Span)| x.2.0.abs_diff(x.3.0);
        b.0.total_cmp(&a.0)
            .then(span(a).cmp(&span(b)))
            .then(distance(a).cmp(&distance(b)))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let (query_used, candidate_used) = &mut cache.used;
    query_used.fill(0.0);
    candidate_used.fill(0.0);
    let (query_used, candidate_used) =
        (&mut query_used[..query.tokens.len()], &mut candidate_used[..candidate.tokens.len()]);
    let pairs = &mut cache.pairs;
    pairs.clear();
    for &(sim, kind, q, c) in &scored {
        let free = |used: &[f32], (start, len): Span| used[start..start + len].iter().all(|u| *u == 0.0);
        if !free(query_used, q) || !free(candidate_used, c) {
            continue;
        }
        query_used[q.0..q.0 + q.1].iter_mut().for_each(|u| *u = sim);
        candidate_used[c.0..c.0 + c.1].iter_mut().for_each(|u| *u = sim);
        pairs.push(Pair { query: q, candidate: c, similarity: sim, kind });
    }
    cache.spans = (found, candidate_spans);
    cache.scored = scored;
    pairs.sort_unstable_by_key(|p| p.query.0);
    features(query, candidate, query_used, candidate_used, pairs)
}

/// Whether the first two tokens of each name are aligned crosswise (ali hasan / hasan ali).
pub fn first_two_swapped(pairs: &[Pair]) -> bool {
    [((0, 1), (1, 1)), ((1, 1), (0, 1))].iter().all(|(q, c)| pairs.iter().any(|p| p.query == *q && p.candidate == *c))
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
    let lacks = |name: &Name, used: &[f32]| name.tokens.iter().zip(used).any(|(t, u)| *u == 0.0 && !t.initial);
    NameFeatures {
        partial: lacks(query, query_used) || lacks(candidate, candidate_used),
        first_two_swapped: first_two_swapped(pairs),
        candidate_matched_tokens: candidate_used
            .iter()
            .enumerate()
            .filter(|(_, u)| **u > 0.0)
            .fold(0, |mask, (i, _)| mask | 1 << i),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of many shapes: both scripts, compounds, articles, MRZ spellings, other origins.
    const NAMES: &[&str] = &[
        "محمد علي حسن",
        "عبد الله بن عبد الرحمن",
        "عبدالله الشمري",
        "ظاهر عويس",
        "ظاهرعويس",
        "أبو بكر البغدادي",
        "فاطمة الزهراء",
        "نور الدين زنكي",
        "Mohammed Ali Hassan",
        "Abd Allah Abdulrahman",
        "ABDULLAH ALSHAMMARI",
        "Dahir Aweys",
        "Dahiraweys",
        "Abu Bakr al-Baghdadi",
        "Sirajuddin Haqqani",
        "Siraj Haqqani",
        "Ezatullah Ezat",
        "Nour Eddine Zangi",
        "Noureddine",
        "Abdelkader Ben Ahmed",
        "Jean-Pierre Dubois",
        "Vít Rakušan",
        "Rakusan",
        "Oğuz Yılmaz",
        "Gulbuddin Hekmatyar",
        "Hekmat Yar",
        "Ould Mohamed Lemine",
        "Alan Elias",
        "Alazzawi Alobaidi",
        "H Al Tikriti",
        "Saddam Hussein Abd al-Majid",
        "Husayn",
        "Abdulameer Alshammari",
        "عبد الأمير الشمري",
        "Abdul Amir al-Shammari",
        "Khalid Sheikh Mohammed",
        "Shaykh",
        "Umm Hani",
    ];

    #[test]
    fn joined_tokens_ruled_out_only_when_they_fall_short() {
        let tokens: Vec<std::sync::Arc<Token>> = NAMES.iter().flat_map(|name| crate::analyze(name).tokens).collect();
        let (mut ruled_out, mut compared) = (0, 0);
        for first in &tokens {
            for second in tokens.iter().filter(|t| t.script == first.script) {
                let joined = Joined::of(first, second);
                // What the tokens' symbols and measures give is what the joined symbols have.
                let mut full = Symbols::from_slice(&first.full);
                full.extend_from_slice(&second.full);
                full.dedup();
                let cross = crate::convert::cross_symbols(&full);
                assert_eq!((&joined.full, &joined.cross), (&full, &cross));
                assert_eq!(joined.measures, (Measure::of(&full), Measure::of(&cross)), "{full:?}");
                for single in &tokens {
                    compared += 1;
                    if !joined_surely_apart(first, second, single) {
                        continue;
                    }
                    ruled_out += 1;
                    let unit = Unit::joined(&joined, first, second);
                    for (similarity, _) in
                        [unit_similarity(&unit, &Unit::of(single), 0.0), unit_similarity(&Unit::of(single), &unit, 0.0)]
                    {
                        assert!(
                            similarity < ALIGN_SIMILARITY_MIN,
                            "{} {} / {}: {similarity}",
                            first.text,
                            second.text,
                            single.text
                        );
                    }
                }
            }
        }
        // Most pairs of a joined reading and a token are different names.
        assert!(ruled_out * 2 > compared, "{ruled_out} of {compared}");
    }

    /// What `token_similarity_from` says of a pair against the similarity in full: the same
    /// when it reaches `least`, below `least` when it does not.
    fn similarity_from_holds(a: &Token, b: &Token) -> Result<(), String> {
        let (full, kind) = token_similarity(a, b);
        for least in [0.0, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, full, full + 1e-6, full - 1e-6] {
            let (from, kind_from) = token_similarity_from(a, b, least);
            let holds = if full >= least { from == full && kind_from == kind } else { from < least };
            if !holds {
                return Err(format!("{} / {}: {full} in full, {from} from {least}", a.text, b.text));
            }
        }
        Ok(())
    }

    #[test]
    fn a_similarity_from_a_least_is_the_similarity_when_it_reaches_it() {
        let tokens: Vec<std::sync::Arc<Token>> = NAMES.iter().flat_map(|name| crate::analyze(name).tokens).collect();
        for a in &tokens {
            for b in &tokens {
                similarity_from_holds(a, b).unwrap();
            }
        }
    }

    proptest::proptest! {
        /// Close spellings, where the similarity is most often near the least asked for: a
        /// name of the list and the same name with a few letters changed.
        #[test]
        fn a_similarity_from_a_least_holds_for_close_spellings(
            name in 0..NAMES.len(),
            edits in proptest::collection::vec((0usize..40, "[a-z]?"), 0..4),
        ) {
            let written = NAMES[name];
            let mut edited: Vec<char> = written.chars().collect();
            for (at, letter) in &edits {
                let at = at % (edited.len() + 1);
                match letter.chars().next() {
                    Some(letter) if at < edited.len() && at.is_multiple_of(2) => edited[at] = letter,
                    Some(letter) => edited.insert(at, letter),
                    None if at < edited.len() => { edited.remove(at); }
                    None => {}
                }
            }
            let edited: String = edited.into_iter().collect();
            let (a, b) = (crate::analyze(written), crate::analyze(&edited));
            for x in &a.tokens {
                for y in &b.tokens {
                    similarity_from_holds(x, y).map_err(proptest::test_runner::TestCaseError::fail)?;
                    similarity_from_holds(y, x).map_err(proptest::test_runner::TestCaseError::fail)?;
                }
            }
        }
    }
}
