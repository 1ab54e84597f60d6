//! The test harness. One private PostgreSQL cluster serves the whole test run (started, or
//! reused, through the same `pgcluster` code as the app); a migrated template database is made
//! once per test process; every test gets its own database cloned from it (milliseconds), the app
//! spawned on port 0, and an HTTP client that keeps cookies. Databases are dropped when the test
//! ends, and leftovers of crashed runs are swept at start.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use giupdo::config::WebConfig;
use giupdo::db::audit::By;
use giupdo::db::users::{self, NewUser};
use giupdo::domain::roles::Role;
use giupdo::pgcluster::Cluster;
use giupdo::web::{self, AppState};
use reqwest::header::HeaderMap;
use scraper::{Html, Selector};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Where the shared test cluster lives: `GIUPDO_TEST_DATA_DIR`, or a directory under the system
/// temp dir, which the `postgres` user can always reach (a checkout under a 0700 home cannot).
pub fn test_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GIUPDO_TEST_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let uid = unsafe { libc::geteuid() };
    std::env::temp_dir().join(format!("giupdo-test-{uid}"))
}

/// Settings that make a throwaway cluster fast; durability is not wanted in tests.
pub const FAST: &[&str] = &[
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
];

struct Shared {
    /// URL template: `{db}` is replaced by a database name.
    base_url: String,
    template: String,
}

impl Shared {
    fn url(&self, db: &str) -> String {
        self.base_url.replace("{db}", db)
    }
}

static SHARED: OnceCell<Shared> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn shared() -> &'static Shared {
    SHARED
        .get_or_init(|| async {
            // GIUPDO_TEST_DATABASE_URL: run the suite against an existing server instead
            // (a URL to its maintenance database, with a role allowed to create databases).
            let base_url = match std::env::var("GIUPDO_TEST_DATABASE_URL") {
                Ok(url) => {
                    let (head, tail) = split_db(&url);
                    format!("{head}{{db}}{tail}")
                }
                Err(_) => {
                    let dir = test_data_dir();
                    let cluster = tokio::task::spawn_blocking(move || {
                        let cluster = Cluster::new(dir)
                            .expect("test cluster")
                            .with_extra_conf(FAST);
                        let (guard, _) = cluster.acquire().expect("start test cluster");
                        // Keep using it until the process exits; the next run reuses it.
                        std::mem::forget(guard);
                        cluster
                    })
                    .await
                    .expect("cluster thread");
                    cluster.url_for("{db}")
                }
            };
            let pid = std::process::id();
            let template = format!("tpl_{pid}");
            let mut admin = PgConnection::connect(&base_url.replace("{db}", "postgres"))
                .await
                .expect("connect to the test server");
            sweep_leftovers(&mut admin).await;
            sqlx::query(&format!("CREATE DATABASE {template}"))
                .execute(&mut admin)
                .await
                .expect("create template");
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect(&base_url.replace("{db}", &template))
                .await
                .expect("connect template");
            giupdo::db::migrate(&pool).await.expect("migrate template");
            pool.close().await;
            Shared { base_url, template }
        })
        .await
}

/// `postgres://u@h/db?x` → (`postgres://u@h/`, `?x`).
fn split_db(url: &str) -> (String, String) {
    let (before_q, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let slash = before_q.rfind('/').map(|i| i + 1).unwrap_or(before_q.len());
    (before_q[..slash].to_string(), query.to_string())
}

/// Drop databases left by test processes that no longer run (a crash, a Ctrl-C).
async fn sweep_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname ~ '^(t|tpl)_[0-9]+(_[0-9]+)?$'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid: i32 = name
            .split('_')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if pid > 0 && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// A fresh, migrated database of this test's own.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
    admin_url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        Self::create(true).await
    }

    /// A database with no migration applied (to test a migration against older data).
    pub async fn empty() -> TestDb {
        Self::create(false).await
    }

    /// A database migrated up to, not including, the migration whose file name starts with
    /// `version` (e.g. "0021"): the schema as it was, for data written the old way.
    pub async fn migrated_before(version: &str) -> TestDb {
        let db = Self::empty().await;
        let dir = std::env::temp_dir().join(format!("giupdo-mig-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if name.as_str() < version {
                std::fs::copy(e.path(), dir.join(&name)).unwrap();
            }
        }
        sqlx::migrate::Migrator::new(dir.as_path())
            .await
            .unwrap()
            .run(&db.pool)
            .await
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        db
    }

    async fn create(migrated: bool) -> TestDb {
        let shared = shared().await;
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin_url = shared.url("postgres");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("admin connection");
        let template = if migrated {
            format!(" TEMPLATE {}", shared.template)
        } else {
            String::new()
        };
        sqlx::query(&format!("CREATE DATABASE {name}{template}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = shared.url(&name);
        let pool = giupdo::db::pool_options()
            .connect(&url)
            .await
            .expect("connect test db");
        TestDb {
            name,
            url,
            pool,
            admin_url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = self.admin_url.clone();
        // Async cleanup from a synchronous Drop: a thread with its own small runtime. The pool
        // belongs to the test's runtime (blocked here), so it is not touched: FORCE ends its
        // connections from the server side.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// The app running on a random port against a test database, with a cookie-keeping client.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Serve `state` on a random local port; the task ends when the test's runtime does.
pub async fn serve(state: AppState) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = web::app(state);
    let handle = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, handle)
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(WebConfig::default()).await
    }

    pub async fn spawn_with(config: WebConfig) -> TestApp {
        let db = TestDb::new().await;
        let (addr, server) = serve(AppState::new(db.pool.clone(), config)).await;
        TestApp {
            addr,
            db,
            client: client(),
            server,
        }
    }

    /// An app already served at `addr` (on a pool of the caller's) over `db`.
    pub fn attach(addr: SocketAddr, db: TestDb) -> TestApp {
        TestApp {
            addr,
            db,
            client: client(),
            server: tokio::spawn(async {}),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        Page::from(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Page::from(
            self.client
                .post(self.url(path))
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// A new client (a different browser) for the same app.
    pub fn other_client(&self) -> reqwest::Client {
        client()
    }

    /// Create an account directly in the database; returns its id and password.
    pub async fn user(
        &self,
        username: &str,
        role: Role,
        agency: Option<Uuid>,
        commune: Option<&str>,
    ) -> (Uuid, String) {
        let password = format!("mat-khau-{username}-123");
        let new = NewUser {
            username: username.to_string(),
            full_name: format!("Người dùng {username}"),
            password_hash: password_auth::generate_hash(&password),
            role,
            agency_id: agency,
            commune_code: commune.map(str::to_string),
        };
        let mut tx = self.pool().begin().await.expect("tx");
        let row = users::create(&mut tx, &By::system("test"), &new)
            .await
            .expect("create user");
        tx.commit().await.expect("commit");
        (row.id, password)
    }

    /// Sign in with this app's main client; panics unless the login redirects.
    pub async fn login(&self, username: &str, password: &str) {
        let page = self
            .post(
                "/dang-nhap",
                &[("username", username), ("password", password)],
            )
            .await;
        assert_eq!(
            page.status, 303,
            "login of {username} failed: {}",
            page.text
        );
    }

    pub async fn login_with(&self, client: &reqwest::Client, username: &str, password: &str) {
        let resp = client
            .post(self.url("/dang-nhap"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("POST login");
        assert_eq!(resp.status(), 303, "login of {username} failed");
    }

    pub async fn audit_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(self.pool())
            .await
            .expect("count audit")
    }

    pub fn stop(self) -> TestDb {
        self.server.abort();
        self.db
    }
}

/// A response with its body read, and CSS-selector helpers.
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Page {
    pub async fn from(resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            text,
        }
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.text)
    }

    /// Texts of every element matching `selector`, whitespace collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.html()
            .select(&sel)
            .map(|e| {
                e.text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The text of the one element matching `selector`.
    pub fn text_of(&self, selector: &str) -> String {
        let all = self.texts(selector);
        assert!(
            !all.is_empty(),
            "no element matches {selector} in:\n{}",
            self.text
        );
        all[0].clone()
    }

    pub fn count(&self, selector: &str) -> usize {
        let sel = Selector::parse(selector).expect("selector");
        self.html().select(&sel).count()
    }

    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}
