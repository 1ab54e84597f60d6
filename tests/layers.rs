//! The layers' arrows point down only: domain ← db ← (import, report) ← web ← cli/server.
//! A module that names a layer above it fails this test, with the file and line to fix.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The lines of the files under `src/<dir>` (or `src/<dir>.rs`) that contain any of `words`.
fn offenders(dir: &str, words: &[&str]) -> Vec<String> {
    offenders_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir),
        words,
    )
}

/// The lines of the files under `root` that contain any of `words`, comments set aside and
/// grouped paths spelled out (`use crate::{db, web::X}` names `crate::db` and `crate::web`).
fn offenders_in(root: &Path, words: &[&str]) -> Vec<String> {
    let files = if root.is_dir() {
        sources(root)
    } else {
        vec![root.with_extension("rs")]
    };
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        for (n, line) in spelled_out(&text).iter().enumerate() {
            for w in words {
                if names(line, w) {
                    out.push(format!(
                        "{}:{}: names `{w}`: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    out
}

/// The file's lines without comments, each `crate::{a, b::c}` / `super::{…}` group (across lines,
/// nested) written out as `crate::a crate::b::c` on the line where it starts; a line the group
/// spanned is left empty, so line numbers stay those of the file.
fn spelled_out(text: &str) -> Vec<String> {
    let code: Vec<&str> = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect();
    let joined = code.join("\n");
    let mut out = String::with_capacity(joined.len());
    let mut rest = joined.as_str();
    while let Some(at) = ["crate::{", "super::{"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, *p)))
        .min()
    {
        let (i, prefix) = at;
        out.push_str(&rest[..i]);
        let inner_start = i + prefix.len();
        let mut depth = 1;
        let mut end = inner_start;
        for (j, c) in rest[inner_start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = inner_start + j;
                break;
            }
        }
        if depth != 0 {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        }
        let root = &prefix[..prefix.len() - 1];
        let inner = &rest[inner_start..end];
        let items = expand(root, inner);
        out.push_str(&items.join(" "));
        out.push_str(&"\n".repeat(inner.matches('\n').count()));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.split('\n').map(str::to_string).collect()
}

/// `a, b::{c, d}, e as f` under `root` → `root::a`, `root::b::c`, `root::b::d`, `root::e`.
fn expand(root: &str, inner: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let flat: String = inner
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let mut parts = Vec::new();
    for (j, c) in flat.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&flat[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&flat[start..]);
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let path = part.split(" as ").next().unwrap_or(part).trim();
        match path.find("::{") {
            Some(k) if path.ends_with('}') => {
                let sub = format!("{root}{}::", &path[..k]);
                items.extend(expand(&sub, &path[k + 3..path.len() - 1]));
            }
            _ => items.push(format!("{root}{path}")),
        }
    }
    items
}

/// `code` contains `word`, not as the start of a longer name (`super::cli` is not `super::client_ip`).
fn names(code: &str, word: &str) -> bool {
    let ends_in_name = word.ends_with(|c: char| c.is_alphanumeric() || c == '_');
    code.match_indices(word).any(|(i, _)| {
        !ends_in_name
            || !code[i + word.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

const WEB: &[&str] = &["crate::web", "super::web", "crate::server", "giupdo::web"];
const CLI: &[&str] = &["crate::cli", "super::cli", "giupdo::cli"];
const UPPER_MIDDLE: &[&str] = &["crate::import", "crate::report"];
const HTTP: &[&str] = &["axum::", "tower_sessions", "tower_http"];
const SQL: &[&str] = &[
    "sqlx::query",
    "query_as(",
    "query_scalar(",
    "query_as::<",
    "query_scalar::<",
    "QueryBuilder",
];

fn assert_none(what: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn the_domain_names_no_other_layer_and_reads_no_environment() {
    let words: Vec<&str> = [WEB, CLI, UPPER_MIDDLE, HTTP, SQL]
        .concat()
        .into_iter()
        .chain(["crate::db", "sqlx::", "std::env::var", "env::var("])
        .collect();
    assert_none(
        "domain/ must stay below everything",
        offenders("domain", &words),
    );
}

#[test]
fn the_database_layer_names_nothing_above_it() {
    let words = [WEB, CLI, UPPER_MIDDLE, HTTP].concat();
    assert_none(
        "db/ must not name import, report, web or cli",
        offenders("db", &words),
    );
}

#[test]
fn imports_and_reports_name_neither_web_nor_cli() {
    let words = [WEB, CLI, HTTP].concat();
    for dir in ["import", "report", "photo"] {
        assert_none(
            &format!("{dir}/ must not name web or cli"),
            offenders(dir, &words),
        );
    }
}

#[test]
fn the_web_layer_holds_no_sql_and_does_not_call_the_command_line() {
    let words = [CLI, SQL].concat();
    assert_none(
        "web/ must leave SQL to db/ and not name cli",
        offenders("web", &words),
    );
}

/// Issue #29: a handler never opens a transaction or holds a connection; each write is one
/// `db::` function that opens its own (committed when it succeeds, rolled back when not).
#[test]
fn the_web_layer_opens_no_transaction() {
    let words = [
        "db.begin(",
        "db.acquire(",
        "pool.begin(",
        "pool.acquire(",
        ".begin().await",
        "Transaction<",
        "PgConnection",
        ".commit()",
    ];
    assert_none(
        "web/ must leave transactions to db/",
        offenders("web", &words),
    );
}

/// The machinery under the app (the private cluster, backups) and the benchmarks' HA tooling name
/// neither the web nor the command line, and never build SQL with `format!`.
#[test]
fn the_cluster_backups_and_ha_tooling_name_no_upper_layer() {
    let words = [
        WEB,
        CLI,
        UPPER_MIDDLE,
        HTTP,
        &[
            "query(&format!",
            "query_scalar(&format!",
            "query_as(&format!",
        ],
    ]
    .concat();
    for file in ["pgcluster", "backup", "pitr"] {
        assert_none(
            &format!("{file}.rs must stay below web and cli"),
            offenders(file, &words),
        );
    }
    assert_none(
        "pgcluster.rs and backup.rs leave SQL to db/",
        [offenders("pgcluster", SQL), offenders("backup", SQL)].concat(),
    );
    let ha = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/src/ha");
    assert!(
        ha.is_dir(),
        "{} is where the HA tooling lives",
        ha.display()
    );
    assert_none(
        "bench/src/ha must stay beside the app",
        offenders_in(&ha, &words),
    );
}

#[test]
fn the_command_line_and_server_hold_no_sql() {
    for dir in ["cli", "server"] {
        assert_none(&format!("{dir} must leave SQL to db/"), offenders(dir, SQL));
    }
}

/// Issue #17: statements are literal (checked by the query macros) or built with `QueryBuilder`;
/// SQL text is never put together with `format!` or patched with `replacen`.
#[test]
fn sql_text_is_never_formatted() {
    let words = [
        "query(&format!",
        "query_as(&format!",
        "query_scalar(&format!",
        "sql = format!(",
        "replacen(",
    ];
    for dir in ["db", "report", "import", "demo"] {
        assert_none(
            &format!("{dir}/ must not build SQL with format!"),
            offenders(dir, &words),
        );
    }
}

/// The check itself finds what it is meant to find (a file naming `crate::web` in a lower layer).
#[test]
fn the_check_catches_a_lower_layer_naming_web() {
    let dir = std::env::temp_dir().join(format!("giupdo-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("x.rs");
    std::fs::write(
        &file,
        "use crate::web::AppState;\n// crate::cli in a comment\n",
    )
    .expect("write");
    let found = offenders_in(&dir, &[WEB, CLI].concat());
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("x.rs:1: names `crate::web`: use crate::web::AppState;"));
}

/// Grouped and nested `use` forms are caught too, on the line where the group starts.
#[test]
fn the_check_catches_grouped_uses() {
    let dir = std::env::temp_dir().join(format!("giupdo-layers-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("x.rs"),
        "use crate::{db, domain::{roles, text}};\nuse crate::{\n    db::audit,\n    web::{self, AppState},\n};\nuse super::{cli as c};\nfn f() {}\n",
    )
    .expect("write");
    let found = offenders_in(&dir, &[WEB, CLI].concat());
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("x.rs:2: names `crate::web`: use crate::db::audit crate::web::self"),
        "{found:?}"
    );
    assert!(found[1].contains("x.rs:6: names `super::cli`"), "{found:?}");
}

/// The lines under `root` (but not under `skip`) that decide a duplicate level.
fn levels_decided(root: &Path, skip: &Path) -> Vec<String> {
    let deciding = [
        "level: Level::",
        "=> Level::",
        "Some(Level::",
        "Some((Level::",
        "(Level::Certain,",
        "(Level::Probable,",
        "(Level::Possible,",
        "similarity >=",
        "sim >=",
        "abs(h.birth_year",
    ];
    let mut found = Vec::new();
    for file in sources(root) {
        if file.starts_with(skip) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            // Comparing what the classifier said is reading a level, not deciding one.
            let reading = code.contains("== Some(Level::") || code.contains("!= Some(Level::");
            for w in deciding {
                if code.contains(w) && !reading {
                    found.push(format!(
                        "{}:{}: `{w}`: {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

/// Issue #25: one classifier. Only `domain::duplicates` decides how sure a duplicate is: any other
/// module may compare a level it was given, never produce one, and none compares a name
/// similarity or a birth-year gap to decide one.
#[test]
fn only_the_classifier_decides_a_duplicate_level() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = levels_decided(&root, &root.join("domain").join("duplicates"));
    assert_none(
        "a duplicate level decided outside domain::duplicates",
        found,
    );
}

#[test]
fn the_classifier_check_catches_a_level_decided_elsewhere() {
    let dir = std::env::temp_dir().join(format!("giupdo-layers-level-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("import")).unwrap();
    std::fs::write(
        dir.join("import").join("x.rs"),
        "fn f(sim: f32) -> Option<Level> { if sim >= 0.55 { Some(Level::Probable) } else { None } }\n",
    )
    .unwrap();
    let found = levels_decided(&dir, &dir.join("domain"));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 2, "{found:?}");
}
