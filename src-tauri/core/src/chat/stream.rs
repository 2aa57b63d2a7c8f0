//! Sends a chat request and relays its server-sent events as [`ChatEvent`]s.
//!
//! - Retries 429 and 5xx answers a bounded number of times, waiting for `retry-after` /
//!   `RateLimit` when given, else backing off exponentially; the UI gets a `Retrying` event to
//!   show a countdown.
//! - Stop (the cancellation token) drops the response at once, which closes the connection.
//! - Text pieces are coalesced and sent at most every `flush_every` (one animation frame), so a
//!   fast stream does not flood the UI with one message per token.
//! - `Finished` is always the last event, exactly once, whatever happened.

use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::StatusCode;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use tokio_util::sync::CancellationToken;

use super::think::ThinkSplitter;
use super::ChatPreview;
use crate::call::{CallMode, CallResult, CallStats, ChatEvent, Outcome};
use crate::catalog::Pricing;
use crate::error::{scrub, AppError, ErrorCode};
use crate::hf::{
    error_detail, error_from_response, human_bytes, looks_like_html, read_text_capped,
    transport_error, MAX_SMALL_BODY_BYTES,
};
use crate::secrets::Secret;

pub const HEADER_PROVIDER: &str = "x-inference-provider";
pub const HEADER_REQUEST_ID: &str = "x-request-id";
pub const HEADER_BILL_TO: &str = "X-HF-Bill-To";

#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Automatic retries after a 429 or 5xx (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// First backoff; doubled at each retry.
    pub backoff: Duration,
    /// A server asking to wait longer than this is not retried automatically.
    pub max_wait: Duration,
    /// Until the answer's headers arrive.
    pub first_byte_timeout: Duration,
    /// Between two pieces of a streamed answer.
    pub idle_timeout: Duration,
    /// Text is sent to the UI at most this often.
    pub flush_every: Duration,
    /// A non-streamed answer's body, or an error body, is read up to this size.
    pub max_body_bytes: usize,
    /// A streamed answer (text and reasoning) is stopped past this size: an endpoint that ignores
    /// `max_tokens` could otherwise send without end.
    pub max_answer_bytes: usize,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            max_retries: 3,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
            flush_every: Duration::from_millis(16),
            max_body_bytes: 16 << 20,
            max_answer_bytes: 8 << 20,
        }
    }
}

/// What the caller knows about the call besides the request.
pub struct CallContext<'a> {
    /// Who answers, for messages ("Hugging Face", "Groq", …).
    pub who: &'a str,
    /// The pinned provider, reported when the answer does not name one.
    pub pinned: Option<&'a str>,
    /// The price of a provider at this moment (`None`: unknown), and whether it is free.
    pub price: &'a (dyn Fn(&str) -> (Option<Pricing>, bool) + Send + Sync),
    /// Characters of the prompt (all messages), to estimate input tokens when no usage comes.
    pub prompt_chars: usize,
    pub message_count: usize,
}

/// A call that could not be sent (no key, no mapping…): the error is its `Finished` event.
pub fn failed_before_sending(
    error: AppError,
    emit: &mut (dyn FnMut(ChatEvent) + Send),
) -> CallResult {
    emit(ChatEvent::Finished {
        outcome: Outcome::Error,
        error: Some(error.clone()),
        request_id: None,
        stats: CallStats::default(),
    });
    CallResult {
        outcome: Outcome::Error,
        error: Some(error),
        request_id: None,
        stats: CallStats::default(),
        content: String::new(),
        reasoning: String::new(),
    }
}

/// Runs one call to the end. Every event goes to `emit`; the last one is `Finished`.
///
/// Errors quote what the server said, and a server may quote the credential it was sent (whatever
/// its shape): that credential, and any long piece of it, is taken out of every error before it
/// reaches the UI, the history or an export.
pub async fn run(
    http: &reqwest::Client,
    preview: &ChatPreview,
    token: &Secret,
    ctx: &CallContext<'_>,
    opts: &CallOptions,
    cancel: &CancellationToken,
    emit: &mut (dyn FnMut(ChatEvent) + Send),
) -> CallResult {
    let key = token.expose();
    let clean = |e: AppError| e.without_secret(key);
    let mut redacting = |event: ChatEvent| {
        emit(match event {
            ChatEvent::Retrying {
                attempt,
                max_attempts,
                wait_ms,
                error,
                request_id,
            } => ChatEvent::Retrying {
                attempt,
                max_attempts,
                wait_ms,
                error: clean(error),
                request_id,
            },
            ChatEvent::Finished {
                outcome,
                error,
                request_id,
                stats,
            } => ChatEvent::Finished {
                outcome,
                error: error.map(clean),
                request_id,
                stats,
            },
            other => other,
        })
    };
    let mut result = run_unredacted(http, preview, token, ctx, opts, cancel, &mut redacting).await;
    result.error = result.error.map(clean);
    result
}

async fn run_unredacted(
    http: &reqwest::Client,
    preview: &ChatPreview,
    token: &Secret,
    ctx: &CallContext<'_>,
    opts: &CallOptions,
    cancel: &CancellationToken,
    emit: &mut (dyn FnMut(ChatEvent) + Send),
) -> CallResult {
    let mut call = Call::new(ctx);
    let mut attempt = 0u32;
    let response = loop {
        attempt += 1;
        call.started = Instant::now();
        let mut request = http.post(&preview.url).json(&preview.body);
        // A custom endpoint may need no key: then no Authorization header at all.
        if !token.expose().is_empty() {
            request = request.bearer_auth(token.expose());
        }
        if let Some(org) = &preview.bill_to {
            request = request.header(HEADER_BILL_TO, org);
        }
        // Only to Hugging Face: the session names the conversation for its billing.
        if let (Some(id), CallMode::Routed) = (&preview.session_id, preview.mode) {
            request = request.header(crate::hf::usage::HEADER_SESSION_ID, id);
        }
        for (k, v) in &preview.headers {
            request = request.header(k, v);
        }
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return call.finish(Outcome::Stopped, None, emit),
            r = tokio::time::timeout(opts.first_byte_timeout, request.send()) => r,
        };
        let response = match sent {
            Err(_) => {
                let e = AppError::new(
                    ErrorCode::Timeout,
                    format!("{} did not answer in time.", ctx.who),
                );
                return call.finish(Outcome::Error, Some(e), emit);
            }
            Ok(Err(e)) => {
                return call.finish(Outcome::Error, Some(transport_error(&e, ctx.who)), emit)
            }
            Ok(Ok(r)) => r,
        };
        call.request_id = header(response.headers(), HEADER_REQUEST_ID);
        let status = response.status();
        if status.is_success() {
            break response;
        }
        let headers = response.headers().clone();
        let body = tokio::select! {
            biased;
            _ = cancel.cancelled() => return call.finish(Outcome::Stopped, None, emit),
            b = tokio::time::timeout(
                opts.idle_timeout,
                read_text_capped(response, MAX_SMALL_BODY_BYTES.min(opts.max_body_bytes), ctx.who),
            ) => b,
        };
        // An error body too large or unreadable: the status alone tells what happened.
        let body = match body {
            Ok(Ok(b)) => b,
            _ => String::new(),
        };
        let error = classify(status, &headers, &body, ctx.who);
        let wait = retry_wait(status, &headers, &error, attempt, opts);
        match wait {
            Some(wait) if attempt <= opts.max_retries && wait <= opts.max_wait => {
                emit(ChatEvent::Retrying {
                    attempt,
                    max_attempts: opts.max_retries,
                    wait_ms: wait.as_millis() as u64,
                    error,
                    request_id: call.request_id.clone(),
                });
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return call.finish(Outcome::Stopped, None, emit),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            Some(wait) if status == StatusCode::TOO_MANY_REQUESTS => {
                let mut error = error;
                error.message = format!("{} Try again in {}.", error.message, human_duration(wait));
                return call.finish(Outcome::Error, Some(error), emit);
            }
            _ => return call.finish(Outcome::Error, Some(error), emit),
        }
    };

    call.provider = header(response.headers(), HEADER_PROVIDER).or(ctx.pinned.map(str::to_string));
    call.rate_limit = rate_limit(response.headers());
    emit(ChatEvent::Started {
        request_id: call.request_id.clone(),
        provider: call.provider.clone(),
    });

    let headers = response.headers().clone();
    let content_type = header(&headers, CONTENT_TYPE.as_str()).unwrap_or_default();
    if !content_type.contains("text/event-stream") {
        // Not a stream: an HTML page from a proxy, or a provider that answered in one piece.
        let body = tokio::select! {
            biased;
            _ = cancel.cancelled() => return call.finish(Outcome::Stopped, None, emit),
            b = tokio::time::timeout(
                opts.idle_timeout,
                read_text_capped(response, opts.max_body_bytes, ctx.who),
            ) => b,
        };
        return match body {
            Err(_) => call.timeout(emit),
            Ok(Err(e)) => call.finish(Outcome::Error, Some(e), emit),
            Ok(Ok(body)) if looks_like_html(&headers, &body) => {
                let e = AppError::new(
                    ErrorCode::BadResponse,
                    format!(
                        "{} answered with a web page instead of an answer. The service or a proxy in between may be having trouble.",
                        ctx.who
                    ),
                );
                call.finish(Outcome::Error, Some(e), emit)
            }
            Ok(Ok(body)) => match serde_json::from_str::<Value>(&body) {
                Ok(v) => {
                    if let Some(e) = call.take_chunk(&v, true) {
                        return call.finish(Outcome::Error, Some(e), emit);
                    }
                    call.flush(emit);
                    call.done = true;
                    call.end(emit)
                }
                Err(_) => call.garbled(emit),
            },
        };
    }

    // The blank line after a clean end of the body ends a last event the server left
    // unterminated (the recorded cerebras stream ends right after its last data line); a
    // transport failure comes as an error before it.
    let mut events = with_clean_end(response.bytes_stream()).eventsource();
    // The stop signal and both timers are set up once and moved only when needed, instead of
    // a new waiter and two new timers for every event: at thousands of events a second,
    // registering them costs more than reading the events.
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    let idle = tokio::time::sleep(opts.idle_timeout);
    tokio::pin!(idle);
    let flush_timer = tokio::time::sleep(opts.flush_every);
    tokio::pin!(flush_timer);
    let mut flush_armed = false;
    let mut last_event = Instant::now();
    loop {
        if !flush_armed && call.has_pending() {
            let at = call.last_flush + opts.flush_every;
            flush_timer
                .as_mut()
                .reset(tokio::time::Instant::from_std(at));
            flush_armed = true;
        }
        let next = tokio::select! {
            biased;
            // Dropping `events` here drops the response: the connection is closed at once.
            _ = &mut cancelled => {
                call.flush(emit);
                return call.finish(Outcome::Stopped, None, emit);
            }
            _ = &mut flush_timer, if flush_armed => {
                flush_armed = false;
                call.flush(emit);
                continue;
            }
            _ = &mut idle => {
                let quiet_until = last_event + opts.idle_timeout;
                if Instant::now() >= quiet_until {
                    call.flush(emit);
                    return call.timeout(emit);
                }
                idle.as_mut().reset(tokio::time::Instant::from_std(quiet_until));
                continue;
            }
            n = events.next() => n,
        };
        last_event = Instant::now();
        let event = match next {
            None => break,
            Some(Err(e)) => {
                call.flush(emit);
                log::warn!("stream broke: {e}");
                return call.interrupted(emit);
            }
            Some(Ok(event)) => event,
        };
        let data = event.data.trim();
        if data.is_empty() {
            continue;
        }
        if data == "[DONE]" {
            call.done = true;
            break;
        }
        match call.take_event(data) {
            Err(()) => {
                call.flush(emit);
                return call.garbled(emit);
            }
            Ok(Some(e)) => {
                call.flush(emit);
                return call.finish(Outcome::Error, Some(e), emit);
            }
            Ok(None) => {}
        }
        if call.size() > opts.max_answer_bytes {
            // Dropping `events` closes the connection: nothing more is read.
            call.flush(emit);
            let e = AppError::new(
                ErrorCode::TooLarge,
                format!(
                    "{} kept sending past {} of text, far more than asked: Switchboard stopped the answer there. What arrived is kept.",
                    ctx.who,
                    human_bytes(opts.max_answer_bytes)
                ),
            );
            return call.finish(Outcome::Error, Some(e), emit);
        }
        if last_event.saturating_duration_since(call.last_flush) >= opts.flush_every {
            call.flush(emit);
            flush_armed = false;
        }
    }
    call.end(emit)
}

/// A piece of a streamed body, or the blank line added after its clean end.
enum BodyPiece<B> {
    Body(B),
    End,
}

impl<B: AsRef<[u8]>> AsRef<[u8]> for BodyPiece<B> {
    fn as_ref(&self) -> &[u8] {
        match self {
            BodyPiece::Body(b) => b.as_ref(),
            BodyPiece::End => b"\n\n",
        }
    }
}

/// The body, then a blank line once it has ended cleanly, so that a last event left without
/// its blank line is still read.
fn with_clean_end<S, B, E>(body: S) -> impl futures_util::Stream<Item = Result<BodyPiece<B>, E>>
where
    S: futures_util::Stream<Item = Result<B, E>>,
{
    body.map(|r| r.map(BodyPiece::Body))
        .chain(futures_util::stream::iter([Ok(BodyPiece::End)]))
}

/// What one chunk adds, whichever way it was read.
struct Piece<'s> {
    usage: Option<(u64, u64)>,
    /// `usage.estimated_cost` (USD), when the router sent it.
    estimated_cost: Option<f64>,
    content: &'s str,
    reasoning: &'s str,
    finish_reason: Option<&'s str>,
}

/// The usual shape of a streamed chunk. Unknown fields are skipped without being built, and
/// text without escapes is borrowed from the event rather than copied.
#[derive(Deserialize)]
struct FastChunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<FastChoice<'a>>,
    #[serde(default)]
    usage: Option<FastUsage>,
    /// Present (and not null): the chunk is an error, read by the lenient path.
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct FastChoice<'a> {
    #[serde(default, borrow)]
    delta: Option<FastDelta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct FastDelta<'a> {
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
    #[serde(default, borrow)]
    reasoning_content: Option<Text<'a>>,
    #[serde(default, borrow)]
    reasoning: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct FastUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    estimated_cost: Option<f64>,
}

/// A JSON string, borrowed when it has no escapes. (`Option<Cow<str>>` would always copy.)
struct Text<'a>(Cow<'a, str>);

fn text<'s>(t: &'s Option<Text<'_>>) -> &'s str {
    t.as_ref().map_or("", |t| &t.0)
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(s))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s))
            }
        }
        d.deserialize_str(V).map(Text)
    }
}

/// The state of one call.
struct Call<'a> {
    ctx: &'a CallContext<'a>,
    started: Instant,
    first_token: Option<Instant>,
    last_flush: Instant,
    request_id: Option<String>,
    provider: Option<String>,
    splitter: ThinkSplitter,
    pending_content: String,
    pending_reasoning: String,
    content: String,
    reasoning: String,
    usage: Option<(u64, u64)>,
    estimated_cost: Option<f64>,
    finish_reason: Option<String>,
    done: bool,
    rate_limit: Option<super::RateLimit>,
}

impl<'a> Call<'a> {
    fn new(ctx: &'a CallContext<'a>) -> Self {
        let now = Instant::now();
        Self {
            ctx,
            started: now,
            first_token: None,
            last_flush: now,
            request_id: None,
            provider: None,
            splitter: ThinkSplitter::default(),
            pending_content: String::new(),
            pending_reasoning: String::new(),
            content: String::new(),
            reasoning: String::new(),
            usage: None,
            estimated_cost: None,
            finish_reason: None,
            done: false,
            rate_limit: None,
        }
    }

    /// Bytes of text and reasoning received so far.
    fn size(&self) -> usize {
        self.content.len()
            + self.reasoning.len()
            + self.pending_content.len()
            + self.pending_reasoning.len()
    }

    fn has_pending(&self) -> bool {
        !self.pending_content.is_empty() || !self.pending_reasoning.is_empty()
    }

    /// Takes one streamed event's data. `Err` when it is not JSON; an error inside the stream
    /// is returned.
    fn take_event(&mut self, data: &str) -> Result<Option<AppError>, ()> {
        // The usual chunk is read straight into typed fields; anything else (an error, an
        // unexpected type somewhere) goes through the lenient `Value` reading below.
        if let Ok(chunk) = serde_json::from_str::<FastChunk>(data) {
            if chunk.error.is_none() {
                let choice = chunk.choices.first();
                let delta = choice.and_then(|c| c.delta.as_ref());
                let estimated_cost = chunk.usage.as_ref().and_then(|u| u.estimated_cost);
                self.apply(Piece {
                    usage: chunk
                        .usage
                        .and_then(|u| Some((u.prompt_tokens.unwrap_or(0), u.completion_tokens?))),
                    estimated_cost,
                    content: delta.map_or("", |d| text(&d.content)),
                    reasoning: delta.map_or("", |d| match text(&d.reasoning_content) {
                        "" => text(&d.reasoning),
                        r => r,
                    }),
                    finish_reason: choice.and_then(|c| c.finish_reason.as_ref()).map(|t| &*t.0),
                });
                return Ok(None);
            }
        }
        let v = serde_json::from_str::<Value>(data).map_err(|_| ())?;
        Ok(self.take_chunk(&v, false))
    }

    /// Takes one chunk (or a whole completion): text, usage, finish reason. An error inside
    /// the stream is returned.
    fn take_chunk(&mut self, v: &Value, whole: bool) -> Option<AppError> {
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let detail = error_detail(&serde_json::json!({ "error": err }).to_string())
                .unwrap_or_else(|| "no details".into());
            return Some(AppError::new(
                ErrorCode::ProviderError,
                format!("The provider stopped with an error: “{detail}”"),
            ));
        }
        let usage = v.get("usage").filter(|u| u.is_object()).and_then(|u| {
            let n = |k: &str| u.get(k).and_then(Value::as_u64);
            Some((n("prompt_tokens").unwrap_or(0), n("completion_tokens")?))
        });
        let estimated_cost = v
            .get("usage")
            .and_then(|u| u.get("estimated_cost"))
            .and_then(Value::as_f64);
        let choice = v.get("choices").and_then(|c| c.get(0));
        let part = choice.and_then(|c| c.get(if whole { "message" } else { "delta" }));
        let text = |k: &str| {
            part.and_then(|d| d.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        self.apply(Piece {
            usage,
            estimated_cost,
            content: text("content"),
            reasoning: match text("reasoning_content") {
                "" => text("reasoning"),
                r => r,
            },
            finish_reason: choice
                .and_then(|c| c.get("finish_reason"))
                .and_then(Value::as_str),
        });
        None
    }

    fn apply(&mut self, piece: Piece<'_>) {
        if let Some(usage) = piece.usage {
            self.usage = Some(usage);
        }
        if let Some(c) = piece.estimated_cost.filter(|c| c.is_finite() && *c >= 0.0) {
            self.estimated_cost = Some(c);
        }
        if !piece.content.is_empty() || !piece.reasoning.is_empty() {
            self.first_token.get_or_insert_with(Instant::now);
        }
        self.pending_reasoning.push_str(piece.reasoning);
        if !piece.content.is_empty() {
            self.splitter.push_into(
                piece.content,
                &mut self.pending_content,
                &mut self.pending_reasoning,
            );
        }
        if let Some(r) = piece.finish_reason {
            self.finish_reason = Some(r.to_string());
        }
    }

    fn flush(&mut self, emit: &mut (dyn FnMut(ChatEvent) + Send)) {
        self.last_flush = Instant::now();
        if !self.has_pending() {
            return;
        }
        let content = std::mem::take(&mut self.pending_content);
        let reasoning = std::mem::take(&mut self.pending_reasoning);
        self.content.push_str(&content);
        self.reasoning.push_str(&reasoning);
        emit(ChatEvent::Delta { content, reasoning });
    }

    /// The body ended cleanly: complete if the server said so (`[DONE]`, or a finish reason:
    /// some providers never send `[DONE]`), else possibly unfinished, but never a broken
    /// connection (that is an error while reading, see [`Call::interrupted`]).
    fn end(mut self, emit: &mut (dyn FnMut(ChatEvent) + Send)) -> CallResult {
        let rest = self.splitter.finish();
        self.pending_content.push_str(&rest.content);
        self.pending_reasoning.push_str(&rest.reasoning);
        self.flush(emit);
        if self.done || self.finish_reason.is_some() {
            self.finish(Outcome::Complete, None, emit)
        } else {
            let e = AppError::new(
                ErrorCode::AnswerUnfinished,
                format!(
                    "{} ended the answer without saying it was finished: it may be incomplete.",
                    self.ctx.who
                ),
            );
            self.finish(Outcome::Error, Some(e), emit)
        }
    }

    fn interrupted(self, emit: &mut (dyn FnMut(ChatEvent) + Send)) -> CallResult {
        let e = AppError::new(
            ErrorCode::StreamInterrupted,
            format!(
                "The connection to {} broke before the answer was complete.",
                self.ctx.who
            ),
        );
        self.finish(Outcome::Error, Some(e), emit)
    }

    fn garbled(self, emit: &mut (dyn FnMut(ChatEvent) + Send)) -> CallResult {
        let e = AppError::new(
            ErrorCode::BadResponse,
            format!(
                "{} sent a piece of the answer the app could not read.",
                self.ctx.who
            ),
        );
        self.finish(Outcome::Error, Some(e), emit)
    }

    fn timeout(self, emit: &mut (dyn FnMut(ChatEvent) + Send)) -> CallResult {
        let e = AppError::new(
            ErrorCode::Timeout,
            format!("{} stopped sending the answer.", self.ctx.who),
        );
        self.finish(Outcome::Error, Some(e), emit)
    }

    fn finish(
        mut self,
        outcome: Outcome,
        error: Option<AppError>,
        emit: &mut (dyn FnMut(ChatEvent) + Send),
    ) -> CallResult {
        if outcome != Outcome::Error || self.has_pending() {
            self.flush(emit);
        }
        let now = Instant::now();
        let total_ms = ms(now - self.started);
        let ttft_ms = self.first_token.map(|t| ms(t - self.started));
        let produced = !self.content.is_empty() || !self.reasoning.is_empty();
        let (tokens_in, tokens_out, usage_estimated) = match self.usage {
            Some((i, o)) => (i, o, false),
            None if produced || outcome != Outcome::Error => (
                estimate_tokens(self.ctx.prompt_chars) + 4 * self.ctx.message_count as u64,
                estimate_tokens(self.content.chars().count() + self.reasoning.chars().count()),
                true,
            ),
            // Nothing was produced: nothing to count (an error before any answer).
            None => (0, 0, false),
        };
        let tokens_per_sec = match (self.first_token, tokens_out) {
            (Some(first), n) if n > 0 => {
                let secs = (now - first).as_secs_f64();
                (secs > 0.001).then(|| n as f64 / secs)
            }
            _ => None,
        };
        let (pricing, free) = match &self.provider {
            Some(p) => (self.ctx.price)(p),
            None => (None, false),
        };
        let charged = tokens_in > 0 || tokens_out > 0;
        let cost = if free {
            Some(0.0)
        } else {
            pricing.map(|p| {
                if charged {
                    p.cost(tokens_in, tokens_out)
                } else {
                    0.0
                }
            })
        };
        let stats = CallStats {
            provider: self.provider.clone(),
            tokens_in,
            tokens_out,
            usage_estimated,
            ttft_ms,
            total_ms,
            tokens_per_sec,
            pricing,
            cost,
            finish_reason: self.finish_reason.clone(),
            rate_limit: self.rate_limit.clone(),
            router_cost: self.estimated_cost,
        };
        emit(ChatEvent::Finished {
            outcome,
            error: error.clone(),
            request_id: self.request_id.clone(),
            stats: stats.clone(),
        });
        CallResult {
            outcome,
            error,
            request_id: self.request_id,
            stats,
            content: self.content,
            reasoning: self.reasoning,
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// About four characters a token for English text: a rough figure, marked as an estimate.
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The error for a failed answer, with the chat-specific case of a model the provider (or every
/// enabled provider) does not serve.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str, who: &str) -> AppError {
    let mut e = error_from_response(status, headers, body, who);
    let lower = body.to_ascii_lowercase();
    let unsupported = [
        "not supported",
        "does not exist",
        "unavailable for model",
        "not found",
    ]
    .iter()
    .any(|p| lower.contains(p));
    if matches!(status.as_u16(), 400 | 404 | 503) && unsupported && !looks_like_html(headers, body)
    {
        let detail = error_detail(body).unwrap_or_default();
        e = AppError::new(
            ErrorCode::ModelUnavailable,
            scrub(&format!("{who} said: “{detail}”"), 400),
        );
    }
    e
}

/// How long to wait before retrying, or `None` when this failure is not worth retrying.
fn retry_wait(
    status: StatusCode,
    headers: &HeaderMap,
    error: &AppError,
    attempt: u32,
    opts: &CallOptions,
) -> Option<Duration> {
    let retryable = status == StatusCode::TOO_MANY_REQUESTS
        || (matches!(status.as_u16(), 500 | 502 | 503 | 504)
            && error.code != ErrorCode::ModelUnavailable);
    if !retryable {
        return None;
    }
    let asked = server_wait(headers);
    let backoff = opts.backoff * 2u32.saturating_pow(attempt.saturating_sub(1));
    Some(asked.unwrap_or(backoff))
}

/// The allowance left, from `x-ratelimit-*-requests` (providers) or `RateLimit` and
/// `RateLimit-Policy` (the Hub): `"api";r=<remaining>;t=<seconds>`, `"fixed window";"api";q=<n>;w=<s>`.
pub fn rate_limit(headers: &HeaderMap) -> Option<super::RateLimit> {
    let num = |name: &str| {
        header(headers, name).and_then(|v| v.split([',', ';']).next()?.trim().parse::<f64>().ok())
    };
    let param = |name: &str, key: &str| {
        header(headers, name).and_then(|v| {
            v.split(';')
                .find_map(|p| p.trim().strip_prefix(key))
                .and_then(|x| x.trim().parse::<u64>().ok())
        })
    };
    let reset = header(headers, "x-ratelimit-reset-requests").and_then(|v| {
        let v = v.trim();
        v.strip_suffix("ms")
            .and_then(|x| x.parse::<f64>().ok().map(|x| x / 1000.0))
            .or_else(|| v.strip_suffix('s').and_then(|x| x.parse::<f64>().ok()))
            .or_else(|| v.parse::<f64>().ok())
    });
    let rl = super::RateLimit {
        remaining: num("x-ratelimit-remaining-requests")
            .map(|x| x as u64)
            .or_else(|| param("ratelimit", "r=")),
        limit: num("x-ratelimit-limit-requests")
            .map(|x| x as u64)
            .or_else(|| param("ratelimit-policy", "q=")),
        reset_secs: reset
            .map(|x| x.ceil() as u64)
            .or_else(|| param("ratelimit", "t=")),
    };
    (rl != super::RateLimit::default()).then_some(rl)
}

/// `retry-after` (seconds), else the `t=` of a `RateLimit` header.
pub fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(v) = header(headers, "retry-after") {
        if let Ok(secs) = v.parse::<f64>() {
            if secs.is_finite() && secs >= 0.0 {
                return Some(Duration::from_secs_f64(secs));
            }
        }
    }
    let rl = header(headers, "ratelimit")?;
    rl.split(';')
        .find_map(|part| part.trim().strip_prefix("t="))
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 90 {
        format!("{} s", s.max(1))
    } else {
        format!("{} min", s.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn server_wait_reads_retry_after_then_ratelimit() {
        assert_eq!(
            server_wait(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_wait(&headers(&[("ratelimit", "\"api\";r=0;t=42")])),
            Some(Duration::from_secs(42))
        );
        assert_eq!(server_wait(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(server_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn rate_limit_headers_of_providers_and_the_hub() {
        let p = rate_limit(&headers(&[
            ("x-ratelimit-remaining-requests", "14398"),
            ("x-ratelimit-limit-requests", "14400"),
            ("x-ratelimit-reset-requests", "2.5s"),
        ]))
        .unwrap();
        assert_eq!(
            (p.remaining, p.limit, p.reset_secs),
            (Some(14398), Some(14400), Some(3))
        );
        let hub = rate_limit(&headers(&[
            ("ratelimit", "\"api\";r=12;t=240"),
            ("ratelimit-policy", "\"fixed window\";\"api\";q=500;w=300"),
        ]))
        .unwrap();
        assert_eq!(
            (hub.remaining, hub.limit, hub.reset_secs),
            (Some(12), Some(500), Some(240))
        );
        assert_eq!(rate_limit(&HeaderMap::new()), None);
    }

    #[test]
    fn model_not_supported_is_its_own_error() {
        let json = headers(&[("content-type", "application/json")]);
        for (status, body) in [
            (
                400,
                r#"{"error":"Model x/y is not supported by provider groq"}"#,
            ),
            (
                400,
                r#"{"error":"Model x/y is not supported by any provider you have enabled"}"#,
            ),
            (404, r#"{"error":"Model x/y does not exist"}"#),
            (
                503,
                r#"{"error":"Provider novita is currently unavailable for model x/y"}"#,
            ),
        ] {
            let e = classify(
                StatusCode::from_u16(status).unwrap(),
                &json,
                body,
                "Hugging Face",
            );
            assert_eq!(e.code, ErrorCode::ModelUnavailable, "{body}");
            assert!(e.message.contains("x/y"), "{}", e.message);
        }
        let e = classify(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json,
            r#"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"}"#,
            "Hugging Face",
        );
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(e.message.contains("max_new_tokens"));
    }

    #[test]
    fn retry_policy() {
        let opts = CallOptions::default();
        let e = |code| AppError::new(code, "");
        let none = HeaderMap::new();
        let rl = retry_wait(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2")]),
            &e(ErrorCode::RateLimited),
            1,
            &opts,
        );
        assert_eq!(rl, Some(Duration::from_secs(2)));
        let b1 = retry_wait(
            StatusCode::BAD_GATEWAY,
            &none,
            &e(ErrorCode::ServerError),
            1,
            &opts,
        );
        let b3 = retry_wait(
            StatusCode::BAD_GATEWAY,
            &none,
            &e(ErrorCode::ServerError),
            3,
            &opts,
        );
        assert_eq!(b1, Some(Duration::from_secs(1)));
        assert_eq!(b3, Some(Duration::from_secs(4)));
        for (s, c) in [
            (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            (StatusCode::PAYMENT_REQUIRED, ErrorCode::PaymentRequired),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ModelUnavailable),
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidRequest),
        ] {
            assert_eq!(retry_wait(s, &none, &e(c), 1, &opts), None, "{s}");
        }
    }

    /// A call context for reading chunks: no price, nothing pinned.
    fn unpriced_context() -> CallContext<'static> {
        fn no_price(_: &str) -> (Option<Pricing>, bool) {
            (None, false)
        }
        CallContext {
            who: "Hugging Face",
            pinned: None,
            price: &no_price,
            prompt_chars: 0,
            message_count: 1,
        }
    }

    #[test]
    fn chunk_parsing_handles_provider_quirks() {
        let ctx = unpriced_context();
        let chunks = [
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":"think "}}],"usage":null}"#,
            r#"{"choices":[{"delta":{"content":"Hel","token_id":5}}],"time_info":{}}"#,
            r#"{"choices":[{"delta":{"content":"lo"},"finish_reason":"eos_token"}],"usage":{"prompt_tokens":9,"completion_tokens":3}}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}}"#,
        ];
        // Both readings (typed, and the lenient `Value` one) agree chunk by chunk.
        let mut fast = Call::new(&ctx);
        let mut lenient = Call::new(&ctx);
        for ch in chunks {
            assert_eq!(fast.take_event(ch), Ok(None));
            assert!(lenient
                .take_chunk(&serde_json::from_str(ch).unwrap(), false)
                .is_none());
        }
        for c in [&fast, &lenient] {
            assert_eq!(c.pending_content, "Hello");
            assert_eq!(c.pending_reasoning, "think ");
            assert_eq!(c.usage, Some((10, 4)));
            assert_eq!(c.finish_reason.as_deref(), Some("eos_token"));
        }
        for err in [
            r#"{"error":"Model overloaded","error_type":"overloaded"}"#,
            r#"{"error":{"message":"Internal failure"}}"#,
        ] {
            let e = fast.take_event(err).unwrap().unwrap();
            assert_eq!(e.code, ErrorCode::ProviderError);
            assert!(
                e.message.contains("Model overloaded") || e.message.contains("Internal failure")
            );
        }
        assert_eq!(fast.take_event("{\"choices\":[{\"delta\""), Err(()));
    }

    #[test]
    fn odd_chunks_read_the_same_by_both_paths() {
        let ctx = unpriced_context();
        let odd = [
            // Escapes: the text is unescaped, not borrowed raw.
            r#"{"choices":[{"delta":{"content":"a\n\"b\" \u00e9 \ud83d\ude00"}}]}"#,
            r#"{"choices":[{"delta":{"content":null,"reasoning":"why"}}],"error":null}"#,
            r#"{"choices":[{"delta":{"content":"x","reasoning_content":"","reasoning":"r"}}]}"#,
            // Unexpected types: the typed reading gives up, the lenient one skips them.
            r#"{"choices":[{"delta":{"content":["part"]},"finish_reason":7}]}"#,
            r#"{"choices":{"0":{"delta":{"content":"no"}}}}"#,
            r#"{"choices":[{"delta":{"content":"y"}}],"usage":{"prompt_tokens":1.5,"completion_tokens":2}}"#,
            r#"{"choices":[{"delta":{"content":"z"}}],"usage":{"prompt_tokens":3,"completion_tokens":"4"}}"#,
            r#"{"choices":[{"delta":{"content":"w"},"finish_reason":"stop"}],"usage":{"completion_tokens":6}}"#,
            r#"[1,2,3]"#,
            r#""just a string""#,
            r#"{}"#,
        ];
        let mut fast = Call::new(&ctx);
        let mut lenient = Call::new(&ctx);
        for ch in odd {
            assert_eq!(fast.take_event(ch), Ok(None), "{ch}");
            assert!(lenient
                .take_chunk(&serde_json::from_str(ch).unwrap(), false)
                .is_none());
            assert_eq!(fast.pending_content, lenient.pending_content, "{ch}");
            assert_eq!(fast.pending_reasoning, lenient.pending_reasoning, "{ch}");
            assert_eq!(fast.usage, lenient.usage, "{ch}");
            assert_eq!(fast.finish_reason, lenient.finish_reason, "{ch}");
        }
        assert_eq!(fast.pending_content, "a\n\"b\" é 😀xyzw");
        // The usual chunk takes the typed path, its text borrowed from the event.
        let usual = r#"{"id":"1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"text":"Deep","logprobs":null,"finish_reason":null,"seed":null,"delta":{"token_id":3,"role":"assistant","content":"Deep","tool_calls":null}}],"model":"m","usage":null}"#;
        let chunk = serde_json::from_str::<FastChunk>(usual).expect("typed");
        let delta = chunk.choices[0].delta.as_ref().unwrap();
        assert!(matches!(
            delta.content.as_ref().unwrap().0,
            Cow::Borrowed("Deep")
        ));
        assert_eq!(fast.pending_reasoning, "whyr");
        assert_eq!(fast.usage, Some((0, 6)));
        assert_eq!(fast.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn estimates() {
        assert_eq!(estimate_tokens(0), 0);
        assert_eq!(estimate_tokens(1), 1);
        assert_eq!(estimate_tokens(8), 2);
        assert_eq!(human_duration(Duration::from_secs(30)), "30 s");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 min");
    }
}
