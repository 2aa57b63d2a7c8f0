import type { Task } from "../bindings/Task";
import { describe, expect, it } from "vitest";
import {
  PALETTE_SIZE,
  keyErrorText,
  keyStatusText,
  maskKey,
  modeNote,
  modeOptions,
  modelCountLabel,
  modelSummaryText,
  paletteIndex,
  providerInitial,
  showsKeyPanel,
  summarizeModels,
} from "./providers";

describe("providerInitial", () => {
  it("takes the first letter or digit, upper-cased", () => {
    expect(providerInitial("groq")).toBe("G");
    expect(providerInitial("Together AI")).toBe("T");
    expect(providerInitial("  z.ai")).toBe("Z");
    expect(providerInitial("_private")).toBe("P");
    expect(providerInitial("3d-lab")).toBe("3");
    expect(providerInitial("éclair")).toBe("É");
  });

  it("falls back to a question mark", () => {
    expect(providerInitial("")).toBe("?");
    expect(providerInitial("--")).toBe("?");
  });
});

describe("paletteIndex", () => {
  it("is stable and within the palette", () => {
    for (const name of ["cerebras", "groq", "openai", "hf-inference", "", "x".repeat(500)]) {
      const i = paletteIndex(name);
      expect(Number.isInteger(i)).toBe(true);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(PALETTE_SIZE);
      expect(paletteIndex(name)).toBe(i);
    }
  });

  it("spreads the real provider names over several colours", () => {
    const names = [
      "cerebras", "cohere", "deepinfra", "featherless-ai", "fireworks-ai", "groq", "hf-inference",
      "novita", "nscale", "openai", "ovhcloud", "publicai", "scaleway", "together", "zai-org",
      "baseten", "fal-ai", "replicate", "wavespeed",
    ];
    const used = new Set(names.map((n) => paletteIndex(n)));
    expect(used.size).toBeGreaterThanOrEqual(5);
  });

  it("honours another palette size and never divides by zero", () => {
    expect(paletteIndex("groq", 3)).toBeLessThan(3);
    expect(paletteIndex("groq", 0)).toBe(0);
  });
});

describe("keys", () => {
  it("masks all but the last 4 characters", () => {
    expect(maskKey("abcd")).toBe("••••abcd");
  });

  it("says where the key is kept", () => {
    expect(keyStatusText({ last4: "abcd", storage: "keyring" })).toBe("Key set, ends in ••••abcd");
    expect(keyStatusText({ last4: "wxyz", storage: "session" })).toBe("Key set, ends in ••••wxyz (this session only)");
  });
});

describe("modes", () => {
  const both = { routedPossible: true, ownKeyPossible: true };
  it("offers both ways when both work", () => {
    expect(modeOptions(both).map((o) => o.value)).toEqual(["routed", "own_key"]);
    expect(modeOptions(both).map((o) => o.label)).toEqual(["Through Hugging Face", "My own key"]);
    expect(modeNote(both)).toBeNull();
  });

  it("offers only the own key for providers the router doesn't serve", () => {
    const openai = { routedPossible: false, ownKeyPossible: true };
    expect(modeOptions(openai).map((o) => o.value)).toEqual(["own_key"]);
    expect(modeNote(openai)).toBe("Not served by Hugging Face’s router");
  });

  it("says what a provider without chat serves (fal, Replicate, WaveSpeed)", () => {
    const fal = {
      routedPossible: true,
      ownKeyPossible: true,
      supportsChat: false,
      tasks: ["text-to-image", "text-to-video", "image-to-video", "speech-to-text", "text-to-speech"] as Task[],
    };
    expect(modeOptions(fal).map((o) => o.value)).toEqual(["routed", "own_key"]);
    expect(modeNote(fal)).toBe("For pictures, video and speech (no chat here)");
    expect(modeNote({ ...fal, tasks: ["text-to-video", "image-to-video"] })).toBe("For video (no chat here)");
    expect(modeNote({ ...fal, supportsChat: true })).toBeNull();
  });

  it("offers only the router for HF Inference", () => {
    const hf = { routedPossible: true, ownKeyPossible: false };
    expect(modeOptions(hf).map((o) => o.value)).toEqual(["routed"]);
    expect(modeNote(hf)).toBe("Only through Hugging Face");
  });

  it("shows the key controls in own-key mode or when a key is saved", () => {
    const key = { last4: "abcd", storage: "keyring" as const };
    expect(showsKeyPanel({ mode: "own_key", ownKeyPossible: true, key: null })).toBe(true);
    expect(showsKeyPanel({ mode: "routed", ownKeyPossible: true, key: null })).toBe(false);
    expect(showsKeyPanel({ mode: "routed", ownKeyPossible: true, key })).toBe(true);
    expect(showsKeyPanel({ mode: "own_key", ownKeyPossible: false, key: null })).toBe(false);
  });
});

describe("models", () => {
  it("counts models, or says the endpoint wasn't tested", () => {
    expect(modelCountLabel(0)).toBe("not tested yet");
    expect(modelCountLabel(0, true)).toBe("0 models");
    expect(modelCountLabel(1)).toBe("1 model");
    expect(modelCountLabel(3)).toBe("3 models");
  });

  it("shows the first 10 and how many more", () => {
    const models = Array.from({ length: 13 }, (_, i) => `m${i + 1}`);
    const s = summarizeModels(models);
    expect(s.shown).toEqual(models.slice(0, 10));
    expect(s.more).toBe(3);
    expect(modelSummaryText(models)).toBe("m1, m2, m3, m4, m5, m6, m7, m8, m9, m10 and 3 more");
  });

  it("shows short lists whole", () => {
    expect(summarizeModels(["a", "b"])).toEqual({ shown: ["a", "b"], more: 0 });
    expect(summarizeModels(Array.from({ length: 10 }, (_, i) => `${i}`)).more).toBe(0);
    expect(modelSummaryText(["a", "b"])).toBe("a, b");
    expect(modelSummaryText([])).toBe("no models");
    expect(summarizeModels(["a", "b", "c"], 1)).toEqual({ shown: ["a"], more: 2 });
  });
});

describe("keyErrorText", () => {
  it("speaks of the provider's key, not a Hugging Face token", () => {
    const t = keyErrorText({ code: "unauthorized", message: "HTTP 401" }, "Groq");
    expect(t?.title).toBe("Groq didn’t accept this key");
    expect(t?.hint).not.toMatch(/Hugging Face/);
    expect(keyErrorText({ code: "forbidden", message: "" }, "Groq")?.title).toMatch(/Groq/);
    expect(keyErrorText({ code: "token_empty", message: "" }, "Groq")?.title).toBe("Paste the key first");
  });

  it("asks for a key when the call went without one", () => {
    const t = keyErrorText({ code: "unauthorized", message: "HTTP 401" }, "Gateway", false);
    expect(t?.title).toBe("Gateway wants a key");
    expect(t?.hint).toMatch(/add it again with its key/);
  });

  it("uses the Rust side's reason for a malformed key", () => {
    const message = "The key contains spaces or line breaks: copy it again, in one piece.";
    expect(keyErrorText({ code: "token_malformed", message }, "Groq")?.hint).toBe(message);
  });

  it("leaves other codes to the app-wide texts", () => {
    expect(keyErrorText({ code: "network", message: "" }, "Groq")).toBeNull();
    expect(keyErrorText({ code: "provider_key_missing", message: "" }, "Groq")).toBeNull();
  });
});
