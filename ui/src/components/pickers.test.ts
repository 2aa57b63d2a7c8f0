// The model and provider pickers on the shared Combobox, mounted: the keys the end-to-end tests
// and users rely on (open on click with the focus in the field or listbox, arrows skip
// unavailable providers, Enter picks, Escape closes back to the button).
import { flushSync, mount, tick, unmount } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import type { Routing } from "../bindings/Routing";
import ProviderPicker from "./ProviderPicker.svelte";

function offer(provider: string, o: Partial<ProviderOffer> = {}): ProviderOffer {
  return {
    provider,
    status: "live",
    contextLength: 8192,
    pricing: { input: 1, output: 2 },
    isFree: false,
    supportsTools: null,
    supportsStructuredOutput: null,
    firstTokenLatencyMs: 300,
    throughput: 50,
    ...o,
  };
}

const model: ModelInfo = {
  id: "meta/llama",
  created: null,
  ownedBy: null,
  inputModalities: ["text"],
  outputModalities: ["text"],
  providers: [offer("together", { throughput: 90 }), offer("novita", { status: "error" }), offer("groq", { throughput: 40 })],
};

let app: ReturnType<typeof mount> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = "";
  vi.unstubAllGlobals();
});

function key(el: Element, k: string) {
  el.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
  flushSync();
}

async function setup(value: Routing) {
  const onChange = vi.fn();
  Element.prototype.scrollIntoView = () => {};
  app = mount(ProviderPicker, { target: document.body, props: { model, value, onChange } });
  const trigger = document.querySelector<HTMLButtonElement>("[data-testid=provider-picker]")!;
  trigger.click();
  flushSync();
  await tick();
  const listbox = document.querySelector<HTMLElement>("[role=listbox]")!;
  return { onChange, trigger, listbox };
}

describe("ProviderPicker", () => {
  it("opens on the current choice with the listbox focused", async () => {
    const { trigger, listbox } = await setup({ kind: "pinned", provider: "groq" });
    expect(trigger.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(listbox);
    const active = document.getElementById(listbox.getAttribute("aria-activedescendant")!)!;
    expect(active.dataset.provider).toBe("groq");
  });

  it("skips unavailable providers with the arrows and picks with Enter", async () => {
    const { onChange, trigger, listbox } = await setup({ kind: "pinned", provider: "together" });
    key(listbox, "ArrowDown"); // novita is unavailable: on to groq
    const active = document.getElementById(listbox.getAttribute("aria-activedescendant")!)!;
    expect(active.dataset.provider).toBe("groq");
    key(listbox, "Enter");
    expect(onChange).toHaveBeenCalledWith({ kind: "pinned", provider: "groq" });
    expect(document.querySelector("[role=listbox]")).toBeNull();
    expect(document.activeElement).toBe(trigger);
  });

  it("Home goes to the first policy; Escape closes without choosing", async () => {
    const { onChange, trigger, listbox } = await setup({ kind: "pinned", provider: "groq" });
    key(listbox, "Home");
    expect(listbox.getAttribute("aria-activedescendant")).toBe(
      document.querySelector("[data-testid=policy-fastest]")!.id,
    );
    key(listbox, "Escape");
    expect(onChange).not.toHaveBeenCalled();
    expect(document.querySelector("[role=listbox]")).toBeNull();
    expect(document.activeElement).toBe(trigger);
  });

  it("offers no unavailable provider as a choice on click", async () => {
    const { onChange } = await setup({ kind: "auto", policy: "fastest" });
    document.querySelector<HTMLElement>("[data-provider=novita]")!.click();
    flushSync();
    expect(onChange).not.toHaveBeenCalled();
    expect(document.querySelector("[role=listbox]")).not.toBeNull();
  });

  it("flags a pinned provider the user turned off, and says whose settings automatic choice follows", async () => {
    Element.prototype.scrollIntoView = () => {};
    app = mount(ProviderPicker, {
      target: document.body,
      props: { model, value: { kind: "pinned", provider: "groq" }, disabledProviders: ["groq"], onChange: vi.fn() },
    });
    flushSync();
    const trigger = document.querySelector<HTMLButtonElement>("[data-testid=provider-picker]")!;
    expect(trigger.querySelector("[data-testid=provider-off]")?.textContent).toBe("turned off");
    expect(trigger.getAttribute("aria-label")).toContain("turned off in Providers");
    trigger.click();
    flushSync();
    await tick();
    expect(document.querySelector("[data-testid=auto-note]")?.textContent).toContain("follows your provider settings on");
    expect(document.querySelector("[data-provider=groq]")).toBeNull();
  });
});

describe("ModelPicker on the same Combobox", () => {
  it("filters as you type, moves with the arrows and picks with Enter", async () => {
    const { default: ModelPicker } = await import("./ModelPicker.svelte");
    vi.stubGlobal(
      "ResizeObserver",
      class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    );
    const onSelect = vi.fn();
    const models = ["meta/llama", "meta/llama-big", "qwen/qwen"].map((id) => ({ ...model, id }));
    app = mount(ModelPicker, {
      target: document.body,
      props: { catalog: { models, fetchedAt: null }, value: null, recent: [], loading: false, onSelect, onRefresh: () => {} },
    });
    const trigger = document.querySelector<HTMLButtonElement>("[data-testid=model-picker]")!;
    trigger.click();
    flushSync();
    await tick();
    const search = document.querySelector<HTMLInputElement>("[data-testid=model-search]")!;
    expect(document.activeElement).toBe(search);
    search.value = "llama";
    search.dispatchEvent(new Event("input", { bubbles: true }));
    flushSync();
    const shown = [...document.querySelectorAll<HTMLElement>("[data-testid=model-option]")].map((o) => o.dataset.modelId);
    expect(shown).toEqual(["meta/llama", "meta/llama-big"]);
    key(search, "ArrowDown");
    expect(document.getElementById(search.getAttribute("aria-activedescendant")!)!.dataset.modelId).toBe("meta/llama-big");
    key(search, "Enter");
    expect(onSelect).toHaveBeenCalledWith("meta/llama-big");
    expect(document.querySelector("[data-testid=model-search]")).toBeNull();
    expect(document.activeElement).toBe(trigger);
  });
});
