// Typed calls to the Rust side. The command list, every argument and every result are generated
// from the Rust declaration (src-tauri/surface.rs → src/bindings/commands.ts, with the types
// from ts-rs); nothing here restates them. `api` keeps the UI's call sites short.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { AppError } from "../bindings/AppError";
import type { Command, Commands } from "../bindings/commands";
import type { ListCursor } from "../bindings/ListCursor";
import { toAppError } from "./errors";

type Args<K extends Command> = Commands[K]["args"];
type Result<K extends Command> = Commands[K]["result"];

/** Calls `cmd` with its declared arguments (none for commands that take none). */
export async function call<K extends Command>(
  cmd: K,
  ...args: Args<K> extends null ? [] : [Args<K>]
): Promise<Result<K>> {
  try {
    return await invoke<Result<K>>(cmd, args.length ? { args: args[0] } : undefined);
  } catch (e) {
    throw toAppError(e);
  }
}

/** Calls a streaming command: its events arrive on `onEvent`. */
async function stream<K extends Command>(
  cmd: K,
  args: Args<K>,
  onEvent: (e: Commands[K]["channel"]) => void,
): Promise<Result<K>> {
  const channel = new Channel<Commands[K]["channel"]>();
  channel.onmessage = onEvent;
  try {
    return await invoke<Result<K>>(cmd, { args, onEvent: channel });
  } catch (e) {
    throw toAppError(e);
  }
}

export const api = {
  appInfo: () => call("app_info"),
  authStatus: () => call("auth_status"),
  signIn: (token: string, sessionOnly: boolean) => call("sign_in", { token, sessionOnly }),
  signOut: () => call("sign_out"),
  refreshAccount: () => call("refresh_account"),
  cliTokenSource: () => call("cli_token_source"),
  importCliToken: (sessionOnly: boolean) => call("import_cli_token", { sessionOnly }),
  getSettings: () => call("get_settings"),
  setTheme: (theme: Args<"set_theme">) => call("set_theme", theme),
  openExternal: (link: Args<"open_external">) => call("open_external", link),
  openUrl: (url: string) => call("open_url", { url }),
  catalogGet: () => call("catalog_get"),
  catalogRefresh: (force: boolean) => call("catalog_refresh", { force }),
  chatPreview: (request: Args<"chat_preview">) => call("chat_preview", request),
  /** Where a call would go and who would pay (decided in Rust from the provider settings). */
  chatRoute: (routing: Args<"chat_route">["routing"], billTo: string | null) =>
    call("chat_route", { routing, billTo }),
  /** Starts a streamed call; events arrive on `onEvent`; the call's id and the conversation it
   * is saved in come back at once. The call runs until it ends or `chatStop`, whichever screen
   * is shown meanwhile. */
  chatStart: (
    conversationId: string | null,
    request: Args<"chat_start">["request"],
    onEvent: (e: Commands["chat_start"]["channel"]) => void,
    /** A compare session's pane (the conversation is then saved as a compare session). */
    pane: number | null = null,
  ) => stream("chat_start", { conversationId, pane, request }, onEvent),
  chatStop: (id: number) => call("chat_stop", { id }),
  chatSaveRetry: (id: number) => call("chat_save_retry", { id }),
  /** A picture to attach, from the system's file dialog: checked and kept (null if cancelled). */
  chatAttachPick: () => call("chat_attach_pick"),
  /** A dropped or pasted picture (a data: URL) to attach: checked by its bytes and kept. */
  chatAttachData: (dataUrl: string) => call("chat_attach_data", { dataUrl }),
  imageCatalogGet: () => call("image_catalog_get"),
  imageCatalogRefresh: (force: boolean) => call("image_catalog_refresh", { force }),
  /** Where a generation would go and who would pay (decided in Rust, as for chat). */
  imageRoute: (routing: Args<"image_route">["routing"], billTo: string | null) =>
    call("image_route", { routing, billTo }),
  /** Starts a generation (saved before it is sent); progress arrives on `onEvent`. */
  imageGenerate: (request: Args<"image_generate">, onEvent: (e: Commands["image_generate"]["channel"]) => void) =>
    stream("image_generate", request, onEvent),
  imageCancel: (id: string) => call("image_cancel", { id }),
  /** The gallery: newest first, filtered by words of the prompt. */
  imageList: (text: string, limit = 200, media: "pictures" | "videos" = "pictures") =>
    call("image_list", { text, limit, offset: null, media }),
  /** A kept picture as a data: URL. */
  imageData: (file: string) => call("image_data", { file }),
  /** A source picture from the system's file dialog, as a data: URL (null if cancelled). */
  imagePickSource: () => call("image_pick_source"),
  /** Saves a kept picture through a save dialog; the path written, or null if cancelled. */
  imageSaveAs: (file: string) => call("image_save_as", { file }),
  imageOpen: (file: string) => call("image_open", { file }),
  imageCopy: (file: string) => call("image_copy", { file }),
  videoCatalogGet: (task: "text-to-video" | "image-to-video") => call("video_catalog_get", { task }),
  videoCatalogRefresh: (task: "text-to-video" | "image-to-video", force: boolean) =>
    call("video_catalog_refresh", { task, force }),
  videoRoute: (
    task: "text-to-video" | "image-to-video",
    routing: Args<"video_route">["routing"],
    billTo: string | null,
  ) => call("video_route", { task, routing, billTo }),
  /** Where an embeddings call would go and who would pay (decided in Rust). */
  embedRoute: (routing: Args<"embed_route">["routing"], billTo: string | null) =>
    call("embed_route", { routing, billTo }),
  /** Sentences to vectors; the run is kept and comes back with its similarity matrix. */
  embed: (request: Args<"embed">) => call("embed", request),
  /** The same sentences to two models at once: each run kept, and how they disagree (Rust). */
  embedPair: (request: Args<"embed_pair">) => call("embed_pair", request),
  /** Two kept runs of the same sentences compared (Rust). */
  embeddingCompare: (first: string, second: string) => call("embedding_compare", { first, second }),
  embeddingList: () => call("embedding_list"),
  /** Saves a run as CSV or JSON through a save dialog; the path written, or null. */
  embeddingExport: (id: string, format: Args<"embedding_export">["format"]) =>
    call("embedding_export", { id, format }),
  /** Where a speech call would go and who would pay (decided in Rust). */
  speechRoute: (kind: Args<"speech_route">["kind"], routing: Args<"speech_route">["routing"], billTo: string | null) =>
    call("speech_route", { kind, routing, billTo }),
  /** The providers the app can ask for a model and task, as the Hub's mapping lists them. */
  speechProviders: (kind: Args<"speech_providers">["kind"], model: string) => call("speech_providers", { kind, model }),
  /** The file dialog (in Rust) for an audio file, checked by its content and kept. */
  speechPickAudio: () => call("speech_pick_audio"),
  speechPutAudio: (name: string | null, data: string) => call("speech_put_audio", { name, data }),
  /** A kept audio file as a data: URL. */
  speechAudio: (file: string) => call("speech_audio", { file }),
  speechTranscribe: (request: Args<"speech_transcribe">) => call("speech_transcribe", request),
  speechSynthesize: (request: Args<"speech_synthesize">) => call("speech_synthesize", request),
  speechList: () => call("speech_list"),
  /** Saves a run as text, JSON or its audio where the user chooses; the path, or null. */
  speechExport: (id: string, format: Args<"speech_export">["format"]) => call("speech_export", { id, format }),
  /** Forgets a kept run (and its audio when no other run names it). */
  speechDelete: (id: string) => call("speech_delete", { id }),
  getPlayground: () => call("get_playground"),
  setPlayground: (prefs: Args<"set_playground">) => call("set_playground", prefs),
  historyStatus: () => call("history_status"),
  /** A page of the list (or the trash) after `after`, at most `limit` rows (null: all). */
  historyList: (trash: boolean, after: ListCursor | null = null, limit: number | null = null) =>
    call("history_list", { trash, after, limit }),
  historyGet: (id: string) => call("history_get", { id }),
  historySearch: (query: Args<"history_search">) => call("history_search", query),
  historyFacets: () => call("history_facets"),
  historyRename: (id: string, title: string) => call("history_rename", { id, title }),
  historyPin: (id: string, pinned: boolean) => call("history_pin", { id, pinned }),
  historyTrash: (id: string) => call("history_trash", { id }),
  historyRestore: (id: string) => call("history_restore", { id }),
  historyDelete: (id: string) => call("history_delete", { id }),
  /** Exports one conversation through a save dialog; the path written, or null if cancelled. */
  historyExport: (id: string, format: Args<"history_export">["format"]) =>
    call("history_export", { id, format }),
  historyExportAll: () => call("history_export_all"),
  historyImport: () => call("history_import"),
  /** `withKeys: false` skips the keyring reads (only the choices are needed). */
  providersGet: (withKeys = true) => call("providers_get", { withKeys }),
  providerSet: (name: string, enabled: boolean, mode: Args<"provider_set">["mode"]) =>
    call("provider_set", { name, enabled, mode }),
  /** Saves a provider's own key (trimmed and checked on the Rust side); it never comes back. */
  providerKeySet: (name: string, key: string) => call("provider_key_set", { name, key }),
  providerKeyRemove: (name: string) => call("provider_key_remove", { name }),
  providerKeyTest: (name: string) => call("provider_key_test", { name }),
  /** `allowPlainHttp`: the user chose to send to a plain-http public address unencrypted. */
  endpointAdd: (name: string, baseUrl: string, key: string | null, allowPlainHttp = false) =>
    call("endpoint_add", { name, baseUrl, key, allowPlainHttp }),
  endpointRemove: (id: string) => call("endpoint_remove", { id }),
  /** Lists the endpoint's models and remembers them for the model picker. */
  endpointTest: (id: string) => call("endpoint_test", { id }),
  /** The credits meter: spent this month, included, remaining, reset date, budget. */
  billingStatus: () => call("billing_status"),
  /** A page of the call ledger, with the count and cost of every matching call. */
  billingCalls: (query: Args<"billing_calls">) => call("billing_calls", query),
  /** Sums over [from, to) (Unix ms, null = open), by UTC month or day, day and provider, model or provider. */
  billingTotals: (group: Args<"billing_totals">["group"], from: number | null, to: number | null) =>
    call("billing_totals", { group, from, to }),
  billingRates: () => call("billing_rates"),
  /** Average tokens in and out over the last 50 answers; null without history. */
  billingAverages: () => call("billing_averages"),
  creditsGet: () => call("credits_get"),
  /** Saves the user's corrections (checked on the Rust side) and returns the meter. */
  creditsSet: (settings: Args<"credits_set">) => call("credits_set", settings),
  /** Writes every call matching `query` as CSV through a save dialog; the path, or null if cancelled. */
  billingExportCsv: (query: Args<"billing_export_csv">) => call("billing_export_csv", query),
  /** The account's usage this period from Hugging Face (or the last known figures and why); throws billing_forbidden when the token may not read billing. */
  billingUsage: () => call("billing_usage"),
  /** Asks Hugging Face what it billed recent conversations (at most once a minute). */
  billingReconcile: () => call("billing_reconcile"),
  /** A conversation's estimate beside what Hugging Face billed for it (read from the history, never asks Hugging Face). */
  conversationCost: (conversationId: string) => call("conversation_cost", { conversationId }),
  /** Per provider, the estimate beside Hugging Face's bill over the conversations it billed in full. */
  billingAccuracy: () => call("billing_accuracy"),
};

export type { AppError };
