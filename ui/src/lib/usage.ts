// Pure logic for Hugging Face's own billing figures (usage-v2, through `billing_usage`): what
// is left, never rounded up; where each figure comes from; which sum the estimator counts from;
// the 402 card's words. Amounts arrive as whole nano-USD; everything here returns USD.
import type { AccountUsage } from "../bindings/AccountUsage";
import type { CallRow } from "../bindings/CallRow";
import type { ConversationCost } from "../bindings/ConversationCost";
import type { CreditStatus } from "../bindings/CreditStatus";
import type { Totals } from "../bindings/Totals";
import type { UsageReport } from "../bindings/UsageReport";
import { formatDay, formatUsd, formatUsdShort } from "./billing";

const NANO = 1e9;

export function usdOfNano(n: number): number {
  return n / NANO;
}

// ---------------------------------------------------------------------------------------------
// Never rounding what is left upwards

function trim(s: string): string {
  return s.replace(/(\.\d\d\d*?)0+$/, "$1");
}

/**
 * What is left, rounded down so it never reads more than there is: cents from $1 up ("$1.99"
 * for 1.999), four decimals below ("$0.0964" for 0.09964, "$0.10" only when 0.10 is left), and
 * "under $0.0001" for a crumb.
 */
export function formatLeft(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (x <= 0) return "$0.00";
  if (x < 0.0001) return "under $0.0001";
  // The small nudge keeps 0.1 × 1e4 (999.9999…) from flooring to 0.0999.
  if (x >= 1) return `$${(Math.floor(x * 100 + 1e-7) / 100).toFixed(2)}`;
  return `$${trim((Math.floor(x * 1e4 + 1e-7) / 1e4).toFixed(4))}`;
}

// ---------------------------------------------------------------------------------------------
// Where a figure comes from

/** "just now", "2 min ago", "3 h ago", "2 days ago". */
export function ageText(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86_400);
  return `${d} day${d === 1 ? "" : "s"} ago`;
}

export type FigureSource =
  | { kind: "hf"; ageSecs: number; stale: boolean }
  | { kind: "estimate" }
  | { kind: "plan"; statedOn: string }
  | { kind: "yours" };

/** "from Hugging Face, 2 min ago", "estimated by Switchboard", "plan table of 2025-08-22". */
export function sourceText(src: FigureSource): string {
  switch (src.kind) {
    case "hf":
      return `from Hugging Face, ${ageText(src.ageSecs)}${src.stale ? " (last known figures)" : ""}`;
    case "estimate":
      return "estimated by Switchboard";
    case "plan":
      return `plan table of ${src.statedOn}`;
    case "yours":
      return "your figure";
  }
}

/** The age of a report now (its age when fetched, plus the time since). */
export function reportAge(report: UsageReport, fetchedAtMs: number, nowMs: number): number {
  return report.ageSecs + Math.max(0, Math.floor((nowMs - fetchedAtMs) / 1000));
}

// ---------------------------------------------------------------------------------------------
// The account's figures

export interface UsageFigures {
  included: number;
  used: number;
  /** Left of the included credits (≥ 0). */
  includedLeft: number;
  limit: number | null;
  /** Room under the spending limit (≥ 0), when there is one. */
  limitLeft: number | null;
  requests: number;
  /** Unix ms of the period's end, when reported. */
  resetsAt: number | null;
  /** Nothing left to spend: included credits gone and no room under a limit (or no limit). */
  exhausted: boolean;
}

export function usageFigures(u: AccountUsage): UsageFigures {
  const includedLeft = Math.max(0, u.includedNanoUsd - u.usedNanoUsd);
  const limitLeft = u.limitNanoUsd === null ? null : Math.max(0, u.limitNanoUsd - u.usedNanoUsd);
  return {
    included: usdOfNano(u.includedNanoUsd),
    used: usdOfNano(u.usedNanoUsd),
    includedLeft: usdOfNano(includedLeft),
    limit: u.limitNanoUsd === null ? null : usdOfNano(u.limitNanoUsd),
    limitLeft: limitLeft === null ? null : usdOfNano(limitLeft),
    requests: u.requests,
    resetsAt: u.periodEnd === null ? null : u.periodEnd * 1000,
    exhausted: includedLeft === 0 && u.includedNanoUsd > 0 && (limitLeft === null || limitLeft === 0),
  };
}

/** The playground toolbar's line from Hugging Face's figures. */
export function compactUsageText(f: UsageFigures, usedUp: boolean, fallbackReset: number): string {
  const when = `resets ${formatDay(f.resetsAt ?? fallbackReset, false)}`;
  if (f.includedLeft > 0 && !usedUp) {
    return `HF credits: ${formatLeft(f.includedLeft)} left of ${formatUsdShort(f.included)} · ${when}`;
  }
  if (f.limit !== null && f.limitLeft !== null) {
    return `HF: ${formatLeft(f.limitLeft)} left of your ${formatUsdShort(f.limit)} limit · ${when}`;
  }
  if (f.included === 0 && !usedUp) return `HF credits: none included · ${formatUsd(f.used)} used · ${when}`;
  return `HF credits: used up · ${when}`;
}

/** The estimate's line when Hugging Face's figures are not known, never rounded up. */
export function compactEstimateText(status: CreditStatus): string {
  const when = `resets ${formatDay(status.resetsAt, false)}`;
  if (status.usedUp) return `HF credits: used up · ${when}`;
  return `HF credits: ≈${formatLeft(status.remaining)} left of ${formatUsdShort(status.included)} · ${when}`;
}

// ---------------------------------------------------------------------------------------------
// The estimator's budget

export interface Budget {
  amount: number;
  /** What it is, in words ("the included credits left, from Hugging Face"). */
  basis: string;
}

/**
 * What the estimator counts calls from: the included credits left; when none are left, the room
 * under the spending limit; without Hugging Face's figures, Switchboard's estimate.
 */
export function estimatorBudget(f: UsageFigures | null, status: CreditStatus | null): Budget {
  if (f) {
    if (f.includedLeft > 0 || f.limit === null) {
      return {
        amount: f.includedLeft,
        basis: f.included === 0 ? "no included credits this period (from Hugging Face)" : "the included credits left (from Hugging Face)",
      };
    }
    return { amount: f.limitLeft ?? 0, basis: "the room under your spending limit (from Hugging Face)" };
  }
  return { amount: status?.remaining ?? 0, basis: "the remaining credits as estimated by Switchboard" };
}

// ---------------------------------------------------------------------------------------------
// A 402

/** The provider a per-provider 402 names ("… free monthly usage limit for groq …"), if any. */
export function providerOf402(message: string | null | undefined): string | null {
  if (!message) return null;
  const m = /(?:usage limit|credits?|quota)\s+for\s+([A-Za-z0-9][\w.-]*)/i.exec(message);
  return m ? m[1].replace(/[.]+$/, "") : null;
}

/** The 402 card's words: the account's own figures when known, the plan table's otherwise. */
export function paymentHint(message: string | null | undefined, f: UsageFigures | null): string {
  const provider = providerOf402(message);
  const figures = f
    ? `Hugging Face reports ${formatUsd(f.included)} of included credits this period, ${formatUsd(f.used)} used` +
      (f.limit !== null ? `, and a spending limit of ${formatUsd(f.limit)}` : "") +
      "."
    : "Free accounts get $0.10 a month and PRO accounts $2.00 (as Hugging Face stated in August 2025).";
  if (provider) {
    return `${provider} refused: the free monthly usage for ${provider} is used up. ${figures} Buy prepaid credits or subscribe to PRO to go on, or add your own ${provider} key in Providers (billed by ${provider}).`;
  }
  return `${figures} Add credits or subscribe to PRO to go on, or use a provider’s own key.`;
}

// ---------------------------------------------------------------------------------------------
// What a cost is

export type CostKind = "tokens" | "router" | "billed" | "provider";

export const COST_KIND_TEXT: Record<CostKind, string> = {
  tokens: "estimated from tokens × price",
  router: "estimated by the router",
  billed: "billed by Hugging Face",
  provider: "billed by the provider",
};

/** Which a call's cost is: own-key and endpoint calls are billed by the provider; a routed call
 * with the router's `usage.estimated_cost` shows that; otherwise tokens × price. */
export function costKind(row: Pick<CallRow, "billing"> & { routerCost?: number | null }): CostKind {
  if (row.billing === "provider" || row.billing === "endpoint") return "provider";
  if (row.routerCost !== undefined && row.routerCost !== null) return "router";
  return "tokens";
}

/** A ledger row's cost in words, for its cell's title: which estimate it is, the router's
 * figure beside it when the router sent one, and the conversation's bill once Hugging Face has
 * reported it. */
export function costTitle(
  row: Pick<CallRow, "billing" | "cost" | "provider"> & {
    routerCost?: number | null;
    conversationBilled?: number | null;
    conversationBilledRequests?: number | null;
  },
): string {
  const kind = costKind(row);
  if (kind === "provider") {
    const who = row.billing === "endpoint" ? "the endpoint’s owner" : (row.provider ?? "the provider");
    return `Billed by ${who} (own key or endpoint), not by Hugging Face: ${formatUsd(row.cost)} is estimated from tokens × price.`;
  }
  const tokens = `${formatUsd(row.cost)} estimated from tokens × price`;
  const router = kind === "router" ? `; ${formatUsd(row.routerCost)} estimated by the router` : "";
  const billed =
    row.conversationBilled !== undefined && row.conversationBilled !== null
      ? ` Its conversation: ${formatUsd(row.conversationBilled)} billed by Hugging Face` +
        (row.conversationBilledRequests ? ` for ${row.conversationBilledRequests} requests.` : ".")
      : " Hugging Face’s bill is per conversation: not reported yet.";
  return `${tokens}${router}.${billed}`;
}

/** The ledger's "Chat billed" cell when Hugging Face has not reported a bill for the call. */
export function billedPlaceholder(row: Pick<CallRow, "billing">): string {
  switch (row.billing) {
    case "provider":
    case "endpoint":
      return "by provider";
    case "org":
      return "org’s bill";
    default:
      return "—";
  }
}

/** The title of the ledger's "Chat billed" cell. */
export function billedTitle(
  row: Pick<CallRow, "billing" | "provider" | "billTo"> & {
    conversationBilled?: number | null;
    conversationBilledRequests?: number | null;
  },
): string {
  if (row.conversationBilled !== undefined && row.conversationBilled !== null) {
    const n = row.conversationBilledRequests;
    return `${formatUsd(row.conversationBilled)} ${COST_KIND_TEXT.billed} for this call’s conversation${n ? ` (${n} request${n === 1 ? "" : "s"})` : ""}.`;
  }
  switch (row.billing) {
    case "provider":
      return `Billed by ${row.provider ?? "the provider"} (your own key): Hugging Face never sees it.`;
    case "endpoint":
      return "Billed by the endpoint’s owner: Hugging Face never sees it.";
    case "org":
      return `Billed to ${row.billTo ?? "the organisation"}: on the organisation’s bill, not yours.`;
    default:
      return "Not reported by Hugging Face yet: it settles a few minutes after the call.";
  }
}

/** The short marker after a ledger cost: "est.", "by provider". */
export function costMarker(row: Pick<CallRow, "billing">): string {
  return row.billing === "provider" || row.billing === "endpoint" ? "by provider" : "est.";
}

/** The words beside the cost under an answer: who bills it, and which estimate the figure is.
 * `billing` is the answer's "who pays" label ("HF credits", "billed by groq", "custom endpoint"). */
export function answerCostText(billing: string | null, routerCost: number | null | undefined): string {
  if (billing?.startsWith("billed by")) return billing;
  if (billing === "custom endpoint") return "billed by the endpoint’s owner";
  return routerCost !== undefined && routerCost !== null
    ? `${COST_KIND_TEXT.tokens}; ${formatUsd(routerCost)} ${COST_KIND_TEXT.router}`
    : COST_KIND_TEXT.tokens;
}

/** "+10.0 %", "−3.2 %", "±0 %". */
export function differenceText(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "—";
  if (Math.abs(pct) < 0.05) return "±0 %";
  return `${pct > 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)} %`;
}

/** A total's best figure, and which it is: billed by Hugging Face, estimated, or a mix. */
export function totalsCost(t: Pick<Totals, "calls" | "cost" | "billedCalls" | "billed" | "best">): {
  amount: number;
  marker: string;
  title: string;
} {
  const best = Number.isFinite(t.best) ? t.best : t.cost;
  if (t.billedCalls === 0) {
    return { amount: best, marker: "est.", title: `${formatUsd(best)} ${COST_KIND_TEXT.tokens}` };
  }
  if (t.billedCalls >= t.calls) {
    return { amount: best, marker: "billed", title: `${formatUsd(best)} ${COST_KIND_TEXT.billed}` };
  }
  return {
    amount: best,
    marker: "part billed",
    title:
      `${formatUsd(t.billed)} ${COST_KIND_TEXT.billed} (${t.billedCalls} of ${t.calls} calls), ` +
      `the rest ${COST_KIND_TEXT.tokens}`,
  };
}

/** A conversation's estimate beside Hugging Face's bill, in words. */
export function conversationBillText(c: ConversationCost): { estimate: string; bill: string; state: "billed" | "pending" | "none" } {
  const estimate =
    c.estimated === null ? "no published price" : `${formatUsd(c.estimated)} ${COST_KIND_TEXT.tokens}`;
  if (c.hfCalls === 0) {
    return { estimate, bill: c.providerCalls > 0 ? "billed by the provider, not by Hugging Face" : "", state: "none" };
  }
  if (c.pending) {
    const sofar =
      c.billed !== null && c.billedRequests !== null
        ? ` (${formatUsd(c.billed)} for ${c.billedRequests} of ${c.hfCalls} requests so far)`
        : "";
    return {
      estimate,
      bill: `Hugging Face’s bill: pending${sofar}. It settles a few minutes after each call.`,
      state: "pending",
    };
  }
  if (c.billed === null) {
    return { estimate, bill: "not reported by Hugging Face (saved before sessions, or older than 30 days)", state: "none" };
  }
  if (c.billedRequests !== null && c.billedRequests < c.hfCalls) {
    return {
      estimate,
      bill: `${formatUsd(c.billed)} ${COST_KIND_TEXT.billed} for ${c.billedRequests} of ${c.hfCalls} requests`,
      state: "none",
    };
  }
  const n = c.billedRequests ?? c.hfCalls;
  return {
    estimate,
    bill:
      `${formatUsd(c.billed)} ${COST_KIND_TEXT.billed} for ${n} request${n === 1 ? "" : "s"}` +
      (c.differencePct !== null ? ` (${differenceText(c.differencePct)} against the estimate)` : ""),
    state: "billed",
  };
}

/** The Account screen's "included credits" line: Hugging Face's figure for this period with its
 * source and age when it has answered; otherwise the dated plan table's, labelled as such. */
export function includedCreditsText(
  f: UsageFigures | null,
  source: FigureSource | null,
  status: Pick<CreditStatus, "included" | "includedOverridden" | "includedFromHf" | "plans"> | null,
  why: string | null,
): { amount: string; detail: string; source: string } | null {
  if (f && source) {
    return {
      amount: formatUsd(f.included),
      detail:
        `included this period${f.included === 0 ? " (none: every call is paid)" : ""}. ` +
        `${formatUsd(f.used)} used` +
        (f.limit !== null ? `, spending limit ${formatUsd(f.limit)}` : "") +
        (f.resetsAt !== null ? `; resets ${formatDay(f.resetsAt)}` : ""),
      source: sourceText(source),
    };
  }
  if (!status) return null;
  return {
    amount: formatUsdShort(status.included),
    detail: status.includedOverridden ? "a month, as you entered it" : "a month",
    source: status.includedFromHf
      ? `from Hugging Face, its last answer${why ? ` (asking now failed: ${why})` : ""}`
      : `${sourceText(status.includedOverridden ? { kind: "yours" } : { kind: "plan", statedOn: status.plans.statedOn })}: ` +
        `Hugging Face has not reported this account’s figures${why ? ` (${why})` : ""}`,
  };
}
