//! Image generations in the history: one row per job, written before the request goes out,
//! updated as the provider answers, searchable by prompt for the gallery.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{db_error, now_ms, History};
use crate::call::{Billing, CallMode, ImageJob, ImageRequest, JobStatus, ProviderJob};
use crate::error::{AppError, AppResult, ErrorCode};

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse<T: for<'de> Deserialize<'de>>(s: Option<String>) -> Option<T> {
    serde_json::from_str(&s?).ok()
}

fn parse_enum<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

const COLS: &str = "id, created_at, updated_at, request, provider, provider_model, mode, billing, status, provider_job, provider_status, progress, images, seed, cost, billed_units, billed_unit, unit_price, error, request_id, total_ms";

fn row(r: &rusqlite::Row) -> rusqlite::Result<ImageJob> {
    let request: String = r.get(3)?;
    let request: ImageRequest = serde_json::from_str(&request).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let mode: String = r.get(6)?;
    let billing: String = r.get(7)?;
    let status: String = r.get(8)?;
    Ok(ImageJob {
        id: r.get(0)?,
        created_at: r.get(1)?,
        updated_at: r.get(2)?,
        request,
        provider: r.get(4)?,
        provider_model: r.get(5)?,
        mode: parse_enum(&mode).unwrap_or(CallMode::Routed),
        billing: parse_enum(&billing).unwrap_or(Billing::HfCredits),
        status: JobStatus::parse(&status),
        provider_job: parse(r.get(9)?).unwrap_or_default(),
        provider_status: r.get(10)?,
        progress: r.get(11)?,
        images: parse(r.get(12)?).unwrap_or_default(),
        seed: r.get(13)?,
        cost: r.get(14)?,
        billed_units: r.get(15)?,
        billed_unit: r.get(16)?,
        unit_price: r.get(17)?,
        error: parse(r.get(18)?),
        request_id: r.get(19)?,
        total_ms: r.get(20)?,
    })
}

/// Which generations the gallery lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct ImageQuery {
    /// Words the prompt must contain (case-insensitive); empty for all.
    pub text: String,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Pictures only, videos only, or (none) both.
    #[serde(default)]
    #[ts(optional)]
    pub media: Option<Media>,
}

/// What a generation made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Media {
    Pictures,
    Videos,
}

/// The SQL test of a job's task (kept in its request's JSON; jobs saved before videos existed
/// have none and are pictures).
const IS_VIDEO: &str =
    "COALESCE(json_extract(request, '$.task'), 'text-to-image') IN ('text-to-video', 'image-to-video')";

impl History {
    /// Saves a new job (status `submitting`) before anything is sent.
    pub fn insert_image_job(&self, job: &ImageJob) -> AppResult<()> {
        let conn = self.writable()?;
        conn.execute(
            "INSERT INTO image_jobs (id, created_at, updated_at, model, prompt, request, provider, provider_model, mode, billing, status, provider_job, seed)
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                job.id,
                job.created_at,
                job.request.model,
                job.request.prompt,
                json(&job.request),
                job.provider,
                job.provider_model,
                enum_str(&job.mode),
                enum_str(&job.billing),
                job.status.as_str(),
                json(&job.provider_job),
                job.request.seed,
            ],
        )
        .map_err(db_error)?;
        Ok(())
    }

    /// Writes the job's state as it is now (everything but its creation and request).
    pub fn update_image_job(&self, job: &ImageJob) -> AppResult<()> {
        let conn = self.writable()?;
        let n = conn
            .execute(
                "UPDATE image_jobs SET updated_at = ?2, provider = ?3, provider_model = ?4, status = ?5, provider_job = ?6,
                 provider_status = ?7, progress = ?8, images = ?9, seed = ?10, cost = ?11, billed_units = ?12,
                 billed_unit = ?13, unit_price = ?14, error = ?15, request_id = ?16, total_ms = ?17
                 WHERE id = ?1",
                params![
                    job.id,
                    job.updated_at,
                    job.provider,
                    job.provider_model,
                    job.status.as_str(),
                    json(&job.provider_job),
                    job.provider_status,
                    job.progress,
                    json(&job.images),
                    job.seed,
                    job.cost,
                    job.billed_units,
                    job.billed_unit,
                    job.unit_price,
                    job.error.as_ref().map(json),
                    job.request_id,
                    job.total_ms,
                ],
            )
            .map_err(db_error)?;
        if n == 0 {
            return Err(AppError::new(
                ErrorCode::NotFound,
                "That generation is no longer in the history.",
            ));
        }
        Ok(())
    }

    pub fn image_job(&self, id: &str) -> AppResult<Option<ImageJob>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLS} FROM image_jobs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .map_err(db_error)
    }

    /// Jobs still waiting on their provider (to resume at start-up).
    pub fn open_image_jobs(&self) -> AppResult<Vec<ImageJob>> {
        let conn = self.conn();
        let mut st = conn
            .prepare(&format!(
                "SELECT {COLS} FROM image_jobs WHERE status IN ('submitting', 'queued', 'running') ORDER BY created_at"
            ))
            .map_err(db_error)?;
        let rows = st.query_map([], row).map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    /// How long the last finished jobs of `model` on `provider` took (ms), newest first, at
    /// most `limit`: the ground of an estimate of the time left.
    pub fn image_job_durations(
        &self,
        model: &str,
        provider: &str,
        limit: u32,
    ) -> AppResult<Vec<f64>> {
        let conn = self.conn();
        let mut st = conn
            .prepare(
                "SELECT total_ms FROM image_jobs WHERE model = ?1 AND provider = ?2 AND status = 'complete' AND total_ms IS NOT NULL ORDER BY created_at DESC LIMIT ?3",
            )
            .map_err(db_error)?;
        let rows = st
            .query_map(params![model, provider, limit], |r| r.get::<_, f64>(0))
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    /// Every generation, oldest first (a full backup).
    pub fn all_image_jobs(&self) -> AppResult<Vec<ImageJob>> {
        let conn = self.conn();
        let mut st = conn
            .prepare(&format!(
                "SELECT {COLS} FROM image_jobs ORDER BY created_at, rowid"
            ))
            .map_err(db_error)?;
        let rows = st.query_map([], row).map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    /// The gallery: newest first, those whose prompt contains every word of `q.text`.
    pub fn image_jobs(&self, q: &ImageQuery) -> AppResult<Vec<ImageJob>> {
        let words: Vec<String> = q
            .text
            .split_whitespace()
            .map(|w| {
                let escaped = w
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            })
            .collect();
        let mut filter: String = (0..words.len())
            .map(|i| format!(" AND prompt LIKE ?{} ESCAPE '\\'", i + 1))
            .collect();
        match q.media {
            Some(Media::Videos) => filter.push_str(&format!(" AND {IS_VIDEO}")),
            Some(Media::Pictures) => filter.push_str(&format!(" AND NOT {IS_VIDEO}")),
            None => {}
        }
        let sql = format!(
            "SELECT {COLS} FROM image_jobs WHERE 1 = 1{filter} ORDER BY created_at DESC, rowid DESC LIMIT {} OFFSET {}",
            q.limit.unwrap_or(200).min(1000),
            q.offset.unwrap_or(0)
        );
        let conn = self.conn();
        let mut st = conn.prepare(&sql).map_err(db_error)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(words.iter()), row)
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }
}

/// A new job's row, before anything is sent.
#[allow(clippy::too_many_arguments)]
pub fn new_job(
    id: String,
    request: ImageRequest,
    provider: Option<String>,
    provider_model: Option<String>,
    mode: CallMode,
    billing: Billing,
) -> ImageJob {
    let now = now_ms();
    ImageJob {
        id,
        created_at: now,
        updated_at: now,
        seed: request.seed,
        request,
        provider,
        provider_model,
        mode,
        billing,
        status: JobStatus::Submitting,
        provider_job: ProviderJob::default(),
        provider_status: None,
        progress: None,
        images: Vec::new(),
        cost: None,
        billed_units: None,
        billed_unit: None,
        unit_price: None,
        error: None,
        request_id: None,
        total_ms: None,
    }
}
