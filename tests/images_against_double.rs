//! Text-to-image generations end to end against the HF test double: every recorded provider
//! routed with the HF token, fal and Together on the user's own key, each image fault, cancel,
//! and a job that survives the app ending mid-job.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_double::{tokens, Fault, FaultKind, Scope, Target};
use support::{pinned, services_on_double, OnDouble};
use switchboard_core::call::{
    Billing, CallMode, ImageEvent, ImageJob, ImageRequest, JobStatus, Policy, Routing, Task,
};
use switchboard_core::error::ErrorCode;
use switchboard_core::history::images::ImageQuery;
use switchboard_core::history::ledger::{CallKind, CallQuery};
use switchboard_core::images::sniff;
use switchboard_core::providers::{provider_key_entry, ProviderMode};
use switchboard_core::secrets::{Secret, Storage};
use switchboard_core::service::images::{ImageOptions, ImageSink};

const FLUX: &str = "black-forest-labs/FLUX.1-dev";
const SDXL: &str = "stabilityai/stable-diffusion-xl-base-1.0";

fn request(model: &str, routing: Routing) -> ImageRequest {
    ImageRequest {
        task: Task::TextToImage,
        model: model.into(),
        routing,
        prompt: "An astronaut riding a horse on the moon.".into(),
        negative_prompt: String::new(),
        width: Some(1024),
        height: Some(768),
        steps: Some(28),
        guidance: Some(3.5),
        seed: None,
        n: 1,
        bill_to: None,
        source: None,
        strength: None,
        duration: None,
        resolution: None,
        aspect_ratio: None,
    }
}

fn fast(f: &OnDouble, timeout: Duration) {
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        job_timeout: timeout,
        ..ImageOptions::default()
    });
}

async fn on_double() -> OnDouble {
    let f = services_on_double(tokens::FREE_TOKEN).await;
    fast(&f, Duration::from_secs(20));
    f
}

type Events = Arc<Mutex<Vec<ImageEvent>>>;

fn sink() -> (ImageSink, Events) {
    let events: Events = Arc::default();
    let e = events.clone();
    (Box::new(move |ev| e.lock().unwrap().push(ev)), events)
}

async fn generate(f: &OnDouble, r: ImageRequest) -> (ImageJob, Events) {
    let (s, events) = sink();
    let (started, task) = f.services.image_run(r, s).await.expect("starts");
    let job = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("ends")
        .unwrap();
    assert_eq!(started.job_id, job.id);
    (job, events)
}

/// The job's pictures are on disk, named by the hash of bytes that are a picture.
fn check_files(data: &Path, job: &ImageJob) {
    assert!(!job.images.is_empty());
    for img in &job.images {
        let bytes = std::fs::read(data.join("images").join(&img.file)).expect("file on disk");
        let (mime, ext) = sniff(&bytes).expect("a picture");
        assert_eq!(img.mime, mime);
        assert!(img.file.ends_with(&format!(".{ext}")), "{}", img.file);
        assert_eq!(img.bytes, bytes.len() as u64);
    }
}

fn set_own_key(f: &OnDouble, provider: &str) {
    f.services
        .secrets
        .set(
            &provider_key_entry(provider),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
}

#[tokio::test]
async fn every_recorded_provider_makes_a_picture_through_the_router() {
    let f = on_double().await;
    let data = f.dir.path().join("data");
    let cases = [
        ("hf-inference", "CompVis/stable-diffusion-v1-4"),
        ("together", SDXL),
        ("nebius", SDXL),
        ("hyperbolic", "stabilityai/stable-diffusion-2"),
        ("fal-ai", FLUX),
        ("replicate", "ByteDance/SDXL-Lightning"),
        ("black-forest-labs", FLUX),
    ];
    for (provider, model) in cases {
        f.double.clear_requests();
        let (job, events) = generate(&f, request(model, pinned(provider))).await;
        assert_eq!(
            job.status,
            JobStatus::Complete,
            "{provider}: {:?}",
            job.error
        );
        assert_eq!(job.mode, CallMode::Routed);
        assert_eq!(job.billing, Billing::HfCredits);
        assert_eq!(job.provider.as_deref(), Some(provider));
        check_files(&data, &job);
        // No price is known for pictures: unknown, never $0.
        assert_eq!(job.cost, None);
        // The generation went through the router with the HF token; pictures on other hosts
        // were fetched with no credential at all.
        let reqs = f.double.requests();
        let sent = reqs
            .iter()
            .find(|r| r.method == "POST" && r.target == Target::Router)
            .unwrap_or_else(|| panic!("{provider}: nothing routed"));
        assert!(
            sent.path.starts_with(&format!("/router/{provider}/")),
            "{}",
            sent.path
        );
        assert_eq!(sent.credential(), Some(tokens::FREE_TOKEN));
        for r in &reqs {
            if let Target::External { .. } = r.target {
                assert_eq!(r.header("authorization"), None, "{provider}: {}", r.path);
            }
        }
        let ev = events.lock().unwrap();
        assert!(matches!(ev.first(), Some(ImageEvent::Started { .. })));
        assert!(matches!(ev.last(), Some(ImageEvent::Finished { .. })));
    }
    // The seed fal used is kept, so the picture can be made again.
    let all = f.services.image_list(ImageQuery::default()).await.unwrap();
    assert_eq!(all.len(), 7);
    let fal = all
        .iter()
        .find(|j| j.provider.as_deref() == Some("fal-ai"))
        .unwrap();
    assert_eq!(fal.seed, Some(3131504498));
    assert_eq!(fal.billed_units, Some(1.0));
    // Each generation is in the ledger with its task.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    assert_eq!(rows.iter().filter(|r| r.kind == CallKind::Image).count(), 7);
    assert!(rows
        .iter()
        .all(|r| r.cost.is_none() && r.status == "complete"));
}

#[tokio::test]
async fn the_request_carries_the_parameters_in_each_providers_shape() {
    let f = on_double().await;
    let mut r = request(FLUX, pinned("fal-ai"));
    r.seed = Some(42);
    r.negative_prompt = "blurry".into();
    generate(&f, r).await;
    let sent = f
        .double
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(sent.query.as_deref(), Some("_subdomain=queue"));
    let body = sent.json().unwrap();
    assert_eq!(body["image_size"]["width"], 1024);
    assert_eq!(body["seed"], 42);
    assert_eq!(body["negative_prompt"], "blurry");
    assert_eq!(body["num_inference_steps"], 28);

    f.double.clear_requests();
    generate(&f, request("ByteDance/SDXL-Lightning", pinned("replicate"))).await;
    let sent = f
        .double
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(sent.header("prefer"), Some("wait"));
    let body = sent.json().unwrap();
    assert_eq!(
        body["version"],
        "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"
    );
    assert_eq!(body["input"]["width"], 1024);
}

#[tokio::test]
async fn automatic_routing_takes_the_first_live_provider_of_the_mapping() {
    let f = on_double().await;
    let (job, _) = generate(
        &f,
        request(
            "ByteDance/SDXL-Lightning",
            Routing::Auto {
                policy: Policy::Fastest,
            },
        ),
    )
    .await;
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.error);
    assert_eq!(job.provider.as_deref(), Some("fal-ai"));
    assert_eq!(job.mode, CallMode::Routed);
}

#[tokio::test]
async fn own_keys_go_straight_to_fal_and_together_and_never_carry_the_hf_token() {
    let f = on_double().await;
    let data = f.dir.path().join("data");
    for (provider, model) in [("fal-ai", FLUX), ("together", SDXL)] {
        f.services
            .provider_set(provider.into(), true, ProviderMode::OwnKey)
            .await
            .unwrap();
        // Without a key: said plainly, nothing sent.
        let err = f
            .services
            .image_run(request(model, pinned(provider)), sink().0)
            .await
            .expect_err("no key");
        assert_eq!(err.code, ErrorCode::ProviderKeyMissing);
        set_own_key(&f, provider);
        f.double.clear_requests();
        let (job, _) = generate(&f, request(model, pinned(provider))).await;
        assert_eq!(
            job.status,
            JobStatus::Complete,
            "{provider}: {:?}",
            job.error
        );
        assert_eq!(job.mode, CallMode::OwnKey);
        assert_eq!(job.billing, Billing::Provider);
        check_files(&data, &job);
        let reqs = f.double.requests();
        assert!(reqs.iter().all(|r| r.target != Target::Router));
        for r in &reqs {
            match &r.target {
                Target::Direct { provider: p } => {
                    assert_eq!(p, provider);
                    assert_eq!(r.credential(), Some(tokens::PROVIDER_KEY), "{}", r.path);
                }
                Target::External { .. } => assert_eq!(r.header("authorization"), None),
                Target::Hub => assert_eq!(r.header("authorization"), None),
                other => panic!("{other:?}"),
            }
            assert!(!r
                .headers
                .iter()
                .any(|(_, v)| v.contains(tokens::FREE_TOKEN)));
        }
        if provider == "fal-ai" {
            let post = reqs.iter().find(|r| r.method == "POST").unwrap();
            assert_eq!(
                post.header("authorization").unwrap(),
                format!("Key {}", tokens::PROVIDER_KEY)
            );
            assert_eq!(post.path, "/direct/fal-ai/fal-ai/flux/dev");
        }
    }
}

async fn failed_with(f: &OnDouble, r: ImageRequest, code: ErrorCode) -> ImageJob {
    let (job, _) = generate(f, r).await;
    assert_eq!(job.status, JobStatus::Error);
    let err = job.error.clone().expect("an error");
    assert_eq!(err.code, code, "{}", err.message);
    assert!(job.images.is_empty());
    // Kept as it ended.
    let h = f.services.history.wait().await.unwrap();
    assert_eq!(h.image_job(&job.id).unwrap().unwrap(), job);
    job
}

#[tokio::test]
async fn faults_are_told_in_plain_words() {
    let f = on_double().await;
    // A refused size.
    f.double.push_fault(Fault::image_size_refused().once());
    let job = failed_with(
        &f,
        request(SDXL, pinned("together")),
        ErrorCode::InvalidRequest,
    )
    .await;
    assert!(job.error.unwrap().message.contains("1024×768"));
    assert!(job.request_id.is_some(), "the request id is kept");
    // Flagged by fal's safety filter (the queue finished, the result says so).
    f.double.push_fault(Fault::content_flagged());
    failed_with(
        &f,
        request(FLUX, pinned("fal-ai")),
        ErrorCode::ContentFlagged,
    )
    .await;
    // Flagged by Replicate (the prediction failed) and by a synchronous provider (400).
    f.double.push_fault(Fault::content_flagged());
    failed_with(
        &f,
        request("ByteDance/SDXL-Lightning", pinned("replicate")),
        ErrorCode::ContentFlagged,
    )
    .await;
    f.double.push_fault(Fault::content_flagged());
    failed_with(
        &f,
        request(SDXL, pinned("together")),
        ErrorCode::ContentFlagged,
    )
    .await;
    // A job that fails at the provider keeps the provider's words and the request id.
    f.double.push_fault(Fault::job_fails("CUDA out of memory"));
    let job = failed_with(
        &f,
        request(FLUX, pinned("black-forest-labs")),
        ErrorCode::JobFailed,
    )
    .await;
    assert!(job.error.unwrap().message.contains("CUDA out of memory"));
    assert!(job.provider_job.id.is_some());
    // The queue gave up on it.
    f.double.push_fault(Fault::job_timed_out());
    failed_with(&f, request(FLUX, pinned("fal-ai")), ErrorCode::Timeout).await;
    // A "picture" that is not one.
    f.double.push_fault(
        Fault::new(
            Scope::ImageFile,
            FaultKind::Status {
                code: 200,
                body: "<html>gateway says hi</html>".into(),
                content_type: "image/png".into(),
                headers: vec![],
            },
        )
        .once(),
    );
    failed_with(&f, request(FLUX, pinned("fal-ai")), ErrorCode::NotAnImage).await;
    // One too large.
    // A picture that never comes.
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        job_timeout: Duration::from_secs(20),
        download_timeout: Duration::from_millis(300),
        ..ImageOptions::default()
    });
    f.double
        .push_fault(Fault::new(Scope::ImageFile, FaultKind::Hang).once());
    let job = failed_with(&f, request(FLUX, pinned("fal-ai")), ErrorCode::Timeout).await;
    assert!(job.error.unwrap().message.contains("did not arrive"));
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        job_timeout: Duration::from_secs(20),
        max_bytes: 1 << 20,
        ..ImageOptions::default()
    });
    failed_with(
        &f,
        request("ByteDance/SDXL-Lightning", pinned("replicate")),
        ErrorCode::TooLarge,
    )
    .await;
    // Each failure is in the ledger with its code.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    assert_eq!(rows.len(), 9);
    assert!(rows
        .iter()
        .all(|r| r.kind == CallKind::Image && r.status == "error"));
}

#[tokio::test]
async fn a_stalled_job_times_out_and_a_cancelled_one_is_cancelled_at_the_provider() {
    let f = on_double().await;
    fast(&f, Duration::from_millis(400));
    f.double.push_fault(Fault::job_stall());
    failed_with(&f, request(FLUX, pinned("fal-ai")), ErrorCode::Timeout).await;

    fast(&f, Duration::from_secs(20));
    let (s, events) = sink();
    let (started, task) = f
        .services
        .image_run(request("ByteDance/SDXL-Lightning", pinned("replicate")), s)
        .await
        .unwrap();
    // Wait until the provider reports progress, then cancel.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ImageEvent::Progress { .. }))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("progress");
    f.services.image_cancel(&started.job_id);
    let job = task.await.unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    let cancel = f
        .double
        .wait_for_request(|r| r.path.ends_with("/cancel"), Duration::from_secs(5))
        .await
        .expect("cancelled at Replicate");
    assert_eq!(cancel.credential(), Some(tokens::FREE_TOKEN));
    assert_eq!(cancel.target, Target::Router);
    f.double.clear_faults();
}

#[tokio::test]
async fn a_job_resumes_after_the_app_ends_mid_job() {
    let f = on_double().await;
    f.double.push_fault(Fault::job_stall());
    let (started, task) = f
        .services
        .image_run(request(FLUX, pinned("fal-ai")), sink().0)
        .await
        .unwrap();
    // The provider's job id and poll URL are saved before the app waits.
    let h = f.services.history.wait().await.unwrap();
    let saved = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let j = h.image_job(&started.job_id).unwrap().unwrap();
            if j.provider_job.poll_url.is_some() {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert!(saved.status.is_open());
    assert!(saved.provider_job.id.is_some());
    assert_eq!(
        saved.request.prompt,
        "An astronaut riding a horse on the moon."
    );
    // The app ends: the task is gone, the row stays open.
    task.abort();
    let _ = task.await;
    drop(h);
    // A synchronous request cut the same way has nothing to resume.
    let lost = {
        let h = f.services.history.wait().await.unwrap();
        let mut j = switchboard_core::history::images::new_job(
            "lost-one".into(),
            request(SDXL, pinned("together")),
            Some("together".into()),
            Some(SDXL.into()),
            CallMode::Routed,
            Billing::HfCredits,
        );
        j.status = JobStatus::Submitting;
        h.insert_image_job(&j).unwrap();
        j.id
    };
    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    double.clear_faults();

    // The app starts again on the same data folder.
    let config = switchboard_core::config::Config {
        endpoints: support::endpoints(&double),
        data_dir: dir.path().join("data"),
        chat_timeout_secs: Some(20),
    };
    let secrets = Arc::new(switchboard_core::secrets::Secrets::new(Box::<
        switchboard_core::secrets::MemoryBackend,
    >::default()));
    let services =
        switchboard_core::service::Services::new(config, store, secrets, dir.path().to_path_buf())
            .unwrap();
    services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        ..ImageOptions::default()
    });
    // Not signed in yet: the job the provider holds stays open for later, nothing is sent.
    let none = services.images_resume(|_| sink().0).await.unwrap();
    assert!(none.is_empty());
    let h = services.history.wait().await.unwrap();
    assert!(h
        .image_job(&started.job_id)
        .unwrap()
        .unwrap()
        .status
        .is_open());
    drop(h);
    services
        .sign_in(tokens::FREE_TOKEN.to_string(), true)
        .await
        .unwrap();
    let tasks = services.images_resume(|_| sink().0).await.unwrap();
    assert_eq!(tasks.len(), 1);
    let mut resumed = Vec::new();
    for t in tasks {
        resumed.push(
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let job = &resumed[0];
    assert_eq!(job.id, started.job_id);
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.error);
    check_files(&dir.path().join("data"), job);
    // Polled again, never sent again.
    let posts = double
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("flux"))
        .count();
    assert_eq!(posts, 1);
    let h = services.history.wait().await.unwrap();
    let lost = h.image_job(&lost).unwrap().unwrap();
    assert_eq!(lost.status, JobStatus::Interrupted);
    assert_eq!(lost.error.unwrap().code, ErrorCode::JobFailed);
    // The gallery finds it by a word of its prompt.
    let found = services
        .image_list(ImageQuery {
            text: "horse MOON".into(),
            ..ImageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let none = services
        .image_list(ImageQuery {
            text: "giraffe".into(),
            ..ImageQuery::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    // And the UI gets the picture as a data: URL.
    let url = services
        .image_data_url(job.images[0].file.clone())
        .await
        .unwrap();
    assert!(url.starts_with("data:image/"), "{}", &url[..30]);
    assert!(services
        .image_data_url("../history.sqlite3".into())
        .await
        .is_err());
}

#[tokio::test]
async fn the_image_catalog_comes_from_the_hub_paged_and_is_kept_on_disk() {
    let f = on_double().await;
    // Two models a page: every page is read until a short one.
    let hf = switchboard_core::hf::HfClient::new(support::endpoints(&f.double)).unwrap();
    let paged = switchboard_core::image_catalog::fetch(&hf, 1, 2, Task::TextToImage)
        .await
        .unwrap();
    let skips: Vec<String> = f
        .double
        .requests()
        .iter()
        .filter(|r| r.path == "/api/models")
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert!(skips.len() >= 2, "{skips:?}");
    assert!(skips
        .iter()
        .all(|q| q.contains("pipeline_tag=text-to-image")
            && q.contains("inference_provider=all")
            && q.contains("expand[]=inferenceProviderMapping")));
    assert!(skips.iter().all(|r| !r.contains("hf_")));

    let catalog = f.services.image_catalog_refresh(true).await.unwrap();
    assert_eq!(catalog.models, paged.models);
    let flux = catalog.model(FLUX).expect("FLUX.1-dev is listed");
    let fal = flux
        .providers
        .iter()
        .find(|p| p.provider == "fal-ai")
        .unwrap();
    assert_eq!(fal.provider_id, "fal-ai/flux/dev");
    assert!(fal.supported);
    assert_eq!(fal.price_per_image, None);
    assert!(catalog.model("meta-llama/Llama-3.3-70B-Instruct").is_none());
    // Cached on disk: a new app reads it offline.
    let cached = switchboard_core::image_catalog::ImageCatalog::load(
        &f.dir.path().join("data").join("image-catalog.json"),
    );
    assert_eq!(cached, *catalog);
    // Fresh: not downloaded again.
    f.double.clear_requests();
    f.services.image_catalog_refresh(false).await.unwrap();
    assert!(f.double.requests().is_empty());
}

#[tokio::test]
async fn a_backup_brings_the_pictures_back_into_a_fresh_data_folder() {
    let f = on_double().await;
    let (a, _) = generate(&f, request(FLUX, pinned("fal-ai"))).await;
    let (b, _) = generate(&f, request(SDXL, pinned("together"))).await;
    f.double.push_fault(Fault::content_flagged());
    let (failed, _) = generate(&f, request(SDXL, pinned("together"))).await;
    assert_eq!(failed.status, JobStatus::Error);
    let text = f.services.history_export_all_text().unwrap();
    let backup = f.dir.path().join("backup.json");
    std::fs::write(&backup, &text).unwrap();

    // A fresh app, another data folder: the import brings back every generation and its
    // pictures, under the same hash names, shown again as data: URLs.
    let g = on_double().await;
    let report = g.services.history_import_file(&backup).await.unwrap();
    assert_eq!(report.pictures, 3);
    let all = g.services.image_list(ImageQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    for job in [&a, &b] {
        let back = all.iter().find(|j| j.id == job.id).unwrap();
        assert_eq!(back.images, job.images);
        assert_eq!(back.request, job.request);
        assert_eq!(back.seed, job.seed);
        check_files(&g.dir.path().join("data"), back);
        let url = g
            .services
            .image_data_url(back.images[0].file.clone())
            .await
            .unwrap();
        assert!(url.starts_with("data:image/"));
    }
    assert_eq!(
        all.iter().find(|j| j.id == failed.id).unwrap().error,
        failed.error
    );
    // Importing again adds nothing.
    let again = g.services.history_import_file(&backup).await.unwrap();
    assert_eq!(again.pictures, 0);

    // A backup whose "picture" is not one: that generation is left out.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let imgs = v["images"].as_array_mut().unwrap();
    assert_eq!(imgs.len(), 3);
    use base64::Engine as _;
    imgs[0]["files"][0]["data"] = serde_json::json!(
        base64::engine::general_purpose::STANDARD.encode(b"<script>alert(1)</script>")
    );
    let h = on_double().await;
    let tampered = h.dir.path().join("tampered.json");
    std::fs::write(&tampered, v.to_string()).unwrap();
    let report = h.services.history_import_file(&tampered).await.unwrap();
    assert_eq!(report.pictures, 2);
}

#[tokio::test]
async fn image_to_image_sends_the_source_in_each_providers_shape() {
    use base64::Engine as _;
    let f = on_double().await;
    // A real picture as the source: the one the first generation made.
    let (first, _) = generate(&f, request(FLUX, pinned("fal-ai"))).await;
    let bytes =
        std::fs::read(f.dir.path().join("data/images").join(&first.images[0].file)).unwrap();
    let data_url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    let with_source = |model: &str, provider: &str| {
        let mut r = request(model, pinned(provider));
        r.source = Some(data_url.clone());
        r.strength = Some(0.6);
        r
    };
    let last_post = |f: &OnDouble| {
        f.double
            .requests()
            .into_iter()
            .rfind(|r| r.method == "POST")
            .unwrap()
    };

    f.double.clear_requests();
    let (job, _) = generate(&f, with_source(FLUX, "fal-ai")).await;
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.error);
    let post = last_post(&f);
    assert_eq!(post.path, "/router/fal-ai/fal-ai/flux/dev/image-to-image");
    let body = post.json().unwrap();
    assert!(body["image_url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/"));
    assert_eq!(body["strength"], 0.6);
    // The job names the source file (kept beside the results), not its bytes.
    let source = job.request.source.clone().unwrap();
    let name = source.strip_prefix("file:").expect("a file name");
    assert!(f.dir.path().join("data/images").join(name).exists());

    // A backup carries the source picture with its job: imported into a fresh data folder
    // (without the generation that made that picture), the job's source is on disk again.
    let mut backup: serde_json::Value =
        serde_json::from_str(&f.services.history_export_all_text().unwrap()).unwrap();
    backup["images"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["job"]["id"] != first.id.as_str());
    let g = on_double().await;
    let file = g.dir.path().join("backup.json");
    std::fs::write(&file, backup.to_string()).unwrap();
    assert_eq!(
        g.services
            .history_import_file(&file)
            .await
            .unwrap()
            .pictures,
        1
    );
    let back = g.services.image_list(ImageQuery::default()).await.unwrap();
    assert_eq!(back[0].request.source, job.request.source);
    assert_eq!(
        std::fs::read(g.dir.path().join("data/images").join(name)).unwrap(),
        bytes
    );

    f.double.clear_requests();
    generate(&f, with_source("ByteDance/SDXL-Lightning", "replicate")).await;
    let input = &last_post(&f).json().unwrap()["input"];
    assert!(input["image"].as_str().unwrap().starts_with("data:image/"));
    assert_eq!(input["prompt_strength"], 0.6);

    f.double.clear_requests();
    generate(&f, with_source(FLUX, "hf-inference")).await;
    let body = last_post(&f).json().unwrap();
    let sent = base64::engine::general_purpose::STANDARD
        .decode(body["inputs"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent, bytes);
    assert_eq!(
        body["parameters"]["prompt"],
        "An astronaut riding a horse on the moon."
    );

    // Refused before anything is sent: a provider that takes no source, a source that is not
    // a picture.
    f.double.clear_requests();
    let err = f
        .services
        .image_run(with_source(SDXL, "together"), sink().0)
        .await
        .expect_err("together takes no source here");
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    let mut bad = with_source(FLUX, "fal-ai");
    bad.source = Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(b"<svg onload=alert(1)>")
    ));
    let err = f
        .services
        .image_run(bad, sink().0)
        .await
        .expect_err("not a picture");
    assert_eq!(err.code, ErrorCode::NotAnImage);
    assert!(f.double.requests().iter().all(|r| r.method != "POST"));
}
