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
    self, DeliveryInput, Event, FORMS, LineInput, State as SState, VisitInput,
};

/// Lines shown on the pledge form.
const LINE_ROWS: usize = 5;
/// Other agencies a lead can invite into a group, as select boxes (R2: 1–3).
const MEMBER_ROWS: usize = 3;

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
        Scope::Commune(code) => d.commune_code == code,
        Scope::Nothing => false,
    };
    if ok { Ok(d) } else { Err(AppError::NotFound) }
}

fn is_lead(actor: &Actor, d: &Detail) -> bool {
    actor.role == Role::Agency && actor.agency_id == Some(d.lead_agency_id)
}

/// The commune's official confirms or rejects (R3).
fn may_decide(actor: &Actor, d: &Detail) -> bool {
    actor.role == Role::Commune && actor.commune_code.as_deref() == Some(d.commune_code.as_str())
}

/// The lead agency or a clerk withdraws a pledge.
fn may_cancel(actor: &Actor, d: &Detail) -> bool {
    is_lead(actor, d) || actor.is_district()
}

fn token(s: &str) -> Option<Uuid> {
    s.trim().parse().ok()
}

// ----------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub trang_thai: Option<String>,
    pub trang: Option<String>,
}

pub struct WorkLine {
    pub id: Uuid,
    pub year: i32,
    pub household_id: Uuid,
    pub head_name: String,
    pub place: String,
    pub agencies: String,
    pub joint: bool,
    pub state: &'static str,
    pub state_code: String,
    pub support: String,
    pub pledged: String,
    pub delivered: String,
    pub percent: i64,
    pub short: bool,
    pub late: bool,
    pub pledged_on: String,
    pub last_visit: String,
}

pub fn work_line(r: WorkRow) -> WorkLine {
    let percent = if r.target > 0 {
        (r.delivered_value.saturating_mul(100) / r.target).min(999)
    } else {
        0
    };
    let st = SState::parse(&r.state);
    WorkLine {
        id: r.id,
        year: r.year,
        household_id: r.household_id,
        head_name: r.head_name,
        place: format!("{}, {}", r.village, r.commune),
        agencies: r.agencies,
        joint: r.members > 1,
        state: labels::sponsorship_state(&r.state),
        short: st.is_some_and(|s| s.counts()) && r.delivered_value < r.target,
        state_code: r.state,
        support: r.support_summary,
        pledged: format_vnd(r.pledged_value),
        delivered: format_vnd(r.delivered_value),
        percent,
        late: r.is_late,
        pledged_on: format_date(r.pledged_on),
        last_visit: r.last_visit.map(format_date).unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/list.html")]
pub struct ListPage {
    pub ctx: Ctx,
    pub year: Option<i32>,
    pub state: String,
    pub states: Vec<(&'static str, &'static str)>,
    pub lines: Vec<WorkLine>,
    /// All the pledges the filter matches (the district's list shows them a page at a time).
    pub total: i64,
    pub page: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
    pub can_pledge: bool,
    pub can_import: bool,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ListParams>,
) -> AppResult<ListPage> {
    let wanted = nonblank(&p.trang_thai).filter(|s| SState::parse(s).is_some());
    let all = [
        "proposed",
        "confirmed",
        "rejected",
        "delivering",
        "target_reached",
        "follow_up",
        "cancelled",
    ];
    let states: Vec<&str> = match &wanted {
        Some(s) => all.iter().copied().filter(|a| a == s).collect(),
        None => all.to_vec(),
    };
    // A page number that is not a positive number is page 1.
    let page = p
        .trang
        .as_deref()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .unwrap_or(1);
    let campaign = campaigns::current(&state.db).await?;
    let (rows, total) = match (&campaign, actor.scope()) {
        (None, _) | (_, Scope::Nothing) => (Vec::new(), 0),
        (Some(c), Scope::Agency(a)) => {
            let rows: Vec<_> = db::of_agency(&state.db, a, c.id)
                .await?
                .into_iter()
                .filter(|r| states.contains(&r.state.as_str()))
                .collect();
            let n = rows.len() as i64;
            (rows, n)
        }
        (Some(c), Scope::Commune(code)) => {
            let rows = db::of_commune(&state.db, &code, c.id, &states).await?;
            let n = rows.len() as i64;
            (rows, n)
        }
        (Some(c), Scope::District) => db::of_district(&state.db, c.id, &states, page).await?,
    };
    let pages = (total + db::DISTRICT_PAGE - 1) / db::DISTRICT_PAGE;
    let link = |n: i64| {
        let mut pairs = vec![("trang", n.to_string())];
        if let Some(s) = &wanted {
            pairs.insert(0, ("trang_thai", s.clone()));
        }
        format!("/nhan-giup{}", super::forms::query_string(&pairs))
    };
    let paged = matches!(actor.scope(), Scope::District);
    Ok(ListPage {
        ctx,
        year: campaign.map(|c| c.year),
        state: wanted.clone().unwrap_or_default(),
        states: all
            .iter()
            .map(|s| (*s, labels::sponsorship_state(s)))
            .collect(),
        lines: rows.into_iter().map(work_line).collect(),
        total,
        page,
        prev_link: (paged && page > 1).then(|| link(page - 1)),
        next_link: (paged && page < pages).then(|| link(page + 1)),
        can_pledge: actor.role == Role::Agency,
        can_import: actor.is_district(),
    })
}

// ----------------------------------------------------------------------------------------------
// Pledge: choose a household, then plan the support

#[derive(Deserialize, Default)]
pub struct ChooseParams {
    pub q: Option<String>,
    pub xa: Option<String>,
    pub ho: Option<String>,
}

pub struct ChoiceLine {
    pub id: Uuid,
    pub head_name: String,
    pub place: String,
    pub status: &'static str,
    pub priority: bool,
    pub helped_before: bool,
}

/// What the pledge form shows about the chosen household.
pub struct Chosen {
    pub id: Uuid,
    pub head_name: String,
    pub place: String,
    pub status: &'static str,
    /// R4: earlier sponsorships (year, agencies, support).
    pub history: Vec<(i32, String, String)>,
    /// Households that may be this one, already adopted in this campaign: (name, place, holder).
    pub twins: Vec<(String, String, String)>,
}

/// The pledge form as typed.
#[derive(Default)]
pub struct PledgeInput {
    pub household: String,
    pub lines: Vec<LineInput>,
    pub members: Vec<String>,
    pub note: String,
    pub helped_before_reason: String,
    pub twin_reason: String,
    pub submission: String,
}

impl PledgeInput {
    fn from_pairs(pairs: Vec<(String, String)>) -> PledgeInput {
        let mut p = PledgeInput {
            lines: vec![LineInput::default(); LINE_ROWS],
            members: vec![String::new(); MEMBER_ROWS],
            ..Default::default()
        };
        for (k, v) in pairs {
            let indexed = |prefix: &str| -> Option<usize> {
                k.strip_prefix(prefix).and_then(|i| i.parse::<usize>().ok())
            };
            match k.as_str() {
                "ho" => p.household = v,
                "mong_muon" => p.note = v,
                "ly_do_giup_lai" => p.helped_before_reason = v,
                "ly_do_trung" => p.twin_reason = v,
                "phieu" => p.submission = v,
                _ => {
                    if let Some(i) = indexed("thanh_vien_").filter(|i| *i < 10) {
                        if p.members.len() <= i {
                            p.members.resize(i + 1, String::new());
                        }
                        p.members[i] = v;
                        continue;
                    }
                    for (prefix, which) in [
                        ("hinh_thuc_", 0),
                        ("vat_pham_", 1),
                        ("so_luong_", 2),
                        ("don_vi_", 3),
                        ("gia_tri_", 4),
                    ] {
                        if let Some(i) = indexed(prefix).filter(|i| *i < 20) {
                            if p.lines.len() <= i {
                                p.lines.resize(i + 1, LineInput::default());
                            }
                            let l = &mut p.lines[i];
                            match which {
                                0 => l.form = v.clone(),
                                1 => l.item = v.clone(),
                                2 => l.quantity = v.clone(),
                                3 => l.unit = v.clone(),
                                _ => l.value = v.clone(),
                            }
                        }
                    }
                }
            }
        }
        p
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/pledge.html")]
pub struct PledgePage {
    pub ctx: Ctx,
    pub year: i32,
    pub target: String,
    pub late: bool,
    pub q: String,
    pub commune: String,
    pub communes: Vec<(String, String)>,
    pub choices: Vec<ChoiceLine>,
    pub chosen: Option<Chosen>,
    pub f: PledgeInput,
    pub errors: Vec<String>,
    pub agencies: Vec<(Uuid, String)>,
    pub forms: Vec<(&'static str, &'static str)>,
    pub quota_note: String,
}

impl PledgePage {
    pub fn member_selected(&self, i: &usize, id: &Uuid) -> bool {
        self.f.members.get(*i).map(String::as_str) == Some(id.to_string().as_str())
    }
}

async fn chosen(state: &AppState, campaign: Uuid, household: Uuid) -> AppResult<Option<Chosen>> {
    let Some(h) = households::get(&state.db, household).await? else {
        return Ok(None);
    };
    if h.merged_into.is_some() {
        return Ok(None);
    }
    let mut conn = state.db.acquire().await?;
    let history = db::earlier_help(&mut conn, campaign, household).await?;
    drop(conn);
    // R4: a household entered twice under another spelling may already be adopted this year.
    let probe = duplicates::Probe {
        commune_code: h.commune_code.clone(),
        village: h.village_name.clone(),
        head_name: h.head_name.clone(),
        birth_year: h.birth_year,
        gender: h.gender.clone(),
        cccd: h.cccd.clone(),
        old_id_number: h.old_id_number.clone(),
        household_code: h.household_code.clone(),
        exclude: Some(h.id),
    };
    // One query for the holders of all look-alikes (common names make them many).
    let close: Vec<_> = duplicates::candidates(&state.db, &probe, state.config.duplicates)
        .await?
        .into_iter()
        .filter(|c| matches!(c.level, Level::Certain | Level::Probable))
        .collect();
    let ids: Vec<Uuid> = close.iter().map(|c| c.id).collect();
    let holders = db::holders(&state.db, campaign, &ids).await?;
    let mut twins = Vec::new();
    for c in close {
        if let Some((_, holder)) = holders.iter().find(|(h, _)| *h == c.id) {
            twins.push((
                c.head_name,
                format!("{}, {}", c.village, c.commune),
                holder.clone(),
            ));
        }
    }
    Ok(Some(Chosen {
        id: h.id,
        head_name: h.head_name,
        place: format!("{}, {}", h.village_name, h.commune_name),
        status: labels::household_status(&h.status),
        history,
        twins,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn pledge_page(
    state: &AppState,
    actor: &Actor,
    ctx: Ctx,
    q: String,
    commune: String,
    f: PledgeInput,
    errors: Vec<String>,
) -> AppResult<PledgePage> {
    let Some(agency) = actor.agency_id else {
        return Err(AppError::Forbidden);
    };
    let c = campaigns::current(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (_, prio) = households::priority_context(&state.db).await?;
    let household: Option<Uuid> = f.household.parse().ok();
    let chosen = match household {
        Some(h) => chosen(state, c.id, h).await?,
        None => None,
    };
    let lookup = match chosen {
        None => super::lookups::guard(state, actor, q.trim(), "/nhan-giup/dang-ky").await?,
        Some(_) => None,
    };
    let choices: Vec<ChoiceLine> = if chosen.is_none() {
        db::choices(
            &state.db,
            c.id,
            Some(q.trim()).filter(|s| !s.is_empty()),
            Some(commune.as_str()).filter(|s| !s.is_empty()),
            &prio,
            30,
        )
        .await?
        .into_iter()
        .map(|r| ChoiceLine {
            id: r.id,
            head_name: r.head_name,
            place: format!("{}, {}", r.village, r.commune),
            status: labels::household_status(&r.status),
            priority: r.priority,
            helped_before: r.helped_before,
        })
        .collect()
    } else {
        Vec::new()
    };
    if let Some(lookup) = lookup {
        lookup.record(state, actor, !choices.is_empty()).await?;
    }
    let agencies: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM agencies WHERE id <> $1 ORDER BY name")
            .bind(agency)
            .fetch_all(&state.db)
            .await?;
    let quota_note = crate::db::agencies::quota_of(&state.db, c.id, agency)
        .await?
        .map(|r| {
            let q = r.quota();
            format!(
                "Chỉ tiêu của đơn vị: {} ({}). Đã được tính: {}.",
                if q.joint {
                    "01 hộ cùng nhóm".to_string()
                } else {
                    format!("{:02} hộ", q.households)
                },
                q.rule,
                r.counted()
            )
        })
        .unwrap_or_default();
    let today = today();
    Ok(PledgePage {
        ctx,
        year: c.year,
        target: format_vnd(c.target_per_household),
        late: today > c.registration_deadline,
        q,
        commune,
        communes: crate::db::users::communes_for_select(&state.db).await?,
        choices,
        chosen,
        f,
        errors,
        agencies,
        forms: FORMS
            .iter()
            .map(|f| (*f, labels::support_form(f)))
            .collect(),
        quota_note,
    })
}

pub async fn pledge_form(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ChooseParams>,
) -> AppResult<PledgePage> {
    let f = PledgeInput {
        household: p.ho.clone().unwrap_or_default(),
        lines: vec![LineInput::default(); LINE_ROWS],
        members: vec![String::new(); MEMBER_ROWS],
        submission: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let q = p.q.unwrap_or_default().chars().take(100).collect();
    pledge_page(
        &state,
        &actor,
        ctx,
        q,
        p.xa.unwrap_or_default(),
        f,
        Vec::new(),
    )
    .await
}

pub async fn pledge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let Some(agency) = actor.agency_id else {
        return Err(AppError::Forbidden);
    };
    let f = PledgeInput::from_pairs(pairs);
    let c = campaigns::current(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = Vec::new();
    let household: Option<Uuid> = f.household.parse().ok();
    let chosen = match household {
        Some(h) => chosen(&state, c.id, h).await?,
        None => None,
    };
    if chosen.is_none() {
        errors.push("Hãy chọn một hộ trong danh sách.".to_string());
    }
    let lines = sponsorship::parse_lines(&f.lines)
        .map_err(|e| errors.extend(e))
        .ok();
    let mut members = Vec::new();
    for m in f.members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
        match m.parse::<Uuid>() {
            Ok(id) => members.push(id),
            Err(_) => errors.push("Đơn vị cùng giúp không hợp lệ.".to_string()),
        }
    }
    if let Err(e) = sponsorship::check_members(agency, &members) {
        errors.push(e);
    }
    let note = f.note.trim();
    if note.chars().count() > 2000 {
        errors.push("Mong muốn của hộ: dài quá 2000 ký tự.".into());
    }
    let reason = f.helped_before_reason.trim();
    if reason.chars().count() > 500 {
        errors.push("Lý do: dài quá 500 ký tự.".into());
    }
    if let Some(ch) = &chosen {
        if !ch.history.is_empty() && reason.is_empty() {
            errors.push(
                "Hộ này đã được giúp đỡ các năm trước (xem bên dưới): hãy ghi lý do để tiếp tục nhận giúp đỡ."
                    .into(),
            );
        }
        if !ch.twins.is_empty() && f.twin_reason.trim().is_empty() {
            errors.push(
                "Hộ này có thể trùng với một hộ đã được nhận giúp đỡ trong đợt này (xem bên dưới): nếu đúng là hộ khác, hãy ghi lý do."
                    .into(),
            );
        }
    }
    if errors.is_empty()
        && let (Some(ch), Some(lines)) = (&chosen, lines)
    {
        let mut why = Vec::new();
        if !ch.history.is_empty() {
            why.push(reason.to_string());
        }
        if !ch.twins.is_empty() {
            why.push(format!(
                "Không trùng với hộ đã được nhận: {}",
                f.twin_reason.trim()
            ));
        }
        let p = NewPledge {
            campaign_id: c.id,
            household_id: ch.id,
            lead_agency_id: agency,
            members,
            lines,
            note: Some(note.to_string()).filter(|n| !n.is_empty()),
            helped_before_reason: Some(why.join(". ")).filter(|w| !w.is_empty()),
            submission: token(&f.submission),
        };
        match db::pledge_committed(&state.db, &By::from(&actor), &p).await {
            Ok(id) => {
                flash(
                    &session,
                    "ok",
                    format!(
                        "Đã đăng ký nhận giúp đỡ hộ {}; đang chờ UBND xã xác nhận.",
                        ch.head_name
                    ),
                )
                .await;
                return Ok(Redirect::to(&format!("/nhan-giup/{id}")).into_response());
            }
            Err(PledgeError::Db(e)) => return Err(e.into()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let page = pledge_page(&state, &actor, ctx, String::new(), String::new(), f, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

// ----------------------------------------------------------------------------------------------
// Detail: the sponsorship's whole story

pub struct MemberLine {
    pub name: String,
    pub lead: bool,
    pub share: String,
    pub delivered: String,
}

pub struct LineView {
    pub form: &'static str,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub value: String,
}

pub struct DeliveryView {
    pub date: String,
    pub agency: String,
    pub item: String,
    pub quantity: i32,
    pub unit: String,
    pub unit_value: String,
    pub total: String,
    pub by: String,
    pub record: String,
    pub note: String,
    pub photos: Vec<PhotoView>,
}

pub struct VisitView {
    pub year: i32,
    pub date: String,
    pub findings: String,
    pub animals: String,
    pub guidance: String,
    pub evaluation: &'static str,
    /// What the visitor saw, labelled as the visit's finding (not the official status).
    pub status: String,
    pub this_one: bool,
    pub photos: Vec<PhotoView>,
}

pub struct StoryLine {
    pub id: Uuid,
    pub year: i32,
    pub agencies: String,
    pub support: String,
    pub delivered: String,
    pub state: &'static str,
    pub this_one: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/show.html")]
pub struct ShowPage {
    pub ctx: Ctx,
    pub d: Detail,
    pub state: &'static str,
    pub members: Vec<MemberLine>,
    pub lines: Vec<LineView>,
    pub deliveries: Vec<DeliveryView>,
    pub visits: Vec<VisitView>,
    pub story: Vec<StoryLine>,
    pub statuses: Vec<StatusLine>,
    pub pledged: String,
    pub delivered: String,
    pub target: String,
    pub percent: i64,
    pub short: bool,
    pub pledge_below_target: bool,
    pub may_decide: bool,
    pub may_cancel: bool,
    pub may_deliver: bool,
    pub may_visit: bool,
    /// The visitor may also record the household's official status (its commune, the district).
    pub may_set_status: bool,
    pub delivery: DeliveryInput,
    pub visit: VisitInput,
    pub errors: Errors,
    pub delivery_token: String,
    pub visit_token: String,
    pub today: String,
    /// What the upload forms say about photographing people (the household's consent).
    pub consent_notice: &'static str,
}

/// A year of the household's status, labelled with where it came from.
pub struct StatusLine {
    pub year: i32,
    pub status: &'static str,
    /// Empty for the official status; otherwise what it is.
    pub note: &'static str,
}

pub fn status_lines(rows: Vec<households::StatusYear>) -> Vec<StatusLine> {
    rows.into_iter()
        .map(|r| StatusLine {
            year: r.year,
            status: labels::household_status(&r.status),
            note: if r.source == "official" {
                ""
            } else {
                "do cơ quan ghi khi thăm (trước khi có quy định chỉ xã ghi), chưa phải kết quả rà soát"
            },
        })
        .collect()
}

/// The visit's finding: "Quan sát: hộ cận nghèo", and "(ghi chính thức)" when the commune or the
/// district recorded it as the official status.
pub fn visit_status_label(v: &db::VisitRow) -> String {
    let seen = labels::household_status(&v.observed_status);
    if v.official_status {
        format!("{seen} (ghi làm tình trạng chính thức)")
    } else {
        format!("Quan sát khi thăm: {seen}")
    }
}

fn animals(v: &db::VisitRow) -> String {
    let mut parts = Vec::new();
    for (n, label) in [
        (v.received, "nhận"),
        (v.born, "sinh thêm"),
        (v.died, "chết"),
        (v.sold, "đã bán"),
        (v.trees_surviving, "cây sống"),
    ] {
        if let Some(n) = n {
            parts.push(format!("{label} {n}"));
        }
    }
    parts.join(", ")
}

async fn show_page(
    state: &AppState,
    actor: &Actor,
    ctx: Ctx,
    d: Detail,
    delivery: DeliveryInput,
    visit: VisitInput,
    errors: Errors,
) -> AppResult<ShowPage> {
    let members = db::members(&state.db, d.id).await?;
    let member_of = actor
        .agency_id
        .is_some_and(|a| members.iter().any(|m| m.agency_id == a));
    let st = d.state();
    let may_deliver = actor.role == Role::Agency
        && member_of
        && sponsorship::next(st, Event::Deliver { reached: false }).is_ok();
    let commune_own =
        actor.role == Role::Commune && actor.commune_code.as_deref() == Some(&d.commune_code);
    let may_visit = !d.campaign_is_current
        && (member_of || commune_own || actor.is_district())
        && sponsorship::next(st, Event::Visit).is_ok();
    let story = households::history(&state.db, d.household_id)
        .await?
        .into_iter()
        .map(|r| StoryLine {
            this_one: r.id == d.id,
            id: r.id,
            year: r.year,
            agencies: r.agencies,
            support: r.support_summary,
            delivered: format_vnd(r.delivered_value),
            state: labels::sponsorship_state(&r.state),
        })
        .collect();
    let photos = photos::of_household(state, actor, d.household_id, &d.commune_code).await?;
    let photos_of = |pick: &dyn Fn(&PhotoView) -> bool| -> Vec<PhotoView> {
        photos.iter().filter(|p| pick(p)).cloned().collect()
    };
    let consent = photo_db::consent(&state.db, d.household_id)
        .await?
        .and_then(|c| photo_db::Consent::parse(&c.photo_consent))
        .unwrap_or(photo_db::Consent::NotAsked);
    let visits = db::visits_of_household(&state.db, d.household_id)
        .await?
        .into_iter()
        .map(|v| VisitView {
            photos: photos_of(&|p| p.visit_id == Some(v.id)),
            year: v.year,
            date: format_date(v.visited_on),
            animals: animals(&v),
            status: visit_status_label(&v),
            findings: v.findings,
            guidance: v.guidance.unwrap_or_default(),
            evaluation: sponsorship::evaluation_label(&v.evaluation),
            this_one: v.sponsorship_id == d.id,
        })
        .collect();
    let statuses = status_lines(households::status_history(&state.db, d.household_id).await?);
    let percent = if d.target > 0 {
        (d.delivered_value.saturating_mul(100) / d.target).min(999)
    } else {
        0
    };
    Ok(ShowPage {
        state: labels::sponsorship_state(&d.state),
        members: members
            .iter()
            .map(|m| MemberLine {
                name: m.name.clone(),
                lead: m.is_lead,
                share: format_vnd(m.share_value),
                delivered: format_vnd(m.delivered),
            })
            .collect(),
        lines: db::lines(&state.db, d.id)
            .await?
            .into_iter()
            .map(|l| LineView {
                form: labels::support_form(&l.form),
                item: l.item,
                quantity: l.quantity,
                unit: l.unit,
                value: format_vnd(l.estimated_value),
            })
            .collect(),
        deliveries: db::deliveries(&state.db, d.id)
            .await?
            .into_iter()
            .map(|x| DeliveryView {
                photos: photos_of(&|p| p.delivery_id == Some(x.id)),
                date: format_date(x.delivered_on),
                agency: x.agency,
                item: x.item,
                quantity: x.quantity,
                unit: x.unit,
                unit_value: format_vnd(x.unit_value),
                total: format_vnd(x.total_value),
                by: x.delivered_by,
                record: x.record_number.unwrap_or_default(),
                note: x.note.unwrap_or_default(),
            })
            .collect(),
        visits,
        story,
        statuses,
        pledged: format_vnd(d.pledged_value),
        delivered: format_vnd(d.delivered_value),
        target: format_vnd(d.target),
        percent,
        short: st.counts() && d.delivered_value < d.target,
        pledge_below_target: d.pledged_value < d.target,
        may_decide: may_decide(actor, &d) && st == SState::Proposed,
        may_cancel: may_cancel(actor, &d) && sponsorship::next(st, Event::Cancel).is_ok(),
        may_deliver,
        may_visit,
        may_set_status: roles::can_edit_household(actor, &d.commune_code),
        delivery,
        visit,
        errors,
        delivery_token: Uuid::new_v4().to_string(),
        visit_token: Uuid::new_v4().to_string(),
        today: today().format("%Y-%m-%d").to_string(),
        consent_notice: photos::consent_notice(consent),
        ctx,
        d,
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<ShowPage> {
    let d = visible(&state, &actor, &id).await?;
    show_page(
        &state,
        &actor,
        ctx,
        d,
        DeliveryInput::default(),
        VisitInput::default(),
        Errors::default(),
    )
    .await
}

// ----------------------------------------------------------------------------------------------
// Decisions: confirm, reject, cancel

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    pub ly_do: String,
}

async fn decide(
    state: AppState,
    actor: Actor,
    session: Session,
    id: String,
    event: Event,
    reason: &str,
) -> AppResult<Response> {
    let d = visible(&state, &actor, &id).await?;
    let allowed = match event {
        Event::Confirm | Event::Reject => may_decide(&actor, &d),
        Event::Cancel => may_cancel(&actor, &d),
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let back = format!("/nhan-giup/{}", d.id);
    let reason = reason.trim();
    if matches!(event, Event::Reject | Event::Cancel) && reason.is_empty() {
        flash(&session, "error", "Hãy ghi lý do.").await;
        return Ok(Redirect::to(&back).into_response());
    }
    if reason.chars().count() > 500 {
        flash(&session, "error", "Lý do dài quá 500 ký tự.").await;
        return Ok(Redirect::to(&back).into_response());
    }
    let mut tx = state.db.begin().await?;
    let by = By::from(&actor);
    let reason = Some(reason).filter(|r| !r.is_empty());
    match db::decide(&mut tx, &by, d.id, event, reason).await {
        Ok(next) => {
            tx.commit().await?;
            let msg = match next {
                SState::Confirmed => format!("Đã xác nhận hộ {}.", d.head_name),
                SState::Rejected => format!("Đã từ chối đăng ký giúp hộ {}.", d.head_name),
                _ => format!("Đã hủy đăng ký giúp hộ {}.", d.head_name),
            };
            flash(&session, "ok", msg).await;
        }
        Err(ChangeError::Refused(why)) => flash(&session, "error", why).await,
        Err(ChangeError::NotFound) => return Err(AppError::NotFound),
        Err(ChangeError::AlreadyRecorded) => {}
        Err(ChangeError::Db(e)) => return Err(e.into()),
    }
    Ok(Redirect::to(&back).into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Confirm, "").await
}

pub async fn reject(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Reject, &f.ly_do).await
}

pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Cancel, &f.ly_do).await
}

// ----------------------------------------------------------------------------------------------
// Deliveries and visits

/// The end of a recorded change: committed with a message, or (a form sent twice) nothing more
/// written and the user told so; `Err(why)` when the state does not allow it.
async fn settle(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    session: &Session,
    result: Result<SState, ChangeError>,
    ok: impl FnOnce(SState) -> String,
    twice: &str,
) -> AppResult<Result<(), &'static str>> {
    match result {
        Ok(next) => {
            tx.commit().await?;
            flash(session, "ok", ok(next)).await;
            Ok(Ok(()))
        }
        Err(ChangeError::AlreadyRecorded) => {
            flash(session, "ok", twice).await;
            Ok(Ok(()))
        }
        Err(ChangeError::Refused(why)) => Ok(Err(why)),
        Err(ChangeError::NotFound) => Err(AppError::NotFound),
        Err(ChangeError::Db(e)) => Err(e.into()),
    }
}

/// ", kèm 2 ảnh" when photos came with it.
fn with_photos(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", kèm {n} ảnh")
    }
}

#[derive(Deserialize, Default)]
pub struct DeliveryForm {
    #[serde(flatten)]
    pub input: DeliveryInput,
    #[serde(default)]
    pub phieu: String,
}

pub async fn deliver(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    upload: WithPhotos<DeliveryForm>,
) -> AppResult<Response> {
    let WithPhotos {
        form: f,
        files,
        problem,
    } = upload;
    let d = visible(&state, &actor, &id).await?;
    let Some(agency) = actor.agency_id.filter(|_| actor.role == Role::Agency) else {
        return Err(AppError::Forbidden);
    };
    let back = format!("/nhan-giup/{}", d.id);
    let error = |field: &'static str, msg: String| Errors([(field, msg)].into_iter().collect());
    // The photos are checked before anything is written: a bad photo brings the form back with
    // the delivery as typed (the files must be chosen again), and nothing is stored.
    let parsed = match sponsorship::parse_delivery(&f.input, d.pledged_on, today()) {
        Err(e) => Err(Errors(e)),
        Ok(delivery) => match problem {
            Some(why) => Err(error("anh", why)),
            None => match photos::process_all(files).await? {
                Err(why) => Err(error("anh", why)),
                Ok(processed) => Ok((delivery, processed)),
            },
        },
    };
    let errors = match parsed {
        Err(e) => e,
        Ok((delivery, processed)) => {
            let mut tx = state.db.begin().await?;
            let by = By::from(&actor);
            let result =
                match db::deliver(&mut tx, &by, d.id, agency, &delivery, token(&f.phieu)).await {
                    Ok((next, delivery_id)) => {
                        let owner = photo_db::Owner::Delivery(delivery_id);
                        photo_db::add(&mut tx, &by, d.id, owner, &processed).await?;
                        Ok(next)
                    }
                    Err(e) => Err(e),
                };
            let ok = |next: SState| {
                let total = format_vnd(delivery.total_value);
                let with = with_photos(processed.len());
                if next == SState::TargetReached {
                    format!("Đã ghi nhận trao {total}{with} — hộ đã nhận đủ mức hỗ trợ.")
                } else {
                    format!("Đã ghi nhận trao {total}{with}.")
                }
            };
            let twice = "Lần trao này đã được ghi nhận (biểu mẫu gửi hai lần).";
            match settle(tx, &session, result, ok, twice).await? {
                Ok(()) => return Ok(Redirect::to(&back).into_response()),
                Err(why) => error("trao", why.to_string()),
            }
        }
    };
    let page = show_page(
        &state,
        &actor,
        ctx,
        d,
        f.input,
        VisitInput::default(),
        errors,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct VisitForm {
    #[serde(flatten)]
    pub input: VisitInput,
    #[serde(default)]
    pub phieu: String,
}

pub async fn visit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    upload: WithPhotos<VisitForm>,
) -> AppResult<Response> {
    let WithPhotos {
        form: f,
        files,
        problem,
    } = upload;
    let d = visible(&state, &actor, &id).await?;
    // Visible means: district, a member agency, or the household's commune — all may visit.
    let back = format!("/nhan-giup/{}", d.id);
    let error = |field: &'static str, msg: String| Errors([(field, msg)].into_iter().collect());
    let errors = if d.campaign_is_current {
        error(
            "tham",
            "Theo dõi sau hỗ trợ dành cho các hộ được giúp từ những đợt trước.".into(),
        )
    } else {
        match sponsorship::parse_visit(&f.input, d.pledged_on, today()) {
            Err(e) => Errors(e),
            // The official status is the commune's review: only the household's commune
            // official or a clerk records it, never an agency.
            Ok(v) if v.official && !roles::can_edit_household(&actor, &d.commune_code) => error(
                "tham",
                "Tình trạng chính thức của hộ (nghèo, cận nghèo, thoát nghèo) do xã rà soát và chỉ \
                 cán bộ xã của hộ hoặc chuyên viên huyện ghi. Cơ quan, đơn vị ghi tình trạng quan sát \
                 được khi thăm; lần thăm chưa được ghi."
                    .into(),
            ),
            Ok(_) if problem.is_some() => error("anh_tham", problem.unwrap_or_default()),
            Ok(v) => match photos::process_all(files).await? {
                Err(why) => error("anh_tham", why),
                Ok(processed) => {
                let mut tx = state.db.begin().await?;
                let by = By::from(&actor);
                let result = match db::visit(&mut tx, &by, d.id, &v, token(&f.phieu)).await {
                    Ok((next, visit_id)) => {
                        let owner = photo_db::Owner::Visit(visit_id);
                        photo_db::add(&mut tx, &by, d.id, owner, &processed).await?;
                        Ok(next)
                    }
                    Err(e) => Err(e),
                };
                let ok = |_| format!("Đã ghi lần thăm hộ{}.", with_photos(processed.len()));
                let twice = "Lần thăm này đã được ghi (biểu mẫu gửi hai lần).";
                match settle(tx, &session, result, ok, twice).await? {
                    Ok(()) => return Ok(Redirect::to(&back).into_response()),
                    Err(why) => error("tham", why.to_string()),
                }
                }
            },
        }
    };
    let page = show_page(
        &state,
        &actor,
        ctx,
        d,
        DeliveryInput::default(),
        f.input,
        errors,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
