//! Household pages: the list (search, filters, sort, pages), the detail with its history across
//! years, the form to add or edit, and import from a spreadsheet.

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
use super::duplicates::{self as dup, CandidateView};
use super::error::{AppError, AppResult};
use super::forms::{Errors, nonblank, query_string};
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::households::{self, ListQuery, ListRow, Sort, Total};
use crate::domain::duplicates::Level;
use crate::domain::household::{HouseholdInput, PriorityFacts, priority_reasons};
use crate::domain::labels;
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::{self, Actor, Role, Scope};

// ----------------------------------------------------------------------------------------------
// List

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub q: Option<String>,
    pub xa: Option<String>,
    pub thon: Option<String>,
    pub tinh_trang: Option<String>,
    pub uu_tien: Option<String>,
    pub da_giup: Option<String>,
    pub sap_xep: Option<String>,
    pub trang: Option<String>,
}

pub struct ListLine {
    pub id: Uuid,
    pub head_name: String,
    pub birth_year: String,
    pub place: String,
    pub cccd: String,
    pub status: &'static str,
    pub status_code: String,
    pub priority: bool,
    pub helped_before: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "households/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub p: ListParams,
    pub lines: Vec<ListLine>,
    pub total_label: String,
    pub page: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub communes: Vec<(String, String)>,
    pub villages: Vec<(Uuid, String)>,
    pub sorts: Vec<(&'static str, &'static str, String)>,
    pub can_add: bool,
}

impl ListPage {
    pub fn sel(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
    pub fn q(&self) -> &str {
        self.p.q.as_deref().unwrap_or("")
    }
    pub fn village_selected(&self, id: &Uuid) -> bool {
        self.p.thon.as_deref() == Some(id.to_string().as_str())
    }
    /// A filter other than the search box is set: the "more filters" box stays open.
    pub fn filtered(&self) -> bool {
        [
            &self.p.xa,
            &self.p.thon,
            &self.p.tinh_trang,
            &self.p.uu_tien,
            &self.p.da_giup,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }
}

fn yes_no(s: &Option<String>) -> Option<bool> {
    match s.as_deref() {
        Some("co") => Some(true),
        Some("khong") => Some(false),
        _ => None,
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> AppResult<ListPage> {
    let scope = actor.scope();
    let commune = match &scope {
        Scope::Commune(own) => Some(own.clone()),
        _ => nonblank(&p.xa).filter(|c| c.len() == 5 && c.chars().all(|d| d.is_ascii_digit())),
    };
    let q = ListQuery {
        q: nonblank(&p.q).map(|s| s.chars().take(100).collect()),
        commune: commune.clone(),
        village: nonblank(&p.thon).and_then(|v| v.parse().ok()),
        status: nonblank(&p.tinh_trang)
            .filter(|s| matches!(s.as_str(), "poor" | "near_poor" | "escaped")),
        priority: yes_no(&p.uu_tien),
        helped_before: yes_no(&p.da_giup),
        sort: Sort::parse(p.sap_xep.as_deref().unwrap_or("")),
        page: p
            .trang
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1)
            .clamp(1, 100_000),
    };
    let lookup = match &q.q {
        Some(text) => super::lookups::guard(&state, &actor, text, "/ho").await?,
        None => None,
    };
    let (year, prio) = households::priority_context(&state.db).await?;
    let (rows, total) = households::list(&state.db, &q, &scope, &prio, year).await?;
    if let Some(lookup) = lookup {
        lookup.record(&state, &actor, !rows.is_empty()).await?;
    }
    let full_page = rows.len() as i64 == households::PAGE_SIZE;
    let lines = rows.into_iter().map(|r| line(&actor, r)).collect();
    let total_label = match total {
        Total::MoreThanCap => format!("Hơn {} hộ", group_thousands(households::COUNT_CAP)),
        Total::Exact(n) => format!("{} hộ", group_thousands(n)),
    };
    let base = |page: i64, sort: Option<&str>| {
        let mut pairs = vec![
            ("q", p.q.clone().unwrap_or_default()),
            ("xa", p.xa.clone().unwrap_or_default()),
            ("thon", p.thon.clone().unwrap_or_default()),
            ("tinh_trang", p.tinh_trang.clone().unwrap_or_default()),
            ("uu_tien", p.uu_tien.clone().unwrap_or_default()),
            ("da_giup", p.da_giup.clone().unwrap_or_default()),
            (
                "sap_xep",
                sort.map(str::to_string)
                    .unwrap_or_else(|| q.sort.code().to_string()),
            ),
        ];
        if page > 1 {
            pairs.push(("trang", page.to_string()));
        }
        format!("/ho{}", query_string(&pairs))
    };

    let sorts = [
        (Sort::Name, "Tên chủ hộ"),
        (Sort::Village, "Thôn, xã"),
        (Sort::Status, "Tình trạng"),
        (Sort::Newest, "Mới thêm"),
    ]
    .into_iter()
    .map(|(s, label)| (s.code(), label, base(1, Some(s.code()))))
    .collect();
    let villages = match &commune {
        Some(c) => households::villages(&state.db, c).await?,
        None => Vec::new(),
    };
    Ok(ListPage {
        prev_link: (q.page > 1).then(|| base(q.page - 1, None)),
        // Past the counting cap there are more pages as long as this one is full.
        next_link: (match total {
            Total::MoreThanCap => full_page,
            Total::Exact(n) => q.page < (n + households::PAGE_SIZE - 1) / households::PAGE_SIZE,
        })
        .then(|| base(q.page + 1, None)),
        page: q.page,
        lines,
        total_label,
        communes: crate::db::users::communes_for_select(&state.db).await?,
        villages,
        sorts,
        can_add: matches!(actor.role, Role::Admin | Role::Clerk | Role::Commune),
        ctx,
        p,
    })
}

/// The CCCD as this user may see it: in full for the district and the household's commune,
/// masked for everyone else.
fn cccd_for(actor: &Actor, commune: &str, cccd: Option<&str>) -> Option<String> {
    cccd.map(|c| {
        if roles::can_see_full_cccd(actor, commune) {
            c.to_string()
        } else {
            roles::mask_cccd(c)
        }
    })
}

/// A household this user may see; any other id (another commune's, unknown, malformed) is a 404.
async fn visible_household(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> AppResult<households::HouseholdRow> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let h = households::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !roles::can_view_household(actor, &h.commune_code) {
        return Err(AppError::NotFound);
    }
    Ok(h)
}

fn line(actor: &Actor, r: ListRow) -> ListLine {
    let cccd = cccd_for(actor, &r.commune_code, r.cccd.as_deref()).unwrap_or_default();
    ListLine {
        id: r.id,
        head_name: r.head_name,
        birth_year: r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        place: format!("{}, {}", r.village_name, r.commune_name),
        cccd,
        status: labels::household_status(&r.status),
        status_code: r.status,
        priority: r.priority,
        helped_before: r.helped_before,
    }
}

// ----------------------------------------------------------------------------------------------
// Detail

pub struct HistoryLine {
    pub id: Uuid,
    pub year: i32,
    pub agencies: String,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
    pub state: &'static str,
}

/// A household as one viewer may see it. The page is given this, never the database row, so no
/// template can print a CCCD in full to a role that must not see it: the number is masked here,
/// once, for the viewer's role, and the row's own `cccd` is not among the fields.
pub struct HouseholdView {
    pub id: Uuid,
    pub head_name: String,
    pub village_name: String,
    pub commune_name: String,
    pub birth_year: Option<i32>,
    /// In full for the district and the household's commune, masked otherwise, "Chưa có" if none.
    pub cccd: String,
    /// The old CMND, shown like the CCCD; empty if none.
    pub old_id_number: String,
    pub household_code: Option<String>,
    pub members: i32,
    pub status: String,
    pub status_year: i32,
    pub will_to_escape: bool,
    pub other_needs: Option<String>,
    pub notes: Option<String>,
    pub merged_into: Option<Uuid>,
}

impl HouseholdView {
    pub fn for_viewer(actor: &Actor, h: &households::HouseholdRow) -> HouseholdView {
        HouseholdView {
            id: h.id,
            head_name: h.head_name.clone(),
            village_name: h.village_name.clone(),
            commune_name: h.commune_name.clone(),
            birth_year: h.birth_year,
            cccd: cccd_for(actor, &h.commune_code, h.cccd.as_deref())
                .unwrap_or_else(|| "Chưa có".to_string()),
            old_id_number: cccd_for(actor, &h.commune_code, h.old_id_number.as_deref())
                .unwrap_or_default(),
            household_code: h.household_code.clone(),
            members: h.members,
            status: h.status.clone(),
            status_year: h.status_year,
            will_to_escape: h.will_to_escape,
            other_needs: h.other_needs.clone(),
            notes: h.notes.clone(),
            merged_into: h.merged_into,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "household.html")]
pub struct HouseholdPage {
    pub ctx: Ctx,
    pub h: HouseholdView,
    pub status: &'static str,
    pub ethnicity: &'static str,
    pub gender: &'static str,
    pub needs: Vec<&'static str>,
    pub priority: Vec<&'static str>,
    pub history: Vec<HistoryLine>,
    pub statuses: Vec<super::sponsorships::StatusLine>,
    /// Each follow-up visit's own finding: (date, "Quan sát khi thăm: …").
    pub visits: Vec<(String, String)>,
    pub can_edit: bool,
    /// Agency staff may adopt a household from its page.
    pub can_pledge: bool,
    /// The photos of its deliveries and visits this user may see, across the years.
    pub photos: Vec<super::photos::PhotoView>,
    /// The family's answer about photos ("Chưa hỏi" by default), and who recorded it when.
    pub consent: &'static str,
    pub consent_code: &'static str,
    pub consent_by: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<HouseholdPage> {
    let h = visible_household(&state, &actor, &id).await?;
    let id = h.id;
    let mut needs = Vec::new();
    for (flag, label) in [
        (h.lacks_capital, "Thiếu vốn sản xuất"),
        (h.lacks_land, "Thiếu đất sản xuất"),
        (h.lacks_labour, "Thiếu lao động"),
        (h.lacks_technique, "Thiếu kỹ thuật"),
        (h.illness, "Ốm đau, bệnh tật"),
    ] {
        if flag {
            needs.push(label);
        }
    }
    let (_, prio) = households::priority_context(&state.db).await?;
    let priority = priority_reasons(&PriorityFacts {
        will_to_escape: h.will_to_escape,
        lacks_capital: h.lacks_capital,
        lacks_technique: h.lacks_technique,
        in_priority_commune: prio.contains(&h.commune_code),
    });
    let history = households::history(&state.db, id)
        .await?
        .into_iter()
        .map(|r| HistoryLine {
            id: r.id,
            year: r.year,
            agencies: r.agencies,
            support: format!(
                "{}: {}",
                labels::support_form(&r.support_form),
                r.support_summary
            ),
            pledged: format_vnd(r.pledged_value),
            delivered: format_vnd(r.delivered_value),
            state: labels::sponsorship_state(&r.state),
        })
        .collect();
    let statuses =
        super::sponsorships::status_lines(households::status_history(&state.db, id).await?);
    let visits = crate::db::sponsorships::visits_of_household(&state.db, id)
        .await?
        .iter()
        .map(|v| {
            (
                crate::domain::dates::format_date(v.visited_on),
                super::sponsorships::visit_status_label(v),
            )
        })
        .collect();
    let photos = super::photos::of_household(&state, &actor, id, &h.commune_code).await?;
    let consent_row = crate::db::photos::consent(&state.db, id).await?;
    let consent = consent_row
        .as_ref()
        .and_then(|c| crate::db::photos::Consent::parse(&c.photo_consent))
        .unwrap_or(crate::db::photos::Consent::NotAsked);
    let consent_by = match consent_row {
        Some(crate::db::photos::ConsentRow {
            recorded_by: Some(by),
            photo_consent_at: Some(at),
            ..
        }) => format!(
            "{by} ghi lúc {}",
            crate::domain::dates::format_date_time(at)
        ),
        _ => String::new(),
    };
    Ok(HouseholdPage {
        photos,
        consent: consent.label(),
        consent_code: consent.as_str(),
        consent_by,
        can_edit: roles::can_edit_household(&actor, &h.commune_code),
        can_pledge: actor.role == Role::Agency && h.merged_into.is_none(),
        ctx,
        status: labels::household_status(&h.status),
        ethnicity: labels::ethnicity(&h.ethnicity),
        gender: h.gender.as_deref().map(labels::gender).unwrap_or(""),
        needs,
        priority,
        history,
        statuses,
        visits,
        h: HouseholdView::for_viewer(&actor, &h),
    })
}

// ----------------------------------------------------------------------------------------------
// Form: add and edit

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

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    actor: &Actor,
    ctx: Ctx,
    action: String,
    title: &str,
    f: HouseholdInput,
    errors: Errors,
    dups: DuplicateState,
) -> AppResult<FormPage> {
    let mut communes = crate::db::users::communes_for_select(&state.db).await?;
    if let Scope::Commune(own) = actor.scope() {
        communes.retain(|(c, _)| *c == own);
    }
    let commune = if f.commune_code.is_empty() {
        communes.first().map(|c| c.0.clone()).unwrap_or_default()
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
        "/ho".into(),
        "Thêm hộ",
        f,
        Errors::default(),
        DuplicateState::default(),
    )
    .await
}

/// Map a database refusal to the form field it concerns.
fn constraint_error(e: &sqlx::Error) -> Option<(&'static str, String)> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    match db.constraint()? {
        "households_cccd_key" => Some(("cccd", "Số CCCD này đã có trong sổ hộ (trùng hộ).".into())),
        "households_old_id_number_key" => Some((
            "old_id_number",
            "Số CMND này đã có trong sổ hộ (trùng hộ).".into(),
        )),
        "households_household_code_key" => Some((
            "household_code",
            "Mã hộ nghèo này đã có ở xã này (trùng hộ).".into(),
        )),
        "households_commune_fkey" => Some(("commune_code", "Không có xã này.".into())),
        _ => None,
    }
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
                let field = if c.reasons.iter().any(|r| r.contains("CCCD")) {
                    "cccd"
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
                let mut tx = state.db.begin().await?;
                let by = By::from(&actor);
                // "Nà Pàn" typed for the commune's "Thôn Nà Pàn": saved under that village, said.
                let mapped =
                    crate::db::places::village_by_key(&mut tx, &draft.commune_code, &draft.village)
                        .await?
                        .map(|(_, stored)| stored)
                        .filter(|stored| *stored != draft.village);
                let result = match id {
                    None => households::create(&mut tx, &by, &draft, reason.as_deref())
                        .await
                        .map(Some),
                    Some(id) => households::update(&mut tx, &by, id, &draft, reason.as_deref())
                        .await
                        .map(|found| found.then_some(id)),
                };
                match result {
                    Ok(Some(saved)) => {
                        tx.commit().await?;
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
                                draft.cccd.as_deref().unwrap_or_default()
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
    let page = form_page(&state, &actor, ctx, action, title, f, errors, dups).await?;
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
        format!("/ho/{id}"),
        "Sửa thông tin hộ",
        f,
        Errors::default(),
        DuplicateState::default(),
    )
    .await
}
