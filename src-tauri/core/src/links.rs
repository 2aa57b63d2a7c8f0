//! The web pages the app links to. The UI names a [`Link`]; the URL is made here from the
//! configured Hub, so the web view can never ask to open an arbitrary address.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};

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

/// A link from an answer, checked before the system browser opens it: http(s) only, with a
/// host. Anything else (`file:`, `javascript:`, app-internal schemes) is refused.
pub fn web_url(raw: &str) -> AppResult<String> {
    let refuse = |why: &str| {
        AppError::new(
            ErrorCode::ForbiddenUrl,
            format!("Switchboard opens only web links (http or https): {why}."),
        )
    };
    let url = url::Url::parse(raw.trim()).map_err(|_| refuse("this is not a full address"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(&format!("this one is “{}:”", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("this one has no host"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_open_in_the_browser() {
        assert_eq!(
            web_url(" https://example.com/a?b=1#c ").unwrap(),
            "https://example.com/a?b=1#c"
        );
        assert_eq!(
            web_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "tauri://localhost/",
            "mailto:a@b.c",
            "data:text/html,hi",
            "/relative",
            "",
        ] {
            assert_eq!(
                web_url(bad).unwrap_err().code,
                ErrorCode::ForbiddenUrl,
                "{bad}"
            );
        }
    }

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
