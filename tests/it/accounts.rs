//! Accounts and security: login, sessions, throttling, CSRF, audit trail, escaping, personal data.

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};

use giupdo::config::WebConfig;
use giupdo::domain::roles::Role;
use giupdo::web::AppState;

use crate::fixtures::{CCCD_X, COMMUNE_X, COMMUNE_Y, world};
use crate::harness::{Page, TestApp, client, serve};

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .unwrap()
}

async fn post_login(
    app: &TestApp,
    c: &reqwest::Client,
    username: &str,
    password: &str,
    next: &str,
) -> Page {
    let form = [
        ("username", username),
        ("password", password),
        ("tiep", next),
    ];
    Page::from(
        c.post(app.url("/dang-nhap"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn get_with(app: &TestApp, c: &reqwest::Client, path: &str) -> Page {
    Page::from(c.get(app.url(path)).send().await.unwrap()).await
}

#[tokio::test]
async fn each_role_lands_on_its_page_and_the_redirect_target_is_only_ever_local() {
    let app = TestApp::spawn().await;
    let (_, admin_pw) = app.user("admin1", Role::Admin, None, None).await;
    let (_, clerk_pw) = app.user("clerk1", Role::Clerk, None, None).await;

    let c = client();
    let page = post_login(&app, &c, "admin1", &admin_pw, "").await;
    assert_eq!(page.location().as_deref(), Some("/quan-tri/nguoi-dung"));
    for (next, expected) in [
        ("/nhat-ky?trang=2", "/nhat-ky?trang=2"),
        ("//evil.example/x", "/bang-dieu-khien"),
        ("https://evil.example/", "/bang-dieu-khien"),
        ("/\\evil.example", "/bang-dieu-khien"),
    ] {
        let c = client();
        let page = post_login(&app, &c, "clerk1", &clerk_pw, next).await;
        assert_eq!(page.location().as_deref(), Some(expected), "next={next}");
    }

    // An anonymous visit to a protected page goes to the login page and comes back after it.
    let c = client();
    let page = get_with(&app, &c, "/nhat-ky").await;
    assert_eq!(page.location().as_deref(), Some("/dang-nhap?tiep=/nhat-ky"));
    let form = get_with(&app, &c, "/dang-nhap?tiep=/nhat-ky").await;
    assert_eq!(form.count("input[name=tiep][value='/nhat-ky']"), 1);
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    app.user("clerk1", Role::Clerk, None, None).await;
    let wrong = post_login(&app, &client(), "clerk1", "sai-mat-khau-nhe", "").await;
    let unknown = post_login(&app, &client(), "khong.ai", "sai-mat-khau-nhe", "").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(
        unknown.text_of(".flash-error"),
        wrong.text_of(".flash-error")
    );
    assert_eq!(
        wrong.text_of(".flash-error"),
        "Tên đăng nhập hoặc mật khẩu không đúng."
    );
    // The form comes back with what was typed (never the password).
    assert_eq!(wrong.count("input[name=username][value=clerk1]"), 1);
    assert!(!wrong.text.contains("sai-mat-khau-nhe"));
}

/// A sign-in through a proxy that says who its client was.
async fn post_login_via(
    app: &TestApp,
    c: &reqwest::Client,
    forwarded_for: &str,
    username: &str,
    password: &str,
) -> Page {
    Page::from(
        c.post(app.url("/dang-nhap"))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn retry_after(p: &Page) -> u64 {
    p.header("retry-after")
        .expect("429 says when to retry")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn five_failures_lock_that_account_only_not_the_office_behind_one_address() {
    let app = TestApp::spawn().await;
    let (_, pw1) = app.user("nguoi.mot", Role::Clerk, None, None).await;
    let (_, pw2) = app.user("nguoi.hai", Role::Clerk, None, None).await;

    // Five wrong passwords for one account, from the office's one address (its NAT)...
    let office = client_from([127, 0, 0, 2]);
    for _ in 0..5 {
        assert_eq!(
            post_login(&app, &office, "nguoi.mot", "doan-bua-di", "")
                .await
                .status,
            401
        );
    }
    // ...refuse that account, even with the right password from another address, saying so...
    let elsewhere = client_from([127, 0, 0, 3]);
    let refused = post_login(&app, &elsewhere, "nguoi.mot", &pw1, "").await;
    assert_eq!(refused.status, 429);
    let wait = retry_after(&refused);
    assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");
    let msg = refused.text_of(".flash-error");
    assert!(msg.contains("Tài khoản «nguoi.mot»"), "{msg}");
    assert!(
        msg.contains(&format!("sau {} phút", wait.div_ceil(60))),
        "{msg}"
    );
    assert!(refused.count("input[name=username][value='nguoi.mot']") == 1);
    // ...and nobody else in the office: a colleague signs in from the same address.
    assert_eq!(
        post_login(&app, &office, "nguoi.hai", &pw2, "")
            .await
            .status,
        303
    );

    // Typos of usernames that do not exist, from one address, close no one out.
    let typist = client_from([127, 0, 0, 5]);
    for name in [
        "nguoi.haj",
        "nguoj.hai",
        "nguoi,hai",
        "ngoui.hai",
        "nguoi.ha1",
        "nguoihai",
    ] {
        post_login(&app, &typist, name, "doan-bua-di", "").await;
    }
    assert_eq!(
        post_login(&app, &client_from([127, 0, 0, 5]), "nguoi.hai", &pw2, "")
            .await
            .status,
        303
    );

    // Kept in PostgreSQL: a new app instance on the same database refuses the account too.
    let db = app.stop();
    let (addr, _server) = serve(AppState::new(db.pool.clone(), WebConfig::default())).await;
    let again = Page::from(
        client_from([127, 0, 0, 3])
            .post(format!("http://{addr}/dang-nhap"))
            .form(&[("username", "nguoi.mot"), ("password", pw1.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, 429);
}

#[tokio::test]
async fn an_address_spraying_many_accounts_is_slowed_and_another_address_is_not() {
    use giupdo::domain::accounts::throttle::ADDRESS_ACCOUNTS;
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("nguoi.hai", Role::Clerk, None, None).await;
    let sprayer = client_from([127, 0, 0, 4]);
    for i in 0..ADDRESS_ACCOUNTS {
        let p = post_login(
            &app,
            &sprayer,
            &format!("tai.khoan.{i}"),
            "mat-khau-pho-bien",
            "",
        )
        .await;
        assert_eq!(p.status, 401, "attempt {i} is still answered");
    }
    let refused = post_login(&app, &sprayer, "nguoi.hai", &pw, "").await;
    assert_eq!(refused.status, 429);
    assert!(retry_after(&refused) >= 1);
    let msg = refused.text_of(".flash-error");
    assert!(msg.contains("Từ địa chỉ mạng 127.0.0.4"), "{msg}");
    // The account itself is not throttled: the right password from a new address works.
    assert_eq!(
        post_login(&app, &client_from([127, 0, 0, 7]), "nguoi.hai", &pw, "")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_apart() {
    use giupdo::domain::accounts::throttle::ADDRESS_ACCOUNTS;
    let app = TestApp::spawn_with(WebConfig {
        trusted_proxies: vec![giupdo::config::parse_trusted_proxy("127.0.0.1/32").unwrap()],
        ..WebConfig::default()
    })
    .await;
    let (_, pw) = app.user("nguoi.hai", Role::Clerk, None, None).await;
    // The proxy (127.0.0.1) forwards two clients; one of them sprays accounts.
    let proxy = client_from([127, 0, 0, 1]);
    for i in 0..ADDRESS_ACCOUNTS {
        post_login_via(
            &app,
            &proxy,
            "198.51.100.1",
            &format!("tk.{i}"),
            "sai-roi-sai-roi",
        )
        .await;
    }
    let locked = post_login_via(&app, &proxy, "198.51.100.1", "nguoi.hai", &pw).await;
    assert_eq!(locked.status, 429);
    assert!(locked.text_of(".flash-error").contains("198.51.100.1"));
    // The other client behind the same proxy is not locked. A forged left-most entry is ignored:
    // nginx appends the real address on the right.
    let other = post_login_via(
        &app,
        &client(),
        "198.51.100.1, 198.51.100.2",
        "nguoi.hai",
        &pw,
    )
    .await;
    assert_eq!(other.status, 303, "{}", other.text);

    // Without the setting the header is ignored: the same spray from 127.0.0.6 with made-up
    // forwarded addresses locks 127.0.0.6 itself.
    let plain = TestApp::spawn().await;
    let (_, pw) = plain.user("nguoi.hai", Role::Clerk, None, None).await;
    let c = client_from([127, 0, 0, 6]);
    for i in 0..ADDRESS_ACCOUNTS {
        post_login_via(
            &plain,
            &c,
            &format!("203.0.113.{i}"),
            &format!("tk.{i}"),
            "sai-roi-sai-roi",
        )
        .await;
    }
    let locked = post_login_via(&plain, &c, "203.0.113.200", "nguoi.hai", &pw).await;
    assert_eq!(locked.status, 429);
    assert!(locked.text_of(".flash-error").contains("127.0.0.6"));
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_secure_when_configured_and_renewed_at_login() {
    let app = TestApp::spawn().await;
    let (_, pw1) = app.user("nguoi.mot", Role::Clerk, None, None).await;
    let (_, pw2) = app.user("nguoi.hai", Role::Clerk, None, None).await;
    let c = client();
    let first = post_login(&app, &c, "nguoi.mot", &pw1, "").await;
    let cookie = first.header("set-cookie").expect("session cookie");
    assert!(cookie.starts_with("giupdo_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    let second = post_login(&app, &c, "nguoi.hai", &pw2, "").await;
    let renewed = second.header("set-cookie").expect("renewed cookie");
    assert_ne!(id(&cookie), id(&renewed), "the session id changes at login");

    let secure = TestApp::spawn_with(WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    })
    .await;
    let (_, pw) = secure.user("nguoi.ba", Role::Clerk, None, None).await;
    let page = post_login(&secure, &client(), "nguoi.ba", &pw, "").await;
    assert!(page.header("set-cookie").unwrap().contains("Secure"));
}

#[tokio::test]
async fn a_session_survives_a_server_restart_and_works_on_a_second_instance() {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("clerk1", Role::Clerk, None, None).await;
    app.login("clerk1", &pw).await;
    let client = app.client.clone();
    let db = app.stop();
    // Two new instances on the same database: the cookie from the first works on both.
    let (addr1, _s1) = serve(AppState::new(db.pool.clone(), WebConfig::default())).await;
    let (addr2, _s2) = serve(AppState::new(db.pool.clone(), WebConfig::default())).await;
    for addr in [addr1, addr2] {
        let page = Page::from(
            client
                .get(format!("http://{addr}/bang-dieu-khien"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 200, "signed in on {addr}");
        assert!(page.text_of(".muted").contains("Người dùng clerk1"));
    }
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_at_once_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (admin, admin_pw) = &w.logins[0];
    let (clerk, clerk_pw) = &w.logins[1];
    let clerk_browser = client();
    app.login_with(&clerk_browser, clerk, clerk_pw).await;
    assert_eq!(
        get_with(&app, &clerk_browser, "/bang-dieu-khien")
            .await
            .status,
        200
    );

    app.login(admin, admin_pw).await;
    let page = app
        .post(&format!("/quan-tri/nguoi-dung/{}/khoa", w.user_ids[1]), &[])
        .await;
    assert_eq!(page.status, 303);
    let list = app.get("/quan-tri/nguoi-dung").await;
    assert!(list.text_of(".flash-ok").contains("Đã khóa tài khoản"));
    assert_eq!(
        list.text_of("tr[data-username=clerk1] td:nth-child(5)"),
        "Đã khóa"
    );

    let after = get_with(&app, &clerk_browser, "/bang-dieu-khien").await;
    assert_eq!(after.status, 303);
    assert!(after.location().unwrap().starts_with("/dang-nhap"));
    let login = post_login(&app, &client(), clerk, clerk_pw, "").await;
    assert_eq!(login.status, 403);
    assert!(login.text_of(".flash-error").contains("đã bị khóa"));

    // An admin cannot lock themselves out.
    app.post(&format!("/quan-tri/nguoi-dung/{}/khoa", w.user_ids[0]), &[])
        .await;
    assert!(
        app.get("/quan-tri/nguoi-dung")
            .await
            .text_of(".flash-error")
            .contains("chính mình")
    );
}

#[tokio::test]
async fn changing_ones_password_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("clerk1", Role::Clerk, None, None).await;
    app.login("clerk1", &pw).await;
    let laptop = client();
    app.login_with(&laptop, "clerk1", &pw).await;

    let wrong = app
        .post(
            "/tai-khoan/mat-khau",
            &[
                ("current", "khong-dung"),
                ("new_password", "mat-khau-moi-123"),
                ("confirm", "mat-khau-moi-123"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.text_of(".flash-error"),
        "Mật khẩu hiện tại không đúng."
    );
    let short = app
        .post(
            "/tai-khoan/mat-khau",
            &[
                ("current", &pw),
                ("new_password", "ngan"),
                ("confirm", "ngan"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.text_of(".flash-error").contains("ít nhất 10 ký tự"));
    let mismatch = app
        .post(
            "/tai-khoan/mat-khau",
            &[
                ("current", &pw),
                ("new_password", "mat-khau-moi-123"),
                ("confirm", "mat-khau-moi-124"),
            ],
        )
        .await;
    assert_eq!(
        mismatch.text_of(".flash-error"),
        "Mật khẩu nhập lại không khớp."
    );

    let ok = app
        .post(
            "/tai-khoan/mat-khau",
            &[
                ("current", &pw),
                ("new_password", "mat-khau-moi-123"),
                ("confirm", "mat-khau-moi-123"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(
        app.get("/bang-dieu-khien").await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        get_with(&app, &laptop, "/bang-dieu-khien").await.status,
        303,
        "other sessions end"
    );
    assert_eq!(
        post_login(&app, &client(), "clerk1", &pw, "").await.status,
        401
    );
    assert_eq!(
        post_login(&app, &client(), "clerk1", "mat-khau-moi-123", "")
            .await
            .status,
        303
    );
}

#[tokio::test]
async fn an_admin_reset_password_is_shown_once_and_works() {
    let app = TestApp::spawn().await;
    let (_, admin_pw) = app.user("admin1", Role::Admin, None, None).await;
    let (clerk, old_pw) = app.user("clerk1", Role::Clerk, None, None).await;
    app.login("admin1", &admin_pw).await;
    let page = app
        .post(&format!("/quan-tri/nguoi-dung/{clerk}/dat-mat-khau"), &[])
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let new_pw = page.text_of("code.new-password");
    assert_eq!(new_pw.len(), 16);
    assert_eq!(
        post_login(&app, &client(), "clerk1", &old_pw, "")
            .await
            .status,
        401
    );
    assert_eq!(
        post_login(&app, &client(), "clerk1", &new_pw, "")
            .await
            .status,
        303
    );
    // The audit trail records that it changed, never the password or its hash.
    let after: serde_json::Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE entity = 'user' AND entity_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(clerk.to_string())
    .fetch_one(app.pool())
    .await
    .unwrap();
    let all: String = sqlx::query_scalar("SELECT coalesce(string_agg(coalesce(before::text,'') || coalesce(after::text,''), ' '), '') FROM audit_log")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(after["password"], "đã thay đổi");
    assert!(!all.contains(&new_pw) && !all.contains("$argon2"));
}

#[tokio::test]
async fn creating_a_user_with_bad_input_refills_the_form_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, admin_pw) = app.user("admin1", Role::Admin, None, None).await;
    app.login("admin1", &admin_pw).await;
    let users_before: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let page = app
        .post(
            "/quan-tri/nguoi-dung",
            &[
                ("username", "Nguyễn Văn A"),
                ("full_name", "Nguyễn Văn A"),
                ("role", "agency"),
                ("agency_id", ""),
                ("password", "ngan"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    let errors = page.texts(".field-error");
    assert!(
        errors.iter().any(|e| e.contains("chữ không dấu")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("gắn với một cơ quan")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("ít nhất 10 ký tự")),
        "{errors:?}"
    );
    assert_eq!(page.count("input[name=full_name][value='Nguyễn Văn A']"), 1);
    assert_eq!(
        page.count("select[name=role] option[value=agency][selected]"),
        1
    );
    assert_eq!(
        page.count("input[name=password][value]"),
        0,
        "the password is not echoed back"
    );
    let users_after: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(users_before, users_after);

    // A taken username is reported on its field.
    let dup = app
        .post(
            "/quan-tri/nguoi-dung",
            &[
                ("username", "admin1"),
                ("full_name", "Người khác"),
                ("role", "clerk"),
                ("password", "mat-khau-du-dai"),
            ],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(
        dup.texts(".field-error")
            .iter()
            .any(|e| e.contains("đã có người dùng"))
    );
}

#[tokio::test]
async fn hostile_text_is_escaped_on_pages_and_stored_literally() {
    let app = TestApp::spawn().await;
    let (_, admin_pw) = app.user("admin1", Role::Admin, None, None).await;
    app.login("admin1", &admin_pw).await;
    let xss = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let sqli = "Robert'); DROP TABLE users; --";
    for (username, name) in [("xss.user", xss), ("sqli.user", sqli)] {
        let page = app
            .post(
                "/quan-tri/nguoi-dung",
                &[
                    ("username", username),
                    ("full_name", name),
                    ("role", "clerk"),
                    ("password", "mat-khau-du-dai"),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.text);
    }
    let list = app.get("/quan-tri/nguoi-dung").await;
    assert_eq!(list.count("script:not([src])"), 0);
    assert_eq!(list.count("img"), 0);
    assert_eq!(
        list.text_of("tr[data-username='xss.user'] td:nth-child(2)"),
        xss
    );
    assert!(list.text.contains("&#60;script&#62;") || list.text.contains("&lt;script&gt;"));
    let stored: String =
        sqlx::query_scalar("SELECT full_name FROM users WHERE username = 'sqli.user'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(stored, sqli);
    // The hostile text is also escaped where it is typed back into a form.
    let refill = app
        .post(
            "/quan-tri/nguoi-dung",
            &[("username", "x"), ("full_name", xss)],
        )
        .await;
    assert_eq!(refill.count("script:not([src])"), 0);
    assert_eq!(
        refill
            .html()
            .select(&scraper::Selector::parse("input[name=full_name]").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("value"),
        Some(xss)
    );
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (admin, admin_pw) = &w.logins[0];
    app.login(admin, admin_pw).await;
    let target = app.url(&format!("/quan-tri/nguoi-dung/{}/khoa", w.user_ids[1]));
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "http://evil.example"),
    ] {
        let resp = app
            .client
            .post(&target)
            .header(name, value)
            .send()
            .await
            .unwrap();
        let page = Page::from(resp).await;
        assert_eq!(page.status, 403, "{name}: {value}");
        assert_eq!(page.text_of("h1"), "Không có quyền truy cập");
    }
    let disabled: bool = sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1")
        .bind(w.user_ids[1])
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(!disabled);
    // The same request from the app's own pages goes through.
    let resp = app
        .client
        .post(&target)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn every_mutation_writes_one_audit_row_with_its_actor_and_the_trail_cannot_be_edited() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let (admin, admin_pw) = &w.logins[0];
    let start = app.audit_count().await;
    app.login(admin, admin_pw).await; // 1: login
    app.post(
        "/quan-tri/nguoi-dung",
        &[
            ("username", "moi.tao"),
            ("full_name", "Mới Tạo"),
            ("role", "commune"),
            ("commune_code", COMMUNE_Y),
            ("password", "mat-khau-du-dai"),
        ],
    )
    .await; // 2: create
    let victim = w.user_ids[2];
    app.post(&format!("/quan-tri/nguoi-dung/{victim}/khoa"), &[])
        .await; // 3: update
    app.post(&format!("/quan-tri/nguoi-dung/{victim}/mo-khoa"), &[])
        .await; // 4: update
    app.post(&format!("/quan-tri/nguoi-dung/{victim}/dat-mat-khau"), &[])
        .await; // 5: update
    app.post(
        "/tai-khoan/mat-khau",
        &[
            ("current", admin_pw),
            ("new_password", "mat-khau-moi-123"),
            ("confirm", "mat-khau-moi-123"),
        ],
    )
    .await; // 6: update
    // Refused changes write nothing.
    app.post("/quan-tri/nguoi-dung", &[("username", "x")]).await;
    app.post("/dang-xuat", &[]).await; // 7: logout
    assert_eq!(app.audit_count().await - start, 7);

    let admin_id = w.user_ids[0];
    let actors: Vec<Option<uuid::Uuid>> =
        sqlx::query_scalar("SELECT user_id FROM audit_log ORDER BY id DESC LIMIT 7")
            .fetch_all(app.pool())
            .await
            .unwrap();
    assert!(actors.iter().all(|a| *a == Some(admin_id)));
    let created: (Option<serde_json::Value>, Option<serde_json::Value>) =
        sqlx::query_as("SELECT before, after FROM audit_log WHERE action = 'create' AND after->>'username' = 'moi.tao'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(created.0, None);
    assert_eq!(created.1.unwrap()["commune_code"], COMMUNE_Y);

    for sql in [
        "UPDATE audit_log SET actor = 'ke gian'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        assert!(
            sqlx::query(sql).execute(app.pool()).await.is_err(),
            "{sql} must be refused"
        );
    }

    // Clerks browse and filter it.
    let (clerk, clerk_pw) = &w.logins[1];
    let c = client();
    app.login_with(&c, clerk, clerk_pw).await;
    let page = get_with(&app, &c, "/nhat-ky?nguoi=admin1&hanh_dong=update").await;
    assert_eq!(page.status, 200);
    let rows = page.texts("table.audit tbody tr td:nth-child(2)");
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|a| a == "admin1"));

    // Issue #29: the trail is read a page at a time, newest first, older pages by the last id
    // seen (never counted whole); the filter travels with the links, even a name with "&" and "+".
    let by = giupdo::db::audit::By::system("Nguyễn & Con+1");
    for n in 0..120 {
        let e = giupdo::db::audit::Entry {
            action: giupdo::db::audit::Action::Lookup,
            entity: "id_lookup",
            entity_id: format!("{n:03}"),
            before: None,
            after: None,
            reason: None,
        };
        giupdo::db::audit::record(app.pool(), &by, e).await.unwrap();
    }
    let link_of = |page: &Page, text: &str| -> Option<String> {
        let sel = scraper::Selector::parse("nav.pager a").unwrap();
        page.html()
            .select(&sel)
            .find(|a| a.text().collect::<String>().contains(text))
            .and_then(|a| a.value().attr("href").map(str::to_string))
    };
    let mut path = "/nhat-ky?nguoi=Nguy%E1%BB%85n+%26+Con%2B1".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = get_with(&app, &c, &path).await;
        assert_eq!(page.status, 200);
        pages += 1;
        let actors = page.texts("table.audit tbody tr td:nth-child(2)");
        assert!(actors.iter().all(|a| a == "Nguyễn & Con+1"), "{actors:?}");
        seen.extend(page.texts("table.audit tbody tr td:nth-child(4) small"));
        assert_eq!(
            link_of(&page, "Mới nhất").is_some(),
            pages > 1,
            "page {pages}"
        );
        match link_of(&page, "Cũ hơn") {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(pages, 3, "50 + 50 + 20");
    let expected: Vec<String> = (0..120).rev().map(|n| format!("{n:03}")).collect();
    assert_eq!(seen, expected, "every entry once, newest first");
    // A hand-edited link reads as the newest page.
    let page = get_with(&app, &c, "/nhat-ky?truoc=abc").await;
    assert_eq!(page.status, 200);
    assert_eq!(link_of(&page, "Mới nhất"), None);
}

#[tokio::test]
async fn the_cccd_is_shown_in_full_only_to_the_district_and_the_households_commune() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let masked = format!("{}******{}", &CCCD_X[..3], &CCCD_X[9..]);
    for (i, expected) in [
        (0, CCCD_X),
        (1, CCCD_X),
        (2, masked.as_str()),
        (3, masked.as_str()),
        (4, CCCD_X),
    ] {
        let (u, p) = &w.logins[i];
        let c = client();
        app.login_with(&c, u, p).await;
        let page = get_with(&app, &c, &format!("/ho/{}", w.household_x)).await;
        assert_eq!(page.text_of("dd.cccd"), expected, "as {u}");
        if expected != CCCD_X {
            assert!(
                !page.text.contains(CCCD_X),
                "the full number is nowhere in the page for {u}"
            );
        }
    }
    let _ = COMMUNE_X;
}

#[tokio::test]
async fn first_run_creates_one_admin() {
    let app = TestApp::spawn().await;
    giupdo::server::ensure_first_admin(app.pool())
        .await
        .unwrap();
    giupdo::server::ensure_first_admin(app.pool())
        .await
        .unwrap();
    let admins: Vec<(String, String)> = sqlx::query_as("SELECT username, role FROM users")
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(admins, vec![("admin".to_string(), "admin".to_string())]);
}

#[tokio::test]
async fn the_user_command_reads_passwords_from_stdin_and_logs_hold_no_secrets() {
    let app = TestApp::spawn().await;
    let bin = env!("CARGO_BIN_EXE_giupdo");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .env("DATABASE_URL", &app.db.url)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(
        &[
            "user",
            "create",
            "--username",
            "xa.hoatham",
            "--full-name",
            "Cán bộ Hoa Thám",
            "--role",
            "commune",
            "--commune",
            COMMUNE_X,
        ],
        "mat-khau-tu-stdin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let short = run(
        &[
            "user",
            "create",
            "--username",
            "ngan.qua",
            "--full-name",
            "X",
            "--role",
            "clerk",
        ],
        "ngan\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("ít nhất 10 ký tự"));
    let bad_role = run(
        &[
            "user",
            "create",
            "--username",
            "vai.tro",
            "--full-name",
            "X",
            "--role",
            "commune",
        ],
        "mat-khau-tu-stdin\n",
    );
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("cần --commune"));
    let list = String::from_utf8_lossy(&run(&["user", "list"], "").stdout).into_owned();
    assert!(
        list.contains("xa.hoatham") && list.contains("Xã Hoa Thám"),
        "{list}"
    );
    assert_eq!(
        post_login(&app, &client(), "xa.hoatham", "mat-khau-tu-stdin", "")
            .await
            .status,
        303
    );
    assert!(run(&["user", "disable", "xa.hoatham"], "").status.success());
    assert_eq!(
        post_login(&app, &client(), "xa.hoatham", "mat-khau-tu-stdin", "")
            .await
            .status,
        403
    );

    // A server at debug level, a login and a household page: neither the password nor the
    // CCCD reaches the log.
    let household = crate::fixtures::household(&app, COMMUNE_X, "Lương Văn Sơn", CCCD_X).await;
    assert!(run(&["user", "enable", "xa.hoatham"], "").status.success());
    let mut server = Command::new(bin)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "debug")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("giupdo đang phục vụ tại http://") {
            break a.to_string();
        }
    };
    let c = client();
    let login = c
        .post(format!("http://{addr}/dang-nhap"))
        .form(&[
            ("username", "xa.hoatham"),
            ("password", "mat-khau-tu-stdin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let page = c
        .get(format!("http://{addr}/ho/{household}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(CCCD_X),
        "the commune official sees it in full"
    );
    unsafe {
        libc::kill(server.id() as i32, libc::SIGTERM);
    }
    let out = server.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("request"), "the debug log was captured");
    assert!(!log.contains("mat-khau-tu-stdin"), "password in log");
    assert!(!log.contains(CCCD_X), "CCCD in log");
}

#[tokio::test]
async fn commune_dashboards_name_their_commune() {
    let app = TestApp::spawn().await;
    let (_, pw) = app
        .user("commune.y", Role::Commune, None, Some(COMMUNE_Y))
        .await;
    app.login("commune.y", &pw).await;
    assert_eq!(
        app.get("/bang-dieu-khien").await.text_of("h1"),
        "UBND Xã Thiện Thuật"
    );
}

/// The session's idle deadline moves while it is used, but a page view does not rewrite the
/// session each time (an upsert per request was most of a signed-in page's database work).
#[tokio::test]
async fn a_session_in_use_is_written_back_every_few_minutes_not_on_every_page() {
    async fn expiry(app: &TestApp) -> String {
        sqlx::query_scalar(
            "SELECT expiry_date::text FROM tower_sessions.session ORDER BY expiry_date DESC LIMIT 1",
        )
        .fetch_one(app.pool())
        .await
        .unwrap()
    }
    for (touch, rewritten) in [
        (giupdo::config::SESSION_TOUCH, false),
        (std::time::Duration::ZERO, true),
    ] {
        let app = TestApp::spawn_with(WebConfig {
            session_touch: touch,
            ..WebConfig::default()
        })
        .await;
        let (_, pw) = app.user("nguoi.nam", Role::Clerk, None, None).await;
        app.login("nguoi.nam", &pw).await;
        assert_eq!(app.get("/").await.status, 200);
        let before = expiry(&app).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        for path in ["/ho", "/bang-dieu-khien", "/"] {
            let page = app.get(path).await;
            assert_eq!(page.status, 200);
            assert!(page.text.contains("Đăng xuất"), "still signed in on {path}");
        }
        let after = expiry(&app).await;
        assert_eq!(
            before != after,
            rewritten,
            "touch every {touch:?}: {before} → {after}"
        );
    }
}

#[tokio::test]
async fn debug_output_of_records_never_shows_a_cccd_or_a_password_hash() {
    use giupdo::db::duplicates::{self, Probe};
    use giupdo::db::{households, users};
    use giupdo::domain::cccd::Cccd;
    use giupdo::domain::household::HouseholdInput;
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let hidden = |what: &str, debug: String, secret: &str| {
        assert!(!secret.is_empty());
        assert!(!debug.contains(secret), "{what} prints {secret}: {debug}");
    };
    let user = users::by_username(app.pool(), "clerk1")
        .await
        .unwrap()
        .unwrap();
    hidden("UserRow", format!("{user:?}"), &user.password_hash);
    // The $argon2id$ prefix is not secret, the salt and hash after it are.
    let tail = &user.password_hash[user.password_hash.len() - 20..];
    hidden("UserRow (tail)", format!("{user:#?}"), tail);

    let h = households::get(app.pool(), w.household_x)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.cccd.as_deref(), Some(CCCD_X));
    hidden("HouseholdRow", format!("{h:?}"), CCCD_X);
    assert!(
        format!("{h:?}").contains("Hoàng Văn Thụ"),
        "the rest still prints"
    );

    let probe = Probe {
        commune_code: COMMUNE_X.into(),
        village: "Thôn Nà Pàn".into(),
        head_name: "Hoàng Văn Thụ".into(),
        cccd: Some(CCCD_X.into()),
        ..Probe::default()
    };
    hidden("Probe", format!("{probe:?}"), CCCD_X);
    let found = duplicates::candidates(app.pool(), &probe, Default::default())
        .await
        .unwrap();
    assert!(found.iter().any(|c| c.cccd.as_deref() == Some(CCCD_X)));
    hidden("Candidate", format!("{found:?}"), CCCD_X);

    let input = HouseholdInput {
        commune_code: COMMUNE_X.into(),
        village: "Thôn Nà Pàn".into(),
        head_name: "Lý Văn Mới".into(),
        birth_year: "1985".into(),
        gender: "male".into(),
        cccd: "020085009876".into(),
        ethnicity: "tay".into(),
        members: "3".into(),
        status: "poor".into(),
        status_year: "2024".into(),
        ..HouseholdInput::default()
    };
    hidden("HouseholdInput", format!("{input:?}"), "020085009876");
    let draft = input.parse(2024).expect("a valid household");
    assert_eq!(
        draft.cccd.as_ref().map(|c| c.as_str()),
        Some("020085009876")
    );
    hidden("HouseholdDraft", format!("{draft:?}"), "020085009876");
    let cccd = Cccd::parse("020085009876", None, None).unwrap();
    hidden("Cccd", format!("{cccd:?}"), "020085009876");
}
