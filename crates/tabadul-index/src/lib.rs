//! The in-memory index that checks search: person alerts by name in the comparison space,
//! travel documents by number and issuing state, vehicles by VIN and plate.
//!
//! Pure: no I/O, no clock, no threads. An [`Index`] is an immutable snapshot: a few segments,
//! each built once, and for each segment a set of removed entries. [`Index::apply`] makes the
//! next snapshot from this one and a batch of changes (a new small segment for what was added
//! or changed, the removed entries marked) without rebuilding the rest, so the node swaps the
//! snapshot atomically and checks never wait for writes. Small segments are merged when there
//! are too many.
//!
//! A person search has three stages, each bounded:
//! 1. *blocking*: each query token finds the tokens of the vocabulary that share a blocking key
//!    (known-name entry, consonant-skeleton prefix or ends) and are similar enough; their
//!    posting lists give candidate alerts, rarest tokens first; a token too common to scan
//!    (محمد) is read only together with an *anchor*: the rarest token, and the next rarest
//!    unless it is very common too (the alerts that have both, from posting lists of pairs),
//!    so that a rare name the alert lacks, or spells beyond recognition, does not hide it;
//! 2. *ranking*: the candidates with the most matched weight that the checking agency may see
//!    (16 per candidate scored) are ranked by the model's estimate from how much of the query's
//!    and of the candidate's names is matched, and by their birth date, nationality, gender
//!    and documents (read from a dense card per entry, one cache line); at most
//!    [`SearchOptions::candidates_max`] go on;
//! 3. *scoring*: the engine scores those in full; the hits above the threshold are ranked by
//!    score, then by alert id, so the order is deterministic, and only those returned are
//!    explained.

mod gather;
mod segment;

use std::sync::Arc;

use tabadul_domain::{AgencyCode, Alert, AlertId, Category, Subject, Visibility};
use tabadul_engine::{MatchResult, PersonQuery, PreparedPerson};

use crate::segment::Segment;

/// Candidates scored in full per check, by default.
pub const CANDIDATES_MAX_DEFAULT: usize = 32;
/// Hits returned per check, at most.
pub const HITS_MAX: usize = 100;
/// Segments kept before the smallest are merged.
pub const SEGMENTS_MAX: usize = 8;

/// What the index keeps of an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedAlert {
    pub id: AlertId,
    pub owner: AgencyCode,
    pub category: Category,
    pub expires: Option<time::Date>,
    pub subject: IndexedSubject,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IndexedSubject {
    Person(PersonQuery),
    Document { number: String, issuing_state: String },
    Vehicle { vin: Option<String>, plate: Option<String>, plate_country: Option<String> },
}

impl IndexedAlert {
    pub fn from_alert(alert: &Alert) -> IndexedAlert {
        let subject = match &alert.subject {
            Subject::Person(person) => IndexedSubject::Person(PersonQuery::from_person(person)),
            Subject::Document(doc) => {
                IndexedSubject::Document { number: doc.number.clone(), issuing_state: doc.issuing_state.to_string() }
            }
            Subject::Vehicle(vehicle) => IndexedSubject::Vehicle {
                vin: vehicle.vin.clone(),
                plate: vehicle.plate.clone(),
                plate_country: vehicle.plate_country.as_ref().map(|c| c.to_string()),
            },
        };
        IndexedAlert {
            id: alert.id,
            owner: alert.owner.clone(),
            category: alert.category,
            expires: alert.expires,
            subject,
        }
    }
}

/// A change to apply to the index.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Add an alert, or replace the alert with the same id.
    Upsert(IndexedAlert),
    Remove(AlertId),
}

/// How a person search is bounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    /// Hits from this score on.
    pub threshold: f32,
    /// At most this many hits.
    pub limit: usize,
    /// At most this many candidates scored in full.
    pub candidates_max: usize,
    /// The day of the check: alerts expired before it are not searched.
    pub today: time::Date,
    /// Whether a hit whose names agree in part only shares its odds with the alerts that
    /// carry the same names (see [`tabadul_engine::model::namesakes_logit`]); without, a hit
    /// scores as its pair alone.
    pub namesakes: bool,
}

impl SearchOptions {
    pub fn new(today: time::Date) -> SearchOptions {
        SearchOptions {
            threshold: tabadul_engine::HIT_THRESHOLD_DEFAULT,
            limit: 20,
            candidates_max: CANDIDATES_MAX_DEFAULT,
            today,
            namesakes: true,
        }
    }
}

/// A person alert that a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonHit {
    pub id: AlertId,
    pub owner: AgencyCode,
    pub category: Category,
    pub visibility: Visibility,
    pub result: MatchResult,
}

/// A document or vehicle alert that a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactHit {
    pub id: AlertId,
    pub owner: AgencyCode,
    pub category: Category,
    pub visibility: Visibility,
}

/// What a search looked at, for the audit log and for tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchStats {
    pub postings_read: usize,
    pub candidates: usize,
    pub scored: usize,
}

/// Decides what the checking agency sees of an alert (the visibility rule, precomputed).
pub trait Viewer {
    fn visibility(&self, owner: &AgencyCode, category: Category, expires: Option<time::Date>) -> Visibility;
}

impl Viewer for tabadul_domain::SharingTable {
    fn visibility(&self, owner: &AgencyCode, category: Category, expires: Option<time::Date>) -> Visibility {
        tabadul_domain::SharingTable::visibility(self, tabadul_domain::Scope { owner, category, expires })
    }
}

/// What a viewer may see of one part's entries, for one search. A search asks it of every
/// candidate it ranks and every namesake it counts (hundreds of thousands a manifest), about a
/// few owners and categories; a viewer answers as a function of what it is asked, so each
/// question is put to it once and the answer remembered by the entry's owner and category as
/// its segment numbers them: a number compared, no code, no call through the viewer.
/// Questions about alerts that expire are put every time (their dates are many).
struct Sight<'a> {
    part: &'a Part,
    viewer: &'a dyn Viewer,
    today: time::Date,
    /// The last answer given without asking (most entries a search reads are of one owner
    /// and category), then the others.
    last: std::cell::Cell<Option<(u32, Visibility)>>,
    answers: std::cell::RefCell<smallvec::SmallVec<[(u32, Visibility); REMEMBERED_MAX]>>,
}

/// Answers a search remembers per part, at most: past them, the viewer is asked each time.
const REMEMBERED_MAX: usize = 16;

impl<'a> Sight<'a> {
    fn new(part: &'a Part, viewer: &'a dyn Viewer, today: time::Date) -> Sight<'a> {
        Sight { part, viewer, today, last: Default::default(), answers: Default::default() }
    }

    /// What the viewer may see of `entry`.
    #[inline]
    fn visibility(&self, entry: u32) -> Visibility {
        let segment = &self.part.segment;
        let Some(question) = segment.question(entry) else {
            return segment.visibility(entry, self.viewer, self.today);
        };
        match self.last.get() {
            Some((asked, answer)) if asked == question => answer,
            _ => self.remembered(entry, question),
        }
    }

    /// The answer to `question` (about `entry`) as remembered, or as the viewer gives it.
    fn remembered(&self, entry: u32, question: u32) -> Visibility {
        let known = self.answers.borrow().iter().find(|(asked, _)| *asked == question).map(|(_, answer)| *answer);
        let answer = known.unwrap_or_else(|| {
            let answer = self.part.segment.visibility(entry, self.viewer, self.today);
            let mut answers = self.answers.borrow_mut();
            if answers.len() < REMEMBERED_MAX {
                answers.push((question, answer));
            }
            answer
        });
        self.last.set(Some((question, answer)));
        answer
    }

    /// Whether `entry` is live and the viewer may see something of it: what a search may rank
    /// or count.
    #[inline]
    fn visible(&self, entry: u32) -> bool {
        !self.part.is_removed(entry) && self.visibility(entry) != Visibility::Hidden
    }
}

thread_local! {
    /// The similarity cache of the searches on this thread, cleared before each: its memory is
    /// kept from one search to the next instead of allocated and freed each time.
    static SIMILARITIES: std::cell::RefCell<tabadul_engine::SimilarityCache> = Default::default();
}

/// Where a token lies: tokens are shared, so equal addresses are the same token.
fn address(token: &tabadul_names::Token) -> usize {
    std::ptr::from_ref(token) as usize
}

/// What a batch of searches (a manifest's travellers, a bus's passengers) computes once and
/// shares: the spellings close to each name outside a segment's vocabulary, and those that
/// namesakes are counted by. Its results are those of the searches made one by one. It keeps
/// the segments it read alive until dropped, so that the snapshot may change meanwhile (and
/// their tokens stay where they are); drop it with the batch.
#[derive(Debug, Default)]
pub struct SearchBatch {
    segments: Vec<(Arc<Segment>, segment::Shared)>,
}

impl SearchBatch {
    /// What the batch shares in `segment`, which it keeps alive from now on.
    fn shared(&mut self, segment: &Arc<Segment>) -> &mut segment::Shared {
        let at = match self.segments.iter().position(|(kept, _)| Arc::ptr_eq(kept, segment)) {
            Some(at) => at,
            None => {
                self.segments.push((segment.clone(), Default::default()));
                self.segments.len() - 1
            }
        };
        &mut self.segments[at].1
    }
}

/// The namesakes counted in one search, by the candidate tokens matched: the hits of a search
/// mostly agree with it on the same names.
#[derive(Default)]
struct Namesakes {
    counted: Vec<(Vec<usize>, u32)>,
}

impl Namesakes {
    fn count(
        &mut self,
        index: &Index,
        candidate: &PreparedPerson,
        result: &tabadul_engine::MatchResult,
        sights: &[Sight],
        batch: &mut SearchBatch,
    ) -> u32 {
        // On the stack: most candidates of a search are counted already (thousands a manifest).
        let tokens: smallvec::SmallVec<[&tabadul_names::Token; tabadul_names::TOKENS_PER_NAME_MAX]> =
            candidate.names.get(result.names.1).map_or_else(smallvec::SmallVec::new, |name| {
                name.tokens
                    .iter()
                    .enumerate()
                    .filter(|(i, t)| result.candidate_matched_tokens & (1 << i) != 0 && !t.initial)
                    .map(|(_, t)| t.as_ref())
                    .collect()
            });
        let same = |key: &[usize]| key.len() == tokens.len() && key.iter().zip(&tokens).all(|(k, t)| *k == address(t));
        if let Some((_, count)) = self.counted.iter().find(|(key, _)| same(key)) {
            return *count;
        }
        let count = index.namesakes(&tokens, sights, batch);
        self.counted.push((tokens.iter().map(|t| address(t)).collect(), count));
        count
    }
}

/// One segment of a snapshot, with the entries removed from it since it was built.
#[derive(Debug, Clone)]
struct Part {
    segment: Arc<Segment>,
    removed: Arc<Vec<u64>>,
}

impl Part {
    fn is_removed(&self, entry: u32) -> bool {
        self.removed.get(entry as usize / 64).is_some_and(|word| word & (1 << (entry % 64)) != 0)
    }

    fn live(&self) -> usize {
        self.segment.len() - self.removed.iter().map(|w| w.count_ones() as usize).sum::<usize>()
    }
}

/// An immutable snapshot of the index.
#[derive(Debug, Clone, Default)]
pub struct Index {
    parts: Vec<Part>,
}

impl Index {
    /// Builds an index of `alerts` (later alerts with the same id replace earlier ones).
    pub fn build(alerts: Vec<IndexedAlert>) -> Index {
        Index::default().apply(alerts.into_iter().map(Change::Upsert).collect())
    }

    /// How many alerts the snapshot holds.
    pub fn len(&self) -> usize {
        self.parts.iter().map(Part::live).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An estimate of the memory the snapshot holds, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.parts.iter().map(|p| p.segment.memory_bytes() + p.removed.len() * 8).sum()
    }

    fn locate(&self, id: AlertId) -> Option<(usize, u32)> {
        self.parts.iter().enumerate().rev().find_map(|(i, part)| {
            part.segment.position(id).filter(|entry| !part.is_removed(*entry)).map(|entry| (i, entry))
        })
    }

    /// Whether the snapshot holds an alert.
    pub fn contains(&self, id: AlertId) -> bool {
        self.locate(id).is_some()
    }

    /// The next snapshot: this one with `changes` applied. Only what changed is rebuilt.
    pub fn apply(&self, changes: Vec<Change>) -> Index {
        let mut parts = self.parts.clone();
        let mut removed: Vec<Option<Vec<u64>>> = vec![None; parts.len()];
        let mut added: Vec<IndexedAlert> = Vec::new();
        let mut added_at: std::collections::HashMap<AlertId, usize> = std::collections::HashMap::new();
        for change in changes {
            let id = match &change {
                Change::Upsert(alert) => alert.id,
                Change::Remove(id) => *id,
            };
            if let Some((i, entry)) = self.locate(id) {
                let bits = removed[i].get_or_insert_with(|| parts[i].removed.as_ref().clone());
                let word = entry as usize / 64;
                if bits.len() <= word {
                    bits.resize(word + 1, 0);
                }
                bits[word] |= 1 << (entry % 64);
            }
            match change {
                Change::Upsert(alert) => match added_at.get(&alert.id) {
                    Some(&at) => added[at] = alert,
                    None => {
                        added_at.insert(alert.id, added.len());
                        added.push(alert);
                    }
                },
                Change::Remove(id) => {
                    if let Some(at) = added_at.remove(&id) {
                        added.remove(at);
                        added_at = added.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
                    }
                }
            }
        }
        for (part, bits) in parts.iter_mut().zip(removed) {
            if let Some(bits) = bits {
                part.removed = Arc::new(bits);
            }
        }
        parts.retain(|p| p.live() > 0);
        if !added.is_empty() {
            parts.push(Part { segment: Arc::new(Segment::build(added)), removed: Arc::new(Vec::new()) });
        }
        let mut index = Index { parts };
        index.merge_small();
        index
    }

    /// Merges the smallest segments while there are more than [`SEGMENTS_MAX`].
    fn merge_small(&mut self) {
        while self.parts.len() > SEGMENTS_MAX {
            self.parts.sort_by_key(|p| std::cmp::Reverse(p.segment.len()));
            let a = self.parts.pop().expect("more than SEGMENTS_MAX parts");
            let b = self.parts.pop().expect("more than SEGMENTS_MAX parts");
            let alerts: Vec<IndexedAlert> =
                [b, a].iter().flat_map(|part| part.segment.live_alerts(|entry| part.is_removed(entry))).collect();
            self.parts.push(Part { segment: Arc::new(Segment::build(alerts)), removed: Arc::new(Vec::new()) });
        }
    }

    /// Merges every segment into one (compaction), dropping removed entries.
    pub fn compact(&self) -> Index {
        let alerts: Vec<IndexedAlert> =
            self.parts.iter().flat_map(|part| part.segment.live_alerts(|entry| part.is_removed(entry))).collect();
        Index::build(alerts)
    }

    /// Person alerts that match `query`, that `viewer` may see, best first.
    pub fn search_person(
        &self,
        query: &PreparedPerson,
        viewer: &dyn Viewer,
        options: &SearchOptions,
    ) -> (Vec<PersonHit>, SearchStats) {
        self.search_person_in(query, viewer, options, &mut SearchBatch::default())
    }

    /// [`Index::search_person`], one of a `batch` of searches (a manifest's travellers) that
    /// computes what they share once.
    pub fn search_person_in(
        &self,
        query: &PreparedPerson,
        viewer: &dyn Viewer,
        options: &SearchOptions,
        batch: &mut SearchBatch,
    ) -> (Vec<PersonHit>, SearchStats) {
        let sights: smallvec::SmallVec<[Sight; SEGMENTS_MAX + 1]> =
            self.parts.iter().map(|part| Sight::new(part, viewer, options.today)).collect();
        let mut stats = SearchStats::default();
        let mut candidates: Vec<(f32, usize, u32)> = Vec::new();
        for (p, (part, sight)) in self.parts.iter().zip(&sights).enumerate() {
            let visible = |index: u32| sight.visible(index);
            let unknown = &mut batch.shared(&part.segment).unknown;
            let found = part.segment.candidates(query, &visible, options.candidates_max, &mut stats, unknown);
            candidates.extend(found.into_iter().map(|(prior, entry)| (prior, p, entry)));
        }
        stats.candidates = candidates.len();
        self.keep_best(&mut candidates, options.candidates_max.max(1));
        stats.scored = candidates.len();
        SIMILARITIES
            .with_borrow_mut(|cache| self.score_and_explain(query, candidates, &sights, options, cache, stats, batch))
    }

    /// Scores `candidates` in full and explains the hits that are returned (one of a `batch` of
    /// searches that has kept this snapshot's segments).
    #[allow(clippy::too_many_arguments)]
    fn score_and_explain(
        &self,
        query: &PreparedPerson,
        candidates: Vec<(f32, usize, u32)>,
        sights: &[Sight],
        options: &SearchOptions,
        cache: &mut tabadul_engine::SimilarityCache,
        stats: SearchStats,
        batch: &mut SearchBatch,
    ) -> (Vec<PersonHit>, SearchStats) {
        // A cache that served another search holds addresses of names that may be gone.
        cache.clear();
        for (p, part) in self.parts.iter().enumerate() {
            part.segment.touch_people(candidates.iter().filter(|c| c.1 == p).map(|c| c.2));
        }
        let mut namesakes = Namesakes::default();
        let mut scored: Vec<(tabadul_engine::MatchResult, usize, u32)> = candidates
            .into_iter()
            .filter_map(|(_, p, entry)| {
                let person = self.parts[p].segment.entry(entry).person.as_ref()?;
                let mut result = tabadul_engine::score_cached(query, person, cache);
                if options.namesakes && result.partial && result.score >= options.threshold {
                    let count = namesakes.count(self, person, &result, sights, batch);
                    result.share_with_namesakes(count);
                }
                (result.score >= options.threshold).then_some((result, p, entry))
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.score.total_cmp(&a.0.score).then_with(|| self.id_of(a.1, a.2).cmp(&self.id_of(b.1, b.2)))
        });
        scored.truncate(options.limit.min(HITS_MAX));
        // Only the hits returned are explained: writing the reasons costs more than scoring.
        let hits = scored
            .into_iter()
            .filter_map(|(mut result, p, entry)| {
                let segment = &self.parts[p].segment;
                let e = segment.entry(entry);
                tabadul_engine::explain(query, e.person.as_ref()?, &mut result, cache);
                let (owner, category) = segment.owner_and_category(entry);
                Some(PersonHit {
                    id: e.id,
                    owner: owner.clone(),
                    category,
                    visibility: sights[p].visibility(entry),
                    result,
                })
            })
            .collect();
        (hits, stats)
    }

    /// Computes ahead of checks what the first check of each name would otherwise compute (the
    /// spellings each token of the vocabulary is close to). `part` of `parts` of the work: the
    /// caller may run the parts on as many threads as it likes; results never depend on it.
    pub fn warm(&self, part: usize, parts: usize) {
        let parts = parts.max(1);
        for segment in &self.parts {
            let len = segment.segment.vocabulary_len();
            let chunk = len.div_ceil(parts);
            segment.segment.warm(part * chunk, ((part + 1) * chunk).min(len));
        }
    }

    /// How many alerts that `sights` (one per part) let through carry every one of `tokens` or a close spelling
    /// (at most [`tabadul_engine::model::NAMESAKES_COUNTED_MAX`]); `tokens` are of segments that
    /// `batch` keeps, the spellings of which it keeps too.
    fn namesakes(&self, tokens: &[&tabadul_names::Token], sights: &[Sight], batch: &mut SearchBatch) -> u32 {
        use tabadul_engine::model::NAMESAKES_COUNTED_MAX;
        let mut count = 0;
        for (part, sight) in self.parts.iter().zip(sights) {
            let visible = |index: u32| sight.visible(index);
            let kept = &mut batch.shared(&part.segment).spellings;
            count += part.segment.namesakes(tokens, &visible, NAMESAKES_COUNTED_MAX - count, kept);
            if count >= NAMESAKES_COUNTED_MAX {
                break;
            }
        }
        count
    }

    /// Keeps the `keep` candidates of highest prior, those of lowest alert id among equals: by
    /// prior alone first, then by id among those that tie with the last kept only (reading an
    /// id is a cache miss, and most candidates do not tie there).
    fn keep_best(&self, candidates: &mut Vec<(f32, usize, u32)>, keep: usize) {
        if candidates.len() <= keep {
            return;
        }
        candidates.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
        let last = candidates[keep - 1].0;
        // Those above the last kept stay; of those equal to it (on either side of it), the
        // lowest ids fill the places left.
        let (mut kept, mut tied): (Vec<_>, Vec<_>) = candidates
            .iter()
            .copied()
            .filter(|c| c.0.total_cmp(&last).is_ge())
            .partition(|c| c.0.total_cmp(&last).is_gt());
        let places = keep - kept.len();
        if tied.len() > places {
            let mut by_id: Vec<(AlertId, (f32, usize, u32))> =
                tied.iter().map(|c| (self.id_of(c.1, c.2), *c)).collect();
            by_id.select_nth_unstable_by_key(places - 1, |(id, _)| *id);
            tied = by_id.into_iter().take(places).map(|(_, c)| c).collect();
        }
        kept.extend(tied);
        *candidates = kept;
    }

    fn id_of(&self, part: usize, entry: u32) -> AlertId {
        self.parts[part].segment.entry(entry).id
    }

    /// Document alerts on this number and issuing state that `viewer` may see.
    pub fn search_document(
        &self,
        number: &str,
        issuing_state: &str,
        viewer: &dyn Viewer,
        today: time::Date,
    ) -> Vec<ExactHit> {
        self.exact(viewer, today, |segment| segment.documents(number, issuing_state))
    }

    /// Vehicle alerts on this VIN or plate that `viewer` may see.
    pub fn search_vehicle(
        &self,
        vin: Option<&str>,
        plate: Option<&str>,
        viewer: &dyn Viewer,
        today: time::Date,
    ) -> Vec<ExactHit> {
        self.exact(viewer, today, |segment| segment.vehicles(vin, plate))
    }

    fn exact(&self, viewer: &dyn Viewer, today: time::Date, find: impl Fn(&Segment) -> Vec<u32>) -> Vec<ExactHit> {
        let mut hits = Vec::new();
        for part in &self.parts {
            for entry in find(&part.segment) {
                if part.is_removed(entry) {
                    continue;
                }
                let e = part.segment.entry(entry);
                let visibility = part.segment.visibility(entry, viewer, today);
                if visibility != Visibility::Hidden {
                    let (owner, category) = part.segment.owner_and_category(entry);
                    hits.push(ExactHit { id: e.id, owner: owner.clone(), category, visibility });
                }
            }
        }
        hits.sort_by_key(|h| h.id);
        hits.dedup_by_key(|h| h.id);
        hits
    }
}

/// The index a node checks against: the current snapshot, swapped atomically when changes
/// are applied. Checks take the snapshot without waiting (no lock); writers build the next
/// snapshot from the current one, one writer at a time, and publish it in one step, so a
/// check sees a whole snapshot, before or after a change, never half of one.
#[derive(Debug, Default)]
pub struct SharedIndex {
    current: arc_swap::ArcSwap<Index>,
    writer: std::sync::Mutex<()>,
}

impl SharedIndex {
    pub fn new(index: Index) -> SharedIndex {
        SharedIndex { current: arc_swap::ArcSwap::from_pointee(index), writer: std::sync::Mutex::new(()) }
    }

    /// The current snapshot; it stays valid (and unchanged) as long as it is held.
    pub fn snapshot(&self) -> Arc<Index> {
        self.current.load_full()
    }

    /// Applies `changes` and publishes the next snapshot; returns it.
    pub fn apply(&self, changes: Vec<Change>) -> Arc<Index> {
        let _one_writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = Arc::new(self.current.load().apply(changes));
        self.current.store(next.clone());
        next
    }

    /// Replaces the snapshot with a compacted one (every segment merged).
    pub fn compact(&self) -> Arc<Index> {
        let _one_writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = Arc::new(self.current.load().compact());
        self.current.store(next.clone());
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A viewer whose answer depends on the owner, the category and the expiry alike, and
    /// that counts the questions put to it.
    struct Counting(std::cell::Cell<usize>);

    impl Viewer for Counting {
        fn visibility(&self, owner: &AgencyCode, category: Category, expires: Option<time::Date>) -> Visibility {
            self.0.set(self.0.get() + 1);
            let levels = [Visibility::Full, Visibility::HitOnly, Visibility::Hidden];
            let day = expires.map_or(0, |date| usize::from(date.day()));
            levels[(owner.as_str().len() + category as usize + day) % levels.len()]
        }
    }

    #[test]
    fn a_search_remembers_each_answer_without_an_expiry() {
        let owners: Vec<AgencyCode> = ["IQ-MOI", "GB-HO"].iter().map(|code| AgencyCode::new(code).unwrap()).collect();
        let dates = [None, Some(time::macros::date!(2027 - 01 - 05)), None, Some(time::macros::date!(2027 - 01 - 06))];
        let categories = &Category::ALL[..REMEMBERED_MAX / 2];
        let mut alerts = Vec::new();
        for round in 0..4 {
            for (o, owner) in owners.iter().enumerate() {
                for (c, category) in categories.iter().enumerate() {
                    alerts.push(IndexedAlert {
                        id: AlertId(alerts.len() as u128 + 1),
                        owner: owner.clone(),
                        category: *category,
                        expires: dates[(round + o + c) % dates.len()],
                        subject: IndexedSubject::Document {
                            number: format!("A{round}{o}{c}"),
                            issuing_state: "IRQ".into(),
                        },
                    });
                }
            }
        }
        let part = Part { segment: Arc::new(Segment::build(alerts.clone())), removed: Arc::new(vec![1 << 3]) };
        let today = time::macros::date!(2027 - 01 - 05);
        let asked = Counting(std::cell::Cell::new(0));
        let sight = Sight::new(&part, &asked, today);
        let direct = Counting(std::cell::Cell::new(0));
        let (mut with_expiry, mut without) = (0, std::collections::HashSet::new());
        for (entry, alert) in alerts.iter().enumerate() {
            let entry = entry as u32;
            match alert.expires {
                // Asked by `visibility`, and again by `visible` unless removed. (Expired, the
                // segment says so without asking.)
                Some(expires) if expires >= today => with_expiry += 1 + usize::from(entry != 3),
                Some(_) => {}
                None => _ = without.insert((alert.owner.clone(), alert.category)),
            }
            let expected = part.segment.visibility(entry, &direct, today);
            assert_eq!(sight.visibility(entry), expected, "{alert:?}");
            assert_eq!(sight.visible(entry), entry != 3 && expected != Visibility::Hidden, "{alert:?}");
        }
        // Each owner and category asked once without an expiry (there is room for all here),
        // every question with one asked each time.
        assert!(without.len() <= REMEMBERED_MAX);
        assert_eq!(asked.0.get(), with_expiry + without.len());
    }
}
