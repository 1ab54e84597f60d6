//! What the benchmarks share with the app's integration tests (a dev-dependency there): the load
//! generator, synthetic households, the app on a local port, the measured failover, and latency
//! percentiles.

pub mod failover;
pub mod load;
pub mod serve;
pub mod synthetic;
mod user;

use std::time::Duration;

/// Latency percentiles of a set of timings, in milliseconds (all zero for an empty set).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The percentiles of `times` from an HDR histogram (microseconds, 3 significant digits, up to an
/// hour — longer is counted as an hour): one implementation for every table the benchmarks print.
pub fn latency(times: &[Duration]) -> Latency {
    const HOUR_US: u64 = 3_600_000_000;
    let Ok(mut h) = hdrhistogram::Histogram::<u64>::new_with_bounds(1, HOUR_US, 3) else {
        return Latency::default();
    };
    for t in times {
        h.saturating_record((t.as_micros() as u64).max(1));
    }
    if h.is_empty() {
        return Latency::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Latency {
        count: h.len(),
        p50: ms(h.value_at_quantile(0.50)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
    }
}
