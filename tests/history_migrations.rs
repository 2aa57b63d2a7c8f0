//! Every earlier schema version's history opens in this version with nothing lost.
//!
//! `tests/fixtures/history/vN.sqlite3` is a small database written by schema version N, and
//! `vN.expected.json` (an export of it, made when it was written) is what it holds. Each one is
//! copied to a temporary folder, opened with [`History::open`] (migrating it when N is older
//! than [`schema::CURRENT`]), and compared with what it held. See the README there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use switchboard_core::history::{
    export, schema, Conversation, History, MessageStatus, SearchQuery, StoredMessage,
};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/history")
}

/// (version, database) for every `vN.sqlite3`, oldest first.
fn fixtures() -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/history")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let version = name
                .strip_prefix('v')?
                .strip_suffix(".sqlite3")?
                .parse()
                .ok()?;
            Some((version, path))
        })
        .collect();
    found.sort();
    found
}

fn user_version(path: &Path) -> u32 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// The longest word of `text` as FTS5 splits it (letters and digits), if any has 3 or more.
fn a_word(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .max_by_key(|w| w.chars().count())
}

fn search(h: &History, text: &str) -> Vec<switchboard_core::history::SearchHit> {
    h.search(&SearchQuery {
        text: text.into(),
        limit: Some(500),
        ..SearchQuery::default()
    })
    .unwrap()
}

fn check_message(what: &str, got: &StoredMessage, want: &StoredMessage) {
    // An answer still streaming when the database was written was cut by a crash.
    let status = match want.status {
        MessageStatus::Streaming => MessageStatus::Interrupted,
        s => s,
    };
    assert_eq!(got.id, want.id, "{what}: id");
    assert_eq!(got.seq, want.seq, "{what}: seq");
    assert_eq!(got.role, want.role, "{what}: role");
    assert_eq!(got.content, want.content, "{what}: content");
    assert_eq!(got.reasoning, want.reasoning, "{what}: reasoning");
    assert_eq!(got.status, status, "{what}: status");
    assert_eq!(got.created_at, want.created_at, "{what}: created_at");
    assert_eq!(got.model, want.model, "{what}: model");
    assert_eq!(got.provider, want.provider, "{what}: provider");
    assert_eq!(got.mode, want.mode, "{what}: mode");
    assert_eq!(got.params, want.params, "{what}: params");
    assert_eq!(got.stats, want.stats, "{what}: stats");
    assert_eq!(got.error, want.error, "{what}: error");
    assert_eq!(got.request_id, want.request_id, "{what}: request_id");
    assert_eq!(got.images, want.images, "{what}: images");
}

fn check_conversation(got: &Conversation, want: &Conversation) {
    let (g, w) = (&got.summary, &want.summary);
    let what = format!("conversation {} ({:?})", w.id, w.title);
    assert_eq!(g.title, w.title, "{what}: title");
    assert_eq!(g.kind, w.kind, "{what}: kind");
    assert_eq!(g.created_at, w.created_at, "{what}: created_at");
    assert_eq!(g.updated_at, w.updated_at, "{what}: updated_at");
    assert_eq!(g.pinned, w.pinned, "{what}: pinned");
    // The test moves trash dates to now (see `check`): only in or out of the trash is compared.
    assert_eq!(
        g.deleted_at.is_some(),
        w.deleted_at.is_some(),
        "{what}: trash"
    );
    assert_eq!(g.model, w.model, "{what}: model");
    assert_eq!(got.routing, want.routing, "{what}: routing");
    assert_eq!(got.system, want.system, "{what}: system");
    assert_eq!(got.params, want.params, "{what}: params");
    assert_eq!(got.bill_to, want.bill_to, "{what}: bill_to");
    assert_eq!(
        got.messages.len(),
        want.messages.len(),
        "{what}: message count"
    );
    for (i, (gm, wm)) in got.messages.iter().zip(&want.messages).enumerate() {
        check_message(&format!("{what}, message {i}"), gm, wm);
    }
}

fn check(version: u32, fixture: &Path) {
    let expected_path = fixture.with_extension("expected.json");
    let expected = export::from_json(
        &std::fs::read(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
    )
    .unwrap()
    .conversations;
    assert!(!expected.is_empty());
    assert_eq!(
        user_version(fixture),
        version,
        "{} is not a schema v{version} database",
        fixture.display()
    );
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = fixture.as_os_str().to_owned();
        side.push(suffix);
        assert!(
            !Path::new(&side).exists(),
            "{} must be one checkpointed file (PRAGMA journal_mode = DELETE)",
            fixture.display()
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture, &path).unwrap();
    {
        // Opening empties the trash of what was deleted more than 30 days ago, and fixtures
        // age: their trashed conversations are moved to now first. (A fixture's schema never
        // changes, so this SQL on `conversations.deleted_at` stays valid for it.)
        let conn = rusqlite::Connection::open(&path).unwrap();
        let has_trash: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('conversations') WHERE name = 'deleted_at')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if has_trash {
            conn.execute(
                "UPDATE conversations SET deleted_at = ?1 WHERE deleted_at IS NOT NULL",
                [switchboard_core::history::now_ms() - 3_600_000],
            )
            .unwrap();
        }
    }

    let h =
        History::open(&path).unwrap_or_else(|e| panic!("v{version} fixture does not open: {e:?}"));
    assert!(!h.is_read_only());
    assert_eq!(user_version(&path), schema::CURRENT);

    // A backup of the old version before migrating; none when there was nothing to migrate.
    let backups: Vec<PathBuf> = std::fs::read_dir(dir.path().join("backups"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    if version < schema::CURRENT {
        let backup = backups
            .iter()
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("history-v{version}-")))
            })
            .unwrap_or_else(|| panic!("no backup of the v{version} database: {backups:?}"));
        assert_eq!(user_version(backup), version);
    } else {
        assert!(backups.is_empty(), "{backups:?}");
    }

    // Every conversation and message.
    let all = h.all().unwrap();
    assert_eq!(all.len(), expected.len(), "conversation count");
    for want in &expected {
        let got = all
            .iter()
            .find(|c| c.summary.id == want.summary.id)
            .unwrap_or_else(|| panic!("conversation {} is lost", want.summary.id));
        check_conversation(got, want);
    }
    let ids = |trash: bool| -> BTreeSet<String> {
        h.list(trash).unwrap().into_iter().map(|c| c.id).collect()
    };
    let expect_ids = |trash: bool| -> BTreeSet<String> {
        expected
            .iter()
            .filter(|c| c.summary.deleted_at.is_some() == trash)
            .map(|c| c.summary.id.clone())
            .collect()
    };
    assert_eq!(ids(false), expect_ids(false), "sidebar");
    assert_eq!(ids(true), expect_ids(true), "trash");
    let list = h.list(false).unwrap();
    let first_unpinned = list.iter().position(|c| !c.pinned).unwrap_or(list.len());
    assert!(
        list[first_unpinned..].iter().all(|c| !c.pinned),
        "pinned first"
    );

    // Search still finds every message and title outside the trash, and nothing in it.
    for c in &expected {
        let trashed = c.summary.deleted_at.is_some();
        if let Some(word) = a_word(&c.summary.title) {
            let found = search(&h, word)
                .iter()
                .any(|x| x.conversation_id == c.summary.id && x.message_id.is_none());
            assert_eq!(found, !trashed, "title word {word:?} of {}", c.summary.id);
        }
        for m in &c.messages {
            let Some(word) = a_word(&m.content) else {
                continue;
            };
            let found = search(&h, word).iter().any(|x| x.message_id == Some(m.id));
            assert_eq!(found, !trashed, "word {word:?} of message {}", m.id);
        }
    }
}

#[test]
fn databases_of_every_schema_version_open_with_nothing_lost() {
    let fixtures = fixtures();
    let versions: Vec<u32> = fixtures.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        versions,
        (1..=schema::CURRENT).collect::<Vec<_>>(),
        "tests/fixtures/history needs one vN.sqlite3 for every schema version up to the current one"
    );
    for (version, path) in &fixtures {
        check(*version, path);
    }
}

/// v4 (billing truth): a conversation's session id is kept (never made anew), the router's
/// estimate stays on its ledger row, the billed cost on its conversation; and a conversation from
/// before v4 gets a session on its first routed call.
#[test]
fn v4_keeps_sessions_router_costs_and_billed_costs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v4.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let stored: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT session_id FROM conversations WHERE id = 'v4billed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(h.session_id("v4billed", 0).unwrap(), stored);
    assert_eq!(h.session_id("v4billed", 2).unwrap(), format!("{stored}-p2"));
    let billed = h.billed("v4billed").unwrap().unwrap();
    assert_eq!((billed.billed_nano_usd, billed.requests), (1_800_000, 1));
    let calls = h
        .calls(&switchboard_core::history::ledger::CallQuery::default())
        .unwrap();
    let row = calls
        .rows
        .iter()
        .find(|r| r.conversation_id.as_deref() == Some("v4billed"))
        .unwrap();
    assert_eq!(row.router_cost, Some(0.0018));
    assert!(calls
        .rows
        .iter()
        .filter(|r| r.conversation_id.as_deref() != Some("v4billed"))
        .all(|r| r.router_cost.is_none()));

    // From v3: no session until the first routed call, then one that stays.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v3.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let old = h.list(false).unwrap()[0].id.clone();
    assert!(h.recent_sessions(0).unwrap().is_empty());
    let made = h.session_id(&old, 0).unwrap();
    assert!(!made.is_empty() && made.len() <= 256);
    assert_eq!(h.session_id(&old, 0).unwrap(), made);
    assert_eq!(h.recent_sessions(0).unwrap(), vec![(old, made)]);
}

/// v5 (images): generations keep their request, provider job, pictures, seed and billed units;
/// one still waiting on its provider is listed for resuming at start-up.
#[test]
fn v5_keeps_image_jobs_and_their_provider_jobs() {
    use switchboard_core::call::{CallMode, JobStatus};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v5.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let done = h.image_job("v5done").unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Complete);
    assert_eq!(done.request.prompt, "A lighthouse in a storm, oil painting");
    assert_eq!(done.request.negative_prompt, "blurry");
    assert_eq!(
        (done.request.width, done.request.height),
        (Some(1024), Some(768))
    );
    assert_eq!(done.seed, Some(3131504498));
    assert_eq!(done.images.len(), 1);
    assert_eq!(done.billed_units, Some(1.0));
    assert_eq!(done.cost, None);
    let open = h.open_image_jobs().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, "v5open");
    assert_eq!(open[0].mode, CallMode::OwnKey);
    assert_eq!(open[0].request.prompt, "Un phare dans la tempête — 灯台");
    assert_eq!(
        open[0].provider_job.poll_url.as_deref(),
        Some("https://api.replicate.com/v1/predictions/pred-1")
    );
}

/// v6 (pictures in chat): a message keeps the pictures attached to it, in order.
#[test]
fn v6_keeps_the_pictures_attached_to_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v6.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let c = h.get("v6pictures").unwrap();
    assert_eq!(c.messages.len(), 2);
    let files: Vec<&str> = c.messages[0].images.iter().map(|f| &f[..4]).collect();
    assert_eq!(files, ["0b3a", "1c4b"]);
    assert!(c.messages[0].images[1].ends_with(".jpg"));
    assert!(c.messages[1].images.is_empty());
    assert_eq!(h.image_job("v5done").unwrap().unwrap().images.len(), 1);
}

/// v7 (embeddings): an embedding run keeps its sentences and vectors, and the pictures attached
/// to chat messages in v6 are still there.
#[test]
fn v7_keeps_embedding_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v7.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let run = h.embedding("v7emb").unwrap().expect("the v7 run");
    assert_eq!(run.sentences, ["A cat.", "A dog."]);
    assert_eq!(run.vectors, [[1.0, 0.5, -0.25], [0.5, 1.0, 0.0]]);
    assert_eq!(run.request_id.as_deref(), Some("req-v7"));
    assert_eq!(run.cost, None);
    assert_eq!(h.get("v6pictures").unwrap().messages[0].images.len(), 2);
}

/// v9 (speech): a transcript keeps its segments, language and the chosen file's name; speech
/// made keeps its text, voice and audio file; the embedding run of v7 is still there.
#[test]
fn v9_keeps_speech_runs() {
    use switchboard_core::speech::SpeechKind;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v9.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let stt = h.speech("v9stt").unwrap().expect("the v9 transcript");
    assert_eq!(stt.kind, SpeechKind::Stt);
    assert_eq!(stt.text, "A man said to the universe, Sir, I exist.");
    assert_eq!(stt.segments.len(), 1);
    assert_eq!(stt.segments[0].end, Some(4.08));
    assert_eq!(stt.language.as_deref(), Some("en"));
    assert_eq!(stt.audio_name.as_deref(), Some("hello — ça va.wav"));
    assert_eq!(stt.cost, None);
    let tts = h.speech("v9tts").unwrap().expect("the v9 speech");
    assert_eq!(tts.kind, SpeechKind::Tts);
    assert_eq!(tts.voice.as_deref(), Some("af_bella"));
    assert_eq!(tts.audio.mime, "audio/flac");
    assert_eq!(tts.request_id.as_deref(), Some("req-v9-tts"));
    assert_eq!(h.speech_runs(10).unwrap().len(), 2);
    let expected =
        export::from_json(&std::fs::read(fixture_dir().join("v9.expected.json")).unwrap()).unwrap();
    assert_eq!(expected.speech, h.speech_runs(10).unwrap());
    assert!(h.embedding("v7emb").unwrap().is_some());
}

/// v10 (speech runs as durable jobs): runs kept by v9 read as `complete` with no error; a run
/// still waiting on its provider keeps its job (poll URL) and what rebuilds its request, and is
/// listed for resuming at start-up; a failed run keeps its error; an open run is not exported.
#[test]
fn v10_keeps_speech_runs_as_jobs_and_older_runs_read_complete() {
    use switchboard_core::call::{CallMode, JobStatus};
    use switchboard_core::error::ErrorCode;
    use switchboard_core::speech::SpeechKind;
    // v9 data opened by this app.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v9.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    for id in ["v9stt", "v9tts"] {
        let r = h.speech(id).unwrap().unwrap();
        assert_eq!(r.status, JobStatus::Complete, "{id}");
        assert_eq!(r.error, None, "{id}");
    }
    assert!(h.open_speech_runs().unwrap().is_empty());
    drop(h);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    std::fs::copy(fixture_dir().join("v10.sqlite3"), &path).unwrap();
    let h = History::open(&path).unwrap();
    let open = h.open_speech_runs().unwrap();
    assert_eq!(open.len(), 1);
    let (run, job) = &open[0];
    assert_eq!(run.id, "v10open");
    assert_eq!((run.kind, run.status), (SpeechKind::Stt, JobStatus::Queued));
    assert_eq!(run.audio_name.as_deref(), Some("réunion.wav"));
    assert_eq!(job.provider_model.as_deref(), Some("fal-ai/whisper"));
    let pj = job.provider_job.as_ref().unwrap();
    assert_eq!(pj.id.as_deref(), Some("req-v10"));
    assert!(pj
        .poll_url
        .as_deref()
        .unwrap()
        .ends_with("/status?_subdomain=queue"));
    let failed = h.speech("v10error").unwrap().unwrap();
    assert_eq!(
        (failed.kind, failed.status),
        (SpeechKind::Tts, JobStatus::Error)
    );
    assert_eq!(failed.mode, CallMode::OwnKey);
    assert_eq!(failed.error.as_ref().unwrap().code, ErrorCode::JobFailed);
    assert_eq!(failed.audio.file, "", "no audio was made");
    assert_eq!(failed.text, "Bonjour — こんにちは");
    assert_eq!(
        h.speech("v9stt").unwrap().unwrap().status,
        JobStatus::Complete
    );
    let expected =
        export::from_json(&std::fs::read(fixture_dir().join("v10.expected.json")).unwrap())
            .unwrap();
    let closed: Vec<_> = h
        .speech_runs(10)
        .unwrap()
        .into_iter()
        .filter(|r| !r.status.is_open())
        .collect();
    assert_eq!(expected.speech, closed);
    assert!(expected.speech.iter().all(|r| r.id != "v10open"));
    assert!(h.embedding("v7emb").unwrap().is_some());
}
