import { describe, expect, it } from "vitest";
import type { ImageJob } from "../bindings/ImageJob";
import { costText, durationText, paramsText, parseSeed, presetOf, sizeProblem, statusText, SIZE_PRESETS } from "./images";

function job(over: Partial<ImageJob> = {}): ImageJob {
  return {
    id: "j",
    createdAt: 0,
    updatedAt: 0,
    request: {
      task: "text-to-image",
      model: "m",
      routing: { kind: "auto", policy: "fastest" },
      prompt: "a cat",
      negativePrompt: "",
      width: 1024,
      height: 768,
      steps: 28,
      guidance: 3.5,
      seed: null,
      n: 1,
      billTo: null,
    },
    provider: "fal-ai",
    providerModel: "fal-ai/flux/dev",
    mode: "routed",
    billing: "hf_credits",
    status: "complete",
    providerJob: { id: null, pollUrl: null, resultUrl: null, cancelUrl: null },
    providerStatus: null,
    progress: null,
    images: [],
    seed: 42,
    cost: null,
    billedUnits: null,
    billedUnit: null,
    unitPrice: null,
    error: null,
    requestId: null,
    totalMs: 2400,
    ...over,
  };
}

describe("image playground logic", () => {
  it("never shows an unknown price as $0", () => {
    expect(costText(job())).toBe("price unknown");
    expect(costText(job({ billedUnits: 1, billedUnit: "units" }))).toBe("price unknown (1 units billed)");
    expect(costText(job({ cost: 0.025 }))).toBe("$0.03");
    expect(costText(job({ cost: 0.003 }))).toBe("$0.0030");
    expect(costText(job({ cost: 0 }))).toBe("$0.0000");
  });

  it("checks custom sizes and finds presets", () => {
    expect(sizeProblem(1024, 768)).toBeNull();
    expect(sizeProblem(1000, 1001)).toMatch(/Height must be a multiple of 8/);
    expect(sizeProblem(100, 1024)).toMatch(/between 256 and 2048/);
    expect(sizeProblem(1024.5, 1024)).toMatch(/whole number/);
    expect(presetOf(1344, 768)?.ratio).toBe("16:9");
    expect(presetOf(1000, 1000)).toBeNull();
    for (const p of SIZE_PRESETS) expect(sizeProblem(p.width, p.height)).toBeNull();
  });

  it("says where a job stands and what it used", () => {
    expect(statusText("queued", "IN_QUEUE")).toBe("Waiting in the provider’s queue (IN_QUEUE)");
    expect(statusText("running", "Pending", 0.7)).toBe("Generating · 70% (Pending)");
    expect(statusText("complete", "COMPLETED")).toBe("Done");
    expect(paramsText(job())).toBe("1024×768 · 28 steps · guidance 3.5 · seed 42");
    expect(paramsText(job({ seed: null }))).toContain("seed not reported");
    expect(durationText(850)).toBe("850 ms");
    expect(durationText(12_400)).toBe("12.4 s");
    expect(durationText(125_000)).toBe("2 min 05 s");
  });

  it("reads a seed", () => {
    expect(parseSeed("")).toBeNull();
    expect(parseSeed(" 42 ")).toBe(42);
    expect(parseSeed("-1")).toBe("invalid");
    expect(parseSeed("abc")).toBe("invalid");
  });
});

describe("image compare marks", () => {
  it("marks the quickest and, among known prices only, the cheapest", async () => {
    const { compareMarks } = await import("./images");
    const j = (id: string, totalMs: number | null, cost: number | null, status: "complete" | "error" = "complete") => ({ id, totalMs, cost, status });
    expect(compareMarks([j("a", 900, null), j("b", 400, null), j("c", 100, null, "error")])).toEqual({ quickest: "b", cheapest: null });
    expect(compareMarks([j("a", 900, 0.02), j("b", 400, 0.05), null])).toEqual({ quickest: "b", cheapest: "a" });
    expect(compareMarks([j("a", 900, 0.02)])).toEqual({ quickest: null, cheapest: null });
  });
});
