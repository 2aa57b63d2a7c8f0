//! The data of an image generation: what the user asks for, the job as it is kept, the events
//! while it runs. No behaviour.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Billing, CallMode, Routing, Task};
use crate::error::AppError;

/// What the user asks a generation model for: pictures (text-to-image, image-to-image) or a
/// video (text-to-video, image-to-video). `None` leaves the provider's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageRequest {
    /// What is generated: `text-to-image` (also image-to-image, with a source), `text-to-video`
    /// or `image-to-video` (the source is the first frame). Jobs saved before videos existed
    /// read as `text-to-image`.
    #[serde(default = "text_to_image")]
    pub task: Task,
    /// The Hub model id.
    pub model: String,
    /// Automatic (the first live provider of the Hub's mapping) or a pinned provider.
    pub routing: Routing,
    pub prompt: String,
    #[serde(default)]
    pub negative_prompt: String,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    /// Inference steps.
    #[serde(default)]
    pub steps: Option<u32>,
    /// Guidance scale.
    #[serde(default)]
    pub guidance: Option<f64>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub seed: Option<i64>,
    /// Pictures wanted, where the provider makes several in one call (1 otherwise).
    #[serde(default = "one")]
    pub n: u32,
    /// An organisation billed with `X-HF-Bill-To` (routed calls).
    #[serde(default)]
    pub bill_to: Option<String>,
    /// Image-to-image: the source picture, as a `data:image/...;base64,` URL.
    #[serde(default)]
    #[ts(optional)]
    pub source: Option<String>,
    /// Image-to-image: how far from the source the picture may go (0–1).
    #[serde(default)]
    #[ts(optional)]
    pub strength: Option<f64>,
    /// Video: its length in seconds, where the model takes one.
    #[serde(default)]
    #[ts(optional)]
    pub duration: Option<f64>,
    /// Video: `480p`, `720p` or `1080p`, where the model takes one.
    #[serde(default)]
    #[ts(optional)]
    pub resolution: Option<String>,
    /// Video: `16:9`, `9:16` or `1:1`, where the model takes one.
    #[serde(default)]
    #[ts(optional)]
    pub aspect_ratio: Option<String>,
}

fn one() -> u32 {
    1
}

fn text_to_image() -> Task {
    Task::TextToImage
}

impl ImageRequest {
    /// A video is asked for (not pictures).
    pub fn is_video(&self) -> bool {
        self.task.is_video()
    }

    /// What the result is called, for messages: "picture" or "video".
    pub fn what(&self) -> &'static str {
        if self.is_video() {
            "video"
        } else {
            "picture"
        }
    }
}

/// Where an estimate of the time left comes from: it is said with the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EtaSource {
    /// The provider reported it.
    Provider,
    /// The median time of this model on this provider in the history, less the time elapsed.
    PastRuns,
}

/// Where a generation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum JobStatus {
    /// Saved; the request is being sent.
    Submitting,
    /// The provider accepted it and gave a job to poll.
    Queued,
    /// The provider says it is working on it.
    Running,
    Complete,
    Error,
    Cancelled,
    /// The app ended before a provider with no job to poll answered: nothing to resume.
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitting => "submitting",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "submitting" => Self::Submitting,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "complete" => Self::Complete,
            "error" => Self::Error,
            "cancelled" => Self::Cancelled,
            _ => Self::Interrupted,
        }
    }

    /// Still waiting on the provider.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitting | Self::Queued | Self::Running)
    }
}

/// A picture kept in the data folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StoredImage {
    /// File name in the images folder: the SHA-256 of its bytes and the extension its content
    /// says (never the server's name).
    pub file: String,
    /// `image/png`, `image/jpeg`, `image/webp` or `image/gif`, from the bytes.
    pub mime: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// How the provider's side of a job is reached again (after a restart too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderJob {
    /// The provider's id for the job.
    pub id: Option<String>,
    /// Where its state is read.
    pub poll_url: Option<String>,
    /// Where its result is read once done (fal's response URL).
    pub result_url: Option<String>,
    /// Where it is cancelled, if the provider allows it.
    pub cancel_url: Option<String>,
}

/// A generation as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageJob {
    pub id: String,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
    pub request: ImageRequest,
    /// The provider that serves it (decided before sending).
    pub provider: Option<String>,
    /// The model id sent to the provider.
    pub provider_model: Option<String>,
    pub mode: CallMode,
    pub billing: Billing,
    pub status: JobStatus,
    pub provider_job: ProviderJob,
    /// The provider's own words for where the job is (`IN_QUEUE`, `processing`, `Pending`…).
    pub provider_status: Option<String>,
    /// 0–1, when the provider says.
    pub progress: Option<f64>,
    pub images: Vec<StoredImage>,
    /// The seed used, as the provider reported it (else the one asked for).
    #[ts(type = "number | null")]
    pub seed: Option<i64>,
    /// USD; `None` when no price is known (never shown as $0).
    pub cost: Option<f64>,
    /// What the provider reported it bills (fal's billable units, Replicate's seconds).
    pub billed_units: Option<f64>,
    /// What `billed_units` counts: `units`, `seconds`, `images`.
    pub billed_unit: Option<String>,
    /// USD per unit used for `cost`, if one was known.
    pub unit_price: Option<f64>,
    pub error: Option<AppError>,
    pub request_id: Option<String>,
    /// From sending to the picture on disk, ms.
    pub total_ms: Option<f64>,
}

/// What the UI learns while a generation runs: `Started` once saved, `Progress` as the
/// provider reports, `Finished` exactly once with the job as saved.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "event",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[ts(export)]
#[allow(clippy::large_enum_variant)]
pub enum ImageEvent {
    Started {
        job_id: String,
        provider: Option<String>,
    },
    Progress {
        status: JobStatus,
        provider_status: Option<String>,
        progress: Option<f64>,
        #[ts(type = "number | null")]
        queue_position: Option<u64>,
        #[ts(type = "number")]
        elapsed_ms: u64,
        /// The time left, where an estimate is known, and where it comes from.
        #[ts(type = "number | null")]
        eta_ms: Option<u64>,
        eta_source: Option<EtaSource>,
    },
    Finished {
        job: ImageJob,
    },
}
