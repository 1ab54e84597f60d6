//! Running the web server: bind, first-run admin, serve until SIGTERM/Ctrl-C, then shut down
//! cleanly (in-flight requests finish, the pool closes, the private cluster stops if we started it).

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion as _;

use crate::config::WebConfig;
use crate::db::audit::By;
use crate::db::{self, Database, users};
use crate::domain::accounts::random_password;
use crate::domain::roles::Role;
use crate::web::{self, AppState};

/// Bind the address, with a clear message when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "Địa chỉ {addr} đang được một chương trình khác sử dụng (có thể là một `giupdo serve` khác). \
                 Hãy dừng chương trình đó hoặc chọn địa chỉ khác bằng --addr / GIUPDO_ADDR."
            )
        } else {
            anyhow::anyhow!("Không mở được địa chỉ {addr}: {e}")
        }
    })
}

/// When no account exists yet, create `admin` with a random password and print it once to the
/// console (stdout; the log goes to stderr and never sees it).
pub async fn ensure_first_admin(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    if users::count(pool).await? > 0 {
        return Ok(());
    }
    let password = random_password();
    let hash = crate::domain::accounts::hash_password(password.clone()).await?;
    let new = users::NewUser {
        username: "admin".into(),
        full_name: "Quản trị hệ thống".into(),
        password_hash: hash,
        role: Role::Admin,
        agency_id: None,
        commune_code: None,
    };
    // Another instance may be doing the same right now: the lock makes one of them win.
    if users::create_first(pool, &By::system("first-run"), &new)
        .await?
        .is_none()
    {
        return Ok(());
    }
    println!("================================================================");
    println!(" Đã tạo tài khoản quản trị đầu tiên.");
    println!("   Tên đăng nhập: admin");
    println!("   Mật khẩu:      {password}");
    println!(" Mật khẩu chỉ hiện một lần này. Hãy đăng nhập và đổi mật khẩu.");
    println!("================================================================");
    Ok(())
}

pub async fn serve(database: Database, config: WebConfig) -> anyhow::Result<()> {
    let listener = bind(config.addr).await?;
    let local = listener.local_addr()?;
    db::migrate(&database.pool).await?;
    ensure_first_admin(&database.pool).await?;

    // The sweep of expired sessions (every ten minutes) needs no pool of its own.
    let state = AppState::new(database.pool.clone(), config);
    // With a list of servers, the session store's pool follows the primary too.
    database.follow_also(&state.sessions);
    let store = tower_sessions_sqlx_store::PostgresStore::new(database.pool.clone());
    let cleanup = tokio::spawn(store.continuously_delete_expired(
        tokio::time::Duration::from_secs(web::SESSION_CLEANUP.as_secs()),
    ));

    let metrics = match state.config.metrics_addr {
        Some(addr) => {
            let listener = bind(addr).await?;
            let router = web::metrics::router(vec![
                ("app", state.db.clone()),
                ("sessions", state.sessions.clone()),
            ]);
            println!("Số đo Prometheus tại http://{addr}/metrics");
            Some(tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            }))
        }
        None => None,
    };
    let app = web::app(state);
    println!("giupdo đang phục vụ tại http://{local}");
    tracing::info!(%local, "listening");
    let listener = listener.tap_io(|tcp| {
        // Without it, streamed responses wait for a delayed ACK (40 ms).
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("máy chủ web dừng bất thường")?;
    cleanup.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    tracing::info!("shutting down");
    let stopped_cluster = database.started_cluster();
    database.close().await?;
    if stopped_cluster {
        tracing::info!("private PostgreSQL released");
    }
    println!("giupdo đã dừng.");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
