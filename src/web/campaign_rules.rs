//! Issue #28: a campaign's rule table and forms of support, edited by a clerk on one page with a
//! preview of every agency's quota before saving; next year's campaign made by copying this one.

use std::collections::BTreeSet;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::page::{Ctx, CurrentUser, flash};
use crate::db::agencies::{self, QuotaRow};
use crate::db::audit::By;
use crate::db::campaign_rules::{self, RulesDraft, SupportForm};
use crate::db::campaigns::{self, CopyRefused};
use crate::domain::labels;
use crate::domain::quota::{self, AgencyFacts, Quota, Rule, RuleTable};
use crate::domain::sponsorship::FORMS;

/// Rows for new rules offered below the table.
const BLANK_RULES: usize = 2;

/// One rule as typed (`r{i}_…` fields).
#[derive(Debug, Clone, Default)]
pub struct RuleForm {
    pub order: String,
    pub kinds: Vec<String>,
    pub below: String,
    pub at_least: String,
    pub named_on: bool,
    pub named: Vec<String>,
    pub min: String,
    pub max: String,
    pub group_min: String,
    pub group_max: String,
    pub wording: String,
    pub drop: bool,
}

impl RuleForm {
    fn from_rule(i: usize, r: &Rule) -> RuleForm {
        let n = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        RuleForm {
            order: (i + 1).to_string(),
            kinds: r.kinds.clone(),
            below: n(r.staff_below),
            at_least: n(r.staff_at_least),
            named_on: r.named.is_some(),
            named: r.named.iter().flatten().map(|id| id.to_string()).collect(),
            min: r.households_min.to_string(),
            max: n(r.households_max),
            group_min: n(r.group.map(|g| g.0)),
            group_max: n(r.group.map(|g| g.1)),
            wording: r.wording.clone(),
            drop: false,
        }
    }

    fn is_blank(&self) -> bool {
        self.kinds.is_empty()
            && [
                &self.below,
                &self.at_least,
                &self.min,
                &self.max,
                &self.group_min,
                &self.group_max,
                &self.wording,
            ]
            .iter()
            .all(|s| s.trim().is_empty())
            && !self.named_on
    }

    pub fn has_kind(&self, code: &str) -> bool {
        self.kinds.iter().any(|k| k == code)
    }
    pub fn names(&self, id: &Uuid) -> bool {
        let id = id.to_string();
        self.named.contains(&id)
    }
}

/// One form of support as typed (`f_{code}_…` fields).
#[derive(Debug, Clone, Default)]
pub struct FormRow {
    pub form: String,
    pub offered: bool,
    pub order: String,
    pub label: String,
    pub group: String,
}

#[derive(Debug, Clone, Default)]
pub struct RulesForm {
    pub rules: Vec<RuleForm>,
    pub forms: Vec<FormRow>,
    pub preview: bool,
}

fn number(s: &str, what: &str, n: usize, out: &mut Vec<String>) -> Option<i32> {
    let t = s.trim().replace('.', "");
    if t.is_empty() {
        return None;
    }
    match t.parse::<i32>() {
        Ok(v) if v >= 0 => Some(v),
        _ => {
            let shown: String = s.trim().chars().take(12).collect();
            out.push(format!(
                "Quy tắc {n}: {what} phải là số nguyên (đang là “{shown}”)."
            ));
            None
        }
    }
}

impl RulesForm {
    fn from_saved(d: &RulesDraft) -> RulesForm {
        let mut rules: Vec<RuleForm> = d
            .rules
            .0
            .iter()
            .enumerate()
            .map(|(i, r)| RuleForm::from_rule(i, r))
            .collect();
        rules.extend((0..BLANK_RULES).map(|_| RuleForm::default()));
        let forms = FORMS
            .iter()
            .map(|code| {
                let saved = d.forms.iter().position(|f| f.form == *code);
                match saved {
                    Some(p) => FormRow {
                        form: code.to_string(),
                        offered: true,
                        order: (p + 1).to_string(),
                        label: d.forms[p].label.clone(),
                        group: d.forms[p].report_group.clone(),
                    },
                    None => FormRow {
                        form: code.to_string(),
                        offered: false,
                        order: String::new(),
                        label: labels::support_form(code).to_string(),
                        group: labels::support_form(code).to_string(),
                    },
                }
            })
            .collect();
        RulesForm {
            rules,
            forms,
            preview: false,
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> RulesForm {
        let mut f = RulesForm::default();
        let mut rules: std::collections::BTreeMap<usize, RuleForm> = Default::default();
        let mut forms: std::collections::BTreeMap<String, FormRow> = Default::default();
        for (k, v) in pairs {
            if k == "xem_truoc" {
                f.preview = true;
            } else if let Some(rest) = k.strip_prefix('r')
                && let Some((i, field)) = rest.split_once('_')
                && let Ok(i) = i.parse::<usize>()
                && i < 50
            {
                let r = rules.entry(i).or_default();
                match field {
                    "order" => r.order = v,
                    "kind" => r.kinds.push(v),
                    "below" => r.below = v,
                    "atleast" => r.at_least = v,
                    "namedon" => r.named_on = true,
                    "named" => r.named.push(v),
                    "min" => r.min = v,
                    "max" => r.max = v,
                    "gmin" => r.group_min = v,
                    "gmax" => r.group_max = v,
                    "wording" => r.wording = v,
                    "drop" => r.drop = true,
                    _ => {}
                }
            } else if let Some(rest) = k.strip_prefix("f_")
                && let Some((code, field)) = rest.rsplit_once('_')
                && FORMS.contains(&code)
            {
                let row = forms.entry(code.to_string()).or_insert_with(|| FormRow {
                    form: code.to_string(),
                    ..FormRow::default()
                });
                match field {
                    "on" => row.offered = true,
                    "order" => row.order = v,
                    "label" => row.label = v,
                    "group" => row.group = v,
                    _ => {}
                }
            }
        }
        f.rules = rules.into_values().collect();
        f.forms = FORMS
            .iter()
            .map(|c| {
                forms.remove(*c).unwrap_or_else(|| FormRow {
                    form: c.to_string(),
                    ..FormRow::default()
                })
            })
            .collect();
        f
    }

    /// The draft, or every fault in Vietnamese (each naming its rule or form).
    pub fn parse(
        &self,
        agencies: &[(Uuid, String)],
        name_of: impl Fn(Uuid) -> String,
    ) -> Result<RulesDraft, Vec<String>> {
        let mut faults = Vec::new();
        let mut ordered: Vec<(f64, usize, Rule)> = Vec::new();
        let mut n = 0;
        for (i, r) in self.rules.iter().enumerate() {
            if r.drop || r.is_blank() {
                continue;
            }
            n += 1;
            let order = r.order.trim().parse::<f64>().unwrap_or(1000.0 + i as f64);
            let staff_below = number(&r.below, "“dưới … biên chế”", n, &mut faults);
            let staff_at_least = number(&r.at_least, "“từ … biên chế”", n, &mut faults);
            let households_min = number(&r.min, "số hộ tối thiểu", n, &mut faults);
            if households_min.is_none() && r.min.trim().is_empty() {
                faults.push(format!("Quy tắc {n}: hãy ghi số hộ tối thiểu."));
            }
            let households_max = number(&r.max, "số hộ tối đa", n, &mut faults);
            let gmin = number(&r.group_min, "số đơn vị trong nhóm", n, &mut faults);
            let gmax = number(&r.group_max, "số đơn vị trong nhóm", n, &mut faults);
            let group = match (gmin, gmax) {
                (None, None) => None,
                (Some(a), None) => Some((a, a)),
                (None, Some(b)) => Some((b, b)),
                (Some(a), Some(b)) => Some((a, b)),
            };
            let mut named = None;
            if r.named_on {
                let mut list = BTreeSet::new();
                for id in &r.named {
                    match id.parse::<Uuid>() {
                        Ok(id) if agencies.iter().any(|(a, _)| *a == id) => {
                            list.insert(id);
                        }
                        _ => faults.push(format!(
                            "Quy tắc {n}: danh sách nêu tên có đơn vị không còn trong danh bạ."
                        )),
                    }
                }
                named = Some(list);
            }
            ordered.push((
                order,
                i,
                Rule {
                    kinds: r.kinds.clone(),
                    staff_below,
                    staff_at_least,
                    named,
                    households_min: households_min.unwrap_or(0),
                    households_max,
                    group,
                    wording: crate::domain::text::clean(&r.wording),
                },
            ));
        }
        ordered.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let table = RuleTable(ordered.into_iter().map(|(_, _, r)| r).collect());
        if faults.is_empty() {
            faults.extend(table.faults(name_of));
        }

        let mut forms: Vec<(f64, SupportForm)> = Vec::new();
        for (i, row) in self.forms.iter().enumerate() {
            if !row.offered {
                continue;
            }
            let label = crate::domain::text::clean(&row.label);
            let group = crate::domain::text::clean(&row.group);
            let shown = labels::support_form(&row.form);
            if label.is_empty() || label.chars().count() > 80 {
                faults.push(format!(
                    "Hình thức “{shown}”: hãy ghi tên hiển thị (tối đa 80 ký tự)."
                ));
            }
            if group.is_empty() || group.chars().count() > 80 {
                faults.push(format!(
                    "Hình thức “{shown}”: hãy ghi nhóm trong báo cáo (tối đa 80 ký tự)."
                ));
            }
            let order = row.order.trim().parse::<f64>().unwrap_or(100.0 + i as f64);
            forms.push((
                order,
                SupportForm {
                    form: row.form.clone(),
                    label,
                    report_group: group,
                },
            ));
        }
        if forms.is_empty() {
            faults.push("Hãy chọn ít nhất một hình thức hỗ trợ cho đợt vận động.".into());
        }
        forms.sort_by(|a, b| a.0.total_cmp(&b.0));
        if faults.is_empty() {
            Ok(RulesDraft {
                rules: table,
                forms: forms.into_iter().map(|(_, f)| f).collect(),
            })
        } else {
            Err(faults)
        }
    }
}

/// One agency in the preview: its quota under the saved rules and under the edited ones.
pub struct PreviewLine {
    pub name: String,
    pub kind: &'static str,
    pub staff: i32,
    pub before: String,
    pub after: String,
    pub rule: String,
    pub changed: bool,
    pub overridden: bool,
}

pub struct Preview {
    pub lines: Vec<PreviewLine>,
    pub changed: usize,
}

fn same(a: &Quota, b: &Quota) -> bool {
    (a.households, a.households_max, a.joint) == (b.households, b.households_max, b.joint)
}

/// Every agency's quota under `rules` beside the one in force (clerk overrides win in both).
pub fn preview(rows: &[QuotaRow], rules: &RuleTable) -> Preview {
    let lines: Vec<PreviewLine> = rows
        .iter()
        .map(|r| {
            let now = r.quota();
            let facts = AgencyFacts {
                id: r.id,
                kind: &r.kind,
                staff_count: r.staff_count,
            };
            let next = quota::effective(
                rules,
                facts,
                r.override_quota
                    .map(|q| (q, r.override_reason.as_deref().unwrap_or(""))),
            );
            PreviewLine {
                name: r.name.clone(),
                kind: labels::agency_kind(&r.kind),
                staff: r.staff_count,
                before: now.label(),
                after: next.label(),
                rule: next.rule.clone(),
                changed: !same(&now, &next),
                overridden: next.overridden,
            }
        })
        .collect();
    let changed = lines.iter().filter(|l| l.changed).count();
    Preview { lines, changed }
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/rules.html")]
pub struct RulesPage {
    pub ctx: Ctx,
    pub id: Uuid,
    pub year: i32,
    pub campaign_name: String,
    pub f: RulesForm,
    pub faults: Vec<String>,
    pub kinds: &'static [(&'static str, &'static str)],
    pub agencies: Vec<(Uuid, String)>,
    pub preview: Option<Preview>,
}

impl RulesPage {
    pub fn form_label(&self, code: &str) -> &'static str {
        labels::support_form(code)
    }
}

async fn campaign_head(state: &AppState, id: &str) -> AppResult<(Uuid, i32, String)> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let d = campaigns::get_draft(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((id, d.year, d.name))
}

async fn agency_names(state: &AppState) -> AppResult<Vec<(Uuid, String)>> {
    Ok(agencies::names(&state.db).await?)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<RulesPage> {
    let (id, year, campaign_name) = campaign_head(&state, &id).await?;
    let saved = RulesDraft {
        rules: campaign_rules::table(&state.db, id).await?,
        forms: campaign_rules::support_forms(&state.db, id).await?,
    };
    Ok(RulesPage {
        ctx,
        id,
        year,
        campaign_name,
        f: RulesForm::from_saved(&saved),
        faults: Vec::new(),
        kinds: labels::AGENCY_KINDS,
        agencies: agency_names(&state).await?,
        preview: None,
    })
}

/// "Xem trước" shows the preview with the typed table kept; "Lưu" saves (audited) and says how
/// many agencies' quota changed.
pub async fn save(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (id, year, campaign_name) = campaign_head(&state, &id).await?;
    let mut f = RulesForm::from_pairs(pairs);
    let agencies = agency_names(&state).await?;
    let name_of = |id: Uuid| {
        agencies
            .iter()
            .find(|(a, _)| *a == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let parsed = f.parse(&agencies, name_of);
    let (faults, preview) = match parsed {
        Err(faults) => (faults, None),
        Ok(draft) => {
            let rows = agencies::list_with_quota(&state.db, id, None).await?;
            let p = preview(&rows, &draft.rules);
            if !f.preview {
                return match campaign_rules::save(&state.db, &By::from(&actor), id, &draft).await? {
                    None => Err(AppError::NotFound),
                    Some(()) => {
                        flash(
                            &session,
                            "ok",
                            format!(
                                "Đã lưu quy tắc đợt vận động năm {year}: {} đơn vị thay đổi số hộ phải giúp.",
                                p.changed
                            ),
                        )
                        .await;
                        Ok(Redirect::to(&format!("/dot-van-dong/{id}/quy-tac")).into_response())
                    }
                };
            }
            (Vec::new(), Some(p))
        }
    };
    // Keep blank rows to add to after a refused save or a preview.
    let blanks = f.rules.iter().rev().take_while(|r| r.is_blank()).count();
    f.rules
        .extend((blanks..BLANK_RULES).map(|_| RuleForm::default()));
    let status = if faults.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RulesPage {
        ctx,
        id,
        year,
        campaign_name,
        f,
        faults,
        kinds: labels::AGENCY_KINDS,
        agencies,
        preview,
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns/copy.html")]
pub struct CopyPage {
    pub ctx: Ctx,
    pub id: Uuid,
    pub source_year: i32,
    pub source_name: String,
    pub year: String,
    pub error: String,
}

pub async fn copy_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<CopyPage> {
    let (id, source_year, source_name) = campaign_head(&state, &id).await?;
    Ok(CopyPage {
        ctx,
        id,
        source_year,
        source_name,
        year: (source_year + 1).to_string(),
        error: String::new(),
    })
}

#[derive(serde::Deserialize)]
pub struct CopyInput {
    #[serde(default)]
    pub year: String,
}

pub async fn copy(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(input): axum::Form<CopyInput>,
) -> AppResult<Response> {
    let (id, source_year, source_name) = campaign_head(&state, &id).await?;
    let error = match input.year.trim().parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => {
            match campaigns::copy(&state.db, &By::from(&actor), id, y).await? {
                Ok(new) => {
                    flash(
                        &session,
                        "ok",
                        format!(
                            "Đã tạo đợt vận động năm {y} từ năm {source_year}: xem lại quy tắc, xem trước số hộ từng đơn vị rồi lưu."
                        ),
                    )
                    .await;
                    return Ok(
                        Redirect::to(&format!("/dot-van-dong/{new}/quy-tac")).into_response()
                    );
                }
                Err(CopyRefused::NoSource) => return Err(AppError::NotFound),
                Err(CopyRefused::YearTaken(name)) if name.is_empty() => {
                    format!("Đã có đợt vận động năm {y}: không sao chép đè lên.")
                }
                Err(CopyRefused::YearTaken(name)) => {
                    format!(
                        "Đã có đợt vận động năm {y} (“{name}”): không sao chép đè lên; hãy sửa đợt đó hoặc chọn năm khác."
                    )
                }
            }
        }
        _ => "Năm phải là số từ 2000 đến 2100.".into(),
    };
    let page = CopyPage {
        ctx,
        id,
        source_year,
        source_name,
        year: input.year,
        error,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
