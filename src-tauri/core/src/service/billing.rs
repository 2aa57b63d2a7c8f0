//! Billing: the credits meter, the ledger table and its totals, rate-limit counts, the user's
//! corrections, and the ledger as CSV.

use serde::Serialize;
use ts_rs::TS;

use super::Services;
use crate::billing::{self, CreditSettings, CreditStatus, Payer};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::Plan;
use crate::history::ledger::{self, CallPage, CallQuery, CallRow, Totals};
use crate::history::now_ms;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderCount {
    pub provider: String,
    pub requests: u32,
    /// The allowance the provider last reported, if it did.
    pub rate_limit: Option<crate::call::RateLimit>,
    /// When it reported it (Unix ms).
    #[ts(type = "number | null")]
    pub reported_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RateInfo {
    /// Requests in the last hour, per provider.
    pub last_hour: Vec<ProviderCount>,
    /// The latest calls refused with 429.
    pub recent_429: Vec<CallRow>,
}

impl Services {
    /// Who pays for routed calls now: the organisation chosen in the playground, else the user.
    fn payer(&self) -> (Payer, Option<i64>) {
        let account = self.auth.cached_account();
        let bill_to = crate::chat::PlaygroundPrefs::load(&*self.store).bill_to;
        let period_end = account.as_ref().and_then(|a| a.period_end);
        if let (Some(org), Some(a)) = (bill_to, &account) {
            if let Some(o) = a.orgs.iter().find(|o| o.name == org && o.can_bill) {
                return (
                    Payer::Org {
                        name: o.name.clone(),
                        plan: o.plan.clone(),
                        seats: 1,
                    },
                    None,
                );
            }
        }
        match account.map(|a| a.plan) {
            Some(Plan::Pro) => (Payer::Pro, period_end),
            _ => (Payer::Free, period_end),
        }
    }

    /// The credits meter: spent this month, included, remaining, reset date, budget.
    pub fn credit_status(&self) -> AppResult<CreditStatus> {
        let (payer, period_end) = self.payer();
        let now = now_ms();
        let month = billing::billing_month(now, period_end);
        let reset_from_hf = period_end.is_some_and(|e| e * 1000 == month.end);
        let spent = match (&payer, self.history.get()) {
            // An organisation's own spend is not in the user's credits.
            (Payer::Org { .. }, Ok(h)) => {
                h.calls(&CallQuery {
                    from: Some(month.start),
                    to: Some(month.end),
                    billing: Some(crate::call::Billing::Org),
                    limit: Some(1),
                    ..CallQuery::default()
                })?
                .total_cost
            }
            (_, Ok(h)) => h.hf_credits_spent(month.start, month.end)?,
            (_, Err(_)) => 0.0,
        };
        // Hugging Face's own included credits for this period, when it has told them: the
        // user's (an organisation's are not in the user's usage).
        let hf_included = match payer {
            Payer::Free | Payer::Pro => self.cached_usage(now).map(|u| u.included_usd()),
            Payer::Org { .. } => None,
        };
        Ok(billing::status(
            billing::shipped_plans(),
            &CreditSettings::load(&*self.store),
            payer,
            month,
            reset_from_hf,
            spent,
            hf_included,
        ))
    }

    pub fn billing_calls(&self, query: &CallQuery) -> AppResult<CallPage> {
        self.history.get()?.calls(query)
    }

    /// Sums by `month`, `day`, `day_provider`, `model` or `provider` over `[from, to)`.
    pub fn billing_totals(
        &self,
        group: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> AppResult<Vec<Totals>> {
        self.history.get()?.totals(group, from, to)
    }

    pub fn billing_rates(&self) -> AppResult<RateInfo> {
        let h = self.history.get()?;
        let limits = h.latest_rate_limits()?;
        let last_hour = h
            .requests_since(now_ms() - 3_600_000)?
            .into_iter()
            .map(|(provider, requests)| {
                let l = limits.iter().find(|(p, _, _)| *p == provider);
                ProviderCount {
                    rate_limit: l.map(|(_, r, _)| r.clone()),
                    reported_at: l.map(|(_, _, at)| *at),
                    provider,
                    requests,
                }
            })
            .collect();
        Ok(RateInfo {
            last_hour,
            recent_429: h.rate_limited_calls(20)?,
        })
    }

    /// The user's average tokens in and out per answer (for the estimator), if there is history.
    pub fn billing_averages(&self) -> AppResult<Option<(f64, f64)>> {
        self.history.get()?.average_tokens(50)
    }

    pub fn credits(&self) -> CreditSettings {
        CreditSettings::load(&*self.store)
    }

    /// Saves the user's corrections (included credits, outside usage, budget) and returns the
    /// meter.
    pub fn credits_set(&self, settings: CreditSettings) -> AppResult<CreditStatus> {
        let bad = |what: &str| {
            AppError::new(
                ErrorCode::InvalidRequest,
                format!("{what} must be a positive amount in US dollars."),
            )
        };
        if settings
            .included_override
            .is_some_and(|v| !(v.is_finite() && v >= 0.0))
        {
            return Err(bad("Included credits"));
        }
        if !(settings.outside_usage.is_finite() && settings.outside_usage >= 0.0) {
            return Err(bad("Usage elsewhere"));
        }
        if settings
            .monthly_budget
            .is_some_and(|v| !(v.is_finite() && v > 0.0))
        {
            return Err(bad("The budget"));
        }
        let mut s = settings;
        if s.outside_usage > 0.0 && s.outside_usage_month.is_none() {
            let (_, period_end) = self.payer();
            s.outside_usage_month = Some(billing::billing_month(now_ms(), period_end).label());
        }
        s.save(&*self.store)?;
        self.credit_status()
    }

    /// The calls matching `query` (all of them, not one page) as CSV.
    pub fn billing_csv(&self, query: CallQuery) -> AppResult<String> {
        let h = self.history.get()?;
        let mut q = query;
        q.limit = Some(u32::MAX);
        q.offset = None;
        let mut rows = Vec::new();
        let mut offset = 0u32;
        loop {
            let page = h.calls(&CallQuery {
                limit: Some(5000),
                offset: Some(offset),
                ..q.clone()
            })?;
            let n = page.rows.len() as u32;
            rows.extend(page.rows);
            offset += n;
            if n == 0 || offset >= page.total {
                break;
            }
        }
        Ok(ledger::to_csv(&rows))
    }
}
