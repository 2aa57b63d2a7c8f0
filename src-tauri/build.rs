//! Build script: Tauri's context generation, plus one permission per app command so that
//! `capabilities/` can grant the window exactly the commands it uses and nothing else.

const COMMANDS: &[&str] = &[
    "app_info",
    "auth_status",
    "sign_in",
    "sign_out",
    "refresh_account",
    "cli_token_source",
    "import_cli_token",
    "get_settings",
    "set_theme",
    "open_external",
    "catalog_get",
    "catalog_refresh",
    "chat_preview",
    "chat_start",
    "chat_stop",
    "get_playground",
    "set_playground",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
