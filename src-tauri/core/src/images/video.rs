//! Video generations (text-to-video, image-to-video) on the job protocols of the pictures:
//! the request shapes, and the answers of the three providers that only make videos.
//!
//! | provider | request | job | result |
//! |---|---|---|---|
//! | fal-ai | queue: `POST {fal-id}` (routed `?_subdomain=queue`) | poll `status_url` | `video.url` |
//! | replicate | `POST v1/models/{id}/predictions` (or `v1/predictions` with `version`) | poll `urls.get` | `output` URL |
//! | together | `POST v2/videos` | poll `v2/videos/{id}` (`queued`, `in_progress`) | `outputs.video_url` |
//! | novita | `POST v3/async/{model}` | poll `v3/async/task-result?task_id=` | `videos[].video_url` |
//! | wavespeed | `POST api/v3/{model}` | poll `data.urls.get` | `data.outputs[]` |
//!
//! The source picture of image-to-video is sent as a `data:` URL (fal `image_url`, Replicate
//! and WaveSpeed `image`, Together `frame_images[0].input_image`).

use serde_json::{json, Map, Value};

use super::{
    bad, job_failed, negative, picture_of, put, Output, Poll, Protocol, Submitted, Target,
};
use crate::call::{ImageRequest, ProviderJob, Task};
use crate::error::AppResult;

/// The most a video may weigh.
pub const MAX_VIDEO_BYTES: usize = 200 << 20;

/// The protocol a provider speaks for a video `task`, if the app knows it.
pub fn protocol(provider: &str, task: Task) -> Option<Protocol> {
    Some(match (provider, task) {
        ("fal-ai", _) => Protocol::Fal,
        ("replicate", _) => Protocol::Replicate,
        ("together", _) => Protocol::TogetherVideo,
        ("wavespeed", _) => Protocol::WaveSpeed,
        ("novita", Task::TextToVideo) => Protocol::Novita,
        _ => return None,
    })
}

/// What a video is, by its first bytes: (MIME type, extension). MP4 and QuickTime files start
/// with a `ftyp` box; WebM (Matroska) with its EBML magic.
pub fn sniff_video(b: &[u8]) -> Option<(&'static str, &'static str)> {
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        Some(("video/mp4", "mp4"))
    } else if b.starts_with(b"\x1a\x45\xdf\xa3") {
        Some(("video/webm", "webm"))
    } else {
        None
    }
}

/// Seconds as the providers that take a string want them ("5").
fn seconds(r: &ImageRequest) -> Option<String> {
    r.duration
        .filter(|d| *d > 0.0)
        .map(|d| format!("{}", d.round() as i64))
}

fn source(r: &ImageRequest) -> Option<String> {
    (r.task == Task::ImageToVideo)
        .then(|| r.source.clone())
        .flatten()
}

/// The URL and body of a video request.
pub fn build(t: &Target, r: &ImageRequest) -> (String, Value) {
    let mut m = Map::new();
    m.insert("prompt".into(), r.prompt.clone().into());
    put(&mut m, "negative_prompt", negative(r));
    put(&mut m, "seed", r.seed);
    match t.protocol {
        Protocol::Fal => {
            put(&mut m, "num_inference_steps", r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            put(&mut m, "duration", seconds(r));
            put(&mut m, "resolution", r.resolution.clone());
            put(&mut m, "aspect_ratio", r.aspect_ratio.clone());
            put(&mut m, "image_url", source(r));
            let mut url = format!("{}/{}", t.base, t.model_id);
            if t.routed {
                url.push_str("?_subdomain=queue");
            }
            (url, Value::Object(m))
        }
        Protocol::Replicate => {
            put(&mut m, "num_inference_steps", r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            put(&mut m, "duration", r.duration);
            put(&mut m, "resolution", r.resolution.clone());
            put(&mut m, "aspect_ratio", r.aspect_ratio.clone());
            put(&mut m, "image", source(r));
            match t.model_id.split_once(':') {
                Some((_, version)) => (
                    format!("{}/v1/predictions", t.base),
                    json!({"input": m, "version": version}),
                ),
                None => (
                    format!("{}/v1/models/{}/predictions", t.base, t.model_id),
                    json!({ "input": m }),
                ),
            }
        }
        Protocol::TogetherVideo => {
            m.insert("model".into(), t.model_id.clone().into());
            put(&mut m, "seconds", seconds(r));
            put(&mut m, "width", r.width);
            put(&mut m, "height", r.height);
            put(&mut m, "steps", r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            if let Some(src) = source(r) {
                m.insert(
                    "frame_images".into(),
                    json!([{"input_image": src, "frame": 0}]),
                );
            }
            (format!("{}/v2/videos", t.base), Value::Object(m))
        }
        Protocol::Novita => {
            put(&mut m, "width", r.width);
            put(&mut m, "height", r.height);
            put(&mut m, "steps", r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            (
                format!("{}/v3/async/{}", t.base, t.model_id),
                Value::Object(m),
            )
        }
        Protocol::WaveSpeed => {
            put(&mut m, "duration", r.duration.map(|d| d.round() as i64));
            put(&mut m, "resolution", r.resolution.clone());
            put(&mut m, "aspect_ratio", r.aspect_ratio.clone());
            put(&mut m, "image", source(r));
            (
                format!("{}/api/v3/{}", t.base, t.model_id),
                Value::Object(m),
            )
        }
        // No video over the other protocols: `protocol` never gives them for a video.
        _ => (t.base.clone(), Value::Object(m)),
    }
}

fn job(id: Option<&str>, poll_url: String) -> Submitted {
    Submitted::Job(ProviderJob {
        id: id.map(str::to_string),
        poll_url: Some(poll_url),
        result_url: None,
        cancel_url: None,
    })
}

/// The answer to the request of a video-only protocol: a job to poll (or, Together, the
/// video already made).
pub fn read_submitted(t: &Target, v: &Value) -> AppResult<Submitted> {
    let who = t.who.as_str();
    match t.protocol {
        Protocol::TogetherVideo => {
            let Some(id) = v["id"].as_str() else {
                return Err(bad(who, "no video id"));
            };
            match read_poll(t, v)? {
                Poll::Done(out) => Ok(Submitted::Done(out)),
                Poll::Failed(e) => Err(e),
                _ => Ok(job(Some(id), format!("{}/v2/videos/{id}", t.base))),
            }
        }
        Protocol::Novita => {
            let Some(id) = v["task_id"].as_str() else {
                return Err(bad(who, "no task id"));
            };
            Ok(job(
                Some(id),
                format!("{}/v3/async/task-result?task_id={id}", t.base),
            ))
        }
        Protocol::WaveSpeed => {
            if let Some(code) = v["code"].as_i64().filter(|c| *c != 200) {
                let said = v["message"].as_str().unwrap_or("the request was refused");
                return Err(job_failed(who, &format!("{said} (code {code})")));
            }
            let d = &v["data"];
            let Some(poll) = d["urls"]["get"].as_str() else {
                return Err(bad(who, "no result URL"));
            };
            Ok(job(d["id"].as_str(), poll.to_string()))
        }
        _ => Err(bad(who, "not a video protocol")),
    }
}

fn waiting(status: &str, running: bool, progress: Option<f64>, eta_ms: Option<u64>) -> Poll {
    Poll::Waiting {
        status: status.to_string(),
        running,
        progress,
        queue_position: None,
        eta_ms,
    }
}

fn video_at(who: &str, url: Option<&str>) -> AppResult<Output> {
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        return Err(bad(who, "a finished job with no video"));
    };
    Ok(Output {
        pictures: vec![picture_of(who, url)?],
        ..Output::default()
    })
}

/// Where a job of a video-only protocol stands, from its poll's answer.
pub fn read_poll(t: &Target, v: &Value) -> AppResult<Poll> {
    let who = t.who.as_str();
    match t.protocol {
        Protocol::TogetherVideo => {
            let status = v["status"].as_str().unwrap_or_default();
            Ok(match status {
                "completed" => {
                    let mut out = video_at(who, v["outputs"]["video_url"].as_str())?;
                    // Together reports what the video cost it, in US dollars.
                    out.billed = v["outputs"]["cost"].as_f64().map(|c| (c, "USD".into()));
                    out.seed = v["seed"].as_i64();
                    Poll::Done(out)
                }
                "failed" => Poll::Failed(job_failed(
                    who,
                    v["error"]["message"]
                        .as_str()
                        .or(v["error"].as_str())
                        .unwrap_or("the video failed"),
                )),
                "cancelled" | "canceled" => Poll::Cancelled,
                s => waiting(s, s == "in_progress", None, None),
            })
        }
        Protocol::Novita => {
            let task = &v["task"];
            let status = task["status"].as_str().unwrap_or_default();
            Ok(match status {
                "TASK_STATUS_SUCCEED" => video_at(
                    who,
                    v["videos"]
                        .as_array()
                        .and_then(|a| a.first())
                        .and_then(|x| x["video_url"].as_str()),
                )
                .map(Poll::Done)?,
                "TASK_STATUS_FAILED" => Poll::Failed(job_failed(
                    who,
                    task["reason"]
                        .as_str()
                        .filter(|r| !r.is_empty())
                        .unwrap_or("the task failed"),
                )),
                s => waiting(
                    s.strip_prefix("TASK_STATUS_").unwrap_or(s),
                    s == "TASK_STATUS_PROCESSING",
                    task["progress_percent"]
                        .as_f64()
                        .map(|p| (p / 100.0).clamp(0.0, 1.0)),
                    task["eta"].as_u64().map(|s| s * 1000),
                ),
            })
        }
        Protocol::WaveSpeed => {
            let d = &v["data"];
            let status = d["status"].as_str().unwrap_or_default();
            Ok(match status {
                "completed" => video_at(
                    who,
                    d["outputs"]
                        .as_array()
                        .and_then(|a| a.first())
                        .and_then(|x| x.as_str()),
                )
                .map(Poll::Done)?,
                "failed" => Poll::Failed(job_failed(
                    who,
                    d["error"]
                        .as_str()
                        .filter(|e| !e.is_empty())
                        .unwrap_or("the job failed"),
                )),
                s => waiting(s, s == "processing", None, None),
            })
        }
        _ => Err(bad(who, "not a video protocol")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Routing;
    use crate::images::Picture;

    fn target(protocol: Protocol, routed: bool) -> Target {
        Target {
            provider: "p".into(),
            who: "P".into(),
            protocol,
            base: "https://router.example/p".into(),
            trusted: "https://router.example".into(),
            routed,
            model_id: "org/wan".into(),
            auth: ("authorization".into(), "Bearer hf_x".into()),
            headers: vec![],
            secret: "hf_x".into(),
        }
    }

    fn request(task: Task) -> ImageRequest {
        ImageRequest {
            task,
            model: "Wan-AI/Wan2.2".into(),
            routing: Routing::default(),
            prompt: "A fox".into(),
            negative_prompt: String::new(),
            width: None,
            height: None,
            steps: None,
            guidance: None,
            seed: Some(7),
            n: 1,
            bill_to: None,
            source: Some("data:image/png;base64,AAAA".into()),
            strength: None,
            duration: Some(5.0),
            resolution: Some("480p".into()),
            aspect_ratio: None,
        }
    }

    #[test]
    fn each_provider_gets_its_video_shape_and_the_source_only_for_image_to_video() {
        let i2v = request(Task::ImageToVideo);
        let (url, b) = build(&target(Protocol::Fal, true), &i2v);
        assert_eq!(url, "https://router.example/p/org/wan?_subdomain=queue");
        assert_eq!(b["image_url"], "data:image/png;base64,AAAA");
        assert_eq!(b["duration"], "5");
        assert!(b.get("aspect_ratio").is_none(), "no empty fields");
        let (url, b) = build(&target(Protocol::Replicate, true), &i2v);
        assert_eq!(
            url,
            "https://router.example/p/v1/models/org/wan/predictions"
        );
        assert_eq!(b["input"]["image"], "data:image/png;base64,AAAA");
        let (url, b) = build(&target(Protocol::TogetherVideo, true), &i2v);
        assert_eq!(url, "https://router.example/p/v2/videos");
        assert_eq!(b["model"], "org/wan");
        assert_eq!(b["seconds"], "5");
        assert_eq!(
            b["frame_images"][0]["input_image"],
            "data:image/png;base64,AAAA"
        );
        let (url, b) = build(&target(Protocol::WaveSpeed, false), &i2v);
        assert_eq!(url, "https://router.example/p/api/v3/org/wan");
        assert_eq!(b["duration"], 5);

        // Text-to-video never sends a stale source picture.
        let t2v = request(Task::TextToVideo);
        for p in [
            Protocol::Fal,
            Protocol::Replicate,
            Protocol::TogetherVideo,
            Protocol::WaveSpeed,
        ] {
            let (_, b) = build(&target(p, true), &t2v);
            let text = b.to_string();
            assert!(!text.contains("base64"), "{p:?}: {text}");
        }
        let (url, b) = build(&target(Protocol::Novita, true), &t2v);
        assert_eq!(url, "https://router.example/p/v3/async/org/wan");
        assert_eq!(b["seed"], 7);
    }

    #[test]
    fn novita_runs_image_to_video_nowhere_and_the_others_both() {
        assert_eq!(
            protocol("novita", Task::TextToVideo),
            Some(Protocol::Novita)
        );
        assert_eq!(protocol("novita", Task::ImageToVideo), None);
        assert_eq!(
            protocol("together", Task::ImageToVideo),
            Some(Protocol::TogetherVideo)
        );
        assert_eq!(protocol("hf-inference", Task::TextToVideo), None);
    }

    #[test]
    fn jobs_are_read_from_each_answer() {
        let t = target(Protocol::TogetherVideo, true);
        let s = read_submitted(&t, &json!({"id": "vid_1", "status": "queued"})).unwrap();
        assert_eq!(
            s,
            job(
                Some("vid_1"),
                "https://router.example/p/v2/videos/vid_1".into()
            )
        );
        let done = read_poll(
            &t,
            &json!({"status": "completed", "outputs": {"video_url": "https://cdn.example/v.mp4", "cost": 0.35}}),
        )
        .unwrap();
        let Poll::Done(out) = done else {
            panic!("{done:?}")
        };
        assert_eq!(
            out.pictures,
            vec![Picture::Url("https://cdn.example/v.mp4".into())]
        );
        assert_eq!(out.billed, Some((0.35, "USD".into())));
        let failed = read_poll(
            &t,
            &json!({"status": "failed", "error": {"message": "GPU out of memory"}}),
        );
        let Ok(Poll::Failed(e)) = failed else {
            panic!("{failed:?}")
        };
        assert!(e.message.contains("GPU out of memory"), "{}", e.message);

        let t = target(Protocol::Novita, true);
        let s = read_submitted(&t, &json!({"task_id": "t-9"})).unwrap();
        assert_eq!(
            s,
            job(
                Some("t-9"),
                "https://router.example/p/v3/async/task-result?task_id=t-9".into()
            )
        );
        let w = read_poll(
            &t,
            &json!({"task": {"status": "TASK_STATUS_PROCESSING", "progress_percent": 40, "eta": 12}, "videos": []}),
        )
        .unwrap();
        assert_eq!(
            w,
            Poll::Waiting {
                status: "PROCESSING".into(),
                running: true,
                progress: Some(0.4),
                queue_position: None,
                eta_ms: Some(12_000)
            }
        );

        let t = target(Protocol::WaveSpeed, true);
        let s = read_submitted(
            &t,
            &json!({"code": 200, "data": {"id": "w1", "status": "created", "urls": {"get": "https://router.example/p/api/v3/predictions/w1/result"}}}),
        )
        .unwrap();
        assert_eq!(
            s,
            job(
                Some("w1"),
                "https://router.example/p/api/v3/predictions/w1/result".into()
            )
        );
        let refused = read_submitted(&t, &json!({"code": 400, "message": "prompt too long"}));
        assert!(refused.unwrap_err().message.contains("prompt too long"));
        let done = read_poll(
            &t,
            &json!({"data": {"status": "completed", "outputs": ["https://cdn.example/w.mp4"]}}),
        )
        .unwrap();
        assert!(matches!(done, Poll::Done(_)));
        let empty = read_poll(&t, &json!({"data": {"status": "completed", "outputs": []}}));
        assert!(empty.is_err(), "a finished job with no video is an error");
    }

    #[test]
    fn videos_are_known_by_their_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        assert_eq!(sniff_video(&mp4), Some(("video/mp4", "mp4")));
        assert_eq!(
            sniff_video(b"\x1a\x45\xdf\xa3\x01\0\0\0"),
            Some(("video/webm", "webm"))
        );
        assert_eq!(sniff_video(b"<html>not a video</html>"), None);
        assert_eq!(sniff_video(b"\x89PNG\r\n\x1a\n"), None);
    }
}
