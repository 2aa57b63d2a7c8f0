// The history as far as screens share it: a version that goes up whenever a conversation was
// saved or an answer finished (the sidebar reloads its list and search when it changes).
export class HistoryStore {
  version = $state(0);

  /** Something was saved: lists and searches are out of date. */
  changed(): void {
    this.version++;
  }
}

export const history = new HistoryStore();
