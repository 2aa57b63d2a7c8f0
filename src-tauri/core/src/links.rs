//! The web pages the app links to. The UI names a [`Link`]; the URL is made here from the
//! configured Hub, so the web view can never ask to open an arbitrary address.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::Endpoints;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Link {
    /// Create a fine-grained token with "Make calls to Inference Providers".
    NewToken,
    /// The user's tokens.
    Tokens,
    /// Billing and credits.
    Billing,
    /// Inference Providers usage by model and provider.
    InferenceUsage,
    /// The PRO subscription page.
    Pro,
    /// Inference Providers documentation.
    Docs,
}

impl Link {
    pub fn url(self, endpoints: &Endpoints) -> String {
        let path = match self {
            Link::NewToken => {
                "settings/tokens/new?ownUserPermissions=inference.serverless.write&tokenType=fineGrained"
            }
            Link::Tokens => "settings/tokens",
            Link::Billing => "settings/billing",
            Link::InferenceUsage => "settings/inference-providers/overview",
            Link::Pro => "pricing",
            Link::Docs => "docs/inference-providers/index",
        };
        endpoints.hub_url(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_configured_hub() {
        let e = Endpoints::default();
        assert_eq!(
            Link::NewToken.url(&e),
            "https://huggingface.co/settings/tokens/new?ownUserPermissions=inference.serverless.write&tokenType=fineGrained"
        );
        assert_eq!(
            Link::Billing.url(&e),
            "https://huggingface.co/settings/billing"
        );
    }
}
