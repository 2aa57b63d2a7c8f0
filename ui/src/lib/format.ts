import type { Account } from "../bindings/Account";
import type { Org } from "../bindings/Org";

export function planLabel(account: Pick<Account, "plan">): string {
  return account.plan === "pro" ? "PRO" : "Free";
}

export function orgPlanLabel(org: Org): string {
  if (org.isEnterprise) return "Enterprise";
  if (!org.plan) return "Free";
  return org.plan.charAt(0).toUpperCase() + org.plan.slice(1);
}

/** Initials for an avatar placeholder: "Ada Lovelace" → "AL", "ada" → "A". */
export function initials(name: string): string {
  const parts = name.trim().split(/[\s_-]+/).filter(Boolean);
  return parts
    .slice(0, 2)
    .map((p) => p[0]!.toUpperCase())
    .join("");
}

/** A Unix time in seconds as a short local date and time. */
export function formatTime(unixSeconds: number, locale?: string): string {
  return new Date(unixSeconds * 1000).toLocaleString(locale, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}
