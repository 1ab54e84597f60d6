//! Point-in-time recovery drills (issue #29): pgBackRest archiving the private cluster's WAL into a
//! repository, then the data directory destroyed and brought back with `giupdo restore`, run as
//! an operator would run them. Needs Debian's `pgbackrest`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use giupdo::db::audit::By;
use giupdo::db::sponsorships::{self as sp, NewPledge, Submission};
use giupdo::domain::sponsorship::{Delivery, Event, Line};
use sqlx::PgPool;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_giupdo");
/// The archive timeout the drills configure: the most the crash drill may lose.
const ARCHIVE_TIMEOUT: u64 = 5;

/// A data directory and a repository "on another disk", both under /tmp, removed at the end.
struct Site {
    data: PathBuf,
    repo: PathBuf,
}

impl Site {
    fn new(name: &str) -> Site {
        let base = std::env::temp_dir().join(format!("giupdo-pitr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("site dir");
        Site {
            data: base.join("data"),
            repo: base.join("repo"),
        }
    }

    /// `giupdo ARGS` as an operator runs it; its output, which must say it succeeded.
    fn giupdo(&self, args: &[&str]) -> String {
        let out = self.try_giupdo(args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "giupdo {args:?} failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    fn try_giupdo(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("GIUPDO_DATA_DIR", &self.data)
            .env_remove("DATABASE_URL")
            .output()
            .expect("run giupdo")
    }

    /// The demo data set, WAL archiving on and the first full backup taken.
    fn set_up(&self) {
        require_pgbackrest();
        self.giupdo(&["demo"]);
        let said = self.giupdo(&[
            "backup",
            "setup",
            "--repo",
            self.repo.to_str().expect("utf-8 path"),
            "--archive-timeout",
            &ARCHIVE_TIMEOUT.to_string(),
        ]);
        assert!(said.contains("Đã bật lưu trữ WAL liên tục"), "{said}");
    }

    async fn pool(&self) -> PgPool {
        let url = self.giupdo(&["db", "url"]);
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(url.trim())
            .await
            .expect("connect")
    }

    fn pgdata(&self) -> PathBuf {
        self.data.join("pg")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.try_giupdo(&["db", "stop"]);
        if let Some(base) = self.data.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

fn require_pgbackrest() {
    let ok = Command::new("pgbackrest")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "pgbackrest not found: apt-get install pgbackrest (.ci/run does)"
    );
}

/// Households of the current campaign nobody has adopted yet, and an agency to adopt them.
async fn free_households(pool: &PgPool, n: i64) -> (Uuid, Uuid, Vec<Uuid>) {
    let campaign: Uuid = sqlx::query_scalar("SELECT id FROM campaigns WHERE is_current")
        .fetch_one(pool)
        .await
        .expect("current campaign");
    let agency: Uuid = sqlx::query_scalar("SELECT id FROM agencies ORDER BY name LIMIT 1")
        .fetch_one(pool)
        .await
        .expect("an agency");
    let households: Vec<Uuid> = sqlx::query_scalar(
        "SELECT h.id FROM households h
         WHERE h.merged_into IS NULL AND h.status = 'poor'
           AND h.commune_code IN (SELECT campaign_area($1))
           AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id)
         ORDER BY h.id LIMIT $2",
    )
    .bind(campaign)
    .bind(n)
    .fetch_all(pool)
    .await
    .expect("free households");
    assert_eq!(
        households.len() as i64,
        n,
        "the demo has {n} households free"
    );
    (campaign, agency, households)
}

async fn pledge(pool: &PgPool, campaign: Uuid, agency: Uuid, household: Uuid) -> Uuid {
    let p = NewPledge {
        campaign_id: campaign,
        household_id: household,
        lead_agency_id: agency,
        members: vec![],
        lines: vec![Line {
            form: "livestock",
            item: "Bò cái giống".into(),
            quantity: 1,
            unit: "con".into(),
            value: 16_000_000,
        }],
        note: None,
        helped_before_reason: None,
        submission: None,
    };
    sp::pledge_committed(pool, &By::system("drill"), &p)
        .await
        .expect("pledge")
}

/// Confirm the pledge and record a delivery with one photo; the photo's stored bytes.
async fn deliver_with_photo(pool: &PgPool, id: Uuid, agency: Uuid, shade: u8) -> Vec<u8> {
    let by = By::system("drill");
    sp::decide(pool, &by, id, Event::Confirm, None)
        .await
        .expect("confirm");
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([shade, 120, 200]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let photo = giupdo::photo::process("bo.png", &png).expect("photo");
    let delivery = Delivery {
        delivered_on: giupdo::domain::dates::today(),
        item: "Bò cái giống".into(),
        quantity: 1,
        unit: "con".into(),
        unit_value: 16_000_000,
        total_value: 16_000_000,
        delivered_by: "Nguyễn Văn An".into(),
        record_number: None,
        note: None,
    };
    let sent = Submission {
        key: None,
        recorded_at: None,
    };
    sp::deliver(pool, &by, id, agency, &delivery, sent, &[photo])
        .await
        .expect("delivery with photo");
    sqlx::query_scalar("SELECT jpeg FROM photos WHERE sponsorship_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("stored photo")
}

async fn present(pool: &PgPool, ids: &[Uuid]) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM sponsorships WHERE id = ANY($1) ORDER BY created_at")
        .bind(ids)
        .fetch_all(pool)
        .await
        .expect("sponsorships")
}

/// Kill the postmaster and every process of its group at once (no shutdown checkpoint), then
/// lose the disk: the data directory is gone.
fn crash_and_lose_disk(pgdata: &Path) {
    let pid: i32 = std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("pid");
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
    let start = Instant::now();
    while unsafe { libc::kill(pid, 0) } == 0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(pgdata).expect("destroy the data directory");
}

/// Drill 1: pledges (one delivered with a photo), a noted moment, more pledges (one with a photo);
/// the data directory destroyed; `giupdo restore --to` the moment as an operator types it. Exactly
/// the pledges before it come back, with their photo byte for byte, none after, and the restored
/// database takes writes.
#[tokio::test(flavor = "multi_thread")]
async fn a_restore_to_a_noted_moment_brings_back_exactly_what_was_written_before_it() {
    let site = Site::new("moment");
    site.set_up();
    let pool = site.pool().await;
    let (campaign, agency, households) = free_households(&pool, 7).await;

    let mut before = Vec::new();
    for h in &households[..3] {
        before.push(pledge(&pool, campaign, agency, *h).await);
    }
    let photo_before = deliver_with_photo(&pool, before[0], agency, 10).await;
    // The moment, to the second, as the operator reads it off a clock in Việt Nam.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let noted = Utc::now().with_timezone(&giupdo::domain::dates::vietnam_offset());
    let typed = noted.format("%Y-%m-%d %H:%M:%S").to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut after = Vec::new();
    for h in &households[3..6] {
        after.push(pledge(&pool, campaign, agency, *h).await);
    }
    deliver_with_photo(&pool, after[0], agency, 250).await;
    // Everything written so far has reached the repository (the check switches the WAL segment).
    let checked = site.giupdo(&["backup", "check"]);
    assert!(checked.contains("Điểm khôi phục mới nhất"), "{checked}");
    pool.close().await;

    site.giupdo(&["db", "stop"]);
    std::fs::remove_dir_all(site.pgdata()).expect("destroy the data directory");
    let said = site.giupdo(&["restore", "--to", &typed]);
    assert!(said.contains("Đã khôi phục đến thời điểm"), "{said}");

    let pool = site.pool().await;
    let mut all = before.clone();
    all.extend(&after);
    let back = present(&pool, &all).await;
    assert_eq!(back, before, "exactly the pledges before {typed}");
    let photos: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT sponsorship_id, jpeg FROM photos WHERE sponsorship_id = ANY($1)")
            .bind(&all)
            .fetch_all(&pool)
            .await
            .expect("photos");
    assert_eq!(
        photos.len(),
        1,
        "the photo before the moment, not the one after"
    );
    assert_eq!(photos[0].0, before[0]);
    assert_eq!(photos[0].1, photo_before, "the photo byte for byte");
    // The restored database takes writes again: the household pledged after the moment is free.
    pledge(&pool, campaign, agency, households[3]).await;
    pool.close().await;
}

/// Drill 2: pledges written without pause; the server killed and its disk lost mid-stream;
/// `giupdo restore --latest`. What comes back is every pledge up to a point with no hole, and the
/// writes lost span at most the archive timeout (measured and printed).
#[tokio::test(flavor = "multi_thread")]
async fn after_a_crash_the_newest_point_loses_at_most_the_archive_timeout() {
    let site = Site::new("crash");
    site.set_up();
    let pool = site.pool().await;
    let (campaign, agency, households) = free_households(&pool, 120).await;

    // One pledge every 100 ms for ~12 s; each with the moment its commit was acknowledged.
    let mut written: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
    for h in &households {
        let id = pledge(&pool, campaign, agency, *h).await;
        written.push((id, Utc::now()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crash_and_lose_disk(&site.pgdata());
    pool.close().await;

    let said = site.giupdo(&["restore", "--latest"]);
    assert!(said.contains("điểm mới nhất"), "{said}");
    let pool = site.pool().await;
    let ids: Vec<Uuid> = written.iter().map(|(id, _)| *id).collect();
    let back = present(&pool, &ids).await;
    pool.close().await;
    assert!(!back.is_empty(), "the archive holds the early pledges");
    assert_eq!(
        back[..],
        ids[..back.len()],
        "every pledge up to the newest restored one, no hole"
    );
    let newest_back = written[back.len() - 1].1;
    let last_written = written.last().expect("written").1;
    let lost = (last_written - newest_back).num_milliseconds() as f64 / 1000.0;
    println!(
        "recovery point after a crash: {} of {} pledges back, the last {:.1} s of writes lost \
         (archive_timeout {} s)",
        back.len(),
        written.len(),
        lost,
        ARCHIVE_TIMEOUT
    );
    // The segment holding a commit is archived within archive_timeout of the segment's first
    // write, plus the archive command's own time.
    assert!(
        lost <= ARCHIVE_TIMEOUT as f64 + 1.5,
        "lost {lost:.1} s of writes, more than archive_timeout {ARCHIVE_TIMEOUT} s"
    );
}

/// A `DATABASE_URL` server the operator runs (here a cluster started by the test, as systemd
/// would): `giupdo backup setup --pg-data` writes the configuration and prints the lines for its
/// postgresql.conf; after a restart, `giupdo backup` takes the first full backup; the data
/// directory lost, `giupdo restore --latest` refuses while the server runs and restores once it
/// is stopped; started again, the server has every row that reached the archive.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_url_server_is_backed_up_and_restored_the_same_way() {
    use giupdo::pgcluster::Cluster;
    require_pgbackrest();
    let site = Site::new("url");
    let server_root = site.data.parent().expect("base").join("server");
    let server = Cluster::new(&server_root).expect("server cluster");
    let (guard, _) = server.acquire().expect("start the server");
    server.keep_running();
    drop(guard);
    let url = server.url();
    let run = |args: &[&str]| -> (bool, String) {
        let out = Command::new(BIN)
            .args(args)
            .env("GIUPDO_DATA_DIR", &site.data)
            .env("DATABASE_URL", &url)
            .output()
            .expect("run giupdo");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let pgdata = server.pgdata();
    let (ok, said) = run(&[
        "backup",
        "setup",
        "--repo",
        site.repo.to_str().expect("utf-8"),
        "--archive-timeout",
        "5",
        "--pg-data",
        pgdata.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{said}");
    // The lines the operator adds to postgresql.conf, as printed.
    let lines: Vec<String> = said
        .lines()
        .filter(|l| l.starts_with("  archive_"))
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(lines.len(), 3, "{said}");
    assert!(lines[1].contains("archive-push %p"), "{said}");
    let conf = pgdata.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
    text.push_str(&format!("\n{}\n", lines.join("\n")));
    std::fs::write(&conf, text).expect("postgresql.conf");
    server.stop().expect("stop");
    let (guard, _) = server.acquire().expect("restart with archiving");
    server.keep_running();
    drop(guard);
    server.wake_checkpointer().expect("reload");

    let (ok, said) = run(&["migrate"]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["backup"]);
    assert!(ok && said.contains("toàn bộ"), "{said}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    sqlx::query("INSERT INTO agencies (name, kind, staff_count) VALUES ('Trường THCS Hoa Thám', 'school', 30)")
        .execute(&pool)
        .await
        .expect("an agency after the backup");
    pool.close().await;
    let (ok, said) = run(&["backup", "check"]);
    assert!(ok && said.contains("Điểm khôi phục mới nhất"), "{said}");

    let (ok, said) = run(&["restore", "--latest", "--yes"]);
    assert!(
        !ok && said.contains("dừng nó trước"),
        "refused while it runs: {said}"
    );
    server.stop().expect("stop");
    std::fs::remove_dir_all(&pgdata).expect("lose the data directory");
    let (ok, said) = run(&["restore", "--latest"]);
    assert!(ok && said.contains("systemctl start postgresql"), "{said}");
    let (guard, _) = server.acquire().expect("start the restored server");
    let start = Instant::now();
    while server.in_recovery().unwrap_or(true) && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect to the restored server");
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM agencies WHERE name = 'Trường THCS Hoa Thám'")
            .fetch_one(&pool)
            .await
            .expect("count");
    pool.close().await;
    assert_eq!(
        n, 1,
        "the row written after the backup came back from the archive"
    );
    drop(guard);
    server.stop().expect("stop");
}

/// What an operator gets wrong gets a Vietnamese sentence saying what to do, and nothing runs.
#[test]
fn backup_commands_say_what_is_missing() {
    let site = Site::new("words");
    let out = site.try_giupdo(&["backup"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("giupdo backup setup --repo"), "{said}");
    let out = site.try_giupdo(&["restore", "--to", "hôm qua"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("2026-12-04 16:59"), "{said}");
    let out = site.try_giupdo(&[
        "backup",
        "setup",
        "--repo",
        "/tmp/sao lưu",
        "--archive-timeout",
        "5",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("dấu cách"), "{said}");
    let out = site.try_giupdo(&[
        "backup",
        "setup",
        "--repo",
        "/tmp/x",
        "--archive-timeout",
        "0",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("từ 1 đến 3600"), "{said}");
    assert!(
        !site.data.join("pgbackrest.conf").exists(),
        "nothing written"
    );
}
