//! Videos against the HF test double: text-to-video and image-to-video on every provider the
//! double serves (fal queue, Replicate, Together v2/videos, Novita, WaveSpeed), routed and with
//! own keys; progress with the time left; failures in plain words; a result that is not a
//! video; cancel; a job resumed after the app ends mid-job; the gallery keeps videos apart.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_double::{tokens, video, Fault, Target};
use support::{pinned, services_on_double, OnDouble};
use switchboard_core::call::{
    Billing, CallMode, EtaSource, ImageEvent, ImageJob, ImageRequest, JobStatus, Routing, Task,
};
use switchboard_core::error::ErrorCode;
use switchboard_core::history::images::{ImageQuery, Media};
use switchboard_core::history::ledger::{CallKind, CallQuery};
use switchboard_core::images::sniff_video;
use switchboard_core::providers::{provider_key_entry, ProviderMode};
use switchboard_core::secrets::{Secret, Storage};
use switchboard_core::service::images::{ImageOptions, ImageSink};

/// A 1×1 PNG, the start picture of image-to-video.
const START_PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn request(task: Task, model: &str, routing: Routing) -> ImageRequest {
    ImageRequest {
        task,
        model: model.into(),
        routing,
        prompt: "A red fox running through snow, slow motion.".into(),
        negative_prompt: String::new(),
        width: None,
        height: None,
        steps: None,
        guidance: None,
        seed: Some(11),
        n: 1,
        bill_to: None,
        source: (task == Task::ImageToVideo).then(|| START_PNG.to_string()),
        strength: None,
        duration: Some(5.0),
        resolution: Some("480p".into()),
        aspect_ratio: Some("16:9".into()),
    }
}

fn t2v(provider: &str) -> ImageRequest {
    request(Task::TextToVideo, video::T2V_MODEL, pinned(provider))
}

fn i2v(provider: &str) -> ImageRequest {
    request(Task::ImageToVideo, video::I2V_MODEL, pinned(provider))
}

async fn on_double() -> OnDouble {
    let f = services_on_double(tokens::FREE_TOKEN).await;
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        video_timeout: Duration::from_secs(20),
        ..ImageOptions::default()
    });
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

/// The job's one video is on disk, named by the hash of bytes that are a video.
fn check_video(data: &Path, job: &ImageJob) {
    assert_eq!(job.images.len(), 1, "one video");
    let v = &job.images[0];
    let bytes = std::fs::read(data.join("images").join(&v.file)).expect("file on disk");
    assert_eq!(bytes, video::SAMPLE_WEBM, "the double's video, whole");
    let (mime, ext) = sniff_video(&bytes).expect("a video");
    assert_eq!(v.mime, mime);
    assert!(v.file.ends_with(&format!(".{ext}")), "{}", v.file);
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
async fn every_provider_makes_a_video_through_the_router() {
    let f = on_double().await;
    let data = f.dir.path().join("data");
    let cases = [
        t2v("fal-ai"),
        t2v("replicate"),
        t2v("together"),
        t2v("novita"),
        t2v("wavespeed"),
        i2v("fal-ai"),
        i2v("replicate"),
        i2v("together"),
        i2v("wavespeed"),
    ];
    for r in cases {
        let Routing::Pinned { provider } = r.routing.clone() else {
            unreachable!()
        };
        let task = r.task;
        f.double.clear_requests();
        let (job, events) = generate(&f, r).await;
        assert_eq!(
            job.status,
            JobStatus::Complete,
            "{provider} {task:?}: {:?}",
            job.error
        );
        assert_eq!(job.mode, CallMode::Routed);
        assert_eq!(job.billing, Billing::HfCredits);
        check_video(&data, &job);
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
        // The start picture travels with image-to-video only.
        let body = sent.json().unwrap_or_default().to_string();
        assert_eq!(
            body.contains("iVBORw0KGgo"),
            task == Task::ImageToVideo,
            "{provider} {task:?}: {body}"
        );
        // Polled under the router with the token; the video fetched with no credential.
        assert!(reqs
            .iter()
            .filter(|r| r.method == "GET" && r.target == Target::Router)
            .all(|r| r.credential() == Some(tokens::FREE_TOKEN)));
        for r in &reqs {
            if let Target::External { .. } = r.target {
                assert_eq!(r.header("authorization"), None, "{provider}: {}", r.path);
            }
        }
        // The user saw it wait: a progress event, then the end.
        let ev = events.lock().unwrap();
        assert!(
            ev.iter().any(|e| matches!(e, ImageEvent::Progress { .. })),
            "{provider}: no progress"
        );
        assert!(matches!(ev.last(), Some(ImageEvent::Finished { .. })));
    }
    // Together reports what the video cost it; the app keeps that figure as the provider's.
    let videos = f
        .services
        .image_list(ImageQuery {
            media: Some(Media::Videos),
            ..ImageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(videos.len(), 9);
    let together = videos
        .iter()
        .find(|j| j.provider.as_deref() == Some("together"))
        .unwrap();
    assert_eq!(together.billed_units, Some(video::TOGETHER_COST));
    assert_eq!(together.billed_unit.as_deref(), Some("USD"));
    let fal = videos
        .iter()
        .find(|j| j.provider.as_deref() == Some("fal-ai"))
        .unwrap();
    assert_eq!(fal.seed, Some(video::FAL_SEED as i64));
    // Pictures and videos are listed apart.
    let pictures = f
        .services
        .image_list(ImageQuery {
            media: Some(Media::Pictures),
            ..ImageQuery::default()
        })
        .await
        .unwrap();
    assert!(pictures.is_empty());
    // Each video is in the ledger as a video, its cost unknown rather than $0.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    assert_eq!(rows.iter().filter(|r| r.kind == CallKind::Video).count(), 9);
    assert!(rows
        .iter()
        .all(|r| r.cost.is_none() && r.status == "complete"));
}

#[tokio::test]
async fn novita_says_the_time_left_and_past_runs_give_an_estimate_elsewhere() {
    let f = on_double().await;
    let (job, events) = generate(&f, t2v("novita")).await;
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.error);
    let etas: Vec<(Option<u64>, Option<EtaSource>)> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ImageEvent::Progress {
                eta_ms, eta_source, ..
            } => Some((*eta_ms, *eta_source)),
            _ => None,
        })
        .collect();
    assert!(
        etas.iter()
            .any(|(ms, src)| ms.is_some() && *src == Some(EtaSource::Provider)),
        "{etas:?}"
    );
    // fal gives no estimate: after three runs of this model there, their median does.
    for _ in 0..3 {
        let (job, events) = generate(&f, t2v("fal-ai")).await;
        assert_eq!(job.status, JobStatus::Complete);
        assert!(events.lock().unwrap().iter().all(|e| !matches!(
            e,
            ImageEvent::Progress {
                eta_source: Some(EtaSource::Provider),
                ..
            }
        )));
    }
    let (_, events) = generate(&f, t2v("fal-ai")).await;
    let sources: Vec<Option<EtaSource>> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ImageEvent::Progress { eta_source, .. } => Some(*eta_source),
            _ => None,
        })
        .collect();
    // The first poll comes well before the usual end, so it carries the past runs' estimate
    // (later ones may come after it, and then say nothing rather than a negative time).
    assert!(sources.contains(&Some(EtaSource::PastRuns)), "{sources:?}");
}

#[tokio::test]
async fn own_keys_go_straight_to_the_provider() {
    let f = on_double().await;
    let data = f.dir.path().join("data");
    for provider in ["fal-ai", "together", "wavespeed"] {
        f.services
            .provider_set(provider.into(), true, ProviderMode::OwnKey)
            .await
            .unwrap();
        let route = f
            .services
            .generation_route(Task::TextToVideo, &pinned(provider), None);
        assert_eq!(route.mode, CallMode::OwnKey, "{provider}");
        let err = f
            .services
            .image_run(t2v(provider), sink().0)
            .await
            .expect_err("no key");
        assert_eq!(err.code, ErrorCode::ProviderKeyMissing);
        set_own_key(&f, provider);
        f.double.clear_requests();
        let (job, _) = generate(&f, t2v(provider)).await;
        assert_eq!(
            job.status,
            JobStatus::Complete,
            "{provider}: {:?}",
            job.error
        );
        assert_eq!(job.mode, CallMode::OwnKey);
        assert_eq!(job.billing, Billing::Provider);
        check_video(&data, &job);
        let reqs = f.double.requests();
        assert!(reqs.iter().all(|r| r.target != Target::Router));
        for r in &reqs {
            if let Target::Direct { provider: p } = &r.target {
                assert_eq!(p, provider);
                let cred = r.credential().unwrap_or_default();
                assert!(cred.contains(tokens::PROVIDER_KEY), "{provider}: {cred}");
            }
            assert!(
                !format!("{:?}", r.headers).contains(tokens::FREE_TOKEN),
                "the HF token never leaves for {provider}"
            );
        }
    }
}

#[tokio::test]
async fn bad_requests_and_failures_are_said_in_plain_words() {
    let f = on_double().await;
    // Image-to-video with no start picture: refused before anything is sent.
    let mut r = i2v("fal-ai");
    r.source = None;
    let err = f.services.image_run(r, sink().0).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(
        err.message.contains("picture to start the video"),
        "{}",
        err.message
    );
    // Novita makes no image-to-video.
    let err = f
        .services
        .image_run(
            request(Task::ImageToVideo, video::I2V_MODEL, pinned("novita")),
            sink().0,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ModelUnavailable);
    assert!(err.message.contains("videos"), "{}", err.message);
    let mut r = t2v("fal-ai");
    r.duration = Some(600.0);
    let err = f.services.image_run(r, sink().0).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(f.double.requests().iter().all(|r| r.method != "POST"));

    // The job fails at the provider: its words, kept with the job.
    for provider in ["together", "novita", "wavespeed", "replicate"] {
        f.double
            .push_fault(Fault::job_fails("GPU worker crashed").once());
        let (job, _) = generate(&f, t2v(provider)).await;
        assert_eq!(job.status, JobStatus::Error, "{provider}");
        let e = job.error.unwrap();
        assert_eq!(e.code, ErrorCode::JobFailed, "{provider}: {e:?}");
        assert!(
            e.message.contains("GPU worker crashed"),
            "{provider}: {}",
            e.message
        );
        f.double.clear_faults();
    }
    // The provider gives up on a job that took too long.
    f.double.push_fault(Fault::job_timed_out().once());
    let (job, _) = generate(&f, t2v("together")).await;
    assert_eq!(job.error.unwrap().code, ErrorCode::Timeout);
    f.double.clear_faults();

    // The file at the video's URL is a web page: not kept, said so.
    f.double.push_fault(Fault::not_a_video());
    let (job, _) = generate(&f, t2v("fal-ai")).await;
    assert_eq!(job.status, JobStatus::Error);
    let e = job.error.unwrap();
    assert!(e.message.contains("not a video"), "{}", e.message);
    assert!(job.images.is_empty());

    // A job that never ends is given up after the time limit, in words.
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        video_timeout: Duration::from_millis(400),
        ..ImageOptions::default()
    });
    f.double.push_fault(Fault::job_stall());
    let (job, _) = generate(&f, t2v("wavespeed")).await;
    let e = job.error.unwrap();
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(
        e.message.contains("did not finish the video"),
        "{}",
        e.message
    );
    f.double.clear_faults();
}

#[tokio::test]
async fn a_video_job_is_cancelled_here_and_at_the_provider() {
    let f = on_double().await;
    f.double.push_fault(Fault::job_stall());
    let (s, _) = sink();
    let (started, task) = f.services.image_run(t2v("replicate"), s).await.unwrap();
    f.double
        .wait_for_request(
            |r| r.method == "GET" && r.path.contains("/predictions/"),
            Duration::from_secs(10),
        )
        .await
        .expect("polled");
    f.services.image_cancel(&started.job_id);
    let job = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    f.double
        .wait_for_request(|r| r.path.ends_with("/cancel"), Duration::from_secs(10))
        .await
        .expect("cancelled at Replicate");
    f.double.clear_faults();
}

#[tokio::test]
async fn a_video_job_resumes_after_the_app_ends_mid_job() {
    let f = on_double().await;
    f.double.push_fault(Fault::job_stall());
    let (started, task) = f
        .services
        .image_run(i2v("together"), sink().0)
        .await
        .unwrap();
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
    assert_eq!(saved.request.task, Task::ImageToVideo);
    // The start picture is kept as a file, not in the job's row.
    assert!(saved
        .request
        .source
        .as_deref()
        .unwrap()
        .starts_with("file:"));
    task.abort();
    let _ = task.await;
    drop(h);
    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    double.clear_faults();

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
    services
        .sign_in(tokens::FREE_TOKEN.to_string(), true)
        .await
        .unwrap();
    let tasks = services.images_resume(|_| sink().0).await.unwrap();
    assert_eq!(tasks.len(), 1);
    let mut job = None;
    for t in tasks {
        job = Some(
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let job = job.unwrap();
    assert_eq!(job.id, started.job_id);
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.error);
    check_video(&dir.path().join("data"), &job);
    let posts = double
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/v2/videos"))
        .count();
    assert_eq!(posts, 1, "polled again, never sent again");
}

#[tokio::test]
async fn a_backup_brings_the_videos_back_and_refuses_a_video_that_is_not_one() {
    let f = on_double().await;
    let (a, _) = generate(&f, t2v("novita")).await;
    let (b, _) = generate(&f, i2v("fal-ai")).await;
    let text = f.services.history_export_all_text().unwrap();
    let backup = f.dir.path().join("backup.json");
    std::fs::write(&backup, &text).unwrap();

    let g = on_double().await;
    let report = g.services.history_import_file(&backup).await.unwrap();
    assert_eq!(
        (report.pictures, report.videos),
        (0, 2),
        "both videos came back"
    );
    let all = g
        .services
        .image_list(ImageQuery {
            media: Some(Media::Videos),
            ..ImageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    for job in [&a, &b] {
        let back = all.iter().find(|j| j.id == job.id).unwrap();
        assert_eq!(back.images, job.images);
        assert_eq!(back.request.task, job.request.task);
        check_video(&g.dir.path().join("data"), back);
        let url = g
            .services
            .image_data_url(back.images[0].file.clone())
            .await
            .unwrap();
        assert!(url.starts_with("data:video/webm;base64,"), "{}", &url[..40]);
    }

    // A backup whose "video" is a picture: that generation is left out, the other comes back.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let jobs = v["images"].as_array_mut().unwrap();
    let png = START_PNG.rsplit_once("base64,").unwrap().1;
    jobs[0]["files"][0]["data"] = serde_json::json!(png);
    let bad = f.dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&v).unwrap()).unwrap();
    let h = on_double().await;
    let report = h.services.history_import_file(&bad).await.unwrap();
    assert_eq!(report.videos, 1);
}
