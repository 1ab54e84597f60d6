//! Failed sign-ins, kept in PostgreSQL so the throttle holds across instances and restarts. The
//! rules (limits, window, messages) are `domain::accounts::throttle`'s.

use sqlx::PgPool;

use crate::domain::accounts::throttle::{self, ACCOUNT_FAILURES, ADDRESS_ACCOUNTS, WINDOW_MINUTES};

/// A sign-in that succeeded: the account's failures are forgotten and the sign-in is audited, in
/// one transaction.
pub async fn signed_in(
    pool: &PgPool,
    by: &super::audit::By,
    username: &str,
    user: uuid::Uuid,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    clear(&mut tx, username).await?;
    super::audit::write(
        &mut tx,
        by,
        super::audit::Entry {
            action: super::audit::Action::Login,
            entity: "session",
            entity_id: user.to_string(),
            before: None,
            after: None,
            reason: None,
        },
    )
    .await?;
    tx.commit().await
}

/// Whether a sign-in to `username` from `ip` is refused now, and until when.
pub async fn refusal(
    pool: &PgPool,
    username: &str,
    ip: &str,
) -> sqlx::Result<Option<throttle::Refusal>> {
    // Account: the seconds until the oldest of its last N failures leaves the window. Address:
    // the seconds until the N-th most recently failed account (its latest failure) leaves it.
    let r = sqlx::query!(
        r#"SELECT
            (SELECT ceil(extract(epoch FROM a.at + make_interval(mins => $3) - now()))::bigint
             FROM login_attempts a
             WHERE a.username = $1 AND a.at > now() - make_interval(mins => $3)
             ORDER BY a.at DESC OFFSET $4::bigint - 1 LIMIT 1) AS account,
            (SELECT ceil(extract(epoch FROM x.last + make_interval(mins => $3) - now()))::bigint
             FROM (SELECT username, max(at) AS last FROM login_attempts
                   WHERE ip = $2 AND at > now() - make_interval(mins => $3)
                   GROUP BY username) x
             ORDER BY x.last DESC OFFSET $5::bigint - 1 LIMIT 1) AS address"#,
        username,
        ip,
        WINDOW_MINUTES as i32,
        ACCOUNT_FAILURES,
        ADDRESS_ACCOUNTS
    )
    .fetch_one(pool)
    .await?;
    Ok(throttle::decide(r.account, r.address))
}

/// Remember a failed sign-in (and forget those older than a day).
pub async fn record_failure(pool: &PgPool, username: &str, ip: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO login_attempts (username, ip) VALUES ($1, $2)",
        username,
        ip
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM login_attempts WHERE at < now() - interval '1 day'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// A successful sign-in clears the account's failures.
pub async fn clear(conn: &mut sqlx::PgConnection, username: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM login_attempts WHERE username = $1", username)
        .execute(conn)
        .await?;
    Ok(())
}
