//! giupdo — quản lý phong trào "nhận giúp đỡ hộ nghèo theo địa chỉ".
//!
//! Map of the crate:
//! - [`cli`]: the command line (`giupdo serve|migrate|demo|db|backup|restore|import|export|dedupe|user`).
//! - [`config`]: settings from flags and environment.
//! - [`pgcluster`]: the private PostgreSQL cluster used when `DATABASE_URL` is unset.
//! - [`db`]: database access, one module per table group; every write takes the acting user and
//!   writes the audit trail in the same transaction.
//! - [`domain`]: the rules of the campaign (money, dates and deadlines, roles and permissions).
//! - [`web`]: HTTP handlers, one module per area, and the middleware stack.
//! - [`demo`]: the demo data set of Bình Gia 2024.
//! - [`photo`]: photos of deliveries and visits decoded, turned upright, stripped and downsized.
//! - [`ha`]: PgBouncer and pg_auto_failover started for the benches and tests that prove the
//!   deployment guide (docs/deployment.md).

pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod import;
pub mod pgcluster;
pub mod photo;
pub mod pitr;
pub mod report;
pub mod server;
pub mod web;
