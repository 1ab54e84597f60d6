//! `sqlx::migrate!` embeds `migrations/` at compile time; without this, adding a migration and
//! changing no Rust file left the old set in the binary (a bench ran without migration 0038).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
