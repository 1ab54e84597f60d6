//! `giupdo backup FILE` and `giupdo restore FILE`: PostgreSQL's own `pg_dump`, `pg_restore` and
//! `psql`, taken from the same binaries as the server when they are found (a dump tool older than
//! the server refuses to run).
//!
//! A backup is one `pg_dump --format=custom` file: every schema of the database (the app's tables,
//! the migrations ledger, the session store). A restore replaces the whole database in a single
//! transaction: either the file's content is there afterwards, or — on any error — the database is
//! exactly as it was.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// How to reach the database from a client tool: the URL without its password, and the password
/// (given through `PGPASSWORD`, never on a command line where `ps` shows it).
pub struct Target {
    url: String,
    password: Option<String>,
}

impl Target {
    pub fn from_url(raw: &str) -> anyhow::Result<Target> {
        let mut url = url::Url::parse(raw).context("URL cơ sở dữ liệu không hợp lệ")?;
        let password = url
            .password()
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8()
                    .map(|p| p.into_owned())
                    .context("mật khẩu trong URL cơ sở dữ liệu không giải mã được (UTF-8)")
            })
            .transpose()?;
        let _ = url.set_password(None);
        Ok(Target {
            url: url.to_string(),
            password,
        })
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool_path(tool));
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd
    }
}

/// The tool beside the server binaries when found, else whatever `PATH` has.
fn tool_path(tool: &str) -> PathBuf {
    crate::pgcluster::find_bindir()
        .map(|d| d.join(tool))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("không chạy được {what} (cài gói postgresql-client?)"))?;
    if !out.status.success() {
        bail!(
            "{what} thất bại: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Write the whole database to `file` (custom format, compressed). The file appears only when the
/// dump is complete: it is written beside it under a temporary name, then renamed.
pub fn backup(target: &Target, file: &Path) -> anyhow::Result<u64> {
    let tmp = partial_name(file);
    let mut cmd = target.command("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--file")
        .arg(&tmp)
        .arg("--dbname")
        .arg(&target.url);
    if let Err(e) = run(cmd, "pg_dump") {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, file).with_context(|| format!("không ghi được {}", file.display()))?;
    Ok(std::fs::metadata(file)?.len())
}

fn partial_name(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    file.with_file_name(name)
}

/// Replace the database's content with `file`'s, all or nothing: the existing schemas are dropped
/// and the dump replayed inside one transaction that commits only when the whole file was read
/// (stop at the first error), so a bad or truncated file leaves the database untouched.
pub fn restore(target: &Target, file: &Path) -> anyhow::Result<()> {
    if !file.is_file() {
        bail!("Không có tệp sao lưu {}", file.display());
    }
    // Check the file first: a file that is not a dump is refused before anything is touched.
    let mut list = target.command("pg_restore");
    list.arg("--list").arg(file);
    run(list, "pg_restore --list").map_err(|_| {
        anyhow::anyhow!(
            "{} không phải tệp sao lưu của giupdo (pg_dump dạng custom) hoặc đã hỏng.",
            file.display()
        )
    })?;

    let mut script = target.command("pg_restore");
    script
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--file=-")
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut producer = script.spawn().context("không chạy được pg_restore")?;
    let mut sql = producer.stdout.take().context("pg_restore stdout")?;

    let mut psql = target.command("psql");
    psql.arg("--no-psqlrc")
        .arg("--quiet")
        .arg("--set=ON_ERROR_STOP=1")
        .arg("--dbname")
        .arg(&target.url)
        .arg("--file=-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut consumer = psql.spawn().context("không chạy được psql")?;
    let mut input = consumer.stdin.take().context("psql stdin")?;
    // The transaction is ours, not psql's: `--single-transaction` would commit whatever arrived
    // if pg_restore died half-way through a truncated file. COMMIT is sent only once pg_restore
    // has finished without error; otherwise psql's input ends inside the transaction and the
    // server rolls it back.
    let copied = (|| -> std::io::Result<()> {
        input.write_all(b"SET client_min_messages = warning;\nBEGIN;\n")?;
        input.write_all(WIPE.as_bytes())?;
        input.write_all(b"\n")?;
        std::io::copy(&mut sql, &mut input)?;
        Ok(())
    })();
    drop(sql);
    let producer_out = producer.wait_with_output()?;
    let produced = producer_out.status.success() && copied.is_ok();
    if produced {
        let _ = input.write_all(b"COMMIT;\n");
    }
    drop(input);
    let psql_out = consumer.wait_with_output()?;
    if !psql_out.status.success() {
        bail!(
            "Khôi phục thất bại, cơ sở dữ liệu không bị thay đổi: {}",
            String::from_utf8_lossy(&psql_out.stderr).trim()
        );
    }
    if !produced {
        bail!(
            "pg_restore thất bại, cơ sở dữ liệu không bị thay đổi: {}",
            String::from_utf8_lossy(&producer_out.stderr).trim()
        );
    }
    Ok(())
}

/// Drops every schema of the database but PostgreSQL's own, then gives back an empty `public`
/// (the dump does not create it). Runs in the same transaction as the replay.
const WIPE: &str = "DO $$ DECLARE s text; BEGIN \
    FOR s IN SELECT nspname FROM pg_namespace \
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP \
      EXECUTE format('DROP SCHEMA %I CASCADE', s); \
    END LOOP; \
    CREATE SCHEMA public; \
  END $$;";

/// Delete all but the newest `keep` backups `giupdo-*.dump` of `dir` (their names sort by date);
/// other files are left alone. Returns what was deleted.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut dumps: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("không đọc được thư mục {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("giupdo-") && n.ends_with(".dump"))
        })
        .collect();
    dumps.sort();
    let excess = dumps.len().saturating_sub(keep);
    let old: Vec<_> = dumps.into_iter().take(excess).collect();
    for p in &old {
        std::fs::remove_file(p).with_context(|| format!("không xoá được {}", p.display()))?;
    }
    Ok(old)
}

#[cfg(test)]
mod prune_tests {
    #[test]
    fn keeps_the_newest_dumps_and_nothing_else_is_touched() {
        let dir = std::env::temp_dir().join(format!("giupdo-prune-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "giupdo-20261101-020000.dump",
            "giupdo-20261102-020000.dump",
            "giupdo-20261103-020000.dump",
            "ghi-chu.txt",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let gone = super::prune(&dir, 2).unwrap();
        assert_eq!(gone, vec![dir.join("giupdo-20261101-020000.dump")]);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "ghi-chu.txt",
                "giupdo-20261102-020000.dump",
                "giupdo-20261103-020000.dump"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
