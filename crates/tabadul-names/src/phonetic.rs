//! The comparison space: each name token becomes a short string of phonetic symbols, the same
//! for Arabic script and for the usual romanisations, and two such strings are compared by a
//! weighted edit distance in which the usual alternations of romanisation are cheap.
//!
//! Symbols (one ASCII byte each):
//!
//! | symbol | Arabic | Latin |
//! |---|---|---|
//! | `a e i o u` | ا (long a) | vowels |
//! | `w` `y` | و ي (and ؤ ئ) | w, y before a vowel |
//! | `b p t d r z s l m n f v k g q j h` | ب پ ت/ط د/ض ر ز س/ص ل م ن ف ڤ ك/ک گ ق ج ه/ة | the same letters |
//! | `T` | ث | th |
//! | `D` | ذ ظ | dh |
//! | `S` | ش | sh, sch |
//! | `c` | چ | ch, tch |
//! | `H` | ح | (h) |
//! | `x` | خ | kh, x |
//! | `G` | غ | gh |
//! | `E` | ع (ayn) | |
//!
//! Arabic script does not write short vowels, so when either side comes from Arabic script the
//! comparison drops vowels and the ayn from both sides (the consonant skeleton) and makes `w`
//! and `y` cheap to drop.

/// Costs are in tenths: 10 is one full edit.
pub(crate) type Cost = u16;

const FULL: Cost = 10;

/// Groups of symbols that romanisations interchange, with the cost of substituting within.
const CLOSE: &[(&[u8], Cost)] = &[
    (b"aeiou", 2),
    (b"ae", 1),
    (b"ei", 1),
    (b"ou", 1),
    (b"iy", 1),
    (b"ey", 2),
    (b"uw", 1),
    (b"ow", 2),
    (b"wv", 2),
    (b"bp", 2),
    (b"fv", 3),
    (b"bv", 4),
    (b"Hh", 1),
    (b"xH", 3),
    (b"xh", 3),
    (b"xk", 4),
    (b"qk", 2),
    (b"qg", 3),
    (b"kg", 3),
    (b"Gg", 2),
    (b"Gq", 4),
    (b"Tt", 2),
    (b"Ts", 2),
    (b"Dd", 2),
    (b"Dz", 2),
    (b"dz", 4),
    (b"td", 4),
    (b"sz", 3),
    (b"sS", 4),
    (b"Sc", 2),
    (b"jc", 3),
    (b"jg", 3),
    (b"jy", 4),
    (b"jz", 4),
    (b"Ea", 2),
    (b"Ee", 2),
    (b"Ei", 3),
    (b"Eo", 3),
    (b"Eu", 3),
    (b"Eh", 4),
    (b"EH", 5),
    (b"EG", 5),
    (b"nm", 6),
    (b"lr", 6),
];

/// The substitution costs, and what bounds a distance from below without computing it.
struct Tables {
    /// The cost of writing one symbol for another.
    cost: [[Cost; 128]; 128],
    /// Per symbol, the other symbols it may be written for at less than a full edit.
    close: [u128; 128],
    /// Per symbol, what its gap costs elsewhere and at the end ([`gap`]): a load where the
    /// edit distance would otherwise branch on the symbol for each row and column.
    gaps: [[Cost; 2]; 128],
    /// Per symbol, the least its gap costs (wherever it is).
    gap_min: [Cost; 128],
    /// Per symbol, its share of a [`Measure::floor`]: at most its least gap, and no two
    /// symbols' shares differ by more than writing one for the other costs.
    floor: [Cost; 128],
    /// What the symbols of a [`Measure::set`]'s bit (see [`bit`]) cost at least, for the
    /// bound of [`lacking_cost_up_to`]: their least gap, the bits of the symbols they may be
    /// written for at less than a full edit, and what writing them for those costs at least.
    bit_gap_min: [Cost; 64],
    bit_close: [u64; 64],
    bit_cost: [[Cost; 64]; 64],
}

/// The bit of a symbol in a [`Measure::set`]: the phonetic symbols are letters (64 to 127),
/// each with a bit of its own; any other shares one with a letter, which only weakens the
/// bounds the sets give (see [`Tables::bit_cost`]).
fn bit(symbol: u8) -> usize {
    usize::from(symbol & 63)
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Box<Tables>> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = Box::new(Tables {
            cost: [[FULL; 128]; 128],
            close: [0; 128],
            gaps: [[0; 2]; 128],
            gap_min: [0; 128],
            floor: [0; 128],
            bit_gap_min: [Cost::MAX; 64],
            bit_close: [0; 64],
            bit_cost: [[Cost::MAX; 64]; 64],
        });
        for (i, row) in tables.cost.iter_mut().enumerate() {
            row[i] = 0;
        }
        for (group, cost) in CLOSE {
            for &a in *group {
                for &b in *group {
                    if a != b {
                        let cell = &mut tables.cost[usize::from(a)][usize::from(b)];
                        *cell = (*cell).min(*cost);
                        tables.close[usize::from(a)] |= 1 << b;
                    }
                }
            }
        }
        for symbol in 0..128u8 {
            let gaps = [gap(symbol, false), gap(symbol, true)];
            tables.gaps[usize::from(symbol)] = gaps;
            tables.gap_min[usize::from(symbol)] = gaps[0].min(gaps[1]);
        }
        // The cheapest way to write one symbol for another, through others if need be.
        let mut path = tables.cost;
        for via in 0..128 {
            for from in 0..128 {
                for to in 0..128 {
                    path[from][to] = path[from][to].min(path[from][via] + path[via][to]);
                }
            }
        }
        // A symbol's share is the cheapest way to make it disappear: written as another,
        // then dropped. Any two then differ by at most a substitution's cost (from the
        // one, the other's way is one of its ways), and none exceeds its own gap.
        for (share, ways) in tables.floor.iter_mut().zip(&path) {
            *share = ways.iter().zip(&tables.gap_min).map(|(way, gap)| way + gap).min().unwrap_or(0);
        }
        // Each bit's symbols at their cheapest, so that a bound from the bits is never above
        // one from the symbols.
        for symbol in 0..128 {
            let at = bit(symbol as u8);
            tables.bit_gap_min[at] = tables.bit_gap_min[at].min(tables.gap_min[symbol]);
            for other in 0..128 {
                let cost = tables.cost[symbol][other];
                tables.bit_cost[at][bit(other as u8)] = tables.bit_cost[at][bit(other as u8)].min(cost);
                if tables.close[symbol] & (1 << other) != 0 {
                    tables.bit_close[at] |= 1 << bit(other as u8);
                }
            }
        }
        tables
    })
}

/// The cost of a symbol that has nothing in front of it on the other side.
fn gap(symbol: u8, last: bool) -> Cost {
    match symbol {
        b'a' | b'e' | b'i' | b'o' | b'u' => 3,
        b'E' => 2,
        b'w' | b'y' => 4,
        b'h' if last => 2,
        b'h' => 6,
        _ => 9,
    }
}

/// How much a string weighs: what deleting all of it would cost.
pub(crate) fn weight(symbols: &[u8]) -> Cost {
    symbols.iter().enumerate().map(|(i, s)| gap(*s, i + 1 == symbols.len())).sum()
}

/// The longest phonetic string compared; longer ones are cut (names are never this long).
pub(crate) const SYMBOLS_MAX: usize = 40;

/// What comparing a phonetic string reads besides its symbols, computed once per string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Measure {
    /// Its [`weight`].
    pub(crate) weight: Cost,
    /// The set of its symbols as compared (the first [`SYMBOLS_MAX`]), by their [`bit`]s.
    pub(crate) set: u64,
    /// The sum of its symbols' shares of the floor (the first [`SYMBOLS_MAX`]): two strings
    /// are at least as far apart as their floors. Every edit changes the difference of the
    /// floors by at most what it costs (a substitution by at most its cost, a gap by at most
    /// the symbol's least gap), so a string twice as long as another is told apart from it
    /// without the edit distance, whatever symbols they share.
    pub(crate) floor: Cost,
}

impl Measure {
    pub(crate) fn of(symbols: &[u8]) -> Measure {
        let compared = &symbols[..symbols.len().min(SYMBOLS_MAX)];
        Measure { weight: weight(symbols), set: symbol_set(compared), floor: floor(tables(), compared) }
    }

    /// The measure of `a` then `b` with the symbol where they meet written once if both have
    /// it (what removing the doubles of the two written together gives, when each has none),
    /// from theirs: the sums of the two less what the doubled symbol brought, and the last
    /// symbol of `a` weighed as no longer last. `None` past [`SYMBOLS_MAX`] symbols, where
    /// what is compared is cut.
    pub(crate) fn joined(a: &[u8], measure_a: &Measure, b: &[u8], measure_b: &Measure) -> Option<Measure> {
        let (Some(&last), Some(&next)) = (a.last(), b.first()) else {
            return Some(if a.is_empty() { *measure_b } else { *measure_a });
        };
        let doubled = last == next;
        if a.len() + b.len() - usize::from(doubled) > SYMBOLS_MAX {
            return None;
        }
        if doubled && b.len() == 1 {
            return Some(*measure_a);
        }
        let tables = tables();
        let gaps = |symbol: u8| tables.gaps[usize::from(symbol & 0x7f)];
        let mut weight = measure_a.weight - gaps(last)[1] + gaps(last)[0] + measure_b.weight;
        let mut floor = measure_a.floor + measure_b.floor;
        if doubled {
            weight -= gaps(next)[0];
            floor -= tables.floor[usize::from(next & 0x7f)];
        }
        Some(Measure { weight, set: measure_a.set | measure_b.set, floor })
    }
}

/// The sum of the symbols' shares of the floor (see [`Measure::floor`]).
fn floor(tables: &Tables, symbols: &[u8]) -> Cost {
    symbols.iter().map(|s| tables.floor[usize::from(s & 0x7f)]).sum()
}

/// The symbols of a phonetic string, as a set of their [`bit`]s.
fn symbol_set(symbols: &[u8]) -> u64 {
    symbols.iter().fold(0, |set, symbol| set | 1 << bit(*symbol))
}

/// The least that the symbols of `a` that `b` lacks cost (in full).
#[cfg(test)]
fn lacking_cost(tables: &Tables, a: u64, b: u64) -> Cost {
    lacking_cost_up_to(tables, a, b, Cost::MAX)
}

/// The least that the symbols of `a` that `b` lacks cost: each such symbol of `a` is either
/// dropped (its gap) or written for one of `b`'s symbols (never for itself), one edit each.
/// Counted only until it exceeds `limit` (what is returned then is some cost above it).
fn lacking_cost_up_to(tables: &Tables, a: u64, b: u64, limit: Cost) -> Cost {
    let mut lacking = a & !b;
    let mut cost: Cost = 0;
    while lacking != 0 && cost <= limit {
        let at = lacking.trailing_zeros() as usize;
        lacking &= lacking - 1;
        let mut least = tables.bit_gap_min[at];
        if b != 0 {
            least = least.min(FULL);
            let mut close = tables.bit_close[at] & b;
            while close != 0 {
                let other = close.trailing_zeros() as usize;
                close &= close - 1;
                least = least.min(tables.bit_cost[at][other]);
            }
        }
        cost = cost.saturating_add(least);
    }
    cost
}

/// The lower bound of the distance between two strings with symbols `a` and `b` that
/// [`surely_beyond`] tests.
#[cfg(test)]
fn distance_at_least(tables: &Tables, a: u64, b: u64) -> Cost {
    lacking_cost(tables, a, b).max(lacking_cost(tables, b, a))
}

/// Whether the distance between two strings with measures `a` and `b` surely exceeds
/// `limit`: the difference of their floors is a lower bound of it, and so is what the symbols
/// either lacks cost. Most pairs of different names are told apart so without the edit
/// distance; the floors, or one side, are often enough.
fn surely_beyond(tables: &Tables, a: &Measure, b: &Measure, limit: Cost) -> bool {
    a.floor.abs_diff(b.floor) > limit
        || lacking_cost_up_to(tables, a.set, b.set, limit) > limit
        || lacking_cost_up_to(tables, b.set, a.set, limit) > limit
}

/// The weighted edit distance between two phonetic strings if it is at most `limit`; `None`
/// as soon as every path costs more.
/// `measures` are those of `a` and `b`.
fn distance_within(a: &[u8], b: &[u8], measures: (&Measure, &Measure), limit: Cost) -> Option<Cost> {
    let a = &a[..a.len().min(SYMBOLS_MAX)];
    let b = &b[..b.len().min(SYMBOLS_MAX)];
    let tables = tables();
    if surely_beyond(tables, measures.0, measures.1, limit) {
        return None;
    }
    // The cost of a gap at each symbol of `b`, read once per cell of every row otherwise.
    let mut gaps_b = [0 as Cost; SYMBOLS_MAX];
    for (j, symbol) in b.iter().enumerate() {
        gaps_b[j] = tables.gaps[usize::from(symbol & 0x7f)][usize::from(j + 1 == b.len())];
    }
    let gaps_b = &gaps_b[..b.len()];
    let mut rows = ([0 as Cost; SYMBOLS_MAX + 1], [0 as Cost; SYMBOLS_MAX + 1]);
    // Swapped by reference after each row, not copied.
    let (mut previous, mut current) = (&mut rows.0, &mut rows.1);
    for j in 1..=b.len() {
        previous[j] = previous[j - 1] + gaps_b[j - 1];
    }
    for (i, &symbol_a) in a.iter().enumerate() {
        let gap_a = tables.gaps[usize::from(symbol_a & 0x7f)][usize::from(i + 1 == a.len())];
        let row = &tables.cost[usize::from(symbol_a & 0x7f)];
        // The cell to the left, carried in a register: each cell waits for it (an insertion),
        // and a store then a load of it would add their latency to every cell.
        let mut left = previous[0] + gap_a;
        current[0] = left;
        let mut row_min = left;
        for (j, (&symbol_b, &gap_b)) in b.iter().zip(gaps_b).enumerate() {
            let replace = previous[j] + row[usize::from(symbol_b & 0x7f)];
            let delete = previous[j + 1] + gap_a;
            left = replace.min(delete).min(left + gap_b);
            current[j + 1] = left;
            row_min = row_min.min(left);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|d| *d <= limit)
}

/// [`similarity`] when it is at least `min`; 0 when it is less (computed only as far as needed
/// to know that).
#[cfg(test)]
pub(crate) fn similarity_from(a: &[u8], b: &[u8], min: f32) -> f32 {
    similarity_weighted(a, Measure::of(a), b, Measure::of(b), min)
}

/// The most that two strings of weights `weight_a` and `weight_b` may be apart and still have
/// a similarity of `min` (`None`: weightless strings, similarity 0).
fn distance_allowed(weight_a: Cost, weight_b: Cost, min: f32) -> Option<(Cost, f32)> {
    let norm = (f32::from(weight_a) + f32::from(weight_b)) / 2.0;
    if norm <= 0.0 {
        return None;
    }
    // Truncated, which is its floor once negatives are clamped (`floor` itself is a call to
    // the C library here, and this runs for every pair of tokens compared).
    let mut limit = ((1.0 - min) * norm).clamp(0.0, f32::from(Cost::MAX - 1)) as Cost;
    // `(1 - min) * norm` is rounded, and a similarity exactly at `min` may fall either side of
    // it: the similarity as computed decides, so that "at least `min`" holds to the last bit.
    let reaches = |distance: Cost| 1.0 - f32::from(distance) / norm >= min;
    if limit < Cost::MAX - 1 && reaches(limit + 1) {
        limit += 1;
    } else if limit > 0 && !reaches(limit) {
        limit -= 1;
    }
    Some((limit, norm))
}

/// The similarity of two phonetic strings (1 less their distance relative to their mean
/// weight) when it is at least `min`, 0 when it is less (computed only as far as needed to know
/// that), with the strings' [`Measure`]s already known.
pub(crate) fn similarity_weighted(a: &[u8], measure_a: Measure, b: &[u8], measure_b: Measure, min: f32) -> f32 {
    // Different measures are different strings, told apart without comparing them.
    if measure_a == measure_b && a == b {
        return 1.0;
    }
    let Some((limit, norm)) = distance_allowed(measure_a.weight, measure_b.weight, min) else {
        return 0.0;
    };
    match distance_within(a, b, (&measure_a, &measure_b), limit) {
        Some(d) => (1.0 - f32::from(d) / norm).max(0.0),
        None => 0.0,
    }
}

/// Whether [`similarity_weighted`] of two strings with measures `a` and `b` is surely below
/// `min`, told from the measures alone: the floors, or the symbols each lacks, cost more than
/// `min` allows. What a comparison of two tokens read as one asks before it builds their
/// joined reading.
pub(crate) fn surely_below(a: &Measure, b: &Measure, min: f32) -> bool {
    distance_allowed(a.weight, b.weight, min).is_some_and(|(limit, _)| surely_beyond(tables(), a, b, limit))
}

/// Similarity in [0, 1] of two phonetic strings: 1 less their distance relative to their
/// mean weight.
#[cfg(test)]
pub(crate) fn similarity(a: &[u8], b: &[u8]) -> f32 {
    similarity_from(a, b, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bit costs no more than any of its symbols, so that the bound from the bits is never
    /// above the one from the symbols; the letters have a bit each.
    #[test]
    fn bits_cost_no_more_than_their_symbols() {
        let tables = tables();
        for symbol in 0..128u8 {
            let at = bit(symbol);
            assert!(tables.bit_gap_min[at] <= tables.gap_min[usize::from(symbol)]);
            for other in 0..128u8 {
                assert!(tables.bit_cost[at][bit(other)] <= tables.cost[usize::from(symbol)][usize::from(other)]);
                if tables.close[usize::from(symbol)] & (1 << other) != 0 {
                    assert!(tables.bit_close[at] & (1 << bit(other)) != 0, "{symbol} {other}");
                }
            }
        }
        let letters: Vec<usize> = (b'A'..=b'Z').chain(b'a'..=b'z').map(bit).collect();
        assert!(letters.iter().enumerate().all(|(i, a)| !letters[i + 1..].contains(a)));
    }

    proptest::proptest! {
        /// The bound from lacking symbols never exceeds the distance, so a pair it rules out
        /// is one the edit distance would have ruled out too.
        #[test]
        fn lacking_symbols_bound_the_distance(
            a in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,12}",
            b in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,12}",
        ) {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            let (measure_a, measure_b) = (Measure::of(a), Measure::of(b));
            let distance = distance_within(a, b, (&measure_a, &measure_b), Cost::MAX - 1).unwrap();
            proptest::prop_assert!(distance_at_least(tables(), measure_a.set, measure_b.set) <= distance);
            proptest::prop_assert!(measure_a.floor.abs_diff(measure_b.floor) <= distance);
            let full = similarity(a, b);
            for min in [0.3, 0.6, 0.8] {
                let cut = similarity_from(a, b, min);
                proptest::prop_assert!(if full >= min { cut == full } else { cut == 0.0 }, "{} {}", full, cut);
            }
        }
    }

    /// The weighted edit distance in full, every cell of every row: the reference that
    /// [`distance_within`], which stops once every path is beyond its limit, is held to.
    fn distance_in_full(a: &[u8], b: &[u8]) -> Cost {
        let tables = tables();
        let gap = |s: &[u8], i: usize| tables.gaps[usize::from(s[i] & 0x7f)][usize::from(i + 1 == s.len())];
        let mut previous: Vec<Cost> = std::iter::once(0).chain((0..b.len()).map(|j| gap(b, j))).collect();
        for j in 1..previous.len() {
            previous[j] += previous[j - 1];
        }
        for i in 0..a.len() {
            let mut current = vec![previous[0] + gap(a, i)];
            for j in 1..=b.len() {
                let replace = previous[j - 1] + tables.cost[usize::from(a[i] & 0x7f)][usize::from(b[j - 1] & 0x7f)];
                current.push(replace.min(previous[j] + gap(a, i)).min(current[j - 1] + gap(b, j - 1)));
            }
            previous = current;
        }
        previous[b.len()]
    }

    proptest::proptest! {
        /// The distance within a limit is the distance in full when that is within it, and
        /// none when it is not, whatever the limit.
        #[test]
        fn the_cut_off_keeps_every_distance_within_the_limit(
            a in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,14}",
            b in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,14}",
            limit in 0u16..120,
        ) {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            let full = distance_in_full(a, b);
            let within = distance_within(a, b, (&Measure::of(a), &Measure::of(b)), limit);
            proptest::prop_assert_eq!(within, Some(full).filter(|d| *d <= limit));
        }
    }

    proptest::proptest! {
        /// Two strings without doubles, joined: their measure made from theirs is the joined
        /// string's.
        #[test]
        fn joined_measures_are_those_of_the_joined_string(
            a in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,24}",
            b in "[aeiouwybptdrzslmnfvkgqjhTDSHxGEc]{0,24}",
        ) {
            let without_doubles = |s: &str| {
                let mut symbols = s.as_bytes().to_vec();
                symbols.dedup();
                symbols
            };
            let (a, b) = (without_doubles(&a), without_doubles(&b));
            let mut joined = [a.clone(), b.clone()].concat();
            joined.dedup();
            let made = Measure::joined(&a, &Measure::of(&a), &b, &Measure::of(&b));
            proptest::prop_assert_eq!(made.is_none(), joined.len() > SYMBOLS_MAX);
            if let Some(made) = made {
                proptest::prop_assert_eq!(made, Measure::of(&joined));
            }
        }
    }

    #[test]
    fn floor_shares_keep_within_every_edit() {
        let tables = tables();
        for x in 0..128 {
            assert!(tables.floor[x] <= tables.gap_min[x]);
            for y in 0..128 {
                assert!(tables.floor[x].abs_diff(tables.floor[y]) <= tables.cost[x][y], "{x} {y}");
            }
        }
        // Consonants keep most of their gap; those written for a cheap one do not.
        assert_eq!(tables.floor[usize::from(b'b')], 9);
        assert!(tables.floor[usize::from(b'H')] < 9);
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_equals() {
        for (a, b) in [("mhmd", "mHmd"), ("hsyn", "husein"), ("", "abc"), ("SmrI", "Samari")] {
            let distance = |x: &str, y: &str| {
                let (x, y) = (x.as_bytes(), y.as_bytes());
                distance_within(x, y, (&Measure::of(x), &Measure::of(y)), Cost::MAX)
            };
            assert_eq!(distance(a, b), distance(b, a));
            assert_eq!(distance(a, a), Some(0));
        }
        assert_eq!(
            distance_within(b"mhmd", b"mHmd", (&Measure::of(b"mhmd"), &Measure::of(b"mHmd")), Cost::MAX),
            Some(1)
        );
        assert!(similarity(b"mhmd", b"mHmd") > 0.95);
        assert!(similarity(b"mhmd", b"xlyl") < 0.3);
        for (a, b) in [("mhmd", "mHmd"), ("hsyn", "husein"), ("abc", ""), ("Samari", "SmrI"), ("xlyl", "mhmd")] {
            let (a, b) = (a.as_bytes(), b.as_bytes());
            let full = similarity(a, b);
            let cut = similarity_from(a, b, 0.6);
            assert!(if full >= 0.6 { cut == full } else { cut == 0.0 }, "{full} {cut}");
        }
    }
}
