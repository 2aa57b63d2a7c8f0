//! The billing ledger: one row per call the app makes (chat, retries, key tests, compare runs),
//! in the history database. The price used is stored with the row, so old rows never change
//! when the catalog does.

use rusqlite::{params, params_from_iter, types::Value as SqlValue};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{db_error, History};
use crate::call::{Billing, CallResult, Outcome};
use crate::catalog::Pricing;
use crate::error::{AppResult, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CallKind {
    Chat,
    /// An attempt that failed and was retried automatically.
    Retry,
    KeyTest,
    Compare,
    /// A text-to-image generation.
    Image,
    /// A feature-extraction (embeddings) call.
    Embeddings,
    /// A speech-to-text (transcript) call.
    SpeechToText,
    /// A text-to-speech call.
    TextToSpeech,
    /// A text-to-video or image-to-video generation.
    Video,
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn enum_from<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallRow {
    #[ts(type = "number")]
    pub id: i64,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub at: i64,
    pub kind: CallKind,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub billing: Billing,
    pub bill_to: Option<String>,
    #[ts(type = "number")]
    pub tokens_in: u64,
    #[ts(type = "number")]
    pub tokens_out: u64,
    pub usage_estimated: bool,
    pub price: Option<Pricing>,
    pub cost: Option<f64>,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
    /// `complete`, `stopped` or `error`.
    pub status: String,
    pub error_code: Option<ErrorCode>,
    pub request_id: Option<String>,
    pub conversation_id: Option<String>,
    #[ts(type = "number | null")]
    pub message_id: Option<i64>,
    /// The allowance the answer reported, if any.
    pub rate_limit: Option<crate::call::RateLimit>,
    /// USD: the router's own estimate (`usage.estimated_cost`), when it sent one. `cost` is
    /// the app's estimate from tokens × price.
    #[serde(default)]
    pub router_cost: Option<f64>,
    /// USD: what Hugging Face billed this call's whole conversation (all its calls), once it
    /// has reported it; `None` before, and for calls not paid with the user's credits (an
    /// organisation's bill is the organisation's: the user's figures never show it).
    #[serde(default)]
    pub conversation_billed: Option<f64>,
    /// The requests Hugging Face counted in that bill.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub conversation_billed_requests: Option<u64>,
}

impl CallRow {
    /// A row for a finished call.
    #[allow(clippy::too_many_arguments)]
    pub fn from_result(
        at: i64,
        kind: CallKind,
        model: &str,
        billing: Billing,
        bill_to: Option<&str>,
        r: &CallResult,
        conversation_id: Option<&str>,
        message_id: Option<i64>,
    ) -> CallRow {
        let s = &r.stats;
        CallRow {
            id: 0,
            at,
            kind,
            model: Some(model.to_string()),
            provider: s.provider.clone(),
            billing,
            bill_to: bill_to.map(str::to_string),
            tokens_in: s.tokens_in,
            tokens_out: s.tokens_out,
            usage_estimated: s.usage_estimated,
            price: s.pricing,
            cost: s.cost,
            ttft_ms: s.ttft_ms,
            total_ms: Some(s.total_ms),
            status: match r.outcome {
                Outcome::Complete => "complete",
                Outcome::Stopped => "stopped",
                Outcome::Error => "error",
            }
            .into(),
            error_code: r.error.as_ref().map(|e| e.code),
            request_id: r.request_id.clone(),
            conversation_id: conversation_id.map(str::to_string),
            message_id,
            rate_limit: s.rate_limit.clone(),
            router_cost: s.router_cost,
            conversation_billed: None,
            conversation_billed_requests: None,
        }
    }
}

/// Which calls to list, and in what order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct CallQuery {
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    #[ts(type = "number | null")]
    pub to: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub billing: Option<Billing>,
    /// `complete`, `stopped`, `error`.
    pub status: Option<String>,
    /// `at` (default), `cost`, `tokens_out`, `total_ms`, `ttft_ms`, `model`, `provider`.
    pub sort: Option<String>,
    pub descending: Option<bool>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallPage {
    pub rows: Vec<CallRow>,
    pub total: u32,
    /// Sum of the known costs of every matching row (not just this page).
    pub total_cost: f64,
}

/// Sums over a group (a month, a day and provider, a model…).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Totals {
    pub key: String,
    /// The provider, for per-day rows.
    pub provider: Option<String>,
    pub calls: u32,
    #[ts(type = "number")]
    pub tokens_in: u64,
    #[ts(type = "number")]
    pub tokens_out: u64,
    pub cost: f64,
    /// Of `cost`, what went to HF credits (not an organisation, a provider or an endpoint).
    pub hf_credits: f64,
    /// Calls whose conversation Hugging Face has billed.
    pub billed_calls: u32,
    /// What Hugging Face billed for those calls: each billed conversation's bill shared among
    /// its calls in proportion to their estimates (evenly when none has a price).
    pub billed: f64,
    /// The estimate (tokens × price) of those same calls, to set beside `billed`.
    pub billed_estimate: f64,
    /// The best figure: billed where Hugging Face has billed, the estimate elsewhere.
    pub best: f64,
}

/// USD from nano-USD.
pub fn usd_of_nano(n: i64) -> f64 {
    n as f64 / 1e9
}

/// The calls with their share of their conversation's bill (`billed_share`, NULL where Hugging
/// Face has not billed it or does not bill the call), for sums that use billed figures.
const CALLS_WITH_BILLS: &str = "WITH conv AS (
       SELECT conversation_id, SUM(COALESCE(cost, 0)) AS est, COUNT(*) AS n FROM calls
       WHERE billing = 'hf_credits' AND conversation_id IS NOT NULL GROUP BY conversation_id
     ), c AS (
       SELECT calls.*, CASE
           WHEN b.conversation_id IS NULL OR calls.billing != 'hf_credits' THEN NULL
           WHEN conv.est > 0 THEN b.billed_nano_usd / 1e9 * COALESCE(calls.cost, 0) / conv.est
           ELSE b.billed_nano_usd / 1e9 / conv.n END AS billed_share
       FROM calls LEFT JOIN billed_sessions b ON b.conversation_id = calls.conversation_id
       LEFT JOIN conv ON conv.conversation_id = calls.conversation_id
     )";

/// The conversation's bill, read beside a row (after [`COLS`]).
const BILLED_COLS: &str = "(SELECT b.billed_nano_usd FROM billed_sessions b WHERE b.conversation_id = calls.conversation_id AND calls.billing = 'hf_credits'),
     (SELECT b.requests FROM billed_sessions b WHERE b.conversation_id = calls.conversation_id AND calls.billing = 'hf_credits')";

const COLS: &str = "id, at, kind, model, provider, billing, bill_to, tokens_in, tokens_out, usage_estimated, price_in, price_out, cost, ttft_ms, total_ms, status, error_code, request_id, conversation_id, message_id, rate_limit, router_cost";

fn row(r: &rusqlite::Row) -> rusqlite::Result<CallRow> {
    let kind: String = r.get(2)?;
    let billing: String = r.get(5)?;
    let price_in: Option<f64> = r.get(10)?;
    let price_out: Option<f64> = r.get(11)?;
    let error_code: Option<String> = r.get(16)?;
    Ok(CallRow {
        id: r.get(0)?,
        at: r.get(1)?,
        kind: enum_from(&kind).unwrap_or(CallKind::Chat),
        model: r.get(3)?,
        provider: r.get(4)?,
        billing: enum_from(&billing).unwrap_or(Billing::HfCredits),
        bill_to: r.get(6)?,
        tokens_in: r.get::<_, i64>(7)?.max(0) as u64,
        tokens_out: r.get::<_, i64>(8)?.max(0) as u64,
        usage_estimated: r.get(9)?,
        price: match (price_in, price_out) {
            (Some(input), Some(output)) => Some(Pricing { input, output }),
            _ => None,
        },
        cost: r.get(12)?,
        ttft_ms: r.get(13)?,
        total_ms: r.get(14)?,
        status: r.get(15)?,
        error_code: error_code.and_then(|c| enum_from(&c)),
        request_id: r.get(17)?,
        conversation_id: r.get(18)?,
        message_id: r.get(19)?,
        rate_limit: r
            .get::<_, Option<String>>(20)?
            .and_then(|j| serde_json::from_str(&j).ok()),
        router_cost: r.get(21)?,
        conversation_billed: r.get::<_, Option<i64>>(22)?.map(usd_of_nano),
        conversation_billed_requests: r.get::<_, Option<i64>>(23)?.map(|n| n.max(0) as u64),
    })
}

/// WHERE clause and its values for a query.
fn filter(q: &CallQuery) -> (String, Vec<SqlValue>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    if let Some(v) = q.from {
        clauses.push("at >= ?".into());
        values.push(SqlValue::Integer(v));
    }
    if let Some(v) = q.to {
        clauses.push("at < ?".into());
        values.push(SqlValue::Integer(v));
    }
    if let Some(v) = &q.provider {
        clauses.push("provider = ?".into());
        values.push(SqlValue::Text(v.clone()));
    }
    if let Some(v) = &q.model {
        clauses.push("model = ?".into());
        values.push(SqlValue::Text(v.clone()));
    }
    if let Some(v) = &q.billing {
        clauses.push("billing = ?".into());
        values.push(SqlValue::Text(enum_str(v)));
    }
    if let Some(v) = &q.status {
        clauses.push("status = ?".into());
        values.push(SqlValue::Text(v.clone()));
    }
    (clauses.join(" AND "), values)
}

impl History {
    /// Adds a row; returns its id.
    pub fn record_call(&self, c: &CallRow) -> AppResult<i64> {
        let conn = self.writable()?;
        conn.prepare_cached(&format!(
            "INSERT INTO calls ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            &COLS[4..]
        ))
        .and_then(|mut s| {
            s.execute(params![
                c.at,
                enum_str(&c.kind),
                c.model,
                c.provider,
                enum_str(&c.billing),
                c.bill_to,
                c.tokens_in as i64,
                c.tokens_out as i64,
                c.usage_estimated,
                c.price.map(|p| p.input),
                c.price.map(|p| p.output),
                c.cost,
                c.ttft_ms,
                c.total_ms,
                c.status,
                c.error_code.as_ref().map(enum_str),
                c.request_id,
                c.conversation_id,
                c.message_id,
                c.rate_limit
                    .as_ref()
                    .and_then(|r| serde_json::to_string(r).ok()),
                c.router_cost,
            ])
        })
        .map_err(db_error)?;
        Ok(conn.last_insert_rowid())
    }

    /// A page of calls, filtered and sorted, with the count and cost of all that match.
    pub fn calls(&self, q: &CallQuery) -> AppResult<CallPage> {
        let conn = self.conn();
        let (wh, values) = filter(q);
        let sort = match q.sort.as_deref() {
            Some("cost") => "cost",
            Some("tokens_out") => "tokens_out",
            Some("total_ms") => "total_ms",
            Some("ttft_ms") => "ttft_ms",
            Some("model") => "model",
            Some("provider") => "provider",
            _ => "at",
        };
        let dir = if q.descending.unwrap_or(true) {
            "DESC"
        } else {
            "ASC"
        };
        let (total, total_cost): (u32, f64) = conn
            .query_row(
                &format!("SELECT COUNT(*), COALESCE(SUM(cost), 0) FROM calls WHERE {wh}"),
                params_from_iter(values.iter()),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_error)?;
        let mut page_values = values.clone();
        page_values.push(SqlValue::Integer(q.limit.unwrap_or(200).min(5000) as i64));
        page_values.push(SqlValue::Integer(q.offset.unwrap_or(0) as i64));
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLS}, {BILLED_COLS} FROM calls WHERE {wh} ORDER BY {sort} {dir}, id {dir} LIMIT ? OFFSET ?"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map(params_from_iter(page_values.iter()), row)
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(CallPage {
            rows,
            total,
            total_cost,
        })
    }

    /// Sums grouped by `group` (`month`, `day`, `day_provider`, `model`, `provider`) over
    /// `[from, to)`. Months and days are UTC.
    pub fn totals(
        &self,
        group: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> AppResult<Vec<Totals>> {
        let (key, provider) = match group {
            "month" => ("strftime('%Y-%m', at / 1000, 'unixepoch')", "NULL"),
            "day" => ("strftime('%Y-%m-%d', at / 1000, 'unixepoch')", "NULL"),
            "day_provider" => ("strftime('%Y-%m-%d', at / 1000, 'unixepoch')", "provider"),
            "model" => ("COALESCE(model, '')", "NULL"),
            _ => ("COALESCE(provider, '')", "NULL"),
        };
        let q = CallQuery {
            from,
            to,
            ..CallQuery::default()
        };
        let (wh, values) = filter(&q);
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "{CALLS_WITH_BILLS}
                 SELECT {key} AS k, {provider} AS p, COUNT(*), SUM(tokens_in), SUM(tokens_out),
                        COALESCE(SUM(cost), 0),
                        COALESCE(SUM(CASE WHEN billing = 'hf_credits' THEN cost END), 0),
                        COUNT(billed_share), COALESCE(SUM(billed_share), 0),
                        COALESCE(SUM(CASE WHEN billed_share IS NOT NULL THEN cost END), 0),
                        COALESCE(SUM(COALESCE(billed_share, cost)), 0)
                 FROM c WHERE {wh} GROUP BY k, p ORDER BY k DESC, p"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), |r| {
                Ok(Totals {
                    key: r.get(0)?,
                    provider: r.get(1)?,
                    calls: r.get(2)?,
                    tokens_in: r.get::<_, Option<i64>>(3)?.unwrap_or(0).max(0) as u64,
                    tokens_out: r.get::<_, Option<i64>>(4)?.unwrap_or(0).max(0) as u64,
                    cost: r.get(5)?,
                    hf_credits: r.get(6)?,
                    billed_calls: r.get(7)?,
                    billed: r.get(8)?,
                    billed_estimate: r.get(9)?,
                    best: r.get(10)?,
                })
            })
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// What this app spent from HF credits in `[from, to)`.
    pub fn hf_credits_spent(&self, from: i64, to: i64) -> AppResult<f64> {
        self.conn()
            .query_row(
                "SELECT COALESCE(SUM(cost), 0) FROM calls WHERE billing = 'hf_credits' AND at >= ?1 AND at < ?2",
                params![from, to],
                |r| r.get(0),
            )
            .map_err(db_error)
    }

    /// Requests per provider since `since` (rate limits are counted per hour).
    pub fn requests_since(&self, since: i64) -> AppResult<Vec<(String, u32)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT COALESCE(provider, ''), COUNT(*) FROM calls WHERE at >= ?1 AND kind != 'key_test' GROUP BY 1 ORDER BY 2 DESC",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// The latest allowance each provider reported.
    pub fn latest_rate_limits(&self) -> AppResult<Vec<(String, crate::call::RateLimit, i64)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT provider, rate_limit, MAX(at) FROM calls
                 WHERE rate_limit IS NOT NULL AND provider IS NOT NULL GROUP BY provider",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(db_error)?
            .filter_map(|r| r.ok())
            .filter_map(|(p, j, at)| Some((p, serde_json::from_str(&j).ok()?, at)))
            .collect();
        Ok(rows)
    }

    /// The last calls refused with 429.
    pub fn rate_limited_calls(&self, limit: u32) -> AppResult<Vec<CallRow>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLS}, {BILLED_COLS} FROM calls WHERE error_code = 'rate_limited' ORDER BY at DESC LIMIT ?1"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map([limit], row)
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// Average tokens in and out of the last `n` complete chat calls with real usage.
    pub fn average_tokens(&self, n: u32) -> AppResult<Option<(f64, f64)>> {
        self.conn()
            .query_row(
                "SELECT AVG(tokens_in), AVG(tokens_out), COUNT(*) FROM (
                   SELECT tokens_in, tokens_out FROM calls
                   WHERE status = 'complete' AND kind IN ('chat', 'compare') AND usage_estimated = 0
                   ORDER BY at DESC LIMIT ?1)",
                [n],
                |r| {
                    let count: i64 = r.get(2)?;
                    Ok((count > 0).then(|| (r.get(0).unwrap_or(0.0), r.get(1).unwrap_or(0.0))))
                },
            )
            .map_err(db_error)
    }
}

/// The table as CSV (RFC 4180 quoting), with a header row. A cell a spreadsheet would run as a
/// formula (starting with `= + - @`, a tab or a carriage return: request ids come from servers,
/// model ids from custom endpoints) gets a leading `'`, so it opens as text.
pub fn to_csv(rows: &[CallRow]) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            std::borrow::Cow::Owned(format!("'{s}"))
        } else {
            std::borrow::Cow::Borrowed(s)
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from(
        "time_utc,kind,model,provider,billing,bill_to,tokens_in,tokens_out,usage_estimated,price_in_per_1m,price_out_per_1m,cost_usd,cost_source,router_estimated_cost_usd,ttft_ms,total_ms,status,error_code,request_id,conversation_id,billed_by,conversation_billed_usd,conversation_billed_requests\n",
    );
    for r in rows {
        let time = chrono_like(r.at);
        let opt = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
        let cells = [
            time,
            enum_str(&r.kind),
            r.model.clone().unwrap_or_default(),
            r.provider.clone().unwrap_or_default(),
            enum_str(&r.billing),
            r.bill_to.clone().unwrap_or_default(),
            r.tokens_in.to_string(),
            r.tokens_out.to_string(),
            r.usage_estimated.to_string(),
            opt(r.price.map(|p| p.input)),
            opt(r.price.map(|p| p.output)),
            r.cost.map(|c| format!("{c:.8}")).unwrap_or_default(),
            cost_source(r).to_string(),
            r.router_cost.map(|c| format!("{c:.8}")).unwrap_or_default(),
            opt(r.ttft_ms),
            opt(r.total_ms),
            r.status.clone(),
            r.error_code.as_ref().map(enum_str).unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
            r.conversation_id.clone().unwrap_or_default(),
            billed_by(r),
            r.conversation_billed
                .map(|c| format!("{c:.8}"))
                .unwrap_or_default(),
            r.conversation_billed_requests
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Who bills a call: `hugging_face` (the user's credits), `hugging_face_org:<org>`, the
/// provider's name (the user's own key), or `custom_endpoint`. Only Hugging Face's bills are
/// known to the app (`conversation_billed_usd`, for the call's whole conversation).
pub fn billed_by(r: &CallRow) -> String {
    match r.billing {
        Billing::HfCredits => "hugging_face".into(),
        Billing::Org => format!("hugging_face_org:{}", r.bill_to.as_deref().unwrap_or("")),
        Billing::Provider => r.provider.clone().unwrap_or_else(|| "provider".into()),
        Billing::Endpoint => "custom_endpoint".into(),
    }
}

/// What `cost_usd` of a CSV row is: the app's estimate from tokens × catalog price, billed by
/// Hugging Face's credits (`estimated_tokens_x_price`), or billed by someone else — the
/// provider on the user's own key, or the custom endpoint (`provider_bills`, an estimate too).
/// What Hugging Face finally billed is per conversation (`billed_sessions`), not per call.
pub fn cost_source(r: &CallRow) -> &'static str {
    match (r.billing, r.cost) {
        (_, None) => "unknown_price",
        (Billing::Provider | Billing::Endpoint, Some(_)) => {
            "estimated_tokens_x_price_billed_by_provider"
        }
        (_, Some(_)) => "estimated_tokens_x_price",
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix milliseconds (UTC), without a date library.
pub fn chrono_like(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::CallStats;
    use crate::error::AppError;

    fn open() -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.sqlite3")).unwrap();
        (dir, h)
    }

    fn result(tokens: (u64, u64), price: Option<Pricing>, outcome: Outcome) -> CallResult {
        CallResult {
            outcome,
            error: (outcome == Outcome::Error)
                .then(|| AppError::new(ErrorCode::RateLimited, "429")),
            request_id: Some("r".into()),
            stats: CallStats {
                provider: Some("groq".into()),
                tokens_in: tokens.0,
                tokens_out: tokens.1,
                pricing: price,
                cost: price.map(|p| p.cost(tokens.0, tokens.1)),
                total_ms: 100.0,
                ..CallStats::default()
            },
            content: String::new(),
            reasoning: String::new(),
        }
    }

    const P: Pricing = Pricing {
        input: 0.15,
        output: 0.75,
    };

    #[test]
    fn rows_keep_their_price_and_sum_by_month_and_billing() {
        let (_d, h) = open();
        let nov = days_from_civil(2026, 11, 3) * 86_400_000;
        let oct = days_from_civil(2026, 10, 30) * 86_400_000;
        for (at, billing) in [
            (nov, Billing::HfCredits),
            (nov + 1, Billing::Org),
            (oct, Billing::HfCredits),
        ] {
            let row = CallRow::from_result(
                at,
                CallKind::Chat,
                "m/x",
                billing,
                None,
                &result((1000, 2000), Some(P), Outcome::Complete),
                Some("c1"),
                Some(7),
            );
            h.record_call(&row).unwrap();
        }
        let page = h.calls(&CallQuery::default()).unwrap();
        assert_eq!(page.total, 3);
        let one = 0.00015 + 0.0015;
        assert!((page.total_cost - 3.0 * one).abs() < 1e-12);
        assert_eq!(page.rows[0].price, Some(P));
        assert_eq!(page.rows[0].conversation_id.as_deref(), Some("c1"));
        let months = h.totals("month", None, None).unwrap();
        assert_eq!(
            months.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
            ["2026-11", "2026-10"]
        );
        assert!((months[0].cost - 2.0 * one).abs() < 1e-12);
        assert!(
            (months[0].hf_credits - one).abs() < 1e-12,
            "the org's call is not HF credits"
        );
        let spent = h
            .hf_credits_spent(
                days_from_civil(2026, 11, 1) * 86_400_000,
                days_from_civil(2026, 12, 1) * 86_400_000,
            )
            .unwrap();
        assert!((spent - one).abs() < 1e-12);
    }

    #[test]
    fn filters_sort_and_pages() {
        let (_d, h) = open();
        for i in 0..30 {
            let mut r = result(
                (10 * i, i),
                Some(P),
                if i % 10 == 0 {
                    Outcome::Error
                } else {
                    Outcome::Complete
                },
            );
            if i % 2 == 0 {
                r.stats.provider = Some("together".into());
            }
            h.record_call(&CallRow::from_result(
                i as i64,
                CallKind::Chat,
                "m/x",
                Billing::HfCredits,
                None,
                &r,
                None,
                None,
            ))
            .unwrap();
        }
        let page = h
            .calls(&CallQuery {
                provider: Some("together".into()),
                sort: Some("tokens_out".into()),
                descending: Some(false),
                limit: Some(5),
                offset: Some(5),
                ..CallQuery::default()
            })
            .unwrap();
        assert_eq!(page.total, 15);
        let outs: Vec<u64> = page.rows.iter().map(|r| r.tokens_out).collect();
        assert_eq!(outs, [10, 12, 14, 16, 18]);
        let errors = h
            .calls(&CallQuery {
                status: Some("error".into()),
                ..CallQuery::default()
            })
            .unwrap();
        assert_eq!(errors.total, 3);
        assert_eq!(h.rate_limited_calls(10).unwrap().len(), 3);
        let per = h.requests_since(20).unwrap();
        assert_eq!(per.iter().map(|p| p.1).sum::<u32>(), 10);
        let avg = h.average_tokens(100).unwrap().unwrap();
        assert!(avg.0 > 0.0 && avg.1 > 0.0);
    }

    #[test]
    fn csv_quotes_and_has_every_row() {
        let mut r = CallRow::from_result(
            0,
            CallKind::Chat,
            "org/model,with \"comma\"",
            Billing::Provider,
            None,
            &result((1, 2), None, Outcome::Complete),
            None,
            None,
        );
        r.id = 1;
        let csv = to_csv(&[r.clone(), r]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("time_utc,kind,model,provider,billing"));
        assert!(
            lines[1].starts_with(
                "1970-01-01T00:00:00Z,chat,\"org/model,with \"\"comma\"\"\",groq,provider,"
            ),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        let mut r = CallRow::from_result(
            0,
            CallKind::Chat,
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            Billing::Provider,
            Some("+org"),
            &result((1, 2), None, Outcome::Complete),
            Some("-conv"),
            None,
        );
        r.request_id = Some("@SUM(A1:A9)".into());
        r.provider = Some("\t=1+1".into());
        let csv = to_csv(&[r]);
        let row = csv.lines().nth(1).unwrap();
        let cells: Vec<&str> = row.split(',').collect();
        for bad in ["=HYPERLINK", "+org", "@SUM", "-conv", "\t=1"] {
            assert!(
                !cells
                    .iter()
                    .any(|c| c.trim_start_matches('"').starts_with(bad)),
                "{bad} left as a formula in {row}"
            );
        }
        assert!(
            row.contains("\"'=HYPERLINK(\"\"http://evil.example\"\""),
            "{row}"
        );
        assert!(row.contains(",'@SUM(A1:A9),"), "{row}");
        assert!(row.contains(",'+org,"), "{row}");
    }

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(chrono_like(0), "1970-01-01T00:00:00Z");
        assert_eq!(chrono_like(1_795_556_225_000), "2026-11-24T21:37:05Z");
        for (y, m, d) in [(2024, 2, 29), (2026, 12, 31), (2000, 3, 1), (1999, 12, 31)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
    }

    /// Three conversations: `a` on groq (two calls, billed in full), `b` on together (one
    /// call, not billed yet), `c` on groq through the user's own key (billed by groq) and billed
    /// to an organisation.
    fn three_conversations() -> (tempfile::TempDir, History, f64) {
        let (d, h) = open();
        for id in ["a", "b", "c"] {
            h.writable()
                .unwrap()
                .execute(
                    "INSERT INTO conversations (id, title, created_at, updated_at, session_id) VALUES (?1, ?1, 1, 1, 's-' || ?1)",
                    [id],
                )
                .unwrap();
        }
        let one = P.cost(1000, 2000);
        let call = |at: i64, conv: &str, provider: &str, billing: Billing| {
            let mut r = result((1000, 2000), Some(P), Outcome::Complete);
            r.stats.provider = Some(provider.into());
            let row = CallRow::from_result(
                at,
                CallKind::Chat,
                "m/x",
                billing,
                None,
                &r,
                Some(conv),
                None,
            );
            h.record_call(&row).unwrap();
        };
        call(1_000, "a", "groq", Billing::HfCredits);
        call(2_000, "a", "groq", Billing::HfCredits);
        call(3_000, "b", "together", Billing::HfCredits);
        call(4_000, "c", "groq", Billing::Provider);
        // Billed to an organisation: on its bill, never the user's.
        call(4_500, "c", "groq", Billing::Org);
        // Hugging Face billed `a` 10 % more than the estimate.
        h.record_billed(&super::super::sessions::BilledCost {
            conversation_id: "a".into(),
            billed_nano_usd: (2.0 * one * 1.1 * 1e9).round() as i64,
            requests: 2,
            checked_at: 5_000,
        })
        .unwrap();
        (d, h, one)
    }

    #[test]
    fn rows_totals_and_csv_carry_the_conversations_bill_where_hugging_face_billed_it() {
        let (_d, h, one) = three_conversations();
        let rows = h.calls(&CallQuery::default()).unwrap().rows;
        let of = |conv: &str| -> Vec<&CallRow> {
            rows.iter()
                .filter(|r| r.conversation_id.as_deref() == Some(conv))
                .collect()
        };
        for r in of("a") {
            assert!(
                (r.conversation_billed.unwrap() - 2.2 * one).abs() < 1e-9,
                "{r:?}"
            );
            assert_eq!(r.conversation_billed_requests, Some(2));
        }
        assert_eq!(of("b")[0].conversation_billed, None);
        assert_eq!(of("c")[0].conversation_billed, None);

        // Per provider: groq's billed calls use the bill, its own-key call the estimate.
        let t = h.totals("provider", None, None).unwrap();
        let groq = t.iter().find(|t| t.key == "groq").unwrap();
        assert_eq!((groq.calls, groq.billed_calls), (4, 2));
        assert!((groq.billed - 2.2 * one).abs() < 1e-9, "{groq:?}");
        assert!((groq.billed_estimate - 2.0 * one).abs() < 1e-9);
        assert!((groq.best - 4.2 * one).abs() < 1e-9, "{groq:?}");
        assert!((groq.cost - 4.0 * one).abs() < 1e-9);
        let together = t.iter().find(|t| t.key == "together").unwrap();
        assert_eq!(together.billed_calls, 0);
        assert!((together.best - one).abs() < 1e-12);
        // Each call's share of its bill, whatever the grouping: the days sum to the same.
        let days: f64 = h
            .totals("day", None, None)
            .unwrap()
            .iter()
            .map(|t| t.best)
            .sum();
        assert!((days - 5.2 * one).abs() < 1e-9);

        let csv = to_csv(&rows);
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (by, billed, req, conv) = (
            col("billed_by"),
            col("conversation_billed_usd"),
            col("conversation_billed_requests"),
            col("conversation_id"),
        );
        for line in csv.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            match c[conv] {
                "a" => {
                    assert_eq!(c[by], "hugging_face");
                    assert_eq!(c[billed], format!("{:.8}", 2.2 * one));
                    assert_eq!(c[req], "2");
                }
                "b" => assert_eq!((c[by], c[billed]), ("hugging_face", "")),
                _ if c[by] == "groq" => assert_eq!(c[billed], ""),
                _ => assert_eq!((c[by], c[billed]), ("hugging_face_org:", "")),
            }
        }
    }

    #[test]
    fn a_conversations_estimate_beside_its_bill_and_each_providers_difference() {
        let (_d, h, one) = three_conversations();
        let a = h.conversation_cost("a", 0).unwrap();
        assert_eq!(
            (a.hf_calls, a.pending, a.billed_requests),
            (2, false, Some(2))
        );
        assert!((a.estimated.unwrap() - 2.0 * one).abs() < 1e-12);
        assert!((a.billed.unwrap() - 2.2 * one).abs() < 1e-9);
        assert!((a.difference_pct.unwrap() - 10.0).abs() < 1e-6, "{a:?}");
        // Not billed yet: pending, no difference.
        let b = h.conversation_cost("b", 0).unwrap();
        assert!(
            b.pending && b.billed.is_none() && b.difference_pct.is_none(),
            "{b:?}"
        );
        // Calls too old to be asked about, or a conversation without a session: no bill is
        // coming, so not pending (and no difference against nothing).
        let old = h.conversation_cost("b", 10_000).unwrap();
        assert!(
            !old.pending && old.billed.is_none() && old.difference_pct.is_none(),
            "{old:?}"
        );
        h.writable()
            .unwrap()
            .execute(
                "UPDATE conversations SET session_id = NULL WHERE id = 'b'",
                [],
            )
            .unwrap();
        assert!(!h.conversation_cost("b", 0).unwrap().pending);
        // Own key: nothing for Hugging Face to bill, nothing pending.
        let c = h.conversation_cost("c", 0).unwrap();
        assert_eq!((c.hf_calls, c.provider_calls, c.pending), (0, 1, false));
        // A new call in `a` after the bill: pending again until it settles too.
        let mut r = result((1000, 2000), Some(P), Outcome::Complete);
        r.stats.provider = Some("groq".into());
        h.record_call(&CallRow::from_result(
            6_000,
            CallKind::Chat,
            "m/x",
            Billing::HfCredits,
            None,
            &r,
            Some("a"),
            None,
        ))
        .unwrap();
        let a = h.conversation_cost("a", 0).unwrap();
        assert!(a.pending && a.difference_pct.is_none(), "{a:?}");
        // Per provider: only conversations billed in full count, so nothing until `a` settles.
        assert!(h.provider_accuracy(0).unwrap().is_empty());
        h.record_billed(&super::super::sessions::BilledCost {
            conversation_id: "a".into(),
            billed_nano_usd: (3.0 * one * 0.9 * 1e9).round() as i64,
            requests: 3,
            checked_at: 7_000,
        })
        .unwrap();
        let acc = h.provider_accuracy(0).unwrap();
        assert_eq!(acc.len(), 1, "{acc:?}");
        assert_eq!(
            (acc[0].provider.as_str(), acc[0].conversations),
            ("groq", 1)
        );
        assert!(
            (acc[0].difference_pct.unwrap() + 10.0).abs() < 1e-6,
            "{acc:?}"
        );
        // Calls older than `since` are left out.
        assert!(h.provider_accuracy(10_000).unwrap().is_empty());
    }
}
