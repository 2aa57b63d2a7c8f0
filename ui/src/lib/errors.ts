// Error codes from the Rust side, in the user's words, with what to do next.
import type { AppError } from "../bindings/AppError";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { Link } from "../bindings/Link";

export interface ErrorText {
  title: string;
  /** What the user can do about it. */
  hint: string;
  /** A page that helps, opened in the browser. */
  link?: { to: Link; label: string };
}

const TEXTS: Record<ErrorCode, ErrorText> = {
  token_empty: { title: "Paste your token first", hint: "Copy an access token from your Hugging Face settings and paste it here." },
  token_malformed: {
    title: "That isn’t a Hugging Face token",
    hint: "Access tokens start with “hf_”. Copy the whole token from your Hugging Face settings.",
    link: { to: "tokens", label: "Open my tokens" },
  },
  unauthorized: {
    title: "Hugging Face didn’t accept this token",
    hint: "It may be mistyped, revoked or expired. Create a new one and paste it here.",
    link: { to: "new_token", label: "Create a token" },
  },
  forbidden: {
    title: "This token lacks a permission",
    hint: "Create a fine-grained token with “Make calls to Inference Providers” ticked.",
    link: { to: "new_token", label: "Create a token" },
  },
  payment_required: {
    title: "Your monthly included credits are used up",
    hint: "Free accounts get $0.10 a month and PRO accounts $2.00 (as Hugging Face stated in August 2025). Add credits or subscribe to PRO to go on, or use a provider’s own key.",
    link: { to: "billing", label: "Open billing" },
  },
  rate_limited: { title: "Too many requests", hint: "Wait a little and try again." },
  not_found: { title: "Not found", hint: "The model or provider may not exist or no longer be served." },
  invalid_request: { title: "The request was rejected", hint: "Check the parameters and try again." },
  server_error: { title: "The service is having trouble", hint: "This is usually temporary. Try again in a moment." },
  bad_response: {
    title: "Unexpected answer",
    hint: "The service (or a proxy between you and it) answered with something that isn’t data. Try again later.",
  },
  network: { title: "No connection", hint: "Check your internet connection and try again." },
  timeout: { title: "No answer in time", hint: "The service is slow right now. Try again." },
  keyring_unavailable: {
    title: "The system keyring isn’t available",
    hint: "Switchboard keeps tokens only in your system keyring, never in a plain file. You can keep the token for this session only: you will paste it again next time.",
  },
  not_signed_in: { title: "You’re signed out", hint: "Sign in with a Hugging Face token." },
  no_cli_token: {
    title: "No huggingface-cli token found",
    hint: "Run “huggingface-cli login” or set HF_TOKEN, or paste a token instead.",
  },
  forbidden_url: { title: "Couldn’t open the page", hint: "Open it yourself in a browser." },
  io: { title: "Couldn’t read or write a file", hint: "Check that the disk isn’t full and the data folder is writable." },
  internal: { title: "Something went wrong", hint: "This is a bug in Switchboard. Try again; if it persists, please report it." },
  model_unavailable: {
    title: "This model isn’t served here",
    hint: "The provider doesn’t serve this model right now. Pick another provider, or let Switchboard choose automatically.",
  },
  stream_interrupted: {
    title: "The answer was cut off",
    hint: "The connection broke before the answer was complete. What arrived is kept; try again for the rest.",
  },
  history_unavailable: {
    title: "The conversation history can’t be opened",
    hint: "The history file is damaged or was written by a newer Switchboard. It was left untouched; chats still work but aren’t saved.",
  },
  history_read_only: {
    title: "The history is read-only",
    hint: "Past conversations can be read, but new messages aren’t being saved. Check the data folder’s permissions.",
  },
  disk_full: { title: "The disk is full", hint: "Free some space: new messages can’t be saved until then." },
  import_invalid: {
    title: "That file can’t be imported",
    hint: "Choose a file exported by Switchboard (conversation or full backup, JSON).",
  },
  no_such_conversation: { title: "That conversation is gone", hint: "It may have been deleted." },
  provider_error: {
    title: "The provider stopped with an error",
    hint: "The provider failed while writing the answer. What arrived is kept; try again, or pick another provider.",
  },
  history_busy: {
    title: "The history is busy",
    hint: "Another program (maybe a second copy of Switchboard) is holding the history file. Close it and try again.",
  },
  provider_key_missing: {
    title: "No key saved for this provider",
    hint: "Add the provider’s API key in Providers, or set the provider back to “Through Hugging Face”.",
  },
  answer_unfinished: {
    title: "The provider did not say the answer was finished",
    hint: "The answer ended without the provider’s end mark, so it may be incomplete. What arrived is kept; ask again if it looks cut short.",
  },
  redirected: {
    title: "The server sent the request elsewhere",
    hint: "Switchboard doesn’t follow a redirect to another address, so your key and conversation stayed here. Check the address, or ask whoever runs it.",
  },
  too_large: {
    title: "The answer was too large",
    hint: "The server sent far more than asked, so Switchboard stopped reading it. What arrived is kept; lower the maximum length or check the endpoint.",
  },
  insecure_endpoint: {
    title: "This address isn’t encrypted",
    hint: "Over plain http, the endpoint’s key and your prompts cross the network in clear. Use an https address, or tick “Send without encryption” if you trust the network.",
  },
  provider_disabled: {
    title: "This provider is turned off",
    hint: "You turned it off in Providers, so Switchboard doesn’t call it. Turn it back on in Providers, or pick another provider or an automatic choice.",
  },
  billing_forbidden: {
    title: "Your token can’t read billing",
    hint: "So the figures shown are Switchboard’s own estimate. To see what Hugging Face reports, create a fine-grained token with “Billing: read” (and “Make calls to Inference Providers”), or use a read token, on huggingface.co/settings/tokens, and sign in with it.",
  },
  content_flagged: {
    title: "The provider’s safety filter flagged this",
    hint: "There is no picture to show. Change the prompt (or the source image) and try again.",
  },
  job_failed: {
    title: "The job failed at the provider",
    hint: "The provider accepted the request but could not finish it. Try again, perhaps with another size, fewer steps or another provider. The request id below helps the provider’s support.",
  },
  not_an_image: {
    title: "The result isn’t a picture",
    hint: "The provider sent something that is not a PNG, JPEG, WebP or GIF, so Switchboard did not keep it. Try again or pick another provider.",
  },
  image_input_unsupported: {
    title: "This model can’t see pictures",
    hint: "Nothing was sent. Remove the attached pictures, or choose a model marked as taking images.",
  },
  not_audio: {
    title: "That isn’t audio Switchboard can use",
    hint: "Choose a WAV, FLAC, MP3, Ogg, M4A, AAC or WebM recording. Files are checked by their content, not their name.",
  },
};

const CODES = new Set(Object.keys(TEXTS));

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as AppError).code === "string" &&
    CODES.has((e as AppError).code) &&
    typeof (e as AppError).message === "string"
  );
}

/** Anything thrown by an IPC call, as an AppError. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return { code: e.code, message: e.message };
  const message = e instanceof Error ? e.message : typeof e === "string" ? e : "Unknown error";
  return { code: "internal", message };
}

export function errorText(code: ErrorCode): ErrorText {
  return TEXTS[code];
}
