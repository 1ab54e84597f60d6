//! Lookups of households by a typed ID number (CCCD, old CMND) by agency staff. Agencies need them
//! to find the household they visit, but each answer tells whether a person is a registered poor
//! household, with a name and a village: so every such lookup is written to the audit trail (who,
//! when, which number, where, found or not) and an account gets at most
//! [`AGENCY_ID_LOOKUPS_PER_HOUR`] answers an hour. A refused lookup is audited too.
//! The district and commune officials, who keep the registry, are neither throttled nor audited
//! here.

use super::AppState;
use super::error::{AppError, AppResult};
use crate::db::audit::{self, By};
use crate::domain::cccd::{AGENCY_ID_LOOKUPS_PER_HOUR, as_id_number};
use crate::domain::roles::{Actor, Role};

/// An agency's ID lookup, allowed by the throttle, to be recorded with its outcome.
#[must_use = "record the lookup's outcome with `IdLookup::record`"]
pub struct IdLookup {
    number: String,
    place: &'static str,
}

/// Check an agency user's search text before running the search: `Ok(None)` when it is no ID
/// lookup (a name, a code, another role), `Ok(Some)` when allowed, and a 429 with a Vietnamese
/// message when the account has had its lookups for the hour.
pub async fn guard(
    state: &AppState,
    actor: &Actor,
    q: &str,
    place: &'static str,
) -> AppResult<Option<IdLookup>> {
    if actor.role != Role::Agency {
        return Ok(None);
    }
    let Some(number) = as_id_number(q) else {
        return Ok(None);
    };
    if let Some(wait) =
        audit::id_lookup_wait(&state.db, actor.id, AGENCY_ID_LOOKUPS_PER_HOUR).await?
    {
        write(state, actor, audit::ID_LOOKUP_REFUSED, &number, place, None).await?;
        let minutes = u64::try_from(wait).unwrap_or(0).max(1).div_ceil(60);
        return Err(AppError::Throttled {
            message: format!(
                "Tài khoản của bạn đã tra cứu theo số CCCD/CMND {AGENCY_ID_LOOKUPS_PER_HOUR} lần trong \
                 một giờ qua, mức tối đa cho cán bộ cơ quan, đơn vị. Vui lòng thử lại sau {minutes} \
                 phút, hoặc tìm hộ theo họ tên, thôn, xã. Mọi lần tra cứu theo số định danh đều \
                 được ghi vào nhật ký."
            ),
            retry_after_secs: u64::try_from(wait).unwrap_or(1).max(1),
        });
    }
    Ok(Some(IdLookup { number, place }))
}

impl IdLookup {
    /// Write the lookup and whether it found anyone to the audit trail.
    pub async fn record(self, state: &AppState, actor: &Actor, found: bool) -> AppResult<()> {
        write(
            state,
            actor,
            audit::ID_LOOKUP,
            &self.number,
            self.place,
            Some(found),
        )
        .await
    }
}

async fn write(
    state: &AppState,
    actor: &Actor,
    entity: &'static str,
    number: &str,
    place: &str,
    found: Option<bool>,
) -> AppResult<()> {
    audit::record(
        &state.db,
        &By::from(actor),
        audit::Entry {
            action: audit::Action::Lookup,
            entity,
            entity_id: number.to_string(),
            before: None,
            after: Some(serde_json::json!({ "where": place, "found": found })),
            reason: None,
        },
    )
    .await?;
    Ok(())
}
