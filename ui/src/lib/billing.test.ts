import { describe, expect, it } from "vitest";
import type { CreditStatus } from "../bindings/CreditStatus";
import type { ModelInfo } from "../bindings/ModelInfo";
import type { ProviderOffer } from "../bindings/ProviderOffer";
import type { Totals } from "../bindings/Totals";
import {
  DEFAULT_SORT,
  NO_FILTERS,
  UNKNOWN_PROVIDER,
  ariaSort,
  billingText,
  budgetWarning,
  callCost,
  callQuery,
  callsAffordable,
  chartSeries,
  dayKey,
  dayText,
  dayTitle,
  estimatorRows,
  formatCalls,
  formatDay,
  formatInt,
  formatMs,
  formatRate,
  formatUsd,
  formatUsdShort,
  includedSource,
  lastDays,
  meterParts,
  monthText,
  nextSort,
  niceMax,
  pagesFor,
  parseUsd,
  payerText,
  percent,
  resetText,
  statusText,
  tableIncluded,
  tokenDefaults,
  tokensText,
  usdInput,
} from "./billing";
import { compactEstimateText } from "./usage";

// 2026-12-01T00:00:00Z
const DEC_1_2026 = Date.UTC(2026, 11, 1);

function status(s: Partial<CreditStatus> = {}): CreditStatus {
  return {
    payer: { kind: "free" },
    included: 0.1,
    includedOverridden: false,
    includedFromHf: false,
    spentApp: 0,
    outsideUsage: 0,
    remaining: 0.1,
    usedUp: false,
    resetsAt: DEC_1_2026,
    monthStart: Date.UTC(2026, 10, 1),
    monthLabel: "2026-11",
    resetFromHf: false,
    budget: null,
    budgetUsed: null,
    plans: {
      source: "Hugging Face, as stated on 2025-08-22",
      statedOn: "2025-08-22",
      note: "",
      free: 0.1,
      pro: 2,
      teamPerSeat: 2,
      enterprisePerSeat: 2,
    },
    ...s,
  };
}

function offer(provider: string, o: Partial<ProviderOffer> = {}): ProviderOffer {
  return {
    provider,
    status: "live",
    contextLength: null,
    pricing: null,
    isFree: false,
    supportsTools: null,
    supportsStructuredOutput: null,
    firstTokenLatencyMs: null,
    throughput: null,
    ...o,
  };
}

function model(providers: ProviderOffer[]): ModelInfo {
  return { id: "org/model", created: null, ownedBy: null, inputModalities: ["text"], outputModalities: ["text"], providers };
}

function t(key: string, provider: string | null, cost: number, calls = 1): Totals {
  return { key, provider, calls, tokensIn: 0, tokensOut: 0, cost, hfCredits: cost, billedCalls: 0, billed: 0, billedEstimate: 0, best: cost };
}

describe("formatUsd", () => {
  it("shows cents from ten cents up", () => {
    expect(formatUsd(0.1)).toBe("$0.10");
    expect(formatUsd(2)).toBe("$2.00");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatUsd(0.125)).toBe("$0.13");
    expect(formatUsd(1234.5)).toBe("$1234.50");
  });
  it("keeps up to four decimals below ten cents", () => {
    expect(formatUsd(0.0123)).toBe("$0.0123");
    expect(formatUsd(0.0877)).toBe("$0.0877");
    expect(formatUsd(0.05)).toBe("$0.05");
    expect(formatUsd(0.012)).toBe("$0.012");
    expect(formatUsd(0.001)).toBe("$0.001");
    expect(formatUsd(0.09999)).toBe("$0.10");
  });
  it("shows tiny amounts with two significant digits", () => {
    expect(formatUsd(0.00021)).toBe("$0.00021");
    expect(formatUsd(0.000213)).toBe("$0.00021");
    expect(formatUsd(0.000255)).toBe("$0.00026");
    expect(formatUsd(0.0000035)).toBe("$0.0000035");
    expect(formatUsd(0.0009)).toBe("$0.0009");
    expect(formatUsd(3.5e-8)).toBe("$0.000000035");
  });
  it("zero, unknown and negative", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(null)).toBe("—");
    expect(formatUsd(undefined)).toBe("—");
    expect(formatUsd(NaN)).toBe("—");
    expect(formatUsd(Infinity)).toBe("—");
    expect(formatUsd(-0.5)).toBe("-$0.50");
  });
  it("short form rounds to cents but keeps sub-cent amounts", () => {
    expect(formatUsdShort(0.0877)).toBe("$0.09");
    expect(formatUsdShort(0.1)).toBe("$0.10");
    expect(formatUsdShort(0)).toBe("$0.00");
    expect(formatUsdShort(0.0042)).toBe("$0.0042");
    expect(formatUsdShort(null)).toBe("—");
  });
});

describe("prices and counts", () => {
  it("formats a price per 1M", () => {
    expect(formatRate({ input: 0.15, output: 0.6 })).toBe("$0.15 / $0.60");
    expect(formatRate({ input: 0.05, output: 0.08 })).toBe("$0.05 / $0.08");
    expect(formatRate({ input: 0, output: 0 })).toBe("free");
    expect(formatRate(null, true)).toBe("free");
    expect(formatRate(null)).toBe("—");
  });
  it("formats integers and counts of calls", () => {
    expect(formatInt(1234567)).toBe("1,234,567");
    expect(formatInt(0)).toBe("0");
    expect(formatCalls(392)).toBe("392");
    expect(formatCalls(7843)).toBe("7,843");
    expect(formatCalls(Infinity)).toBe("unlimited");
    expect(formatCalls(null)).toBe("—");
  });
  it("formats tokens and times", () => {
    expect(tokensText(1500, false)).toBe("1,500");
    expect(tokensText(1500, true)).toBe("≈1,500");
    expect(formatMs(320.4)).toBe("320 ms");
    expect(formatMs(1420)).toBe("1.4 s");
    expect(formatMs(12_600)).toBe("13 s");
    expect(formatMs(null)).toBe("—");
  });
});

describe("callCost", () => {
  it("is tokens times price per 1M", () => {
    // 500 × 0.15 + 300 × 0.60 = 75 + 180 = 255 → $0.000255
    expect(callCost({ input: 0.15, output: 0.6 }, 500, 300)).toBeCloseTo(0.000255, 12);
    // 1,000,000 × 1 + 1,000,000 × 2 = $3
    expect(callCost({ input: 1, output: 2 }, 1_000_000, 1_000_000)).toBe(3);
    // 2,000 × 3 + 0 = 6,000 → $0.006
    expect(callCost({ input: 3, output: 15 }, 2000, 0)).toBeCloseTo(0.006, 12);
    expect(callCost({ input: 0, output: 0 }, 500, 300)).toBe(0);
  });
});

describe("callsAffordable", () => {
  it("floors the quotient", () => {
    // 0.10 / 0.000255 = 392.16…
    expect(callsAffordable(0.1, 0.000255)).toBe(392);
    // 2 / 0.000255 = 7843.14…
    expect(callsAffordable(2, 0.000255)).toBe(7843);
    expect(callsAffordable(0.0877, 0.01)).toBe(8);
  });
  it("does not lose a call to floating point", () => {
    // 0.1 / 0.0001 is 999.9999999999999 in binary floating point.
    expect(callsAffordable(0.1, 0.0001)).toBe(1000);
    expect(callsAffordable(0.3, 0.1)).toBe(3);
  });
  it("free is unlimited, unknown is null, nothing left is 0", () => {
    expect(callsAffordable(0.1, 0)).toBe(Infinity);
    expect(callsAffordable(0, 0)).toBe(Infinity);
    expect(callsAffordable(0.1, null)).toBeNull();
    expect(callsAffordable(0.1, NaN)).toBeNull();
    expect(callsAffordable(0, 0.001)).toBe(0);
    expect(callsAffordable(0.0001, 0.001)).toBe(0);
  });
});

describe("parseUsd", () => {
  it("reads amounts", () => {
    expect(parseUsd("0.10", "X", true)).toEqual({ ok: true, value: 0.1 });
    expect(parseUsd(" $2 ", "X", true)).toEqual({ ok: true, value: 2 });
    expect(parseUsd("1,5", "X", true)).toEqual({ ok: true, value: 1.5 });
    expect(parseUsd(".5", "X", true)).toEqual({ ok: true, value: 0.5 });
    expect(parseUsd("3 USD", "X", true)).toEqual({ ok: true, value: 3 });
  });
  it("empty is null when allowed, else 0", () => {
    expect(parseUsd("  ", "X", true)).toEqual({ ok: true, value: null });
    expect(parseUsd("", "X", false)).toEqual({ ok: true, value: 0 });
  });
  it("rejects other text, naming the field", () => {
    const r = parseUsd("-1", "The budget", true);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^The budget must be an amount in US dollars/);
    expect(parseUsd("abc", "X", true).ok).toBe(false);
    expect(parseUsd("1.2.3", "X", true).ok).toBe(false);
    expect(parseUsd("1,000.5", "X", true).ok).toBe(false);
  });
  it("writes amounts back for an input", () => {
    expect(usdInput(0.1)).toBe("0.1");
    expect(usdInput(0.1 + 0.2)).toBe("0.3");
    expect(usdInput(null)).toBe("");
  });
});

describe("estimatorRows", () => {
  const m = model([
    offer("novita", { pricing: { input: 0.2, output: 0.8 } }),
    offer("groq", { pricing: { input: 0.15, output: 0.6 } }),
    offer("mystery"),
    offer("hf-inference", { isFree: true }),
    offer("zero", { pricing: { input: 0, output: 0 } }),
    offer("down", { status: "error", pricing: { input: 0.01, output: 0.01 } }),
  ]);

  it("lists live offers, free first, then cheapest, unknown prices last", () => {
    const rows = estimatorRows(m, 500, 300, 0.0877);
    expect(rows.map((r) => r.provider)).toEqual(["hf-inference", "zero", "groq", "novita", "mystery"]);
    expect(rows.map((r) => r.isFree)).toEqual([true, true, false, false, false]);
  });

  it("computes one call and what sums buy", () => {
    const rows = estimatorRows(m, 500, 300, 0.0877);
    const groq = rows.find((r) => r.provider === "groq")!;
    // 500 × 0.15 + 300 × 0.60 = 255 → $0.000255
    expect(groq.cost).toBeCloseTo(0.000255, 12);
    expect(groq.remainingCalls).toBe(343); // 0.0877 / 0.000255 = 343.9
    expect(groq.calls1).toBe(3921); // 3921.6
    expect(groq.calls10).toBe(39215); // 39215.7
    const novita = rows.find((r) => r.provider === "novita")!;
    // 500 × 0.2 + 300 × 0.8 = 100 + 240 = 340 → $0.00034
    expect(novita.cost).toBeCloseTo(0.00034, 12);
    expect(novita.remainingCalls).toBe(257); // 0.0877 / 0.00034 = 257.9
    expect(novita.calls1).toBe(2941); // 2941.2
    expect(novita.calls10).toBe(29411); // 29411.8
  });

  it("marks free offers unlimited and unknown prices null", () => {
    const rows = estimatorRows(m, 500, 300, 0);
    const free = rows.find((r) => r.provider === "hf-inference")!;
    expect(free.cost).toBe(0);
    expect(free.remainingCalls).toBe(Infinity);
    const mystery = rows.find((r) => r.provider === "mystery")!;
    expect(mystery.cost).toBeNull();
    expect(mystery.pricing).toBeNull();
    expect(mystery.remainingCalls).toBeNull();
    expect(mystery.calls10).toBeNull();
    expect(rows.find((r) => r.provider === "groq")!.remainingCalls).toBe(0);
  });

  it("treats bad token counts as 0", () => {
    const rows = estimatorRows(model([offer("a", { pricing: { input: 1, output: 2 } })]), NaN, -5, 1);
    expect(rows[0]!.cost).toBe(0);
  });

  it("is empty without live offers", () => {
    expect(estimatorRows(model([offer("x", { status: "other" })]), 1, 1, 1)).toEqual([]);
  });
});

describe("tokenDefaults", () => {
  it("rounds the user's averages", () => {
    expect(tokenDefaults([812.4, 301.6])).toEqual({
      tokensIn: 812,
      tokensOut: 302,
      note: "your average over the last 50 answers",
      fromHistory: true,
    });
  });
  it("falls back to a short exchange", () => {
    expect(tokenDefaults(null)).toEqual({ tokensIn: 500, tokensOut: 300, note: "a typical short exchange", fromHistory: false });
  });
});

describe("meterParts", () => {
  it("splits included into app, outside and remaining", () => {
    // 0.02 + 0.01 of 0.10 spent: 20 %, 10 %, 70 % left.
    const p = meterParts(status({ spentApp: 0.02, outsideUsage: 0.01, remaining: 0.07 }));
    expect(p.app).toBeCloseTo(0.2, 12);
    expect(p.outside).toBeCloseTo(0.1, 12);
    expect(p.remaining).toBeCloseTo(0.7, 12);
    expect(p.used).toBeCloseTo(0.3, 12);
    expect(p.level).toBe("ok");
  });
  it("warns from 80 % used", () => {
    const p = meterParts(status({ spentApp: 0.08, remaining: 0.02 }));
    expect(p.used).toBeCloseTo(0.8, 12);
    expect(p.level).toBe("warn");
    expect(meterParts(status({ spentApp: 0.079, remaining: 0.021 })).level).toBe("ok");
  });
  it("warns from 80 % of the budget even with credits left", () => {
    expect(meterParts(status({ spentApp: 0.01, remaining: 0.09, budget: 0.0125, budgetUsed: 0.8 })).level).toBe("warn");
    expect(meterParts(status({ spentApp: 0.01, remaining: 0.09, budget: 0.01, budgetUsed: 1 })).level).toBe("over");
  });
  it("clamps overspending so the segments fit", () => {
    const p = meterParts(status({ spentApp: 0.08, outsideUsage: 0.05, remaining: 0 }));
    expect(p.app).toBeCloseTo(0.8, 12);
    expect(p.outside).toBeCloseTo(0.2, 12);
    expect(p.remaining).toBe(0);
    expect(p.used).toBeCloseTo(1.3, 12);
    expect(p.level).toBe("over");
    const q = meterParts(status({ spentApp: 0.5, outsideUsage: 0.5, remaining: 0 }));
    expect([q.app, q.outside, q.remaining]).toEqual([1, 0, 0]);
  });
  it("is over when Hugging Face said 402, whatever the sums", () => {
    const p = meterParts(status({ spentApp: 0.01, remaining: 0, usedUp: true }));
    expect(p.level).toBe("over");
    expect(p.remaining).toBe(0);
    expect(p.app).toBeCloseTo(0.1, 12);
  });
  it("is over when nothing is included", () => {
    const p = meterParts(status({ included: 0, remaining: 0 }));
    expect([p.app, p.outside, p.remaining]).toEqual([0, 0, 0]);
    expect(p.level).toBe("over");
  });
  it("writes widths", () => {
    expect(percent(0.375)).toBe("37.5%");
    expect(percent(1.4)).toBe("100%");
    expect(percent(-1)).toBe("0%");
    expect(percent(1 / 3)).toBe("33.333%");
  });
});

describe("texts of the meter", () => {
  it("says when the month resets", () => {
    expect(formatDay(DEC_1_2026)).toBe("1 Dec 2026");
    expect(formatDay(DEC_1_2026, false)).toBe("1 Dec");
    expect(resetText(status())).toBe("Resets on 1 Dec 2026");
    expect(resetText(status({ resetFromHf: true, resetsAt: Date.UTC(2026, 0, 17, 9, 30) }))).toBe(
      "Resets on 17 Jan 2026 (from your Hugging Face billing period)",
    );
  });
  it("names the plan and the included figure's source", () => {
    expect(payerText({ kind: "free" })).toBe("Free plan");
    expect(payerText({ kind: "pro" })).toBe("PRO plan");
    expect(payerText({ kind: "org", name: "acme", plan: "enterprise", seats: 3 })).toBe("acme (Enterprise plan)");
    expect(payerText({ kind: "org", name: "acme", plan: null, seats: 1 })).toBe("acme (Team plan)");
    expect(includedSource(status())).toBe("Free plan, plan table of 2025-08-22");
    expect(includedSource(status({ includedOverridden: true }))).toBe("your figure");
    expect(includedSource(status({ includedFromHf: true }))).toBe("Free plan, from Hugging Face");
  });
  it("gives the table's figure per payer", () => {
    expect(tableIncluded(status())).toBe(0.1);
    expect(tableIncluded(status({ payer: { kind: "pro" } }))).toBe(2);
    expect(tableIncluded(status({ payer: { kind: "org", name: "a", plan: "team", seats: 3 } }))).toBe(6);
  });
  it("has a compact line that never rounds what is left up", () => {
    // Was "$0.09 left" (rounded from 0.0877); now the digits that move with a call.
    expect(compactEstimateText(status({ spentApp: 0.0123, remaining: 0.0877 }))).toBe(
      "HF credits: ≈$0.0877 left of $0.10 · resets 1 Dec",
    );
    expect(compactEstimateText(status({ usedUp: true, remaining: 0 }))).toBe("HF credits: used up · resets 1 Dec");
  });
  it("warns about the budget from 80 %", () => {
    expect(budgetWarning(status())).toBeNull();
    expect(budgetWarning(status({ budget: 1, budgetUsed: 0.79 }))).toBeNull();
    expect(budgetWarning(status({ budget: 1, budgetUsed: 0.85 }))).toBe(
      "You have used 85 % of your monthly budget of $1.00.",
    );
    expect(budgetWarning(status({ budget: 0.5, budgetUsed: 1.2 }))).toBe(
      "You have reached your monthly budget of $0.50 (120 % spent).",
    );
  });
});

describe("days", () => {
  it("keys and labels", () => {
    expect(dayKey(Date.UTC(2026, 10, 5, 23, 59))).toBe("2026-11-05");
    expect(dayText("2026-11-05")).toBe("5 Nov");
    expect(monthText("2026-11")).toBe("Nov 2026");
    expect(monthText("weird")).toBe("weird");
  });
  it("the last n days end today (UTC)", () => {
    const now = Date.UTC(2026, 10, 30, 15, 0);
    const r = lastDays(now, 30);
    expect(r.fromDay).toBe("2026-11-01");
    expect(r.toDay).toBe("2026-11-30");
    expect(r.from).toBe(Date.UTC(2026, 10, 1));
    expect(r.to).toBe(Date.UTC(2026, 11, 1));
  });
});

describe("chartSeries", () => {
  it("charts what Hugging Face billed where it billed, the estimate elsewhere", () => {
    const billed = { ...t("2026-11-01", "together", 0.001, 2), billedCalls: 2, billed: 0.0036, billedEstimate: 0.001, best: 0.0036 };
    const s = chartSeries([billed, t("2026-11-01", "groq", 0.002)], "2026-11-01", "2026-11-01");
    expect(s.providers).toEqual(["together", "groq"]);
    expect(s.total).toBeCloseTo(0.0056, 12);
  });

  const rows = [
    t("2026-11-03", "together", 0.02, 2),
    t("2026-11-03", "hf-inference", 0.01, 5),
    t("2026-11-01", "together", 0.005),
    t("2026-11-02", null, 0.001),
    t("2026-10-31", "together", 9), // outside the range
    t("2026-11-02", "groq", 0, 3), // calls without cost
  ];

  it("fills every day and stacks providers, most spend first", () => {
    const s = chartSeries(rows, "2026-11-01", "2026-11-04");
    expect(s.days.map((d) => d.day)).toEqual(["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]);
    expect(s.providers).toEqual(["together", "hf-inference", UNKNOWN_PROVIDER]);
    expect(s.providerTotals[0]).toBeCloseTo(0.025, 12);
    expect(s.days.map((d) => d.total)).toEqual([0.005, 0.001, 0.03, 0]);
    expect(s.days.map((d) => d.calls)).toEqual([1, 4, 7, 0]);
    expect(s.max).toBeCloseTo(0.03, 12);
    expect(s.total).toBeCloseTo(0.036, 12);
    const nov3 = s.days[2]!;
    expect(nov3.segments).toEqual([
      { provider: "together", index: 0, value: 0.02, y0: 0, y1: 0.02 },
      { provider: "hf-inference", index: 1, value: 0.01, y0: 0.02, y1: 0.03 },
    ]);
    expect(s.days[3]!.segments).toEqual([]);
  });

  it("spans months and is empty for a bad range", () => {
    expect(chartSeries([], "2026-10-30", "2026-11-02").days.map((d) => d.day)).toEqual([
      "2026-10-30",
      "2026-10-31",
      "2026-11-01",
      "2026-11-02",
    ]);
    expect(chartSeries(rows, "2026-11-05", "2026-11-01").days).toEqual([]);
    expect(chartSeries(rows, "nope", "2026-11-01").days).toEqual([]);
    const z = chartSeries([], "2026-11-01", "2026-11-30");
    expect(z.days).toHaveLength(30);
    expect(z.max).toBe(0);
  });

  it("titles a bar", () => {
    const s = chartSeries(rows, "2026-11-01", "2026-11-04");
    expect(dayTitle(s.days[2]!)).toBe("3 Nov: $0.03 in 7 calls — together $0.02, hf-inference $0.01");
    expect(dayTitle(s.days[0]!)).toBe("1 Nov: $0.005 in 1 call — together $0.005");
    expect(dayTitle(s.days[3]!)).toBe("4 Nov: $0.00 in 0 calls");
  });

  it("rounds the axis up", () => {
    expect(niceMax(0.03)).toBe(0.05);
    expect(niceMax(0.0123)).toBe(0.02);
    expect(niceMax(0.87)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(2.5)).toBe(5);
    expect(niceMax(6)).toBe(10);
    expect(niceMax(0)).toBe(0);
  });
});

describe("calls table", () => {
  it("toggles sort on the same column, starts a new one sensibly", () => {
    expect(nextSort(DEFAULT_SORT, "at")).toEqual({ column: "at", descending: false });
    expect(nextSort({ column: "at", descending: false }, "at")).toEqual({ column: "at", descending: true });
    expect(nextSort(DEFAULT_SORT, "cost")).toEqual({ column: "cost", descending: true });
    expect(nextSort(DEFAULT_SORT, "model")).toEqual({ column: "model", descending: false });
    expect(ariaSort(DEFAULT_SORT, "at")).toBe("descending");
    expect(ariaSort({ column: "cost", descending: false }, "cost")).toBe("ascending");
    expect(ariaSort(DEFAULT_SORT, "cost")).toBe("none");
  });

  it("builds the query", () => {
    expect(callQuery(NO_FILTERS, DEFAULT_SORT, 400, 200)).toEqual({
      from: null,
      to: null,
      provider: null,
      model: null,
      billing: null,
      status: null,
      sort: "at",
      descending: true,
      limit: 200,
      offset: 400,
    });
    const q = callQuery({ provider: "groq", model: "m", status: "error", billing: "hf_credits" }, { column: "cost", descending: false });
    expect([q.provider, q.model, q.status, q.billing, q.sort, q.descending, q.limit, q.offset]).toEqual([
      "groq",
      "m",
      "error",
      "hf_credits",
      "cost",
      false,
      null,
      null,
    ]);
  });

  it("finds the pages covering a window", () => {
    expect(pagesFor(0, 30, 200)).toEqual([0]);
    expect(pagesFor(190, 230, 200)).toEqual([0, 1]);
    expect(pagesFor(200, 400, 200)).toEqual([1]);
    expect(pagesFor(99_980, 100_000, 200)).toEqual([499]);
    expect(pagesFor(5, 5, 200)).toEqual([]);
  });

  it("says who paid", () => {
    expect(billingText({ billing: "hf_credits", billTo: null })).toBe("HF credits");
    expect(billingText({ billing: "org", billTo: "acme" })).toBe("acme");
    expect(billingText({ billing: "org", billTo: null })).toBe("organisation");
    expect(billingText({ billing: "provider", billTo: null })).toBe("billed by provider");
    expect(billingText({ billing: "endpoint", billTo: null })).toBe("endpoint");
  });

  it("puts errors in words", () => {
    expect(statusText({ status: "complete", errorCode: null })).toBe("OK");
    expect(statusText({ status: "stopped", errorCode: null })).toBe("Stopped");
    expect(statusText({ status: "error", errorCode: "rate_limited" })).toBe("Rate limited (429)");
    expect(statusText({ status: "error", errorCode: "payment_required" })).toBe("No credits (402)");
    expect(statusText({ status: "error", errorCode: "disk_full" })).toBe("The disk is full");
    expect(statusText({ status: "error", errorCode: null })).toBe("Error");
  });
});
