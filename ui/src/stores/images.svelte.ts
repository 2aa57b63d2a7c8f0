// The image playground's state: the image catalog, the form, the running generation (its
// events), the gallery and the pictures' data: URLs. Outlives the screen: a generation keeps
// running (and is shown again) when the user goes elsewhere and comes back.
import type { AppError } from "../bindings/AppError";
import type { ImageCatalog } from "../bindings/ImageCatalog";
import type { ImageEvent } from "../bindings/ImageEvent";
import type { ImageJob } from "../bindings/ImageJob";
import type { ImageRequest } from "../bindings/ImageRequest";
import type { JobStatus } from "../bindings/JobStatus";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import { toAppError } from "../lib/errors";
import { parseSeed, SIZE_PRESETS, sizeProblem } from "../lib/images";
import { api } from "../lib/ipc";
import { readOnce } from "../lib/once";

export interface Running {
  jobId: string | null;
  provider: string | null;
  route: RouteDecision | null;
  status: JobStatus;
  providerStatus: string | null;
  progress: number | null;
  queuePosition: number | null;
  startedAt: number;
}

/** One pane of an image comparison: a model and provider, and what it made. */
export interface ComparePane {
  model: string | null;
  provider: string | null;
  running: Running | null;
  job: ImageJob | null;
  error: AppError | null;
}

const newPane = (model: string | null, provider: string | null = null): ComparePane => ({
  model,
  provider,
  running: null,
  job: null,
  error: null,
});

export class ImageStore {
  /** The image comparison: 2–4 panes, one prompt (the form's). */
  panes = $state<ComparePane[]>([newPane(null), newPane(null)]);
  readonly comparing = $derived(this.panes.some((p) => p.running !== null));

  catalog = $state.raw<ImageCatalog | null>(null);
  catalogLoading = $state(false);
  catalogError = $state<AppError | null>(null);

  // ---- the form
  model = $state<string | null>(null);
  routing = $state<Routing>({ kind: "auto", policy: "fastest" });
  prompt = $state("");
  negativePrompt = $state("");
  /** A preset's ratio, or "custom". */
  ratio = $state("1:1");
  width = $state(1024);
  height = $state(1024);
  steps = $state<number | null>(null);
  guidance = $state<number | null>(null);
  seedText = $state("");
  n = $state(1);
  /** Image-to-image: the source picture (a data: URL) and how far from it to go. */
  source = $state<string | null>(null);
  strength = $state(0.8);
  sourceError = $state<string | null>(null);

  // ---- the generation on screen
  running = $state<Running | null>(null);
  /** The last generation that ended here (shown until the next one). */
  last = $state<ImageJob | null>(null);
  error = $state<AppError | null>(null);
  route = $state<RouteDecision | null>(null);

  // ---- the gallery
  gallery = $state.raw<ImageJob[]>([]);
  search = $state("");
  galleryLoading = $state(false);
  /** Pictures' data: URLs by file, read once (not reactive: components keep what they show). */
  #pictures = readOnce((file) => api.imageData(file));
  #started: Promise<void> | null = null;

  readonly sizeError = $derived(this.ratio === "custom" ? sizeProblem(this.width, this.height) : null);
  readonly seedError = $derived(parseSeed(this.seedText) === "invalid" ? "The seed is a whole number (or empty for a random one)." : null);
  readonly modelInfo = $derived(this.catalog?.models.find((m) => m.id === this.model) ?? null);
  readonly canGenerate = $derived(
    this.model !== null && this.prompt.trim() !== "" && !this.sizeError && !this.seedError && this.running === null,
  );

  ensure(): Promise<void> {
    this.#started ??= (async () => {
      try {
        this.catalog = await api.imageCatalogGet();
      } catch {
        // The refresh reports it.
      }
      await this.refreshCatalog(false);
      if (this.model === null && this.catalog?.models.length) {
        const flux = this.catalog.models.find((m) => m.id === "black-forest-labs/FLUX.1-dev");
        this.model = (flux ?? this.catalog.models[0]).id;
      }
      await this.updateRoute();
      await this.loadGallery();
    })();
    return this.#started;
  }

  async refreshCatalog(force: boolean) {
    this.catalogLoading = true;
    this.catalogError = null;
    try {
      this.catalog = await api.imageCatalogRefresh(force);
    } catch (e) {
      this.catalogError = toAppError(e);
    } finally {
      this.catalogLoading = false;
    }
  }

  selectModel(id: string) {
    this.model = id;
    const pinned = this.routing.kind === "pinned" ? this.routing.provider : null;
    if (pinned && !this.modelInfo?.providers.some((p) => p.provider === pinned)) {
      this.routing = { kind: "auto", policy: "fastest" };
    }
    void this.updateRoute();
  }

  selectProvider(provider: string | null) {
    this.routing = provider ? { kind: "pinned", provider } : { kind: "auto", policy: "fastest" };
    void this.updateRoute();
  }

  selectRatio(ratio: string) {
    this.ratio = ratio;
    const p = SIZE_PRESETS.find((s) => s.ratio === ratio);
    if (p) {
      this.width = p.width;
      this.height = p.height;
    }
  }

  async updateRoute() {
    try {
      this.route = await api.imageRoute(this.routing, null);
    } catch {
      this.route = null;
    }
  }

  request(): ImageRequest | null {
    if (!this.model) return null;
    const seed = parseSeed(this.seedText);
    return {
      task: "text-to-image",
      model: this.model,
      routing: this.routing,
      prompt: this.prompt,
      negativePrompt: this.negativePrompt,
      width: this.width,
      height: this.height,
      steps: this.steps,
      guidance: this.guidance,
      seed: seed === "invalid" ? null : seed,
      n: this.n,
      billTo: null,
      source: this.source ?? undefined,
      strength: this.source ? this.strength : undefined,
    };
  }

  /** A source picture from the file dialog (checked in Rust). */
  async pickSource() {
    this.sourceError = null;
    try {
      const url = await api.imagePickSource();
      if (url) this.source = url;
    } catch (e) {
      this.sourceError = toAppError(e).message;
    }
  }

  /** A dropped or pasted file: read here, checked in Rust when sent. */
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
    this.source = await new Promise<string>((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(file);
    });
  }

  async generate() {
    const request = this.request();
    if (!request || !this.canGenerate) return;
    this.error = null;
    this.running = {
      jobId: null,
      provider: null,
      route: null,
      status: "submitting",
      providerStatus: null,
      progress: null,
      queuePosition: null,
      startedAt: Date.now(),
    };
    try {
      const started = await api.imageGenerate(request, (e) => this.apply(e));
      if (this.running && this.running.jobId === null) {
        this.running.jobId = started.jobId;
      }
      if (this.running) {
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
    if (e.event === "started") {
      if (this.running) {
        this.running.jobId = e.jobId;
        this.running.provider = e.provider;
      }
    } else if (e.event === "progress") {
      if (this.running) {
        this.running.status = e.status;
        this.running.providerStatus = e.providerStatus;
        this.running.progress = e.progress;
        this.running.queuePosition = e.queuePosition;
      }
    } else {
      this.running = null;
      this.last = e.job;
      this.error = e.job.error;
      // The seed used, so the picture can be made again.
      if (e.job.status === "complete") this.lastSeed = e.job.seed;
      void this.loadGallery();
    }
  }

  /** The seed the last generation used (shown; "Reuse" copies it into the form). */
  lastSeed = $state<number | null>(null);

  cancel() {
    const id = this.running?.jobId;
    if (id) void api.imageCancel(id);
  }

  /** How many generations the gallery lists (grows with "Show more"). */
  galleryLimit = $state(200);

  async loadGallery() {
    this.galleryLoading = true;
    try {
      this.gallery = await api.imageList(this.search, this.galleryLimit);
    } catch (e) {
      this.error = toAppError(e);
    } finally {
      this.galleryLoading = false;
    }
  }

  /** Lists 200 more generations. */
  async showMore() {
    this.galleryLimit += 200;
    await this.loadGallery();
  }

  /** A picture's data: URL, read once. */
  picture(file: string): Promise<string> {
    return this.#pictures(file);
  }

  setPanes(n: number) {
    while (this.panes.length < n) this.panes.push(newPane(this.model));
    this.panes.length = Math.max(2, Math.min(4, n));
  }

  /** Runs the form's prompt on every pane's model and provider at once. */
  async compare() {
    const base = this.request();
    if (!base || this.prompt.trim() === "" || this.sizeError || this.seedError || this.comparing) return;
    await Promise.all(
      this.panes.map(async (pane, i) => {
        if (!pane.model) return;
        const request: ImageRequest = {
          ...base,
          model: pane.model,
          routing: pane.provider ? { kind: "pinned", provider: pane.provider } : { kind: "auto", policy: "fastest" },
        };
        pane.job = null;
        pane.error = null;
        pane.running = {
          jobId: null,
          provider: pane.provider,
          route: null,
          status: "submitting",
          providerStatus: null,
          progress: null,
          queuePosition: null,
          startedAt: Date.now(),
        };
        const onEvent = (e: ImageEvent) => {
          const p = this.panes[i];
          if (!p) return;
          if (e.event === "finished") {
            p.running = null;
            p.job = e.job;
            p.error = e.job.error;
          } else if (p.running) {
            if (e.event === "started") p.running.jobId = e.jobId;
            else {
              p.running.status = e.status;
              p.running.providerStatus = e.providerStatus;
              p.running.progress = e.progress;
              p.running.queuePosition = e.queuePosition;
            }
          }
        };
        try {
          const started = await api.imageGenerate(request, onEvent);
          const p = this.panes[i];
          if (p?.running) {
            p.running.jobId = started.jobId;
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

  cancelCompare() {
    for (const p of this.panes) if (p.running?.jobId) void api.imageCancel(p.running.jobId);
  }

  /** Puts a past generation's settings back in the form. */
  reuse(job: ImageJob) {
    const r = job.request;
    this.model = r.model;
    this.routing = r.routing;
    this.prompt = r.prompt;
    this.negativePrompt = r.negativePrompt;
    if (r.width !== null && r.height !== null) {
      this.width = r.width;
      this.height = r.height;
      this.ratio = SIZE_PRESETS.find((p) => p.width === r.width && p.height === r.height)?.ratio ?? "custom";
    }
    this.steps = r.steps;
    this.guidance = r.guidance;
    const seed = job.seed ?? r.seed;
    this.seedText = seed !== null ? String(seed) : "";
    this.n = r.n;
    void this.updateRoute();
  }
}

export const images = new ImageStore();
