//! The double's text-to-video and image-to-video jobs: each provider's protocol, routed and
//! direct, the credentials, cancel, and the video faults.

use hf_double::tokens::{PROVIDER_KEY, PRO_TOKEN};
use hf_double::video::{
    self, FAL_I2V, FAL_T2V, I2V_MODEL, NOVITA_T2V, REPLICATE_I2V, REPLICATE_T2V, SAMPLE_WEBM,
    T2V_MODEL, WAVESPEED_I2V, WAVESPEED_T2V,
};
use hf_double::{default_fixtures_dir, Fault, HfDouble, Target, NSFW_MESSAGE};
use serde_json::{json, Value};
use std::time::Duration;

const PNG_DATA_URL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==";

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

/// How a test reaches a provider: its base URL and the credential it sends there.
struct Route {
    provider: &'static str,
    base: String,
    auth: String,
}

fn routed(d: &HfDouble, provider: &'static str) -> Route {
    Route {
        provider,
        base: format!("{}/{provider}", d.router_url()),
        auth: format!("Bearer {PRO_TOKEN}"),
    }
}

fn direct(d: &HfDouble, provider: &'static str) -> Route {
    let scheme = if provider == "fal-ai" {
        "Key"
    } else {
        "Bearer"
    };
    Route {
        provider,
        base: d.provider_base(provider),
        auth: format!("{scheme} {PROVIDER_KEY}"),
    }
}

async fn send(method: reqwest::Method, url: &str, auth: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = client().request(method, url).header("authorization", auth);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get(url: &str, auth: &str) -> (u16, Value) {
    send(reqwest::Method::GET, url, auth, None).await
}

/// The POST that makes a job, and its body, for a provider model.
fn create_request(r: &Route, model: &str, i2v: bool) -> (String, Value) {
    let prompt = "a red fox running through snow";
    match r.provider {
        "fal-ai" => {
            let url = if r.base.contains("/router/") {
                format!("{}/{model}?_subdomain=queue", r.base)
            } else {
                format!("{}/{model}", r.base)
            };
            let mut b = json!({"prompt": prompt});
            if i2v {
                b["image_url"] = json!(PNG_DATA_URL);
            }
            (url, b)
        }
        "replicate" => {
            let mut b = json!({"input": {"prompt": prompt}});
            if i2v {
                b["input"]["image"] = json!(PNG_DATA_URL);
            }
            (format!("{}/v1/models/{model}/predictions", r.base), b)
        }
        "together" => {
            let mut b = json!({"model": model, "prompt": prompt, "seconds": "5", "width": 832, "height": 480, "seed": 7});
            if i2v {
                b["frame_images"] = json!([{"input_image": PNG_DATA_URL, "frame": 0}]);
            }
            (format!("{}/v2/videos", r.base), b)
        }
        "novita" => (
            format!("{}/v3/async/{model}", r.base),
            json!({"prompt": prompt, "width": 832, "height": 480, "seed": 7, "steps": 30}),
        ),
        _ => {
            let mut b = json!({"prompt": prompt, "seed": 7});
            if i2v {
                b["image"] = json!(PNG_DATA_URL);
            }
            (format!("{}/api/v3/{model}", r.base), b)
        }
    }
}

/// Where to poll the job the POST made.
fn poll_url(r: &Route, made: &Value) -> String {
    match r.provider {
        "fal-ai" => made["status_url"].as_str().unwrap().to_string(),
        "replicate" => made["urls"]["get"].as_str().unwrap().to_string(),
        "together" => format!("{}/v2/videos/{}", r.base, made["id"].as_str().unwrap()),
        "novita" => format!(
            "{}/v3/async/task-result?task_id={}",
            r.base,
            made["task_id"].as_str().unwrap()
        ),
        _ => made["data"]["urls"]["get"].as_str().unwrap().to_string(),
    }
}

fn status_of(provider: &str, v: &Value) -> String {
    let s = match provider {
        "novita" => &v["task"]["status"],
        "wavespeed" => &v["data"]["status"],
        _ => &v["status"],
    };
    s.as_str().unwrap_or_default().to_string()
}

/// The states a job goes through, polled from its creation to its end.
fn expected_states(provider: &str) -> [&'static str; 4] {
    match provider {
        "fal-ai" => ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"],
        "replicate" => ["starting", "processing", "processing", "succeeded"],
        "together" => ["queued", "in_progress", "in_progress", "completed"],
        "novita" => [
            "TASK_STATUS_QUEUED",
            "TASK_STATUS_PROCESSING",
            "TASK_STATUS_PROCESSING",
            "TASK_STATUS_SUCCEED",
        ],
        _ => ["created", "processing", "processing", "completed"],
    }
}

/// Makes a job, checks what the POST answered, and returns its poll URL.
async fn make(r: &Route, model: &str, i2v: bool) -> (String, Value) {
    let (url, body) = create_request(r, model, i2v);
    let (status, made) = send(reqwest::Method::POST, &url, &r.auth, Some(body)).await;
    let want = if r.provider == "replicate" { 201 } else { 200 };
    assert_eq!(status, want, "{} {made}", r.provider);
    match r.provider {
        "fal-ai" => {
            assert_eq!(made["status"], "IN_QUEUE");
            assert_eq!(made["queue_position"], 1);
            let id = made["request_id"].as_str().unwrap();
            let base = made["response_url"].as_str().unwrap();
            assert!(base.starts_with(&r.base) && base.ends_with(id), "{base}");
            assert_eq!(made["cancel_url"], format!("{base}/cancel"));
        }
        "replicate" => {
            assert_eq!(made["status"], "starting");
            assert_eq!(made["model"], model);
            assert!(made["output"].is_null());
        }
        "together" => {
            assert_eq!(made["status"], "queued");
            assert_eq!(made["object"], "video");
            assert_eq!(made["model"], model);
            assert!(made["id"].as_str().unwrap().starts_with("vid_"));
            assert!(made["created_at"].as_i64().unwrap() > 1_700_000_000);
        }
        "novita" => assert!(made["task_id"].as_str().is_some_and(|t| !t.is_empty())),
        _ => {
            assert_eq!(made["code"], 200);
            assert_eq!(made["data"]["status"], "created");
            assert_eq!(made["data"]["outputs"], json!([]));
        }
    }
    let poll = poll_url(r, &made);
    assert!(
        poll.starts_with(&r.base),
        "poll {poll} not under {}",
        r.base
    );
    (poll, made)
}

/// The video URL of a finished job (fal: fetched from its response URL).
async fn video_url_of(r: &Route, made: &Value, last: &Value) -> String {
    match r.provider {
        "fal-ai" => {
            let (status, res) = get(made["response_url"].as_str().unwrap(), &r.auth).await;
            assert_eq!(status, 200, "{res}");
            assert_eq!(res["video"]["content_type"], "video/webm");
            assert_eq!(res["video"]["file_size"], SAMPLE_WEBM.len());
            assert_eq!(res["seed"], 42);
            res["video"]["url"].as_str().unwrap().to_string()
        }
        "replicate" => {
            assert!(last["metrics"]["predict_time"].as_f64().unwrap() > 0.0);
            last["output"].as_str().unwrap().to_string()
        }
        "together" => {
            assert_eq!(last["outputs"]["cost"], 0.35);
            last["outputs"]["video_url"].as_str().unwrap().to_string()
        }
        "novita" => {
            let v = &last["videos"][0];
            assert_eq!(v["video_type"], "webm");
            assert_eq!(v["video_url_ttl"], "3600");
            v["video_url"].as_str().unwrap().to_string()
        }
        _ => last["data"]["outputs"][0].as_str().unwrap().to_string(),
    }
}

/// Downloads a video with no credential and checks it is the WebM.
async fn download_webm(url: &str) {
    assert!(url.contains("/ext/"), "{url}");
    let resp = client().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(resp.headers()["content-type"], "video/webm");
    let b = resp.bytes().await.unwrap();
    assert_eq!(&b[..4], b"\x1a\x45\xdf\xa3");
    assert_eq!(&b[..], SAMPLE_WEBM);
}

/// Submits, polls through every state, and downloads the video.
async fn run_job(r: &Route, model: &str, i2v: bool) {
    let (poll, made) = make(r, model, i2v).await;
    let mut seen = Vec::new();
    let mut last = Value::Null;
    let mut progress = Vec::new();
    for _ in 0..4 {
        let (status, v) = get(&poll, &r.auth).await;
        assert_eq!(status, 200, "{} {v}", r.provider);
        seen.push(status_of(r.provider, &v));
        match r.provider {
            "fal-ai" if v["status"] == "IN_QUEUE" => progress.push(v["queue_position"].clone()),
            "novita" => {
                progress.push(json!([v["task"]["progress_percent"], v["task"]["eta"]]));
                assert_eq!(v["task"]["task_type"], "TXT_TO_VIDEO");
                if v["task"]["status"] != "TASK_STATUS_SUCCEED" {
                    assert_eq!(v["videos"], json!([]));
                }
            }
            _ => {}
        }
        last = v;
    }
    assert_eq!(seen, expected_states(r.provider), "{}", r.provider);
    match r.provider {
        "fal-ai" => assert_eq!(progress, vec![json!(0)]),
        "novita" => assert_eq!(
            progress,
            vec![
                json!([0, 8]),
                json!([33, 4]),
                json!([66, 2]),
                json!([100, 0])
            ]
        ),
        _ => {}
    }
    let url = video_url_of(r, &made, &last).await;
    download_webm(&url).await;
}

#[tokio::test]
async fn the_hub_lists_and_maps_the_video_models() {
    let d = double().await;
    let list = |task: &str| {
        let url = format!(
            "{}/api/models?inference_provider=all&pipeline_tag={task}&expand[]=inferenceProviderMapping&limit=100",
            d.hub_url()
        );
        async move {
            let (status, v) = get(&url, &format!("Bearer {PRO_TOKEN}")).await;
            assert_eq!(status, 200);
            v.as_array().unwrap().clone()
        }
    };
    let t2v = list("text-to-video").await;
    assert_eq!(t2v.len(), 1, "{t2v:?}");
    assert_eq!(t2v[0]["id"], T2V_MODEL);
    assert_eq!(t2v[0]["pipeline_tag"], "text-to-video");
    let providers: Vec<(&str, &str)> = t2v[0]["inferenceProviderMapping"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["status"], "live");
            assert_eq!(e["task"], "text-to-video");
            (
                e["provider"].as_str().unwrap(),
                e["providerId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        providers,
        [
            ("fal-ai", FAL_T2V),
            ("replicate", REPLICATE_T2V),
            ("together", T2V_MODEL),
            ("novita", NOVITA_T2V),
            ("wavespeed", WAVESPEED_T2V)
        ]
    );
    let i2v = list("image-to-video").await;
    assert_eq!(i2v.len(), 1);
    assert_eq!(i2v[0]["id"], I2V_MODEL);
    assert_eq!(
        i2v[0]["inferenceProviderMapping"].as_array().unwrap().len(),
        4
    );
    for other in ["text-to-image", "conversational"] {
        let l = list(other).await;
        assert!(!l.is_empty(), "{other}");
        assert!(
            l.iter()
                .all(|m| m["id"] != T2V_MODEL && m["id"] != I2V_MODEL),
            "{other}"
        );
    }
    // One model, expanded: the mapping as an object keyed by provider.
    let (status, m) = get(
        &format!(
            "{}/api/models/{I2V_MODEL}?expand[]=inferenceProviderMapping",
            d.hub_url()
        ),
        &format!("Bearer {PRO_TOKEN}"),
    )
    .await;
    assert_eq!(status, 200);
    let mapping = m["inferenceProviderMapping"].as_object().unwrap();
    assert_eq!(mapping.len(), 4);
    assert_eq!(mapping["fal-ai"]["providerId"], FAL_I2V);
    assert_eq!(mapping["replicate"]["providerId"], REPLICATE_I2V);
    assert_eq!(mapping["together"]["providerId"], I2V_MODEL);
    assert_eq!(mapping["wavespeed"]["providerId"], WAVESPEED_I2V);
    assert_eq!(mapping["wavespeed"]["task"], "image-to-video");
    assert!(mapping.get("novita").is_none());
    let (_, m) = get(
        &format!("{}/api/models/{T2V_MODEL}", d.hub_url()),
        &format!("Bearer {PRO_TOKEN}"),
    )
    .await;
    assert_eq!(m["pipeline_tag"], "text-to-video");
}

#[tokio::test]
async fn fal_queue_routed_and_direct() {
    let d = double().await;
    run_job(&routed(&d, "fal-ai"), FAL_T2V, false).await;
    run_job(&direct(&d, "fal-ai"), FAL_T2V, false).await;
    run_job(&routed(&d, "fal-ai"), FAL_I2V, true).await;
    run_job(&direct(&d, "fal-ai"), FAL_I2V, true).await;
    // Routed without the queue: the result at once.
    let (status, v) = send(
        reqwest::Method::POST,
        &format!("{}/fal-ai/{FAL_T2V}", d.router_url()),
        &format!("Bearer {PRO_TOKEN}"),
        Some(json!({"prompt": "a fox"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    download_webm(v["video"]["url"].as_str().unwrap()).await;
    // Image to video without its picture: fal's validation error.
    let (status, v) = send(
        reqwest::Method::POST,
        &format!("{}/fal-ai/{FAL_I2V}?_subdomain=queue", d.router_url()),
        &format!("Bearer {PRO_TOKEN}"),
        Some(json!({"prompt": "a fox"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "image_url"]));
    // The polls and the download were recorded, the download as another host's.
    let reqs = d.requests();
    assert!(reqs
        .iter()
        .any(|r| r.path.ends_with("/status") && r.target == Target::Router));
    assert!(reqs.iter().any(
        |r| matches!(&r.target, Target::External { host } if host == "v3.fal.media")
            && r.credential().is_none()
    ));
}

#[tokio::test]
async fn replicate_predictions_routed_and_direct() {
    let d = double().await;
    run_job(&routed(&d, "replicate"), REPLICATE_T2V, false).await;
    run_job(&direct(&d, "replicate"), REPLICATE_T2V, false).await;
    run_job(&routed(&d, "replicate"), REPLICATE_I2V, true).await;
    // `Prefer: wait` is ignored: still `starting`.
    let resp = client()
        .post(format!(
            "{}/replicate/v1/models/{REPLICATE_T2V}/predictions",
            d.router_url()
        ))
        .header("authorization", format!("Bearer {PRO_TOKEN}"))
        .header("prefer", "wait")
        .json(&json!({"input": {"prompt": "a fox"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], "starting");
    // Image to video without `input.image`.
    let (status, v) = send(
        reqwest::Method::POST,
        &format!(
            "{}/v1/models/{REPLICATE_I2V}/predictions",
            d.provider_base("replicate")
        ),
        &format!("Bearer {PROVIDER_KEY}"),
        Some(json!({"input": {"prompt": "a fox"}})),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("image"));
}

#[tokio::test]
async fn together_videos_routed_and_direct() {
    let d = double().await;
    run_job(&routed(&d, "together"), T2V_MODEL, false).await;
    run_job(&direct(&d, "together"), T2V_MODEL, false).await;
    run_job(&direct(&d, "together"), I2V_MODEL, true).await;
    // Image to video without a frame image.
    let (status, _) = send(
        reqwest::Method::POST,
        &format!("{}/together/v2/videos", d.router_url()),
        &format!("Bearer {PRO_TOKEN}"),
        Some(json!({"model": I2V_MODEL, "prompt": "a fox"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn novita_tasks_routed_and_direct() {
    let d = double().await;
    run_job(&routed(&d, "novita"), NOVITA_T2V, false).await;
    run_job(&direct(&d, "novita"), NOVITA_T2V, false).await;
}

#[tokio::test]
async fn wavespeed_predictions_routed_and_direct() {
    let d = double().await;
    run_job(&routed(&d, "wavespeed"), WAVESPEED_T2V, false).await;
    run_job(&direct(&d, "wavespeed"), WAVESPEED_T2V, false).await;
    run_job(&routed(&d, "wavespeed"), WAVESPEED_I2V, true).await;
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let d = double().await;
    for (provider, model) in [
        ("fal-ai", FAL_T2V),
        ("replicate", REPLICATE_T2V),
        ("together", T2V_MODEL),
        ("novita", NOVITA_T2V),
        ("wavespeed", WAVESPEED_T2V),
    ] {
        // A bad token routed, a Hugging Face token sent straight to the provider.
        let mut bad_routed = routed(&d, provider);
        bad_routed.auth = "Bearer hf_notARealToken".into();
        let mut bad_direct = direct(&d, provider);
        bad_direct.auth = format!("Bearer {PRO_TOKEN}");
        for r in [&bad_routed, &bad_direct] {
            let (url, body) = create_request(r, model, false);
            let (status, _) = send(reqwest::Method::POST, &url, &r.auth, Some(body)).await;
            assert_eq!(status, 401, "{provider} {}", r.base);
        }
        // A poll with the wrong credential too.
        let good = routed(&d, provider);
        let (poll, _) = make(&good, model, false).await;
        let (status, _) = get(&poll, &format!("Bearer {PROVIDER_KEY}")).await;
        assert_eq!(status, 401, "{provider} poll");
    }
}

#[tokio::test]
async fn fal_and_replicate_jobs_can_be_cancelled() {
    let d = double().await;
    let r = routed(&d, "fal-ai");
    let (poll, made) = make(&r, FAL_T2V, false).await;
    let (status, v) = send(
        reqwest::Method::PUT,
        made["cancel_url"].as_str().unwrap(),
        &r.auth,
        None,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(v["status"], "CANCELLATION_REQUESTED");
    let (_, v) = get(&poll, &r.auth).await;
    assert_eq!(v["status"], "CANCELLED");
    let (status, _) = get(made["response_url"].as_str().unwrap(), &r.auth).await;
    assert_eq!(status, 400);

    let r = direct(&d, "replicate");
    let (poll, made) = make(&r, REPLICATE_T2V, false).await;
    let cancel = made["urls"]["cancel"].as_str().unwrap();
    assert!(cancel.starts_with(&r.base));
    let (status, v) = send(reqwest::Method::POST, cancel, &r.auth, None).await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "canceled");
    let (_, v) = get(&poll, &r.auth).await;
    assert_eq!(v["status"], "canceled");
    assert!(v["output"].is_null());
}

#[tokio::test]
async fn a_stalled_job_stays_in_progress_until_the_faults_are_cleared() {
    let d = double().await;
    d.push_fault(Fault::job_stall());
    let routes = [
        (routed(&d, "fal-ai"), FAL_T2V),
        (direct(&d, "replicate"), REPLICATE_T2V),
        (routed(&d, "together"), T2V_MODEL),
        (routed(&d, "novita"), NOVITA_T2V),
        (direct(&d, "wavespeed"), WAVESPEED_T2V),
    ];
    let mut jobs = Vec::new();
    for (r, model) in &routes {
        jobs.push(make(r, model, false).await);
    }
    for _ in 0..8 {
        for ((r, _), (poll, _)) in routes.iter().zip(&jobs) {
            let (_, v) = get(poll, &r.auth).await;
            let state = status_of(r.provider, &v);
            let [first, second, _, done] = expected_states(r.provider);
            assert!(state == first || state == second, "{} {state}", r.provider);
            assert_ne!(state, done);
        }
    }
    // The fal result is not there yet either.
    let (status, _) = get(
        jobs[0].1["response_url"].as_str().unwrap(),
        &routes[0].0.auth,
    )
    .await;
    assert_eq!(status, 400);
    d.clear_faults();
    for ((r, _), (poll, made)) in routes.iter().zip(&jobs) {
        let mut last = Value::Null;
        for _ in 0..5 {
            let (_, v) = get(poll, &r.auth).await;
            last = v;
            if status_of(r.provider, &last) == expected_states(r.provider)[3] {
                break;
            }
        }
        assert_eq!(
            status_of(r.provider, &last),
            expected_states(r.provider)[3],
            "{}",
            r.provider
        );
        download_webm(&video_url_of(r, made, &last).await).await;
    }
    // One POST per job: the polls picked the same jobs up.
    let posts = d.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, routes.len());
}

#[tokio::test]
async fn a_failed_job_answers_each_providers_failed_shape() {
    let d = double().await;
    for (provider, model) in [
        ("fal-ai", FAL_T2V),
        ("replicate", REPLICATE_T2V),
        ("together", T2V_MODEL),
        ("novita", NOVITA_T2V),
        ("wavespeed", WAVESPEED_T2V),
    ] {
        // Through the control route, as another process would.
        let resp = client()
            .post(format!("{}/__double/faults", d.url()))
            .json(&json!({"scope": "image", "kind": "job_fails", "message": "GPU out of memory", "times": 1}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let r = routed(&d, provider);
        let (poll, made) = make(&r, model, false).await;
        let mut last = Value::Null;
        for _ in 0..4 {
            last = get(&poll, &r.auth).await.1;
        }
        match provider {
            "fal-ai" => {
                assert_eq!(last["status"], "COMPLETED");
                let (status, v) = get(made["response_url"].as_str().unwrap(), &r.auth).await;
                assert_eq!(status, 500);
                assert_eq!(v["detail"], "GPU out of memory");
            }
            "replicate" => {
                assert_eq!(last["status"], "failed");
                assert_eq!(last["error"], "GPU out of memory");
            }
            "together" => {
                assert_eq!(last["status"], "failed");
                assert_eq!(last["error"]["message"], "GPU out of memory");
                assert!(last["error"]["code"].is_string());
            }
            "novita" => {
                assert_eq!(last["task"]["status"], "TASK_STATUS_FAILED");
                assert_eq!(last["task"]["reason"], "GPU out of memory");
                assert_eq!(last["videos"], json!([]));
            }
            _ => {
                assert_eq!(last["data"]["status"], "failed");
                assert_eq!(last["data"]["error"], "GPU out of memory");
            }
        }
    }
    // In-process: a timeout reads as one at Together, a flagged video as Replicate's NSFW error.
    d.push_fault(Fault::job_timed_out());
    let r = direct(&d, "together");
    let (poll, _) = make(&r, T2V_MODEL, false).await;
    let mut last = Value::Null;
    for _ in 0..4 {
        last = get(&poll, &r.auth).await.1;
    }
    assert_eq!(last["error"]["code"], "timeout");
    d.push_fault(Fault::content_flagged());
    let r = routed(&d, "replicate");
    let (poll, _) = make(&r, REPLICATE_T2V, false).await;
    for _ in 0..4 {
        last = get(&poll, &r.auth).await.1;
    }
    assert_eq!(last["error"], NSFW_MESSAGE);
}

#[tokio::test]
async fn job_pending_changes_how_many_polls_a_job_takes() {
    let d = double().await;
    d.push_fault(Fault::job_pending(1));
    let r = routed(&d, "wavespeed");
    let (poll, _) = make(&r, WAVESPEED_T2V, false).await;
    assert_eq!(get(&poll, &r.auth).await.1["data"]["status"], "created");
    assert_eq!(get(&poll, &r.auth).await.1["data"]["status"], "completed");
}

#[tokio::test]
async fn a_download_that_is_not_a_video() {
    let d = double().await;
    let r = routed(&d, "replicate");
    let (poll, made) = make(&r, REPLICATE_T2V, false).await;
    let mut last = Value::Null;
    for _ in 0..4 {
        last = get(&poll, &r.auth).await.1;
    }
    let url = video_url_of(&r, &made, &last).await;
    // Through the control route, as the serialized form of `Fault::not_a_video()`.
    let fault = serde_json::to_value(Fault::not_a_video()).unwrap();
    assert_eq!(fault["scope"], "video_file");
    let resp = client()
        .post(format!("{}/__double/faults", d.url()))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = resp.bytes().await.unwrap();
    assert!(!video::is_webm(&body));
    assert_eq!(&body[..], video::NOT_A_VIDEO_BODY.as_bytes());
    // Once only; the in-process constructor does the same.
    download_webm(&url).await;
    d.push_fault(Fault::not_a_video());
    let body = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!video::is_webm(&body));
    assert!(d.faults().is_empty());
}

#[tokio::test]
async fn an_unfinished_video_is_not_served() {
    let d = double().await;
    let r = routed(&d, "together");
    let (_, made) = make(&r, T2V_MODEL, false).await;
    let id = made["id"].as_str().unwrap();
    let resp = client()
        .get(format!(
            "{}/ext/api.together.ai/video/{id}/video.webm",
            d.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
