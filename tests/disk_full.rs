//! A full disk, for real: the data folder on a small tmpfs (the test mounts one; it needs root,
//! as on the project's build machines), filled up while an answer streams. The user is told
//! the answer is not saved, nothing saved before is lost (conversations, settings), and once
//! space is back a retry saves the answer and its ledger row.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use hf_double::{tokens, Fault, HfDouble, Scope};
use switchboard_core::call::{
    ChatEvent, ChatMessage, ChatParams, ChatRequest, Outcome, Policy, Role, Routing,
};
use switchboard_core::config::{Config, Endpoints};
use switchboard_core::error::ErrorCode;
use switchboard_core::history::ledger::CallQuery;
use switchboard_core::history::MessageStatus;
use switchboard_core::secrets::{MemoryBackend, Secrets};
use switchboard_core::service::chat::EventSink;
use switchboard_core::service::Services;
use switchboard_core::settings::{FileStore, Settings, Theme};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Writes a file until the disk is full; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5au8; 16 * 1024];
    loop {
        match f.write_all(&chunk).and_then(|_| f.flush()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    // Whatever is left below one chunk, byte by byte.
    while f.write_all(&[0]).is_ok() {}
    path
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "meta-llama/Llama-3.3-70B-Instruct".into(),
        routing: Routing::Auto {
            policy: Policy::Fastest,
        },
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

type Events = Arc<Mutex<Vec<ChatEvent>>>;

fn collect() -> (EventSink, Events) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Box::new(move |ev| e.lock().unwrap().push(ev)), events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_nothing_saved_tells_the_user_and_recovers() {
    let double = HfDouble::start(&hf_double::default_fixtures_dir())
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let _mount = Tmpfs::mount(&data, "2m");
    {
        let settings_path = data.join("settings.json");
        let store = Arc::new(FileStore::open(&settings_path).unwrap());
        let config = Config {
            endpoints: Endpoints {
                hub: double.hub_url(),
                router: double.router_url(),
                provider_base_template: Some(double.provider_base_template()),
            },
            data_dir: data.clone(),
            chat_timeout_secs: Some(20),
        };
        let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
        let services =
            Services::new(config, store.clone(), secrets, tmp.path().to_path_buf()).unwrap();
        services
            .sign_in(tokens::PRO_TOKEN.to_string(), true)
            .await
            .unwrap();
        services.set_theme(Theme::Dark).unwrap();

        // An answer saved while there is room.
        let (sink, _) = collect();
        let (first, task) = services
            .chat_call(None, None, request(), sink)
            .await
            .unwrap();
        let first_result = task.await.unwrap();
        assert_eq!(first_result.outcome, Outcome::Complete);
        let history = services.history.get().unwrap();
        let first_conv = history
            .get(first.conversation_id.as_deref().unwrap())
            .unwrap();

        // The disk fills up while the next answer streams.
        double.push_fault(Fault::slow_stream(150).scope(Scope::Chat).once());
        let (sink, events) = collect();
        let (second, task) = services
            .chat_call(None, None, request(), sink)
            .await
            .unwrap();
        assert!(second.save_error.is_none(), "{:?}", second.save_error);
        let filler = fill(&data);
        let result = task.await.unwrap();
        assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);

        // The user is told, after the answer's end, that it is not saved, and why.
        let events = events.lock().unwrap().clone();
        let not_saved = events.iter().find_map(|e| match e {
            ChatEvent::NotSaved { call_id, error } => Some((*call_id, error.clone())),
            _ => None,
        });
        let (call_id, error) = not_saved.expect("a not_saved event");
        assert_eq!(call_id, second.call_id);
        assert_eq!(error.code, ErrorCode::DiskFull, "{error:?}");
        assert!(matches!(
            events.iter().rev().nth(1),
            Some(ChatEvent::Finished { .. })
        ));

        // A settings change cannot be saved: it says so, and the file keeps the old settings.
        let err = services.set_theme(Theme::Light).unwrap_err();
        assert_eq!(err.code, ErrorCode::DiskFull, "{err:?}");
        let on_disk = FileStore::open(&settings_path).expect("the settings file is intact");
        assert_eq!(Settings::load(&on_disk).theme, Theme::Dark);
        assert!(services.auth.cached_account().is_some());

        // Nothing saved before is lost.
        assert_eq!(
            history
                .get(first.conversation_id.as_deref().unwrap())
                .unwrap(),
            first_conv
        );

        // Retrying while the disk is still full fails again, and keeps what is unsaved.
        let again = services.chat_save_retry(call_id).await.unwrap_err();
        assert_eq!(again.code, ErrorCode::DiskFull);

        // Space comes back: the retry saves the answer and its ledger row.
        std::fs::remove_file(filler).unwrap();
        services.chat_save_retry(call_id).await.unwrap();
        let conv = history
            .get(second.conversation_id.as_deref().unwrap())
            .unwrap();
        let answer = conv.messages.last().unwrap();
        assert_eq!(answer.status, MessageStatus::Complete);
        assert_eq!(answer.content, result.content);
        let rows = history.calls(&CallQuery::default()).unwrap().rows;
        assert_eq!(rows.len(), 2, "{rows:?}");
        // And the app goes on: settings save again.
        services.set_theme(Theme::Light).unwrap();
        let on_disk = FileStore::open(&settings_path).unwrap();
        assert_eq!(Settings::load(&on_disk).theme, Theme::Light);
    }
}
