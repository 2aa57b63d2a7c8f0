//! Sign-in against the HF test double on loopback: the domain layer, without Tauri.

use std::sync::Arc;

use hf_double::{tokens, Fault, HfDouble, Scope};
use switchboard_core::auth::Auth;
use switchboard_core::config::Endpoints;
use switchboard_core::error::ErrorCode;
use switchboard_core::hf::{HfClient, Plan};
use switchboard_core::secrets::{MemoryBackend, Secrets, Storage, HF_TOKEN_ENTRY};
use switchboard_core::settings::{MemoryStore, Store, KEY_ACCOUNT};

struct Fixture {
    double: HfDouble,
    auth: Auth,
    secrets: Arc<Secrets>,
    store: Arc<MemoryStore>,
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
    let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
    let store = Arc::new(MemoryStore::default());
    let auth = Auth::new(
        HfClient::new(endpoints).unwrap(),
        secrets.clone(),
        store.clone(),
    );
    Fixture {
        double,
        auth,
        secrets,
        store,
    }
}

fn whoami_count(double: &HfDouble) -> usize {
    double
        .requests()
        .iter()
        .filter(|r| r.path == "/api/whoami-v2")
        .count()
}

#[tokio::test]
async fn signs_in_caches_the_account_and_keeps_the_token_in_the_keyring() {
    let f = fixture().await;
    let status = f
        .auth
        .sign_in(tokens::PRO_TOKEN, Storage::Keyring)
        .await
        .unwrap();
    let account = status.account.clone().unwrap();
    assert_eq!(account.name, "grace");
    assert_eq!(account.plan, Plan::Pro);
    assert!(account.can_call_inference);
    assert!(account
        .orgs
        .iter()
        .any(|o| o.name == "acme-research" && o.can_bill));
    assert!(
        account
            .avatar
            .as_deref()
            .is_some_and(|a| a.starts_with("data:image/png;base64,")),
        "avatar fetched and inlined"
    );
    assert_eq!(status.storage, Some(Storage::Keyring));
    assert_eq!(
        status.token_last4.as_deref(),
        Some(&tokens::PRO_TOKEN[tokens::PRO_TOKEN.len() - 4..])
    );

    // The token went to whoami as a bearer token; the avatar request carried no credential.
    let reqs = f.double.requests();
    let whoami = reqs.iter().find(|r| r.path == "/api/whoami-v2").unwrap();
    assert_eq!(
        whoami.header("authorization"),
        Some(format!("Bearer {}", tokens::PRO_TOKEN).as_str())
    );
    let avatar = reqs
        .iter()
        .find(|r| r.path.starts_with("/avatars/"))
        .unwrap();
    assert_eq!(avatar.header("authorization"), None);

    // Kept in the keyring; the cached account holds no token.
    let (saved, storage) = f.secrets.get(HF_TOKEN_ENTRY).unwrap().unwrap();
    assert_eq!(
        (saved.expose(), storage),
        (tokens::PRO_TOKEN, Storage::Keyring)
    );
    let cached = f.store.get(KEY_ACCOUNT).unwrap().to_string();
    assert!(!cached.contains(tokens::PRO_TOKEN));

    // A later start uses the cache: no second whoami call.
    let again = f.auth.status().await;
    assert_eq!(again.account, Some(account));
    assert_eq!(whoami_count(&f.double), 1);
}

#[tokio::test]
async fn a_failed_check_keeps_the_previous_token() {
    let f = fixture().await;
    f.auth
        .sign_in(tokens::FREE_TOKEN, Storage::Keyring)
        .await
        .unwrap();

    let revoked = f
        .auth
        .sign_in("hf_revokedTokenZZZZZZZZZZZZZZZZZZ", Storage::Keyring)
        .await
        .unwrap_err();
    assert_eq!(revoked.code, ErrorCode::Unauthorized);
    assert!(
        !revoked.message.contains("hf_revoked"),
        "{}",
        revoked.message
    );

    for (fault, code) in [
        (Fault::forbidden(), ErrorCode::Forbidden),
        (Fault::html_page(502), ErrorCode::BadResponse),
        (Fault::garbage(), ErrorCode::BadResponse),
        (Fault::server_error(503), ErrorCode::ServerError),
    ] {
        f.double.push_fault(fault.scope(Scope::Whoami).once());
        let err = f
            .auth
            .sign_in(tokens::PRO_TOKEN, Storage::Keyring)
            .await
            .unwrap_err();
        assert_eq!(err.code, code);
    }

    let (saved, _) = f.secrets.get(HF_TOKEN_ENTRY).unwrap().unwrap();
    assert_eq!(saved.expose(), tokens::FREE_TOKEN);
    assert_eq!(f.auth.status().await.account.unwrap().name, "ada");
}

#[tokio::test]
async fn fine_grained_token_without_inference_permission_is_flagged() {
    let f = fixture().await;
    let status = f
        .auth
        .sign_in(tokens::NO_INFERENCE_TOKEN, Storage::Keyring)
        .await
        .unwrap();
    let account = status.account.unwrap();
    assert_eq!(account.token_role.as_deref(), Some("fineGrained"));
    assert!(!account.can_call_inference);
    assert_eq!(account.plan, Plan::Free);
}

#[tokio::test]
async fn unreachable_hub_and_slow_hub_have_their_own_codes() {
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoints = Endpoints {
        hub: format!("http://127.0.0.1:{port}"),
        ..Endpoints::default()
    };
    let auth = Auth::new(
        HfClient::new(endpoints).unwrap(),
        Arc::new(Secrets::new(Box::<MemoryBackend>::default())),
        Arc::new(MemoryStore::default()),
    );
    let err = auth
        .sign_in(tokens::FREE_TOKEN, Storage::Keyring)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
}

#[tokio::test]
async fn sign_out_forgets_token_and_account() {
    let f = fixture().await;
    f.auth
        .sign_in(tokens::FREE_TOKEN, Storage::Session)
        .await
        .unwrap();
    assert_eq!(f.auth.status().await.storage, Some(Storage::Session));
    f.auth.sign_out().unwrap();
    let status = f.auth.status().await;
    assert!(!status.signed_in);
    assert!(f.store.get(KEY_ACCOUNT).is_none());
    assert!(f.secrets.get(HF_TOKEN_ENTRY).unwrap().is_none());
}

#[tokio::test]
async fn imports_the_huggingface_cli_token() {
    let f = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("token"),
        format!("{}\n", tokens::FREE_TOKEN),
    )
    .unwrap();
    let hf_home = dir.path().to_str().unwrap().to_string();
    let env = move |k: &str| (k == "HF_HOME").then(|| hf_home.clone());
    let status = f
        .auth
        .import_cli_token(&env, std::path::Path::new("/nowhere"), Storage::Keyring)
        .await
        .unwrap();
    assert_eq!(status.account.unwrap().name, "ada");

    let none = |_: &str| None;
    let err = f
        .auth
        .import_cli_token(&none, std::path::Path::new("/nowhere"), Storage::Keyring)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NoCliToken);
}

#[tokio::test]
async fn a_huge_avatar_is_not_read_whole() {
    let f = fixture().await;
    f.double
        .push_fault(Fault::oversized(64 << 20).scope(Scope::Avatar).once());
    let status = f
        .auth
        .sign_in(tokens::PRO_TOKEN, Storage::Keyring)
        .await
        .unwrap();
    let account = status.account.unwrap();
    assert_eq!(account.name, "grace", "signed in all the same");
    assert_eq!(account.avatar, None, "no avatar rather than a huge one");
    // The app stopped reading past the limit and closed the connection.
    let outcome = f
        .double
        .wait_for_stream_outcome(
            |o| o.client_disconnected,
            std::time::Duration::from_secs(10),
        )
        .await
        .expect("the avatar download was given up");
    assert!(!outcome.completed);
}
