//! Issue #25: the scored duplicate check — every corruption kind of the benchmark caught through
//! the form, the import preview and the command line; one canonical spelling in Rust and SQL;
//! the name frequencies kept by the registry's triggers; a stale stored model set aside.

use giupdo::domain::roles::Role;
use giupdo::domain::text::canonical_name;

use crate::fixtures::COMMUNE_X;
use crate::harness::TestApp;

/// (kind, registered name, gender, CCCD of the registered; typed name, typed birth year, typed
/// village, typed CCCD). The registered households are born 1985 in Thôn Nà Pàn.
type Kind = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const KINDS: &[Kind] = &[
    (
        "tone_placement",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thuỷ",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "nfd",
        "Đặng Thị Thủy",
        "female",
        "",
        "NFD",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "mark_missing",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thuy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "mark_wrong",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thũy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "no_marks",
        "Đặng Thị Thủy",
        "female",
        "",
        "Dang Thi Thuy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "d_for_dd",
        "Đặng Thị Thủy",
        "female",
        "",
        "Dặng Thị Thủy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "telex",
        "Đặng Thị Thủy",
        "female",
        "",
        "DDawngj Thị Thủy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "vni",
        "Đặng Thị Thủy",
        "female",
        "",
        "D9a85ng Thị Thủy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "letter_slip",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thủyy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "middle_dropped",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thủy",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "middle_added",
        "Nông Lìn",
        "male",
        "",
        "Nông Văn Lìn",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "swapped_order",
        "Đặng Thị Thủy",
        "female",
        "",
        "Thủy Đặng Thị",
        "1985",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "birth_year_off",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thủy",
        "1986",
        "Thôn Nà Pàn",
        "",
    ),
    (
        "cccd_mangled",
        "Triệu Thị Mỷ",
        "female",
        "020185001234",
        "Triệu Thị Mỷ",
        "1985",
        "Thôn Nà Pàn",
        "20185001234",
    ),
    (
        "village_prefix",
        "Đặng Thị Thủy",
        "female",
        "",
        "Đặng Thị Thủy",
        "1985",
        "bản nà pàn",
        "",
    ),
];

fn typed(name: &str) -> String {
    if name == "NFD" {
        unicode_normalization::UnicodeNormalization::nfd("Đặng Thị Thủy").collect()
    } else {
        name.to_string()
    }
}

/// The household form as a clerk fills it (commune X, a Tày household of four, poor in 2024).
fn household<'a>(
    name: &'a str,
    village: &'a str,
    birth: &'a str,
    gender: &'a str,
    cccd: &'a str,
) -> [(&'a str, &'a str); 10] {
    [
        ("commune_code", COMMUNE_X),
        ("village", village),
        ("head_name", name),
        ("birth_year", birth),
        ("gender", gender),
        ("cccd", cccd),
        ("ethnicity", "tay"),
        ("members", "4"),
        ("status", "poor"),
        ("status_year", "2024"),
    ]
}

async fn clerk_with_registered() -> TestApp {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    let mut done = Vec::new();
    for (_, name, gender, cccd, ..) in KINDS {
        if done.contains(name) {
            continue;
        }
        done.push(name);
        let page = app
            .post("/ho", &household(name, "Thôn Nà Pàn", "1985", gender, cccd))
            .await;
        assert_eq!(page.status, 303, "{name}: {}", page.text);
    }
    app
}

fn csv_of(name: &str, birth: &str, village: &str, gender: &str, cccd: &str) -> String {
    let gender = if gender == "female" { "Nữ" } else { "Nam" };
    format!(
        "Xã,Thôn,Họ tên chủ hộ,Năm sinh,Giới tính,Số CCCD,Dân tộc,Số nhân khẩu,Tình trạng\n\
         {COMMUNE_X},{village},{name},{birth},{gender},{cccd},Tày,3,Hộ nghèo\n"
    )
}

#[tokio::test]
async fn every_corruption_kind_is_probable_through_the_form_the_import_preview_and_the_cli() {
    let app = clerk_with_registered().await;
    let dir = std::env::temp_dir().join(format!("giupdo-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (kind, _, gender, _, name, birth, village, cccd) in KINDS {
        let name = typed(name);
        // The household form: refused until a reason is given (probable), or refused (certain),
        // each field explained with its weight.
        let page = app
            .post("/ho", &household(&name, village, birth, gender, cccd))
            .await;
        assert_eq!(page.status, 422, "{kind}: saved without a question");
        let reasons = [
            page.texts("li.level-probable .reason"),
            page.texts("li.level-certain .reason"),
        ]
        .concat()
        .join(" | ");
        assert!(
            reasons.contains("Tổng điểm") || reasons.contains("Điểm các trường khác"),
            "{kind}: {reasons}"
        );
        assert!(
            reasons.contains("(+"),
            "{kind}: every field with its weight: {reasons}"
        );

        // The import preview, through the web.
        let csv = csv_of(&name, birth, village, gender, cccd);
        let form = reqwest::multipart::Form::new().part(
            "tep",
            reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("ds.csv"),
        );
        let resp = app
            .client
            .post(app.url("/ho/nhap"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let preview = app.get(&location).await;
        let flagged = [
            preview.texts("table.warnings tbody tr"),
            preview.texts("table.problems tbody tr"),
        ]
        .concat()
        .join(" | ");
        let expected = if *kind == "cccd_mangled" {
            "Trùng CCCD"
        } else {
            "Có thể trùng với hộ đã có"
        };
        assert!(
            flagged.contains(expected),
            "{kind} (import preview): {flagged}"
        );

        // The command line, on the same file.
        let file = dir.join(format!("{kind}.csv"));
        std::fs::write(&file, &csv).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
            .env("DATABASE_URL", &app.db.url)
            .args(["import", "households", "--dry-run"])
            .arg(&file)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(expected), "{kind} (CLI): {text}");
        if *kind != "cccd_mangled" {
            assert!(
                text.contains("Tổng điểm +"),
                "{kind} (CLI) explained: {text}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn canonical_spelling_is_the_same_in_sql_and_rust_on_every_syllable_of_the_benchmark() {
    let app = TestApp::spawn().await;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(giupdo::cli::dedupe::GENERATED_PAIRS);
    let pairs = giupdo::cli::dedupe::read_generated(&path).unwrap();
    let mut texts: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.a.head_name.clone(), p.b.head_name.clone()])
        .flat_map(|n| {
            let words: Vec<String> = n.split_whitespace().map(str::to_string).collect();
            std::iter::once(n).chain(words)
        })
        .collect();
    // What phones and other systems paste: decomposed, Ð for Đ, stray marks, punctuation.
    texts.extend(
        [
            "Ðặng Văn Hoà",
            "\u{0301}\u{0323}",
            "Nguyễn-Thị  Hòa.",
            "HOÀNG\u{00A0}THỊ THUỶ",
            "Lý Thị Mỹ Dung 2",
        ]
        .map(String::from),
    );
    texts.sort();
    texts.dedup();
    let sql: Vec<String> = sqlx::query_scalar(
        "SELECT canonical_name(t) FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
    )
    .bind(&texts)
    .fetch_all(app.pool())
    .await
    .unwrap();
    let mut differ = Vec::new();
    for (t, s) in texts.iter().zip(&sql) {
        if canonical_name(t) != *s {
            differ.push(format!("{t:?}: rust {:?}, sql {s:?}", canonical_name(t)));
        }
    }
    assert!(texts.len() > 10_000, "{}", texts.len());
    assert!(
        differ.is_empty(),
        "{} differ: {:?}",
        differ.len(),
        &differ[..differ.len().min(10)]
    );
    // Both placements of the tone are one spelling.
    for p in pairs
        .iter()
        .filter(|p| p.kind == "tone_placement" || p.kind == "nfd")
    {
        assert_eq!(
            canonical_name(&p.a.head_name),
            canonical_name(&p.b.head_name)
        );
    }
}

#[tokio::test]
async fn the_name_frequencies_follow_inserts_edits_and_deletes() {
    let app = TestApp::spawn().await;
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    for name in ["Sầm Văn Pảo", "Hoàng Văn Hùng", "Hoàng Thị Hoà"] {
        let page = app
            .post("/ho", &household(name, "Thôn Nà Pàn", "1970", "male", ""))
            .await;
        assert!(page.status == 303 || page.status == 422, "{name}");
    }
    let pool = app.pool();
    sqlx::query(
        "UPDATE households SET head_name = 'Hoàng Thị Hòa Bình' WHERE head_name = 'Hoàng Thị Hoà'",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE households SET status_year = 2025")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM households WHERE head_name = 'Sầm Văn Pảo'")
        .execute(pool)
        .await
        .ok();
    let kept: Vec<(String, i16, String, i64)> = sqlx::query_as(
        "SELECT commune_code, part, word, n FROM name_word_counts WHERE n <> 0 ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let recount: Vec<(String, i16, String, i64)> = sqlx::query_as(
        "SELECT s.scope, p.part, w.word, count(*) FROM households x
         CROSS JOIN LATERAL name_parts(x.head_name) p
         CROSS JOIN LATERAL (VALUES (p.word), ('')) AS w(word)
         CROSS JOIN LATERAL (VALUES (x.commune_code), ('')) AS s(scope)
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(kept, recount);
    assert!(
        kept.iter()
            .any(|(_, part, w, n)| *part == 2 && w == "binh2" && *n >= 1)
    );
}

#[tokio::test]
async fn a_stored_model_that_does_not_read_is_set_aside_for_the_one_before_it() {
    let app = TestApp::spawn().await;
    let pool = app.pool();
    // No stored model: the built-in one.
    let m = giupdo::db::duplicates::model(pool).await.unwrap();
    assert_eq!(m, giupdo::domain::duplicates::Model::builtin());
    let mut good = giupdo::domain::duplicates::Model::builtin();
    good.trained_at = "2026-12-04 10:00".into();
    good.source = "đã lưu".into();
    let mut stale: serde_json::Value = serde_json::from_str(&good.to_json()).unwrap();
    stale["version"] = serde_json::json!(1);
    for params in [
        serde_json::from_str::<serde_json::Value>(&good.to_json()).unwrap(),
        stale,
    ] {
        sqlx::query(
            "INSERT INTO dedupe_models (trained_by, params, fit_pairs, registry_pairs) VALUES ('test', $1, 0, 0)",
        )
        .bind(params)
        .execute(pool)
        .await
        .unwrap();
    }
    let m = giupdo::db::duplicates::model(pool).await.unwrap();
    assert_eq!(m.source, "đã lưu", "the newest that reads");
    // The search page says which model weighs the evidence, and its date.
    let (_, pw) = app.user("chuyen.vien", Role::Clerk, None, None).await;
    app.login("chuyen.vien", &pw).await;
    let page = app.get("/trung-ho").await;
    assert!(
        page.text_of("#dedupe-model")
            .contains("ước lượng 2026-12-04 10:00"),
        "{}",
        page.text_of("#dedupe-model")
    );
    // `dedupe train` with a missing labelled file says so in Vietnamese and stores nothing.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giupdo"))
        .env("DATABASE_URL", &app.db.url)
        .args(["dedupe", "train", "--pairs", "/nonexistent/pairs.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Không đọc được bộ cặp có nhãn"), "{err}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dedupe_models")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_name_the_check_cannot_read_is_refused_with_the_form_refilled_and_nothing_saved() {
    let app = clerk_with_registered().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(app.pool())
        .await
        .unwrap();
    let enormous = "Hoàng ".repeat(100);
    for (name, says) in [
        ("\u{0301}\u{0323}\u{0309}", "phải có chữ cái"),
        ("12345", "phải có chữ cái"),
        ("?!.. --", "phải có chữ cái"),
        ("Ⅻ ⅲ", "chữ cái tiếng Việt"),
        (enormous.as_str(), "dài tối đa 120 ký tự"),
    ] {
        let page = app
            .post("/ho", &household(name, "Thôn Nà Pàn", "1985", "male", ""))
            .await;
        assert_eq!(page.status, 422, "{name:?}");
        assert!(
            page.text_of("#err-head_name").contains(says),
            "{name:?}: {}",
            page.text_of("#err-head_name")
        );
        assert_eq!(
            page.count("input[name=members][value='4']"),
            1,
            "the form comes back filled"
        );
        // The check as one types answers quietly, without a server error.
        let check = app
            .post(
                "/ho/kiem-tra",
                &[
                    ("commune_code", COMMUNE_X),
                    ("village", "Thôn Nà Pàn"),
                    ("head_name", name),
                ],
            )
            .await;
        assert_eq!(check.status, 200, "{name:?}");
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn the_committed_benchmark_is_what_its_generator_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dedupe");
    let dir = std::env::temp_dir().join(format!("giupdo-benchmark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let python = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok()
        })
        .expect("python3 (apt-get install python3)");
    let out = std::process::Command::new(python)
        .arg(root.join("make_pairs.py"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["population.csv", "pairs.csv"] {
        let made = std::fs::read(dir.join(f)).unwrap();
        let committed = std::fs::read(root.join(f)).unwrap();
        assert!(
            made == committed,
            "{f} differs from what make_pairs.py writes"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
