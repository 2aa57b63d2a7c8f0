// The Speech task's state: speech to text (an audio file chosen or dropped, its transcript) and
// text to speech (text in, audio played and saved), the model and provider of each, the run
// shown, the runs kept. Outlives the screen, so the last result is still there when the user
// comes back. Every decision (route, checks, files) is made in Rust. A run is kept by Rust from
// before its request goes out: one still open (its provider working, or resumed after a restart)
// is read again until it ends (`reload`), and a failed one is kept with its error.
import type { AppError } from "../bindings/AppError";
import type { AudioInfo } from "../bindings/AudioInfo";
import type { RouteDecision } from "../bindings/RouteDecision";
import type { Routing } from "../bindings/Routing";
import type { SpeechKind } from "../bindings/SpeechKind";
import type { SpeechRecord } from "../bindings/SpeechRecord";
import { copyText } from "../lib/clipboard";
import { toAppError } from "../lib/errors";
import { anyOpen, dropProblem, hasAudio, isOpen, refreshed, transcriptText } from "../lib/speech";
import { api } from "../lib/ipc";

/** Providers the app can ask, per task (Rust refuses others in plain words); offered for a
 * model as the Hub's mapping lists them (`speechProviders`), all of them until that is known. */
export const SPEECH_PROVIDERS: Record<SpeechKind, string[]> = {
  stt: ["hf-inference", "fal-ai", "together", "deepinfra"],
  tts: ["hf-inference", "replicate", "together", "deepinfra"],
};

export const DEFAULT_MODELS: Record<SpeechKind, string> = {
  stt: "openai/whisper-large-v3",
  tts: "hexgrad/Kokoro-82M",
};

/** One provider's side of a comparison: its run, or why it has none. */
export interface CompareSide {
  provider: string;
  run: SpeechRecord | null;
  error: AppError | null;
}

export class SpeechStore {
  kind = $state<SpeechKind>("stt");
  model = $state<Record<SpeechKind, string>>({ ...DEFAULT_MODELS });
  routing = $state<Record<SpeechKind, Routing>>({
    stt: { kind: "pinned", provider: "fal-ai" },
    tts: { kind: "pinned", provider: "replicate" },
  });
  /** The audio file chosen for a transcript, kept in Rust. */
  audio = $state.raw<AudioInfo | null>(null);
  /** The chosen file as a data: URL, to listen to before sending. */
  audioUrl = $state<string | null>(null);
  text = $state("");
  voice = $state("");
  running = $state(false);
  error = $state<AppError | null>(null);
  fileError = $state<string | null>(null);
  route = $state<RouteDecision | null>(null);
  /** The providers offered for each task's model (the Hub's mapping, read in Rust). */
  offered = $state<Record<SpeechKind, string[]>>({ ...SPEECH_PROVIDERS });
  /** The run shown, and its audio as a data: URL. */
  current = $state.raw<SpeechRecord | null>(null);
  currentUrl = $state<string | null>(null);
  kept = $state.raw<SpeechRecord[]>([]);
  /** Where the last export went. */
  saved = $state<string | null>(null);
  copied = $state(false);
  /** The same audio transcribed by every provider the app can ask, side by side. */
  compare = $state.raw<CompareSide[] | null>(null);
  comparing = $state(false);
  /** Words to find among the kept runs. */
  filter = $state("");
  private loaded = false;

  async ensure() {
    void this.refreshRoute();
    void this.refreshProviders();
    if (this.loaded) return;
    this.loaded = true;
    try {
      this.kept = await api.speechList();
      if (!this.current) {
        const first = this.kept.find((k) => k.kind === this.kind);
        if (first) void this.show(first);
      }
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  /** Whether any kept run is still waiting on its provider. */
  get hasOpen(): boolean {
    return anyOpen(this.kept);
  }

  /** Reads the kept runs again (while some are open, and after a call failed so its run shows);
   * the run shown follows when it ended or got its job. */
  async reload() {
    try {
      const fresh = await api.speechList();
      this.kept = fresh;
      const r = refreshed(this.current, fresh);
      if (r.changed && r.current) await this.show(r.current, { keepNotes: true });
    } catch {
      // The list stays as it was; the next read tries again.
    }
  }

  setKind(k: SpeechKind) {
    if (this.kind === k) return;
    this.kind = k;
    this.error = null;
    this.saved = null;
    const first = this.current?.kind === k ? this.current : this.kept.find((r) => r.kind === k);
    if (first) void this.show(first);
    else {
      this.current = null;
      this.currentUrl = null;
    }
    void this.refreshRoute();
    void this.refreshProviders();
  }

  selectProvider(p: string | null) {
    this.routing[this.kind] = p ? { kind: "pinned", provider: p } : { kind: "auto", policy: "fastest" };
    void this.refreshRoute();
  }

  async refreshRoute() {
    try {
      this.route = await api.speechRoute(this.kind, this.routing[this.kind], null);
    } catch {
      this.route = null;
    }
  }

  /** Asks Rust which providers the Hub maps the current model to, for this task. */
  async refreshProviders() {
    const kind = this.kind;
    const model = this.model[kind].trim();
    try {
      const offered = await api.speechProviders(kind, model);
      if (this.model[kind].trim() === model) this.offered[kind] = offered;
    } catch {
      this.offered[kind] = SPEECH_PROVIDERS[kind];
    }
  }

  private async useAudio(info: AudioInfo) {
    this.audio = info;
    this.audioUrl = await api.speechAudio(info.audio.file).catch(() => null);
  }

  async pickAudio() {
    this.fileError = null;
    try {
      const info = await api.speechPickAudio();
      if (info) await this.useAudio(info);
    } catch (e) {
      this.fileError = toAppError(e).message;
    }
  }

  /** A dropped file: sent to Rust, which checks it by its content and keeps it. */
  async dropAudio(file: File) {
    this.fileError = dropProblem(file);
    if (this.fileError) return;
    try {
      const data = await new Promise<string>((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result));
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
      });
      await this.useAudio(await api.speechPutAudio(file.name || null, data));
    } catch (e) {
      this.fileError = toAppError(e).message;
    }
  }

  clearAudio() {
    this.audio = null;
    this.audioUrl = null;
    this.fileError = null;
  }

  get canCompare(): boolean {
    return this.kind === "stt" && this.audio !== null && !this.running && !this.comparing && this.model.stt.trim() !== "";
  }

  get canRun(): boolean {
    if (this.running || this.model[this.kind].trim() === "") return false;
    return this.kind === "stt" ? this.audio !== null : this.text.trim() !== "";
  }

  async show(r: SpeechRecord, opts: { keepNotes?: boolean } = {}) {
    this.current = r;
    if (!opts.keepNotes) {
      this.saved = null;
      this.copied = false;
    }
    this.currentUrl = null;
    // An open run has no result yet; text to speech that failed has no audio.
    if (isOpen(r.status) || !hasAudio(r)) return;
    try {
      const url = await api.speechAudio(r.audio.file);
      if (this.current?.id === r.id) this.currentUrl = url;
    } catch {
      // The audio file is gone: the transcript still shows.
    }
  }

  async run() {
    if (!this.canRun) return;
    const kind = this.kind;
    if (kind === "stt") this.compare = null;
    this.running = true;
    this.error = null;
    this.saved = null;
    try {
      const model = this.model[kind].trim();
      const routing = this.routing[kind];
      const r =
        kind === "stt"
          ? await api.speechTranscribe({
              model,
              routing,
              billTo: null,
              audio: this.audio!.audio.file,
              audioName: this.audio!.name,
            })
          : await api.speechSynthesize({ model, routing, billTo: null, text: this.text, voice: this.voice.trim() || null });
      this.kept = [r, ...this.kept.filter((k) => k.id !== r.id)];
      if (this.kind === kind) await this.show(r);
    } catch (e) {
      this.error = toAppError(e);
      // The run that failed is kept with its error: it shows in the list.
      void this.reload();
    } finally {
      this.running = false;
    }
  }

  /** Sends the chosen audio to every speech-to-text provider at once (routed or own key, as
   * each provider is set); each run is kept like any other. */
  async compareProviders() {
    if (!this.audio || this.comparing || this.running) return;
    const audio = this.audio;
    const model = this.model.stt.trim();
    this.comparing = true;
    this.error = null;
    this.compare = this.offered.stt.map((provider) => ({ provider, run: null, error: null }));
    try {
      const sides = await Promise.all(
        this.offered.stt.map(async (provider): Promise<CompareSide> => {
          try {
            const run = await api.speechTranscribe({
              model,
              routing: { kind: "pinned", provider },
              billTo: null,
              audio: audio.audio.file,
              audioName: audio.name,
            });
            return { provider, run, error: null };
          } catch (e) {
            return { provider, run: null, error: toAppError(e) };
          }
        }),
      );
      this.compare = sides;
      const runs = sides.flatMap((x) => (x.run ? [x.run] : []));
      this.kept = [...runs, ...this.kept.filter((k) => !runs.some((r) => r.id === k.id))];
      // The providers that failed kept their runs too, with their errors.
      if (sides.some((x) => x.error)) void this.reload();
    } finally {
      this.comparing = false;
    }
  }

  async exportAs(format: "txt" | "json" | "audio") {
    if (!this.current) return;
    try {
      this.saved = await api.speechExport(this.current.id, format);
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  /** Forgets the run shown (and its audio when no other run names it); shows the next one. */
  async remove(id: string) {
    try {
      await api.speechDelete(id);
      this.kept = this.kept.filter((k) => k.id !== id);
      if (this.current?.id === id) {
        const next = this.kept.find((k) => k.kind === this.kind);
        this.current = null;
        this.currentUrl = null;
        if (next) void this.show(next);
      }
    } catch (e) {
      this.error = toAppError(e);
    }
  }

  async copy() {
    if (!this.current || this.current.status !== "complete") return;
    this.copied = await copyText(transcriptText(this.current.text, this.current.segments));
  }
}

export const speech = new SpeechStore();
