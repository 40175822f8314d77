//! Names across scripts and transliterations: folding, analysis into comparable tokens, and
//! comparison with an explanation.
//!
//! Pure: no I/O, no clock. The pipeline, each stage a small function:
//! 1. [`script`]: Unicode NFKC, lower case, Latin accents and ICAO letters, Arabic letter
//!    variants (hamza and alef forms, ta marbuta, alef maqsura, Persian and Urdu letters,
//!    tatweel, tashkeel), split into tokens at spaces, punctuation and script changes;
//! 2. [`analyze`]: titles and particles dropped, articles removed, compounds made one token
//!    (`abd`/`abu` + name; names in -allah and -din), each token converted into the
//!    comparison space ([`phonetic`]) and looked up in the table of known names;
//! 3. [`compare`]: token similarities, an alignment of the two names' tokens tolerant of order,
//!    of missing middle names and of tokens written joined or apart, and the features that
//!    the scorer turns into a score.

pub mod analyze;
pub mod compare;
mod convert;
pub mod fx;
mod known;
mod phonetic;
pub mod script;

pub use analyze::{CompoundKind, Name, Spelling, TOKENS_PER_NAME_MAX, Token, analyze};
pub use compare::{
    ALIGN_SIMILARITY_MIN, Alignment, MatchKind, NameFeatures, Pair, SimilarityCache, compare, compare_cached,
    compare_features, first_two_swapped, token_similarity, token_similarity_from,
};
pub use script::TokenScript;

/// A token's coarse consonant skeleton: its cross-script form with semivowels and h dropped
/// and the consonants that romanisations confuse merged (q/k/g, kh/h, th/s, dh/z, sh/ch/s).
/// Two spellings of one name nearly always share its first symbols; the index builds its
/// blocking keys from it.
pub fn coarse_skeleton(token: &Token) -> Vec<u8> {
    coarse_skeleton_of(&token.cross)
}

/// [`coarse_skeleton`] of a cross-script form.
pub fn coarse_skeleton_of(cross: &[u8]) -> Vec<u8> {
    // A Latin h stands for ح as often as for ه; a final h (ة, or an h written or not at the end
    // of Fatima/Fatimah) is left out.
    let cross = cross.strip_suffix(b"h").unwrap_or(cross);
    let mut key: Vec<u8> = cross
        .iter()
        .filter_map(|s| match s {
            b'w' | b'y' => None,
            b'h' | b'H' | b'x' => Some(b'h'),
            b'q' | b'g' | b'G' => Some(b'k'),
            b'T' => Some(b's'),
            b'D' => Some(b'z'),
            b'p' => Some(b'b'),
            b'v' => Some(b'f'),
            b'c' | b'S' => Some(b's'),
            other => Some(*other),
        })
        .collect();
    key.dedup();
    key
}
