//! What Hugging Face reports about the account's spending (undocumented endpoints its own apps
//! read, reference section 8):
//! - `GET /api/settings/billing/usage-v2?startDate=&endDate=` (unix **seconds**: milliseconds
//!   give a 500): used, included and limit in nano-USD, requests, the period;
//! - `GET /api/settings/billing/usage-by-inference-session?startDate=&endDate=` (ISO 8601):
//!   the billed cost (cents) and request count of each `X-HF-Session-id` the client sent.
//!
//! Amounts are kept as whole nano-USD (`i64`), the unit Hugging Face sends: sums and
//! differences (used − included, the room under the limit) are exact, and a meter never shows
//! a figure rounded up by float error. `*_usd()` give dollars for display.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::{
    error_from_response, looks_like_html, read_text_capped, transport_error, HfClient,
    MAX_SMALL_BODY_BYTES, SHORT_CALL_TIMEOUT,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::ledger::{civil_from_days, days_from_civil};
use crate::secrets::Secret;

/// Nano-USD in a dollar.
pub const NANO_PER_USD: i64 = 1_000_000_000;
/// The header naming a routed call's session, at most this many characters.
pub const HEADER_SESSION_ID: &str = "X-HF-Session-id";
pub const MAX_SESSION_ID_CHARS: usize = 256;
/// Where a token with billing access is made.
pub const TOKEN_PAGE: &str = "https://huggingface.co/settings/tokens";

/// The account's Inference Providers usage for a billing period, as Hugging Face reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountUsage {
    /// Used this period (all clients: the Hub's widgets and scripts count too), nano-USD.
    #[ts(type = "number")]
    pub used_nano_usd: i64,
    /// Included credits this period, nano-USD; 0 is a normal state (no included credits).
    #[ts(type = "number")]
    pub included_nano_usd: i64,
    /// The spending limit, nano-USD, if the account has one.
    #[ts(type = "number | null")]
    pub limit_nano_usd: Option<i64>,
    #[ts(type = "number")]
    pub requests: u64,
    /// Start and end of the period, unix seconds, when reported.
    #[ts(type = "number | null")]
    pub period_start: Option<i64>,
    #[ts(type = "number | null")]
    pub period_end: Option<i64>,
}

impl AccountUsage {
    pub fn used_usd(&self) -> f64 {
        usd(self.used_nano_usd)
    }

    pub fn included_usd(&self) -> f64 {
        usd(self.included_nano_usd)
    }

    /// What is left of the included credits (never below 0), nano-USD.
    pub fn included_left_nano_usd(&self) -> i64 {
        (self.included_nano_usd - self.used_nano_usd).max(0)
    }

    /// What is billed beyond the included credits: used − included (never below 0).
    pub fn billable_nano_usd(&self) -> i64 {
        (self.used_nano_usd - self.included_nano_usd).max(0)
    }

    /// The room left under the spending limit, if there is one.
    pub fn limit_left_nano_usd(&self) -> Option<i64> {
        self.limit_nano_usd.map(|l| (l - self.used_nano_usd).max(0))
    }
}

/// The billed cost of one session (one `X-HF-Session-id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SessionCost {
    pub id: String,
    /// Billed, nano-USD (Hugging Face sends cents, possibly fractional).
    #[ts(type = "number")]
    pub billed_nano_usd: i64,
    #[ts(type = "number")]
    pub requests: u64,
}

impl SessionCost {
    pub fn billed_usd(&self) -> f64 {
        usd(self.billed_nano_usd)
    }
}

pub fn usd(nano: i64) -> f64 {
    nano as f64 / NANO_PER_USD as f64
}

const WHO: &str = "Hugging Face";

impl HfClient {
    /// `usage-v2` for `[start, end]` (unix seconds).
    pub async fn usage(&self, token: &Secret, start: i64, end: i64) -> AppResult<AccountUsage> {
        let url = self.endpoints.hub_url("api/settings/billing/usage-v2");
        let query = [
            ("startDate", start.to_string()),
            ("endDate", end.to_string()),
        ];
        let body = self.billing_get(token, &url, &query).await?;
        parse_usage(&body).ok_or_else(bad_answer)
    }

    /// `usage-by-inference-session` for `[start, end]` (unix seconds, sent as ISO 8601): every
    /// session Hugging Face has settled in that time, its billed cost and request count.
    pub async fn session_costs(
        &self,
        token: &Secret,
        start: i64,
        end: i64,
    ) -> AppResult<Vec<SessionCost>> {
        let url = self
            .endpoints
            .hub_url("api/settings/billing/usage-by-inference-session");
        let query = [("startDate", iso(start)), ("endDate", iso(end))];
        let body = self.billing_get(token, &url, &query).await?;
        parse_sessions(&body).ok_or_else(bad_answer)
    }

    async fn billing_get(
        &self,
        token: &Secret,
        url: &str,
        query: &[(&str, String)],
    ) -> AppResult<String> {
        let request = self
            .http
            .get(url)
            .query(query)
            .bearer_auth(token.expose())
            .timeout(SHORT_CALL_TIMEOUT);
        let result = async {
            let response = request.send().await.map_err(|e| transport_error(&e, WHO))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_text_capped(response, MAX_SMALL_BODY_BYTES, WHO).await?;
            if !status.is_success() {
                return Err(billing_error(status, &headers, &body));
            }
            if looks_like_html(&headers, &body) {
                return Err(error_from_response(
                    StatusCode::BAD_GATEWAY,
                    &headers,
                    &body,
                    WHO,
                ));
            }
            Ok(body)
        }
        .await;
        result.map_err(|e| e.without_secret(token.expose()))
    }
}

fn bad_answer() -> AppError {
    AppError::new(
        ErrorCode::BadResponse,
        "Hugging Face answered with usage figures the app does not understand.",
    )
}

/// The error for a billing endpoint's refusal: 403 says how to allow it, 429 how long to wait;
/// the rest as any Hub answer.
pub fn billing_error(status: StatusCode, headers: &HeaderMap, body: &str) -> AppError {
    match status.as_u16() {
        403 => AppError::new(
            ErrorCode::BillingForbidden,
            format!(
                "Your Hugging Face token may not read billing, so Switchboard cannot show the figures Hugging Face reports. To allow it, create a fine-grained token with the “Billing: read” permission (and “Make calls to Inference Providers”), or use a read token, at {TOKEN_PAGE}, then sign in with it."
            ),
        ),
        429 => {
            let wait = wait_secs(headers);
            let when = match wait {
                Some(s) => format!(" Try again in {s} s."),
                None => " Try again in a minute.".to_string(),
            };
            AppError::new(
                ErrorCode::RateLimited,
                format!("Hugging Face asks to slow down on usage questions (HTTP 429).{when}"),
            )
        }
        _ => error_from_response(status, headers, body, WHO),
    }
}

/// Whether `e` is a billing endpoint's 429.
pub fn is_rate_limit_wait(e: &AppError) -> bool {
    e.code == ErrorCode::RateLimited
}

/// The wait a billing 429 asked for, read back from the message [`billing_error`] wrote
/// ("Try again in N s.").
pub fn wait_secs_of(e: &AppError) -> Option<u64> {
    let rest = e.message.split("Try again in ").nth(1)?;
    rest.split(' ').next()?.parse().ok()
}

/// Seconds to wait: `retry-after`, else the `t=` of the Hub's `RateLimit` header.
pub fn wait_secs(headers: &HeaderMap) -> Option<u64> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(s) = get("retry-after").and_then(|v| v.trim().parse::<f64>().ok()) {
        if s.is_finite() && s >= 0.0 {
            return Some(s.ceil() as u64);
        }
    }
    get("ratelimit")?
        .split(';')
        .find_map(|p| p.trim().strip_prefix("t="))
        .and_then(|t| t.trim().parse().ok())
}

/// A whole number from a JSON number (integer or float) or numeric string.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f.round() as i64),
        _ => None,
    }
}

/// A time as unix seconds: a number (seconds, or milliseconds when that large) or ISO 8601.
fn time(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => unix_from_iso(s).or_else(|| int(v).map(secs)),
        _ => int(v).map(secs),
    }
}

fn secs(t: i64) -> i64 {
    if t > 100_000_000_000 {
        t / 1000
    } else {
        t
    }
}

pub fn parse_usage(body: &str) -> Option<AccountUsage> {
    let v: Value = serde_json::from_str(body).ok()?;
    let ip = v.get("usage")?.get("inferenceProviders")?;
    Some(AccountUsage {
        used_nano_usd: int(ip.get("usedNanoUsd")?)?,
        included_nano_usd: ip.get("includedNanoUsd").and_then(int).unwrap_or(0),
        limit_nano_usd: ip.get("limitNanoUsd").and_then(int),
        requests: ip
            .get("numRequests")
            .and_then(int)
            .map_or(0, |n| n.max(0) as u64),
        period_start: ip.get("periodStart").and_then(time),
        period_end: ip.get("periodEnd").and_then(time),
    })
}

/// Sessions of every period, a session seen in several periods summed.
pub fn parse_sessions(body: &str) -> Option<Vec<SessionCost>> {
    let v: Value = serde_json::from_str(body).ok()?;
    let mut out: Vec<SessionCost> = Vec::new();
    for period in v.get("periods")?.as_array()? {
        for s in period
            .get("sessions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = s.get("id").and_then(Value::as_str) else {
                continue;
            };
            let cents = match s.get("costCents") {
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(Value::String(t)) => t.trim().parse().unwrap_or(0.0),
                _ => 0.0,
            };
            let nano = (cents * 10_000_000.0).round() as i64;
            let requests = s.get("requestCount").and_then(int).unwrap_or(0).max(0) as u64;
            match out.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.billed_nano_usd += nano;
                    c.requests += requests;
                }
                None => out.push(SessionCost {
                    id: id.to_string(),
                    billed_nano_usd: nano,
                    requests,
                }),
            }
        }
    }
    Some(out)
}

/// `2026-11-01T00:00:00.000Z` for unix seconds.
pub fn iso(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Unix seconds of an ISO 8601 UTC time (`Z` or `+00:00`, fractions allowed) or a bare date.
pub fn unix_from_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let t = t.strip_suffix('Z').or_else(|| t.strip_suffix("+00:00"))?;
        let mut hms = t.split('.').next()?.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let mi: i64 = hms.next()?.parse().ok()?;
        let se: i64 = hms.next().map_or(Some(0), |x| x.parse().ok())?;
        secs += h * 3600 + mi * 60 + se;
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_shapes() {
        let u = parse_usage(r#"{"usage":{"inferenceProviders":{"usedNanoUsd":3600000,"includedNanoUsd":100000000,"limitNanoUsd":null,"numRequests":2,"periodStart":"2026-11-01T00:00:00.000Z","periodEnd":1798761600},"jobs":{"usedMicroUsd":0,"totalMinutes":0}}}"#).unwrap();
        assert_eq!(u.used_nano_usd, 3_600_000);
        assert_eq!(u.included_left_nano_usd(), 96_400_000);
        assert_eq!(u.limit_nano_usd, None);
        assert_eq!(u.period_start, Some(1_793_491_200));
        assert_eq!(u.period_end, Some(1_798_761_600));
        assert!(parse_usage(r#"{"usage":{}}"#).is_none());
        let s = parse_sessions(r#"{"periods":[{"sessions":[{"id":"a","costCents":0.36,"requestCount":2}]},{"sessions":[{"id":"a","costCents":"1","requestCount":1}]}]}"#).unwrap();
        assert_eq!(
            s,
            vec![SessionCost {
                id: "a".into(),
                billed_nano_usd: 13_600_000,
                requests: 3
            }]
        );
        assert_eq!(iso(1_793_491_200), "2026-11-01T00:00:00.000Z");
        assert_eq!(unix_from_iso(&iso(1_793_491_234)), Some(1_793_491_234));
    }
}
