//! The rules of the campaign, independent of HTTP and SQL.

pub mod accounts;
pub mod area;
pub mod cccd;
pub mod dates;
pub mod duplicates;
pub mod effectiveness;
pub mod household;
pub mod labels;
pub mod money;
pub mod places;
pub mod poverty;
pub mod quota;
pub mod roles;
pub mod sponsorship;
pub mod spreadsheet;
pub mod text;
