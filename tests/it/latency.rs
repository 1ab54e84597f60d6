//! The benchmarks' percentiles (`giupdo_bench::kit::latency`): every table they print rests on it.

use std::time::Duration;

use crate::kit::{Latency, latency};

#[test]
fn percentiles_of_known_timings() {
    let times: Vec<Duration> = (1..=1000).map(Duration::from_millis).collect();
    let l = latency(&times);
    assert_eq!(l.count, 1000);
    assert!((l.p50 - 500.0).abs() <= 1.0, "{l:?}");
    assert!((l.p95 - 950.0).abs() <= 1.0, "{l:?}");
    assert!((l.p99 - 990.0).abs() <= 1.0, "{l:?}");
    assert!((l.max - 1000.0).abs() <= 1.0, "{l:?}");
}

#[test]
fn no_timings_give_zeros_instead_of_a_panic() {
    assert_eq!(latency(&[]), Latency::default());
}
