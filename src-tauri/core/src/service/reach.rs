//! How a call reaches a provider, for the tasks that are not chat (pictures and videos, speech,
//! embeddings): the HF token through the router, or the provider's own key straight to its
//! base; the base URL, the credential header, the organisation billed, and the raw secret to
//! take out of any error text. Decided once here; each task adds its protocol and model id.

use super::Services;
use crate::call::CallMode;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::providers::{self, provider_key_entry};
use crate::secrets::Secret;

/// Which of a provider's direct bases a task calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirectBase {
    /// The base of its API (`base`).
    Api,
    /// The base of its generation jobs (`images_base`, e.g. fal's queue; else `base`).
    Jobs,
}

/// Where a call goes and with what credential.
#[derive(Debug, Clone)]
pub(crate) struct Reach {
    /// Who answers, in words, for messages.
    pub who: String,
    /// `{router}/{provider}` when routed, else the provider's own base.
    pub base: String,
    /// URLs under this get the credential: the router's root, or the provider's base.
    pub trusted: String,
    pub routed: bool,
    /// `(header, value)` carrying the credential.
    pub auth: (String, String),
    /// The provider's fixed headers (own key), or the organisation billed (routed).
    pub headers: Vec<(String, String)>,
    /// The raw credential, to take out of any error text.
    pub secret: String,
}

impl Services {
    /// How a call of `provider` reaches it in `mode`. `doing` completes "Sign in with a Hugging
    /// Face token to …" ("make pictures", "get embeddings").
    pub(crate) fn reach(
        &self,
        provider: &str,
        mode: CallMode,
        bill_to: Option<&str>,
        direct: DirectBase,
        doing: &str,
    ) -> AppResult<Reach> {
        let def = providers::get(provider);
        let who = def.map_or_else(|| provider.to_string(), |d| d.display.clone());
        let endpoints = &self.config.endpoints;
        if mode == CallMode::OwnKey {
            let def = def.ok_or_else(|| AppError::internal("own key for an unknown provider"))?;
            let key: Secret = match self.secrets.get(&provider_key_entry(provider))? {
                Some((k, _)) => k,
                None => {
                    return Err(AppError::new(
                        ErrorCode::ProviderKeyMissing,
                        format!("{who} is set to use your own key, but no key is saved. Add it in Providers, or switch it back to “Through Hugging Face”."),
                    ))
                }
            };
            let base = match direct {
                DirectBase::Jobs => def.images_base_url(endpoints),
                DirectBase::Api => def
                    .base
                    .as_deref()
                    .map(|b| endpoints.provider_base(provider, b)),
            }
            .ok_or_else(|| AppError::internal(format!("no direct route to {who}")))?;
            return Ok(Reach {
                who,
                trusted: base.clone(),
                base,
                routed: false,
                auth: ("authorization".into(), def.authorization(&key)),
                headers: def
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                secret: key.expose().to_string(),
            });
        }
        let token = self.auth.token().map(|(t, _)| t).ok_or_else(|| {
            AppError::new(
                ErrorCode::NotSignedIn,
                format!("Sign in with a Hugging Face token to {doing} through Hugging Face."),
            )
        })?;
        let headers = bill_to
            .map(|org| vec![("x-hf-bill-to".to_string(), org.to_string())])
            .unwrap_or_default();
        Ok(Reach {
            who,
            base: endpoints.router_url(provider),
            trusted: endpoints.router.clone(),
            routed: true,
            auth: ("authorization".into(), format!("Bearer {}", token.expose())),
            headers,
            secret: token.expose().to_string(),
        })
    }
}
