//! A household's deprivation profile (issue #26): the grid of the 6 dimensions per review year on
//! the household page, the status the profile implies beside the official one, the form the
//! commune official or the clerk fills in after the yearly review, the import of the commune's
//! review list, and the advice of which forms of help fit.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::forms::Errors;
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::households::{HouseholdRow, StatusYear};
use crate::db::profiles::{self, ProfileRow};
use crate::domain::labels;
use crate::domain::money::format_vnd;
use crate::domain::poverty::{self, Area, Needs, ProfileInput, Standard};
use crate::domain::roles::{self, Actor, Role};
use crate::import::households::Problem;
use crate::import::profiles::{self as import, Target};

// ----------------------------------------------------------------------------------------------
// The grid

/// One dimension of a review: its indicators short and met.
pub struct DimensionCell {
    pub label: String,
    pub short: Vec<String>,
    pub met: Vec<String>,
}

/// One review year as the pages show it.
pub struct ReviewView {
    pub year: i32,
    pub standard: String,
    pub area: &'static str,
    pub income: String,
    pub line: String,
    pub dimensions: Vec<DimensionCell>,
    pub shortfalls: usize,
    pub implied: &'static str,
    pub official: Option<&'static str>,
    /// Said when the profile's status and the official one differ.
    pub disagreement: Option<String>,
    pub wishes: String,
    pub recorded: String,
}

/// The reviews of a household, oldest first, read under each year's standard, beside the official
/// status of that year: from the status history, or the household's current status (`current`:
/// its year and status) when the history has no row for that year.
pub fn reviews(
    standards: &[Standard],
    rows: &[ProfileRow],
    statuses: &[StatusYear],
    current: (i32, &str),
) -> Vec<ReviewView> {
    let now = StatusYear {
        year: current.0,
        status: current.1.to_string(),
        source: "official".into(),
    };
    rows.iter()
        .filter_map(|r| {
            let s = standards.iter().find(|s| s.code == r.standard_code)?;
            let p = r.profile();
            let implied = s.classify(p.area, p.income_per_person, p.short_of.len());
            let official = statuses
                .iter()
                .find(|st| st.year == r.review_year && st.source == "official")
                .or(Some(&now).filter(|n| n.year == r.review_year));
            let disagreement = official.filter(|o| !implied.agrees_with(&o.status)).map(|o| {
                format!(
                    "Theo hồ sơ rà soát năm {}, hộ là “{}” ({}); tình trạng chính thức của xã là “{}”. \
                     Tình trạng chính thức vẫn là quyết định của xã.",
                    r.review_year,
                    implied.label(),
                    reason(s, &p),
                    labels::household_status(&o.status)
                )
            });
            Some(ReviewView {
                year: r.review_year,
                standard: s.name.clone(),
                area: p.area.label(),
                income: format_vnd(p.income_per_person),
                line: format_vnd(s.income_line(p.area)),
                dimensions: s
                    .dimensions()
                    .into_iter()
                    .map(|(label, inds)| DimensionCell {
                        label: label.to_string(),
                        short: inds
                            .iter()
                            .filter(|i| p.short_of.contains(&i.code))
                            .map(|i| i.label.clone())
                            .collect(),
                        met: inds
                            .iter()
                            .filter(|i| !p.short_of.contains(&i.code))
                            .map(|i| i.label.clone())
                            .collect(),
                    })
                    .collect(),
                shortfalls: p.short_of.len(),
                implied: implied.label(),
                official: official.map(|o| labels::household_status(&o.status)),
                disagreement,
                wishes: p.wishes.clone(),
                recorded: format!(
                    "{} · {}",
                    match r.source.as_str() {
                        "import" => "nhập từ danh sách rà soát",
                        "demo" => "dữ liệu mẫu",
                        _ => "ghi trên trang hộ",
                    },
                    r.recorded_by.clone().unwrap_or_else(|| "hệ thống".into())
                ),
            })
        })
        .collect()
}

/// "thu nhập 1.200.000 đ ≤ 1.500.000 đ, thiếu hụt 2 chỉ số (dưới 3)".
fn reason(s: &Standard, p: &poverty::Profile) -> String {
    let line = s.income_line(p.area);
    let income = if p.income_per_person > line {
        format!(
            "thu nhập {} trên mức {}",
            format_vnd(p.income_per_person),
            format_vnd(line)
        )
    } else {
        format!(
            "thu nhập {} không quá mức {}",
            format_vnd(p.income_per_person),
            format_vnd(line)
        )
    };
    let n = p.short_of.len();
    let short = if n >= s.poor_min_short {
        format!("thiếu hụt {n} chỉ số (từ {} trở lên)", s.poor_min_short)
    } else {
        format!("thiếu hụt {n} chỉ số (dưới {})", s.poor_min_short)
    };
    format!("{income}, {short}")
}

// ----------------------------------------------------------------------------------------------
// Advice

/// One suggested form of help, with the results measured for similar households.
pub struct AdviceLine {
    pub what: &'static str,
    pub because: String,
    /// "7 trên 12 hộ đã thoát nghèo (58 %)", or why there is no figure.
    pub measured: String,
}

/// The forms of help that fit a household's latest review, its needs and wishes (at most five).
pub fn suggestions(
    standards: &[Standard],
    rows: &[ProfileRow],
    h: &HouseholdRow,
) -> Vec<poverty::Suggestion> {
    let latest = rows.last().map(ProfileRow::profile);
    let standard = latest
        .as_ref()
        .and_then(|p| standards.iter().find(|s| s.code == p.standard_code));
    let mut list = poverty::suggest(
        standard,
        latest.as_ref(),
        Needs {
            lacks_capital: h.lacks_capital,
            lacks_land: h.lacks_land,
            lacks_labour: h.lacks_labour,
            lacks_technique: h.lacks_technique,
        },
    );
    list.truncate(5);
    list
}

/// [`suggestions`] with, when `measured`, the escape rate of the households helped that way while
/// short of the same indicators (all the district's counted sponsorships; figures only, no
/// household named).
pub async fn advice(
    state: &AppState,
    h: &HouseholdRow,
    measured: bool,
) -> AppResult<Vec<AdviceLine>> {
    let standards = profiles::standards(&state.db).await?;
    let rows = profiles::of_household(&state.db, h.id).await?;
    let list = suggestions(&standards, &rows, h);
    let results = if measured {
        let pairs: Vec<(String, Vec<String>)> = list
            .iter()
            .map(|s| (s.group.to_string(), s.indicators.clone()))
            .collect();
        crate::report::similar_results(&state.db, &pairs).await?
    } else {
        Vec::new()
    };
    Ok(list
        .into_iter()
        .enumerate()
        .map(|(k, s)| AdviceLine {
            what: s.what,
            because: s.because.join("; "),
            measured: match results.get(k) {
                None if !measured => String::new(),
                _ if s.indicators.is_empty() => {
                    "Chưa đo: gợi ý theo nhu cầu, nguyện vọng của hộ.".into()
                }
                Some(&(observed, escaped)) if observed >= crate::domain::effectiveness::FEW => {
                    format!(
                        "Hộ thiếu hụt tương tự được hỗ trợ hình thức này: {escaped} trên {observed} hộ đã thoát nghèo ({} %).",
                        crate::domain::effectiveness::share(escaped, observed).unwrap_or(0)
                    )
                }
                Some(&(observed, _)) => format!(
                    "Chưa đủ số liệu: mới có {observed} hộ thiếu hụt tương tự được rà soát lại sau khi hỗ trợ hình thức này (cần từ {} hộ).",
                    crate::domain::effectiveness::FEW
                ),
                None => String::new(),
            },
        })
        .collect())
}

// ----------------------------------------------------------------------------------------------
// The form

#[derive(Deserialize, Default)]
pub struct YearParam {
    pub nam: Option<String>,
}

/// The review form as posted (the indicator boxes share one name).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    nam: String,
    khu_vuc: String,
    thu_nhap: String,
    thieu_hut: Vec<String>,
    nguyen_vong: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "households/review.html")]
pub struct ReviewPage {
    pub ctx: Ctx,
    pub household_id: Uuid,
    pub head_name: String,
    pub place: String,
    pub f: ProfileInput,
    pub errors: Errors,
    /// The standard of the year typed (or of the current year), for the boxes.
    pub standard: Option<Standard>,
    pub standards: Vec<Standard>,
}

impl ReviewPage {
    pub fn ticked(&self, code: &str) -> bool {
        self.f.short_of.iter().any(|c| c == code)
    }
    pub fn area_is(&self, a: &str) -> bool {
        Area::parse(&self.f.area).map(Area::as_str) == Some(a)
    }
    pub fn line_of(&self, s: &Standard) -> String {
        format!(
            "{}–{}: nông thôn {}, thành thị {}; hộ nghèo khi thiếu hụt từ {} chỉ số",
            s.first_year,
            s.last_year,
            format_vnd(s.rural_line),
            format_vnd(s.urban_line),
            s.poor_min_short
        )
    }
}

async fn editable(state: &AppState, actor: &Actor, id: &str) -> AppResult<HouseholdRow> {
    let h = super::households::visible_household(state, actor, id).await?;
    if !roles::can_edit_household(actor, &h.commune_code) {
        return Err(AppError::Forbidden);
    }
    if h.merged_into.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(h)
}

fn this_year() -> i32 {
    use chrono::Datelike;
    chrono::Local::now().year()
}

pub async fn form(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<YearParam>,
) -> AppResult<ReviewPage> {
    let h = editable(&state, &actor, &id).await?;
    let standards = profiles::standards(&state.db).await?;
    let year = q
        .nam
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .unwrap_or_else(this_year);
    let existing = profiles::of_household(&state.db, h.id)
        .await?
        .into_iter()
        .find(|r| r.review_year == year);
    let f = match existing {
        Some(r) => ProfileInput {
            review_year: year.to_string(),
            area: r.area.clone(),
            income: crate::domain::money::group_thousands(r.income_per_person),
            short_of: r.short_of.clone(),
            wishes: r.wishes.clone(),
        },
        None => ProfileInput {
            review_year: year.to_string(),
            area: "rural".into(),
            ..ProfileInput::default()
        },
    };
    Ok(page(ctx, &h, f, Errors::default(), standards))
}

fn page(
    ctx: Ctx,
    h: &HouseholdRow,
    f: ProfileInput,
    errors: Errors,
    standards: Vec<Standard>,
) -> ReviewPage {
    let year = f
        .review_year
        .trim()
        .parse::<i32>()
        .unwrap_or_else(|_| this_year());
    let standard = poverty::standard_for(&standards, year)
        .ok()
        .or_else(|| standards.last())
        .cloned();
    ReviewPage {
        ctx,
        household_id: h.id,
        head_name: h.head_name.clone(),
        place: format!("{}, {}", h.village_name, h.commune_name),
        f,
        errors,
        standard,
        standards,
    }
}

pub async fn save(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    session: Session,
    Path(id): Path<String>,
    axum_extra::extract::Form(form): axum_extra::extract::Form<ReviewForm>,
) -> AppResult<Response> {
    let h = editable(&state, &actor, &id).await?;
    let standards = profiles::standards(&state.db).await?;
    let input = ProfileInput {
        review_year: form.nam,
        area: form.khu_vuc,
        income: form.thu_nhap,
        short_of: form.thieu_hut,
        wishes: form.nguyen_vong,
    };
    match input.parse(&standards) {
        Err(errs) => {
            let mut errors = Errors::default();
            for (field, m) in errs {
                errors.0.entry(field).or_insert(m);
            }
            let p = page(ctx, &h, input, errors, standards);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Ok(profile) => {
            profiles::save(&state.db, &By::from(&actor), h.id, &profile).await?;
            let s = poverty::standard_for(&standards, profile.review_year)
                .map_err(|_| AppError::NotFound)?;
            let implied = s.classify(
                profile.area,
                profile.income_per_person,
                profile.short_of.len(),
            );
            flash(
                &session,
                "ok",
                format!(
                    "Đã lưu kết quả rà soát năm {} của hộ {}: theo {} là {}.",
                    profile.review_year,
                    h.head_name,
                    s.name,
                    implied.label().to_lowercase()
                ),
            )
            .await;
            Ok(Redirect::to(&format!("/ho/{}#ra-soat", h.id)).into_response())
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The import of a commune's review list

#[derive(Template, WebTemplate)]
#[template(path = "households/review_import.html")]
pub struct ImportPage {
    pub ctx: Ctx,
    pub year: String,
    pub area: String,
    pub dry_run: bool,
    pub error: String,
    pub problems: Vec<Problem>,
    /// (line, head of household, income, shortfalls, implied status)
    pub rows: Vec<(usize, String, String, usize, &'static str)>,
    pub saved: bool,
    pub checked: bool,
    pub layout: String,
    pub standards: Vec<Standard>,
}

fn import_page(ctx: Ctx, standards: Vec<Standard>) -> ImportPage {
    ImportPage {
        ctx,
        year: this_year().to_string(),
        area: "rural".into(),
        dry_run: true,
        error: String::new(),
        problems: Vec::new(),
        rows: Vec::new(),
        saved: false,
        checked: false,
        layout: String::new(),
        standards,
    }
}

pub async fn import_form(
    State(state): State<AppState>,
    CurrentUser(_actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<ImportPage> {
    Ok(import_page(ctx, profiles::standards(&state.db).await?))
}

pub async fn import_upload(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut p = import_page(ctx, profiles::standards(&state.db).await?);
    p.dry_run = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name().unwrap_or("") {
            "nam" => p.year = field.text().await.unwrap_or_default().trim().to_string(),
            "khu_vuc" => p.area = field.text().await.unwrap_or_default(),
            "chi_kiem_tra" => {
                p.dry_run = !field.text().await.unwrap_or_default().is_empty();
            }
            "tep" => {
                let name = field.file_name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => {
                        p.error =
                            "Không nhận được tệp (tệp quá lớn hoặc đường truyền bị ngắt).".into()
                    }
                }
            }
            _ => {}
        }
    }
    let reply = |p: ImportPage| -> AppResult<Response> {
        if !p.error.is_empty() || !p.problems.is_empty() {
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
        Ok(p.into_response())
    };
    let year = match p.year.parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => y,
        _ => {
            p.error = "Năm rà soát: hãy ghi năm, ví dụ 2025.".into();
            return reply(p);
        }
    };
    let Some(area) = Area::parse(&p.area) else {
        p.error = "Khu vực: chọn nông thôn hoặc thành thị.".into();
        return reply(p);
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        if p.error.is_empty() {
            p.error = "Hãy chọn tệp danh sách rà soát (.xlsx hoặc .csv).".into();
        }
        return reply(p);
    };
    let table = match crate::import::read_table(&bytes, &name) {
        Ok(t) => t,
        Err(m) => {
            p.error = m;
            return reply(p);
        }
    };
    let target = Target {
        review_year: year,
        default_area: area,
        only_commune: match actor.role {
            Role::Commune => actor.commune_code.clone(),
            _ => None,
        },
    };
    let checked = match import::check(&state.db, &table, &target).await? {
        Ok(c) => c,
        Err(m) => {
            p.error = m;
            return reply(p);
        }
    };
    p.checked = true;
    p.layout = checked.layout.header_label();
    p.problems = checked.problems.clone();
    p.rows = checked
        .rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.head_name.clone(),
                format_vnd(r.profile.income_per_person),
                r.profile.short_of.len(),
                r.implied.label(),
            )
        })
        .collect();
    if checked.rows.is_empty() && checked.problems.is_empty() {
        p.error = "Tệp không có dòng hộ nào dưới dòng tiêu đề.".into();
        return reply(p);
    }
    if checked.ok() && !p.dry_run {
        import::commit(&state.db, &By::from(&actor), &checked, &name).await?;
        p.saved = true;
    }
    reply(p)
}

/// The review list to fill in, in the official layout, for the year asked (this year by default).
pub async fn import_template(
    State(state): State<AppState>,
    CurrentUser(_actor): CurrentUser,
    Query(q): Query<YearParam>,
) -> AppResult<Response> {
    let standards = profiles::standards(&state.db).await?;
    let year = q
        .nam
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .unwrap_or_else(this_year);
    let s = poverty::standard_for(&standards, year)
        .map_err(|_| AppError::NotFound)?
        .clone();
    let bytes = import::template_xlsx(&s, year).map_err(|e| AppError::Other(e.into()))?;
    Ok(super::download::download(
        bytes,
        &format!("danh-sach-ra-soat-{year}.xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}
