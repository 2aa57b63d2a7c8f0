//! What a call gives back: the events while it runs, how it ended, its figures.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::Pricing;
use crate::error::AppError;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    Complete,
    /// The user pressed Stop: the partial answer is kept.
    Stopped,
    Error,
}

/// The figures shown under an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallStats {
    /// The provider that served the call (`x-inference-provider`, or the pinned one).
    pub provider: Option<String>,
    #[ts(type = "number")]
    pub tokens_in: u64,
    #[ts(type = "number")]
    pub tokens_out: u64,
    /// The provider sent no usage: the token counts are estimates.
    pub usage_estimated: bool,
    /// Time to the first token, ms.
    pub ttft_ms: Option<f64>,
    pub total_ms: f64,
    pub tokens_per_sec: Option<f64>,
    /// The provider's price at the time of the call.
    pub pricing: Option<Pricing>,
    /// USD; `None` when the price is unknown.
    pub cost: Option<f64>,
    pub finish_reason: Option<String>,
    /// The provider's or the Hub's remaining allowance, when the answer said.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// USD: the router's own estimate (`usage.estimated_cost`), when a routed answer carried
    /// one. `cost` is the app's estimate (tokens × catalog price); what Hugging Face finally
    /// bills is reconciled per conversation later. Absent when the router sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub router_cost: Option<f64>,
}

/// What `x-ratelimit-*` or `RateLimit`/`RateLimit-Policy` headers said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RateLimit {
    /// Requests left in the window.
    #[ts(type = "number | null")]
    pub remaining: Option<u64>,
    /// Requests allowed per window.
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
    /// Seconds until the window resets.
    #[ts(type = "number | null")]
    pub reset_secs: Option<u64>,
}

/// What the UI learns while a call runs, in order: `Started` once the answer's headers are in,
/// `Retrying` before each automatic retry, `Delta`s as the text streams, `Finished` (always sent
/// exactly once), then `NotSaved` if the answer, its ledger rows or the used-up mark could not
/// be saved (the call's id retries with `chat_save_retry`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "event",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[ts(export)]
// `Finished` carries the call's figures and is sent once per call: its size does not matter,
// and boxing it would change every place that builds or reads it.
#[allow(clippy::large_enum_variant)]
pub enum ChatEvent {
    Started {
        request_id: Option<String>,
        provider: Option<String>,
    },
    Retrying {
        attempt: u32,
        max_attempts: u32,
        #[ts(type = "number")]
        wait_ms: u64,
        error: AppError,
        request_id: Option<String>,
    },
    Delta {
        content: String,
        reasoning: String,
    },
    Finished {
        outcome: Outcome,
        error: Option<AppError>,
        request_id: Option<String>,
        stats: CallStats,
    },
    /// The answer (or its record in the ledger) is not saved: it is kept in memory until
    /// `chat_save_retry` with `call_id` succeeds; ledger rows are also retried after each call.
    NotSaved {
        #[ts(type = "number")]
        call_id: u64,
        error: AppError,
    },
}

/// How the call ended, with the whole text (the same as the `Finished` event plus the text).
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    pub outcome: Outcome,
    pub error: Option<AppError>,
    pub request_id: Option<String>,
    pub stats: CallStats,
    pub content: String,
    pub reasoning: String,
}
