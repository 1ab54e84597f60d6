//! The rules of the campaign, independent of HTTP and SQL.

pub mod accounts;
pub mod dates;
pub mod labels;
pub mod money;
pub mod roles;
