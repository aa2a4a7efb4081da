//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds `migrations/` at compile
//! time, and cargo does not watch that folder on its own (an incremental build would keep the old
//! migrations).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
