import { describe, expect, it } from "vitest";
import {
  cellTitle,
  diffColor,
  flipText,
  formatDiff,
  formatRank,
  formatSim,
  heatColor,
  heatInk,
  modelName,
  pairLabel,
  parseSentences,
  shortLabel,
} from "./embeddings";

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

  it("shows two models' differences and flips in plain words", () => {
    expect(formatDiff(0.1234)).toBe("+0.123");
    expect(formatDiff(-0.0456)).toBe("-0.046");
    expect(formatDiff(-0.0001)).toBe("0.000");
    expect(formatDiff(0)).toBe("0.000");
    expect(diffColor(0.5)).toContain("var(--accent) 70%");
    expect(diffColor(-2)).toContain("#4f7cff 70%");
    expect(diffColor(0)).toContain(" 0%");
    expect(heatInk(1)).toBe("var(--accent-ink)");
    expect(heatInk(0.2)).toBe("var(--text)");
    expect(formatRank(3)).toBe("3");
    expect(formatRank(2.5)).toBe("2.5");
    expect(pairLabel(0, 2)).toBe("S1–S3");
    expect(modelName("BAAI/bge-small-en-v1.5")).toBe("bge-small-en-v1.5");
    expect(modelName("plain")).toBe("plain");
    expect(flipText([0, 2], [1, 3], "a/A", "b/B")).toBe("A ranks S1–S3 above S2–S4; B the other way.");
  });
});
