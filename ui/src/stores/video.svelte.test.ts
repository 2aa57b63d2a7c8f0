import { flushSync, mount, tick, unmount } from "svelte";
import { describe, expect, it, vi } from "vitest";
import type { ImageCatalog } from "../bindings/ImageCatalog";
import type { ImageEvent } from "../bindings/ImageEvent";
import type { ImageJob } from "../bindings/ImageJob";
import type { ImageRequest } from "../bindings/ImageRequest";
import { etaText } from "../lib/video";

const sent = vi.hoisted(() => ({
  requests: [] as unknown[],
  cancelled: [] as string[],
  catalogs: [] as string[],
  lists: [] as unknown[][],
  emits: [] as ((e: ImageEvent) => void)[],
}));

const catalogOf = (task: string): ImageCatalog => ({
  fetchedAt: 1,
  models:
    task === "text-to-video"
      ? [
          { id: "other/t2v", likes: 1, providers: [] },
          {
            id: "Wan-AI/Wan2.2-T2V-A14B",
            likes: 9,
            providers: [{ provider: "fal-ai", status: "live", providerId: "fal-ai/wan", supported: true, pricePerImage: null }],
          },
        ]
      : [
          {
            id: "Wan-AI/Wan2.2-I2V-A14B",
            likes: 5,
            providers: [{ provider: "replicate", status: "live", providerId: "wan-i2v", supported: true, pricePerImage: null }],
          },
        ],
});

vi.mock("../lib/ipc", () => ({
  api: {
    videoCatalogGet: vi.fn(async (task: string) => {
      sent.catalogs.push(`get ${task}`);
      return catalogOf(task);
    }),
    videoCatalogRefresh: vi.fn(async (task: string) => {
      sent.catalogs.push(`refresh ${task}`);
      return catalogOf(task);
    }),
    videoRoute: vi.fn(async () => ({ mode: "routed", billing: "hf_credits", who: null, billTo: null })),
    imageGenerate: vi.fn(async (request: ImageRequest, onEvent: (e: ImageEvent) => void) => {
      sent.requests.push(request);
      sent.emits.push(onEvent);
      const id = `job-${sent.requests.length}`;
      onEvent({ event: "started", jobId: id, provider: "fal-ai" });
      return { jobId: id, provider: "fal-ai", route: { mode: "routed", billing: "hf_credits", who: null, billTo: null } };
    }),
    imageCancel: vi.fn(async (id: string) => {
      sent.cancelled.push(id);
    }),
    imageList: vi.fn(async (...args: unknown[]) => {
      sent.lists.push(args);
      return [];
    }),
    imageData: vi.fn(async () => "data:video/webm;base64,AAAA"),
  },
}));

vi.mock("./providers.svelte", () => ({
  providers: { ensure: async () => {}, displayName: (p: string) => (p === "together" ? "Together" : p) },
}));

const { video } = await import("./video.svelte");

function finished(over: Partial<ImageJob>): ImageJob {
  return {
    id: "job-1",
    createdAt: 0,
    updatedAt: 0,
    request: sent.requests[0] as ImageRequest,
    provider: "fal-ai",
    providerModel: "fal-ai/wan",
    mode: "routed",
    billing: "hf_credits",
    status: "complete",
    providerJob: { id: null, pollUrl: null, resultUrl: null, cancelUrl: null },
    providerStatus: null,
    progress: null,
    images: [{ file: "ab.webm", mime: "video/webm", bytes: 3 }],
    seed: 99,
    cost: null,
    billedUnits: null,
    billedUnit: null,
    unitPrice: null,
    error: null,
    requestId: "rid",
    totalMs: 95_000,
    ...over,
  };
}

describe("the video playground store", () => {
  it("reads each task's catalog and picks the Wan default; the gallery lists videos only", async () => {
    await video.ensure();
    expect(sent.catalogs).toEqual(["get text-to-video", "refresh text-to-video"]);
    expect(video.model).toBe("Wan-AI/Wan2.2-T2V-A14B");
    expect(sent.lists.at(-1)?.[2]).toBe("videos");
    await video.setMode("image-to-video");
    expect(sent.catalogs).toEqual(["get text-to-video", "refresh text-to-video", "get image-to-video", "refresh image-to-video"]);
    expect(video.catalog?.models.map((m) => m.id)).toEqual(["Wan-AI/Wan2.2-I2V-A14B"]);
    expect(video.model).toBe("Wan-AI/Wan2.2-I2V-A14B");
    await video.setMode("text-to-video");
    // Read once per task; each keeps its own model.
    expect(sent.catalogs).toHaveLength(4);
    expect(video.model).toBe("Wan-AI/Wan2.2-T2V-A14B");
    expect(video.catalogs["image-to-video"]?.models).toHaveLength(1);
  });

  it("cannot generate image to video without a start picture; sends it with the task when there is one", async () => {
    await video.setMode("image-to-video");
    video.prompt = "the boat drifts away";
    expect(video.source).toBeNull();
    expect(video.canGenerate).toBe(false);
    expect(video.problem).toMatch(/picture/);
    await video.generate();
    expect(sent.requests).toHaveLength(0);
    video.source = "data:image/png;base64,AAAA";
    expect(video.canGenerate).toBe(true);
    expect(video.request()).toMatchObject({ task: "image-to-video", model: "Wan-AI/Wan2.2-I2V-A14B", source: "data:image/png;base64,AAAA" });
    await video.setMode("text-to-video");
  });

  it("sends the form, follows progress with its ETA, cancels by job id, keeps the result", async () => {
    video.prompt = "a paper boat on a river";
    video.duration = "5";
    video.resolution = "720p";
    video.aspectRatio = "16:9";
    video.seedText = "";
    video.selectProvider("fal-ai");
    expect(video.canGenerate).toBe(true);
    await video.generate();
    const r = sent.requests[0] as ImageRequest;
    expect(r).toMatchObject({
      task: "text-to-video",
      model: "Wan-AI/Wan2.2-T2V-A14B",
      prompt: "a paper boat on a river",
      duration: 5,
      resolution: "720p",
      aspectRatio: "16:9",
      seed: null,
      routing: { kind: "pinned", provider: "fal-ai" },
    });
    expect(r.source).toBeUndefined();
    expect(video.running?.jobId).toBe("job-1");
    expect(video.canGenerate).toBe(false);
    sent.emits[0]({ event: "progress", status: "queued", providerStatus: "IN_QUEUE", progress: null, queuePosition: 3, elapsedMs: 900, etaMs: 40_000, etaSource: "provider" });
    expect(video.running).toMatchObject({ status: "queued", providerStatus: "IN_QUEUE", queuePosition: 3, etaMs: 40_000, etaSource: "provider" });
    expect(etaText(video.running!.etaMs, video.running!.etaSource)).toBe("about 40 s left (provider's estimate)");
    sent.emits[0]({ event: "progress", status: "running", providerStatus: "IN_PROGRESS", progress: 0.5, queuePosition: null, elapsedMs: 60_000, etaMs: 120_000, etaSource: "past_runs" });
    expect(video.running).toMatchObject({ status: "running", progress: 0.5, etaSource: "past_runs" });
    expect(etaText(video.running!.etaMs, video.running!.etaSource)).toBe("about 2 min left (from past runs)");
    video.cancel();
    expect(sent.cancelled).toEqual(["job-1"]);
    sent.emits[0]({ event: "finished", job: finished({}) });
    expect(video.running).toBeNull();
    expect(video.last?.images[0].mime).toBe("video/webm");
    expect(video.lastSeed).toBe(99);
    expect(video.canGenerate).toBe(true);
  });

  it("keeps a failure's error and refuses a bad length or seed", () => {
    sent.emits[0]({ event: "finished", job: finished({ status: "error", images: [], error: { code: "content_flagged", message: "flagged" } }) });
    expect(video.error?.code).toBe("content_flagged");
    video.duration = "90";
    expect(video.canGenerate).toBe(false);
    video.duration = "";
    video.seedText = "x";
    expect(video.canGenerate).toBe(false);
    video.seedText = "12";
    expect(video.request()).toMatchObject({ seed: 12 });
    expect(video.request()).not.toHaveProperty("duration");
  });

  it("generates both panes and cancels both by job id", async () => {
    sent.cancelled.length = 0;
    video.panes[1].provider = "fal-ai";
    await video.compare();
    expect(sent.requests.slice(-2).map((r) => (r as ImageRequest).routing)).toEqual([
      { kind: "auto", policy: "fastest" },
      { kind: "pinned", provider: "fal-ai" },
    ]);
    expect(video.comparing).toBe(true);
    video.cancelCompare();
    expect(sent.cancelled).toEqual(["job-2", "job-3"]);
    sent.emits[2]({ event: "finished", job: finished({ id: "job-3", status: "cancelled", images: [] }) });
    expect(video.panes[1].job?.status).toBe("cancelled");
    expect(video.panes[0].running).not.toBeNull();
  });

  it("reads a video's data URL once", async () => {
    const { api } = await import("../lib/ipc");
    await video.video("ab.webm");
    await video.video("ab.webm");
    expect(vi.mocked(api.imageData)).toHaveBeenCalledTimes(1);
  });
});

describe("the video screen, mounted", () => {
  it("shows the toolbar, the running job's status, time and ETA, then the card with its player", async () => {
    const { default: VideoPlayground } = await import("../screens/video/VideoPlayground.svelte");
    video.panes.forEach((p) => (p.running = null));
    const app = mount(VideoPlayground, { target: document.body });
    await tick();
    const q = (id: string) => document.querySelector(`[data-testid="${id}"]`);
    for (const id of ["task-video", "video-mode-t2v", "video-mode-i2v", "video-model", "video-provider", "video-route", "video-create", "video-compare", "video-gallery", "video-prompt", "video-duration", "video-resolution", "video-aspect", "video-seed", "video-generate"]) {
      expect(q(id), id).not.toBeNull();
    }
    expect((q("video-model") as HTMLSelectElement).value).toBe("Wan-AI/Wan2.2-T2V-A14B");
    expect(q("video-route")?.textContent).toBe("Through Hugging Face · HF credits");
    expect(q("video-source-pick")).toBeNull();

    video.prompt = "a kite";
    await video.generate();
    const emit = sent.emits.at(-1)!;
    emit({ event: "progress", status: "queued", providerStatus: "IN_QUEUE", progress: null, queuePosition: 2, elapsedMs: 0, etaMs: 40_000, etaSource: "provider" });
    flushSync();
    expect(q("video-progress-status")?.textContent).toBe("In queue (IN_QUEUE)");
    expect(q("video-queue-position")?.textContent).toMatch(/2/);
    expect(q("video-elapsed")?.textContent).toMatch(/elapsed/);
    expect(q("video-eta")?.textContent).toMatch(/left \(provider's estimate\)/);
    (q("video-cancel") as HTMLButtonElement).click();
    expect(sent.cancelled.at(-1)).toBe(video.running?.jobId);
    const cancels = sent.cancelled.length;
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(sent.cancelled).toHaveLength(cancels + 1);
    expect(sent.cancelled.at(-1)).toBe(video.running?.jobId);

    const req = sent.requests.at(-1) as ImageRequest;
    emit({ event: "finished", job: { ...finished({ id: "job-done", billedUnits: 0.35, billedUnit: "USD", provider: "together" }), request: { ...req, prompt: "<b>a kite</b>" } } });
    await tick();
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    const card = q("video-card") as HTMLElement;
    expect(card.dataset).toMatchObject({ status: "complete", job: "job-done", file: "ab.webm" });
    const player = q("video-player") as HTMLVideoElement;
    expect(player.getAttribute("src")).toBe("data:video/webm;base64,AAAA");
    expect(player.hasAttribute("controls")).toBe(true);
    expect(card.querySelector("b")).toBeNull();
    expect(card.textContent).toContain("<b>a kite</b>");
    expect(q("video-cost")?.textContent).toBe("price unknown · Together reports $0.35 (the provider's figure)");
    expect(q("video-save")).not.toBeNull();
    expect(q("video-open")).not.toBeNull();

    video.source = null;
    (q("video-mode-i2v") as HTMLButtonElement).click();
    await tick();
    flushSync();
    expect(q("video-source-pick")).not.toBeNull();
    expect((q("video-generate") as HTMLButtonElement).disabled).toBe(true);
    expect(q("video-problem")?.textContent).toMatch(/picture/);
    (q("video-mode-t2v") as HTMLButtonElement).click();
    (q("video-compare") as HTMLButtonElement).click();
    flushSync();
    for (const id of ["video-pane-0", "video-pane-1", "video-pane-model-0", "video-pane-provider-1", "video-compare-run"]) expect(q(id), id).not.toBeNull();
    (q("video-gallery") as HTMLButtonElement).click();
    await tick();
    flushSync();
    expect(q("video-gallery-search")).not.toBeNull();
    expect(q("video-gallery-empty")).not.toBeNull();
    unmount(app);
    document.body.innerHTML = "";
  });
});
