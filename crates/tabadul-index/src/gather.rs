//! Gathering a search's candidates: the entries of the posting lists it reads, each with the
//! weight of the query tokens it matches.
//!
//! A check reads a few thousand postings from tens of lists. Accumulating them in a hash table
//! costs a hash, a probe and an unpredictable branch each; instead every posting becomes one
//! number (its entry above the list it was read from), the numbers are sorted by entry with a
//! radix sort that keeps the order of reads within an entry, and one pass adds up each entry's
//! run. The result is the same as adding the postings up one by one in the order read.

/// A search's postings to read: a list of entries (ascending, each once), the query token it
/// is read for, and the weight it adds.
pub(crate) type Read<'a> = (&'a [u32], u16, f32);

/// Bits of the entry sorted on per pass of the radix sort, at most: two passes for a few
/// million entries, a table of counts that stays in the first-level cache. The passes share
/// the entry's bits evenly (a million entries: two passes of 10 bits, half the buckets to
/// clear and add up of 11 and 9).
const RADIX_BITS: u32 = 11;
/// Room the buffers keep between searches, at least (one search of frequent names may grow
/// them to megabytes; see [`Gatherer::gather`]).
const KEPT_MIN: usize = 4096;

/// What a search has gathered of an entry.
#[derive(Debug, Clone, Copy)]
struct Gathered {
    /// The weight of the query tokens it matches.
    total: f32,
    /// The query token that last added to it, and how much: an entry with several spellings
    /// of one name counts that name once, at its best.
    last: u16,
    best: f32,
}

impl Gathered {
    fn new(token: u16, weight: f32) -> Gathered {
        Gathered { total: weight, last: token, best: weight }
    }

    fn add(&mut self, token: u16, weight: f32) {
        if self.last != token {
            self.last = token;
            self.best = weight;
            self.total += weight;
        } else if weight > self.best {
            self.total += weight - self.best;
            self.best = weight;
        }
    }
}

/// The buffers of gathering, kept from one search on a thread to the next.
#[derive(Debug)]
pub(crate) struct Gatherer {
    keys: Vec<u64>,
    scratch: Vec<u64>,
    /// The query token and weight of each read, by read: what a key's read stands for.
    meta: Vec<(u16, f32)>,
    /// The radix sort's counts (a fixed size: a digit never reads past it).
    counts: Box<[u32; RADIX_BUCKETS]>,
}

/// Buckets of a pass of the radix sort.
const RADIX_BUCKETS: usize = 1 << RADIX_BITS;
/// Fewer keys than this are sorted by comparison: each pass of the radix sort clears and adds
/// up all its buckets, which costs more than the comparisons of a few hundred keys.
const RADIX_SORTED_MIN: usize = 1024;

impl Default for Gatherer {
    fn default() -> Gatherer {
        Gatherer { keys: Vec::new(), scratch: Vec::new(), meta: Vec::new(), counts: Box::new([0; RADIX_BUCKETS]) }
    }
}

impl Gatherer {
    /// Each entry of `reads` with the weight of the query tokens it matches, in no particular
    /// order. At most `most` entries: past that, those met first in the order of reads are
    /// kept (with all they match, however late it is read).
    pub fn gather(&mut self, reads: &[Read], most: usize) -> Vec<Ranked> {
        let total: usize = reads.iter().map(|(entries, _, _)| entries.len()).sum();
        let highest = reads.iter().filter_map(|(entries, _, _)| entries.last()).max().copied().unwrap_or(0);
        keep_room(&mut self.keys, total);
        keep_room(&mut self.scratch, total);
        self.keys.clear();
        self.meta.clear();
        for (read, (entries, token, weight)) in reads.iter().enumerate() {
            let read = read as u64;
            self.keys.extend(entries.iter().map(|&entry| (u64::from(entry) << 32) | read));
            self.meta.push((*token, *weight));
        }
        let sorted = match self.sort_by_entry(highest) {
            Sorted::InPlace => &self.keys[..],
            Sorted::InScratch => &self.scratch[..total],
        };
        // Each entry's postings are now a run, in the order read: one pass adds them up.
        let mut gathered: Vec<Ranked> = Vec::with_capacity(total.min(most));
        // The list each entry is first met in, only needed when some may be left out.
        let mut firsts: Vec<u32> = Vec::new();
        let limited = total > most;
        let meta = &self.meta[..];
        let mut keys = sorted.iter();
        if let Some(&first) = keys.next() {
            let (mut entry, read) = ((first >> 32) as u32, first as u32);
            let (token, weight) = meta[read as usize];
            let mut so_far = Gathered::new(token, weight);
            if limited {
                firsts.push(read);
            }
            for &key in keys {
                let (next, read) = ((key >> 32) as u32, key as u32);
                let (token, weight) = meta[read as usize];
                if next == entry {
                    so_far.add(token, weight);
                    continue;
                }
                gathered.push(Ranked::new(so_far.total, entry));
                (entry, so_far) = (next, Gathered::new(token, weight));
                if limited {
                    firsts.push(read);
                }
            }
            gathered.push(Ranked::new(so_far.total, entry));
        }
        if gathered.len() > most {
            // Those met first: by the first list that holds each, then by place in it.
            let mut order: Vec<(u32, usize, usize)> = gathered
                .iter()
                .zip(&firsts)
                .enumerate()
                .map(|(at, (ranked, &read))| {
                    (read, reads[read as usize].0.binary_search(&ranked.entry()).unwrap_or_default(), at)
                })
                .collect();
            order.select_nth_unstable(most);
            order.truncate(most);
            return order.into_iter().map(|(_, _, at)| gathered[at]).collect();
        }
        gathered
    }

    /// Sorts the keys by their entry (the upper half; `highest` the largest), keeping the
    /// order of equal entries: a least-significant-digit radix sort. Where the keys sorted
    /// are: an odd number of passes leaves them in the scratch buffer.
    fn sort_by_entry(&mut self, highest: u32) -> Sorted {
        let bits = u32::BITS - highest.leading_zeros();
        let len = self.keys.len();
        if len < RADIX_SORTED_MIN {
            // The keys are in the order of reads within an entry already: sorting them whole
            // keeps it.
            self.keys.sort_unstable();
            return Sorted::InPlace;
        }
        // Every slot is written by each pass: grown when too short, never cleared.
        if self.scratch.len() < len {
            self.scratch.resize(len, 0);
        }
        let counts = &mut self.counts;
        let (mut from, mut to) = (&mut self.keys[..], &mut self.scratch[..len]);
        let passes = bits.div_ceil(RADIX_BITS);
        let digit_bits = bits.div_ceil(passes.max(1));
        let buckets = 1usize << digit_bits;
        let counts = &mut counts[..buckets];
        for pass in 0..passes {
            let shift = 32 + pass * digit_bits;
            let digit = |key: u64| ((key >> shift) as usize) & (buckets - 1);
            counts.fill(0);
            for &key in from.iter() {
                counts[digit(key)] += 1;
            }
            let mut start = 0;
            for count in counts.iter_mut() {
                (*count, start) = (start, start + *count);
            }
            for &key in from.iter() {
                let slot = &mut counts[digit(key)];
                to[*slot as usize] = key;
                *slot += 1;
            }
            std::mem::swap(&mut from, &mut to);
        }
        if passes.is_multiple_of(2) { Sorted::InPlace } else { Sorted::InScratch }
    }
}

/// Which buffer the radix sort left the keys in.
enum Sorted {
    InPlace,
    InScratch,
}

/// Keeps `buffer`'s memory for about `needed` items: a buffer more than four times that large
/// (and than [`KEPT_MIN`]) is given back.
fn keep_room(buffer: &mut Vec<u64>, needed: usize) {
    if buffer.capacity() > 4 * needed.max(KEPT_MIN) {
        *buffer = Vec::new();
    }
}

/// A gathered entry and its weight as one number, in the order of the best first: the
/// highest weight, then the lowest entry. Ranking thousands of entries compares numbers, not
/// pairs of a float (by `total_cmp`) and an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ranked(u64);

impl Ranked {
    pub fn new(weight: f32, entry: u32) -> Ranked {
        // The weight's bits as an unsigned number in the order of `total_cmp`, inverted.
        let bits = weight.to_bits();
        let key = bits ^ (((bits as i32 >> 31) as u32) >> 1) ^ (1 << 31);
        Ranked((u64::from(!key) << 32) | u64::from(entry))
    }

    pub fn weight(self) -> f32 {
        let bits = !((self.0 >> 32) as u32) ^ (1 << 31);
        f32::from_bits(bits ^ (((bits as i32 >> 31) as u32) >> 1))
    }

    pub fn entry(self) -> u32 {
        self.0 as u32
    }
}

/// Moves the `wanted` best of `items` to its front, in no particular order.
pub(crate) fn select_best(items: &mut [Ranked], wanted: usize) {
    if wanted > 0 && items.len() > wanted {
        items.select_nth_unstable(wanted - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
    use std::collections::HashMap;

    /// What gathering means: the postings added up one by one in the order read, the first
    /// `most` entries met kept.
    fn one_by_one(reads: &[Read], most: usize) -> Vec<(f32, u32)> {
        let mut gathered: HashMap<u32, Gathered> = HashMap::new();
        for &(entries, token, weight) in reads {
            for &entry in entries {
                if let Some(so_far) = gathered.get_mut(&entry) {
                    so_far.add(token, weight);
                } else if gathered.len() < most {
                    gathered.insert(entry, Gathered::new(token, weight));
                }
            }
        }
        let mut all: Vec<(f32, u32)> = gathered.into_iter().map(|(entry, g)| (g.total, entry)).collect();
        all.sort_by_key(|(_, entry)| *entry);
        all
    }

    fn sorted(gathered: Vec<Ranked>) -> Vec<(f32, u32)> {
        let mut gathered: Vec<(f32, u32)> = gathered.into_iter().map(|r| (r.weight(), r.entry())).collect();
        gathered.sort_by_key(|(_, entry)| *entry);
        gathered
    }

    #[test]
    fn a_spelling_counts_once_at_its_best_and_each_token_adds() {
        let reads: Vec<Read> = vec![(&[1, 5], 0, 0.5), (&[5], 0, 0.75), (&[5, 9], 1, 0.25), (&[1], 0, 0.125)];
        let gathered = sorted(Gatherer::default().gather(&reads, usize::MAX));
        // Entry 5: token 0 at its best (0.75), then token 1 (0.25). Entry 1: token 0 at 0.5
        // (its later spelling at 0.125 is worse).
        assert_eq!(gathered, vec![(0.5, 1), (1.0, 5), (0.25, 9)]);
    }

    #[test]
    fn past_the_most_the_first_met_are_kept() {
        let reads: Vec<Read> = vec![(&[30, 40], 0, 1.0), (&[10, 20, 40], 1, 1.0), (&[10], 2, 1.0)];
        let gathered = sorted(Gatherer::default().gather(&reads, 3));
        // 30 and 40 are met first, then 10; 20 is left; 10 gets its later posting too.
        assert_eq!(gathered, vec![(2.0, 10), (1.0, 30), (2.0, 40)]);
    }

    proptest::proptest! {
        /// Ranked entries are in the order of the highest weight, then the lowest entry,
        /// whatever the weights: many equal, far apart, zero, negative, infinite, not a number.
        #[test]
        fn ranked_in_the_order_of_weight_then_entry(
            weights in proptest::collection::vec(
                proptest::prop_oneof![
                    (0u8..4).prop_map(f32::from),
                    proptest::num::f32::ANY,
                    (0u32..1000).prop_map(|w| w as f32 / 64.0),
                ],
                0..200,
            ),
        ) {
            let items: Vec<(f32, u32)> = weights.iter().enumerate().map(|(i, w)| (*w, (i as u32 * 7919) % 3001)).collect();
            for a in &items {
                let ranked = Ranked::new(a.0, a.1);
                proptest::prop_assert_eq!((ranked.weight().to_bits(), ranked.entry()), (a.0.to_bits(), a.1));
                for b in &items {
                    let best_first = b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
                    proptest::prop_assert_eq!(ranked.cmp(&Ranked::new(b.0, b.1)), best_first);
                }
            }
        }

        #[test]
        fn the_same_as_adding_up_one_by_one(
            lists in proptest::collection::vec(
                (proptest::collection::btree_set(0u32..u32::MAX, 0..300), 0u16..6, 1u8..16),
                0..24,
            ),
            most in 1usize..2000,
            // Entries below this: one, two or three passes of the radix sort.
            bound in proptest::prop_oneof![proptest::strategy::Just(2_000u32), 2_001u32..4_000_000, 4_000_000u32..u32::MAX],
        ) {
            let lists: Vec<(Vec<u32>, u16, f32)> = lists
                .into_iter()
                .map(|(entries, token, weight)| {
                    let entries: std::collections::BTreeSet<u32> = entries.into_iter().map(|e| e % bound).collect();
                    (entries.into_iter().collect(), token, f32::from(weight) / 16.0)
                })
                .collect();
            let reads: Vec<Read> = lists.iter().map(|(entries, token, weight)| (&entries[..], *token, *weight)).collect();
            let mut gatherer = Gatherer::default();
            for most in [most, usize::MAX] {
                let gathered = sorted(gatherer.gather(&reads, most));
                proptest::prop_assert_eq!(gathered, one_by_one(&reads, most));
            }
        }
    }
}
