// The playground's current conversation and settings. They live here, not in the screen, so
// leaving the playground (for Billing, Providers…) and coming back shows the same conversation,
// with an answer still streaming or finished while away.
import { tick } from "svelte";
import type { AppError } from "../bindings/AppError";
import type { ChatParams } from "../bindings/ChatParams";
import type { ChatRequest } from "../bindings/ChatRequest";
import type { PlaygroundPrefs } from "../bindings/PlaygroundPrefs";
import type { Routing } from "../bindings/Routing";
import {
  attachProblem,
  MAX_ATTACHMENTS,
  readDataUrl,
  takesImages,
  withAttachment,
  withoutAttachment,
  type Attachment,
} from "../lib/attachments";
import { maxTokensCap, pushRecent, sortOffers, summarize } from "../lib/catalog";
import type { Handoff } from "../lib/compare";
import {
  assistantTurn,
  routeLabel,
  DEFAULT_PARAMS,
  requestMessages,
  turnFromStored,
  userTurn,
  type Turn,
} from "../lib/conversation";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { billing } from "./billing.svelte";
import { catalog } from "./catalog.svelte";
import { providers } from "./providers.svelte";
import { routes } from "./routes.svelte";
import { startAnswer, type RunningAnswer } from "./sessions.svelte";

/** Long conversations render their last turns first; earlier ones on request. */
export const PAGE = 60;

export class PlaygroundSession {
  model = $state<string | null>(null);
  routing = $state<Routing>({ kind: "auto", policy: "fastest" });
  system = $state("");
  params = $state<ChatParams>({ ...DEFAULT_PARAMS });
  recent = $state<string[]>([]);
  billTo = $state<string | null>(null);
  extraError = $state<string | null>(null);
  showParams = $state(true);
  /** The saved settings arrived (or failed to). */
  loaded = $state(false);

  turns = $state<Turn[]>([]);
  /** The conversation in the history; null until the first message is saved. */
  conversationId = $state<string | null>(null);
  saveWarning = $state<AppError | null>(null);
  openError = $state<AppError | null>(null);
  sendError = $state<AppError | null>(null);
  showFrom = $state(0);
  draft = $state("");
  /** Pictures attached to the draft (kept files, with thumbnails). */
  attachments = $state<Attachment[]>([]);
  attachError = $state<string | null>(null);
  /** The answer streaming now (null when none). */
  answer = $state<RunningAnswer | null>(null);
  /** The user chose to send past the monthly budget (asked once per session and month). */
  budgetOverride = $state<string | null>(null);
  askBudget = $state(false);

  /** Set by the screen while it is shown: wraps each streamed frame (to follow the answer). */
  onFrame: ((apply: () => void) => void) | null = null;
  /** Set by the screen while it is shown. */
  scrollToBottom: () => Promise<void> = async () => {};
  focusInput: () => void = () => {};

  readonly busy = $derived(this.answer !== null && !this.answer.finished);
  readonly modelInfo = $derived(catalog.model(this.model));
  /** The model takes pictures (its catalog entry takes image input). */
  readonly canAttach = $derived(takesImages(this.modelInfo));
  readonly pinned = $derived(this.routing.kind === "pinned" ? this.routing.provider : null);
  readonly pinnedOffer = $derived(
    this.pinned && this.modelInfo ? (this.modelInfo.providers.find((p) => p.provider === this.pinned) ?? null) : null,
  );
  readonly maxCap = $derived(maxTokensCap(this.pinnedOffer));
  readonly liveProviders = $derived(
    this.modelInfo
      ? sortOffers(
          this.modelInfo.providers.filter((p) => p.status === "live" && !providers.disabled.includes(p.provider)),
        ).map((p) => p.provider)
      : [],
  );
  readonly summary = $derived(this.modelInfo ? summarize(this.modelInfo) : null);
  readonly retrying = $derived(this.turns.some((t) => t.retry !== null));
  /** Where the next answer goes and who pays, as the Rust side decides it. */
  readonly route = $derived(routes.decision(this.routing, this.billTo));
  /** Who pays for the next answer, in words. */
  readonly billing = $derived(this.route ? routeLabel(this.route) : null);
  /** Past the monthly budget, routed sends ask first. */
  readonly overBudget = $derived.by(() => {
    const credits = billing.status;
    return (
      credits !== null &&
      credits.budgetUsed !== null &&
      credits.budgetUsed >= 1 &&
      this.route?.mode === "routed" &&
      this.budgetOverride !== credits.monthLabel
    );
  });

  #init: Promise<void> | null = null;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingPrefs: PlaygroundPrefs | null = null;

  /** Loads the saved settings once, then keeps saving them as they change. */
  init(): Promise<void> {
    this.#init ??= (async () => {
      try {
        const prefs = await api.getPlayground();
        this.model = prefs.model;
        this.routing = prefs.routing;
        this.system = prefs.system;
        this.params = { ...DEFAULT_PARAMS, ...prefs.params };
        if (prefs.model === null && prefs.params.maxTokens === null && prefs.params.temperature === null) {
          this.params = { ...DEFAULT_PARAMS };
        }
        this.recent = prefs.recentModels;
        this.billTo = prefs.billTo;
      } catch {
        // Defaults are fine.
      }
      this.loaded = true;
      $effect.root(() => {
        // Save settings when they change: debounced while typing, at once before a send.
        $effect(() => {
          this.#pendingPrefs = this.#prefs();
          clearTimeout(this.#saveTimer);
          this.#saveTimer = setTimeout(() => this.flushSave(), 300);
        });
      });
    })();
    return this.#init;
  }

  #prefs(): PlaygroundPrefs {
    return {
      model: this.model,
      routing: $state.snapshot(this.routing),
      system: this.system,
      params: $state.snapshot(this.params),
      recentModels: $state.snapshot(this.recent),
      billTo: this.billTo,
    };
  }

  flushSave() {
    clearTimeout(this.#saveTimer);
    if (this.#pendingPrefs) api.setPlayground(this.#pendingPrefs).catch(() => {});
    this.#pendingPrefs = null;
  }

  selectModel(id: string) {
    this.model = id;
    this.recent = pushRecent(this.recent, id);
    const info = catalog.model(id);
    // A pinned provider that does not serve the new model falls back to automatic.
    const pinned = this.pinned;
    if (pinned !== null && !info?.providers.some((p) => p.provider === pinned && p.status === "live")) {
      this.routing = { kind: "auto", policy: "fastest" };
    }
    this.focusInput();
  }

  resetParams() {
    this.params = { ...DEFAULT_PARAMS };
    this.system = "";
    this.extraError = null;
  }

  buildRequest(end: number): ChatRequest {
    return {
      model: this.model ?? "",
      routing: $state.snapshot(this.routing),
      system: this.system,
      messages: requestMessages(this.turns, end),
      params: $state.snapshot(this.params),
      billTo: this.billTo,
    };
  }

  /** Streams an answer into the assistant turn at `index` (the conversation before it is sent). */
  async #run(index: number) {
    this.sendError = null;
    const request = this.buildRequest(index);
    const turn = this.turns[index]!;
    const answer = startAnswer(turn, {
      conversationId: this.conversationId,
      request,
      around: (apply) => (this.onFrame ? this.onFrame(apply) : apply()),
    });
    this.answer = answer;
    const started = await answer.started;
    if (started && this.answer === answer) {
      if (started.conversationId) this.conversationId = started.conversationId;
      this.saveWarning = started.saveError;
    }
  }

  /** A picture from the system's file dialog, checked and kept in Rust. */
  async attachPick() {
    this.attachError =
      this.attachments.length >= MAX_ATTACHMENTS ? `A message can carry at most ${MAX_ATTACHMENTS} pictures.` : null;
    if (this.attachError) return;
    try {
      const kept = await api.chatAttachPick();
      if (kept) this.attachments = withAttachment(this.attachments, { file: kept.file, url: await api.imageData(kept.file) });
    } catch (e) {
      this.attachError = toAppError(e).message;
    }
  }

  /** A dropped or pasted picture: read here, checked by its bytes and kept in Rust. */
  async attachFile(file: File) {
    this.attachError = attachProblem(file, this.attachments.length);
    if (this.attachError) return;
    try {
      const url = await readDataUrl(file);
      const kept = await api.chatAttachData(url);
      this.attachments = withAttachment(this.attachments, { file: kept.file, url });
    } catch (e) {
      this.attachError = toAppError(e).message;
    }
  }

  removeAttachment(file: string) {
    this.attachments = withoutAttachment(this.attachments, file);
    this.attachError = null;
  }

  /** There is something to send: words, or pictures for a model that takes them. */
  get hasDraft(): boolean {
    return this.draft.trim() !== "" || (this.canAttach && this.attachments.length > 0);
  }

  async send() {
    const text = this.draft.trim();
    if (!this.hasDraft || this.busy || !this.model || this.extraError) return;
    if (this.overBudget) {
      this.askBudget = true;
      return;
    }
    // Pictures go only to a model that takes them; Rust refuses them otherwise.
    const images = this.canAttach ? this.attachments.map((a) => a.file) : [];
    this.draft = "";
    this.attachments = [];
    this.attachError = null;
    this.turns.push(userTurn(text, images));
    this.turns.push(assistantTurn(this.model, this.billing));
    this.recent = pushRecent(this.recent, this.model);
    await tick();
    this.flushSave();
    await this.scrollToBottom();
    await this.#run(this.turns.length - 1);
  }

  /** Sends once past the monthly budget (asked once per month). */
  sendAnyway() {
    this.budgetOverride = billing.status?.monthLabel ?? null;
    this.askBudget = false;
    void this.send();
  }

  stop() {
    this.answer?.stop();
  }

  /** Answers again from the assistant turn at `index`, dropping it and what followed. */
  async regenerate(index: number) {
    if (this.busy || !this.model) return;
    this.turns.splice(index);
    this.turns.push(assistantTurn(this.model, this.billing));
    await this.#run(this.turns.length - 1);
  }

  /** Replaces the user turn at `index` and answers again from there. */
  async editAndResend(index: number, text: string) {
    if (this.busy || !this.model) return;
    const images = this.turns[index]?.images ?? [];
    this.turns.splice(index);
    this.turns.push(userTurn(text, images));
    this.turns.push(assistantTurn(this.model, this.billing));
    await this.#run(this.turns.length - 1);
  }

  async useProvider(provider: string, index: number) {
    this.routing = { kind: "pinned", provider };
    await this.regenerate(index);
  }

  newChat() {
    if (this.busy) this.stop();
    this.answer = null;
    this.turns = [];
    this.conversationId = null;
    this.showFrom = 0;
    this.draft = "";
    this.attachments = [];
    this.attachError = null;
    this.sendError = null;
    this.openError = null;
    this.focusInput();
  }

  /** Continues a compare pane as a normal chat: a new conversation with its messages. */
  applyHandoff(h: Handoff) {
    if (this.busy) this.stop();
    this.answer = null;
    this.model = h.model;
    this.routing = h.routing;
    this.system = h.system;
    this.params = { ...DEFAULT_PARAMS, ...h.params };
    const provider = h.routing.kind === "pinned" ? h.routing.provider : null;
    this.turns = h.messages.map((m) =>
      m.role === "user"
        ? userTurn(m.content)
        : { ...assistantTurn(h.model), content: m.content, status: "complete" as const, provider },
    );
    this.conversationId = null;
    this.showFrom = 0;
    void this.scrollToBottom();
  }

  /** Opens a saved conversation: its messages, and the model, provider and settings it used.
   * A compare session is not opened here: the answer is "compare" and the caller opens it. */
  async openConversation(id: string, billable: readonly string[]): Promise<"opened" | "compare" | "failed"> {
    if (id === this.conversationId && !this.openError) return "opened";
    try {
      const c = await api.historyGet(id);
      if (c.kind === "compare") return "compare";
      if (this.busy) this.stop();
      this.answer = null;
      this.turns = c.messages.map(turnFromStored);
      this.showFrom = Math.max(0, this.turns.length - PAGE);
      this.conversationId = c.id;
      this.openError = null;
      if (c.model) this.model = c.model;
      if (c.routing) this.routing = c.routing;
      this.system = c.system;
      if (c.params) this.params = { ...DEFAULT_PARAMS, ...c.params };
      this.billTo = c.billTo && billable.includes(c.billTo) ? c.billTo : null;
      await this.scrollToBottom();
      this.focusInput();
      return "opened";
    } catch (e) {
      this.openError = toAppError(e);
      return "failed";
    }
  }

  /** The request "Get code" shows: the conversation and the draft, or a greeting. */
  codeRequest(): ChatRequest | null {
    if (!this.model) return null;
    const req = this.buildRequest(this.turns.length);
    if (this.draft.trim()) req.messages.push({ role: "user", content: this.draft.trim() });
    if (req.messages.length === 0) req.messages.push({ role: "user", content: "Hello!" });
    return req;
  }
}

export const playground = new PlaygroundSession();
