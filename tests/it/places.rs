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
    // The new Xã Hoa Thám covers its predecessor's codes.
    assert_eq!(
        giupdo::db::places::covered_codes(app.pool(), "06073")
            .await
            .unwrap(),
        ["06067", "06073"]
    );
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

    // A household of the old Xã Nà Thử, helped and confirmed, reported under the commune it is
    // in today when the report groups by the new map.
    let agency = fixtures::agency(&app, "Ban Chỉ huy Quân sự tỉnh Thử", "armed_forces", 40).await;
    let household = fixtures::household(&app, "99901", "Hoàng Văn Thử", "099085001234").await;
    fixtures::confirmed_sponsorship(&app, household, agency).await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    let by_2024 = app.get("/bao-cao?nam=2024").await;
    assert!(
        by_2024.text.contains("Xã Nà Thử"),
        "the commune it was registered in"
    );
    let by_new_map = app.get("/bao-cao?nam=2024&gop=1").await;
    assert!(
        by_new_map.text.contains("Xã Thử Mới"),
        "the commune it is in today"
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
