import { describe, expect, it } from "vitest";
import { clock, dropProblem, filterRuns, humanSize, pickable, segmentTimes, transcriptText, wordDiff } from "./speech";

describe("speech helpers", () => {
  it("offers the mapped providers and keeps the pinned one visible", () => {
    expect(pickable(["hf-inference", "together", "deepinfra"], "")).toEqual(["hf-inference", "together", "deepinfra"]);
    expect(pickable(["hf-inference", "together"], "together")).toEqual(["hf-inference", "together"]);
    expect(pickable(["hf-inference", "together"], "replicate")).toEqual(["hf-inference", "together", "replicate"]);
  });

  it("writes times as m:ss.s", () => {
    expect(clock(0)).toBe("0:00.0");
    expect(clock(4.08)).toBe("0:04.1");
    expect(clock(61.5)).toBe("1:01.5");
    expect(segmentTimes({ start: 0, end: 4.08, text: "x" })).toBe("0:00.0 → 0:04.1");
    expect(segmentTimes({ start: null, end: null, text: "x" })).toBe("");
  });

  it("copies a transcript with its times, as the text export does", () => {
    expect(transcriptText(" a man said ", [])).toBe("a man said\n");
    expect(
      transcriptText("A man said. Sir.", [
        { start: 0, end: 4.08, text: " A man said." },
        { start: 4.08, end: null, text: "Sir." },
      ]),
    ).toBe("[0:00.0 → 0:04.1] A man said.\n[0:04.1] Sir.\n");
  });

  it("says sizes and refuses empty or huge drops before reading them", () => {
    expect(humanSize(812)).toBe("812 B");
    expect(humanSize(32044)).toBe("31.3 KB");
    expect(dropProblem({ size: 0 })).toMatch(/empty/);
    expect(dropProblem({ size: 26 * 1024 * 1024 })).toMatch(/25 MB/);
    expect(dropProblem({ size: 1000 })).toBeNull();
  });

  it("finds kept runs by every word typed, in any field", () => {
    const runs = [
      { id: 1, text: "A man said to the universe", model: "openai/whisper-large-v3", provider: "fal-ai", audioName: "hello.wav" },
      { id: 2, text: "Hello world", model: "hexgrad/Kokoro-82M", provider: "replicate", audioName: null },
    ];
    expect(filterRuns(runs, "").length).toBe(2);
    expect(filterRuns(runs, "UNIVERSE whisper").map((r) => r.id)).toEqual([1]);
    expect(filterRuns(runs, "hello").map((r) => r.id)).toEqual([1, 2]);
    expect(filterRuns(runs, "kokoro world").map((r) => r.id)).toEqual([2]);
    expect(filterRuns(runs, "nothing")).toEqual([]);
  });

  it("marks the words two transcripts disagree on, case and punctuation aside", () => {
    const same = wordDiff("a man said to the universe sir i exist", "A man said to the universe, Sir, I exist.");
    expect(same.agree).toBe(true);
    const d = wordDiff("the cat sat on the mat", "the cat sits on a mat today");
    expect(d.agree).toBe(false);
    expect(d.a.filter((w) => !w.same).map((w) => w.word)).toEqual(["sat", "the"]);
    expect(d.b.filter((w) => !w.same).map((w) => w.word)).toEqual(["sits", "a", "today"]);
    expect(d.b.map((w) => w.word).join(" ")).toBe("the cat sits on a mat today");
    expect(wordDiff("", "hello").b).toEqual([{ word: "hello", same: false }]);
  });
});
