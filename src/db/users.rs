//! Accounts. Passwords are stored only as Argon2 hashes (password-auth).

use serde::Serialize;
use sqlx::{Acquire, Postgres};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, By};
use crate::domain::roles::{Actor, Role};

#[derive(Clone, sqlx::FromRow, veil::Redact)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    #[redact]
    pub password_hash: String,
    pub role: String,
    pub agency_id: Option<Uuid>,
    pub commune_code: Option<String>,
    pub disabled: bool,
}

impl UserRow {
    pub fn actor(&self) -> Option<Actor> {
        Some(Actor {
            id: self.id,
            username: self.username.clone(),
            full_name: self.full_name.clone(),
            role: Role::parse(&self.role)?,
            agency_id: self.agency_id,
            commune_code: self.commune_code.clone(),
            communes: self.commune_code.iter().cloned().collect(),
        })
    }
}

/// What the audit trail records of a user: never the password hash.
#[derive(Debug, Serialize)]
struct AuditedUser<'a> {
    username: &'a str,
    full_name: &'a str,
    role: &'a str,
    agency_id: Option<Uuid>,
    commune_code: Option<&'a str>,
    disabled: bool,
}

impl UserRow {
    fn audited(&self) -> AuditedUser<'_> {
        AuditedUser {
            username: &self.username,
            full_name: &self.full_name,
            role: &self.role,
            agency_id: self.agency_id,
            commune_code: self.commune_code.as_deref(),
            disabled: self.disabled,
        }
    }
}

pub async fn by_username(pool: &PgPool, username: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, username, full_name, password_hash, role, agency_id, commune_code, disabled
         FROM users WHERE username = $1",
        username
    )
    .fetch_optional(pool)
    .await
}

pub async fn by_id(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, username, full_name, password_hash, role, agency_id, commune_code, disabled
         FROM users WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        "SELECT id, username, full_name, password_hash, role, agency_id, commune_code, disabled
         FROM users WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
}

/// In a transaction: wait for any other instance creating the first account, then tell whether
/// there is still no account at all (the lock is held until the transaction ends).
/// The first account, when there is none yet: another instance starting at the same moment waits
/// on the lock and finds one. `None` when an account already existed.
pub async fn create_first(pool: &PgPool, by: &By, u: &NewUser) -> sqlx::Result<Option<UserRow>> {
    let mut tx = pool.begin().await?;
    if !none_yet_locked(&mut tx).await? {
        return Ok(None);
    }
    let row = create_in(&mut tx, by, u).await?;
    tx.commit().await?;
    Ok(Some(row))
}

async fn none_yet_locked(tx: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query!("SELECT pg_advisory_xact_lock(4242001)")
        .execute(&mut *tx)
        .await?;
    let count = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(&mut *tx)
        .await?;
    Ok(count == 0)
}

pub async fn count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users"#)
        .fetch_one(pool)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserListRow {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: String,
    pub agency_name: Option<String>,
    pub commune_name: Option<String>,
    pub disabled: bool,
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<UserListRow>> {
    sqlx::query_as!(
        UserListRow,
        r#"SELECT u.id, u.username, u.full_name, u.role, a.name AS "agency_name?",
                c.name AS "commune_name?", u.disabled
         FROM users u LEFT JOIN agencies a ON a.id = u.agency_id
                      LEFT JOIN communes c ON c.code = u.commune_code
         ORDER BY u.disabled, u.role, u.username"#
    )
    .fetch_all(pool)
    .await
}

/// A new account, already validated (see `web::admin` and `cli`).
#[derive(Clone, veil::Redact)]
pub struct NewUser {
    pub username: String,
    pub full_name: String,
    #[redact]
    pub password_hash: String,
    pub role: Role,
    pub agency_id: Option<Uuid>,
    pub commune_code: Option<String>,
}

pub async fn create(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    u: &NewUser,
) -> sqlx::Result<UserRow> {
    let mut tx = db.begin().await?;
    let out = create_in(&mut tx, by, u).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn create_in(
    conn: &mut PgConnection,
    by: &By,
    u: &NewUser,
) -> sqlx::Result<UserRow> {
    let row = sqlx::query_as!(
        UserRow,
        "INSERT INTO users (username, full_name, password_hash, role, agency_id, commune_code)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, username, full_name, password_hash, role, agency_id, commune_code, disabled",
        u.username,
        u.full_name,
        u.password_hash,
        u.role.as_str(),
        u.agency_id,
        u.commune_code.as_deref()
    )
    .fetch_one(&mut *conn)
    .await?;
    audit::created(conn, by, "user", row.id, &row.audited()).await?;
    Ok(row)
}

/// Disable or re-enable an account. Returns false when no such user exists.
pub async fn set_disabled(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    disabled: bool,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = set_disabled_in(&mut tx, by, id, disabled).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn set_disabled_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    disabled: bool,
) -> sqlx::Result<bool> {
    let Some(before) = lock(conn, id).await? else {
        return Ok(false);
    };
    let after = sqlx::query_as!(
        UserRow,
        "UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1
         RETURNING id, username, full_name, password_hash, role, agency_id, commune_code, disabled",
        id,
        disabled
    )
    .fetch_one(&mut *conn)
    .await?;
    audit::updated(conn, by, "user", id, &before.audited(), &after.audited()).await?;
    Ok(true)
}

/// Replace a password hash. The audit row says the password changed, never what it is.
pub async fn set_password(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    id: Uuid,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    let out = set_password_in(&mut tx, by, id, password_hash).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn set_password_in(
    conn: &mut PgConnection,
    by: &By,
    id: Uuid,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let Some(before) = lock(conn, id).await? else {
        return Ok(false);
    };
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        id,
        password_hash
    )
    .execute(&mut *conn)
    .await?;
    let entry = audit::Entry {
        action: audit::Action::Update,
        entity: "user",
        entity_id: id.to_string(),
        before: audit::json(&before.audited()),
        after: Some(serde_json::json!({ "password": "đã thay đổi" })),
        reason: None,
    };
    audit::write(conn, by, entry).await?;
    Ok(true)
}

/// Usernames and ids for the `user list` command and the admin page.
pub async fn agencies_for_select(pool: &PgPool) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!("SELECT id, name FROM agencies ORDER BY name")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

pub async fn communes_for_select(pool: &PgPool) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("SELECT code, name FROM communes ORDER BY name")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}
