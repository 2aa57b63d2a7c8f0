//! `GET /api/whoami-v2`: the raw answer, and the [`Account`] the UI shows.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The parts of the whoami-v2 answer the app uses. Every field but `name` may be missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    pub name: String,
    #[serde(default)]
    pub fullname: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub is_pro: bool,
    #[serde(default)]
    pub can_pay: bool,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub period_end: Option<i64>,
    #[serde(default)]
    pub billing_mode: Option<String>,
    #[serde(default)]
    pub orgs: Vec<WhoAmIOrg>,
    #[serde(default)]
    pub auth: Option<WhoAmIAuth>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIOrg {
    pub name: String,
    #[serde(default)]
    pub fullname: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub is_enterprise: bool,
    #[serde(default)]
    pub can_pay: bool,
    #[serde(default)]
    pub role_in_org: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmIAuth {
    #[serde(default)]
    pub access_token: Option<AccessToken>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub fine_grained: Option<FineGrained>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FineGrained {
    #[serde(default)]
    pub global: Vec<String>,
    #[serde(default)]
    pub scoped: Vec<Scoped>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scoped {
    #[serde(default)]
    pub entity: Option<Entity>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The permission a fine-grained token needs ("Make calls to Inference Providers").
pub const INFERENCE_PERMISSION: &str = "inference.serverless.write";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Plan {
    Free,
    Pro,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Org {
    pub name: String,
    pub fullname: Option<String>,
    /// `team`, `enterprise`, … or `None` for a free organisation.
    pub plan: Option<String>,
    pub is_enterprise: bool,
    /// Whether calls can be billed to it with `X-HF-Bill-To` (Team or Enterprise).
    pub can_bill: bool,
}

/// What the account screen shows. Cached, so whoami is not called on every start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Account {
    pub name: String,
    pub fullname: Option<String>,
    pub email: Option<String>,
    /// The avatar as a `data:` URL (fetched once, shown offline).
    pub avatar: Option<String>,
    pub plan: Plan,
    pub orgs: Vec<Org>,
    /// The token's name as given on huggingface.co.
    pub token_name: Option<String>,
    /// `read`, `write` or `fineGrained`.
    pub token_role: Option<String>,
    /// Whether the token may call Inference Providers.
    pub can_call_inference: bool,
    /// End of the current billing period, Unix seconds.
    #[ts(type = "number | null")]
    pub period_end: Option<i64>,
    /// When whoami was last asked, Unix seconds.
    #[ts(type = "number")]
    pub checked_at: i64,
}

impl WhoAmI {
    /// Whether the token may call Inference Providers: classic tokens can; fine-grained ones
    /// need [`INFERENCE_PERMISSION`], globally or on the user.
    pub fn can_call_inference(&self) -> bool {
        let Some(token) = self.auth.as_ref().and_then(|a| a.access_token.as_ref()) else {
            // No token details: assume yes, a call will tell otherwise.
            return true;
        };
        match token.role.as_deref() {
            Some("fineGrained") => {
                let fg = token.fine_grained.clone().unwrap_or_default();
                fg.global.iter().any(|p| p == INFERENCE_PERMISSION)
                    || fg.scoped.iter().any(|s| {
                        let on_user = s.entity.as_ref().is_some_and(|e| {
                            e.kind.as_deref() == Some("user")
                                && e.name.as_deref().is_none_or(|n| n == self.name)
                        });
                        on_user && s.permissions.iter().any(|p| p == INFERENCE_PERMISSION)
                    })
            }
            _ => true,
        }
    }

    pub fn into_account(self, avatar: Option<String>, checked_at: i64) -> Account {
        let can_call_inference = self.can_call_inference();
        let token = self.auth.and_then(|a| a.access_token);
        Account {
            plan: if self.is_pro { Plan::Pro } else { Plan::Free },
            orgs: self
                .orgs
                .into_iter()
                .map(|o| {
                    let plan = o.plan.filter(|p| !p.is_empty() && p != "free");
                    let can_bill = o.is_enterprise
                        || plan
                            .as_deref()
                            .is_some_and(|p| p.contains("team") || p.contains("enterprise"));
                    Org {
                        name: o.name,
                        fullname: o.fullname,
                        plan,
                        is_enterprise: o.is_enterprise,
                        can_bill,
                    }
                })
                .collect(),
            name: self.name,
            fullname: self.fullname.filter(|f| !f.is_empty()),
            email: self.email,
            avatar,
            token_name: token.as_ref().and_then(|t| t.display_name.clone()),
            token_role: token.and_then(|t| t.role),
            can_call_inference,
            period_end: self.period_end,
            checked_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> WhoAmI {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn classic_tokens_can_call_inference() {
        let w = parse(serde_json::json!({
            "name": "grace", "isPro": true,
            "orgs": [
                {"name": "acme", "plan": "team", "isEnterprise": false},
                {"name": "club"},
                {"name": "bigco", "plan": "enterprise", "isEnterprise": true}
            ],
            "auth": {"accessToken": {"displayName": "laptop", "role": "write"}}
        }));
        assert!(w.can_call_inference());
        let a = w.into_account(None, 1);
        assert_eq!(a.plan, Plan::Pro);
        let billable: Vec<_> = a
            .orgs
            .iter()
            .filter(|o| o.can_bill)
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(billable, ["acme", "bigco"]);
        assert_eq!(a.token_name.as_deref(), Some("laptop"));
    }

    #[test]
    fn fine_grained_tokens_need_the_inference_permission() {
        let with = parse(serde_json::json!({
            "name": "ada",
            "auth": {"accessToken": {"role": "fineGrained", "fineGrained": {
                "global": [],
                "scoped": [{"entity": {"type": "user", "name": "ada"},
                            "permissions": ["repo.content.read", "inference.serverless.write"]}]
            }}}
        }));
        assert!(with.can_call_inference());
        let without = parse(serde_json::json!({
            "name": "linus",
            "auth": {"accessToken": {"role": "fineGrained", "fineGrained": {
                "global": ["discussion.write"],
                "scoped": [{"entity": {"type": "user", "name": "linus"},
                            "permissions": ["repo.content.read"]}]
            }}}
        }));
        assert!(!without.can_call_inference());
        assert_eq!(without.into_account(None, 0).plan, Plan::Free);
    }
}
