//! Integration tests: one binary (one link step) with a module per area.

mod harness;

mod accounts;
mod authz;
mod browser;
mod cluster;
mod duplicates;
mod effectiveness;
mod fixtures;
mod foundation;
mod ha;
mod ops;
mod photos;
mod registry;
mod reports;
mod resilience;
mod sponsorships;
