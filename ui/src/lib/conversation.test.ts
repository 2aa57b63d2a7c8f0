import { afterEach, describe, expect, it, vi } from "vitest";
import type { CallStats } from "../bindings/CallStats";
import {
  billToUnused,
  applyEvent,
  assistantTurn,
  EventBuffer,
  formatCost,
  formatMs,
  formatSpeed,
  formatTokens,
  parseExtra,
  requestMessages,
  retrySecondsLeft,
  streamIntoTurn,
  frameShare,
  turnFromStored,
  userTurn,
} from "./conversation";

const stats: CallStats = {
  provider: "groq",
  tokensIn: 1200,
  tokensOut: 34,
  usageEstimated: false,
  ttftMs: 240.5,
  totalMs: 1830,
  tokensPerSec: 552.3,
  pricing: { input: 0.15, output: 0.75 },
  cost: 0.0002055,
  finishReason: "stop",
  rateLimit: null,
};

describe("turns", () => {
  it("streams deltas into the answer and finishes with the figures", () => {
    const t = assistantTurn("m/x");
    const b = new EventBuffer();
    b.push({ event: "started", requestId: "r-1", provider: "groq" });
    b.push({ event: "delta", content: "Hel", reasoning: "hmm " });
    b.push({ event: "delta", content: "lo", reasoning: "" });
    expect(b.empty).toBe(false);
    b.applyTo(t);
    expect(b.empty).toBe(true);
    expect(t.content).toBe("Hello");
    expect(t.reasoning).toBe("hmm ");
    expect(t.provider).toBe("groq");
    expect(t.requestId).toBe("r-1");
    expect(t.status).toBe("streaming");
    b.push({ event: "finished", outcome: "stopped", error: null, requestId: "r-1", stats });
    b.applyTo(t);
    expect(t.status).toBe("stopped");
    expect(t.stats?.tokensOut).toBe(34);
  });

  it("a retry shows a countdown target, cleared when the answer starts", () => {
    const t = assistantTurn("m/x");
    const error = { code: "rate_limited" as const, message: "429" };
    applyEvent(t, { event: "retrying", attempt: 1, maxAttempts: 3, waitMs: 2000, error, requestId: "r" }, 1000);
    expect(t.retry).toEqual({ attempt: 1, maxAttempts: 3, until: 3000, error });
    applyEvent(t, { event: "started", requestId: "r2", provider: null });
    expect(t.retry).toBeNull();
  });

  it("a retry countdown starts at the wait asked, not one second above it", () => {
    const error = { code: "rate_limited" as const, message: "429" };
    for (const [waitMs, shown] of [
      [1000, 1],
      [2000, 2],
      [4000, 4],
    ]) {
      const t = assistantTurn("m/x");
      // The event is applied at 10 000; the screen's clock last ticked 200 ms before.
      applyEvent(t, { event: "retrying", attempt: 1, maxAttempts: 3, waitMs, error, requestId: "r" }, 10_000);
      expect(retrySecondsLeft(t.retry!, 9_800, () => 10_000)).toBe(shown);
      // Later ticks count down to zero, never below.
      expect(retrySecondsLeft(t.retry!, 10_000 + waitMs - 400, () => 10_000 + waitMs - 400)).toBe(1);
      expect(retrySecondsLeft(t.retry!, 10_000 + waitMs + 50, () => 10_000 + waitMs + 50)).toBe(0);
    }
  });

  it("errors keep the text that came before", () => {
    const t = assistantTurn("m/x");
    applyEvent(t, { event: "delta", content: "partial", reasoning: "" });
    const error = { code: "stream_interrupted" as const, message: "cut" };
    applyEvent(t, { event: "finished", outcome: "error", error, requestId: null, stats });
    expect(t.status).toBe("error");
    expect(t.content).toBe("partial");
    expect(t.error).toEqual(error);
  });

  it("request messages skip empty failed answers but keep partial ones", () => {
    const a1 = assistantTurn("m");
    a1.content = "first answer";
    const failed = assistantTurn("m");
    failed.status = "error";
    const turns = [userTurn("q1"), a1, userTurn("q2"), failed, userTurn("q3"), assistantTurn("m")];
    expect(requestMessages(turns, 5)).toEqual([
      { role: "user", content: "q1" },
      { role: "assistant", content: "first answer" },
      { role: "user", content: "q2" },
      { role: "user", content: "q3" },
    ]);
  });
});

describe("saved messages", () => {
  it("become turns; an unfinished answer shows as interrupted", () => {
    const base = {
      id: 1,
      seq: 1,
      pane: 0,
      role: "assistant" as const,
      content: "Once upon",
      reasoning: "",
      status: "streaming" as const,
      createdAt: 0,
      model: "m/x",
      provider: "groq",
      mode: "routed" as const,
      params: null,
      stats: null,
      error: null,
      requestId: "r",
    };
    const t = turnFromStored(base);
    expect(t.status).toBe("interrupted");
    expect(t.content).toBe("Once upon");
    expect(turnFromStored({ ...base, status: "stopped" }).status).toBe("stopped");
    expect(turnFromStored({ ...base, role: "user", status: "complete" }).role).toBe("user");
    expect(t.images).toEqual([]);
    const pictured = turnFromStored({ ...base, role: "user", status: "complete", images: ["ab.png"] });
    expect(pictured.images).toEqual(["ab.png"]);
    // Sent again with the thread: the picture goes with its message, by file name.
    expect(requestMessages([pictured])).toEqual([{ role: "user", content: "Once upon", images: ["ab.png"] }]);
  });
});

describe("figures", () => {
  it("formats tokens, times, speed and cost", () => {
    expect(formatTokens(stats)).toBe("1,200 in · 34 out");
    expect(formatTokens({ ...stats, usageEstimated: true })).toBe("1,200 in · 34 out (estimated)");
    expect(formatMs(240.5)).toBe("241 ms");
    expect(formatMs(1830)).toBe("1.83 s");
    expect(formatMs(null)).toBe("—");
    expect(formatSpeed(552.3)).toBe("552 tok/s");
    expect(formatSpeed(41.66)).toBe("41.7 tok/s");
    expect(formatCost(0.0002055)).toBe("$0.00021");
    expect(formatCost(0.1234)).toBe("$0.1234");
    expect(formatCost(0)).toBe("$0");
    expect(formatCost(null)).toBe("price unknown");
  });
});

describe("extra parameters", () => {
  it("accepts an object or nothing, explains anything else", () => {
    expect(parseExtra("")).toEqual({ ok: true, value: null });
    expect(parseExtra('{"frequency_penalty": 0.5}')).toEqual({ ok: true, value: { frequency_penalty: 0.5 } });
    const bad = parseExtra("{oops");
    expect(bad.ok).toBe(false);
    expect(parseExtra("[1]")).toMatchObject({ ok: false });
    expect(parseExtra('{"model": "x"}')).toMatchObject({ ok: false, error: "“model” is set by the app" });
  });
});

describe("streaming into a turn", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("applies events once a frame and finishes once", () => {
    vi.useFakeTimers();
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
    const t = assistantTurn("m/x");
    let finishedCalls = 0;
    let applied = 0;
    const s = streamIntoTurn(
      () => t,
      () => finishedCalls++,
      (apply) => {
        applied++;
        apply();
      },
    );
    s.onEvent({ event: "delta", content: "a", reasoning: "" });
    s.onEvent({ event: "delta", content: "b", reasoning: "" });
    expect(t.content).toBe("");
    expect(frames.length).toBe(1);
    frames[0]!(0);
    expect(t.content).toBe("ab");
    vi.advanceTimersByTime(100);
    expect(applied).toBe(1);
    s.onEvent({ event: "finished", outcome: "complete", error: null, requestId: null, stats });
    // A hidden window gets no frames: the timer applies it.
    vi.advanceTimersByTime(100);
    expect(t.status).toBe("complete");
    expect(s.finished).toBe(true);
    expect(finishedCalls).toBe(1);
    // The frame asked for the last event comes (a no-op now), as it would once shown again.
    for (const f of frames.slice(1)) f(0);
    expect(finishedCalls).toBe(1);
  });
});

describe("many streams at once", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("a frame applies all of two streams, half of more", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(frameShare)).toEqual([0, 1, 2, 2, 2, 3, 3, 4]);
  });

  it("six panes take turns: each is applied every other frame, those that waited first", () => {
    let frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
    const runFrame = () => {
      const now = frames;
      frames = [];
      for (const f of now) f(0);
    };
    const turns = [0, 1, 2, 3, 4, 5].map(() => assistantTurn("m/x"));
    const streams = turns.map((t) => streamIntoTurn(() => t, () => {}));
    const send = () => streams.forEach((s, i) => s.onEvent({ event: "delta", content: String(i), reasoning: "" }));
    send();
    expect(frames).toHaveLength(1);
    runFrame();
    expect(turns.map((t) => t.content)).toEqual(["0", "1", "2", "", "", ""]);
    // Every pane has more by the next frame: the three that waited go first.
    send();
    runFrame();
    expect(turns.map((t) => t.content)).toEqual(["0", "1", "2", "33", "44", "55"]);
    send();
    runFrame();
    expect(turns.map((t) => t.content)).toEqual(["000", "111", "222", "33", "44", "55"]);
    // Once the answers end, what is left is applied in the frames after.
    runFrame();
    runFrame();
    expect(turns.map((t) => t.content)).toEqual(["000", "111", "222", "333", "444", "555"]);
    expect(frames).toHaveLength(0);
  });
});

describe("bill to an organisation", () => {
  const route = (mode: "routed" | "own_key" | "endpoint", who: string | null) => ({
    mode,
    billing: mode === "routed" ? ("hf_credits" as const) : mode === "own_key" ? ("provider" as const) : ("endpoint" as const),
    who,
    billTo: null,
  });

  it("applies to calls through Hugging Face only, and says why not otherwise", () => {
    expect(billToUnused(null)).toBeNull();
    expect(billToUnused(route("routed", "Groq"))).toBeNull();
    expect(billToUnused(route("own_key", "Groq"))).toBe("Groq bills your own key: no organisation is billed.");
    expect(billToUnused(route("endpoint", "My vLLM"))).toContain("custom endpoint");
  });
});
