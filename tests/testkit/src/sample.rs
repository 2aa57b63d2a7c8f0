//! A generator of large, realistic, deterministic histories, for benchmarks and manual tests
//! (`make bench` uses it; `SWITCHBOARD_BENCH_KEEP_DB=path make bench` keeps the database it made).
//!
//! The text comes from a small built-in vocabulary drawn with Zipf-like frequencies (a few words
//! everywhere, most words now and then, a few rare ones almost nowhere), grouped by topics so a
//! conversation stays on its subject: user questions of 20–200 bytes, Markdown answers of
//! 200–2000 bytes (paragraphs, lists, headings, code blocks, the odd table), several models and
//! providers, the statuses, figures and errors the app records. The same seed gives the same
//! history; only the timestamps depend on the clock (spread over the year before the call, so
//! the trash is not purged when the database is opened).
//!
//! Rows go in directly, as [`History::begin_answer`] and [`History::finish_answer`] would leave
//! them, one transaction per batch of conversations, through the schema's own triggers (the
//! full-text index is built as the app builds it). They go through a connection of their own to
//! the history's file ([`History::path`]; the history opened it in WAL mode and migrated it), so
//! the core keeps its connection private. Meant for an empty history: the same seed twice in one
//! database gives the same conversation ids, which is an error.

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

use switchboard_core::call::{CallStats, ChatParams, Policy, Routing};
use switchboard_core::catalog::Pricing;
use switchboard_core::error::{AppError, AppResult, ErrorCode};
use switchboard_core::history::{db_error, now_ms, title_from, History};

/// Bumped whenever the generated text or rows change (cached sample databases key on it).
pub const VERSION: u32 = 1;

/// Conversations written per transaction.
const BATCH: usize = 200;

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SampleStats {
    pub conversations: usize,
    pub messages: usize,
    /// Bytes of text held: message contents and reasoning, and titles (UTF-8). The database
    /// file is compared with this.
    pub text_bytes: u64,
}

/// Fills `history` with `conversations` conversations of `messages_per_conversation` messages
/// each (a user question, then its answer, and so on).
pub fn generate(
    history: &History,
    conversations: usize,
    messages_per_conversation: usize,
    seed: u64,
) -> AppResult<SampleStats> {
    let mut rng = Rng::new(seed);
    let now = now_ms();
    let start = now - 365 * DAY_MS;
    // Each conversation gets its own slot of the year, oldest first (ids grow with time, as
    // in real use).
    let slot = (365 * DAY_MS) / conversations.max(1) as i64;
    let mut stats = SampleStats::default();
    let mut conn = writable(history)?;

    // Bulk-load settings for the duration, put back afterwards.
    let synchronous: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .map_err(db_error)?;
    let cache_size: i64 = conn
        .query_row("PRAGMA cache_size", [], |r| r.get(0))
        .map_err(db_error)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;")
        .map_err(db_error)?;

    let mut result = Ok(());
    let mut done = 0;
    while done < conversations {
        let n = BATCH.min(conversations - done);
        let tx = match conn.transaction() {
            Ok(tx) => tx,
            Err(e) => {
                result = Err(db_error(e));
                break;
            }
        };
        let written = (done..done + n).try_for_each(|i| {
            let created = start + i as i64 * slot + rng.range(0, slot.max(1) as u64 - 1) as i64;
            let c = Conv::new(&mut rng, messages_per_conversation, created, now);
            c.insert(&tx, &mut stats)
        });
        if let Err(e) = written.and_then(|()| tx.commit()) {
            result = Err(db_error(e));
            break;
        }
        done += n;
    }
    // Folds the write-ahead log into the file: the database is one file after a bulk load.
    let restore = conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous}; PRAGMA cache_size = {cache_size}; PRAGMA wal_checkpoint(TRUNCATE);"
    ));
    result?;
    restore.map_err(db_error)?;
    Ok(stats)
}

/// A connection of our own to `history`'s file, set up as the history sets up its own.
fn writable(history: &History) -> AppResult<Connection> {
    if history.is_read_only() {
        return Err(AppError::new(
            ErrorCode::HistoryReadOnly,
            "The history is read-only: no sample can be written to it.",
        ));
    }
    let conn = Connection::open(history.path()).map_err(db_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_error)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_error)?;
    Ok(conn)
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// xorshift64*, seeded through splitmix64 (any seed, zero included, gives a good state).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((u128::from(self.next()) * u128::from(hi - lo + 1)) >> 64) as u64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Index in `0..n` with probability about 1/(rank+1) (Zipf, s = 1): the first items of a
    /// list ordered by frequency come up far more often than the last ones.
    fn zipf(&mut self, n: usize) -> usize {
        let k = ((n + 1) as f64).powf(self.unit()) as usize;
        k.saturating_sub(1).min(n - 1)
    }

    fn word<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.zipf(list.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary, most frequent first.

const FUNCTION: &[&str] = &[
    "the", "to", "and", "of", "a", "in", "is", "it", "you", "that", "for", "with", "this", "on",
    "can", "as", "be", "are", "or", "by", "if", "not", "your", "from", "an", "at", "use", "which",
    "when", "will", "then", "each", "so", "but", "all", "into", "one", "has", "only", "also",
    "than", "other", "some", "these", "we", "its", "there", "how", "what", "more", "any", "most",
    "just", "instead", "without", "because", "both", "before", "after", "while", "where", "should",
    "would", "could", "may", "might", "must", "every", "through", "over", "under", "between",
    "again", "once", "here", "very", "often", "usually", "still", "already",
];

const GENERAL: &[&str] = &[
    "example",
    "data",
    "value",
    "time",
    "way",
    "case",
    "problem",
    "result",
    "first",
    "new",
    "simple",
    "change",
    "work",
    "number",
    "list",
    "step",
    "part",
    "version",
    "approach",
    "option",
    "default",
    "question",
    "answer",
    "idea",
    "point",
    "order",
    "small",
    "large",
    "important",
    "different",
    "same",
    "better",
    "common",
    "good",
    "fast",
    "slow",
    "clear",
    "specific",
    "general",
    "possible",
    "easy",
    "hard",
    "useful",
    "correct",
    "wrong",
    "start",
    "end",
    "keep",
    "make",
    "need",
    "want",
    "try",
    "check",
    "return",
    "read",
    "write",
    "run",
    "call",
    "show",
    "add",
    "remove",
    "compare",
    "explain",
    "consider",
    "choose",
    "avoid",
    "improve",
    "handle",
    "build",
    "test",
    "measure",
    "optimize",
    "optimization",
    "optimizer",
    "optimal",
    "performance",
    "quality",
    "format",
    "structure",
    "pattern",
    "detail",
    "summary",
    "context",
    "reason",
    "trade-off",
    "limit",
    "cost",
    "benefit",
    "risk",
    "rule",
    "practice",
    "solution",
    "issue",
    "error",
    "warning",
    "note",
    "tip",
    "section",
    "table",
    "line",
    "file",
    "folder",
    "path",
    "name",
    "key",
    "size",
    "length",
    "level",
    "range",
    "naïve",
    "café",
    "déjà",
    "façade",
    "über",
    "résumé",
    "coöperate",
    "jalapeño",
];

const TOPICS: &[(&str, &[&str])] = &[
    (
        "rust",
        &[
            "rust",
            "borrow",
            "lifetime",
            "trait",
            "struct",
            "enum",
            "async",
            "tokio",
            "cargo",
            "crate",
            "ownership",
            "reference",
            "closure",
            "iterator",
            "macro",
            "generic",
            "compiler",
            "clippy",
            "unsafe",
            "mutex",
            "channel",
            "future",
            "result",
            "option",
            "match",
            "serde",
        ],
    ),
    (
        "python",
        &[
            "python",
            "list",
            "dictionary",
            "pandas",
            "numpy",
            "dataframe",
            "function",
            "decorator",
            "generator",
            "virtualenv",
            "pip",
            "import",
            "module",
            "class",
            "lambda",
            "exception",
            "pytest",
            "asyncio",
            "typing",
            "comprehension",
            "matplotlib",
            "script",
            "notebook",
            "jupyter",
        ],
    ),
    (
        "databases",
        &[
            "database",
            "query",
            "index",
            "sqlite",
            "postgres",
            "transaction",
            "schema",
            "migration",
            "join",
            "table",
            "column",
            "row",
            "primary",
            "foreign",
            "constraint",
            "vacuum",
            "journal",
            "fts5",
            "btree",
            "cursor",
            "replication",
            "backup",
            "shard",
            "normalization",
        ],
    ),
    (
        "ml",
        &[
            "model",
            "training",
            "dataset",
            "embedding",
            "transformer",
            "attention",
            "token",
            "tokenizer",
            "fine-tuning",
            "gradient",
            "loss",
            "epoch",
            "batch",
            "inference",
            "quantization",
            "parameters",
            "weights",
            "layer",
            "benchmark",
            "accuracy",
            "overfitting",
            "learning",
            "prompt",
            "context",
            "checkpoint",
            "lora",
        ],
    ),
    (
        "web",
        &[
            "javascript",
            "typescript",
            "react",
            "svelte",
            "component",
            "browser",
            "request",
            "response",
            "header",
            "cookie",
            "server",
            "client",
            "endpoint",
            "json",
            "fetch",
            "promise",
            "css",
            "layout",
            "router",
            "state",
            "event",
            "dom",
            "bundle",
            "vite",
        ],
    ),
    (
        "devops",
        &[
            "docker",
            "container",
            "kubernetes",
            "deployment",
            "pipeline",
            "ci",
            "cluster",
            "node",
            "pod",
            "image",
            "registry",
            "terraform",
            "ansible",
            "monitoring",
            "logs",
            "metrics",
            "alert",
            "nginx",
            "certificate",
            "dns",
            "firewall",
            "load",
            "scaling",
            "rollback",
        ],
    ),
    (
        "cooking",
        &[
            "recipe",
            "oven",
            "flour",
            "butter",
            "sugar",
            "garlic",
            "onion",
            "sauce",
            "pasta",
            "bread",
            "dough",
            "simmer",
            "bake",
            "roast",
            "salt",
            "pepper",
            "olive",
            "oil",
            "tomato",
            "cheese",
            "minutes",
            "temperature",
            "knead",
            "yeast",
        ],
    ),
    (
        "travel",
        &[
            "trip",
            "flight",
            "hotel",
            "itinerary",
            "train",
            "museum",
            "city",
            "beach",
            "mountain",
            "budget",
            "visa",
            "passport",
            "luggage",
            "booking",
            "weather",
            "season",
            "tour",
            "restaurant",
            "neighborhood",
            "ferry",
            "hostel",
            "map",
            "airport",
            "ticket",
        ],
    ),
    (
        "writing",
        &[
            "essay",
            "paragraph",
            "sentence",
            "tone",
            "draft",
            "outline",
            "introduction",
            "conclusion",
            "argument",
            "style",
            "grammar",
            "audience",
            "story",
            "character",
            "plot",
            "dialogue",
            "chapter",
            "headline",
            "email",
            "letter",
            "summary",
            "edit",
            "rewrite",
            "voice",
        ],
    ),
    (
        "math",
        &[
            "equation",
            "matrix",
            "vector",
            "integral",
            "derivative",
            "probability",
            "distribution",
            "variance",
            "proof",
            "theorem",
            "limit",
            "series",
            "function",
            "graph",
            "prime",
            "modulo",
            "algebra",
            "geometry",
            "angle",
            "triangle",
            "logarithm",
            "eigenvalue",
            "sample",
            "estimate",
        ],
    ),
    (
        "finance",
        &[
            "budget",
            "savings",
            "interest",
            "loan",
            "mortgage",
            "invoice",
            "tax",
            "expense",
            "revenue",
            "profit",
            "margin",
            "forecast",
            "spreadsheet",
            "account",
            "payment",
            "pricing",
            "subscription",
            "discount",
            "inflation",
            "portfolio",
            "dividend",
            "bond",
            "equity",
            "cashflow",
        ],
    ),
    (
        "multilingual",
        &[
            "bonjour",
            "merci",
            "équipe",
            "réunion",
            "größe",
            "straße",
            "mañana",
            "canción",
            "日本語",
            "東京",
            "こんにちは",
            "翻訳",
            "中文",
            "北京",
            "привет",
            "спасибо",
            "مرحبا",
            "português",
            "ação",
            "œuvre",
            "smörgåsbord",
            "français",
            "deutsch",
            "español",
        ],
    ),
];

/// Words so rare a search for one finds a handful of messages.
const RARE: &[&str] = &[
    "zeppelin",
    "quokka",
    "axolotl",
    "pangolin",
    "narwhal",
    "marzipan",
    "tesseract",
    "palimpsest",
    "serendipity",
    "obsidian",
    "quasar",
    "nebulous",
    "petrichor",
    "sonder",
    "vellichor",
    "zephyr",
    "kumquat",
    "bergamot",
    "cardamom",
    "fjord",
    "gondola",
    "harpsichord",
    "isthmus",
    "juniper",
    "kaleidoscope",
    "labyrinth",
    "mnemonic",
    "nocturne",
    "origami",
    "quixotic",
    "rhombus",
    "saffron",
    "tundra",
    "umami",
    "vortex",
    "wanderlust",
    "xylophone",
    "yodel",
    "ziggurat",
    "bioluminescence",
];

const QUESTION_STARTS: &[&str] = &[
    "How do I",
    "What is the best way to",
    "Can you explain",
    "Why does",
    "What's the difference between",
    "Write a short",
    "Help me",
    "Is it possible to",
    "Summarize",
    "Give me an example of",
    "Could you review",
    "What happens if",
    "Suggest",
    "Fix",
];

const CONTINUATIONS: &[&str] = &[
    "Thanks! And",
    "Ok, but",
    "Can you make it shorter? Also",
    "Follow-up:",
    "That did not work.",
    "Great. Now",
    "Hmm, what about",
];

const LANGS: &[&str] = &["rust", "python", "sql", "bash", "ts", "json"];

const MODELS: &[(&str, &[&str])] = &[
    (
        "openai/gpt-oss-120b",
        &["groq", "cerebras", "fireworks-ai", "together"],
    ),
    (
        "meta-llama/Llama-3.3-70B-Instruct",
        &["groq", "together", "nebius", "sambanova"],
    ),
    (
        "deepseek-ai/DeepSeek-R1",
        &["together", "fireworks-ai", "novita", "sambanova"],
    ),
    (
        "Qwen/Qwen3-235B-A22B",
        &["novita", "nebius", "fireworks-ai"],
    ),
    (
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        &["nebius", "hyperbolic", "together"],
    ),
    (
        "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
        &["nebius", "novita"],
    ),
    ("google/gemma-3-27b-it", &["nebius", "hyperbolic"]),
    (
        "moonshotai/Kimi-K2-Instruct",
        &["groq", "novita", "together"],
    ),
];

const SYSTEMS: &[&str] = &[
    "You are a helpful assistant. Answer concisely.",
    "You are a senior engineer reviewing code. Be direct and precise.",
    "Answer in French.",
    "Explain like I am five.",
    "Reply in Markdown with headings and short lists.",
];

// ---------------------------------------------------------------------------------------------
// Text.

/// Words for one conversation: shared ones plus its topic.
struct Vocab {
    topic: &'static [&'static str],
}

impl Vocab {
    fn word(&self, rng: &mut Rng) -> &'static str {
        let r = rng.unit();
        if r < 0.42 {
            rng.word(FUNCTION)
        } else if r < 0.70 {
            rng.word(GENERAL)
        } else {
            rng.pick(self.topic)
        }
    }

    fn content_word(&self, rng: &mut Rng) -> &'static str {
        if rng.chance(0.5) {
            rng.word(GENERAL)
        } else {
            rng.pick(self.topic)
        }
    }

    fn words(&self, rng: &mut Rng, out: &mut String, n: usize) {
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.word(rng));
        }
    }

    fn sentence(&self, rng: &mut Rng, out: &mut String) {
        let n = rng.range(6, 18) as usize;
        let begin = out.len();
        for i in 0..n {
            if i > 0 {
                out.push_str(if rng.chance(0.06) { ", " } else { " " });
            }
            let w = self.word(rng);
            match rng.below(40) {
                0 => {
                    out.push('`');
                    out.push_str(w);
                    out.push('`');
                }
                1 => {
                    out.push_str("**");
                    out.push_str(w);
                    out.push_str("**");
                }
                _ => out.push_str(w),
            }
        }
        capitalize(out, begin);
        out.push('.');
    }

    fn paragraph(&self, rng: &mut Rng, out: &mut String) {
        for i in 0..rng.range(2, 5) {
            if i > 0 {
                out.push(' ');
            }
            self.sentence(rng, out);
        }
        out.push_str("\n\n");
    }

    fn list(&self, rng: &mut Rng, out: &mut String) {
        let numbered = rng.chance(0.3);
        for i in 1..=rng.range(3, 6) {
            if numbered {
                out.push_str(&format!("{i}. "));
            } else {
                out.push_str("- ");
            }
            if rng.chance(0.4) {
                out.push_str("**");
                let b = out.len();
                out.push_str(self.content_word(rng));
                capitalize(out, b);
                out.push_str("**: ");
            }
            let n = rng.range(4, 12) as usize;
            self.words(rng, out, n);
            out.push('\n');
        }
        out.push('\n');
    }

    fn heading(&self, rng: &mut Rng, out: &mut String) {
        out.push_str(if rng.chance(0.7) { "## " } else { "### " });
        let b = out.len();
        let n = rng.range(2, 5) as usize;
        for i in 0..n {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.content_word(rng));
        }
        capitalize(out, b);
        out.push_str("\n\n");
    }

    fn ident(&self, rng: &mut Rng) -> String {
        let a = self.content_word(rng);
        let b = self.content_word(rng);
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        };
        format!("{}_{}", clean(a), clean(b)).to_lowercase()
    }

    fn code(&self, rng: &mut Rng, out: &mut String) {
        let lang = rng.pick(LANGS);
        out.push_str("```");
        out.push_str(lang);
        out.push('\n');
        for _ in 0..rng.range(3, 10) {
            let (a, b, c) = (self.ident(rng), self.ident(rng), self.ident(rng));
            let n = rng.range(0, 999);
            let line = match (lang, rng.below(3)) {
                ("rust", 0) => format!("let {a} = {b}(&{c}, {n})?;"),
                ("rust", 1) => format!("fn {a}({b}: &str) -> Result<u32, Error> {{ todo!() }}"),
                ("rust", _) => format!("    {a}.{b}().await.map_err(|e| {c}(e))?;"),
                ("python", 0) => format!("{a} = {b}({c}, limit={n})"),
                ("python", 1) => format!("def {a}({b}, {c}=None):"),
                ("python", _) => format!("    return [{a} for {a} in {b} if {a}.{c}]"),
                ("sql", 0) => format!("SELECT {a}, {b} FROM {c} WHERE {a} > {n};"),
                ("sql", 1) => format!("CREATE INDEX {a}_idx ON {b} ({c});"),
                ("sql", _) => format!("UPDATE {a} SET {b} = {n} WHERE {c} IS NULL;"),
                ("bash", 0) => format!("{a} --{b} {n} | grep {c}"),
                ("bash", 1) => format!("export {}={n}", a.to_uppercase()),
                ("bash", _) => format!("for f in {a}/*; do {b} \"$f\"; done"),
                ("ts", 0) => format!("const {a} = await {b}({c}, {n});"),
                ("ts", 1) => format!("export function {a}({b}: string): number {{"),
                ("ts", _) => format!("  if (!{a}) return {b}.{c};"),
                (_, 0) => format!("{{ \"{a}\": {n}, \"{b}\": \"{c}\" }}"),
                (_, 1) => format!("  \"{a}\": [{n}, \"{b}\"],"),
                (_, _) => format!("  \"{a}\": {{ \"{b}\": null }}"),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str("```\n\n");
    }

    fn table(&self, rng: &mut Rng, out: &mut String) {
        let cols = rng.range(2, 4) as usize;
        for row in 0..rng.range(3, 5) {
            out.push('|');
            for _ in 0..cols {
                out.push(' ');
                if row == 0 || rng.chance(0.6) {
                    out.push_str(self.content_word(rng));
                } else {
                    out.push_str(&rng.range(1, 5000).to_string());
                }
                out.push_str(" |");
            }
            out.push('\n');
            if row == 0 {
                out.push('|');
                out.push_str(&"---|".repeat(cols));
                out.push('\n');
            }
        }
        out.push('\n');
    }

    /// A user message: 20–200 bytes, a question, now and then with a pasted snippet.
    fn question(&self, rng: &mut Rng, first: bool, out: &mut String) {
        let target = rng.range(20, 200) as usize;
        if !first && rng.chance(0.3) {
            out.push_str(rng.pick(CONTINUATIONS));
            out.push(' ');
        }
        out.push_str(rng.pick(QUESTION_STARTS));
        while out.len() < target {
            out.push(' ');
            out.push_str(self.word(rng));
        }
        if rng.chance(0.004) {
            out.push(' ');
            out.push_str(rng.pick(RARE));
        }
        if rng.chance(0.02) {
            out.push_str(" 🙂");
        }
        truncate(out, 199);
        out.push('?');
    }

    /// An answer: Markdown of 200–2000 bytes, mostly toward the shorter end.
    fn answer(&self, rng: &mut Rng, out: &mut String) {
        // Log-uniform between 200 and 2000: median about 630 bytes, mean about 780.
        let target = (200.0 * 10f64.powf(rng.unit())) as usize;
        if rng.chance(0.5) {
            self.paragraph(rng, out);
        }
        while out.trim_end().len() < target {
            match rng.below(12) {
                0..=5 => self.paragraph(rng, out),
                6..=8 => self.list(rng, out),
                9 => self.heading(rng, out),
                10 => self.code(rng, out),
                _ => self.table(rng, out),
            }
        }
        if rng.chance(0.005) {
            let rare = rng.pick(RARE);
            let at = floor_boundary(out, rng.below(out.len().min(1800)));
            let at = out[..at].rfind(' ').map(|i| i + 1).unwrap_or(0);
            out.insert_str(at, &format!("{rare} "));
        }
        truncate(out, 2000);
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
    }

    fn reasoning(&self, rng: &mut Rng, out: &mut String) {
        out.push_str("Okay, the user wants ");
        let target = rng.range(150, 900) as usize;
        while out.len() < target {
            self.sentence(rng, out);
            out.push(' ');
        }
        truncate(out, 1000);
    }
}

fn capitalize(s: &mut String, at: usize) {
    if let Some(c) = s[at..].chars().next() {
        if c.is_ascii_lowercase() {
            s.replace_range(at..at + 1, &c.to_ascii_uppercase().to_string());
        }
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Cuts to at most `max` bytes, at a word if there is one near the end.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let cut = floor_boundary(s, max);
    let cut = match s[..cut].rfind([' ', '\n']) {
        Some(i) if i > cut * 3 / 4 => i,
        _ => cut,
    };
    s.truncate(cut);
}

// ---------------------------------------------------------------------------------------------
// Rows.

#[derive(Serialize)]
struct ErrorJson<'a> {
    code: ErrorCode,
    message: &'a str,
}

struct Conv {
    id: String,
    title: String,
    title_set: bool,
    kind: &'static str,
    created_at: i64,
    updated_at: i64,
    pinned: bool,
    deleted_at: Option<i64>,
    model: &'static str,
    routing: String,
    system: &'static str,
    params: String,
    bill_to: Option<&'static str>,
    messages: Vec<Msg>,
}

struct Msg {
    role: &'static str,
    content: String,
    reasoning: String,
    status: &'static str,
    created_at: i64,
    provider: Option<&'static str>,
    mode: Option<&'static str>,
    stats: Option<String>,
    error: Option<String>,
    request_id: Option<String>,
}

impl Conv {
    fn new(rng: &mut Rng, n_messages: usize, created_at: i64, now: i64) -> Conv {
        let id = format!("{:016x}{:016x}", rng.next(), rng.next());
        let (topic_name, topic) = rng.pick(TOPICS);
        let vocab = Vocab { topic };
        let (model, providers) = rng.pick(MODELS);
        let reasons = model.contains("DeepSeek-R1") || model.contains("Qwen3");
        let pinned_provider = rng.chance(0.3).then(|| rng.pick(providers));
        let routing = match pinned_provider {
            Some(p) => Routing::Pinned {
                provider: p.to_string(),
            },
            None => Routing::Auto {
                policy: rng.pick(&[
                    Policy::Fastest,
                    Policy::Fastest,
                    Policy::Cheapest,
                    Policy::Preferred,
                ]),
            },
        };
        let mode = match rng.below(20) {
            0 => "endpoint",
            1 | 2 => "own_key",
            _ => "routed",
        };
        let params = ChatParams {
            temperature: rng.chance(0.6).then(|| rng.range(0, 12) as f64 / 10.0),
            top_p: rng.chance(0.1).then_some(0.9),
            max_tokens: rng.chance(0.3).then(|| rng.range(1, 16) as u32 * 256),
            ..ChatParams::default()
        };
        let params = json(&params);
        let price = Pricing {
            input: rng.range(5, 300) as f64 / 100.0,
            output: rng.range(20, 900) as f64 / 100.0,
        };
        let system = if topic_name == "multilingual" {
            SYSTEMS[2]
        } else if rng.chance(0.2) {
            rng.pick(SYSTEMS)
        } else {
            ""
        };

        let mut t = created_at;
        let mut messages = Vec::with_capacity(n_messages);
        let mut tokens_in = system.len() as u64 / 4;
        for seq in 0..n_messages {
            let mut m = Msg {
                role: "user",
                content: String::new(),
                reasoning: String::new(),
                status: "complete",
                created_at: t,
                provider: None,
                mode: None,
                stats: None,
                error: None,
                request_id: None,
            };
            if seq % 2 == 0 {
                vocab.question(rng, seq == 0, &mut m.content);
                tokens_in += m.content.len() as u64 / 4;
                // Reading the answer, typing the next question.
                t += rng.range(2_000, 8_000) as i64;
            } else {
                m.role = "assistant";
                m.mode = Some(mode);
                m.provider = Some(pinned_provider.unwrap_or_else(|| rng.pick(providers)));
                vocab.answer(rng, &mut m.content);
                if reasons && rng.chance(0.7) {
                    vocab.reasoning(rng, &mut m.reasoning);
                }
                let roll = rng.below(1000);
                let (status, finish) = match roll {
                    0..=4 => ("error", None),
                    5..=14 => ("stopped", None),
                    15..=16 => ("interrupted", None),
                    17..=39 => ("complete", Some("length")),
                    _ => ("complete", Some("stop")),
                };
                m.status = status;
                match status {
                    "error" => {
                        let (code, message) = rng.pick(&[
                            (
                                ErrorCode::RateLimited,
                                "Rate limited: try again in a minute.",
                            ),
                            (
                                ErrorCode::ServerError,
                                "The provider answered 503: overloaded.",
                            ),
                            (
                                ErrorCode::StreamInterrupted,
                                "The connection closed before the end of the answer.",
                            ),
                            (
                                ErrorCode::ProviderError,
                                "The model produced an invalid response.",
                            ),
                        ]);
                        if code != ErrorCode::StreamInterrupted {
                            m.content.clear();
                            m.reasoning.clear();
                        } else {
                            let cut = m.content.len() / 2;
                            truncate(&mut m.content, cut);
                        }
                        m.error = Some(json(&ErrorJson { code, message }));
                    }
                    "stopped" | "interrupted" => {
                        let cut = rng.below(m.content.len() + 1);
                        truncate(&mut m.content, cut);
                    }
                    _ => {}
                }
                let tokens_out = (m.content.len() + m.reasoning.len()) as u64 / 4;
                let ttft = rng.range(120, 2_500) as f64;
                let tps = rng.range(40, 900) as f64;
                let total = ttft + tokens_out as f64 / tps * 1000.0;
                if status != "interrupted" {
                    let stats = CallStats {
                        provider: m.provider.map(str::to_string),
                        tokens_in,
                        tokens_out,
                        usage_estimated: rng.chance(0.05),
                        ttft_ms: (status != "error" || !m.content.is_empty()).then_some(ttft),
                        total_ms: total,
                        tokens_per_sec: (tokens_out > 0).then_some(tps),
                        pricing: (mode == "routed").then_some(price),
                        cost: (mode == "routed").then(|| price.cost(tokens_in, tokens_out)),
                        finish_reason: finish.map(str::to_string),
                        rate_limit: None,
                        router_cost: None,
                    };
                    m.stats = Some(json(&stats));
                    m.request_id = Some(format!("{:016x}{:016x}", rng.next(), rng.next()));
                }
                tokens_in += tokens_out;
                t += total as i64 + rng.range(5_000, 600_000) as i64;
            }
            messages.push(m);
        }
        let updated_at = messages
            .last()
            .map_or(created_at, |m| m.created_at)
            .min(now);
        let first = messages.first().map_or("", |m| m.content.as_str());
        let title_set = rng.chance(0.05);
        let title = if title_set {
            let mut s = String::new();
            vocab.heading(rng, &mut s);
            s.trim_start_matches('#').trim().to_string()
        } else {
            title_from(first)
        };
        let deleted_at = rng
            .chance(0.01)
            .then(|| updated_at.max(now - rng.range(0, 20) as i64 * DAY_MS));
        Conv {
            id,
            title,
            title_set,
            kind: if rng.chance(0.03) { "compare" } else { "chat" },
            created_at,
            updated_at,
            pinned: rng.chance(0.005),
            deleted_at,
            model,
            routing: json(&routing),
            system,
            params,
            bill_to: rng.chance(0.02).then_some("acme-research"),
            messages,
        }
    }

    fn insert(&self, tx: &Transaction<'_>, stats: &mut SampleStats) -> rusqlite::Result<()> {
        tx.prepare_cached(
            "INSERT INTO conversations (id, title, title_set, kind, created_at, updated_at, pinned, deleted_at, model, routing, system, params, bill_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            self.id, self.title, self.title_set, self.kind, self.created_at, self.updated_at,
            self.pinned, self.deleted_at, self.model, self.routing, self.system, self.params,
            self.bill_to
        ])?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO messages (conversation_id, seq, role, content, reasoning, status, created_at, model, provider, mode, params, stats, error, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for (seq, m) in self.messages.iter().enumerate() {
            let assistant = m.role == "assistant";
            stmt.execute(params![
                self.id,
                seq as i64,
                m.role,
                m.content,
                m.reasoning,
                m.status,
                m.created_at,
                self.model,
                m.provider,
                m.mode,
                assistant.then_some(&self.params),
                m.stats,
                m.error,
                m.request_id
            ])?;
            stats.text_bytes += (m.content.len() + m.reasoning.len()) as u64;
        }
        stats.conversations += 1;
        stats.messages += self.messages.len();
        stats.text_bytes += self.title.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::call::Role;
    use switchboard_core::history::{MessageStatus, SearchQuery};

    fn sample(seed: u64) -> (tempfile::TempDir, History, SampleStats) {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("history.sqlite3")).unwrap();
        let stats = generate(&h, 20, 4, seed).unwrap();
        (dir, h, stats)
    }

    /// Everything but the timestamps (which follow the clock).
    fn fingerprint(h: &History) -> Vec<String> {
        h.all()
            .unwrap()
            .into_iter()
            .map(|mut c| {
                c.summary.created_at = 0;
                c.summary.updated_at = 0;
                c.summary.deleted_at = c.summary.deleted_at.map(|_| 0);
                for m in &mut c.messages {
                    m.created_at = 0;
                }
                serde_json::to_string(&c).unwrap()
            })
            .collect()
    }

    #[test]
    fn fills_the_history_with_what_it_says() {
        let (dir, h, stats) = sample(42);
        assert_eq!(stats.conversations, 20);
        assert_eq!(stats.messages, 80);
        let all = h.all().unwrap();
        assert_eq!(all.len(), 20);
        assert_eq!(
            h.list(false).unwrap().len() + h.list(true).unwrap().len(),
            20
        );
        let mut text = 0;
        for c in &all {
            assert!(!c.summary.title.is_empty());
            assert_eq!(c.messages.len(), 4);
            text += c.summary.title.len();
            for (i, m) in c.messages.iter().enumerate() {
                assert_eq!(m.seq as usize, i);
                text += m.content.len() + m.reasoning.len();
                if i % 2 == 0 {
                    assert_eq!(m.role, Role::User);
                    assert!((20..=200).contains(&m.content.len()), "{:?}", m.content);
                } else {
                    assert_eq!(m.role, Role::Assistant);
                    assert!(m.provider.is_some() && m.mode.is_some() && m.params.is_some());
                    if m.status == MessageStatus::Complete {
                        assert!(
                            (200..=2000).contains(&m.content.len()),
                            "{}: {:?}",
                            m.content.len(),
                            m.content
                        );
                        assert!(m.stats.is_some());
                    }
                }
                assert!(m.created_at >= c.summary.created_at);
            }
            let last = c.messages.last().unwrap().created_at;
            assert_eq!(c.summary.updated_at, last.min(c.summary.updated_at));
        }
        assert_eq!(stats.text_bytes, text as u64);

        // Search finds a word of a message, in that conversation.
        let c = all.iter().find(|c| c.summary.deleted_at.is_none()).unwrap();
        let word = c.messages[1]
            .content
            .split(|ch: char| !ch.is_alphanumeric())
            .max_by_key(|w| w.len())
            .unwrap();
        let hits = h
            .search(&SearchQuery {
                text: word.into(),
                limit: Some(500),
                ..SearchQuery::default()
            })
            .unwrap();
        assert!(
            hits.iter().any(|x| x.conversation_id == c.summary.id),
            "{word}"
        );

        // One file after the bulk load.
        let wal = dir.path().join("history.sqlite3-wal");
        assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let (_a, a, sa) = sample(7);
        let (_b, b, sb) = sample(7);
        let (_c, c, _) = sample(8);
        assert_eq!(sa, sb);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn the_prng_is_spread_and_zipf_favours_the_first_words() {
        let mut rng = Rng::new(0);
        let mut counts = [0usize; 10];
        for _ in 0..10_000 {
            counts[rng.zipf(10)] += 1;
            assert!(rng.range(3, 5) >= 3);
        }
        assert!(counts[0] > counts[4] && counts[4] > counts[9] && counts[9] > 0);
    }
}
