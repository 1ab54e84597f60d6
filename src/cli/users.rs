//! `giupdo user create|list|disable|enable|set-password`.

use crate::db::constraints;
use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, bail};
use clap::Subcommand;

use crate::db::audit::By;
use crate::db::{agencies, users};
use crate::domain::accounts::{check_new_password, hash_password, parse_full_name, parse_username};
use crate::domain::roles::Role;

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Tạo tài khoản; mật khẩu đọc từ stdin hoặc hỏi trên màn hình, không bao giờ qua tham số.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// admin | clerk | province | agency | commune
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
    check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

pub(super) async fn run(pool: &sqlx::PgPool, action: UserAction) -> anyhow::Result<()> {
    let by = By::system(&format!("cli:{}", super::whoami()));
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
                    let code = c.trim().to_string();
                    agencies::commune_name(pool, &code)
                        .await?
                        .with_context(|| format!("Không có xã mã {c}."))?;
                    Some(code)
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
                password_hash: hash_password(password).await?,
                role,
                agency_id,
                commune_code,
            };
            match users::create(pool, &by, &new).await {
                Err(e) if constraints::broke(&e, "users_username_key") => {
                    bail!("Tên đăng nhập {} đã có.", new.username)
                }
                r => r?,
            };
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
            let hash = hash_password(password).await?;
            users::set_password(pool, &by, user.id, &hash).await?;
            println!("Đã đặt mật khẩu mới cho {}.", user.username);
        }
    }
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
    users::set_disabled(pool, by, user.id, disabled).await?;
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
        agencies::name(pool, id)
            .await?
            .with_context(|| format!("Không có cơ quan mã {id}."))?;
        return Ok(id);
    }
    let found = agencies::ids_by_name(pool, key).await?;
    match found.as_slice() {
        [id] => Ok(*id),
        [] => bail!("Không có cơ quan tên “{key}”."),
        _ => bail!("Có nhiều cơ quan tên “{key}”; hãy dùng mã (id)."),
    }
}
