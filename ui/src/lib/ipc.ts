// Typed calls to the Rust side. Payload types are generated from the Rust types by ts-rs
// (src/bindings, written by `cargo test`); nothing here restates them.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { AppError } from "../bindings/AppError";
import type { AppInfo } from "../bindings/AppInfo";
import type { AuthStatus } from "../bindings/AuthStatus";
import type { Catalog } from "../bindings/Catalog";
import type { ChatEvent } from "../bindings/ChatEvent";
import type { ChatPreview } from "../bindings/ChatPreview";
import type { ChatRequest } from "../bindings/ChatRequest";
import type { CliTokenSource } from "../bindings/CliTokenSource";
import type { Link } from "../bindings/Link";
import type { PlaygroundPrefs } from "../bindings/PlaygroundPrefs";
import type { Settings } from "../bindings/Settings";
import type { Theme } from "../bindings/Theme";
import { toAppError } from "./errors";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  authStatus: () => call<AuthStatus>("auth_status"),
  signIn: (token: string, sessionOnly: boolean) =>
    call<AuthStatus>("sign_in", { token, sessionOnly }),
  signOut: () => call<AuthStatus>("sign_out"),
  refreshAccount: () => call<AuthStatus>("refresh_account"),
  cliTokenSource: () => call<CliTokenSource | null>("cli_token_source"),
  importCliToken: (sessionOnly: boolean) => call<AuthStatus>("import_cli_token", { sessionOnly }),
  getSettings: () => call<Settings>("get_settings"),
  setTheme: (theme: Theme) => call<Settings>("set_theme", { theme }),
  openExternal: (link: Link) => call<null>("open_external", { link }),
  catalogGet: () => call<Catalog>("catalog_get"),
  catalogRefresh: (force: boolean) => call<Catalog>("catalog_refresh", { force }),
  chatPreview: (request: ChatRequest) => call<ChatPreview>("chat_preview", { request }),
  /** Starts a streamed call; events arrive on `onEvent`, the call's id comes back at once. */
  chatStart: (request: ChatRequest, onEvent: (e: ChatEvent) => void) => {
    const channel = new Channel<ChatEvent>();
    channel.onmessage = onEvent;
    return call<number>("chat_start", { request, onEvent: channel });
  },
  chatStop: (id: number) => call<null>("chat_stop", { id }),
  getPlayground: () => call<PlaygroundPrefs>("get_playground"),
  setPlayground: (prefs: PlaygroundPrefs) => call<null>("set_playground", { prefs }),
};

export type { AppError };
