//! The audit trail: who, when, what (entity, id, before and after as JSON), written in the same
//! transaction as the change. Every write function in `db` takes a [`By`], so a change cannot be
//! made without saying who made it, and calls one of these helpers before it returns.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::roles::Actor;

/// Who is acting: a signed-in user, or a named system actor (the CLI, the demo loader).
#[derive(Debug, Clone)]
pub struct By {
    pub user_id: Option<Uuid>,
    pub name: String,
}

impl By {
    pub fn system(what: &str) -> By {
        By {
            user_id: None,
            name: what.to_string(),
        }
    }
}

impl From<&Actor> for By {
    fn from(a: &Actor) -> By {
        By {
            user_id: Some(a.id),
            name: a.username.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Action {
    Create,
    Update,
    Delete,
    Login,
    Logout,
    LoginFailed,
    /// A bulk load (the demo data set, a file import): one row for the whole batch.
    Import,
    Merge,
    Unmerge,
    /// A lookup of personal data by an ID number (agency staff): who, when, found or not.
    Lookup,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Login => "login",
            Action::Logout => "logout",
            Action::LoginFailed => "login_failed",
            Action::Import => "import",
            Action::Merge => "merge",
            Action::Unmerge => "unmerge",
            Action::Lookup => "lookup",
        }
    }
}

pub struct Entry<'a> {
    pub action: Action,
    pub entity: &'a str,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<&'a str>,
}

/// An event that is the whole write (a sign-out, an identity lookup): its own statement.
pub async fn record(pool: &sqlx::PgPool, by: &By, e: Entry<'_>) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    write(&mut conn, by, e).await
}

/// An audit row in the caller's transaction, beside the change it records.
pub async fn write(conn: &mut PgConnection, by: &By, e: Entry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (user_id, actor, action, entity, entity_id, before, after, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .persistent(false)
    .bind(by.user_id)
    .bind(&by.name)
    .bind(e.action.as_str())
    .bind(e.entity)
    .bind(&e.entity_id)
    .bind(e.before)
    .bind(e.after)
    .bind(e.reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub fn json<T: Serialize>(v: &T) -> Option<Value> {
    serde_json::to_value(v).ok()
}

pub async fn created<T: Serialize>(
    conn: &mut PgConnection,
    by: &By,
    entity: &str,
    id: impl ToString,
    after: &T,
) -> sqlx::Result<()> {
    let entry = Entry {
        action: Action::Create,
        entity,
        entity_id: id.to_string(),
        before: None,
        after: json(after),
        reason: None,
    };
    write(conn, by, entry).await
}

pub async fn updated<T: Serialize>(
    conn: &mut PgConnection,
    by: &By,
    entity: &str,
    id: impl ToString,
    before: &T,
    after: &T,
) -> sqlx::Result<()> {
    let entry = Entry {
        action: Action::Update,
        entity,
        entity_id: id.to_string(),
        before: json(before),
        after: json(after),
        reason: None,
    };
    write(conn, by, entry).await
}

/// One row of the audit list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
}

/// A page of the trail, newest first: at most `limit` entries older than `before` (an entry's id;
/// `None` for the newest), and whether older ones remain. Keyset paging on the id: a page reads
/// about `limit` rows however long the trail (migration 0033 indexes each filter by id); the
/// whole trail is never counted.
pub async fn list(
    pool: &sqlx::PgPool,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<(Vec<AuditRow>, bool)> {
    let mut rows = sqlx::query_as::<_, AuditRow>(
        "SELECT id, at, actor, action, entity, entity_id, before, after, reason FROM audit_log
         WHERE ($1::text IS NULL OR actor = $1)
           AND ($2::text IS NULL OR entity = $2)
           AND ($3::text IS NULL OR action = $3)
           AND ($4::bigint IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5",
    )
    .persistent(false)
    .bind(&f.actor)
    .bind(&f.entity)
    .bind(&f.action)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    Ok((rows, more))
}

/// The entity of an answered ID-number lookup, and of one refused by the throttle.
pub const ID_LOOKUP: &str = "id_lookup";
pub const ID_LOOKUP_REFUSED: &str = "id_lookup_refused";

/// When `user` made `limit` answered ID lookups within the last hour: the seconds until the
/// oldest of them leaves the hour (`None`: under the limit).
pub async fn id_lookup_wait(
    pool: &sqlx::PgPool,
    user: Uuid,
    limit: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"SELECT ceil(extract(epoch FROM at + interval '1 hour' - now()))::bigint AS "wait!" FROM audit_log
         WHERE action = 'lookup' AND user_id = $1 AND entity = $2 AND at > now() - interval '1 hour'
         ORDER BY at DESC OFFSET $3::bigint - 1 LIMIT 1"#,
        user,
        ID_LOOKUP,
        limit
    )
    .fetch_optional(pool)
    .await
}
