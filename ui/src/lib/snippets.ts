// "Get code": the chat request the app is about to send, as a runnable
// snippet in a few languages and clients. No secret ever appears in a
// snippet (this module never receives one): each snippet reads the credential
// the call uses from the environment: HF_TOKEN through Hugging Face,
// PROVIDER_API_KEY straight to a provider with the user's own key,
// ENDPOINT_API_KEY for a custom endpoint.
import type { CallMode } from "../bindings/CallMode";
import type { ChatPreview } from "../bindings/ChatPreview";

/** What a snippet is made from: the app's own preview of the request (`chat_preview`), of which
 * the snippets use the URLs, the exact JSON body, the organisation billed (X-HF-Bill-To), the
 * provider's extra headers and whose credential the call needs. */
export type SnippetRequest = Pick<ChatPreview, "url" | "baseUrl" | "body" | "billTo"> &
  Partial<Pick<ChatPreview, "headers" | "mode">>;

/** The environment variable a snippet reads the credential from, by where the call goes. */
export function keyVariable(mode: CallMode | undefined): string {
  switch (mode) {
    case "own_key":
      return "PROVIDER_API_KEY";
    case "endpoint":
      return "ENDPOINT_API_KEY";
    default:
      return "HF_TOKEN";
  }
}

export type SnippetLang = "curl" | "python_hf" | "python_openai" | "js_hf" | "js_openai";

export const SNIPPET_LANGS: { value: SnippetLang; label: string }[] = [
  { value: "curl", label: "curl" },
  { value: "python_hf", label: "Python · huggingface_hub" },
  { value: "python_openai", label: "Python · openai" },
  { value: "js_hf", label: "JavaScript · @huggingface/inference" },
  { value: "js_openai", label: "JavaScript · openai" },
];

/** The base URL the Hugging Face clients use by default for chat completion. */
export const HF_ROUTER_BASE_URL = "https://router.huggingface.co/v1";

/** Keyword arguments of openai's `chat.completions.create` passed as such; the rest go in `extra_body`. */
const OPENAI_PY_KWARGS = new Set([
  "model", "messages", "stream", "stream_options", "max_tokens", "temperature", "top_p", "stop",
  "seed", "frequency_penalty", "presence_penalty", "response_format", "tools", "tool_choice",
  "reasoning_effort", "logprobs", "top_logprobs", "n",
]);

/**
 * Keyword arguments of huggingface_hub's `chat.completions.create`
 * (`InferenceClient.chat_completion`). It has no `reasoning_effort`, so that
 * one goes in `extra_body` there.
 */
const HF_PY_KWARGS = new Set([...OPENAI_PY_KWARGS].filter((k) => k !== "reasoning_effort"));

/** The snippet for one language and client. */
export function snippet(lang: SnippetLang, req: SnippetRequest): string {
  switch (lang) {
    case "curl":
      return curlSnippet(req);
    case "python_hf":
      return pythonHfSnippet(req);
    case "python_openai":
      return pythonOpenAiSnippet(req);
    case "js_hf":
      return jsHfSnippet(req);
    case "js_openai":
      return jsOpenAiSnippet(req);
  }
}

/** True when the request asks for a streamed answer. */
function isStreaming(body: Record<string, unknown>): boolean {
  return body.stream === true;
}

/** Indents every line after the first by `pad` (for a value placed mid-line). */
function indentRest(text: string, pad: string): string {
  return text.replace(/\n/g, `\n${pad}`);
}

/** The headers the openai clients send on top of their own: X-HF-Bill-To, a provider's. */
function extraHeaders(req: SnippetRequest): Record<string, string> | null {
  const headers: Record<string, string> = {};
  if (req.billTo) headers["X-HF-Bill-To"] = req.billTo;
  for (const [k, v] of req.headers ?? []) headers[k] = v;
  return Object.keys(headers).length > 0 ? headers : null;
}

/** `{"k": "v", …}` on one line: a Python dict and a JavaScript object alike. */
function inlineObject(o: Record<string, string>): string {
  return `{${Object.entries(o)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(", ")}}`;
}

// ---------------------------------------------------------------- shell

/** One shell word: bare when harmless, double-quoted when nothing expands, else single-quoted. */
export function shellWord(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  if (!/[$`"\\!]/.test(s)) return `"${s}"`;
  return shellSingleQuote(s);
}

/** Single-quotes `s` for POSIX shells: only `'` needs care, as `'\''`. */
export function shellSingleQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** curl with the body as pretty JSON; `-N` so a streamed answer prints as it arrives. */
function curlSnippet(req: SnippetRequest): string {
  const args = [`curl ${shellWord(req.url)}`];
  if (isStreaming(req.body)) args.push("-N");
  args.push(`-H "Authorization: Bearer $${keyVariable(req.mode)}"`);
  args.push(`-H ${shellWord("Content-Type: application/json")}`);
  for (const [k, v] of req.headers ?? []) args.push(`-H ${shellWord(`${k}: ${v}`)}`);
  if (req.billTo) args.push(`-H ${shellWord(`X-HF-Bill-To: ${req.billTo}`)}`);
  args.push(`-d ${shellSingleQuote(JSON.stringify(req.body, null, 2))}`);
  return args.join(" \\\n    ") + "\n";
}

// ---------------------------------------------------------------- Python

/**
 * A JSON value as a Python literal, pretty-printed with 4-space indents.
 * Strings use JSON escapes, which Python reads the same way.
 */
export function pyLiteral(value: unknown, pad = ""): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "None";
  if (typeof value === "string") return JSON.stringify(value);
  const inner = `${pad}    `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => `${inner}${pyLiteral(v, inner)}`);
    return `[\n${items.join(",\n")},\n${pad}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const items = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(v, inner)}`);
  return `{\n${items.join(",\n")},\n${pad}}`;
}

/** `name=value` lines for a Python call: known kwargs in body order, the rest in `extra_body`. */
function pyKwargs(body: Record<string, unknown>, known: Set<string>): string[] {
  const pad = "    ";
  const lines: string[] = [];
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    if (known.has(key)) lines.push(`${pad}${key}=${pyLiteral(value, pad)},`);
    else extra[key] = value;
  }
  if (Object.keys(extra).length > 0) lines.push(`${pad}extra_body=${pyLiteral(extra, pad)},`);
  return lines;
}

/** The create call and the loop or print that shows the answer. */
function pyCreateAndPrint(body: Record<string, unknown>, known: Set<string>): string {
  const stream = isStreaming(body);
  const name = stream ? "stream" : "completion";
  const call = [`${name} = client.chat.completions.create(`, ...pyKwargs(body, known), ")"].join("\n");
  const output = stream
    ? [
        "for chunk in stream:",
        "    if chunk.choices and chunk.choices[0].delta.content:",
        '        print(chunk.choices[0].delta.content, end="", flush=True)',
        "print()",
      ].join("\n")
    : "print(completion.choices[0].message.content)";
  return `${call}\n\n${output}\n`;
}

/** Python with huggingface_hub's InferenceClient (routes through the HF router by default). */
function pythonHfSnippet(req: SnippetRequest): string {
  const args: string[] = [];
  if (req.baseUrl !== HF_ROUTER_BASE_URL) args.push(`    base_url=${JSON.stringify(req.baseUrl)},`);
  args.push(`    api_key=os.environ["${keyVariable(req.mode)}"],`);
  if (req.billTo) args.push(`    bill_to=${JSON.stringify(req.billTo)},`);
  if (req.headers?.length) args.push(`    headers=${inlineObject(Object.fromEntries(req.headers))},`);
  return [
    "import os",
    "",
    "from huggingface_hub import InferenceClient",
    "",
    ["client = InferenceClient(", ...args, ")"].join("\n"),
    "",
    pyCreateAndPrint(req.body, HF_PY_KWARGS),
  ].join("\n");
}

/** Python with the openai client pointed at the endpoint's base URL. */
function pythonOpenAiSnippet(req: SnippetRequest): string {
  const args = [`    base_url=${JSON.stringify(req.baseUrl)},`, `    api_key=os.environ["${keyVariable(req.mode)}"],`];
  const headers = extraHeaders(req);
  if (headers) args.push(`    default_headers=${inlineObject(headers)},`);
  return [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    ["client = OpenAI(", ...args, ")"].join("\n"),
    "",
    pyCreateAndPrint(req.body, OPENAI_PY_KWARGS),
  ].join("\n");
}

// ---------------------------------------------------------------- JavaScript

/** A JSON value as a JavaScript literal (2-space indents, identifier keys unquoted). */
export function jsLiteral(value: unknown, pad = ""): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null) ?? "null";
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${inner}${jsLiteral(v, inner)}`).join(",\n")},\n${pad}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  const items = entries.map(([k, v]) => `${inner}${jsKey(k)}: ${jsLiteral(v, inner)}`);
  return `{\n${items.join(",\n")},\n${pad}}`;
}

/** An object key, quoted unless it is a plain identifier. */
function jsKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
}

/** The loop that prints a streamed answer as it arrives. */
const JS_STREAM_LOOP = [
  "for await (const chunk of stream) {",
  '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
  "}",
  'process.stdout.write("\\n");',
].join("\n");

/**
 * JavaScript with @huggingface/inference. The model string is kept exactly
 * (a ":provider" or ":policy" suffix included): without `provider`, the client
 * sends chat completions to the HF router, which understands it.
 */
function jsHfSnippet(req: SnippetRequest): string {
  const stream = isStreaming(req.body);
  // The method (chatCompletion / chatCompletionStream) decides streaming.
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(req.body)) if (key !== "stream") args[key] = value;
  if (req.baseUrl !== HF_ROUTER_BASE_URL) args.endpointUrl = req.baseUrl;
  const options = req.billTo ? `,\n  { billTo: ${JSON.stringify(req.billTo)} }` : "";
  const call = `(\n  ${indentRest(jsLiteral(args), "  ")}${options},\n)`;
  const body = stream
    ? `const stream = client.chatCompletionStream${call};\n\n${JS_STREAM_LOOP}`
    : `const completion = await client.chatCompletion${call};\n\nconsole.log(completion.choices[0].message.content);`;
  return [
    'import { InferenceClient } from "@huggingface/inference";',
    "",
    `const client = new InferenceClient(process.env.${keyVariable(req.mode)});`,
    "",
    body,
    "",
  ].join("\n");
}

/** JavaScript with the openai client pointed at the endpoint's base URL. */
function jsOpenAiSnippet(req: SnippetRequest): string {
  const options = [`  baseURL: ${JSON.stringify(req.baseUrl)},`, `  apiKey: process.env.${keyVariable(req.mode)},`];
  const headers = extraHeaders(req);
  if (headers) options.push(`  defaultHeaders: { ${inlineObject(headers).slice(1, -1)} },`);
  const clientOptions = `{\n${options.join("\n")}\n}`;
  const create = `await client.chat.completions.create(${jsLiteral(req.body)});`;
  const body = isStreaming(req.body)
    ? `const stream = ${create}\n\n${JS_STREAM_LOOP}`
    : `const completion = ${create}\n\nconsole.log(completion.choices[0].message.content);`;
  return [
    'import OpenAI from "openai";',
    "",
    `const client = new OpenAI(${clientOptions});`,
    "",
    body,
    "",
  ].join("\n");
}
