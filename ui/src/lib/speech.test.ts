import { describe, expect, it } from "vitest";
import type { JobStatus } from "../bindings/JobStatus";
import {
  anyOpen,
  clock,
  dropProblem,
  elapsedText,
  filterRuns,
  hasAudio,
  humanSize,
  isOpen,
  openText,
  pickable,
  refreshed,
  segmentTimes,
  statusTag,
  transcriptText,
  wordDiff,
} from "./speech";

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

describe("speech runs as jobs", () => {
  const run = (id: string, status: JobStatus, file = "ab.wav") => ({ id, status, audio: { file } });

  it("tells open runs from ended ones", () => {
    expect(["submitting", "queued", "running"].every((st) => isOpen(st as JobStatus))).toBe(true);
    expect(["complete", "error", "cancelled", "interrupted"].some((st) => isOpen(st as JobStatus))).toBe(false);
    expect(anyOpen([run("a", "complete"), run("b", "error")])).toBe(false);
    expect(anyOpen([run("a", "complete"), run("b", "queued")])).toBe(true);
    expect(anyOpen([])).toBe(false);
  });

  it("says where an open run stands, and how long it has waited", () => {
    expect(openText("queued", "fal")).toBe("Waiting for fal…");
    expect(openText("submitting", "HF Inference")).toBe("Sending to HF Inference…");
    expect(openText("running", "Replicate")).toBe("Replicate is working on it…");
    expect(elapsedText(1_000, 13_300)).toBe("12.3 s");
    expect(elapsedText(0, 125_000)).toBe("2 min 05 s");
    expect(elapsedText(5_000, 4_000)).toBe("0 ms");
  });

  it("tags kept runs that did not complete", () => {
    expect(statusTag("complete")).toBe("");
    expect(statusTag("queued")).toBe("waiting");
    expect(statusTag("error")).toBe("failed");
    expect(statusTag("interrupted")).toBe("interrupted");
    expect(statusTag("cancelled")).toBe("cancelled");
  });

  it("has audio only once there is a file", () => {
    expect(hasAudio(run("a", "complete"))).toBe(true);
    expect(hasAudio(run("a", "queued", ""))).toBe(false);
  });

  it("follows the run shown when the list is read again", () => {
    const open = run("a", "queued", "");
    // It ended: shown anew with its audio.
    const done = run("a", "complete", "cd.wav");
    expect(refreshed(open, [run("b", "complete"), done])).toEqual({ current: done, changed: true });
    // Nothing changed: the same object stays.
    const same = refreshed(open, [run("a", "queued", "")]);
    expect(same.changed).toBe(false);
    expect(same.current).toBe(open);
    // It failed.
    expect(refreshed(open, [run("a", "error", "")]).changed).toBe(true);
    // Deleted meanwhile, or nothing shown: left as it is.
    expect(refreshed(open, [])).toEqual({ current: open, changed: false });
    expect(refreshed(null, [done])).toEqual({ current: null, changed: false });
  });
});
