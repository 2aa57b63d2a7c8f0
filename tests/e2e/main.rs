//! End-to-end tests: the real app under Xvfb, a real unlocked gnome-keyring, the HF test double.
//! Run by `make test` (which installs Xvfb, WebKitWebDriver, gnome-keyring and tauri-driver).

mod background;
mod billing;
mod compare;
mod history;
mod playground;
mod providers;
mod signin;

/// The harness lives in the dev-only testkit crate (tests/testkit/src/desktop.rs); the tests
/// reach it as `crate::harness`. The app it launches is this crate's binary.
mod harness {
    pub use switchboard_testkit::desktop::*;
}
