// The video playground's state: the catalog of each task (text-to-video, image-to-video), the
// form, the running generation (its events), the gallery of videos and their data: URLs.
// Outlives the screen: a video takes minutes, so the job keeps running (and is shown again)
// when the user goes elsewhere and comes back.
import type { AppError } from "../bindings/AppError";
import type { EtaSource } from "../bindings/EtaSource";
import type { ImageCatalog } from "../bindings/ImageCatalog";
import type { ImageEvent } from "../bindings/ImageEvent";
import type { ImageJob } from "../bindings/ImageJob";
import type { ImageRequest } from "../bindings/ImageRequest";
import type { JobStatus } from "../bindings/JobStatus";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { readOnce } from "../lib/once";
import { buildVideoRequest, DEFAULT_VIDEO_MODEL, videoProblem, type VideoForm, type VideoTask } from "../lib/video";

const AUTO: Routing = { kind: "auto", policy: "fastest" };

export interface VideoRunning {
  jobId: string | null;
  provider: string | null;
  route: RouteDecision | null;
  status: JobStatus;
  providerStatus: string | null;
  progress: number | null;
  queuePosition: number | null;
  startedAt: number;
  /** The time left when last reported, and when that was (Date.now()), so it counts down. */
  etaMs: number | null;
  etaSource: EtaSource | null;
  etaAt: number;
}

/** One pane of a comparison: a model and provider, and what it made. */
export interface VideoPane {
  model: string | null;
  provider: string | null;
  running: VideoRunning | null;
  job: ImageJob | null;
  error: AppError | null;
}

const newPane = (model: string | null): VideoPane => ({ model, provider: null, running: null, job: null, error: null });

const newRunning = (provider: string | null = null): VideoRunning => ({
  jobId: null,
  provider,
  route: null,
  status: "submitting",
  providerStatus: null,
  progress: null,
  queuePosition: null,
  startedAt: Date.now(),
  etaMs: null,
  etaSource: null,
  etaAt: Date.now(),
});

/** Applies a progress or started event to a running job (shared by the form and the panes). */
function follow(r: VideoRunning, e: ImageEvent) {
  if (e.event === "started") {
    r.jobId = e.jobId;
    if (e.provider) r.provider = e.provider;
  } else if (e.event === "progress") {
    r.status = e.status;
    r.providerStatus = e.providerStatus;
    r.progress = e.progress;
    r.queuePosition = e.queuePosition;
    r.etaMs = e.etaMs;
    r.etaSource = e.etaSource;
    r.etaAt = Date.now();
  }
}

export class VideoStore {
  /** The screen's view; kept when the user goes elsewhere and comes back. */
  tab = $state<"create" | "compare" | "gallery">("create");
  /** Text to video, or image to video (the source picture is the first frame). */
  mode = $state<VideoTask>("text-to-video");

  /** Each task's catalog: the models differ. */
  catalogs = $state.raw<Record<VideoTask, ImageCatalog | null>>({ "text-to-video": null, "image-to-video": null });
  catalogLoading = $state(false);
  catalogError = $state<AppError | null>(null);
  readonly catalog = $derived(this.catalogs[this.mode]);

  // ---- the form
  /** The model chosen in each mode. */
  models = $state<Record<VideoTask, string | null>>({ "text-to-video": null, "image-to-video": null });
  readonly model = $derived(this.models[this.mode]);
  routing = $state<Routing>(AUTO);
  prompt = $state("");
  negativePrompt = $state("");
  /** Seconds as typed; empty for the provider's default. */
  duration = $state("");
  resolution = $state("");
  aspectRatio = $state("");
  seedText = $state("");
  /** Image-to-video: the first frame (a data: URL). */
  source = $state<string | null>(null);
  sourceError = $state<string | null>(null);

  // ---- the generation on screen
  running = $state<VideoRunning | null>(null);
  /** The last generation that ended here (shown until the next one). */
  last = $state.raw<ImageJob | null>(null);
  error = $state.raw<AppError | null>(null);
  route = $state<RouteDecision | null>(null);
  lastSeed = $state<number | null>(null);

  // ---- the comparison: two panes, one prompt (the form's)
  panes = $state<VideoPane[]>([newPane(null), newPane(null)]);
  readonly comparing = $derived(this.panes.some((p) => p.running !== null));

  // ---- the gallery (videos only)
  gallery = $state.raw<ImageJob[]>([]);
  search = $state("");
  galleryLoading = $state(false);
  galleryLimit = $state(200);

  /** Videos' data: URLs by file, read once (they weigh MBs: only when a card is seen or played). */
  #videos = readOnce((file) => api.imageData(file));
  #started: Promise<void> | null = null;
  #loaded = new Set<VideoTask>();

  readonly form = $derived<VideoForm>({
    task: this.mode,
    model: this.model,
    routing: this.routing,
    prompt: this.prompt,
    negativePrompt: this.negativePrompt,
    duration: this.duration,
    resolution: this.resolution,
    aspectRatio: this.aspectRatio,
    seed: this.seedText,
    source: this.source,
  });
  readonly problem = $derived(videoProblem(this.form));
  readonly modelInfo = $derived(this.catalog?.models.find((m) => m.id === this.model) ?? null);
  readonly canGenerate = $derived(this.problem === null && this.running === null);
  /** Why "Generate both" cannot run (each pane's model stands for the form's), or null. */
  readonly compareProblem = $derived(
    this.panes.some((p) => !p.model) ? "Choose a model in each pane." : videoProblem({ ...this.form, model: this.panes[0].model }),
  );

  ensure(): Promise<void> {
    this.#started ??= (async () => {
      await this.loadCatalog(this.mode);
      await this.updateRoute();
      await this.loadGallery();
    })();
    return this.#started;
  }

  /** Reads a task's catalog (cached, then refreshed) once, and picks its default model. */
  async loadCatalog(task: VideoTask) {
    if (this.#loaded.has(task)) return;
    this.#loaded.add(task);
    try {
      this.#setCatalog(task, await api.videoCatalogGet(task));
    } catch {
      // The refresh reports it.
    }
    await this.refreshCatalog(false, task);
  }

  #setCatalog(task: VideoTask, catalog: ImageCatalog) {
    this.catalogs = { ...this.catalogs, [task]: catalog };
    if (this.models[task] === null && catalog.models.length) {
      const preferred = catalog.models.find((m) => m.id === DEFAULT_VIDEO_MODEL[task]);
      this.models[task] = (preferred ?? catalog.models[0]).id;
      if (task === this.mode) for (const p of this.panes) p.model ??= this.models[task];
    }
  }

  async refreshCatalog(force: boolean, task: VideoTask = this.mode) {
    this.catalogLoading = true;
    this.catalogError = null;
    try {
      this.#setCatalog(task, await api.videoCatalogRefresh(task, force));
    } catch (e) {
      this.catalogError = toAppError(e);
    } finally {
      this.catalogLoading = false;
    }
  }

  async setMode(task: VideoTask) {
    if (task === this.mode) return;
    this.mode = task;
    this.#keepPinnedIfOffered();
    // The panes' models come from the mode's catalog.
    for (const p of this.panes) {
      p.model = this.models[task];
      p.provider = null;
    }
    void this.updateRoute();
    await this.loadCatalog(task);
    for (const p of this.panes) p.model ??= this.models[task];
    if (this.mode === task) {
      this.#keepPinnedIfOffered();
      void this.updateRoute();
    }
  }

  selectModel(id: string) {
    this.models[this.mode] = id || null;
    this.#keepPinnedIfOffered();
    void this.updateRoute();
  }

  selectProvider(provider: string | null) {
    this.routing = provider ? { kind: "pinned", provider } : AUTO;
    void this.updateRoute();
  }

  /** A pinned provider that does not serve the model falls back to automatic. */
  #keepPinnedIfOffered() {
    const pinned = this.routing.kind === "pinned" ? this.routing.provider : null;
    if (pinned && this.modelInfo && !this.modelInfo.providers.some((p) => p.provider === pinned)) this.routing = AUTO;
  }

  async updateRoute() {
    try {
      this.route = await api.videoRoute(this.mode, this.routing, null);
    } catch {
      this.route = null;
    }
  }

  request(): ImageRequest | null {
    return buildVideoRequest(this.form);
  }

  /** The start picture from the file dialog (checked in Rust). */
  async pickSource() {
    this.sourceError = null;
    try {
      const url = await api.imagePickSource();
      if (url) this.source = url;
    } catch (e) {
      this.sourceError = toAppError(e).message;
    }
  }

  /** A dropped or pasted picture: read here, checked in Rust when sent. */
  async sourceFromFile(file: File) {
    this.sourceError = null;
    if (!file.type.startsWith("image/")) {
      this.sourceError = "That is not a picture: drop or paste a PNG, JPEG or WebP file.";
      return;
    }
    if (file.size > 10 * 1024 * 1024) {
      this.sourceError = "That picture is larger than 10 MB.";
      return;
    }
    try {
      this.source = await new Promise<string>((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result));
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
      });
    } catch {
      this.sourceError = "That picture could not be read.";
    }
  }

  async generate() {
    const request = this.request();
    if (!request || !this.canGenerate) return;
    this.error = null;
    this.running = newRunning();
    try {
      const started = await api.imageGenerate(request, (e) => this.apply(e));
      if (this.running) {
        this.running.jobId ??= started.jobId;
        this.running.provider = started.provider;
        this.running.route = started.route;
      }
      void this.loadGallery();
    } catch (e) {
      this.running = null;
      this.error = toAppError(e);
    }
  }

  apply(e: ImageEvent) {
    if (e.event !== "finished") {
      if (this.running) follow(this.running, e);
      return;
    }
    this.running = null;
    this.last = e.job;
    this.error = e.job.error;
    if (e.job.status === "complete") this.lastSeed = e.job.seed;
    void this.loadGallery();
  }

  cancel() {
    const id = this.running?.jobId;
    if (id) void api.imageCancel(id);
  }

  async loadGallery() {
    this.galleryLoading = true;
    try {
      this.gallery = await api.imageList(this.search, this.galleryLimit, "videos");
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      this.galleryLoading = false;
    }
  }

  async showMore() {
    this.galleryLimit += 200;
    await this.loadGallery();
  }

  /** A video's data: URL, read once. */
  video(file: string): Promise<string> {
    return this.#videos(file);
  }

  /** Runs the form's prompt and settings on both panes' models and providers at once. */
  async compare() {
    if (this.compareProblem !== null || this.comparing) return;
    const base = buildVideoRequest({ ...this.form, model: this.panes[0].model });
    if (!base) return;
    await Promise.all(
      this.panes.map(async (pane, i) => {
        if (!pane.model) return;
        const request: ImageRequest = {
          ...base,
          model: pane.model,
          routing: pane.provider ? { kind: "pinned", provider: pane.provider } : AUTO,
        };
        pane.job = null;
        pane.error = null;
        pane.running = newRunning(pane.provider);
        const onEvent = (e: ImageEvent) => {
          const p = this.panes[i];
          if (!p) return;
          if (e.event === "finished") {
            p.running = null;
            p.job = e.job;
            p.error = e.job.error;
          } else if (p.running) {
            follow(p.running, e);
          }
        };
        try {
          const started = await api.imageGenerate(request, onEvent);
          const p = this.panes[i];
          if (p?.running) {
            p.running.jobId ??= started.jobId;
            p.running.provider = started.provider;
            p.running.route = started.route;
          }
        } catch (e) {
          const p = this.panes[i];
          if (p) {
            p.running = null;
            p.error = toAppError(e);
          }
        }
      }),
    );
    void this.loadGallery();
  }

  cancelPane(i: number) {
    const id = this.panes[i]?.running?.jobId;
    if (id) void api.imageCancel(id);
  }

  cancelCompare() {
    for (const p of this.panes) if (p.running?.jobId) void api.imageCancel(p.running.jobId);
  }

  /** Puts a past generation's settings back in the form. */
  reuse(job: ImageJob) {
    const r = job.request;
    const task: VideoTask = r.task === "image-to-video" ? "image-to-video" : "text-to-video";
    void this.setMode(task);
    this.tab = "create";
    this.models[task] = r.model;
    this.routing = r.routing;
    this.prompt = r.prompt;
    this.negativePrompt = r.negativePrompt;
    this.duration = r.duration != null ? String(r.duration) : "";
    this.resolution = r.resolution ?? "";
    this.aspectRatio = r.aspectRatio ?? "";
    const seed = job.seed ?? r.seed;
    this.seedText = seed !== null ? String(seed) : "";
    if (task === "image-to-video" && r.source) this.source = r.source;
    void this.updateRoute();
  }
}

export const video = new VideoStore();
