//! Beyond one machine, with the real components from Debian's packages: the CI-sized failover
//! (pg_auto_failover: a monitor and two nodes, synchronous replication, the primary killed under
//! load) and PgBouncer in front of the database. The full-length runs and their figures are
//! `giupdo-bench failover` and `giupdo-bench pooler`.

use std::time::Duration;

use giupdo::config::{DbSource, Secret, WebConfig};
use giupdo::db::Database;
use giupdo::domain::roles::Role;
use giupdo::pgcluster::Cluster;
use giupdo::web::AppState;
use giupdo_bench::ha::{self, PgBouncer, PoolMode};

use crate::harness::{self, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_giupdo");

#[tokio::test]
async fn a_killed_primary_is_replaced_with_only_outage_pages_and_no_acknowledged_pledge_lost() {
    let dir = std::env::temp_dir().join(format!("giupdo-failover-{}", uuid::Uuid::new_v4()));
    let r = crate::kit::failover::failover_run(&dir, 0, 25.0, 35, Duration::from_secs(5))
        .await
        .expect("the failover run");
    eprintln!(
        "failover: back after {:.1} s, {} failed ({} outage pages), {} acknowledged pledges, rejoined after {:?}",
        r.back_after.as_secs_f64(),
        r.failed,
        r.outage_pages,
        r.acknowledged,
        r.rejoined_after
    );
    assert_ne!(r.new_primary, r.old_primary, "the standby took over");
    assert!(r.acknowledged > 0, "pledges were acknowledged: {r:?}");
    assert_eq!(
        r.lost_on_primary, 0,
        "acknowledged pledges on the new primary"
    );
    assert_eq!(r.half_written, 0, "no pledge half-written");
    assert_eq!(
        r.other_errors, 0,
        "every failed request got the Vietnamese 503 page: {:?}",
        r.outcome.errors
    );
    let after_kill = r
        .outcome
        .timeline
        .iter()
        .any(|(at, ok)| *ok && *at > r.killed_at + r.back_after);
    assert!(
        after_kill || r.back_after.is_zero(),
        "requests succeed again after the kill: {:?}",
        r.outcome.per_second
    );
    assert!(
        r.rejoined_after.is_some(),
        "the old primary rejoined as the standby"
    );
    assert_eq!(
        r.lost_on_standby, 0,
        "acknowledged pledges on the rejoined standby"
    );
    assert!(
        r.standby_refused.contains("máy dự phòng"),
        "starting on the standby alone says it is a standby: {}",
        r.standby_refused
    );
    assert!(
        r.backup_bytes > 10_000,
        "giupdo backup through the host list dumps the new primary: {} bytes",
        r.backup_bytes
    );
    assert!(!dir.exists(), "the scratch formation is removed");
}

#[tokio::test]
async fn a_host_list_none_of_which_answers_is_named_host_by_host_at_start() {
    let (a, b) = (ha::free_port().unwrap(), ha::free_port().unwrap());
    for (url, expected) in [
        (
            format!(
                "postgres://giupdo@127.0.0.1:{a},127.0.0.1:{b}/giupdo?target_session_attrs=read-write"
            ),
            vec![
                "Không có máy chủ cơ sở dữ liệu nào nhận ghi".to_string(),
                format!("127.0.0.1:{a}: không kết nối được"),
                format!("127.0.0.1:{b}: không kết nối được"),
            ],
        ),
        (
            format!("postgres://giupdo@127.0.0.1:{a},,127.0.0.1:{b}/giupdo"),
            vec!["DATABASE_URL không hợp lệ: máy chủ thứ 2".to_string()],
        ),
    ] {
        let out = std::process::Command::new(BIN)
            .env("DATABASE_URL", &url)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        for e in expected {
            assert!(err.contains(&e), "{e} not in: {err}");
        }
    }
}

/// PgBouncer (session pooling) in front of the test database: the app works through it, gives
/// the outage page while it is down, and works again when it is back, without a restart.
#[tokio::test]
async fn through_pgbouncer_the_app_works_and_a_dead_pooler_is_a_503_then_recovery() {
    let db = TestDb::new().await;
    let socket = Cluster::new(harness::test_data_dir()).unwrap().socket_dir();
    let dir = std::env::temp_dir().join(format!("giupdo-pgbouncer-{}", uuid::Uuid::new_v4()));
    let mut bouncer = PgBouncer::start(&dir, &socket, &db.name, PoolMode::Session, 10).unwrap();
    let database = Database::open(&DbSource::Url(Secret::new(bouncer.url(&db.name, ""))))
        .await
        .expect("the app connects through PgBouncer");
    let (addr, _server) =
        harness::serve(AppState::new(database.pool.clone(), WebConfig::default())).await;
    let app = harness::TestApp::attach(addr, db);
    let (_, password) = app.user("can.bo.huyen", Role::Clerk, None, None).await;
    app.login("can.bo.huyen", &password).await;
    assert_eq!(app.get("/ho").await.status, 200);

    bouncer.kill();
    let down = app.get("/ho").await;
    assert_eq!(down.status, 503);
    assert!(
        down.text.contains("Hệ thống tạm thời gián đoạn"),
        "{}",
        down.text
    );

    bouncer.restart().unwrap();
    let mut back = 0;
    for _ in 0..50 {
        back = app.get("/ho").await.status;
        if back == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(back, 200, "the app is back without a restart");
    database.close().await.unwrap();
    drop(bouncer);
    let _ = std::fs::remove_dir_all(&dir);
}
