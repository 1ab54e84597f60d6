//! Issue #28, the map as dated data: units loaded from a CSV by `giupdo places import`, bad files
//! refused by row with nothing written, and a code followed to the commune it is on a day.

use giupdo::domain::roles::Role;

use crate::fixtures;
use crate::harness::TestApp;

/// A second province in the official list's layout: Tỉnh Thử (99), Huyện Thử (999) until
/// 30/06/2025 with three communes, two of which merged into the third's code on 01/07/2025.
const SECOND_PROVINCE: &str = "\u{feff}Mã;Tên;Cấp;Mã cha;Hiệu lực từ;Hiệu lực đến;Kế tiếp
99;Tỉnh Thử;Tỉnh;;01/01/1900;;
999;Huyện Thử;Huyện;99;01/01/1900;30/06/2025;99
99901;Xã Nà Thử;Xã;999;01/01/1900;30/06/2025;99903
99902;Thị trấn Thử;Thị trấn;999;01/01/1900;30/06/2025;99903
99903;Xã Tân Văn;Xã;999;01/01/1900;30/06/2025;99903
99903;Xã Thử Mới;Xã;99;01/07/2025;;
";

fn places_import(app: &TestApp, file: &std::path::Path, dry: bool) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"));
    cmd.env("DATABASE_URL", &app.db.url)
        .args(["places", "import"])
        .arg(file);
    if dry {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().expect("giupdo runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The 2024 campaign copied to 2026 by the signed-in clerk ("Sao chép sang năm sau").
async fn copy_2024_to_2026(app: &TestApp) -> uuid::Uuid {
    let c2024: uuid::Uuid = sqlx::query_scalar("SELECT id FROM campaigns WHERE year = 2024")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let copied = app
        .post(
            &format!("/dot-van-dong/{c2024}/sao-chep"),
            &[("year", "2026")],
        )
        .await;
    assert_eq!(copied.status, 303);
    sqlx::query_scalar("SELECT id FROM campaigns WHERE year = 2026")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

/// The campaign form sent back as shown, made current and organised by `organiser`.
async fn make_current(
    app: &TestApp,
    campaign: uuid::Uuid,
    organiser: &str,
) -> crate::harness::Page {
    use crate::campaign_rules::{form_values, post_pairs, set};
    let edit = app.get(&format!("/dot-van-dong/{campaign}/sua")).await;
    let mut values = form_values(&edit, "form[action^='/dot-van-dong/']");
    values.push(("is_current".into(), "on".into()));
    set(&mut values, "organiser", organiser);
    post_pairs(app, &format!("/dot-van-dong/{campaign}"), &values).await
}

/// The 2024 campaign copied to 2026, organised by `organiser` and made current.
async fn campaign_2026(app: &TestApp, organiser: &str) -> uuid::Uuid {
    let c2026 = copy_2024_to_2026(app).await;
    let saved = make_current(app, c2026, organiser).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    c2026
}

/// An agency's staff find `household` by its head's name (`head`) among the choices of the
/// current campaign and pledge it through the pledge form; the official of `commune` has it on
/// the list and confirms it. The sponsorship's id and the pledge form as the staff saw it.
async fn pledged_and_confirmed(
    app: &TestApp,
    campaign: uuid::Uuid,
    (household, head): (uuid::Uuid, &str),
    agency: uuid::Uuid,
    commune: &str,
) -> (uuid::Uuid, crate::harness::Page) {
    let staff_name = format!("can.bo.{}", &agency.to_string()[..8]);
    let (_, apw) = app
        .user(&staff_name, Role::Agency, Some(agency), None)
        .await;
    let staff = crate::harness::client();
    app.login_with(&staff, &staff_name, &apw).await;
    let page = |path: String| {
        let req = staff.get(app.url(&path));
        async move { crate::harness::Page::from(req.send().await.unwrap()).await }
    };
    let choose = page(format!("/nhan-giup/dang-ky?q={head}")).await;
    assert!(
        choose.text.contains(&format!("?ho={household}")),
        "in the area"
    );
    let form = page(format!("/nhan-giup/dang-ky?ho={household}")).await;
    let pledge = [
        ("ho", household.to_string()),
        ("hinh_thuc", "livestock".into()),
        ("vat_pham", "Bò cái sinh sản".into()),
        ("so_luong", "1".into()),
        ("don_vi", "con".into()),
        ("gia_tri", "16.000.000".into()),
        (
            "ly_do_giup_lai",
            "Hộ chưa thoát nghèo, cần thêm bò giống".into(),
        ),
        ("phieu", uuid::Uuid::new_v4().to_string()),
    ];
    let done = staff
        .post(app.url("/nhan-giup"))
        .form(&pledge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.status().as_u16(),
        303,
        "{}",
        done.text().await.unwrap_or_default()
    );
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM sponsorships WHERE campaign_id = $1 AND household_id = $2",
    )
    .bind(campaign)
    .bind(household)
    .fetch_one(app.pool())
    .await
    .unwrap();
    let official_name = format!("xa.{commune}");
    let (_, opw) = app
        .user(&official_name, Role::Commune, None, Some(commune))
        .await;
    let official = crate::harness::client();
    app.login_with(&official, &official_name, &opw).await;
    let list =
        crate::harness::Page::from(official.get(app.url("/nhan-giup")).send().await.unwrap()).await;
    assert!(
        list.text.contains(&format!("/nhan-giup/{id}")),
        "on the official's list"
    );
    let confirmed = official
        .post(app.url(&format!("/nhan-giup/{id}/xac-nhan")))
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status().as_u16(), 303);
    (id, form)
}

async fn scalar_i64(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.pool()).await.unwrap()
}

#[tokio::test]
async fn bình_gia_codes_follow_their_successors_by_date() {
    let app = TestApp::spawn().await;
    let on = |code: &'static str, day: &'static str| {
        let pool = app.pool().clone();
        async move {
            giupdo::db::places::commune_on(&pool, code, day.parse().unwrap())
                .await
                .unwrap()
        }
    };
    // Xã Hưng Đạo was itself in 2024 and is part of the new Xã Hoa Thám since 01/07/2025.
    assert_eq!(on("06067", "2024-07-15").await, "06067");
    assert_eq!(on("06067", "2025-07-01").await, "06073");
    assert_eq!(on("06073", "2026-07-15").await, "06073");
    assert_eq!(on("06121", "2026-07-15").await, "06115");
    // In the 2024 campaign Xã Hoa Thám is itself; once a 2026 campaign is in progress the new
    // Xã Hoa Thám covers its predecessor's code.
    let covered = || giupdo::db::places::covered_codes(app.pool(), "06073");
    assert_eq!(covered().await.unwrap(), ["06073"]);
    sqlx::query("UPDATE campaigns SET is_current = false")
        .execute(app.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household, is_current)
         VALUES (2026, 'Đợt 2026', '2026-07-15', '2026-07-31', 8000000, true)",
    )
    .execute(app.pool())
    .await
    .unwrap();
    assert_eq!(covered().await.unwrap(), ["06067", "06073"]);
}

#[tokio::test]
async fn a_second_provinces_units_load_from_a_csv_and_its_households_are_helped_and_reported() {
    let app = TestApp::spawn().await;
    let dir = crate::harness::test_data_dir().join(format!("places-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tinh-thu.csv");
    std::fs::write(&file, SECOND_PROVINCE).unwrap();

    let units_before = scalar_i64(&app, "SELECT count(*) FROM admin_units").await;
    let (ok, text) = places_import(&app, &file, true);
    assert!(ok, "{text}");
    assert!(text.contains("Tệp hợp lệ: 6 đơn vị"), "{text}");
    assert_eq!(
        scalar_i64(&app, "SELECT count(*) FROM admin_units").await,
        units_before,
        "a dry run writes nothing"
    );

    let (ok, text) = places_import(&app, &file, false);
    assert!(ok, "{text}");
    assert!(
        text.contains("Đã nạp 6 đơn vị (1 tỉnh, 1 huyện, 4 xã), 4 quan hệ kế tiếp; 3 xã mới"),
        "{text}"
    );
    let (kind, district, province, today): (String, Option<String>, String, String) =
        sqlx::query_as(
            "SELECT kind, district_code, province_code, merged_into_name FROM communes WHERE code = '99902'",
        )
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(
        (
            kind.as_str(),
            district.as_deref(),
            province.as_str(),
            today.as_str()
        ),
        ("Thị trấn", Some("999"), "99", "Xã Thử Mới")
    );
    // Loading the same file again changes nothing (each code's periods are replaced).
    assert!(places_import(&app, &file, false).0);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT count(*) FROM admin_units WHERE code LIKE '99%'"
        )
        .await,
        6
    );

    // A campaign organised by the new province, run end to end on its map: a household of the
    // old Xã Nà Thử pledged by an agency, confirmed by the official of Xã Thử Mới (99903),
    // reported under the commune it is in now.
    let agency = fixtures::agency(&app, "Ban Chỉ huy Quân sự tỉnh Thử", "armed_forces", 40).await;
    let household = fixtures::household(&app, "99901", "Hoàng Văn Thử", "099085001234").await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    let c2026 = campaign_2026(&app, "99").await;
    let (id, _) =
        pledged_and_confirmed(&app, c2026, (household, "hoang van thu"), agency, "99903").await;
    let bình_gia_official = {
        let (_, opw) = app
            .user("xa.hoatham", Role::Commune, None, Some("06073"))
            .await;
        let c = crate::harness::client();
        app.login_with(&c, "xa.hoatham", &opw).await;
        c
    };
    let page = bình_gia_official
        .get(app.url(&format!("/nhan-giup/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 404, "another province's official");
    let report = app.get("/bao-cao?nam=2026").await;
    let rows = report.texts("section.by-commune tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].starts_with("Xã Thử Mới"), "{rows:?}");
    // Bình Gia's households are outside this campaign's area.
    let outside = fixtures::household(&app, "06073", "Lý Văn Ngoài", "020085004444").await;
    assert!(
        !giupdo::db::sponsorships::in_area(app.pool(), c2026, outside)
            .await
            .unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_units_file_with_a_cycle_or_a_unit_in_two_parents_is_refused_by_row() {
    let app = TestApp::spawn().await;
    let dir = crate::harness::test_data_dir().join(format!("places-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let head = "code,name,level,parent,valid_from,valid_to,successor\n";
    let cases = [
        (
            format!(
                "{head}98,Tỉnh Vòng,province,,2000-01-01,,\n98001,Xã Một,commune,98,2000-01-01,2025-06-30,98002\n98002,Xã Hai,commune,98,2000-01-01,2025-06-30,98001\n"
            ),
            "Các đơn vị kế tiếp tạo thành vòng: 98001 → 98002 → 98001 (dòng 3, 4).",
        ),
        (
            format!(
                "{head}98,Tỉnh A,province,,2000-01-01,,\n97,Tỉnh B,province,,2000-01-01,,\n98001,Xã Một,commune,98,2000-01-01,,\n98001,Xã Một,commune,97,2020-01-01,,\n"
            ),
            "Dòng 4 và dòng 5: đơn vị 98001 thuộc hai đơn vị cha (98 và 97) cùng một lúc.",
        ),
        (
            format!("{head}98001,Xã Lạc,commune,96,2000-01-01,,\n"),
            "Dòng 2: đơn vị cha 96 của 98001 không có hiệu lực ngày 01/01/2000.",
        ),
    ];
    let units_before = scalar_i64(&app, "SELECT count(*) FROM admin_units").await;
    let communes_before = scalar_i64(&app, "SELECT count(*) FROM communes").await;
    for (i, (file_text, says)) in cases.iter().enumerate() {
        let file = dir.join(format!("bad-{i}.csv"));
        std::fs::write(&file, file_text).unwrap();
        let (ok, text) = places_import(&app, &file, false);
        assert!(!ok, "{says}");
        assert!(text.contains("không nạp gì"), "{text}");
        assert!(text.contains(says), "{says}\n{text}");
    }
    assert_eq!(
        scalar_i64(&app, "SELECT count(*) FROM admin_units").await,
        units_before
    );
    assert_eq!(
        scalar_i64(&app, "SELECT count(*) FROM communes").await,
        communes_before
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue #28's must-show: a household registered in an old commune (Xã Hưng Đạo, 06067, merged
/// into Xã Hoa Thám on 01/07/2025), helped in 2024, is found with its history by an agency in a
/// 2026 campaign organised by the province, confirmed by the official of the new Xã Hoa Thám,
/// reported under the new commune, and counted once in the multi-year view.
#[tokio::test]
async fn a_household_of_an_old_commune_is_helped_under_its_new_commune_in_the_provinces_2026_campaign()
 {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    let army = fixtures::agency(&app, "Ban Chỉ huy Quân sự huyện", "armed_forces", 40).await;
    let household = fixtures::household(&app, "06067", "Hoàng Văn Hưng", "020085009876").await;
    fixtures::confirmed_sponsorship(&app, household, army).await;

    // Next year's letter comes from the province: the copy follows the district, gone since
    // 01/07/2025, to its successor; the district is refused as organiser.
    let c2026 = copy_2024_to_2026(&app).await;
    let organiser: Option<String> =
        sqlx::query_scalar("SELECT organiser_code FROM campaigns WHERE id = $1")
            .bind(c2026)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(organiser.as_deref(), Some("20"));
    let refused = make_current(&app, c2026, "181").await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .text_of("#err-organiser")
            .contains("không có hiệu lực ngày 15/07/2026"),
        "{}",
        refused.text_of("#err-organiser")
    );
    assert_eq!(make_current(&app, c2026, "20").await.status, 303);

    // Every page now names the province, the organiser of the campaign in progress.
    let home = app.get("/").await;
    assert!(home.text_of("title").ends_with("— Tỉnh Lạng Sơn"));
    assert_eq!(
        home.text_of("main h1"),
        "Tỉnh Lạng Sơn: đợt vận động hiện tại"
    );
    assert!(home.text_of("footer").starts_with("UBND tỉnh Lạng Sơn"));

    // An agency finds the household in the province's campaign, with its 2024 help; the
    // official of the new Xã Hoa Thám (06073) has it on the list and confirms it.
    let (id, form) =
        pledged_and_confirmed(&app, c2026, (household, "hoang van hung"), army, "06073").await;
    assert!(form.text.contains("2024"), "its history is shown");
    let state: String = sqlx::query_scalar("SELECT state FROM sponsorships WHERE id = $1")
        .bind(id)
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(state, "confirmed");
    // An official of another commune does not see it.
    let (_, xpw) = app
        .user("xa.thienthuat", Role::Commune, None, Some("06091"))
        .await;
    let other = crate::harness::client();
    app.login_with(&other, "xa.thienthuat", &xpw).await;
    let seen = other
        .get(app.url(&format!("/nhan-giup/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status().as_u16(), 404);

    // The 2026 report groups communes as they are since the merger; 2024 as they were.
    let by_commune = |page: &crate::harness::Page| page.texts("section.by-commune tbody tr");
    let r2026 = app.get("/bao-cao?nam=2026").await;
    assert_eq!(by_commune(&r2026).len(), 1);
    assert!(
        by_commune(&r2026)[0].starts_with("Xã Hoa Thám"),
        "{:?}",
        by_commune(&r2026)
    );
    let r2024 = app.get("/bao-cao?nam=2024").await;
    assert!(
        by_commune(&r2024)[0].starts_with("Xã Hưng Đạo"),
        "{:?}",
        by_commune(&r2024)
    );

    // A provincial clerk, made with the command line, sees the province's report, headed by the
    // province's committee; the 2024 paper stays the district's.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
        .env("DATABASE_URL", &app.db.url)
        .args([
            "user",
            "create",
            "--username",
            "so.tinh",
            "--full-name",
            "Nông Thị Tỉnh",
        ])
        .args(["--role", "province"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"Mat-khau-tinh-2026\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let province = crate::harness::client();
    app.login_with(&province, "so.tinh", "Mat-khau-tinh-2026")
        .await;
    let page = |path: &str| {
        let req = province.get(app.url(path));
        async move { crate::harness::Page::from(req.send().await.unwrap()).await }
    };
    let report = page("/bao-cao?nam=2026").await;
    assert!(
        report.text_of("#scope").starts_with("Phạm vi: Toàn tỉnh"),
        "{}",
        report.text_of("#scope")
    );
    let paper = page("/bao-cao/in?nam=2026").await;
    assert!(paper.text_of(".issuer").contains("TỈNH LẠNG SƠN"));
    assert!(paper.text_of("#ngay").starts_with("Lạng Sơn, ngày"));
    let paper_2024 = page("/bao-cao/in?nam=2024").await;
    assert!(paper_2024.text_of(".issuer").contains("HUYỆN BÌNH GIA"));
    assert_eq!(
        page("/dot-van-dong").await.status,
        200,
        "the clerk's rights"
    );

    // Helped in 2024 and in 2026: one household in the multi-year total.
    let years = app.get("/bao-cao/nhieu-nam").await;
    let rows = years.texts("table.years tbody tr");
    for y in ["2024 1", "2026 1"] {
        assert!(rows.iter().any(|r| r.starts_with(y)), "{y}: {rows:?}");
    }
    assert_eq!(years.text_of("#households-once"), "1");
}
