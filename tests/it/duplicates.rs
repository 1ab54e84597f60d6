//! The duplicate household check (R4).

use giupdo::domain::roles::Role;

use crate::fixtures::{COMMUNE_X, COMMUNE_Y};
use crate::harness::{Page, TestApp};

async fn clerk_app() -> TestApp {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    app
}

/// A clerk's app with one household registered through the form: Hoàng Văn Thụ, Thôn Nà Pàn,
/// born 1985, in commune X.
async fn clerk_app_with_thu() -> TestApp {
    let app = clerk_app().await;
    assert_eq!(
        app.post("/ho", &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[]))
            .await
            .status,
        303
    );
    app
}

fn form<'a>(
    name: &'a str,
    village: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("commune_code", COMMUNE_X),
        ("village", village),
        ("head_name", name),
        ("birth_year", "1985"),
        ("gender", "male"),
        ("ethnicity", "tay"),
        ("members", "4"),
        ("status", "poor"),
        ("status_year", "2024"),
    ];
    for (k, v) in extra {
        f.retain(|(fk, _)| fk != k);
        f.push((k, v));
    }
    f
}

/// Households written straight into the table (as a bulk load does, without the web checks), in
/// the village of the first household.
async fn insert_beside_the_first(app: &TestApp, names: &[&str], birth_year: i32) {
    sqlx::query(
        "INSERT INTO households (commune_code, village_id, head_name, birth_year, ethnicity, members, status, status_year)
         SELECT commune_code, village_id, n, $2, 'tay', 3, 'poor', 2024
         FROM (SELECT commune_code, village_id FROM households ORDER BY created_at LIMIT 1) h, unnest($1::text[]) n",
    )
    .bind(names)
    .bind(birth_year)
    .execute(app.pool())
    .await
    .unwrap();
}

async fn households(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(app.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn sql_and_rust_normalisation_agree_on_thousands_of_names() {
    let app = TestApp::spawn().await;
    let sur = [
        "Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Triệu", "Bàn", "Đặng",
        "Nguyễn", "Ưng", "Ông", "Âu",
    ];
    let mid = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Xuân", "Hữu"];
    let giv = [
        "Thụ", "Sơn", "Hùng", "Lan", "Hoa", "Mai", "Tâm", "Cường", "Khánh", "Phúc", "Nga", "Vân",
        "Thuận", "Ước", "Ửng", "Ỷ", "Yến", "Đông",
    ];
    let mut names = Vec::new();
    for (i, s) in sur.iter().enumerate() {
        for (j, m) in mid.iter().enumerate() {
            for (k, g) in giv.iter().enumerate() {
                let mut n = format!("{s} {m} {g}");
                match (i + j + k) % 6 {
                    0 => n = n.to_uppercase(),
                    1 => n = format!("  {n}  "),
                    2 => n = n.replace(' ', "  -  "),
                    3 => n = format!("{n}, (bà)"),
                    4 => n = n.to_lowercase(),
                    _ => {}
                }
                names.push(n);
            }
        }
    }
    assert!(names.len() >= 2000);
    let sql: Vec<String> = sqlx::query_scalar(
        "SELECT normalize_name(x) FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
    )
    .bind(&names)
    .fetch_all(app.pool())
    .await
    .unwrap();
    let mismatches: Vec<_> = names
        .iter()
        .zip(&sql)
        .filter(|(n, s)| giupdo::domain::text::normalize_name(n) != **s)
        .take(5)
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    assert_eq!(sql[0], "hoang van thu");
}

#[tokio::test]
async fn a_certain_duplicate_is_refused() {
    let app = clerk_app().await;
    let first = form(
        "Hoàng Văn Thụ",
        "Thôn Nà Pàn",
        &[("cccd", "020085001234"), ("household_code", "HN-7")],
    );
    assert_eq!(app.post("/ho", &first).await.status, 303);
    // Same CCCD under another name, and the same household code under another name.
    let same_cccd = app
        .post(
            "/ho",
            &form("Lý Văn Khác", "Thôn Bó Pia", &[("cccd", "020085001234")]),
        )
        .await;
    assert_eq!(same_cccd.status, 422);
    assert!(same_cccd.text_of("#err-cccd").contains("Chắc chắn trùng"));
    assert!(
        same_cccd
            .texts("li.candidate .reason")
            .contains(&"Trùng số CCCD".to_string())
    );
    let same_code = app
        .post(
            "/ho",
            &form("Lý Văn Khác", "Thôn Bó Pia", &[("household_code", "HN-7")]),
        )
        .await;
    assert_eq!(same_code.status, 422);
    assert!(
        same_code
            .text_of("#err-household_code")
            .contains("Chắc chắn trùng")
    );
    // Even a confirmation does not let a certain duplicate through.
    let forced = app
        .post(
            "/ho",
            &form(
                "Lý Văn Khác",
                "Thôn Bó Pia",
                &[
                    ("household_code", "HN-7"),
                    ("xac_nhan_trung", "on"),
                    ("ly_do_trung", "khác"),
                ],
            ),
        )
        .await;
    assert_eq!(forced.status, 422);
    assert_eq!(households(&app).await, 1);
}

#[tokio::test]
async fn a_probable_duplicate_needs_a_confirmation_with_a_reason_which_is_audited() {
    let app = clerk_app_with_thu().await;
    // The same head of household in the same village, spelled without diacritics in capitals.
    let again = app
        .post(
            "/ho",
            &form("HOANG VAN THU", "thôn nà pàn", &[("birth_year", "1986")]),
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.text_of("#err-duplicate").contains("có thể trùng"));
    // Every field explained with its weight (issue #25).
    let reasons = again.texts("li.level-probable .reason").join(" | ");
    assert!(
        reasons.contains("Tổng điểm +")
            && reasons.contains("cùng tên THU (+")
            && reasons.contains("năm sinh lệch 1 năm (1986 và 1985) (+")
            && reasons.contains("cùng thôn"),
        "{reasons}"
    );
    assert_eq!(again.count("input[name=xac_nhan_trung]"), 1);
    assert_eq!(
        again.count("input[name=head_name][value='HOANG VAN THU']"),
        1,
        "typed values come back"
    );
    // Ticking the box without a reason is not enough.
    let no_reason = app
        .post(
            "/ho",
            &form("HOANG VAN THU", "thôn nà pàn", &[("xac_nhan_trung", "on")]),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.text_of("#err-duplicate").contains("ghi lý do"));
    assert_eq!(households(&app).await, 1);
    // With a reason it is saved, and the reason is in the audit trail.
    let ok = app
        .post(
            "/ho",
            &form(
                "HOANG VAN THU",
                "thôn nà pàn",
                &[
                    ("xac_nhan_trung", "on"),
                    ("ly_do_trung", "Hai anh em ruột, trùng tên"),
                ],
            ),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity = 'household' AND reason IS NOT NULL",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(
        reason.contains("Hoàng Văn Thụ") && reason.contains("Hai anh em ruột"),
        "{reason}"
    );

    // A typo in the same village with a close birth year is probable too.
    let typo = app
        .post(
            "/ho",
            &form("Hoàng Văn Thuỵ", "Thôn Nà Pàn", &[("birth_year", "1985")]),
        )
        .await;
    assert_eq!(typo.status, 422);
    assert!(
        typo.texts("li.level-probable .reason")
            .iter()
            .any(|r| r.starts_with("tên Thuỵ và Thụ khác một chữ cái")),
        "{:?}",
        typo.texts("li.level-probable .reason")
    );
}

#[tokio::test]
async fn namesakes_born_years_apart_and_similar_names_elsewhere_are_only_shown() {
    let app = clerk_app_with_thu().await;
    // Same name, same village, born 30 years later: a different person (father and son).
    let son = app
        .post(
            "/ho",
            &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[("birth_year", "2000")]),
        )
        .await;
    assert_eq!(
        son.status, 303,
        "only a possible match: saved without confirmation"
    );
    // The as-you-type check lists it with its level and why.
    let fragment = app
        .post(
            "/ho/kiem-tra",
            &form("Hoàng Văn Thu", "Thôn Khuổi Hẩu", &[("birth_year", "")]),
        )
        .await;
    assert_eq!(fragment.status, 200);
    assert!(!fragment.text.contains("<html"), "a fragment, not a page");
    let levels = fragment.texts("li.candidate .level");
    assert_eq!(levels.len(), 2, "{}", fragment.text);
    assert!(levels.iter().all(|l| l == "Tên gần giống"));
    for c in fragment.texts("li.candidate") {
        assert!(
            c.contains("khác thôn (Thôn Khuổi Hẩu và Thôn Nà Pàn), cùng xã"),
            "{c}"
        );
    }
    // A different person with a close name in another commune is not a candidate at all.
    let other_commune = app
        .post(
            "/ho/kiem-tra",
            &form(
                "Hoàng Văn Thụ",
                "Thôn Bó Pia",
                &[("commune_code", COMMUNE_Y)],
            ),
        )
        .await;
    assert_eq!(other_commune.count("li.candidate"), 0);
}

#[tokio::test]
async fn the_search_page_finds_across_communes_with_levels_and_hides_other_communes_personal_data()
{
    let app = clerk_app().await;
    giupdo::demo::load(app.pool()).await.unwrap();
    let (id, cccd, commune): (String, String, String) =
        sqlx::query_as("SELECT id::text, cccd, commune_code FROM households WHERE cccd IS NOT NULL ORDER BY id LIMIT 1")
            .fetch_one(app.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE households SET head_name = 'Hoàng Văn Thụ' WHERE id = $1::uuid")
        .bind(&id)
        .execute(app.pool())
        .await
        .unwrap();
    let page = app.get("/trung-ho?q=hoang+van+thu").await;
    let names = page.texts("li.candidate .candidate-name");
    assert_eq!(
        names.first().map(String::as_str),
        Some("Hoàng Văn Thụ"),
        "{names:?}"
    );
    // A name alone, with no village to compare, is a possible match at most (the same levels as
    // the household form, from the one classification).
    assert_eq!(page.texts("li.candidate .level")[0], "Tên gần giống");
    assert!(
        !page
            .texts("li.candidate .level")
            .iter()
            .any(|l| l != "Tên gần giống"),
        "no name match is called more than possible: {:?}",
        page.texts("li.candidate .level")
    );
    let by_cccd = app.get(&format!("/trung-ho?q={cccd}")).await;
    assert_eq!(
        by_cccd.texts("li.candidate .level"),
        vec!["Chắc chắn trùng"]
    );
    assert!(
        by_cccd.text_of("li.candidate small").contains(&cccd),
        "a clerk sees the full CCCD"
    );

    // A commune official of another commune sees the match but no personal data.
    let other = if commune == COMMUNE_X {
        COMMUNE_Y
    } else {
        COMMUNE_X
    };
    let (_, pw) = app.user("xa.khac", Role::Commune, None, Some(other)).await;
    let c = app.other_client();
    app.login_with(&c, "xa.khac", &pw).await;
    let seen = Page::from(
        c.get(app.url(&format!("/trung-ho?q={cccd}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen.texts("li.candidate .level"), vec!["Chắc chắn trùng"]);
    assert_eq!(
        seen.text_of("li.candidate .candidate-name"),
        "Một hộ ở xã khác"
    );
    let shown = seen.text_of("section.candidates");
    assert!(
        !shown.contains(&cccd) && !shown.contains("Hoàng Văn Thụ"),
        "{shown}"
    );
    assert_eq!(
        seen.count("li.candidate a"),
        0,
        "no link to a record they may not open"
    );
}

#[tokio::test]
async fn dedupe_scan_prints_the_suspected_pairs_of_a_commune() {
    let app = clerk_app_with_thu().await;
    // Entered before the check existed (straight into the table): the scan must find it.
    insert_beside_the_first(&app, &["HOANG VAN THU"], 1985).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
        .env("DATABASE_URL", &app.db.url)
        .args(["dedupe", "scan", "--commune", COMMUNE_X, "--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("Có thể trùng")
            && lines[1].contains("HOANG VAN THU")
            && lines[1].contains("Hoàng Văn Thụ"),
        "{text}"
    );
    let other = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
        .env("DATABASE_URL", &app.db.url)
        .args(["dedupe", "scan", "--commune", COMMUNE_Y])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&other.stdout).contains("0 cặp nghi trùng"));
}

/// Similar names are looked up in the name dictionary (migration 0016): a name must be in it
/// however it came into the registry — the web form, a bulk insert, an edit.
#[tokio::test]
async fn names_entered_imported_or_edited_are_all_found_by_the_check_and_the_scan() {
    let app = clerk_app_with_thu().await;
    // A bulk insert (as an import writes) of two close names in the same village, and an edit
    // of the first household's name to one never seen before.
    insert_beside_the_first(&app, &["Lăng Thị Ngân", "Lăng Thị Ngânh"], 1985).await;
    sqlx::query(
        "UPDATE households SET head_name = 'Nông Văn Páo' WHERE head_name = 'Hoàng Văn Thụ'",
    )
    .execute(app.pool())
    .await
    .unwrap();
    let check = |name: &'static str| {
        let app = &app;
        async move {
            app.post("/ho/kiem-tra", &form(name, "Thôn Nà Pàn", &[]))
                .await
                .texts("li.candidate")
                .join(" | ")
        }
    };
    let renamed = check("Nong Van Paoo").await;
    assert!(renamed.contains("Nông Văn Páo"), "{renamed}");
    let old_name = check("Hoàng Văn Thụ").await;
    assert!(
        !old_name.contains("Nông Văn Páo"),
        "the old name no longer leads to the household: {old_name}"
    );
    let bulk = check("lang thi ngan").await;
    assert!(
        bulk.contains("Lăng Thị Ngân") && bulk.contains("Lăng Thị Ngânh"),
        "{bulk}"
    );
    // The scan pairs the two close names once, the smaller id first (the order dismissals use).
    let pairs = giupdo::db::duplicates::scan(
        app.pool(),
        Some(COMMUNE_X),
        giupdo::domain::duplicates::Thresholds::default(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert!(pairs[0].a < pairs[0].b);
    let mut names = [pairs[0].name_a.as_str(), pairs[0].name_b.as_str()];
    names.sort();
    assert_eq!(names, ["Lăng Thị Ngân", "Lăng Thị Ngânh"]);
}

/// The check searches its commune's own partition of the name dictionary (migration 0018): a
/// commune added after the migration gets one, and its households are found.
#[tokio::test]
async fn a_commune_added_later_has_its_names_checked_in_its_own_partition() {
    let app = clerk_app().await;
    sqlx::query(
        "INSERT INTO communes (code, name, kind, district_code, province_code, merged_into_code, merged_into_name)
         VALUES ('06199', 'Xã Thử Nghiệm', 'Xã', '181', '20', '06199', 'Xã Thử Nghiệm')",
    )
    .execute(app.pool())
    .await
    .unwrap();
    let new_commune = [("commune_code", "06199")];
    assert_eq!(
        app.post("/ho", &form("Lương Thị Hoa", "Thôn Mới", &new_commune))
            .await
            .status,
        303
    );
    let partition: String = sqlx::query_scalar(
        "SELECT tableoid::regclass::text FROM commune_name_keys WHERE commune_code = '06199'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(partition, "commune_name_keys_06199");
    let check = app
        .post(
            "/ho/kiem-tra",
            &form("Luong Thi Hoaa", "Thôn Mới", &new_commune),
        )
        .await;
    assert!(
        check.text_of("li.candidate").contains("Lương Thị Hoa"),
        "{}",
        check.text
    );
}

#[tokio::test]
async fn the_targets_hold_on_the_held_out_half_for_every_corruption_kind() {
    // Issue #25: `giupdo dedupe evaluate` on the generated benchmark. The model is fitted on one
    // half; these figures are the other half's: recall of true duplicates at *probable* ≥ 98 %
    // overall and ≥ 95 % for each corruption kind, precision at *probable* ≥ 90 %, and nothing
    // that differs only by tone placement or NFC/NFD below *probable*.
    let app = TestApp::spawn().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = giupdo::cli::dedupe::evaluate(
        app.pool(),
        &root.join(giupdo::cli::dedupe::GENERATED_PAIRS),
        &root.join(giupdo::cli::dedupe::GENERATED_REGISTRY),
        &root.join(giupdo::cli::dedupe::HAND_PAIRS),
        giupdo::domain::duplicates::Thresholds::default(),
    )
    .await
    .unwrap();
    let held: &str = table
        .split("\n## ")
        .find(|s| s.starts_with("Held-out half"))
        .unwrap();
    let percents = |line: &str| -> Vec<f64> {
        line.split('|')
            .filter_map(|c| c.trim().trim_end_matches('%').parse().ok())
            .collect()
    };
    let row = held
        .lines()
        .find(|l| l.starts_with("| probable (saving"))
        .unwrap();
    let p = percents(row);
    assert!(
        p[0] >= 90.0 && p[1] >= 98.0,
        "held-out probable precision/recall: {row}"
    );
    let mut kinds = 0;
    for line in held.lines().filter(|l| l.contains("| yes |")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let probable: f64 = cells[4].trim_end_matches('%').parse().unwrap();
        let kind = cells[1];
        let floor = if matches!(kind, "tone_placement" | "nfd") {
            100.0
        } else {
            95.0
        };
        assert!(probable >= floor, "{kind}: {line}");
        kinds += 1;
    }
    assert_eq!(kinds, 15, "every corruption kind is reported:\n{held}");
}

async fn two_records(app: &TestApp) -> (String, String) {
    assert_eq!(
        app.post(
            "/ho",
            &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[("cccd", "020085001234")])
        )
        .await
        .status,
        303
    );
    let ok = app
        .post(
            "/ho",
            &form(
                "Hoang Van Thu",
                "Thôn Nà Pàn",
                &[
                    ("xac_nhan_trung", "on"),
                    ("ly_do_trung", "nhập lại từ sổ cũ"),
                ],
            ),
        )
        .await;
    assert_eq!(ok.status, 303);
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM households ORDER BY created_at")
            .fetch_all(app.pool())
            .await
            .unwrap();
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn a_merge_keeps_all_history_on_the_survivor_and_a_clerk_can_undo_it() {
    let app = clerk_app().await;
    let (a, b) = two_records(&app).await;
    // The second record carries a 2019 sponsorship and a status year of its own.
    for sql in [
        "INSERT INTO agencies (name, kind, staff_count) VALUES ('Phòng Nội vụ', 'department', 12)",
        "INSERT INTO campaigns (year, name, registration_deadline, report_deadline, target_per_household)
             VALUES (2019, 'Đợt 2019', '2019-07-15', '2019-07-31', 5000000)",
    ] {
        sqlx::query(sql).execute(app.pool()).await.unwrap();
    }
    sqlx::query(
        "WITH s AS (INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary, pledged_value)
             SELECT c.id, $1::uuid, a.id, 'follow_up', 'livestock', '01 con bò', 15000000 FROM campaigns c, agencies a WHERE c.year = 2019
             RETURNING id, lead_agency_id)
         INSERT INTO sponsorship_agencies (sponsorship_id, agency_id, is_lead) SELECT id, lead_agency_id, true FROM s",
    )
    .bind(&b)
    .execute(app.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO household_status_history (household_id, year, status) VALUES ($1::uuid, 2019, 'poor')")
        .bind(&b)
        .execute(app.pool())
        .await
        .unwrap();

    let review = app.get(&format!("/trung-ho/ra-soat?xa={COMMUNE_X}")).await;
    assert_eq!(review.text_of("#pair-count"), "1 cặp nghi trùng");
    let merged = app
        .post(
            "/trung-ho/gop",
            &[
                ("a", a.as_str()),
                ("b", b.as_str()),
                ("giu", "a"),
                ("ly_do", "Cùng một hộ, nhập hai lần"),
            ],
        )
        .await;
    assert_eq!(merged.status, 303);
    let survivor = app.get(&format!("/ho/{a}")).await;
    assert!(
        survivor.text_of("table").contains("2019"),
        "the survivor shows the 2019 help"
    );
    assert!(
        survivor
            .texts("ul.timeline li")
            .iter()
            .any(|l| l.starts_with("2019"))
    );
    assert!(
        app.get(&format!("/ho/{b}"))
            .await
            .text_of(".merged")
            .contains("đã được gộp")
    );
    assert_eq!(
        app.get("/ho").await.texts("a.head-name"),
        vec!["Hoàng Văn Thụ"],
        "the merged record leaves the list"
    );
    assert_eq!(
        app.get(&format!("/trung-ho/ra-soat?xa={COMMUNE_X}"))
            .await
            .text_of("#pair-count"),
        "0 cặp nghi trùng"
    );
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'merge' AND reason = 'Cùng một hộ, nhập hai lần'")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(audit, 1);

    // Undo: everything goes back where it was.
    let merge_id: String = sqlx::query_scalar("SELECT id::text FROM household_merges")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(
        app.post(&format!("/trung-ho/gop/{merge_id}/hoan-tac"), &[])
            .await
            .status,
        303
    );
    let owner: String = sqlx::query_scalar("SELECT household_id::text FROM sponsorships")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(owner, b);
    let years: Vec<(String, i32)> = sqlx::query_as(
        "SELECT household_id::text, year FROM household_status_history ORDER BY household_id, year",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert!(
        !years.contains(&(a.clone(), 2019)) && years.contains(&(b.clone(), 2019)),
        "{years:?}"
    );
    assert_eq!(app.get("/ho").await.texts("a.head-name").len(), 2);
    // A second undo is refused.
    app.post(&format!("/trung-ho/gop/{merge_id}/hoan-tac"), &[])
        .await;
    assert!(
        app.get("/trung-ho/ra-soat")
            .await
            .text_of(".flash-error")
            .contains("đã được hoàn tác")
    );
}

#[tokio::test]
async fn not_a_duplicate_is_remembered_and_never_suggested_again() {
    let app = clerk_app().await;
    let (a, b) = two_records(&app).await;
    let no_reason = app
        .post(
            "/trung-ho/khong-trung",
            &[("a", a.as_str()), ("b", b.as_str()), ("ly_do", "")],
        )
        .await;
    assert_eq!(no_reason.status, 303);
    assert_eq!(
        app.get(&format!("/trung-ho/ra-soat?xa={COMMUNE_X}"))
            .await
            .text_of("#pair-count"),
        "1 cặp nghi trùng"
    );
    app.post(
        "/trung-ho/khong-trung",
        &[
            ("a", b.as_str()),
            ("b", a.as_str()),
            ("ly_do", "Hai anh em, khác năm sinh thật"),
        ],
    )
    .await;
    assert_eq!(
        app.get(&format!("/trung-ho/ra-soat?xa={COMMUNE_X}"))
            .await
            .text_of("#pair-count"),
        "0 cặp nghi trùng"
    );
}

#[tokio::test]
async fn concurrent_merges_of_one_pair_let_exactly_one_win_and_lose_nothing() {
    let app = clerk_app().await;
    let (a, b) = two_records(&app).await;
    let (a, b): (uuid::Uuid, uuid::Uuid) = (a.parse().unwrap(), b.parse().unwrap());
    let mut tasks = Vec::new();
    for i in 0..10 {
        let pool = app.pool().clone();
        let (survivor, merged) = if i % 2 == 0 { (a, b) } else { (b, a) };
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            let by = giupdo::db::audit::By::system("test");
            match giupdo::db::duplicates::merge(&mut tx, &by, survivor, merged, "song song").await {
                Ok(_) => {
                    tx.commit().await.unwrap();
                    true
                }
                Err(_) => false,
            }
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    let merged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM households WHERE merged_into IS NOT NULL")
            .fetch_one(app.pool())
            .await
            .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!((merged, total), (1, 2));
}

#[tokio::test]
async fn an_import_with_a_probable_duplicate_needs_a_confirmation_with_a_reason() {
    let app = clerk_app_with_thu().await;
    let csv = "Xã,Thôn,Họ tên chủ hộ,Năm sinh,Dân tộc,Số nhân khẩu,Tình trạng\n\
               06073,thon na pan,HOANG VAN THU,1986,Tày,3,Hộ nghèo\n\
               06073,Thôn Nà Pàn,Lý Văn Mới,1970,Tày,3,Hộ nghèo\n\
               06073,Thôn Nà Pàn,Ly Van Moi,,Tày,3,Hộ nghèo\n\
               06073,Thôn Nà Pàn,Hoàng Văn Thuu,1986,Tày,3,Hộ nghèo\n\
               06073,Thôn Nà Pàn,Hoàng Văn Thuận,1950,Tày,3,Hộ nghèo\n";
    let form_data = reqwest::multipart::Form::new().part(
        "tep",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("ds.csv"),
    );
    let resp = app
        .client
        .post(app.url("/ho/nhap"))
        .multipart(form_data)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let preview = app.get(&location).await;
    let warnings = preview.texts("table.warnings tbody tr");
    // The exact name (line 2), the twin within the file (line 4), and a typo of a registered name
    // (line 5: "Thuu", born a year apart); not "Thuận" born 35 years earlier (line 6).
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    // Line 5 is most like line 2 of the file (same year), a letter slipped; the explanation says so.
    assert!(
        warnings[2].starts_with("5 ")
            && warnings[2].contains("Có thể trùng với dòng 2 trong tệp")
            && warnings[2].contains("gõ nhầm một chữ cái"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].starts_with("2 ") && warnings[0].contains("Hoàng Văn Thụ"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("4 ") && warnings[1].contains("dòng 3"),
        "{warnings:?}"
    );
    let refused = app.post(&location, &[]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text_of("#confirm-error").contains("ghi lý do"));
    assert_eq!(households(&app).await, 1);
    let done = app
        .post(
            &location,
            &[
                ("xac_nhan_trung", "on"),
                ("ly_do_trung", "Đã xác minh tại thôn"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(households(&app).await, 6);
    let reasons: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE reason LIKE '%Đã xác minh tại thôn%'",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(reasons, 5);
}

#[tokio::test]
async fn fifty_agencies_adopting_one_household_at_once_exactly_one_wins_and_the_rest_learn_who() {
    use giupdo::db::sponsorships::{NewPledge, PledgeError, pledge_committed};
    let app = TestApp::spawn().await;
    let household =
        crate::fixtures::household(&app, COMMUNE_X, "Hoàng Văn Thụ", "020085001234").await;
    let campaign: uuid::Uuid = sqlx::query_scalar("SELECT id FROM campaigns WHERE is_current")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let mut agencies = Vec::new();
    for i in 0..50 {
        agencies.push(
            crate::fixtures::agency(&app, &format!("Cơ quan số {i:02}"), "state_agency", 20).await,
        );
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for agency in agencies {
        let pool = app.pool().clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let p = NewPledge {
                campaign_id: campaign,
                household_id: household,
                lead_agency_id: agency,
                members: vec![],
                lines: vec![giupdo::domain::sponsorship::Line {
                    form: "livestock",
                    item: "Bò cái".into(),
                    quantity: 1,
                    unit: "con".into(),
                    value: 16_000_000,
                }],
                note: None,
                helped_before_reason: None,
                submission: None,
            };
            start.wait().await;
            pledge_committed(&pool, &giupdo::db::audit::By::system("test"), &p).await
        }));
    }
    let mut wins = 0;
    let mut refusals = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(PledgeError::AlreadyAdopted { agency }) => refusals.push(agency),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((wins, refusals.len()), (1, 49));
    let holder: String = sqlx::query_scalar(
        "SELECT a.name FROM sponsorships s JOIN agencies a ON a.id = s.lead_agency_id WHERE s.household_id = $1",
    )
    .bind(household)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(
        refusals.iter().all(|a| *a == holder),
        "every refusal names {holder}: {refusals:?}"
    );
    // Nothing half-written: one sponsorship, one member row, one audit row.
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM sponsorships), (SELECT count(*) FROM sponsorship_agencies),
                (SELECT count(*) FROM audit_log WHERE entity = 'sponsorship')",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(counts, (1, 1, 1));
    let msg = PledgeError::AlreadyAdopted {
        agency: holder.clone(),
    }
    .to_string();
    assert_eq!(
        msg,
        format!("Hộ này đã được {holder} nhận giúp đỡ trong đợt vận động này.")
    );
}

#[tokio::test]
async fn adopting_a_household_helped_in_an_earlier_year_shows_that_help_and_needs_a_reason() {
    use giupdo::db::sponsorships::{NewPledge, PledgeError, pledge_committed};
    let app = TestApp::spawn().await;
    giupdo::demo::load(app.pool()).await.unwrap();
    // A demo household helped in 2019.
    let (household, agency): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT s.household_id, a.name FROM sponsorships s JOIN campaigns c ON c.id = s.campaign_id
         JOIN agencies a ON a.id = s.lead_agency_id
         WHERE c.year = 2019 AND NOT EXISTS (SELECT 1 FROM sponsorships t JOIN campaigns d ON d.id = t.campaign_id
                                             WHERE t.household_id = s.household_id AND d.year = 2024)
         LIMIT 1",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    let campaign: uuid::Uuid = sqlx::query_scalar("SELECT id FROM campaigns WHERE is_current")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let lead: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM agencies WHERE name = 'Phòng Tư pháp'")
            .fetch_one(app.pool())
            .await
            .unwrap();
    let mut p = NewPledge {
        campaign_id: campaign,
        household_id: household,
        lead_agency_id: lead,
        members: vec![],
        lines: vec![giupdo::domain::sponsorship::Line {
            form: "seedlings",
            item: "Cây quế".into(),
            quantity: 1500,
            unit: "cây".into(),
            value: 9_000_000,
        }],
        note: None,
        helped_before_reason: Some("   ".into()),
        submission: None,
    };
    let by = giupdo::db::audit::By::system("test");
    match pledge_committed(app.pool(), &by, &p).await {
        Err(PledgeError::HelpedBefore { history }) => {
            assert!(
                history
                    .iter()
                    .any(|(year, agencies, _)| *year == 2019 && agencies.contains(&agency)),
                "{history:?}"
            );
        }
        other => panic!("expected the helped-before warning, got {other:?}"),
    }
    let before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sponsorships WHERE household_id = $1")
            .bind(household)
            .fetch_one(app.pool())
            .await
            .unwrap();
    p.helped_before_reason = Some("Hộ bị thiên tai năm 2024, cần hỗ trợ lại".into());
    let id = pledge_committed(app.pool(), &by, &p)
        .await
        .expect("goes on with a reason");
    let after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sponsorships WHERE household_id = $1")
            .bind(household)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(after, before + 1);
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity = 'sponsorship' AND entity_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(reason, "Hộ bị thiên tai năm 2024, cần hỗ trợ lại");
}

#[tokio::test]
async fn same_name_village_and_year_with_two_different_cccds_is_only_possible() {
    let app = clerk_app().await;
    let first = form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[("cccd", "020085001234")]);
    assert_eq!(app.post("/ho", &first).await.status, 303);
    // The same name, village and birth year, but another valid CCCD: two people by their papers.
    let second = form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[("cccd", "020085009999")]);
    let saved = app.post("/ho", &second).await;
    assert_eq!(
        saved.status, 303,
        "saved without asking for a reason: {}",
        saved.text
    );
    assert_eq!(households(&app).await, 2);
    // The check as one types shows it, as possible, saying why.
    let shown = app
        .post(
            "/ho/kiem-tra",
            &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[("cccd", "020085005555")]),
        )
        .await;
    assert!(
        shown
            .texts("li.candidate .level")
            .iter()
            .all(|l| l == "Tên gần giống")
    );
    assert!(
        shown
            .texts("li.candidate .reason")
            .join(" ")
            .contains("khác số CCCD (−"),
        "{}",
        shown.text
    );
    // Without a CCCD on the new record nothing tells them apart: probable, a reason is needed.
    let unknown = app
        .post("/ho", &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[]))
        .await;
    assert_eq!(unknown.status, 422);
}

#[tokio::test]
async fn a_household_code_is_certain_only_within_its_commune() {
    let app = clerk_app().await;
    for (commune, name) in [(COMMUNE_X, "Lục Văn Tư"), (COMMUNE_Y, "Vi Thị Ba")] {
        let f = form(
            name,
            "Thôn Nà Pàn",
            &[("household_code", "HN-01"), ("commune_code", commune)],
        );
        assert_eq!(app.post("/ho", &f).await.status, 303);
    }
    // The district searching a code: it stands in two communes, so neither match is certain.
    let page = app.get("/trung-ho?q=HN-01").await;
    assert_eq!(
        page.texts("li.candidate .level"),
        vec!["Tên gần giống", "Tên gần giống"]
    );
    assert!(
        page.text_of("li.candidate .reason")
            .contains("mã hộ chỉ là duy nhất trong một xã")
    );
    // Commune X's official: their own commune's code is certain, the other commune's is not.
    let (_, pw) = app.user("xa.x", Role::Commune, None, Some(COMMUNE_X)).await;
    let c = app.other_client();
    app.login_with(&c, "xa.x", &pw).await;
    let own = Page::from(c.get(app.url("/trung-ho?q=HN-01")).send().await.unwrap()).await;
    assert_eq!(
        own.texts("li.candidate .level"),
        vec!["Chắc chắn trùng", "Tên gần giống"]
    );
}

#[tokio::test]
async fn a_namesake_whose_given_name_differs_by_its_ending_is_not_asked_for_a_reason() {
    let app = clerk_app().await;
    assert_eq!(
        app.post("/ho", &form("Hoàng Văn Thu", "Thôn Nà Pàn", &[]))
            .await
            .status,
        303
    );
    // Same village, same birth year, "Thu" and "Thuận": two people, shown as possible only.
    let namesake = app
        .post("/ho", &form("Hoàng Văn Thuận", "Thôn Nà Pàn", &[]))
        .await;
    assert_eq!(namesake.status, 303, "{}", namesake.text);
    let shown = app
        .post("/ho/kiem-tra", &form("Hoàng Văn Thuận", "Thôn Nà Pàn", &[]))
        .await;
    let levels = shown.texts("li.candidate .level");
    assert!(levels.contains(&"Tên gần giống".to_string()), "{levels:?}");
    // The same name, year and village but a woman: the gender alone weighs against (−7,9), not
    // enough against everything else (a "Văn" ticked female is more often a slip of the form):
    // asked, and the explanation shows the gender's weight.
    let woman = app
        .post(
            "/ho",
            &form("Hoàng Văn Thu", "Thôn Nà Pàn", &[("gender", "female")]),
        )
        .await;
    assert_eq!(woman.status, 422, "{}", woman.text);
    assert!(
        woman
            .texts("li.level-probable .reason")
            .iter()
            .any(|r| r.starts_with("khác giới tính (−")),
        "{}",
        woman.text
    );
    // A typo of the registered name is still asked about.
    let typo = app
        .post("/ho", &form("Hoàng Văn Thuu", "Thôn Nà Pàn", &[]))
        .await;
    assert_eq!(typo.status, 422);
}

#[tokio::test]
async fn the_cross_commune_search_finds_a_name_through_its_blocking_keys() {
    let app = clerk_app().await;
    assert_eq!(
        app.post("/ho", &form("Hoàng Văn Thụ", "Thôn Nà Pàn", &[]))
            .await
            .status,
        303
    );
    // The new name got its blocking keys, the same in SQL as in Rust.
    let sql: Vec<String> = sqlx::query_scalar(
        "SELECT block FROM name_blocks WHERE key = 'hoang van thu' ORDER BY block COLLATE \"C\"",
    )
    .fetch_all(app.pool())
    .await
    .unwrap();
    assert_eq!(
        sql,
        giupdo::domain::duplicates::name_blocks("hoang van thu")
    );
    for typed in [
        "hoang thu",
        "Hoàng Văn Thuu",
        "Thụ Hoàng Văn",
        "Hoàg Văn Thụ",
    ] {
        let page = app
            .get(&format!("/trung-ho?q={}", typed.replace(' ', "+")))
            .await;
        assert!(
            page.texts("li.candidate .candidate-name")
                .contains(&"Hoàng Văn Thụ".to_string()),
            "{typed}: {}",
            page.text
        );
    }
    let other = app.get("/trung-ho?q=Hoàng+Văn+Sơn").await;
    assert_eq!(
        other.count("li.candidate"),
        0,
        "another given name is another person"
    );
}
