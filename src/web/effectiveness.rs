//! "Hiệu quả theo hình thức hỗ trợ" (issue #18): the page, its `.xlsx` and its CSV, scoped like the
//! other reports (an agency sees its own sponsorships, a commune official its commune's). The
//! three formats render the same figures from `report::effectiveness`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::AppState;
use super::download::{csv_response, xlsx_response};
use super::error::AppResult;
use super::forms::nonblank;
use super::page::{Ctx, CurrentUser};
use super::reports::{describe, years_of_campaigns};
use crate::domain::effectiveness::{self, GroupFigures};
use crate::domain::money::{format_vnd, group_thousands};
use crate::domain::roles::Actor;
use crate::report::{self, Filter, export};

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    /// A campaign year, or empty for all years.
    pub nam: Option<String>,
}

impl Params {
    fn year(&self) -> Option<i32> {
        nonblank(&self.nam).and_then(|y| y.parse().ok())
    }
}

/// One row as the page shows it.
pub struct Line {
    pub label: &'static str,
    pub households: i64,
    pub total: String,
    pub median: String,
    pub after: [String; 3],
    pub escaped: i64,
    pub still_poor: String,
    pub cost: String,
    pub animals: String,
    pub survival: String,
    pub trees: String,
    pub few: bool,
}

fn pct(p: Option<i64>, part: i64, whole: i64) -> String {
    match p {
        Some(p) => format!("{p} % ({part}/{whole})"),
        None => "—".into(),
    }
}

fn line(g: &GroupFigures) -> Line {
    Line {
        label: g.label(),
        households: g.households,
        total: format_vnd(g.delivered_total),
        median: format_vnd(g.delivered_median),
        after: [0, 1, 2].map(|k| pct(g.escaped_share(k + 1), g.escaped[k], g.observed[k])),
        escaped: g.escaped_ever,
        still_poor: pct(g.still_poor_share(), g.still_poor, g.reviewed),
        cost: g.cost_per_escaped().map(format_vnd).unwrap_or("—".into()),
        animals: if g.received + g.born + g.died + g.sold == 0 {
            "—".into()
        } else {
            format!(
                "nhận {}, sinh {}, chết {}, bán {}",
                g.received, g.born, g.died, g.sold
            )
        },
        survival: g
            .survival_share()
            .map(|p| format!("{p} %"))
            .unwrap_or("—".into()),
        trees: if g.trees_surviving == 0 {
            "—".into()
        } else {
            group_thousands(g.trees_surviving)
        },
        few: g.households > 0 && g.few(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "reports/effectiveness.html")]
pub struct EffectivenessPage {
    pub ctx: Ctx,
    pub subtitle: String,
    pub years: Vec<i32>,
    pub year: Option<i32>,
    pub query: String,
    pub lines: Vec<Line>,
    pub reading: Vec<String>,
    /// How the medians were read, when off the value histogram (the district's and a commune's
    /// report): within how much of the true median they are.
    pub median_note: Option<String>,
    /// Issue #26: which deprivations were resolved after the help.
    pub deprivations: Vec<DeprivationLine>,
    /// "Mô hình hiệu quả": for each common profile, the forms of help with the best results.
    pub models: Vec<ModelLine>,
}

/// One indicator of "effectiveness by deprivation".
pub struct DeprivationLine {
    pub label: String,
    pub short_before: i64,
    /// "6/10 (60 %)" of those reviewed again.
    pub resolved: String,
    pub still_short: i64,
    pub escaped: i64,
    /// The form of help that resolved it most often, with its counts; "—" when none has data.
    pub best: String,
    /// Each form's "resolved/reviewed" for this indicator.
    pub by_form: Vec<String>,
}

/// One common profile (the dimensions short before the help) and its best forms of help.
pub struct ModelLine {
    pub profile: String,
    pub households: i64,
    /// Best first: "Con giống (bò, trâu): 6/9 hộ đã thoát nghèo (67 %)", flagged under 10 households.
    pub forms: Vec<(String, bool)>,
}

/// Fold the per-(form, indicator) counts into one line per indicator, in the standard's order.
fn deprivation_lines(
    rows: &[crate::report::effectiveness::DeprivationRow],
    standard: Option<&crate::domain::poverty::Standard>,
) -> Vec<DeprivationLine> {
    let Some(standard) = standard else {
        return Vec::new();
    };
    standard
        .indicators
        .iter()
        .filter_map(|i| {
            let mine: Vec<_> = rows.iter().filter(|r| r.indicator == i.code).collect();
            if mine.is_empty() {
                return None;
            }
            let sum = |f: fn(&crate::report::effectiveness::DeprivationRow) -> i64| -> i64 {
                mine.iter().map(|r| f(r)).sum()
            };
            let (reviewed, resolved) = (sum(|r| r.reviewed_after), sum(|r| r.resolved));
            let mut forms: Vec<_> = mine.iter().filter(|r| r.reviewed_after > 0).collect();
            forms.sort_by_key(|r| {
                (
                    std::cmp::Reverse(r.reviewed_after >= effectiveness::FEW),
                    std::cmp::Reverse(effectiveness::share(r.resolved, r.reviewed_after)),
                    std::cmp::Reverse(r.reviewed_after),
                )
            });
            let form_text = |r: &&&crate::report::effectiveness::DeprivationRow| {
                format!(
                    "{}: {}{}",
                    effectiveness::group_label(&r.grp),
                    pct(
                        effectiveness::share(r.resolved, r.reviewed_after),
                        r.resolved,
                        r.reviewed_after
                    ),
                    if r.reviewed_after < effectiveness::FEW {
                        " (dưới 10 hộ)"
                    } else {
                        ""
                    }
                )
            };
            Some(DeprivationLine {
                label: i.label.clone(),
                short_before: sum(|r| r.short_before),
                resolved: pct(effectiveness::share(resolved, reviewed), resolved, reviewed),
                still_short: sum(|r| r.still_short),
                escaped: sum(|r| r.escaped),
                best: forms.first().map(form_text).unwrap_or_else(|| "—".into()),
                by_form: forms.iter().map(form_text).collect(),
            })
        })
        .collect()
}

/// The common profiles (the set of dimensions short before the help), most households first, each
/// with its forms of help ranked by the share that escaped among those reviewed after.
fn model_lines(
    rows: &[crate::report::effectiveness::ProfileResultRow],
    standard: Option<&crate::domain::poverty::Standard>,
) -> Vec<ModelLine> {
    use std::collections::BTreeMap;
    let Some(standard) = standard else {
        return Vec::new();
    };
    /// (households, reviewed after, escaped) of one form of help.
    type Counts = (i64, i64, i64);
    // profile (indexes of the dimensions short) → form → counts
    let mut by: BTreeMap<Vec<usize>, BTreeMap<String, Counts>> = BTreeMap::new();
    let dims = standard.dimensions();
    for r in rows {
        let key: Vec<usize> = dims
            .iter()
            .enumerate()
            .filter(|(_, (_, inds))| inds.iter().any(|i| r.short_before.contains(&i.code)))
            .map(|(k, _)| k)
            .collect();
        let e = by.entry(key).or_default().entry(r.grp.clone()).or_default();
        e.0 += r.households;
        e.1 += r.reviewed;
        e.2 += r.escaped;
    }
    let mut out: Vec<ModelLine> = by
        .into_iter()
        .map(|(key, forms)| {
            let profile = if key.is_empty() {
                "Không thiếu hụt chiều nào".to_string()
            } else {
                format!(
                    "Thiếu hụt: {}",
                    key.iter()
                        .map(|k| dims[*k].0)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let households = forms.values().map(|f| f.0).sum();
            let mut ranked: Vec<_> = forms.into_iter().filter(|(_, f)| f.1 > 0).collect();
            ranked.sort_by_key(|(_, f)| {
                (
                    std::cmp::Reverse(f.1 >= effectiveness::FEW),
                    std::cmp::Reverse(effectiveness::share(f.2, f.1)),
                    std::cmp::Reverse(f.1),
                )
            });
            ModelLine {
                profile,
                households,
                forms: ranked
                    .into_iter()
                    .take(3)
                    .map(|(g, f)| {
                        (
                            format!(
                                "{}: {}/{} hộ đã thoát nghèo ({} %)",
                                effectiveness::group_label(&g),
                                f.2,
                                f.1,
                                effectiveness::share(f.2, f.1).unwrap_or(0)
                            ),
                            f.1 < effectiveness::FEW,
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.households));
    out.truncate(6);
    out
}

async fn load(
    state: &AppState,
    actor: &Actor,
    p: &Params,
) -> AppResult<(Vec<GroupFigures>, String)> {
    let groups = report::effectiveness(&state.db, &actor.scope(), p.year()).await?;
    let mut subtitle = describe(state, actor, &Filter::default()).await?;
    match p.year() {
        Some(y) => subtitle.push_str(&format!(" · hộ được giúp trong đợt {y}")),
        None => subtitle.push_str(" · hộ được giúp trong mọi đợt"),
    }
    Ok((groups, subtitle))
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> AppResult<EffectivenessPage> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    let scope = actor.scope();
    let standards = crate::db::profiles::standards(&state.db).await?;
    let standard = standards.last();
    let deprivations = deprivation_lines(
        &report::deprivation_effects(&state.db, &scope, p.year()).await?,
        standard,
    );
    let models = model_lines(
        &report::profile_results(&state.db, &scope, p.year()).await?,
        standard,
    );
    Ok(EffectivenessPage {
        deprivations,
        models,
        ctx,
        subtitle,
        years: years_of_campaigns(&state).await?,
        year: p.year(),
        query: p.year().map(|y| format!("?nam={y}")).unwrap_or_default(),
        reading: effectiveness::reading(&groups),
        median_note: groups
            .iter()
            .map(|g| g.median_within)
            .max()
            .filter(|w| *w > 0)
            .map(|w| {
                format!(
                    "Trung vị đọc từ các khoảng giá trị rộng {}: sai khác với trung vị đúng dưới {} (đúng khi số tiền chẵn {}).",
                    format_vnd(w),
                    format_vnd(w),
                    format_vnd(w)
                )
            }),
        lines: groups.iter().map(line).collect(),
    })
}

pub async fn xlsx(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    let deprivations = report::deprivation_effects(&state.db, &actor.scope(), p.year()).await?;
    let standard = crate::db::profiles::standards(&state.db).await?.pop();
    let area = super::reports::area(&state, &Filter::default()).await?;
    xlsx_response("hieu-qua.xlsx".into(), &area, move || {
        vec![
            ("Hiệu quả", export::effectiveness_table(&groups, &subtitle)),
            (
                "Theo thiếu hụt",
                export::deprivation_table(&deprivations, standard.as_ref(), &subtitle),
            ),
        ]
    })
    .await
}

pub async fn csv(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (groups, subtitle) = load(&state, &actor, &p).await?;
    csv_response("hieu-qua.csv".into(), move || {
        export::effectiveness_table(&groups, &subtitle)
    })
    .await
}
