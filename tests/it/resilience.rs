//! Keeping the district's data: backup and restore round trips, and a process killed in the
//! middle of a write leaves all of it or none of it.

use std::process::Command;

use sqlx::PgPool;

use crate::harness::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_giupdo");

fn giupdo(db: &TestDb) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("DATABASE_URL", &db.url).env("RUST_LOG", "warn");
    cmd
}

/// Every table of the app's schemas with a digest of its rows, in a stable order.
async fn fingerprint(pool: &PgPool) -> Vec<(String, i64, String)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let (n, digest): (i64, Option<String>) = sqlx::query_as(&format!(
            "SELECT count(*), md5(string_agg(r::text, E'\\n' ORDER BY r::text)) FROM {t} r"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        out.push((t, n, digest.unwrap_or_default()));
    }
    out
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run giupdo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn backup_then_restore_gives_back_every_table_and_a_bad_file_changes_nothing() {
    let source = TestDb::new().await;
    giupdo::demo::load(&source.pool).await.expect("demo");
    // A session and an audit row exist too: every schema is in the backup, not only the app's.
    sqlx::query(
        "INSERT INTO tower_sessions.session (id, data, expiry_date) \
         VALUES ('s1', '\\x00', now() + interval '1 day')",
    )
    .execute(&source.pool)
    .await
    .unwrap();
    let dir = tempdir();
    let file = dir.join("giupdo.dump");

    let (ok, out) = run(giupdo(&source).arg("backup").arg(&file));
    assert!(ok, "{out}");
    assert!(out.contains("Đã sao lưu"), "{out}");
    assert!(file.is_file());
    assert!(!dir.join("giupdo.dump.partial").exists());

    // Restore into an empty database (migrated, no data): no --yes needed.
    let target = TestDb::new().await;
    let (ok, out) = run(giupdo(&target).arg("restore").arg(&file));
    assert!(ok, "{out}");
    let expected = fingerprint(&source.pool).await;
    assert!(
        expected
            .iter()
            .any(|(t, n, _)| t == "public.sponsorships" && *n > 0),
        "{expected:?}"
    );
    assert_eq!(fingerprint(&target.pool).await, expected);

    // The app runs on the restored database: the migrations ledger came along.
    let (ok, out) = run(giupdo(&target).arg("migrate"));
    assert!(ok, "{out}");
    assert_eq!(fingerprint(&target.pool).await, expected);

    // A database with data is replaced only with --yes.
    sqlx::query("DELETE FROM follow_up_visits")
        .execute(&target.pool)
        .await
        .unwrap();
    let changed = fingerprint(&target.pool).await;
    assert_ne!(changed, expected);
    let (ok, out) = run(giupdo(&target).arg("restore").arg(&file));
    assert!(!ok);
    assert!(out.contains("--yes"), "{out}");
    assert_eq!(fingerprint(&target.pool).await, changed);

    // A truncated backup (its table of contents intact, its data cut) and a file that is no
    // backup at all: refused, and the database is exactly as it was.
    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.join("cut.dump");
    std::fs::write(&truncated, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let garbage = dir.join("notes.dump");
    std::fs::write(&garbage, "không phải tệp sao lưu").unwrap();
    for bad in [&truncated, &garbage] {
        let (ok, out) = run(giupdo(&target).arg("restore").arg(bad).arg("--yes"));
        assert!(!ok, "{out}");
        assert!(
            out.contains("không bị thay đổi") || out.contains("hỏng"),
            "{out}"
        );
        assert_eq!(fingerprint(&target.pool).await, changed, "after {bad:?}");
    }

    let (ok, out) = run(giupdo(&target).arg("restore").arg(&file).arg("--yes"));
    assert!(ok, "{out}");
    assert_eq!(fingerprint(&target.pool).await, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "giupdo-res-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Issue #8's race, through the web as people meet it: a hundred agencies' staff, each signed in
/// in their own browser, press "Đăng ký" for the same household at the same instant.
#[tokio::test]
async fn a_hundred_agencies_adopting_one_household_at_once_through_the_web_exactly_one_wins() {
    use giupdo::db::audit::By;
    use giupdo::db::users::{self, NewUser};
    use giupdo::domain::roles::Role;

    const N: usize = 100;
    let app = crate::harness::TestApp::spawn().await;
    let household =
        crate::fixtures::household(&app, "06073", "Hoàng Văn Thụ", "020085001234").await;
    // One password hash for all: hashing a hundred times would only slow the test.
    let password = "mat-khau-chung-123";
    let hash = password_auth::generate_hash(password);
    let mut names = Vec::new();
    for i in 0..N {
        let name = format!("Cơ quan số {i:03}");
        let agency = crate::fixtures::agency(&app, &name, "state_agency", 20).await;
        let mut tx = app.pool().begin().await.unwrap();
        users::create(
            &mut tx,
            &By::system("test"),
            &NewUser {
                username: format!("cq{i:03}"),
                full_name: format!("Cán bộ {i:03}"),
                password_hash: hash.clone(),
                role: Role::Agency,
                agency_id: Some(agency),
                commune_code: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        names.push(name);
    }
    let mut browsers = Vec::new();
    for i in 0..N {
        let c = crate::harness::client();
        app.login_with(&c, &format!("cq{i:03}"), password).await;
        browsers.push(c);
    }
    let before_audit = app.audit_count().await;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let form: Vec<(String, String)> = vec![
        ("ho".into(), household.to_string()),
        ("hinh_thuc".into(), "livestock".into()),
        ("vat_pham".into(), "Bò cái".into()),
        ("so_luong".into(), "1".into()),
        ("don_vi".into(), "con".into()),
        ("gia_tri".into(), "16000000".into()),
    ];
    let mut tasks = Vec::new();
    for c in browsers {
        let url = app.url("/nhan-giup");
        let start = start.clone();
        let form = form.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let r = c.post(url).form(&form).send().await.expect("POST");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }));
    }
    let mut wins = 0;
    let mut refusals = Vec::new();
    for t in tasks {
        let (status, text) = t.await.unwrap();
        match status {
            303 => wins += 1,
            _ => refusals.push((status, text)),
        }
    }
    let holder: String = sqlx::query_scalar(
        "SELECT a.name FROM sponsorships s JOIN agencies a ON a.id = s.lead_agency_id \
         WHERE s.household_id = $1",
    )
    .bind(household)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(
        wins,
        1,
        "statuses: {:?}",
        refusals.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(refusals.len(), N - 1);
    for (status, text) in &refusals {
        assert_eq!(*status, 422);
        assert!(
            text.contains(&format!("Hộ này đã được {holder} nhận giúp đỡ")),
            "the refusal names {holder}"
        );
    }
    // Nothing half-written: one sponsorship, its one support line, one audit row for it.
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM sponsorships), (SELECT count(*) FROM support_lines)",
    )
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert_eq!(counts, (1, 1));
    assert_eq!(app.audit_count().await, before_audit + 1);
    assert!(names.contains(&holder));
}

/// The backend serving `db`'s connection that has begun writing (it holds a transaction id).
async fn writing_backend(pool: &PgPool, db: &str) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_xid IS NOT NULL \
         AND pid <> pg_backend_pid() LIMIT 1",
    )
    .bind(db)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// Wait until the server has ended backend `pid` (it notices its client is gone).
async fn backend_gone(pool: &PgPool, pid: i32) {
    for _ in 0..600 {
        let alive: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(pid)
                .fetch_one(pool)
                .await
                .unwrap();
        if !alive {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("backend {pid} still there after 30 s");
}

fn sigkill(child: &std::process::Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
}

#[tokio::test]
async fn an_import_killed_half_way_leaves_nothing_and_the_same_import_then_writes_all() {
    let db = TestDb::new().await;
    giupdo::demo::load(&db.pool).await.expect("demo");
    let villages: Vec<(String, String)> =
        sqlx::query_as("SELECT commune_code, name FROM villages ORDER BY commune_code, name")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    const ROWS: usize = 30_000;
    let dir = tempdir();
    let file = dir.join("ho-ngheo.csv");
    std::fs::write(
        &file,
        crate::kit::synthetic::csv_file(500_000..500_000 + ROWS, &villages).unwrap(),
    )
    .unwrap();
    let before = fingerprint(&db.pool).await;

    let mut child = giupdo(&db)
        .args(["import", "households"])
        .arg(&file)
        .args(["--confirm-duplicates", "tệp sinh thử"])
        .stdout(std::fs::File::create(dir.join("out.txt")).unwrap())
        .stderr(std::fs::File::create(dir.join("err.txt")).unwrap())
        .spawn()
        .unwrap();
    // Kill it once its transaction has begun writing rows.
    let mut killed = None;
    for _ in 0..6000 {
        if let Some(pid) = writing_backend(&db.pool, &db.name).await {
            sigkill(&child);
            killed = Some(pid);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let pid = killed.unwrap_or_else(|| {
        panic!(
            "the import ended before it was caught writing: {}{}",
            std::fs::read_to_string(dir.join("out.txt")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("err.txt")).unwrap_or_default()
        )
    });
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished");
    backend_gone(&db.pool, pid).await;
    assert_eq!(fingerprint(&db.pool).await, before, "none of it");

    let (ok, out) = run(giupdo(&db)
        .args(["import", "households"])
        .arg(&file)
        .args(["--confirm-duplicates", "tệp sinh thử"]));
    assert!(ok, "{out}");
    let imported: i64 =
        sqlx::query_scalar("SELECT count(*) FROM households WHERE household_code LIKE 'BENCH-%'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(imported, ROWS as i64, "all of it");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_server_killed_in_the_middle_of_a_merge_leaves_both_households_as_they_were() {
    use std::io::{BufRead as _, BufReader};
    let db = TestDb::new().await;
    giupdo::demo::load(&db.pool).await.expect("demo");
    // Two records of one household, the second with a sponsorship that a merge would move.
    let (a, b): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT h1.id, h2.id FROM households h1 JOIN households h2 \
           ON h2.commune_code = h1.commune_code AND h2.id <> h1.id \
         JOIN sponsorships s ON s.household_id = h2.id \
         WHERE h1.merged_into IS NULL AND h2.merged_into IS NULL \
           AND NOT EXISTS (SELECT 1 FROM sponsorships s1 WHERE s1.household_id = h1.id) \
         LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let password = "mat-khau-quan-tri-123";
    {
        use giupdo::db::users::{self, NewUser};
        let mut tx = db.pool.begin().await.unwrap();
        users::create(
            &mut tx,
            &giupdo::db::audit::By::system("test"),
            &NewUser {
                username: "canbo.huyen".into(),
                full_name: "Cán bộ huyện".into(),
                password_hash: password_auth::generate_hash(password),
                role: giupdo::domain::roles::Role::Clerk,
                agency_id: None,
                commune_code: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let mut server = giupdo(&db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("giupdo đang phục vụ tại http://") {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let c = crate::harness::client();
    let login = c
        .post(format!("http://{addr}/dang-nhap"))
        .form(&[("username", "canbo.huyen"), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let before = fingerprint(&db.pool).await;

    // Hold the audit trail so the merge, which writes its audit row last, stops there with
    // everything else of it written but not committed.
    let mut holder = db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE audit_log IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let url = format!("http://{addr}/trung-ho/gop");
    let form = [
        ("a", a.to_string()),
        ("b", b.to_string()),
        ("giu", "a".to_string()),
        ("ly_do", "Cùng một hộ, nhập hai lần".to_string()),
    ];
    let request = tokio::spawn(async move { c.post(url).form(&form).send().await });
    let mut waiting = None;
    for _ in 0..1000 {
        waiting = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_xid IS NOT NULL \
             AND wait_event_type = 'Lock' LIMIT 1",
        )
        .bind(&db.name)
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let pid: i32 = waiting.expect("the merge was caught half-written, waiting on the audit trail");
    let moved_so_far: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'transactionid' AND granted",
    )
    .bind(pid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(moved_so_far > 0, "the merge's transaction had written");
    sigkill(&server);
    server.wait().unwrap();
    holder.rollback().await.unwrap();
    backend_gone(&db.pool, pid).await;
    assert!(
        request.await.unwrap().is_err(),
        "the browser saw the server die"
    );
    assert_eq!(fingerprint(&db.pool).await, before, "none of the merge");
}

/// Arbitrary text in every field of the app's main forms, through the web: the answer is the
/// saved record's page, the form back with messages (422), or — for a NUL character, which no
/// one types — a Vietnamese refusal (400); never a 500.
#[test]
fn arbitrary_text_in_the_forms_never_gets_a_500() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, w, sponsorship) = rt.block_on(async {
        let app = crate::harness::TestApp::spawn().await;
        let w = crate::fixtures::world(&app).await;
        let (u, p) = &w.logins[1];
        app.login(u, p).await;
        let id: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO sponsorships (campaign_id, household_id, lead_agency_id, state, support_form, support_summary, pledged_value, pledged_on) \
             SELECT id, $1, $2, 'confirmed', 'livestock', 'Bò', 8000000, registration_deadline - 30 FROM campaigns WHERE is_current \
             RETURNING id",
        )
        .bind(w.household_y)
        .bind(w.agency_a)
        .fetch_one(app.pool())
        .await
        .unwrap();
        (app, w, id)
    });
    let text = || {
        prop_oneof![
            3 => any::<String>(),
            1 => "[0-9./ -]{0,14}",
            1 => Just("\u{0}".to_string()),
            1 => "\\PC{300,3000}",
        ]
    };
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 48,
        failure_persistence: None,
        ..Default::default()
    });
    // One form post of arbitrary values: the record's page, the form back, or the NUL refusal.
    let post = |path: &str, fields: &[&str], values: &[String]| -> Result<(), TestCaseError> {
        let form: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        let page = rt.block_on(app.post(path, &form));
        prop_assert!(
            [303, 400, 422].contains(&page.status),
            "{} for {form:?}",
            page.status
        );
        if page.status == 400 {
            prop_assert!(page.text.contains("ký tự NUL"));
        }
        Ok(())
    };
    let household_fields = [
        "commune_code",
        "village",
        "head_name",
        "birth_year",
        "gender",
        "cccd",
        "household_code",
        "ethnicity",
        "members",
        "status",
        "status_year",
        "lacks_capital",
        "phone",
        "notes",
    ];
    runner
        .run(
            &prop::collection::vec(text(), household_fields.len()),
            |values| post("/ho", &household_fields, &values),
        )
        .unwrap();
    let pledge_fields = [
        "ho",
        "hinh_thuc",
        "vat_pham",
        "so_luong",
        "don_vi",
        "gia_tri",
        "thanh_vien",
        "mong_muon",
        "ly_do_giup_lai",
        "ly_do_trung",
    ];
    runner
        .run(
            &prop::collection::vec(text(), pledge_fields.len()),
            |mut values| {
                // Half the time the household is a real one, so the lines' checks are reached.
                if values[0].len() % 2 == 0 {
                    values[0] = w.household_x.to_string();
                }
                post("/nhan-giup", &pledge_fields, &values)
            },
        )
        .unwrap();
    let delivery_fields = [
        "ngay",
        "vat_pham",
        "so_luong",
        "don_vi_tinh",
        "don_gia",
        "nguoi_trao",
        "ghi_chu",
    ];
    let delivery = format!("/nhan-giup/{sponsorship}/trao");
    runner
        .run(
            &prop::collection::vec(text(), delivery_fields.len()),
            |values| post(&delivery, &delivery_fields, &values),
        )
        .unwrap();
    drop(rt);
}

/// The counts on the home page and dashboards come from tallies the database keeps; after
/// inserts, an import, status edits, a merge, its undoing and deletions they equal a real count.
#[tokio::test]
async fn household_tallies_equal_a_count_of_the_registry_after_every_kind_of_write() {
    let db = TestDb::new().await;
    let drift = |pool: PgPool| async move {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT coalesce(r.commune_code, t.commune_code), coalesce(r.status, t.status),
                    coalesce(r.n, 0), coalesce(t.n, 0)
             FROM (SELECT commune_code, status, count(*) AS n FROM households
                   WHERE merged_into IS NULL GROUP BY 1, 2) r
             FULL JOIN household_tallies t USING (commune_code, status)
             WHERE coalesce(r.n, 0) <> coalesce(t.n, 0)",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        rows
    };
    giupdo::demo::load(&db.pool).await.expect("demo");
    assert_eq!(drift(db.pool.clone()).await, vec![]);
    let total: i64 = sqlx::query_scalar("SELECT sum(n)::bigint FROM household_tallies")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(total > 0);

    // Status and commune changes, several rows in one statement.
    sqlx::query(
        "UPDATE households SET status = CASE status WHEN 'poor' THEN 'near_poor' ELSE 'poor' END
         WHERE id IN (SELECT id FROM households ORDER BY id LIMIT 40)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE households h SET commune_code = v.commune_code, village_id = v.id
         FROM (SELECT id, commune_code FROM villages ORDER BY id DESC LIMIT 1) v
         WHERE h.id IN (SELECT id FROM households ORDER BY id DESC LIMIT 7)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(drift(db.pool.clone()).await, vec![]);

    // A merge and its undoing, through the same code the pages use.
    let (a, b): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT h1.id, h2.id FROM households h1 JOIN households h2
           ON h2.commune_code = h1.commune_code AND h2.id > h1.id
         WHERE NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id IN (h1.id, h2.id))
         LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let by = giupdo::db::audit::By::system("test");
    let mut conn = db.pool.acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let merge = giupdo::db::duplicates::merge(&mut tx, &by, a, b, "nhập hai lần")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(drift(db.pool.clone()).await, vec![]);
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    giupdo::db::duplicates::unmerge(&mut tx, &by, merge)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    assert_eq!(drift(db.pool.clone()).await, vec![]);

    // Deletions (a household never helped), and the rollback of an insert.
    sqlx::query(
        "DELETE FROM households h WHERE h.id IN (SELECT id FROM households x
           WHERE NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = x.id)
             AND NOT EXISTS (SELECT 1 FROM household_merges m WHERE x.id IN (m.survivor_id, m.merged_id))
           LIMIT 5)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO households (commune_code, village_id, head_name, ethnicity, members, status, status_year)
         SELECT commune_code, id, 'Hoàng Văn Thụ', 'tay', 3, 'poor', 2024 FROM villages LIMIT 3",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(drift(db.pool.clone()).await, vec![]);
}

/// The load mix in its short form: every role's virtual users, every kind of request, writes
/// included, for a few seconds — no error of any kind, nothing half-written. (`giupdo-bench load`
/// runs it at full length and prints the figures.)
#[tokio::test]
async fn a_short_load_run_of_every_role_has_no_errors_and_leaves_nothing_half_written() {
    use crate::kit::load as loadtest;
    let app = crate::harness::TestApp::spawn().await;
    giupdo::demo::load(app.pool()).await.expect("demo");
    let plan = loadtest::prepare(app.pool(), 20).await.unwrap();
    let since = chrono::Utc::now();
    let outcome = loadtest::run(
        &format!("http://{}", app.addr),
        &plan,
        20,
        std::time::Duration::from_secs(4),
    )
    .await
    .unwrap();
    assert_eq!(outcome.errors, Default::default());
    // Every kind of request of the mix was made, the writes among them.
    assert!(
        outcome.latencies.len() >= 11,
        "{:?}",
        outcome.latencies.keys()
    );
    assert!(outcome.pledges > 0);
    assert_eq!(loadtest::half_written(app.pool(), since).await.unwrap(), 0);
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sponsorships WHERE created_at >= $1")
            .bind(since)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!(created, outcome.pledges as i64);
}
