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
