//! `giupdo-bench registry`: importing CSV and xlsx files, then the household list at scale.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use sqlx::PgPool;
use tower::ServiceExt as _;

use giupdo::config::WebConfig;
use giupdo::db::audit::By;
use giupdo::db::users::{self, NewUser};
use giupdo::domain::roles::Role;
use giupdo::web::{self, AppState};

use crate::fill;
use giupdo_bench::kit::synthetic::{csv_file, xlsx_file};
use giupdo_bench::kit::{Latency, latency};

async fn time_import(
    pool: &PgPool,
    bytes: &[u8],
    name: &str,
) -> anyhow::Result<(usize, Duration, Duration)> {
    use giupdo::import::households::{Target, commit, preview};
    let t0 = Instant::now();
    let table = giupdo::import::read_table(bytes, name).map_err(anyhow::Error::msg)?;
    let p = preview(
        pool,
        &table,
        &Target::default(),
        2024,
        giupdo::domain::duplicates::Thresholds::default(),
    )
    .await?;
    if !p.problems.is_empty() {
        bail!(
            "bench file has problems: {:?}",
            &p.problems[..p.problems.len().min(3)]
        );
    }
    let checked = t0.elapsed();
    let drafts: Vec<_> = p.rows.into_iter().map(|(_, d)| d).collect();
    let t1 = Instant::now();
    let n = commit(
        pool,
        &By::system("bench"),
        &drafts,
        name,
        None,
        Some("bench"),
    )
    .await?;
    Ok((n as usize, checked, t1.elapsed()))
}

pub(crate) async fn registry(
    pool: &PgPool,
    households: usize,
    import_rows: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let villages: Vec<(String, String)> =
        sqlx::query_as("SELECT commune_code, name FROM villages ORDER BY commune_code, name")
            .fetch_all(pool)
            .await?;

    println!("## Import ({import_rows} rows per file)\n");
    println!("| format | rows | read + check (s) | write (s) | total rows/s |");
    println!("|---|---:|---:|---:|---:|");
    let csv = csv_file(0..import_rows, &villages)?;
    let (n, check, write) = time_import(pool, &csv, "bench.csv").await?;
    println!(
        "| CSV | {n} | {:.2} | {:.2} | {:.0} |",
        check.as_secs_f64(),
        write.as_secs_f64(),
        n as f64 / (check + write).as_secs_f64()
    );
    let xlsx = xlsx_file(import_rows..2 * import_rows, &villages)?;
    let (n, check, write) = time_import(pool, &xlsx, "bench.xlsx").await?;
    println!(
        "| xlsx | {n} | {:.2} | {:.2} | {:.0} |",
        check.as_secs_f64(),
        write.as_secs_f64(),
        n as f64 / (check + write).as_secs_f64()
    );

    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(pool)
        .await?;
    let need = households.saturating_sub(have as usize);
    let t = Instant::now();
    fill(pool, need).await?;
    println!(
        "\nFilled to {households} households in {:.1} s.\n",
        t.elapsed().as_secs_f64()
    );

    let (app, cookie) = signed_in_app(pool).await?;
    let a_cccd: String = sqlx::query_scalar(
        "SELECT cccd FROM households WHERE cccd IS NOT NULL LIMIT 1 OFFSET 5000",
    )
    .fetch_one(pool)
    .await?;
    // Page 100 of the list by name: the page after the 4.950th household in that order (the
    // pager's links carry the last household of a page, not a page number).
    let page_100_after: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM households WHERE merged_into IS NULL ORDER BY head_name_key, id OFFSET 4949 LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let scenarios = [
        ("list, page 1", "/ho".to_string()),
        (
            "list, page 100",
            format!("/ho?sau={page_100_after}&trang=100"),
        ),
        (
            "search name without diacritics",
            "/ho?q=hoang+van+thu".to_string(),
        ),
        ("search rare name", "/ho?q=lang+thi+nga".to_string()),
        ("search CCCD", format!("/ho?q={a_cccd}")),
        (
            "commune + priority filter",
            "/ho?xa=06073&uu_tien=co".to_string(),
        ),
        (
            "never helped, by status",
            "/ho?da_giup=khong&sap_xep=tinh-trang".to_string(),
        ),
    ];
    println!(
        "## Household list/search with {households} households ({requests} requests each, in-process)\n"
    );
    println!("| scenario | p50 (ms) | p95 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|");
    for (name, path) in scenarios {
        let Latency { p50, p95, max, .. } =
            latency(&time_get(&app, &cookie, &path, requests).await?);
        println!("| {name} | {p50:.1} | {p95:.1} | {max:.1} |");
    }
    Ok(())
}

/// The app itself, in-process, and the session cookie of a clerk signed in to it.
pub(crate) async fn signed_in_app(pool: &PgPool) -> anyhow::Result<(axum::Router, String)> {
    let password = "bench-mat-khau-123".to_string();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = 'bench.clerk')")
            .fetch_one(pool)
            .await?;
    if !exists {
        let mut tx = pool.begin().await?;
        users::create(
            &mut tx,
            &By::system("bench"),
            &NewUser {
                username: "bench.clerk".into(),
                full_name: "Bench".into(),
                password_hash: password_auth::generate_hash(&password),
                role: Role::Clerk,
                agency_id: None,
                commune_code: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    let app = web::app(AppState::new(pool.clone(), WebConfig::default()));
    let peer = ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9)));
    let mut login = Request::post("/dang-nhap")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username=bench.clerk&password={password}"
        )))?;
    login.extensions_mut().insert(peer);
    let resp = app.clone().oneshot(login).await?;
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("bench login failed")?
        .to_string();
    Ok((app, cookie))
}

/// `requests` timed GETs of `path` (after 3 untimed ones), each body read in full.
pub(crate) async fn time_get(
    app: &axum::Router,
    cookie: &str,
    path: &str,
    requests: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests + 3 {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())?;
        let t = Instant::now();
        let resp = app.clone().oneshot(req).await?;
        let status = resp.status();
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
        if !status.is_success() {
            bail!("{path}: {status}");
        }
        if i >= 3 {
            times.push(t.elapsed());
        }
    }
    Ok(times)
}
