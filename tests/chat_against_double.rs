//! Streamed chat through the router, against the HF test double on loopback: the domain layer,
//! without Tauri. The double replays recorded provider streams and injects faults.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_double::{tokens, Fault, HfDouble, Scope, Target};
use switchboard_core::call::CallResult;
use switchboard_core::catalog::{Catalog, Pricing};
use switchboard_core::chat::stream::CallContext;
use switchboard_core::chat::{
    self, CallOptions, ChatEvent, ChatMessage, ChatParams, ChatRequest, Outcome, Policy, Role,
    Routing,
};
use switchboard_core::config::Endpoints;
use switchboard_core::error::ErrorCode;
use switchboard_core::hf::HfClient;
use switchboard_core::secrets::Secret;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";

struct Fixture {
    double: HfDouble,
    client: HfClient,
    catalog: Arc<Catalog>,
}

async fn fixture() -> Fixture {
    let double = HfDouble::start(&hf_double::default_fixtures_dir())
        .await
        .unwrap();
    let endpoints = Endpoints {
        hub: double.hub_url(),
        router: double.router_url(),
        provider_base_template: Some(double.provider_base_template()),
    };
    let client = HfClient::new(endpoints).unwrap();
    let body = reqwest::get(format!("{}/v1/models", double.router_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let catalog = Arc::new(Catalog::parse(&body, 1).unwrap());
    Fixture {
        double,
        client,
        catalog,
    }
}

fn request(routing: Routing) -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        routing,
        system: "You are terse.".into(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "What is deep learning?".into(),
            images: Vec::new(),
        }],
        params: ChatParams {
            temperature: Some(0.3),
            max_tokens: Some(256),
            seed: Some(11),
            ..ChatParams::default()
        },
        bill_to: None,
    }
}

fn pinned(p: &str) -> Routing {
    Routing::Pinned { provider: p.into() }
}

fn fast() -> CallOptions {
    CallOptions {
        backoff: Duration::from_millis(20),
        first_byte_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        ..CallOptions::default()
    }
}

impl Fixture {
    async fn call(&self, req: &ChatRequest, opts: &CallOptions) -> (CallResult, Vec<ChatEvent>) {
        self.call_with(req, opts, CancellationToken::new(), |_| {})
            .await
    }

    async fn call_with(
        &self,
        req: &ChatRequest,
        opts: &CallOptions,
        cancel: CancellationToken,
        mut on_event: impl FnMut(&ChatEvent) + Send,
    ) -> (CallResult, Vec<ChatEvent>) {
        let preview = chat::build(self.client.endpoints(), req, Some(&self.catalog)).unwrap();
        let catalog = self.catalog.clone();
        let model = req.model.clone();
        let price = move |p: &str| -> (Option<Pricing>, bool) {
            catalog
                .offer(&model, p)
                .map(|o| (o.pricing, o.is_free))
                .unwrap_or((None, false))
        };
        let ctx = CallContext {
            who: "Hugging Face",
            pinned: req.routing.pinned(),
            price: &price,
            prompt_chars: 40,
            message_count: 2,
        };
        let token = Secret::new(tokens::PRO_TOKEN.to_string());
        let events = Mutex::new(Vec::new());
        let mut emit = |e: ChatEvent| {
            on_event(&e);
            events.lock().unwrap().push(e);
        };
        let result = chat::run(
            self.client.http(),
            &preview,
            &token,
            &ctx,
            opts,
            &cancel,
            &mut emit,
        )
        .await;
        (result, events.into_inner().unwrap())
    }

    fn chat_requests(&self) -> Vec<hf_double::RecordedRequest> {
        self.double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }
}

fn deltas(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Delta { content, .. } => Some(content.as_str()),
            _ => None,
        })
        .collect()
}

fn assert_finished_once(events: &[ChatEvent]) {
    let n = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finished { .. }))
        .count();
    assert_eq!(n, 1, "{events:?}");
    assert!(matches!(events.last(), Some(ChatEvent::Finished { .. })));
}

#[tokio::test]
async fn pinned_provider_streams_a_recorded_answer_with_usage_and_cost() {
    let f = fixture().await;
    for provider in ["together", "fireworks-ai", "cerebras", "novita"] {
        f.double.clear_requests();
        let (r, events) = f.call(&request(pinned(provider)), &fast()).await;
        assert_eq!(r.outcome, Outcome::Complete, "{provider}: {:?}", r.error);
        assert!(!r.content.trim().is_empty(), "{provider}");
        assert_eq!(deltas(&events), r.content, "{provider}: deltas add up");
        assert_finished_once(&events);
        assert!(matches!(events[0], ChatEvent::Started { .. }));
        let s = &r.stats;
        assert_eq!(s.provider.as_deref(), Some(provider));
        assert!(!s.usage_estimated, "{provider}: usage requested and given");
        assert!(s.tokens_in > 0 && s.tokens_out > 0, "{provider}: {s:?}");
        assert!(s.ttft_ms.is_some());
        let price = f.catalog.offer(MODEL, provider).unwrap().pricing.unwrap();
        let cost = s.cost.unwrap();
        assert!((cost - price.cost(s.tokens_in, s.tokens_out)).abs() < 1e-12);
        assert!(r.request_id.is_some(), "{provider}: request id kept");

        // What the router received.
        let reqs = f.chat_requests();
        assert_eq!(reqs.len(), 1);
        let sent = &reqs[0];
        assert_eq!(sent.target, Target::Router);
        assert_eq!(sent.credential(), Some(tokens::PRO_TOKEN));
        assert_eq!(sent.header("x-hf-bill-to"), None);
        let body = sent.json().unwrap();
        assert_eq!(body["model"], format!("{MODEL}:{provider}"));
        assert!(sent.body.starts_with("{\"model\":"), "model first");
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["temperature"], 0.3);
        assert_eq!(body["max_tokens"], 256);
        assert_eq!(body["seed"], 11);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "What is deep learning?");
    }
}

#[tokio::test]
async fn automatic_policy_reports_the_provider_that_served() {
    let f = fixture().await;
    let mut req = request(Routing::Auto {
        policy: Policy::Cheapest,
    });
    req.bill_to = Some("acme-research".into());
    let (r, events) = f.call(&req, &fast()).await;
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    let served = f.double.catalog().get(MODEL).unwrap().first_live().unwrap();
    assert_eq!(r.stats.provider.as_deref(), Some(served.provider.as_str()));
    match &events[0] {
        ChatEvent::Started { provider, .. } => {
            assert_eq!(provider.as_deref(), Some(served.provider.as_str()))
        }
        e => panic!("{e:?}"),
    }
    let sent = &f.chat_requests()[0];
    assert_eq!(sent.json().unwrap()["model"], format!("{MODEL}:cheapest"));
    assert_eq!(sent.header("x-hf-bill-to"), Some("acme-research"));
}

#[tokio::test]
async fn stop_closes_the_connection_and_keeps_the_partial_answer() {
    let f = fixture().await;
    f.double
        .push_fault(Fault::slow_stream(150).scope(Scope::Chat).once());
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    let (r, events) = f
        .call_with(&request(pinned("together")), &fast(), cancel, move |e| {
            if let ChatEvent::Delta { content, .. } = e {
                if !content.is_empty() {
                    stopper.cancel();
                }
            }
        })
        .await;
    assert_eq!(r.outcome, Outcome::Stopped);
    assert!(r.error.is_none());
    assert!(!r.content.is_empty(), "partial answer kept");
    assert_finished_once(&events);
    let outcome = f
        .double
        .wait_for_stream_outcome(|o| o.client_disconnected, Duration::from_secs(5))
        .await
        .expect("the double saw the connection closed");
    assert!(!outcome.completed);
}

async fn error_of(f: &Fixture, fault: Fault) -> (CallResult, Vec<ChatEvent>) {
    f.double.clear_faults();
    f.double.push_fault(fault.scope(Scope::Chat));
    let r = f.call(&request(pinned("together")), &fast()).await;
    f.double.clear_faults();
    r
}

#[tokio::test]
async fn http_errors_become_plain_codes_with_the_request_id() {
    let f = fixture().await;
    let cases = [
        (Fault::unauthorized(), ErrorCode::Unauthorized),
        (Fault::credits_depleted(), ErrorCode::PaymentRequired),
        (Fault::forbidden(), ErrorCode::Forbidden),
        (Fault::unprocessable(), ErrorCode::InvalidRequest),
        (Fault::model_not_supported(), ErrorCode::ModelUnavailable),
        (Fault::html_page(200), ErrorCode::BadResponse),
    ];
    for (fault, code) in cases {
        let (r, events) = error_of(&f, fault.once()).await;
        assert_eq!(r.outcome, Outcome::Error);
        let e = r.error.clone().unwrap();
        assert_eq!(e.code, code, "{e:?}");
        assert!(!e.message.contains(tokens::PRO_TOKEN));
        assert!(r.request_id.is_some(), "{code:?}: request id kept");
        assert_finished_once(&events);
        assert_eq!(r.stats.tokens_out, 0);
    }
    // 422 keeps the server's validation message.
    let (r, _) = error_of(&f, Fault::unprocessable().once()).await;
    assert!(r.error.unwrap().message.contains("must be"));
}

#[tokio::test]
async fn rate_limit_and_server_errors_are_retried_a_bounded_number_of_times() {
    let f = fixture().await;
    // One 429 (retry-after 1 s), then the answer.
    f.double.clear_requests();
    let (r, events) = error_of(&f, Fault::rate_limited(1).once()).await;
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    let retry = events
        .iter()
        .find_map(|e| match e {
            ChatEvent::Retrying { wait_ms, error, .. } => Some((*wait_ms, error.code)),
            _ => None,
        })
        .unwrap();
    assert_eq!(retry, (1000, ErrorCode::RateLimited));
    assert_eq!(f.chat_requests().len(), 2);

    // A 503 that does not go away: 1 + 3 attempts, then the error.
    f.double.clear_requests();
    let (r, events) = error_of(&f, Fault::server_error(503).times(10)).await;
    assert_eq!(r.outcome, Outcome::Error);
    assert_eq!(r.error.unwrap().code, ErrorCode::ServerError);
    let retries = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 3);
    assert_eq!(f.chat_requests().len(), 4);

    // A proxy's HTML error page is retried like any 5xx, then explained.
    let (r, _) = error_of(&f, Fault::html_page(502).times(4)).await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(e.message.contains("web page"), "{}", e.message);

    // Not retried: 401.
    f.double.clear_requests();
    let _ = error_of(&f, Fault::unauthorized().times(5)).await;
    assert_eq!(f.chat_requests().len(), 1);
}

#[tokio::test]
async fn a_broken_stream_keeps_what_came_before() {
    let f = fixture().await;
    let cases = [
        (
            Fault::error_event(
                3,
                r#"{"error":"Model is overloaded","error_type":"overloaded"}"#,
            ),
            ErrorCode::ProviderError,
        ),
        (Fault::cut_stream(3), ErrorCode::StreamInterrupted),
        (Fault::malformed_event(3), ErrorCode::BadResponse),
    ];
    for (fault, code) in cases {
        let (r, events) = error_of(&f, fault.once()).await;
        assert_eq!(r.outcome, Outcome::Error);
        assert_eq!(r.error.as_ref().unwrap().code, code);
        assert!(!r.content.is_empty(), "{code:?}: partial answer kept");
        assert_eq!(deltas(&events), r.content);
        assert_finished_once(&events);
    }
    let (r, _) = error_of(
        &f,
        Fault::error_event(2, r#"{"error":"Model is overloaded"}"#).once(),
    )
    .await;
    assert!(r.error.unwrap().message.contains("Model is overloaded"));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let f = fixture().await;
    f.double.push_fault(Fault::hang().scope(Scope::Chat).once());
    let opts = CallOptions {
        first_byte_timeout: Duration::from_millis(300),
        ..fast()
    };
    let (r, _) = f.call(&request(pinned("together")), &opts).await;
    assert_eq!(r.error.unwrap().code, ErrorCode::Timeout);
}

#[tokio::test]
async fn a_stream_that_goes_quiet_times_out_but_a_long_steady_one_does_not() {
    let f = fixture().await;
    let idle = CallOptions {
        idle_timeout: Duration::from_millis(200),
        ..fast()
    };
    // 8 pieces 60 ms apart: longer than the idle timeout in all, never quiet that long.
    f.double
        .push_fault(Fault::long_stream(8, 60_000).scope(Scope::Chat).once());
    let (r, events) = f.call(&request(pinned("together")), &idle).await;
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    assert!(r.stats.total_ms > 400.0, "{} ms", r.stats.total_ms);
    assert_eq!(deltas(&events), r.content);
    // Pieces 500 ms apart: the first gap is too long.
    f.double
        .push_fault(Fault::long_stream(4, 500_000).scope(Scope::Chat).once());
    let (r, events) = f.call(&request(pinned("together")), &idle).await;
    let e = r.error.expect("a timeout");
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(e.message.contains("stopped sending"), "{}", e.message);
    assert!(r.stats.total_ms < 1_000.0, "{} ms", r.stats.total_ms);
    assert_finished_once(&events);
}

#[tokio::test]
async fn no_server_is_a_network_error() {
    let f = fixture().await;
    let endpoints = Endpoints {
        router: "http://127.0.0.1:9".into(),
        ..f.client.endpoints().clone()
    };
    let g = Fixture {
        client: HfClient::new(endpoints).unwrap(),
        catalog: f.catalog.clone(),
        double: f.double,
    };
    let (r, _) = g.call(&request(pinned("together")), &fast()).await;
    assert_eq!(r.error.unwrap().code, ErrorCode::Network);
}

#[tokio::test]
async fn a_fast_long_stream_is_coalesced_not_sent_token_by_token() {
    let f = fixture().await;
    f.double
        .push_fault(Fault::long_stream(5000, 0).scope(Scope::Chat).once());
    let (r, events) = f.call(&request(pinned("together")), &fast()).await;
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    let n = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Delta { .. }))
        .count();
    assert!((1..1000).contains(&n), "{n} delta messages for 5000 chunks");
    assert_eq!(deltas(&events), r.content);
}

#[tokio::test]
async fn think_sections_are_reasoning_not_answer() {
    let f = fixture().await;
    f.double.push_fault(
        Fault::answer("<think>The user asks about 2+2. That is 4.</think>\n\nIt is **4**.")
            .scope(Scope::Chat)
            .once(),
    );
    let (r, _) = f.call(&request(pinned("together")), &fast()).await;
    assert_eq!(r.outcome, Outcome::Complete);
    assert_eq!(r.reasoning, "The user asks about 2+2. That is 4.");
    assert_eq!(r.content, "It is **4**.");
}

#[tokio::test]
async fn a_stream_that_ends_cleanly_without_done_is_complete() {
    let f = fixture().await;
    // The recorded cerebras stream: no [DONE], and the body ends right after the last event's
    // data line (which carries finish_reason and usage), with no blank line after it.
    for line_end in [true, false] {
        f.double.push_fault(
            Fault::unended_stream(line_end)
                .for_provider("cerebras")
                .once(),
        );
        let (r, events) = f.call(&request(pinned("cerebras")), &fast()).await;
        assert_eq!(r.outcome, Outcome::Complete, "{line_end}: {:?}", r.error);
        assert!(r.error.is_none());
        assert!(!r.content.is_empty());
        assert_eq!(deltas(&events), r.content);
        assert_eq!(r.stats.finish_reason.as_deref(), Some("length"));
        assert!(!r.stats.usage_estimated, "the last event's usage was read");
        assert_eq!((r.stats.tokens_in, r.stats.tokens_out), (46, 20));
        assert_finished_once(&events);
    }
    // The same through the router, when the automatic policy picks the provider.
    let served = f.double.catalog().get(MODEL).unwrap().first_live().unwrap();
    f.double.push_fault(
        Fault::unended_stream(false)
            .for_provider(served.provider.clone())
            .once(),
    );
    let (r, _) = f
        .call(
            &request(Routing::Auto {
                policy: Policy::Fastest,
            }),
            &fast(),
        )
        .await;
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    assert!(!r.stats.usage_estimated);

    // A body that ends cleanly with neither [DONE] nor a finish reason: perhaps unfinished, but
    // no connection broke.
    let (r, events) = error_of(
        &f,
        Fault::error_event(
            3,
            r#"{"choices":[{"index":0,"delta":{"content":" more"}}]}"#,
        )
        .once(),
    )
    .await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::AnswerUnfinished);
    assert!(!e.message.contains("broke"), "{}", e.message);
    assert!(r.content.ends_with(" more"), "{}", r.content);
    assert_finished_once(&events);
}

#[tokio::test]
async fn a_redirect_elsewhere_is_not_followed_and_named() {
    let f = fixture().await;
    let elsewhere = HfDouble::start(&hf_double::default_fixtures_dir())
        .await
        .unwrap();
    let port = elsewhere.addr().port();
    let mut req = request(pinned("together"));
    req.bill_to = Some("acme-research".into());
    for code in [307, 308] {
        f.double.clear_requests();
        f.double.push_fault(
            Fault::redirect(
                code,
                format!("{}/v1/chat/completions", elsewhere.router_url()),
            )
            .scope(Scope::Chat)
            .once(),
        );
        let (r, events) = f.call(&req, &fast()).await;
        assert_eq!(r.outcome, Outcome::Error);
        let e = r.error.unwrap();
        assert_eq!(e.code, ErrorCode::Redirected, "{code}: {}", e.message);
        assert!(
            e.message.contains(&format!("127.0.0.1:{port}")),
            "{}",
            e.message
        );
        assert_finished_once(&events);
        assert_eq!(f.chat_requests().len(), 1, "{code}: not retried");
    }
    // https→http: named as unencrypted.
    f.double.push_fault(
        Fault::redirect(308, "http://plain.example/v1/chat/completions")
            .scope(Scope::Chat)
            .once(),
    );
    let (r, _) = f.call(&req, &fast()).await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::Redirected);
    assert!(
        e.message.contains("plain.example, without encryption"),
        "{}",
        e.message
    );
    // The token did not follow either (whoami is credentialed too).
    f.double.push_fault(
        Fault::redirect(307, format!("{}/api/whoami-v2", elsewhere.hub_url()))
            .scope(Scope::Whoami)
            .once(),
    );
    let e = f
        .client
        .whoami(&switchboard_core::secrets::Secret::new(
            tokens::PRO_TOKEN.into(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Redirected);
    // Nothing reached the other host: no conversation, no bill-to, no token.
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

#[tokio::test]
async fn oversized_answers_are_cut_with_a_clear_message() {
    let f = fixture().await;
    let opts = CallOptions {
        max_body_bytes: 1 << 20,
        max_answer_bytes: 1 << 20,
        ..fast()
    };
    // A streamed answer from an endpoint that ignores max_tokens: stopped past the limit, what
    // came before kept, the connection closed.
    f.double
        .push_fault(Fault::oversized(8 << 20).scope(Scope::Chat).once());
    let (r, events) = f.call(&request(pinned("together")), &opts).await;
    let e = r.error.clone().unwrap();
    assert_eq!(e.code, ErrorCode::TooLarge, "{}", e.message);
    assert!(e.message.contains("1 MB"), "{}", e.message);
    assert!(r.content.len() > 1 << 20 && r.content.len() < 2 << 20);
    assert_eq!(deltas(&events), r.content);
    assert_finished_once(&events);
    let outcome = f
        .double
        .wait_for_stream_outcome(|o| o.client_disconnected, Duration::from_secs(10))
        .await
        .expect("the app stopped reading");
    assert!(!outcome.completed);

    // A provider that answers in one piece (not a stream): its body is capped too.
    let whole = serde_json::json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x".repeat(2 << 20)}, "finish_reason": "stop"}]
    });
    f.double.push_fault(
        Fault::status(200, whole.to_string())
            .scope(Scope::Chat)
            .once(),
    );
    let (r, events) = f.call(&request(pinned("together")), &opts).await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::TooLarge, "{}", e.message);
    assert_finished_once(&events);
}
