//! The app on a local TCP port, as `giupdo serve` runs it.

use std::net::SocketAddr;

use sqlx::PgPool;

use giupdo::config::WebConfig;
use giupdo::web::{self, AppState};

/// The app on a local TCP port as `giupdo serve` runs it (TCP_NODELAY included), for load runs.
pub async fn serve_local(pool: PgPool) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    serve_state(AppState::new(pool, WebConfig::default())).await
}

/// [`serve_local`] with a state of the caller's.
pub async fn serve_state(state: AppState) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    use axum::serve::ListenerExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = web::app(state);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let handle = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok((format!("http://{addr}"), handle))
}
