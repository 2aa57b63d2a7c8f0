// The running answers outlive the screens: they keep streaming with no component mounted, a
// finished answer stays in the store, and Stop calls chat_stop once.
import { flushSync, mount, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatEvent } from "../bindings/ChatEvent";
import type { CallStats } from "../bindings/CallStats";

const calls = vi.hoisted(() => ({
  onEvent: [] as ((e: ChatEvent) => void)[],
  stop: [] as number[],
  saveRetries: [] as number[],
  nextId: 1,
}));

vi.mock("../lib/ipc", () => ({
  api: {
    chatStart: vi.fn(async (_conv: string | null, _req: unknown, onEvent: (e: ChatEvent) => void) => {
      calls.onEvent.push(onEvent);
      return { callId: calls.nextId++, conversationId: "c1", saveError: null };
    }),
    chatStop: vi.fn(async (id: number) => {
      calls.stop.push(id);
      return null;
    }),
    chatSaveRetry: vi.fn(async (id: number) => {
      calls.saveRetries.push(id);
      if (calls.saveRetries.length === 1) throw { code: "disk_full", message: "The disk is still full." };
      return null;
    }),
    billingStatus: vi.fn(async () => {
      throw new Error("not in tests");
    }),
    setPlayground: vi.fn(async () => null),
  },
}));

const { playground } = await import("./playground.svelte");
const { compare } = await import("./compare.svelte");
const { startAnswer, running } = await import("./sessions.svelte");
const { assistantTurn } = await import("../lib/conversation");
const { default: Conversation } = await import("../screens/playground/Conversation.svelte");

const stats: CallStats = {
  provider: "together",
  tokensIn: 3,
  tokensOut: 2,
  usageEstimated: false,
  ttftMs: 10,
  totalMs: 20,
  tokensPerSec: 100,
  pricing: null,
  cost: null,
  finishReason: "stop",
  rateLimit: null,
};
const delta = (content: string): ChatEvent => ({ event: "delta", content, reasoning: "" });
const finished: ChatEvent = { event: "finished", outcome: "complete", error: null, requestId: "r1", stats };

/** Lets the frame-batched stream apply what arrived (its 100 ms timer covers hidden windows). */
function nextFrame() {
  vi.advanceTimersByTime(100);
  flushSync();
}

describe("the running answers", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // No frames in this test: the stream's timer applies the events.
    vi.stubGlobal("requestAnimationFrame", () => 0);
    calls.onEvent = [];
    calls.stop = [];
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("keep streaming after the screen is gone, and show the whole answer when it comes back", async () => {
    playground.model = "m/x";
    playground.draft = "Hello";
    const target = document.createElement("div");
    let screen = mount(Conversation, { target, props: { now: 0 } });
    await playground.send();
    expect(playground.busy).toBe(true);
    const onEvent = calls.onEvent[0]!;
    onEvent(delta("Hi"));
    nextFrame();
    expect(target.querySelector("[data-testid=answer]")?.textContent).toContain("Hi");

    // The user opens another screen: the playground is unmounted, the answer goes on.
    unmount(screen);
    onEvent(delta(" there"));
    nextFrame();
    onEvent(delta(", friend"));
    onEvent(finished);
    nextFrame();
    const answer = playground.turns[1]!;
    expect(answer.content).toBe("Hi there, friend");
    expect(answer.status).toBe("complete");
    expect(playground.busy).toBe(false);
    expect(playground.conversationId).toBe("c1");
    expect(calls.stop).toEqual([]);

    // Back on the playground: the same conversation, the answer whole.
    screen = mount(Conversation, { target, props: { now: 0 } });
    flushSync();
    const articles = target.querySelectorAll("article");
    expect(articles.length).toBe(2);
    expect(target.querySelector("[data-testid=turn-assistant]")?.getAttribute("data-status")).toBe("complete");
    expect(target.querySelector("[data-testid=answer]")?.textContent).toContain("Hi there, friend");
    unmount(screen);
  });

  it("an answer that could not be saved says so, with a Retry that clears the notice once saved", async () => {
    playground.model = "m/x";
    playground.draft = "Hello";
    const target = document.createElement("div");
    const screen = mount(Conversation, { target, props: { now: 0 } });
    await playground.send();
    const onEvent = calls.onEvent.at(-1)!;
    const started = calls.nextId - 1;
    onEvent(delta("Hi"));
    onEvent(finished);
    onEvent({
      event: "not_saved",
      callId: started,
      error: { code: "disk_full", message: "The disk is full: the conversation could not be saved." },
    });
    nextFrame();
    const notice = () => target.querySelector<HTMLElement>("[data-testid=not-saved]");
    expect(notice()?.textContent).toContain("Not saved: The disk is full: the conversation could not be saved.");
    // Still full: the notice stays, with the new reason.
    notice()!.querySelector<HTMLButtonElement>("[data-testid=retry-save]")!.click();
    await vi.waitFor(() => expect(notice()?.textContent).toContain("The disk is still full."));
    flushSync();
    // Space is back: saved, the notice goes.
    notice()!.querySelector<HTMLButtonElement>("[data-testid=retry-save]")!.click();
    await vi.waitFor(() => {
      flushSync();
      expect(notice()).toBeNull();
    });
    expect(calls.saveRetries).toEqual([started, started]);
    unmount(screen);
  });

  it("stop calls chat_stop exactly once, even when asked before the call's id is known", async () => {
    const turn = $state(assistantTurn("m/x"));
    const before = running.count;
    const answer = startAnswer(turn, { conversationId: null, request: {} as never });
    expect(running.count).toBe(before + 1);
    answer.stop(); // before chat_start answered
    answer.stop();
    const started = await answer.started;
    answer.stop();
    expect(calls.stop).toEqual([started!.callId]);
    calls.onEvent.at(-1)!({ ...finished, outcome: "stopped" });
    nextFrame();
    answer.stop(); // finished: nothing more to stop
    expect(calls.stop.length).toBe(1);
    expect(turn.status).toBe("stopped");
    expect(answer.finished).toBe(true);
    expect(running.count).toBe(before);
  });

  it("keep a compare round streaming with no screen, each pane on its own", async () => {
    for (const pane of compare.panes) pane.config.model = "m/x";
    compare.draft = "Compare this";
    await compare.send();
    expect(compare.anyStreaming).toBe(true);
    const [first, second] = calls.onEvent.slice(-2);
    second!(delta("Two"));
    second!(finished);
    nextFrame();
    expect(compare.streaming).toEqual([true, false]);
    first!(delta("One, slowly"));
    first!(finished);
    nextFrame();
    expect(compare.anyStreaming).toBe(false);
    expect(compare.panes.map((p) => p.turns[1]!.content)).toEqual(["One, slowly", "Two"]);
    expect(compare.saved).toBe(true);
    expect(calls.stop).toEqual([]);
  });
});
