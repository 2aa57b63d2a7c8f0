// Running answers. Each streamed call belongs to this store, not to a screen: its Channel
// callback (api.chatStart's onEvent) keeps applying events to its turn, frame-batched by
// lib/conversation's streamIntoTurn, whichever screen is shown. Only `stop()` stops a call.
// The playground's conversation (stores/playground) and the compare session (stores/compare)
// hold the turns these answers stream into.
import type { ChatRequest } from "../bindings/ChatRequest";
import type { ChatStarted } from "../bindings/ChatStarted";
import { routeLabel, streamIntoTurn, type Turn } from "../lib/conversation";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { billing } from "./billing.svelte";
import { history } from "./history.svelte";
import { token } from "./token.svelte";

export interface AnswerOptions {
  /** The saved conversation (or compare session) to add to; null starts a new one. */
  conversationId: string | null;
  request: ChatRequest;
  /** A compare session's pane. */
  pane?: number | null;
  /** Wraps each frame's application of events (a screen may keep its view at the bottom). */
  around?: (apply: () => void) => void;
  /** Runs once when the answer stops streaming (finished, stopped, failed or failed to start). */
  onFinished?: (turn: Turn) => void;
}

/** Answers streaming now, whatever screen is shown. */
export const running = $state<{ count: number }>({ count: 0 });

/** One streamed answer into `turn` (an assistant turn in a store's $state). */
export class RunningAnswer {
  /** The call's id once chat_start answered; null before and after. */
  callId = $state<number | null>(null);
  /** No more events will change the turn. */
  finished = $state(false);
  /** What chat_start answered (null if it failed). */
  readonly started: Promise<ChatStarted | null>;
  #stopAsked = false;
  #stopSent = false;

  constructor(
    readonly turn: Turn,
    options: AnswerOptions,
  ) {
    running.count++;
    const done = () => {
      if (this.finished) return;
      this.finished = true;
      this.callId = null;
      running.count--;
      options.onFinished?.(turn);
    };
    const stream = streamIntoTurn(
      () => turn,
      () => {
        done();
        billing.refresh();
        // A 402: what Hugging Face now reports, at once (the card quotes it).
        if (turn.error?.code === "payment_required") void billing.loadUsage();
        history.changed();
        // A 401 may mean Hugging Face rejected the saved token (Rust tells); an answer may
        // mean it works again.
        if (turn.error?.code === "unauthorized" || token.rejected) token.recheck();
      },
      options.around,
    );
    this.started = (async () => {
      try {
        const s = await api.chatStart(options.conversationId, options.request, stream.onEvent, options.pane ?? null);
        // Who pays, as the Rust side decided when it started the call.
        if (s.route) turn.billing = routeLabel(s.route);
        if (!stream.finished) {
          this.callId = s.callId;
          if (this.#stopAsked) this.#sendStop(s.callId);
        }
        history.changed();
        return s;
      } catch (e) {
        if (!stream.finished) {
          stream.finish();
          turn.status = "error";
          turn.error = toAppError(e);
          done();
        }
        return null;
      }
    })();
  }

  /** Stops the call (once; before its id is known, as soon as it is). */
  stop(): void {
    if (this.finished) return;
    if (this.callId !== null) this.#sendStop(this.callId);
    else this.#stopAsked = true;
  }

  #sendStop(id: number) {
    if (this.#stopSent) return;
    this.#stopSent = true;
    api.chatStop(id).catch(() => {});
  }
}

/** Starts streaming an answer into `turn`. */
export function startAnswer(turn: Turn, options: AnswerOptions): RunningAnswer {
  return new RunningAnswer(turn, options);
}

/** Tries again to save an answer that could not be saved (its "not saved" notice's Retry): the
 * notice goes once it is saved, and shows the new reason if it still cannot be. */
export async function retrySave(turn: Turn): Promise<void> {
  const notSaved = turn.notSaved;
  if (!notSaved || notSaved.retrying) return;
  notSaved.retrying = true;
  try {
    await api.chatSaveRetry(notSaved.callId);
    turn.notSaved = null;
    history.changed();
    billing.refresh();
  } catch (e) {
    turn.notSaved = { callId: notSaved.callId, error: toAppError(e), retrying: false };
  }
}
