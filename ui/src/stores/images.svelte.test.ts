import { describe, expect, it, vi } from "vitest";
import type { ImageEvent } from "../bindings/ImageEvent";
import type { ImageJob } from "../bindings/ImageJob";
import type { ImageRequest } from "../bindings/ImageRequest";

const sent = vi.hoisted(() => ({ requests: [] as unknown[], cancelled: [] as string[], emit: null as null | ((e: ImageEvent) => void) }));

vi.mock("../lib/ipc", () => ({
  api: {
    imageRoute: vi.fn(async () => ({ mode: "routed", billing: "hf_credits", who: null, billTo: null })),
    imageGenerate: vi.fn(async (request: ImageRequest, onEvent: (e: ImageEvent) => void) => {
      sent.requests.push(request);
      sent.emit = onEvent;
      onEvent({ event: "started", jobId: "job-1", provider: "fal-ai" });
      return { jobId: "job-1", provider: "fal-ai", route: { mode: "routed", billing: "hf_credits", who: null, billTo: null } };
    }),
    imageCancel: vi.fn(async (id: string) => {
      sent.cancelled.push(id);
    }),
    imageList: vi.fn(async () => []),
  },
}));

const { images } = await import("./images.svelte");

function finished(over: Partial<ImageJob>): ImageJob {
  return {
    id: "job-1",
    createdAt: 0,
    updatedAt: 0,
    request: sent.requests[0] as ImageRequest,
    provider: "fal-ai",
    providerModel: "fal-ai/flux/dev",
    mode: "routed",
    billing: "hf_credits",
    status: "complete",
    providerJob: { id: null, pollUrl: null, resultUrl: null, cancelUrl: null },
    providerStatus: null,
    progress: null,
    images: [{ file: "ab.png", mime: "image/png", bytes: 3 }],
    seed: 3131504498,
    cost: null,
    billedUnits: 1,
    billedUnit: "units",
    unitPrice: null,
    error: null,
    requestId: "rid",
    totalMs: 1200,
    ...over,
  };
}

describe("the image playground store", () => {
  it("sends the form, follows progress, shows the seed used, cancels by job id", async () => {
    images.model = "black-forest-labs/FLUX.1-dev";
    images.selectProvider("fal-ai");
    images.prompt = "a lighthouse";
    images.selectRatio("16:9");
    images.seedText = "";
    expect(images.canGenerate).toBe(true);
    await images.generate();
    const r = sent.requests[0] as ImageRequest;
    expect(r).toMatchObject({ prompt: "a lighthouse", width: 1344, height: 768, seed: null, routing: { kind: "pinned", provider: "fal-ai" } });
    expect(images.running?.jobId).toBe("job-1");
    expect(images.canGenerate).toBe(false);
    sent.emit!({ event: "progress", status: "queued", providerStatus: "IN_QUEUE", progress: null, queuePosition: 2, elapsedMs: 300, etaMs: null, etaSource: null });
    expect(images.running?.providerStatus).toBe("IN_QUEUE");
    images.cancel();
    expect(sent.cancelled).toEqual(["job-1"]);
    sent.emit!({ event: "finished", job: finished({}) });
    expect(images.running).toBeNull();
    expect(images.last?.images).toHaveLength(1);
    expect(images.lastSeed).toBe(3131504498);
  });

  it("keeps a failure's error and refuses bad custom sizes and seeds", () => {
    sent.emit!({ event: "finished", job: finished({ status: "error", images: [], error: { code: "content_flagged", message: "flagged" } }) });
    expect(images.error?.code).toBe("content_flagged");
    images.ratio = "custom";
    images.width = 1001;
    expect(images.sizeError).toMatch(/multiple of 8/);
    expect(images.canGenerate).toBe(false);
    images.width = 1024;
    images.seedText = "x1";
    expect(images.seedError).not.toBeNull();
    images.seedText = "7";
    expect(images.canGenerate).toBe(true);
  });
});
