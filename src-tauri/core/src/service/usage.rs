//! Billing truth: the account's usage as Hugging Face reports it (cached, so the meter works
//! offline and says how old its figures are), and what Hugging Face billed each conversation.
//!
//! Not hammering the endpoints: [`Services::reconcile_sessions`] asks at most once per
//! [`UsageState::min_interval`] (a minute by default), and after a 429 not before the wait
//! Hugging Face asked for; [`Services::account_usage`] asks each time it is called (the UI calls
//! it on the Billing screen, on demand, and debounced after a burst of calls) but after a 429
//! answers from the cache until the wait is over.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Services;
use crate::billing::billing_month;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::usage::{is_rate_limit_wait, wait_secs_of};
use crate::hf::AccountUsage;
use crate::history::now_ms;
use crate::history::sessions::{is_pane_of, BilledCost, ConversationCost, ProviderAccuracy};
use crate::settings::{get_typed, set_typed};

/// Where the last usage answer is kept (the settings store).
pub const KEY_USAGE_CACHE: &str = "billingUsage";
/// How far back conversations are reconciled.
pub const RECONCILE_DAYS: i64 = 30;
/// The default least time between two session-cost questions.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// The usage figures to show, fresh or from the cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UsageReport {
    pub usage: AccountUsage,
    /// When Hugging Face said so (Unix ms).
    #[ts(type = "number")]
    pub fetched_at: i64,
    /// How old the figures are, seconds.
    #[ts(type = "number")]
    pub age_secs: i64,
    /// Set when these are the last known figures because asking now failed (429, 5xx,
    /// offline): why.
    pub stale_because: Option<AppError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedUsage {
    /// The account the figures are of: another account's are never shown.
    account: Option<String>,
    usage: AccountUsage,
    fetched_at: i64,
}

/// What a reconciliation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReconcileReport {
    /// Hugging Face was asked (false: too soon after the last time).
    pub asked: bool,
    /// Conversations whose billed cost is new or changed.
    pub updated: u32,
}

/// The throttle of the billing endpoints.
#[derive(Debug)]
pub struct UsageState {
    min_interval: Mutex<Duration>,
    /// When session costs were last asked for.
    last_reconcile: Mutex<Option<Instant>>,
    /// After a 429 on the session costs: not before then.
    reconcile_blocked_until: Mutex<Option<Instant>>,
    /// After a 429 on usage-v2: not before then.
    next_usage: Mutex<Option<Instant>>,
}

impl Default for UsageState {
    fn default() -> Self {
        Self {
            min_interval: Mutex::new(RECONCILE_EVERY),
            last_reconcile: Mutex::new(None),
            reconcile_blocked_until: Mutex::new(None),
            next_usage: Mutex::new(None),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl UsageState {
    /// The least time between two session-cost questions (tests shorten it).
    pub fn set_min_interval(&self, d: Duration) {
        *lock(&self.min_interval) = d;
    }

    pub fn min_interval(&self) -> Duration {
        *lock(&self.min_interval)
    }
}

/// Failures after which the last known figures are shown, labelled with their age.
fn keeps_last_figures(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RateLimited
            | ErrorCode::ServerError
            | ErrorCode::Network
            | ErrorCode::Timeout
            | ErrorCode::BadResponse
            | ErrorCode::TooLarge
    )
}

impl Services {
    fn hf_token(&self) -> AppResult<crate::secrets::Secret> {
        self.auth.token().map(|(t, _)| t).ok_or_else(|| {
            AppError::new(
                ErrorCode::NotSignedIn,
                "Sign in with a Hugging Face token to see its usage.",
            )
        })
    }

    /// Hugging Face's last figures for the signed-in account, if their period has not ended by
    /// `now_ms` (without a reported end: if they are from this calendar month).
    pub(crate) fn cached_usage(&self, now_ms: i64) -> Option<AccountUsage> {
        let name = self.auth.cached_account().map(|a| a.name);
        let c = get_typed::<CachedUsage>(&*self.store, KEY_USAGE_CACHE)
            .filter(|c| c.account == name)?;
        let current = match c.usage.period_end {
            Some(end) => end * 1000 > now_ms && c.fetched_at <= now_ms,
            None => billing_month(now_ms, None).start <= c.fetched_at,
        };
        current.then_some(c.usage)
    }

    /// The current period's usage from Hugging Face, cached with its time. On 429, 5xx or no
    /// connection the cached figures come back with their age and the reason; a 403 (no
    /// billing access) or 401 is an error: the UI falls back to its own estimate.
    pub async fn account_usage(&self) -> AppResult<UsageReport> {
        let token = self.hf_token()?;
        let account = self.auth.cached_account();
        let name = account.as_ref().map(|a| a.name.clone());
        let now = now_ms();
        let month = billing_month(now, account.and_then(|a| a.period_end));
        let cached =
            get_typed::<CachedUsage>(&*self.store, KEY_USAGE_CACHE).filter(|c| c.account == name);
        let stale = |e: AppError, cached: Option<CachedUsage>| match cached {
            Some(c) if keeps_last_figures(e.code) => {
                log::info!(
                    "usage: showing the figures of {} s ago: {e}",
                    (now - c.fetched_at) / 1000
                );
                Ok(UsageReport {
                    usage: c.usage,
                    fetched_at: c.fetched_at,
                    age_secs: ((now - c.fetched_at) / 1000).max(0),
                    stale_because: Some(e),
                })
            }
            _ => Err(e),
        };
        if let Some(until) = *lock(&self.usage.next_usage) {
            if Instant::now() < until {
                let left = until
                    .saturating_duration_since(Instant::now())
                    .as_secs()
                    .max(1);
                let e = AppError::new(
                    ErrorCode::RateLimited,
                    format!("Hugging Face asked to wait before asking again: {left} s left."),
                );
                return stale(e, cached);
            }
        }
        match self
            .hf
            .usage(&token, month.start / 1000, month.end / 1000)
            .await
        {
            Ok(usage) => {
                let c = CachedUsage {
                    account: name,
                    usage: usage.clone(),
                    fetched_at: now,
                };
                if let Err(e) = set_typed(&*self.store, KEY_USAGE_CACHE, &c) {
                    log::warn!("could not cache the usage: {e}");
                }
                Ok(UsageReport {
                    usage,
                    fetched_at: now,
                    age_secs: 0,
                    stale_because: None,
                })
            }
            Err(e) => {
                log::warn!("usage: {e}");
                if let Some(wait) = is_rate_limit_wait(&e).then(|| wait_secs_of(&e)) {
                    *lock(&self.usage.next_usage) =
                        Some(Instant::now() + Duration::from_secs(wait.unwrap_or(60)));
                }
                stale(e, cached)
            }
        }
    }

    /// Asks Hugging Face what it billed the sessions of the conversations updated in the last
    /// [`RECONCILE_DAYS`] days and records, per conversation, the billed cost and request count
    /// (all its panes together). At most once per [`UsageState::min_interval`], and after a 429
    /// not before the wait is over: a call too soon asks nothing.
    pub async fn reconcile_sessions(&self) -> AppResult<ReconcileReport> {
        let not_asked = ReconcileReport {
            asked: false,
            updated: 0,
        };
        let too_soon = |now: Instant| {
            let last = *lock(&self.usage.last_reconcile);
            last.is_some_and(|t| now < t + self.usage.min_interval())
                || lock(&self.usage.reconcile_blocked_until).is_some_and(|t| now < t)
        };
        if too_soon(Instant::now()) {
            return Ok(not_asked);
        }
        let token = self.hf_token()?;
        let history = self.history.wait().await?;
        let now = now_ms();
        let since = now - RECONCILE_DAYS * 86_400_000;
        let h = history.clone();
        let conversations = tokio::task::spawn_blocking(move || h.recent_sessions(since))
            .await
            .map_err(|e| AppError::internal(format!("reading the history failed: {e}")))??;
        // Nothing to ask about: not asked, so the first call after start-up is not held back.
        if conversations.is_empty() {
            return Ok(not_asked);
        }
        {
            let now = Instant::now();
            if too_soon(now) {
                return Ok(not_asked);
            }
            *lock(&self.usage.last_reconcile) = Some(now);
        }
        let sessions = match self
            .hf
            .session_costs(&token, since / 1000, now / 1000 + 60)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                log::warn!("billed sessions: {e}");
                if is_rate_limit_wait(&e) {
                    let wait = Duration::from_secs(wait_secs_of(&e).unwrap_or(60));
                    *lock(&self.usage.reconcile_blocked_until) = Some(Instant::now() + wait);
                }
                return Err(e);
            }
        };
        let billed: Vec<BilledCost> = conversations
            .iter()
            .filter_map(|(conv, session)| {
                let mine = sessions.iter().filter(|s| is_pane_of(session, &s.id));
                let (nano, requests) = mine.fold((0i64, 0u64), |(n, r), s| {
                    (n + s.billed_nano_usd, r + s.requests)
                });
                (requests > 0 || nano > 0).then(|| BilledCost {
                    conversation_id: conv.clone(),
                    billed_nano_usd: nano,
                    requests,
                    checked_at: now,
                })
            })
            .collect();
        // Every bill is saved (with when it was checked); only the ones that changed count.
        let updated = tokio::task::spawn_blocking(move || {
            billed.iter().try_fold(0u32, |n, b| {
                let before = history.billed(&b.conversation_id)?;
                history.record_billed(b)?;
                let changed = before.is_none_or(|o| {
                    (o.billed_nano_usd, o.requests) != (b.billed_nano_usd, b.requests)
                });
                Ok::<_, AppError>(n + u32::from(changed))
            })
        })
        .await
        .map_err(|e| AppError::internal(format!("saving failed: {e}")))??;
        Ok(ReconcileReport {
            asked: true,
            updated,
        })
    }

    /// What Hugging Face billed a conversation, if it has reported it.
    pub async fn conversation_billed(
        &self,
        conversation_id: &str,
    ) -> AppResult<Option<BilledCost>> {
        let history = self.history.wait().await?;
        let id = conversation_id.to_string();
        tokio::task::spawn_blocking(move || history.billed(&id))
            .await
            .map_err(|e| AppError::internal(format!("reading the history failed: {e}")))?
    }

    /// A conversation's estimate beside what Hugging Face billed for it ("pending" until every
    /// call it bills has settled). Reads the history only: it never asks Hugging Face, so the
    /// UI may ask it often while a cost settles.
    pub async fn conversation_cost(&self, conversation_id: &str) -> AppResult<ConversationCost> {
        let history = self.history.wait().await?;
        let id = conversation_id.to_string();
        let since = now_ms() - RECONCILE_DAYS * 86_400_000;
        tokio::task::spawn_blocking(move || history.conversation_cost(&id, since))
            .await
            .map_err(|e| AppError::internal(format!("reading the history failed: {e}")))?
    }

    /// Per provider, the estimate beside Hugging Face's bill over every conversation it has
    /// billed in full whose calls all went to that provider.
    pub fn provider_accuracy(&self) -> AppResult<Vec<ProviderAccuracy>> {
        self.history.get()?.provider_accuracy(0)
    }
}
