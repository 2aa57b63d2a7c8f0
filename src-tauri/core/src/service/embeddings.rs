//! The embeddings service: a list of sentences to vectors, routed or with the provider's own
//! key exactly as chat decides ([`crate::routing::Resolver::decide_for`]), the call in the
//! ledger (task `embeddings`, cost unknown when no price is known), the run kept in the history
//! and shown with its similarity matrix, computed here.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::reach::DirectBase;
use super::Services;
use crate::call::{Billing, CallMode, RouteDecision, Routing, Target as Choice, Task};
use crate::embeddings::{self, EmbeddingComparison, Target};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::embeddings::EmbeddingRecord;
use crate::history::ledger::{CallKind, CallRow};
use crate::providers;

/// What the Embeddings task sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbedRequest {
    pub model: String,
    pub routing: Routing,
    #[serde(default)]
    pub bill_to: Option<String>,
    /// One sentence per entry; blank ones are dropped.
    pub sentences: Vec<String>,
}

/// A run as the UI shows it: the record and the figures computed from its vectors.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbeddingView {
    pub record: EmbeddingRecord,
    /// The vectors' size.
    pub dim: u32,
    /// Each vector's Euclidean norm.
    pub norms: Vec<f64>,
    /// Cosine similarity of every pair (`matrix[i][j]`).
    pub matrix: Vec<Vec<f64>>,
    /// For each sentence, the others from most to least similar.
    pub ranked: Vec<Vec<u32>>,
}

impl EmbeddingView {
    pub fn of(record: EmbeddingRecord) -> Self {
        let matrix = embeddings::similarity(&record.vectors);
        let ranked = (0..matrix.len())
            .map(|i| {
                embeddings::most_similar(&matrix, i)
                    .into_iter()
                    .map(|(j, _)| j as u32)
                    .collect()
            })
            .collect();
        Self {
            dim: record.vectors.first().map_or(0, Vec::len) as u32,
            norms: record.vectors.iter().map(|v| embeddings::norm(v)).collect(),
            matrix,
            ranked,
            record,
        }
    }
}

/// Two models on the same sentences, sent at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbedPairRequest {
    pub first: EmbedRequest,
    /// Its sentences are the first's: only the model, routing and bill-to are read.
    pub second: EmbedRequest,
}

/// What came back from two models: each run (kept like any other) or why it failed, and how
/// they disagree when both answered.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbedPair {
    pub first: Option<EmbeddingView>,
    pub first_error: Option<AppError>,
    pub second: Option<EmbeddingView>,
    pub second_error: Option<AppError>,
    pub comparison: Option<EmbeddingComparison>,
}

/// Two kept runs to compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbedCompareArgs {
    pub first: String,
    pub second: String,
}

/// How two runs disagree, or why they cannot be compared (not the same sentences).
pub fn compare_views(
    first: &EmbeddingView,
    second: &EmbeddingView,
) -> AppResult<EmbeddingComparison> {
    if first.record.sentences != second.record.sentences {
        return Err(AppError::new(
            ErrorCode::InvalidRequest,
            "These two runs are not of the same sentences, so they cannot be compared.",
        ));
    }
    embeddings::compare(&first.matrix, &second.matrix).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidRequest,
            "These two runs are not of the same sentences, so they cannot be compared.",
        )
    })
}

/// The export formats of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum EmbedExportFormat {
    /// The similarity matrix, one row per sentence, with the vectors' norms.
    Csv,
    /// Everything: sentences, vectors, norms, matrix, model, provider.
    Json,
}

fn csv_cell(s: &str) -> String {
    // Quoted always; a leading formula character is defused for spreadsheets.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl EmbeddingView {
    /// The run as a file's text, and the file's suggested name.
    pub fn export(&self, format: EmbedExportFormat) -> (String, String) {
        let stem = format!(
            "embeddings-{}",
            &self.record.id[..8.min(self.record.id.len())]
        );
        match format {
            EmbedExportFormat::Csv => {
                let mut out = String::from("\"sentence\",\"norm\"");
                for s in &self.record.sentences {
                    out.push(',');
                    out.push_str(&csv_cell(s));
                }
                out.push('\n');
                for (i, s) in self.record.sentences.iter().enumerate() {
                    out.push_str(&csv_cell(s));
                    out.push_str(&format!(",{:.6}", self.norms[i]));
                    for v in &self.matrix[i] {
                        out.push_str(&format!(",{v:.6}"));
                    }
                    out.push('\n');
                }
                (out, format!("{stem}.csv"))
            }
            EmbedExportFormat::Json => (
                serde_json::to_string_pretty(self).unwrap_or_default(),
                format!("{stem}.json"),
            ),
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(AppError::internal(format!("saving failed: {e}"))))
}

impl Services {
    /// Where an embeddings call chosen as `routing` would go and who would pay (no network).
    pub fn embed_route(&self, routing: &Routing, bill_to: Option<&str>) -> RouteDecision {
        self.resolver()
            .decide_for(Task::FeatureExtraction, routing, bill_to)
    }

    /// Sends the sentences, keeps the run and answers it with its similarity matrix.
    pub async fn embed(&self, mut request: EmbedRequest) -> AppResult<EmbeddingView> {
        request.sentences = request
            .sentences
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if request.sentences.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Write at least one sentence, one per line.",
            ));
        }
        if request.sentences.len() > embeddings::MAX_SENTENCES {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Send at most {} sentences at a time.",
                    embeddings::MAX_SENTENCES
                ),
            ));
        }
        let resolver = self.resolver();
        resolver.check_enabled(&request.routing)?;
        let route = resolver.decide_for(
            Task::FeatureExtraction,
            &request.routing,
            request.bill_to.as_deref(),
        );
        let provider = self.embed_provider(&request).await?;
        let mode = match request.routing.target() {
            Choice::Auto(_) => CallMode::Routed,
            _ => route.mode,
        };
        // With the user's own key, a model the Hub does not map to the provider is sent under
        // its own name: the provider knows its models, and says so plainly if not.
        let listed = self
            .chat
            .mappings
            .get(&self.hf, &request.model)
            .await
            .is_ok_and(|m| m.iter().any(|e| e.provider == provider));
        let model_id = if mode == CallMode::OwnKey && !listed {
            request.model.clone()
        } else {
            self.image_model_id(&request.model, &provider, mode).await?
        };
        let target = self.embed_target(&provider, mode, &model_id, request.bill_to.as_deref())?;
        let billing = if mode == CallMode::OwnKey {
            Billing::Provider
        } else {
            route.billing
        };
        let started = Instant::now();
        let answer = embeddings::embed(self.hf.http(), &target, &request.sentences).await;
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        let history = self.history.wait().await?;
        // No embedding prices are known to the app: the cost stays unknown, never $0.
        let cost = None;
        let (status, error_code, request_id, tokens) = match &answer {
            Ok(a) => ("complete", None, a.request_id.clone(), a.tokens),
            Err((e, rid)) => ("error", Some(e.code), rid.clone(), None),
        };
        let row = CallRow {
            id: 0,
            at: crate::history::now_ms(),
            kind: CallKind::Embeddings,
            model: Some(request.model.clone()),
            provider: Some(provider.clone()),
            billing,
            bill_to: (billing == Billing::Org)
                .then(|| request.bill_to.clone())
                .flatten(),
            tokens_in: tokens.unwrap_or(0),
            tokens_out: 0,
            usage_estimated: false,
            price: None,
            cost,
            ttft_ms: None,
            total_ms: Some(total_ms),
            status: status.into(),
            error_code,
            request_id: request_id.clone(),
            conversation_id: None,
            message_id: None,
            rate_limit: None,
            router_cost: None,
            conversation_billed: None,
            conversation_billed_requests: None,
        };
        {
            let h = history.clone();
            if let Err(e) = blocking(move || h.record_call(&row)).await {
                log::error!("could not record an embeddings call in the ledger: {e}");
            }
        }
        let answer = answer.map_err(|(e, _)| e)?;
        let record = EmbeddingRecord {
            id: uuid::Uuid::new_v4().to_string(),
            created_at: crate::history::now_ms(),
            model: request.model,
            provider,
            mode,
            billing,
            sentences: request.sentences,
            vectors: answer.vectors,
            cost,
            tokens,
            request_id,
            total_ms: Some(total_ms),
        };
        {
            let (h, r) = (history.clone(), record.clone());
            blocking(move || h.insert_embedding(&r).map(|_| ())).await?;
        }
        Ok(EmbeddingView::of(record))
    }

    /// The same sentences to two models at once; each run is kept (and in the ledger) on its
    /// own, and compared when both answered.
    pub async fn embed_pair(&self, request: EmbedPairRequest) -> EmbedPair {
        let EmbedPairRequest { first, mut second } = request;
        second.sentences = first.sentences.clone();
        let (a, b) = tokio::join!(self.embed(first), self.embed(second));
        let comparison = match (&a, &b) {
            (Ok(a), Ok(b)) => compare_views(a, b).ok(),
            _ => None,
        };
        let (first, first_error) = match a {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        let (second, second_error) = match b {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        EmbedPair {
            first,
            first_error,
            second,
            second_error,
            comparison,
        }
    }

    /// Two kept runs of the same sentences compared.
    pub async fn embedding_compare(
        &self,
        args: EmbedCompareArgs,
    ) -> AppResult<EmbeddingComparison> {
        let h = self.history.wait().await?;
        let (a, b) =
            blocking(move || Ok((h.embedding(&args.first)?, h.embedding(&args.second)?))).await?;
        let (Some(a), Some(b)) = (a, b) else {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "That embedding run is no longer kept.",
            ));
        };
        compare_views(&EmbeddingView::of(a), &EmbeddingView::of(b))
    }

    /// The runs kept, latest first, with their matrices.
    pub async fn embeddings_list(&self, limit: u32) -> AppResult<Vec<EmbeddingView>> {
        let h = self.history.wait().await?;
        let rows = blocking(move || h.embeddings(limit.clamp(1, 500))).await?;
        Ok(rows.into_iter().map(EmbeddingView::of).collect())
    }

    /// A kept run as an export file's text and suggested name.
    pub async fn embedding_export(
        &self,
        id: String,
        format: EmbedExportFormat,
    ) -> AppResult<(String, String)> {
        let h = self.history.wait().await?;
        let record = blocking(move || h.embedding(&id)).await?.ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidRequest,
                "That embedding run is no longer kept.",
            )
        })?;
        Ok(EmbeddingView::of(record).export(format))
    }

    pub async fn embedding_delete(&self, id: String) -> AppResult<()> {
        let h = self.history.wait().await?;
        blocking(move || h.delete_embedding(&id)).await
    }

    /// The pinned provider, or the first live one of the Hub's mapping the app can ask for
    /// embeddings (HF Inference when the Hub lists none).
    async fn embed_provider(&self, request: &EmbedRequest) -> AppResult<String> {
        match request.routing.target() {
            Choice::Provider(p) => {
                if !embeddings::supported(p) {
                    let name = providers::get(p).map_or(p, |d| d.display.as_str());
                    return Err(AppError::new(
                        ErrorCode::ModelUnavailable,
                        format!("Switchboard cannot ask {name} for embeddings yet: pick HF Inference, Together, DeepInfra or Scaleway."),
                    ));
                }
                Ok(p.to_string())
            }
            Choice::Endpoint(_) => Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Custom endpoints answer chat only; pick a provider for embeddings.",
            )),
            Choice::Auto(_) => {
                let prefs = providers::ProviderPrefs::load(&*self.store);
                let mapping = self
                    .chat
                    .mappings
                    .get(&self.hf, &request.model)
                    .await
                    .unwrap_or_default();
                Ok(mapping
                    .iter()
                    .filter(|m| m.status == "live")
                    .filter(|m| {
                        m.task
                            .as_deref()
                            .is_none_or(|t| t == "feature-extraction" || t == "sentence-similarity")
                    })
                    .filter(|m| embeddings::supported(&m.provider))
                    .find(|m| prefs.pref(&m.provider).enabled)
                    .map_or_else(|| "hf-inference".to_string(), |m| m.provider.clone()))
            }
        }
    }

    /// Where the call goes and with which credential: the HF token through the router, or the
    /// provider's key straight to it.
    fn embed_target(
        &self,
        provider: &str,
        mode: CallMode,
        model_id: &str,
        bill_to: Option<&str>,
    ) -> AppResult<Target> {
        let r = self.reach(provider, mode, bill_to, DirectBase::Api, "get embeddings")?;
        Ok(Target {
            provider: provider.to_string(),
            who: r.who,
            base: r.base,
            model_id: model_id.to_string(),
            auth: r.auth,
            headers: r.headers,
            secret: r.secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> EmbeddingView {
        EmbeddingView::of(EmbeddingRecord {
            id: "0123456789".into(),
            created_at: 0,
            model: "m".into(),
            provider: "hf-inference".into(),
            mode: CallMode::Routed,
            billing: Billing::HfCredits,
            sentences: vec!["A \"cat\"".into(), "=1+1".into()],
            vectors: vec![vec![3.0, 4.0], vec![4.0, 3.0]],
            cost: None,
            tokens: None,
            request_id: None,
            total_ms: None,
        })
    }

    #[test]
    fn the_csv_holds_the_matrix_and_norms_with_sentences_quoted() {
        let (csv, name) = view().export(EmbedExportFormat::Csv);
        assert_eq!(name, "embeddings-01234567.csv");
        let lines = csv.lines().collect::<Vec<_>>();
        assert_eq!(lines[0], r#""sentence","norm","A ""cat""","'=1+1""#);
        assert_eq!(lines[1], r#""A ""cat""",5.000000,1.000000,0.960000"#);
        assert_eq!(lines[2], r#""'=1+1",5.000000,0.960000,1.000000"#);
    }

    #[test]
    fn the_json_holds_vectors_and_matrix() {
        let (json, name) = view().export(EmbedExportFormat::Json);
        assert!(name.ends_with(".json"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["dim"], 2);
        assert_eq!(v["record"]["vectors"][0][1], 4.0);
        assert!((v["matrix"][0][1].as_f64().unwrap() - 0.96).abs() < 1e-9);
        assert_eq!(v["ranked"][0][0], 1);
    }
}
