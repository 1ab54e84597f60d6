//! One failover under load, measured: the formation, the kill, the figures.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::Connection as _;

use crate::ha::AutoFailover;

/// What one failover under load showed.
#[derive(Debug)]
pub struct FailoverReport {
    /// Creating the formation (monitor, two nodes, the standby's base backup).
    pub setup: Duration,
    pub outcome: super::load::Outcome,
    /// When the primary was killed, since the load started.
    pub killed_at: Duration,
    /// From the kill to the first success after the last failed request (zero: nothing failed).
    pub back_after: Duration,
    /// Requests that failed, those answered with the Vietnamese outage page (503), the rest.
    pub failed: u64,
    pub outage_pages: u64,
    pub other_errors: u64,
    /// Pledges the app acknowledged (303), and of them those missing on the new primary and on the
    /// old one once it has rejoined as the standby.
    pub acknowledged: usize,
    pub lost_on_primary: usize,
    pub lost_on_standby: usize,
    /// Pledges left half-written (without support lines or audit row).
    pub half_written: i64,
    /// From restarting the killed node's keeper to its being the standby again.
    pub rejoined_after: Option<Duration>,
    pub old_primary: usize,
    pub new_primary: usize,
    /// What the app says when started on the standby alone (`target_session_attrs=read-write`).
    pub standby_refused: String,
    /// The size of a `giupdo backup` taken through the host list after the failover.
    pub backup_bytes: u64,
}

/// Set up pg_auto_failover under `dir`, load the demo data (plus `households`), run the load mix
/// open-loop at `rate` requests/s for `seconds` through the app (pool on the multi-host URL), kill
/// the primary node with SIGKILL after `kill_after`, then restart it and wait for it to rejoin as
/// the standby; count what failed and check every acknowledged pledge on both nodes.
pub async fn failover_run(
    dir: &Path,
    households: usize,
    rate: f64,
    seconds: u64,
    kill_after: Duration,
) -> anyhow::Result<FailoverReport> {
    use super::load;
    let t = Instant::now();
    let mut formation = AutoFailover::create(dir, "giupdo").await?;
    let setup = t.elapsed();
    let database = giupdo::db::Database::open(&giupdo::config::DbSource::Url(
        giupdo::config::Secret::new(formation.app_url()),
    ))
    .await?;
    let pool = database.pool.clone();
    giupdo::db::migrate(&pool).await?;
    giupdo::demo::load(&pool).await?;
    if households > 0 {
        super::synthetic::fill(&pool, households).await?;
    }
    let plan = load::prepare(&pool, 20).await?;
    let state = giupdo::web::AppState::new(pool.clone(), giupdo::config::WebConfig::default());
    database.follow_also(&state.sessions);
    let (base, server) = super::serve::serve_state(state).await?;
    let since = chrono::Utc::now();
    let old = formation
        .primary()
        .await?
        .context("pg_auto_failover: không có máy chính")?;
    let run = {
        let base = base.clone();
        let plan = plan.clone();
        tokio::spawn(async move {
            load::run_open(&base, &plan, 20, rate, Duration::from_secs(seconds)).await
        })
    };
    tokio::time::sleep(kill_after).await;
    let killed = Instant::now();
    formation.kill_node(old);
    let outcome = run.await??;
    let start = outcome.started.unwrap_or(killed);
    let killed_at = killed.saturating_duration_since(start);
    let last_failure = outcome
        .timeline
        .iter()
        .filter(|(at, ok)| !ok && *at >= killed_at)
        .map(|(at, _)| *at)
        .next_back();
    let back_after = match last_failure {
        Some(last) => outcome
            .timeline
            .iter()
            .find(|(at, ok)| *ok && *at > last)
            .map(|(at, _)| at.saturating_sub(killed_at))
            .unwrap_or(Duration::from_secs(seconds)),
        None => Duration::ZERO,
    };
    let failed = outcome.error_count();
    let outage_pages = outcome.outage_pages;
    server.abort();

    let new = formation
        .wait(
            Duration::from_secs(60),
            "máy dự phòng lên làm máy chính",
            || async {
                formation
                    .primary()
                    .await
                    .ok()
                    .flatten()
                    .filter(|p| *p != old)
            },
        )
        .await?;
    // The old primary comes back: its keeper rewinds it and it follows the new one.
    let t = Instant::now();
    formation.restart_node(old)?;
    let old_port = formation.ports[old];
    let rejoined_after = formation
        .wait(
            Duration::from_secs(180),
            "máy chính cũ quay lại làm máy dự phòng",
            || async {
                let s = formation.states().await.ok()?;
                s.iter()
                    .any(|n| n.port == old_port && n.reported == "secondary")
                    .then_some(())
            },
        )
        .await
        .ok()
        .map(|()| t.elapsed());

    let acknowledged = outcome.acknowledged.clone();
    let mut primary = sqlx::PgConnection::connect(&formation.node_url(new)).await?;
    let on_primary = stored_pledges(&mut primary, &acknowledged, since).await?;
    let half_written = load::half_written(&pool, since).await?;
    let lost_on_standby = if rejoined_after.is_some() {
        // Read on the standby once it has replayed everything the primary has written.
        let target: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&mut primary)
            .await?;
        let mut standby = sqlx::PgConnection::connect(&formation.node_url(old)).await?;
        formation
            .wait(
                Duration::from_secs(30),
                "máy dự phòng phát lại WAL",
                || {
                    let target = target.clone();
                    let url = formation.node_url(old);
                    async move {
                        let mut c = sqlx::PgConnection::connect(&url).await.ok()?;
                        sqlx::query_scalar::<_, bool>(
                            "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn",
                        )
                        .bind(target)
                        .fetch_one(&mut c)
                        .await
                        .ok()
                        .filter(|b| *b)
                    }
                },
            )
            .await?;
        acknowledged.len() - stored_pledges(&mut standby, &acknowledged, since).await?
    } else {
        acknowledged.len()
    };
    database.close().await?;
    // `giupdo backup` opens the database as the nightly timer does, on the same host list: the
    // dump comes from the server that takes writes now.
    let backup_bytes = {
        let db = giupdo::db::Database::open(&giupdo::config::DbSource::Url(
            giupdo::config::Secret::new(formation.app_url()),
        ))
        .await?;
        let target = giupdo::backup::Target::from_url(db.url().expose())?;
        let file =
            std::env::temp_dir().join(format!("giupdo-failover-{}.dump", uuid::Uuid::new_v4()));
        let f = file.clone();
        let bytes =
            tokio::task::spawn_blocking(move || giupdo::backup::backup(&target, &f)).await?;
        let _ = fs::remove_file(&file);
        db.close().await?;
        bytes?
    };
    let standby_only = format!(
        "postgres://postgres@localhost:{}/{}?target_session_attrs=read-write&sslmode=disable",
        formation.ports[old], formation.database
    );
    let standby_refused = match giupdo::db::Database::open(&giupdo::config::DbSource::Url(
        giupdo::config::Secret::new(standby_only),
    ))
    .await
    {
        Ok(db) => {
            db.close().await?;
            "mở được: máy dự phòng bị coi là máy chính".to_string()
        }
        Err(e) => e.to_string(),
    };
    formation.destroy();
    Ok(FailoverReport {
        setup,
        killed_at,
        back_after,
        failed,
        outage_pages,
        other_errors: failed - outage_pages.min(failed),
        lost_on_primary: acknowledged.len() - on_primary,
        acknowledged: acknowledged.len(),
        lost_on_standby,
        half_written,
        rejoined_after,
        old_primary: old,
        new_primary: new,
        standby_refused,
        backup_bytes,
        outcome,
    })
}

/// How many of these households have a pledge, with its support lines, made since `since`.
async fn stored_pledges(
    conn: &mut sqlx::PgConnection,
    households: &[uuid::Uuid],
    since: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<usize> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT s.household_id) FROM sponsorships s
         WHERE s.household_id = ANY($1) AND s.created_at >= $2
           AND EXISTS (SELECT 1 FROM support_lines l WHERE l.sponsorship_id = s.id)",
    )
    .bind(households)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(n as usize)
}
