//! What the benchmarks share with the app's integration tests: the load generator, synthetic
//! households, the app on a local port, the measured failover and latency percentiles (`kit`), and
//! the tooling that starts PgBouncer and a pg_auto_failover formation on this machine (`ha`).
//! A crate of its own so that none of it is in the production `giupdo`.

pub mod ha;
pub mod kit;
