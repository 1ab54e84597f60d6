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

/// The lines of the files under `root` that contain any of `words`, comments set aside.
fn offenders_in(root: &Path, words: &[&str]) -> Vec<String> {
    let files = if root.is_dir() {
        sources(root)
    } else {
        vec![root.with_extension("rs")]
    };
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in words {
                if names(code, w) {
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

/// `code` contains `word`, not as the start of a longer name (`super::cli` is not `super::client_ip`).
fn names(code: &str, word: &str) -> bool {
    let ends_in_name = word.ends_with(|c: char| c.is_alphanumeric() || c == '_');
    code.match_indices(word).any(|(i, _)| {
        !ends_in_name
            || !code[i + word.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

const WEB: &[&str] = &["crate::web", "crate::{web", "super::web", "crate::server"];
const CLI: &[&str] = &["crate::cli", "super::cli", "crate::{cli"];
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
