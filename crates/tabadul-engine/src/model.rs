//! The scoring model: a logistic regression over the comparison's features. The weights are
//! fitted by `scripts/fit-matcher.py` on the development pairs and pasted here; the fit and
//! the figures it gave are in the commit that changed them.

use tabadul_names::NameFeatures;

use crate::person::OtherFeatures;

/// Number of features: the names' then the others'.
pub const FEATURES: usize = NameFeatures::COUNT + OtherFeatures::COUNT;

/// Feature names, in order, for training files and reports.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "query_coverage",
    "candidate_coverage",
    "matched_weight",
    "unmatched_query_weight",
    "unmatched_candidate_weight",
    "candidate_first_unmatched",
    "query_first_unmatched",
    "inversions",
    "weakest_pair",
    "first_tokens_aligned",
    "given_name_shift",
    "both_first_unmatched",
    "query_matched_share",
    "candidate_matched_share",
    "first_pair_similarity",
    "date_exact",
    "date_partial",
    "date_same_year_other_day",
    "date_swapped",
    "date_near",
    "date_conflict",
    "nationality_match",
    "nationality_conflict",
    "gender_match",
    "gender_conflict",
    "document_match",
    "document_conflict",
];

const NAME_BIAS: f32 = -4.355;
const NAME_WEIGHTS: [f32; NameFeatures::COUNT] =
    [3.855, 1.955, -0.038, -0.236, -0.140, -0.629, 0.293, -1.399, 0.772, -0.380, -0.460, 0.062, 0.646, 1.825, 0.800];
const OTHER_WEIGHTS: [f32; OtherFeatures::COUNT] =
    [2.549, 1.719, -0.415, 0.000, -0.922, -2.504, 0.950, -0.902, 0.245, -0.030, 1.366, -0.729];

/// The default hit threshold, chosen on the development pairs.
pub const THRESHOLD: f32 = 0.5;

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// A rule, not fitted: when each name has at least two tokens and neither first token (the
/// given name, in the usual order) finds a match, the two are different people who share the
/// rest of their names (siblings, cousins, namesakes of a tribe). The development pairs hold
/// few such pairs, so the fitted weights do not learn it; border officers would pay for it in
/// false hits on every common family name.
pub const GIVEN_NAME_CONFLICT: f32 = -2.0;

/// A rule, not fitted: the first two names of each side are each other's second (علي حسن
/// الشمري / حسن علي الشمري), the pattern of a man and his son named after his own father,
/// or of a man and his uncle. Rare among the development pairs of one person (the fit gives
/// it nothing), common in the families of a population.
pub const FIRST_TWO_SWAPPED: f32 = -2.0;

pub fn name_logit(features: &NameFeatures, given_name_conflict: bool) -> f32 {
    let rule = if given_name_conflict { GIVEN_NAME_CONFLICT } else { 0.0 }
        + if features.first_two_swapped { FIRST_TWO_SWAPPED } else { 0.0 };
    NAME_BIAS + dot(&NAME_WEIGHTS, &features.to_array()) + rule
}

/// Namesakes counted at most: past this many the odds of each are slight.
pub const NAMESAKES_COUNTED_MAX: u32 = 100;

/// A rule, not fitted, for searches of a population: when the best pair of names agree in
/// part only (a name has a token the other lacks), the names they agree on may be carried by
/// `namesakes` alerts, of which the traveller is at most one; the odds are shared among them.
/// Pairs alone (the development files) have no population to count.
pub fn namesakes_logit(namesakes: u32) -> f32 {
    let namesakes = namesakes.min(NAMESAKES_COUNTED_MAX);
    if namesakes > 1 { -(namesakes as f32).ln() } else { 0.0 }
}

/// An estimate of the name logit from how much of each name is matched (weighted shares, 0
/// to 1), before the names are aligned: how an index ranks its candidates for scoring.
pub fn coverage_logit(query_coverage: f32, candidate_coverage: f32) -> f32 {
    // The coverage features and the unweighted shares, which follow them closely.
    NAME_BIAS
        + (NAME_WEIGHTS[0] + NAME_WEIGHTS[12]) * query_coverage
        + (NAME_WEIGHTS[1] + NAME_WEIGHTS[13]) * candidate_coverage
}

/// A rule, not fitted: birth years more than [`GENERATION_YEARS`] apart (and not one typing
/// slip from each other, such as 1958 / 1985) belong to another generation: a parent, a child,
/// an uncle who shares the names. No positive development pair has birth years more than two
/// apart, so the fitted conflict weight is held back only by the penalty; at the border the
/// common case is a father and son named after each other (علي حسن / حسن علي).
pub const GENERATION_APART: f32 = -3.0;
/// Birth years further apart than this are another generation.
pub const GENERATION_YEARS: u16 = 10;

/// A rule, not fitted: the genders differ (a passport's sex against the alert's). No
/// development pair of one person has genders that differ, but so few pairs of two have
/// both that the fit leaves it at nothing; at the border it is a brother and a sister.
pub const GENDER_DIFFERS: f32 = -2.0;

pub fn other_logit(features: &OtherFeatures) -> f32 {
    let rule = if features.generation_apart { GENERATION_APART } else { 0.0 }
        + if features.gender_conflict > 0.0 { GENDER_DIFFERS } else { 0.0 };
    dot(&OTHER_WEIGHTS, &features.to_array()) + rule
}

fn dot(weights: &[f32], values: &[f32]) -> f32 {
    weights.iter().zip(values).map(|(w, v)| w * v).sum()
}
