//! The load test behind `giupdo-bench load`: virtual users signed in as the district's roles, each
//! in its own HTTP client with its own session, running a realistic mix of page views, searches,
//! duplicate checks and writes against a running app, over real TCP. It reports throughput,
//! latency percentiles and every error by kind, and checks afterwards that no write was left
//! half-done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use sqlx::PgPool;
use uuid::Uuid;

use giupdo::db::audit::By;
use giupdo::db::users::{self, NewUser};
use giupdo::domain::roles::Role;

use super::user::{VirtualUser, send};
use super::{Latency, latency};

/// The password of every load-test account (they live only in the benchmark's database).
pub const PASSWORD: &str = "tai-thu-mat-khau-123";

#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub commune: Option<String>,
}

/// What the virtual users work on: their accounts and samples of the data.
#[derive(Debug, Clone)]
pub struct Plan {
    pub accounts: Vec<Account>,
    /// (id, commune) of registered households, to open and to check.
    pub households: Vec<(Uuid, String)>,
    /// Heads' names as typed into searches (without diacritics half the time).
    pub names: Vec<String>,
    /// (commune, village) pairs for the as-you-type duplicate check.
    pub villages: Vec<(String, String)>,
    /// Households never helped and not adopted this campaign: the agencies' pledges go here,
    /// each virtual user taking its own share so that pledges do not collide.
    pub free: Vec<Uuid>,
}

/// Create `users` accounts (half agencies, three in ten communes, two in ten clerks) if they do not
/// exist yet, and sample the data the mix works on.
pub async fn prepare(pool: &PgPool, users: usize) -> anyhow::Result<Plan> {
    let agencies: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM agencies ORDER BY name")
        .fetch_all(pool)
        .await?;
    let communes: Vec<String> = sqlx::query_scalar(
        "SELECT commune_code FROM households GROUP BY commune_code ORDER BY count(*) DESC",
    )
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(
        !agencies.is_empty() && !communes.is_empty(),
        "cần dữ liệu mẫu (giupdo demo) trước khi chạy thử tải"
    );
    let hash = password_auth::generate_hash(PASSWORD);
    let mut accounts = Vec::with_capacity(users);
    for i in 0..users {
        let (role, agency, commune) = match i % 10 {
            0..=4 => (Role::Agency, Some(agencies[i % agencies.len()]), None),
            5..=7 => (
                Role::Commune,
                None,
                Some(communes[i % communes.len()].clone()),
            ),
            _ => (Role::Clerk, None, None),
        };
        let username = format!("taithu.{i:04}");
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)")
                .bind(&username)
                .fetch_one(pool)
                .await?;
        if !exists {
            let mut tx = pool.begin().await?;
            users::create(
                &mut tx,
                &By::system("bench"),
                &NewUser {
                    username: username.clone(),
                    full_name: format!("Người dùng thử tải {i}"),
                    password_hash: hash.clone(),
                    role,
                    agency_id: agency,
                    commune_code: commune.clone(),
                },
            )
            .await?;
            tx.commit().await?;
        }
        accounts.push(Account {
            username,
            role,
            commune,
        });
    }
    let households: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, commune_code FROM households TABLESAMPLE SYSTEM (5) WHERE merged_into IS NULL LIMIT 20000",
    )
    .fetch_all(pool)
    .await?;
    let households = if households.len() < 100 {
        sqlx::query_as(
            "SELECT id, commune_code FROM households WHERE merged_into IS NULL LIMIT 20000",
        )
        .fetch_all(pool)
        .await?
    } else {
        households
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT head_name FROM households WHERE id = ANY($1) LIMIT 2000",
    )
    .bind(households.iter().map(|h| h.0).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    let villages: Vec<(String, String)> =
        sqlx::query_as("SELECT commune_code, name FROM villages ORDER BY commune_code, name")
            .fetch_all(pool)
            .await?;
    let free: Vec<Uuid> = sqlx::query_scalar(
        "SELECT h.id FROM households h WHERE h.merged_into IS NULL \
           AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.household_id = h.id) \
         ORDER BY h.id DESC LIMIT 50000",
    )
    .fetch_all(pool)
    .await?;
    Ok(Plan {
        accounts,
        households,
        names,
        villages,
        free,
    })
}

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Home,
    Dashboard,
    HouseholdList,
    HouseholdSearch,
    HouseholdPage,
    DuplicateSearch,
    DuplicateCheck,
    PledgeList,
    PledgeChoose,
    Agencies,
    Report,
    Pledge,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Home => "trang chủ",
            Action::Dashboard => "bảng điều khiển",
            Action::HouseholdList => "danh sách hộ",
            Action::HouseholdSearch => "tìm hộ",
            Action::HouseholdPage => "hồ sơ hộ",
            Action::DuplicateSearch => "tra cứu trùng hộ",
            Action::DuplicateCheck => "kiểm tra trùng khi gõ",
            Action::PledgeList => "danh sách nhận giúp",
            Action::PledgeChoose => "chọn hộ để nhận",
            Action::Agencies => "cơ quan, đơn vị",
            Action::Report => "báo cáo tổng hợp",
            Action::Pledge => "ghi: đăng ký nhận giúp",
        }
    }
}

/// The mix per role, as weights: what such a user mostly does on a working day.
pub(super) fn mix(role: Role) -> &'static [(Action, u32)] {
    match role {
        Role::Agency => &[
            (Action::Home, 10),
            (Action::Dashboard, 20),
            (Action::PledgeList, 20),
            (Action::PledgeChoose, 25),
            (Action::DuplicateSearch, 15),
            (Action::Pledge, 10),
        ],
        Role::Commune => &[
            (Action::Home, 5),
            (Action::Dashboard, 5),
            (Action::HouseholdList, 15),
            (Action::HouseholdSearch, 25),
            (Action::HouseholdPage, 15),
            (Action::DuplicateCheck, 25),
            (Action::PledgeList, 10),
        ],
        _ => &[
            (Action::Home, 5),
            (Action::Dashboard, 5),
            (Action::Report, 10),
            (Action::Agencies, 15),
            (Action::HouseholdSearch, 25),
            (Action::HouseholdPage, 10),
            (Action::DuplicateSearch, 15),
            (Action::PledgeList, 15),
        ],
    }
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub elapsed: Duration,
    /// Latency of every answered request, by action.
    pub latencies: BTreeMap<Action, Vec<Duration>>,
    /// Failures by kind ("HTTP 503", "kết nối", "hết giờ", …) — a failure is anything but the
    /// answer the action expects.
    pub errors: BTreeMap<String, u64>,
    /// 503 answers that were the app's Vietnamese outage page (the rest are counted apart).
    pub outage_pages: u64,
    /// Requests answered correctly and failed, per second of the run.
    pub per_second: Vec<(u64, u64)>,
    pub pledges: u64,
    /// The households whose pledge the app acknowledged (answered 303): each must be stored whole.
    pub acknowledged: Vec<Uuid>,
    /// Every request as (when it was answered, since the start; whether it succeeded), in order.
    pub timeline: Vec<(Duration, bool)>,
    /// When the measured run started.
    pub started: Option<Instant>,
}

impl Outcome {
    pub fn requests(&self) -> u64 {
        self.latencies.values().map(|v| v.len() as u64).sum::<u64>()
    }
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
    pub fn rate(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }
    pub fn all_latencies(&self) -> Vec<Duration> {
        self.latencies.values().flatten().copied().collect()
    }
}

pub(super) struct Sample {
    pub(super) action: Action,
    pub(super) at: Duration,
    pub(super) took: Duration,
    pub(super) failure: Option<String>,
    pub(super) outage_page: bool,
    pub(super) pledged: Option<Uuid>,
}

/// Sign in each of the plan's first `users` accounts in its own HTTP client.
async fn sign_in(base: &str, plan: &Plan, users: usize) -> anyhow::Result<Vec<reqwest::Client>> {
    let mut clients = Vec::with_capacity(users);
    for account in plan.accounts.iter().take(users) {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let resp = client
            .post(format!("{base}/dang-nhap"))
            .form(&[
                ("username", account.username.as_str()),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .context("đăng nhập người dùng thử tải")?;
        anyhow::ensure!(
            resp.status() == 303,
            "đăng nhập {} thất bại: {}",
            account.username,
            resp.status()
        );
        clients.push(client);
    }
    Ok(clients)
}

/// Run `users` virtual users (the plan's first `users` accounts) against `base`
/// (`http://host:port`) for `duration`, closed-loop: each user sends its next request as soon as
/// the previous one is answered. This measures saturation; its percentiles include queueing.
pub async fn run(
    base: &str,
    plan: &Plan,
    users: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let users = users.min(plan.accounts.len());
    let plan = std::sync::Arc::new(plan.clone());
    let clients = sign_in(base, &plan, users).await?;
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(users);
    for (i, client) in clients.into_iter().enumerate() {
        let plan = plan.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let mut user = VirtualUser::new(i, users, &plan, client);
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let Some((action, request, pledged)) = user.next(&base, &plan) else {
                    continue;
                };
                let t = Instant::now();
                let (failure, outage_page) = send(action, request).await;
                samples.push(Sample {
                    action,
                    at: start.elapsed(),
                    took: t.elapsed(),
                    failure,
                    outage_page,
                    pledged,
                });
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    Ok(tally(all, start, duration))
}

/// The same mix offered open-loop: `rate` requests per second start on schedule, whatever the
/// earlier ones are doing, spread round-robin over the `users` signed-in users. A request's latency
/// counts from the moment it was due, so a slow server cannot hide its queue by slowing the load
/// down (no coordinated omission).
pub async fn run_open(
    base: &str,
    plan: &Plan,
    users: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(rate > 0.0, "tốc độ phải lớn hơn 0");
    let users = users.min(plan.accounts.len()).max(1);
    let clients = sign_in(base, plan, users).await?;
    let mut people: Vec<VirtualUser> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| VirtualUser::new(i, users, plan, c))
        .collect();
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0u64;
    let mut tries = 0u64;
    while n < total && tries < total * 4 {
        tries += 1;
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        let user = &mut people[(tries as usize) % users];
        let Some((action, request, pledged)) = user.next(base, plan) else {
            continue;
        };
        n += 1;
        tokio::time::sleep_until(due).await;
        let started = start.into_std();
        tasks.spawn(async move {
            let (failure, outage_page) = send(action, request).await;
            let now = Instant::now();
            Sample {
                action,
                at: now - started,
                took: now - due.into_std(),
                failure,
                outage_page,
                pledged,
            }
        });
    }
    let mut all = Vec::with_capacity(n as usize);
    while let Some(s) = tasks.join_next().await {
        all.push(s?);
    }
    Ok(tally(all, start.into_std(), duration))
}

fn tally(samples: Vec<Sample>, start: Instant, duration: Duration) -> Outcome {
    let mut outcome = Outcome::default();
    let seconds = duration.as_secs().max(1) as usize + 1;
    outcome.per_second = vec![(0, 0); seconds];
    let mut samples = samples;
    samples.sort_by_key(|s| s.at);
    for s in samples {
        let second = (s.at.as_secs() as usize).min(seconds - 1);
        outcome.timeline.push((s.at, s.failure.is_none()));
        match s.failure {
            None => {
                outcome.per_second[second].0 += 1;
                if s.action == Action::Pledge {
                    outcome.pledges += 1;
                    outcome.acknowledged.extend(s.pledged);
                }
            }
            Some(kind) => {
                outcome.per_second[second].1 += 1;
                *outcome.errors.entry(kind).or_default() += 1;
            }
        }
        if s.outage_page {
            outcome.outage_pages += 1;
        }
        outcome.latencies.entry(s.action).or_default().push(s.took);
    }
    outcome.elapsed = start.elapsed();
    outcome.started = Some(start);
    outcome
}

/// One path fetched as fast as `users` clients can, for `duration`.
pub struct Hammered {
    pub rate: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub errors: u64,
}

/// `users` clients (signed in as `username` when given) fetch `path` in a loop for `duration`.
pub async fn hammer(
    base: &str,
    path: &str,
    username: Option<&String>,
    users: usize,
    duration: Duration,
) -> anyhow::Result<Hammered> {
    let mut tasks = Vec::new();
    let start = Instant::now();
    let deadline = start + duration;
    for _ in 0..users {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        if let Some(u) = username {
            let resp = client
                .post(format!("{base}/dang-nhap"))
                .form(&[("username", u.as_str()), ("password", PASSWORD)])
                .send()
                .await?;
            anyhow::ensure!(resp.status() == 303, "đăng nhập {u} thất bại");
        }
        let url = format!("{base}{path}");
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => match r.bytes().await {
                        Ok(_) => times.push(t.elapsed()),
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
            }
            (times, errors)
        }));
    }
    let mut times = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (t, e) = t.await?;
        times.extend(t);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = times.len() as f64 / elapsed;
    let Latency { p50, p95, p99, .. } = latency(&times);
    Ok(Hammered {
        rate,
        p50,
        p95,
        p99,
        errors,
    })
}

/// Writes since `since` left half-done: a sponsorship without its support lines or without its
/// audit row. Zero in a sound database whatever happened during the run (a stopped database, a
/// killed client): each pledge is one transaction.
pub async fn half_written(
    pool: &PgPool,
    since: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sponsorships s
         WHERE s.created_at >= $1
           AND (NOT EXISTS (SELECT 1 FROM support_lines l WHERE l.sponsorship_id = s.id)
                OR NOT EXISTS (SELECT 1 FROM audit_log a
                               WHERE a.entity = 'sponsorship' AND a.entity_id = s.id::text))",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// The run as a table.
pub fn print(outcome: &Outcome, users: usize) {
    println!(
        "{:<26} {:>8} {:>9} {:>9} {:>9}",
        "thao tác", "số lượt", "p50 ms", "p95 ms", "p99 ms"
    );
    for (action, times) in &outcome.latencies {
        let Latency { p50, p95, p99, .. } = latency(times);
        println!(
            "{:<26} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            action.label(),
            times.len(),
            p50,
            p95,
            p99
        );
    }
    let Latency { p50, p95, p99, .. } = latency(&outcome.all_latencies());
    println!(
        "{:<26} {:>8} {:>9.1} {:>9.1} {:>9.1}",
        "TẤT CẢ",
        outcome.requests(),
        p50,
        p95,
        p99
    );
    println!(
        "{users} người dùng ảo, {:.1} s: {:.0} yêu cầu/giây, {} lượt ghi, {} lỗi",
        outcome.elapsed.as_secs_f64(),
        outcome.rate(),
        outcome.pledges,
        outcome.error_count()
    );
    for (kind, n) in &outcome.errors {
        println!("  lỗi {kind}: {n}");
    }
}
