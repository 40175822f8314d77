//! Measures of a matcher on labelled pairs: precision, recall and F1 at a threshold, average
//! precision of the ranking, the best F1 and the recall at 95 % precision over all thresholds.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub pairs: usize,
    pub positives: usize,
    pub negatives: usize,
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub ap: f64,
    pub best_f1: f64,
    pub recall_at_p95: f64,
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 }
}

/// `scored` holds (score, is a true pair). Ties in score are ranked together, as a threshold
/// cannot separate them.
pub fn metrics(scored: &[(f32, bool)], threshold: f32) -> Metrics {
    let positives = scored.iter().filter(|(_, label)| *label).count();
    let negatives = scored.len() - positives;
    let true_hits = scored.iter().filter(|(s, l)| *l && *s >= threshold).count();
    let hits = scored.iter().filter(|(s, _)| *s >= threshold).count();
    let precision = if hits > 0 { true_hits as f64 / hits as f64 } else { 1.0 };
    let recall = if positives > 0 { true_hits as f64 / positives as f64 } else { 0.0 };

    let mut sorted: Vec<(f32, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut ap, mut best_f1, mut recall_at_p95) = (0.0, 0.0f64, 0.0f64);
    let (mut tp, mut fp, mut previous_recall) = (0usize, 0usize, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            if sorted[j].1 {
                tp += 1
            } else {
                fp += 1
            }
            j += 1;
        }
        let p = tp as f64 / (tp + fp) as f64;
        let r = if positives > 0 { tp as f64 / positives as f64 } else { 0.0 };
        ap += (r - previous_recall) * p;
        previous_recall = r;
        best_f1 = best_f1.max(f1(p, r));
        if p >= 0.95 {
            recall_at_p95 = recall_at_p95.max(r);
        }
        i = j;
    }
    Metrics {
        pairs: scored.len(),
        positives,
        negatives,
        threshold,
        precision,
        recall,
        f1: f1(precision, recall),
        ap,
        best_f1,
        recall_at_p95,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking() {
        let m = metrics(&[(0.9, true), (0.8, true), (0.2, false)], 0.5);
        assert_eq!((m.precision, m.recall, m.ap, m.best_f1, m.recall_at_p95), (1.0, 1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn a_mixed_ranking() {
        // Ranked: T F T F -> precision at each true: 1, 2/3 -> AP = 0.5*1 + 0.5*2/3.
        let m = metrics(&[(0.9, true), (0.8, false), (0.7, true), (0.1, false)], 0.75);
        assert!((m.ap - (0.5 + 1.0 / 3.0)).abs() < 1e-9, "{m:?}");
        assert_eq!((m.precision, m.recall), (0.5, 0.5));
        assert_eq!(m.recall_at_p95, 0.5);
    }

    #[test]
    fn ties_rank_together() {
        let m = metrics(&[(0.5, true), (0.5, false)], 0.5);
        assert_eq!(m.ap, 0.5);
        assert_eq!(m.recall_at_p95, 0.0);
    }
}
