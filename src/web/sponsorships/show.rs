//! The sponsorship page: its whole story — members, lines, deliveries, visits, photos, the household across the years.

use super::*;

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

impl ShowPage {
    /// Whether the option `code` of a select is the value the form came back with.
    pub fn chosen(&self, value: &str, code: &str) -> bool {
        value == code
    }
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

pub(super) async fn show_page(
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
    let st = d.state;
    let may_deliver = actor.role == Role::Agency
        && member_of
        && sponsorship::next(st, Event::Deliver { reached: false }).is_ok();
    let commune_own = actor.covers(&d.commune_code);
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
            state: r.state.label(),
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
            evaluation: labels::evaluation(&v.evaluation),
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
        state: d.state.label(),
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
