// The playground's conversation: turns, how streamed events change them, and the figures shown
// under an answer. Pure logic; the components hold the state.
import type { AppError } from "../bindings/AppError";
import { renderStats } from "./stats";
import type { CallStats } from "../bindings/CallStats";
import type { ChatEvent } from "../bindings/ChatEvent";
import type { ChatMessage } from "../bindings/ChatMessage";
import type { ChatParams } from "../bindings/ChatParams";
import type { CallMode } from "../bindings/CallMode";
import type { MessageStatus } from "../bindings/MessageStatus";
import type { Role } from "../bindings/Role";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { StoredMessage } from "../bindings/StoredMessage";

export interface RetryInfo {
  attempt: number;
  maxAttempts: number;
  /** Epoch ms when the retry starts (for a countdown). */
  until: number;
  error: AppError;
}

/**
 * Whole seconds left before a retry, for its countdown. `now` is the screen's clock, which ticks
 * a few times a second and so may be a little older than the event that set `until`; the time is
 * read again (`clock`) so the countdown never starts above the wait the server asked for
 * (`retry-after: 1` shows 1 s, not 2 s).
 */
export function retrySecondsLeft(retry: RetryInfo, now: number, clock: () => number = Date.now): number {
  return Math.max(0, Math.ceil((retry.until - Math.max(now, clock())) / 1000));
}

export interface Turn {
  id: number;
  role: Exclude<Role, "system">;
  content: string;
  /** Pictures attached to a user turn: kept files, named by their hash. */
  images: string[];
  reasoning: string;
  status: MessageStatus;
  /** The model asked (assistant turns). */
  model: string | null;
  provider: string | null;
  requestId: string | null;
  error: AppError | null;
  stats: CallStats | null;
  retry: RetryInfo | null;
  /** Who pays for it, in words ("HF credits", "billed by Groq"); null for user turns. */
  billing: string | null;
  /** The answer (or its ledger record) could not be saved: why, and the call to retry it with. */
  notSaved: NotSaved | null;
}

export interface NotSaved {
  callId: number;
  error: AppError;
  /** A retry is running. */
  retrying: boolean;
}

let nextId = 1;

export function userTurn(content: string, images: string[] = []): Turn {
  return {
    id: nextId++,
    role: "user",
    content,
    images,
    reasoning: "",
    status: "complete",
    model: null,
    provider: null,
    requestId: null,
    error: null,
    stats: null,
    retry: null,
    billing: null,
    notSaved: null,
  };
}

export function assistantTurn(model: string, billing: string | null = null): Turn {
  return { ...userTurn(""), id: nextId++, role: "assistant", status: "streaming", model, billing };
}

/** Who pays for an answer, in words. */
export function billingLabel(mode: CallMode | null, provider: string | null, billTo: string | null = null): string | null {
  switch (mode) {
    case "own_key":
      return `billed by ${provider ?? "the provider"}`;
    case "endpoint":
      return "custom endpoint";
    case "routed":
      return billTo ? `HF credits of ${billTo}` : "HF credits";
    default:
      return null;
  }
}

/** Who pays, in words, as the Rust side decided it (`chat_route`, `chat_start`). */
export function routeLabel(route: RouteDecision): string {
  return billingLabel(route.mode, route.who, route.billTo) ?? "HF credits";
}

/** Why "Bill to <organisation>" does nothing for this call, or null when it applies: only
 * calls through Hugging Face can be billed to an organisation (nothing is sent otherwise). */
export function billToUnused(route: RouteDecision | null): string | null {
  switch (route?.mode) {
    case "own_key":
      return `${route.who ?? "The provider"} bills your own key: no organisation is billed.`;
    case "endpoint":
      return "Your custom endpoint is not billed by Hugging Face: no organisation is billed.";
    default:
      return null;
  }
}

/** A turn from a saved message. An answer still marked streaming was not finished by this
 * session: it is shown as interrupted. */
export function turnFromStored(m: StoredMessage): Turn {
  const status: MessageStatus = m.status === "streaming" ? "interrupted" : m.status;
  return {
    id: nextId++,
    role: m.role === "assistant" ? "assistant" : "user",
    content: m.content,
    images: m.images ?? [],
    reasoning: m.reasoning,
    status,
    model: m.model,
    provider: m.provider,
    requestId: m.requestId,
    error: m.error,
    stats: m.stats,
    retry: null,
    billing: m.role === "assistant" ? billingLabel(m.mode, m.provider) : null,
    notSaved: null,
  };
}

/** The messages to send for a reply to the conversation up to (not including) `end`. Failed
 * answers that produced nothing are left out; stopped or broken partial answers are kept, since
 * the user saw them. */
export function requestMessages(turns: readonly Turn[], end = turns.length): ChatMessage[] {
  return turns
    .slice(0, end)
    .filter((t) => t.role === "user" || t.content.trim() !== "")
    .map((t) => (t.images.length > 0 ? { role: t.role, content: t.content, images: [...t.images] } : { role: t.role, content: t.content }));
}

/**
 * Collects streamed events between two animation frames, so the DOM is updated once a frame
 * however fast the text arrives.
 */
export class EventBuffer {
  private content = "";
  private reasoning = "";
  private others: ChatEvent[] = [];

  push(e: ChatEvent): void {
    if (e.event === "delta") {
      this.content += e.content;
      this.reasoning += e.reasoning;
    } else {
      this.others.push(e);
    }
  }

  get empty(): boolean {
    return this.content === "" && this.reasoning === "" && this.others.length === 0;
  }

  /** Applies everything collected to `turn`, in order (text first: it came before `finished`). */
  applyTo(turn: Turn, now = Date.now()): void {
    if (this.content) turn.content += this.content;
    if (this.reasoning) turn.reasoning += this.reasoning;
    this.content = "";
    this.reasoning = "";
    const others = this.others;
    this.others = [];
    for (const e of others) applyEvent(turn, e, now);
  }
}

/** A streamed answer being applied to its turn. */
export interface TurnStream {
  /** Give this to `api.chatStart`. */
  onEvent: (e: ChatEvent) => void;
  /** Whether the turn has stopped streaming (or `finish` was called). */
  readonly finished: boolean;
  /** Marks it finished without an event (a start that failed). */
  finish(): void;
}

// Every stream's frame update runs in one animation-frame callback, so Svelte updates the DOM
// of all of them in one flush: with a callback each, six compare panes made six flushes a
// frame, each laying the page out again when its pane read its scroll height.
//
// With more than two streams at once, a frame applies half of them (rounded up), those that
// waited longest first, and the rest in the next frame: six compare panes each take every other
// frame (30 updates a second), and a frame lays out, scrolls and paints three panes instead of
// six. The smoothness bench put its effect within its noise (six panes p95 21 -> 19 ms, about
// 2 ms from run to run): kept for the halved painting, not for a measured gain.
const frameQueue: (() => void)[] = [];
let frameAsked = false;

/** How many of `waiting` streams one frame applies. */
export function frameShare(waiting: number): number {
  return waiting <= 2 ? waiting : Math.ceil(waiting / 2);
}

function onNextFrame(f: () => void) {
  frameQueue.push(f);
  askFrame();
}

function askFrame() {
  if (frameAsked) return;
  frameAsked = true;
  requestAnimationFrame(() => {
    frameAsked = false;
    const t0 = performance.now();
    const now = frameQueue.splice(0, frameShare(frameQueue.length));
    if (frameQueue.length > 0) askFrame();
    for (const g of now) g();
    // Svelte updates the DOM in a microtask queued by the first change above; this one is
    // queued after it, so the figure holds the texts' application and the DOM update.
    queueMicrotask(() => {
      renderStats.applies++;
      renderStats.applyMs += performance.now() - t0;
    });
  });
}

/**
 * Streams events into the turn `turnOf()` returns, once per animation frame however fast they
 * arrive (a 100 ms timer covers a hidden window, where frames stop). `around` wraps each
 * application (e.g. to keep the view scrolled to the bottom); `onFinished` runs once, when the
 * turn stops streaming.
 */
export function streamIntoTurn(
  turnOf: () => Turn | undefined,
  onFinished: (turn: Turn) => void,
  around: (apply: () => void) => void = (apply) => apply(),
): TurnStream {
  const buffer = new EventBuffer();
  let scheduled = false;
  let finished = false;
  const flush = () => {
    if (!scheduled) return;
    scheduled = false;
    const turn = turnOf();
    if (!turn) return;
    around(() => {
      buffer.applyTo(turn);
      if (turn.status !== "streaming" && !finished) {
        finished = true;
        onFinished(turn);
      }
    });
  };
  return {
    onEvent(e: ChatEvent) {
      buffer.push(e);
      if (!scheduled) {
        scheduled = true;
        onNextFrame(flush);
        setTimeout(flush, 100);
      }
    },
    get finished() {
      return finished;
    },
    finish() {
      finished = true;
    },
  };
}

/** Applies one non-text event to an assistant turn. */
export function applyEvent(turn: Turn, e: ChatEvent, now = Date.now()): void {
  switch (e.event) {
    case "started":
      turn.provider = e.provider;
      turn.requestId = e.requestId;
      turn.retry = null;
      break;
    case "retrying":
      turn.retry = { attempt: e.attempt, maxAttempts: e.maxAttempts, until: now + e.waitMs, error: e.error };
      turn.requestId = e.requestId;
      break;
    case "delta":
      turn.content += e.content;
      turn.reasoning += e.reasoning;
      break;
    case "finished":
      turn.status = e.outcome === "complete" ? "complete" : e.outcome === "stopped" ? "stopped" : "error";
      turn.error = e.error;
      turn.requestId = e.requestId ?? turn.requestId;
      turn.stats = e.stats;
      turn.provider = e.stats.provider ?? turn.provider;
      turn.retry = null;
      break;
    case "not_saved":
      turn.notSaved = { callId: e.callId, error: e.error, retrying: false };
      break;
  }
}

export function formatTokens(stats: CallStats): string {
  const est = stats.usageEstimated ? " (estimated)" : "";
  return `${stats.tokensIn.toLocaleString("en-US")} in · ${stats.tokensOut.toLocaleString("en-US")} out${est}`;
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatSpeed(tps: number | null): string {
  if (tps === null || !Number.isFinite(tps)) return "—";
  return `${tps >= 100 ? Math.round(tps) : tps.toFixed(1)} tok/s`;
}

/** USD with enough digits to see a fraction of a cent. */
export function formatCost(cost: number | null): string {
  if (cost === null || !Number.isFinite(cost)) return "price unknown";
  if (cost === 0) return "$0";
  if (cost >= 0.01) return `$${cost.toFixed(4)}`;
  // Two significant digits: $0.00012
  const digits = Math.max(2, -Math.floor(Math.log10(cost)) + 1);
  return `$${cost.toFixed(Math.min(digits, 10))}`;
}

/** Parses the "extra parameters" field: empty, or a JSON object. */
export function parseExtra(text: string): { ok: true; value: Record<string, unknown> | null } | { ok: false; error: string } {
  const t = text.trim();
  if (t === "") return { ok: true, value: null };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return { ok: false, error: "Must be a JSON object, like {\"frequency_penalty\": 0.5}" };
  }
  for (const k of ["model", "messages", "stream", "stream_options"]) {
    if (k in v) return { ok: false, error: `“${k}” is set by the app` };
  }
  return { ok: true, value: v as Record<string, unknown> };
}

export const DEFAULT_PARAMS: ChatParams = {
  temperature: 0.7,
  topP: null,
  maxTokens: 1024,
  stop: [],
  seed: null,
  extra: null,
};

/** A short, readable copy of a whole conversation (for "copy conversation"). */
export function conversationText(turns: readonly Turn[]): string {
  return turns
    .filter((t) => t.content.trim() !== "")
    .map((t) => `${t.role === "user" ? "You" : "Assistant"}: ${t.content}`)
    .join("\n\n");
}
