//! The command line.

use std::io::{BufRead as _, IsTerminal as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::config::{DbSource, Secret, WebConfig};
use crate::db::audit::By;
use crate::db::{self, Database, users};
use crate::domain::accounts::{parse_full_name, parse_username};
use crate::domain::roles::Role;
use crate::pgcluster::Cluster;

#[derive(Debug, Parser)]
#[command(
    name = "giupdo",
    version,
    about = "Quản lý phong trào nhận giúp đỡ hộ nghèo theo địa chỉ"
)]
pub struct Cli {
    /// Thư mục dữ liệu của PostgreSQL riêng (khi không đặt DATABASE_URL).
    #[arg(long, env = "GIUPDO_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chạy máy chủ web (mặc định khi không có lệnh con).
    Serve(ServeArgs),
    /// Áp dụng các migration cơ sở dữ liệu.
    Migrate,
    /// Sao lưu toàn bộ cơ sở dữ liệu vào một tệp (pg_dump dạng custom).
    Backup {
        /// Tệp sao lưu sẽ ghi (chỉ xuất hiện khi sao lưu xong); với --keep: thư mục chứa các bản
        /// sao lưu, mỗi bản một tệp giupdo-NĂMTHÁNGNGÀY-GIỜPHÚTGIÂY.dump.
        file: PathBuf,
        /// Giữ lại bấy nhiêu bản mới nhất trong thư mục, xoá các bản cũ hơn (sao lưu hằng đêm).
        #[arg(long)]
        keep: Option<usize>,
    },
    /// Khôi phục cơ sở dữ liệu từ tệp sao lưu: thay toàn bộ, tất cả hoặc không gì cả.
    /// Nên dừng ứng dụng trước khi khôi phục.
    Restore {
        file: PathBuf,
        /// Đồng ý thay thế một cơ sở dữ liệu đang có dữ liệu.
        #[arg(long)]
        yes: bool,
    },
    /// Nạp bộ dữ liệu mẫu Bình Gia 2024 (chạy lại nhiều lần không nhân đôi dữ liệu).
    Demo {
        /// Vẫn thêm dữ liệu mẫu (hộ giả, tài khoản mẫu có mật khẩu in ra) vào một cơ sở dữ liệu
        /// đã có hộ thật.
        #[arg(long)]
        yes_add_demo_data: bool,
    },
    /// Cụm PostgreSQL riêng: url | status | stop.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Nhập dữ liệu từ tệp .xlsx hoặc .csv.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Xuất báo cáo ra tệp .xlsx hoặc .csv (toàn huyện).
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Kiểm tra trùng hộ: quét các cặp nghi trùng, hoặc đánh giá ngưỡng trên bộ cặp tên có nhãn.
    Dedupe {
        #[command(subcommand)]
        what: DedupeWhat,
    },
    /// Đo hiệu năng, in bảng kết quả (dùng cơ sở dữ liệu riêng `giupdo_bench`).
    Bench {
        #[command(subcommand)]
        what: crate::bench::BenchWhat,
    },
    /// Quản lý tài khoản người dùng.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Địa chỉ lắng nghe.
    #[arg(long, env = "GIUPDO_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Đánh dấu cookie phiên là Secure (bật khi phục vụ qua HTTPS).
    #[arg(long, env = "GIUPDO_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// Phiên đăng nhập hết hạn sau bấy nhiêu giờ không hoạt động.
    #[arg(long, env = "GIUPDO_SESSION_IDLE_HOURS", default_value_t = 8)]
    pub session_idle_hours: u64,
    /// Thời gian tối đa cho một yêu cầu (giây).
    #[arg(long, env = "GIUPDO_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Nguồn (origin) được phép gửi biểu mẫu, ví dụ https://giupdo.binhgia.gov.vn (phân cách bằng dấu phẩy).
    #[arg(long, env = "GIUPDO_TRUSTED_ORIGINS", value_delimiter = ',')]
    pub trusted_origins: Vec<String>,
    /// Địa chỉ hoặc dải CIDR của proxy ngược (nginx…) được tin tiêu đề X-Forwarded-For, ví dụ
    /// 127.0.0.1 (phân cách bằng dấu phẩy). Để trống: không tin tiêu đề nào.
    #[arg(long, env = "GIUPDO_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::config::parse_trusted_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Địa chỉ riêng phục vụ số đo Prometheus (GET /metrics), ví dụ 127.0.0.1:9187. Để trống:
    /// tắt. Không bao giờ phục vụ trên địa chỉ công khai.
    #[arg(long, env = "GIUPDO_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Danh sách hộ: kiểm tra mọi dòng, rồi ghi tất cả trong một giao dịch (hoặc không ghi gì).
    Households {
        /// Tệp .xlsx hoặc .csv theo mẫu.
        file: PathBuf,
        /// Mã xã cho các dòng để trống cột Xã (các dòng ghi xã khác bị báo lỗi).
        #[arg(long)]
        commune: Option<String>,
        /// Chỉ kiểm tra, không ghi.
        #[arg(long)]
        dry_run: bool,
        /// Khi có hộ "có thể trùng": ghi lý do để vẫn nhập (được lưu trong nhật ký).
        #[arg(long, value_name = "LÝ DO")]
        confirm_duplicates: Option<String>,
    },
    /// Lịch sử giúp đỡ các năm trước (2014–2023): đối chiếu từng dòng với sổ hộ rồi ghi các dòng
    /// khớp đúng một hộ trong một giao dịch.
    History {
        /// Tệp .xlsx hoặc .csv (Năm, Cơ quan đơn vị, Họ tên chủ hộ, Thôn, Xã, Số CCCD, Hình thức,
        /// Nội dung, Giá trị).
        file: PathBuf,
        /// Chỉ kiểm tra, không ghi.
        #[arg(long)]
        dry_run: bool,
        /// Vẫn ghi khi có dòng không khớp hộ nào hoặc khớp nhiều hộ (các dòng đó bị bỏ qua; xử lý
        /// chúng trên trình duyệt để chọn hộ).
        #[arg(long)]
        skip_unmatched: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Báo cáo tổng hợp của một đợt: .xlsx có các trang tổng hợp, danh sách hộ, theo xã, theo
    /// loại đơn vị, theo hình thức, đơn vị chưa đạt; .csv là danh sách hộ kèm dòng tổng cộng.
    Summary {
        #[arg(long)]
        campaign: i32,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Chỉ một xã (mã 2024; với --merged là mã xã mới).
        #[arg(long)]
        commune: Option<String>,
        /// Chỉ một loại đơn vị chủ trì (department, school, …).
        #[arg(long)]
        kind: Option<String>,
        /// Gộp các xã năm 2024 theo xã mới từ 01/07/2025.
        #[arg(long)]
        merged: bool,
    },
    /// Kết quả từng cơ quan, đơn vị trong một đợt.
    Agencies {
        #[arg(long)]
        campaign: i32,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
        #[arg(long)]
        kind: Option<String>,
    },
    /// Hộ được giúp đỡ qua các năm và số hộ thoát nghèo về sau.
    Years {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Hiệu quả theo hình thức hỗ trợ (mọi đợt, hoặc một đợt với --campaign).
    Effectiveness {
        #[arg(long)]
        campaign: Option<i32>,
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DedupeWhat {
    /// In các cặp hộ nghi trùng đã có trong sổ (bảng hoặc CSV).
    Scan {
        /// Chỉ quét một xã (mã, ví dụ 06073).
        #[arg(long)]
        commune: Option<String>,
        /// table | csv
        #[arg(long, default_value = "table")]
        format: String,
        /// Cả các cặp "tên gần giống" ở thôn khác (nhiều).
        #[arg(long)]
        all: bool,
    },
    /// Độ chính xác (precision) và độ phủ (recall) của từng mức trên bộ cặp tên có nhãn.
    Evaluate {
        /// Tệp CSV: a,b,birth_a,birth_b,same_village,same,kind
        #[arg(default_value = "tests/data/name-pairs.csv")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Khởi động cụm (nếu cần), để nó chạy và in URL kết nối cho psql.
    Url,
    /// Cho biết cụm đã khởi tạo chưa, có đang chạy không.
    Status,
    /// Dừng cụm (từ chối nếu một tiến trình giupdo khác đang dùng).
    Stop,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Tạo tài khoản; mật khẩu đọc từ stdin hoặc hỏi trên màn hình, không bao giờ qua tham số.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// admin | clerk | agency | commune
        #[arg(long)]
        role: String,
        /// Tên hoặc mã của cơ quan (với vai trò agency).
        #[arg(long)]
        agency: Option<String>,
        /// Mã xã (với vai trò commune), ví dụ 06073.
        #[arg(long)]
        commune: Option<String>,
    },
    /// Liệt kê tài khoản.
    List,
    /// Khóa tài khoản (các phiên đăng nhập chấm dứt ngay).
    Disable { username: String },
    /// Mở khóa tài khoản.
    Enable { username: String },
    /// Đặt mật khẩu mới (đọc từ stdin hoặc hỏi trên màn hình).
    SetPassword { username: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Lỗi: không khởi động được tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Lỗi: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The log goes to stderr: coloured only when stderr is a terminal (a file or journald gets plain
/// text), or one JSON object per line with `GIUPDO_LOG_FORMAT=json` (for journald or a log
/// shipper). An unknown format is said once, and plain text is used.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("giupdo=info,tower_http=info,sqlx=warn"));
    let format = std::env::var("GIUPDO_LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.trim() {
        "json" => {
            let _ = builder.json().with_ansi(false).try_init();
        }
        other => {
            if !other.is_empty() && other != "text" {
                eprintln!(
                    "Cảnh báo: GIUPDO_LOG_FORMAT={other} không có; dùng \"text\" hoặc \"json\". Ghi nhật ký dạng chữ."
                );
            }
            let _ = builder
                .with_ansi(std::io::stderr().is_terminal())
                .try_init();
        }
    }
}

/// `DATABASE_URL` (env only: a flag would show a password in `ps`) or the private cluster.
pub fn db_source(data_dir: &std::path::Path) -> DbSource {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => DbSource::Url(Secret::new(url)),
        _ => DbSource::Private(data_dir.to_path_buf()),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let source = db_source(&cli.data_dir);
    match cli
        .command
        .unwrap_or(Command::Serve(ServeArgs::parse_defaults()))
    {
        Command::Serve(args) => {
            let config = WebConfig {
                addr: args.addr,
                secure_cookies: args.secure_cookies,
                session_idle: Duration::from_secs(args.session_idle_hours.max(1) * 3600),
                session_touch: crate::config::SESSION_TOUCH,
                request_timeout: Duration::from_secs(args.request_timeout.max(1)),
                trusted_origins: args.trusted_origins,
                trusted_proxies: args.trusted_proxies,
                metrics_addr: args.metrics_addr,
                duplicates: crate::domain::duplicates::Thresholds::from_env(),
            };
            if config.metrics_addr == Some(config.addr) {
                bail!(
                    "--metrics-addr phải khác --addr: số đo không được phục vụ trên địa chỉ công khai."
                );
            }
            // Fail fast on a taken address before starting anything.
            drop(crate::server::bind(config.addr).await?);
            if let Some(m) = config.metrics_addr {
                drop(crate::server::bind(m).await?);
            }
            let database = Database::open(&source).await?;
            crate::server::serve(database, config).await
        }
        Command::Migrate => {
            with_db(&source, |pool| async move {
                println!(
                    "Đã áp dụng migration ({} bước).",
                    db::MIGRATOR.iter().count()
                );
                drop(pool);
                Ok(())
            })
            .await
        }
        Command::Demo { yes_add_demo_data } => {
            with_db(&source, |pool| async move {
                if !yes_add_demo_data {
                    crate::demo::refuse_real_data(&pool).await?;
                }
                let report = crate::demo::load(&pool).await?;
                print!("{report}");
                Ok(())
            })
            .await
        }
        Command::Db { action } => db_command(&source, action).await,
        Command::Backup { file, keep } => backup_command(&source, file, keep).await,
        Command::Restore { file, yes } => restore_command(&source, file, yes).await,
        Command::Import { what } => {
            with_db(
                &source,
                |pool| async move { import_command(&pool, what).await },
            )
            .await
        }
        Command::Export { what } => {
            with_db(
                &source,
                |pool| async move { export_command(&pool, what).await },
            )
            .await
        }
        Command::Dedupe { what } => {
            with_db(&source, |pool| async move {
                crate::dedupe::run(&pool, what).await
            })
            .await
        }
        Command::Bench { what } => crate::bench::run(&source, what).await,
        Command::User { action } => {
            with_db(
                &source,
                |pool| async move { user_command(&pool, action).await },
            )
            .await
        }
    }
}

impl ServeArgs {
    fn parse_defaults() -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["giupdo"]).args
    }
}

/// Open the database, migrate, run `f`, and release the database however `f` ended.
async fn with_db<F, Fut>(source: &DbSource, f: F) -> anyhow::Result<()>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let database = Database::open(source).await?;
    let result = match db::migrate(&database.pool).await {
        Ok(()) => f(database.pool.clone()).await,
        Err(e) => Err(e),
    };
    let closed = database.close().await;
    result.and(closed)
}

async fn db_command(source: &DbSource, action: DbAction) -> anyhow::Result<()> {
    let dir = match source {
        DbSource::Url(_) => match action {
            DbAction::Status => {
                let database = Database::open(source).await?;
                println!("Đang dùng máy chủ PostgreSQL ngoài (DATABASE_URL): kết nối được.");
                database.close().await?;
                return Ok(());
            }
            _ => bail!(
                "DATABASE_URL đang được đặt: lệnh `giupdo db` chỉ quản lý cụm PostgreSQL riêng. Bỏ đặt DATABASE_URL để dùng nó."
            ),
        },
        DbSource::Private(dir) => dir.clone(),
    };
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let cluster = Cluster::new(&dir)?;
        match action {
            DbAction::Url => {
                let (guard, _) = cluster.acquire()?;
                cluster.keep_running();
                println!("{}", cluster.url());
                drop(guard);
            }
            DbAction::Status => {
                println!("Thư mục dữ liệu: {}", cluster.root().display());
                if !cluster.is_initialized() {
                    println!("Trạng thái: chưa khởi tạo (sẽ được tạo ở lần chạy đầu).");
                } else if cluster.is_running() {
                    println!("Trạng thái: đang chạy");
                    println!("URL: {}", cluster.url());
                } else {
                    println!("Trạng thái: đã dừng");
                }
            }
            DbAction::Stop => {
                cluster.stop_if_unused()?;
                println!("Đã dừng cụm PostgreSQL riêng.");
            }
        }
        Ok(())
    })
    .await?
}

async fn backup_command(
    source: &DbSource,
    file: PathBuf,
    keep: Option<usize>,
) -> anyhow::Result<()> {
    if keep == Some(0) {
        bail!("--keep phải từ 1 trở lên (giữ ít nhất bản vừa sao lưu).");
    }
    let (file, dir) = match keep {
        Some(_) => {
            std::fs::create_dir_all(&file)
                .with_context(|| format!("không tạo được thư mục {}", file.display()))?;
            let name = format!(
                "giupdo-{}.dump",
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            );
            (file.join(name), Some(file))
        }
        None => (file, None),
    };
    let database = Database::open(source).await?;
    let target = crate::backup::Target::from_url(database.url().expose());
    let result = match target {
        Ok(t) => {
            let f = file.clone();
            tokio::task::spawn_blocking(move || crate::backup::backup(&t, &f)).await?
        }
        Err(e) => Err(e),
    };
    let closed = database.close().await;
    let bytes = result?;
    closed?;
    println!(
        "Đã sao lưu vào {} ({} KB).",
        file.display(),
        bytes.div_ceil(1024)
    );
    if let (Some(dir), Some(keep)) = (dir, keep) {
        for old in crate::backup::prune(&dir, keep)? {
            println!("Đã xoá bản sao lưu cũ {}.", old.display());
        }
    }
    Ok(())
}

async fn restore_command(source: &DbSource, file: PathBuf, yes: bool) -> anyhow::Result<()> {
    let database = Database::open(source).await?;
    let result = async {
        if !yes && crate::backup::has_data(&database.pool).await? {
            bail!(
                "Cơ sở dữ liệu đang có dữ liệu; khôi phục sẽ thay thế toàn bộ. Chạy lại với --yes nếu chắc chắn (nên sao lưu trước)."
            );
        }
        let target = crate::backup::Target::from_url(database.url().expose())?;
        // The pool holds no locks, but its idle connections would keep old catalog snapshots.
        database.pool.close().await;
        let f = file.clone();
        tokio::task::spawn_blocking(move || crate::backup::restore(&target, &f)).await?
    }
    .await;
    let closed = database.close().await;
    result?;
    closed?;
    println!("Đã khôi phục từ {}.", file.display());
    Ok(())
}

/// A password from stdin: hidden prompt on a terminal, first line of a pipe otherwise.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        let p1 = rpassword::prompt_password("Mật khẩu: ")?;
        let p2 = rpassword::prompt_password("Nhập lại mật khẩu: ")?;
        if p1 != p2 {
            bail!("Hai lần nhập mật khẩu không khớp.");
        }
        p1
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    crate::web::auth::check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

async fn user_command(pool: &sqlx::PgPool, action: UserAction) -> anyhow::Result<()> {
    let by = By::system(&format!("cli:{}", whoami()));
    match action {
        UserAction::Create {
            username,
            full_name,
            role,
            agency,
            commune,
        } => {
            let username = parse_username(&username).map_err(anyhow::Error::msg)?;
            let full_name = parse_full_name(&full_name).map_err(anyhow::Error::msg)?;
            let role =
                Role::parse(&role).context("Vai trò phải là admin, clerk, agency hoặc commune.")?;
            let agency_id = match (role, agency) {
                (Role::Agency, Some(a)) => Some(find_agency(pool, &a).await?),
                (Role::Agency, None) => bail!("Vai trò agency cần --agency (tên hoặc mã cơ quan)."),
                (_, Some(_)) => bail!("--agency chỉ dùng với vai trò agency."),
                _ => None,
            };
            let commune_code = match (role, commune) {
                (Role::Commune, Some(c)) => {
                    let found: Option<String> =
                        sqlx::query_scalar("SELECT code FROM communes WHERE code = $1")
                            .bind(c.trim())
                            .fetch_optional(pool)
                            .await?;
                    Some(found.with_context(|| format!("Không có xã mã {c}."))?)
                }
                (Role::Commune, None) => {
                    bail!("Vai trò commune cần --commune (mã xã, ví dụ 06073).")
                }
                (_, Some(_)) => bail!("--commune chỉ dùng với vai trò commune."),
                _ => None,
            };
            let password = read_password()?;
            let new = users::NewUser {
                username,
                full_name,
                password_hash: crate::web::auth::hash_password(password).await?,
                role,
                agency_id,
                commune_code,
            };
            let mut tx = pool.begin().await?;
            match users::create(&mut tx, &by, &new).await {
                Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_username_key") => {
                    bail!("Tên đăng nhập {} đã có.", new.username)
                }
                r => r?,
            };
            tx.commit().await?;
            println!("Đã tạo tài khoản {} ({}).", new.username, role.label());
        }
        UserAction::List => {
            println!(
                "{:<24} {:<8} {:<10} HỌ TÊN / GẮN VỚI",
                "TÊN ĐĂNG NHẬP", "VAI TRÒ", "TRẠNG THÁI"
            );
            for u in users::list(pool).await? {
                let bound = u.agency_name.or(u.commune_name).unwrap_or_default();
                let state = if u.disabled {
                    "đã khóa"
                } else {
                    "hoạt động"
                };
                println!(
                    "{:<24} {:<8} {:<10} {} {}",
                    u.username, u.role, state, u.full_name, bound
                );
            }
        }
        UserAction::Disable { username } => set_disabled(pool, &by, &username, true).await?,
        UserAction::Enable { username } => set_disabled(pool, &by, &username, false).await?,
        UserAction::SetPassword { username } => {
            let user = users::by_username(pool, &username.trim().to_lowercase())
                .await?
                .with_context(|| format!("Không có tài khoản {username}."))?;
            let password = read_password()?;
            let hash = crate::web::auth::hash_password(password).await?;
            let mut tx = pool.begin().await?;
            users::set_password(&mut tx, &by, user.id, &hash).await?;
            tx.commit().await?;
            println!("Đã đặt mật khẩu mới cho {}.", user.username);
        }
    }
    Ok(())
}

async fn export_command(pool: &sqlx::PgPool, what: ExportWhat) -> anyhow::Result<()> {
    use crate::domain::roles::Scope;
    use crate::report::{self, export};
    let campaign_of = |year: i32| async move {
        report::campaign_by_year(pool, year)
            .await?
            .with_context(|| format!("Không có đợt vận động năm {year}."))
    };
    let write = |format: ExportFormat, output: &PathBuf, tables: Vec<(&str, export::Table)>| {
        let bytes = match format {
            ExportFormat::Xlsx => export::xlsx(&tables)?,
            ExportFormat::Csv => {
                // A CSV holds one table: the main one (the list, or the only table).
                tables
                    .iter()
                    .find(|(n, _)| *n == "Danh sách hộ")
                    .or(tables.first())
                    .map(|(_, t)| export::csv(t))
                    .unwrap_or_default()
            }
        };
        std::fs::write(output, &bytes)
            .with_context(|| format!("Không ghi được tệp {}", output.display()))?;
        println!("Đã ghi {} ({} byte).", output.display(), bytes.len());
        anyhow::Ok(())
    };
    match what {
        ExportWhat::Summary {
            campaign,
            format,
            output,
            commune,
            kind,
            merged,
        } => {
            let c = campaign_of(campaign).await?;
            let f = report::Filter {
                campaign: c.id,
                commune,
                kind,
                merged,
            };
            let s = report::summary(pool, &f, &Scope::District, report::Rows::All)
                .await?
                .context("Không có đợt vận động.")?;
            println!(
                "Đợt {}: {} hộ đã xác nhận, cam kết {} đồng, đã trao {} đồng.",
                s.campaign.year, s.totals.confirmed, s.totals.pledged, s.totals.delivered
            );
            write(
                format,
                &output,
                export::summary_tables(&s, "Phạm vi: Toàn huyện"),
            )
        }
        ExportWhat::Agencies {
            campaign,
            format,
            output,
            kind,
        } => {
            let c = campaign_of(campaign).await?;
            let rows =
                report::agency_results(pool, c.id, kind.as_deref(), &Scope::District).await?;
            let table = export::agencies_table(&rows, c.year, "Phạm vi: Toàn huyện");
            write(format, &output, vec![("Kết quả đơn vị", table)])
        }
        ExportWhat::Years { format, output } => {
            let rows = report::years(pool, &Scope::District).await?;
            let table = export::years_table(&rows, "Phạm vi: Toàn huyện");
            write(format, &output, vec![("Qua các năm", table)])
        }
        ExportWhat::Effectiveness {
            campaign,
            format,
            output,
        } => {
            let groups = report::effectiveness(pool, &Scope::District, campaign).await?;
            let subtitle = match campaign {
                Some(y) => format!("Phạm vi: Toàn huyện · hộ được giúp trong đợt {y}"),
                None => "Phạm vi: Toàn huyện · hộ được giúp trong mọi đợt".to_string(),
            };
            let table = export::effectiveness_table(&groups, &subtitle);
            write(format, &output, vec![("Hiệu quả", table)])
        }
    }
}

async fn import_history(
    pool: &sqlx::PgPool,
    file: PathBuf,
    dry_run: bool,
    skip_unmatched: bool,
) -> anyhow::Result<()> {
    use crate::import::history::{Match, commit, preview};
    let bytes =
        std::fs::read(&file).with_context(|| format!("Không đọc được tệp {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = crate::import::read_table(&bytes, &name).map_err(anyhow::Error::msg)?;
    let p = preview(
        pool,
        &table,
        crate::domain::duplicates::Thresholds::from_env(),
    )
    .await?;
    let several: Vec<_> = p
        .rows
        .iter()
        .filter(|(_, m)| matches!(m, Match::Several(_)))
        .collect();
    let none: Vec<_> = p
        .rows
        .iter()
        .filter(|(_, m)| matches!(m, Match::None))
        .collect();
    println!(
        "{} dòng: {} khớp một hộ, {} khớp nhiều hộ, {} không khớp, {} lỗi.",
        p.total_rows,
        p.matched(),
        several.len(),
        none.len(),
        p.problems.len()
    );
    for pr in p.problems.iter().take(200) {
        println!("{:>6}  {:<18} {}", pr.line, pr.column, pr.message);
    }
    for (r, m) in several.iter().chain(none.iter()) {
        let what = match m {
            Match::Several(o) => format!(
                "khớp {} hộ: {}",
                o.len(),
                o.iter()
                    .map(|o| o.label.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => "không khớp hộ nào".to_string(),
        };
        println!("{:>6}  {} ({}) — {what}", r.line, r.head_name, r.village);
    }
    if !p.problems.is_empty() {
        bail!("Tệp còn lỗi: không ghi gì.");
    }
    if dry_run {
        println!("Chạy thử (--dry-run): không ghi gì.");
        return Ok(());
    }
    if (!several.is_empty() || !none.is_empty()) && !skip_unmatched {
        bail!(
            "Có dòng chưa khớp đúng một hộ: xử lý trên trình duyệt (Nhận giúp đỡ → Nhập lịch sử), hoặc thêm --skip-unmatched để bỏ qua các dòng đó."
        );
    }
    let rows: Vec<_> = p
        .rows
        .iter()
        .filter_map(|(r, m)| match m {
            Match::One(h, _) => Some((r.clone(), *h)),
            _ => None,
        })
        .collect();
    let by = By::system(&format!("cli:{}", whoami()));
    let n = commit(pool, &by, &rows, &name, None).await?;
    println!("Đã nhập {n} lượt giúp đỡ các năm trước.");
    Ok(())
}

async fn import_command(pool: &sqlx::PgPool, what: ImportWhat) -> anyhow::Result<()> {
    use crate::import::households::{Target, commit, preview};
    let (file, commune, dry_run, confirm_duplicates) = match what {
        ImportWhat::History {
            file,
            dry_run,
            skip_unmatched,
        } => return import_history(pool, file, dry_run, skip_unmatched).await,
        ImportWhat::Households {
            file,
            commune,
            dry_run,
            confirm_duplicates,
        } => (file, commune, dry_run, confirm_duplicates),
    };
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(&file).with_context(|| format!("Không đọc được tệp {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = crate::import::read_table(&bytes, &name).map_err(anyhow::Error::msg)?;
    if let Some(c) = &commune {
        let found: Option<String> = sqlx::query_scalar("SELECT code FROM communes WHERE code = $1")
            .bind(c)
            .fetch_optional(pool)
            .await?;
        found.with_context(|| format!("Không có xã mã {c}."))?;
    }
    let year = db::households::priority_context(pool).await?.0;
    let target = Target {
        default_commune: commune,
        only_commune: None,
        row_limit: None,
    };
    let p = preview(pool, &table, &target, year).await?;
    for line in crate::import::households::layout_lines(&p.layout) {
        println!("{line}");
    }
    println!(
        "{} dòng dữ liệu, {} dòng hợp lệ, {} lỗi.",
        p.total_rows,
        p.rows.len(),
        p.problems.len()
    );
    for n in &p.notes {
        println!("{:>6}  {:<22} {}", n.line, n.column, n.message);
    }
    if !p.problems.is_empty() {
        println!("{:>6}  {:<22} LỖI", "DÒNG", "CỘT");
        for pr in p.problems.iter().take(200) {
            let line = if pr.line == 0 {
                "tệp".to_string()
            } else {
                pr.line.to_string()
            };
            println!("{line:>6}  {:<22} {}", pr.column, pr.message);
        }
        if p.problems.len() > 200 {
            println!("… và {} lỗi khác.", p.problems.len() - 200);
        }
        bail!("Tệp còn lỗi: không ghi gì vào sổ hộ.");
    }
    if !p.warnings.is_empty() {
        println!("{} dòng có thể trùng hộ đã có:", p.warnings.len());
        for w in p.warnings.iter().take(200) {
            println!("{:>6}  {}", w.line, w.message);
        }
    }
    if dry_run {
        println!("Chạy thử (--dry-run): không ghi gì.");
        return Ok(());
    }
    let confirm = confirm_duplicates
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if !p.warnings.is_empty() && confirm.is_none() {
        bail!(
            "Có hộ có thể trùng: kiểm tra lại, hoặc ghi lý do bằng --confirm-duplicates \"…\" để vẫn nhập."
        );
    }
    let drafts: Vec<_> = p.rows.into_iter().map(|(_, d)| d).collect();
    let by = By::system(&format!("cli:{}", whoami()));
    let n = commit(pool, &by, &drafts, &name, None, confirm.as_deref()).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Đã nhập {n} hộ trong {secs:.1} giây ({:.0} dòng/giây).",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}

async fn set_disabled(
    pool: &sqlx::PgPool,
    by: &By,
    username: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    let user = users::by_username(pool, &username.trim().to_lowercase())
        .await?
        .with_context(|| format!("Không có tài khoản {username}."))?;
    let mut tx = pool.begin().await?;
    users::set_disabled(&mut tx, by, user.id, disabled).await?;
    tx.commit().await?;
    println!(
        "{} tài khoản {}.",
        if disabled {
            "Đã khóa"
        } else {
            "Đã mở khóa"
        },
        user.username
    );
    Ok(())
}

async fn find_agency(pool: &sqlx::PgPool, key: &str) -> anyhow::Result<uuid::Uuid> {
    let key = key.trim();
    if let Ok(id) = key.parse::<uuid::Uuid>() {
        let found: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM agencies WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
        return found.with_context(|| format!("Không có cơ quan mã {id}."));
    }
    let found: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM agencies WHERE normalize_name(name) = normalize_name($1)",
    )
    .bind(key)
    .fetch_all(pool)
    .await?;
    match found.as_slice() {
        [id] => Ok(*id),
        [] => bail!("Không có cơ quan tên “{key}”."),
        _ => bail!("Có nhiều cơ quan tên “{key}”; hãy dùng mã (id)."),
    }
}

fn whoami() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into())
}
