//! The web shell: home page from the database, error pages, health, static files, headers.

use chrono::{FixedOffset, NaiveDate, Utc};

use crate::harness::TestApp;

fn today_in_vietnam() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
}

#[tokio::test]
async fn home_page_shows_the_current_campaign_and_days_to_its_deadlines() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.text.starts_with("<!doctype html>\n<html lang=\"vi\">"));
    assert_eq!(
        page.text_of("#campaign-title"),
        "Nhận giúp đỡ hộ nghèo theo địa chỉ năm 2024"
    );
    assert_eq!(page.text_of("#deadline-registration .date"), "15/07/2024");
    assert_eq!(page.text_of("#deadline-report .date"), "31/07/2024");
    assert_eq!(page.text_of("#target .date"), "8.000.000 đ");

    // The days are counted from today in Việt Nam, not hard-coded.
    let days = |d: NaiveDate| (d - today_in_vietnam()).num_days();
    let expected = |n: i64| match n {
        n if n < 0 => format!("Đã quá hạn {} ngày", -n),
        0 => "Hạn chót là hôm nay".to_string(),
        n => format!("Còn {n} ngày"),
    };
    let reg = NaiveDate::from_ymd_opt(2024, 7, 15).unwrap();
    assert_eq!(
        page.text_of("#deadline-registration .left"),
        expected(days(reg))
    );
    let priority = page.text_of(".priority");
    assert!(
        priority.contains("Xã Hoa Thám") && priority.contains("Xã Thiện Thuật"),
        "{priority}"
    );
}

#[tokio::test]
async fn a_clerk_changing_a_deadline_changes_the_home_page() {
    let app = TestApp::spawn().await;
    let soon = today_in_vietnam() + chrono::Duration::days(5);
    sqlx::query("UPDATE campaigns SET registration_deadline = $1, report_deadline = $1 + 10 WHERE is_current")
        .bind(soon)
        .execute(app.pool())
        .await
        .unwrap();
    let page = app.get("/").await;
    assert_eq!(page.text_of("#deadline-registration .left"), "Còn 5 ngày");
    assert_eq!(page.text_of("#deadline-report .left"), "Còn 15 ngày");
    assert_eq!(page.count("#deadline-registration.tone-soon"), 1);
}

#[tokio::test]
async fn home_page_figures_come_from_the_demo_data() {
    let app = TestApp::spawn().await;
    giupdo::demo::load(app.pool()).await.expect("demo loads");
    let (agencies, households): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM agencies), (SELECT count(*) FROM households)")
            .fetch_one(app.pool())
            .await
            .unwrap();
    let confirmed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         WHERE c.is_current AND s.state IN ('confirmed', 'delivering', 'target_reached', 'follow_up')",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(
        agencies >= 35 && households >= 500,
        "demo is about 40 agencies and 600 households"
    );
    let page = app.get("/").await;
    let figures: Vec<(String, String)> = page
        .texts(".figure dt")
        .into_iter()
        .zip(page.texts(".figure dd"))
        .collect();
    let figure = |label: &str| {
        figures
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        figure("Cơ quan, đơn vị"),
        giupdo::domain::money::group_thousands(agencies)
    );
    assert_eq!(
        figure("Hộ nghèo, cận nghèo trong sổ"),
        giupdo::domain::money::group_thousands(households)
    );
    assert_eq!(figure("Đã được xã xác nhận"), confirmed.to_string());
}

#[tokio::test]
async fn demo_load_is_idempotent() {
    let app = TestApp::spawn().await;
    let first = giupdo::demo::load(app.pool()).await.unwrap();
    assert!(first.households >= 500);
    let pool = app.pool().clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = (
        count("SELECT count(*) FROM households").await,
        count("SELECT count(*) FROM sponsorships").await,
        count("SELECT count(*) FROM users").await,
    );
    let second = giupdo::demo::load(app.pool()).await.unwrap();
    assert_eq!(
        (second.households, second.sponsorships, second.agencies),
        (0, 0, 0)
    );
    let after = (
        count("SELECT count(*) FROM households").await,
        count("SELECT count(*) FROM sponsorships").await,
        count("SELECT count(*) FROM users").await,
    );
    assert_eq!(before, after);
    // One account per role, with the agency, school and commune accounts the README names.
    let roles: Vec<String> = sqlx::query_scalar("SELECT DISTINCT role FROM users ORDER BY role")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(roles, ["admin", "agency", "clerk", "commune"]);
    // Every CCCD of the demo is valid in form: Lạng Sơn's 020, century digit, birth year.
    let bad: i64 = count(
        "SELECT count(*) FROM households WHERE cccd IS NOT NULL AND NOT (
            cccd LIKE '020%' AND substr(cccd, 5, 2) = lpad((birth_year % 100)::text, 2, '0')
            AND substr(cccd, 4, 1) = CASE WHEN gender = 'male' THEN '0' ELSE '1' END)",
    )
    .await;
    assert_eq!(bad, 0);
}

#[tokio::test]
async fn unknown_routes_get_a_vietnamese_404_with_a_request_id() {
    let app = TestApp::spawn().await;
    let page = app.get("/khong-co-trang-nay").await;
    assert_eq!(page.status, 404);
    assert_eq!(page.text_of("h1"), "Không tìm thấy trang");
    let request_id = page.header("x-request-id").expect("request id header");
    assert_eq!(page.text_of(".request-id"), request_id);
}

#[tokio::test]
async fn a_wrong_method_gets_a_vietnamese_page_too() {
    let app = TestApp::spawn().await;
    let resp = app.client.delete(app.url("/")).send().await.unwrap();
    let page = crate::harness::Page::from(resp).await;
    assert_eq!(page.status, 405);
    assert_eq!(page.text_of("h1"), "Thao tác không được hỗ trợ");
}

#[tokio::test]
async fn healthz_reports_the_database() {
    let app = TestApp::spawn().await;
    let page = app.get("/healthz").await;
    assert_eq!(page.status, 200);
    let json: serde_json::Value = serde_json::from_str(&page.text).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["database"], true);
}

#[tokio::test]
async fn static_files_are_cached_and_compressed() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/static/app.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let missing = app.get("/static/khong-co.css").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/dang-nhap", "/khong-co"] {
        let page = app.get(path).await;
        let csp = page.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(
            page.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            page.header("referrer-policy").as_deref(),
            Some("same-origin")
        );
        // No inline script anywhere: every <script> has a src.
        assert_eq!(page.count("script:not([src])"), 0, "{path}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(giupdo::web::BODY_LIMIT + 10);
    let resp = app
        .client
        .post(app.url("/dang-nhap"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={big}"))
        .send()
        .await
        .unwrap();
    let page = crate::harness::Page::from(resp).await;
    assert_eq!(page.status, 413);
    assert_eq!(page.text_of("h1"), "Dữ liệu gửi lên quá lớn");
}

/// Issue #17: the one table of constraint → form field names constraints the schema has, on the
/// tables it says; a migration renaming one would otherwise turn a clear message into an error
/// page, silently.
#[tokio::test]
async fn every_constraint_the_forms_explain_exists_in_the_schema() {
    let app = TestApp::spawn().await;
    for r in giupdo::db::constraints::REFUSALS {
        let table: Option<String> = sqlx::query_scalar(
            // A named constraint, or a unique index (PostgreSQL names either in the error).
            "SELECT coalesce(
                 (SELECT c.conrelid::regclass::text FROM pg_constraint c WHERE c.conname = $1),
                 (SELECT i.indrelid::regclass::text FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                   WHERE x.relname = $1 AND i.indisunique))",
        )
        .bind(r.constraint)
        .fetch_optional(app.pool())
        .await
        .unwrap();
        assert_eq!(
            table.as_deref(),
            Some(r.table),
            "{} should be a constraint or unique index of {}",
            r.constraint,
            r.table
        );
        assert!(!r.message.is_empty() && r.message.ends_with('.'));
    }
}
