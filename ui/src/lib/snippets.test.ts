import { describe, expect, it } from "vitest";
import {
  HF_ROUTER_BASE_URL,
  SNIPPET_LANGS,
  jsLiteral,
  pyLiteral,
  shellSingleQuote,
  snippet,
  type SnippetLang,
  type SnippetRequest,
} from "./snippets";

// ------------------------------------------------------------------ Node access

// The project has no @types/node (the UI is browser code), so the few Node
// APIs these tests use are typed here.
interface SpawnResult {
  status: number | null;
  stdout: string;
  stderr: string;
}
interface NodeLike {
  env: Record<string, string | undefined>;
  getBuiltinModule(id: "node:child_process"): {
    spawnSync(
      command: string,
      args: string[],
      options?: { input?: string; encoding: "utf8"; env?: Record<string, string> },
    ): SpawnResult;
  };
}
const node = (globalThis as unknown as { process: NodeLike }).process;

/** Runs a program to completion with text output. */
function spawnSync(command: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): SpawnResult {
  return node.getBuiltinModule("node:child_process").spawnSync(command, args, { ...options, encoding: "utf8" });
}

// ------------------------------------------------------------------ fixtures

const NASTY =
  'He said "hi" \\ it\'s $HOME `ls` $(rm -rf /) ${x} !! \n\ttab ü → ✓ 😀 \u2028 </script> \'\\\'\' """ \'\'\' \\u0041 %s {0}';

const FAKE_TOKEN = "hf_SuperSecretRealToken1234567890";

function request(overrides: Partial<SnippetRequest> = {}, body: Record<string, unknown> = {}): SnippetRequest {
  return {
    url: `${HF_ROUTER_BASE_URL}/chat/completions`,
    baseUrl: HF_ROUTER_BASE_URL,
    billTo: null,
    body: {
      model: "openai/gpt-oss-120b:groq",
      messages: [
        { role: "system", content: NASTY },
        { role: "user", content: "Write `code` with 'quotes' & \"more\"" },
        { role: "assistant", content: "" },
        { role: "user", content: [{ type: "text", text: "multi\npart" }] },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
      max_tokens: 1024,
      stop: ["\n\n", "'"],
      ...body,
    },
    ...overrides,
  };
}

const ALL_LANGS = SNIPPET_LANGS.map((l) => l.value);

/** Every combination of language, billing and streaming. */
const CASES = ALL_LANGS.flatMap((lang) =>
  [null, "acme-org"].flatMap((billTo) => [true, false].map((stream) => ({ lang, billTo, stream }))),
);

// ------------------------------------------------------------------ shell parsing

/** Splits a POSIX shell command into words (quotes, '\'' and line continuations; no expansion). */
function shellWords(src: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  const push = (s: string) => (word = (word ?? "") + s);
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === "\\" && src[i + 1] === "\n") {
      i += 2;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (ch === "'") {
      const end = src.indexOf("'", i + 1);
      push(src.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let s = "";
      while (src[i] !== '"') {
        if (src[i] === "\\" && '"\\$`'.includes(src[i + 1]!)) i++;
        s += src[i++];
      }
      push(s);
      i++;
    } else if (ch === "\\") {
      push(src[i + 1]!);
      i += 2;
    } else {
      push(ch);
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

// ------------------------------------------------------------------ Python parsing

/** A tiny parser for the Python subset the snippets use: literals and keyword arguments. */
class PyParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private skip(): void {
    while (this.pos < this.src.length && /[\s,]/.test(this.src[this.pos]!)) this.pos++;
  }

  private peek(): string {
    this.skip();
    return this.src[this.pos]!;
  }

  value(): unknown {
    const ch = this.peek();
    if (ch === "[") {
      this.pos++;
      const items: unknown[] = [];
      while (this.peek() !== "]") items.push(this.value());
      this.pos++;
      return items;
    }
    if (ch === "{") {
      this.pos++;
      const obj: Record<string, unknown> = {};
      while (this.peek() !== "}") {
        const key = this.value() as string;
        expect(this.peek()).toBe(":");
        this.pos++;
        obj[key] = this.value();
      }
      this.pos++;
      return obj;
    }
    if (ch === '"') {
      const m = /^"(?:[^"\\\n]|\\.)*"/.exec(this.src.slice(this.pos))!;
      this.pos += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^(True|False|None|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.src.slice(this.pos));
    if (!m) throw new Error(`unexpected Python at ${this.src.slice(this.pos, this.pos + 30)}`);
    this.pos += m[0].length;
    const literals: Record<string, unknown> = { True: true, False: false, None: null };
    return m[0] in literals ? literals[m[0]] : Number(m[0]);
  }

  /** Keyword arguments up to the closing parenthesis. */
  kwargs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.peek() !== ")") {
      const m = /^([A-Za-z_]\w*)=/.exec(this.src.slice(this.pos));
      if (!m) throw new Error(`expected a keyword at ${this.src.slice(this.pos, this.pos + 30)}`);
      this.pos += m[0].length;
      out[m[1]!] = this.value();
    }
    return out;
  }
}

/** The keyword arguments of the `chat.completions.create(` call, extra_body kept apart. */
function pythonCreateKwargs(code: string): Record<string, unknown> {
  const start = code.indexOf("client.chat.completions.create(");
  expect(start).toBeGreaterThan(0);
  return new PyParser(code.slice(start + "client.chat.completions.create(".length)).kwargs();
}

/** The body a Python snippet sends: its kwargs with extra_body merged in. */
function pythonBody(code: string): Record<string, unknown> {
  const { extra_body: extra, ...kwargs } = pythonCreateKwargs(code);
  return { ...kwargs, ...(extra as Record<string, unknown> | undefined) };
}

const hasPython = spawnSync("python3", ["-c", "pass"]).status === 0;

/** Parses with CPython's own parser and returns the create() kwargs (extra_body merged). */
function pythonBodyByCPython(code: string): Record<string, unknown> {
  const script = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "create")
kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
kw.update(kw.pop("extra_body", {}))
print(json.dumps(kw))
`;
  const run = spawnSync("python3", ["-c", script], { input: code });
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

// ------------------------------------------------------------------ JavaScript execution

type Captured = { ctor: unknown[]; calls: { method: string; args: unknown[] }[]; stdout: string; log: unknown[] };

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<void>;

/** An async iterable of streamed chunks, one without choices (the usage chunk). */
async function* fakeStream(): AsyncGenerator<unknown> {
  yield { choices: [{ delta: { content: "Hel" } }] };
  yield { choices: [{ delta: {} }] };
  yield { choices: [{ delta: { content: "lo" } }] };
  yield { choices: [], usage: { total_tokens: 3 } };
}

const fakeCompletion = { choices: [{ message: { content: "Hello" } }] };

/** Runs a JS snippet against fake clients (imports stripped) and records what it did. */
async function runJs(code: string): Promise<Captured> {
  const captured: Captured = { ctor: [], calls: [], stdout: "", log: [] };
  const record = (method: string, result: unknown) => (...args: unknown[]) => {
    captured.calls.push({ method, args });
    return result;
  };
  class InferenceClient {
    constructor(...args: unknown[]) {
      captured.ctor = args;
    }
    chatCompletionStream = record("chatCompletionStream", fakeStream());
    chatCompletion = record("chatCompletion", Promise.resolve(fakeCompletion));
  }
  class OpenAI {
    chat: unknown;
    constructor(...args: unknown[]) {
      captured.ctor = args;
      this.chat = {
        completions: {
          create: (body: { stream?: boolean }) => {
            captured.calls.push({ method: "create", args: [body] });
            return Promise.resolve(body.stream ? fakeStream() : fakeCompletion);
          },
        },
      };
    }
  }
  const fakeProcess = {
    env: { HF_TOKEN: FAKE_TOKEN },
    stdout: { write: (s: string) => (captured.stdout += s) },
  };
  const fakeConsole = { log: (...args: unknown[]) => captured.log.push(...args) };
  const imports = /^import .* from "(?:@huggingface\/inference|openai)";$/gm;
  expect(code.match(imports)).toHaveLength(1);
  const fn = new AsyncFunction("InferenceClient", "OpenAI", "process", "console", code.replace(imports, ""));
  await fn(InferenceClient, OpenAI, fakeProcess, fakeConsole);
  return captured;
}

// ------------------------------------------------------------------ tests

describe("SNIPPET_LANGS", () => {
  it("lists the five languages with their labels", () => {
    expect(SNIPPET_LANGS).toEqual([
      { value: "curl", label: "curl" },
      { value: "python_hf", label: "Python · huggingface_hub" },
      { value: "python_openai", label: "Python · openai" },
      { value: "js_hf", label: "JavaScript · @huggingface/inference" },
      { value: "js_openai", label: "JavaScript · openai" },
    ]);
  });
});

describe("snippet: the token", () => {
  it.each(CASES)("$lang (billTo=$billTo, stream=$stream) reads HF_TOKEN from the environment", ({ lang, billTo, stream }) => {
    const code = snippet(lang, request({ billTo }, { stream }));
    const placeholder: Record<SnippetLang, string> = {
      curl: '-H "Authorization: Bearer $HF_TOKEN"',
      python_hf: 'api_key=os.environ["HF_TOKEN"]',
      python_openai: 'api_key=os.environ["HF_TOKEN"]',
      js_hf: "new InferenceClient(process.env.HF_TOKEN)",
      js_openai: "apiKey: process.env.HF_TOKEN",
    };
    expect(code).toContain(placeholder[lang]);
    expect(code).not.toContain(FAKE_TOKEN);
    expect(code).not.toMatch(/hf_[A-Za-z0-9]{8,}/);
  });
});

describe("snippet: own key and custom endpoints", () => {
  const direct = (mode: "own_key" | "endpoint") =>
    request({
      url: "https://api.z.ai/api/paas/v4/chat/completions",
      baseUrl: "https://api.z.ai/api/paas/v4",
      mode,
      headers: mode === "own_key" ? [["x-source-channel", "hugging_face"]] : [],
    });

  it.each(ALL_LANGS)("%s sends a provider-bound call with the provider's key, never the HF token", (lang) => {
    const code = snippet(lang, direct("own_key"));
    expect(code).toContain("PROVIDER_API_KEY");
    expect(code).not.toContain("HF_TOKEN");
    expect(code).not.toContain("router.huggingface.co");
    expect(code).toContain(lang === "curl" ? "https://api.z.ai/api/paas/v4/chat/completions" : "https://api.z.ai/api/paas/v4");
  });

  it.each(ALL_LANGS)("%s sends a custom endpoint's call with the endpoint's key", (lang) => {
    const code = snippet(lang, direct("endpoint"));
    expect(code).toContain("ENDPOINT_API_KEY");
    expect(code).not.toContain("HF_TOKEN");
  });

  it("curl sends the provider's extra headers", () => {
    const words = shellWords(snippet("curl", direct("own_key")));
    const headers = words.flatMap((w, i) => (words[i - 1] === "-H" ? [w] : []));
    expect(headers).toEqual([
      "Authorization: Bearer $PROVIDER_API_KEY",
      "Content-Type: application/json",
      "x-source-channel: hugging_face",
    ]);
  });
});

describe("snippet: curl", () => {
  it.each([true, false])("recovers the exact body and headers (stream=%s)", (stream) => {
    for (const billTo of [null, "acme-org"]) {
      const req = request({ billTo }, { stream });
      const code = snippet("curl", req);
      expect(code.startsWith(`curl ${req.url} \\\n`)).toBe(true);
      const words = shellWords(code);
      expect(words[0]).toBe("curl");
      expect(words[1]).toBe(req.url);
      expect(words.includes("-N")).toBe(stream);
      const headers = words.flatMap((w, i) => (words[i - 1] === "-H" ? [w] : []));
      expect(headers).toEqual([
        "Authorization: Bearer $HF_TOKEN",
        "Content-Type: application/json",
        ...(billTo ? [`X-HF-Bill-To: ${billTo}`] : []),
      ]);
      const data = words[words.indexOf("-d") + 1]!;
      expect(JSON.parse(data)).toEqual(req.body);
      expect(data).toBe(JSON.stringify(req.body, null, 2));
    }
  });

  it("escapes single quotes as '\\''", () => {
    expect(shellSingleQuote("it's")).toBe(`'it'\\''s'`);
    expect(snippet("curl", request()).includes(`it'\\''s`)).toBe(true);
  });

  it.skipIf(spawnSync("bash", ["-c", "true"]).status !== 0)("is a command bash runs with the same arguments", () => {
    const req = request({ billTo: "acme-org" });
    const code = snippet("curl", req);
    const run = spawnSync("bash", ["-c", `curl() { printf '%s\\0' "$@"; }\n${code}`], {
      env: { PATH: node.env.PATH ?? "", HF_TOKEN: FAKE_TOKEN },
    });
    const args = run.stdout.split("\0");
    expect(args).toContain(`Authorization: Bearer ${FAKE_TOKEN}`);
    expect(JSON.parse(args[args.indexOf("-d") + 1]!)).toEqual(req.body);
  });
});

describe("snippet: Python", () => {
  it.each(CASES.filter((c) => c.lang.startsWith("python")))(
    "$lang (billTo=$billTo, stream=$stream) sends the exact body",
    ({ lang, billTo, stream }) => {
      const req = request({ billTo }, { stream, reasoning_effort: "high", top_k: 40, chat_template_kwargs: { thinking: false, x: null } });
      const code = snippet(lang, req);
      expect(pythonBody(code)).toEqual(req.body);
      expect(code).toContain("import os\n");
      if (stream) {
        expect(code).toContain("for chunk in stream:");
        expect(code).toContain("if chunk.choices and chunk.choices[0].delta.content:");
      } else {
        expect(code).toContain("print(completion.choices[0].message.content)");
      }
    },
  );

  it("builds the huggingface_hub client", () => {
    expect(snippet("python_hf", request())).toContain(
      'from huggingface_hub import InferenceClient\n\nclient = InferenceClient(\n    api_key=os.environ["HF_TOKEN"],\n)',
    );
    expect(snippet("python_hf", request({ billTo: "acme-org" }))).toContain(
      'client = InferenceClient(\n    api_key=os.environ["HF_TOKEN"],\n    bill_to="acme-org",\n)',
    );
    const custom = snippet("python_hf", request({ baseUrl: "https://example.com/v1", url: "https://example.com/v1/chat/completions" }));
    expect(custom).toContain('base_url="https://example.com/v1",');
  });

  it("builds the openai client", () => {
    expect(snippet("python_openai", request())).toContain(
      'from openai import OpenAI\n\nclient = OpenAI(\n    base_url="https://router.huggingface.co/v1",\n    api_key=os.environ["HF_TOKEN"],\n)',
    );
    expect(snippet("python_openai", request({ billTo: "acme-org" }))).toContain(
      '    default_headers={"X-HF-Bill-To": "acme-org"},\n)',
    );
  });

  it("puts parameters the client does not take in extra_body", () => {
    const body = { reasoning_effort: "low", top_k: 40, repetition_penalty: 1.1, seed: 7 };
    const hf = pythonCreateKwargs(snippet("python_hf", request({}, body)));
    expect(hf.extra_body).toEqual({ reasoning_effort: "low", top_k: 40, repetition_penalty: 1.1 });
    expect(hf.seed).toBe(7);
    const openai = pythonCreateKwargs(snippet("python_openai", request({}, body)));
    expect(openai.extra_body).toEqual({ top_k: 40, repetition_penalty: 1.1 });
    expect(openai.reasoning_effort).toBe("low");
    expect(Object.keys(openai).slice(0, 3)).toEqual(["model", "messages", "stream"]);
    // No extra_body at all when every parameter is known.
    expect(pythonCreateKwargs(snippet("python_openai", request())).extra_body).toBeUndefined();
  });

  it("writes Python literals", () => {
    expect(pyLiteral(true)).toBe("True");
    expect(pyLiteral(false)).toBe("False");
    expect(pyLiteral(null)).toBe("None");
    expect(pyLiteral([])).toBe("[]");
    expect(pyLiteral({})).toBe("{}");
    expect(pyLiteral({ a: [1, null, { b: false }] })).toBe(
      '{\n    "a": [\n        1,\n        None,\n        {\n            "b": False,\n        },\n    ],\n}',
    );
    const value = { s: NASTY, n: [1.5, -2, 1e21], t: true, f: false, z: null, nested: [[{ true: "false" }]] };
    expect(new PyParser(pyLiteral(value)).value()).toEqual(value);
  });

  it.skipIf(!hasPython).each(CASES.filter((c) => c.lang.startsWith("python")))(
    "$lang (billTo=$billTo, stream=$stream) is valid Python for CPython",
    ({ lang, billTo, stream }) => {
      const req = request({ billTo }, { stream, top_k: 3, reasoning_effort: "low" });
      expect(pythonBodyByCPython(snippet(lang, req))).toEqual(req.body);
    },
  );
});

describe("snippet: JavaScript", () => {
  it.each(CASES.filter((c) => c.lang === "js_hf"))(
    "js_hf (billTo=$billTo, stream=$stream) calls the client with the exact body",
    async ({ billTo, stream }) => {
      const req = request({ billTo }, { stream, top_k: 40 });
      const code = snippet("js_hf", req);
      expect(code.startsWith('import { InferenceClient } from "@huggingface/inference";\n')).toBe(true);
      const run = await runJs(code);
      expect(run.ctor).toEqual([FAKE_TOKEN]);
      expect(run.calls).toHaveLength(1);
      const call = run.calls[0]!;
      expect(call.method).toBe(stream ? "chatCompletionStream" : "chatCompletion");
      const { stream: _ignored, ...withoutStream } = req.body;
      expect(call.args[0]).toEqual(withoutStream);
      expect((call.args[0] as { model: string }).model).toBe("openai/gpt-oss-120b:groq");
      expect(call.args[1]).toEqual(billTo ? { billTo } : undefined);
      if (stream) expect(run.stdout).toBe("Hello\n");
      else expect(run.log).toEqual(["Hello"]);
    },
  );

  it("js_hf passes a non-router base URL as endpointUrl", async () => {
    const run = await runJs(snippet("js_hf", request({ baseUrl: "https://example.com/v1" })));
    expect((run.calls[0]!.args[0] as { endpointUrl: string }).endpointUrl).toBe("https://example.com/v1");
  });

  it.each(CASES.filter((c) => c.lang === "js_openai"))(
    "js_openai (billTo=$billTo, stream=$stream) calls the client with the exact body",
    async ({ billTo, stream }) => {
      const req = request({ billTo }, { stream, top_k: 40 });
      const code = snippet("js_openai", req);
      expect(code.startsWith('import OpenAI from "openai";\n')).toBe(true);
      const run = await runJs(code);
      expect(run.ctor).toEqual([
        {
          baseURL: HF_ROUTER_BASE_URL,
          apiKey: FAKE_TOKEN,
          ...(billTo ? { defaultHeaders: { "X-HF-Bill-To": billTo } } : {}),
        },
      ]);
      expect(run.calls).toEqual([{ method: "create", args: [req.body] }]);
      if (stream) {
        expect(code).toContain('process.stdout.write(chunk.choices[0]?.delta?.content ?? "");');
        expect(run.stdout).toBe("Hello\n");
      } else {
        expect(run.log).toEqual(["Hello"]);
      }
    },
  );

  it("writes JavaScript literals with quoted keys only where needed", () => {
    expect(jsLiteral({ a: 1, "b-c": [true, null], $d: {} })).toBe('{\n  a: 1,\n  "b-c": [\n    true,\n    null,\n  ],\n  $d: {},\n}');
    const value = { s: NASTY, "x y": [1, { "": "" }] };
    expect(new Function(`return (${jsLiteral(value)});`)()).toEqual(value);
  });
});

describe("snippet: every language", () => {
  it.each(ALL_LANGS)("%s ends with a newline and has no trailing spaces", (lang) => {
    const code = snippet(lang, request({ billTo: "acme-org" }));
    expect(code.endsWith("\n")).toBe(true);
    // (Not a /m regex: "$" would also match before the U+2028 in the messages.)
    expect(code.split("\n").filter((line) => /[ \t]$/.test(line))).toEqual([]);
  });
});
