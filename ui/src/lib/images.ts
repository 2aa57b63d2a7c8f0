// Pure logic of the image playground: size presets by aspect ratio, the figures shown under a
// picture, and how a job's state reads.
import type { ImageJob } from "../bindings/ImageJob";
import type { JobStatus } from "../bindings/JobStatus";

export interface SizePreset {
  /** "1:1", "16:9"… or "custom". */
  ratio: string;
  width: number;
  height: number;
}

/** Sizes most text-to-image models take (multiples of 64, about a megapixel). */
export const SIZE_PRESETS: SizePreset[] = [
  { ratio: "1:1", width: 1024, height: 1024 },
  { ratio: "4:3", width: 1152, height: 896 },
  { ratio: "3:4", width: 896, height: 1152 },
  { ratio: "16:9", width: 1344, height: 768 },
  { ratio: "9:16", width: 768, height: 1344 },
  { ratio: "3:2", width: 1216, height: 832 },
  { ratio: "2:3", width: 832, height: 1216 },
];

export const MIN_SIDE = 256;
export const MAX_SIDE = 2048;

/** Why a custom size cannot be sent, or null when it can. */
export function sizeProblem(width: number, height: number): string | null {
  for (const [name, v] of [
    ["Width", width],
    ["Height", height],
  ] as const) {
    if (!Number.isInteger(v)) return `${name} must be a whole number of pixels.`;
    if (v < MIN_SIDE || v > MAX_SIDE) return `${name} must be between ${MIN_SIDE} and ${MAX_SIDE} pixels.`;
    if (v % 8 !== 0) return `${name} must be a multiple of 8.`;
  }
  return null;
}

/** The preset matching a size, if any. */
export function presetOf(width: number, height: number): SizePreset | null {
  return SIZE_PRESETS.find((p) => p.width === width && p.height === height) ?? null;
}

/** A cost as shown: never "$0" for an unknown price. */
export function costText(job: Pick<ImageJob, "cost" | "billedUnits" | "billedUnit">): string {
  if (job.cost !== null) return job.cost < 0.01 ? `$${job.cost.toFixed(4)}` : `$${job.cost.toFixed(2)}`;
  if (job.billedUnits !== null) return `price unknown (${job.billedUnits} ${job.billedUnit ?? "units"} billed)`;
  return "price unknown";
}

/** 850 ms, 12.4 s, 2 min 05 s. */
export function durationText(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

const STATUS_TEXT: Record<JobStatus, string> = {
  submitting: "Sending…",
  queued: "Waiting in the provider’s queue",
  running: "Generating",
  complete: "Done",
  error: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** A job's state in words, with the provider's own status when it says more. */
export function statusText(status: JobStatus, providerStatus: string | null = null, progress: number | null = null): string {
  let text = STATUS_TEXT[status];
  if (progress !== null && status === "running") text += ` · ${Math.round(progress * 100)}%`;
  if (providerStatus && (status === "queued" || status === "running")) text += ` (${providerStatus})`;
  return text;
}

/** The parameters of a job, as one line. */
export function paramsText(job: ImageJob): string {
  const r = job.request;
  const parts: string[] = [];
  if (r.width !== null && r.height !== null) parts.push(`${r.width}×${r.height}`);
  if (r.steps !== null) parts.push(`${r.steps} steps`);
  if (r.guidance !== null) parts.push(`guidance ${r.guidance}`);
  const seed = job.seed ?? r.seed;
  parts.push(seed !== null ? `seed ${seed}` : "seed not reported");
  if (r.n > 1) parts.push(`${r.n} pictures`);
  return parts.join(" · ");
}

/** A seed typed by the user: null for empty (random), else a whole number. */
export function parseSeed(text: string): number | null | "invalid" {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d{1,15}$/.test(t)) return "invalid";
  return Number(t);
}

/** Which finished picture of a comparison came quickest, and which cheapest (only among known
 * prices: an unknown price is never "cheapest"). */
export function compareMarks(jobs: (Pick<ImageJob, "id" | "status" | "totalMs" | "cost"> | null)[]): {
  quickest: string | null;
  cheapest: string | null;
} {
  const done = jobs.filter((j): j is Pick<ImageJob, "id" | "status" | "totalMs" | "cost"> => j !== null && j.status === "complete");
  const by = (key: (j: (typeof done)[number]) => number | null) => {
    const known = done.filter((j) => key(j) !== null);
    if (known.length < 2) return null;
    return known.reduce((a, b) => (key(b)! < key(a)! ? b : a)).id;
  };
  return { quickest: by((j) => j.totalMs), cheapest: by((j) => j.cost) };
}
