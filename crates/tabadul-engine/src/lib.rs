//! The screening engine: scores a person against a person alert on names, birth dates,
//! nationality, gender and documents, with a score in [0, 1] and an explanation an officer
//! can read.
//!
//! Pure: no I/O, no clock. The score is a logistic model over features of the comparison
//! ([`model`]), fitted on the development pairs in `../shared/data/eval` by
//! `scripts/fit-matcher.py`, so that a score reads as the probability that the two are the
//! same person among pairs like those.

pub mod eval;
pub mod model;

pub use tabadul_names::SimilarityCache;
mod person;

pub use person::{
    Evidence, Facts, MatchResult, OtherFeatures, PersonQuery, PreparedPerson, Reason, evidence_logit, explain,
    facts_logit, normalise_document, score, score_cached,
};

/// The default score from which a comparison is a hit.
pub const HIT_THRESHOLD_DEFAULT: f32 = model::THRESHOLD;
