//! A segment: alerts indexed once, never changed (a snapshot marks its removed entries).

use std::sync::{Arc, OnceLock};

use smallvec::SmallVec;

use tabadul_domain::{AgencyCode, AlertId, Category, Visibility};
use tabadul_engine::model::coverage_logit;
use tabadul_engine::{Facts, PreparedPerson, evidence_logit, facts_logit, normalise_document};
use tabadul_names::{ALIGN_SIMILARITY_MIN, TOKENS_PER_NAME_MAX, Token, coarse_skeleton_of, token_similarity_from};

use crate::gather::{Gatherer, Read, select_best};
use crate::{IndexedAlert, IndexedSubject, SearchStats, Viewer};
use tabadul_names::fx::FxMap;

/// A query token whose posting lists together hold more entries than this is "common": it
/// adds weight to candidates found by rarer tokens instead of bringing its own.
const RARE_POSTINGS_MAX: usize = 512;
/// The second rarest token of a check is an anchor (see [`Segment::candidates`]) when its
/// posting lists together hold at most this many entries.
const SECOND_ANCHOR_POSTINGS_MAX: usize = 32_768;
/// Most candidates a segment gathers for one search before ranking.
const GATHERED_MAX: usize = 50_000;
/// Vocabulary tokens compared in full with one query token, at most.
const COMPARED_PER_TOKEN_MAX: usize = 768;
/// Posting groups a query token matches, at most (its closest spellings).
const GROUPS_PER_TOKEN_MAX: usize = 64;
/// Tokens of a name, from its first, that are paired in the pair postings.
const PAIR_TOKENS_MAX: usize = 4;
/// Candidates ranked on their other evidence, per candidate scored in full.
const PRESELECT_FACTOR: usize = 16;
/// Vocabulary tokens whose cross-script form differs in length by more than this from the
/// query token's are not compared (they cannot reach the alignment threshold).
const LENGTH_DIFFERENCE_MAX: usize = 3;
/// The farthest a vocabulary token's skeleton is from a query token's and still compared:
/// eight for each edit (at most one for four symbols) and one for each symbol of length.
const CLOSENESS_MAX: usize = (1 + COARSE_COMPARED / 4) * 8 + LENGTH_DIFFERENCE_MAX;
/// Spellings of a token counted when counting namesakes, at most (its closest).
const NAMESAKE_SPELLINGS_MAX: usize = 8;
/// Entries read when counting namesakes, at most.
const NAMESAKES_READ_MAX: usize = 4096;
/// Entries whose cards are read ahead together when counting namesakes (see
/// [`Segment::touch_cards`]): about what a common name finds before the count is reached.
const NAMESAKES_TOUCHED: usize = 64;
/// The least similarity of a spelling counted as the same name when counting namesakes.
const NAMESAKE_SIMILARITY_MIN: f32 = 0.85;
// A category is told apart by the low byte of a question (see `Segment::question`).
const _: () = assert!(Category::ALL.len() <= 256);
/// Posting groups below this number are entries of the known-names table; above, tokens.
const TOKEN_GROUPS_START: u32 = 1 << 16;

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: AlertId,
    pub person: Option<PreparedPerson>,
    source: IndexedAlert,
}

/// What choosing and ranking an entry as a candidate reads of it, in one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Card {
    owner: u16,
    category: Category,
    expires: Option<time::Date>,
    /// Whether the alert is of a person.
    person: bool,
    /// What its other evidence is compared on (none for a person with more than
    /// [`Facts`] holds, or for an alert that is not a person).
    facts: Option<Facts>,
    /// The weight of the person's lightest name (see [`name_weight`]).
    name_weight: f32,
}

thread_local! {
    /// The buffers of gathering, kept from one search on this thread to the next so that
    /// their memory is not allocated and grown every time.
    static GATHERER: std::cell::RefCell<Gatherer> = Default::default();
    /// The entries a count of namesakes has met, likewise.
    static MET: std::cell::RefCell<Marks> = Default::default();
}

/// A set of entries as bits: marking one is a shift and an or where a hash set hashed and
/// probed (a count of namesakes marks hundreds). What is marked is remembered so that
/// clearing touches only that.
#[derive(Debug, Default)]
struct Marks {
    bits: Vec<u64>,
    marked: Vec<u32>,
}

impl Marks {
    /// Marks `entry`; whether it was not marked yet.
    fn mark(&mut self, entry: u32) -> bool {
        let (word, bit) = (entry as usize / 64, 1u64 << (entry % 64));
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let new = self.bits[word] & bit == 0;
        if new {
            self.bits[word] |= bit;
            self.marked.push(entry);
        }
        new
    }

    fn clear(&mut self) {
        for entry in self.marked.drain(..) {
            self.bits[entry as usize / 64] = 0;
        }
    }
}

/// Posting groups with a weight each.
type Groups = Box<[(u32, f32)]>;

/// A token's closest spellings' posting groups, as namesakes are counted by.
type Spellings = SmallVec<[u32; NAMESAKE_SPELLINGS_MAX]>;

/// What a batch of searches computes once in a segment and shares (see
/// [`crate::SearchBatch`]).
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub unknown: Unknown,
    pub spellings: KeptSpellings,
}

/// The groups computed for tokens outside a segment's vocabulary during a batch of searches (a
/// manifest's travellers: a family's name, a misspelling the carrier repeats), by key, each
/// with the weight of the token it was computed for. Bounded: past [`UNKNOWN_KEPT_MAX`] keys,
/// more are computed again each time.
pub(crate) type Unknown = FxMap<String, (f32, Groups)>;

/// Keys of unknown tokens a batch keeps the groups of, per segment, at most.
const UNKNOWN_KEPT_MAX: usize = 16_384;

/// The spellings namesakes are counted by in a segment, of the candidates' tokens met during a
/// batch of searches (the hits of one traveller share their names, a manifest's travellers
/// their common names), by the token's address: a token of a segment that the batch keeps
/// alive, so no other token takes its place. Bounded by [`SPELLINGS_KEPT_MAX`].
pub(crate) type KeptSpellings = FxMap<usize, Spellings>;

/// Tokens a batch keeps the namesakes' spellings of, per segment, at most.
const SPELLINGS_KEPT_MAX: usize = 65_536;

/// The groups a token matches ([`Segment::groups_of`]): computed for a token outside the
/// vocabulary, read from their cell (each times the token's weight) for one of it.
enum MatchingGroups<'s> {
    Computed(std::vec::IntoIter<(u32, f32)>),
    Kept(std::slice::Iter<'s, (u32, f32)>, f32),
}

impl Iterator for MatchingGroups<'_> {
    type Item = (u32, f32);

    fn next(&mut self) -> Option<(u32, f32)> {
        match self {
            MatchingGroups::Computed(groups) => groups.next(),
            MatchingGroups::Kept(groups, weight) => groups.next().map(|(g, w)| (*g, w * *weight)),
        }
    }
}

/// A vocabulary token as a blocking key lists it: its id, the length of its cross-script
/// form, its shape and coarse skeleton, so that most tokens of a key are passed over without
/// touching the token itself.
#[derive(Debug, Clone, Copy)]
struct KeyedToken {
    id: u32,
    cross_len: u16,
    shape: Shape,
    coarse: Coarse,
}

/// The first symbols of a reading's coarse skeleton, inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Coarse {
    symbols: [u8; COARSE_COMPARED],
    len: u8,
}

/// Symbols of the coarse skeleton compared before a full comparison.
const COARSE_COMPARED: usize = 8;

impl Coarse {
    fn of(cross: &[u8]) -> Coarse {
        let skeleton = coarse_skeleton_of(cross);
        let mut symbols = [0; COARSE_COMPARED];
        let len = skeleton.len().min(COARSE_COMPARED);
        symbols[..len].copy_from_slice(&skeleton[..len]);
        Coarse { symbols, len: len as u8 }
    }

    fn as_slice(&self) -> &[u8] {
        &self.symbols[..usize::from(self.len)]
    }

    /// The places of each of its symbols, as bits: what comparing it with many others reads.
    fn places(&self) -> Places {
        let mut bits = [0u8; 256];
        for (place, &symbol) in self.as_slice().iter().enumerate() {
            bits[usize::from(symbol)] |= 1 << place;
        }
        Places { bits, len: usize::from(self.len) }
    }
}

/// A coarse skeleton ready to be compared with many (a query token's with a blocking key's
/// thousands): bit `i` of `bits[s]` when symbol `s` is its `i`th.
struct Places {
    bits: [u8; 256],
    len: usize,
}

// A skeleton's places fit the bits of a byte.
const _: () = assert!(COARSE_COMPARED <= 8);

impl Places {
    /// How many edits the skeleton is from `other` when it is a few (one for short ones), the
    /// most that two spellings of one name differ by once the romanisations' confusions are
    /// merged.
    fn edits_to(&self, other: &Coarse) -> Option<usize> {
        let other = other.as_slice();
        let allowed = 1 + self.len.max(other.len()) / 4;
        if self.len.abs_diff(other.len()) > allowed {
            return None;
        }
        Some(self.edits(other)).filter(|edits| *edits <= allowed)
    }

    /// The Levenshtein distance of the skeleton and `other`, by Myers' bit-parallel algorithm
    /// (as Hyyrö writes it for the distance of whole strings): a column of the table is kept
    /// as its steps down the column, up (+1) or down (-1), a bit per symbol each, and moved one
    /// symbol of `other` along in a dozen word operations, where the table computes a cell per
    /// symbol. The distance is followed along the last row.
    fn edits(&self, other: &[u8]) -> usize {
        let Some(last) = self.len.checked_sub(1).map(|last| 1u32 << last) else { return other.len() };
        // The first column: every step down adds one.
        let (mut up, mut down, mut distance) = (u32::MAX, 0u32, self.len);
        for &symbol in other {
            let equal = u32::from(self.bits[usize::from(symbol)]);
            let vertical = equal | down;
            let horizontal = (((equal & up).wrapping_add(up)) ^ up) | equal;
            let rises = down | !(horizontal | up);
            let falls = up & horizontal;
            // (Never both: a step rises or falls. Counted without a branch, which the
            // symbols would make unpredictable.)
            distance = distance + usize::from(rises & last != 0) - usize::from(falls & last != 0);
            // The first row rises by one at each symbol.
            let (rises, falls) = ((rises << 1) | 1, falls << 1);
            up = falls | !(vertical | rises);
            down = rises & vertical;
        }
        distance
    }
}

/// A cheap summary of a token's consonants: its first consonant class and the set of its
/// classes. Two spellings of one name nearly always agree on the first and differ in at
/// most a few classes; a token that does not is not compared in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    first: u8,
    classes: u32,
}

/// Classes of consonants differing more than this many times between the query token and a
/// vocabulary token rule the vocabulary token out.
const SHAPE_DIFFERENCE_MAX: u32 = 3;

impl Shape {
    fn of(cross: &[u8]) -> Shape {
        let mut first = 0;
        let mut classes = 0u32;
        for symbol in cross.iter().copied() {
            let class = match symbol {
                b'w' | b'y' => continue,
                b'H' | b'x' | b'h' => b'h',
                b'q' | b'g' | b'G' | b'k' => b'k',
                b'T' | b'S' | b'c' | b's' => b's',
                b'D' | b'z' => b'z',
                b'p' | b'b' => b'b',
                b'v' | b'f' => b'f',
                other => other.to_ascii_lowercase(),
            };
            if first == 0 {
                first = class;
            }
            classes |= 1 << (class % 32);
        }
        Shape { first, classes }
    }

    fn close_to(self, other: Shape) -> bool {
        // A short name may differ in one class, a long one in up to three.
        let allowed = (1 + self.classes.count_ones() / 3).min(SHAPE_DIFFERENCE_MAX);
        self.first == other.first && (self.classes ^ other.classes).count_ones() <= allowed
    }
}

/// A list of numbers per posting group, found by the group's number without hashing: the
/// known-names table's entries first, then the vocabulary's tokens (see [`group_of`]). A check
/// looks up a hundred or more groups, each a cache miss in a hash table of a million.
#[derive(Debug)]
struct GroupLists<T = u32> {
    known: Vec<Vec<T>>,
    tokens: Vec<Vec<T>>,
}

impl<T> Default for GroupLists<T> {
    fn default() -> GroupLists<T> {
        GroupLists { known: Vec::new(), tokens: Vec::new() }
    }
}

/// Whether a group's list is among the known names' (else the tokens'), and where.
fn place(group: u32) -> (bool, usize) {
    match group.checked_sub(TOKEN_GROUPS_START) {
        None => (true, group as usize),
        Some(token) => (false, token as usize),
    }
}

impl<T> GroupLists<T> {
    fn list(&self, group: u32) -> &[T] {
        let (known, at) = place(group);
        let lists = if known { &self.known } else { &self.tokens };
        lists.get(at).map_or(&[][..], Vec::as_slice)
    }

    fn list_mut(&mut self, group: u32) -> &mut Vec<T> {
        let (known, at) = place(group);
        let lists = if known { &mut self.known } else { &mut self.tokens };
        if lists.len() <= at {
            lists.resize_with(at + 1, Vec::new);
        }
        &mut lists[at]
    }

    fn for_each_mut(&mut self, f: impl FnMut(&mut Vec<T>)) {
        self.known.iter_mut().chain(self.tokens.iter_mut()).for_each(f);
    }

    fn memory_bytes(&self) -> usize {
        self.known.iter().chain(&self.tokens).map(|list| 24 + list.capacity() * std::mem::size_of::<T>()).sum()
    }
}

/// A posting group paired with another (see [`Segment::partners`]), and where the entries
/// that have both lie in [`Segment::pair_entries`]: a segment's partners as built.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Partner {
    group: u32,
    pair: PairSpan,
}

/// Where the entries that have both groups of a pair lie in [`Segment::pair_entries`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct PairSpan {
    start: u64,
    len: u32,
}

/// Numbers of a partners list (see [`Partners`]) per partner: its group, and its pair's span
/// (length, start's low half, start's high half).
const PARTNER_WORDS: usize = 4;

/// A posting group's partners (see [`Segment::partners`]), kept as one list of numbers: the
/// groups it is paired with (ascending), then each one's [`PairSpan`] in three numbers. The
/// groups, which checks search, lie densely, four bytes each, and a search in them reads a
/// quarter of the cache lines that one in whole partners read.
#[derive(Debug, Clone, Copy)]
struct Partners<'s> {
    groups: &'s [u32],
    spans: &'s [u32],
}

impl<'s> Partners<'s> {
    fn of(list: &'s [u32]) -> Partners<'s> {
        let (groups, spans) = list.split_at(list.len() / PARTNER_WORDS);
        Partners { groups, spans }
    }

    /// Writes `partners` (ascending by group) as a list that [`Partners::of`] reads.
    fn write(partners: &[Partner]) -> Vec<u32> {
        let mut list = Vec::with_capacity(partners.len() * PARTNER_WORDS);
        list.extend(partners.iter().map(|partner| partner.group));
        for Partner { pair, .. } in partners {
            list.extend([pair.len, pair.start as u32, (pair.start >> 32) as u32]);
        }
        list
    }

    /// The span of the pair with the `at`th group.
    fn span(&self, at: usize) -> PairSpan {
        match self.spans.get(at * 3..at * 3 + 3) {
            Some(&[len, low, high]) => PairSpan { start: u64::from(low) | (u64::from(high) << 32), len },
            _ => PairSpan { start: 0, len: 0 },
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Segment {
    agencies: Vec<AgencyCode>,
    entries: Vec<Entry>,
    /// Per entry, what choosing and ranking candidates reads of it, densely: the cache misses
    /// of reading hundreds of entries scattered over the heap cost more than the ranking.
    cards: Vec<Card>,
    by_id: FxMap<u128, u32>,
    vocabulary: Vec<Arc<Token>>,
    /// Token key -> its place in the vocabulary.
    vocabulary_ids: FxMap<String, u32>,
    /// The posting groups each vocabulary token matches (for a weight of 1), by its place in
    /// the vocabulary, computed the first time a check has that token (or ahead, by `warm`):
    /// most tokens of checks are tokens of the vocabulary, and the same names are checked
    /// again and again. Read without a lock once computed. Derived data only: it never changes
    /// what a search finds.
    neighbours: Vec<OnceLock<Groups>>,
    /// Blocking key -> tokens of the vocabulary, with what filters them without reading them.
    keys: FxMap<u64, Vec<KeyedToken>>,
    /// Posting group -> entries (ascending).
    postings: GroupLists,
    /// The entries (ascending) that have two posting groups in one name, pair after pair:
    /// what a check of two frequent names (محمد علي) reads instead of two long lists.
    pair_entries: Vec<u32>,
    /// Posting group -> the groups it is paired with (ascending), each with where its pair's
    /// entries are (see [`Partners`]): most pairs a check asks for are not there, and a search
    /// in a short list that stays in the cache tells so faster than the miss in a table of
    /// millions; the pairs that are there are read from where the search ended (a table of
    /// pairs cost a miss or two more each, thousands a manifest).
    partners: GroupLists,
    documents: FxMap<(String, String), Vec<u32>>,
    vins: FxMap<String, Vec<u32>>,
    plates: FxMap<String, Vec<u32>>,
}

fn hash_key(tag: u8, symbols: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = tabadul_names::fx::FxHasher::default();
    hasher.write(&[tag]);
    hasher.write(symbols);
    hasher.write_usize(symbols.len());
    hasher.finish()
}

/// The readings of a token in the cross-script space: its own, and the alternative one.
fn readings(token: &Token) -> impl Iterator<Item = &[u8]> {
    std::iter::once(token.cross.as_slice()).chain(token.alternative.as_ref().map(|a| a.cross.as_slice()))
}

/// The blocking keys of a reading: the first four symbols of its coarse skeleton, and its first
/// symbol with its last two.
fn blocking_keys(cross: &[u8]) -> [Option<u64>; 2] {
    let coarse = coarse_skeleton_of(cross);
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
        // Two posting groups of one name (the lower first) -> entries.
        let mut pair_postings: FxMap<u64, Vec<u32>> = FxMap::default();
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
                    let mut pairs = Vec::new();
                    for name in &mut prepared.names {
                        let mut name_groups = Vec::new();
                        for token in &mut name.tokens {
                            let id = *segment.vocabulary_ids.entry(token.key.clone()).or_insert_with(|| {
                                let slot = segment.vocabulary.len() as u32;
                                let mut kept = (**token).clone();
                                kept.slot = slot;
                                segment.vocabulary.push(Arc::new(kept));
                                slot
                            });
                            *token = segment.vocabulary[id as usize].clone();
                            name_groups.push(group_of(token, id));
                        }
                        for (i, a) in name_groups.iter().enumerate().take(PAIR_TOKENS_MAX) {
                            for b in name_groups.iter().take(PAIR_TOKENS_MAX).skip(i + 1) {
                                pairs.push(pair_key(*a, *b));
                            }
                        }
                        groups.extend(name_groups);
                    }
                    groups.sort_unstable();
                    groups.dedup();
                    pairs.sort_unstable();
                    pairs.dedup();
                    for group in groups {
                        segment.postings.list_mut(group).push(index);
                    }
                    for pair in pairs {
                        pair_postings.entry(pair).or_default().push(index);
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
            segment.cards.push(Card {
                owner,
                category: alert.category,
                expires: alert.expires,
                person: person.is_some(),
                facts: person.as_ref().and_then(Facts::of),
                name_weight: person.as_ref().map_or(0.0, lightest_name_weight),
            });
            segment.by_id.insert(alert.id.0, index);
            segment.entries.push(Entry { id: alert.id, person, source: alert });
        }
        segment.pair_entries.reserve_exact(pair_postings.values().map(Vec::len).sum());
        let mut partners: GroupLists<Partner> = GroupLists::default();
        for (pair, entries) in pair_postings {
            let (low, high) = ((pair >> 32) as u32, pair as u32);
            let span = PairSpan { start: segment.pair_entries.len() as u64, len: entries.len() as u32 };
            segment.pair_entries.extend(entries);
            partners.list_mut(low).push(Partner { group: high, pair: span });
            if low != high {
                partners.list_mut(high).push(Partner { group: low, pair: span });
            }
        }
        let write = |lists: Vec<Vec<Partner>>| -> Vec<Vec<u32>> {
            lists
                .into_iter()
                .map(|mut list| {
                    list.sort_unstable_by_key(|partner| partner.group);
                    Partners::write(&list)
                })
                .collect()
        };
        segment.partners = GroupLists { known: write(partners.known), tokens: write(partners.tokens) };
        segment.postings.for_each_mut(Vec::shrink_to_fit);
        segment.neighbours = segment.vocabulary.iter().map(|_| OnceLock::new()).collect();
        for (id, token) in segment.vocabulary.iter().enumerate() {
            for reading in readings(token) {
                let keyed = KeyedToken {
                    id: id as u32,
                    cross_len: reading.len().min(usize::from(u16::MAX)) as u16,
                    shape: Shape::of(reading),
                    coarse: Coarse::of(reading),
                };
                for key in blocking_keys(reading).into_iter().flatten() {
                    segment.keys.entry(key).or_default().push(keyed);
                }
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

    /// The owner and category of entry `index` (from its card).
    pub fn owner_and_category(&self, index: u32) -> (&AgencyCode, Category) {
        let card = &self.cards[index as usize];
        (&self.agencies[usize::from(card.owner)], card.category)
    }

    pub fn position(&self, id: AlertId) -> Option<u32> {
        self.by_id.get(&id.0).copied()
    }

    /// What a viewer is asked about entry `index` (see [`Segment::visibility`]) as one number,
    /// its owner's place in the segment and its category, by which a search remembers the
    /// answer; `None` for an alert that expires (the answer may depend on the date).
    #[inline]
    pub fn question(&self, index: u32) -> Option<u32> {
        let card = &self.cards[index as usize];
        card.expires.is_none().then(|| (u32::from(card.owner) << 8) | card.category as u32)
    }

    /// What `viewer` may see of entry `index` (read from its card: one cache line).
    pub fn visibility(&self, index: u32, viewer: &dyn Viewer, today: time::Date) -> Visibility {
        let card = &self.cards[index as usize];
        if card.expires.is_some_and(|expires| today > expires) {
            return Visibility::Hidden;
        }
        let (owner, category) = self.owner_and_category(index);
        viewer.visibility(owner, category, card.expires)
    }

    /// The alerts of the entries not removed, to build a merged segment from.
    pub fn live_alerts(&self, removed: impl Fn(u32) -> bool) -> Vec<IndexedAlert> {
        self.entries.iter().enumerate().filter(|(i, _)| !removed(*i as u32)).map(|(_, e)| e.source.clone()).collect()
    }

    pub fn memory_bytes(&self) -> usize {
        let tokens: usize =
            self.vocabulary.iter().map(|t| 64 + t.text.len() + t.key.len() + t.full.len() + t.cross.len()).sum();
        let postings = self.postings.memory_bytes();
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
        let pairs = self.pair_entries.capacity() * 4 + self.partners.memory_bytes();
        let neighbours: usize = self.neighbours.iter().map(|n| 24 + n.get().map_or(0, |groups| groups.len() * 8)).sum();
        tokens
            + postings
            + pairs
            + keys * 2
            + entries
            + neighbours
            + self.cards.capacity() * std::mem::size_of::<Card>()
            + self.vocabulary_ids.len() * 48
            + self.by_id.len() * 24
    }

    /// The number of tokens in the vocabulary.
    pub fn vocabulary_len(&self) -> usize {
        self.vocabulary.len()
    }

    /// Computes the neighbours of the vocabulary tokens `from..to` ahead of checks.
    pub fn warm(&self, from: usize, to: usize) {
        for token in self.vocabulary.iter().take(to).skip(from) {
            // Fills the token's cell; nothing is copied out of it.
            let _ = self.groups_of(token);
        }
    }

    /// Gathers the candidates of a person search that `visible` lets through, each with a
    /// prior: the weight of its matched tokens and what its other evidence says.
    pub fn candidates(
        &self,
        query: &PreparedPerson,
        visible: &impl Fn(u32) -> bool,
        keep: usize,
        stats: &mut SearchStats,
        unknown: &mut Unknown,
    ) -> Vec<(f32, u32)> {
        let mut seen_keys: Vec<&str> = Vec::new();
        let mut plans: Vec<(usize, Vec<(u32, f32)>)> = Vec::new();
        for token in query.names.iter().flat_map(|n| n.tokens.iter()) {
            if token.initial || seen_keys.contains(&token.key.as_str()) {
                continue;
            }
            seen_keys.push(&token.key);
            let groups = self.matching_groups(token, unknown);
            let size = groups.iter().map(|(g, _)| self.postings.list(*g).len()).sum();
            plans.push((size, groups));
        }
        // A token that matches nothing in this segment says nothing about its entries: the
        // rarest token is the rarest that does.
        plans.retain(|(size, _)| *size > 0);
        plans.sort_by_key(|(size, _)| *size);
        let Some((rarest_size, rarest)) = plans.first() else { return Vec::new() };
        let rare = |size: usize| size <= RARE_POSTINGS_MAX;
        // The tokens that frequent names are read together with: the rarest, and the next
        // rarest unless it is very frequent itself, so that a rare name the alert lacks (a
        // tribe, a grandfather's name) is not the only door to it. Each with its token, its
        // groups and whether its own entries are read.
        let partners = |groups: &[(u32, f32)]| -> Vec<Partners> {
            groups.iter().map(|(group, _)| Partners::of(self.partners.list(*group))).collect()
        };
        let mut anchors = vec![(0, rarest, rare(*rarest_size), partners(rarest))];
        if let Some((size, groups)) = plans.get(1).filter(|(size, _)| *size <= SECOND_ANCHOR_POSTINGS_MAX) {
            anchors.push((1, groups, rare(*size), partners(groups)));
        }
        // The posting lists to read, each with the query token it is read for and the weight
        // it adds.
        let mut reads: Vec<Read> = Vec::new();
        let postings = |group: &u32| self.postings.list(*group);
        if rare(*rarest_size) || plans.len() == 1 {
            // The rarest token brings its entries (a lone frequent name: as many as allowed).
            reads.extend(rarest.iter().map(|(group, weight)| (postings(group), 0, *weight)));
        }
        for (token, (size, groups)) in plans.iter().enumerate().skip(1) {
            let index = u16::try_from(token).unwrap_or(u16::MAX);
            if rare(*size) {
                reads.extend(groups.iter().map(|(group, weight)| (postings(group), index, *weight)));
                continue;
            }
            // A frequent name: the entries that have it together with an anchor (and the
            // anchor's weight too when its own entries are not read).
            for (anchor, anchor_groups, anchor_read, anchor_partners) in &anchors {
                if *anchor == token {
                    continue;
                }
                for (i, j, pair) in partnered(groups, anchor_partners) {
                    let (weight, anchor_weight) = (groups[i].1, anchor_groups[j].1);
                    let weight = if *anchor_read { weight } else { weight + anchor_weight };
                    reads.push((self.pair(&pair), index, weight));
                }
            }
        }
        stats.postings_read += reads.iter().map(|(entries, _, _)| entries.len()).sum::<usize>();
        // Ranked by the matched weight first, cheaply; only the best few get the look at their
        // visibility and their other evidence.
        let mut gathered = GATHERER.with_borrow_mut(|gatherer| gatherer.gather(&reads, GATHERED_MAX));
        let keep = keep.saturating_mul(PRESELECT_FACTOR).max(1);
        let mut ranked = Vec::with_capacity(keep.min(gathered.len()));
        let mut rest = &mut gathered[..];
        while ranked.len() < keep && !rest.is_empty() {
            // The next best entries, as many as are still wanted: those that may not be seen
            // leave room for the next.
            let wanted = (keep - ranked.len()).min(rest.len());
            select_best(rest, wanted);
            let (best, others) = rest.split_at_mut(wanted);
            self.touch_cards(best.iter().map(|ranked| ranked.entry()));
            ranked.extend(
                best.iter()
                    .map(|ranked| (ranked.weight(), ranked.entry()))
                    .filter(|(_, entry)| self.cards[*entry as usize].person && visible(*entry)),
            );
            rest = others;
        }
        // The matched weight as shares of the query's and of the candidate's names, as the
        // model weighs them, and the other evidence.
        let query_weight = heaviest_name_weight(query);
        let query_facts = Facts::of(query);
        for (prior, entry) in &mut ranked {
            let card = &self.cards[*entry as usize];
            let evidence = match (&query_facts, &card.facts) {
                (Some(query_facts), Some(facts)) => facts_logit(query_facts, facts),
                _ => self.entries[*entry as usize].person.as_ref().map_or(0.0, |person| evidence_logit(query, person)),
            };
            let share = |weight: f32| if weight > 0.0 { (*prior / weight).min(1.0) } else { 0.0 };
            *prior = coverage_logit(share(query_weight), share(card.name_weight)) + evidence;
        }
        ranked
    }

    /// Reads the cards of `entries` in a loop of independent loads, so that their cache misses
    /// (hundreds of cards scattered over 64 MB) overlap instead of waiting one after the other
    /// behind the visibility rule's branches and calls; what follows finds them in the cache.
    fn touch_cards(&self, entries: impl Iterator<Item = u32>) {
        read_ahead(entries.map(|entry| u64::from(self.cards.get(entry as usize).map_or(0, |card| card.owner))));
    }

    /// Reads what comparing the vocabulary tokens `ids` reads first of each, in one loop of
    /// independent loads (see [`Segment::touch_cards`]): the tokens lie scattered over the heap,
    /// and a comparison's long arithmetic otherwise keeps the next token's miss from starting.
    fn touch_tokens(&self, ids: impl Iterator<Item = u32>) {
        // A level at a time (see [`Segment::touch_people`]): the tokens' addresses, then the tokens.
        let tokens: SmallVec<[&Token; 256]> =
            ids.filter_map(|id| self.vocabulary.get(id as usize).map(|t| &**t)).collect();
        read_ahead(tokens.iter().map(|token| token.touch()));
    }

    /// Reads what scoring `entries` reads first of each person (see [`Segment::touch_tokens`]):
    /// the entry, its names and their tokens, each a load behind the other on the heap. One
    /// level at a time for all the people: the loads of a level are independent and their
    /// misses overlap, where a person's chain followed to its end before the next person's
    /// waits for each link in turn.
    pub fn touch_people(&self, entries: impl Iterator<Item = u32>) {
        let people: SmallVec<[&PreparedPerson; 64]> =
            entries.filter_map(|entry| self.entries.get(entry as usize).and_then(|e| e.person.as_ref())).collect();
        let names: SmallVec<[&[Arc<Token>]; 128]> =
            people.iter().flat_map(|person| person.names.iter().map(|name| name.tokens.as_slice())).collect();
        let tokens: SmallVec<[&Token; 256]> = names.iter().flat_map(|tokens| tokens.iter().map(|t| &**t)).collect();
        read_ahead(tokens.iter().map(|token| token.touch()));
    }

    /// The posting groups of the vocabulary that a query token matches, with its weight times
    /// the similarity; those of a token outside the vocabulary computed once in a batch of
    /// searches (`unknown`).
    fn matching_groups(&self, token: &Token, unknown: &mut Unknown) -> Vec<(u32, f32)> {
        if let Some(&id) = self.vocabulary_ids.get(&token.key) {
            return self.kept_groups(id, token).collect();
        }
        let weight = token.weight();
        // A token's weight follows from its key: the groups as computed for the first. (Were
        // a weight ever to differ, they are computed again, so that results stay the same.)
        if let Some((kept_weight, groups)) = unknown.get(&token.key)
            && *kept_weight == weight
        {
            return groups.to_vec();
        }
        let groups = self.compute_groups(token);
        if unknown.len() < UNKNOWN_KEPT_MAX && !unknown.contains_key(&token.key) {
            unknown.insert(token.key.clone(), (weight, groups.clone().into_boxed_slice()));
        }
        groups
    }

    /// [`Segment::matching_groups`], read where they are kept for a token of the vocabulary
    /// (namesakes are counted for thousands of candidates' tokens a manifest, each a copy).
    fn groups_of<'s>(&'s self, token: &Token) -> MatchingGroups<'s> {
        // A token of this vocabulary says where it is (the candidates' tokens, whose namesakes
        // are counted); another is looked up by its key.
        if self.vocabulary.get(token.slot as usize).is_some_and(|kept| std::ptr::eq(&**kept, token)) {
            return self.kept_groups(token.slot, token);
        }
        match self.vocabulary_ids.get(&token.key) {
            Some(&id) => self.kept_groups(id, token),
            None => MatchingGroups::Computed(self.compute_groups(token).into_iter()),
        }
    }

    /// The groups of vocabulary token `id` (whose key `token` has), from its cell.
    fn kept_groups<'s>(&'s self, id: u32, token: &Token) -> MatchingGroups<'s> {
        let unit = || -> Groups {
            let vocabulary_token = &self.vocabulary[id as usize];
            let weight = vocabulary_token.weight();
            self.compute_groups(vocabulary_token).into_iter().map(|(g, w)| (g, w / weight)).collect()
        };
        // A cell per vocabulary token, made with the vocabulary.
        let unit = self.neighbours[id as usize].get_or_init(unit);
        MatchingGroups::Kept(unit.iter(), token.weight())
    }

    fn compute_groups(&self, token: &Token) -> Vec<(u32, f32)> {
        if let Some(known) = token.known {
            // A known name is found through its entry of the table, which groups all its
            // spellings; its short skeleton would otherwise compare it with half the
            // vocabulary.
            return vec![(u32::from(known), token.weight())];
        }
        let tried = self.compared_with(token);
        self.touch_tokens(tried.iter().map(|(_, id)| *id));
        let weight = token.weight();
        let mut groups: FxMap<u32, f32> = FxMap::default();
        let mut bar = Bar::default();
        for (_, id) in tried {
            let candidate = &self.vocabulary[id as usize];
            let group = group_of(candidate, id);
            // A group found already matters again only with a greater similarity. (The bar,
            // and so `least`, is never below the alignment threshold.)
            let least = groups.get(&group).map_or(bar.least, |best| best.max(bar.least));
            let (similarity, _) = token_similarity_from(token, candidate, least);
            if similarity >= least {
                let slot = groups.entry(group).or_default();
                *slot = slot.max(similarity);
                // (Weightless, the groups would be ranked by their numbers alone.)
                if weight > 0.0 {
                    bar.raise(&groups);
                }
            }
        }
        // The most similar spellings first; a name with very many near spellings keeps the
        // closest ones, so that one token cannot flood a check.
        let groups = groups.into_iter().map(|(group, similarity)| (group, weight * similarity)).collect();
        best_groups(groups)
    }

    /// The vocabulary tokens that a token outside the known names is compared with in full,
    /// each with how close its skeleton is, the closest first.
    fn compared_with(&self, token: &Token) -> Vec<(usize, u32)> {
        // Each vocabulary token once, at its closest: a token is found under both blocking
        // keys of a reading, and often under both readings.
        let mut closest: FxMap<u32, usize> = FxMap::with_capacity_and_hasher(1024, Default::default());
        for reading in readings(token) {
            let shape = Shape::of(reading);
            let coarse = Coarse::of(reading).places();
            for key in blocking_keys(reading).into_iter().flatten() {
                for keyed in self.keys.get(&key).map_or(&[][..], Vec::as_slice) {
                    if usize::from(keyed.cross_len).abs_diff(reading.len()) > LENGTH_DIFFERENCE_MAX
                        || !shape.close_to(keyed.shape)
                    {
                        continue;
                    }
                    let Some(edits) = coarse.edits_to(&keyed.coarse) else { continue };
                    let closeness = edits * 8 + usize::from(keyed.cross_len).abs_diff(reading.len());
                    let slot = closest.entry(keyed.id).or_insert(closeness);
                    *slot = (*slot).min(closeness);
                }
            }
        }
        closest_first(closest.into_iter().map(|(id, closeness)| (closeness, id)).collect(), COMPARED_PER_TOKEN_MAX)
    }

    /// How many entries that `visible` lets through carry every one of `tokens` or a close
    /// spelling of it, counted up to `max`: the entries of the two rarest tokens together (or
    /// of the one) that carry the others too, the first [`NAMESAKES_READ_MAX`] of them read.
    /// `tokens` are tokens of segments alive as long as `kept`, which keeps their spellings.
    pub fn namesakes(
        &self,
        tokens: &[&Token],
        visible: &impl Fn(u32) -> bool,
        max: u32,
        kept: &mut KeptSpellings,
    ) -> u32 {
        let postings = |group: &u32| self.postings.list(*group);
        // Each token's closest spellings, the rarest token first (on the stack: a manifest
        // counts the namesakes of a thousand names).
        let mut groups: SmallVec<[Spellings; TOKENS_PER_NAME_MAX]> =
            tokens.iter().map(|token| self.spellings(token, kept)).collect();
        groups.sort_by_key(|groups| groups.iter().map(|g| postings(g).len()).sum::<usize>());
        let (lists, others): (SmallVec<[&[u32]; NAMESAKE_SPELLINGS_MAX * NAMESAKE_SPELLINGS_MAX]>, &[Spellings]) =
            match groups.as_slice() {
                [] => return 0,
                [one] => (one.iter().map(postings).collect(), &[]),
                [a, b, others @ ..] => (
                    a.iter()
                        .flat_map(|ga| {
                            let partners = Partners::of(self.partners.list(*ga));
                            b.iter().map(move |gb| match partners.groups.binary_search(gb) {
                                Ok(at) => self.pair(&partners.span(at)),
                                Err(_) => &[],
                            })
                        })
                        .collect(),
                    others,
                ),
            };
        // An entry with several spellings of the names is in several lists: counted once (one
        // list holds each entry once). The lists are read in order until `max` are found, so
        // a common pair stops early.
        let several = lists.len() > 1;
        MET.with_borrow_mut(|met| {
            let count = self.count_namesakes(&lists, others, visible, max, several.then_some(met));
            met.clear();
            count
        })
    }

    /// The closest spellings of `token` that namesakes are counted by: read where `kept` keeps
    /// them, or computed (and kept, while there is room).
    fn spellings(&self, token: &Token, kept: &mut KeptSpellings) -> Spellings {
        let address = std::ptr::from_ref(token) as usize;
        if let Some(spellings) = kept.get(&address) {
            return spellings.clone();
        }
        let least = token.weight() * NAMESAKE_SIMILARITY_MIN;
        let spellings: Spellings = self
            .groups_of(token)
            .filter(|(_, weight)| *weight >= least)
            .take(NAMESAKE_SPELLINGS_MAX)
            .map(|(group, _)| group)
            .collect();
        if kept.len() < SPELLINGS_KEPT_MAX {
            kept.insert(address, spellings.clone());
        }
        spellings
    }

    /// The entries of `lists` that carry one of each of `others` groups and that `visible`
    /// lets through, counted up to `max` (each once, by `met`, when given).
    fn count_namesakes(
        &self,
        lists: &[&[u32]],
        others: &[Spellings],
        visible: &impl Fn(u32) -> bool,
        max: u32,
        mut met: Option<&mut Marks>,
    ) -> u32 {
        let postings = |group: &u32| self.postings.list(*group);
        let carries = |entry: u32, groups: &[u32]| groups.iter().any(|g| postings(g).binary_search(&entry).is_ok());
        let mut count = 0;
        // The lists' entries in order, the first NAMESAKES_READ_MAX, a chunk at a time (copied
        // a slice at a time: entry by entry through the lists cost more than the counting).
        let (mut lists, mut rest, mut unread) = (lists.iter(), &[][..], NAMESAKES_READ_MAX);
        let mut chunk: SmallVec<[u32; NAMESAKES_TOUCHED]> = SmallVec::new();
        while count < max {
            chunk.clear();
            while chunk.len() < NAMESAKES_TOUCHED && unread > 0 {
                if rest.is_empty() {
                    match lists.next() {
                        Some(list) => rest = list,
                        None => break,
                    }
                    continue;
                }
                let (taken, left) = rest.split_at((NAMESAKES_TOUCHED - chunk.len()).min(rest.len()).min(unread));
                chunk.extend_from_slice(taken);
                (rest, unread) = (left, unread - taken.len());
            }
            if chunk.is_empty() {
                break;
            }
            self.touch_cards(chunk.iter().copied());
            for &entry in &chunk {
                if count >= max {
                    break;
                }
                let namesake = self.cards[entry as usize].person
                    && others.iter().all(|groups| carries(entry, groups))
                    && visible(entry)
                    && met.as_mut().is_none_or(|met| met.mark(entry));
                count += u32::from(namesake);
            }
        }
        count
    }

    /// The entries that have both groups of a pair.
    fn pair(&self, pair: &PairSpan) -> &[u32] {
        let start = usize::try_from(pair.start).unwrap_or(usize::MAX);
        self.pair_entries.get(start..).and_then(|rest| rest.get(..pair.len as usize)).unwrap_or_default()
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

/// The [`GROUPS_PER_TOKEN_MAX`] heaviest of `groups`, the heaviest first (the lowest group
/// among equals).
fn best_groups(mut groups: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    groups.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    groups.truncate(GROUPS_PER_TOKEN_MAX);
    groups
}

/// The least similarity a spelling of a new group must have to be among the
/// [`GROUPS_PER_TOKEN_MAX`] a token keeps, as far as its comparisons have gone: what the
/// last of the best that many groups found has (a hair less, so that rounding in the weights
/// they are ranked by never decides), [`ALIGN_SIMILARITY_MIN`] until that many are found. It
/// only rises, so a spelling below it now could never have been kept, and is not computed in
/// full. Worked out again after every [`BAR_RAISED_EVERY`] groups found or bettered.
#[derive(Debug)]
struct Bar {
    least: f32,
    changes: usize,
}

/// Groups found or bettered between two workings out of a [`Bar`] (each a selection among
/// the groups found so far).
const BAR_RAISED_EVERY: usize = 8;

impl Default for Bar {
    fn default() -> Bar {
        Bar { least: ALIGN_SIMILARITY_MIN, changes: 0 }
    }
}

impl Bar {
    /// After a group of `groups` (by their best similarity) was found or bettered.
    fn raise(&mut self, groups: &FxMap<u32, f32>) {
        self.changes += 1;
        if groups.len() < GROUPS_PER_TOKEN_MAX || self.changes < BAR_RAISED_EVERY {
            return;
        }
        self.changes = 0;
        let mut best: SmallVec<[f32; 256]> = groups.values().copied().collect();
        let (_, last, _) = best.select_nth_unstable_by(GROUPS_PER_TOKEN_MAX - 1, |a, b| b.total_cmp(a));
        self.least = self.least.max(*last * (1.0 - 1e-6));
    }
}

/// The closest of `found` (each a closeness, at most [`CLOSENESS_MAX`], and a vocabulary
/// token), the closest first, `most` at most: of the farthest kept, those of the lowest
/// numbers. Ordered by counting (closeness takes a few dozen values), and within a closeness
/// as found.
///
/// The closest skeletons are compared first because the groups they find soon make the bar
/// that the others must reach to matter (see `Bar`), and comparisons stop early below it.
/// Which are compared is all that matters to the groups found (a group keeps its best
/// similarity), not in which order. A name of common sounds may share its skeleton with
/// thousands of others: no more than `most` are compared in full.
fn closest_first(found: Vec<(usize, u32)>, most: usize) -> Vec<(usize, u32)> {
    let mut starts = [0usize; CLOSENESS_MAX + 2];
    for &(closeness, _) in &found {
        starts[closeness.min(CLOSENESS_MAX) + 1] += 1;
    }
    for at in 1..starts.len() {
        starts[at] += starts[at - 1];
    }
    let mut closest = vec![(0, 0); found.len()];
    let mut next = starts;
    for &(closeness, id) in &found {
        let slot = &mut next[closeness.min(CLOSENESS_MAX)];
        closest[*slot] = (closeness, id);
        *slot += 1;
    }
    if closest.len() > most && most > 0 {
        // The closeness of the last kept, and where those of that closeness lie.
        let last = starts.partition_point(|start| *start < most) - 1;
        let (start, end) = (starts[last], starts[last + 1]);
        let kept = most - start;
        if kept < end - start {
            closest[start..end].select_nth_unstable_by_key(kept - 1, |(_, id)| *id);
        }
    }
    closest.truncate(most);
    closest
}

/// The pairs of `groups` with the groups whose `partners` lists (ascending) these are: `(i, j,
/// pair)` when `partners[j]` holds group `i` as `pair`, ordered by `i` then `j`. Each list is
/// searched for the groups in ascending order, each search galloping on from where the last
/// ended: a frequent name's 64 spellings against an anchor's 64 were 4,096 binary searches
/// from the start of lists of thousands.
fn partnered(groups: &[(u32, f32)], partners: &[Partners]) -> SmallVec<[(usize, usize, PairSpan); 64]> {
    let mut found: SmallVec<[(usize, usize, PairSpan); 64]> = SmallVec::new();
    let mut ascending: SmallVec<[(u32, usize); GROUPS_PER_TOKEN_MAX]> =
        groups.iter().enumerate().map(|(i, (group, _))| (*group, i)).collect();
    ascending.sort_unstable();
    for (j, list) in partners.iter().enumerate() {
        let mut from = 0;
        for &(group, i) in &ascending {
            from = gallop(list.groups, from, group, |partner| *partner);
            match list.groups.get(from) {
                Some(&partner) if partner == group => found.push((i, j, list.span(from))),
                Some(_) => {}
                None => break,
            }
        }
    }
    found.sort_unstable_by_key(|(i, j, _)| (*i, *j));
    found
}

/// The first place at or after `from` in `list`, ascending by `key`, whose key is at least
/// `target` (`list.len()` if none): steps of 1, 2, 4... from `from`, then a binary search in
/// the last.
fn gallop<T>(list: &[T], from: usize, target: u32, key: impl Fn(&T) -> u32) -> usize {
    let rest = list.get(from..).unwrap_or_default();
    let mut bound = 1;
    while bound < rest.len() && key(&rest[bound - 1]) < target {
        bound *= 2;
    }
    let (low, high) = (bound / 2, bound.min(rest.len()));
    from + low + rest[low..high].partition_point(|value| key(value) < target)
}

/// Consumes `values`, each read from memory a search is about to use, so that the loads are
/// made (in one loop of independent loads, their cache misses overlapping) and not optimised
/// away.
fn read_ahead(values: impl Iterator<Item = u64>) {
    std::hint::black_box(values.fold(0u64, u64::wrapping_add));
}

/// The weight of a name: the sum of its tokens' weights, initials aside (they bring no
/// candidates).
fn name_weight(name: &tabadul_names::Name) -> f32 {
    name.tokens.iter().filter(|t| !t.initial).map(|t| t.weight()).sum()
}

fn lightest_name_weight(person: &PreparedPerson) -> f32 {
    person.names.iter().map(name_weight).reduce(f32::min).unwrap_or(0.0)
}

fn heaviest_name_weight(person: &PreparedPerson) -> f32 {
    person.names.iter().map(name_weight).fold(0.0, f32::max)
}

/// The key of two posting groups together, in either order.
fn pair_key(a: u32, b: u32) -> u64 {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(low) << 32) | u64::from(high)
}

/// The posting group of a vocabulary token: its known-names entry, or itself.
fn group_of(token: &Token, id: u32) -> u32 {
    match token.known {
        Some(known) => u32::from(known),
        None => TOKEN_GROUPS_START + id,
    }
}

#[cfg(test)]
mod tests {
    use super::{ALIGN_SIMILARITY_MIN, FxMap, GROUPS_PER_TOKEN_MAX, Segment, best_groups, group_of};
    use super::{
        CLOSENESS_MAX, COARSE_COMPARED, Coarse, Marks, PairSpan, Partner, Partners, closest_first, gallop, partnered,
    };
    use crate::{IndexedAlert, IndexedSubject};
    use tabadul_domain::{AgencyCode, AlertId, Category};
    use tabadul_names::{Token, token_similarity};

    /// The Levenshtein distance of two strings, a cell of the table at a time: the reference
    /// that comparing skeletons by their places is held to.
    fn edits_in_full(a: &[u8], b: &[u8]) -> usize {
        let mut previous: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut current = vec![i];
            for j in 1..=b.len() {
                let replace = previous[j - 1] + usize::from(a[i - 1] != b[j - 1]);
                current.push(replace.min(previous[j] + 1).min(current[j - 1] + 1));
            }
            previous = current;
        }
        previous[b.len()]
    }

    proptest::proptest! {
        /// Skeletons compared by their places are as many edits apart as the table says, over
        /// a few symbols (so that they repeat) and every length a skeleton is compared at.
        #[test]
        fn skeletons_are_as_far_apart_as_the_table_says(
            a in proptest::collection::vec(proptest::sample::select(b"bdfklmnrst".to_vec()), 0..=COARSE_COMPARED),
            b in proptest::collection::vec(proptest::sample::select(b"bdfklmnrst".to_vec()), 0..=COARSE_COMPARED),
        ) {
            let coarse = |symbols: &[u8]| {
                let mut coarse = Coarse { symbols: [0; COARSE_COMPARED], len: symbols.len() as u8 };
                coarse.symbols[..symbols.len()].copy_from_slice(symbols);
                coarse
            };
            let (coarse_a, coarse_b) = (coarse(&a), coarse(&b));
            let distance = edits_in_full(&a, &b);
            proptest::prop_assert_eq!(coarse_a.places().edits(&b), distance);
            let allowed = 1 + a.len().max(b.len()) / 4;
            proptest::prop_assert_eq!(coarse_a.places().edits_to(&coarse_b), Some(distance).filter(|d| *d <= allowed));
        }
    }

    proptest::proptest! {
        /// The closest tokens are those of the lowest closeness and then number, as many as
        /// asked for, ordered by closeness.
        #[test]
        fn the_closest_are_kept_and_come_first(
            found in proptest::collection::btree_map(0u32..5_000, 0..=CLOSENESS_MAX, 0..1_200),
            most in 0usize..1_000,
        ) {
            let found: Vec<(usize, u32)> = found.into_iter().map(|(id, closeness)| (closeness, id)).collect();
            let closest = closest_first(found.clone(), most);
            proptest::prop_assert!(closest.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut expected = found;
            expected.sort_unstable();
            expected.truncate(most);
            let mut kept = closest;
            kept.sort_unstable();
            proptest::prop_assert_eq!(kept, expected);
        }
    }

    /// The groups of [`Segment::compute_groups`] from every token it compares computed in full:
    /// what the bar it raises as it goes must never change.
    fn groups_in_full(segment: &Segment, token: &Token) -> Vec<(u32, f32)> {
        if let Some(known) = token.known {
            return vec![(u32::from(known), token.weight())];
        }
        let mut groups: FxMap<u32, f32> = FxMap::default();
        for (_, id) in segment.compared_with(token) {
            let candidate = &segment.vocabulary[id as usize];
            let (similarity, _) = token_similarity(token, candidate);
            if similarity >= ALIGN_SIMILARITY_MIN {
                let slot = groups.entry(group_of(candidate, id)).or_default();
                *slot = slot.max(token.weight() * similarity);
            }
        }
        best_groups(groups.into_iter().collect())
    }

    /// `name` with the letters at `edits` changed: a letter replaced, added or dropped.
    fn edited(name: &str, edits: &[(usize, Option<char>)]) -> String {
        let mut letters: Vec<char> = name.chars().collect();
        for (at, letter) in edits {
            let at = at % (letters.len() + 1);
            match letter {
                Some(letter) if at < letters.len() && at.is_multiple_of(2) => letters[at] = *letter,
                Some(letter) => letters.insert(at, *letter),
                None if at < letters.len() && letters.len() > 2 => {
                    letters.remove(at);
                }
                None => {}
            }
        }
        letters.into_iter().collect()
    }

    #[test]
    fn a_vocabulary_token_is_found_by_its_slot_and_only_in_its_own_segment() {
        let names = ["ali hassan al shammari", "hussein ali", "shamari hasan", "qaradawi yusuf"];
        let a = Segment::build(names.iter().enumerate().map(|(i, n)| person_alert(i, n.to_string())).collect());
        let b = Segment::build(names.iter().rev().enumerate().map(|(i, n)| person_alert(i, n.to_string())).collect());
        assert!(a.vocabulary.len() >= 6);
        for (slot, token) in a.vocabulary.iter().enumerate() {
            assert_eq!(token.slot as usize, slot);
            // The same spelling, fresh (no slot), or kept by the other segment at another
            // slot: found by its key, with the same groups.
            let fresh = tabadul_names::analyze(&token.text).tokens.into_iter().next().unwrap();
            assert_eq!(fresh.slot, Token::NO_SLOT);
            assert_eq!(*fresh, **token);
            let in_b = b.vocabulary.iter().find(|t| t.key == token.key).unwrap();
            let by_slot: Vec<(u32, f32)> = a.groups_of(token).collect();
            assert_eq!(a.groups_of(&fresh).collect::<Vec<_>>(), by_slot, "{}", token.text);
            assert_eq!(a.groups_of(in_b).collect::<Vec<_>>(), by_slot, "{}", token.text);
            assert!(!by_slot.is_empty());
        }
        // Slots differ between the segments, so the test above asked across them.
        assert!(a.vocabulary.iter().zip(&b.vocabulary).any(|(x, y)| x.key != y.key));
    }

    fn person_alert(id: usize, name: String) -> IndexedAlert {
        let person = tabadul_engine::PersonQuery { names: vec![name], ..Default::default() };
        IndexedAlert {
            id: AlertId(id as u128 + 1),
            owner: AgencyCode::new("IQ-MOI").unwrap(),
            category: Category::WantedForArrest,
            expires: None,
            subject: IndexedSubject::Person(person),
        }
    }

    const STEMS: &[&str] = &["shammari", "qaradawi"];
    /// Letters whose change keeps a name's skeleton (its vowels, mostly): the spellings
    /// that the blocking brings together.
    const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u', 'y', 'h', 'w', 'a', 'e'];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

        /// Hundreds of spellings of a few names, so that a name has more near spellings than it
        /// keeps groups of: the bar rises, and what it cuts short must be what would not be kept.
        #[test]
        fn groups_cut_short_by_the_bar_are_the_groups_in_full(
            spellings in proptest::collection::vec(
                (0..STEMS.len(), proptest::collection::vec((0usize..12, proptest::option::of(proptest::sample::select(VOWELS))), 0..4)),
                600..900,
            ),
            asked in proptest::collection::vec(
                (0..STEMS.len(), proptest::collection::vec((0usize..12, proptest::option::of(proptest::sample::select(VOWELS))), 0..3)),
                1..6,
            ),
        ) {
            let alerts = spellings
                .iter()
                .enumerate()
                .map(|(id, (stem, edits))| person_alert(id, format!("ali {}", edited(STEMS[*stem], edits))))
                .collect();
            let segment = Segment::build(alerts);
            for (stem, edits) in asked {
                let name = tabadul_names::analyze(&edited(STEMS[stem], &edits));
                for token in &name.tokens {
                    proptest::prop_assert_eq!(segment.compute_groups(token), groups_in_full(&segment, token), "{}", token.text);
                }
            }
        }
    }

    /// Every spelling of a name with one or two of its vowels changed: more near spellings
    /// than a token keeps groups of, whichever of them is asked (the bar surely rises).
    #[test]
    fn a_crowded_name_keeps_the_groups_in_full() {
        let stem = "shammari";
        let mut names = Vec::new();
        for (i, first) in VOWELS.iter().enumerate() {
            for at in 0..stem.len() {
                names.push(edited(stem, &[(at, Some(*first))]));
                for second in &VOWELS[i..] {
                    names.push(edited(stem, &[(at, Some(*first)), ((at + 3) % stem.len(), Some(*second))]));
                }
            }
        }
        let alerts = names.iter().enumerate().map(|(id, name)| person_alert(id, format!("ali {name}"))).collect();
        let segment = Segment::build(alerts);
        let mut crowded = 0;
        for asked in ["shammari", "shamari", "shemmary", "chammari", "shammariyy"] {
            let name = tabadul_names::analyze(asked);
            let token = &name.tokens[0];
            let in_full = groups_in_full(&segment, token);
            crowded += usize::from(in_full.len() == GROUPS_PER_TOKEN_MAX);
            assert_eq!(segment.compute_groups(token), in_full, "{asked}");
        }
        assert!(crowded >= 3, "{crowded} crowded");
    }

    proptest::proptest! {
        /// The pairs found are those a binary search of each list finds, in the order of the
        /// groups and then of the lists.
        #[test]
        fn partnered_agrees_with_binary_searches(
            groups in proptest::collection::btree_set(0u32..300, 0..64),
            lists in proptest::collection::vec(proptest::collection::btree_set(0u32..300, 0..200), 0..64),
            shuffle in proptest::prelude::any::<u64>(),
        ) {
            // Groups come in the order of their weights, not of their numbers.
            let mut groups: Vec<(u32, f32)> = groups.into_iter().map(|g| (g, 1.0)).collect();
            groups.sort_by_key(|(g, _)| (u64::from(*g) * 0x9e37_79b9).wrapping_add(shuffle) % 1009);
            // Each partner with a place of its own (some past four billion), to tell which was
            // found.
            let lists: Vec<Vec<Partner>> = lists
                .into_iter()
                .enumerate()
                .map(|(j, l)| {
                    l.into_iter()
                        .map(|group| {
                            let start = (j as u64 * 1000 + u64::from(group)) << (group % 40);
                            Partner { group, pair: PairSpan { start, len: group * 7 + 1 } }
                        })
                        .collect()
                })
                .collect();
            let written: Vec<Vec<u32>> = lists.iter().map(|list| Partners::write(list)).collect();
            let partners: Vec<Partners> = written.iter().map(|list| Partners::of(list)).collect();
            let mut expected = Vec::new();
            for (i, (group, _)) in groups.iter().enumerate() {
                for (j, list) in lists.iter().enumerate() {
                    if let Ok(at) = list.binary_search_by_key(group, |p| p.group) {
                        expected.push((i, j, list[at].pair));
                    }
                }
            }
            proptest::prop_assert_eq!(partnered(&groups, &partners).into_vec(), expected);
        }

        /// Namesakes are counted as reading the lists' entries one by one, in order, would
        /// count them: the first NAMESAKES_READ_MAX entries read, up to `max`, each once when
        /// the lists are several, only those visible.
        #[test]
        fn namesakes_are_counted_entry_by_entry_in_order(
            // Often more entries than are read (NAMESAKES_READ_MAX).
            lists in proptest::collection::vec(proptest::collection::btree_set(0u32..120, 0..240), 0..100),
            hidden in proptest::collection::btree_set(0u32..120, 0..40),
            max in 0u32..5000,
            several in proptest::prelude::any::<bool>(),
        ) {
            let segment = Segment::build((0..120).map(|i| person_alert(i, format!("ali {i}"))).collect());
            let lists: Vec<Vec<u32>> = lists.into_iter().map(|l| l.into_iter().collect()).collect();
            let lists: Vec<&[u32]> = lists.iter().map(Vec::as_slice).collect();
            let visible = |entry: u32| !hidden.contains(&entry);
            let mut met = Marks::default();
            let counted = segment.count_namesakes(&lists, &[], &visible, max, several.then_some(&mut met));
            let (mut expected, mut seen) = (0, std::collections::HashSet::new());
            for entry in lists.iter().flat_map(|list| list.iter().copied()).take(super::NAMESAKES_READ_MAX) {
                if expected >= max {
                    break;
                }
                expected += u32::from(visible(entry) && (!several || seen.insert(entry)));
            }
            proptest::prop_assert_eq!(counted, expected);
        }

        /// A gallop finds the first place at or after where it starts that is not below the
        /// target.
        #[test]
        fn gallop_finds_the_first_place_not_below(
            list in proptest::collection::btree_set(0u32..1000, 0..300),
            from in 0usize..320,
            target in 0u32..1000,
        ) {
            let list: Vec<u32> = list.into_iter().collect();
            let from = from.min(list.len());
            let expected = from + list[from..].iter().take_while(|&&v| v < target).count();
            proptest::prop_assert_eq!(gallop(&list, from, target, |v| *v), expected);
        }
    }

    #[test]
    fn marks_tell_each_entry_once_until_cleared() {
        let mut marks = Marks::default();
        let entries = [5, 64, 0, 1_000_003, 5, 63, 64];
        let new: Vec<bool> = entries.iter().map(|e| marks.mark(*e)).collect();
        assert_eq!(new, [true, true, true, true, false, true, false]);
        marks.clear();
        assert!(marks.bits.iter().all(|word| *word == 0));
        assert!(entries.iter().all(|e| marks.mark(*e) || *e == 5 || *e == 64));
    }
}
