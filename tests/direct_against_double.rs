//! Own provider keys and custom endpoints, against the HF test double acting as the router,
//! the Hub and the providers' direct endpoints. The domain layer, without Tauri.

use std::sync::Arc;

use hf_double::{tokens, HfDouble, Target};
use switchboard_core::call::CallMode;
use switchboard_core::call::CallResult;
use switchboard_core::chat::stream::CallContext;
use switchboard_core::chat::{
    self, CallOptions, ChatMessage, ChatParams, ChatRequest, Outcome, Role, Routing,
};
use switchboard_core::config::Endpoints;
use switchboard_core::error::ErrorCode;
use switchboard_core::hf::HfClient;
use switchboard_core::providers::{
    endpoint_key_entry, provider_key_entry, CustomEndpoint, ProviderMode, ProviderPref,
    ProviderPrefs,
};
use switchboard_core::routing::{MappingCache, Resolver};
use switchboard_core::secrets::{MemoryBackend, Secret, Secrets, Storage};
use switchboard_core::settings::MemoryStore;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";

struct Fixture {
    double: HfDouble,
    resolver: Resolver,
    store: Arc<MemoryStore>,
    secrets: Arc<Secrets>,
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
    let store = Arc::new(MemoryStore::default());
    let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
    let resolver = Resolver {
        hf: HfClient::new(endpoints.clone()).unwrap(),
        endpoints,
        secrets: secrets.clone(),
        store: store.clone(),
        mappings: Arc::new(MappingCache::default()),
    };
    Fixture {
        double,
        resolver,
        store,
        secrets,
    }
}

fn request(provider: &str, model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        routing: Routing::Pinned {
            provider: provider.into(),
        },
        system: String::new(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "Hello there".into(),
            images: Vec::new(),
        }],
        params: ChatParams::default(),
        bill_to: Some("acme-research".into()),
    }
}

impl Fixture {
    fn set_mode(&self, provider: &str, mode: ProviderMode) {
        let mut prefs = ProviderPrefs::load(&*self.store);
        prefs.providers.insert(
            provider.into(),
            ProviderPref {
                enabled: true,
                mode,
            },
        );
        prefs.save(&*self.store).unwrap();
    }

    async fn send(&self, req: &ChatRequest) -> (CallMode, CallResult) {
        let routed = chat::build(&self.resolver.endpoints, req, None).unwrap();
        let hf = Some(Secret::new(tokens::PRO_TOKEN.into()));
        let mode = self.resolver.mode_of(req);
        let r = match self.resolver.resolve(req, routed, hf).await {
            Ok(r) => r,
            Err(e) => {
                let mut sink = |_| {};
                return (mode, chat::stream::failed_before_sending(e, &mut sink));
            }
        };
        assert_eq!(r.mode, mode);
        let price = |_: &str| (None, false);
        let ctx = CallContext {
            who: &r.who,
            pinned: req.routing.pinned(),
            price: &price,
            prompt_chars: 11,
            message_count: 1,
        };
        let mut sink = |_| {};
        let result = chat::run(
            self.resolver.hf.http(),
            &r.preview,
            &r.credential,
            &ctx,
            &CallOptions::default(),
            &CancellationToken::new(),
            &mut sink,
        )
        .await;
        (r.mode, result)
    }

    fn chats(&self) -> Vec<hf_double::RecordedRequest> {
        self.double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }
}

#[tokio::test]
async fn own_key_goes_straight_to_the_provider_with_its_model_id_and_never_the_hf_token() {
    let f = fixture().await;
    f.set_mode("together", ProviderMode::OwnKey);

    // No key yet: a clear error, nothing sent.
    let (_, r) = f.send(&request("together", MODEL)).await;
    assert_eq!(r.error.unwrap().code, ErrorCode::ProviderKeyMissing);
    assert!(f.chats().is_empty());

    f.secrets
        .set(
            &provider_key_entry("together"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    let (mode, r) = f.send(&request("together", MODEL)).await;
    assert_eq!(mode, CallMode::OwnKey);
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    assert!(!r.content.is_empty());

    let chats = f.chats();
    assert_eq!(chats.len(), 1);
    let sent = &chats[0];
    assert_eq!(
        sent.target,
        Target::Direct {
            provider: "together".into()
        }
    );
    assert_eq!(sent.credential(), Some(tokens::PROVIDER_KEY));
    assert_eq!(
        sent.header("x-hf-bill-to"),
        None,
        "bill-to is for the router"
    );
    let mapped = f
        .double
        .catalog()
        .get(MODEL)
        .unwrap()
        .provider("together")
        .unwrap()
        .provider_id
        .clone();
    assert_eq!(sent.json().unwrap()["model"], mapped);
    // The router saw nothing, and no request anywhere carried the HF token.
    let all = f.double.requests();
    assert!(all.iter().all(|r| r.target != Target::Router));
    assert!(all
        .iter()
        .all(|r| r.credential() != Some(tokens::PRO_TOKEN)));

    // Back to routed: the opposite.
    f.double.clear_requests();
    f.set_mode("together", ProviderMode::Routed);
    let (mode, r) = f.send(&request("together", MODEL)).await;
    assert_eq!(mode, CallMode::Routed);
    assert_eq!(r.outcome, Outcome::Complete);
    let chats = f.chats();
    assert_eq!(chats[0].target, Target::Router);
    assert_eq!(chats[0].credential(), Some(tokens::PRO_TOKEN));
    assert!(f
        .double
        .requests()
        .iter()
        .all(|r| r.credential() != Some(tokens::PROVIDER_KEY)));
}

#[tokio::test]
async fn a_model_the_provider_does_not_serve_is_explained_before_sending() {
    let f = fixture().await;
    f.set_mode("groq", ProviderMode::OwnKey);
    f.secrets
        .set(
            &provider_key_entry("groq"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    let (_, r) = f.send(&request("groq", MODEL)).await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::ModelUnavailable);
    assert!(e.message.contains("Groq"), "{}", e.message);
    assert!(f.chats().is_empty());
}

#[tokio::test]
async fn a_wrong_provider_key_is_the_providers_401() {
    let f = fixture().await;
    f.set_mode("together", ProviderMode::OwnKey);
    f.secrets
        .set(
            &provider_key_entry("together"),
            &Secret::new("sk-not-a-real-key-000".into()),
            Storage::Keyring,
        )
        .unwrap();
    let (_, r) = f.send(&request("together", MODEL)).await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(e.message.contains("Together AI"), "{}", e.message);
    assert!(!e.message.contains("sk-not-a-real-key-000"));
}

#[tokio::test]
async fn a_custom_endpoint_answers_with_its_own_models_and_key() {
    let f = fixture().await;
    // The double's Together endpoint stands in for any OpenAI-compatible server.
    let base = format!("{}/direct/together", f.double.url());
    let mut prefs = ProviderPrefs::load(&*f.store);
    prefs.endpoints.push(CustomEndpoint {
        id: "ep1".into(),
        name: "Lab gateway".into(),
        base_url: base,
        models: vec!["openai/gpt-oss-120b".into()],
        allow_plain_http: false,
    });
    prefs.save(&*f.store).unwrap();
    f.secrets
        .set(
            &endpoint_key_entry("ep1"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    let (mode, r) = f
        .send(&request("endpoint:ep1", "openai/gpt-oss-120b"))
        .await;
    assert_eq!(mode, CallMode::Endpoint);
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
    let sent = &f.chats()[0];
    assert_eq!(sent.path, "/direct/together/v1/chat/completions");
    assert_eq!(sent.json().unwrap()["model"], "openai/gpt-oss-120b");
    assert_eq!(sent.credential(), Some(tokens::PROVIDER_KEY));
}

#[tokio::test]
async fn a_server_that_echoes_the_key_never_gets_it_into_the_error() {
    let f = fixture().await;
    let mut prefs = ProviderPrefs::load(&*f.store);
    prefs.endpoints.push(CustomEndpoint {
        id: "ep1".into(),
        name: "Lab gateway".into(),
        base_url: format!("{}/direct/together", f.double.url()),
        models: vec!["openai/gpt-oss-120b".into()],
        allow_plain_http: false,
    });
    prefs.save(&*f.store).unwrap();
    // Each provider's key shape, and a custom endpoint's key of no known shape.
    let cases = [
        ("cerebras", MODEL, "csk-4f9d2c7b1a8e6f3d5c9b2a7e4f1d8c6b"),
        ("fireworks-ai", MODEL, "fw_3ZkYxWvUtSrQpOnMlKjIhGfEdCbA"),
        ("together", MODEL, "r8_Q2w3E4r5T6y7U8i9O0pAsDfGhJkL"),
        (
            "groq",
            "openai/gpt-oss-120b",
            "gsk_ZyXwVuTsRqPoNmLkJiHgFeDcBa98",
        ),
        (
            "endpoint:ep1",
            "openai/gpt-oss-120b",
            "labgateway-7b1e55c0d2f94a3e",
        ),
    ];
    for (provider, model, key) in cases {
        let entry = match provider.strip_prefix("endpoint:") {
            Some(id) => endpoint_key_entry(id),
            None => {
                f.set_mode(provider, ProviderMode::OwnKey);
                provider_key_entry(provider)
            }
        };
        f.secrets
            .set(&entry, &Secret::new(key.into()), Storage::Keyring)
            .unwrap();
        for fault in [
            hf_double::Fault::echo_credential(),
            hf_double::Fault::echo_credential_fragment(16),
        ] {
            f.double.clear_requests();
            f.double.push_fault(fault.once());
            let (_, r) = f.send(&request(provider, model)).await;
            assert_eq!(f.chats()[0].credential(), Some(key), "{provider}: sent");
            let e = r.error.unwrap();
            assert_eq!(e.code, ErrorCode::Unauthorized, "{provider}: {}", e.message);
            assert!(e.message.contains("Incorrect API key"), "{}", e.message);
            for piece in key.as_bytes().windows(12) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(!e.message.contains(piece), "{provider}: {}", e.message);
            }
        }
    }
    // The HF token, echoed by the router.
    f.set_mode("together", ProviderMode::Routed);
    f.double
        .push_fault(hf_double::Fault::echo_credential().once());
    let (_, r) = f.send(&request("together", MODEL)).await;
    let e = r.error.unwrap();
    assert!(
        !e.message.contains(&tokens::PRO_TOKEN[3..15]),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_plain_http_endpoint_on_a_public_host_needs_the_users_choice() {
    let f = fixture().await;
    let mut prefs = ProviderPrefs::load(&*f.store);
    prefs.endpoints.push(CustomEndpoint {
        id: "far".into(),
        name: "Far gateway".into(),
        base_url: "http://203.0.113.9:8000".into(),
        models: vec!["openai/gpt-oss-120b".into()],
        allow_plain_http: false,
    });
    prefs.save(&*f.store).unwrap();
    f.secrets
        .set(
            &endpoint_key_entry("far"),
            &Secret::new("far-gateway-key-0123456789".into()),
            Storage::Keyring,
        )
        .unwrap();
    let (_, r) = f
        .send(&request("endpoint:far", "openai/gpt-oss-120b"))
        .await;
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::InsecureEndpoint, "{}", e.message);
    assert!(e.message.contains("203.0.113.9"), "{}", e.message);
    assert!(f.chats().is_empty(), "nothing sent");
}

#[tokio::test]
async fn a_pinned_provider_the_user_turned_off_gets_no_call_routed_or_with_their_key() {
    let f = fixture().await;
    f.secrets
        .set(
            &provider_key_entry("together"),
            &Secret::new("tg-live-key-1234".into()),
            Storage::Session,
        )
        .unwrap();
    let mut prefs = ProviderPrefs::load(&*f.store);
    for (name, mode) in [
        ("together", ProviderMode::OwnKey),
        ("groq", ProviderMode::Routed),
    ] {
        prefs.providers.insert(
            name.into(),
            ProviderPref {
                enabled: false,
                mode,
            },
        );
    }
    prefs.save(&*f.store).unwrap();

    for (provider, shown) in [("together", "Together AI"), ("groq", "Groq")] {
        let (_, r) = f.send(&request(provider, MODEL)).await;
        let e = r.error.expect("refused");
        assert_eq!(e.code, ErrorCode::ProviderDisabled, "{provider}");
        assert!(e.message.contains(shown), "{}", e.message);
        assert!(
            e.message.contains("turned off in Providers"),
            "{}",
            e.message
        );
    }
    assert!(f.chats().is_empty(), "a turned-off provider was called");

    // Automatic choice is the router's, from the user's Hugging Face settings: not refused.
    let auto = ChatRequest {
        routing: Routing::Auto {
            policy: switchboard_core::call::Policy::Fastest,
        },
        ..request("groq", MODEL)
    };
    let (mode, r) = f.send(&auto).await;
    assert_eq!(mode, CallMode::Routed);
    assert_eq!(r.outcome, Outcome::Complete, "{:?}", r.error);
}
