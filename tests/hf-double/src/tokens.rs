//! Credentials the double knows, and the `whoami-v2` profiles behind them.

use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Free user "ada": fine-grained token with `inference.serverless.write`.
pub const FREE_TOKEN: &str = "hf_doubleFreeUserAAAAAAAAAAAAAAAAAAAAAA";
/// PRO user "grace": classic `write` token, member of two orgs.
pub const PRO_TOKEN: &str = "hf_doubleProUserBBBBBBBBBBBBBBBBBBBBBBBB";
/// User "linus": fine-grained token without `inference.serverless.write`.
pub const NO_INFERENCE_TOKEN: &str = "hf_doubleNoInferenceCCCCCCCCCCCCCCCCCCC";
/// Free user "emmy": a read token (billing readable), and no included credits this period
/// (a later Hugging Face page says free accounts get none).
pub const FREE_ZERO_TOKEN: &str = "hf_doubleFreeZeroDDDDDDDDDDDDDDDDDDDDDDDD";
/// PRO user "katherine": used past her $2.00 of included credits, under a $10 spending limit.
pub const PRO_OVER_TOKEN: &str = "hf_doubleProOverEEEEEEEEEEEEEEEEEEEEEEEEE";
/// Free user "rosalind", member of the Team org "acme-research" (can pay): her routed calls
/// billed to it (`X-HF-Bill-To`) do not count in her own usage.
pub const ORG_MEMBER_TOKEN: &str = "hf_doubleOrgMemberFFFFFFFFFFFFFFFFFFFFFFFF";
/// User "alan": fine-grained token that may call Inference Providers but not read billing
/// (the billing endpoints answer 403).
pub const NO_BILLING_TOKEN: &str = "hf_doubleNoBillingGGGGGGGGGGGGGGGGGGGGGGGG";
/// A provider's own API key, accepted by every `/direct/{provider}` endpoint (any `pk-...` is).
pub const PROVIDER_KEY: &str = "pk-double-provider-key-1234";

/// The permission a fine-grained token needs to call Inference Providers.
pub const INFERENCE_PERMISSION: &str = "inference.serverless.write";

/// Whether a provider key is accepted by the direct endpoints.
pub fn is_valid_provider_key(key: &str) -> bool {
    key.starts_with("pk-")
}

/// The built-in profiles, keyed by token; `base` is the double's URL (for avatar URLs).
pub(crate) fn builtin_profiles(base: &str) -> Vec<(String, Value)> {
    vec![
        (FREE_TOKEN.to_string(), free_profile(base)),
        (PRO_TOKEN.to_string(), pro_profile(base)),
        (NO_INFERENCE_TOKEN.to_string(), no_inference_profile(base)),
        (
            FREE_ZERO_TOKEN.to_string(),
            variant(free_profile(base), "emmy", "Emmy Noether", Some("read")),
        ),
        (
            PRO_OVER_TOKEN.to_string(),
            variant(pro_profile(base), "katherine", "Katherine Johnson", None),
        ),
        (ORG_MEMBER_TOKEN.to_string(), org_member_profile(base)),
        (
            NO_BILLING_TOKEN.to_string(),
            variant(free_profile(base), "alan", "Alan Turing", None),
        ),
    ]
}

/// Nano-USD (1e-9 USD), the unit of the usage endpoint.
pub const NANO_PER_USD: i64 = 1_000_000_000;
/// What the double bills for one routed chat call: $0.0018.
pub const CALL_COST_NANO_USD: i64 = 1_800_000;

/// What the billing endpoints say about an account before any call the double served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingProfile {
    /// Whether the token may read billing (else 403).
    pub can_read_billing: bool,
    pub included_nano_usd: i64,
    /// The spending limit, `None` when the account has none (free accounts cannot go past
    /// the included credits).
    pub limit_nano_usd: Option<i64>,
    /// Used this period before the double started (calls made elsewhere).
    pub used_nano_usd: i64,
    pub requests: u64,
}

/// The billing side of a token; a registered (unknown) token is a free account with $0.10.
pub fn billing_profile(token: &str) -> BillingProfile {
    let free = BillingProfile {
        can_read_billing: true,
        included_nano_usd: NANO_PER_USD / 10,
        limit_nano_usd: None,
        used_nano_usd: 0,
        requests: 0,
    };
    match token {
        FREE_ZERO_TOKEN => BillingProfile {
            included_nano_usd: 0,
            ..free
        },
        PRO_TOKEN => BillingProfile {
            included_nano_usd: 2 * NANO_PER_USD,
            used_nano_usd: 350_000_000,
            requests: 41,
            ..free
        },
        PRO_OVER_TOKEN => BillingProfile {
            included_nano_usd: 2 * NANO_PER_USD,
            limit_nano_usd: Some(10 * NANO_PER_USD),
            used_nano_usd: 2_750_000_000,
            requests: 913,
            ..free
        },
        NO_BILLING_TOKEN => BillingProfile {
            can_read_billing: false,
            ..free
        },
        _ => free,
    }
}

/// `base` under another user's name and, with `role`, a classic token of that role.
fn variant(mut base: Value, name: &str, fullname: &str, role: Option<&str>) -> Value {
    base["name"] = json!(name);
    base["fullname"] = json!(fullname);
    base["email"] = json!(format!("{name}@example.com"));
    // A fine-grained token's permissions name the user they were granted on: the new user.
    // (`pointer_mut`: indexing would add the keys a classic token lacks, as nulls.)
    if let Some(scoped) = base
        .pointer_mut("/auth/accessToken/fineGrained/scoped")
        .and_then(|v| v.as_array_mut())
    {
        for s in scoped {
            if s["entity"]["type"] == "user" {
                s["entity"]["name"] = json!(name);
            }
        }
    }
    if let Some(role) = role {
        base["auth"]["accessToken"] = json!({
            "displayName": format!("{name}-{role}"),
            "role": role,
            "createdAt": "2025-11-01T10:00:00.000Z"
        });
    }
    base
}

fn org_member_profile(base: &str) -> Value {
    let mut p = variant(
        free_profile(base),
        "rosalind",
        "Rosalind Franklin",
        Some("write"),
    );
    p["orgs"] = json!([{
        "type": "org",
        "id": "65a1f0c2d4e5f6a7b8c9d0f1",
        "name": "acme-research",
        "fullname": "Acme Research",
        "email": null,
        "canPay": true,
        "periodEnd": start_of_next_month(now_unix()),
        "avatarUrl": format!("{base}/avatars/acme-research.png"),
        "roleInOrg": "write",
        "isEnterprise": false,
        "plan": "team"
    }]);
    p
}

fn free_profile(base: &str) -> Value {
    json!({
        "type": "user",
        "id": "65a1f0c2d4e5f6a7b8c9d0e1",
        "name": "ada",
        "fullname": "Ada Lovelace",
        "email": "ada@example.com",
        "emailVerified": true,
        "canPay": false,
        "isPro": false,
        "periodEnd": null,
        "billingMode": "prepaid",
        "avatarUrl": format!("{base}/avatars/ada.png"),
        "orgs": [],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": "switchboard-test",
                "role": "fineGrained",
                "createdAt": "2025-09-01T10:00:00.000Z",
                "fineGrained": {
                    "canReadGatedRepos": false,
                    "global": [],
                    "scoped": [{
                        "entity": {"_id": "65a1f0c2d4e5f6a7b8c9d0e1", "type": "user", "name": "ada"},
                        "permissions": [INFERENCE_PERMISSION, "repo.content.read"]
                    }]
                }
            }
        }
    })
}

fn pro_profile(base: &str) -> Value {
    json!({
        "type": "user",
        "id": "65a1f0c2d4e5f6a7b8c9d0e2",
        "name": "grace",
        "fullname": "Grace Hopper",
        "email": "grace@example.com",
        "emailVerified": true,
        "canPay": true,
        "isPro": true,
        "periodEnd": start_of_next_month(now_unix()),
        "billingMode": "postpaid",
        "avatarUrl": format!("{base}/avatars/grace.png"),
        "orgs": [
            {
                "type": "org",
                "id": "65a1f0c2d4e5f6a7b8c9d0f1",
                "name": "acme-research",
                "fullname": "Acme Research",
                "email": null,
                "canPay": true,
                "periodEnd": start_of_next_month(now_unix()),
                "avatarUrl": format!("{base}/avatars/acme-research.png"),
                "roleInOrg": "admin",
                "isEnterprise": false,
                "plan": "team"
            },
            {
                "type": "org",
                "id": "65a1f0c2d4e5f6a7b8c9d0f2",
                "name": "oss-club",
                "fullname": "OSS Club",
                "email": null,
                "canPay": false,
                "periodEnd": null,
                "avatarUrl": format!("{base}/avatars/oss-club.png"),
                "roleInOrg": "read",
                "isEnterprise": false
            }
        ],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": "laptop",
                "role": "write",
                "createdAt": "2024-03-14T09:26:53.000Z"
            }
        }
    })
}

fn no_inference_profile(base: &str) -> Value {
    json!({
        "type": "user",
        "id": "65a1f0c2d4e5f6a7b8c9d0e3",
        "name": "linus",
        "fullname": "Linus Pauling",
        "email": "linus@example.com",
        "emailVerified": true,
        "canPay": false,
        "isPro": false,
        "periodEnd": null,
        "billingMode": "prepaid",
        "avatarUrl": format!("{base}/avatars/linus.png"),
        "orgs": [],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": "read-only-downloads",
                "role": "fineGrained",
                "createdAt": "2025-10-02T08:30:00.000Z",
                "fineGrained": {
                    "canReadGatedRepos": true,
                    "global": ["discussion.write"],
                    "scoped": [{
                        "entity": {"_id": "65a1f0c2d4e5f6a7b8c9d0e3", "type": "user", "name": "linus"},
                        "permissions": ["repo.content.read"]
                    }]
                }
            }
        }
    })
}

/// Whether a whoami profile's token may call Inference Providers: classic tokens can, fine-grained
/// ones need [`INFERENCE_PERMISSION`] globally or on some entity.
pub fn can_call_inference(profile: &Value) -> bool {
    let token = &profile["auth"]["accessToken"];
    if token["role"].as_str() != Some("fineGrained") {
        return true;
    }
    let fine = &token["fineGrained"];
    let has = |perms: &Value| {
        perms
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(INFERENCE_PERMISSION)))
    };
    has(&fine["global"])
        || fine["scoped"]
            .as_array()
            .is_some_and(|s| s.iter().any(|e| has(&e["permissions"])))
}

/// `2026-11-01T00:00:00.000Z` for unix seconds.
pub fn iso_from_unix(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Unix seconds of an ISO 8601 UTC time (`2026-11-01T00:00:00Z`, fractions and a `+00:00`
/// offset allowed, or a bare date); `None` for anything else.
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
        let t = t.split('.').next()?;
        let mut hms = t.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let mi: i64 = hms.next()?.parse().ok()?;
        let se: i64 = hms.next().map_or(Some(0), |x| x.parse().ok())?;
        secs += h * 3600 + mi * 60 + se;
    }
    Some(secs)
}

/// Unix seconds of 00:00:00 UTC on the first day of the month of `now`.
pub fn start_of_month(now: i64) -> i64 {
    let (y, m, _) = civil_from_days(now.div_euclid(86_400));
    days_from_civil(y, m, 1) * 86_400
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix seconds of 00:00:00 UTC on the first day of the month after `now`.
pub fn start_of_next_month(now: i64) -> i64 {
    let (y, m, _) = civil_from_days(now.div_euclid(86_400));
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) * 86_400
}

// Howard Hinnant's civil-calendar algorithms.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_month_boundaries() {
        // 2025-02-13T14:37:25Z -> 2025-03-01T00:00:00Z
        assert_eq!(start_of_next_month(1_739_457_445), 1_740_787_200);
        // 2025-12-31T23:59:59Z -> 2026-01-01T00:00:00Z
        assert_eq!(start_of_next_month(1_767_225_599), 1_767_225_600);
    }

    #[test]
    fn iso_times_both_ways() {
        assert_eq!(iso_from_unix(1_740_787_200), "2025-03-01T00:00:00.000Z");
        assert_eq!(
            unix_from_iso("2025-03-01T00:00:00.000Z"),
            Some(1_740_787_200)
        );
        assert_eq!(unix_from_iso("2025-02-13T14:37:25Z"), Some(1_739_457_445));
        assert_eq!(unix_from_iso("2025-03-01"), Some(1_740_787_200));
        assert_eq!(unix_from_iso("1740787200"), None);
        assert_eq!(start_of_month(1_739_457_445), 1_738_368_000);
    }

    #[test]
    fn inference_permission() {
        assert!(can_call_inference(&free_profile("x")));
        assert!(can_call_inference(&pro_profile("x")));
        assert!(!can_call_inference(&no_inference_profile("x")));
    }

    #[test]
    fn variants_are_their_own_user_and_add_no_nulls() {
        for (token, p) in builtin_profiles("x") {
            let name = p["name"].as_str().unwrap().to_string();
            let token_ = &p["auth"]["accessToken"];
            if let Some(fg) = token_.get("fineGrained") {
                assert!(fg["scoped"].is_array(), "{token}: {fg}");
            }
            if let Some(scoped) = token_
                .pointer("/fineGrained/scoped")
                .and_then(|v| v.as_array())
            {
                for s in scoped.iter().filter(|s| s["entity"]["type"] == "user") {
                    assert_eq!(s["entity"]["name"], name.as_str(), "{token}");
                }
            }
        }
        let alan = builtin_profiles("x")
            .into_iter()
            .find(|(t, _)| t == NO_BILLING_TOKEN)
            .unwrap()
            .1;
        assert!(can_call_inference(&alan));
    }
}
