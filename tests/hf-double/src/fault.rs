//! Faults: ways the double can be told to misbehave.
//!
//! Faults are queued; each request takes the first queued fault whose [`Scope`] matches it and whose
//! [`FaultKind`] makes sense for it, and decrements its `times`.
//!
//! Bodies may contain the placeholders `{user}` (the name behind the bearer token), `{model}` (the
//! model of a chat request) and `{provider}` (the serving provider); they are filled in when the fault
//! is served.

use serde::{Deserialize, Serialize};

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `GET /api/whoami-v2`.
    Whoami,
    /// `GET /router/v1/models` and `GET /router/v1/models/{id}`.
    Models,
    /// `GET /api/models/...` (Hub model info and provider mapping).
    Mapping,
    /// Any chat completion: routed (`/router/v1/...`, `/router/{provider}/...`) or direct.
    Chat,
    /// `GET /avatars/...`.
    Avatar,
    /// Every request but the control routes.
    Any,
    /// `GET /api/settings/billing/...` (usage and per-session costs).
    Billing,
    /// A text-to-image (or image-to-image) generation request, router or direct, not its
    /// polls; also every text-to-video and image-to-video job (see [`crate::video`]).
    Image,
    /// The download of a generated picture (`/ext/...`).
    ImageFile,
    /// A feature-extraction (embeddings) request, routed or direct.
    Embeddings,
    /// A speech-to-text or text-to-speech request (router or direct), not its polls.
    Speech,
    /// The download of a generated video (`/ext/{host}/video/...`).
    VideoFile,
}

/// What to do instead of answering normally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status, body and headers (plus `x-request-id`).
    Status {
        code: u16,
        #[serde(default)]
        body: String,
        #[serde(default = "default_content_type")]
        content_type: String,
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
    /// Wait this long before each streamed chunk (before the whole body for non-streamed answers).
    SlowStream { delay_ms_per_chunk: u64 },
    /// Send this many chunks, then drop the connection without a terminating chunk and without
    /// `[DONE]` (a non-streamed body is cut after about half of it).
    CutStream { after_chunks: usize },
    /// After this many chunks inject the line `data: {not json`, then continue normally
    /// (a non-streamed chat answer becomes that broken JSON).
    MalformedEvent { after_chunks: usize },
    /// After this many chunks send `data: <payload>` inside the 200 stream, then end the stream
    /// (a non-streamed chat answer is a 200 whose body is the payload).
    ErrorEvent {
        after_chunks: usize,
        payload: String,
    },
    /// Synthesize `chunks` content chunks shaped like the recorded together stream, then a usage
    /// chunk and `[DONE]`, waiting `delay_us` microseconds between chunks.
    LongStream { chunks: usize, delay_us: u64 },
    /// Accept the request and never answer (until the double shuts down).
    Hang,
    /// Answer this exact assistant content, split into small chunks when streamed.
    Answer { content: String },
    /// A stream that ends cleanly the way the recorded cerebras one does: no `data: [DONE]`, and
    /// the body ends right after the last event's data line, with no blank line after it
    /// (`line_end: false`: not even the line's own newline). Only for streamed chat answers.
    UnendedStream {
        #[serde(default = "yes")]
        line_end: bool,
    },
    /// Answer `code` (301, 302, 303, 307 or 308) with `location: <location>`, as a gateway
    /// sending the client elsewhere (another host, or from https to http) would.
    Redirect { code: u16, location: String },
    /// Answer `code` with a body that quotes the credential the request carried (the bearer or
    /// `Key` value): the whole of it, or with `fragment: Some(n)` only `n` characters from its
    /// middle, as a careless provider or gateway does.
    EchoCredential {
        code: u16,
        #[serde(default)]
        fragment: Option<usize>,
    },
    /// Send a body of about `bytes` bytes, in 64 KiB chunks: an avatar of that size, a
    /// non-streamed chat completion whose content is that long, or a stream of content chunks
    /// adding up to it (an endpoint that ignores `max_tokens`), then `[DONE]`.
    Oversized { bytes: usize },
    /// Image and video jobs: the job is accepted, then fails with this message when it ends (fal:
    /// the result answers 500 `{"detail"}`; Replicate: `status: failed`; Black Forest Labs:
    /// `status: Error`; synchronous providers: 500 `{"error"}` at once).
    JobFails { message: String },
    /// Image and video jobs: the job answers "in progress" to this many polls before it ends.
    JobPending { polls: u32 },
    /// Image and video jobs: the job stays in progress as long as this fault is queued (synchronous
    /// providers never answer), so a test can kill the app mid-job, clear the faults, and see
    /// the restarted app pick the job up.
    JobStall,
    /// Image jobs only: the provider's safety filter flags the picture (fal:
    /// `has_nsfw_concepts: [true]`; Replicate: failed with its NSFW message; Black Forest Labs:
    /// `Content Moderated`; others: 400 with the NSFW message).
    ContentFlagged,
}

fn yes() -> bool {
    true
}

fn default_content_type() -> String {
    JSON.to_string()
}

const JSON: &str = "application/json; charset=utf-8";

/// A queued fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub scope: Scope,
    /// Flattened: the JSON form is `{"scope":"chat","times":1,"kind":"status","code":402,...}`.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests it applies to; `None` = until cleared.
    #[serde(default)]
    pub times: Option<u32>,
    /// Only chat requests served by this provider (after routing); `None` = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// Exact 401 body of the Hub and the router for a bad or revoked token.
pub const UNAUTHORIZED_BODY: &str = r#"{"error":"Invalid credentials in Authorization header"}"#;
/// Exact 402 body when the monthly included credits are used up.
pub const CREDITS_DEPLETED_BODY: &str = r#"{"error":"You have depleted your monthly included credits. Purchase pre-paid credits to continue using Inference Providers. Alternatively, subscribe to PRO to get 20x more included credits."}"#;
/// 403 body for a token lacking `inference.serverless.write` (`{user}` is filled in).
pub const FORBIDDEN_BODY: &str = r#"{"error":"This authentication method does not have sufficient permissions to call Inference Providers on behalf of user {user}"}"#;

impl Fault {
    /// A fault applying until cleared.
    pub fn new(scope: Scope, kind: FaultKind) -> Fault {
        Fault {
            scope,
            kind,
            times: None,
            provider: None,
        }
    }

    /// Same fault, only for chat requests served by `provider` (e.g. one pane of a comparison).
    pub fn for_provider(mut self, provider: impl Into<String>) -> Fault {
        self.provider = Some(provider.into());
        self
    }

    /// 400 refusing the requested size, as providers word it (image generations).
    pub fn image_size_refused() -> Fault {
        Fault::status_with(
            400,
            r#"{"error":"Invalid size: width and height must be multiples of 8 between 256 and 1440"}"#,
            JSON,
            &[],
        )
        .scope(Scope::Image)
    }

    /// The next image or video job fails with `message`.
    pub fn job_fails(message: impl Into<String>) -> Fault {
        Fault::new(
            Scope::Image,
            FaultKind::JobFails {
                message: message.into(),
            },
        )
        .once()
    }

    /// The next image job fails the way a queue that gave up on it says so.
    pub fn job_timed_out() -> Fault {
        Fault::job_fails("Request timed out: the job waited too long in the queue")
    }

    /// The next image or video job answers "in progress" to `polls` polls first.
    pub fn job_pending(polls: u32) -> Fault {
        Fault::new(Scope::Image, FaultKind::JobPending { polls }).once()
    }

    /// Image and video jobs started while this is queued stay in progress until the faults are
    /// cleared.
    pub fn job_stall() -> Fault {
        Fault::new(Scope::Image, FaultKind::JobStall)
    }

    /// The next image job is flagged by the provider's safety filter (a video job fails with
    /// [`crate::NSFW_MESSAGE`]).
    pub fn content_flagged() -> Fault {
        Fault::new(Scope::Image, FaultKind::ContentFlagged).once()
    }

    /// The next video download answers a 200 `text/html` page instead of the video (an
    /// expired or refused file behind a CDN).
    pub fn not_a_video() -> Fault {
        Fault::status_with(200, crate::video::NOT_A_VIDEO_BODY, "text/html", &[])
            .scope(Scope::VideoFile)
            .once()
    }

    /// A fault applying to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// A fault applying to the next matching request only.
    pub fn once(self) -> Fault {
        self.times(1)
    }

    /// Same fault, other scope.
    pub fn scope(mut self, scope: Scope) -> Fault {
        self.scope = scope;
        self
    }

    /// A JSON status fault on every scope.
    pub fn status(code: u16, body: impl Into<String>) -> Fault {
        Fault::new(
            Scope::Any,
            FaultKind::Status {
                code,
                body: body.into(),
                content_type: JSON.to_string(),
                headers: Vec::new(),
            },
        )
    }

    fn status_with(code: u16, body: &str, content_type: &str, headers: &[(&str, String)]) -> Fault {
        Fault::new(
            Scope::Any,
            FaultKind::Status {
                code,
                body: body.to_string(),
                content_type: content_type.to_string(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            },
        )
    }

    /// 401 `{"error":"Invalid credentials in Authorization header"}`.
    pub fn unauthorized() -> Fault {
        Fault::status_with(
            401,
            UNAUTHORIZED_BODY,
            JSON,
            &[
                (
                    "www-authenticate",
                    r#"Bearer realm="Authentication required", charset="UTF-8""#.to_string(),
                ),
                (
                    "x-error-message",
                    "Invalid credentials in Authorization header".to_string(),
                ),
            ],
        )
        .scope(Scope::Chat)
    }

    /// 401 `{"error":"Invalid username or password."}`: the Hub's other 401 body, as recorded
    /// (in `chat_completion_unprocessable_entity.yaml`) for a call without valid credentials.
    pub fn invalid_username_or_password() -> Fault {
        Fault::status_with(
            401,
            r#"{"error":"Invalid username or password."}"#,
            JSON,
            &[
                (
                    "www-authenticate",
                    r#"Bearer realm="Authentication required", charset="UTF-8""#.to_string(),
                ),
                (
                    "x-error-message",
                    "Invalid username or password.".to_string(),
                ),
            ],
        )
        .scope(Scope::Chat)
    }

    /// 402 with the exact depleted-credits message.
    pub fn credits_depleted() -> Fault {
        Fault::status_with(402, CREDITS_DEPLETED_BODY, JSON, &[]).scope(Scope::Chat)
    }

    /// 403 with the permission message for the token's user.
    pub fn forbidden() -> Fault {
        Fault::status_with(403, FORBIDDEN_BODY, JSON, &[]).scope(Scope::Chat)
    }

    /// 429 with `retry-after` and the Hub's `RateLimit` headers.
    pub fn rate_limited(retry_after_secs: u64) -> Fault {
        Fault::status_with(
            429,
            r#"{"error":"You have exceeded our hourly quotas for action: api. We invite you to retry later."}"#,
            JSON,
            &[
                ("retry-after", retry_after_secs.to_string()),
                ("ratelimit", format!(r#""api";r=0;t={retry_after_secs}"#)),
                (
                    "ratelimit-policy",
                    r#""fixed window";"api";q=500;w=300"#.to_string(),
                ),
            ],
        )
        .scope(Scope::Chat)
    }

    /// A server error; 503 is hf-inference's "model loading" answer (`{model}` is filled in).
    pub fn server_error(code: u16) -> Fault {
        let body = if code == 503 {
            r#"{"error":"Model {model} is currently loading","estimated_time":20.0}"#
        } else {
            r#"{"error":"Internal Server Error"}"#
        };
        Fault::status_with(code, body, JSON, &[]).scope(Scope::Chat)
    }

    /// A proxy's HTML error page (CloudFront style), `text/html`.
    pub fn html_page(code: u16) -> Fault {
        let reason = reason_phrase(code);
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n\
<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n\
<TITLE>ERROR: The request could not be satisfied</TITLE>\n\
</HEAD><BODY>\n\
<H1>{code} ERROR</H1>\n\
<H2>The request could not be satisfied.</H2>\n\
<HR noshade size=\"1px\">\n\
CloudFront wasn't able to connect to the origin ({reason}).\n\
We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner.\n\
<BR clear=\"all\">\n\
If you provide content to customers through CloudFront, you can find steps to troubleshoot and help prevent this error by reviewing the CloudFront documentation.\n\
<BR clear=\"all\">\n\
<HR noshade size=\"1px\">\n\
<PRE>\n\
Generated by cloudfront (CloudFront)\n\
Request ID: 8r3Hj1cK0wq2b7vJd0mXhYkQyq9g1l3R0nV5wD4pZ6sT2uA7eB8cCw==\n\
</PRE>\n\
<ADDRESS>\n\
</ADDRESS>\n\
</BODY></HTML>"
        );
        Fault::status_with(
            code,
            &body,
            "text/html",
            &[
                ("x-cache", "Error from cloudfront".to_string()),
                (
                    "via",
                    "1.1 5f1c2e4a0b7d9e3f6a8c1b2d4e6f8a0c.cloudfront.net (CloudFront)".to_string(),
                ),
            ],
        )
        .scope(Scope::Chat)
    }

    /// 200 whose body is not JSON although it says it is.
    pub fn garbage() -> Fault {
        Fault::status_with(
            200,
            "upstream connect error or disconnect/reset before headers. reset reason: connection termination <<not json>>",
            JSON,
            &[],
        )
        .scope(Scope::Chat)
    }

    /// 422 with a TGI validation message. The cassette named `chat_completion_unprocessable_entity`
    /// actually recorded a 401 (see [`Fault::invalid_username_or_password`]), so the body is TGI's
    /// documented validation error instead.
    pub fn unprocessable() -> Fault {
        Fault::status_with(
            422,
            r#"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: 8142 `inputs` tokens and 200 `max_new_tokens`","error_type":"validation"}"#,
            JSON,
            &[],
        )
        .scope(Scope::Chat)
    }

    /// 400 "Model not supported by provider ...".
    pub fn model_not_supported() -> Fault {
        Fault::status_with(
            400,
            r#"{"error":"Model {model} is not supported by provider {provider}"}"#,
            JSON,
            &[],
        )
        .scope(Scope::Chat)
    }

    /// Chat: wait between chunks.
    pub fn slow_stream(delay_ms_per_chunk: u64) -> Fault {
        Fault::new(Scope::Chat, FaultKind::SlowStream { delay_ms_per_chunk })
    }

    /// Chat: send `after_chunks` chunks then drop the connection.
    pub fn cut_stream(after_chunks: usize) -> Fault {
        Fault::new(Scope::Chat, FaultKind::CutStream { after_chunks })
    }

    /// Chat: inject `data: {not json` after `after_chunks` chunks.
    pub fn malformed_event(after_chunks: usize) -> Fault {
        Fault::new(Scope::Chat, FaultKind::MalformedEvent { after_chunks })
    }

    /// Chat: an error event inside the 200 stream after `after_chunks` chunks.
    pub fn error_event(after_chunks: usize, payload: impl Into<String>) -> Fault {
        Fault::new(
            Scope::Chat,
            FaultKind::ErrorEvent {
                after_chunks,
                payload: payload.into(),
            },
        )
    }

    /// Chat: a long synthesized stream.
    pub fn long_stream(chunks: usize, delay_us: u64) -> Fault {
        Fault::new(Scope::Chat, FaultKind::LongStream { chunks, delay_us })
    }

    /// Chat: never answer.
    pub fn hang() -> Fault {
        Fault::new(Scope::Chat, FaultKind::Hang)
    }

    /// Chat: answer this exact content.
    pub fn answer(content: impl Into<String>) -> Fault {
        Fault::new(
            Scope::Chat,
            FaultKind::Answer {
                content: content.into(),
            },
        )
    }

    /// Chat: end the stream without `[DONE]` and without the blank line after the last event.
    pub fn unended_stream(line_end: bool) -> Fault {
        Fault::new(Scope::Chat, FaultKind::UnendedStream { line_end })
    }

    /// Any scope: redirect with `code` to `location`.
    pub fn redirect(code: u16, location: impl Into<String>) -> Fault {
        Fault::new(
            Scope::Any,
            FaultKind::Redirect {
                code,
                location: location.into(),
            },
        )
    }

    /// Chat: a 401 whose body quotes the whole credential sent.
    pub fn echo_credential() -> Fault {
        Fault::new(
            Scope::Chat,
            FaultKind::EchoCredential {
                code: 401,
                fragment: None,
            },
        )
    }

    /// Chat: a 401 whose body quotes `n` characters from the middle of the credential sent.
    pub fn echo_credential_fragment(n: usize) -> Fault {
        Fault::new(
            Scope::Chat,
            FaultKind::EchoCredential {
                code: 401,
                fragment: Some(n),
            },
        )
    }

    /// A body of about `bytes` bytes (scope it: `Avatar` or `Chat`).
    pub fn oversized(bytes: usize) -> Fault {
        Fault::new(Scope::Any, FaultKind::Oversized { bytes })
    }

    /// Whether this fault's kind makes sense for a request (`chat`: is it a chat completion).
    pub(crate) fn applies_to(&self, scope: Scope, chat: bool) -> bool {
        let scope_ok = self.scope == Scope::Any || self.scope == scope;
        let kind_ok = match self.kind {
            FaultKind::Status { .. }
            | FaultKind::SlowStream { .. }
            | FaultKind::CutStream { .. }
            | FaultKind::Hang
            | FaultKind::Redirect { .. }
            | FaultKind::EchoCredential { .. }
            | FaultKind::Oversized { .. } => true,
            FaultKind::MalformedEvent { .. }
            | FaultKind::UnendedStream { .. }
            | FaultKind::ErrorEvent { .. }
            | FaultKind::LongStream { .. }
            | FaultKind::Answer { .. } => chat,
            FaultKind::JobFails { .. }
            | FaultKind::JobPending { .. }
            | FaultKind::JobStall
            | FaultKind::ContentFlagged => scope == Scope::Image || scope == Scope::Speech,
        };
        scope_ok && kind_ok
    }
}

impl FaultKind {
    /// Faults answered before anything else is checked (authentication, routing).
    pub(crate) fn is_immediate(&self) -> bool {
        matches!(
            self,
            FaultKind::Status { .. }
                | FaultKind::Hang
                | FaultKind::Redirect { .. }
                | FaultKind::EchoCredential { .. }
        )
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_form_is_flat_and_tagged() {
        let f = Fault::cut_stream(3).once();
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"scope":"chat","kind":"cut_stream","after_chunks":3,"times":1})
        );
        let back: Fault = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
        let hang: Fault = serde_json::from_str(r#"{"scope":"any","kind":"hang"}"#).unwrap();
        assert_eq!(hang, Fault::hang().scope(Scope::Any));
        let st: Fault =
            serde_json::from_str(r#"{"scope":"whoami","kind":"status","code":500}"#).unwrap();
        assert!(matches!(st.kind, FaultKind::Status { code: 500, .. }));
    }
}
