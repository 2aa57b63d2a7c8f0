// What the first screen may show before the app answers (issue 19: start-up): the sign-in state
// and theme the last run ended with, kept in the web view's localStorage. Asking the app for
// them costs a keyring read and a round trip after the page's script has loaded; with them the
// first frame is already the playground (or the welcome screen), in the right colours, and the
// app's answer replaces them a moment later.
//
// Kept: whether the user is signed in (with a token in the keyring: a session-only one is gone
// at the next start), where the token is kept, whether the keyring answers,
// whether the token was rejected, and of the account what the playground shows (name, plan,
// organizations). Never the token or its last four characters, nor the e-mail address, the
// token's name or the avatar.
import type { AuthStatus } from "../bindings/AuthStatus";
import type { Theme } from "../bindings/Theme";

const KEY = "switchboard.boot";

export interface Boot {
  status: AuthStatus | null;
  theme: Theme | null;
}

type KeyValue = Pick<globalThis.Storage, "getItem" | "setItem">;

function store(): KeyValue | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function read(kv: KeyValue | null): Partial<Boot> {
  try {
    const v = JSON.parse(kv?.getItem(KEY) ?? "null");
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

function isStatus(v: unknown): v is AuthStatus {
  if (!v || typeof v !== "object") return false;
  const s = v as Record<string, unknown>;
  if (typeof s.signedIn !== "boolean" || typeof s.keyringAvailable !== "boolean" || typeof s.tokenRejected !== "boolean") return false;
  if (s.account === null) return !s.signedIn;
  const a = s.account as Record<string, unknown> | undefined;
  return !!a && typeof a.name === "string" && Array.isArray(a.orgs) && typeof a.plan === "string";
}

/** The state the last run ended with, when there is one and it reads back whole. */
export function lastBoot(kv: KeyValue | null = store()): Boot {
  const v = read(kv);
  const theme = v.theme === "light" || v.theme === "dark" || v.theme === "system" ? v.theme : null;
  return { status: isStatus(v.status) ? v.status : null, theme };
}

/** Keeps what the next start may show first (see above for what is left out). */
export function rememberBoot(update: Partial<Boot>, kv: KeyValue | null = store()): void {
  const next = { ...read(kv), ...update };
  const s = next.status;
  // A session-only token is gone at the next start: that start asks.
  if (s?.signedIn && s.storage !== "keyring") {
    next.status = null;
  } else if (s) {
    next.status = {
      ...s,
      tokenLast4: null,
      account: s.account && { ...s.account, avatar: null, email: null, tokenName: null, tokenRole: null },
    };
  }
  try {
    kv?.setItem(KEY, JSON.stringify(next));
  } catch {
    // Full or unavailable: the next start asks the app, as without it.
  }
}
