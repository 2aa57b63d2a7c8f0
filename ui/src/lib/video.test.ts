import { describe, expect, it } from "vitest";
import type { ImageJob } from "../bindings/ImageJob";
import {
  buildVideoRequest,
  clockText,
  queueText,
  etaText,
  isOpen,
  parseDuration,
  videoCostText,
  videoFileOf,
  videoParamsText,
  videoProblem,
  videoStatusText,
  type VideoForm,
} from "./video";

const form = (over: Partial<VideoForm> = {}): VideoForm => ({
  task: "text-to-video",
  model: "Wan-AI/Wan2.2-T2V-A14B",
  routing: { kind: "auto", policy: "fastest" },
  prompt: "a paper boat on a river",
  negativePrompt: "",
  duration: "",
  resolution: "",
  aspectRatio: "",
  seed: "",
  source: null,
  ...over,
});

describe("video times", () => {
  it("reads as seconds, then minutes and seconds, then hours", () => {
    expect(queueText(0)).toBe("Next in the queue");
    expect(queueText(1)).toBe("1 job ahead in the queue");
    expect(queueText(4)).toBe("4 jobs ahead in the queue");
    expect(clockText(0)).toBe("0 s");
    expect(clockText(940)).toBe("0.9 s");
    expect(clockText(3000)).toBe("3 s");
    expect(clockText(42_900)).toBe("42 s");
    expect(clockText(65_000)).toBe("1 min 05 s");
    expect(clockText(600_000)).toBe("10 min 00 s");
    expect(clockText(3_720_000)).toBe("1 h 02 min");
    expect(clockText(null)).toBe("—");
  });

  it("says the time left with where the estimate comes from", () => {
    expect(etaText(40_000, "provider")).toBe("about 40 s left (provider's estimate)");
    expect(etaText(118_000, "past_runs")).toBe("about 2 min left (from past runs)");
    expect(etaText(1_000, "provider")).toBe("about 5 s left (provider's estimate)");
    expect(etaText(0, "past_runs")).toBe("any moment now (from past runs)");
    expect(etaText(null, "provider")).toBeNull();
    expect(etaText(30_000, null)).toBe("about 30 s left");
  });
});

describe("the video request", () => {
  it("leaves the provider's defaults out and carries the task, duration, resolution, aspect and seed", () => {
    const plain = buildVideoRequest(form())!;
    expect(plain).toMatchObject({ task: "text-to-video", model: "Wan-AI/Wan2.2-T2V-A14B", seed: null, n: 1, width: null });
    expect(plain).not.toHaveProperty("duration");
    expect(plain).not.toHaveProperty("resolution");
    expect(plain).not.toHaveProperty("aspectRatio");
    expect(plain).not.toHaveProperty("source");
    const full = buildVideoRequest(form({ duration: " 5 ", resolution: "720p", aspectRatio: "9:16", seed: "42" }))!;
    expect(full).toMatchObject({ duration: 5, resolution: "720p", aspectRatio: "9:16", seed: 42 });
  });

  it("sends the start picture in image to video only, and needs one there", () => {
    const pic = "data:image/png;base64,AAAA";
    expect(buildVideoRequest(form({ source: pic }))).not.toHaveProperty("source");
    expect(videoProblem(form({ task: "image-to-video", model: "Wan-AI/Wan2.2-I2V-A14B" }))).toMatch(/picture/);
    expect(buildVideoRequest(form({ task: "image-to-video" }))).toBeNull();
    expect(buildVideoRequest(form({ task: "image-to-video", source: pic }))).toMatchObject({ task: "image-to-video", source: pic });
  });

  it("refuses a missing model or prompt, a bad length or seed", () => {
    expect(videoProblem(form({ model: null }))).toMatch(/model/);
    expect(videoProblem(form({ prompt: "  " }))).toMatch(/prompt/);
    for (const d of ["0", "61", "2.5", "x"]) expect(videoProblem(form({ duration: d }))).toMatch(/duration/);
    expect(videoProblem(form({ seed: "-3" }))).toMatch(/seed/);
    expect(parseDuration("")).toBeNull();
    expect(parseDuration("60")).toBe(60);
    expect(parseDuration("1")).toBe(1);
  });
});

function job(over: Partial<ImageJob> = {}): ImageJob {
  return {
    id: "j",
    createdAt: 0,
    updatedAt: 0,
    request: { ...buildVideoRequest(form({ duration: "5", resolution: "480p" }))! },
    provider: "together",
    providerModel: "Wan-AI/Wan2.2-T2V-A14B",
    mode: "routed",
    billing: "hf_credits",
    status: "complete",
    providerJob: { id: null, pollUrl: null, resultUrl: null, cancelUrl: null },
    providerStatus: null,
    progress: null,
    images: [{ file: "ab.webm", mime: "video/webm", bytes: 3 }],
    seed: 7,
    cost: null,
    billedUnits: null,
    billedUnit: null,
    unitPrice: null,
    error: null,
    requestId: null,
    totalMs: 65_000,
    ...over,
  };
}

describe("a video job as shown", () => {
  it("never shows $0 for an unknown price, and says a provider's dollar figure is theirs", () => {
    expect(videoCostText(job(), "Together")).toBe("price unknown");
    expect(videoCostText(job({ billedUnits: 0.35, billedUnit: "USD" }), "Together")).toBe(
      "price unknown · Together reports $0.35 (the provider's figure)",
    );
    expect(videoCostText(job({ cost: 0.4 }), "fal")).toBe("$0.40");
    expect(videoCostText(job({ billedUnits: 12, billedUnit: "seconds" }), "Replicate")).toBe("price unknown (12 seconds billed)");
  });

  it("finds the video file, the settings and the state in words", () => {
    expect(videoFileOf(job())).toBe("ab.webm");
    expect(videoFileOf(job({ images: [{ file: "a.png", mime: "image/png", bytes: 1 }] }))).toBeNull();
    expect(videoParamsText(job())).toBe("5 s · 480p · seed 7");
    expect(videoStatusText("queued", "IN_QUEUE")).toBe("In queue (IN_QUEUE)");
    expect(videoStatusText("running", null)).toBe("Generating");
    expect(isOpen("queued")).toBe(true);
    expect(isOpen("interrupted")).toBe(false);
  });
});
