//! What Switchboard's tests and benchmarks share, kept out of the product crates: a
//! dev-dependency of the app crate only, never part of a release build.
//!
//! - [`desktop`]: the end-to-end harness: the real app binary in a real window under Xvfb, with
//!   a private D-Bus, an unlocked gnome-keyring and tauri-driver, driven over WebDriver
//!   (tests/e2e, benches/app.rs);
//! - [`procs`]: processes seen through `/proc`: parent links, a process and its descendants,
//!   stopping one by its PID, the memory of a process tree (benches/app.rs);
//! - [`sample`]: large, realistic, deterministic histories (benches/history.rs, benches/app.rs).

pub mod desktop;
pub mod procs;
pub mod sample;
