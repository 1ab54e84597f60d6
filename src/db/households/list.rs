//! The household list: search ignoring diacritics and case, filters, sort, pages by keyset.

use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::roles::Scope;
use crate::domain::text::normalize_name;

/// R5 in SQL (mirrors `domain::household::priority_reasons`); `$prio` is the array of the current
/// campaign's priority communes.
const PRIORITY_SQL: &str =
    "((h.will_to_escape AND (h.lacks_capital OR h.lacks_technique)) OR h.commune_code = ANY(";

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub commune: Option<String>,
    pub village: Option<Uuid>,
    pub status: Option<String>,
    pub priority: Option<bool>,
    /// Some(true): helped in an earlier campaign; Some(false): never helped before.
    pub helped_before: Option<bool>,
    pub sort: Sort,
    /// Where the page starts: after or before a household of the previous page (keyset: a page
    /// reads its 50 rows whatever its depth, where `OFFSET` read every row before it).
    pub cursor: Option<Cursor>,
}

/// A page boundary: the household a page follows (`sau`) or precedes (`truoc`), in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(Uuid),
    Before(Uuid),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Name,
    Village,
    Status,
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "thon" => Sort::Village,
            "tinh-trang" => Sort::Status,
            "moi-nhat" => Sort::Newest,
            _ => Sort::Name,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Sort::Name => "ten",
            Sort::Village => "thon",
            Sort::Status => "tinh-trang",
            Sort::Newest => "moi-nhat",
        }
    }
    /// The sort keys, in order, and whether they descend. With a search, the keys are wrapped so
    /// that no index provides the order: the planner then finds the matches through their own
    /// indexes and sorts those few, instead of walking the sort index and filtering — a full scan
    /// whenever it misjudges a rare or misspelt word. Every list ends on `h.id`, so a row's keys
    /// are unique and a page can start after them.
    fn keys(self, searching: bool) -> (&'static str, bool) {
        match (self, searching) {
            (Sort::Name, false) => ("h.head_name_key, h.id", false),
            (Sort::Name, true) => ("(h.head_name_key || ''), h.id", false),
            (Sort::Village, _) => (
                "h.commune_code, h.village_id, (h.head_name_key || ''), h.id",
                false,
            ),
            (Sort::Status, false) => ("h.status, h.head_name_key, h.id", false),
            (Sort::Status, true) => ("(h.status || ''), (h.head_name_key || ''), h.id", false),
            (Sort::Newest, false) => ("h.created_at, h.id", true),
            (Sort::Newest, true) => ("(h.created_at + interval '0 s'), h.id", true),
        }
    }
}

pub const PAGE_SIZE: i64 = 50;
/// Counting stops here: "more than 1,000" is all a person needs, and counting a million rows
/// would cost more than the page itself.
pub const COUNT_CAP: i64 = 1_000;

#[derive(Clone, sqlx::FromRow, veil::Redact)]
pub struct ListRow {
    pub id: Uuid,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub village_name: String,
    pub commune_name: String,
    pub commune_code: String,
    #[redact]
    pub cccd: Option<String>,
    pub household_code: Option<String>,
    pub status: String,
    pub status_year: i32,
    pub priority: bool,
    pub helped_before: bool,
}

/// `Hoàng  văn Thụ` → `hoang & van & thu`: every typed word is a word of the name, in any order.
/// Whole words, not prefixes: a prefix search unions the postings of every word it begins and
/// costs ten times more at a million households.
pub fn word_query(text: &str) -> Option<String> {
    let words: Vec<String> = normalize_name(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_string)
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

fn push_filters<'a>(
    b: &mut QueryBuilder<'a, Postgres>,
    q: &'a ListQuery,
    scope: &'a Scope,
    prio: &'a [String],
    year: i32,
) {
    b.push(" WHERE h.merged_into IS NULL");
    match scope {
        Scope::Commune(codes) => {
            b.push(" AND h.commune_code = ANY(")
                .push_bind(codes)
                .push(")");
        }
        Scope::Nothing => {
            b.push(" AND false");
        }
        Scope::District | Scope::Agency(_) => {}
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let id = crate::domain::cccd::IdNumber::read(text);
        b.push(" AND (");
        // Only text with letters is a name; digits alone are a CCCD or a code.
        if let Some(words) = word_query(text).filter(|_| text.chars().any(char::is_alphabetic)) {
            // The names of the dictionary with every word (computed once, then one b-tree
            // probe per name): written as `= ANY(ARRAY(…))`, the OR with the code below stays
            // two index scans; as `IN (…)` PostgreSQL tested every household against it.
            b.push(
                "h.head_name_key = ANY(ARRAY(SELECT n.key FROM name_keys n \
                 WHERE to_tsvector('simple', n.key) @@ to_tsquery('simple', ",
            )
            .push_bind(words)
            .push("))) OR ");
        }
        match id {
            Some(crate::domain::cccd::IdNumber::Cccd(d)) => {
                b.push("h.cccd = ").push_bind(d).push(" OR ");
            }
            Some(crate::domain::cccd::IdNumber::Cmnd(d)) => {
                b.push("h.old_id_number = ").push_bind(d).push(" OR ");
            }
            None => {}
        }
        b.push("h.household_code = ")
            .push_bind(text.to_string())
            .push(")");
    }
    if let Some(c) = &q.commune {
        b.push(" AND h.commune_code = ").push_bind(c);
    }
    if let Some(v) = q.village {
        b.push(" AND h.village_id = ").push_bind(v);
    }
    if let Some(s) = &q.status {
        b.push(" AND h.status = ").push_bind(s);
    }
    if let Some(p) = q.priority {
        b.push(" AND ")
            .push(PRIORITY_SQL)
            .push_bind(prio)
            .push(")) = ")
            .push_bind(p);
    }
    if let Some(h) = q.helped_before {
        b.push(if h { " AND " } else { " AND NOT " });
        b.push("EXISTS (SELECT 1 FROM sponsorships s JOIN campaigns ca ON ca.id = s.campaign_id WHERE s.household_id = h.id AND ca.year < ")
            .push_bind(year)
            .push(")");
    }
}

/// How many households match a list: exact, or "more than `COUNT_CAP`" when counting stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    MoreThanCap,
}

/// One page of households in the list's order, whether more follow in the direction paged (after
/// the page, or before it when paging back), and how many match.
pub struct ListPage {
    pub rows: Vec<ListRow>,
    pub more: bool,
    pub total: Total,
}

/// One page of households and how many match.
pub async fn list(
    pool: &PgPool,
    q: &ListQuery,
    scope: &Scope,
    prio: &[String],
    year: i32,
) -> sqlx::Result<ListPage> {
    let mut b = QueryBuilder::new(
        "SELECT h.id, h.head_name, h.birth_year, v.name AS village_name, c.name AS commune_name, h.commune_code,
                h.cccd, h.household_code, h.status, h.status_year, ",
    );
    b.push(PRIORITY_SQL)
        .push_bind(prio)
        .push(")) AS priority, ");
    b.push("EXISTS (SELECT 1 FROM sponsorships s JOIN campaigns ca ON ca.id = s.campaign_id WHERE s.household_id = h.id AND ca.year < ")
        .push_bind(year)
        .push(") AS helped_before FROM households h JOIN villages v ON v.id = h.village_id JOIN communes c ON c.code = h.commune_code");
    push_filters(&mut b, q, scope, prio, year);
    let searching = q.q.as_deref().is_some_and(|t| !t.trim().is_empty());
    let (keys, desc) = q.sort.keys(searching);
    let back = matches!(q.cursor, Some(Cursor::Before(_)));
    if let Some(Cursor::After(id) | Cursor::Before(id)) = q.cursor {
        // The boundary household's own keys; a household gone since (deleted) starts the list over.
        let beyond = if desc != back { " < " } else { " > " };
        b.push(" AND (NOT EXISTS (SELECT 1 FROM households x WHERE x.id = ")
            .push_bind(id)
            .push(") OR (")
            .push(keys)
            .push(")")
            .push(beyond)
            .push("(SELECT ")
            .push(keys.replace("h.", "x."))
            .push(" FROM households x WHERE x.id = ")
            .push_bind(id)
            .push("))");
    }
    let direction = if desc != back { " DESC" } else { "" };
    let order: Vec<String> = keys
        .split(", ")
        .map(|k| format!("{k}{direction}"))
        .collect();
    b.push(" ORDER BY ").push(order.join(", "));
    b.push(" LIMIT ").push_bind(PAGE_SIZE + 1);
    let mut rows = b.build_query_as::<ListRow>().fetch_all(pool).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    if back {
        rows.reverse();
    }
    let total = count(pool, q, scope, prio, year).await?;
    Ok(ListPage { rows, more, total })
}

async fn count(
    pool: &PgPool,
    q: &ListQuery,
    scope: &Scope,
    prio: &[String],
    year: i32,
) -> sqlx::Result<Total> {
    // A list filtered only by commune and status is counted exactly from the tallies the
    // triggers of migration 0014 keep; reading up to a thousand rows to say "more than a
    // thousand" was the list's dearest query under load.
    let by_tally = q.q.as_deref().is_none_or(|t| t.trim().is_empty())
        && q.village.is_none()
        && q.priority.is_none()
        && q.helped_before.is_none();
    if by_tally {
        let own_commune = match scope {
            Scope::Nothing => return Ok(Total::Exact(0)),
            Scope::Commune(codes) => Some(codes.as_slice()),
            Scope::District | Scope::Agency(_) => None,
        };
        let n = sqlx::query_scalar!(
            r#"SELECT coalesce(sum(n), 0)::bigint AS "n!" FROM household_tallies
             WHERE ($1::text[] IS NULL OR commune_code = ANY($1)) AND ($2::text IS NULL OR commune_code = $2)
               AND ($3::text IS NULL OR status = $3)"#,
            own_commune,
            q.commune.as_deref(),
            q.status.as_deref()
        )
        .fetch_one(pool)
        .await?;
        return Ok(Total::Exact(n));
    }
    let mut c = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM households h");
    push_filters(&mut c, q, scope, prio, year);
    c.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(") t");
    let n: i64 = c.build_query_scalar().fetch_one(pool).await?;
    Ok(if n > COUNT_CAP {
        Total::MoreThanCap
    } else {
        Total::Exact(n)
    })
}
