import { describe, expect, it } from "vitest";
import { errorText, isAppError, toAppError } from "./errors";

describe("toAppError", () => {
  it("keeps an error from the Rust side as it is", () => {
    const e = { code: "unauthorized", message: "HTTP 401" };
    expect(toAppError(e)).toEqual(e);
  });

  it("turns anything else into an internal error with its message", () => {
    expect(toAppError(new Error("boom"))).toEqual({ code: "internal", message: "boom" });
    expect(toAppError("plain")).toEqual({ code: "internal", message: "plain" });
    expect(toAppError(42).code).toBe("internal");
  });

  it("does not take an unknown code for an app error", () => {
    expect(isAppError({ code: "made_up", message: "x" })).toBe(false);
    expect(isAppError({ code: "network" })).toBe(false);
  });
});

describe("errorText", () => {
  it("explains the token errors with a way forward", () => {
    expect(errorText("unauthorized").title).toMatch(/didn’t accept this token/);
    expect(errorText("unauthorized").link?.to).toBe("new_token");
    expect(errorText("forbidden").hint).toMatch(/Make calls to Inference Providers/);
    expect(errorText("token_malformed").hint).toMatch(/hf_/);
  });

  it("gives the credit figures when credits run out", () => {
    const t = errorText("payment_required");
    expect(t.hint).toContain("$0.10");
    expect(t.hint).toContain("$2.00");
    expect(t.link?.to).toBe("billing");
  });

  it("never promises a file fallback for the keyring", () => {
    expect(errorText("keyring_unavailable").hint).toMatch(/never in a plain file/);
    expect(errorText("keyring_unavailable").hint).toMatch(/this session only/);
  });
});
