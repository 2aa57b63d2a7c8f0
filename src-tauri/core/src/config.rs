//! Endpoints and folders. Everything that points outside the app is configuration, so tests and
//! proxies can redirect it with environment variables (documented in the README):
//!
//! | variable | default |
//! |---|---|
//! | `SWITCHBOARD_HUB_URL` | `https://huggingface.co` |
//! | `SWITCHBOARD_ROUTER_URL` | `https://router.huggingface.co` |
//! | `SWITCHBOARD_PROVIDER_BASE_URL` | unset: each provider's own base URL; else a template with `{provider}` |
//! | `SWITCHBOARD_DATA_DIR` | the OS data folder (`~/.local/share/dev.switchboard.desktop` on Linux) |
//! | `SWITCHBOARD_CHAT_TIMEOUT_SECS` | 120 s for a chat answer to start, 60 s of silence in a stream |
//!
//! The three addresses carry the HF token and provider keys: `http://` is accepted only for this
//! computer (a local proxy, the test double); any other host needs `https://`.

use std::path::PathBuf;

use crate::error::{AppError, AppResult, ErrorCode};

pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";
pub const DEFAULT_ROUTER_URL: &str = "https://router.huggingface.co";

pub const ENV_HUB_URL: &str = "SWITCHBOARD_HUB_URL";
pub const ENV_ROUTER_URL: &str = "SWITCHBOARD_ROUTER_URL";
pub const ENV_PROVIDER_BASE_URL: &str = "SWITCHBOARD_PROVIDER_BASE_URL";
pub const ENV_DATA_DIR: &str = "SWITCHBOARD_DATA_DIR";
pub const ENV_CHAT_TIMEOUT_SECS: &str = "SWITCHBOARD_CHAT_TIMEOUT_SECS";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Hub base, no trailing slash.
    pub hub: String,
    /// Router base, no trailing slash.
    pub router: String,
    /// Template for providers' direct base URLs, `{provider}` replaced by the provider name.
    pub provider_base_template: Option<String>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            hub: DEFAULT_HUB_URL.into(),
            router: DEFAULT_ROUTER_URL.into(),
            provider_base_template: None,
        }
    }
}

impl Endpoints {
    pub fn hub_url(&self, path: &str) -> String {
        format!("{}/{}", self.hub, path.trim_start_matches('/'))
    }

    pub fn router_url(&self, path: &str) -> String {
        format!("{}/{}", self.router, path.trim_start_matches('/'))
    }

    /// The direct base URL of a provider: the override template when set, else `default_base`.
    pub fn provider_base(&self, provider: &str, default_base: &str) -> String {
        match &self.provider_base_template {
            Some(t) => t.replace("{provider}", provider),
            None => default_base.trim_end_matches('/').to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub endpoints: Endpoints,
    pub data_dir: PathBuf,
    /// Overrides both chat timeouts (first byte, silence in a stream).
    pub chat_timeout_secs: Option<u64>,
}

impl Config {
    /// Reads the configuration from `vars` (the process environment in the app), with
    /// `default_data_dir` used when no data folder is given.
    pub fn from_vars(
        vars: impl Fn(&str) -> Option<String>,
        default_data_dir: PathBuf,
    ) -> AppResult<Self> {
        let non_empty = |name: &str| vars(name).filter(|v| !v.trim().is_empty());
        let url = |name: &str, default: &str| -> AppResult<String> {
            match non_empty(name) {
                Some(v) => parse_base_url(name, &v),
                None => Ok(default.to_string()),
            }
        };
        let provider_base_template = match non_empty(ENV_PROVIDER_BASE_URL) {
            Some(t) => {
                if !t.contains("{provider}") {
                    return Err(AppError::new(
                        ErrorCode::Internal,
                        format!("{ENV_PROVIDER_BASE_URL} must contain {{provider}}"),
                    ));
                }
                parse_base_url(ENV_PROVIDER_BASE_URL, &t.replace("{provider}", "p"))?;
                Some(t.trim_end_matches('/').to_string())
            }
            None => None,
        };
        Ok(Self {
            endpoints: Endpoints {
                hub: url(ENV_HUB_URL, DEFAULT_HUB_URL)?,
                router: url(ENV_ROUTER_URL, DEFAULT_ROUTER_URL)?,
                provider_base_template,
            },
            data_dir: non_empty(ENV_DATA_DIR)
                .map(PathBuf::from)
                .unwrap_or(default_data_dir),
            chat_timeout_secs: match non_empty(ENV_CHAT_TIMEOUT_SECS) {
                Some(v) => Some(v.trim().parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(
                    || {
                        AppError::new(
                            ErrorCode::Internal,
                            format!("{ENV_CHAT_TIMEOUT_SECS} must be a whole number of seconds"),
                        )
                    },
                )?),
                None => None,
            },
        })
    }

    pub fn from_env(default_data_dir: PathBuf) -> AppResult<Self> {
        Self::from_vars(|k| std::env::var(k).ok(), default_data_dir)
    }
}

fn parse_base_url(name: &str, value: &str) -> AppResult<String> {
    let parsed = url::Url::parse(value.trim()).map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!("{name} is not a valid URL ({e})"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::new(
            ErrorCode::Internal,
            format!("{name} must be an http or https URL"),
        ));
    }
    // The HF token and provider keys follow these addresses: in clear only to this computer
    // (a local proxy or the test double), never across a network.
    if parsed.scheme() == "http" && !is_loopback(&parsed) {
        return Err(AppError::new(
            ErrorCode::Internal,
            format!(
                "{name} must use https for a host other than this computer (http is allowed only for localhost, 127.0.0.1 and ::1)"
            ),
        ));
    }
    Ok(value.trim().trim_end_matches('/').to_string())
}

/// Whether the URL's host is this computer: `localhost` (and `*.localhost`), 127.0.0.0/8, ::1.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether the URL's host is this computer or an address of a private network (10/8,
/// 172.16/12, 192.168/16, 100.64/10, link-local, IPv6 unique-local and link-local), where a
/// plain-http server (a local model server, a lab gateway) is common.
pub fn is_loopback_or_private(url: &url::Url) -> bool {
    if is_loopback(url) {
        return true;
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            let o = ip.octets();
            ip.is_private() || ip.is_link_local() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        Some(url::Host::Ipv6(ip)) => {
            let first = ip.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> AppResult<Config> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned(), PathBuf::from("/default"))
    }

    #[test]
    fn defaults_point_at_hugging_face() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.endpoints, Endpoints::default());
        assert_eq!(c.data_dir, PathBuf::from("/default"));
        assert_eq!(
            c.endpoints.hub_url("/api/whoami-v2"),
            "https://huggingface.co/api/whoami-v2"
        );
        assert_eq!(
            c.endpoints.provider_base("groq", "https://api.groq.com/"),
            "https://api.groq.com"
        );
    }

    #[test]
    fn environment_overrides_everything() {
        let c = cfg(&[
            (ENV_HUB_URL, "http://127.0.0.1:9/"),
            (ENV_ROUTER_URL, "http://127.0.0.1:9/router"),
            (
                ENV_PROVIDER_BASE_URL,
                "http://127.0.0.1:9/direct/{provider}/",
            ),
            (ENV_DATA_DIR, "/tmp/sb"),
            (ENV_CHAT_TIMEOUT_SECS, "5"),
        ])
        .unwrap();
        assert_eq!(c.chat_timeout_secs, Some(5));
        assert_eq!(c.endpoints.hub, "http://127.0.0.1:9");
        assert_eq!(
            c.endpoints.router_url("v1/models"),
            "http://127.0.0.1:9/router/v1/models"
        );
        assert_eq!(
            c.endpoints.provider_base("groq", "https://api.groq.com"),
            "http://127.0.0.1:9/direct/groq"
        );
        assert_eq!(c.data_dir, PathBuf::from("/tmp/sb"));
    }

    #[test]
    fn plain_http_only_to_this_computer() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1:9",
            "http://127.1.2.3",
            "http://[::1]:9",
            "https://proxy.example.com",
        ] {
            let c = cfg(&[(ENV_HUB_URL, ok), (ENV_ROUTER_URL, ok)]);
            assert!(c.is_ok(), "{ok}");
        }
        for remote in [
            "http://proxy.example.com",
            "http://10.0.0.5:8080",
            "http://192.168.1.20",
            "http://[2001:db8::1]",
            "http://localhost.example.com",
        ] {
            for var in [ENV_HUB_URL, ENV_ROUTER_URL] {
                let e = cfg(&[(var, remote)]).unwrap_err();
                assert!(e.message.contains("https"), "{var}={remote}: {}", e.message);
            }
            let template = format!("{remote}/direct/{{provider}}");
            assert!(
                cfg(&[(ENV_PROVIDER_BASE_URL, &template)]).is_err(),
                "{template}"
            );
        }
    }

    #[test]
    fn private_addresses() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        for p in [
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.0.10:11434",
            "http://100.64.1.1",
            "http://169.254.1.1",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://localhost",
        ] {
            assert!(is_loopback_or_private(&u(p)), "{p}");
        }
        for p in [
            "http://8.8.8.8",
            "http://172.32.0.1",
            "http://gpu-box.example.com",
            "http://[2001:db8::1]",
        ] {
            assert!(!is_loopback_or_private(&u(p)), "{p}");
        }
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(cfg(&[(ENV_HUB_URL, "not a url")]).is_err());
        assert!(cfg(&[(ENV_ROUTER_URL, "ftp://x")]).is_err());
        assert!(cfg(&[(ENV_PROVIDER_BASE_URL, "http://x/no-placeholder")]).is_err());
        assert!(cfg(&[(ENV_CHAT_TIMEOUT_SECS, "soon")]).is_err());
    }
}
