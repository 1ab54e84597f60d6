//! Integration tests: one binary (one link step) with a module per area.

mod harness;
/// The benchmarks' load generator, synthetic households and measured failover (the `giupdo-bench`
/// crate, a dev-dependency: none of it is in the production build).
use giupdo_bench::kit;

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
mod latency;
mod ops;
mod photos;
mod places;
mod profiles;
mod recovery;
mod registry;
mod reports;
mod resilience;
mod sponsorships;
