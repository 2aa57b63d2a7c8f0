// The current compare session: its panes, their answers and figures, and the shared settings.
// It lives here, not in the Compare screen, so a round keeps streaming while the user is on
// another screen, and coming back shows the same session. Loaded with the Compare screen.
import { tick } from "svelte";
import type { AppError } from "../bindings/AppError";
import type { ChatParams } from "../bindings/ChatParams";
import type { ChatRequest } from "../bindings/ChatRequest";
import type { ChatStarted } from "../bindings/ChatStarted";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { Routing } from "../bindings/Routing";
import { pushRecent } from "../lib/catalog";
import {
  cloneParams,
  handoff,
  MIN_PANES,
  newSessionId,
  panesFromConversation,
  paneStatus,
  sameSettings,
  type Handoff,
  type PaneConfig,
} from "../lib/compare";
import { assistantTurn, DEFAULT_PARAMS, routeLabel, requestMessages, turnFromStored, userTurn, type Turn } from "../lib/conversation";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { catalog } from "./catalog.svelte";
import { routes } from "./routes.svelte";
import { startAnswer, type RunningAnswer } from "./sessions.svelte";

export interface Pane {
  /** Stable key for rendering. */
  key: number;
  /** The pane index its messages are saved under (stays when other panes are removed). */
  slot: number;
  config: PaneConfig;
  turns: Turn[];
  /** The pane's latest answer (a late event of an earlier one never touches a newer one). */
  answer: RunningAnswer | null;
}

let nextKey = 1;
function makePane(config: PaneConfig, slot: number, turns: Turn[] = []): Pane {
  return { key: nextKey++, slot, config, turns, answer: null };
}
function blankConfig(): PaneConfig {
  return { model: null, routing: { kind: "auto", policy: "fastest" }, params: cloneParams(DEFAULT_PARAMS), system: "" };
}
function copyConfig(c: PaneConfig): PaneConfig {
  const s = $state.snapshot(c) as PaneConfig;
  return { ...s, params: cloneParams(s.params) };
}

export class CompareSession {
  panes = $state<Pane[]>([makePane(blankConfig(), 0), makePane(blankConfig(), 1)]);
  /** The saved session; made before the first round so every pane saves into it. */
  sessionId = $state<string | null>(null);
  /** The session is in the history (some pane was saved, or it was reopened from there). */
  saved = $state(false);
  recent = $state<string[]>([]);
  billTo = $state<string | null>(null);
  sync = $state(true);
  sharedParams = $state<ChatParams>(cloneParams(DEFAULT_PARAMS));
  sharedSystem = $state("");
  extraError = $state<string | null>(null);
  // The shared settings panel starts open where there is room for it beside the panes.
  showSettings = $state(typeof window === "undefined" || window.innerWidth >= 1200);
  draft = $state("");
  saveWarning = $state<AppError | null>(null);
  openError = $state<AppError | null>(null);
  exportNote = $state<string | null>(null);
  exportError = $state<AppError | null>(null);
  /** Settings the user touched before the saved playground settings arrived are kept. */
  #touched = false;
  #init: Promise<void> | null = null;

  /** Set by the screen while it is shown. */
  focusInput: () => void = () => {};

  /** The settings each pane sends with: the shared ones while "same settings for all" is on. */
  readonly configs = $derived<PaneConfig[]>(this.panes.map((p) => this.effective(p)));
  readonly streaming = $derived(this.panes.map((p) => paneStatus(p.turns) === "streaming"));
  readonly anyStreaming = $derived(this.streaming.some(Boolean));
  readonly started = $derived(this.panes.some((p) => p.turns.length > 0));
  readonly missingModel = $derived(this.configs.findIndex((c) => !c.model));
  readonly canSend = $derived(
    this.draft.trim() !== "" && !this.anyStreaming && this.missingModel < 0 && !(this.sync && this.extraError !== null),
  );

  effective(p: Pane): PaneConfig {
    return this.sync ? { ...p.config, params: this.sharedParams, system: this.sharedSystem } : p.config;
  }

  /** Who pays for a pane's next answer, in words, as the Rust side decides it. */
  billingFor(routing: Routing): string | null {
    const route = routes.decision(routing, this.billTo);
    return route ? routeLabel(route) : null;
  }

  /** Once: the saved playground settings become the first session's panes (unless one is open). */
  init(billable: readonly string[], opening: boolean): Promise<void> {
    this.#init ??= (async () => {
      try {
        const prefs = await api.getPlayground();
        this.recent = prefs.recentModels;
        this.billTo = prefs.billTo && billable.includes(prefs.billTo) ? prefs.billTo : null;
        if (!this.#touched && !this.started && !opening && this.sessionId === null) {
          const base: PaneConfig = {
            model: prefs.model,
            routing: prefs.routing,
            params: { ...cloneParams(DEFAULT_PARAMS), ...cloneParams(prefs.params) },
            system: prefs.system,
          };
          this.panes = [makePane(copyConfig(base), 0), makePane(copyConfig(base), 1)];
          this.sharedParams = cloneParams(base.params);
          this.sharedSystem = base.system;
          this.sync = true;
        }
      } catch {
        // Defaults are fine.
      }
    })();
    return this.#init;
  }

  /** Reopens a saved session from the history. */
  async reopen(id: string, billable: readonly string[]) {
    this.stopAll();
    try {
      const c = await api.historyGet(id);
      const list = panesFromConversation(c).map((s) => makePane(s.config, s.slot, s.messages.map(turnFromStored)));
      // A session always shows at least two panes.
      let slot = Math.max(-1, ...list.map((p) => p.slot)) + 1;
      while (list.length < MIN_PANES) list.push(makePane(list[0] ? copyConfig(list[0].config) : blankConfig(), slot++));
      const cfgs = list.map((p) => p.config);
      this.sync = sameSettings(cfgs);
      this.sharedParams = cloneParams(cfgs[0]!.params);
      this.sharedSystem = cfgs[0]!.system;
      this.panes = list;
      this.sessionId = c.id;
      this.saved = true;
      this.openError = null;
      this.saveWarning = null;
      this.exportNote = null;
      this.exportError = null;
      if (c.billTo && billable.includes(c.billTo)) this.billTo = c.billTo;
      await tick();
      this.focusInput();
    } catch (e) {
      this.openError = toAppError(e);
    }
  }

  // ---- editing panes
  setModel(pane: Pane, id: string) {
    this.#touched = true;
    pane.config.model = id;
    this.recent = pushRecent(this.recent, id);
    const r = pane.config.routing;
    const info = catalog.model(id);
    // A pinned provider that does not serve the new model falls back to automatic.
    if (r.kind === "pinned" && !info?.providers.some((p) => p.provider === r.provider && p.status === "live")) {
      pane.config.routing = { kind: "auto", policy: "fastest" };
    }
  }

  setRouting(pane: Pane, routing: Routing) {
    this.#touched = true;
    pane.config.routing = routing;
  }

  setParams(pane: Pane, patch: Partial<ChatParams>) {
    this.#touched = true;
    pane.config.params = { ...pane.config.params, ...patch };
  }

  setSystem(pane: Pane, system: string) {
    this.#touched = true;
    pane.config.system = system;
  }

  toggleSync(on: boolean) {
    this.#touched = true;
    if (on) {
      // The first pane's settings become everyone's.
      const first = this.panes[0];
      if (first) {
        this.sharedParams = cloneParams($state.snapshot(first.config.params) as ChatParams);
        this.sharedSystem = first.config.system;
      }
    } else {
      // Each pane starts from the shared settings.
      const p = $state.snapshot(this.sharedParams) as ChatParams;
      for (const pane of this.panes) {
        pane.config.params = cloneParams(p);
        pane.config.system = this.sharedSystem;
      }
      this.extraError = null;
    }
    this.sync = on;
  }

  resetShared() {
    this.sharedParams = cloneParams(DEFAULT_PARAMS);
    this.sharedSystem = "";
    this.extraError = null;
  }

  #nextSlot(): number {
    return Math.max(-1, ...this.panes.map((p) => p.slot)) + 1;
  }

  addPane(limit: number) {
    if (this.panes.length >= limit || this.anyStreaming) return;
    this.#touched = true;
    const last = this.panes[this.panes.length - 1];
    this.panes.push(makePane(last ? copyConfig(last.config) : blankConfig(), this.#nextSlot()));
  }

  removePane(index: number) {
    if (this.panes.length <= MIN_PANES || this.anyStreaming) return;
    this.#touched = true;
    this.panes.splice(index, 1);
  }

  /** Replaces the panes; a comparison already under way is left in the history. */
  usePanes(list: PaneConfig[]) {
    if (this.anyStreaming || list.length === 0) return;
    this.#touched = true;
    if (this.started) this.startOver();
    this.panes = list.map((c, i) => makePane(c, i));
    if (this.sync) {
      this.sharedParams = cloneParams(list[0]!.params);
      this.sharedSystem = list[0]!.system;
    }
  }

  /** A new comparison with the same panes and settings. */
  startOver() {
    this.stopAll();
    for (const [i, pane] of this.panes.entries()) {
      pane.turns = [];
      pane.slot = i;
      pane.answer = null;
    }
    this.sessionId = null;
    this.saved = false;
    this.saveWarning = null;
    this.exportNote = null;
    this.exportError = null;
    this.focusInput();
  }

  // ---- running a round
  /** Starts a pane's answer (its last turn); never throws: a failure stays in that pane. */
  #startPane(pane: Pane, session: string, cfg: PaneConfig): Promise<ChatStarted | null> {
    const index = pane.turns.length - 1;
    const request: ChatRequest = {
      model: cfg.model ?? "",
      routing: cfg.routing,
      system: cfg.system,
      messages: requestMessages(pane.turns, index),
      params: cfg.params,
      billTo: this.billTo,
    };
    const answer = startAnswer(pane.turns[index]!, { conversationId: session, request, pane: pane.slot });
    pane.answer = answer;
    return answer.started;
  }

  async send() {
    const text = this.draft.trim();
    if (!this.canSend) return;
    this.draft = "";
    this.exportNote = null;
    this.exportError = null;
    if (this.sessionId === null) this.sessionId = newSessionId();
    const session = this.sessionId;
    const round = this.panes.map((pane) => {
      const cfg = $state.snapshot(this.effective(pane)) as PaneConfig;
      pane.turns.push(userTurn(text));
      pane.turns.push(assistantTurn(cfg.model ?? "", this.billingFor(cfg.routing)));
      if (cfg.model) this.recent = pushRecent(this.recent, cfg.model);
      return { pane, cfg };
    });
    await tick();
    // All at once; each pane's stream and errors are its own.
    const results = await Promise.all(round.map(({ pane, cfg }) => this.#startPane(pane, session, cfg)));
    if (this.sessionId !== session) return;
    if (results.some((r) => r?.conversationId)) this.saved = true;
    this.saveWarning = results.find((r) => r?.saveError)?.saveError ?? null;
  }

  stopPane(pane: Pane) {
    if (paneStatus(pane.turns) !== "streaming") return;
    pane.answer?.stop();
  }

  stopAll() {
    for (const pane of this.panes) this.stopPane(pane);
  }

  /** "Continue in playground": the pane's conversation as a new chat. */
  handoff(pane: Pane): Handoff | null {
    return handoff($state.snapshot(this.effective(pane)) as PaneConfig, $state.snapshot(pane.turns) as Turn[]);
  }

  async exportSession(format: ExportFormat) {
    if (!this.sessionId) return;
    this.exportNote = null;
    this.exportError = null;
    try {
      const path = await api.historyExport(this.sessionId, format);
      if (path) this.exportNote = `Saved to ${path}`;
    } catch (e) {
      this.exportError = toAppError(e);
    }
  }
}

export const compare = new CompareSession();
