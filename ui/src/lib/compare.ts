// The compare view's logic: pane settings, presets, the figures that win, the cost estimate of a
// round, how many panes fit side by side, and how a saved compare session becomes panes again.
// Pure logic; CompareView.svelte and ComparePane.svelte hold the state.
import type { CallStats } from "../bindings/CallStats";
import type { Catalog } from "../bindings/Catalog";
import type { ChatParams } from "../bindings/ChatParams";
import type { Conversation } from "../bindings/Conversation";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import type { MessageStatus } from "../bindings/MessageStatus";
import type { Role } from "../bindings/Role";
import type { Routing } from "../bindings/Routing";
import type { StoredMessage } from "../bindings/StoredMessage";
import { sortOffers } from "./catalog";
import { DEFAULT_PARAMS, requestMessages, type Turn } from "./conversation";

/** What one pane sends: its own model, routing, parameters and system prompt. */
export interface PaneConfig {
  model: string | null;
  routing: Routing;
  params: ChatParams;
  system: string;
}

/** A comparison needs at least two panes. */
export const MIN_PANES = 2;
/** Windows at least this wide take up to {@link WIDE_MAX} panes side by side. */
export const WIDE_WIDTH = 1800;
export const WIDE_MAX = 6;
export const NORMAL_MAX = 4;
/** Below this width, at most two panes sit side by side (the others wrap to a second row). */
export const NARROW_WIDTH = 900;

/** How many panes a window this wide may hold: 4, or 6 on wide windows. */
export function maxPanes(width: number): number {
  return width >= WIDE_WIDTH ? WIDE_MAX : NORMAL_MAX;
}

/** How many of `count` panes sit side by side in a window `width` px wide, when the panes'
 * area is `available` px wide (the window less side panels). */
export function paneColumns(count: number, width: number, available = width): number {
  const n = Math.max(1, Math.min(Math.floor(count), maxPanes(width)));
  return available < NARROW_WIDTH ? Math.min(n, 2) : n;
}

/** A deep enough copy of parameters that panes never share arrays or objects. */
export function cloneParams(p: ChatParams): ChatParams {
  return { ...p, stop: [...p.stop], extra: p.extra ? { ...p.extra } : null };
}

function sameParams(a: ChatParams, b: ChatParams): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether all panes use the same parameters and system prompt (then "same settings" fits). */
export function sameSettings(panes: readonly Pick<PaneConfig, "params" | "system">[]): boolean {
  const first = panes[0];
  return !first || panes.every((p) => p.system === first.system && sameParams(p.params, first.params));
}

// ---------------------------------------------------------------------------------------------
// Presets

type Base = Pick<PaneConfig, "params" | "system">;

function liveOffers(model: ModelInfo, disabled: readonly string[]): ProviderOffer[] {
  return sortOffers(model.providers.filter((o) => o.status === "live" && !disabled.includes(o.provider)));
}

/** "This model on all its live providers": one pane per live, enabled provider (fastest first),
 * each pinned to it; at most `max`. */
export function presetAllProviders(
  model: ModelInfo,
  max: number,
  disabled: readonly string[],
  base: Base,
): PaneConfig[] {
  return liveOffers(model, disabled)
    .slice(0, Math.max(0, max))
    .map((o) => ({
      model: model.id,
      routing: { kind: "pinned", provider: o.provider },
      params: cloneParams(base.params),
      system: base.system,
    }));
}

/** "These models on the cheapest provider": each model once, routed by the cheapest policy; at
 * most `max`. */
export function presetCheapest(models: readonly (ModelInfo | string | null)[], max: number, base: Base): PaneConfig[] {
  const ids: string[] = [];
  for (const m of models) {
    const id = typeof m === "string" ? m : (m?.id ?? null);
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, Math.max(0, max)).map((id) => ({
    model: id,
    routing: { kind: "auto", policy: "cheapest" },
    params: cloneParams(base.params),
    system: base.system,
  }));
}

// ---------------------------------------------------------------------------------------------
// Results

export interface SummaryMarks {
  /** Index of the pane with the lowest time to first token. */
  fastestFirstToken: number | null;
  /** Index of the pane with the most tokens per second. */
  highestThroughput: number | null;
  /** Index of the cheapest answer (among known costs). */
  cheapest: number | null;
}

const known = (n: number | null | undefined): n is number => n !== null && n !== undefined && Number.isFinite(n);

function best(stats: readonly (CallStats | null)[], pick: (s: CallStats) => number | null, lower: boolean): number | null {
  let winner: number | null = null;
  let value = 0;
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i];
    const v = s ? pick(s) : null;
    if (!known(v) || v < 0) continue;
    // Strictly better only: ties go to the first pane.
    if (winner === null || (lower ? v < value : v > value)) {
      winner = i;
      value = v;
    }
  }
  return winner;
}

/** Which pane wins each figure of a round; null where no pane has the figure. */
export function summaryMarks(stats: readonly (CallStats | null)[]): SummaryMarks {
  return {
    fastestFirstToken: best(stats, (s) => s.ttftMs, true),
    highestThroughput: best(stats, (s) => (known(s.tokensPerSec) && s.tokensPerSec > 0 ? s.tokensPerSec : null), false),
    cheapest: best(stats, (s) => s.cost, true),
  };
}

/** The last assistant turn of a pane, if any. */
export function lastAnswer(turns: readonly Turn[]): Turn | null {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i]!.role === "assistant") return turns[i]!;
  return null;
}

export type PaneStatus = MessageStatus | "idle";

/** The status of a pane: that of its last answer, "idle" before the first. */
export function paneStatus(turns: readonly Turn[]): PaneStatus {
  return lastAnswer(turns)?.status ?? "idle";
}

/** The figures of a pane's last answer that take part in the summary: complete answers only (a
 * stopped or failed answer would win "cheapest" unfairly). */
export function roundStats(turns: readonly Turn[]): CallStats | null {
  const t = lastAnswer(turns);
  return t && t.status === "complete" && t.stats ? t.stats : null;
}

// ---------------------------------------------------------------------------------------------
// Cost estimate

/** Assumed answer length when a pane sets no max tokens. */
export const DEFAULT_OUTPUT_TOKENS = 512;

export interface RoundEstimate {
  /** Sum of the panes whose price is known; null when none is. */
  total: number | null;
  /** USD per pane; null when its price is unknown. */
  perPane: (number | null)[];
  /** The provider each pane's estimate assumes (pinned, or the router's likely choice). */
  providers: (string | null)[];
  /** Panes left out of the total. */
  unknownPrices: number;
}

/** Rough token count: four characters a token. */
export function approxTokens(chars: number): number {
  return Math.ceil(Math.max(0, chars) / 4);
}

/** Characters of a pane's conversation as it would be sent (failed empty answers left out). */
export function contextChars(turns: readonly Turn[]): number {
  return requestMessages(turns).reduce((n, m) => n + m.content.length, 0);
}

/** Price per 1M tokens of an offer: free offers cost 0; null when unpublished. */
function offerPrice(o: ProviderOffer): { input: number; output: number } | null {
  if (o.isFree) return { input: 0, output: 0 };
  return o.pricing;
}

function costOf(price: { input: number; output: number }, tokensIn: number, tokensOut: number): number {
  return (tokensIn * price.input + tokensOut * price.output) / 1e6;
}

/** The provider a pane's request is expected to use, and what it would cost. */
function paneEstimate(
  pane: PaneConfig,
  catalog: Catalog | null,
  tokensIn: number,
  tokensOut: number,
  disabled: readonly string[],
): { cost: number | null; provider: string | null } {
  const model = pane.model && catalog ? catalog.models.find((m) => m.id === pane.model) : undefined;
  if (pane.routing.kind === "pinned") {
    const provider = pane.routing.provider;
    const offer = model?.providers.find((o) => o.provider === provider);
    const price = offer ? offerPrice(offer) : null;
    return { cost: price ? costOf(price, tokensIn, tokensOut) : null, provider };
  }
  if (!model) return { cost: null, provider: null };
  const live = liveOffers(model, disabled);
  if (pane.routing.policy === "cheapest") {
    let pick: { cost: number; provider: string } | null = null;
    for (const o of live) {
      const price = offerPrice(o);
      if (!price) continue;
      const cost = costOf(price, tokensIn, tokensOut);
      if (pick === null || cost < pick.cost) pick = { cost, provider: o.provider };
    }
    return pick ?? { cost: null, provider: null };
  }
  // "fastest" (and "preferred", whose order is only known to Hugging Face): the live offer with
  // the highest throughput.
  const top = live[0];
  if (!top) return { cost: null, provider: null };
  const price = offerPrice(top);
  return { cost: price ? costOf(price, tokensIn, tokensOut) : null, provider: top.provider };
}

/**
 * An estimate of what sending a message of `promptChars` characters to every pane costs. Input
 * per pane ≈ (message + that pane's conversation so far (`context[i]` characters) + its system
 * prompt) / 4 tokens; output = its max tokens (or {@link DEFAULT_OUTPUT_TOKENS}). Prices: the
 * pinned provider's, else for "cheapest" the cheapest live priced offer, for "fastest" and
 * "preferred" the live offer with the highest throughput.
 */
export function estimateRoundCost(
  panes: readonly PaneConfig[],
  catalog: Catalog | null,
  promptChars: number,
  context: readonly number[] = [],
  disabled: readonly string[] = [],
): RoundEstimate {
  const perPane: (number | null)[] = [];
  const providers: (string | null)[] = [];
  panes.forEach((pane, i) => {
    const tokensIn = approxTokens(promptChars + (context[i] ?? 0) + pane.system.length);
    const tokensOut = pane.params.maxTokens ?? DEFAULT_OUTPUT_TOKENS;
    const e = paneEstimate(pane, catalog, tokensIn, tokensOut, disabled);
    perPane.push(e.cost);
    providers.push(e.provider);
  });
  const knownCosts = perPane.filter((c): c is number => c !== null);
  return {
    total: knownCosts.length === 0 ? null : knownCosts.reduce((a, b) => a + b, 0),
    perPane,
    providers,
    unknownPrices: perPane.length - knownCosts.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** A new session id, made before the first round so every pane saves into one conversation. */
export function newSessionId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

export interface SavedPane {
  /** The pane index the messages are saved under. */
  slot: number;
  config: PaneConfig;
  messages: StoredMessage[];
}

/** Rebuilds the panes of a saved compare session: messages grouped by pane (in order); each
 * pane's model and provider from its last answer (pinned when the provider is known, else
 * automatic), its parameters from that answer, the system prompt from the session. */
export function panesFromConversation(c: Conversation): SavedPane[] {
  const groups = new Map<number, StoredMessage[]>();
  for (const m of [...c.messages].sort((a, b) => a.seq - b.seq)) {
    if (m.role === "system") continue;
    const list = groups.get(m.pane);
    if (list) list.push(m);
    else groups.set(m.pane, [m]);
  }
  const fallbackPolicy = c.routing?.kind === "auto" ? c.routing.policy : "fastest";
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([slot, messages]) => {
      const answers = messages.filter((m) => m.role === "assistant");
      const last = answers[answers.length - 1];
      const model = last?.model ?? messages.find((m) => m.model)?.model ?? c.model;
      const provider = [...answers].reverse().find((m) => m.provider)?.provider ?? null;
      const params = last?.params ?? c.params;
      return {
        slot,
        messages,
        config: {
          model,
          routing: provider ? { kind: "pinned", provider } : { kind: "auto", policy: fallbackPolicy },
          params: { ...cloneParams(DEFAULT_PARAMS), ...(params ? cloneParams(params) : {}) },
          system: c.system,
        },
      };
    });
}

/** What "continue in playground" hands over. */
export interface Handoff {
  model: string;
  routing: Routing;
  system: string;
  params: ChatParams;
  messages: { role: Exclude<Role, "system">; content: string }[];
}

/** The routing to continue with: automatic routing is pinned to the provider that served the
 * last answer, so the conversation goes on where it was. */
export function continueRouting(routing: Routing, turns: readonly Turn[]): Routing {
  if (routing.kind === "pinned") return routing;
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (t.role === "assistant" && t.provider) return { kind: "pinned", provider: t.provider };
  }
  return routing;
}

/** A pane as a normal conversation; null without a model. */
export function handoff(config: PaneConfig, turns: readonly Turn[]): Handoff | null {
  if (!config.model) return null;
  return {
    model: config.model,
    routing: continueRouting(config.routing, turns),
    system: config.system,
    params: cloneParams(config.params),
    messages: requestMessages(turns).map((m) => ({
      role: m.role === "assistant" ? "assistant" : "user",
      content: m.content,
    })),
  };
}
