//! The call service end to end, without Tauri: `Services` built on a temporary data folder, a
//! settings store and a keyring in memory, against the HF test double on loopback. Each test
//! checks what the user would find afterwards: the answer in the history, the ledger's rows,
//! the credits marked used up, a partial answer kept after a crash.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_double::{tokens, Fault, Scope, Target};
use switchboard_core::billing::CreditSettings;
use switchboard_core::call::{
    Billing, CallMode, CallResult, ChatEvent, ChatRequest, Outcome, Routing,
};
use switchboard_core::error::ErrorCode;
use switchboard_core::history::ledger::{CallKind, CallQuery, CallRow};
use switchboard_core::history::Conversation;
use switchboard_core::history::{History, MessageStatus};
use switchboard_core::providers::{provider_key_entry, ProviderMode, ProviderPref, ProviderPrefs};
use switchboard_core::secrets::{Secret, Storage};
use switchboard_core::service::chat::{ChatStarted, EventSink};
use tokio::task::JoinHandle;

mod support;
use support::{auto, pinned, request, services_on_double, OnDouble, MODEL};

type Fixture = OnDouble;

async fn fixture() -> Fixture {
    services_on_double(tokens::PRO_TOKEN).await
}

type Events = Arc<Mutex<Vec<ChatEvent>>>;

/// A sink that keeps every event.
fn collect() -> (EventSink, Events) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Box::new(move |ev| e.lock().unwrap().push(ev)), events)
}

impl Fixture {
    fn history(&self) -> Arc<History> {
        self.services.history.get().unwrap()
    }

    fn ledger(&self) -> Vec<CallRow> {
        let mut rows = self.history().calls(&CallQuery::default()).unwrap().rows;
        rows.sort_by_key(|r| r.id);
        rows
    }

    fn own_key(&self, provider: &str, key: Option<&str>) {
        let mut prefs = ProviderPrefs::load(&*self.store);
        prefs.providers.insert(
            provider.into(),
            ProviderPref {
                enabled: true,
                mode: ProviderMode::OwnKey,
            },
        );
        prefs.save(&*self.store).unwrap();
        if let Some(k) = key {
            self.services
                .secrets
                .set(
                    &provider_key_entry(provider),
                    &Secret::new(k.into()),
                    Storage::Session,
                )
                .unwrap();
        }
    }

    /// Starts a call chosen as `routing`; its events are kept.
    async fn start(&self, routing: Routing) -> (ChatStarted, JoinHandle<CallResult>, Events) {
        let (sink, events) = collect();
        let (started, task) = self
            .services
            .chat_call(None, None, request(routing), sink)
            .await
            .unwrap();
        (started, task, events)
    }

    /// A call, once it has been saved and recorded.
    async fn call(&self, routing: Routing) -> (ChatStarted, CallResult, Events) {
        let (started, task, events) = self.start(routing).await;
        (started, task.await.unwrap(), events)
    }

    /// The conversation a call was saved in.
    fn conversation(&self, started: &ChatStarted) -> Conversation {
        self.history()
            .get(started.conversation_id.as_deref().unwrap())
            .unwrap()
    }

    fn chat_requests(&self) -> Vec<hf_double::RecordedRequest> {
        self.double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }
}

#[tokio::test]
async fn a_routed_call_is_saved_and_recorded_once() {
    let f = fixture().await;
    let (started, task, events) = f.start(auto()).await;
    assert_eq!(started.route.mode, CallMode::Routed);
    assert_eq!(started.route.billing, Billing::HfCredits);
    let result = task.await.unwrap();
    assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);
    assert!(!result.content.is_empty());

    // Sent to the router with the HF token.
    let sent = f.chat_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].target, Target::Router);
    assert_eq!(sent[0].credential(), Some(tokens::PRO_TOKEN));

    // The conversation holds the question and the whole answer.
    let conv = f.conversation(&started);
    assert_eq!(conv.messages.len(), 2);
    assert_eq!(conv.messages[0].content, "Hello there");
    assert_eq!(conv.messages[1].content, result.content);
    assert_eq!(conv.messages[1].status, MessageStatus::Complete);

    // One ledger row, billed to HF credits, tied to the answer.
    let rows = f.ledger();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].billing, Billing::HfCredits);
    assert_eq!(rows[0].kind, CallKind::Chat);
    assert_eq!(rows[0].conversation_id, started.conversation_id);

    // The sink saw the answer end exactly once, and the call is no longer running.
    let finished = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finished { .. }))
        .count();
    assert_eq!(finished, 1);
    assert_eq!(f.services.chat.running(), 0);
}

#[tokio::test]
async fn an_own_key_call_goes_to_the_provider_with_its_key() {
    let f = fixture().await;
    f.own_key("together", Some(tokens::PROVIDER_KEY));
    let (started, task, _) = f.start(pinned("together")).await;
    assert_eq!(started.route.mode, CallMode::OwnKey);
    assert_eq!(started.route.billing, Billing::Provider);
    let result = task.await.unwrap();
    assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);

    let sent = f.chat_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].target,
        Target::Direct {
            provider: "together".into()
        }
    );
    assert_eq!(sent[0].credential(), Some(tokens::PROVIDER_KEY));
    let rows = f.ledger();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].billing, Billing::Provider);
}

#[tokio::test]
async fn a_call_that_cannot_be_sent_is_saved_with_its_reason() {
    let f = fixture().await;
    // Own key chosen, but no key saved: nothing may go anywhere.
    f.own_key("together", None);
    let (started, result, events) = f.call(pinned("together")).await;
    assert_eq!(result.outcome, Outcome::Error);
    let code = result.error.as_ref().unwrap().code;
    assert_eq!(code, ErrorCode::ProviderKeyMissing);
    assert!(f.chat_requests().is_empty(), "nothing is sent");

    let conv = f.conversation(&started);
    assert_eq!(conv.messages[1].status, MessageStatus::Error);
    let rows = f.ledger();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "error");
    assert_eq!(rows[0].error_code, Some(ErrorCode::ProviderKeyMissing));
    assert!(matches!(
        events.lock().unwrap().last(),
        Some(ChatEvent::Finished {
            outcome: Outcome::Error,
            ..
        })
    ));
}

#[tokio::test]
async fn a_retried_429_is_two_ledger_rows_and_one_answer() {
    let f = fixture().await;
    f.double
        .push_fault(Fault::rate_limited(1).scope(Scope::Chat).once());
    let (started, result, events) = f.call(auto()).await;
    assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);
    assert_eq!(f.chat_requests().len(), 2);
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ChatEvent::Retrying { .. })));

    let rows = f.ledger();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].kind, CallKind::Retry);
    assert_eq!(rows[0].error_code, Some(ErrorCode::RateLimited));
    assert_eq!(rows[1].kind, CallKind::Chat);
    assert_eq!(rows[1].status, "complete");
    let conv = f.conversation(&started);
    assert_eq!(conv.messages.len(), 2, "one answer, not one per attempt");
}

#[tokio::test]
async fn a_402_on_hf_credits_marks_the_month_used_up() {
    let f = fixture().await;
    assert_eq!(CreditSettings::load(&*f.store).depleted_month, None);
    f.double
        .push_fault(Fault::credits_depleted().scope(Scope::Chat).once());
    let (_, result, _) = f.call(auto()).await;
    assert_eq!(result.error.unwrap().code, ErrorCode::PaymentRequired);
    assert!(CreditSettings::load(&*f.store).depleted_month.is_some());
    assert!(f.services.credit_status().unwrap().used_up);
}

#[tokio::test]
async fn a_402_on_an_own_key_does_not_touch_hf_credits() {
    let f = fixture().await;
    f.own_key("together", Some(tokens::PROVIDER_KEY));
    f.double
        .push_fault(Fault::credits_depleted().scope(Scope::Chat).once());
    let (_, result, _) = f.call(pinned("together")).await;
    assert_eq!(result.error.unwrap().code, ErrorCode::PaymentRequired);
    assert_eq!(CreditSettings::load(&*f.store).depleted_month, None);
}

#[tokio::test]
async fn a_crash_mid_stream_keeps_the_partial_answer() {
    let f = fixture().await;
    // A long answer: 400 chunks, 10 ms apart.
    f.double
        .push_fault(Fault::long_stream(400, 10_000).scope(Scope::Chat).once());
    let (started, task, _) = f.start(auto()).await;
    let conv_id = started.conversation_id.clone().unwrap();
    let history = f.history();
    // Wait until part of the answer has been saved, as the app does every 500 ms.
    let mut saved = String::new();
    for _ in 0..200 {
        let c = history.get(&conv_id).unwrap();
        saved = c.messages[1].content.clone();
        if !saved.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        !saved.is_empty(),
        "a partial answer was saved while streaming"
    );
    // The process dies: the task is gone mid-answer, nothing else runs.
    task.abort();
    let _ = task.await;
    let path = f.services.history.path.clone();
    drop(history);
    drop(f.services);

    // The next start finds the answer cut, with what was saved.
    let reopened = History::open(&path).unwrap();
    let c = reopened.get(&conv_id).unwrap();
    assert_eq!(c.messages[1].status, MessageStatus::Interrupted);
    assert!(c.messages[1].content.starts_with(&saved));
    drop(f.dir);
}

#[tokio::test]
async fn stop_ends_the_call_and_keeps_what_came() {
    let f = fixture().await;
    f.double
        .push_fault(Fault::long_stream(400, 10_000).scope(Scope::Chat).once());
    let (started, task, events) = f.start(auto()).await;
    for _ in 0..200 {
        if events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ChatEvent::Delta { .. }))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f.services.chat_stop(started.call_id);
    let result = task.await.unwrap();
    assert_eq!(result.outcome, Outcome::Stopped);
    let conv = f.conversation(&started);
    assert_eq!(conv.messages[1].status, MessageStatus::Stopped);
    assert_eq!(conv.messages[1].content, result.content);
    assert_eq!(f.ledger().len(), 1);
}

#[tokio::test]
async fn get_code_shows_the_real_route_of_an_own_key_or_endpoint_call_without_its_key() {
    let f = fixture().await;
    // Routed: the router, for the HF token.
    let routed = f.services.chat_preview(&request(auto())).await.unwrap();
    assert_eq!(routed.mode, CallMode::Routed);
    assert!(
        routed.url.starts_with(&f.double.router_url()),
        "{}",
        routed.url
    );

    // Own key: the provider's own URL and model id (the Hub's mapping), for the provider's key.
    f.own_key("together", Some(tokens::PROVIDER_KEY));
    let own = f
        .services
        .chat_preview(&request(pinned("together")))
        .await
        .unwrap();
    assert_eq!(own.mode, CallMode::OwnKey);
    assert_eq!(
        own.url,
        format!("{}/v1/chat/completions", f.double.provider_base("together"))
    );
    let mapped = f
        .double
        .catalog()
        .models
        .iter()
        .find(|m| m.id == MODEL)
        .and_then(|m| m.provider("together"))
        .map(|p| p.provider_id.clone())
        .unwrap();
    assert_eq!(own.body["model"], mapped.as_str());
    assert_eq!(own.bill_to, None);
    let shown = serde_json::to_string(&own).unwrap();
    assert!(!shown.contains(tokens::PROVIDER_KEY));
    assert!(!shown.contains(tokens::PRO_TOKEN));

    // A custom endpoint: its own URL, for its key.
    let settings = f
        .services
        .endpoint_add(
            "My vLLM".into(),
            "http://127.0.0.1:9/v1".into(),
            Some("ep-secret-key-5678".into()),
            false,
        )
        .await
        .unwrap();
    let id = &settings.endpoints[0].endpoint.id;
    let ep = f
        .services
        .chat_preview(&request(pinned(&format!("endpoint:{id}"))))
        .await
        .unwrap();
    assert_eq!(ep.mode, CallMode::Endpoint);
    assert_eq!(ep.url, "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(ep.body["model"], MODEL);
    assert!(!serde_json::to_string(&ep)
        .unwrap()
        .contains("ep-secret-key-5678"));
    // Nothing was sent to get them.
    assert!(f.chat_requests().is_empty());
}

#[tokio::test]
async fn an_own_key_only_provider_offers_the_models_it_lists_for_the_key_and_answers() {
    let f = fixture().await;
    f.own_key("openai", Some(tokens::PROVIDER_KEY));
    // The router never lists OpenAI: nothing to pick yet.
    let catalog = f.services.catalog_refresh(true).await.unwrap();
    assert!(!catalog
        .models
        .iter()
        .any(|m| m.providers.iter().any(|o| o.provider == "openai")));

    // Testing the key lists its models, kept for the pickers.
    let tested = f.services.provider_key_test("openai".into()).await.unwrap();
    assert_eq!(tested.models as usize, hf_double::DIRECT_ONLY_MODELS.len());
    let model = hf_double::DIRECT_ONLY_MODELS[0];
    let catalog = f.services.catalog();
    let offered = catalog.models.iter().find(|m| m.id == model).unwrap();
    assert_eq!(offered.providers.len(), 1);
    assert_eq!(offered.providers[0].provider, "openai");

    // Picked and sent: straight to OpenAI with its own id and the user's key.
    let req = ChatRequest {
        model: model.into(),
        ..request(pinned("openai"))
    };
    let preview = f.services.chat_preview(&req).await.unwrap();
    assert_eq!(preview.mode, CallMode::OwnKey);
    assert_eq!(preview.body["model"], model);
    let (sink, _) = collect();
    let (started, task) = f.services.chat_call(None, None, req, sink).await.unwrap();
    assert_eq!(started.route.mode, CallMode::OwnKey);
    let result = task.await.unwrap();
    assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);
    let sent = f.chat_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].target,
        Target::Direct {
            provider: "openai".into()
        }
    );
    assert_eq!(sent[0].json().unwrap()["model"], model);
    assert_eq!(sent[0].credential(), Some(tokens::PROVIDER_KEY));

    // Removing the key removes its models from the pickers.
    f.services
        .provider_key_remove("openai".into())
        .await
        .unwrap();
    assert!(!f.services.catalog().models.iter().any(|m| m.id == model));
}

#[tokio::test]
async fn a_401_on_a_routed_call_shows_the_account_as_needing_a_new_token_until_one_works() {
    let f = fixture().await;
    assert!(!f.services.auth.status().await.token_rejected);

    // Hugging Face rejects the saved token on a chat.
    f.double.push_fault(Fault::unauthorized().once());
    let (_, result, _) = f.call(auto()).await;
    assert_eq!(result.error.unwrap().code, ErrorCode::Unauthorized);
    let status = f.services.auth.status().await;
    assert!(status.signed_in);
    assert!(status.token_rejected, "the account needs a new token");

    // A provider's 401 on the user's own key says nothing about the HF token.
    f.own_key("together", Some("sk-not-a-valid-key"));
    let (_, own, _) = f.call(pinned("together")).await;
    assert_eq!(own.error.unwrap().code, ErrorCode::Unauthorized);
    assert!(f.services.auth.status().await.token_rejected);

    // A new token that works clears it.
    f.services
        .sign_in(tokens::PRO_TOKEN.to_string(), true)
        .await
        .unwrap();
    assert!(!f.services.auth.status().await.token_rejected);

    // And so does the same token working again on a routed call.
    f.double.push_fault(Fault::unauthorized().once());
    let _ = f.call(auto()).await;
    assert!(f.services.auth.status().await.token_rejected);
    let (_, ok, _) = f.call(auto()).await;
    assert_eq!(ok.outcome, Outcome::Complete, "{:?}", ok.error);
    assert!(!f.services.auth.status().await.token_rejected);
}

#[tokio::test]
async fn a_plain_http_public_endpoint_is_added_only_by_the_users_choice_and_remembers_it() {
    let f = fixture().await;
    let far = "http://203.0.113.9:8000/v1";
    let refused = f
        .services
        .endpoint_add("Far gateway".into(), far.into(), None, false)
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InsecureEndpoint);
    let added = f
        .services
        .endpoint_add("Far gateway".into(), far.into(), None, true)
        .await
        .unwrap();
    let row = added
        .endpoints
        .iter()
        .find(|e| e.endpoint.name == "Far gateway")
        .unwrap();
    assert!(row.endpoint.allow_plain_http, "the choice is remembered");
    // A loopback address needs no choice, so none is recorded.
    let local = f
        .services
        .endpoint_add("Local".into(), "http://127.0.0.1:9/v1".into(), None, true)
        .await
        .unwrap();
    let row = local
        .endpoints
        .iter()
        .find(|e| e.endpoint.name == "Local")
        .unwrap();
    assert!(!row.endpoint.allow_plain_http);
    // Nothing was sent anywhere: adding does not call the endpoint.
    assert!(f.double.requests().is_empty());
}
