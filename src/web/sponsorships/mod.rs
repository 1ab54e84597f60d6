//! Sponsorship pages (issue #6): the pledge (choose a household, plan the support, invite a joint
//! group), the detail with its whole story, the commune's confirmation, deliveries and follow-up
//! visits. Who may do what is decided here from `domain::roles`; what may happen next is decided
//! by `domain::sponsorship::next`, called by the `db::sponsorships` writers under a row lock.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::forms::{Errors, nonblank};
use super::page::{Ctx, CurrentUser, flash};
use super::photos::{self, PhotoView, WithPhotos};
use crate::db::audit::By;
use crate::db::photos as photo_db;
use crate::db::sponsorships::{self as db, ChangeError, Detail, NewPledge, PledgeError, WorkRow};
use crate::db::{campaigns, duplicates, households};
use crate::domain::dates::{format_date, today};
use crate::domain::duplicates::Level;
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::roles::{self, Actor, Role, Scope};
use crate::domain::sponsorship::{
    self, DeliveryInput, Event, LineInput, State as SState, VisitInput,
};

/// Lines shown on the pledge form.
const LINE_ROWS: usize = 5;
/// Other agencies a lead can invite into a group, as select boxes (R2: 1–3).
const MEMBER_ROWS: usize = 3;

mod actions;
mod list;
mod pledge;
mod sheet;
mod show;

pub use actions::*;
pub use list::*;
pub use pledge::*;
pub use sheet::*;
pub use show::*;

// ----------------------------------------------------------------------------------------------
// Who may see and do what with one sponsorship

/// The sponsorship, if this user may see it: district staff all; agency staff those their agency
/// is a member of; commune officials those of their commune's households. Anything else is 404.
async fn visible(state: &AppState, actor: &Actor, id: &str) -> AppResult<Detail> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let d = db::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let ok = match actor.scope() {
        Scope::District => true,
        Scope::Agency(agency) => db::is_member(&state.db, id, agency).await?,
        Scope::Commune(codes) => codes.contains(&d.commune_code),
        Scope::Nothing => false,
    };
    if ok { Ok(d) } else { Err(AppError::NotFound) }
}

fn is_lead(actor: &Actor, d: &Detail) -> bool {
    actor.role == Role::Agency && actor.agency_id == Some(d.lead_agency_id)
}

/// The commune's official confirms or rejects (R3).
fn may_decide(actor: &Actor, d: &Detail) -> bool {
    actor.covers(&d.commune_code)
}

/// The lead agency or a clerk withdraws a pledge.
fn may_cancel(actor: &Actor, d: &Detail) -> bool {
    is_lead(actor, d) || actor.is_district()
}

fn token(s: &str) -> Option<Uuid> {
    s.trim().parse().ok()
}

/// The form's idempotency key, and when a phone recorded it offline (`ghi_luc`, RFC 3339, set by
/// `static/offline.js` when it queues the form). A time in the future (a phone's clock ahead) is
/// kept as now; one that does not parse is left out.
fn submission(key: &str, recorded_at: &str) -> db::Submission {
    let now = chrono::Utc::now();
    db::Submission {
        key: token(key),
        recorded_at: chrono::DateTime::parse_from_rfc3339(recorded_at.trim())
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc).min(now)),
    }
}
