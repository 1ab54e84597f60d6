//! What an IT officer running the service sees: the Prometheus metrics on their own address, the
//! log as a file or journald gets it, and the national (Citus) plan kept true to the schema.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use giupdo::domain::roles::Role;
use reqwest::multipart::{Form, Part};

use crate::harness::{TestApp, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_giupdo");

/// The value of the first sample line of `/metrics` that starts with `series` (0 if none).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_routes_pools_failed_logins_and_imports_on_their_own_address() {
    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let router = giupdo::web::metrics::router(vec![("app", app.pool().clone())]);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let scrape = || async {
        reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;

    // A few requests as users make them.
    assert_eq!(app.get("/dang-nhap").await.status, 200);
    assert_eq!(app.get("/dang-nhap").await.status, 200);
    let (_, password) = app.user("can.bo.huyen", Role::Clerk, None, None).await;
    let wrong = app
        .post(
            "/dang-nhap",
            &[("username", "can.bo.huyen"), ("password", "sai-mat-khau-1")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    app.login("can.bo.huyen", &password).await;
    let refused = app
        .client
        .post(app.url("/ho/nhap"))
        .multipart(Form::new().part(
            "tep",
            Part::bytes(b"not a spreadsheet at all".to_vec()).file_name("danh-sach.pdf"),
        ))
        .send()
        .await
        .unwrap();
    // Kept for its preview, which lists what is wrong; confirming it is refused.
    assert_eq!(refused.status(), 303);
    let preview = refused.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(app.post(&preview, &[]).await.status, 422);

    let after = scrape().await;
    let login_page = r#"giupdo_http_requests_total{method="GET",route="/dang-nhap",status="200"}"#;
    assert!(
        sample(&after, login_page) >= sample(&before, login_page) + 2.0,
        "{after}"
    );
    assert!(
        after.contains(r#"giupdo_http_request_duration_seconds_bucket{method="GET",route="/dang-nhap",le="0.05"}"#),
        "latency per route: {after}"
    );
    let failures = r#"giupdo_login_failures_total{reason="wrong_password"}"#;
    assert!(sample(&after, failures) >= sample(&before, failures) + 1.0);
    let imports = r#"giupdo_imports_total{outcome="refused"}"#;
    assert!(sample(&after, imports) >= sample(&before, imports) + 1.0);
    assert!(
        after.contains(r#"giupdo_db_pool_connections{pool="app",state="in_use"}"#)
            && after.contains(r#"giupdo_db_pool_connections{pool="app",state="max"} 16"#),
        "{after}"
    );
    // Never on the public address.
    assert_eq!(app.get("/metrics").await.status, 404);
}

/// Run `giupdo serve` on the test database with stderr to a file, make a request, stop it;
/// return the log file's text.
async fn serve_log(env: &[(&str, &str)]) -> String {
    let db = TestDb::new().await;
    let log = std::env::temp_dir().join(format!("giupdo-log-{}.txt", uuid::Uuid::new_v4()));
    let file = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "giupdo=info,tower_http=info")
        .env_remove("GIUPDO_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.strip_prefix("giupdo đang phục vụ tại http://") {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let resp = reqwest::get(format!("http://{addr}/khong-co-trang-nay"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    text
}

#[tokio::test]
async fn a_log_redirected_to_a_file_has_no_escape_sequences_and_json_gives_one_object_a_line() {
    let text = serve_log(&[]).await;
    assert!(text.contains("listening"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape sequences in the log: {text:?}"
    );

    let json = serve_log(&[("GIUPDO_LOG_FORMAT", "json")]).await;
    let objects: Vec<serde_json::Value> = json
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        objects
            .iter()
            .any(|o| o["fields"]["message"] == "listening" && o["level"] == "INFO"),
        "{json}"
    );
    assert!(!json.contains('\u{1b}'));
}

/// The national plan (docs/deployment.md): every table of the schema with its Citus distribution column or
/// "reference" / "coordinator". A table added without a line there fails this test.
#[tokio::test]
async fn every_table_is_classified_in_the_national_citus_plan() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deployment.md"))
            .unwrap();
    let start = readme
        .find("<!-- citus:start -->")
        .expect("citus table start marker");
    let end = readme
        .find("<!-- citus:end -->")
        .expect("citus table end marker");
    let mut planned = BTreeSet::new();
    let mut future = BTreeSet::new();
    for line in readme[start..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || cells[1].starts_with("bảng") || cells[1].starts_with("---") {
            continue;
        }
        let table = cells[1].trim_matches('`').to_string();
        assert!(
            !cells[2].is_empty(),
            "{table}: no distribution column or kind in the plan"
        );
        if cells[3].contains("dự kiến") {
            future.insert(table);
        } else {
            planned.insert(table);
        }
    }
    let db = TestDb::new().await;
    // The session store's table is created by the app at start, beside the migrations.
    giupdo::db::migrate(&db.pool).await.unwrap();
    let tables: BTreeSet<String> = sqlx::query_scalar(
        "SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let unclassified: Vec<_> = tables.difference(&planned).collect();
    assert!(
        unclassified.is_empty(),
        "tables missing from the Citus plan in docs/deployment.md: {unclassified:?}"
    );
    let stale: Vec<_> = planned.difference(&tables).collect();
    assert!(
        stale.is_empty(),
        "the Citus plan lists tables that do not exist (mark planned ones \"dự kiến\"): {stale:?}"
    );
    let built: Vec<_> = future.intersection(&tables).collect();
    assert!(
        built.is_empty(),
        "tables marked \"dự kiến\" now exist: {built:?}"
    );
}
