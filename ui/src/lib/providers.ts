import type { Task } from "../bindings/Task";
// Pure helpers for the Providers page: initials and colours for the provider badges, masked
// keys, mode choices, model-count and model-list summaries, and key-specific error wording.
import type { AppError } from "../bindings/AppError";
import type { KeyInfo } from "../bindings/KeyInfo";
import type { ProviderMode } from "../bindings/ProviderMode";
import type { ProviderRow } from "../bindings/ProviderRow";

/** How a key or endpoint test (or save) went, as a row shows it (a UI type: the binding `Outcome`
 * is how a call ended). */
export type TestOutcome = { ok: true; message: string } | { ok: false; error: AppError };

/** How many badge colours there are (`hue-0` … `hue-7` in ProvidersView). */
export const PALETTE_SIZE = 8;

/** The badge letter: the first letter or digit of the name, upper-cased; "?" if there is none. */
export function providerInitial(name: string): string {
  const m = name.match(/[\p{L}\p{N}]/u);
  return m ? m[0].toLocaleUpperCase() : "?";
}

/** A stable palette slot for a name (FNV-1a), so a provider keeps its colour across runs. */
export function paletteIndex(name: string, size: number = PALETTE_SIZE): number {
  if (size <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % size;
}

/** "••••abcd": the only part of a secret the UI ever shows. */
export function maskKey(last4: string): string {
  return `••••${last4}`;
}

/** "Key set, ends in ••••abcd", plus "(this session only)" when it isn't in the keyring. */
export function keyStatusText(key: KeyInfo): string {
  const base = `Key set, ends in ${maskKey(key.last4)}`;
  return key.storage === "session" ? `${base} (this session only)` : base;
}

export interface ModeOption {
  value: ProviderMode;
  label: string;
}

export const MODE_LABELS: Record<ProviderMode, string> = {
  routed: "Through Hugging Face",
  own_key: "My own key",
};

/** The ways this provider can be called, in display order. */
export function modeOptions(row: Pick<ProviderRow, "routedPossible" | "ownKeyPossible">): ModeOption[] {
  const out: ModeOption[] = [];
  if (row.routedPossible) out.push({ value: "routed", label: MODE_LABELS.routed });
  if (row.ownKeyPossible) out.push({ value: "own_key", label: MODE_LABELS.own_key });
  return out;
}

/** What a provider without chat serves, in words: "pictures, video and speech". */
export function tasksText(tasks: readonly Task[]): string {
  const words: string[] = [];
  const add = (w: string) => {
    if (!words.includes(w)) words.push(w);
  };
  for (const t of tasks) {
    if (t === "text-to-image") add("pictures");
    else if (t === "text-to-video" || t === "image-to-video") add("video");
    else if (t === "speech-to-text" || t === "text-to-speech") add("speech");
    else if (t === "feature-extraction") add("embeddings");
  }
  if (words.length === 0) return "other tasks";
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/** Why only one way is offered (or what the choice applies to), or null when both are. */
export function modeNote(
  row: Pick<ProviderRow, "routedPossible" | "ownKeyPossible"> & Partial<Pick<ProviderRow, "supportsChat" | "tasks">>,
): string | null {
  if (row.supportsChat === false) return `For ${tasksText(row.tasks ?? ["text-to-image"])} (no chat here)`;
  if (!row.routedPossible && row.ownKeyPossible) return "Not served by Hugging Face’s router";
  if (row.routedPossible && !row.ownKeyPossible) return "Only through Hugging Face";
  return null;
}

/** Whether the key controls belong under the row: own-key mode, or a key is already saved. */
export function showsKeyPanel(row: Pick<ProviderRow, "mode" | "ownKeyPossible" | "key">): boolean {
  return (row.mode === "own_key" && row.ownKeyPossible) || row.key !== null;
}

/** "1 model", "3 models"; before any test an empty list reads "not tested yet". */
export function modelCountLabel(count: number, tested = false): string {
  if (count === 0 && !tested) return "not tested yet";
  return count === 1 ? "1 model" : `${count} models`;
}

export interface ModelSummary {
  shown: string[];
  /** How many are left out. */
  more: number;
}

/** The first `limit` models and how many more there are. */
export function summarizeModels(models: readonly string[], limit = 10): ModelSummary {
  const n = Math.max(0, Math.floor(limit));
  return { shown: models.slice(0, n), more: Math.max(0, models.length - n) };
}

/** "a, b, c and 4 more" in words, e.g. for a tooltip or a screen reader. */
export function modelSummaryText(models: readonly string[], limit = 10): string {
  const { shown, more } = summarizeModels(models, limit);
  if (shown.length === 0) return "no models";
  const list = shown.join(", ");
  return more > 0 ? `${list} and ${more} more` : list;
}

export interface KeyErrorText {
  title: string;
  hint: string;
}

/**
 * Wording for errors about a provider's or endpoint's own key. The app-wide texts for these codes
 * speak of Hugging Face tokens, which would mislead here; other codes return null (use the
 * app-wide text). `hasKey` false: the call was made without any key (an endpoint added without
 * one).
 */
export function keyErrorText(error: AppError, who: string, hasKey = true): KeyErrorText | null {
  switch (error.code) {
    case "token_empty":
      return { title: "Paste the key first", hint: `Copy the API key from ${who} and paste it here.` };
    case "token_malformed":
      return { title: "That key can’t be used", hint: error.message || "Copy the key again, in one piece." };
    case "unauthorized":
    case "forbidden":
      if (!hasKey) {
        return {
          title: `${who} wants a key`,
          hint: "It refused a call without a key. Remove this endpoint and add it again with its key.",
        };
      }
      return error.code === "unauthorized"
        ? {
            title: `${who} didn’t accept this key`,
            hint: "It may be mistyped, revoked or expired. Check it, or create a new one, and save it again.",
          }
        : {
            title: `${who} refused this key`,
            hint: "The key lacks a permission, or the account isn’t enabled for this API. Check the key’s settings there.",
          };
    default:
      return null;
  }
}
