//! The double's text-to-image replay: each recorded provider's protocol, and the image faults.

use hf_double::tokens::{FREE_TOKEN, PROVIDER_KEY};
use hf_double::{default_fixtures_dir, Fault, HfDouble, Target, NSFW_MESSAGE};
use serde_json::{json, Value};
use std::time::Duration;

async fn double() -> HfDouble {
    HfDouble::start(&default_fixtures_dir())
        .await
        .expect("double starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn is_picture(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG") || b.starts_with(b"\xff\xd8\xff") || b.starts_with(b"RIFF")
}

async fn post(url: &str, auth: &str, body: Value) -> reqwest::Response {
    client()
        .post(url)
        .header("authorization", auth)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get_json(url: &str, auth: Option<&str>) -> Value {
    let mut r = client().get(url);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    r.send().await.unwrap().json().await.unwrap()
}

async fn download(url: &str) -> Vec<u8> {
    assert!(url.contains("/ext/"), "{url}");
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn synchronous_providers_answer_bytes_or_base64() {
    let d = double().await;
    let bearer = format!("Bearer {FREE_TOKEN}");
    let r = post(
        &format!(
            "{}/hf-inference/models/CompVis/stable-diffusion-v1-4",
            d.router_url()
        ),
        &bearer,
        json!({"inputs": "a horse"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(is_picture(&r.bytes().await.unwrap()));
    for p in ["together", "nebius", "hyperbolic"] {
        let r = post(
            &format!("{}/{p}/v1/images/generations", d.router_url()),
            &bearer,
            json!({"prompt": "a horse"}),
        )
        .await;
        assert_eq!(r.status(), 200, "{p}");
        let v: Value = r.json().await.unwrap();
        let b64 = v["data"][0]["b64_json"]
            .as_str()
            .or(v["images"][0]["image"].as_str());
        assert!(b64.is_some_and(|b| b.len() > 1000), "{p}");
    }
    // Own key, straight to together.
    let r = post(
        &format!("{}/v1/images/generations", d.provider_base("together")),
        &format!("Bearer {PROVIDER_KEY}"),
        json!({"prompt": "a horse"}),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn fal_queue_then_result_then_picture_without_credential() {
    let d = double().await;
    for (base, auth) in [
        (
            format!("{}/fal-ai/fal-ai/flux/dev?_subdomain=queue", d.router_url()),
            format!("Bearer {FREE_TOKEN}"),
        ),
        (
            format!("{}/fal-ai/flux/dev", d.provider_base("fal-ai")),
            format!("Key {PROVIDER_KEY}"),
        ),
    ] {
        let v: Value = post(&base, &auth, json!({"prompt": "a horse"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "IN_QUEUE");
        let status_url = v["status_url"].as_str().unwrap().to_string();
        let mut seen = Vec::new();
        loop {
            let s = get_json(&status_url, Some(&auth)).await;
            let st = s["status"].as_str().unwrap().to_string();
            seen.push(st.clone());
            if st == "COMPLETED" {
                break;
            }
            assert!(seen.len() < 5, "{seen:?}");
        }
        assert_eq!(seen, ["IN_QUEUE", "COMPLETED"]);
        let result = get_json(v["response_url"].as_str().unwrap(), Some(&auth)).await;
        assert_eq!(result["seed"], 3131504498u64);
        let url = result["images"][0]["url"].as_str().unwrap();
        assert!(is_picture(&download(url).await));
    }
    let files: Vec<_> = d
        .requests()
        .into_iter()
        .filter(|r| matches!(r.target, Target::External { .. }))
        .collect();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|r| r.credential().is_none()));
}

#[tokio::test]
async fn replicate_waits_or_is_polled_and_can_be_cancelled() {
    let d = double().await;
    let auth = format!("Bearer {FREE_TOKEN}");
    let url = format!("{}/replicate/v1/predictions", d.router_url());
    // As recorded: the answer to `Prefer: wait` already has the picture.
    let r = post(
        &url,
        &auth,
        json!({"input": {"prompt": "x"}, "version": "v"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let out = v["output"][0].as_str().unwrap();
    assert!(is_picture(&download(out).await));
    // A job that outlives the wait: polled at urls.get (rewritten to the router).
    d.push_fault(Fault::job_pending(2));
    let v: Value = post(&url, &auth, json!({"input": {"prompt": "x"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "starting");
    let get = v["urls"]["get"].as_str().unwrap().to_string();
    assert!(get.starts_with(&d.router_url()), "{get}");
    let mut statuses = Vec::new();
    loop {
        let p = get_json(&get, Some(&auth)).await;
        statuses.push(p["status"].as_str().unwrap().to_string());
        if p["output"].is_array() {
            break;
        }
    }
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    // Cancelled.
    d.push_fault(Fault::job_pending(5));
    let v: Value = post(&url, &auth, json!({"input": {"prompt": "x"}}))
        .await
        .json()
        .await
        .unwrap();
    let cancel = v["urls"]["cancel"].as_str().unwrap().to_string();
    let c: Value = post(&cancel, &auth, json!({})).await.json().await.unwrap();
    assert_eq!(c["status"], "canceled");
    // Flagged.
    d.push_fault(Fault::content_flagged());
    let v: Value = post(&url, &auth, json!({"input": {"prompt": "x"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error"], NSFW_MESSAGE);
}

#[tokio::test]
async fn black_forest_labs_polls_with_progress_and_stalls_until_released() {
    let d = double().await;
    let auth = format!("Bearer {FREE_TOKEN}");
    let url = format!("{}/black-forest-labs/v1/flux-dev", d.router_url());
    d.push_fault(Fault::job_stall());
    let v: Value = post(&url, &auth, json!({"prompt": "x"}))
        .await
        .json()
        .await
        .unwrap();
    let poll = v["polling_url"].as_str().unwrap().to_string();
    assert!(poll.contains("/ext/api.us1.bfl.ai/"), "{poll}");
    for _ in 0..6 {
        assert_eq!(get_json(&poll, None).await["status"], "Pending");
    }
    d.clear_faults();
    let mut last = Value::Null;
    for _ in 0..10 {
        last = get_json(&poll, None).await;
        if last["status"] != "Pending" {
            break;
        }
    }
    assert_eq!(last["status"], "Ready");
    let sample = last["result"]["sample"].as_str().unwrap();
    assert!(is_picture(&download(sample).await));
}

#[tokio::test]
async fn size_refusals_and_failed_jobs() {
    let d = double().await;
    let auth = format!("Bearer {FREE_TOKEN}");
    d.push_fault(Fault::image_size_refused().once());
    let r = post(
        &format!("{}/together/v1/images/generations", d.router_url()),
        &auth,
        json!({"prompt": "x", "width": 9999}),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Invalid size"));
    d.push_fault(Fault::job_timed_out());
    let v: Value = post(
        &format!("{}/fal-ai/fal-ai/flux/dev?_subdomain=queue", d.router_url()),
        &auth,
        json!({"prompt": "x"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let status = v["status_url"].as_str().unwrap();
    while get_json(status, Some(&auth)).await["status"] != "COMPLETED" {}
    let r = client()
        .get(v["response_url"].as_str().unwrap())
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("timed out"));
}
