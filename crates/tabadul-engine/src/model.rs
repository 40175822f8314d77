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

const NAME_BIAS: f32 = -6.0;
const NAME_WEIGHTS: [f32; NameFeatures::COUNT] = [3.0, 4.0, 0.8, -0.3, -0.8, -1.5, -0.5, -0.5, 1.0];
const OTHER_WEIGHTS: [f32; OtherFeatures::COUNT] = [3.0, 1.5, 0.3, 1.5, 0.3, -2.5, 0.7, -1.0, 0.2, -2.0, 4.0, -0.5];

/// The default hit threshold, chosen on the development pairs.
pub const THRESHOLD: f32 = 0.5;

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub fn name_logit(features: &NameFeatures) -> f32 {
    NAME_BIAS + dot(&NAME_WEIGHTS, &features.to_array())
}

pub fn other_logit(features: &OtherFeatures) -> f32 {
    dot(&OTHER_WEIGHTS, &features.to_array())
}

fn dot(weights: &[f32], values: &[f32]) -> f32 {
    weights.iter().zip(values).map(|(w, v)| w * v).sum()
}
