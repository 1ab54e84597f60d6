//! The district summary of a campaign: figures, charts, the list of households, its xlsx, CSV and print page.

use super::{Chart, Params, delivered_chart, load_summary, years_of_campaigns};
use crate::domain::dates::{format_date, today};
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::Scope;
use crate::report::export;
use crate::report::{self, CampaignInfo, Rows};
use crate::web::AppState;
use crate::web::agencies::{KindOption, kinds};
use crate::web::download::{csv_response, xlsx_response};
use crate::web::error::AppResult;
use crate::web::forms::{nonblank, query_string};
use crate::web::page::{Ctx, CurrentUser};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;

pub struct ListLine {
    pub stt: usize,
    pub agencies: String,
    pub head_name: String,
    pub place: String,
    pub form: String,
    pub quantity: String,
    pub pledged: String,
    pub delivered: String,
    pub remark: String,
}

pub struct BreakdownLine {
    pub label: String,
    pub households: String,
    pub pledged: String,
    pub delivered: String,
    pub reached: String,
}

fn lines(rows: &[report::Breakdown]) -> Vec<BreakdownLine> {
    rows.iter()
        .map(|b| BreakdownLine {
            label: b.label.clone(),
            households: group_thousands(b.households),
            pledged: format_vnd(b.pledged),
            delivered: format_vnd(b.delivered),
            reached: group_thousands(b.reached),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/summary.html")]
pub struct SummaryPage {
    pub ctx: Ctx,
    pub p: Params,
    pub query: String,
    pub campaign: CampaignInfo,
    pub campaigns: Vec<i32>,
    pub communes: Vec<(String, String)>,
    pub kinds: Vec<KindOption>,
    pub may_filter_commune: bool,
    pub subtitle: String,
    pub figures: Vec<(&'static str, String)>,
    pub by_commune: Vec<BreakdownLine>,
    pub by_kind: Vec<BreakdownLine>,
    pub by_form: Vec<BreakdownLine>,
    pub total: BreakdownLine,
    pub charts: Vec<Chart>,
    pub short: Vec<report::Short>,
    pub list: Vec<ListLine>,
    pub list_total: usize,
    pub page: usize,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
}

impl SummaryPage {
    pub fn sel(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
}

const LIST_PAGE: usize = 100;

pub async fn summary(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<SummaryPage> {
    let page = nonblank(&p.trang)
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000);
    let window = Rows::Window {
        offset: ((page - 1) * LIST_PAGE) as i64,
        limit: LIST_PAGE as i64,
    };
    let (s, f, subtitle) = load_summary(&state, &actor, &p, window).await?;
    let tt = &s.totals;
    let figures = vec![
        ("Cơ quan, đơn vị tham gia", group_thousands(tt.agencies)),
        ("Hộ được đăng ký nhận giúp đỡ", group_thousands(tt.adopted)),
        ("Hộ đã được xã xác nhận", group_thousands(tt.confirmed)),
        ("Giá trị cam kết", format_vnd(tt.pledged)),
        ("Giá trị đã trao", format_vnd(tt.delivered)),
        ("Hộ đạt mức hỗ trợ", group_thousands(tt.reached)),
        ("Nhóm đơn vị cùng giúp", group_thousands(tt.joint_groups)),
        (
            "Hộ ở xã ưu tiên",
            format!(
                "{} ({}% số hộ, {}% giá trị đã trao)",
                group_thousands(tt.priority_households),
                s.priority_share(),
                s.priority_value_share()
            ),
        ),
    ];
    let pages = (tt.confirmed as usize).div_ceil(LIST_PAGE).max(1);
    let link = |n: usize| {
        let mut q = p.clone();
        q.trang = Some(n.to_string());
        format!("/bao-cao{}", {
            let mut pairs = vec![
                ("nam", q.nam.unwrap_or_default()),
                ("xa", q.xa.unwrap_or_default()),
                ("loai", q.loai.unwrap_or_default()),
                ("gop", q.gop.unwrap_or_default()),
            ];
            pairs.push(("trang", n.to_string()));
            query_string(&pairs)
        })
    };
    let list = s
        .list
        .iter()
        .enumerate()
        .map(|(i, a)| ListLine {
            stt: (page - 1) * LIST_PAGE + i + 1,
            agencies: a.agencies.clone(),
            head_name: a.head_name.clone(),
            place: format!("{}, {}", a.village, a.commune),
            form: s.form_label(&a.form),
            quantity: a.quantity.clone(),
            pledged: format_vnd(a.pledged),
            delivered: format_vnd(a.delivered),
            remark: a.remark(),
        })
        .collect();
    let commune_title = if f.merged {
        "Giá trị đã trao so với mức hỗ trợ, theo xã (gộp từ 01/07/2025)"
    } else {
        "Giá trị đã trao so với mức hỗ trợ, theo xã"
    };
    let charts = vec![
        delivered_chart(commune_title, &s.by_commune, s.campaign.target),
        delivered_chart(
            "Giá trị đã trao so với mức hỗ trợ, theo loại đơn vị",
            &s.by_kind,
            s.campaign.target,
        ),
    ];
    let communes = if f.merged {
        crate::db::places::merged_communes(&state.db).await?
    } else {
        crate::db::users::communes_for_select(&state.db).await?
    };
    Ok(SummaryPage {
        query: p.query(),
        campaigns: years_of_campaigns(&state).await?,
        communes,
        kinds: kinds(),
        may_filter_commune: !matches!(actor.scope(), Scope::Commune(_)),
        subtitle,
        figures,
        by_commune: lines(&s.by_commune),
        by_kind: lines(&s.by_kind),
        by_form: lines(&s.by_form),
        total: BreakdownLine {
            label: "Tổng cộng".into(),
            households: group_thousands(tt.confirmed),
            pledged: format_vnd(tt.pledged),
            delivered: format_vnd(tt.delivered),
            reached: group_thousands(tt.reached),
        },
        charts,
        short: s.short.clone(),
        list,
        list_total: s.totals.confirmed as usize,
        page,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
        campaign: s.campaign,
        ctx,
        p,
    })
}

pub(super) fn file_name(kind: &str, year: i32, ext: &str) -> String {
    format!("{kind}-{year}.{ext}")
}

pub async fn summary_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (s, _, subtitle) = load_summary(&state, &actor, &p, Rows::All).await?;
    let name = file_name("bao-cao-tong-hop", s.campaign.year, "xlsx");
    let area = super::area(&state, &of_campaign(s.campaign.id)).await?;
    xlsx_response(name, &area, move || export::summary_tables(&s, &subtitle)).await
}

pub async fn summary_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (s, _, subtitle) = load_summary(&state, &actor, &p, Rows::All).await?;
    let name = file_name("danh-sach-ho", s.campaign.year, "csv");
    csv_response(name, move || export::summary_list(&s, &subtitle)).await
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/print.html")]
pub struct PrintPage {
    pub year: i32,
    pub subtitle: String,
    pub day: String,
    pub month: String,
    pub year_now: String,
    pub s_totals: report::Totals,
    pub pledged: String,
    pub delivered: String,
    pub priority_share: i64,
    pub short: Vec<report::Short>,
    pub list: Vec<ListLine>,
    pub total_pledged: String,
    pub total_delivered: String,
    pub deadline: String,
    pub asset_version: &'static str,
    /// The organiser's words: "HUYỆN BÌNH GIA" atop, "Bình Gia, ngày …".
    pub issuer: String,
    pub place: String,
}

/// A filter naming only the campaign (to find its organiser).
fn of_campaign(campaign: uuid::Uuid) -> crate::report::Filter {
    crate::report::Filter {
        campaign,
        ..Default::default()
    }
}

/// The summary in the official document layout (Nghị định 30/2020/NĐ-CP), to print on A4.
pub async fn summary_print(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<PrintPage> {
    let (s, _, subtitle) = load_summary(&state, &actor, &p, Rows::All).await?;
    let area = super::area(&state, &of_campaign(s.campaign.id)).await?;
    let now = today();
    let list = s
        .list
        .iter()
        .enumerate()
        .map(|(i, a)| ListLine {
            stt: i + 1,
            agencies: a.agencies.clone(),
            head_name: a.head_name.clone(),
            place: format!("{}, {}", a.village, a.commune),
            form: s.form_label(&a.form),
            quantity: a.quantity.clone(),
            pledged: crate::domain::money::group_thousands(a.pledged),
            delivered: crate::domain::money::group_thousands(a.delivered),
            remark: a.remark(),
        })
        .collect();
    Ok(PrintPage {
        year: s.campaign.year,
        subtitle,
        day: now.format("%d").to_string(),
        month: now.format("%m").to_string(),
        year_now: now.format("%Y").to_string(),
        pledged: format_vnd(s.totals.pledged),
        delivered: format_vnd(s.totals.delivered),
        priority_share: s.priority_share(),
        short: s.short.clone(),
        list,
        total_pledged: group_thousands(s.totals.pledged),
        total_delivered: group_thousands(s.totals.delivered),
        deadline: format_date(s.campaign.report_deadline),
        s_totals: s.totals,
        asset_version: crate::web::page::ASSET_VERSION,
        issuer: area.issuer(),
        place: area.place(),
    })
}
