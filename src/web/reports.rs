//! Report pages (issue #7): the district summary with its charts, its spreadsheet and CSV, and
//! its print page in the official layout; the per-agency results; the multi-year view. Every
//! handler reads the user's scope, so a user exports only what they may see.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::AppState;
use super::agencies::{KindOption, kinds};
use super::download::{csv_response, xlsx_response};
use super::error::{AppError, AppResult};
use super::forms::{nonblank, query_string};
use super::page::{Ctx, CurrentUser};
use crate::domain::dates::{format_date, today};
use crate::domain::labels;
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::{Actor, Scope};
use crate::report::export;
use crate::report::{self, AgencyRow, CampaignInfo, Filter, Rows, Summary, YearRow, percent};

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    pub nam: Option<String>,
    pub xa: Option<String>,
    pub loai: Option<String>,
    pub gop: Option<String>,
    pub trang: Option<String>,
}

impl Params {
    /// The query string of the filters, for links to the other formats.
    pub fn query(&self) -> String {
        query_string(&[
            ("nam", self.nam.clone().unwrap_or_default()),
            ("xa", self.xa.clone().unwrap_or_default()),
            ("loai", self.loai.clone().unwrap_or_default()),
            ("gop", self.gop.clone().unwrap_or_default()),
        ])
    }
}

/// The years there are campaigns for, newest first (the campaign selector).
pub(super) async fn years_of_campaigns(state: &AppState) -> AppResult<Vec<i32>> {
    Ok(crate::db::campaigns::years(&state.db).await?)
}

/// The campaign asked for (by year), or the current one.
async fn chosen_campaign(state: &AppState, p: &Params) -> AppResult<CampaignInfo> {
    let year = match nonblank(&p.nam).and_then(|y| y.parse::<i32>().ok()) {
        Some(y) => y,
        None => {
            crate::db::campaigns::current(&state.db)
                .await?
                .ok_or(AppError::NotFound)?
                .year
        }
    };
    report::campaign_by_year(&state.db, year)
        .await?
        .ok_or(AppError::NotFound)
}

fn filter(actor: &Actor, p: &Params, campaign: &CampaignInfo) -> Filter {
    let kind = nonblank(&p.loai).filter(|k| kinds().iter().any(|o| o.code == k));
    // A commune official's scope already limits the rows to their commune.
    let commune = match actor.scope() {
        Scope::Commune(_) => None,
        _ => nonblank(&p.xa).filter(|c| c.len() == 5 && c.chars().all(|d| d.is_ascii_digit())),
    };
    Filter {
        campaign: campaign.id,
        commune,
        kind,
        merged: p.gop.as_deref() == Some("1"),
    }
}

/// The report's scope and filters in words (the subtitle of every format).
pub(super) async fn describe(state: &AppState, actor: &Actor, f: &Filter) -> AppResult<String> {
    let mut parts = Vec::new();
    match actor.scope() {
        Scope::Agency(a) => parts.push(
            crate::db::agencies::name(&state.db, a)
                .await?
                .unwrap_or_default(),
        ),
        Scope::Commune(c) => parts.push(
            crate::db::agencies::commune_name(&state.db, &c)
                .await?
                .unwrap_or_default(),
        ),
        _ => parts.push("Toàn huyện".into()),
    }
    if let Some(c) = &f.commune {
        let name = if f.merged {
            crate::db::places::merged_commune_name(&state.db, c).await?
        } else {
            crate::db::agencies::commune_name(&state.db, c).await?
        };
        parts.push(name.unwrap_or_else(|| c.clone()));
    }
    if let Some(k) = &f.kind {
        parts.push(labels::agency_kind(k).to_string());
    }
    if f.merged {
        parts.push("xã gộp theo địa giới từ 01/07/2025".into());
    }
    Ok(format!("Phạm vi: {}", parts.join(" · ")))
}

async fn load_summary(
    state: &AppState,
    actor: &Actor,
    p: &Params,
    rows: Rows,
) -> AppResult<(Summary, Filter, String)> {
    let campaign = chosen_campaign(state, p).await?;
    let f = filter(actor, p, &campaign);
    let s = report::summary(&state.db, &f, &actor.scope(), rows)
        .await?
        .ok_or(AppError::NotFound)?;
    let subtitle = describe(state, actor, &f).await?;
    Ok((s, f, subtitle))
}

// ----------------------------------------------------------------------------------------------
// Charts: server-rendered SVG bars with their numbers as text

pub struct Bar {
    pub label: String,
    /// 0–100, for the bar's length.
    pub pct: i64,
    pub text: String,
    pub y: i64,
}

pub struct Chart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: i64,
}

impl Chart {
    fn new(title: &str, items: Vec<(String, i64, i64, String)>) -> Chart {
        let bars: Vec<Bar> = items
            .into_iter()
            .enumerate()
            .map(|(i, (label, part, whole, text))| Bar {
                label,
                pct: percent(part, whole).clamp(0, 100),
                text,
                y: i as i64 * 26,
            })
            .collect();
        Chart {
            title: title.to_string(),
            height: bars.len() as i64 * 26 + 4,
            bars,
        }
    }
    /// The whole chart in words, for screen readers.
    pub fn describe(&self) -> String {
        self.bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.text))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Delivered value against the target for the confirmed households of each group.
fn delivered_chart(title: &str, rows: &[report::Breakdown], target: i64) -> Chart {
    Chart::new(
        title,
        rows.iter()
            .map(|b| {
                let goal = b.households.saturating_mul(target);
                (
                    b.label.clone(),
                    b.delivered,
                    goal,
                    format!(
                        "{}% ({} / {})",
                        percent(b.delivered, goal),
                        format_vnd(b.delivered),
                        format_vnd(goal)
                    ),
                )
            })
            .collect(),
    )
}

// ----------------------------------------------------------------------------------------------
// District summary

pub struct ListLine {
    pub stt: usize,
    pub agencies: String,
    pub head_name: String,
    pub place: String,
    pub form: &'static str,
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
            form: labels::support_form(&a.form),
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

fn file_name(kind: &str, year: i32, ext: &str) -> String {
    format!("{kind}-{year}.{ext}")
}

pub async fn summary_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (s, _, subtitle) = load_summary(&state, &actor, &p, Rows::All).await?;
    let name = file_name("bao-cao-tong-hop", s.campaign.year, "xlsx");
    xlsx_response(name, move || export::summary_tables(&s, &subtitle)).await
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
}

/// The summary in the official document layout (Nghị định 30/2020/NĐ-CP), to print on A4.
pub async fn summary_print(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<PrintPage> {
    let (s, _, subtitle) = load_summary(&state, &actor, &p, Rows::All).await?;
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
            form: labels::support_form(&a.form),
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
        asset_version: super::page::ASSET_VERSION,
    })
}

// ----------------------------------------------------------------------------------------------
// Per-agency results

pub struct AgencyLine {
    pub name: String,
    pub kind: &'static str,
    pub quota: String,
    pub rule: String,
    pub adopted: i64,
    pub confirmed: i64,
    pub counted: i64,
    pub met: bool,
    pub delivered: String,
    pub visits: i64,
    pub evaluation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/agencies.html")]
pub struct AgenciesPage {
    pub ctx: Ctx,
    pub p: Params,
    pub query: String,
    pub year: i32,
    pub campaigns: Vec<i32>,
    pub kinds: Vec<KindOption>,
    pub subtitle: String,
    pub lines: Vec<AgencyLine>,
    pub met: usize,
    pub total_delivered: String,
    pub total_visits: i64,
    pub chart: Chart,
}

impl AgenciesPage {
    pub fn sel(&self, v: &Option<String>, option: &str) -> bool {
        v.as_deref() == Some(option)
    }
}

async fn load_agencies(
    state: &AppState,
    actor: &Actor,
    p: &Params,
) -> AppResult<(CampaignInfo, Vec<AgencyRow>, String)> {
    let campaign = chosen_campaign(state, p).await?;
    let f = filter(actor, p, &campaign);
    let rows =
        report::agency_results(&state.db, campaign.id, f.kind.as_deref(), &actor.scope()).await?;
    let subtitle = describe(
        state,
        actor,
        &Filter {
            commune: None,
            merged: false,
            ..f
        },
    )
    .await?;
    Ok((campaign, rows, subtitle))
}

pub async fn agencies(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<AgenciesPage> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    // Quota progress by agency kind: households counted against households expected.
    let mut by_kind: Vec<(String, i64, i64)> = Vec::new();
    for r in &rows {
        let label = labels::agency_kind(&r.kind).to_string();
        let expected = i64::from(r.quota().households);
        let counted = r.counted().min(expected);
        match by_kind.iter_mut().find(|k| k.0 == label) {
            Some(k) => {
                k.1 += counted;
                k.2 += expected;
            }
            None => by_kind.push((label, counted, expected)),
        }
    }
    let chart = Chart::new(
        "Tiến độ chỉ tiêu theo loại đơn vị (hộ được tính / hộ theo chỉ tiêu)",
        by_kind
            .into_iter()
            .map(|(l, c, e)| (l, c, e, format!("{c}/{e} hộ")))
            .collect(),
    );
    let lines = rows
        .iter()
        .map(|r| {
            let q = r.quota();
            AgencyLine {
                name: r.name.clone(),
                kind: labels::agency_kind(&r.kind),
                quota: if q.joint {
                    "01 (nhóm)".into()
                } else {
                    format!("{:02}", q.households)
                },
                rule: q.rule,
                adopted: r.adopted,
                confirmed: r.confirmed,
                counted: r.counted(),
                met: r.met(),
                delivered: format_vnd(r.delivered),
                visits: r.visits,
                evaluation: if r.visits == 0 {
                    String::new()
                } else {
                    format!(
                        "{} hiệu quả, {} một phần, {} chưa",
                        r.effective, r.partly, r.not_effective
                    )
                },
            }
        })
        .collect();
    Ok(AgenciesPage {
        query: p.query(),
        year: campaign.year,
        campaigns: years_of_campaigns(&state).await?,
        kinds: kinds(),
        subtitle,
        met: rows.iter().filter(|r| r.met()).count(),
        total_delivered: format_vnd(rows.iter().map(|r| r.delivered).sum()),
        total_visits: rows.iter().map(|r| r.visits).sum(),
        lines,
        chart,
        ctx,
        p,
    })
}

pub async fn agencies_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    xlsx_response(
        file_name("ket-qua-don-vi", campaign.year, "xlsx"),
        move || {
            vec![(
                "Kết quả đơn vị",
                export::agencies_table(&rows, campaign.year, &subtitle),
            )]
        },
    )
    .await
}

pub async fn agencies_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (campaign, rows, subtitle) = load_agencies(&state, &actor, &p).await?;
    let name = file_name("ket-qua-don-vi", campaign.year, "csv");
    csv_response(name, move || {
        export::agencies_table(&rows, campaign.year, &subtitle)
    })
    .await
}

// ----------------------------------------------------------------------------------------------
// Multi-year view

pub struct YearLine {
    pub year: i32,
    pub helped: i64,
    pub delivered: String,
    pub near_poor: i64,
    pub escaped: i64,
    pub share: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/years.html")]
pub struct YearsPage {
    pub ctx: Ctx,
    pub subtitle: String,
    pub lines: Vec<YearLine>,
    pub chart: Chart,
    pub total_helped: i64,
    pub total_escaped: i64,
}

async fn load_years(state: &AppState, actor: &Actor) -> AppResult<(Vec<YearRow>, String)> {
    let rows = report::years(&state.db, &actor.scope()).await?;
    let subtitle = describe(state, actor, &Filter::default()).await?;
    Ok((rows, subtitle))
}

pub async fn years(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<YearsPage> {
    let (rows, subtitle) = load_years(&state, &actor).await?;
    let chart = Chart::new(
        "Hộ được giúp đỡ mỗi năm đã thoát nghèo về sau",
        rows.iter()
            .map(|r| {
                (
                    r.year.to_string(),
                    r.escaped_later,
                    r.helped,
                    format!(
                        "{}/{} hộ ({}%)",
                        r.escaped_later,
                        r.helped,
                        percent(r.escaped_later, r.helped)
                    ),
                )
            })
            .collect(),
    );
    Ok(YearsPage {
        ctx,
        subtitle,
        total_helped: rows.iter().map(|r| r.helped).sum(),
        total_escaped: rows.iter().map(|r| r.escaped_later).sum(),
        lines: rows
            .iter()
            .map(|r| YearLine {
                year: r.year,
                helped: r.helped,
                delivered: format_vnd(r.delivered),
                near_poor: r.near_poor_later,
                escaped: r.escaped_later,
                share: percent(r.escaped_later, r.helped),
            })
            .collect(),
        chart,
    })
}

pub async fn years_csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> AppResult<Response> {
    let (rows, subtitle) = load_years(&state, &actor).await?;
    csv_response("nhieu-nam.csv".into(), move || {
        export::years_table(&rows, &subtitle)
    })
    .await
}

pub async fn years_xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> AppResult<Response> {
    let (rows, subtitle) = load_years(&state, &actor).await?;
    xlsx_response("nhieu-nam.xlsx".into(), move || {
        vec![("Qua các năm", export::years_table(&rows, &subtitle))]
    })
    .await
}
