//! The command line: `giupdo serve|migrate|demo|db|backup|restore|import|export|dedupe|places|user`.
//! The top of the layers: it parses flags into settings and calls `server`, `db`, `import`,
//! `report` and `demo`; nothing below names it.

mod db;
pub mod dedupe;
mod export;
mod import;
mod places;
mod users;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::{Parser, Subcommand};

use crate::config::{DbSource, Secret, WebConfig};
use crate::db::{self as database, Database};
use crate::domain::duplicates::Thresholds;

pub use db::{BackupAction, DbAction};
pub use dedupe::DedupeWhat;
pub use export::{ExportFormat, ExportWhat};
pub use import::ImportWhat;
pub use places::PlacesAction;
pub use users::UserAction;

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

    /// Điểm (số bit bằng chứng, từ −50 đến 100) từ đó một cặp là "có thể trùng" (cần lý do).
    #[arg(long, env = "GIUPDO_DUP_PROBABLE", default_value_t = Thresholds::default().probable,
          value_parser = parse_threshold, global = true)]
    pub dup_probable: f32,
    /// Điểm từ đó một cặp được hiện là "tên gần giống".
    #[arg(long, env = "GIUPDO_DUP_POSSIBLE", default_value_t = Thresholds::default().possible,
          value_parser = parse_threshold, global = true)]
    pub dup_possible: f32,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chạy máy chủ web (mặc định khi không có lệnh con).
    Serve(ServeArgs),
    /// Áp dụng các migration cơ sở dữ liệu.
    Migrate,
    /// Sao lưu. Không ghi tệp: một bản pgBackRest vào kho (toàn bộ mỗi tuần, phần thay đổi
    /// các ngày khác; cần `giupdo backup setup` trước). Ghi TỆP: một bản pg_dump dạng custom.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        action: Option<BackupAction>,
        /// Tệp sao lưu pg_dump sẽ ghi (chỉ xuất hiện khi sao lưu xong); với --keep: thư mục chứa
        /// các bản sao lưu, mỗi bản một tệp giupdo-NĂMTHÁNGNGÀY-GIỜPHÚTGIÂY.dump.
        file: Option<PathBuf>,
        /// Giữ lại bấy nhiêu bản mới nhất trong thư mục, xoá các bản cũ hơn (với TỆP).
        #[arg(long, requires = "file")]
        keep: Option<usize>,
        /// Kiểu bản pgBackRest: full (toàn bộ) hoặc diff (phần thay đổi); mặc định theo lịch.
        #[arg(long = "type", value_parser = ["full", "diff"], conflicts_with = "file")]
        kind: Option<String>,
    },
    /// Khôi phục: từ một tệp pg_dump (thay toàn bộ, tất cả hoặc không gì cả), hoặc từ kho
    /// pgBackRest đến một thời điểm (--to "2026-12-04 16:59", giờ Việt Nam) hay điểm mới nhất
    /// (--latest). Nên dừng ứng dụng trước khi khôi phục.
    Restore {
        #[arg(required_unless_present_any = ["to", "latest"], conflicts_with_all = ["to", "latest"])]
        file: Option<PathBuf>,
        /// Khôi phục đến thời điểm này: mọi thay đổi trước nó, không gì sau nó.
        #[arg(long, conflicts_with = "latest")]
        to: Option<String>,
        /// Khôi phục đến điểm mới nhất có trong kho.
        #[arg(long)]
        latest: bool,
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
    /// Danh mục đơn vị hành chính theo thời gian (tỉnh, huyện, xã và đơn vị kế tiếp).
    Places {
        #[command(subcommand)]
        action: PlacesAction,
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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    block_on_main(run(cli))
}

/// Run a command's future on a multi-threaded runtime; an error is printed once, in Vietnamese,
/// and ends the process with a failure code (the `giupdo` and `giupdo-bench` binaries).
pub fn block_on_main(command: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
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
    match runtime.block_on(command) {
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

/// A similarity threshold: a number from 0 to 1 ("0,5" as typed in Vietnamese works too).
fn parse_threshold(s: &str) -> Result<f32, String> {
    match s.trim().replace(',', ".").parse::<f32>() {
        Ok(v) if (-50.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "“{s}” không phải một điểm từ −50 đến 100 (số bit bằng chứng, ví dụ 12,5)."
        )),
    }
}

impl Cli {
    /// The duplicate check's thresholds from `--dup-probable` / `--dup-possible`.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            probable: self.dup_probable,
            possible: self.dup_possible,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let source = db_source(&cli.data_dir);
    let thresholds = cli.thresholds();
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
                duplicates: thresholds,
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
                    database::MIGRATOR.iter().count()
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
        Command::Db { action } => db::db_command(&source, action).await,
        Command::Backup {
            action,
            file,
            keep,
            kind,
        } => match (action, file) {
            (Some(action), _) => db::backup_action(&source, &cli.data_dir, action).await,
            (None, Some(file)) => db::backup_command(&source, file, keep).await,
            (None, None) => db::pitr_backup(&source, &cli.data_dir, kind.as_deref()).await,
        },
        Command::Restore {
            file,
            to,
            latest,
            yes,
        } => match (file, to) {
            (Some(file), _) => db::restore_command(&source, file, yes).await,
            (None, Some(to)) => {
                let at = crate::domain::dates::parse_moment(&to).map_err(anyhow::Error::msg)?;
                db::pitr_restore(&source, &cli.data_dir, crate::pitr::Target::Time(at), yes).await
            }
            (None, None) => {
                debug_assert!(latest);
                db::pitr_restore(&source, &cli.data_dir, crate::pitr::Target::Latest, yes).await
            }
        },
        Command::Import { what } => {
            with_db(&source, |pool| async move {
                import::run(&pool, what, thresholds).await
            })
            .await
        }
        Command::Export { what } => {
            with_db(
                &source,
                |pool| async move { export::run(&pool, what).await },
            )
            .await
        }
        Command::Dedupe { what } => {
            with_db(&source, |pool| async move {
                dedupe::run(&pool, what, thresholds).await
            })
            .await
        }
        Command::Places { action } => {
            with_db(
                &source,
                |pool| async move { places::run(&pool, action).await },
            )
            .await
        }
        Command::User { action } => {
            with_db(
                &source,
                |pool| async move { users::run(&pool, action).await },
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
    let result = match database::migrate(&database.pool).await {
        Ok(()) => f(database.pool.clone()).await,
        Err(e) => Err(e),
    };
    let closed = database.close().await;
    result.and(closed)
}

pub(crate) fn whoami() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duplicate_thresholds_come_from_flags_and_a_bad_one_is_refused() {
        let cli = Cli::try_parse_from(["giupdo", "--dup-probable", "12,5", "migrate"]).unwrap();
        assert_eq!(cli.thresholds().probable, 12.5);
        assert_eq!(cli.thresholds().possible, Thresholds::default().possible);
        let err = Cli::try_parse_from(["giupdo", "--dup-possible", "150", "migrate"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("không phải một điểm từ −50 đến 100"),
            "{err}"
        );
    }
}
