// Pure logic for the Billing page and the credits meter: money formatting, the cost of a call,
// how many calls a sum buys, the meter's segments, the spend chart's series and the calls
// table's query and sort state. No DOM here, so everything is unit-tested in billing.test.ts.
// Costs are USD; prices (Pricing) are USD per 1M tokens; times are Unix ms; months and days in
// Totals keys are UTC ("YYYY-MM", "YYYY-MM-DD").
import type { Billing } from "../bindings/Billing";
import type { CallKind } from "../bindings/CallKind";
import type { CallQuery } from "../bindings/CallQuery";
import type { CallRow } from "../bindings/CallRow";
import type { CreditStatus } from "../bindings/CreditStatus";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { Payer } from "../bindings/Payer";
import type { Pricing } from "../bindings/Pricing";
import type { Totals } from "../bindings/Totals";
import { errorText } from "./errors";

const DAY_MS = 86_400_000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// ---------------------------------------------------------------------------------------------
// Money

/** Trailing zeros off a fixed-point number, keeping at least two decimals ("0.0500" → "0.05"). */
function trimCents(s: string): string {
  return s.replace(/(\.\d\d\d*?)0+$/, "$1");
}

/**
 * US dollars for people: cents from $0.10 up ("$0.10", "$2.00", "$12.35"); up to four decimals
 * below that ("$0.0123", "$0.05"); two significant digits for tiny amounts ("$0.00021");
 * "$0.00" for zero and "—" when unknown.
 */
export function formatUsd(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x === 0) return "$0.00";
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  let digits: string;
  if (a >= 0.1) {
    digits = a.toFixed(2);
  } else if (a >= 0.001) {
    digits = trimCents(a.toFixed(4));
  } else {
    // Two significant digits: 0.00021 has its first digit at the 4th decimal, so 5 decimals.
    const decimals = Math.min(20, 1 - Math.floor(Math.log10(a)));
    digits = trimCents(a.toFixed(decimals));
  }
  return `${sign}$${digits}`;
}

/** Whole cents for tight spaces ("$0.09"); amounts under a cent keep their digits ("$0.0042"). */
export function formatUsdShort(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x !== 0 && Math.abs(x) < 0.01) return formatUsd(x);
  return `${x < 0 ? "-" : ""}$${Math.abs(x).toFixed(2)}`;
}

/** A price per 1M tokens: "$0.15 / $0.60" (input / output), "free" or "—". */
export function formatRate(p: Pricing | null, isFree = false): string {
  if (isFree || (p && p.input === 0 && p.output === 0)) return "free";
  if (!p) return "—";
  return `${formatUsd(p.input)} / ${formatUsd(p.output)}`;
}

/** "1,234" (English grouping, whatever the system locale, like the rest of the app's text). */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A count of calls: "1,234", "unlimited" (free), or "—" (price unknown). */
export function formatCalls(n: number | null): string {
  if (n === null) return "—";
  if (n === Infinity) return "unlimited";
  return formatInt(n);
}

/** What one call costs in USD: tokens times the price per 1M tokens. */
export function callCost(pricing: Pricing, tokensIn: number, tokensOut: number): number {
  return (tokensIn * pricing.input + tokensOut * pricing.output) / 1e6;
}

/**
 * How many calls costing `costPerCall` fit in `budget`. `Infinity` for free calls (the
 * "unlimited" marker), `null` when the cost is unknown.
 */
export function callsAffordable(budget: number, costPerCall: number | null): number | null {
  if (costPerCall === null || !Number.isFinite(costPerCall) || !Number.isFinite(budget)) return null;
  if (costPerCall <= 0) return Infinity;
  if (budget <= 0) return 0;
  // 0.1 / 0.0001 is 999.9999999999999 in floating point: nudge before flooring.
  return Math.floor(budget / costPerCall + 1e-9);
}

/**
 * Parses a dollar amount typed by the user: "0.10", "$2", " 1,5 ". Empty text is `null` (no
 * value) when allowed. An error text names the field.
 */
export function parseUsd(
  text: string,
  field: string,
  allowEmpty: boolean,
): { ok: true; value: number | null } | { ok: false; error: string } {
  let t = text.trim().replace(/^\$\s*/, "").replace(/\s*(usd|\$)$/i, "");
  if (t === "") {
    return allowEmpty ? { ok: true, value: null } : { ok: true, value: 0 };
  }
  if (!t.includes(".") && /^\d*,\d+$/.test(t)) t = t.replace(",", ".");
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(t)) {
    return { ok: false, error: `${field} must be an amount in US dollars, like 0.10 or 2.` };
  }
  const value = Number(t);
  if (!Number.isFinite(value) || value < 0) {
    return { ok: false, error: `${field} must be an amount in US dollars, like 0.10 or 2.` };
  }
  return { ok: true, value };
}

/** The text for an input that shows a dollar amount ("" for none). */
export function usdInput(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return "";
  return String(Number(x.toFixed(6)));
}

// ---------------------------------------------------------------------------------------------
// The estimator

// What-if sums for a prepaid top-up: round figures, deliberately not the plan table's $0.10 / $2.00,
// which the estimator must not present as the account's credits (the account's own figure is the
// "remaining credits" column, from Hugging Face).
export const ESTIMATE_SUMS = [1, 10] as const;

export interface EstimatorRow {
  provider: string;
  pricing: Pricing | null;
  isFree: boolean;
  /** One call, USD; 0 when free; null when the price is unknown. */
  cost: number | null;
  /** Calls the remaining credits buy (Infinity when free, null when unknown). */
  remainingCalls: number | null;
  /** Calls $1 buys. */
  calls1: number | null;
  /** Calls $10 buys. */
  calls10: number | null;
}

/** For each live offer of the model: what one call costs and how many calls some sums buy,
 * cheapest first, unknown prices last. */
export function estimatorRows(model: ModelInfo, tokensIn: number, tokensOut: number, remaining: number): EstimatorRow[] {
  const tin = Math.max(0, Number.isFinite(tokensIn) ? tokensIn : 0);
  const tout = Math.max(0, Number.isFinite(tokensOut) ? tokensOut : 0);
  const rows = model.providers
    .filter((o) => o.status === "live")
    .map((o): EstimatorRow => {
      const isFree = o.isFree || (o.pricing !== null && o.pricing.input === 0 && o.pricing.output === 0);
      const cost = isFree ? 0 : o.pricing ? callCost(o.pricing, tin, tout) : null;
      return {
        provider: o.provider,
        pricing: o.pricing,
        isFree,
        cost,
        remainingCalls: callsAffordable(remaining, cost),
        calls1: callsAffordable(ESTIMATE_SUMS[0], cost),
        calls10: callsAffordable(ESTIMATE_SUMS[1], cost),
      };
    });
  return rows.sort((a, b) => {
    if (a.cost === null || b.cost === null) {
      if (a.cost !== b.cost) return a.cost === null ? 1 : -1;
    } else if (a.cost !== b.cost) {
      return a.cost - b.cost;
    }
    return a.provider.localeCompare(b.provider);
  });
}

export interface TokenDefaults {
  tokensIn: number;
  tokensOut: number;
  /** Where the figures come from, in words. */
  note: string;
  fromHistory: boolean;
}

/** The estimator's starting token counts: the user's averages when known, else a short exchange. */
export function tokenDefaults(averages: readonly [number, number] | null): TokenDefaults {
  if (averages && Number.isFinite(averages[0]) && Number.isFinite(averages[1])) {
    return {
      tokensIn: Math.max(0, Math.round(averages[0])),
      tokensOut: Math.max(0, Math.round(averages[1])),
      note: "your average over the last 50 answers",
      fromHistory: true,
    };
  }
  return { tokensIn: 500, tokensOut: 300, note: "a typical short exchange", fromHistory: false };
}

// ---------------------------------------------------------------------------------------------
// The meter

export type MeterLevel = "ok" | "warn" | "over";

export interface MeterParts {
  /** Fractions of `included`, each in [0, 1], summing to at most 1. */
  app: number;
  outside: number;
  remaining: number;
  /** (app + outside) / included; 1 when nothing is included. */
  used: number;
  level: MeterLevel;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

export function meterParts(status: CreditStatus): MeterParts {
  const inc = status.included;
  const spent = Math.max(0, status.spentApp) + Math.max(0, status.outsideUsage);
  let app = 0;
  let outside = 0;
  let remaining = 0;
  let used: number;
  if (inc > 0) {
    app = clamp01(status.spentApp / inc);
    outside = Math.min(clamp01(status.outsideUsage / inc), 1 - app);
    remaining = status.usedUp ? 0 : Math.min(clamp01(status.remaining / inc), 1 - app - outside);
    used = spent / inc;
  } else {
    used = 1;
  }
  const budget = status.budgetUsed ?? 0;
  // 0.08 / 0.1 is 0.7999999999999999: compare with a little slack.
  const atLeast = (x: number, share: number) => x >= share - 1e-9;
  const level: MeterLevel =
    status.usedUp || atLeast(used, 1) || atLeast(budget, 1)
      ? "over"
      : atLeast(used, 0.8) || atLeast(budget, 0.8)
        ? "warn"
        : "ok";
  return { app, outside, remaining, used, level };
}

/** A fraction as a CSS width: "37.5%". */
export function percent(fraction: number): string {
  return `${Number((clamp01(fraction) * 100).toFixed(3))}%`;
}

/** "1 Dec 2026" for a Unix ms time (UTC, like the billing month). */
export function formatDay(ms: number, withYear = true): string {
  const d = new Date(ms);
  const s = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return withYear ? `${s} ${d.getUTCFullYear()}` : s;
}

/** "Resets on 1 Dec 2026", plus where the date comes from when Hugging Face gave it. */
export function resetText(status: Pick<CreditStatus, "resetsAt" | "resetFromHf">): string {
  const base = `Resets on ${formatDay(status.resetsAt)}`;
  return status.resetFromHf ? `${base} (from your Hugging Face billing period)` : base;
}

function capitalize(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

/** "Free plan", "PRO plan", "acme (Enterprise plan)". */
export function payerText(payer: Payer): string {
  switch (payer.kind) {
    case "free":
      return "Free plan";
    case "pro":
      return "PRO plan";
    case "org":
      return `${payer.name} (${capitalize(payer.plan ?? "team")} plan)`;
  }
}

/** What the included figure rests on: "Free plan, plan table of 2025-08-22" (the offline
 * fallback, as Hugging Face stated it then). */
export function includedSource(status: CreditStatus): string {
  if (status.includedOverridden) return "your figure";
  if (status.includedFromHf) return `${payerText(status.payer)}, from Hugging Face`;
  return `${payerText(status.payer)}, plan table of ${status.plans.statedOn}`;
}

/** The plan table's figure for this payer (what an empty override falls back to). */
export function tableIncluded(status: CreditStatus): number {
  const p = status.plans;
  switch (status.payer.kind) {
    case "free":
      return p.free;
    case "pro":
      return p.pro;
    case "org":
      return (status.payer.plan === "enterprise" ? p.enterprisePerSeat : p.teamPerSeat) * Math.max(1, status.payer.seats);
  }
}

/** A warning once 80 % of the monthly budget is spent; null below that or without a budget. */
export function budgetWarning(status: CreditStatus): string | null {
  if (status.budget === null || status.budgetUsed === null || status.budgetUsed < 0.8 - 1e-9) return null;
  const pct = Math.floor(status.budgetUsed * 100 + 1e-9);
  if (status.budgetUsed >= 1 - 1e-9) {
    return `You have reached your monthly budget of ${formatUsd(status.budget)} (${pct} % spent).`;
  }
  return `You have used ${pct} % of your monthly budget of ${formatUsd(status.budget)}.`;
}

// ---------------------------------------------------------------------------------------------
// Days, months and the spend chart

/** "YYYY-MM-DD" (UTC) of a Unix ms time. */
export function dayKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Unix ms of a "YYYY-MM-DD" day's start (UTC), or NaN. */
export function dayStart(day: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
}

/** The last `n` UTC days up to and including today: [from, to) in ms and their keys. */
export function lastDays(nowMs: number, n: number): { from: number; to: number; fromDay: string; toDay: string } {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const from = today - (n - 1) * DAY_MS;
  return { from, to: today + DAY_MS, fromDay: dayKey(from), toDay: dayKey(today) };
}

/** "Nov 2026" from "2026-11". */
export function monthText(key: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  if (!m) return key;
  return `${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

/** "5 Nov" from "2026-11-05". */
export function dayText(key: string): string {
  const ms = dayStart(key);
  return Number.isNaN(ms) ? key : formatDay(ms, false);
}

export const UNKNOWN_PROVIDER = "(unknown)";

export interface ChartSegment {
  provider: string;
  /** Its index in `providers` (for the colour). */
  index: number;
  value: number;
  /** Stacked bounds, USD: the segment spans [y0, y1]. */
  y0: number;
  y1: number;
}

export interface ChartDay {
  day: string;
  total: number;
  calls: number;
  segments: ChartSegment[];
}

export interface ChartSeries {
  days: ChartDay[];
  /** Providers with spend in the range, most spend first. */
  providers: string[];
  /** Per provider (same order), the spend over the range. */
  providerTotals: number[];
  /** The largest day total (the y scale). */
  max: number;
  total: number;
}

/**
 * Every day from `from` to `to` (inclusive, "YYYY-MM-DD") with its spend stacked by provider, from
 * `day_provider` totals. Days without calls are there with 0.
 */
export function chartSeries(rows: readonly Totals[], from: string, to: string): ChartSeries {
  const start = dayStart(from);
  const end = dayStart(to);
  const empty: ChartSeries = { days: [], providers: [], providerTotals: [], max: 0, total: 0 };
  if (Number.isNaN(start) || Number.isNaN(end) || end < start || (end - start) / DAY_MS > 3660) return empty;

  const byDay = new Map<string, Map<string, number>>();
  const callsByDay = new Map<string, number>();
  const perProvider = new Map<string, number>();
  for (const r of rows) {
    if (r.key < from || r.key > to) continue;
    const provider = r.provider || UNKNOWN_PROVIDER;
    // Billed by Hugging Face where it has billed, the estimate elsewhere.
    const best = Number.isFinite(r.best) ? r.best : r.cost;
    const cost = Number.isFinite(best) ? Math.max(0, best) : 0;
    callsByDay.set(r.key, (callsByDay.get(r.key) ?? 0) + r.calls);
    let day = byDay.get(r.key);
    if (!day) byDay.set(r.key, (day = new Map()));
    day.set(provider, (day.get(provider) ?? 0) + cost);
    perProvider.set(provider, (perProvider.get(provider) ?? 0) + cost);
  }
  const ranked = [...perProvider.entries()]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const providers = ranked.map(([p]) => p);
  const index = new Map(providers.map((p, i) => [p, i]));

  const days: ChartDay[] = [];
  let max = 0;
  let total = 0;
  for (let t = start; t <= end; t += DAY_MS) {
    const key = dayKey(t);
    const costs = byDay.get(key);
    const segments: ChartSegment[] = [];
    let y = 0;
    for (const p of providers) {
      const v = costs?.get(p) ?? 0;
      if (v <= 0) continue;
      segments.push({ provider: p, index: index.get(p)!, value: v, y0: y, y1: y + v });
      y += v;
    }
    days.push({ day: key, total: y, calls: callsByDay.get(key) ?? 0, segments });
    max = Math.max(max, y);
    total += y;
  }
  return { days, providers, providerTotals: ranked.map(([, v]) => v), max, total };
}

/** A round number at or above `x` for an axis: 1, 2 or 5 times a power of ten. */
export function niceMax(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 0;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) {
    const v = Number((m * p).toPrecision(12));
    if (v >= x * (1 - 1e-12)) return v;
  }
  return 10 * p;
}

/** The chart's bar title: "5 Nov: $0.0123 in 4 calls — hf-inference $0.01, together $0.0023". */
export function dayTitle(d: ChartDay): string {
  const head = `${dayText(d.day)}: ${formatUsd(d.total)} in ${formatInt(d.calls)} call${d.calls === 1 ? "" : "s"}`;
  if (d.segments.length === 0) return head;
  return `${head} — ${d.segments.map((s) => `${s.provider} ${formatUsd(s.value)}`).join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// The calls table

export type SortColumn = "at" | "model" | "provider" | "tokens_out" | "cost" | "total_ms";

export interface SortState {
  column: SortColumn;
  descending: boolean;
}

export const DEFAULT_SORT: SortState = { column: "at", descending: true };

/** A header click: the same column flips; another starts newest / largest first, names A→Z. */
export function nextSort(current: SortState, column: SortColumn): SortState {
  if (current.column === column) return { column, descending: !current.descending };
  return { column, descending: !(column === "model" || column === "provider") };
}

export function ariaSort(current: SortState, column: SortColumn): "ascending" | "descending" | "none" {
  if (current.column !== column) return "none";
  return current.descending ? "descending" : "ascending";
}

export interface CallFilters {
  provider: string;
  model: string;
  status: string;
  billing: Billing | "";
}

export const NO_FILTERS: CallFilters = { provider: "", model: "", status: "", billing: "" };

/** The query for the table (or its CSV export): "" filters mean any. */
export function callQuery(f: CallFilters, sort: SortState, offset: number | null = null, limit: number | null = null): CallQuery {
  return {
    from: null,
    to: null,
    provider: f.provider || null,
    model: f.model || null,
    billing: f.billing || null,
    status: f.status || null,
    sort: sort.column,
    descending: sort.descending,
    limit,
    offset,
  };
}

/** The pages of `size` rows that cover rows [start, end). */
export function pagesFor(start: number, end: number, size: number): number[] {
  if (end <= start || size <= 0) return [];
  const first = Math.floor(Math.max(0, start) / size);
  const last = Math.floor((end - 1) / size);
  const out: number[] = [];
  for (let p = first; p <= last; p++) out.push(p);
  return out;
}

export const KIND_TEXT: Record<CallKind, string> = {
  chat: "chat",
  retry: "retry",
  compare: "compare",
  key_test: "key test",
  image: "image",
  embeddings: "embeddings",
  speech_to_text: "speech to text",
  text_to_speech: "text to speech",
  video: "video",
};

export const BILLING_TEXT: Record<Billing, string> = {
  hf_credits: "HF credits",
  org: "organisation",
  provider: "billed by provider",
  endpoint: "endpoint",
};

/** Who paid for a call: "HF credits", the organisation's name, "billed by provider", "endpoint". */
export function billingText(row: Pick<CallRow, "billing" | "billTo">): string {
  if (row.billing === "org") return row.billTo || BILLING_TEXT.org;
  return BILLING_TEXT[row.billing];
}

const SHORT_ERRORS: Partial<Record<ErrorCode, string>> = {
  payment_required: "No credits (402)",
  rate_limited: "Rate limited (429)",
  unauthorized: "Token refused (401)",
  forbidden: "Not allowed (403)",
  not_found: "Not found (404)",
  invalid_request: "Rejected request",
  server_error: "Server error",
  network: "No connection",
  timeout: "Timed out",
  model_unavailable: "Model not served",
  stream_interrupted: "Cut off",
  provider_error: "Provider error",
  provider_key_missing: "No provider key",
};

/** A call's outcome in words: "OK", "Stopped", "Rate limited (429)"… */
export function statusText(row: Pick<CallRow, "status" | "errorCode">): string {
  if (row.status === "complete") return "OK";
  if (row.status === "stopped") return "Stopped";
  if (row.errorCode) return SHORT_ERRORS[row.errorCode] ?? errorText(row.errorCode)?.title ?? row.errorCode;
  return row.status === "error" ? "Error" : row.status;
}

/** Token count, "≈" when the provider sent no usage and it was estimated. */
export function tokensText(n: number, estimated: boolean): string {
  return `${estimated ? "≈" : ""}${formatInt(n)}`;
}

/** "320 ms", "1.4 s", "—". */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
