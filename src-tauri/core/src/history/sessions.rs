//! Billing sessions: each conversation names a session (`X-HF-Session-id`) on its routed calls,
//! one per compare pane, and what Hugging Face billed for them is recorded per conversation.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ledger::usd_of_nano;
use super::{db_error, History};
use crate::error::AppResult;
use crate::hf::usage::MAX_SESSION_ID_CHARS;

/// What Hugging Face billed one conversation (all its panes), as last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BilledCost {
    pub conversation_id: String,
    #[ts(type = "number")]
    pub billed_nano_usd: i64,
    #[ts(type = "number")]
    pub requests: u64,
    /// When Hugging Face was last asked (Unix ms).
    #[ts(type = "number")]
    pub checked_at: i64,
}

/// A conversation's cost as the app estimated it beside what Hugging Face billed for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConversationCost {
    pub conversation_id: String,
    /// Answered calls paid with the user's Hugging Face credits (an organisation's calls are on
    /// the organisation's bill, which the user's figures never show: they are in neither count).
    pub hf_calls: u32,
    /// USD, tokens × catalog price of those calls (`None` when none had a price).
    pub estimated: Option<f64>,
    /// USD, the router's own estimate (`usage.estimated_cost`) where it sent one.
    pub router_estimated: Option<f64>,
    /// USD, what Hugging Face billed, once it has reported it.
    pub billed: Option<f64>,
    #[ts(type = "number | null")]
    pub billed_requests: Option<u64>,
    /// When Hugging Face was last asked (Unix ms).
    #[ts(type = "number | null")]
    pub checked_at: Option<i64>,
    /// Hugging Face has not billed every call yet (costs settle minutes after a call) and a bill
    /// is still expected. Neither pending nor billed: Hugging Face will not report one (saved
    /// before conversations had a session, or too old to be asked about).
    pub pending: bool,
    /// `(billed − estimated) / estimated` in percent, once every call is billed.
    pub difference_pct: Option<f64>,
    /// Calls billed by someone else (own key: the provider; a custom endpoint).
    pub provider_calls: u32,
    /// USD, the estimate of those calls.
    pub provider_estimated: Option<f64>,
}

/// Per provider, the app's estimate beside Hugging Face's bill, over billed conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderAccuracy {
    pub provider: String,
    /// Conversations counted: billed in full by Hugging Face, all their calls on this provider
    /// at a published price.
    pub conversations: u32,
    /// USD, tokens × catalog price.
    pub estimated: f64,
    /// USD, billed by Hugging Face.
    pub billed: f64,
    /// `(billed − estimated) / estimated` in percent (`None` when nothing was estimated).
    pub difference_pct: Option<f64>,
}

/// `(billed − estimated) / estimated` in percent.
pub fn difference_pct(estimated: f64, billed: f64) -> Option<f64> {
    (estimated > 0.0).then(|| (billed - estimated) / estimated * 100.0)
}

/// The session of a pane: the conversation's session itself for pane 0 (every chat), with
/// `-p{pane}` for the other panes of a comparison. At most 256 characters.
pub fn pane_session(session: &str, pane: u32) -> String {
    let id = if pane == 0 {
        session.to_string()
    } else {
        format!("{session}-p{pane}")
    };
    id.chars().take(MAX_SESSION_ID_CHARS).collect()
}

/// Whether `id` is the session of some pane of the conversation whose session is `session`.
pub fn is_pane_of(session: &str, id: &str) -> bool {
    match id.strip_prefix(session) {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix("-p")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

impl History {
    /// The session id to send with a routed call of `pane` in a conversation; the
    /// conversation's session is made (a random UUID) and stored on first use.
    pub fn session_id(&self, conversation_id: &str, pane: u32) -> AppResult<String> {
        let conn = self.writable()?;
        let fresh = uuid::Uuid::new_v4().to_string();
        conn.execute(
            "UPDATE conversations SET session_id = ?2 WHERE id = ?1 AND session_id IS NULL",
            params![conversation_id, fresh],
        )
        .map_err(db_error)?;
        let session: Option<String> = conn
            .query_row(
                "SELECT session_id FROM conversations WHERE id = ?1",
                [conversation_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_error)?
            .flatten();
        Ok(pane_session(&session.unwrap_or(fresh), pane))
    }

    /// Conversations with a session, updated since `since_ms` (Unix ms): (id, session).
    pub fn recent_sessions(&self, since_ms: i64) -> AppResult<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, session_id FROM conversations WHERE session_id IS NOT NULL AND updated_at >= ?1 ORDER BY updated_at DESC",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([since_ms], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// Records what Hugging Face billed a conversation (replacing what it said before).
    pub fn record_billed(&self, b: &BilledCost) -> AppResult<()> {
        let conn = self.writable()?;
        conn.execute(
            "INSERT INTO billed_sessions (conversation_id, billed_nano_usd, requests, checked_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conversation_id) DO UPDATE SET billed_nano_usd = ?2, requests = ?3, checked_at = ?4",
            params![b.conversation_id, b.billed_nano_usd, b.requests as i64, b.checked_at],
        )
        .map_err(db_error)?;
        Ok(())
    }

    /// The conversation's estimate and bill side by side.
    ///
    /// Pending means a bill is still expected: the conversation names a session (those saved
    /// before session ids never get one) and its last call is since `reconcile_since_ms` (older
    /// ones are no longer asked about).
    pub fn conversation_cost(
        &self,
        conversation_id: &str,
        reconcile_since_ms: i64,
    ) -> AppResult<ConversationCost> {
        let conn = self.conn();
        let session: Option<String> = conn
            .query_row(
                "SELECT session_id FROM conversations WHERE id = ?1",
                [conversation_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_error)?
            .flatten();
        let sums = |hf: bool| {
            conn.query_row(
                &format!(
                    "SELECT COUNT(*), SUM(cost), SUM(router_cost), MAX(at) FROM calls
                     WHERE conversation_id = ?1 AND status != 'error' AND billing {}",
                    if hf {
                        "= 'hf_credits'"
                    } else {
                        "IN ('provider', 'endpoint')"
                    }
                ),
                [conversation_id],
                |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, Option<f64>>(1)?,
                        r.get::<_, Option<f64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                },
            )
            .map_err(db_error)
        };
        let (hf_calls, estimated, router_estimated, last_hf_call) = sums(true)?;
        let (provider_calls, provider_estimated, _, _) = sums(false)?;
        drop(conn);
        let bill = self.billed(conversation_id)?;
        let complete = bill
            .as_ref()
            .is_some_and(|b| b.requests >= u64::from(hf_calls));
        let expected = session.is_some() && last_hf_call.is_some_and(|at| at >= reconcile_since_ms);
        let pending = hf_calls > 0 && !complete && expected;
        let billed = bill.as_ref().map(|b| usd_of_nano(b.billed_nano_usd));
        Ok(ConversationCost {
            conversation_id: conversation_id.to_string(),
            hf_calls,
            estimated,
            router_estimated,
            billed,
            billed_requests: bill.as_ref().map(|b| b.requests),
            checked_at: bill.as_ref().map(|b| b.checked_at),
            pending,
            difference_pct: match (complete, estimated, billed) {
                (true, Some(e), Some(b)) => difference_pct(e, b),
                _ => None,
            },
            provider_calls,
            provider_estimated,
        })
    }

    /// Per provider, the estimate beside the bill over the conversations Hugging Face has
    /// billed in full whose billed calls all went to that one provider (a comparison's panes
    /// go to several: it is left out) at a known price, with calls since `since_ms`.
    pub fn provider_accuracy(&self, since_ms: i64) -> AppResult<Vec<ProviderAccuracy>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.provider, COUNT(*), SUM(p.est), SUM(b.billed_nano_usd) FROM (
                   SELECT conversation_id, MIN(COALESCE(provider, '')) AS provider,
                          COUNT(DISTINCT COALESCE(provider, '')) AS np,
                          SUM(COALESCE(cost, 0)) AS est, COUNT(*) AS n, COUNT(cost) AS priced,
                          MAX(at) AS last
                   FROM calls
                   WHERE billing = 'hf_credits' AND status != 'error' AND conversation_id IS NOT NULL
                   GROUP BY conversation_id
                 ) p JOIN billed_sessions b ON b.conversation_id = p.conversation_id
                 WHERE p.np = 1 AND p.priced = p.n AND b.requests >= p.n AND p.last >= ?1
                 GROUP BY p.provider ORDER BY p.provider",
            )
            .map_err(db_error)?;
        let rows = stmt
            .query_map([since_ms], |r| {
                let estimated: f64 = r.get(2)?;
                let billed = usd_of_nano(r.get(3)?);
                Ok(ProviderAccuracy {
                    provider: r.get(0)?,
                    conversations: r.get(1)?,
                    estimated,
                    billed,
                    difference_pct: difference_pct(estimated, billed),
                })
            })
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    /// What Hugging Face billed a conversation, if it has reported it.
    pub fn billed(&self, conversation_id: &str) -> AppResult<Option<BilledCost>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT conversation_id, billed_nano_usd, requests, checked_at FROM billed_sessions WHERE conversation_id = ?1",
            [conversation_id],
            |r| {
                Ok(BilledCost {
                    conversation_id: r.get(0)?,
                    billed_nano_usd: r.get(1)?,
                    requests: r.get::<_, i64>(2)?.max(0) as u64,
                    checked_at: r.get(3)?,
                })
            },
        )
        .optional()
        .map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pane_sessions() {
        let s = "0b6f3c1e-5d2a-4c8e-9f1a-2b3c4d5e6f70";
        assert_eq!(pane_session(s, 0), s);
        assert_eq!(pane_session(s, 2), format!("{s}-p2"));
        assert!(is_pane_of(s, s));
        assert!(is_pane_of(s, &format!("{s}-p12")));
        assert!(!is_pane_of(s, &format!("{s}-px")));
        assert!(!is_pane_of(s, "other"));
        assert!(pane_session(&"x".repeat(300), 3).chars().count() <= MAX_SESSION_ID_CHARS);
    }
}
