//! The pledge: choose a household, then plan the support and invite a joint group.

use super::*;

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
    /// Forms of help that fit its review, needs and wishes, with measured results (issue #26).
    pub advice: Vec<crate::web::profiles::AdviceLine>,
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

/// The pledge form as the browser sends it: each line's five inputs and each member select
/// share one name, repeated once per row in the table's order (`serde_html_form` collects them).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PledgeForm {
    ho: String,
    hinh_thuc: Vec<String>,
    vat_pham: Vec<String>,
    so_luong: Vec<String>,
    don_vi: Vec<String>,
    gia_tri: Vec<String>,
    thanh_vien: Vec<String>,
    mong_muon: String,
    ly_do_giup_lai: String,
    ly_do_trung: String,
    phieu: String,
}

/// Lines and member selects a form may carry at most (the page shows `LINE_ROWS`/`MEMBER_ROWS`).
const MAX_LINES: usize = 20;
const MAX_MEMBERS: usize = 10;

impl From<PledgeForm> for PledgeInput {
    fn from(f: PledgeForm) -> PledgeInput {
        let rows = [
            &f.hinh_thuc,
            &f.vat_pham,
            &f.so_luong,
            &f.don_vi,
            &f.gia_tri,
        ]
        .iter()
        .map(|v| v.len())
        .max()
        .unwrap_or(0)
        .min(MAX_LINES);
        let at = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
        let mut lines: Vec<LineInput> = (0..rows)
            .map(|i| LineInput {
                form: at(&f.hinh_thuc, i),
                item: at(&f.vat_pham, i),
                quantity: at(&f.so_luong, i),
                unit: at(&f.don_vi, i),
                value: at(&f.gia_tri, i),
            })
            .collect();
        if lines.len() < LINE_ROWS {
            lines.resize(LINE_ROWS, LineInput::default());
        }
        let mut members: Vec<String> = f.thanh_vien.into_iter().take(MAX_MEMBERS).collect();
        if members.len() < MEMBER_ROWS {
            members.resize(MEMBER_ROWS, String::new());
        }
        PledgeInput {
            household: f.ho,
            lines,
            members,
            note: f.mong_muon,
            helped_before_reason: f.ly_do_giup_lai,
            twin_reason: f.ly_do_trung,
            submission: f.phieu,
        }
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
    /// The campaign's forms of support: (stored code, the campaign's label).
    pub forms: Vec<(String, String)>,
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
    let history = db::earlier_help(&state.db, campaign, household).await?;
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
    let advice = crate::web::profiles::advice(state, &h, true).await?;
    Ok(Some(Chosen {
        advice,
        id: h.id,
        head_name: h.head_name,
        place: format!("{}, {}", h.village_name, h.commune_name),
        status: labels::household_status(&h.status),
        history,
        twins,
    }))
}

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
        None => crate::web::lookups::guard(state, actor, q.trim(), "/nhan-giup/dang-ky").await?,
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
    let agencies = crate::db::agencies::others(&state.db, agency).await?;
    let quota_note = crate::db::agencies::quota_of(&state.db, c.id, agency)
        .await?
        .map(|r| {
            let q = r.quota();
            format!(
                "Chỉ tiêu của đơn vị: {} ({}). Đã được tính: {}.",
                q.label(),
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
        forms: crate::db::campaign_rules::support_forms(&state.db, c.id)
            .await?
            .into_iter()
            .map(|f| (f.form, f.label))
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
    axum_extra::extract::Form(form): axum_extra::extract::Form<PledgeForm>,
) -> AppResult<Response> {
    let Some(agency) = actor.agency_id else {
        return Err(AppError::Forbidden);
    };
    let f = PledgeInput::from(form);
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
    } else if let Some(h) = household
        && !db::in_area(&state.db, c.id, h).await?
    {
        errors.push(
            "Hộ này ở ngoài địa bàn của đợt vận động (xã không thuộc đơn vị tổ chức đợt): hãy chọn hộ khác."
                .to_string(),
        );
    }
    let lines = sponsorship::parse_lines(&f.lines)
        .map_err(|e| errors.extend(e))
        .ok();
    // Only the forms this campaign offers (its letter's list).
    let offered = crate::db::campaign_rules::support_forms(&state.db, c.id).await?;
    for (n, l) in lines.iter().flatten().enumerate() {
        if !offered.iter().any(|o| o.form == l.form) {
            errors.push(format!(
                "Dòng {}: đợt vận động năm {} không có hình thức “{}”; hãy chọn hình thức khác.",
                n + 1,
                c.year,
                labels::support_form(l.form)
            ));
        }
    }
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
