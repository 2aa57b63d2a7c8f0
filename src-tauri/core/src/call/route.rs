//! Decisions, as types: where a call goes ([`CallMode`]) and who pays for it ([`Billing`]).
//! Made in Rust (routing, the call service); the UI shows them and does not recompute them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Who was called and who bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CallMode {
    /// Through the HF router, billed to HF credits (or an organisation).
    Routed,
    /// Directly to a provider with the user's own key.
    OwnKey,
    /// A custom OpenAI-compatible endpoint.
    Endpoint,
}

/// Who pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Billing {
    /// The user's monthly HF credits.
    HfCredits,
    /// An organisation, via `X-HF-Bill-To`.
    Org,
    /// The provider, with the user's own key.
    Provider,
    /// A custom endpoint (no known price).
    Endpoint,
}

/// Where a call will go and who pays, decided in Rust from the user's choice and their
/// provider settings ([`crate::routing::Resolver::decide`]). The UI shows it; it does not work
/// it out again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RouteDecision {
    pub mode: CallMode,
    pub billing: Billing,
    /// Who answers, in words: the provider's or the endpoint's name; `None` for the router.
    pub who: Option<String>,
    /// The organisation billed, when `billing` is [`Billing::Org`].
    pub bill_to: Option<String>,
}

impl Billing {
    /// Who pays for a call that goes `mode`, billed to `bill_to` when routed.
    pub fn for_call(mode: CallMode, bill_to: Option<&str>) -> Self {
        match mode {
            CallMode::OwnKey => Billing::Provider,
            CallMode::Endpoint => Billing::Endpoint,
            CallMode::Routed if bill_to.is_some() => Billing::Org,
            CallMode::Routed => Billing::HfCredits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_pays_follows_where_the_call_goes() {
        assert_eq!(
            Billing::for_call(CallMode::Routed, None),
            Billing::HfCredits
        );
        assert_eq!(
            Billing::for_call(CallMode::Routed, Some("acme")),
            Billing::Org
        );
        // An organisation is billed only through the router.
        assert_eq!(
            Billing::for_call(CallMode::OwnKey, Some("acme")),
            Billing::Provider
        );
        assert_eq!(
            Billing::for_call(CallMode::Endpoint, Some("acme")),
            Billing::Endpoint
        );
    }
}
