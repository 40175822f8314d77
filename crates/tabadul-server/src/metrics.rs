//! The server's measurements, rendered in the Prometheus text format at `/metrics`: requests
//! and their latency by route and status, checks and hits, permits waiting, index size.
//!
//! A small registry of our own rather than a global recorder: every server (and every test's
//! router) counts for itself, and nothing is installed process-wide.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn add(&mut self, other: &Histogram) {
        for (total, n) in self.counts.iter_mut().zip(other.counts) {
            *total += n;
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// Method, route template and status.
type RouteKey = (String, String, u16);

/// What the server counts.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RouteKey, Histogram>>,
    pub checks: AtomicU64,
    pub hits: AtomicU64,
    pub checks_refused_busy: AtomicU64,
    pub permits_waiting: AtomicU64,
}

impl Metrics {
    /// Counts one answered request: its method, route (the template, never the path with its
    /// ids), status and how long it took.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let Ok(mut requests) = self.requests.lock() else { return };
        let histogram = requests.entry((method.to_string(), route.to_string(), status)).or_default();
        let seconds = took.as_secs_f64();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bucket, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition; `alerts` is the number of alerts in the store.
    pub fn render(&self, alerts: u64) -> String {
        let mut out = String::new();
        let requests: BTreeMap<RouteKey, Histogram> = self.requests.lock().map(|r| r.clone()).unwrap_or_default();
        out.push_str("# HELP tabadul_http_requests_total Requests answered, by method, route and status.\n");
        out.push_str("# TYPE tabadul_http_requests_total counter\n");
        for ((method, route, status), histogram) in &requests {
            let count = histogram.count;
            let _ = writeln!(
                out,
                "tabadul_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP tabadul_http_request_seconds Time to answer, by method and route.\n");
        out.push_str("# TYPE tabadul_http_request_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Histogram> = BTreeMap::new();
        for ((method, route, _), histogram) in &requests {
            by_route.entry((method, route)).or_default().add(histogram);
        }
        for ((method, route), Histogram { counts, count, sum }) in by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, n) in BUCKETS.iter().zip(counts) {
                let _ = writeln!(out, "tabadul_http_request_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "tabadul_http_request_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "tabadul_http_request_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "tabadul_http_request_seconds_count{{{labels}}} {count}");
        }
        let gauges = [
            ("tabadul_checks_total", "counter", "Checks answered.", self.checks.load(Ordering::Relaxed)),
            ("tabadul_hits_total", "counter", "Hits found by checks.", self.hits.load(Ordering::Relaxed)),
            (
                "tabadul_checks_busy_total",
                "counter",
                "Checks refused because too many were waiting.",
                self.checks_refused_busy.load(Ordering::Relaxed),
            ),
            (
                "tabadul_check_permits_waiting",
                "gauge",
                "Checks waiting for a permit.",
                self.permits_waiting.load(Ordering::Relaxed),
            ),
            ("tabadul_alerts", "gauge", "Alerts in the store.", alerts),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.request("POST", "/api/v1/checks", 200, Duration::from_micros(1500));
        metrics.request("POST", "/api/v1/checks", 200, Duration::from_millis(30));
        metrics.request("POST", "/api/v1/checks", 400, Duration::from_micros(100));
        metrics.checks.fetch_add(2, Ordering::Relaxed);
        let text = metrics.render(3200);
        assert!(
            text.contains("tabadul_http_requests_total{method=\"POST\",route=\"/api/v1/checks\",status=\"200\"} 2")
        );
        assert!(
            text.contains(
                "tabadul_http_request_seconds_bucket{method=\"POST\",route=\"/api/v1/checks\",le=\"0.002\"} 2"
            )
        );
        assert!(
            text.contains(
                "tabadul_http_request_seconds_bucket{method=\"POST\",route=\"/api/v1/checks\",le=\"+Inf\"} 3"
            )
        );
        assert!(text.contains("tabadul_checks_total 2") && text.contains("tabadul_alerts 3200"));
    }
}
