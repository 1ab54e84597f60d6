//! Import of earlier years' sponsorships (2014–2023) from a spreadsheet (issue #6, item 8).
//! Each row names a household the way the old Excel files did — head of household, village,
//! commune, maybe a CCCD — and is matched to the registry through the duplicate engine: a CCCD
//! match is certain; otherwise the certain and probable candidates in the row's commune are taken,
//! and a row with exactly one is matched. Rows with none or several are listed for a person to
//! resolve (choose a household or leave the row out); nothing is written until confirmed, and
//! then everything confirmed is written in one transaction.

use crate::db::constraints;
use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::Table;
use super::households::Problem;
use crate::db::audit::{self, By};
use crate::db::duplicates::{self, Probe};
use crate::domain::duplicates::{Level, Thresholds};
use crate::domain::money::Vnd;
use crate::domain::sponsorship::parse_form;
use crate::domain::spreadsheet::SafeCsv;
use crate::domain::text::normalize_name;

/// (field, header, required)
pub const COLUMNS: &[(&str, &str, bool)] = &[
    ("year", "Năm", true),
    ("agency", "Cơ quan, đơn vị", true),
    ("head_name", "Họ tên chủ hộ", true),
    ("village", "Thôn", true),
    ("commune", "Xã", true),
    ("cccd", "Số CCCD", false),
    ("form", "Hình thức hỗ trợ", false),
    ("support", "Nội dung hỗ trợ", true),
    ("value", "Giá trị (đồng)", true),
];

pub const EXAMPLE: &[&str] = &[
    "2019",
    "Phòng Nông nghiệp và PTNT",
    "Hoàng Văn Thụ",
    "Thôn Nà Pàn",
    "Xã Hoa Thám",
    "",
    "Con giống",
    "01 con bò cái sinh sản",
    "16.000.000",
];

fn field_for_header(h: &str) -> Option<&'static str> {
    let n = normalize_name(h.trim_end_matches("(*)"));
    let alias = match n.as_str() {
        "nam ho tro" | "dot" | "nam giup do" => Some("year"),
        "co quan" | "don vi" | "co quan don vi giup do" | "don vi giup do" => Some("agency"),
        "chu ho" | "ho ten chu ho" | "ten chu ho" => Some("head_name"),
        "thon ban" | "ban" => Some("village"),
        "xa thi tran" | "ma xa" => Some("commune"),
        "cccd" | "so can cuoc" => Some("cccd"),
        "hinh thuc" => Some("form"),
        "noi dung" | "ho tro" => Some("support"),
        "gia tri" | "gia tri dong" | "gia tri vnd" | "thanh tien" => Some("value"),
        _ => None,
    };
    alias.or_else(|| {
        COLUMNS
            .iter()
            .find(|(_, header, _)| normalize_name(header) == n)
            .map(|(f, _, _)| *f)
    })
}

/// A row checked: everything but the household is known.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub line: usize,
    pub year: i32,
    pub campaign_id: Uuid,
    /// The agencies, lead first (a joint group is written "A; B; C").
    pub agencies: Vec<Uuid>,
    pub agency_names: String,
    pub head_name: String,
    pub village: String,
    pub commune_code: String,
    pub form: &'static str,
    pub support: String,
    pub value: i64,
}

/// A registry household a row may be.
#[derive(Debug, Clone)]
pub struct Option_ {
    pub id: Uuid,
    pub label: String,
}

#[derive(Debug, Clone)]
pub enum Match {
    One(Uuid, String),
    None,
    Several(Vec<Option_>),
}

#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub rows: Vec<(HistoryRow, Match)>,
    pub problems: Vec<Problem>,
    pub total_rows: usize,
}

impl Preview {
    pub fn matched(&self) -> usize {
        self.rows
            .iter()
            .filter(|(_, m)| matches!(m, Match::One(..)))
            .count()
    }
}

/// Check a file and match its rows. Writes nothing.
pub async fn preview(
    pool: &PgPool,
    table: &Table,
    thresholds: Thresholds,
) -> sqlx::Result<Preview> {
    let mut p = Preview {
        total_rows: table.rows.len(),
        ..Default::default()
    };
    let whole = |m: String| Problem {
        line: 0,
        column: String::new(),
        message: m,
    };
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in table.headers.iter().enumerate() {
        if let Some(f) = field_for_header(h) {
            index.entry(f).or_insert(i);
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|(f, _, req)| *req && !index.contains_key(f))
        .map(|(_, h, _)| *h)
        .collect();
    if !missing.is_empty() {
        p.problems.push(whole(format!(
            "Thiếu cột bắt buộc: {}. Hãy dùng tệp mẫu để có đúng tên cột.",
            missing.join(", ")
        )));
        return Ok(p);
    }
    if table.rows.is_empty() {
        p.problems
            .push(whole("Tệp chỉ có dòng tiêu đề, không có dòng nào.".into()));
        return Ok(p);
    }
    let campaigns: HashMap<i32, (Uuid, bool)> =
        sqlx::query_as::<_, (i32, Uuid, bool)>("SELECT year, id, is_current FROM campaigns")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(y, id, cur)| (y, (id, cur)))
            .collect();
    let current_year = campaigns
        .iter()
        .find(|(_, (_, cur))| *cur)
        .map(|(y, _)| *y)
        .unwrap_or(i32::MAX);
    let agencies: HashMap<String, Uuid> =
        sqlx::query_as::<_, (String, Uuid)>("SELECT name, id FROM agencies")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(n, id)| (normalize_name(&n), id))
            .collect();
    let communes: Vec<(String, String)> = sqlx::query_as("SELECT code, name FROM communes")
        .fetch_all(pool)
        .await?;
    let commune_of = |s: &str| -> Option<String> {
        let n = normalize_name(s);
        communes
            .iter()
            .find(|(code, name)| {
                *code == s.trim()
                    || normalize_name(name) == n
                    || normalize_name(name).strip_prefix("xa ") == Some(n.as_str())
                    || normalize_name(name).strip_prefix("thi tran ") == Some(n.as_str())
            })
            .map(|(c, _)| c.clone())
    };
    let cell = |row: &[String], f: &str| -> String {
        index
            .get(f)
            .and_then(|i| row.get(*i))
            .cloned()
            .unwrap_or_default()
    };
    let mut seen: HashSet<(i32, String, String, String)> = HashSet::new();
    for (line, row) in &table.rows {
        let line = *line;
        let mut probs: Vec<Problem> = Vec::new();
        let mut problem = |column: &str, message: String| {
            probs.push(Problem {
                line,
                column: column.to_string(),
                message,
            })
        };
        let year: Option<i32> = cell(row, "year").trim().parse().ok();
        let campaign = match year {
            None => {
                problem("Năm", "Năm phải là một số, ví dụ 2019.".into());
                None
            }
            Some(y) if y >= current_year => {
                problem(
                    "Năm",
                    format!(
                        "Năm {y} không phải năm trước đợt hiện tại: chỉ nhập lịch sử các năm trước."
                    ),
                );
                None
            }
            Some(y) => match campaigns.get(&y) {
                Some((id, _)) => Some((y, *id)),
                None => {
                    problem(
                        "Năm",
                        format!("Chưa có đợt vận động năm {y} trong phần mềm."),
                    );
                    None
                }
            },
        };
        let agency_cell = cell(row, "agency");
        let mut ids = Vec::new();
        for name in agency_cell
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match agencies.get(&normalize_name(name)) {
                Some(id) if !ids.contains(id) => ids.push(*id),
                Some(_) => {}
                None => problem(
                    "Cơ quan, đơn vị",
                    format!("Không có cơ quan, đơn vị “{name}” trong danh sách."),
                ),
            }
        }
        if agency_cell.trim().is_empty() {
            problem("Cơ quan, đơn vị", "Không được để trống.".into());
        } else if ids.len() > crate::domain::sponsorship::MAX_GROUP {
            problem("Cơ quan, đơn vị", "Một nhóm có tối đa 4 đơn vị.".into());
        }
        let head = cell(row, "head_name").trim().to_string();
        if head.chars().count() < 2 {
            problem("Họ tên chủ hộ", "Không được để trống.".into());
        }
        let village = cell(row, "village").trim().to_string();
        if village.is_empty() {
            problem("Thôn", "Không được để trống.".into());
        }
        let commune_cell = cell(row, "commune");
        let commune = commune_of(&commune_cell);
        if commune.is_none() {
            problem("Xã", format!("Không có xã “{}”.", commune_cell.trim()));
        }
        let form_cell = cell(row, "form");
        let form = if form_cell.trim().is_empty() {
            Some("other")
        } else {
            parse_form(&form_cell)
        };
        if form.is_none() {
            problem(
                "Hình thức hỗ trợ",
                format!("Không rõ hình thức “{}”.", form_cell.trim()),
            );
        }
        let support = cell(row, "support")
            .trim()
            .chars()
            .take(500)
            .collect::<String>();
        if support.is_empty() {
            problem("Nội dung hỗ trợ", "Không được để trống.".into());
        }
        let value = Vnd::parse(&cell(row, "value"), "Giá trị")
            .map(Vnd::get)
            .map_err(|e| problem("Giá trị (đồng)", e));
        let cccd: String = cell(row, "cccd")
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        if !probs.is_empty() {
            p.problems.extend(probs);
            continue;
        }
        let (Some((year, campaign_id)), Some(commune_code), Some(form), Ok(value)) =
            (campaign, commune, form, value)
        else {
            continue;
        };
        if !seen.insert((
            year,
            normalize_name(&head),
            normalize_name(&village),
            commune_code.clone(),
        )) {
            p.problems.push(Problem {
                line,
                column: "Họ tên chủ hộ".into(),
                message: "Dòng này lặp lại một dòng trước đó (cùng năm, cùng hộ).".into(),
            });
            continue;
        }
        let m = match_household(pool, thresholds, &head, &village, &commune_code, &cccd).await?;
        if let Match::One(id, _) = &m {
            let taken: bool = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM sponsorships WHERE campaign_id = $1 AND household_id = $2
                                AND sponsorship_is_live(state)) AS "taken!""#,
                campaign_id,
                id
            )
            .fetch_one(pool)
            .await?;
            if taken {
                p.problems.push(Problem {
                    line,
                    column: "Họ tên chủ hộ".into(),
                    message: format!(
                        "Hộ này đã có lượt giúp đỡ năm {year} trong phần mềm (tệp đã được nhập?)."
                    ),
                });
                continue;
            }
        }
        p.rows.push((
            HistoryRow {
                line,
                year,
                campaign_id,
                agency_names: agency_cell.trim().to_string(),
                agencies: ids,
                head_name: head,
                village,
                commune_code,
                form,
                support,
                value,
            },
            m,
        ));
    }
    Ok(p)
}

async fn match_household(
    pool: &PgPool,
    t: Thresholds,
    head: &str,
    village: &str,
    commune: &str,
    cccd: &str,
) -> sqlx::Result<Match> {
    if let Some(cccd) = crate::domain::cccd::IdNumber::cccd(cccd) {
        let found: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT h.id, h.head_name || ' (' || v.name || ')' FROM households h JOIN villages v ON v.id = h.village_id
             WHERE h.cccd = $1 AND h.merged_into IS NULL",
        )
        .bind(cccd)
        .fetch_optional(pool)
        .await?;
        if let Some((id, label)) = found {
            return Ok(Match::One(id, label));
        }
    }
    let probe = Probe {
        commune_code: commune.to_string(),
        village: village.to_string(),
        head_name: head.to_string(),
        ..Default::default()
    };
    let found: Vec<Option_> = duplicates::candidates(pool, &probe, t)
        .await?
        .into_iter()
        .filter(|c| {
            matches!(c.level, Level::Certain | Level::Probable) && c.commune_code == commune
        })
        .map(|c| Option_ {
            id: c.id,
            label: format!(
                "{} ({}{})",
                c.head_name,
                c.village,
                c.birth_year
                    .map(|y| format!(", sinh {y}"))
                    .unwrap_or_default()
            ),
        })
        .collect();
    Ok(match found.len() {
        0 => Match::None,
        1 => Match::One(found[0].id, found[0].label.clone()),
        _ => Match::Several(found),
    })
}

/// Write the resolved rows (row, household) in one transaction: each becomes a sponsorship of
/// its campaign under follow-up, delivered in full, with its members and one support line.
/// A household already sponsored in that campaign makes the whole batch fail (nothing written).
pub async fn commit(
    pool: &PgPool,
    by: &By,
    rows: &[(HistoryRow, Uuid)],
    filename: &str,
    batch: Option<Uuid>,
) -> Result<usize, HistoryError> {
    let mut tx = pool.begin().await?;
    if let Some(b) = batch {
        let done: Option<Uuid> = sqlx::query_scalar!(
            "UPDATE import_batches SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL RETURNING id",
            b
        )
        .fetch_optional(&mut *tx)
        .await?;
        if done.is_none() {
            return Err(HistoryError::AlreadyImported);
        }
    }
    let mut ids = Vec::with_capacity(rows.len());
    for (r, household) in rows {
        let id: Result<Uuid, sqlx::Error> = sqlx::query_scalar!(
            "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
                 pledged_value, delivered_value, pledged_on, decided_at)
             SELECT $1, $2, $3, 'follow_up', $4, $5, $6, $6, c.registration_deadline, now()
             FROM campaigns c WHERE c.id = $1 RETURNING id",
            r.campaign_id,
            household,
            r.agencies[0],
            r.form,
            &r.support,
            r.value
        )
        .fetch_one(&mut *tx)
        .await;
        let id = match id {
            Ok(id) => id,
            Err(e) if constraints::broke(&e, "sponsorships_campaign_household_key") => {
                return Err(HistoryError::AlreadySponsored {
                    line: r.line,
                    year: r.year,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let shares = crate::domain::sponsorship::shares(r.value, r.agencies.len());
        sqlx::query!(
            "INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
             SELECT $1, m.a, m.a = $2, m.s FROM unnest($3::uuid[], $4::bigint[]) AS m(a, s)",
            id,
            r.agencies[0],
            &r.agencies,
            &shares
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
             VALUES ($1, 1, $2, $3, 1, 'gói', $4)",
            id,
            r.form,
            r.support.chars().take(200).collect::<String>(),
            r.value
        )
        .execute(&mut *tx)
        .await?;
        ids.push(id);
    }
    audit::write(
        &mut tx,
        by,
        audit::Entry {
            action: audit::Action::Import,
            entity: "sponsorship_history",
            entity_id: batch
                .map(|b| b.to_string())
                .unwrap_or_else(|| filename.to_string()),
            before: None,
            after: Some(serde_json::json!({ "file": filename, "sponsorships": ids })),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ids.len())
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("Tệp này đã được nhập rồi; không nhập lại.")]
    AlreadyImported,
    #[error("Dòng {line}: hộ này đã có lượt giúp đỡ trong đợt {year}; không nhập tệp nào cả.")]
    AlreadySponsored { line: usize, year: i32 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub fn template_csv() -> Vec<u8> {
    let mut w = SafeCsv::with_bom();
    let _ = w.text_row(COLUMNS.iter().map(|(_, h, _)| *h));
    let _ = w.text_row(EXAMPLE);
    w.into_bytes()
}
