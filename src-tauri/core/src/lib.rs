//! Switchboard's core: the whole domain, with no Tauri in it, so every part of it is tested
//! without a window, WebKitGTK or wry (`cargo test -p switchboard-core`).
//!
//! Layers, lowest first (a module only imports from layers below it):
//! - [`error`], [`config`], [`secrets`], [`settings`] (the `Store` trait), [`links`];
//! - [`hf`] (the one HTTP client, the Hub's endpoints), [`call`] (the data of a call: request,
//!   result, where it goes and who pays);
//! - [`catalog`], [`providers`], [`billing`], [`history`] (SQLite store, search, export, ledger);
//! - [`chat`] (request building, the SSE relay), [`images`] (image providers' request shapes and
//!   job protocols), [`routing`], [`auth`];
//! - [`service`]: runs a call end to end (resolve, save, stream, record, mark used up), and the
//!   state the app keeps. The app crate's commands forward to it.

pub mod auth;
pub mod billing;
pub mod call;
pub mod catalog;
pub mod chat;
pub mod config;
pub mod embeddings;
pub mod error;
pub mod hf;
pub mod history;
pub mod image_catalog;
pub mod images;
pub mod links;
pub mod providers;
pub mod routing;
pub mod secrets;
pub mod service;
pub mod settings;
pub mod speech;
