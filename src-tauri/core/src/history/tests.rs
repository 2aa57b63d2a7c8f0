use super::*;
use crate::call::{ChatMessage, ChatParams, Policy};
use crate::error::ErrorCode;

fn request(messages: &[(Role, &str)]) -> ChatRequest {
    ChatRequest {
        model: "openai/gpt-oss-120b".into(),
        routing: Routing::Pinned {
            provider: "groq".into(),
        },
        system: "Be brief.".into(),
        messages: messages
            .iter()
            .map(|(role, c)| ChatMessage {
                role: *role,
                content: c.to_string(),
                images: Vec::new(),
            })
            .collect(),
        params: ChatParams {
            temperature: Some(0.3),
            ..ChatParams::default()
        },
        bill_to: None,
    }
}

fn done(content: &str) -> CallResult {
    CallResult {
        outcome: Outcome::Complete,
        error: None,
        request_id: Some("req-1".into()),
        stats: CallStats {
            provider: Some("groq".into()),
            tokens_in: 10,
            tokens_out: 20,
            cost: Some(0.0001),
            ..CallStats::default()
        },
        content: content.into(),
        reasoning: String::new(),
    }
}

fn open() -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join("history.sqlite3")).unwrap();
    (dir, h)
}

/// One exchange: user message, streamed answer, end.
fn exchange(h: &History, conv: Option<&str>, sent: &[(Role, &str)], answer: &str) -> String {
    let req = request(sent);
    let (id, answer_id) = h
        .begin_answer(&AnswerStart {
            conversation_id: conv,
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap();
    h.save_partial(answer_id, &answer[..answer.len() / 2], "")
        .unwrap();
    h.finish_answer(answer_id, &done(answer)).unwrap();
    id
}

#[test]
fn a_conversation_is_saved_as_it_happens_and_restored_whole() {
    let (_d, h) = open();
    let id = exchange(
        &h,
        None,
        &[(Role::User, "What is FTS5?\nTell me.")],
        "A full-text index.",
    );
    let id2 = exchange(
        &h,
        Some(&id),
        &[
            (Role::User, "What is FTS5?\nTell me."),
            (Role::Assistant, "A full-text index."),
            (Role::User, "And WAL?"),
        ],
        "A journal mode.",
    );
    assert_eq!(id, id2);
    let c = h.get(&id).unwrap();
    assert_eq!(c.summary.title, "What is FTS5?");
    assert_eq!(c.summary.model.as_deref(), Some("openai/gpt-oss-120b"));
    assert_eq!(c.system, "Be brief.");
    assert_eq!(c.routing.as_ref().unwrap().pinned(), Some("groq"));
    assert_eq!(c.params.as_ref().unwrap().temperature, Some(0.3));
    let texts: Vec<_> = c.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        [
            "What is FTS5?\nTell me.",
            "A full-text index.",
            "And WAL?",
            "A journal mode."
        ]
    );
    let answer = &c.messages[3];
    assert_eq!(answer.status, MessageStatus::Complete);
    assert_eq!(answer.provider.as_deref(), Some("groq"));
    assert_eq!(answer.mode, Some(CallMode::Routed));
    assert_eq!(answer.stats.as_ref().unwrap().tokens_out, 20);
    assert_eq!(answer.request_id.as_deref(), Some("req-1"));
    assert_eq!(h.list(false).unwrap().len(), 1);
}

#[test]
fn the_user_message_is_saved_before_any_answer() {
    let (_d, h) = open();
    let req = request(&[(Role::User, "Saved first")]);
    let (id, _) = h
        .begin_answer(&AnswerStart {
            conversation_id: None,
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap();
    let c = h.get(&id).unwrap();
    assert_eq!(c.messages[0].content, "Saved first");
    assert_eq!(c.messages[1].status, MessageStatus::Streaming);
}

#[test]
fn regenerate_and_edit_replace_what_followed() {
    let (_d, h) = open();
    let id = exchange(&h, None, &[(Role::User, "Q1")], "A1");
    exchange(
        &h,
        Some(&id),
        &[
            (Role::User, "Q1"),
            (Role::Assistant, "A1"),
            (Role::User, "Q2"),
        ],
        "A2",
    );
    // Regenerate the last answer: the same messages are sent again.
    exchange(
        &h,
        Some(&id),
        &[
            (Role::User, "Q1"),
            (Role::Assistant, "A1"),
            (Role::User, "Q2"),
        ],
        "A2 bis",
    );
    // Edit the first question.
    exchange(&h, Some(&id), &[(Role::User, "Q1 edited")], "A1 new");
    let texts: Vec<_> = h
        .get(&id)
        .unwrap()
        .messages
        .iter()
        .map(|m| m.content.clone())
        .collect();
    assert_eq!(texts, ["Q1 edited", "A1 new"]);
}

#[test]
fn a_failed_empty_answer_stays_when_the_conversation_goes_on() {
    let (_d, h) = open();
    let req = request(&[(Role::User, "Q1")]);
    let (id, a) = h
        .begin_answer(&AnswerStart {
            conversation_id: None,
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap();
    let mut failed = done("");
    failed.outcome = Outcome::Error;
    failed.error = Some(AppError::new(ErrorCode::Forbidden, "no permission"));
    h.finish_answer(a, &failed).unwrap();
    exchange(
        &h,
        Some(&id),
        &[(Role::User, "Q1"), (Role::User, "Q1 again")],
        "A",
    );
    let c = h.get(&id).unwrap();
    let statuses: Vec<_> = c.messages.iter().map(|m| m.status).collect();
    assert_eq!(
        statuses,
        [
            MessageStatus::Complete,
            MessageStatus::Error,
            MessageStatus::Complete,
            MessageStatus::Complete
        ]
    );
    assert_eq!(
        c.messages[1].error.as_ref().unwrap().code,
        ErrorCode::Forbidden
    );
}

#[test]
fn an_answer_cut_by_a_crash_is_kept_and_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let id = {
        let h = History::open(&path).unwrap();
        let req = request(&[(Role::User, "Long story please")]);
        let (id, a) = h
            .begin_answer(&AnswerStart {
                conversation_id: None,
                request: &req,
                mode: CallMode::Routed,
                pane: 0,
                kind: "chat",
            })
            .unwrap();
        h.save_partial(a, "Once upon a time", "").unwrap();
        // The app dies here: no finish.
        std::mem::forget(h);
        id
    };
    let h = History::open(&path).unwrap();
    let c = h.get(&id).unwrap();
    assert_eq!(c.messages[1].content, "Once upon a time");
    assert_eq!(c.messages[1].status, MessageStatus::Interrupted);
    // It can be continued.
    exchange(
        &h,
        Some(&id),
        &[
            (Role::User, "Long story please"),
            (Role::Assistant, "Once upon a time"),
            (Role::User, "Go on"),
        ],
        "there was a database.",
    );
    assert_eq!(h.get(&id).unwrap().messages.len(), 4);
}

#[test]
fn search_finds_words_inside_old_answers_with_marks_and_filters() {
    let (_d, h) = open();
    let a = exchange(
        &h,
        None,
        &[(Role::User, "Tell me about birds")],
        "Most birds can fly, but the flightless cassowary cannot, and penguins swim instead.",
    );
    let b = exchange(
        &h,
        None,
        &[(Role::User, "Cassowary facts")],
        "They live in Australia.",
    );
    let hits = h
        .search(&SearchQuery {
            text: "cassow".into(),
            ..SearchQuery::default()
        })
        .unwrap();
    // The title of b, then messages newest first.
    assert_eq!(hits[0].conversation_id, b);
    assert_eq!(hits[0].message_id, None);
    assert!(
        hits[0].snippet.contains("\u{E000}Cassowary\u{E001}"),
        "{:?}",
        hits[0]
    );
    let in_a = hits
        .iter()
        .find(|x| x.conversation_id == a && x.message_id.is_some())
        .unwrap();
    assert!(
        in_a.snippet.contains("\u{E000}cassowary\u{E001}"),
        "{:?}",
        in_a.snippet
    );
    assert_eq!(in_a.role, Some(Role::Assistant));

    let none = h
        .search(&SearchQuery {
            text: "cassowary".into(),
            provider: Some("together".into()),
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let some = h
        .search(&SearchQuery {
            text: "penguins".into(),
            provider: Some("groq".into()),
            model: Some("openai/gpt-oss-120b".into()),
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(some.len(), 1);
    // Syntax in the query is just text.
    assert!(h
        .search(&SearchQuery {
            text: "\"(NEAR* OR".into(),
            ..SearchQuery::default()
        })
        .is_ok());
    // Trashed conversations are not found.
    h.trash(&a).unwrap();
    let hits = h
        .search(&SearchQuery {
            text: "penguins".into(),
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(hits.is_empty());
    let (models, providers) = h.facets().unwrap();
    assert_eq!(models, ["openai/gpt-oss-120b"]);
    assert_eq!(providers, ["groq"]);
}

#[test]
fn the_sidebar_pages_through_every_conversation_once_in_order() {
    let (_d, h) = open();
    let ids: Vec<String> = (0..7)
        .map(|i| exchange(&h, None, &[(Role::User, &format!("Q{i}"))], "A"))
        .collect();
    h.set_pinned(&ids[2], true).unwrap();
    h.trash(&ids[5]).unwrap();
    h.trash(&ids[6]).unwrap();
    for trash in [false, true] {
        let all: Vec<String> = h.list(trash).unwrap().into_iter().map(|c| c.id).collect();
        let mut paged = Vec::new();
        let mut after: Option<ListCursor> = None;
        loop {
            let page = h.list_page(trash, after.as_ref(), Some(2)).unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(ListCursor {
                pinned: last.pinned,
                at: if trash {
                    last.deleted_at.unwrap()
                } else {
                    last.updated_at
                },
                id: last.id.clone(),
            });
            paged.extend(page.into_iter().map(|c| c.id));
        }
        assert_eq!(paged, all);
    }
    let list: Vec<String> = h.list(false).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(list, [2, 4, 3, 1, 0].map(|i| ids[i].clone()));
    assert_eq!(h.list(true).unwrap().len(), 2);
}

#[test]
fn rename_pin_trash_restore_and_purge() {
    let (_d, h) = open();
    let a = exchange(&h, None, &[(Role::User, "First")], "1");
    let b = exchange(&h, None, &[(Role::User, "Second")], "2");
    // Newest first, pinned on top.
    let order = |h: &History| {
        h.list(false)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&h), [b.clone(), a.clone()]);
    h.set_pinned(&a, true).unwrap();
    assert_eq!(order(&h), [a.clone(), b.clone()]);
    h.rename(&a, "  My   pinned  ").unwrap();
    assert_eq!(h.get(&a).unwrap().summary.title, "My pinned");
    assert_eq!(
        h.rename(&a, " ").unwrap_err().code,
        ErrorCode::InvalidRequest
    );
    h.trash(&b).unwrap();
    assert_eq!(order(&h), vec![a.clone()]);
    assert_eq!(h.list(true).unwrap()[0].id, b);
    h.restore(&b).unwrap();
    assert_eq!(h.list(true).unwrap().len(), 0);
    assert_eq!(
        h.trash("nope").unwrap_err().code,
        ErrorCode::NoSuchConversation
    );
    // Trash older than 30 days goes at the next start.
    h.trash(&b).unwrap();
    let old = now_ms() - (TRASH_DAYS + 1) * 24 * 3600 * 1000;
    h.conn()
        .execute(
            "UPDATE conversations SET deleted_at = ?1 WHERE id = ?2",
            params![old, b],
        )
        .unwrap();
    h.recover().unwrap();
    assert_eq!(h.get(&b).unwrap_err().code, ErrorCode::NoSuchConversation);
}

#[test]
fn export_then_import_into_a_fresh_history_is_exact_and_duplicates_are_skipped() {
    let (_d, h) = open();
    let a = exchange(
        &h,
        None,
        &[(Role::User, "Export me «ünïcode» \"quotes\"")],
        "Sure: `code`.",
    );
    h.set_pinned(&a, true).unwrap();
    let json = export::to_json(h.all().unwrap(), 5);
    let (_d2, fresh) = open();
    let file = export::from_json(json.as_bytes()).unwrap();
    let report = fresh.import(&file.conversations).unwrap();
    assert_eq!(
        report,
        ImportReport {
            imported: 1,
            duplicates: 0,
            pictures: 0,
            attachments: 0,
            embeddings: 0,
            speech: 0,
            videos: 0
        }
    );
    assert_eq!(fresh.all().unwrap(), h.all().unwrap());
    assert_eq!(export::to_json(fresh.all().unwrap(), 5), json);
    let again = fresh.import(&file.conversations).unwrap();
    assert_eq!(
        again,
        ImportReport {
            imported: 0,
            duplicates: 1,
            pictures: 0,
            attachments: 0,
            embeddings: 0,
            speech: 0,
            videos: 0
        }
    );
    let md = export::to_markdown(&h.get(&a).unwrap());
    assert!(md.starts_with("# Export me «ünïcode» \"quotes\"\n"), "{md}");
    assert!(
        md.contains("## Assistant (openai/gpt-oss-120b via groq)"),
        "{md}"
    );
    assert_eq!(export::file_name("A/b: c?", "md"), "A-b-c.md");
}

#[test]
fn bad_import_files_are_refused_and_change_nothing() {
    let (_d, h) = open();
    exchange(&h, None, &[(Role::User, "Keep me")], "ok");
    let before = h.all().unwrap();
    let good = export::to_json(before.clone(), 1);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"hello".to_vec(), "not JSON"),
        (good.as_bytes()[..good.len() / 2].to_vec(), "cut short"),
        (
            br#"{"format":"other","version":1}"#.to_vec(),
            "not a Switchboard export",
        ),
        (
            good.replace("\"version\": 1", "\"version\": 99")
                .into_bytes(),
            "newer version",
        ),
        (
            br#"{"format":"switchboard.history","version":1,"conversations":[{"id":3}]}"#.to_vec(),
            "damaged",
        ),
        (
            good.replace("\"kind\": \"chat\"", "\"kind\": \"<img src=x>\"")
                .into_bytes(),
            "unknown kind",
        ),
    ];
    for (bytes, words) in cases {
        let e = export::from_json(&bytes).unwrap_err();
        assert_eq!(e.code, ErrorCode::ImportInvalid);
        assert!(e.message.contains(words), "{words}: {}", e.message);
    }
    assert_eq!(h.all().unwrap(), before);
}

#[test]
fn a_damaged_or_newer_database_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let garbage = b"this is not a database, but someone's file".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let e = History::open(&path).err().unwrap();
    assert_eq!(e.code, ErrorCode::HistoryUnavailable, "{e:?}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);

    let newer = dir.path().join("newer.sqlite3");
    {
        let c = Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let bytes = std::fs::read(&newer).unwrap();
    let e = History::open(&newer).err().unwrap();
    assert_eq!(e.code, ErrorCode::HistoryUnavailable);
    assert!(e.message.contains("newer version"), "{}", e.message);
    assert_eq!(std::fs::read(&newer).unwrap(), bytes);
}

#[test]
fn a_read_only_history_can_be_read_but_says_it_cannot_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite3");
    let id = {
        let h = History::open(&path).unwrap();
        exchange(&h, None, &[(Role::User, "Read me later")], "ok")
    };
    let h = History::open_read_only(&path).unwrap();
    assert!(h.is_read_only());
    assert_eq!(h.get(&id).unwrap().messages.len(), 2);
    assert_eq!(
        h.rename(&id, "x").unwrap_err().code,
        ErrorCode::HistoryReadOnly
    );
}

#[test]
fn a_full_disk_is_a_clear_error_and_keeps_what_was_saved() {
    let (_d, h) = open();
    let id = exchange(&h, None, &[(Role::User, "Before the disk filled")], "ok");
    {
        let conn = h.conn();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "max_page_count", pages).unwrap();
    }
    let big = "x".repeat(200_000);
    let req = request(&[(Role::User, big.as_str())]);
    let e = h
        .begin_answer(&AnswerStart {
            conversation_id: Some(&id),
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DiskFull, "{e:?}");
    assert_eq!(h.get(&id).unwrap().messages.len(), 2);
}

#[test]
fn titles_come_from_the_first_line() {
    assert_eq!(title_from("\n  Hello   world \nmore"), "Hello world");
    assert_eq!(title_from(""), "New conversation");
    let long = "word ".repeat(30);
    let t = title_from(&long);
    assert!(t.ends_with('…') && t.chars().count() <= 61, "{t}");
}

#[test]
fn routing_and_policy_round_trip() {
    let (_d, h) = open();
    let mut req = request(&[(Role::User, "auto")]);
    req.routing = Routing::Auto {
        policy: Policy::Cheapest,
    };
    req.bill_to = Some("acme".into());
    let (id, _) = h
        .begin_answer(&AnswerStart {
            conversation_id: None,
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap();
    let c = h.get(&id).unwrap();
    assert_eq!(c.routing, Some(req.routing.clone()));
    assert_eq!(c.bill_to.as_deref(), Some("acme"));
}

#[test]
fn compare_panes_keep_their_own_threads() {
    let (_d, h) = open();
    let id = "cmp1";
    let round = |pane: u32, sent: &[(Role, &str)], answer: &str| {
        let req = request(sent);
        let (_, a) = h
            .begin_answer(&AnswerStart {
                conversation_id: Some(id),
                request: &req,
                mode: CallMode::Routed,
                pane,
                kind: "compare",
            })
            .unwrap();
        h.finish_answer(a, &done(answer)).unwrap();
    };
    round(0, &[(Role::User, "Q")], "A0");
    round(1, &[(Role::User, "Q")], "A1");
    round(
        0,
        &[
            (Role::User, "Q"),
            (Role::Assistant, "A0"),
            (Role::User, "Q2"),
        ],
        "B0",
    );
    round(
        1,
        &[
            (Role::User, "Q"),
            (Role::Assistant, "A1"),
            (Role::User, "Q2"),
        ],
        "B1",
    );
    let c = h.get(id).unwrap();
    assert_eq!(c.summary.kind, "compare");
    let pane = |p: u32| {
        c.messages
            .iter()
            .filter(|m| m.pane == p)
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(pane(0), ["Q", "A0", "Q2", "B0"]);
    assert_eq!(pane(1), ["Q", "A1", "Q2", "B1"]);
}

#[test]
fn a_locked_history_says_so_in_plain_words_not_as_a_bug() {
    let (dir, h) = open();
    let id = exchange(&h, None, &[(Role::User, "Hello")], "Hi.");
    // Another program holds the write lock for longer than the history waits.
    let other = rusqlite::Connection::open(dir.path().join("history.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = h.rename(&id, "New title").unwrap_err();
    assert_eq!(err.code, ErrorCode::HistoryBusy, "{err:?}");
    assert!(err.message.contains("in use"), "{}", err.message);
    other.execute_batch("ROLLBACK").unwrap();
    h.rename(&id, "New title").unwrap();
}

#[test]
fn saving_a_partial_answer_that_is_no_longer_there_is_an_error() {
    let (_d, h) = open();
    let req = request(&[(Role::User, "Hello")]);
    let (id, answer_id) = h
        .begin_answer(&AnswerStart {
            conversation_id: None,
            request: &req,
            mode: CallMode::Routed,
            pane: 0,
            kind: "chat",
        })
        .unwrap();
    h.save_partial(answer_id, "Hi", "").unwrap();
    h.delete_forever(&id).unwrap();
    let err = h.save_partial(answer_id, "Hi there", "").unwrap_err();
    assert_eq!(err.code, ErrorCode::NoSuchConversation, "{err:?}");
}

#[test]
fn an_import_file_too_large_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // Sparse: it takes no room on the disk, and reading it would take 600 MB of memory.
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(export::MAX_IMPORT_BYTES + 1).unwrap();
    let started = std::time::Instant::now();
    let e = export::read_file(&path).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImportInvalid);
    assert!(e.message.contains("too large"), "{}", e.message);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn an_import_file_is_read_from_disk_exactly() {
    let (dir, h) = open();
    exchange(&h, None, &[(Role::User, "Keep me")], "ok");
    let all = h.all().unwrap();
    let path = dir.path().join("backup.json");
    std::fs::write(&path, export::to_json(all.clone(), 1)).unwrap();
    assert_eq!(export::read_file(&path).unwrap().conversations, all);
}

fn start<'a>(h: &History, conv: Option<&'a str>, req: &'a ChatRequest) -> (String, i64) {
    h.begin_answer(&AnswerStart {
        conversation_id: conv,
        request: req,
        mode: CallMode::Routed,
        pane: 0,
        kind: "chat",
    })
    .unwrap()
}

#[test]
fn attached_pictures_are_kept_with_their_message_and_round_trip() {
    let (_d, h) = open();
    let mut req = request(&[(Role::User, "What is in this picture?")]);
    req.messages[0].images = vec!["aa11.png".into(), "bb22.jpg".into()];
    let (id, answer) = start(&h, None, &req);
    h.finish_answer(answer, &done("A cat.")).unwrap();
    let c = h.get(&id).unwrap();
    assert_eq!(c.messages[0].images, ["aa11.png", "bb22.jpg"]);
    assert!(c.messages[1].images.is_empty());

    // The same turn sent again keeps it; the same words with other pictures is an edit.
    req.messages.push(ChatMessage {
        role: Role::Assistant,
        content: "A cat.".into(),
        images: Vec::new(),
    });
    req.messages.push(ChatMessage {
        role: Role::User,
        content: "And its colour?".into(),
        images: Vec::new(),
    });
    let (_, answer) = start(&h, Some(&id), &req);
    h.finish_answer(answer, &done("Grey.")).unwrap();
    assert_eq!(h.get(&id).unwrap().messages.len(), 4);
    let mut edited = request(&[(Role::User, "What is in this picture?")]);
    edited.messages[0].images = vec!["cc33.png".into()];
    let (_, answer) = start(&h, Some(&id), &edited);
    h.finish_answer(answer, &done("A dog.")).unwrap();
    let c = h.get(&id).unwrap();
    assert_eq!(c.messages.len(), 2, "the edit dropped what followed");
    assert_eq!(c.messages[0].images, ["cc33.png"]);

    // Export and import bring the references back exactly.
    let json = export::to_json(h.all().unwrap(), 5);
    assert!(
        json.contains("\"images\": [\n            \"cc33.png\""),
        "{json}"
    );
    let file = export::from_json(json.as_bytes()).unwrap();
    let (_d2, fresh) = open();
    fresh.import(&file.conversations).unwrap();
    assert_eq!(fresh.all().unwrap(), h.all().unwrap());
}

#[test]
fn deleting_forever_names_the_pictures_nothing_else_uses() {
    let (_d, h) = open();
    let mut a = request(&[(Role::User, "One")]);
    a.messages[0].images = vec!["aa11.png".into(), "shared.png".into()];
    let mut b = request(&[(Role::User, "Two")]);
    b.messages[0].images = vec!["shared.png".into()];
    let (first, _) = start(&h, None, &a);
    let (second, _) = start(&h, None, &b);
    h.trash(&first).unwrap();
    assert_eq!(h.delete_forever(&first).unwrap(), ["aa11.png"]);
    assert_eq!(h.delete_forever(&second).unwrap(), ["shared.png"]);
    assert_eq!(
        h.delete_forever(&second).unwrap_err().code,
        ErrorCode::NoSuchConversation
    );
}
