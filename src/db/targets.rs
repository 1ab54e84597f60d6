//! Where the pool connects: one server, or a list of servers of which the app follows the one that
//! takes writes (`postgres://user@host1:5432,host2:5432/giupdo?target_session_attrs=read-write`,
//! the form libpq and pg_auto_failover's `show uri` give). sqlx reads one host per URL, so the list
//! is split here into one set of options per host; [`find_primary`] asks each whether it is in
//! recovery, and the pool is pointed at the one that is not.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// One server of the list.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port` as written, for messages and logs (never the password).
    pub label: String,
    pub options: PgConnectOptions,
}

/// The parsed `DATABASE_URL`.
#[derive(Clone, Debug)]
pub struct Targets {
    pub hosts: Vec<Target>,
    /// Only a server that takes writes will do: `target_session_attrs=read-write`, implied by a
    /// list of several hosts (the app writes on nearly every page).
    pub read_write: bool,
}

/// Split a PostgreSQL URL whose host part may be a comma-separated list.
pub fn parse(url: &str) -> Result<Targets, String> {
    let bad = |why: &str| {
        format!(
            "DATABASE_URL không hợp lệ: {why} (dạng postgres://người_dùng:mật_khẩu@máy:cổng[,máy2:cổng2]/tên_csdl)"
        )
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("thiếu \"postgres://\""))?;
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(bad(&format!("giao thức \"{scheme}\" không phải postgres")));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostlist) = match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, q),
        None => (tail, ""),
    };
    let mut read_write = false;
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k == "target_session_attrs" {
            match v.as_ref() {
                "read-write" | "primary" => read_write = true,
                "any" => {}
                other => {
                    return Err(bad(&format!(
                        "target_session_attrs={other} chưa được hỗ trợ (dùng read-write hoặc any)"
                    )));
                }
            }
        } else {
            kept.append_pair(&k, &v);
        }
    }
    let kept = kept.finish();
    let entries: Vec<&str> = hostlist.split(',').collect();
    if entries.len() > 1 {
        read_write = true;
    }
    let mut hosts = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let entry = entry.trim();
        if entry.is_empty() && entries.len() > 1 {
            return Err(bad(&format!(
                "máy chủ thứ {} trong danh sách bị trống",
                i + 1
            )));
        }
        let single = if kept.is_empty() {
            format!("{scheme}://{userinfo}{entry}{path}")
        } else {
            format!("{scheme}://{userinfo}{entry}{path}?{kept}")
        };
        let options: PgConnectOptions = single.parse().map_err(|e: sqlx::Error| {
            if entries.len() > 1 {
                bad(&format!("máy chủ thứ {} (\"{entry}\"): {e}", i + 1))
            } else {
                bad(&e.to_string())
            }
        })?;
        let label = if entry.is_empty() {
            "socket mặc định".to_string()
        } else {
            entry.to_string()
        };
        hosts.push(Target { label, options });
    }
    Ok(Targets { hosts, read_write })
}

/// The URL with its host list replaced by the one server `host` (as labelled in the list) and
/// `target_session_attrs` dropped: for PostgreSQL's own tools (`pg_dump` of `giupdo backup`), which
/// should talk to the primary the app found.
pub fn with_single_host(url: &str, host: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = match authority.rfind('@') {
        Some(i) => &authority[..=i],
        None => "",
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, q),
        None => (tail, ""),
    };
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k != "target_session_attrs" {
            kept.append_pair(&k, &v);
        }
    }
    let kept = kept.finish();
    if kept.is_empty() {
        format!("{scheme}://{userinfo}{host}{path}")
    } else {
        format!("{scheme}://{userinfo}{host}{path}?{kept}")
    }
}

/// What one server answered when asked.
#[derive(Debug)]
pub enum Probe {
    Primary,
    Standby,
    Unreachable(String),
}

/// Connect to one server directly (not through the pool) and ask whether it takes writes.
pub async fn probe(target: &Target, timeout: Duration) -> Probe {
    let attempt = async {
        let mut conn = PgConnection::connect_with(&target.options).await?;
        let recovering: bool =
            sqlx::query_scalar!(r#"SELECT pg_is_in_recovery() AS "recovering!""#)
                .fetch_one(&mut conn)
                .await?;
        let _ = conn.close().await;
        Ok::<bool, sqlx::Error>(recovering)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(false)) => Probe::Primary,
        Ok(Ok(true)) => Probe::Standby,
        Ok(Err(e)) => Probe::Unreachable(e.to_string()),
        Err(_) => Probe::Unreachable(format!("không trả lời trong {} s", timeout.as_secs())),
    }
}

/// The first server of the list that takes writes, or a Vietnamese account of every server.
pub async fn find_primary(targets: &Targets, timeout: Duration) -> Result<Target, String> {
    let mut report = Vec::new();
    for target in &targets.hosts {
        match probe(target, timeout).await {
            Probe::Primary => return Ok(target.clone()),
            Probe::Standby => report.push(format!(
                "{}: đang là máy dự phòng (chỉ đọc), chưa nhận ghi",
                target.label
            )),
            Probe::Unreachable(e) => {
                report.push(format!("{}: không kết nối được ({e})", target.label))
            }
        }
    }
    Err(format!(
        "Không có máy chủ cơ sở dữ liệu nào nhận ghi trong DATABASE_URL:\n  - {}",
        report.join("\n  - ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_list_becomes_one_target_a_host_and_asks_for_writes() {
        let t = parse(
            "postgres://app:s%40cret@db1:5433,db2/giupdo?target_session_attrs=read-write&sslmode=disable",
        )
        .unwrap();
        assert!(t.read_write);
        let labels: Vec<&str> = t.hosts.iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["db1:5433", "db2"]);
        assert_eq!(t.hosts[0].options.get_port(), 5433);
        assert_eq!(t.hosts[1].options.get_port(), 5432);
        assert_eq!(t.hosts[1].options.get_host(), "db2");
        assert_eq!(t.hosts[1].options.get_database(), Some("giupdo"));
        assert_eq!(t.hosts[1].options.get_username(), "app");
    }

    #[test]
    fn the_tools_get_the_primary_alone() {
        let url = "postgres://app:s%40cret@db1:5433,db2:5432/giupdo?target_session_attrs=read-write&sslmode=disable";
        assert_eq!(
            with_single_host(url, "db2:5432"),
            "postgres://app:s%40cret@db2:5432/giupdo?sslmode=disable"
        );
        assert_eq!(
            with_single_host("postgres://u@a,b/g?target_session_attrs=read-write", "b"),
            "postgres://u@b/g"
        );
    }

    #[test]
    fn one_host_is_one_target_and_keeps_its_parameters() {
        let t = parse("postgres://postgres@localhost/giupdo?host=/tmp/run").unwrap();
        assert!(!t.read_write);
        assert_eq!(t.hosts.len(), 1);
        assert_eq!(t.hosts[0].options.get_socket(), Some(&"/tmp/run".into()));
    }

    #[test]
    fn a_broken_host_list_is_named_in_vietnamese() {
        let e = parse("postgres://u@db1:5432,,db3/giupdo").unwrap_err();
        assert!(e.contains("máy chủ thứ 2"), "{e}");
        let e = parse("postgres://u@db1:5432,db2:cong/giupdo").unwrap_err();
        assert!(e.contains("máy chủ thứ 2") && e.contains("db2:cong"), "{e}");
        let e = parse("mysql://u@db1/giupdo").unwrap_err();
        assert!(e.contains("không phải postgres"), "{e}");
        let e = parse("postgres://u@db1/giupdo?target_session_attrs=standby").unwrap_err();
        assert!(e.contains("chưa được hỗ trợ"), "{e}");
    }
}
