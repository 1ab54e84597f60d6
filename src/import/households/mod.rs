//! Importing household lists: map the columns, check every row, find duplicates in the file and
//! in the registry, and — only once the user confirms — write all rows in one transaction.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{Layout, Table, locate_header};
use crate::db::audit::{self, By};
use crate::db::households::exact_matches;
use crate::domain::cccd::Cccd;
use crate::domain::duplicates::Thresholds;
use crate::domain::household::HouseholdDraft;
use crate::domain::text::{normalize_name, village_key};

mod columns;
mod duplicates;

use columns::header_label;
pub use columns::{
    COLUMNS, EXAMPLE, column_index, field_for_header, layout_lines, row_input, template_csv,
    template_xlsx,
};
pub use duplicates::FUZZY_ROWS;
use duplicates::probable_duplicates;

/// Rows accepted in one upload in the browser; the command line has no limit.
pub const BROWSER_ROW_LIMIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Line in the file (1-based), or 0 for the file as a whole.
    pub line: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Preview {
    /// The rows a confirmation would write: every row without a problem.
    pub rows: Vec<(usize, HouseholdDraft)>,
    pub problems: Vec<Problem>,
    /// What the import changes from what the file says, row by row ("restored leading 0").
    pub notes: Vec<Problem>,
    /// Where the header was found and which rows are no data.
    pub layout: Layout,
    /// Probable duplicates (R4): the same head of household in the same village. They do not
    /// stop the import, but confirming it then needs a reason.
    pub warnings: Vec<Problem>,
    pub total_rows: usize,
}

impl Preview {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty()
    }
}

/// Where the rows may go: a commune official imports only into their commune; `default_commune`
/// fills rows that leave the commune column empty (`--commune CODE`).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub only_commune: Option<String>,
    pub default_commune: Option<String>,
    pub row_limit: Option<usize>,
}

/// What a header row must hold, for the message when none is found.
const HEADER_NEEDS: &str = "Dòng tiêu đề phải có các cột Thôn, Họ tên chủ hộ, Dân tộc, Số nhân khẩu, \
     Tình trạng (và Xã, trừ khi đã chọn xã khi tải lên), đặt tên như trong tệp mẫu hoặc như danh sách \
     rà soát hộ nghèo hằng năm (“Họ và tên chủ hộ”, “Thôn/bản”, “Số CCCD/CMND”, “Phân loại hộ”…).";

/// Check a whole file: every problem by line and column, duplicates within the file and with
/// the registry. Writes nothing.
pub async fn preview(
    pool: &PgPool,
    table: &Table,
    target: &Target,
    this_year: i32,
    thresholds: Thresholds,
) -> sqlx::Result<Preview> {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let whole = |m: String| Problem {
        line: 0,
        column: String::new(),
        message: m,
    };
    let empty = |problems: Vec<Problem>, layout: Layout, total_rows: usize| Preview {
        rows: vec![],
        problems,
        notes: vec![],
        layout,
        warnings: vec![],
        total_rows,
    };

    // Official lists carry the committee, the motto and the title above the header, a numbering
    // row below it and signatures at the end: find the header by what it says.
    let (table, layout) = match locate_header(table, field_for_header, 2) {
        Ok(found) => found,
        Err(m) => {
            problems.push(whole(format!("{m} {HEADER_NEEDS}")));
            return Ok(empty(problems, Layout::default(), table.rows.len()));
        }
    };
    let table = &table;
    let (index, unknown) = column_index(&table.headers);
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|(f, _, required)| *required && !index.contains_key(f))
        .filter(|(f, _, _)| !(*f == "commune_code" && target.default_commune.is_some()))
        .map(|(_, h, _)| *h)
        .collect();
    if !missing.is_empty() {
        let mut m = format!(
            "Dòng tiêu đề ({}) thiếu cột bắt buộc: {}.",
            layout.header_label(),
            missing.join(", ")
        );
        if !unknown.is_empty() {
            m.push_str(&format!(" Các cột không nhận ra: {}.", unknown.join(", ")));
        }
        m.push_str(" Hãy dùng tệp mẫu để có đúng tên cột.");
        problems.push(whole(m));
        return Ok(empty(problems, layout, table.rows.len()));
    }
    if table.rows.is_empty() {
        problems.push(whole("Tệp chỉ có dòng tiêu đề, không có hộ nào.".into()));
        return Ok(empty(problems, layout, 0));
    }
    if let Some(limit) = target.row_limit
        && table.rows.len() > limit
    {
        problems.push(whole(format!(
            "Tệp có {} dòng, vượt giới hạn {} dòng mỗi lần nhập trên trình duyệt. Hãy chia nhỏ tệp, \
             hoặc nhờ quản trị viên dùng lệnh `giupdo import households`.",
            table.rows.len(),
            limit
        )));
        return Ok(empty(problems, layout, table.rows.len()));
    }

    let communes: Vec<(String, String)> = sqlx::query_as("SELECT code, name FROM communes")
        .fetch_all(pool)
        .await?;
    let resolve_commune = |cell: &str| -> Option<String> {
        let t = cell.trim();
        if let Some((code, _)) = communes.iter().find(|(c, _)| c == t) {
            return Some(code.clone());
        }
        let n = normalize_name(t);
        communes
            .iter()
            .find(|(_, name)| {
                let full = normalize_name(name);
                full == n
                    || full
                        .strip_prefix("xa ")
                        .or_else(|| full.strip_prefix("thi tran "))
                        == Some(n.as_str())
            })
            .map(|(c, _)| c.clone())
    };

    let mut rows = Vec::new();
    for (line, cells) in &table.rows {
        let mut input = row_input(&index, cells);
        let typed_commune = input.commune_code.trim().to_string();
        let mut commune_problem = None;
        if typed_commune.is_empty() {
            if let Some(d) = &target.default_commune {
                input.commune_code = d.clone();
            }
        } else {
            match resolve_commune(&typed_commune) {
                Some(code) => input.commune_code = code,
                None => {
                    commune_problem = Some(format!(
                        "Không có xã “{typed_commune}” trong huyện (ghi mã như 06073 hoặc tên xã)."
                    ))
                }
            }
        }
        if commune_problem.is_none()
            && let Some(only) = &target.only_commune
            && !input.commune_code.is_empty()
            && &input.commune_code != only
        {
            commune_problem =
                Some("Hộ này không thuộc xã của bạn: chỉ được nhập hộ của xã mình.".into());
        }
        if commune_problem.is_none()
            && let Some(d) = &target.default_commune
            && &input.commune_code != d
        {
            commune_problem = Some(format!("Hộ thuộc xã khác với xã đã chọn ({d})."));
        }
        let parsed = input.parse(this_year);
        if let Some(m) = commune_problem {
            problems.push(Problem {
                line: *line,
                column: header_label("commune_code").into(),
                message: m,
            });
        }
        match parsed {
            Ok(draft) => {
                if draft.old_id_moved {
                    notes.push(Problem {
                        line: *line,
                        column: header_label("cccd").into(),
                        message: format!(
                            "Số {} có 9 chữ số là CMND cũ: ghi vào cột Số CMND cũ.",
                            draft.old_id_number.as_deref().unwrap_or_default()
                        ),
                    });
                }
                if draft.cccd_restored {
                    notes.push(Problem {
                        line: *line,
                        column: header_label("cccd").into(),
                        message: format!(
                            "Đã thêm số 0 ở đầu mà Excel bỏ mất: {} → {}.",
                            input.cccd.trim(),
                            draft.cccd.as_ref().map(Cccd::as_str).unwrap_or_default()
                        ),
                    });
                }
                rows.push((*line, draft))
            }
            Err(errors) => {
                for (field, message) in errors {
                    if field == "commune_code"
                        && problems
                            .last()
                            .is_some_and(|p| p.line == *line && p.column == "Xã")
                    {
                        continue;
                    }
                    problems.push(Problem {
                        line: *line,
                        column: header_label(field).into(),
                        message,
                    });
                }
            }
        }
    }

    // A village typed another way ("Nà Pàn", "thon na pan", "Bản Nà Pàn") is the commune's
    // village with the same key: written under its stored name, and the preview says so.
    let communes_in_file: Vec<String> = {
        let mut c: Vec<String> = rows.iter().map(|(_, d)| d.commune_code.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let known = crate::db::places::villages_by_key(pool, &communes_in_file).await?;
    for (line, d) in rows.iter_mut() {
        if let Some((_, stored)) = known.get(&(d.commune_code.clone(), village_key(&d.village)))
            && *stored != d.village
        {
            notes.push(Problem {
                line: *line,
                column: header_label("village").into(),
                message: format!("“{}” ghi theo thôn đã có của xã: {stored}.", d.village),
            });
            d.village = stored.clone();
        }
    }
    notes.sort_by(|a, b| a.line.cmp(&b.line).then(a.column.cmp(&b.column)));

    // Duplicates within the file.
    let mut seen_cccd: HashMap<&str, usize> = HashMap::new();
    let mut seen_code: HashMap<(&str, &str), usize> = HashMap::new();
    let mut seen_old: HashMap<&str, usize> = HashMap::new();
    for (line, d) in &rows {
        if let Some(c) = &d.old_id_number
            && let Some(first) = seen_old.insert(c, *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Số CMND cũ".into(),
                message: format!("Trùng số CMND với dòng {first} trong tệp."),
            });
            seen_old.insert(c, first);
        }
        if let Some(c) = d.cccd.as_ref().map(Cccd::as_str)
            && let Some(first) = seen_cccd.insert(c, *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Số CCCD".into(),
                message: format!("Trùng CCCD với dòng {first} trong tệp."),
            });
            seen_cccd.insert(c, first);
        }
        if let Some(code) = &d.household_code
            && let Some(first) = seen_code.insert((d.commune_code.as_str(), code.as_str()), *line)
        {
            problems.push(Problem {
                line: *line,
                column: "Mã hộ nghèo".into(),
                message: format!("Trùng mã hộ nghèo với dòng {first} trong tệp."),
            });
            seen_code.insert((d.commune_code.as_str(), code.as_str()), first);
        }
    }

    // Duplicates with the registry (exact CCCD or household code).
    let cccds: Vec<String> = rows
        .iter()
        .filter_map(|(_, d)| d.cccd.as_ref().map(|c| c.as_str().to_string()))
        .collect();
    let old_ids: Vec<String> = rows
        .iter()
        .filter_map(|(_, d)| d.old_id_number.clone())
        .collect();
    let codes: Vec<(String, String)> = rows
        .iter()
        .filter_map(|(_, d)| {
            d.household_code
                .clone()
                .map(|c| (d.commune_code.clone(), c))
        })
        .collect();
    if !cccds.is_empty() || !codes.is_empty() || !old_ids.is_empty() {
        let matches = exact_matches(pool, &cccds, &old_ids, &codes).await?;
        let by_old: HashMap<&str, &_> = matches
            .iter()
            .filter_map(|m| m.old_id_number.as_deref().map(|c| (c, m)))
            .collect();
        let by_cccd: HashMap<&str, &_> = matches
            .iter()
            .filter_map(|m| m.cccd.as_deref().map(|c| (c, m)))
            .collect();
        let by_code: HashMap<(&str, &str), &_> = matches
            .iter()
            .filter_map(|m| {
                m.household_code
                    .as_deref()
                    .map(|c| ((m.commune_code.as_str(), c), m))
            })
            .collect();
        for (line, d) in &rows {
            let found = d
                .cccd
                .as_ref()
                .and_then(|c| by_cccd.get(c.as_str()).map(|m| ("Số CCCD", "CCCD", m)))
                .or_else(|| {
                    d.old_id_number
                        .as_deref()
                        .and_then(|c| by_old.get(c).map(|m| ("Số CMND cũ", "số CMND", m)))
                })
                .or_else(|| {
                    d.household_code.as_deref().and_then(|c| {
                        by_code
                            .get(&(d.commune_code.as_str(), c))
                            .map(|m| ("Mã hộ nghèo", "mã hộ nghèo", m))
                    })
                });
            if let Some((column, what, m)) = found {
                problems.push(Problem {
                    line: *line,
                    column: column.into(),
                    message: format!(
                        "Trùng {what} với hộ đã có: {}, {}, {}.",
                        m.head_name, m.village_name, m.commune_name
                    ),
                });
            }
        }
    }
    problems.sort_by(|a, b| a.line.cmp(&b.line).then(a.column.cmp(&b.column)));
    // Every count and list agrees with what a confirmation would write: a row with any problem
    // (a duplicate CCCD found after it parsed, say) is not among the rows to import.
    let bad: std::collections::HashSet<usize> = problems.iter().map(|p| p.line).collect();
    rows.retain(|(line, _)| !bad.contains(line));
    notes.retain(|n| !bad.contains(&n.line));
    let warnings = probable_duplicates(pool, &rows, thresholds).await?;
    Ok(Preview {
        rows,
        problems,
        notes,
        layout,
        warnings,
        total_rows: table.rows.len(),
    })
}

/// The batch was confirmed before (a double submit, or a second tab).
#[derive(Debug, thiserror::Error)]
#[error("Tệp này đã được nhập rồi.")]
pub struct AlreadyImported;

/// Write every row in one transaction: villages found or created, households inserted in
/// batches, their status history, one audit row per household (written by the same statement)
/// and one for the import itself. All or nothing. `confirm_reason`: why the user imports despite
/// probable duplicates (kept in every audit row).
pub async fn commit(
    pool: &PgPool,
    by: &By,
    rows: &[HouseholdDraft],
    source: &str,
    batch: Option<Uuid>,
    confirm_reason: Option<&str>,
) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    // A batch is imported once: a double-submitted confirmation finds it already done.
    if let Some(batch) = batch {
        let marked = sqlx::query(
            "UPDATE import_batches SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL",
        )
        .bind(batch)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            anyhow::bail!(AlreadyImported);
        }
    }
    let mut villages: HashMap<(String, String), Uuid> = HashMap::new();
    for d in rows {
        let key = (d.commune_code.clone(), village_key(&d.village));
        if let std::collections::hash_map::Entry::Vacant(e) = villages.entry(key) {
            let id =
                crate::db::households::village_id(&mut tx, by, &d.commune_code, &d.village).await?;
            e.insert(id);
        }
    }
    // New names go to the name dictionary's GIN pending lists and are merged once, not one by one.
    sqlx::query("SET LOCAL gin_pending_list_limit = '256MB'")
        .execute(&mut *tx)
        .await?;
    let mut inserted = 0u64;
    for chunk in rows.chunks(20_000) {
        let col =
            |f: &dyn Fn(&HouseholdDraft) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
        // Time-ordered ids (UUIDv7): the primary key, the audit rows and the status history
        // are then appended to their indexes instead of scattered over them.
        let ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
        let village_ids: Vec<Uuid> = chunk
            .iter()
            .map(|d| villages[&(d.commune_code.clone(), village_key(&d.village))])
            .collect();
        let communes = col(&|d| Some(d.commune_code.clone()));
        let names = col(&|d| Some(d.head_name.clone()));
        let birth: Vec<Option<i32>> = chunk.iter().map(|d| d.birth_year).collect();
        let gender = col(&|d| d.gender.map(str::to_string));
        let cccd = col(&|d| d.cccd.as_ref().map(|c| c.as_str().to_string()));
        let old_id = col(&|d| d.old_id_number.clone());
        let code = col(&|d| d.household_code.clone());
        let eth = col(&|d| Some(d.ethnicity.to_string()));
        let members: Vec<i32> = chunk.iter().map(|d| d.members).collect();
        let status = col(&|d| Some(d.status.to_string()));
        let status_year: Vec<i32> = chunk.iter().map(|d| d.status_year).collect();
        let flags =
            |f: &dyn Fn(&HouseholdDraft) -> bool| chunk.iter().map(f).collect::<Vec<bool>>();
        let other = col(&|d| d.other_needs.clone());
        let phone = col(&|d| d.phone.clone());
        let notes = col(&|d| d.notes.clone());
        let n: i64 = sqlx::query_scalar(
            "WITH ins AS (
                INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, cccd, household_code,
                    ethnicity, members, status, status_year, lacks_capital, lacks_land, lacks_labour, lacks_technique,
                    illness, other_needs, will_to_escape, phone, notes, id, old_id_number)
                SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                    $8::text[], $9::int[], $10::text[], $11::int[], $12::bool[], $13::bool[], $14::bool[], $15::bool[],
                    $16::bool[], $17::text[], $18::bool[], $19::text[], $20::text[], $24::uuid[], $25::text[])
                RETURNING *
             ), hist AS (
                INSERT INTO household_status_history (household_id, year, status)
                SELECT id, status_year, status FROM ins
             ), aud AS (
                INSERT INTO audit_log (user_id, actor, action, entity, entity_id, after, reason)
                SELECT $21, $22, 'create', 'household', ins.id::text, to_jsonb(ins) - 'created_at' - 'updated_at' - 'head_name_key', $23 FROM ins
             )
             SELECT count(*) FROM ins",
        )
        .bind(&communes)
        .bind(&village_ids)
        .bind(&names)
        .bind(&birth)
        .bind(&gender)
        .bind(&cccd)
        .bind(&code)
        .bind(&eth)
        .bind(&members)
        .bind(&status)
        .bind(&status_year)
        .bind(flags(&|d| d.lacks_capital))
        .bind(flags(&|d| d.lacks_land))
        .bind(flags(&|d| d.lacks_labour))
        .bind(flags(&|d| d.lacks_technique))
        .bind(flags(&|d| d.illness))
        .bind(&other)
        .bind(flags(&|d| d.will_to_escape))
        .bind(&phone)
        .bind(&notes)
        .bind(by.user_id)
        .bind(&by.name)
        .bind(match confirm_reason {
            Some(r) => format!("Nhập từ tệp {source}. Xác nhận không trùng hộ: {r}"),
            None => format!("Nhập từ tệp {source}"),
        })
        .bind(&ids)
        .bind(&old_id)
        .fetch_one(&mut *tx)
        .await?;
        inserted += n as u64;
    }
    audit::write(
        &mut tx,
        by,
        audit::Entry {
            action: audit::Action::Import,
            entity: "household_import",
            entity_id: source.chars().take(200).collect(),
            before: None,
            after: Some(serde_json::json!({ "rows": inserted })),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    // Searches read the whole pending list until it is merged: merge it now, not at the next
    // vacuum. Best effort: the import itself is already committed.
    if let Err(e) = crate::db::merge_name_index_pending(pool).await {
        tracing::warn!(error = %e, "could not merge the GIN pending lists");
    }
    Ok(inserted)
}
