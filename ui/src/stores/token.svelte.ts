// Whether Hugging Face still accepts the saved token. Rust notes a 401 on a call made with it
// (`AuthStatus.tokenRejected`) and clears it once a token works; the UI shows the account as
// needing a new token meanwhile, and a chat's 401 takes the user to Account → Replace token.
import { api } from "../lib/ipc";

class TokenState {
  /** Hugging Face rejected the saved token on a call: a new one is needed. */
  rejected = $state(false);
  /** Another screen asked to open Account with the token form (a chat's 401). */
  replaceAsked = $state(false);

  /** Reads the token's state again, after a call that may have changed it. */
  recheck(): void {
    api
      .authStatus()
      .then((s) => (this.rejected = s.tokenRejected))
      .catch(() => {});
  }

  askReplace(): void {
    this.replaceAsked = true;
  }
}

export const token = new TokenState();
