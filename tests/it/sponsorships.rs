//! Sponsorships (issue #6): pledge with lines and a joint group, commune confirmation, the states
//! and their refusals, deliveries and quotas, late pledges, follow-up visits, double submissions,
//! and scoping — through the web pages, as people use them.

use reqwest::Client;
use uuid::Uuid;

use crate::fixtures::{World, world};
use crate::harness::{Page, TestApp, client};

/// A signed-in browser.
struct Browser<'a> {
    app: &'a TestApp,
    c: Client,
}

impl Browser<'_> {
    async fn get(&self, path: &str) -> Page {
        Page::from(self.c.get(self.app.url(path)).send().await.expect("GET")).await
    }
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Page::from(
            self.c
                .post(self.app.url(path))
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }
}

/// Actors of the fixture world by index: 0 admin, 1 clerk, 2 agency A, 3 agency B, 4 commune X,
/// 5 commune Y.
async fn browser<'a>(app: &'a TestApp, w: &World, who: usize) -> Browser<'a> {
    let c = client();
    let (u, p) = &w.logins[who];
    app.login_with(&c, u, p).await;
    Browser { app, c }
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(app.pool())
        .await
        .unwrap()
}

async fn state_of(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT state FROM sponsorships WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// Move the current campaign's registration deadline (R7) relative to today.
async fn deadline_in_days(app: &TestApp, days: i32) {
    sqlx::query(
        "UPDATE campaigns SET registration_deadline = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + $1,
             report_deadline = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + $1 + 16 WHERE is_current",
    )
    .bind(days)
    .execute(app.pool())
    .await
    .unwrap();
}

fn pledge_form<'a>(
    household: Uuid,
    lines: &[(&'a str, &'a str, &'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut f = vec![("ho".to_string(), household.to_string())];
    // One row of the table after another, each its five inputs, as a browser sends them.
    for (item, qty, unit, value) in lines {
        f.push(("hinh_thuc".into(), "livestock".into()));
        f.push(("vat_pham".into(), item.to_string()));
        f.push(("so_luong".into(), qty.to_string()));
        f.push(("don_vi".into(), unit.to_string()));
        f.push(("gia_tri".into(), value.to_string()));
    }
    f
}

fn refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn id_from(page: &Page) -> Uuid {
    let loc = page.location().expect("redirect");
    loc.trim_start_matches("/nhan-giup/")
        .parse()
        .expect("sponsorship id")
}

#[tokio::test]
async fn joint_pledge_confirmed_delivered_and_counted() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    deadline_in_days(&app, 10).await;
    let a = browser(&app, &w, 2).await;
    let b = browser(&app, &w, 3).await;
    let x = browser(&app, &w, 4).await;
    let y = browser(&app, &w, 5).await;

    // The household appears among the choices, and its form names it.
    let choose = a.get("/nhan-giup/dang-ky?q=hoang van thu").await;
    assert_eq!(choose.status, 200);
    assert!(
        choose
            .text
            .contains(&format!("/nhan-giup/dang-ky?ho={}", w.household_x))
    );
    let form = a
        .get(&format!("/nhan-giup/dang-ky?ho={}", w.household_x))
        .await;
    assert!(form.text_of(".chosen h2").contains("Hoàng Văn Thụ"));

    // Agency A leads, Phòng Tư pháp (B, 6 staff) joins: two lines, 9 + 3 million.
    let mut f = pledge_form(
        w.household_x,
        &[
            ("Bò cái sinh sản", "1", "con", "9.000.000"),
            ("Thức ăn", "300", "kg", "3000000"),
        ],
    );
    f.push(("thanh_vien".into(), w.agency_b.to_string()));
    f.push(("mong_muon".into(), "Muốn nuôi bò".into()));
    f.push(("phieu".into(), Uuid::new_v4().to_string()));
    let done = a.post("/nhan-giup", &refs(&f)).await;
    assert_eq!(done.status, 303, "{}", done.text);
    let id = id_from(&done);
    assert_eq!(state_of(&app, id).await, "proposed");
    let (pledged, late): (i64, bool) =
        sqlx::query_as("SELECT pledged_value, is_late FROM sponsorships WHERE id = $1")
            .bind(id)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((pledged, late), (12_000_000, false));
    let shares: Vec<i64> = sqlx::query_scalar(
        "SELECT share_value FROM sponsorship_agencies WHERE sponsorship_id = $1 ORDER BY is_lead DESC",
    )
    .bind(id)
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(shares, vec![6_000_000, 6_000_000]);

    // Both members see it; the other commune does not; only the household's commune decides.
    let shown = b.get(&format!("/nhan-giup/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.count("table.members tbody tr"), 2);
    assert_eq!(y.get(&format!("/nhan-giup/{id}")).await.status, 404);
    assert_eq!(
        y.post(&format!("/nhan-giup/{id}/xac-nhan"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        a.post(&format!("/nhan-giup/{id}/xac-nhan"), &[])
            .await
            .status,
        403
    );
    // No delivery before the commune confirms (R3).
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string();
    let delivery = |value: &'static str, token: String| {
        vec![
            ("ngay", today.clone()),
            ("vat_pham", "Bò cái".to_string()),
            ("so_luong", "1".to_string()),
            ("don_vi_tinh", "con".to_string()),
            ("don_gia", value.to_string()),
            ("nguoi_trao", "Lộc Văn Hùng".to_string()),
            ("so_bien_ban", "BB-01".to_string()),
            ("phieu", token),
        ]
    };
    let d0 = delivery("5000000", Uuid::new_v4().to_string());
    let early = a
        .post(
            &format!("/nhan-giup/{id}/trao"),
            &d0.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(early.status, 422);
    assert!(early.text.contains("chưa được xã xác nhận"));
    assert_eq!(count(&app, "deliveries").await, 0);

    let ok = x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    assert_eq!(ok.status, 303);
    assert_eq!(state_of(&app, id).await, "confirmed");
    // Confirming twice (a double tap on a slow connection) changes nothing more and says that it
    // is already confirmed, by whom and when; rejecting it now is refused with the same facts.
    let decisions = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM audit_log WHERE entity = 'sponsorship' AND entity_id = $1 AND action = 'update'",
        )
        .bind(id.to_string())
        .fetch_one(app.pool())
        .await
        .unwrap()
    };
    let before = decisions().await;
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    let msg = x.get(&format!("/nhan-giup/{id}")).await;
    let said = msg.text_of(".flash");
    assert!(
        said.contains("đã được xác nhận rồi: Người dùng commune.x ghi lúc "),
        "{said}"
    );
    assert!(!said.contains("Chỉ xác nhận hoặc từ chối"), "{said}");
    assert!(msg.count(".flash-ok") == 1, "not an error: it succeeded");
    x.post(
        &format!("/nhan-giup/{id}/tu-choi"),
        &[("ly_do", "trùng hộ")],
    )
    .await;
    let msg = x.get(&format!("/nhan-giup/{id}")).await;
    assert!(msg.text_of(".flash-error").contains("đã được xác nhận rồi"));
    assert_eq!(decisions().await, before);
    assert_eq!(state_of(&app, id).await, "confirmed");

    // B delivers 5 million (twice the same form: recorded once), A delivers 4 million.
    let d1 = delivery("5.000.000", Uuid::new_v4().to_string());
    let d1: Vec<(&str, &str)> = d1.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        b.post(&format!("/nhan-giup/{id}/trao"), &d1).await.status,
        303
    );
    assert_eq!(
        b.post(&format!("/nhan-giup/{id}/trao"), &d1).await.status,
        303
    );
    assert_eq!(count(&app, "deliveries").await, 1);
    assert_eq!(state_of(&app, id).await, "delivering");
    let half = a.get(&format!("/nhan-giup/{id}")).await;
    assert!(
        half.text.contains("thấp hơn mức hỗ trợ"),
        "below target is flagged"
    );
    let d2 = delivery("4000000", Uuid::new_v4().to_string());
    let d2: Vec<(&str, &str)> = d2.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        a.post(&format!("/nhan-giup/{id}/trao"), &d2).await.status,
        303
    );
    assert_eq!(state_of(&app, id).await, "target_reached");
    let page = a.get(&format!("/nhan-giup/{id}")).await;
    assert_eq!(page.text_of("#delivered"), "9.000.000 đ");
    let members = page.texts("table.members tbody tr");
    assert!(
        members
            .iter()
            .any(|m| m.contains("Phòng Tư pháp") && m.contains("5.000.000 đ"))
    );
    assert!(
        members
            .iter()
            .any(|m| m.contains("Phòng Nông nghiệp") && m.contains("4.000.000 đ"))
    );
    assert!(!page.text.contains("thấp hơn mức hỗ trợ của đợt"));

    // Quotas (R2): both count — A leads it, B (under 10 staff) meets its quota by joining.
    let clerk = browser(&app, &w, 1).await;
    let list = clerk.get("/don-vi").await;
    for (agency, _) in [(w.agency_a, "A"), (w.agency_b, "B")] {
        let row = list.text_of(&format!("tr[data-id='{agency}']"));
        assert!(row.contains("Đạt") && !row.contains("Chưa đạt"), "{row}");
    }
    // The audit trail has the pledge, the confirmation and both deliveries.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity IN ('sponsorship', 'delivery')",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(audited, 4);
}

#[tokio::test]
async fn a_non_lead_member_of_a_group_does_not_meet_a_single_quota() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let b = browser(&app, &w, 3).await;
    let x = browser(&app, &w, 4).await;
    // B (small) leads, A (14 staff, quota 1 of its own) only joins.
    let mut f = pledge_form(w.household_x, &[("Lợn nái", "2", "con", "8000000")]);
    f.push(("thanh_vien".into(), w.agency_a.to_string()));
    let id = id_from(&b.post("/nhan-giup", &refs(&f)).await);
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    let clerk = browser(&app, &w, 1).await;
    let list = clerk.get("/don-vi").await;
    assert!(
        list.text_of(&format!("tr[data-id='{}']", w.agency_a))
            .contains("Chưa đạt")
    );
    assert!(
        !list
            .text_of(&format!("tr[data-id='{}']", w.agency_b))
            .contains("Chưa đạt")
    );
    // The clerk's dashboard names A as short of its quota.
    let dash = clerk.get("/bang-dieu-khien").await;
    assert!(
        dash.text_of(".short-of-quota")
            .contains("Phòng Nông nghiệp và PTNT")
    );
    assert!(!dash.text_of(".short-of-quota").contains("Phòng Tư pháp"));
}

#[tokio::test]
async fn bad_input_gets_a_message_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = browser(&app, &w, 2).await;
    let extra: Vec<Uuid> = {
        let mut v = Vec::new();
        for i in 0..4 {
            v.push(
                crate::fixtures::agency(&app, &format!("Hội số {i}"), "mass_organisation", 5).await,
            );
        }
        v
    };
    let before = (count(&app, "sponsorships").await, app.audit_count().await);
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            pledge_form(w.household_x, &[("Bò", "1", "con", "0")]),
            "lớn hơn 0",
        ),
        (
            pledge_form(w.household_x, &[("Bò", "1", "con", "-8000000")]),
            "âm",
        ),
        (
            pledge_form(w.household_x, &[("Bò", "1", "con", "8000000,5")]),
            "phần lẻ",
        ),
        (
            pledge_form(w.household_x, &[("Bò", "1", "con", "99999999999999999999")]),
            "quá lớn",
        ),
        (
            pledge_form(w.household_x, &[("Bò", "0", "con", "8000000")]),
            "lớn hơn 0",
        ),
        (pledge_form(w.household_x, &[]), "ít nhất một dòng"),
        (
            {
                let mut f = pledge_form(w.household_x, &[("Bò", "1", "con", "8000000")]);
                for id in &extra {
                    f.push(("thanh_vien".into(), id.to_string()));
                }
                f
            },
            "tối đa 4",
        ),
        (
            {
                let mut f = pledge_form(w.household_x, &[("Bò", "1", "con", "8000000")]);
                f.push(("thanh_vien".into(), w.agency_b.to_string()));
                f.push(("thanh_vien".into(), w.agency_b.to_string()));
                f
            },
            "hai lần",
        ),
        (
            pledge_form(Uuid::new_v4(), &[("Bò", "1", "con", "8000000")]),
            "Hãy chọn một hộ",
        ),
    ];
    for (form, expected) in cases {
        let page = a.post("/nhan-giup", &refs(&form)).await;
        assert_eq!(page.status, 422, "{form:?}");
        assert!(
            page.text.contains(expected),
            "{expected} not in the page for {form:?}"
        );
    }
    // What was typed comes back.
    let typed = a
        .post(
            "/nhan-giup",
            &refs(&pledge_form(
                w.household_x,
                &[("Bò lai Sind", "1", "con", "0")],
            )),
        )
        .await;
    assert!(typed.text.contains("value=\"Bò lai Sind\""));
    assert_eq!(
        (count(&app, "sponsorships").await, app.audit_count().await),
        before
    );

    // Deliveries: before the pledge, in the future, overflowing, on a cancelled sponsorship.
    let id = id_from(
        &a.post(
            "/nhan-giup",
            &refs(&pledge_form(
                w.household_x,
                &[("Bò", "1", "con", "8000000")],
            )),
        )
        .await,
    );
    let x = browser(&app, &w, 4).await;
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    let day = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(7) + chrono::Duration::days(offset))
            .format("%d/%m/%Y")
            .to_string()
    };
    let deliveries_before = count(&app, "deliveries").await;
    for (date, qty, price, expected) in [
        (day(-3), "1", "8000000", "trước ngày đăng ký"),
        (day(2), "1", "8000000", "tương lai"),
        (day(0), "1000000", "20000000", "quá lớn"),
        (day(0), "1,5", "8000000", "phần lẻ"),
        (
            "31/02/2024".to_string(),
            "1",
            "8000000",
            "không phải một ngày có thật",
        ),
    ] {
        let page = a
            .post(
                &format!("/nhan-giup/{id}/trao"),
                &[
                    ("ngay", date.as_str()),
                    ("vat_pham", "Bò"),
                    ("so_luong", qty),
                    ("don_vi_tinh", "con"),
                    ("don_gia", price),
                    ("nguoi_trao", "A"),
                ],
            )
            .await;
        assert_eq!(page.status, 422);
        assert!(page.text.contains(expected), "{expected}");
        assert!(
            page.text.contains(&format!("value=\"{qty}\"")),
            "typed quantity kept"
        );
    }
    let cancelled = a
        .post(
            &format!("/nhan-giup/{id}/huy"),
            &[("ly_do", "Hộ chuyển đi")],
        )
        .await;
    assert_eq!(cancelled.status, 303);
    assert_eq!(state_of(&app, id).await, "cancelled");
    let page = a
        .post(
            &format!("/nhan-giup/{id}/trao"),
            &[
                ("ngay", day(0).as_str()),
                ("vat_pham", "Bò"),
                ("so_luong", "1"),
                ("don_vi_tinh", "con"),
                ("don_gia", "8000000"),
                ("nguoi_trao", "A"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.text.contains("đã bị hủy"));
    assert_eq!(count(&app, "deliveries").await, deliveries_before);
    // Cancelling without a reason is refused.
    let id2 = id_from(
        &a.post(
            "/nhan-giup",
            &refs(&pledge_form(
                w.household_y,
                &[("Bò", "1", "con", "8000000")],
            )),
        )
        .await,
    );
    a.post(&format!("/nhan-giup/{id2}/huy"), &[("ly_do", "  ")])
        .await;
    assert_eq!(state_of(&app, id2).await, "proposed");
}

#[tokio::test]
async fn rejection_with_reason_frees_the_household_and_late_pledges_are_marked() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    deadline_in_days(&app, -1).await;
    let a = browser(&app, &w, 2).await;
    let b = browser(&app, &w, 3).await;
    let x = browser(&app, &w, 4).await;
    let form = pledge_form(w.household_x, &[("Bò", "1", "con", "8000000")]);
    let page = a.get("/nhan-giup/dang-ky").await;
    assert!(page.text.contains("trễ hạn"));
    let id = id_from(&a.post("/nhan-giup", &refs(&form)).await);
    let late: bool = sqlx::query_scalar("SELECT is_late FROM sponsorships WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert!(
        late,
        "a pledge after the registration deadline is marked late (R7)"
    );
    assert!(a.get("/nhan-giup").await.text.contains("Trễ hạn"));
    // While A holds it, B is told who has it.
    let taken = b.post("/nhan-giup", &refs(&form)).await;
    assert_eq!(taken.status, 422);
    assert!(
        taken.text.contains("Phòng Nông nghiệp và PTNT"),
        "names the holder"
    );
    // Rejecting needs a reason.
    x.post(&format!("/nhan-giup/{id}/tu-choi"), &[("ly_do", "")])
        .await;
    assert_eq!(state_of(&app, id).await, "proposed");
    x.post(
        &format!("/nhan-giup/{id}/tu-choi"),
        &[("ly_do", "Trùng hộ với Hoàng Văn Thu")],
    )
    .await;
    assert_eq!(state_of(&app, id).await, "rejected");
    let seen = a.get(&format!("/nhan-giup/{id}")).await;
    assert!(
        seen.text_of(".rejection")
            .contains("Trùng hộ với Hoàng Văn Thu")
    );
    // The household is free again: B adopts it.
    assert_eq!(b.post("/nhan-giup", &refs(&form)).await.status, 303);
    // A rejected sponsorship cannot be cancelled or confirmed.
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    assert_eq!(state_of(&app, id).await, "rejected");
}

#[tokio::test]
async fn a_double_submitted_pledge_is_one_pledge() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = browser(&app, &w, 2).await;
    let mut f = pledge_form(w.household_x, &[("Bò", "1", "con", "8000000")]);
    f.push(("phieu".into(), Uuid::new_v4().to_string()));
    let r = refs(&f);
    let (first, second) = tokio::join!(a.post("/nhan-giup", &r), a.post("/nhan-giup", &r));
    assert_eq!((first.status, second.status), (303, 303));
    assert_eq!(first.location(), second.location());
    assert_eq!(count(&app, "sponsorships").await, 1);
    assert_eq!(count(&app, "support_lines").await, 1);
}

#[tokio::test]
async fn helped_before_needs_a_reason_in_the_pledge_form() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let earlier = earlier_sponsorship(&app, &w, 2019).await;
    assert_ne!(earlier, Uuid::nil());
    let a = browser(&app, &w, 2).await;
    let form = a
        .get(&format!("/nhan-giup/dang-ky?ho={}", w.household_x))
        .await;
    assert!(form.text_of(".helped-before").contains("2019"));
    let f = pledge_form(w.household_x, &[("Bò", "1", "con", "8000000")]);
    let refused = a.post("/nhan-giup", &refs(&f)).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("đã được giúp đỡ các năm trước"));
    let mut f = f;
    f.push((
        "ly_do_giup_lai".into(),
        "Hộ bị lũ cuốn mất chuồng trại".into(),
    ));
    let ok = a.post("/nhan-giup", &refs(&f)).await;
    assert_eq!(ok.status, 303);
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity = 'sponsorship' AND action = 'create'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("Hộ bị lũ cuốn mất chuồng trại"));
}

/// A sponsorship of household X by agency A in an earlier campaign, delivered in full.
async fn earlier_sponsorship(app: &TestApp, w: &World, year: i32) -> Uuid {
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
         VALUES ($1, 'Đợt ' || $1, make_date($1, 7, 15), make_date($1, 7, 31), 8000000)
         ON CONFLICT (year) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(year)
    .fetch_one(app.pool())
    .await
    .unwrap();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary,
             pledged_value, delivered_value, pledged_on)
         VALUES ($1, $2, $3, 'target_reached', 'livestock', 'Bò cái 1 con', 9000000, 9000000, make_date($4, 6, 1))
         RETURNING id",
    )
    .bind(campaign)
    .bind(w.household_x)
    .bind(w.agency_a)
    .bind(year)
    .fetch_one(app.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value) VALUES ($1, $2, true, 9000000)")
        .bind(id)
        .bind(w.agency_a)
        .execute(app.pool())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn follow_up_visits_tell_the_story_across_years() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let old = earlier_sponsorship(&app, &w, 2021).await;
    let a = browser(&app, &w, 2).await;
    let b = browser(&app, &w, 3).await;
    // Due on A's dashboard, not on B's.
    assert!(
        a.get("/bang-dieu-khien")
            .await
            .text_of(".follow-ups")
            .contains("Hoàng Văn Thụ")
    );
    assert!(
        !b.get("/bang-dieu-khien")
            .await
            .text_of(".follow-ups")
            .contains("Hoàng Văn Thụ")
    );
    assert_eq!(b.get(&format!("/nhan-giup/{old}")).await.status, 404);
    let visit = [
        ("ngay", "15/08/2023"),
        ("nhan_xet", "Bò đã đẻ một bê"),
        ("nhan", "1"),
        ("sinh", "1"),
        ("chet", "0"),
        ("huong_dan", "Tiêm phòng lở mồm long móng"),
        ("danh_gia", "effective"),
        ("tinh_trang", "near_poor"),
        ("phieu", "7f0c1e5c-4a57-4d1f-9d89-1a2b3c4d5e6f"),
    ];
    assert_eq!(
        b.post(&format!("/nhan-giup/{old}/tham"), &visit)
            .await
            .status,
        404
    );
    let ok = a.post(&format!("/nhan-giup/{old}/tham"), &visit).await;
    assert_eq!(ok.status, 303);
    // Submitted twice: one visit.
    a.post(&format!("/nhan-giup/{old}/tham"), &visit).await;
    assert_eq!(count(&app, "follow_up_visits").await, 1);
    assert_eq!(state_of(&app, old).await, "follow_up");
    // The agency's visit keeps what it observed; the official status is not the agency's to write.
    let official = |app: &TestApp| {
        let pool = app.pool().clone();
        let h = w.household_x;
        async move {
            let years: Vec<(i32, String)> = sqlx::query_as(
                "SELECT year, status FROM household_status_history WHERE household_id = $1 ORDER BY year",
            )
            .bind(h)
            .fetch_all(&pool)
            .await
            .unwrap();
            let now: String = sqlx::query_scalar("SELECT status FROM households WHERE id = $1")
                .bind(h)
                .fetch_one(&pool)
                .await
                .unwrap();
            (years, now)
        }
    };
    assert_eq!(official(&app).await, (vec![], "poor".to_string()));
    let observed: (String, bool) =
        sqlx::query_as("SELECT observed_status, official_status FROM follow_up_visits")
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(observed, ("near_poor".to_string(), false));
    // An agency asking for its observation to be official is refused, with nothing written.
    let mut forged = visit.to_vec();
    forged[8] = ("phieu", "1c2d3e4f-0000-4000-8000-000000000001");
    forged.push(("chinh_thuc", "1"));
    let refused = a.post(&format!("/nhan-giup/{old}/tham"), &forged).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text
            .contains("chỉ cán bộ xã của hộ hoặc chuyên viên huyện ghi")
    );
    assert_eq!(count(&app, "follow_up_visits").await, 1);
    assert_eq!(official(&app).await, (vec![], "poor".to_string()));
    // The form offers agencies no such box; the household's commune official gets one.
    let page = a.get(&format!("/nhan-giup/{old}")).await;
    assert_eq!(page.count("input[name=chinh_thuc]"), 0);
    assert!(
        page.text_of("table.visits")
            .contains("Quan sát khi thăm: Hộ cận nghèo")
    );
    // The commune official of the household records a visit too; an invalid one is refused.
    let x = browser(&app, &w, 4).await;
    let bad = x
        .post(
            &format!("/nhan-giup/{old}/tham"),
            &[
                ("ngay", "01/01/2020"),
                ("nhan_xet", ""),
                ("sinh", "-1"),
                ("danh_gia", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("trước ngày đăng ký") && bad.text.contains("không được để trống"));
    assert_eq!(count(&app, "follow_up_visits").await, 1);
    // The commune official's own visit, marked official, records the commune's review.
    assert_eq!(
        x.get(&format!("/nhan-giup/{old}"))
            .await
            .count("input[name=chinh_thuc]"),
        1
    );
    let review = [
        ("ngay", "20/08/2023"),
        ("nhan_xet", "Rà soát cuối năm: hộ đã thoát nghèo"),
        ("danh_gia", "effective"),
        ("tinh_trang", "escaped"),
        ("chinh_thuc", "1"),
        ("phieu", "1c2d3e4f-0000-4000-8000-000000000002"),
    ];
    assert_eq!(
        x.post(&format!("/nhan-giup/{old}/tham"), &review)
            .await
            .status,
        303
    );
    assert_eq!(
        official(&app).await,
        (vec![(2023, "escaped".to_string())], "poor".to_string()),
        "2023 is recorded; the household's 2024 status stays the current one"
    );
    // The household's story shows both, labelled.
    let page = a.get(&format!("/ho/{}", w.household_x)).await;
    let years = page.text_of("ul.statuses");
    assert!(years.contains("2023 : Đã thoát nghèo"), "{years}");
    let seen = page.text_of("ul.visits");
    assert!(seen.contains("Quan sát khi thăm: Hộ cận nghèo"), "{seen}");
    assert!(
        seen.contains("Đã thoát nghèo (ghi làm tình trạng chính thức)"),
        "{seen}"
    );

    // This year's sponsorship shows the story: the 2021 help and its visit.
    let id = id_from(
        &a.post(
            "/nhan-giup",
            &refs(&{
                let mut f = pledge_form(w.household_x, &[("Dê", "5", "con", "8000000")]);
                f.push(("ly_do_giup_lai".into(), "Mở rộng chăn nuôi".into()));
                f
            }),
        )
        .await,
    );
    let page = a.get(&format!("/nhan-giup/{id}")).await;
    let story = page.texts("table.story tbody tr");
    assert!(story.iter().any(|r| r.contains("2021")), "{story:?}");
    assert!(page.text_of("table.visits").contains("Bò đã đẻ một bê"));
    // Visits belong to earlier campaigns.
    let now = a.post(&format!("/nhan-giup/{id}/tham"), &visit[..8]).await;
    assert_eq!(now.status, 422);
    assert!(now.text.contains("những đợt trước"));
}

#[tokio::test]
async fn twenty_concurrent_deliveries_all_count() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = browser(&app, &w, 2).await;
    let x = browser(&app, &w, 4).await;
    let id = id_from(
        &a.post(
            "/nhan-giup",
            &refs(&pledge_form(
                w.household_x,
                &[("Gà", "100", "con", "8000000")],
            )),
        )
        .await,
    );
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%d/%m/%Y")
        .to_string();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = a.c.clone();
        let url = app.url(&format!("/nhan-giup/{id}/trao"));
        let today = today.clone();
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .form(&[
                    ("ngay", today.as_str()),
                    ("vat_pham", "Gà giống"),
                    ("so_luong", "5"),
                    ("don_vi_tinh", "con"),
                    ("don_gia", "100000"),
                    ("nguoi_trao", "Cán bộ A"),
                    ("so_bien_ban", &format!("BB-{i}")),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 303);
    }
    let (n, sum, kept): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), sum(d.total_value)::bigint, max(s.delivered_value) FROM deliveries d
         JOIN sponsorships s ON s.id = d.sponsorship_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!((n, sum, kept), (20, 10_000_000, 10_000_000));
    assert_eq!(state_of(&app, id).await, "target_reached");
}

#[tokio::test]
async fn dashboards_show_each_role_its_work() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let a = browser(&app, &w, 2).await;
    let x = browser(&app, &w, 4).await;
    let y = browser(&app, &w, 5).await;
    // Before anything: X's priority household is waiting for an agency.
    assert!(
        x.get("/bang-dieu-khien")
            .await
            .text_of(".unadopted")
            .contains("Hoàng Văn Thụ")
    );
    let id = id_from(
        &a.post(
            "/nhan-giup",
            &refs(&pledge_form(
                w.household_x,
                &[("Bò", "1", "con", "8000000")],
            )),
        )
        .await,
    );
    let dash = x.get("/bang-dieu-khien").await;
    assert!(dash.text_of(".pending").contains("Hoàng Văn Thụ"));
    assert!(!dash.text_of(".unadopted").contains("Hoàng Văn Thụ"));
    assert!(
        !y.get("/bang-dieu-khien")
            .await
            .text
            .contains("Hoàng Văn Thụ")
    );
    x.post(&format!("/nhan-giup/{id}/xac-nhan"), &[]).await;
    let dash = x.get("/bang-dieu-khien").await;
    assert!(dash.text_of(".confirmed").contains("Hoàng Văn Thụ"));
    assert!(!dash.text_of(".pending").contains("Hoàng Văn Thụ"));
    let mine = a.get("/bang-dieu-khien").await;
    assert!(mine.text_of(".mine").contains("Đã xác nhận"));
    assert!(mine.text_of(".quota").contains("Đạt"));
    // The agency's list holds only its own sponsorships.
    let b = browser(&app, &w, 3).await;
    assert!(!b.get("/nhan-giup").await.text.contains("Hoàng Văn Thụ"));
}

async fn upload_history(b: &Browser<'_>, csv: &str) -> Page {
    let form = reqwest::multipart::Form::new().part(
        "tep",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("lich-su.csv"),
    );
    Page::from(
        b.c.post(b.app.url("/nhan-giup/nhap-lich-su"))
            .multipart(form)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

#[tokio::test]
async fn history_import_matches_rows_and_asks_a_person_about_the_rest() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    sqlx::query(
        "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
         VALUES (2019, 'Đợt 2019', '2019-07-15', '2019-07-31', 5000000)",
    )
    .execute(app.pool())
    .await
    .unwrap();
    // Two men of the same name in X's village: father and son.
    let mut tams = Vec::new();
    for year in [1960, 1990] {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO households (commune_code, village_id, head_name, birth_year, ethnicity, members, status, status_year)
             SELECT '06073', village_id, 'Lý Văn Tâm', $1, 'tay', 3, 'poor', 2024 FROM households WHERE id = $2
             RETURNING id",
        )
        .bind(year)
        .bind(w.household_x)
        .fetch_one(app.pool())
        .await
        .unwrap();
        tams.push(id);
    }
    let csv = "Năm,Cơ quan đơn vị,Họ tên chủ hộ,Thôn,Xã,Số CCCD,Hình thức hỗ trợ,Nội dung hỗ trợ,Giá trị (đồng)\n\
               2019,Phòng Nông nghiệp và PTNT,HOANG VAN THU,Thôn Nà Pàn,Hoa Thám,,Con giống,01 con bò,16.000.000\n\
               2019,Phòng Tư pháp; Phòng Nông nghiệp và PTNT,Nong T. Lan,Thôn Nà Pàn,06091,020190004321,Cây giống,Cây quế,9000000\n\
               2019,Phòng Nông nghiệp và PTNT,Ly Van Tam,Thôn Nà Pàn,Xã Hoa Thám,,Con giống,Lợn nái,6000000\n\
               2019,Phòng Nông nghiệp và PTNT,Nguyễn Văn Vắng,Thôn Nà Pàn,Xã Hoa Thám,,Con giống,Dê,6000000\n";
    let clerk = browser(&app, &w, 1).await;
    let up = upload_history(&clerk, csv).await;
    assert_eq!(up.status, 303, "{}", up.text);
    let preview_url = up.location().unwrap();
    let preview = clerk.get(&preview_url).await;
    assert_eq!(
        preview.text_of("#summary"),
        "4 dòng · 2 khớp một hộ · 1 khớp nhiều hộ · 1 không khớp · 0 lỗi"
    );
    assert!(preview.text_of("table.matched").contains("Hoàng Văn Thụ"));
    assert!(preview.text_of("table.several").contains("sinh 1960"));
    assert!(preview.text_of("table.none").contains("Nguyễn Văn Vắng"));
    assert_eq!(
        count(&app, "sponsorships").await,
        0,
        "nothing written by the preview"
    );
    // Confirming without resolving the ambiguous row is refused.
    let refused = clerk.post(&preview_url, &[]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("Dòng 4"));
    assert_eq!(count(&app, "sponsorships").await, 0);
    // The son is the one: confirm.
    let son = tams[1].to_string();
    let ok = clerk.post(&preview_url, &[("chon_4", son.as_str())]).await;
    assert_eq!(ok.status, 303);
    let written: Vec<(Uuid, String, i64, i64)> = sqlx::query_as(
        "SELECT s.household_id, s.state, s.delivered_value,
                (SELECT count(*) FROM sponsorship_agencies m WHERE m.sponsorship_id = s.id)
         FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id WHERE c.year = 2019 ORDER BY s.pledged_value DESC",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(
        written,
        vec![
            (w.household_x, "follow_up".into(), 16_000_000, 1),
            (w.household_y, "follow_up".into(), 9_000_000, 2),
            (tams[1], "follow_up".into(), 6_000_000, 1),
        ]
    );
    // The same batch cannot be confirmed twice; the same file again finds the rows imported.
    clerk.post(&preview_url, &[("chon_4", son.as_str())]).await;
    assert_eq!(count(&app, "sponsorships").await, 3);
    let again = upload_history(&clerk, csv).await;
    let page = clerk.get(&again.location().unwrap()).await;
    assert!(
        page.text_of("table.problems")
            .contains("đã có lượt giúp đỡ năm 2019")
    );
    assert_eq!(
        clerk
            .post(&again.location().unwrap(), &[("chon_4", son.as_str())])
            .await
            .status,
        422
    );
    assert_eq!(count(&app, "sponsorships").await, 3);
    // The household's page now shows 2019 help; pledging it this year needs a reason.
    let a = browser(&app, &w, 2).await;
    let form = a
        .get(&format!("/nhan-giup/dang-ky?ho={}", w.household_x))
        .await;
    assert!(form.text_of(".helped-before").contains("2019"));
}

#[tokio::test]
async fn history_import_with_bad_rows_writes_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let clerk = browser(&app, &w, 1).await;
    let csv = "Năm,Cơ quan đơn vị,Họ tên chủ hộ,Thôn,Xã,Nội dung hỗ trợ,Giá trị (đồng)\n\
               2024,Phòng Nông nghiệp và PTNT,Hoàng Văn Thụ,Thôn Nà Pàn,Hoa Thám,Bò,16000000\n\
               2018,Công ty Không Có,Hoàng Văn Thụ,Thôn Nà Pàn,Hoa Thám,Bò,16000000\n\
               abc,Phòng Tư pháp,Hoàng Văn Thụ,Thôn Nà Pàn,Xã Không Có,Bò,-5\n";
    let up = upload_history(&clerk, csv).await;
    let url = up.location().unwrap();
    let page = clerk.get(&url).await;
    let problems = page.text_of("table.problems");
    for expected in [
        "không phải năm trước đợt hiện tại",
        "Công ty Không Có",
        "Năm phải là một số",
        "Không có xã",
        "âm",
    ] {
        assert!(problems.contains(expected), "{expected} in {problems}");
    }
    assert_eq!(clerk.post(&url, &[]).await.status, 422);
    assert_eq!(count(&app, "sponsorships").await, 0);
    // Agency and commune staff cannot import history.
    let a = browser(&app, &w, 2).await;
    assert_eq!(upload_history(&a, csv).await.status, 403);
    assert_eq!(a.get(&url).await.status, 403);
}

/// The district's list shows every pledge, a hundred to a page, and says how many there are.
#[tokio::test]
async fn the_district_pledge_list_counts_every_pledge_and_pages_through_them() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // 130 pledges of the current campaign, entered in bulk beside household X.
    sqlx::query(
        "WITH h AS (
            INSERT INTO households (commune_code, village_id, head_name, birth_year, ethnicity, members, status, status_year)
            SELECT x.commune_code, x.village_id, 'Hộ thử ' || n, 1970, 'tay', 3, 'poor', 2024
            FROM households x, generate_series(1, 130) n WHERE x.id = $1
            RETURNING id)
         , s AS (
            INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary, pledged_value)
            SELECT (SELECT id FROM campaigns WHERE is_current), h.id, $2, 'proposed', 'livestock', 'Bò', 9000000 FROM h
            RETURNING id)
         INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
         SELECT s.id, $2, true, 9000000 FROM s",
    )
    .bind(w.household_x)
    .bind(w.agency_a)
    .execute(app.pool())
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships WHERE campaign_id = (SELECT id FROM campaigns WHERE is_current)",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(total >= 130);
    let clerk = browser(&app, &w, 1).await;
    let first = clerk.get("/nhan-giup?trang_thai=proposed").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(
        first.text.contains("130 lượt nhận giúp đỡ"),
        "{}",
        first.text
    );
    assert_eq!(first.count("table.sponsorships tbody tr"), 100);
    assert_eq!(first.count("a[rel=prev]"), 0);
    let next = first.texts("a[rel=next]");
    assert_eq!(next, ["Trang sau »"]);
    let href = first
        .html()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string));
    assert_eq!(
        href.as_deref(),
        Some("/nhan-giup?trang_thai=proposed&trang=2"),
        "the filter goes along to the next page"
    );
    let second = clerk.get("/nhan-giup?trang_thai=proposed&trang=2").await;
    assert_eq!(second.count("table.sponsorships tbody tr"), 30);
    assert_eq!(second.count("a[rel=next]"), 0);
    assert_eq!(second.count("a[rel=prev]"), 1);
    // No pledge is on both pages.
    let ids = |p: &Page| {
        p.html()
            .select(&scraper::Selector::parse("table.sponsorships tbody tr").unwrap())
            .filter_map(|e| e.value().attr("data-id").map(str::to_string))
            .collect::<std::collections::HashSet<_>>()
    };
    assert!(ids(&first).is_disjoint(&ids(&second)));
    // A page number that is not one is the first page.
    let odd = clerk.get("/nhan-giup?trang=abc").await;
    assert_eq!(odd.status, 200);
    assert!(odd.text.contains(&format!("{total} lượt nhận giúp đỡ")));
}

/// The commune dashboard lists the priority households still waiting, those never helped first
/// (by name), then — while the list has room — those helped in an earlier campaign, marked so.
#[tokio::test]
async fn commune_dashboard_lists_never_helped_priority_households_first() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let commune = crate::fixtures::COMMUNE_X;
    crate::fixtures::household(&app, commune, "Bế Văn Ân", "001085000101").await;
    let helped = crate::fixtures::household(&app, commune, "An Văn Được", "001085000102").await;
    sqlx::query(
        "WITH c AS (INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
                    VALUES (2023, 'Năm 2023', DATE '2023-07-15', DATE '2023-07-31', 8000000) RETURNING id),
              s AS (INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary, pledged_value)
                    SELECT c.id, $1, $2, 'follow_up', 'livestock', 'Bò', 9000000 FROM c RETURNING id)
         INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
         SELECT s.id, $2, true, 9000000 FROM s",
    )
    .bind(helped)
    .bind(w.agency_a)
    .execute(app.pool())
    .await
    .unwrap();
    let x = browser(&app, &w, 4).await;
    let dash = x.get("/bang-dieu-khien").await;
    let items = dash.texts(".unadopted li");
    let names: Vec<&str> = items
        .iter()
        .map(|t| t.split(" — ").next().unwrap_or(""))
        .collect();
    // "An Văn Được" sorts first by name but was helped in 2023: it comes last, marked.
    assert_eq!(
        names,
        ["Bế Văn Ân", "Hoàng Văn Thụ", "An Văn Được"],
        "{items:?}"
    );
    assert!(items[2].contains("Đã được giúp"));
    assert!(!items[0].contains("Đã được giúp"));
}

#[tokio::test]
async fn migration_keeps_agency_observations_and_gives_households_their_official_status_back() {
    use crate::harness::TestDb;
    // The schema as it was before (migrations up to 0018), with data written the old way.
    let db = TestDb::migrated_before("0019").await;
    let q = |sql: &'static str| sqlx::query(sql);
    for sql in [
        "INSERT INTO agencies (id, name, kind, staff_count) VALUES ('00000000-0000-4000-8000-00000000000a', 'Phòng Y tế', 'department', 5)",
        "INSERT INTO users (id, username, full_name, password_hash, role, agency_id) VALUES
            ('00000000-0000-4000-8000-0000000000a1', 'can.bo.yte', 'Cán bộ Y tế', 'x', 'agency', '00000000-0000-4000-8000-00000000000a')",
        "INSERT INTO users (id, username, full_name, password_hash, role, commune_code) VALUES
            ('00000000-0000-4000-8000-0000000000c1', 'xa.hoatham', 'Cán bộ xã', 'x', 'commune', '06073')",
        "INSERT INTO villages (id, commune_code, name) VALUES ('00000000-0000-4000-8000-0000000000b1', '06073', 'Thôn Nà Pàn')",
        // Two households registered poor in 2021.
        "INSERT INTO households (id, commune_code, village_id, head_name, birth_year, ethnicity, members, status, status_year)
         VALUES ('00000000-0000-4000-8000-000000000001', '06073', '00000000-0000-4000-8000-0000000000b1', 'Hoàng Văn Một', 1970, 'tay', 3, 'poor', 2021),
                ('00000000-0000-4000-8000-000000000002', '06073', '00000000-0000-4000-8000-0000000000b1', 'Hoàng Văn Hai', 1971, 'tay', 3, 'poor', 2021)",
        "INSERT INTO household_status_history (household_id, year, status) VALUES
            ('00000000-0000-4000-8000-000000000001', 2021, 'poor'), ('00000000-0000-4000-8000-000000000002', 2021, 'poor')",
        "INSERT INTO campaigns (id, year, name, registration_deadline, report_deadline, target_per_household)
         VALUES ('00000000-0000-4000-8000-0000000000d1', 2021, 'Đợt 2021', '2021-07-15', '2021-07-31', 8000000)",
        "INSERT INTO sponsorships (id, campaign_id, household_id, lead_agency_id, state, support_form, support_summary, pledged_value, commune_code)
         VALUES ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-000000000001',
                 '00000000-0000-4000-8000-00000000000a', 'follow_up', 'livestock', 'Bò', 9000000, '06073'),
                ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000d1', '00000000-0000-4000-8000-000000000002',
                 '00000000-0000-4000-8000-00000000000a', 'follow_up', 'livestock', 'Bò', 9000000, '06073')",
        // The old way: the agency's 2023 visit to household 1 wrote "escaped" into its history and
        // its current status; the commune's 2023 visit to household 2 did the same, legitimately.
        "INSERT INTO follow_up_visits (sponsorship_id, visited_on, findings, evaluation, household_status, recorded_by) VALUES
            ('00000000-0000-4000-8000-0000000000e1', '2023-08-01', 'Bò khỏe', 'effective', 'escaped', '00000000-0000-4000-8000-0000000000a1'),
            ('00000000-0000-4000-8000-0000000000e2', '2023-08-02', 'Rà soát', 'effective', 'escaped', '00000000-0000-4000-8000-0000000000c1')",
        "INSERT INTO household_status_history (household_id, year, status) VALUES
            ('00000000-0000-4000-8000-000000000001', 2023, 'escaped'), ('00000000-0000-4000-8000-000000000002', 2023, 'escaped')",
        "UPDATE households SET status = 'escaped', status_year = 2023",
    ] {
        q(sql).execute(&db.pool).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    giupdo::db::migrate(&db.pool).await.unwrap();

    let visits: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT findings, observed_status, official_status FROM follow_up_visits ORDER BY visited_on",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        visits,
        vec![
            ("Bò khỏe".into(), "escaped".into(), false),
            ("Rà soát".into(), "escaped".into(), true)
        ],
        "both visits keep what they observed; the commune's is official"
    );
    let history: Vec<(String, i32, String, String)> = sqlx::query_as(
        "SELECT h.head_name, y.year, y.status, y.source FROM household_status_history y
         JOIN households h ON h.id = y.household_id ORDER BY h.head_name, y.year",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        history,
        vec![
            (
                "Hoàng Văn Hai".into(),
                2021,
                "poor".into(),
                "official".into()
            ),
            (
                "Hoàng Văn Hai".into(),
                2023,
                "escaped".into(),
                "official".into()
            ),
            (
                "Hoàng Văn Một".into(),
                2021,
                "poor".into(),
                "official".into()
            ),
            (
                "Hoàng Văn Một".into(),
                2023,
                "escaped".into(),
                "agency_visit".into()
            ),
        ],
        "nothing lost; the agency's year is labelled"
    );
    let now: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT head_name, status, status_year FROM households ORDER BY head_name")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        now,
        vec![
            ("Hoàng Văn Hai".into(), "escaped".into(), 2023),
            ("Hoàng Văn Một".into(), "poor".into(), 2021),
        ],
        "the agency's observation no longer stands as the household's official status"
    );
}

/// The sets of states SQL uses (`sponsorship_counts`, `sponsorship_is_live`, migration 0026) are
/// the domain's, state by state; and the table's CHECK accepts exactly the domain's codes.
#[tokio::test]
async fn the_state_sets_in_sql_are_the_domains() {
    use giupdo::domain::sponsorship::State;
    let app = TestApp::spawn().await;
    for st in State::ALL {
        let (counts, live): (bool, bool) =
            sqlx::query_as("SELECT sponsorship_counts($1), sponsorship_is_live($1)")
                .bind(st.as_str())
                .fetch_one(app.pool())
                .await
                .unwrap();
        assert_eq!(counts, st.counts(), "{st:?} counts");
        assert_eq!(live, st.is_live(), "{st:?} is live");
        assert_eq!(State::parse(st.as_str()), Some(st));
    }
    let check: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'sponsorships_state_valid'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    let codes: Vec<&str> = check.split('\'').skip(1).step_by(2).collect();
    let mut domain: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    let mut sql = codes.clone();
    domain.sort();
    sql.sort();
    assert_eq!(sql, domain, "{check}");
    // Every code the table allows decodes into the enum; one it does not know is an error that
    // names it (not a string shown as "unknown").
    use giupdo::db::codes::DbState;
    let back: Vec<DbState> = sqlx::query_scalar("SELECT unnest($1::text[])")
        .bind(&codes)
        .fetch_all(app.pool())
        .await
        .unwrap();
    assert_eq!(back.len(), State::ALL.len());
    assert!(back.iter().all(|b| State::ALL.contains(&b.0)));
    let bad = sqlx::query_scalar::<_, DbState>("SELECT 'paid'::text")
        .fetch_one(app.pool())
        .await
        .expect_err("an unknown state code");
    assert!(bad.to_string().contains("\"paid\""), "{bad}");
}

/// Issue #29: an agency's and a commune's lists are paged by key, newest first, 50 rows a page
/// whatever their size; the state filter is kept from page to page; the dashboards show the
/// newest 20 with the counts and link to the rest.
#[tokio::test]
async fn agency_and_commune_lists_come_newest_first_fifty_at_a_time_with_their_filter() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let pool = app.pool();
    // 120 households pledged by agency A over 120 days, one in three still proposed.
    sqlx::query(
        "WITH h AS (
            INSERT INTO households (commune_code, village_id, head_name, birth_year, gender, ethnicity,
                members, status, status_year)
            SELECT '06073', (SELECT id FROM villages WHERE commune_code = '06073' LIMIT 1),
                   'Hộ Thứ ' || k, 1960 + k % 40, 'male', 'tay', 4, 'poor', 2024
            FROM generate_series(1, 120) AS k RETURNING id, head_name),
              s AS (
            INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form,
                support_summary, pledged_value, delivered_value, pledged_on)
            SELECT (SELECT id FROM campaigns WHERE is_current), h.id, $1,
                   CASE WHEN substring(h.head_name FROM 8)::int % 3 = 0 THEN 'proposed' ELSE 'confirmed' END,
                   'cash', 'Hộ ' || h.head_name, 8000000, 0,
                   DATE '2024-01-01' + substring(h.head_name FROM 8)::int
            FROM h RETURNING id)
         INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
         SELECT id, $1, true, 8000000 FROM s",
    )
    .bind(w.agency_a)
    .execute(pool)
    .await
    .unwrap();
    let a = browser(&app, &w, 2).await;
    let heads = |p: &Page| -> Vec<String> { p.texts("table.sponsorships tbody td.lead a") };
    let first = a.get("/nhan-giup").await;
    assert!(first.text.contains("120 lượt nhận giúp đỡ"));
    let names = heads(&first);
    assert_eq!(names.len(), 50);
    assert_eq!(names[0], "Hộ Thứ 120", "newest first");
    assert_eq!(names[49], "Hộ Thứ 71");
    let next = |p: &Page| -> Option<String> {
        p.html()
            .select(&scraper::Selector::parse("nav.pager a[rel=next]").unwrap())
            .next()
            .and_then(|e| e.value().attr("href"))
            .map(str::to_string)
    };
    let second = a.get(&next(&first).expect("a next page")).await;
    assert_eq!(heads(&second)[0], "Hộ Thứ 70");
    assert_eq!(second.count("nav.pager a[rel=first]"), 1);
    let third = a.get(&next(&second).unwrap()).await;
    assert_eq!(heads(&third).len(), 20);
    assert_eq!(heads(&third)[19], "Hộ Thứ 1");
    assert!(next(&third).is_none(), "the last page has no next");
    // Filtered: 40 still waiting fit one page; 80 confirmed take two, the filter kept.
    let waiting = a.get("/nhan-giup?trang_thai=proposed").await;
    assert!(waiting.text.contains("40 lượt nhận giúp đỡ"));
    assert_eq!(heads(&waiting).len(), 40);
    assert_eq!(heads(&waiting)[0], "Hộ Thứ 120");
    assert!(next(&waiting).is_none());
    let confirmed = a.get("/nhan-giup?trang_thai=confirmed").await;
    assert!(confirmed.text.contains("80 lượt nhận giúp đỡ"));
    let link = next(&confirmed).expect("a second page of confirmed ones");
    assert!(link.contains("trang_thai=confirmed"), "{link}");
    let rest = a.get(&link).await;
    assert_eq!(heads(&rest).len(), 30);
    assert_eq!(rest.count("table.sponsorships tbody tr.state-proposed"), 0);
    // The dashboard: the newest 20, and the way to the rest.
    let home = a.get("/bang-dieu-khien").await;
    assert_eq!(home.count("section.mine table.sponsorships tbody tr"), 20);
    assert!(
        home.text
            .contains("Xem tất cả các hộ đơn vị nhận giúp đỡ trong đợt")
    );
    // A forged or stale key is the first page, never an error.
    assert_eq!(a.get("/nhan-giup?sau=hom-qua").await.status, 200);
    // The commune's list the same way; its dashboard shows the newest 20 waiting of 40.
    let x = browser(&app, &w, 4).await;
    let list = x.get("/nhan-giup").await;
    assert!(list.text.contains("120 lượt nhận giúp đỡ"));
    assert_eq!(heads(&list).len(), 50);
    assert_eq!(heads(&list)[0], "Hộ Thứ 120");
    let later = x.get(&next(&list).expect("a next page")).await;
    assert_eq!(heads(&later)[0], "Hộ Thứ 70");
    let home = x.get("/bang-dieu-khien").await;
    assert!(home.text_of("section.pending h2").contains("(40)"));
    assert_eq!(
        home.count("section.pending table.sponsorships tbody tr"),
        20
    );
    assert!(home.text.contains("Xem tất cả 40 đăng ký chờ xác nhận"));
    assert!(home.text_of("section.confirmed h2").contains("(80)"));
}
