import { describe, expect, it } from "vitest";
import type { AccountUsage } from "../bindings/AccountUsage";
import type { CreditStatus } from "../bindings/CreditStatus";
import {
  ageText,
  compactEstimateText,
  compactUsageText,
  costKind,
  answerCostText,
  billedPlaceholder,
  billedTitle,
  conversationBillText,
  costMarker,
  costTitle,
  differenceText,
  totalsCost,
  includedCreditsText,
  estimatorBudget,
  formatLeft,
  paymentHint,
  providerOf402,
  sourceText,
  usageFigures,
} from "./usage";

const N = 1e9;
const usage = (over: Partial<AccountUsage> = {}): AccountUsage => ({
  usedNanoUsd: 0,
  includedNanoUsd: 0.1 * N,
  limitNanoUsd: null,
  requests: 0,
  periodStart: Date.UTC(2026, 10, 1) / 1000,
  periodEnd: Date.UTC(2026, 11, 1) / 1000,
  ...over,
});

describe("formatLeft never rounds up", () => {
  it("moves with a call of a third of a cent", () => {
    expect(formatLeft(0.1 - 0.0036)).toBe("$0.0964");
    expect(formatLeft(0.1)).toBe("$0.10");
    expect(formatLeft(0.09999)).toBe("$0.0999");
  });
  it("floors dollars to the cent and says 'under' for crumbs", () => {
    expect(formatLeft(1.999)).toBe("$1.99");
    expect(formatLeft(2)).toBe("$2.00");
    expect(formatLeft(0.00004)).toBe("under $0.0001");
    expect(formatLeft(0)).toBe("$0.00");
    expect(formatLeft(-1)).toBe("$0.00");
  });
});

describe("where a figure comes from", () => {
  it("labels the source and the age", () => {
    expect(sourceText({ kind: "hf", ageSecs: 130, stale: false })).toBe("from Hugging Face, 2 min ago");
    expect(sourceText({ kind: "hf", ageSecs: 5, stale: true })).toBe("from Hugging Face, just now (last known figures)");
    expect(sourceText({ kind: "estimate" })).toBe("estimated by Switchboard");
    expect(sourceText({ kind: "plan", statedOn: "2025-08-22" })).toBe("plan table of 2025-08-22");
    expect(ageText(7200)).toBe("2 h ago");
    expect(ageText(86_400)).toBe("1 day ago");
  });
});

describe("the account's figures", () => {
  it("free with $0.10: what is left of the included credits", () => {
    const f = usageFigures(usage({ usedNanoUsd: 3_600_000, requests: 2 }));
    expect(f.includedLeft).toBeCloseTo(0.0964, 12);
    expect(f.exhausted).toBe(false);
    expect(compactUsageText(f, false, 0)).toBe("HF credits: $0.0964 left of $0.10 · resets 1 Dec");
  });
  it("free with $0 included is a normal state", () => {
    const f = usageFigures(usage({ includedNanoUsd: 0 }));
    expect(f.exhausted).toBe(false);
    expect(compactUsageText(f, false, 0)).toBe("HF credits: none included · $0.00 used · resets 1 Dec");
  });
  it("PRO over its included credits counts the room under the limit", () => {
    const f = usageFigures(usage({ includedNanoUsd: 2 * N, usedNanoUsd: 2.5 * N, limitNanoUsd: 10 * N }));
    expect(f.includedLeft).toBe(0);
    expect(f.limitLeft).toBe(7.5);
    expect(f.exhausted).toBe(false);
    expect(compactUsageText(f, false, 0)).toBe("HF: $7.50 left of your $10.00 limit · resets 1 Dec");
  });
  it("used up", () => {
    const f = usageFigures(usage({ usedNanoUsd: 0.1 * N }));
    expect(f.exhausted).toBe(true);
    expect(compactUsageText(f, false, 0)).toBe("HF credits: used up · resets 1 Dec");
  });
  it("the estimate's line never reads the whole sum after a call", () => {
    const status = { usedUp: false, remaining: 0.0964, included: 0.1, resetsAt: Date.UTC(2026, 11, 1) } as CreditStatus;
    expect(compactEstimateText(status)).toBe("HF credits: ≈$0.0964 left of $0.10 · resets 1 Dec");
  });
});

describe("which figure the estimator counts from", () => {
  const status = { remaining: 0.05 } as CreditStatus;
  it("the included credits left", () => {
    const b = estimatorBudget(usageFigures(usage({ usedNanoUsd: 0.04 * N })), status);
    expect(b.amount).toBeCloseTo(0.06, 12);
    expect(b.basis).toContain("included credits left");
  });
  it("the room under the limit when nothing is included", () => {
    const b = estimatorBudget(usageFigures(usage({ includedNanoUsd: 0, usedNanoUsd: 1 * N, limitNanoUsd: 5 * N })), status);
    expect(b.amount).toBe(4);
    expect(b.basis).toContain("spending limit");
  });
  it("nothing included and no limit: nothing", () => {
    const b = estimatorBudget(usageFigures(usage({ includedNanoUsd: 0 })), status);
    expect(b.amount).toBe(0);
    expect(b.basis).toContain("no included credits");
  });
  it("Switchboard's estimate without Hugging Face's figures", () => {
    const b = estimatorBudget(null, status);
    expect(b.amount).toBe(0.05);
    expect(b.basis).toContain("estimated by Switchboard");
  });
});

describe("a 402", () => {
  it("names the provider of a per-provider body", () => {
    const msg = "You have exceeded your free monthly usage limit for groq. Subscribe to PRO…";
    expect(providerOf402(msg)).toBe("groq");
    const hint = paymentHint(msg, null);
    expect(hint).toContain("groq");
    expect(hint).toMatch(/prepaid credits/);
    expect(hint).toMatch(/PRO/);
    expect(hint).toMatch(/own groq key/);
  });
  it("uses the account's figures when known, the dated plan table otherwise", () => {
    expect(paymentHint("Payment required", usageFigures(usage({ includedNanoUsd: 0 })))).toContain(
      "Hugging Face reports $0.00 of included credits",
    );
    expect(paymentHint("Payment required", null)).toContain("August 2025");
    expect(providerOf402("Payment required")).toBeNull();
  });
});

describe("what a cost is", () => {
  it("labels each kind", () => {
    expect(costKind({ billing: "hf_credits", routerCost: null })).toBe("tokens");
    expect(costKind({ billing: "hf_credits", routerCost: 0.001 })).toBe("router");
    expect(costKind({ billing: "provider", routerCost: null })).toBe("provider");
    expect(costKind({ billing: "endpoint" })).toBe("provider");
  });
});

describe("a ledger cost says which it is", () => {
  it("marks estimates and provider bills", () => {
    expect(costMarker({ billing: "hf_credits" })).toBe("est.");
    expect(costMarker({ billing: "endpoint" })).toBe("by provider");
    expect(costTitle({ billing: "hf_credits", cost: 0.0013, provider: "groq", routerCost: 0.0018 })).toBe(
      "$0.0013 estimated from tokens × price; $0.0018 estimated by the router. Hugging Face’s bill is per conversation: not reported yet.",
    );
    expect(
      costTitle({ billing: "hf_credits", cost: 0.0013, provider: "groq", conversationBilled: 0.0036, conversationBilledRequests: 2 }),
    ).toBe("$0.0013 estimated from tokens × price. Its conversation: $0.0036 billed by Hugging Face for 2 requests.");
    expect(costTitle({ billing: "provider", cost: 0.0013, provider: "groq", routerCost: null })).toMatch(/^Billed by groq/);
    expect(costTitle({ billing: "endpoint", cost: 0.0013, provider: null })).toMatch(/^Billed by the endpoint’s owner/);
  });
});

describe("the ledger's Chat billed cell", () => {
  it("shows the conversation's bill, or who bills instead", () => {
    expect(billedPlaceholder({ billing: "hf_credits" })).toBe("—");
    expect(billedPlaceholder({ billing: "provider" })).toBe("by provider");
    expect(billedPlaceholder({ billing: "org" })).toBe("org’s bill");
    expect(billedTitle({ billing: "hf_credits", provider: "groq", billTo: null, conversationBilled: 0.0036, conversationBilledRequests: 2 })).toBe(
      "$0.0036 billed by Hugging Face for this call’s conversation (2 requests).",
    );
    expect(billedTitle({ billing: "hf_credits", provider: "groq", billTo: null })).toMatch(/^Not reported by Hugging Face yet/);
    expect(billedTitle({ billing: "provider", provider: "groq", billTo: null })).toMatch(/^Billed by groq/);
  });
});

describe("the cost under an answer says which it is", () => {
  it("names who bills and which estimate", () => {
    expect(answerCostText("HF credits", null)).toBe("estimated from tokens × price");
    expect(answerCostText("HF credits", 0.0018)).toBe("estimated from tokens × price; $0.0018 estimated by the router");
    expect(answerCostText("billed by groq", null)).toBe("billed by groq");
    expect(answerCostText("custom endpoint", null)).toBe("billed by the endpoint’s owner");
  });
});

describe("totals use billed figures where they exist, and say so", () => {
  const t = { calls: 3, cost: 0.003, billedCalls: 0, billed: 0, best: 0.003 };
  it("marks each total", () => {
    expect(totalsCost(t)).toEqual({ amount: 0.003, marker: "est.", title: "$0.003 estimated from tokens × price" });
    expect(totalsCost({ ...t, billedCalls: 3, billed: 0.0036, best: 0.0036 }).marker).toBe("billed");
    const mix = totalsCost({ ...t, billedCalls: 2, billed: 0.0024, best: 0.0034 });
    expect(mix.amount).toBe(0.0034);
    expect(mix.marker).toBe("part billed");
    expect(mix.title).toBe("$0.0024 billed by Hugging Face (2 of 3 calls), the rest estimated from tokens × price");
  });
  it("writes the difference with its sign", () => {
    expect(differenceText(10)).toBe("+10.0 %");
    expect(differenceText(-3.25)).toBe("−3.3 %");
    expect(differenceText(0.01)).toBe("±0 %");
    expect(differenceText(null)).toBe("—");
  });
});

describe("a conversation's estimate beside its bill", () => {
  const base = {
    conversationId: "c",
    hfCalls: 2,
    estimated: 0.002,
    routerEstimated: null,
    billed: null,
    billedRequests: null,
    checkedAt: null,
    pending: true,
    differencePct: null,
    providerCalls: 0,
    providerEstimated: null,
  };
  it("is pending until Hugging Face settles every call", () => {
    const p = conversationBillText(base);
    expect(p.state).toBe("pending");
    expect(p.estimate).toBe("$0.002 estimated from tokens × price");
    expect(p.bill).toMatch(/^Hugging Face’s bill: pending\./);
    expect(conversationBillText({ ...base, billed: 0.0018, billedRequests: 1 }).bill).toContain("$0.0018 for 1 of 2 requests so far");
  });
  it("then shows the bill and the difference", () => {
    const b = conversationBillText({ ...base, pending: false, billed: 0.0036, billedRequests: 2, differencePct: 80 });
    expect(b.state).toBe("billed");
    expect(b.bill).toBe("$0.0036 billed by Hugging Face for 2 requests (+80.0 % against the estimate)");
  });
  it("says when no bill is coming", () => {
    const old = conversationBillText({ ...base, pending: false });
    expect(old.state).toBe("none");
    expect(old.bill).toMatch(/^not reported by Hugging Face/);
    const part = conversationBillText({ ...base, pending: false, billed: 0.0018, billedRequests: 1 });
    expect(part.bill).toBe("$0.0018 billed by Hugging Face for 1 of 2 requests");
  });
  it("names the provider's bill when Hugging Face bills nothing", () => {
    const o = conversationBillText({ ...base, hfCalls: 0, pending: false, providerCalls: 1 });
    expect(o.state).toBe("none");
    expect(o.bill).toBe("billed by the provider, not by Hugging Face");
  });
});

describe("the Account screen's included credits", () => {
  const status = {
    included: 0.1,
    includedOverridden: false,
    includedFromHf: false,
    plans: { source: "s", statedOn: "2025-08-22", note: "", free: 0.1, pro: 2, teamPerSeat: 2, enterprisePerSeat: 2 },
  };
  it("states Hugging Face's figure with its source and age", () => {
    const f = usageFigures(usage({ includedNanoUsd: 0, usedNanoUsd: 3_600_000, limitNanoUsd: null, periodEnd: null }));
    const t = includedCreditsText(f, { kind: "hf", ageSecs: 120, stale: false }, status, null)!;
    expect(t.amount).toBe("$0.00");
    expect(t.detail).toBe("included this period (none: every call is paid). $0.0036 used");
    expect(t.source).toBe("from Hugging Face, 2 min ago");
  });
  it("falls back to the dated plan table only when Hugging Face has not answered, and says so", () => {
    const t = includedCreditsText(null, null, status, "your token can’t read billing")!;
    expect(t.amount).toBe("$0.10");
    expect(t.source).toBe(
      "plan table of 2025-08-22: Hugging Face has not reported this account’s figures (your token can’t read billing)",
    );
    expect(includedCreditsText(null, null, null, null)).toBeNull();
  });
});
