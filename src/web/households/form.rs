//! Adding and editing a household: the form, its checks, the duplicate warning and the save.

use super::visible_household;
use crate::db::audit::By;
use crate::db::constraints;
use crate::db::households::{self};
use crate::domain::cccd::Cccd;
use crate::domain::duplicates::Level;
use crate::domain::household::HouseholdInput;
use crate::domain::roles::{self, Actor, Scope};
use crate::web::AppState;
use crate::web::duplicates::{self as dup, CandidateView};
use crate::web::error::{AppError, AppResult};
use crate::web::forms::Errors;
use crate::web::page::{Ctx, CurrentUser, flash};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "households/form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub action: String,
    pub title: String,
    pub f: HouseholdInput,
    pub errors: Errors,
    pub communes: Vec<(String, String)>,
    pub villages: Vec<String>,
    /// The household being edited (so the as-you-type check leaves it out).
    pub household_id: String,
    pub candidates: Vec<CandidateView>,
    /// A probable duplicate was found: saving needs the box ticked and a reason.
    pub needs_confirmation: bool,
    pub confirm_reason: String,
}

impl FormPage {
    pub fn checked(&self, v: &str) -> bool {
        crate::domain::household::parse_flag(v, "").unwrap_or(false)
    }
    pub fn is(&self, v: &str, option: &str) -> bool {
        crate::domain::text::normalize_name(v) == crate::domain::text::normalize_name(option)
    }
}

/// The household form as posted: the fields, and the confirmation of a probable duplicate.
#[derive(Deserialize, Default)]
pub struct HouseholdForm {
    #[serde(flatten)]
    pub input: HouseholdInput,
    #[serde(default)]
    pub xac_nhan_trung: String,
    #[serde(default)]
    pub ly_do_trung: String,
}

fn this_year() -> i32 {
    crate::domain::dates::today()
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2024)
}

/// What the form shows besides the fields: the duplicate candidates and whether saving needs
/// the user's confirmation.
#[derive(Default)]
struct DuplicateState {
    candidates: Vec<CandidateView>,
    needs_confirmation: bool,
    confirm_reason: String,
}

/// What checking a submitted household found: the fields' messages and the duplicate warning.
#[derive(Default)]
struct Checked {
    errors: Errors,
    dups: DuplicateState,
}

async fn form_page(
    state: &AppState,
    actor: &Actor,
    ctx: Ctx,
    (action, title): (String, &str),
    f: HouseholdInput,
    checked: Checked,
) -> AppResult<FormPage> {
    let Checked { errors, dups } = checked;
    let mut communes = crate::db::users::communes_for_select(&state.db).await?;
    if let Scope::Commune(covered) = actor.scope() {
        communes.retain(|(c, _)| covered.contains(c));
    }
    let commune = if f.commune_code.is_empty() {
        // A commune official's own commune first (not a predecessor it covers).
        actor
            .commune_code
            .clone()
            .filter(|own| communes.iter().any(|(c, _)| c == own))
            .or_else(|| communes.first().map(|c| c.0.clone()))
            .unwrap_or_default()
    } else {
        f.commune_code.clone()
    };
    let villages = households::villages(&state.db, &commune)
        .await?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let household_id = action.strip_prefix("/ho/").unwrap_or("").to_string();
    Ok(FormPage {
        ctx,
        action,
        title: title.to_string(),
        f,
        errors,
        communes,
        villages,
        household_id,
        candidates: dups.candidates,
        needs_confirmation: dups.needs_confirmation,
        confirm_reason: dups.confirm_reason,
    })
}

fn can_write(actor: &Actor, commune: &str) -> bool {
    roles::can_edit_household(actor, commune)
}

pub async fn new_form(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<FormPage> {
    let f = HouseholdInput {
        commune_code: actor.commune_code.clone().unwrap_or_default(),
        status: "poor".into(),
        status_year: this_year().to_string(),
        members: "1".into(),
        ..Default::default()
    };
    form_page(
        &state,
        &actor,
        ctx,
        ("/ho".into(), "Thêm hộ"),
        f,
        Checked::default(),
    )
    .await
}

/// Map a database refusal to the form field it concerns.
fn constraint_error(e: &sqlx::Error) -> Option<(&'static str, String)> {
    constraints::refusal_on(e, "households").map(|r| (r.field, r.message.to_string()))
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Form(f): Form<HouseholdForm>,
) -> AppResult<Response> {
    save(state, actor, session, ctx, None, f).await
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<HouseholdForm>,
) -> AppResult<Response> {
    let existing = visible_household(&state, &actor, &id).await?;
    if !can_write(&actor, &existing.commune_code) {
        return Err(AppError::Forbidden);
    }
    save(state, actor, session, ctx, Some(existing.id), f).await
}

async fn save(
    state: AppState,
    actor: Actor,
    session: Session,
    ctx: Ctx,
    id: Option<Uuid>,
    form: HouseholdForm,
) -> AppResult<Response> {
    let action = id
        .map(|i| format!("/ho/{i}"))
        .unwrap_or_else(|| "/ho".into());
    let title = if id.is_some() {
        "Sửa thông tin hộ"
    } else {
        "Thêm hộ"
    };
    let f = form.input;
    let mut dups = DuplicateState {
        confirm_reason: form.ly_do_trung.trim().chars().take(500).collect(),
        ..Default::default()
    };
    let confirmed = !form.xac_nhan_trung.is_empty() && !dups.confirm_reason.is_empty();
    let mut errors = match f.parse(this_year()) {
        Ok(draft) if can_write(&actor, &draft.commune_code) => {
            // R4: the duplicate check runs on every save, with or without JavaScript.
            let found = crate::db::duplicates::candidates(
                &state.db,
                &dup::probe(&f, id),
                state.config.duplicates,
            )
            .await?;
            dups.candidates = found.iter().map(|c| dup::view(&actor, c)).collect();
            let certain = found.iter().find(|c| c.level == Level::Certain);
            let probable: Vec<&str> = found
                .iter()
                .filter(|c| c.level == Level::Probable)
                .map(|c| c.head_name.as_str())
                .collect();
            if let Some(c) = certain {
                // The field of the identity that matched (a same old ID number used to be
                // shown on the household code).
                let field = if c.same.cccd {
                    "cccd"
                } else if c.same.old_id {
                    "old_id_number"
                } else {
                    "household_code"
                };
                Errors(
                    [(
                        field,
                        format!(
                            "Chắc chắn trùng với một hộ đã có ({}, {}): không lưu.",
                            c.village, c.commune
                        ),
                    )]
                    .into_iter()
                    .collect(),
                )
            } else if !probable.is_empty() && !confirmed {
                dups.needs_confirmation = true;
                let msg = if form.xac_nhan_trung.is_empty() {
                    "Có hộ có thể trùng (xem danh sách bên dưới). Nếu đây đúng là một hộ khác, hãy đánh dấu xác nhận và ghi lý do."
                } else {
                    "Hãy ghi lý do vì sao đây không phải hộ đã có."
                };
                Errors([("duplicate", msg.to_string())].into_iter().collect())
            } else {
                let reason = (!probable.is_empty()).then(|| {
                    format!(
                        "Xác nhận không trùng với: {}. Lý do: {}",
                        probable.join(", "),
                        dups.confirm_reason
                    )
                });
                let by = By::from(&actor);
                // "Nà Pàn" typed for the commune's "Thôn Nà Pàn": saved under that village, said.
                let mapped = crate::db::places::village_by_key(
                    &state.db,
                    &draft.commune_code,
                    &draft.village,
                )
                .await?
                .map(|(_, stored)| stored)
                .filter(|stored| *stored != draft.village);
                let result = match id {
                    None => households::create(&state.db, &by, &draft, reason.as_deref())
                        .await
                        .map(Some),
                    Some(id) => households::update(&state.db, &by, id, &draft, reason.as_deref())
                        .await
                        .map(|found| found.then_some(id)),
                };
                match result {
                    Ok(Some(saved)) => {
                        let old_id_note = if draft.old_id_moved {
                            " Số 9 chữ số là CMND cũ: đã ghi vào ô Số CMND cũ.".to_string()
                        } else {
                            String::new()
                        };
                        let village_note = mapped
                            .map(|v| format!(" Thôn ghi theo thôn đã có của xã: {v}."))
                            .unwrap_or_default();
                        let restored = if draft.cccd_restored {
                            format!(
                                " Số CCCD có 11 chữ số đã được thêm số 0 ở đầu: {}.",
                                draft.cccd.as_ref().map(Cccd::as_str).unwrap_or_default()
                            )
                        } else {
                            String::new()
                        };
                        flash(
                            &session,
                            "ok",
                            format!(
                                "Đã lưu hộ {}.{restored}{old_id_note}{village_note}",
                                draft.head_name
                            ),
                        )
                        .await;
                        return Ok(Redirect::to(&format!("/ho/{saved}")).into_response());
                    }
                    Ok(None) => return Err(AppError::NotFound),
                    Err(e) => match constraint_error(&e) {
                        Some((field, msg)) => Errors([(field, msg)].into_iter().collect()),
                        None => return Err(e.into()),
                    },
                }
            }
        }
        Ok(_) => Errors(
            [(
                "commune_code",
                "Bạn chỉ được nhập hộ của xã mình.".to_string(),
            )]
            .into_iter()
            .collect(),
        ),
        Err(e) => Errors(e),
    };
    if errors.0.is_empty() {
        errors.0.insert("head_name", "Không lưu được.".into());
    }
    let page = form_page(
        &state,
        &actor,
        ctx,
        (action, title),
        f,
        Checked { errors, dups },
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<FormPage> {
    let h = visible_household(&state, &actor, &id).await?;
    let id = h.id;
    if !can_write(&actor, &h.commune_code) {
        return Err(AppError::Forbidden);
    }
    let flag = |b: bool| if b { "x".to_string() } else { String::new() };
    let f = HouseholdInput {
        commune_code: h.commune_code.clone(),
        village: h.village_name.clone(),
        head_name: h.head_name.clone(),
        birth_year: h.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        gender: h.gender.clone().unwrap_or_default(),
        cccd: h.cccd.clone().unwrap_or_default(),
        old_id_number: h.old_id_number.clone().unwrap_or_default(),
        household_code: h.household_code.clone().unwrap_or_default(),
        ethnicity: h.ethnicity.clone(),
        members: h.members.to_string(),
        status: h.status.clone(),
        status_year: h.status_year.to_string(),
        lacks_capital: flag(h.lacks_capital),
        lacks_land: flag(h.lacks_land),
        lacks_labour: flag(h.lacks_labour),
        lacks_technique: flag(h.lacks_technique),
        illness: flag(h.illness),
        other_needs: h.other_needs.clone().unwrap_or_default(),
        will_to_escape: flag(h.will_to_escape),
        phone: h.phone.clone().unwrap_or_default(),
        notes: h.notes.clone().unwrap_or_default(),
    };
    form_page(
        &state,
        &actor,
        ctx,
        (format!("/ho/{id}"), "Sửa thông tin hộ"),
        f,
        Checked::default(),
    )
    .await
}
