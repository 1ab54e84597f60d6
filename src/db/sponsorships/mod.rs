//! Sponsorships: an agency, or a joint group led by one, adopts a household in a campaign.
//! R4's "one sponsorship per household per campaign" is the database's constraint
//! `sponsorships_campaign_household_key`; this module turns its refusal into a message naming the
//! agency that already has the household, and asks for a reason to adopt a household helped in an
//! earlier campaign.
//!
//! - `pledge`: recording a pledge, and who already holds a household;
//! - `detail`: one sponsorship with its members, lines, deliveries and visits;
//! - `transitions`: confirm, reject, cancel, deliver, visit (row lock, `domain::sponsorship::next`,
//!   audit, in the caller's transaction);
//! - `worklists`: the lists the agency, commune and district pages show.

mod detail;
mod pledge;
mod transitions;
mod worklists;

pub use detail::*;
pub use pledge::*;
pub use transitions::*;
pub use worklists::*;
