//! The Hugging Face HTTP client: Hub and router. No Tauri in here.
//!
//! Every request goes through [`HfClient`], which owns one connection pool (reqwest + rustls)
//! and the configured [`Endpoints`]. Failures become an [`AppError`] whose code says what went
//! wrong in a way the UI can explain (see [`error_from_response`]).

pub mod usage;
pub mod whoami;

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::StatusCode;

use crate::config::Endpoints;
use crate::error::{scrub, AppError, AppResult, ErrorCode};
use crate::secrets::Secret;

pub use usage::{AccountUsage, SessionCost};
pub use whoami::{Account, Org, Plan};

/// How long a small JSON call (whoami, a mapping) may take in all.
const SHORT_CALL_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Same-origin redirects followed in a row, at most.
const MAX_REDIRECTS: usize = 5;
/// Avatars bigger than this are not worth keeping.
const MAX_AVATAR_BYTES: usize = 512 * 1024;

#[derive(Clone)]
pub struct HfClient {
    http: reqwest::Client,
    endpoints: Endpoints,
}

impl HfClient {
    pub fn new(endpoints: Endpoints) -> AppResult<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            // This client carries the HF token, provider keys, `X-HF-Bill-To` and whole
            // conversations: a redirect is followed only to the same origin (so never to another
            // host, nor from https to http); any other comes back as the 3xx answer, which
            // becomes a `redirected` error naming the host.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same = attempt
                    .previous()
                    .last()
                    .is_some_and(|from| same_origin(from, attempt.url()));
                if same && attempt.previous().len() <= MAX_REDIRECTS {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()
            .map_err(|e| AppError::internal(format!("HTTP client setup failed: {e}")))?;
        Ok(Self { http, endpoints })
    }

    /// The shared connection pool, for streamed calls made elsewhere.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// `GET /api/whoami-v2`: who owns `token`, their plan, organisations and the token's rights.
    pub async fn whoami(&self, token: &Secret) -> AppResult<whoami::WhoAmI> {
        let url = self.endpoints.hub_url("api/whoami-v2");
        let request = self
            .http
            .get(&url)
            .bearer_auth(token.expose())
            .timeout(SHORT_CALL_TIMEOUT);
        let (status, headers, body) = send_for_text(request, "Hugging Face")
            .await
            .map_err(|e| e.without_secret(token.expose()))?;
        if looks_like_html(&headers, &body) {
            return Err(html_error(status, "Hugging Face"));
        }
        serde_json::from_str(&body).map_err(|e| {
            AppError::new(
                ErrorCode::BadResponse,
                format!(
                    "Hugging Face answered with data the app does not understand ({e}). Is the Hub URL right?"
                ),
            )
        })
    }

    /// `GET /api/models/{id}?expand[]=inferenceProviderMapping`: which providers serve the
    /// model, under which provider-side id. No credential is needed (none is sent).
    pub async fn model_mapping(&self, model: &str) -> AppResult<Vec<MappingEntry>> {
        let mut url = url::Url::parse(&self.endpoints.hub_url(&format!("api/models/{model}")))
            .map_err(|e| AppError::internal(format!("bad model URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("expand[]", "inferenceProviderMapping");
        let request = self.http.get(url).timeout(SHORT_CALL_TIMEOUT);
        let (_, _, body) = send_for_text(request, "Hugging Face").await?;
        parse_mapping(&body).ok_or_else(|| {
            AppError::new(
                ErrorCode::BadResponse,
                "Hugging Face answered with a model description the app does not understand.",
            )
        })
    }

    /// Downloads an avatar (no credentials sent) and returns it as a `data:` URL, so the UI
    /// can show it under a CSP that allows no remote images, and offline.
    pub async fn fetch_avatar(&self, avatar_url: &str) -> Option<String> {
        let url = if avatar_url.starts_with('/') {
            self.endpoints.hub_url(avatar_url)
        } else {
            avatar_url.to_string()
        };
        let parsed = url::Url::parse(&url).ok()?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return None;
        }
        let response = self
            .http
            .get(parsed)
            .timeout(SHORT_CALL_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let mime = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())?;
        if !matches!(
            mime.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/svg+xml"
        ) {
            return None;
        }
        // Read piece by piece and given up past the limit: a huge "avatar" is never held whole.
        let Some(bytes) = read_capped(response, MAX_AVATAR_BYTES).await.ok()? else {
            log::warn!("the avatar is larger than {MAX_AVATAR_BYTES} bytes: not shown");
            return None;
        };
        use base64::Engine;
        Some(format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        ))
    }
}

/// One provider's entry in a model's Hub mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEntry {
    pub provider: String,
    /// `live`, `staging` (visible to the provider's org only) or `error`.
    pub status: String,
    /// The model id to send to the provider.
    pub provider_id: String,
    pub task: Option<String>,
}

/// Reads `inferenceProviderMapping`, as an object keyed by provider or as a list.
pub fn parse_mapping(body: &str) -> Option<Vec<MappingEntry>> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let m = v.get("inferenceProviderMapping")?;
    let entry = |provider: String, e: &serde_json::Value| {
        Some(MappingEntry {
            provider,
            status: e.get("status")?.as_str()?.to_string(),
            provider_id: e.get("providerId")?.as_str()?.to_string(),
            task: e.get("task").and_then(|t| t.as_str()).map(str::to_string),
        })
    };
    match m {
        serde_json::Value::Object(o) => {
            Some(o.iter().filter_map(|(k, e)| entry(k.clone(), e)).collect())
        }
        serde_json::Value::Array(a) => Some(
            a.iter()
                .filter_map(|e| entry(e.get("provider")?.as_str()?.to_string(), e))
                .collect(),
        ),
        _ => None,
    }
}

/// The most a small JSON answer (whoami, a mapping, a model list, an error) may weigh.
pub const MAX_SMALL_BODY_BYTES: usize = 8 << 20;

/// Reads a body piece by piece: `None` as soon as it passes `max_bytes` (the rest is not read;
/// dropping the response closes the connection).
pub async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// [`read_capped`] as text (invalid UTF-8 replaced); too large is an error about `who`.
pub async fn read_text_capped(
    response: reqwest::Response,
    max_bytes: usize,
    who: &str,
) -> AppResult<String> {
    match read_capped(response, max_bytes).await {
        Ok(Some(b)) => Ok(String::from_utf8(b)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
        Ok(None) => Err(too_large(who, max_bytes)),
        Err(e) => Err(transport_error(&e, who)),
    }
}

/// The error for an answer past a size limit.
pub fn too_large(who: &str, max_bytes: usize) -> AppError {
    AppError::new(
        ErrorCode::TooLarge,
        format!(
            "{who} sent more than {}: Switchboard stopped reading there.",
            human_bytes(max_bytes)
        ),
    )
}

/// A size for messages: `8 MB`, `512 KB`.
pub fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MB", n >> 20)
    } else {
        format!("{} KB", (n >> 10).max(1))
    }
}

/// Sends `request` and reads the whole answer as text. A failure to connect or read, or a status
/// other than success, becomes the app's error about `who`; a successful answer comes back as
/// its status, headers and body, for the caller to check and parse.
pub async fn send_for_text(
    request: reqwest::RequestBuilder,
    who: &str,
) -> AppResult<(StatusCode, HeaderMap, String)> {
    let response = request.send().await.map_err(|e| transport_error(&e, who))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_text_capped(response, MAX_SMALL_BODY_BYTES, who).await?;
    if !status.is_success() {
        return Err(error_from_response(status, &headers, &body, who));
    }
    Ok((status, headers, body))
}

/// An error from the connection itself: nothing came back.
pub fn transport_error(err: &reqwest::Error, who: &str) -> AppError {
    if err.is_timeout() {
        AppError::new(ErrorCode::Timeout, format!("{who} did not answer in time."))
    } else if err.is_connect() || err.is_request() {
        AppError::new(
            ErrorCode::Network,
            format!("Could not reach {who}. Check your internet connection."),
        )
    } else {
        AppError::new(
            ErrorCode::Network,
            format!("The connection to {who} failed while reading its answer."),
        )
    }
}

/// Whether a redirect from `from` to `to` stays on the same origin: same scheme, host and port.
pub fn same_origin(from: &url::Url, to: &url::Url) -> bool {
    from.scheme() == to.scheme()
        && from.host_str() == to.host_str()
        && from.port_or_known_default() == to.port_or_known_default()
}

/// A redirect the app did not follow: where it pointed, for the message.
fn redirect_error(status: StatusCode, headers: &HeaderMap, who: &str) -> AppError {
    let target = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok());
    let place = match &target {
        Some(u) => {
            let host = u.host_str().unwrap_or("another address");
            let host = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            if u.scheme() == "http" {
                format!("{host}, without encryption (http)")
            } else {
                host
            }
        }
        None => "another address".to_string(),
    };
    AppError::new(
        ErrorCode::Redirected,
        scrub(
            &format!(
                "{who} redirected the request to {place} (HTTP {}). Switchboard does not follow it, so your key and conversation were not sent there. Check the address.",
                status.as_u16()
            ),
            400,
        ),
    )
}

pub fn looks_like_html(headers: &HeaderMap, body: &str) -> bool {
    let ct_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
    let start = body
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    ct_html || start.starts_with("<!doctype html") || start.starts_with("<html")
}

fn html_error(status: StatusCode, who: &str) -> AppError {
    AppError::new(
        ErrorCode::BadResponse,
        format!(
            "{who} answered with a web page instead of data (HTTP {}). The service or a proxy in between may be having trouble.",
            status.as_u16()
        ),
    )
}

/// The human part of an error body: `error` (a string or `{message}`), `detail`, `message`, or
/// the plain text. Scrubbed of anything secret-looking and cut short.
pub fn error_detail(body: &str) -> Option<String> {
    let text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => {
            let pick = |v: &serde_json::Value| -> Option<String> {
                match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(o) => o
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string),
                    serde_json::Value::Array(a) => a.first().and_then(|x| {
                        x.get("msg")
                            .or_else(|| x.get("message"))
                            .and_then(|m| m.as_str())
                            .map(str::to_string)
                    }),
                    _ => None,
                }
            };
            ["error", "detail", "message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(pick))
        }
        Err(_) => Some(body.trim().to_string()),
    }?;
    let text = text.trim();
    (!text.is_empty()).then(|| scrub(text, 300))
}

/// Turns a non-success answer into an error the UI can explain.
pub fn error_from_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    who: &str,
) -> AppError {
    if status.is_redirection() {
        return redirect_error(status, headers, who);
    }
    if looks_like_html(headers, body) {
        return html_error(status, who);
    }
    let detail = error_detail(body);
    let said = |default: &str| match &detail {
        Some(d) => format!("{default} {who} said: “{d}”"),
        None => default.to_string(),
    };
    let code = status.as_u16();
    match code {
        401 => AppError::new(
            ErrorCode::Unauthorized,
            said(&format!("{who} did not accept the token (HTTP 401).")),
        ),
        402 => AppError::new(
            ErrorCode::PaymentRequired,
            said("The monthly included credits are used up (HTTP 402)."),
        ),
        403 => AppError::new(
            ErrorCode::Forbidden,
            said("The token is not allowed to do this (HTTP 403)."),
        ),
        404 => AppError::new(ErrorCode::NotFound, said("Not found (HTTP 404).")),
        429 => AppError::new(
            ErrorCode::RateLimited,
            said("Too many requests (HTTP 429)."),
        ),
        400 | 422 => AppError::new(
            ErrorCode::InvalidRequest,
            said(&format!("The request was rejected (HTTP {code}).")),
        ),
        500..=599 => AppError::new(
            ErrorCode::ServerError,
            said(&format!("{who} had a problem (HTTP {code}).")),
        ),
        _ => AppError::new(
            ErrorCode::BadResponse,
            said(&format!("Unexpected answer (HTTP {code}).")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn maps_documented_statuses() {
        let json = headers("application/json");
        let cases = [
            (
                401,
                r#"{"error":"Invalid credentials in Authorization header"}"#,
                ErrorCode::Unauthorized,
            ),
            (
                402,
                r#"{"error":"You have depleted your monthly included credits."}"#,
                ErrorCode::PaymentRequired,
            ),
            (
                403,
                r#"{"error":"This authentication method does not have sufficient permissions"}"#,
                ErrorCode::Forbidden,
            ),
            (
                404,
                r#"{"error":"Model X does not exist"}"#,
                ErrorCode::NotFound,
            ),
            (
                422,
                r#"{"error":{"message":"Input validation error"}}"#,
                ErrorCode::InvalidRequest,
            ),
            (429, "slow down", ErrorCode::RateLimited),
            (
                503,
                r#"{"detail":"Model is loading"}"#,
                ErrorCode::ServerError,
            ),
        ];
        for (status, body, code) in cases {
            let err = error_from_response(
                StatusCode::from_u16(status).unwrap(),
                &json,
                body,
                "Hugging Face",
            );
            assert_eq!(err.code, code, "HTTP {status}");
        }
    }

    #[test]
    fn keeps_the_servers_words() {
        let err = error_from_response(
            StatusCode::UNAUTHORIZED,
            &headers("application/json"),
            r#"{"error":"Invalid credentials in Authorization header"}"#,
            "Hugging Face",
        );
        assert!(
            err.message
                .contains("Invalid credentials in Authorization header"),
            "{}",
            err.message
        );
    }

    #[test]
    fn html_pages_are_bad_responses_whatever_the_status() {
        let page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>";
        for ct in ["text/html; charset=utf-8", "application/octet-stream"] {
            let err =
                error_from_response(StatusCode::BAD_GATEWAY, &headers(ct), page, "Hugging Face");
            assert_eq!(err.code, ErrorCode::BadResponse);
            assert!(!err.message.contains("<html"), "{}", err.message);
        }
    }

    #[test]
    fn mappings_as_object_or_list() {
        let obj = r#"{"inferenceProviderMapping":{"groq":{"status":"live","providerId":"llama-3.3-70b-versatile","task":"conversational"},"x":{"status":"live"}}}"#;
        let m = parse_mapping(obj).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].provider_id, "llama-3.3-70b-versatile");
        let list = r#"{"inferenceProviderMapping":[{"provider":"together","status":"staging","providerId":"t/m","task":"conversational"}]}"#;
        let m = parse_mapping(list).unwrap();
        assert_eq!(
            (m[0].provider.as_str(), m[0].status.as_str()),
            ("together", "staging")
        );
        assert!(parse_mapping("{}").is_none());
    }

    #[test]
    fn redirects_are_followed_only_within_the_same_origin() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://router.huggingface.co/v1/chat/completions"),
            &u("https://router.huggingface.co:443/v2/chat/completions")
        ));
        for other in [
            "http://router.huggingface.co/v1/chat/completions",
            "https://evil.example/v1/chat/completions",
            "https://router.huggingface.co:8443/v1/chat/completions",
        ] {
            assert!(!same_origin(
                &u("https://router.huggingface.co/v1/chat/completions"),
                &u(other)
            ));
        }
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::LOCATION,
            HeaderValue::from_static("http://plain.example:8080/v1/chat/completions"),
        );
        let e = error_from_response(StatusCode::PERMANENT_REDIRECT, &h, "", "Groq");
        assert_eq!(e.code, ErrorCode::Redirected);
        assert!(
            e.message.contains("plain.example:8080, without encryption"),
            "{}",
            e.message
        );
    }

    #[test]
    fn error_detail_never_echoes_a_token() {
        let d = error_detail(r#"{"error":"token hf_abcdefghijklmnopqrst is revoked"}"#).unwrap();
        assert!(!d.contains("hf_abcdefghijklmnopqrst"), "{d}");
    }
}
