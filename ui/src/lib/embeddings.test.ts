import { describe, expect, it } from "vitest";
import { cellTitle, formatSim, heatColor, parseSentences, shortLabel } from "./embeddings";

describe("embeddings helpers", () => {
  it("takes one sentence per non-blank line", () => {
    expect(parseSentences(" A cat.\r\n\n  \nA dog. \n")).toEqual(["A cat.", "A dog."]);
    expect(parseSentences("   ")).toEqual([]);
  });

  it("colours more similar cells more strongly", () => {
    const pct = (v: number) => Number(/(\d+)%/.exec(heatColor(v))![1]);
    expect(pct(1)).toBe(100);
    expect(pct(-1)).toBe(6);
    expect(pct(0.9)).toBeGreaterThan(pct(0.2));
    expect(pct(5)).toBe(100);
  });

  it("labels cells and sentences in plain words", () => {
    expect(formatSim(0.98765)).toBe("0.988");
    expect(shortLabel(2, "x".repeat(50), 10)).toBe(`S3: ${"x".repeat(9)}…`);
    expect(cellTitle(["a", "b"], 0, 1, 0.5)).toBe("0.500 — “a” vs “b”");
  });
});
