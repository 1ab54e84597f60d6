//! Integration tests: one binary (one link step) with a module per area.

mod harness;
/// The benchmarks' load generator, synthetic households and measured failover, shared with the
/// `giupdo-bench` binary (which uses parts the tests do not).
#[allow(dead_code)]
#[path = "../../src/bin/giupdo-bench/kit/mod.rs"]
mod kit;

mod accounts;
mod authz;
mod browser;
mod campaign_rules;
mod cluster;
mod dedupe_model;
mod duplicates;
mod effectiveness;
mod fixtures;
mod foundation;
mod ha;
mod ops;
mod photos;
mod places;
mod profiles;
mod registry;
mod reports;
mod resilience;
mod sponsorships;
