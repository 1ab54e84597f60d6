//! Beyond one machine, with the real components from Debian's packages: the CI-sized failover
//! (pg_auto_failover: a monitor and two nodes, synchronous replication, the primary killed under
//! load) and PgBouncer in front of the database. The full-length runs and their figures are
//! `giupdo bench failover` and `giupdo bench pooler`.

use std::time::Duration;

use giupdo::ha;

#[tokio::test]
async fn a_killed_primary_is_replaced_with_only_outage_pages_and_no_acknowledged_pledge_lost() {
    let dir = std::env::temp_dir().join(format!("giupdo-failover-{}", uuid::Uuid::new_v4()));
    let r = ha::failover_run(&dir, 0, 25.0, 35, Duration::from_secs(5))
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
    assert!(!dir.exists(), "the scratch formation is removed");
}
