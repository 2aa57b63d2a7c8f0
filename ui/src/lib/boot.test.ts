import { describe, expect, it } from "vitest";
import type { AuthStatus } from "../bindings/AuthStatus";
import { lastBoot, rememberBoot } from "./boot";

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

const signedIn: AuthStatus = {
  signedIn: true,
  storage: "keyring",
  tokenLast4: "wxyz",
  keyringAvailable: true,
  tokenRejected: false,
  account: {
    name: "ada",
    fullname: "Ada Lovelace",
    email: "ada@example.com",
    avatar: "data:image/png;base64,AAAA",
    plan: "pro",
    orgs: [],
    tokenName: "laptop",
    tokenRole: "fineGrained",
    canCallInference: true,
    periodEnd: null,
    checkedAt: 1,
  },
};

describe("the start-up cache", () => {
  it("gives back the last sign-in state and theme, without the token's last four, e-mail, token name or avatar", () => {
    const kv = memory();
    rememberBoot({ status: signedIn }, kv);
    rememberBoot({ theme: "dark" }, kv);
    const raw = [...kv.m.values()].join("");
    for (const secret of ["wxyz", "ada@example.com", "laptop", "base64", "fineGrained"]) expect(raw).not.toContain(secret);
    const boot = lastBoot(kv);
    expect(boot.theme).toBe("dark");
    expect(boot.status?.signedIn).toBe(true);
    expect(boot.status?.account?.name).toBe("ada");
    expect(boot.status?.tokenLast4).toBeNull();
  });

  it("reads nothing from an empty, broken or foreign entry", () => {
    expect(lastBoot(memory())).toEqual({ status: null, theme: null });
    for (const bad of ["{", "42", '{"status":{"signedIn":"yes"},"theme":"pink"}', '{"status":{"signedIn":true,"account":null,"keyringAvailable":true,"tokenRejected":false}}']) {
      const kv = memory();
      kv.setItem("switchboard.boot", bad);
      expect(lastBoot(kv)).toEqual({ status: null, theme: null });
    }
  });

  it("keeps a signed-out state (the welcome screen first)", () => {
    const kv = memory();
    rememberBoot({ status: { signedIn: false, storage: null, tokenLast4: null, account: null, keyringAvailable: false, tokenRejected: false } }, kv);
    expect(lastBoot(kv).status?.signedIn).toBe(false);
    expect(lastBoot(kv).status?.keyringAvailable).toBe(false);
  });

  it("keeps nothing of a session-only sign-in: the token is gone at the next start", () => {
    const kv = memory();
    rememberBoot({ status: signedIn }, kv);
    rememberBoot({ status: { ...signedIn, storage: "session" } }, kv);
    expect(lastBoot(kv).status).toBeNull();
  });

  it("works without storage", () => {
    expect(lastBoot(null)).toEqual({ status: null, theme: null });
    expect(() => rememberBoot({ theme: "light" }, null)).not.toThrow();
  });
});
