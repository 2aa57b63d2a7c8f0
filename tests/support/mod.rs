//! What the core's integration tests share: `Services` built on a temporary data folder, a
//! settings store and a keyring in memory, signed in against the HF test double on loopback;
//! and the usual request. (Each test file uses part of it.)
#![allow(dead_code)]

use std::sync::Arc;

use hf_double::HfDouble;
use switchboard_core::call::{ChatMessage, ChatParams, ChatRequest, Policy, Role, Routing};
use switchboard_core::config::{Config, Endpoints};
use switchboard_core::secrets::{MemoryBackend, Secrets};
use switchboard_core::service::Services;
use switchboard_core::settings::MemoryStore;

pub const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";

/// The services of a signed-in app, against a double of their own.
pub struct OnDouble {
    pub double: HfDouble,
    pub services: Services,
    pub store: Arc<MemoryStore>,
    pub dir: tempfile::TempDir,
}

/// The double's Hub, router and providers' direct routes.
pub fn endpoints(double: &HfDouble) -> Endpoints {
    Endpoints {
        hub: double.hub_url(),
        router: double.router_url(),
        provider_base_template: Some(double.provider_base_template()),
    }
}

/// A double and services signed in with `token` (for this session only); the double has
/// forgotten the sign-in's requests.
pub async fn services_on_double(token: &str) -> OnDouble {
    let double = HfDouble::start(&hf_double::default_fixtures_dir())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        endpoints: endpoints(&double),
        data_dir: dir.path().join("data"),
        chat_timeout_secs: Some(20),
    };
    let store = Arc::new(MemoryStore::default());
    let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
    let services = Services::new(config, store.clone(), secrets, dir.path().to_path_buf()).unwrap();
    services.sign_in(token.to_string(), true).await.unwrap();
    double.clear_requests();
    OnDouble {
        double,
        services,
        store,
        dir,
    }
}

/// "Hello there" to [`MODEL`], routed as `routing`.
pub fn request(routing: Routing) -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        routing,
        system: String::new(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "Hello there".into(),
            images: Vec::new(),
        }],
        params: ChatParams::default(),
        bill_to: None,
    }
}

pub fn auto() -> Routing {
    Routing::Auto {
        policy: Policy::Fastest,
    }
}

pub fn pinned(provider: &str) -> Routing {
    Routing::Pinned {
        provider: provider.into(),
    }
}
