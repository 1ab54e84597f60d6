//! The private PostgreSQL cluster and the binary's commands, run as a user would run them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use giupdo::config::WebConfig;
use giupdo::pgcluster::{Cluster, ClusterError, Started};
use giupdo::web::AppState;

use crate::harness::{FAST, Page, TestDb, client, serve};

const BIN: &str = env!("CARGO_BIN_EXE_giupdo");

/// A private data directory under /tmp (reachable by `postgres`, short enough for a socket path),
/// stopped and removed when the test ends.
struct TempData(PathBuf);

impl TempData {
    fn new() -> TempData {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "giupdo-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempData(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn cluster(&self) -> Cluster {
        Cluster::new(&self.0)
            .expect("cluster")
            .with_extra_conf(FAST)
    }
}

impl Drop for TempData {
    fn drop(&mut self) {
        if let Ok(c) = Cluster::new(&self.0) {
            let _ = c.stop();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn giupdo(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("GIUPDO_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run giupdo");
    assert!(
        out.status.success(),
        "giupdo failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `giupdo serve` on port 0; returns the child and the address it printed.
fn start_server(data: &Path) -> (Child, String) {
    let mut child = giupdo(data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("read line");
        if let Some(rest) = line.strip_prefix("giupdo đang phục vụ tại http://") {
            break rest.trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn sigterm(child: &Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
}

#[tokio::test]
async fn private_cluster_from_nothing_then_reused_by_a_second_process_and_stopped_by_its_starter() {
    let data = TempData::new();
    let cluster = data.cluster();
    assert!(!cluster.is_initialized());

    // First start: initdb, start, create the database, migrate, load the demo.
    let out = run_ok(giupdo(data.path()).arg("demo"));
    assert!(out.contains("hộ nghèo, cận nghèo:  600"), "{out}");
    assert!(cluster.is_initialized());
    // A short command that started the cluster stops it when done (no one else uses it).
    assert!(!cluster.is_running());

    // The server starts it again; a CLI command run meanwhile reuses it and leaves it running.
    let (mut server, addr) = start_server(data.path());
    assert!(cluster.is_running());
    let out = run_ok(giupdo(data.path()).args(["user", "list"]));
    assert!(out.contains("demo.hoatham"), "{out}");
    assert!(
        cluster.is_running(),
        "a CLI command must never stop the server's cluster"
    );
    let http = client();
    let home = Page::from(http.get(format!("http://{addr}/")).send().await.unwrap()).await;
    assert_eq!(home.status, 200);
    assert_eq!(home.text_of("#deadline-registration .date"), "15/07/2024");

    // `db stop` refuses while the server uses it.
    let out = giupdo(data.path()).args(["db", "stop"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("đang được một tiến trình giupdo khác sử dụng")
    );

    // Graceful shutdown on SIGTERM: exit 0, and the cluster it started is stopped.
    sigterm(&server);
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    assert!(!cluster.is_running());

    // Data survives the restart.
    let (mut server, addr) = start_server(data.path());
    let home = Page::from(http.get(format!("http://{addr}/")).send().await.unwrap()).await;
    let agencies = home
        .texts(".figure")
        .into_iter()
        .find(|t| t.starts_with("Cơ quan, đơn vị"))
        .unwrap();
    assert_eq!(agencies, "Cơ quan, đơn vị 40");
    sigterm(&server);
    assert!(server.wait().unwrap().success());
}

#[tokio::test]
async fn db_url_leaves_the_cluster_running_for_psql_and_db_stop_stops_it() {
    let data = TempData::new();
    let url = run_ok(giupdo(data.path()).args(["db", "url"]));
    assert!(
        url.trim()
            .starts_with("postgres://postgres@localhost/giupdo?host="),
        "{url}"
    );
    let cluster = data.cluster();
    assert!(cluster.is_running());
    let status = run_ok(giupdo(data.path()).args(["db", "status"]));
    assert!(status.contains("đang chạy"), "{status}");
    let psql = Command::new("psql")
        .args([url.trim(), "-XtAc", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "1");
    run_ok(giupdo(data.path()).args(["db", "stop"]));
    assert!(!cluster.is_running());
    assert!(run_ok(giupdo(data.path()).args(["db", "status"])).contains("đã dừng"));
}

#[tokio::test]
async fn stale_postmaster_pid_left_by_a_crash_is_recovered() {
    let data = TempData::new();
    let cluster = data.cluster();
    let (guard, started) = tokio::task::spawn_blocking({
        let c = cluster.clone();
        move || c.acquire()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(started, Started::ByUs);
    guard.release().unwrap();
    assert!(!cluster.is_running());

    // A crash leaves postmaster.pid naming a PID that now belongs to another program (here:
    // this test process). PostgreSQL alone would refuse to start.
    let pidfile = cluster.pgdata().join("postmaster.pid");
    std::fs::write(
        &pidfile,
        format!(
            "{}\n{}\n1700000000\n5432\n\n\n",
            std::process::id(),
            cluster.pgdata().display()
        ),
    )
    .unwrap();
    assert!(!cluster.is_running(), "a foreign PID is not our server");
    let (guard, started) = tokio::task::spawn_blocking({
        let c = cluster.clone();
        move || c.acquire()
    })
    .await
    .unwrap()
    .expect("recovers from the stale pid file");
    assert_eq!(started, Started::ByUs);
    assert!(cluster.is_running());
    guard.release().unwrap();
}

#[tokio::test]
async fn a_killed_postmaster_is_restarted_on_next_use() {
    let data = TempData::new();
    let cluster = data.cluster();
    let c = cluster.clone();
    let (guard, _) = tokio::task::spawn_blocking(move || c.acquire())
        .await
        .unwrap()
        .unwrap();
    let pid: i32 = std::fs::read_to_string(cluster.pgdata().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    // Wait for the kernel to reap it (its parent is pg_ctl's, already gone: init reaps it).
    for _ in 0..200 {
        if unsafe { libc::kill(pid, 0) } != 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!cluster.is_running());
    drop(guard);
    let out = run_ok(giupdo(data.path()).args(["user", "list"]));
    assert!(out.contains("TÊN ĐĂNG NHẬP"), "{out}");
}

#[tokio::test]
async fn database_url_is_used_instead_of_a_private_cluster() {
    let db = TestDb::new().await;
    let data = TempData::new();
    let mut cmd = Command::new(BIN);
    cmd.env("GIUPDO_DATA_DIR", data.path())
        .env("DATABASE_URL", &db.url)
        .args([
            "user",
            "create",
            "--username",
            "qua.url",
            "--full-name",
            "Qua URL",
            "--role",
            "clerk",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mat-khau-rat-dai-1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = 'qua.url'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(role, "clerk");
    assert!(
        !data.path().exists(),
        "no private cluster is made when DATABASE_URL is set"
    );
}

#[tokio::test]
async fn an_unreachable_database_url_is_a_clear_error_at_start() {
    let data = TempData::new();
    let out = Command::new(BIN)
        .env("GIUPDO_DATA_DIR", data.path())
        .env(
            "DATABASE_URL",
            "postgres://nobody@localhost/none?host=/nonexistent-dir",
        )
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Không kết nối được cơ sở dữ liệu"), "{err}");
}

#[tokio::test]
async fn a_second_server_on_the_same_address_says_the_address_is_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = TempData::new();
    let out = giupdo(data.path())
        .args(["serve", "--addr", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("đang được một chương trình khác sử dụng"),
        "{err}"
    );
    assert!(
        !data.path().join("pg").exists(),
        "nothing is started for a server that cannot bind"
    );
}

#[tokio::test]
async fn healthz_and_pages_report_a_stopped_database_and_recover_when_it_returns() {
    let data = TempData::new();
    let cluster = data.cluster();
    let c = cluster.clone();
    let (guard, _) = tokio::task::spawn_blocking(move || c.acquire())
        .await
        .unwrap()
        .unwrap();
    let pool = giupdo::db::pool_options()
        .connect(&cluster.url())
        .await
        .unwrap();
    giupdo::db::migrate(&pool).await.unwrap();
    let (addr, _server) = serve(AppState::new(pool.clone(), WebConfig::default())).await;
    let http = client();
    let get = |path: &'static str| {
        let http = http.clone();
        async move {
            Page::from(
                http.get(format!("http://{addr}{path}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(get("/healthz").await.status, 200);

    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop())
        .await
        .unwrap()
        .unwrap();
    let health = get("/healthz").await;
    assert_eq!(health.status, 503);
    let json: serde_json::Value = serde_json::from_str(&health.text).unwrap();
    assert_eq!(
        (json["ok"].clone(), json["database"].clone()),
        (false.into(), false.into())
    );
    let home = get("/").await;
    assert_eq!(home.status, 503);
    assert_eq!(home.text_of("h1"), "Hệ thống tạm thời gián đoạn");
    assert!(!home.text.to_lowercase().contains("sqlx") && !home.text.contains("connection"));

    // Back up: the very next requests succeed, with no restart of the app.
    let c = cluster.clone();
    let (guard2, _) = tokio::task::spawn_blocking(move || c.acquire())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(get("/healthz").await.status, 200);
    assert_eq!(get("/").await.status, 200);
    drop(guard2);
    drop(guard);
}

#[test]
fn no_server_binaries_gives_a_message_naming_the_package_and_database_url() {
    let msg = ClusterError::NoBinaries.to_string();
    assert!(msg.contains("apt-get install postgresql"), "{msg}");
    assert!(msg.contains("DATABASE_URL"), "{msg}");
    assert_eq!(
        giupdo::pgcluster::find_bindir_in(None, None, Path::new("/nonexistent")),
        None
    );
}

#[test]
fn a_data_dir_the_postgres_user_cannot_reach_is_explained_when_root() {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::temp_dir().join(format!("giupdo-private-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
    let result = Cluster::new(base.join("data"));
    let is_root = unsafe { libc::geteuid() } == 0;
    let _ = std::fs::remove_dir_all(&base);
    if is_root {
        let msg = result
            .expect_err("0700 parent is unreachable for postgres")
            .to_string();
        assert!(
            msg.contains("GIUPDO_DATA_DIR=") && msg.contains("chmod o+x"),
            "{msg}"
        );
    } else {
        // Not root: the cluster runs as this user, who owns the directory.
        assert!(result.is_ok());
    }
}

/// The database stopped in the middle of a load run: the app answers the Vietnamese 503 page (and
/// `/healthz` says why) while it is down, nothing half-written is left, every pledge the users
/// were told succeeded is there, and service resumes by itself when the database returns.
#[tokio::test]
async fn the_database_stopped_under_load_gives_503_pages_loses_nothing_and_service_resumes() {
    use crate::kit::load as loadtest;
    use std::time::Duration;
    let data = TempData::new();
    let cluster = data.cluster();
    let c = cluster.clone();
    let (guard, _) = tokio::task::spawn_blocking(move || c.acquire())
        .await
        .unwrap()
        .unwrap();
    let pool = giupdo::db::pool_options()
        .connect(&cluster.url())
        .await
        .unwrap();
    giupdo::db::migrate(&pool).await.unwrap();
    giupdo::demo::load(&pool).await.unwrap();
    // Twenty users (ten of them agency staff) for twelve seconds: on a machine busy with the rest
    // of the suite, ten users for nine seconds once drew no pledge in the seconds of service.
    let plan = loadtest::prepare(&pool, 20).await.unwrap();
    let (addr, _server) = serve(AppState::new(pool.clone(), WebConfig::default())).await;
    let base = format!("http://{addr}");
    let since = chrono::Utc::now();

    let run = {
        let base = base.clone();
        let plan = plan.clone();
        tokio::spawn(async move { loadtest::run(&base, &plan, 20, Duration::from_secs(12)).await })
    };
    // The users sign in one after another (each a password hash): on a machine busy with the rest
    // of the suite that took over two seconds, and a database stopped during the sign-in ended the
    // run before it began. Stop it two seconds into the run itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let signed_in: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'login' AND at >= $1",
        )
        .bind(since)
        .fetch_one(&pool)
        .await
        .unwrap();
        if signed_in >= 20 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the users did not sign in"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop())
        .await
        .unwrap()
        .unwrap();
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = cluster.clone();
    let (guard2, _) = tokio::task::spawn_blocking(move || c.acquire())
        .await
        .unwrap()
        .unwrap();
    let outcome = run.await.unwrap().unwrap();

    // While it was down: 503s, each one the Vietnamese outage page, and nothing else went wrong.
    let failures = outcome.error_count();
    assert!(failures > 0, "the outage was seen");
    assert!(
        outcome.errors.keys().all(|k| k.starts_with("HTTP 503")),
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.outage_pages, failures, "{:?}", outcome.errors);
    // Back by itself: the last seconds are all answered.
    let tail = &outcome.per_second[outcome.per_second.len() - 3..outcome.per_second.len() - 1];
    assert!(
        tail.iter().all(|(ok, failed)| *ok > 0 && *failed == 0),
        "{:?}",
        outcome.per_second
    );
    assert_eq!(
        client()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Nothing half-written, and every pledge acknowledged to a user is in the database.
    assert_eq!(loadtest::half_written(&pool, since).await.unwrap(), 0);
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sponsorships WHERE created_at >= $1")
            .bind(since)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(outcome.pledges > 0);
    assert!(
        created >= outcome.pledges as i64,
        "{created} < {}",
        outcome.pledges
    );
    pool.close().await;
    drop(guard2);
    drop(guard);
}

#[tokio::test]
async fn demo_refuses_a_database_with_real_households_unless_told_so() {
    let db = TestDb::new().await;
    // A production-like database: one real household (any id outside the demo's).
    sqlx::query(
        "WITH v AS (INSERT INTO villages (commune_code, name) VALUES ('06073', 'Thôn Nà Pàn') RETURNING id)
         INSERT INTO households (commune_code, village_id, head_name, birth_year, ethnicity, members, status, status_year)
         SELECT '06073', v.id, 'Hoàng Văn Thật', 1970, 'tay', 3, 'poor', 2024 FROM v",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let counts = |pool: sqlx::PgPool| async move {
        let h: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
            .fetch_one(&pool)
            .await
            .unwrap();
        let u: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
        (h, u)
    };
    let data = TempData::new();
    let demo = |extra: &[&str]| {
        Command::new(BIN)
            .env("GIUPDO_DATA_DIR", data.path())
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .arg("demo")
            .args(extra)
            .output()
            .unwrap()
    };
    let out = demo(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Không nạp dữ liệu mẫu"), "{err}");
    assert!(err.contains("1 hộ không phải của bộ dữ liệu mẫu"), "{err}");
    assert!(err.contains("--yes-add-demo-data"), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("demo.quantri"),
        "no password printed"
    );
    assert_eq!(counts(db.pool.clone()).await, (1, 0), "nothing written");

    let out = demo(&["--yes-add-demo-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (households, users) = counts(db.pool.clone()).await;
    assert!(households > 500 && users >= 6);
}

#[tokio::test]
async fn a_bad_trusted_proxy_stops_serve_with_a_clear_message() {
    let data = TempData::new();
    let out = giupdo(data.path())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--trusted-proxies",
            "127.0.0.1,10.0.0.0/33",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("«10.0.0.0/33» không phải là địa chỉ IP hay dải địa chỉ CIDR"),
        "{err}"
    );
    let out = giupdo(data.path())
        .env("GIUPDO_TRUSTED_PROXIES", "nginx.local")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("«nginx.local»"));
    assert!(!data.path().join("pg").exists(), "nothing started");
}
