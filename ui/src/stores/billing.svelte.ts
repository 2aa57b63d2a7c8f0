// The Hugging Face credits meter, shared by the playground's compact meter and the Billing
// screen: Switchboard's own estimate (refreshed whenever a call finishes) and Hugging Face's
// figures (usage-v2, refreshed on the Billing screen, on demand, after a burst of calls and on a
// 402). When the token may not read billing, `usageError` says so and the meter shows the
// estimate, labelled as one.
import type { AppError } from "../bindings/AppError";
import type { CreditStatus } from "../bindings/CreditStatus";
import type { UsageReport } from "../bindings/UsageReport";
import { toAppError } from "../lib/errors";
import { api } from "../lib/ipc";
import { usageFigures, type UsageFigures } from "../lib/usage";

/** Calls finishing within this time ask Hugging Face once. */
const USAGE_DEBOUNCE_MS = 3000;

export class BillingStore {
  status = $state.raw<CreditStatus | null>(null);
  /** Hugging Face's last figures (fresh or the last known, with why). */
  usage = $state.raw<UsageReport | null>(null);
  /** When `usage` arrived here (its age grows from its `ageSecs` from then on). */
  usageReceivedAt = $state(0);
  /** Why there are no figures from Hugging Face (billing_forbidden, not signed in…). */
  usageError = $state.raw<AppError | null>(null);
  usageLoading = $state(false);
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** Hugging Face's figures in dollars, when known. */
  get figures(): UsageFigures | null {
    return this.usage ? usageFigures(this.usage.usage) : null;
  }

  /** Fetches the meter; throws what went wrong (the Billing screen shows it). */
  async load(): Promise<CreditStatus> {
    const s = await api.billingStatus();
    this.status = s;
    return s;
  }

  /** Fetches the meter in the background and Hugging Face's figures soon after (debounced); a
   * failure keeps the last ones. */
  refresh(): void {
    this.load().catch(() => {});
    this.refreshUsageSoon();
  }

  /** Asks Hugging Face now. A failure with last known figures comes back as figures with
   * `staleBecause`; billing_forbidden and the like clear them (the estimate is shown). */
  async loadUsage(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.usageLoading = true;
    try {
      const r = await api.billingUsage();
      this.usage = r;
      this.usageReceivedAt = Date.now();
      this.usageError = null;
      // The meter's estimate counts from Hugging Face's included credits once they are known.
      if (!this.status?.includedFromHf) this.load().catch(() => {});
    } catch (e) {
      const err = toAppError(e);
      this.usageError = err;
      // Without billing access or signed out the last figures are no longer this token's.
      if (err.code === "billing_forbidden" || err.code === "not_signed_in" || err.code === "unauthorized") {
        this.usage = null;
        if (this.status?.includedFromHf) this.load().catch(() => {});
      }
    } finally {
      this.usageLoading = false;
    }
  }

  /** After a burst of calls: once, a few seconds after the last. */
  refreshUsageSoon(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.loadUsage();
    }, USAGE_DEBOUNCE_MS);
  }
}

export const billing = new BillingStore();
