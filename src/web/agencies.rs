//! Agency pages.

use crate::db::constraints;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser};
use crate::db::agencies::{self, AgencyRow, SponsorshipLine};
use crate::db::campaigns;
use crate::domain::roles;

#[derive(Template, WebTemplate)]
#[template(path = "agency.html")]
pub struct AgencyPage {
    pub ctx: Ctx,
    pub agency: AgencyRow,
    pub year: Option<i32>,
    pub rows: Vec<SponsorshipLine>,
    pub quota: Option<QuotaLine>,
    pub can_manage: bool,
}

/// An agency's page: clerks and admins see any; agency staff only their own (others → 404, so
/// ids cannot be probed).
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<AgencyPage> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    if !roles::can_view_agency(&actor, id) {
        return Err(AppError::NotFound);
    }
    let agency = agencies::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = campaigns::current(&state.db).await?;
    let rows = match &campaign {
        Some(c) => agencies::sponsorships(&state.db, id, c.id).await?,
        None => Vec::new(),
    };
    let quota = match &campaign {
        Some(c) => agencies::quota_of(&state.db, c.id, id)
            .await?
            .as_ref()
            .map(quota_line),
        None => None,
    };
    Ok(AgencyPage {
        can_manage: actor.is_district(),
        ctx,
        agency,
        year: campaign.map(|c| c.year),
        rows,
        quota,
    })
}

// ---------------------------------------------------------------------------------------------
// The registry (clerks): list with computed quotas and progress, add, edit, override a quota.

use axum::Form;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::forms::{Errors, nonblank};
use super::page::flash;
use crate::db::agencies::{AgencyDraft, QuotaRow};
use crate::db::audit::By;
use crate::domain::labels;

pub struct KindOption {
    pub code: &'static str,
    pub label: &'static str,
}

pub fn kinds() -> Vec<KindOption> {
    labels::AGENCY_KINDS
        .iter()
        .map(|&(code, label)| KindOption { code, label })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub loai: Option<String>,
}

pub struct QuotaLine {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub staff: i32,
    pub quota: String,
    pub rule: String,
    pub overridden: bool,
    pub adopted: i64,
    pub confirmed: i64,
    pub met: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "agencies/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub kinds: Vec<KindOption>,
    pub kind: String,
    pub year: Option<i32>,
    pub lines: Vec<QuotaLine>,
    pub met: usize,
}

fn quota_line(r: &QuotaRow) -> QuotaLine {
    let q = r.quota();
    QuotaLine {
        id: r.id,
        name: r.name.clone(),
        kind: labels::agency_kind(&r.kind),
        staff: r.staff_count,
        quota: q.label(),
        rule: q.rule,
        overridden: q.overridden,
        adopted: r.adopted,
        confirmed: r.counted(),
        met: r.met(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> AppResult<ListPage> {
    let kind = nonblank(&p.loai).filter(|k| labels::code(labels::AGENCY_KINDS, k).is_some());
    let campaign = campaigns::current(&state.db).await?;
    let lines: Vec<QuotaLine> = match &campaign {
        Some(c) => agencies::list_with_quota(&state.db, c.id, kind.as_deref())
            .await?
            .iter()
            .map(quota_line)
            .collect(),
        None => Vec::new(),
    };
    Ok(ListPage {
        ctx,
        kinds: kinds(),
        kind: kind.unwrap_or_default(),
        year: campaign.map(|c| c.year),
        met: lines.iter().filter(|l| l.met).count(),
        lines,
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct AgencyForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub staff_count: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub contact_person: String,
    #[serde(default)]
    pub phone: String,
}

impl AgencyForm {
    /// Check the form into a draft, or say what is wrong field by field.
    pub fn parse(&self) -> Result<AgencyDraft, Errors> {
        let mut e = Errors::default();
        let name = crate::domain::text::clean(&self.name);
        match name.chars().count() {
            0 => {
                e.0.insert("name", "Hãy nhập tên cơ quan, đơn vị.".into());
            }
            n if n > 200 => {
                e.0.insert("name", format!("Tên dài tối đa 200 ký tự (đang có {n})."));
            }
            _ => {}
        }
        if labels::code(labels::AGENCY_KINDS, &self.kind).is_none() {
            e.0.insert("kind", "Hãy chọn loại cơ quan, đơn vị.".into());
        }
        let staff = match self.staff_count.trim().parse::<i64>() {
            Ok(n) if (0..=100_000).contains(&n) => n as i32,
            Ok(n) => {
                e.0.insert(
                    "staff_count",
                    format!("Số biên chế phải từ 0 đến 100.000 (đang là {n})."),
                );
                0
            }
            Err(_) => {
                let shown: String = self.staff_count.trim().chars().take(20).collect();
                e.0.insert(
                    "staff_count",
                    format!("Số biên chế phải là số nguyên, viết bằng chữ số (đang là “{shown}”)."),
                );
                0
            }
        };
        let commune_code =
            (self.kind == "commune_committee").then(|| self.commune_code.trim().to_string());
        if commune_code.as_deref() == Some("") {
            e.0.insert("commune_code", "UBND xã phải gắn với một xã.".into());
        }
        let opt = |s: &str| Some(crate::domain::text::clean(s)).filter(|s| !s.is_empty());
        let contact_person = opt(&self.contact_person);
        if contact_person
            .as_ref()
            .is_some_and(|c| c.chars().count() > 120)
        {
            e.0.insert(
                "contact_person",
                "Tên người liên hệ dài tối đa 120 ký tự.".into(),
            );
        }
        let phone = opt(&self.phone);
        if phone.as_ref().is_some_and(|p| {
            p.len() < 6
                || p.len() > 20
                || !p.chars().all(|c| c.is_ascii_digit() || " +.-".contains(c))
        }) {
            e.0.insert("phone", "Số điện thoại chỉ gồm 6–20 chữ số.".into());
        }
        if e.any() {
            return Err(e);
        }
        Ok(AgencyDraft {
            name,
            kind: self.kind.clone(),
            staff_count: staff,
            commune_code,
            contact_person,
            phone,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "agencies/form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub action: String,
    pub title: &'static str,
    pub f: AgencyForm,
    pub errors: Errors,
    pub kinds: Vec<KindOption>,
    pub communes: Vec<(String, String)>,
}

async fn form_page(
    state: &AppState,
    ctx: Ctx,
    action: String,
    title: &'static str,
    f: AgencyForm,
    errors: Errors,
) -> AppResult<FormPage> {
    Ok(FormPage {
        ctx,
        action,
        title,
        f,
        errors,
        kinds: kinds(),
        communes: crate::db::users::communes_for_select(&state.db).await?,
    })
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<FormPage> {
    form_page(
        &state,
        ctx,
        "/don-vi".into(),
        "Thêm cơ quan, đơn vị",
        AgencyForm::default(),
        Errors::default(),
    )
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<FormPage> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let (a, commune) = agencies::get_full(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let f = AgencyForm {
        name: a.name,
        kind: a.kind,
        staff_count: a.staff_count.to_string(),
        commune_code: commune.unwrap_or_default(),
        contact_person: a.contact_person.unwrap_or_default(),
        phone: a.phone.unwrap_or_default(),
    };
    form_page(
        &state,
        ctx,
        format!("/don-vi/{id}"),
        "Sửa cơ quan, đơn vị",
        f,
        Errors::default(),
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Form(f): Form<AgencyForm>,
) -> AppResult<Response> {
    save(state, actor, session, ctx, None, f).await
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(f): Form<AgencyForm>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    save(state, actor, session, ctx, Some(id), f).await
}

async fn save(
    state: AppState,
    actor: roles::Actor,
    session: Session,
    ctx: Ctx,
    id: Option<Uuid>,
    f: AgencyForm,
) -> AppResult<Response> {
    let action = id
        .map(|i| format!("/don-vi/{i}"))
        .unwrap_or_else(|| "/don-vi".into());
    let title = if id.is_some() {
        "Sửa cơ quan, đơn vị"
    } else {
        "Thêm cơ quan, đơn vị"
    };
    let errors = match f.parse() {
        Err(e) => e,
        Ok(draft) => {
            let by = By::from(&actor);
            let result = match id {
                None => agencies::create(&state.db, &by, &draft).await.map(Some),
                Some(id) => agencies::update(&state.db, &by, id, &draft)
                    .await
                    .map(|found| found.then_some(id)),
            };
            match result {
                Ok(Some(saved)) => {
                    flash(&session, "ok", format!("Đã lưu {}.", draft.name)).await;
                    return Ok(Redirect::to(&format!("/don-vi/{saved}")).into_response());
                }
                Ok(None) => return Err(AppError::NotFound),
                Err(e) => match constraints::refusal_on(&e, "agencies") {
                    Some(r) => Errors([(r.field, r.message.to_string())].into_iter().collect()),
                    None => return Err(e.into()),
                },
            }
        }
    };
    let page = form_page(&state, ctx, action, title, f, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct OverrideForm {
    #[serde(default)]
    pub quota: String,
    #[serde(default)]
    pub reason: String,
}

/// A clerk's override of the computed quota for the current campaign, with its reason; an
/// empty quota removes the override.
pub async fn set_override(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    agencies::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let campaign = campaigns::current(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let back = format!("/don-vi/{id}");
    let reason = f.reason.trim();
    let value = match f.quota.trim() {
        "" => None,
        q => match q.parse::<i32>() {
            Ok(n)
                if (0..=100).contains(&n)
                    && !reason.is_empty()
                    && reason.chars().count() <= 500 =>
            {
                Some((n, reason))
            }
            Ok(n) if (0..=100).contains(&n) => {
                flash(
                    &session,
                    "error",
                    "Điều chỉnh chỉ tiêu phải ghi rõ lý do (tối đa 500 ký tự).",
                )
                .await;
                return Ok(Redirect::to(&back).into_response());
            }
            _ => {
                flash(&session, "error", "Chỉ tiêu phải là số hộ từ 0 đến 100.").await;
                return Ok(Redirect::to(&back).into_response());
            }
        },
    };
    agencies::set_override(&state.db, &By::from(&actor), campaign.id, id, value).await?;
    flash(
        &session,
        "ok",
        if value.is_some() {
            "Đã điều chỉnh chỉ tiêu."
        } else {
            "Đã bỏ điều chỉnh; chỉ tiêu tính theo quy định."
        },
    )
    .await;
    Ok(Redirect::to(&back).into_response())
}
