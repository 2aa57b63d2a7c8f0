// Pure logic of the video playground: times as read ("1 min 05 s"), the time left with where
// the estimate comes from, the request from the form (and why it cannot be sent), a job's
// state in words and its cost as shown.
import type { EtaSource } from "../bindings/EtaSource";
import type { ImageJob } from "../bindings/ImageJob";
import type { ImageRequest } from "../bindings/ImageRequest";
import type { JobStatus } from "../bindings/JobStatus";
import type { Routing } from "../bindings/Routing";
import { parseSeed } from "./images";

export type VideoTask = "text-to-video" | "image-to-video";

export const VIDEO_TASKS: VideoTask[] = ["text-to-video", "image-to-video"];

/** The model picked first when the catalog has it. */
export const DEFAULT_VIDEO_MODEL: Record<VideoTask, string> = {
  "text-to-video": "Wan-AI/Wan2.2-T2V-A14B",
  "image-to-video": "Wan-AI/Wan2.2-I2V-A14B",
};

export const RESOLUTIONS = ["480p", "720p", "1080p"] as const;
export const ASPECTS = ["16:9", "9:16", "1:1"] as const;
export const MIN_DURATION = 1;
export const MAX_DURATION = 60;

/** 0 s, 0.9 s, 42 s, 1 min 05 s, 1 h 02 min. */
export function clockText(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  // Under ten seconds a tenth matters (a quick job is not "0 s").
  if (ms > 0 && ms < 9950) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** fal counts the jobs ahead: 0 is next. */
export function queueText(position: number): string {
  if (position <= 0) return "Next in the queue";
  return `${position} ${position === 1 ? "job" : "jobs"} ahead in the queue`;
}

const ETA_SOURCE_TEXT: Record<EtaSource, string> = {
  provider: "provider's estimate",
  past_runs: "from past runs",
};

/** "about 40 s left (provider's estimate)", "about 2 min left (from past runs)"; null when unknown. */
export function etaText(etaMs: number | null, source: EtaSource | null): string | null {
  if (etaMs === null || !Number.isFinite(etaMs)) return null;
  const from = source ? ` (${ETA_SOURCE_TEXT[source]})` : "";
  if (etaMs <= 0) return `any moment now${from}`;
  let figure: string;
  if (etaMs < 60_000) {
    // To 5 s: a finer figure would promise more than any estimate knows.
    figure = `${Math.max(5, Math.round(etaMs / 5000) * 5)} s`;
  } else if (etaMs < 3_600_000) {
    figure = `${Math.round(etaMs / 60_000)} min`;
  } else {
    const m = Math.round(etaMs / 60_000);
    figure = `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }
  return `about ${figure} left${from}`;
}

/** A duration typed by the user: null when empty (the provider's default), else whole seconds 1–60. */
export function parseDuration(text: string): number | null | "invalid" {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d{1,3}$/.test(t)) return "invalid";
  const n = Number(t);
  return n >= MIN_DURATION && n <= MAX_DURATION ? n : "invalid";
}

/** What the video form holds. */
export interface VideoForm {
  task: VideoTask;
  model: string | null;
  routing: Routing;
  prompt: string;
  negativePrompt: string;
  /** Seconds as typed; empty for the provider's default. */
  duration: string;
  /** "" for the provider's default. */
  resolution: string;
  /** "" for the provider's default. */
  aspectRatio: string;
  seed: string;
  /** Image-to-video: the first frame, a data:image/… URL. */
  source: string | null;
}

/** Why the form cannot be sent, or null when it can. */
export function videoProblem(f: VideoForm): string | null {
  if (!f.model) return "Choose a model.";
  if (f.prompt.trim() === "") return "Write a prompt.";
  if (parseDuration(f.duration) === "invalid") return `The duration is a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION} (or empty for the provider's default).`;
  if (parseSeed(f.seed) === "invalid") return "The seed is a whole number (or empty for a random one).";
  if (f.task === "image-to-video" && !f.source) return "Image to video starts from a picture: choose, drop or paste one.";
  return null;
}

/** The request for the form, or null when it cannot be sent. */
export function buildVideoRequest(f: VideoForm): ImageRequest | null {
  if (videoProblem(f) !== null || !f.model) return null;
  const duration = parseDuration(f.duration);
  const seed = parseSeed(f.seed);
  const r: ImageRequest = {
    task: f.task,
    model: f.model,
    routing: f.routing,
    prompt: f.prompt,
    negativePrompt: f.negativePrompt,
    width: null,
    height: null,
    steps: null,
    guidance: null,
    seed: seed === "invalid" ? null : seed,
    n: 1,
    billTo: null,
  };
  if (typeof duration === "number") r.duration = duration;
  if (f.resolution) r.resolution = f.resolution;
  if (f.aspectRatio) r.aspectRatio = f.aspectRatio;
  if (f.task === "image-to-video" && f.source) r.source = f.source;
  return r;
}

const STATUS_WORDS: Record<JobStatus, string> = {
  submitting: "Sending",
  queued: "In queue",
  running: "Generating",
  complete: "Done",
  error: "Failed",
  cancelled: "Cancelled",
  interrupted: "Interrupted",
};

/** "In queue (IN_QUEUE)": the state in words, with the provider's own status as it said it. */
export function videoStatusText(status: JobStatus, providerStatus: string | null = null): string {
  const words = STATUS_WORDS[status];
  return providerStatus && providerStatus !== words ? `${words} (${providerStatus})` : words;
}

/** Whether a job may still change (the gallery is read again while one is). */
export function isOpen(status: JobStatus): boolean {
  return status === "submitting" || status === "queued" || status === "running";
}

function usd(v: number): string {
  return v < 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}

/** The cost as shown: the known price, else "price unknown" (never $0); a provider's own dollar
 * figure (Together's) is said as theirs. */
export function videoCostText(job: Pick<ImageJob, "cost" | "billedUnits" | "billedUnit">, providerName: string | null): string {
  const reported =
    job.billedUnits !== null && job.billedUnit?.toUpperCase() === "USD"
      ? `${providerName ?? "The provider"} reports ${usd(job.billedUnits)}`
      : null;
  if (job.cost !== null) return reported ? `${usd(job.cost)} · ${reported}` : usd(job.cost);
  if (reported) return `price unknown · ${reported} (the provider's figure)`;
  if (job.billedUnits !== null) return `price unknown (${job.billedUnits} ${job.billedUnit ?? "units"} billed)`;
  return "price unknown";
}

/** The kept video of a job (its one entry whose mime is video/…), if any. */
export function videoFileOf(job: Pick<ImageJob, "images">): string | null {
  return job.images.find((i) => i.mime.startsWith("video/"))?.file ?? null;
}

/** The settings of a video job, as one line. */
export function videoParamsText(job: Pick<ImageJob, "request" | "seed">): string {
  const r = job.request;
  const parts: string[] = [];
  parts.push(r.duration != null ? `${r.duration} s` : "default length");
  if (r.resolution) parts.push(r.resolution);
  if (r.aspectRatio) parts.push(r.aspectRatio);
  const seed = job.seed ?? r.seed;
  parts.push(seed !== null ? `seed ${seed}` : "seed not reported");
  return parts.join(" · ");
}
