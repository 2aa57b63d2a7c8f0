// Pure logic over the model catalog: summaries, type-ahead search, formatting, routing choices
// and the small helpers the pickers use (keyboard moves, virtual list windows). No DOM here, so
// everything is unit-tested in catalog.test.ts and the components stay thin.
import type { ModelInfo } from "../bindings/ModelInfo";
import type { Pricing } from "../bindings/Pricing";
import type { Policy } from "../bindings/Policy";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import type { Routing } from "../bindings/Routing";

// ts-rs may render 64-bit integers (contextLength, created) as bigint; over IPC they arrive as
// plain JSON numbers. Accept both.
type Int = number | bigint;

function toNumber(n: Int | null | undefined): number | null {
  return n === null || n === undefined ? null : Number(n);
}

// ---------------------------------------------------------------------------------------------
// Summaries

export interface ModelSummary {
  /** Providers whose status is "live". */
  liveCount: number;
  /** The live offer with the lowest input + output price per 1M tokens; null when none is priced. */
  cheapest: ProviderOffer | null;
  /** Some live offer is free (flagged free or priced 0 / 0). */
  isFree: boolean;
  /** Accepts images as input. */
  vision: boolean;
  /** Some live offer supports tool calls. */
  tools: boolean;
  /** Names of the live providers, in catalog order. */
  providers: string[];
}

function isLive(o: ProviderOffer): boolean {
  return o.status === "live";
}

function totalPrice(p: Pricing): number {
  return p.input + p.output;
}

export function summarize(m: ModelInfo): ModelSummary {
  let cheapest: ProviderOffer | null = null;
  let isFree = false;
  let tools = false;
  const providers: string[] = [];
  for (const o of m.providers) {
    if (!isLive(o)) continue;
    providers.push(o.provider);
    if (o.isFree || (o.pricing && o.pricing.input === 0 && o.pricing.output === 0)) isFree = true;
    if (o.supportsTools) tools = true;
    if (o.pricing && (cheapest === null || totalPrice(o.pricing) < totalPrice(cheapest.pricing!))) cheapest = o;
  }
  return {
    liveCount: providers.length,
    cheapest,
    isFree,
    vision: m.inputModalities.includes("image"),
    tools,
    providers,
  };
}

/** Every provider name that appears in the catalog, sorted case-insensitively. */
export function allProviders(models: readonly ModelInfo[]): string[] {
  const names = new Set<string>();
  for (const m of models) for (const o of m.providers) names.add(o.provider);
  return [...names].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
}

/** Splits "owner/name" for display; ids without a slash have no owner. */
export function splitId(id: string): { owner: string; name: string } {
  const slash = id.indexOf("/");
  return slash < 0 ? { owner: "", name: id } : { owner: id.slice(0, slash), name: id.slice(slash + 1) };
}

// ---------------------------------------------------------------------------------------------
// Search

export interface ModelFilter {
  query: string;
  vision: boolean;
  tools: boolean;
  free: boolean;
  provider: string | null;
}

export const EMPTY_FILTER: ModelFilter = { query: "", vision: false, tools: false, free: false, provider: null };

interface IndexEntry {
  model: ModelInfo;
  /** Lowercased id: the search key. */
  key: string;
  /** Lowercased part after the first "/". */
  name: string;
  summary: ModelSummary;
  /** Position in the base order: live providers desc, then id. */
  base: number;
}

/** Search keys computed once per catalog; query it with {@link queryIndex}. */
export interface ModelIndex {
  readonly size: number;
  readonly entries: readonly IndexEntry[];
}

export function buildIndex(models: readonly ModelInfo[]): ModelIndex {
  const entries: IndexEntry[] = models.map((model) => {
    const key = model.id.toLowerCase();
    const slash = key.indexOf("/");
    return { model, key, name: slash < 0 ? key : key.slice(slash + 1), summary: summarize(model), base: 0 };
  });
  const order = [...entries].sort(
    (a, b) => b.summary.liveCount - a.summary.liveCount || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  order.forEach((e, i) => (e.base = i));
  return { size: models.length, entries };
}

const indexCache = new WeakMap<readonly ModelInfo[], ModelIndex>();

/** The cached index of a models array (rebuilt if the array changed length in place). */
export function indexFor(models: readonly ModelInfo[]): ModelIndex {
  let index = indexCache.get(models);
  if (!index || index.size !== models.length) {
    index = buildIndex(models);
    indexCache.set(models, index);
  }
  return index;
}

function passes(e: IndexEntry, f: ModelFilter, terms: string[]): boolean {
  const s = e.summary;
  if (f.vision && !s.vision) return false;
  if (f.tools && !s.tools) return false;
  if (f.free && !s.isFree) return false;
  if (f.provider !== null && !s.providers.includes(f.provider)) return false;
  for (const t of terms) if (!e.key.includes(t)) return false;
  return true;
}

/**
 * Matches and ranks. Every whitespace-separated term must appear in the id (case-insensitive).
 * Order: models with no live provider last; then exact id match, then ids whose name part (or
 * whole id) starts with the query; then recently used (in `recent` order); then more live
 * providers; then alphabetical.
 */
export function queryIndex(index: ModelIndex, filter: ModelFilter, recent: readonly string[]): ModelInfo[] {
  const q = filter.query.trim().toLowerCase();
  const terms = q.split(/\s+/).filter(Boolean);
  const recentPos = new Map<string, number>();
  recent.forEach((id, i) => {
    if (!recentPos.has(id)) recentPos.set(id, i);
  });
  const R = recent.length;
  const span = index.size + R + 1;

  const hits: IndexEntry[] = [];
  const scores: number[] = [];
  for (const e of index.entries) {
    if (!passes(e, filter, terms)) continue;
    let tier = 2;
    if (q) {
      if (e.key === q) tier = 0;
      else if (e.name.startsWith(q) || e.key.startsWith(q)) tier = 1;
    }
    const r = recentPos.get(e.model.id);
    const secondary = r === undefined ? R + e.base : r;
    const unavailable = e.summary.liveCount === 0 ? 1 : 0;
    scores.push((unavailable * 3 + tier) * span + secondary);
    hits.push(e);
  }
  const order = hits.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  return order.map((i) => hits[i]!.model);
}

/** {@link queryIndex} over a cached index of `models`: cheap enough for every keystroke. */
export function filterModels(models: readonly ModelInfo[], filter: ModelFilter, recent: readonly string[]): ModelInfo[] {
  return queryIndex(indexFor(models), filter, recent);
}

// ---------------------------------------------------------------------------------------------
// Formatting

function money(n: number): string {
  if (n === 0) return "0";
  if (n >= 0.1) return Number.isInteger(n) ? String(n) : n.toFixed(2);
  return String(Number(n.toPrecision(2)));
}

/** "$0.15 / $0.75 per 1M" (input / output), "Free", or "—" when unknown. */
export function formatPrice(p: Pricing | null, isFree: boolean): string {
  if (isFree || (p && p.input === 0 && p.output === 0)) return "Free";
  if (!p) return "—";
  return `$${money(p.input)} / $${money(p.output)} per 1M`;
}

/** Time to first token: "320 ms", "1.4 s", "—". */
export function formatLatency(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "552 tok/s", "—". */
export function formatThroughput(tps: number | null): string {
  if (tps === null || !Number.isFinite(tps)) return "—";
  return `${Math.round(tps)} tok/s`;
}

/** "131k ctx", "8k ctx", "1M ctx", "—". */
export function formatContext(n: Int | null): string {
  const v = toNumber(n);
  if (v === null || v <= 0) return "—";
  if (v >= 1_000_000) return `${Number((v / 1_000_000).toFixed(1))}M ctx`;
  if (v >= 1000) return `${Math.round(v / 1000)}k ctx`;
  return `${v} ctx`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", from Unix seconds. */
export function formatRelative(unixSeconds: number | null, nowSeconds = Date.now() / 1000): string {
  if (unixSeconds === null) return "never";
  const d = Math.max(0, nowSeconds - unixSeconds);
  if (d < 60) return "just now";
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86_400) return `${Math.floor(d / 3600)} h ago`;
  const days = Math.floor(d / 86_400);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

// ---------------------------------------------------------------------------------------------
// Routing

export const DEFAULT_POLICY: Policy = "fastest";

export const POLICIES: { value: Policy; label: string; hint: string }[] = [
  { value: "fastest", label: "Fastest", hint: "The provider with the highest throughput" },
  { value: "cheapest", label: "Cheapest", hint: "The lowest price per output token" },
  { value: "preferred", label: "Preferred", hint: "Your order in Hugging Face settings" },
];

export const DEFAULT_ROUTING: Routing = { kind: "auto", policy: DEFAULT_POLICY };

export function policyLabel(p: Policy): string {
  return POLICIES.find((x) => x.value === p)?.label ?? p;
}

/** "Automatic · Fastest" or the pinned provider's name. */
export function routingLabel(v: Routing): string {
  return v.kind === "auto" ? `Automatic · ${policyLabel(v.policy)}` : v.provider;
}

/** Live offers first, then by throughput (highest first), unknown throughput last, then name. */
export function sortOffers(offers: readonly ProviderOffer[]): ProviderOffer[] {
  return [...offers].sort((a, b) => {
    const live = Number(isLive(b)) - Number(isLive(a));
    if (live) return live;
    const ta = a.throughput ?? -1;
    const tb = b.throughput ?? -1;
    if (ta !== tb) return tb - ta;
    return a.provider.localeCompare(b.provider);
  });
}

/** The highest max_tokens worth offering for a provider: its context length, if known. */
export function maxTokensCap(offer: ProviderOffer | null): number | null {
  return offer ? toNumber(offer.contextLength) : null;
}

/** Moves `id` to the front of a recently-used list, without duplicates, keeping at most `max`. */
export function pushRecent(list: readonly string[], id: string, max = 8): string[] {
  return [id, ...list.filter((x) => x !== id)].slice(0, max);
}

// ---------------------------------------------------------------------------------------------
// List helpers shared by the pickers

/**
 * The next active index when moving by `delta` (±1, or a page), clamped to the list and skipping
 * disabled items. Returns `current` when nothing is selectable in that direction.
 */
export function moveActive(
  current: number,
  delta: number,
  count: number,
  isDisabled: (i: number) => boolean = () => false,
): number {
  if (count <= 0) return -1;
  const step = delta < 0 ? -1 : 1;
  let i = Math.min(count - 1, Math.max(0, current + delta));
  // Search onward from the target, then back towards the start if the end is disabled.
  for (let j = i; j >= 0 && j < count; j += step) if (!isDisabled(j)) return j;
  for (let j = i - step; j >= 0 && j < count; j -= step) if (!isDisabled(j)) return j;
  return current;
}

/** Rows to render for a virtual list: [start, end) with `overscan` rows either side. */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + viewport) / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, last + overscan) };
}

/** The scrollTop that brings row `index` fully into view (unchanged when it already is). */
export function revealRow(index: number, scrollTop: number, viewport: number, rowHeight: number): number {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return Math.max(0, top + rowHeight - viewport);
  return scrollTop;
}
