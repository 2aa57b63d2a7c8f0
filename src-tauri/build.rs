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
    "history_status",
    "history_list",
    "history_get",
    "history_search",
    "history_facets",
    "history_rename",
    "history_pin",
    "history_trash",
    "history_restore",
    "history_delete",
    "history_export",
    "history_export_all",
    "history_import",
    "providers_get",
    "provider_set",
    "provider_key_set",
    "provider_key_remove",
    "provider_key_test",
    "endpoint_add",
    "endpoint_remove",
    "endpoint_test",
    "billing_status",
    "billing_calls",
    "billing_totals",
    "billing_rates",
    "billing_averages",
    "credits_get",
    "credits_set",
    "billing_export_csv",
    "report_first_paint",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
