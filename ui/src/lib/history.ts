// Pure logic behind the history sidebar (components/HistorySidebar.svelte): grouping the
// conversation list by day for a virtual list, splitting search snippets into highlighted parts
// (rendered as <mark> elements, never as HTML), and short relative times. No DOM here; tested in
// history.test.ts.
import type { ConversationSummary } from "../bindings/ConversationSummary";
import type { ImportReport } from "../bindings/ImportReport";
import type { Role } from "../bindings/Role";
import { moveActive } from "./catalog";

// ---------------------------------------------------------------------------------------------
// Grouping

/** One row of the sidebar's virtual list: a group header or a conversation. */
export type Row = { kind: "header"; label: string } | { kind: "item"; item: ConversationSummary };

export const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
] as const;

const MONTHS_SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;
const WEEKDAYS_SHORT = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** Local midnight `days` days after (or before, when negative) the day of `d`. DST-safe. */
function dayStart(d: Date, days = 0): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + days).getTime();
}

/**
 * The rows of the conversation list: pinned conversations first under "Pinned", then "Today",
 * "Yesterday", "Previous 7 days", "Previous 30 days", then one group per month for the last 12
 * calendar months ("October 2026"), then one group per year ("2024"). Days are local calendar
 * days; the date used is `updatedAt` (Unix ms); times in the future count as today. Empty groups
 * have no header. Within a group, items keep the order given (the backend sends pinned first,
 * then newest first). Linear in the number of items (10,000 take a few ms).
 */
export function groupByDay(items: readonly ConversationSummary[], now: Date): Row[] {
  const today = dayStart(now);
  const yesterday = dayStart(now, -1);
  const week = dayStart(now, -7);
  const month = dayStart(now, -30);
  // The first day of the oldest month that still gets its own group (12 months including this one).
  const monthsFrom = new Date(now.getFullYear(), now.getMonth() - 11, 1).getTime();

  const pinned: ConversationSummary[] = [];
  const recent: ConversationSummary[][] = [[], [], [], []];
  const months = new Map<number, ConversationSummary[]>();
  const years = new Map<number, ConversationSummary[]>();

  // Items are usually sorted, so consecutive old items share a month or year: remember the
  // current one's bounds [lo, hi) and only build Dates when leaving them.
  let lo = Infinity;
  let hi = -Infinity;
  let bucket: ConversationSummary[] = [];

  for (const item of items) {
    if (item.pinned) {
      pinned.push(item);
      continue;
    }
    const t = Number(item.updatedAt);
    if (t >= today) recent[0]!.push(item);
    else if (t >= yesterday) recent[1]!.push(item);
    else if (t >= week) recent[2]!.push(item);
    else if (t >= month) recent[3]!.push(item);
    else {
      if (!(t >= lo && t < hi)) {
        const d = new Date(t);
        const y = d.getFullYear();
        let map: Map<number, ConversationSummary[]>;
        let key: number;
        if (t >= monthsFrom) {
          const m = d.getMonth();
          lo = new Date(y, m, 1).getTime();
          hi = new Date(y, m + 1, 1).getTime();
          map = months;
          key = y * 12 + m;
        } else {
          lo = new Date(y, 0, 1).getTime();
          hi = Math.min(new Date(y + 1, 0, 1).getTime(), monthsFrom);
          map = years;
          key = y;
        }
        let group = map.get(key);
        if (!group) map.set(key, (group = []));
        bucket = group;
      }
      bucket.push(item);
    }
  }

  const rows: Row[] = [];
  const add = (label: string, group: readonly ConversationSummary[]) => {
    if (group.length === 0) return;
    rows.push({ kind: "header", label });
    for (const item of group) rows.push({ kind: "item", item });
  };
  add("Pinned", pinned);
  add("Today", recent[0]!);
  add("Yesterday", recent[1]!);
  add("Previous 7 days", recent[2]!);
  add("Previous 30 days", recent[3]!);
  const desc = (a: number, b: number) => b - a;
  for (const key of [...months.keys()].sort(desc)) add(`${MONTHS[key % 12]} ${Math.floor(key / 12)}`, months.get(key)!);
  for (const key of [...years.keys()].filter((k) => !Number.isNaN(k)).sort(desc)) add(String(key), years.get(key)!);
  // A malformed timestamp lands in the year NaN: show those last rather than lose them.
  const invalid = years.get(NaN);
  if (invalid) add("Older", invalid);
  return rows;
}

/** The rows of a list without groups (the trash). */
export function flatRows(items: readonly ConversationSummary[]): Row[] {
  return items.map((item) => ({ kind: "item", item }));
}

// ---------------------------------------------------------------------------------------------
// Search snippets

/** Marks the start of a match in a search snippet (from the backend). */
export const MARK_START = "\uE000";
/** Marks the end of a match in a search snippet. */
export const MARK_END = "\uE001";

export interface SnippetPart {
  text: string;
  /** Part of a match: render as <mark>. */
  mark: boolean;
}

/**
 * Splits a snippet into plain and matched parts, removing the markers. Robust to unbalanced
 * markers: a start inside a match and an end outside one are ignored; a match left open runs to
 * the end. Adjacent parts of the same kind are merged and empty parts dropped.
 */
export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let start = 0;
  const flush = (end: number) => {
    if (end <= start) return;
    const text = snippet.slice(start, end);
    const last = parts[parts.length - 1];
    if (last && last.mark === mark) last.text += text;
    else parts.push({ text, mark });
  };
  for (let i = 0; i < snippet.length; i++) {
    const c = snippet[i];
    if (c !== MARK_START && c !== MARK_END) continue;
    flush(i);
    start = i + 1;
    if (c === MARK_START) mark = true;
    else mark = false;
  }
  flush(snippet.length);
  return parts;
}

/**
 * Starts a snippet shortly before its first match: the sidebar clamps snippets to two lines,
 * and a match further on would be cut off. At most about `before` characters of context are
 * kept before the match, from a word boundary, after an ellipsis.
 */
export function centreSnippet(snippet: string, before = 30): string {
  const at = snippet.indexOf(MARK_START);
  if (at <= before) return snippet;
  let from = at - before;
  // Start on a word: skip the rest of the word cut in two.
  const space = snippet.slice(from, at).search(/\s/);
  if (space >= 0) from += space + 1;
  return "…" + snippet.slice(from).replace(/^\s+/, "");
}

/** A snippet as plain text, markers removed. */
export function snippetText(snippet: string): string {
  return snippet.replace(/[\uE000\uE001]/g, "");
}

// ---------------------------------------------------------------------------------------------
// Labels

/**
 * A short time for a list: "just now", "5 min", "3 h" (under a day), the weekday ("Mon") within
 * the last week, "12 Oct" this year, "12 Oct 2024" before. `ms` and `now` are Unix ms (or a
 * Date for `now`); times in the future read "just now".
 */
export function relativeTime(ms: number, now: number | Date = Date.now()): string {
  const n = typeof now === "number" ? now : now.getTime();
  const t = Number(ms);
  if (!Number.isFinite(t)) return "";
  const d = n - t;
  if (d < 60_000) return "just now";
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min`;
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)} h`;
  const nowDate = new Date(n);
  const date = new Date(t);
  const days = Math.round((dayStart(nowDate) - dayStart(date)) / 86_400_000);
  if (days < 7) return WEEKDAYS_SHORT[date.getDay()]!;
  const dm = `${date.getDate()} ${MONTHS_SHORT[date.getMonth()]}`;
  return date.getFullYear() === nowDate.getFullYear() ? dm : `${dm} ${date.getFullYear()}`;
}

/** A full local date and time for tooltips. */
export function fullTime(ms: number): string {
  const t = Number(ms);
  return Number.isFinite(t) ? new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

/** Who wrote a matching message: "You", "Answer", "System"; "Title" when the title matched. */
export function roleLabel(role: Role | null): string {
  switch (role) {
    case "user":
      return "You";
    case "assistant":
      return "Answer";
    case "system":
      return "System";
    default:
      return "Title";
  }
}

/** "Imported 3 conversations (1 already here)", and the image generations a backup brought back. */
export function importMessage(report: ImportReport): string {
  const n = Number(report.imported);
  const m = Number(report.duplicates);
  const p = Number(report.pictures ?? 0);
  const a = Number(report.attachments ?? 0);
  const e = Number(report.embeddings ?? 0);
  const v = Number(report.speech ?? 0);
  const vid = Number(report.videos ?? 0);
  const attached = a > 0 ? `, with ${a} attached ${a === 1 ? "picture" : "pictures"}` : "";
  const pictures = p > 0 ? `, and ${p} image ${p === 1 ? "generation" : "generations"} with their pictures` : "";
  const videos = vid > 0 ? `, and ${vid} ${vid === 1 ? "video" : "videos"}` : "";
  const runs = e > 0 ? `, and ${e} embedding ${e === 1 ? "run" : "runs"}` : "";
  const speech = v > 0 ? `, and ${v} speech ${v === 1 ? "run" : "runs"} with their audio` : "";
  return `Imported ${n} ${n === 1 ? "conversation" : "conversations"} (${m} already here)${attached}${pictures}${videos}${runs}${speech}`;
}

/** A title to show: never empty. */
export function displayTitle(title: string): string {
  const t = title.trim();
  return t === "" ? "Untitled" : t;
}

// ---------------------------------------------------------------------------------------------
// List keys

/** What a key does in the conversation list: focus row `index`, go back up to the search
 * field, rename the row under the cursor, or nothing (null: let the key through). */
export type ListMove = { kind: "focus"; index: number } | { kind: "back" } | { kind: "rename"; index: number } | null;

/**
 * A key in the list, from row `from` (-1: none yet). The arrows, PageUp/PageDown (`page` rows),
 * Home and End move between conversations, never onto a group heading; ArrowUp from the first
 * one goes back to the search field; F2 renames.
 */
export function listKey(key: string, from: number, rows: readonly Row[], page: number): ListMove {
  const n = rows.length;
  const isHeader = (i: number) => rows[i]?.kind !== "item";
  const first = () => moveActive(-1, 1, n, isHeader);
  const at = from >= 0 && from < n ? from : -1;
  const focus = (index: number): ListMove => ({ kind: "focus", index });
  switch (key) {
    case "ArrowDown":
      return focus(moveActive(at, 1, n, isHeader));
    case "ArrowUp": {
      const next = at < 0 ? first() : moveActive(at, -1, n, isHeader);
      return next === at ? { kind: "back" } : focus(next);
    }
    case "PageDown":
      return focus(moveActive(at, page, n, isHeader));
    case "PageUp":
      return focus(moveActive(Math.max(0, at), -page, n, isHeader));
    case "Home":
      return focus(first());
    case "End": {
      const last = moveActive(n - 1, 0, n, isHeader);
      return focus(isHeader(last) ? moveActive(n - 1, -1, n, isHeader) : last);
    }
    case "F2":
      return rows[at]?.kind === "item" ? { kind: "rename", index: at } : null;
    default:
      return null;
  }
}
