//! Campaigns (R1): clerks list, create and edit them; one is current.

use crate::db::constraints;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::forms::Errors;
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::campaigns::{self, CampaignDraft};
use crate::domain::dates::{format_date, parse_date};
use crate::domain::money::{Vnd, format_vnd, group_thousands};

pub struct CampaignLine {
    pub id: Uuid,
    pub year: i32,
    pub name: String,
    pub registration: String,
    pub report: String,
    pub target: String,
    pub current: bool,
    pub sponsorships: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub lines: Vec<CampaignLine>,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<ListPage> {
    let lines = campaigns::list(&state.db)
        .await?
        .into_iter()
        .map(|c| CampaignLine {
            id: c.id,
            year: c.year,
            name: c.name,
            registration: format_date(c.registration_deadline),
            report: format_date(c.report_deadline),
            target: format_vnd(c.target_per_household),
            current: c.is_current,
            sponsorships: group_thousands(c.sponsorships),
        })
        .collect();
    Ok(ListPage { ctx, lines })
}

/// The campaign form as typed. Priority communes come as `uu_tien` (codes) and `ly_do_CODE`.
#[derive(Debug, Clone, Default)]
pub struct CampaignForm {
    pub year: String,
    pub name: String,
    pub registration_deadline: String,
    pub report_deadline: String,
    pub target: String,
    pub is_current: bool,
    pub priority: Vec<(String, String)>,
    pub reasons: std::collections::HashMap<String, String>,
    pub organiser: String,
}

impl CampaignForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> CampaignForm {
        let mut f = CampaignForm::default();
        let mut chosen = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "year" => f.year = v,
                "name" => f.name = v,
                "registration_deadline" => f.registration_deadline = v,
                "report_deadline" => f.report_deadline = v,
                "target" => f.target = v,
                "is_current" => f.is_current = true,
                "organiser" => f.organiser = v,
                "uu_tien" => chosen.push(v),
                k if k.starts_with("ly_do_") => {
                    f.reasons.insert(k["ly_do_".len()..].to_string(), v);
                }
                _ => {}
            }
        }
        f.priority = chosen
            .into_iter()
            .map(|c| {
                let reason = f.reasons.get(&c).cloned().unwrap_or_default();
                (c, reason)
            })
            .collect();
        f
    }

    fn from_draft(d: &CampaignDraft) -> CampaignForm {
        CampaignForm {
            year: d.year.to_string(),
            name: d.name.clone(),
            registration_deadline: d.registration_deadline.format("%Y-%m-%d").to_string(),
            report_deadline: d.report_deadline.format("%Y-%m-%d").to_string(),
            target: group_thousands(d.target_per_household),
            is_current: d.is_current,
            priority: d.priority.clone(),
            reasons: d.priority.iter().cloned().collect(),
            organiser: d.organiser.clone().unwrap_or_default(),
        }
    }

    pub fn chosen(&self, code: &str) -> bool {
        self.priority.iter().any(|(c, _)| c == code)
    }
    pub fn reason(&self, code: &str) -> &str {
        self.reasons.get(code).map(String::as_str).unwrap_or("")
    }

    pub fn parse(&self, communes: &[(String, String)]) -> Result<CampaignDraft, Errors> {
        let mut e = Errors::default();
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => {
                e.0.insert("year", "Năm phải là số từ 2000 đến 2100.".into());
                0
            }
        };
        let name = crate::domain::text::clean(&self.name);
        if name.is_empty() || name.chars().count() > 200 {
            e.0.insert(
                "name",
                "Hãy nhập tên đợt vận động (tối đa 200 ký tự).".into(),
            );
        }
        let reg = parse_date(&self.registration_deadline, "Hạn đăng ký")
            .map_err(|m| e.0.insert("registration_deadline", m))
            .ok();
        let rep = parse_date(&self.report_deadline, "Hạn báo cáo")
            .map_err(|m| e.0.insert("report_deadline", m))
            .ok();
        if let (Some(a), Some(b)) = (reg, rep)
            && b < a
        {
            e.0.insert(
                "report_deadline",
                "Hạn báo cáo phải sau hạn đăng ký.".into(),
            );
        }
        let target = match Vnd::parse(&self.target, "Mức hỗ trợ mỗi hộ") {
            Ok(v) => v.get(),
            Err(m) => {
                e.0.insert("target", m);
                0
            }
        };
        for (code, reason) in &self.priority {
            if !communes.iter().any(|(c, _)| c == code) {
                e.0.insert("priority", format!("Không có xã mã {code}."));
            } else if reason.trim().is_empty() || reason.chars().count() > 300 {
                e.0.insert(
                    "priority",
                    "Mỗi xã ưu tiên cần ghi lý do (tối đa 300 ký tự).".into(),
                );
            }
        }
        match (reg, rep) {
            (Some(registration_deadline), Some(report_deadline)) if !e.any() => Ok(CampaignDraft {
                year,
                name,
                registration_deadline,
                report_deadline,
                target_per_household: target,
                is_current: self.is_current,
                priority: self
                    .priority
                    .iter()
                    .map(|(c, r)| (c.clone(), r.trim().to_string()))
                    .collect(),
                organiser: Some(self.organiser.trim().to_string()).filter(|o| !o.is_empty()),
            }),
            _ => Err(e),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub action: String,
    pub title: &'static str,
    pub f: CampaignForm,
    pub errors: Errors,
    pub communes: Vec<(String, String)>,
    pub organisers: Vec<campaigns::OrganiserOption>,
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<FormPage> {
    let f = CampaignForm::default();
    Ok(FormPage {
        ctx,
        action: "/dot-van-dong".into(),
        title: "Thêm đợt vận động",
        f,
        errors: Errors::default(),
        communes: crate::db::users::communes_for_select(&state.db).await?,
        organisers: campaigns::organiser_options(&state.db).await?,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<FormPage> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let d = campaigns::get_draft(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(FormPage {
        ctx,
        action: format!("/dot-van-dong/{id}"),
        title: "Sửa đợt vận động",
        f: CampaignForm::from_draft(&d),
        errors: Errors::default(),
        communes: crate::db::users::communes_for_select(&state.db).await?,
        organisers: campaigns::organiser_options(&state.db).await?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    save(
        state,
        actor,
        session,
        ctx,
        None,
        CampaignForm::from_pairs(pairs),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    save(
        state,
        actor,
        session,
        ctx,
        Some(id),
        CampaignForm::from_pairs(pairs),
    )
    .await
}

async fn save(
    state: AppState,
    actor: crate::domain::roles::Actor,
    session: Session,
    ctx: Ctx,
    id: Option<Uuid>,
    f: CampaignForm,
) -> AppResult<Response> {
    let communes = crate::db::users::communes_for_select(&state.db).await?;
    let mut parsed = f.parse(&communes);
    // The organiser must exist on the registration deadline (no district after 30/06/2025).
    if let Ok(d) = &parsed
        && let Some(o) = &d.organiser
        && campaigns::unit_valid_on(&state.db, o, d.registration_deadline)
            .await?
            .is_none()
    {
        parsed = Err(Errors(
            [(
                "organiser",
                format!(
                    "Đơn vị mã {o} không có hiệu lực ngày {} (hạn đăng ký): hãy chọn đơn vị tổ chức còn tồn tại khi đó — từ 01/07/2025 không còn cấp huyện.",
                    crate::domain::dates::format_date(d.registration_deadline)
                ),
            )]
            .into_iter()
            .collect(),
        ));
    }
    let errors = match parsed {
        Err(e) => e,
        Ok(draft) => match campaigns::save(&state.db, &By::from(&actor), id, &draft).await {
            Ok(Some(_)) => {
                state.area.forget();
                flash(
                    &session,
                    "ok",
                    format!("Đã lưu đợt vận động năm {}.", draft.year),
                )
                .await;
                return Ok(Redirect::to("/dot-van-dong").into_response());
            }
            Ok(None) => return Err(AppError::NotFound),
            Err(e) => match constraints::refusal_on(&e, "campaigns") {
                Some(r) => Errors([(r.field, r.message.to_string())].into_iter().collect()),
                None => return Err(e.into()),
            },
        },
    };
    let action = id
        .map(|i| format!("/dot-van-dong/{i}"))
        .unwrap_or_else(|| "/dot-van-dong".into());
    let title = if id.is_some() {
        "Sửa đợt vận động"
    } else {
        "Thêm đợt vận động"
    };
    let page = FormPage {
        ctx,
        action,
        title,
        f,
        errors,
        communes,
        organisers: campaigns::organiser_options(&state.db).await?,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
