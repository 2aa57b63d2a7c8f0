//! The models providers serve for text-to-image (and, with the same shape, text-to-video and
//! image-to-video), from the Hub
//! (`/api/models?inference_provider=all&pipeline_tag=text-to-image&expand[]=inferenceProviderMapping`,
//! paged with `limit`/`skip`): which providers serve each, their status, the provider's model
//! id, whether Switchboard speaks that provider's image protocol, and the price where one is
//! known (none yet: shown as unknown, never $0). Cached on disk like the chat catalog.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::call::Task;
use crate::catalog::{write_atomic, OfferStatus, MAX_AGE_SECS};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{parse_mapping, send_for_text, HfClient};

/// Pages of this many models are asked for.
pub const PAGE: usize = 100;
/// At most this many pages are read (the Hub lists a few hundred such models).
const MAX_PAGES: usize = 20;

/// One provider serving one image model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageOffer {
    pub provider: String,
    /// `live`, `error`, or `other` (`staging`: for the provider's organization only).
    pub status: OfferStatus,
    /// The model id the provider knows.
    pub provider_id: String,
    /// Switchboard speaks this provider's image protocol.
    pub supported: bool,
    /// USD per picture, when known.
    pub price_per_image: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageModel {
    pub id: String,
    #[ts(type = "number | null")]
    pub likes: Option<u64>,
    pub providers: Vec<ImageOffer>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageCatalog {
    /// Unix seconds of the download; `None` when never downloaded.
    #[ts(type = "number | null")]
    pub fetched_at: Option<u64>,
    pub models: Vec<ImageModel>,
}

impl ImageCatalog {
    pub fn is_stale(&self, now: u64) -> bool {
        self.fetched_at
            .is_none_or(|t| now.saturating_sub(t) >= MAX_AGE_SECS)
    }

    pub fn model(&self, id: &str) -> Option<&ImageModel> {
        self.models.iter().find(|m| m.id == id)
    }

    /// A missing or unreadable cache is an empty catalog.
    pub fn load(path: &Path) -> ImageCatalog {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> AppResult<()> {
        let bytes = serde_json::to_vec(self)
            .map_err(|e| AppError::internal(format!("could not serialise the catalog: {e}")))?;
        write_atomic(path, &bytes)
    }

    /// Reads one page of the Hub's list of `task` models (text-to-image, text-to-video or
    /// image-to-video); entries that are not models are skipped.
    pub fn parse_page(body: &str, task: Task) -> AppResult<Vec<ImageModel>> {
        let name = task.hub_name();
        let list: Vec<serde_json::Value> = serde_json::from_str(body).map_err(|e| {
            AppError::new(
                ErrorCode::BadResponse,
                format!("The list of {name} models could not be read: {e}"),
            )
        })?;
        Ok(list
            .iter()
            .filter_map(|m| {
                let id = m["id"].as_str()?.to_string();
                let mapping = parse_mapping(&m.to_string()).unwrap_or_default();
                let providers: Vec<ImageOffer> = mapping
                    .into_iter()
                    .filter(|e| e.task.as_deref().is_none_or(|t| t == name))
                    .map(|e| ImageOffer {
                        supported: crate::images::protocol_for(&e.provider, task).is_some(),
                        status: OfferStatus::from(e.status.as_str()),
                        provider: e.provider,
                        provider_id: e.provider_id,
                        price_per_image: None,
                    })
                    .collect();
                (!providers.is_empty()).then(|| ImageModel {
                    id,
                    likes: m["likes"].as_u64(),
                    providers,
                })
            })
            .collect())
    }
}

/// Downloads the list of `task` models, `page` at a time (no credential: it is public).
pub async fn fetch(
    client: &HfClient,
    now: u64,
    page: usize,
    task: Task,
) -> AppResult<ImageCatalog> {
    let mut models: Vec<ImageModel> = Vec::new();
    for n in 0..MAX_PAGES {
        let url = client.endpoints().hub_url(&format!(
            "api/models?inference_provider=all&pipeline_tag={}&expand[]=inferenceProviderMapping&limit={page}&skip={}",
            task.hub_name(),
            n * page
        ));
        let (_, _, body) = send_for_text(
            client
                .http()
                .get(&url)
                .timeout(std::time::Duration::from_secs(60)),
            "Hugging Face",
        )
        .await?;
        let got = ImageCatalog::parse_page(&body, task)?;
        let full = body.trim_start().starts_with('[')
            && serde_json::from_str::<Vec<serde_json::Value>>(&body).is_ok_and(|v| v.len() >= page);
        models.extend(got);
        if !full {
            break;
        }
    }
    models.sort_by_cached_key(|m| m.id.to_lowercase());
    models.dedup_by(|a, b| a.id == b.id);
    Ok(ImageCatalog {
        fetched_at: Some(now),
        models,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_lists_text_to_image_offers_only() {
        let body = r#"[
          {"id": "a/flux", "likes": 5, "inferenceProviderMapping": [
            {"provider": "fal-ai", "providerId": "fal-ai/flux/dev", "status": "live", "task": "text-to-image"},
            {"provider": "wavespeed", "providerId": "x", "status": "staging", "task": "text-to-image"},
            {"provider": "fal-ai", "providerId": "y", "status": "live", "task": "image-to-image"}
          ]},
          {"id": "b/chat", "inferenceProviderMapping": [{"provider": "groq", "providerId": "b", "status": "live", "task": "conversational"}]},
          "not a model"
        ]"#;
        let models = ImageCatalog::parse_page(body, Task::TextToImage).unwrap();
        assert_eq!(models.len(), 1);
        let m = &models[0];
        assert_eq!(m.providers.len(), 2);
        assert!(m.providers[0].supported && m.providers[0].status == OfferStatus::Live);
        assert!(!m.providers[1].supported);
        assert_eq!(m.providers[0].price_per_image, None);
        assert!(ImageCatalog::parse_page("{}", Task::TextToImage).is_err());
    }
}
