//! Pictures in chat, against the HF test double: an attached picture is checked by its bytes,
//! kept under its hash, sent as an OpenAI image content part on the chosen route, kept with the
//! message, carried by a full backup and brought back by import; a model that takes no image
//! input refuses it before anything is sent.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hf_double::tokens;
use serde_json::json;
use switchboard_core::call::{CallResult, ChatEvent, ChatMessage, ChatRequest, Outcome, Role};
use switchboard_core::error::ErrorCode;
use switchboard_core::service::chat::EventSink;

mod support;
use support::{pinned, request, services_on_double, OnDouble};

const VISION: &str = "Qwen/Qwen2.5-VL-72B-Instruct";

/// The smallest PNG there is: one transparent pixel.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn sink() -> EventSink {
    let events: Arc<Mutex<Vec<ChatEvent>>> = Arc::default();
    Box::new(move |e| events.lock().unwrap().push(e))
}

fn asking(model: &str, file: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: "What is in this picture?".into(),
            images: vec![file.into()],
        }],
        ..request(pinned("together"))
    }
}

fn chat_bodies(f: &OnDouble) -> Vec<serde_json::Value> {
    f.double
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.json().unwrap())
        .collect()
}

async fn send(f: &OnDouble, req: ChatRequest) -> (Option<String>, CallResult) {
    let (started, task) = f.services.chat_call(None, None, req, sink()).await.unwrap();
    (started.conversation_id, task.await.unwrap())
}

#[tokio::test]
async fn an_attached_picture_goes_as_an_image_part_and_stays_with_the_message() {
    let f = services_on_double(tokens::PRO_TOKEN).await;
    let catalog = f.services.catalog_refresh(true).await.unwrap();
    let vision = catalog.model(VISION).unwrap();
    assert!(vision.input_modalities.iter().any(|m| m == "image"));

    // A pasted picture is checked and kept under the hash of its bytes, whatever it claims.
    let kept = f
        .services
        .chat_attach_data(data_url("image/jpeg", PIXEL_PNG))
        .await
        .unwrap();
    assert_eq!(kept.mime, "image/png");
    assert!(kept.file.ends_with(".png") && kept.file.len() == 64 + 4);
    let on_disk = f.dir.path().join("data/images").join(&kept.file);
    assert_eq!(std::fs::read(&on_disk).unwrap(), PIXEL_PNG);
    let not_a_picture = f
        .services
        .chat_attach_data(data_url("image/png", b"<html>hello</html>"))
        .await
        .unwrap_err();
    assert_eq!(not_a_picture.code, ErrorCode::NotAnImage);

    f.double.clear_requests();
    let (conv, result) = send(&f, asking(VISION, &kept.file)).await;
    assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);
    let bodies = chat_bodies(&f);
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["messages"][0],
        json!({"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": data_url("image/png", PIXEL_PNG)}}
        ]})
    );
    assert_eq!(bodies[0]["model"], format!("{VISION}:together"));

    // Kept with the message; the next turn sends the picture again, as part of the thread.
    let h = f.services.history.get().unwrap();
    let c = h.get(conv.as_deref().unwrap()).unwrap();
    assert_eq!(c.messages[0].images, std::slice::from_ref(&kept.file));
    let mut next = asking(VISION, &kept.file);
    next.messages.push(ChatMessage {
        role: Role::Assistant,
        content: c.messages[1].content.clone(),
        images: Vec::new(),
    });
    next.messages.push(ChatMessage {
        role: Role::User,
        content: "And the colour?".into(),
        images: Vec::new(),
    });
    f.double.clear_requests();
    let (started, task) = f
        .services
        .chat_call(conv.clone(), None, next, sink())
        .await
        .unwrap();
    assert_eq!(started.conversation_id, conv);
    assert_eq!(task.await.unwrap().outcome, Outcome::Complete);
    let body = &chat_bodies(&f)[0];
    assert_eq!(body["messages"][0]["content"][1]["type"], "image_url");
    assert_eq!(body["messages"][2]["content"], "And the colour?");
    assert_eq!(h.get(conv.as_deref().unwrap()).unwrap().messages.len(), 4);

    // A full backup carries the picture; a fresh data folder gets it back under its name.
    let backup = f.dir.path().join("backup.json");
    std::fs::write(&backup, f.services.history_export_all_text().unwrap()).unwrap();
    let g = services_on_double(tokens::PRO_TOKEN).await;
    let report = g.services.history_import_file(&backup).await.unwrap();
    assert_eq!((report.imported, report.attachments), (1, 1));
    let back = g.services.history.get().unwrap();
    let c = back.get(conv.as_deref().unwrap()).unwrap();
    assert_eq!(c.messages[0].images, std::slice::from_ref(&kept.file));
    assert_eq!(
        g.services.image_data_url(kept.file.clone()).await.unwrap(),
        data_url("image/png", PIXEL_PNG)
    );

    // Deleted from the trash: the conversation and its picture's file go.
    f.services
        .history_blocking({
            let id = conv.clone().unwrap();
            move |h| h.trash(&id)
        })
        .await
        .unwrap();
    f.services
        .history_delete_forever(conv.clone().unwrap())
        .await
        .unwrap();
    assert!(!on_disk.exists());
}

#[tokio::test]
async fn a_model_that_takes_no_image_input_refuses_pictures_before_sending() {
    let f = services_on_double(tokens::PRO_TOKEN).await;
    f.services.catalog_refresh(true).await.unwrap();
    let kept = f
        .services
        .chat_attach_data(data_url("image/png", PIXEL_PNG))
        .await
        .unwrap();
    f.double.clear_requests();
    let err = f
        .services
        .chat_call(None, None, asking(support::MODEL, &kept.file), sink())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ImageInputUnsupported);
    assert!(chat_bodies(&f).is_empty(), "nothing was sent");
    assert!(f
        .services
        .history
        .get()
        .unwrap()
        .list(false)
        .unwrap()
        .is_empty());

    // A name that is not one the app gives is never read.
    let err = f
        .services
        .chat_call(None, None, asking(VISION, "../../etc/passwd"), sink())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(chat_bodies(&f).is_empty());
}
