import { describe, expect, it } from "vitest";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import {
  EMPTY_FILTER,
  POLICIES,
  allProviders,
  buildIndex,
  filterModels,
  formatContext,
  formatLatency,
  formatPrice,
  formatRelative,
  formatThroughput,
  maxTokensCap,
  moveActive,
  pushRecent,
  queryIndex,
  revealRow,
  routingLabel,
  sortOffers,
  splitId,
  summarize,
  visibleRange,
  type ModelFilter,
} from "./catalog";

// contextLength is a u64 on the Rust side; the generated type may say bigint or number.
const ctx = (n: number) => n as unknown as ProviderOffer["contextLength"];

function offer(provider: string, o: Partial<ProviderOffer> = {}): ProviderOffer {
  return {
    provider,
    status: "live",
    contextLength: null,
    pricing: null,
    isFree: false,
    supportsTools: null,
    supportsStructuredOutput: null,
    firstTokenLatencyMs: null,
    throughput: null,
    ...o,
  };
}

function model(id: string, providers: ProviderOffer[] = [offer("groq")], inputModalities = ["text"]): ModelInfo {
  return { id, created: null, ownedBy: null, inputModalities, outputModalities: ["text"], providers };
}

const f = (o: Partial<ModelFilter> = {}): ModelFilter => ({ ...EMPTY_FILTER, ...o });
const ids = (ms: ModelInfo[]) => ms.map((m) => m.id);

describe("summarize", () => {
  it("counts live offers and finds the cheapest", () => {
    const m = model(
      "meta-llama/Llama-3.1-8B-Instruct",
      [
        offer("groq", { pricing: { input: 0.05, output: 0.08 }, supportsTools: true }),
        offer("together", { pricing: { input: 0.18, output: 0.18 } }),
        offer("cheap-but-down", { status: "error", pricing: { input: 0, output: 0.01 }, supportsTools: true }),
        offer("nebius"),
      ],
      ["text", "image"],
    );
    const s = summarize(m);
    expect(s.liveCount).toBe(3);
    expect(s.cheapest?.provider).toBe("groq");
    expect(s.providers).toEqual(["groq", "together", "nebius"]);
    expect(s.vision).toBe(true);
    expect(s.tools).toBe(true);
    expect(s.isFree).toBe(false);
  });

  it("handles no live or no priced offers", () => {
    const none = summarize(model("a/b", [offer("x", { status: "error", supportsTools: true, isFree: true })]));
    expect(none).toMatchObject({ liveCount: 0, cheapest: null, isFree: false, tools: false, providers: [] });
    const unpriced = summarize(model("a/b", [offer("x")]));
    expect(unpriced.cheapest).toBeNull();
    expect(unpriced.vision).toBe(false);
  });

  it("detects free offers", () => {
    expect(summarize(model("a/b", [offer("x", { isFree: true })])).isFree).toBe(true);
    expect(summarize(model("a/b", [offer("x", { pricing: { input: 0, output: 0 } })])).isFree).toBe(true);
    expect(summarize(model("a/b", [offer("x", { pricing: { input: 0, output: 0.1 } })])).isFree).toBe(false);
  });
});

describe("filterModels", () => {
  const catalog = [
    model("meta-llama/Llama-3.1-8B-Instruct", [offer("groq"), offer("together"), offer("nebius")]),
    model("meta-llama/Llama-3.3-70B-Instruct", [offer("groq"), offer("together")]),
    model("Qwen/Qwen2.5-VL-7B-Instruct", [offer("hyperbolic", { isFree: true })], ["text", "image"]),
    model("deepseek-ai/DeepSeek-R1", [offer("together", { supportsTools: true }), offer("fireworks-ai")]),
    model("openai/gpt-oss-120b", [offer("groq", { supportsTools: true }), offer("cerebras"), offer("fireworks-ai"), offer("together")]),
    model("someone/llama-dead", [offer("groq", { status: "error" })]),
    model("llama", [offer("groq")]),
  ];

  it("lists recent first, then by live providers, then id, unavailable last", () => {
    expect(ids(filterModels(catalog, f(), ["Qwen/Qwen2.5-VL-7B-Instruct", "someone/llama-dead"]))).toEqual([
      "Qwen/Qwen2.5-VL-7B-Instruct",
      "openai/gpt-oss-120b",
      "meta-llama/Llama-3.1-8B-Instruct",
      "deepseek-ai/DeepSeek-R1",
      "meta-llama/Llama-3.3-70B-Instruct",
      "llama",
      "someone/llama-dead",
    ]);
  });

  it("requires every term, case-insensitively", () => {
    expect(ids(filterModels(catalog, f({ query: "LLAMA 70b" }), []))).toEqual(["meta-llama/Llama-3.3-70B-Instruct"]);
    expect(ids(filterModels(catalog, f({ query: "  instruct   qwen " }), []))).toEqual(["Qwen/Qwen2.5-VL-7B-Instruct"]);
    expect(filterModels(catalog, f({ query: "nothing-like-this" }), [])).toEqual([]);
  });

  it("ranks exact match, then name prefix, then recent, then live count, then id", () => {
    const recent = ["meta-llama/Llama-3.3-70B-Instruct"];
    expect(ids(filterModels(catalog, f({ query: "llama" }), recent))).toEqual([
      "llama", // exact
      "meta-llama/Llama-3.3-70B-Instruct", // name prefix, recent
      "meta-llama/Llama-3.1-8B-Instruct", // name prefix
      "someone/llama-dead", // unavailable: last
    ]);
    expect(ids(filterModels(catalog, f({ query: "instruct" }), recent))).toEqual([
      "meta-llama/Llama-3.3-70B-Instruct",
      "meta-llama/Llama-3.1-8B-Instruct",
      "Qwen/Qwen2.5-VL-7B-Instruct",
    ]);
    // A whole-id prefix counts like a name prefix.
    expect(ids(filterModels(catalog, f({ query: "deepseek-ai/" }), []))).toEqual(["deepseek-ai/DeepSeek-R1"]);
  });

  it("applies the chips and the provider filter", () => {
    expect(ids(filterModels(catalog, f({ vision: true }), []))).toEqual(["Qwen/Qwen2.5-VL-7B-Instruct"]);
    expect(ids(filterModels(catalog, f({ free: true }), []))).toEqual(["Qwen/Qwen2.5-VL-7B-Instruct"]);
    expect(ids(filterModels(catalog, f({ tools: true }), []))).toEqual(["openai/gpt-oss-120b", "deepseek-ai/DeepSeek-R1"]);
    expect(ids(filterModels(catalog, f({ provider: "fireworks-ai", query: "r1" }), []))).toEqual([
      "deepseek-ai/DeepSeek-R1",
    ]);
    // Only live offers count for the provider filter.
    expect(ids(filterModels(catalog, f({ provider: "groq", query: "dead" }), []))).toEqual([]);
  });

  it("reuses the index for the same array and rebuilds when it grows", () => {
    const list = [...catalog];
    expect(filterModels(list, f({ query: "newcomer" }), [])).toEqual([]);
    list.push(model("acme/newcomer"));
    expect(ids(filterModels(list, f({ query: "newcomer" }), []))).toEqual(["acme/newcomer"]);
  });

  it("stays fast on 5,000 models", () => {
    const owners = ["meta-llama", "Qwen", "mistralai", "google", "deepseek-ai", "microsoft", "openai", "nvidia"];
    const providers = ["groq", "together", "nebius", "fireworks-ai", "cerebras", "hyperbolic", "novita", "sambanova"];
    const many: ModelInfo[] = [];
    for (let i = 0; i < 5000; i++) {
      const offers = providers
        .filter((_, j) => (i + j) % 3 === 0)
        .map((p, j) => offer(p, { throughput: 50 + j * 10, pricing: { input: 0.1 * j, output: 0.2 * j }, supportsTools: j % 2 === 0 }));
      many.push(model(`${owners[i % owners.length]}/Model-${i}-${i % 7 === 0 ? "Instruct" : "Base"}-${(i * 7919) % 1000}B`, offers, i % 5 === 0 ? ["text", "image"] : ["text"]));
    }
    const queries = ["l", "ll", "lla", "llama", "qwen", "model-1", "instruct 7", "deep", "x", "", "mistral base", "google/model-4"];
    const recent = many.slice(0, 8).map((m) => m.id);
    filterModels(many, f(), recent); // builds the index once
    const runs = 50;
    const start = performance.now();
    let total = 0;
    for (let i = 0; i < runs; i++) {
      const q = queries[i % queries.length]!;
      total += filterModels(many, f({ query: q, tools: i % 4 === 0, vision: i % 9 === 0 }), recent).length;
    }
    const avg = (performance.now() - start) / runs;
    expect(total).toBeGreaterThan(0);
    expect(avg).toBeLessThan(20);
  });

  it("exposes the index directly", () => {
    const index = buildIndex(catalog);
    expect(index.size).toBe(catalog.length);
    expect(ids(queryIndex(index, f({ query: "gpt" }), []))).toEqual(["openai/gpt-oss-120b"]);
  });
});

describe("catalog helpers", () => {
  it("lists providers present in the catalog", () => {
    expect(allProviders([model("a/b", [offer("Together"), offer("groq")]), model("c/d", [offer("groq", { status: "error" }), offer("cerebras")])])).toEqual([
      "cerebras",
      "groq",
      "Together",
    ]);
  });

  it("splits ids", () => {
    expect(splitId("meta-llama/Llama-3")).toEqual({ owner: "meta-llama", name: "Llama-3" });
    expect(splitId("gpt2")).toEqual({ owner: "", name: "gpt2" });
  });
});

describe("formatting", () => {
  it("formats prices", () => {
    expect(formatPrice({ input: 0.15, output: 0.75 }, false)).toBe("$0.15 / $0.75 per 1M");
    expect(formatPrice({ input: 2, output: 0.6 }, false)).toBe("$2 / $0.60 per 1M");
    expect(formatPrice({ input: 0.035, output: 0.0042 }, false)).toBe("$0.035 / $0.0042 per 1M");
    expect(formatPrice({ input: 0, output: 0 }, false)).toBe("Free");
    expect(formatPrice(null, true)).toBe("Free");
    expect(formatPrice(null, false)).toBe("—");
  });

  it("formats latency, throughput and context", () => {
    expect(formatLatency(320.4)).toBe("320 ms");
    expect(formatLatency(1400)).toBe("1.4 s");
    expect(formatLatency(12_300)).toBe("12 s");
    expect(formatLatency(null)).toBe("—");
    expect(formatThroughput(551.6)).toBe("552 tok/s");
    expect(formatThroughput(null)).toBe("—");
    expect(formatContext(131072)).toBe("131k ctx");
    expect(formatContext(8192)).toBe("8k ctx");
    expect(formatContext(ctx(1_048_576))).toBe("1M ctx");
    expect(formatContext(BigInt(32768))).toBe("33k ctx");
    expect(formatContext(512)).toBe("512 ctx");
    expect(formatContext(null)).toBe("—");
  });

  it("formats relative times", () => {
    const now = 1_700_000_000;
    expect(formatRelative(now - 5, now)).toBe("just now");
    expect(formatRelative(now - 300, now)).toBe("5 min ago");
    expect(formatRelative(now - 3 * 3600, now)).toBe("3 h ago");
    expect(formatRelative(now - 86_400, now)).toBe("yesterday");
    expect(formatRelative(now - 3 * 86_400, now)).toBe("3 days ago");
    expect(formatRelative(null, now)).toBe("never");
  });
});

describe("routing", () => {
  it("offers three policies, fastest first", () => {
    expect(POLICIES.map((p) => p.label)).toEqual(["Fastest", "Cheapest", "Preferred"]);
    expect(POLICIES[0]!.hint).toBe("The provider with the highest throughput");
    expect(routingLabel({ kind: "auto", policy: "cheapest" })).toBe("Automatic · Cheapest");
    expect(routingLabel({ kind: "pinned", provider: "groq" })).toBe("groq");
  });

  it("sorts offers: live first, then throughput, unknown last", () => {
    const sorted = sortOffers([
      offer("slow", { throughput: 40 }),
      offer("down", { status: "error", throughput: 900 }),
      offer("unknown"),
      offer("fast", { throughput: 552 }),
      offer("other", { status: "other" }),
    ]);
    expect(sorted.map((o) => o.provider)).toEqual(["fast", "slow", "unknown", "down", "other"]);
  });

  it("caps max tokens at the context length", () => {
    expect(maxTokensCap(offer("x", { contextLength: ctx(131072) }))).toBe(131072);
    expect(maxTokensCap(offer("x"))).toBeNull();
    expect(maxTokensCap(null)).toBeNull();
  });

  it("keeps a short recently-used list", () => {
    expect(pushRecent(["a", "b", "c"], "b")).toEqual(["b", "a", "c"]);
    expect(pushRecent(["a", "b"], "z", 2)).toEqual(["z", "a"]);
    expect(pushRecent([], "a")).toEqual(["a"]);
    expect(pushRecent("abcdefgh".split(""), "x")).toHaveLength(8);
  });
});

describe("list helpers", () => {
  it("moves the active row, clamped, skipping disabled rows", () => {
    expect(moveActive(0, 1, 3)).toBe(1);
    expect(moveActive(2, 1, 3)).toBe(2);
    expect(moveActive(0, -1, 3)).toBe(0);
    expect(moveActive(-1, 1, 3)).toBe(0);
    expect(moveActive(0, 1, 0)).toBe(-1);
    const disabled = (i: number) => i === 1 || i === 4;
    expect(moveActive(0, 1, 5, disabled)).toBe(2);
    expect(moveActive(2, -1, 5, disabled)).toBe(0);
    expect(moveActive(3, 1, 5, disabled)).toBe(3);
    expect(moveActive(0, 10, 5, disabled)).toBe(3);
  });

  it("computes the virtual window and reveals rows", () => {
    expect(visibleRange(0, 520, 52, 5000, 6)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(52 * 100, 520, 52, 5000, 6)).toEqual({ start: 94, end: 116 });
    expect(visibleRange(52 * 4995, 520, 52, 5000, 6)).toEqual({ start: 4989, end: 5000 });
    expect(visibleRange(0, 520, 52, 3)).toEqual({ start: 0, end: 3 });
    expect(revealRow(20, 0, 520, 52)).toBe(21 * 52 - 520);
    expect(revealRow(2, 52 * 5, 520, 52)).toBe(104);
    expect(revealRow(7, 52 * 5, 520, 52)).toBe(260);
  });
});
