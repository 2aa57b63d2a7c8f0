//! End-to-end tests: the real app under Xvfb, a real unlocked gnome-keyring, the HF test double.
//! Run by `make test` (which installs Xvfb, WebKitWebDriver, gnome-keyring and tauri-driver).

mod background;
mod billing;
mod chat_pictures;
mod compare;
mod crashloop;
mod embeddings;
mod history;
mod images;
mod instances;
mod links;
mod own_key;
mod playground;
mod providers;
mod signin;
mod speech;
mod token;
mod video;

/// The harness lives in the dev-only testkit crate (tests/testkit/src/desktop.rs); the tests
/// reach it as `crate::harness`. The app it launches is this crate's binary, built with the
/// `e2e-hooks` feature (`make test`), which the billing and history tests' file dialogs need.
mod harness {
    pub use switchboard_testkit::desktop::*;
}

/// The billing and history tests answer the app's file dialogs through
/// `SWITCHBOARD_E2E_DIALOG_FILE`, which only a build with the `e2e-hooks` feature reads: without
/// it they would wait on a real dialog. Say so plainly.
#[test]
fn the_app_under_test_is_built_with_the_e2e_hooks() {
    if !switchboard_lib::HOOKS {
        panic!("run the end-to-end tests with `--features switchboard/e2e-hooks` (as `make test` does)");
    }
}
