//! End-to-end tests: the real app under Xvfb, a real unlocked gnome-keyring, the HF test double.
//! Run by `make test` (which installs Xvfb, WebKitWebDriver, gnome-keyring and tauri-driver).

mod background;
mod billing;
mod compare;
mod harness;
mod history;
mod playground;
mod providers;
mod signin;
