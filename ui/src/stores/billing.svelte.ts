// The Hugging Face credits meter, shared by the playground's compact meter and the Billing
// screen; refreshed whenever a call finishes.
import type { CreditStatus } from "../bindings/CreditStatus";
import { api } from "../lib/ipc";

export class BillingStore {
  status = $state.raw<CreditStatus | null>(null);

  /** Fetches the meter; throws what went wrong (the Billing screen shows it). */
  async load(): Promise<CreditStatus> {
    const s = await api.billingStatus();
    this.status = s;
    return s;
  }

  /** Fetches the meter in the background; a failure keeps the last one. */
  refresh(): void {
    this.load().catch(() => {});
  }
}

export const billing = new BillingStore();
