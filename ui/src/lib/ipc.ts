// Typed calls to the Rust side. Payload types are generated from the Rust types by ts-rs
// (src/bindings, written by `cargo test`); nothing here restates them.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { AppError } from "../bindings/AppError";
import type { AppInfo } from "../bindings/AppInfo";
import type { AuthStatus } from "../bindings/AuthStatus";
import type { CallPage } from "../bindings/CallPage";
import type { CallQuery } from "../bindings/CallQuery";
import type { CreditSettings } from "../bindings/CreditSettings";
import type { CreditStatus } from "../bindings/CreditStatus";
import type { RateInfo } from "../bindings/RateInfo";
import type { Totals } from "../bindings/Totals";
import type { Catalog } from "../bindings/Catalog";
import type { ChatEvent } from "../bindings/ChatEvent";
import type { ChatPreview } from "../bindings/ChatPreview";
import type { ChatRequest } from "../bindings/ChatRequest";
import type { ChatStarted } from "../bindings/ChatStarted";
import type { CliTokenSource } from "../bindings/CliTokenSource";
import type { Conversation } from "../bindings/Conversation";
import type { ConversationSummary } from "../bindings/ConversationSummary";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { HistoryFacets } from "../bindings/HistoryFacets";
import type { HistoryStatus } from "../bindings/HistoryStatus";
import type { ImportReport } from "../bindings/ImportReport";
import type { SearchHit } from "../bindings/SearchHit";
import type { SearchQuery } from "../bindings/SearchQuery";
import type { Link } from "../bindings/Link";
import type { PlaygroundPrefs } from "../bindings/PlaygroundPrefs";
import type { ProviderMode } from "../bindings/ProviderMode";
import type { ProviderSettings } from "../bindings/ProviderSettings";
import type { Settings } from "../bindings/Settings";
import type { TestResult } from "../bindings/TestResult";
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
  /** Starts a streamed call; events arrive on `onEvent`; the call's id and the conversation it
   * is saved in come back at once. */
  chatStart: (
    conversationId: string | null,
    request: ChatRequest,
    onEvent: (e: ChatEvent) => void,
    /** A compare session's pane (the conversation is then saved as a compare session). */
    pane: number | null = null,
  ) => {
    const channel = new Channel<ChatEvent>();
    channel.onmessage = onEvent;
    return call<ChatStarted>("chat_start", { conversationId, pane, request, onEvent: channel });
  },
  chatStop: (id: number) => call<null>("chat_stop", { id }),
  getPlayground: () => call<PlaygroundPrefs>("get_playground"),
  setPlayground: (prefs: PlaygroundPrefs) => call<null>("set_playground", { prefs }),
  historyStatus: () => call<HistoryStatus>("history_status"),
  historyList: (trash: boolean) => call<ConversationSummary[]>("history_list", { trash }),
  historyGet: (id: string) => call<Conversation>("history_get", { id }),
  historySearch: (query: SearchQuery) => call<SearchHit[]>("history_search", { query }),
  historyFacets: () => call<HistoryFacets>("history_facets"),
  historyRename: (id: string, title: string) => call<null>("history_rename", { id, title }),
  historyPin: (id: string, pinned: boolean) => call<null>("history_pin", { id, pinned }),
  historyTrash: (id: string) => call<null>("history_trash", { id }),
  historyRestore: (id: string) => call<null>("history_restore", { id }),
  historyDelete: (id: string) => call<null>("history_delete", { id }),
  /** Exports one conversation through a save dialog; the path written, or null if cancelled. */
  historyExport: (id: string, format: ExportFormat) => call<string | null>("history_export", { id, format }),
  historyExportAll: () => call<string | null>("history_export_all"),
  historyImport: () => call<ImportReport | null>("history_import"),
  /** `withKeys: false` skips the keyring reads (only the choices are needed). */
  providersGet: (withKeys = true) => call<ProviderSettings>("providers_get", { withKeys }),
  providerSet: (name: string, enabled: boolean, mode: ProviderMode) =>
    call<ProviderSettings>("provider_set", { name, enabled, mode }),
  /** Saves a provider's own key (trimmed and checked on the Rust side); it never comes back. */
  providerKeySet: (name: string, key: string) => call<ProviderSettings>("provider_key_set", { name, key }),
  providerKeyRemove: (name: string) => call<ProviderSettings>("provider_key_remove", { name }),
  providerKeyTest: (name: string) => call<TestResult>("provider_key_test", { name }),
  endpointAdd: (name: string, baseUrl: string, key: string | null) =>
    call<ProviderSettings>("endpoint_add", { name, baseUrl, key }),
  endpointRemove: (id: string) => call<ProviderSettings>("endpoint_remove", { id }),
  /** Lists the endpoint's models and remembers them for the model picker. */
  endpointTest: (id: string) => call<TestResult>("endpoint_test", { id }),
  /** The credits meter: spent this month, included, remaining, reset date, budget. */
  billingStatus: () => call<CreditStatus>("billing_status"),
  /** A page of the call ledger, with the count and cost of every matching call. */
  billingCalls: (query: CallQuery) => call<CallPage>("billing_calls", { query }),
  /** Sums over [from, to) (Unix ms, null = open), by UTC month or day, day and provider, model or provider. */
  billingTotals: (group: "month" | "day" | "day_provider" | "model" | "provider", from: number | null, to: number | null) =>
    call<Totals[]>("billing_totals", { group, from, to }),
  billingRates: () => call<RateInfo>("billing_rates"),
  /** Average tokens in and out over the last 50 answers; null without history. */
  billingAverages: () => call<[number, number] | null>("billing_averages"),
  creditsGet: () => call<CreditSettings>("credits_get"),
  /** Saves the user's corrections (checked on the Rust side) and returns the meter. */
  creditsSet: (settings: CreditSettings) => call<CreditStatus>("credits_set", { settings }),
  /** Writes every call matching `query` as CSV through a save dialog; the path, or null if cancelled. */
  billingExportCsv: (query: CallQuery) => call<string | null>("billing_export_csv", { query }),
};

export type { AppError };
