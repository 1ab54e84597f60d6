//! Issue #26: the multidimensional poverty standard as data, each household's deprivation profile
//! (entered on its page or imported from the commune's review list), the status it implies beside
//! the official one, the advice of which help fits, effectiveness by deprivation, and the yearly
//! progress sheet.

use giupdo::domain::poverty::{Area, Implied, ProfileInput, standard_for};
use uuid::Uuid;

use crate::fixtures::{CCCD_X, COMMUNE_X, COMMUNE_Y, confirmed_sponsorship, world};
use crate::harness::TestApp;

async fn profile_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM household_profiles")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// Households computed by hand against the published rules, at the income line and at the
/// 3-indicator edge, in both periods, rural and urban: the standards come from the migration's
/// rows, and the year picks the period.
#[tokio::test]
async fn both_standards_classify_households_at_the_line_and_the_three_indicator_edge() {
    let app = TestApp::spawn().await;
    let standards = giupdo::db::profiles::standards(app.pool()).await.unwrap();
    assert_eq!(standards.len(), 2);
    // (review year, area, income line of the decree)
    let periods = [
        (2022, Area::Rural, 1_500_000),
        (2026, Area::Urban, 2_000_000),
        (2027, Area::Rural, 2_200_000),
        (2030, Area::Urban, 2_800_000),
    ];
    for (year, area, line) in periods {
        let s = standard_for(&standards, year).unwrap();
        assert_eq!(s.indicators.len(), 12, "{}", s.name);
        assert_eq!(s.dimensions().len(), 6, "{}", s.name);
        assert_eq!(s.income_line(area), line, "{year} {area:?}");
        // (income, indicators short, expected): hand-computed.
        let cases = [
            (line, 3, Implied::Poor),
            (line, 2, Implied::NearPoor),
            (line, 12, Implied::Poor),
            (line + 1, 3, Implied::NotPoor),
            (line + 1, 12, Implied::NotPoor),
            (0, 0, Implied::NearPoor),
            (line - 1, 0, Implied::NearPoor),
        ];
        for (income, short, expected) in cases {
            assert_eq!(
                s.classify(area, income, short),
                expected,
                "{year} {area:?}: {income} đ, {short} short"
            );
        }
    }
    // 2026 is still the 2022–2025 standard (extended); 2027 is the new decree's.
    assert_eq!(standard_for(&standards, 2026).unwrap().code, "nd07-2021");
    assert_eq!(standard_for(&standards, 2027).unwrap().code, "nd-2027-2030");
    // The same household, 1.800.000 đ rural with 3 short: not poor in 2026, poor in 2027.
    assert_eq!(
        standard_for(&standards, 2026)
            .unwrap()
            .classify(Area::Rural, 1_800_000, 3),
        Implied::NotPoor
    );
    assert_eq!(
        standard_for(&standards, 2027)
            .unwrap()
            .classify(Area::Rural, 1_800_000, 3),
        Implied::Poor
    );
    for year in [2021, 2031] {
        let e = ProfileInput {
            review_year: year.to_string(),
            area: "rural".into(),
            income: "1.000.000".into(),
            ..ProfileInput::default()
        }
        .parse(&standards)
        .unwrap_err();
        assert!(
            e.iter()
                .any(|(f, m)| *f == "review_year" && m.contains("chưa có chuẩn nghèo")),
            "{year}: {e:?}"
        );
    }
    // A next period is rows: a standard overlapping an existing one is refused by the database.
    let overlap = sqlx::query(
        "INSERT INTO poverty_standards (code, name, legal_basis, first_year, last_year, poor_min_short)
         VALUES ('thu-nghiem', 'x', 'x', 2030, 2032, 3)",
    )
    .execute(app.pool())
    .await;
    assert!(overlap.is_err(), "two standards deciding 2030");
}

#[tokio::test]
async fn the_commune_records_a_review_and_the_page_shows_the_grid_and_the_disagreement() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let x = w.household_x;
    app.login("commune.x", &w.logins[4].1).await;
    let path = format!("/ho/{x}/ra-soat");
    // Bad input, one field at a time: a message on the field, the form refilled, nothing saved.
    for (field, value, message) in [
        ("thu_nhap", "một triệu", "không phải là số"),
        ("thu_nhap", "-500000", "số âm"),
        ("thu_nhap", "450.000.000", "quá lớn"),
        ("nam", "2019", "chưa có chuẩn nghèo"),
        ("khu_vuc", "miền núi", "nông thôn hoặc thành thị"),
    ] {
        let mut form = vec![
            ("nam", "2024"),
            ("khu_vuc", "rural"),
            ("thu_nhap", "1.200.000"),
            ("thieu_hut", "viec_lam"),
            ("thieu_hut", "nha_tieu"),
            ("nguyen_vong", "Muốn nuôi bò <b>sinh sản</b>"),
        ];
        for f in form.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let page = app.post(&path, &form).await;
        assert_eq!(page.status, 422, "{field}={value}");
        assert!(
            page.text.contains(message),
            "{field}={value}: {}",
            page.text
        );
        assert_eq!(page.count(".field-error"), 1, "{field}={value}");
        // Refilled: what was typed is back, the boxes ticked.
        assert_eq!(
            page.text_of("textarea[name=nguyen_vong]"),
            "Muốn nuôi bò <b>sinh sản</b>"
        );
        assert_eq!(page.count("input[name=thieu_hut][checked]"), 2);
        if field == "thu_nhap" {
            assert_eq!(
                page.html()
                    .select(&scraper::Selector::parse("input[name=thu_nhap]").unwrap())
                    .next()
                    .and_then(|e| e.value().attr("value"))
                    .map(str::to_string),
                Some(value.to_string())
            );
        }
        assert_eq!(profile_count(&app).await, 0);
    }
    // An indicator that is not in the standard (a forged form) is refused too.
    let page = app
        .post(
            &path,
            &[
                ("nam", "2024"),
                ("khu_vuc", "rural"),
                ("thu_nhap", "1.200.000"),
                ("thieu_hut", "so_huu_xe"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(profile_count(&app).await, 0);

    // Saved: 1.200.000 đ and 2 short in 2024 → near-poor, while the official status is poor.
    let audit_before = app.audit_count().await;
    let page = app
        .post(
            &path,
            &[
                ("nam", "2024"),
                ("khu_vuc", "rural"),
                ("thu_nhap", "1.200.000"),
                ("thieu_hut", "viec_lam"),
                ("thieu_hut", "nha_tieu"),
                ("nguyen_vong", "Muốn nuôi bò sinh sản"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text);
    assert_eq!(app.audit_count().await, audit_before + 1);
    let page = app.get(&format!("/ho/{x}")).await;
    assert!(page.text.contains("Đã lưu kết quả rà soát năm 2024"));
    assert_eq!(page.count("#ra-soat .dimension"), 6);
    assert_eq!(page.count("#ra-soat .dimension.short"), 2);
    assert_eq!(page.count("#ra-soat li.short"), 2);
    assert!(page.text_of("#ra-soat summary").contains("Hộ cận nghèo"));
    let note = page.text_of(".disagreement");
    assert!(
        note.contains("Hộ cận nghèo")
            && note.contains("Hộ nghèo")
            && note.contains("quyết định của xã"),
        "{note}"
    );
    assert!(page.text.contains("“Muốn nuôi bò sinh sản”"));
    // The advice: employment short and lacks capital, and the family wants a cow.
    let first = page.texts(".suggestions li");
    assert!(
        first[0].contains("Con giống sinh sản (bò, trâu)"),
        "{first:?}"
    );
    // Correcting the review: 3 short now → poor, the disagreement gone; audited with before/after.
    let page = app
        .post(
            &path,
            &[
                ("nam", "2024"),
                ("khu_vuc", "rural"),
                ("thu_nhap", "1.200.000"),
                ("thieu_hut", "viec_lam"),
                ("thieu_hut", "nha_tieu"),
                ("thieu_hut", "chat_luong_nha"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let page = app.get(&format!("/ho/{x}")).await;
    assert_eq!(page.count(".disagreement"), 0);
    assert!(page.text_of("#ra-soat summary").contains("→ Hộ nghèo"));
    let (before, after): (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT before, after FROM audit_log WHERE entity = 'household_profile' AND action = 'update'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(before["short_of"].as_array().unwrap().len(), 2);
    assert_eq!(after["short_of"].as_array().unwrap().len(), 3);
    assert_eq!(profile_count(&app).await, 1);

    // The agency sees the profile but has no way to edit it; the other commune cannot reach it.
    let agency = app.other_client();
    app.login_with(&agency, "agency.a", &w.logins[2].1).await;
    let r = agency
        .get(app.url(&format!("/ho/{x}")))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Hồ sơ thiếu hụt theo chuẩn nghèo đa chiều"));
    assert!(!body.contains(&format!("/ho/{x}/ra-soat")));
    let r = agency
        .post(app.url(&path))
        .form(&[("nam", "2024"), ("khu_vuc", "rural"), ("thu_nhap", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let other = app.other_client();
    app.login_with(&other, "commune.y", &w.logins[5].1).await;
    let r = other
        .post(app.url(&path))
        .form(&[("nam", "2024"), ("khu_vuc", "rural"), ("thu_nhap", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let income: i64 = sqlx::query_scalar("SELECT income_per_person FROM household_profiles")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(income, 1_200_000);
}

/// The review list as a commune keeps it: the committee's name and the title above, a two-row
/// header whose upper row groups the 12 indicator columns under one merged heading, a numbering
/// row, the rows, and the signatures.
fn review_list(rows: &[[&str; 18]]) -> Vec<u8> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let f = Format::new().set_bold();
    ws.merge_range(0, 0, 0, 4, "ỦY BAN NHÂN DÂN XÃ HOA THÁM", &f)
        .unwrap();
    ws.merge_range(
        1,
        0,
        1,
        17,
        "DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO SAU RÀ SOÁT NĂM 2025",
        &f,
    )
    .unwrap();
    let fixed = [
        "STT",
        "Họ và tên chủ hộ",
        "Mã hộ",
        "Số CCCD",
        "Thu nhập bình quân (đồng/người/tháng)",
    ];
    for (c, h) in fixed.iter().enumerate() {
        ws.merge_range(3, c as u16, 4, c as u16, h, &f).unwrap();
    }
    ws.merge_range(
        3,
        5,
        3,
        16,
        "Các chỉ số thiếu hụt dịch vụ xã hội cơ bản",
        &f,
    )
    .unwrap();
    // The sub-headings as the review form words them (a few as the label instead).
    let subs = [
        "Việc làm",
        "Người phụ thuộc",
        "Dinh dưỡng",
        "Bảo hiểm y tế",
        "Trình độ giáo dục của người lớn",
        "Tình trạng đi học của trẻ em",
        "Chất lượng nhà ở",
        "Diện tích nhà ở bình quân",
        "Nguồn nước sinh hoạt",
        "Nhà tiêu hợp vệ sinh",
        "Sử dụng dịch vụ viễn thông",
        "Phương tiện tiếp cận thông tin",
    ];
    for (k, h) in subs.iter().enumerate() {
        ws.write(4, 5 + k as u16, *h).unwrap();
    }
    ws.merge_range(3, 17, 4, 17, "Tâm tư, nguyện vọng", &f)
        .unwrap();
    for c in 0..18u16 {
        ws.write(5, c, format!("({})", c + 1)).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (6 + r as u32, c as u16);
            match v.parse::<f64>() {
                // Incomes as Excel numbers, as a commune's sheet holds them.
                Ok(n) if c == 4 => ws.write_number(r, c, n).map(|_| ()).unwrap(),
                _ => ws.write(r, c, *v).map(|_| ()).unwrap(),
            }
        }
    }
    let end = 6 + rows.len() as u32 + 1;
    ws.write(end, 1, "Người lập biểu").unwrap();
    ws.write(end, 12, "TM. ỦY BAN NHÂN DÂN XÃ").unwrap();
    wb.save_to_buffer().unwrap()
}

async fn upload(
    app: &TestApp,
    bytes: Vec<u8>,
    year: &str,
    check_only: bool,
) -> crate::harness::Page {
    let mut form = reqwest::multipart::Form::new()
        .part(
            "tep",
            reqwest::multipart::Part::bytes(bytes).file_name("ra-soat-2025.xlsx"),
        )
        .text("nam", year.to_string())
        .text("khu_vuc", "rural");
    if check_only {
        form = form.text("chi_kiem_tra", "1");
    }
    crate::harness::Page::from(
        app.client
            .post(app.url("/ho/ra-soat/nhap"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_review_list_is_imported_in_the_official_layout_through_the_web_and_the_cli() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let second = crate::fixtures::household(&app, COMMUNE_X, "Lộc Thị Mai", "020190001111").await;
    sqlx::query("UPDATE households SET household_code = 'HT-0042' WHERE id = $1")
        .bind(second)
        .execute(app.pool())
        .await
        .unwrap();
    app.login("commune.x", &w.logins[4].1).await;
    let good: [[&str; 18]; 2] = [
        [
            "1",
            "Hoàng Văn Thụ",
            "",
            CCCD_X,
            "1200000",
            "x",
            "",
            "",
            "X",
            "",
            "",
            "có",
            "",
            "",
            "",
            "",
            "",
            "Muốn được hỗ trợ bò giống",
        ],
        [
            "2",
            "Lộc Thị Mai",
            "HT-0042",
            "",
            "1600000",
            "x",
            "x",
            "x",
            "x",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    // A check only: the rows read, nothing written.
    let page = upload(&app, review_list(&good), "2025", true).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Tệp hợp lệ: 2 hộ"), "{}", page.text);
    assert!(page.text.contains("dòng 4–5"), "the merged header found");
    assert_eq!(profile_count(&app).await, 0);
    // Bad cells: an indicator "có lẽ", an income in words, a household of another commune, an
    // unknown code, a year with no standard. Nothing written; every row named.
    let y_cccd = crate::fixtures::CCCD_Y;
    let bad: [[&str; 18]; 4] = [
        [
            "1",
            "Hoàng Văn Thụ",
            "",
            CCCD_X,
            "1200000",
            "có lẽ",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "2",
            "Lộc Thị Mai",
            "HT-0042",
            "",
            "một triệu",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "3",
            "Nông Thị Lan",
            "",
            y_cccd,
            "900000",
            "x",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "4",
            "Không Có",
            "HT-9999",
            "",
            "900000",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ];
    let page = upload(&app, review_list(&bad), "2025", false).await;
    assert_eq!(page.status, 422);
    let problems = page.texts("table.problems tbody tr");
    assert_eq!(problems.len(), 4, "{}", page.text);
    assert!(
        problems[0].contains("có lẽ") && problems[0].starts_with('7'),
        "{problems:?}"
    );
    assert!(problems[1].contains("không phải là số"), "{problems:?}");
    assert!(problems[2].contains("thuộc xã khác"), "{problems:?}");
    assert!(problems[3].contains("HT-9999"), "{problems:?}");
    assert_eq!(profile_count(&app).await, 0);
    let page = upload(&app, review_list(&good), "2019", false).await;
    assert_eq!(page.status, 422);
    assert!(page.text.contains("chưa có chuẩn nghèo"));
    assert_eq!(profile_count(&app).await, 0);

    // Saved, and read as the page reads it.
    let page = upload(&app, review_list(&good), "2025", false).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Đã lưu kết quả rà soát của 2 hộ"));
    let rows: Vec<(Uuid, i64, Vec<String>, String, String)> = sqlx::query_as(
        "SELECT household_id, income_per_person, short_of, wishes, source FROM household_profiles
         WHERE review_year = 2025 ORDER BY income_per_person",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, w.household_x);
    assert_eq!(
        rows[0].2,
        ["viec_lam", "bao_hiem_y_te", "chat_luong_nha"],
        "x, X and có read as short, in the standard's order"
    );
    assert_eq!(rows[0].3, "Muốn được hỗ trợ bò giống");
    assert_eq!(rows[0].4, "import");
    assert_eq!(rows[1].0, second);
    let page = app.get(&format!("/ho/{}", w.household_x)).await;
    assert!(page.text_of("#ra-soat summary").contains("→ Hộ nghèo"));
    let page = app.get(&format!("/ho/{second}")).await;
    assert!(
        page.text_of("#ra-soat summary")
            .contains("Không thuộc hộ nghèo, cận nghèo")
    );

    // The same file through the command line, for 2026: a dry run writes nothing, then it writes.
    let file = std::env::temp_dir().join(format!("ra-soat-{}.xlsx", Uuid::new_v4()));
    std::fs::write(&file, review_list(&good)).unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
            .env("DATABASE_URL", &app.db.url)
            .args(["import", "profiles", "--year", "2026"])
            .args(extra)
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, text) = run(&["--dry-run"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("2 hộ hợp lệ, 0 lỗi") && text.contains("Hộ nghèo"),
        "{text}"
    );
    assert_eq!(profile_count(&app).await, 2);
    let (ok, text) = run(&["--commune", COMMUNE_Y]);
    assert!(!ok, "{text}");
    assert!(text.contains("thuộc xã khác"), "{text}");
    assert_eq!(profile_count(&app).await, 2);
    let (ok, text) = run(&[]);
    assert!(ok, "{text}");
    assert!(text.contains("Đã ghi kết quả rà soát của 2 hộ"), "{text}");
    assert_eq!(profile_count(&app).await, 4);
    let _ = std::fs::remove_file(&file);
}

/// Sponsorships of the 2022 campaign with a review before and after: `n` households helped with a
/// house repair while short of housing quality, latrine and employment; `escaped` of them reviewed
/// as escaped after and short of employment only; the others still short of housing quality
/// (and, with `batch` 0, of the latrine too). `batch` keeps names and CCCDs apart between calls.
async fn helped_with_repairs(app: &TestApp, agency: Uuid, n: usize, escaped: usize, batch: usize) {
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
         VALUES (2022, 'Đợt 2022', '2022-07-15', '2022-07-31', 6000000)
         ON CONFLICT (year) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    for k in 0..n {
        let h = crate::fixtures::household(
            app,
            COMMUNE_X,
            &format!("Hộ Sửa Nhà {batch}-{k}"),
            &format!("0201900{:05}", 20000 + batch * 1000 + k),
        )
        .await;
        let s: Uuid = sqlx::query_scalar(
            "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form,
                 support_summary, pledged_value, delivered_value, pledged_on)
             VALUES ($1, $2, $3, 'follow_up', 'house_repair', 'Sửa nhà', 9000000, 9000000, '2022-06-20')
             RETURNING id",
        )
        .bind(campaign)
        .bind(h)
        .bind(agency)
        .fetch_one(app.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead, share_value)
             VALUES ($1, $2, true, 9000000)",
        )
        .bind(s)
        .bind(agency)
        .execute(app.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO support_lines (sponsorship_id, position, form, item, quantity, unit, estimated_value)
             VALUES ($1, 1, 'house_repair', 'Lợp lại mái nhà', 1, 'gói', 9000000)",
        )
        .bind(s)
        .execute(app.pool())
        .await
        .unwrap();
        let out = k < escaped;
        sqlx::query(
            "INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person, short_of)
             VALUES ($1, 2022, 'nd07-2021', 'rural', 900000, '{chat_luong_nha,nha_tieu,viec_lam}'),
                    ($1, 2024, 'nd07-2021', 'rural', $2, $3)",
        )
        .bind(h)
        .bind(if out { 1_700_000_i64 } else { 1_000_000 })
        .bind(match (out, batch) {
            (true, _) => vec!["viec_lam"],
            (false, 0) => vec!["chat_luong_nha", "nha_tieu", "viec_lam"],
            (false, _) => vec!["chat_luong_nha", "viec_lam"],
        })
        .execute(app.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO household_status_history (household_id, year, status) VALUES ($1, 2024, $2)",
        )
        .bind(h)
        .bind(match (out, batch) {
            (true, _) => "escaped",
            (false, 0) => "poor",
            (false, _) => "near_poor",
        })
        .execute(app.pool())
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_pledge_page_advises_and_the_report_measures_deprivations_resolved() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    sqlx::query(
        "UPDATE campaigns SET registration_deadline = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 10,
             report_deadline = (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 26 WHERE is_current",
    )
    .execute(app.pool())
    .await
    .unwrap();
    // Household X's house is poor and it has no latrine.
    sqlx::query(
        "INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person, short_of, wishes)
         VALUES ($1, 2024, 'nd07-2021', 'rural', 800000, '{chat_luong_nha,nha_tieu,nuoc_sinh_hoat}', 'Mong được sửa lại nhà')",
    )
    .bind(w.household_x)
    .execute(app.pool())
    .await
    .unwrap();
    helped_with_repairs(&app, w.agency_b, 6, 4, 0).await;
    app.login("agency.a", &w.logins[2].1).await;
    let pledge = format!("/nhan-giup/dang-ky?ho={}", w.household_x);
    let page = app.get(&pledge).await;
    assert_eq!(page.status, 200);
    let advice = page.texts(".advice .suggestions li");
    assert!(advice[0].contains("Sửa chữa, làm mới nhà"), "{advice:?}");
    // 6 households measured: fewer than 10, so no rate, and the page says why.
    assert!(
        advice[0].contains("Chưa đủ số liệu: mới có 6 hộ"),
        "{advice:?}"
    );
    assert!(
        advice
            .iter()
            .any(|a| a.contains("Xây nhà tiêu hợp vệ sinh"))
    );
    // With 12 measured, 8 of them escaped: the rate, with its counts.
    helped_with_repairs(&app, w.agency_b, 6, 4, 1).await;
    let page = app.get(&pledge).await;
    let advice = page.texts(".advice .suggestions li");
    assert!(
        advice[0].contains("8 trên 12 hộ đã thoát nghèo (67 %)"),
        "{advice:?}"
    );

    // The effectiveness report, for the clerk: housing quality was short for 12 households helped,
    // 8 no longer short after; the house repair resolved it.
    let clerk = app.other_client();
    app.login_with(&clerk, "clerk1", &w.logins[1].1).await;
    let page = crate::harness::Page::from(
        clerk
            .get(app.url("/bao-cao/hieu-qua"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200);
    let rows = page.texts("table.deprivations tbody tr");
    let housing = rows
        .iter()
        .find(|r| r.starts_with("Chất lượng nhà ở"))
        .expect("housing quality row");
    assert!(housing.contains("67 % (8/12)"), "{housing}");
    assert!(housing.contains("Sửa chữa nhà"), "{housing}");
    let employment = rows.iter().find(|r| r.starts_with("Việc làm")).unwrap();
    assert!(employment.contains("0 % (0/12)"), "{employment}");
    let models = page.texts("ul.models > li");
    assert!(
        models[0].contains("Thiếu hụt: Việc làm, Nhà ở, Nước sinh hoạt và vệ sinh (12 hộ)")
            && models[0].contains("Sửa chữa nhà: 8/12 hộ đã thoát nghèo (67 %)"),
        "{models:?}"
    );
    // The spreadsheet has the same figures on its own sheet.
    let bytes = clerk
        .get(app.url("/bao-cao/hieu-qua.xlsx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut book, "Theo thiếu hụt").expect("the sheet");
    let table: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let housing: Vec<&Vec<String>> = table
        .iter()
        .filter(|r| r.first().map(String::as_str) == Some("Chất lượng nhà ở"))
        .collect();
    assert_eq!(housing.len(), 1, "{table:?}");
    assert_eq!(housing[0][1], "Sửa chữa nhà");
    assert_eq!(housing[0][2..7], ["12", "12", "8", "4", "8"]);
    // The agency that did not help them sees none of it (its own scope).
    let page = app.get("/bao-cao/hieu-qua").await;
    assert_eq!(page.count("table.deprivations"), 0);
}

#[tokio::test]
async fn the_progress_sheet_shows_the_sponsorship_pages_figures_and_the_profile_before_and_after() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let s = confirmed_sponsorship(&app, w.household_x, w.agency_a).await;
    let year: i32 = sqlx::query_scalar("SELECT year FROM campaigns WHERE is_current")
        .fetch_one(app.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO household_profiles (household_id, review_year, standard_code, area, income_per_person, short_of, wishes)
         VALUES ($1, $2, 'nd07-2021', 'rural', 900000, '{viec_lam,nha_tieu,chat_luong_nha}', 'Mong nuôi bò sinh sản'),
                ($1, $2 + 1, 'nd07-2021', 'rural', 1700000, '{nha_tieu}', 'Muốn mở rộng chuồng trại')",
    )
    .bind(w.household_x)
    .bind(year)
    .execute(app.pool())
    .await
    .unwrap();
    app.login("agency.a", &w.logins[2].1).await;
    // Vietnam's date (the pledge was dated there).
    let today = (chrono::Utc::now() + chrono::Duration::hours(7))
        .date_naive()
        .to_string();
    let page = app
        .post(
            &format!("/nhan-giup/{s}/trao"),
            &[
                ("ngay", &today),
                ("vat_pham", "Bò cái giống"),
                ("so_luong", "1"),
                ("don_vi_tinh", "con"),
                ("don_gia", "12.500.000"),
                ("nguoi_trao", "Nguyễn Văn An"),
                ("phieu", &Uuid::new_v4().to_string()),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        303,
        "{}",
        page.texts(".field-error, .flash").join(" | ")
    );
    let detail = app.get(&format!("/nhan-giup/{s}")).await;
    let sheet = app.get(&format!("/nhan-giup/{s}/phieu-tien-do")).await;
    assert_eq!(sheet.status, 200);
    // The sheet's figures are the sponsorship page's.
    assert_eq!(
        sheet.text_of(".sheet .delivered"),
        detail.text_of("#delivered")
    );
    assert_eq!(sheet.text_of(".sheet .delivered"), "12.500.000 đ");
    assert!(sheet.text_of(".sheet .pledged").contains("16.000.000 đ"));
    assert!(
        sheet
            .text_of(".sheet .agencies")
            .contains("Phòng Nông nghiệp và PTNT")
    );
    assert_eq!(sheet.count(".sheet .deliveries tbody tr"), 1);
    let profile = sheet.text_of(".sheet .profile");
    assert!(
        profile.contains(&format!("Trước (rà soát {year})"))
            && profile.contains(&format!("Sau (rà soát {})", year + 1)),
        "{profile}"
    );
    assert!(
        profile.contains("Hộ nghèo") && profile.contains("Không thuộc hộ nghèo"),
        "{profile}"
    );
    assert!(
        sheet
            .text_of(".sheet .words")
            .contains("Muốn mở rộng chuồng trại")
    );
    // The batch: the agency's households of the year, one sheet each; another agency gets none of
    // them, and the other commune's official cannot open the sheet.
    let batch = app
        .get(&format!("/nhan-giup/phieu-tien-do?nam={year}"))
        .await;
    assert_eq!(batch.count("article.sheet"), 1);
    let b = app.other_client();
    app.login_with(&b, "agency.b", &w.logins[3].1).await;
    let r = b
        .get(app.url(&format!("/nhan-giup/phieu-tien-do?nam={year}")))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(!body.contains("article class=\"sheet\""));
    let r = b
        .get(app.url(&format!("/nhan-giup/{s}/phieu-tien-do")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The clerk chooses the agency.
    let c = app.other_client();
    app.login_with(&c, "clerk1", &w.logins[1].1).await;
    let body = c
        .get(app.url(&format!(
            "/nhan-giup/phieu-tien-do?nam={year}&don_vi={}",
            w.agency_a
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body.matches("<article class=\"sheet\"").count(), 1);
    // An agency of 51 households prints them 50 at a time.
    for k in 0..50 {
        let h = crate::fixtures::household(
            &app,
            COMMUNE_X,
            &format!("Hộ Thứ {k}"),
            &format!("0201900{:05}", 40000 + k),
        )
        .await;
        confirmed_sponsorship(&app, h, w.agency_a).await;
    }
    let first = app
        .get(&format!("/nhan-giup/phieu-tien-do?nam={year}"))
        .await;
    assert_eq!(first.count("article.sheet"), 50);
    let next = first
        .html()
        .select(&scraper::Selector::parse("a.next-batch").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
        .expect("a link to the next batch");
    let second = app.get(&next).await;
    assert_eq!(second.count("article.sheet"), 1);
    assert_eq!(second.count("a.next-batch"), 0);
}
