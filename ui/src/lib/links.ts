// Links in answers open in the system browser, never in the app's window, and only after the
// user has seen where they lead: `webLink` says whether a link can be opened at all (http and
// https only, with a host) and which host to show in the confirmation.

export interface WebLink {
  url: string;
  /** The host the user confirms (with its port, if any). */
  host: string;
}

export function webLink(href: string | null | undefined): WebLink | null {
  if (!href) return null;
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.host) return null;
  return { url: url.href, host: url.host };
}
