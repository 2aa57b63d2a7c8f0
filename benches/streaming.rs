//! The streaming relay at the size of issue 8: a long answer (10,000 chunks) from the HF test
//! double on loopback, read
//!
//! - (a) by a bare reqwest client reading the same stream (bytes to the end, nothing parsed), and
//! - (b) through the app's whole path to the UI: [`chat::run`] (SSE parsing, JSON, think
//!   splitting, coalescing per 16 ms) with an `emit` that serialises every [`ChatEvent`] to
//!   JSON as the Tauri `Channel` of `chat_start` does, and keeps the text as `chat_start` does.
//!
//! Both use the app's own HTTP client (`HfClient`), so (b) − (a) is what the app adds. The
//! double runs on its own runtime; the clients on a multi-thread runtime like Tauri's, each call
//! as a task on its workers, as Tauri runs the async `chat_start` command.
//!
//! `make bench` (or `cargo bench --bench streaming`) reports:
//!
//! - Criterion figures for `relay_10k_chunks/{bare_reqwest,app_path}`;
//! - its own medians over interleaved runs: chunks per second of (a) and (b), the ratio of their
//!   times (target ≤ 1.05) and the mean time the app adds per chunk; and where that time goes:
//!   (a) plus the SSE parser `chat::run` uses, and plus parsing each chunk into a JSON `Value`
//!   (the relay's old way, now only its fallback);
//! - the app's latency per chunk: a relay on loopback between client and double stamps the
//!   moment each event's bytes are handed to the client's socket; the double paces the stream
//!   (about 1 ms a chunk, so each chunk is processed on its own) and the app path runs with
//!   coalescing off, so each chunk becomes one `Delta`: latency = its `Delta` serialised − its
//!   bytes delivered. The same for (a) (bytes read by reqwest) gives what any client pays;
//!   target: p99 of the app path under 1 ms. With the real 16 ms coalescing, the time to the
//!   UI is also shown (held back up to one frame on purpose);
//!
//! as a table and as JSON in `$CARGO_TARGET_DIR/bench/streaming.json`. A missed target is
//! reported, never a failure. Run by `cargo test --benches` (no `--bench` argument) it is a
//! smoke test: short streams, a few runs, nothing written.

mod common;

use common::{cpu_model, print_missed, target_dir, verdict, write_report};
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use hf_double::{sse, tokens, Fault, HfDouble, Scope};
use serde::Serialize;
use switchboard_core::catalog::{Catalog, Pricing};
use switchboard_core::chat::stream::CallContext;
use switchboard_core::chat::{
    self, CallOptions, ChatEvent, ChatMessage, ChatParams, ChatPreview, ChatRequest, Outcome, Role,
    Routing,
};
use switchboard_core::config::Endpoints;
use switchboard_core::hf::HfClient;
use switchboard_core::secrets::Secret;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";
const PROVIDER: &str = "together";
const CHUNKS: usize = 10_000;
/// Interleaved timed runs of (a) and (b) for the medians.
const RUNS: usize = 15;
/// Chunks of each paced latency run (about 1 ms apart), and runs of each path.
const LATENCY_CHUNKS: usize = 2_000;
const LATENCY_RUNS: usize = 2;
/// The double waits this long before each chunk of a paced run (tokio rounds it up to its
/// 1 ms timer tick).
const PACE_US: u64 = 1;

const RATIO_TARGET: f64 = 1.05;
const P99_TARGET_MS: f64 = 1.0;

/// Bytes that start each chunk of the answer (and the usage chunk after them) on the wire.
const EVENT_MARK: &[u8] = b"data: {\"";

/// Counts [`EVENT_MARK`] in a byte stream read piece by piece.
#[derive(Default)]
struct MarkCounter {
    tail: Vec<u8>,
}

impl MarkCounter {
    fn count(&mut self, bytes: &[u8]) -> usize {
        self.tail.extend_from_slice(bytes);
        let n = self
            .tail
            .windows(EVENT_MARK.len())
            .filter(|w| *w == EVENT_MARK)
            .count();
        // Keep what could be the start of a mark cut by the next read.
        let keep = self.tail.len().min(EVENT_MARK.len() - 1);
        self.tail.drain(..self.tail.len() - keep);
        n
    }
}

/// A loopback TCP relay to the double that stamps the moment each event's bytes were written
/// to the client's socket.
struct Relay {
    port: u16,
    stamps: Arc<Mutex<Vec<Instant>>>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the relay");
        let port = listener.local_addr().unwrap().port();
        let stamps = Arc::new(Mutex::new(Vec::new()));
        let shared = stamps.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_in, mut c_out) = (server, client);
                let stamps = shared.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut marks = MarkCounter::default();
                    while let Ok(n) = s_in.read(&mut buf) {
                        if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        let at = Instant::now();
                        let k = marks.count(&buf[..n]);
                        if k > 0 {
                            let mut s = stamps.lock().unwrap();
                            s.extend(std::iter::repeat_n(at, k));
                        }
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Relay { port, stamps }
    }

    fn take(&self) -> Vec<Instant> {
        std::mem::take(&mut *self.stamps.lock().unwrap())
    }
}

/// The double, a client of the app's kind pointed at it (or at a relay to it), the request.
struct Rig {
    double: HfDouble,
    direct: Target,
    relayed: Target,
    relay: Relay,
    catalog: Arc<Catalog>,
    token: Secret,
}

/// One way to reach the double: the app's HTTP client and the request's URL, body, headers.
struct Target {
    client: HfClient,
    preview: ChatPreview,
}

fn request() -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        routing: Routing::Pinned {
            provider: PROVIDER.into(),
        },
        system: "You are thorough.".into(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "Explain deep learning at length.".into(),
            images: Vec::new(),
        }],
        params: ChatParams {
            max_tokens: Some(16_000),
            ..ChatParams::default()
        },
        bill_to: None,
    }
}

fn target(base: &str, catalog: &Catalog) -> Target {
    let endpoints = Endpoints {
        hub: base.to_string(),
        router: format!("{base}/router"),
        provider_base_template: Some(format!("{base}/direct/{{provider}}")),
    };
    let client = HfClient::new(endpoints).expect("the app's HTTP client");
    let preview = chat::build(client.endpoints(), &request(), Some(catalog)).expect("request");
    Target { client, preview }
}

impl Rig {
    fn start(rt: &tokio::runtime::Runtime) -> Rig {
        let double = HfDouble::start_blocking(&hf_double::default_fixtures_dir())
            .expect("start the HF test double");
        let body = rt.block_on(async {
            reqwest::get(format!("{}/v1/models", double.router_url()))
                .await
                .expect("the double's model list")
                .bytes()
                .await
                .unwrap()
        });
        let catalog = Arc::new(Catalog::parse(&body, 1).expect("catalog"));
        let relay = Relay::start(double.addr());
        let direct = target(&double.url(), &catalog);
        let relayed = target(&format!("http://127.0.0.1:{}", relay.port), &catalog);
        Rig {
            double,
            direct,
            relayed,
            relay,
            catalog,
            token: Secret::new(tokens::FREE_TOKEN.to_string()),
        }
    }

    fn queue(&self, chunks: usize, delay_us: u64) {
        self.double.push_fault(
            Fault::long_stream(chunks, delay_us)
                .scope(Scope::Chat)
                .once(),
        );
    }

    /// The same request as the app's, answered 200.
    async fn send(&self, t: &Target) -> reqwest::Response {
        let mut req = t
            .client
            .http()
            .post(&t.preview.url)
            .json(&t.preview.body)
            .bearer_auth(self.token.expose());
        for (k, v) in &t.preview.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("send");
        assert!(resp.status().is_success(), "{}", resp.status());
        resp
    }

    /// (a): the answer read to the end as bytes. Returns when each event's bytes were read
    /// (with `stamp`), the bytes, and how many pieces reqwest handed over.
    async fn bare(&self, t: &Target, stamp: bool) -> (Vec<Instant>, usize, usize) {
        let mut body = self.send(t).await.bytes_stream();
        let (mut bytes, mut pieces) = (0, 0);
        let mut stamps = Vec::new();
        let mut marks = MarkCounter::default();
        let mut tail = Vec::new();
        while let Some(piece) = body.next().await {
            let piece = piece.expect("read the stream");
            bytes += piece.len();
            pieces += 1;
            if stamp {
                let at = Instant::now();
                stamps.extend(std::iter::repeat_n(at, marks.count(&piece)));
            }
            tail.extend_from_slice(&piece);
            tail.drain(..tail.len().saturating_sub(32));
        }
        assert!(
            tail.ends_with(b"data: [DONE]\n\n"),
            "the stream did not end with [DONE]"
        );
        (stamps, bytes, pieces)
    }

    /// Where (b)'s time goes: the answer split into events by the SSE parser `chat::run` uses
    /// (eventsource-stream), and with `json` each event's data parsed into a `serde_json::Value`
    /// (what `chat::run` did before it read chunks into typed fields; still its fallback).
    async fn sse(&self, t: &Target, json: bool) -> usize {
        let mut events = self.send(t).await.bytes_stream().eventsource();
        let mut n = 0;
        while let Some(event) = events.next().await {
            let event = event.expect("an event");
            if json && event.data != "[DONE]" {
                black_box(serde_json::from_str::<serde_json::Value>(&event.data).expect("JSON"));
            }
            n += 1;
        }
        n
    }

    /// (b): the app's path. Returns when each `Delta` had been serialised, its text's length,
    /// and the call's outcome.
    async fn app(&self, t: &Target, opts: &CallOptions) -> (Vec<(Instant, usize)>, usize) {
        let model = MODEL.to_string();
        let catalog = self.catalog.clone();
        let price = move |p: &str| -> (Option<Pricing>, bool) {
            catalog
                .offer(&model, p)
                .map(|o| (o.pricing, o.is_free))
                .unwrap_or((None, false))
        };
        let ctx = CallContext {
            who: "Hugging Face",
            pinned: Some(PROVIDER),
            price: &price,
            prompt_chars: 50,
            message_count: 2,
        };
        let mut deltas = Vec::new();
        let mut content = String::new();
        let mut sent_bytes = 0usize;
        let mut emit = |e: ChatEvent| {
            // What `chat_start` does with an event: keep the text, send it over the Channel
            // (which serialises it to JSON).
            let len = match &e {
                ChatEvent::Delta { content: c, .. } => {
                    content.push_str(c);
                    Some(c.len())
                }
                _ => None,
            };
            let json = serde_json::to_string(&e).expect("events serialise");
            sent_bytes += black_box(json).len();
            if let Some(len) = len {
                deltas.push((Instant::now(), len));
            }
        };
        let r = chat::run(
            t.client.http(),
            &t.preview,
            &self.token,
            &ctx,
            opts,
            &CancellationToken::new(),
            &mut emit,
        )
        .await;
        assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
        assert_eq!(content, r.content);
        (deltas, sent_bytes)
    }
}

/// Runs a call as a task on the runtime's workers, the way Tauri runs an async command (not on
/// the thread that waits for it).
fn on_worker<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    call: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    rt.block_on(async { tokio::spawn(call).await.expect("the call's task") })
}

fn opts() -> CallOptions {
    CallOptions {
        first_byte_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..CallOptions::default()
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
struct Timing {
    median_ms: f64,
    p99_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn timing(samples: &mut [f64]) -> Timing {
    samples.sort_by(f64::total_cmp);
    Timing {
        median_ms: pct(samples, 0.5),
        p99_ms: pct(samples, 0.99),
        min_ms: samples[0],
        max_ms: samples[samples.len() - 1],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Per chunk: from its bytes delivered (`sent`) to `seen`.
fn latencies(sent: &[Instant], seen: &[Instant]) -> Vec<f64> {
    sent.iter()
        .zip(seen)
        .map(|(s, e)| ms(e.saturating_duration_since(*s)))
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let (chunks, runs, lat_chunks, lat_runs) = if full {
        (CHUNKS, RUNS, LATENCY_CHUNKS, LATENCY_RUNS)
    } else {
        (200, 2, 50, 1)
    };
    // Like Tauri's async runtime: multi-thread, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Leaked: the calls run as spawned tasks, which need 'static borrows.
    let rig: &'static Rig = Box::leak(Box::new(Rig::start(&rt)));
    let opts: &'static CallOptions = Box::leak(Box::new(opts()));

    // Warm up: connections, page cache, allocator.
    rig.queue(chunks, 0);
    on_worker(&rt, rig.bare(&rig.direct, false));
    rig.queue(chunks, 0);
    on_worker(&rt, rig.app(&rig.direct, opts));

    // Criterion.
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6))
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group(format!("relay_{}k_chunks", chunks / 1000));
        group
            .sampling_mode(SamplingMode::Flat)
            .throughput(Throughput::Elements(chunks as u64));
        group.bench_function("bare_reqwest", |b| {
            b.iter(|| {
                rig.queue(chunks, 0);
                black_box(on_worker(&rt, rig.bare(&rig.direct, false)))
            })
        });
        group.bench_function("app_path", |b| {
            b.iter(|| {
                rig.queue(chunks, 0);
                black_box(on_worker(&rt, rig.app(&rig.direct, opts)))
            })
        });
        group.finish();
    }
    criterion.final_summary();

    // Throughput: (a) and (b) interleaved, so both see the same machine.
    let mut bare_ms = Vec::new();
    let mut sse_ms = Vec::new();
    let mut sse_json_ms = Vec::new();
    let mut app_ms = Vec::new();
    let (mut stream_bytes, mut pieces_read) = (0, 0);
    let mut deltas_full = 0;
    let mut json_bytes = 0;
    for _ in 0..runs {
        rig.queue(chunks, 0);
        let t = Instant::now();
        let (_, bytes, pieces) = on_worker(&rt, rig.bare(&rig.direct, false));
        bare_ms.push(ms(t.elapsed()));
        (stream_bytes, pieces_read) = (bytes, pieces);
        for (json, out) in [(false, &mut sse_ms), (true, &mut sse_json_ms)] {
            rig.queue(chunks, 0);
            let t = Instant::now();
            let events = on_worker(&rt, rig.sse(&rig.direct, json));
            out.push(ms(t.elapsed()));
            assert_eq!(events, chunks + 2, "chunks, usage, [DONE]");
        }
        rig.queue(chunks, 0);
        let t = Instant::now();
        let (deltas, sent) = on_worker(&rt, rig.app(&rig.direct, opts));
        app_ms.push(ms(t.elapsed()));
        deltas_full = deltas.len();
        json_bytes = sent;
    }
    let bare = timing(&mut bare_ms);
    let sse_only = timing(&mut sse_ms);
    let sse_json = timing(&mut sse_json_ms);
    let app = timing(&mut app_ms);
    let per_s = |t_ms: f64| chunks as f64 / (t_ms / 1000.0);
    let ratio = app.median_ms / bare.median_ms;
    let ratio_min = app.min_ms / bare.min_ms;
    let added_mean_us = (app.median_ms - bare.median_ms) * 1000.0 / chunks as f64;

    // Latency per chunk, paced through the relay.
    let mut lat_app = Vec::new();
    let mut lat_bare = Vec::new();
    let mut lat_coalesced = Vec::new();
    let each_chunk: &'static CallOptions = Box::leak(Box::new(CallOptions {
        flush_every: Duration::ZERO,
        ..opts.clone()
    }));
    let pieces: Vec<usize> = (0..lat_chunks)
        .map(|i| sse::filler_piece(i).len())
        .collect();
    for _ in 0..lat_runs {
        rig.relay.take();
        rig.queue(lat_chunks, PACE_US);
        let (seen, _, _) = on_worker(&rt, rig.bare(&rig.relayed, true));
        let sent = rig.relay.take();
        assert!(seen.len() > lat_chunks && sent.len() > lat_chunks);
        lat_bare.extend(latencies(&sent[..lat_chunks], &seen[..lat_chunks]));

        rig.queue(lat_chunks, PACE_US);
        let (deltas, _) = on_worker(&rt, rig.app(&rig.relayed, each_chunk));
        let sent = rig.relay.take();
        assert_eq!(deltas.len(), lat_chunks, "one Delta per chunk");
        assert!(deltas.iter().zip(&pieces).all(|((_, n), p)| n == p));
        let seen: Vec<Instant> = deltas.iter().map(|(t, _)| *t).collect();
        lat_app.extend(latencies(&sent[..lat_chunks], &seen));

        // With the real coalescing: each chunk reaches the UI in the first Delta that holds
        // all of its text.
        rig.queue(lat_chunks, PACE_US);
        let (deltas, _) = on_worker(&rt, rig.app(&rig.relayed, opts));
        let sent = rig.relay.take();
        let mut k = 0;
        let (mut have, mut need) = (0usize, 0usize);
        for (i, piece) in pieces.iter().enumerate() {
            need += piece;
            while have < need {
                have += deltas[k].1;
                k += 1;
            }
            lat_coalesced.push(ms(deltas[k - 1].0.saturating_duration_since(sent[i])));
        }
    }
    let lat_app = timing(&mut lat_app);
    let lat_bare = timing(&mut lat_bare);
    let lat_coalesced = timing(&mut lat_coalesced);
    let added_median = lat_app.median_ms - lat_bare.median_ms;
    let p99_difference = lat_app.p99_ms - lat_bare.p99_ms;

    let ratio_ok = ratio <= RATIO_TARGET;
    let p99_ok = lat_app.p99_ms < P99_TARGET_MS;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model();

    println!();
    println!(
        "Streaming relay: {chunks} chunks ({:.1} MB of SSE) from the HF test double on loopback, {runs} interleaved runs each; latency: {lat_runs} x {lat_chunks} chunks paced ~1 ms apart",
        stream_bytes as f64 / 1_048_576.0
    );
    println!("Machine: {cpu}, {nproc} CPU(s)");
    println!();
    println!(
        "| {:<44} | {:>13} | {:>13} | {:>10} | {:<7} |",
        "measure", "median", "p99 / other", "target", "verdict"
    );
    println!(
        "|{:-<46}|{:->15}|{:->15}|{:->12}|{:-<9}|",
        "", "", "", "", ""
    );
    let rate = |name: &str, t: &Timing| {
        println!(
            "| {:<44} | {:>9.0} /s | {:>10.1} ms | {:>10} | {:<7} |",
            name,
            per_s(t.median_ms),
            t.median_ms,
            "",
            ""
        );
    };
    rate("(a) bare reqwest: chunks/s, time", &bare);
    rate("  (a) + SSE parsing (eventsource-stream)", &sse_only);
    rate("  (a) + SSE parsing + each chunk as a Value", &sse_json);
    rate("(b) app path: chunks/s, time", &app);
    println!(
        "| {:<44} | {:>12.3}x | {:>13} | {:>10} | {:<7} |",
        "time (b)/(a)",
        ratio,
        "",
        format!("<= {RATIO_TARGET:.2}x"),
        verdict(ratio_ok)
    );
    println!(
        "| {:<44} | {:>12.3}x | {:>13} | {:>10} | {:<7} |",
        "  (best runs: min (b) / min (a))", ratio_min, "", "", ""
    );
    println!(
        "| {:<44} | {:>10.2} us | {:>13} | {:>10} | {:<7} |",
        "added per chunk at full speed (mean)", added_mean_us, "", "", ""
    );
    let lat = |name: &str, t: &Timing, target: Option<(f64, bool)>| {
        let (target, v) = match target {
            Some((ms, ok)) => (format!("p99 < {ms:.0} ms"), verdict(ok)),
            None => (String::new(), ""),
        };
        println!(
            "| {:<44} | {:>10.3} ms | {:>10.3} ms | {:>10} | {:<7} |",
            name, t.median_ms, t.p99_ms, target, v
        );
    };
    lat(
        "latency/chunk (b) app: bytes -> Delta JSON",
        &lat_app,
        Some((P99_TARGET_MS, p99_ok)),
    );
    lat("latency/chunk (a) bare: bytes -> read", &lat_bare, None);
    println!(
        "| {:<44} | {:>10.3} ms | {:>13} | {:>10} | {:<7} |",
        "added latency/chunk: median (b) - median (a)", added_median, "", "", ""
    );
    lat(
        "to the UI with 16 ms coalescing (by design)",
        &lat_coalesced,
        None,
    );
    println!(
        "(full speed: reqwest handed over {pieces_read} pieces; the app sent {deltas_full} Delta messages, {:.1} MB of JSON, for {chunks} chunks)",
        json_bytes as f64 / 1_048_576.0
    );
    let missed: Vec<&str> = [
        (!ratio_ok).then_some("ratio"),
        (!p99_ok).then_some("latency p99"),
    ]
    .into_iter()
    .flatten()
    .collect();
    print_missed(&missed);

    if !full {
        return;
    }
    let report = serde_json::json!({
        "chunks": chunks,
        "runs": runs,
        "stream_bytes": stream_bytes,
        "bare": {
            "chunks_per_s": per_s(bare.median_ms),
            "time": bare,
            "pieces_read": pieces_read,
        },
        "bare_sse": { "chunks_per_s": per_s(sse_only.median_ms), "time": sse_only },
        "bare_sse_json": { "chunks_per_s": per_s(sse_json.median_ms), "time": sse_json },
        "app": {
            "chunks_per_s": per_s(app.median_ms),
            "time": app,
            "delta_messages": deltas_full,
            "json_bytes": json_bytes,
        },
        "ratio_time_app_bare": ratio,
        "ratio_time_app_bare_min": ratio_min,
        "added_mean_us_per_chunk": added_mean_us,
        "latency": {
            "chunks": lat_chunks,
            "runs": lat_runs,
            "app_bytes_to_delta_json": lat_app,
            "bare_bytes_to_read": lat_bare,
            "added_median_ms": added_median,
            "p99_difference_ms": p99_difference,
            "coalesced_to_ui": lat_coalesced,
        },
        "targets": {
            "ratio_time_app_bare": RATIO_TARGET,
            "latency_p99_ms": P99_TARGET_MS,
            "ratio_met": ratio_ok,
            "latency_met": p99_ok,
        },
        "machine": {
            "nproc": nproc,
            "cpu": cpu,
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        },
    });
    write_report(&target_dir(), "streaming", &report);
}
