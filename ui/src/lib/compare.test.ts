import { describe, expect, it } from "vitest";
import type { CallStats } from "../bindings/CallStats";
import type { Catalog } from "../bindings/Catalog";
import type { Conversation } from "../bindings/Conversation";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import type { StoredMessage } from "../bindings/StoredMessage";
import {
  approxTokens,
  cloneParams,
  contextChars,
  continueRouting,
  estimateRoundCost,
  handoff,
  maxPanes,
  paneColumns,
  panesFromConversation,
  paneStatus,
  presetAllProviders,
  presetCheapest,
  roundStats,
  sameSettings,
  summaryMarks,
  type PaneConfig,
} from "./compare";
import { assistantTurn, DEFAULT_PARAMS, userTurn, type Turn } from "./conversation";

function offer(provider: string, o: Partial<ProviderOffer> = {}): ProviderOffer {
  return {
    provider,
    status: "live",
    contextLength: 131072,
    pricing: null,
    isFree: false,
    supportsTools: null,
    supportsStructuredOutput: null,
    firstTokenLatencyMs: null,
    throughput: null,
    ...o,
  };
}

const llama: ModelInfo = {
  id: "meta/llama",
  created: null,
  ownedBy: "meta",
  inputModalities: ["text"],
  outputModalities: ["text"],
  providers: [
    offer("groq", { pricing: { input: 0.5, output: 0.8 }, throughput: 500 }),
    offer("cerebras", { pricing: { input: 0.6, output: 0.6 }, throughput: 900 }),
    offer("novita", { pricing: { input: 0.2, output: 0.3 }, throughput: 100 }),
    offer("together", { status: "error", pricing: { input: 0.1, output: 0.1 }, throughput: 1000 }),
    offer("hyperbolic", { throughput: 50 }),
    offer("freebie", { isFree: true }),
  ],
};

const qwen: ModelInfo = {
  ...llama,
  id: "qwen/qwen",
  providers: [offer("nebius", { pricing: { input: 1, output: 2 }, throughput: 40 })],
};

const catalog: Catalog = { fetchedAt: 1, models: [llama, qwen] };

const base = { params: { ...DEFAULT_PARAMS, maxTokens: 1000 }, system: "" };

function pane(model: string | null, routing: PaneConfig["routing"], o: Partial<PaneConfig> = {}): PaneConfig {
  return { model, routing, params: cloneParams(base.params), system: "", ...o };
}

function stats(o: Partial<CallStats>): CallStats {
  return {
    provider: "groq",
    tokensIn: 10,
    tokensOut: 20,
    usageEstimated: false,
    ttftMs: null,
    totalMs: 1000,
    tokensPerSec: null,
    pricing: null,
    cost: null,
    finishReason: "stop",
    // Newer bindings carry the provider's remaining allowance.
    rateLimit: null,
    ...o,
  } as CallStats;
}

describe("columns", () => {
  it("puts 2 to 4 panes side by side, up to 6 on wide windows", () => {
    expect(maxPanes(1799)).toBe(4);
    expect(maxPanes(1800)).toBe(6);
    expect(paneColumns(2, 1200)).toBe(2);
    expect(paneColumns(4, 1200)).toBe(4);
    expect(paneColumns(6, 1200)).toBe(4);
    expect(paneColumns(6, 1800)).toBe(6);
    expect(paneColumns(5, 2400)).toBe(5);
    expect(paneColumns(8, 2400)).toBe(6);
  });

  it("keeps at most two columns on narrow windows and never fewer than one", () => {
    expect(paneColumns(3, 800)).toBe(2);
    expect(paneColumns(4, 899)).toBe(2);
    expect(paneColumns(1, 1200)).toBe(1);
    expect(paneColumns(0, 1200)).toBe(1);
    // A side panel narrows the panes' area, not the window's allowance.
    expect(paneColumns(4, 1100, 810)).toBe(2);
    expect(paneColumns(6, 1900, 1610)).toBe(6);
  });
});

describe("presets", () => {
  it("puts a model on each of its live providers, fastest first, capped", () => {
    const panes = presetAllProviders(llama, 4, [], base);
    // Live by throughput: cerebras 900, groq 500, novita 100, hyperbolic 50, freebie (unknown);
    // together is not live.
    expect(panes.map((p) => p.routing)).toEqual([
      { kind: "pinned", provider: "cerebras" },
      { kind: "pinned", provider: "groq" },
      { kind: "pinned", provider: "novita" },
      { kind: "pinned", provider: "hyperbolic" },
    ]);
    expect(panes.every((p) => p.model === "meta/llama" && p.params.maxTokens === 1000)).toBe(true);
  });

  it("leaves out disabled providers and copies the parameters per pane", () => {
    const panes = presetAllProviders(llama, 6, ["groq", "cerebras"], base);
    expect(panes.map((p) => (p.routing.kind === "pinned" ? p.routing.provider : ""))).toEqual([
      "novita",
      "hyperbolic",
      "freebie",
    ]);
    expect(panes[0]!.params).not.toBe(base.params);
    expect(panes[0]!.params.stop).not.toBe(panes[1]!.params.stop);
    expect(presetAllProviders(llama, 0, [], base)).toEqual([]);
  });

  it("routes each model once to its cheapest provider", () => {
    const panes = presetCheapest([llama, "other/model", llama, null, qwen], 2, base);
    expect(panes).toEqual([
      { model: "meta/llama", routing: { kind: "auto", policy: "cheapest" }, params: base.params, system: "" },
      { model: "other/model", routing: { kind: "auto", policy: "cheapest" }, params: base.params, system: "" },
    ]);
    expect(panes[0]!.params).not.toBe(base.params);
  });
});

describe("summary marks", () => {
  it("marks the lowest first token, the highest throughput and the cheapest known cost; ties go first", () => {
    const marks = summaryMarks([
      stats({ ttftMs: 300, tokensPerSec: 100, cost: 0.002 }),
      stats({ ttftMs: 240, tokensPerSec: 552, cost: null }),
      null,
      stats({ ttftMs: 240, tokensPerSec: 552, cost: 0.001 }),
    ]);
    expect(marks).toEqual({ fastestFirstToken: 1, highestThroughput: 1, cheapest: 3 });
  });

  it("ignores unknown figures; a free answer is the cheapest", () => {
    expect(summaryMarks([null, stats({}), null])).toEqual({
      fastestFirstToken: null,
      highestThroughput: null,
      cheapest: null,
    });
    expect(
      summaryMarks([stats({ cost: 0.0001, tokensPerSec: 0 }), stats({ cost: 0, ttftMs: 900, tokensPerSec: Number.NaN })]),
    ).toEqual({ fastestFirstToken: 1, highestThroughput: null, cheapest: 1 });
    expect(summaryMarks([])).toEqual({ fastestFirstToken: null, highestThroughput: null, cheapest: null });
  });
});

describe("round cost estimate", () => {
  it("prices a pinned provider: (in × input + out × output) / 1M", () => {
    // 400 chars → 100 tokens in; 1000 out: (100 × 0.5 + 1000 × 0.8) / 1e6 = 0.00085
    const e = estimateRoundCost([pane("meta/llama", { kind: "pinned", provider: "groq" })], catalog, 400);
    expect(e.perPane[0]).toBeCloseTo(0.00085, 12);
    expect(e.total).toBeCloseTo(0.00085, 12);
    expect(e.unknownPrices).toBe(0);
    expect(e.providers).toEqual(["groq"]);
  });

  it("uses the cheapest live priced offer for 'cheapest' and the fastest for 'fastest' and 'preferred'", () => {
    const panes = [
      pane("meta/llama", { kind: "auto", policy: "cheapest" }),
      pane("meta/llama", { kind: "auto", policy: "fastest" }),
      pane("meta/llama", { kind: "auto", policy: "preferred" }),
    ];
    // Free offer available: cheapest costs 0.
    expect(estimateRoundCost(panes, catalog, 400).perPane[0]).toBe(0);
    // Without it: novita (100 × 0.2 + 1000 × 0.3) / 1e6 = 0.00032 (together is cheaper but not
    // live); fastest = cerebras (100 × 0.6 + 1000 × 0.6) / 1e6 = 0.00066.
    const e = estimateRoundCost(panes, catalog, 400, [], ["freebie"]);
    expect(e.providers).toEqual(["novita", "cerebras", "cerebras"]);
    expect(e.perPane[0]).toBeCloseTo(0.00032, 12);
    expect(e.perPane[1]).toBeCloseTo(0.00066, 12);
    expect(e.perPane[2]).toBeCloseTo(0.00066, 12);
    expect(e.total).toBeCloseTo(0.00164, 12);
  });

  it("counts the conversation so far, the system prompt and the default answer length", () => {
    // (400 + 1000 + 9) / 4 = 352.25 → 353 tokens in; no max tokens → 512 out:
    // (353 × 0.2 + 512 × 0.3) / 1e6 = (70.6 + 153.6) / 1e6 = 0.0002242
    const p = pane("meta/llama", { kind: "pinned", provider: "novita" }, {
      system: "Be brief.",
      params: { ...DEFAULT_PARAMS, maxTokens: null },
    });
    const e = estimateRoundCost([pane("meta/llama", { kind: "pinned", provider: "groq" }), p], catalog, 400, [0, 1000]);
    expect(e.perPane[1]).toBeCloseTo(0.0002242, 12);
  });

  it("leaves unknown prices out of the total and counts them", () => {
    const e = estimateRoundCost(
      [
        pane("meta/llama", { kind: "pinned", provider: "groq" }), // 0.00085
        pane("meta/llama", { kind: "auto", policy: "fastest" }), // 0.00066
        pane("meta/llama", { kind: "pinned", provider: "hyperbolic" }), // no price
        pane("unknown/model", { kind: "auto", policy: "cheapest" }),
        pane(null, { kind: "auto", policy: "fastest" }),
        pane("meta/llama", { kind: "pinned", provider: "endpoint:abc" }),
      ],
      catalog,
      400,
    );
    expect(e.perPane.slice(2)).toEqual([null, null, null, null]);
    expect(e.unknownPrices).toBe(4);
    expect(e.total).toBeCloseTo(0.00151, 12);
  });

  it("has no total when no price is known, and a pinned free offer costs 0", () => {
    expect(estimateRoundCost([pane("meta/llama", { kind: "pinned", provider: "hyperbolic" })], null, 10)).toEqual({
      total: null,
      perPane: [null],
      providers: ["hyperbolic"],
      unknownPrices: 1,
    });
    const free = estimateRoundCost([pane("meta/llama", { kind: "pinned", provider: "freebie" })], catalog, 4000);
    expect(free.total).toBe(0);
    // A model whose fastest provider publishes no price.
    const noPrice: Catalog = { fetchedAt: 1, models: [{ ...llama, providers: [offer("x", { throughput: 10 })] }] };
    expect(estimateRoundCost([pane("meta/llama", { kind: "auto", policy: "fastest" })], noPrice, 4).perPane).toEqual([null]);
  });

  it("approximates tokens as characters / 4, rounded up", () => {
    expect(approxTokens(0)).toBe(0);
    expect(approxTokens(1)).toBe(1);
    expect(approxTokens(8)).toBe(2);
    expect(approxTokens(9)).toBe(3);
  });
});

function answered(content: string, o: Partial<Turn> = {}): Turn {
  return { ...assistantTurn("meta/llama"), content, status: "complete", ...o };
}

describe("panes", () => {
  it("reports the status of the last answer, idle before one", () => {
    expect(paneStatus([])).toBe("idle");
    expect(paneStatus([userTurn("hi")])).toBe("idle");
    expect(paneStatus([userTurn("hi"), assistantTurn("m")])).toBe("streaming");
    expect(paneStatus([userTurn("hi"), answered("x", { status: "error" }), userTurn("again")])).toBe("error");
  });

  it("takes complete answers only into the summary", () => {
    const s = stats({ cost: 0.1 });
    expect(roundStats([userTurn("hi"), answered("x", { stats: s })])).toBe(s);
    expect(roundStats([userTurn("hi"), answered("x", { stats: s, status: "stopped" })])).toBeNull();
    expect(roundStats([userTurn("hi")])).toBeNull();
  });

  it("counts the characters of the conversation as sent", () => {
    expect(contextChars([userTurn("abcd"), answered("", { status: "error" }), userTurn("ef"), answered("ghi")])).toBe(9);
  });

  it("compares settings", () => {
    const a = { params: cloneParams(DEFAULT_PARAMS), system: "s" };
    expect(sameSettings([a, { params: cloneParams(DEFAULT_PARAMS), system: "s" }])).toBe(true);
    expect(sameSettings([a, { params: { ...DEFAULT_PARAMS, temperature: 0.2 }, system: "s" }])).toBe(false);
    expect(sameSettings([a, { params: cloneParams(DEFAULT_PARAMS), system: "" }])).toBe(false);
    expect(sameSettings([])).toBe(true);
  });
});

describe("continue in playground", () => {
  const turns = [
    userTurn("Hi"),
    answered("", { status: "error" }),
    userTurn("Again"),
    answered("Hello", { provider: "cerebras" }),
  ];

  it("hands over the conversation, pinned to the provider that served it", () => {
    const h = handoff(pane("meta/llama", { kind: "auto", policy: "fastest" }, { system: "sys" }), turns);
    expect(h).toEqual({
      model: "meta/llama",
      routing: { kind: "pinned", provider: "cerebras" },
      system: "sys",
      params: base.params,
      messages: [
        { role: "user", content: "Hi" },
        { role: "user", content: "Again" },
        { role: "assistant", content: "Hello" },
      ],
    });
  });

  it("keeps a pinned provider, and automatic routing when nothing answered", () => {
    const pinned = { kind: "pinned", provider: "groq" } as const;
    expect(continueRouting(pinned, turns)).toEqual(pinned);
    expect(continueRouting({ kind: "auto", policy: "cheapest" }, [userTurn("x")])).toEqual({
      kind: "auto",
      policy: "cheapest",
    });
    expect(handoff(pane(null, pinned), turns)).toBeNull();
  });
});

describe("reopening a session", () => {
  function msg(seq: number, paneIndex: number, o: Partial<StoredMessage>): StoredMessage {
    return {
      id: seq + 1,
      seq,
      pane: paneIndex,
      role: "user",
      content: "",
      reasoning: "",
      status: "complete",
      createdAt: 0,
      model: null,
      provider: null,
      mode: null,
      params: null,
      stats: null,
      error: null,
      requestId: null,
      ...o,
    };
  }

  it("groups messages by pane and restores each pane's model, provider and parameters", () => {
    const c: Conversation = {
      id: "abc",
      title: "t",
      kind: "compare",
      createdAt: 0,
      updatedAt: 0,
      pinned: false,
      deletedAt: null,
      model: "qwen/qwen",
      routing: { kind: "auto", policy: "cheapest" },
      system: "Be brief.",
      params: { ...DEFAULT_PARAMS, temperature: 0.1 },
      billTo: null,
      messages: [
        msg(3, 1, { role: "assistant", content: "B", model: "qwen/qwen", status: "error" }),
        msg(0, 0, { content: "Hi", model: "meta/llama" }),
        msg(2, 1, { content: "Hi", model: "qwen/qwen" }),
        msg(1, 0, {
          role: "assistant",
          content: "A",
          model: "meta/llama",
          provider: "groq",
          params: { ...DEFAULT_PARAMS, maxTokens: 200 },
        }),
      ],
    };
    const panes = panesFromConversation(c);
    expect(panes.map((p) => p.slot)).toEqual([0, 1]);
    expect(panes[0]!.messages.map((m) => m.content)).toEqual(["Hi", "A"]);
    expect(panes[0]!.config).toEqual({
      model: "meta/llama",
      routing: { kind: "pinned", provider: "groq" },
      params: { ...DEFAULT_PARAMS, maxTokens: 200 },
      system: "Be brief.",
    });
    expect(panes[1]!.messages.map((m) => m.content)).toEqual(["Hi", "B"]);
    expect(panes[1]!.config).toEqual({
      model: "qwen/qwen",
      routing: { kind: "auto", policy: "cheapest" },
      params: { ...DEFAULT_PARAMS, temperature: 0.1 },
      system: "Be brief.",
    });
  });
});
