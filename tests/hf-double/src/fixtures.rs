//! Loading the recorded VCR.py cassettes into indexes the server replays from.

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_yaml::Value as Yaml;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const HUB_HOST: &str = "https://huggingface.co";
const ROUTER_HOST: &str = "https://router.huggingface.co";

/// One recorded HTTP response.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub status: u16,
    /// Original header names, hop-by-hop and length headers removed.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Unix seconds of the `Date` header (0 when missing).
    pub date: i64,
}

impl Recorded {
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A recorded routed chat completion.
#[derive(Debug, Clone)]
pub(crate) struct ChatRecording {
    /// The model sent in the recorded request (the provider's id).
    pub request_model: String,
    pub response: Recorded,
}

/// What the Hub recorded for one model id.
#[derive(Debug, Clone, Default)]
pub(crate) struct HubModel {
    /// Latest answer to a look-up with `expand=inferenceProviderMapping`.
    pub expanded: Option<Recorded>,
    /// Latest answer to a plain look-up (full model info, or a redirect).
    pub full: Option<Recorded>,
}

/// Everything indexed from a fixtures directory.
#[derive(Debug, Default)]
pub(crate) struct Fixtures {
    /// Hub `GET /api/models/{id}` answers, by id.
    pub hub_models: BTreeMap<String, HubModel>,
    /// Successful routed chat completions by (provider, streamed); first file in name order wins.
    pub chat: BTreeMap<(String, bool), ChatRecording>,
    /// Every other routed interaction by (method, path without query) as seen on the router,
    /// e.g. `("POST", "/together/v1/images/generations")`.
    pub routed: HashMap<(String, String), Recorded>,
    /// Recorded text-to-image generations, by provider (`text_to_image*.yaml`).
    pub images: BTreeMap<String, ImageRecording>,
}

/// One provider's recorded text-to-image generation: the routed request's answer and what the
/// client fetched after it (polls, the picture), in order, by absolute URL.
#[derive(Debug, Clone)]
pub(crate) struct ImageRecording {
    /// The route under the provider, as posted (`v1/images/generations`, `fal-ai/flux/dev`).
    pub route: String,
    pub response: Recorded,
    /// `(url, answer)` for each later GET to another host, in recorded order.
    pub followups: Vec<(String, Recorded)>,
}

impl ImageRecording {
    /// The last recorded answer to a GET of `url` (query included when given).
    pub fn followup(&self, url: &str) -> Option<&Recorded> {
        self.followups
            .iter()
            .rev()
            .find(|(u, _)| u == url)
            .map(|(_, r)| r)
    }
}

#[derive(Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(Deserialize)]
struct Interaction {
    request: RecRequest,
    response: RecResponse,
}

#[derive(Deserialize)]
struct RecRequest {
    #[serde(default)]
    body: Yaml,
    method: String,
    uri: String,
}

#[derive(Deserialize)]
struct RecResponse {
    body: RecBody,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    status: RecStatus,
}

#[derive(Deserialize)]
struct RecBody {
    #[serde(default)]
    string: Yaml,
}

#[derive(Deserialize)]
struct RecStatus {
    code: u16,
}

/// Loads (once per directory and process) and indexes every `*.yaml` cassette in `dir`.
pub(crate) fn load(dir: &Path) -> io::Result<Arc<Fixtures>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Fixtures>>>> = OnceLock::new();
    let key = dir.canonicalize()?;
    let cache = CACHE.get_or_init(Default::default);
    if let Some(f) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(f.clone());
    }
    let fixtures = Arc::new(load_uncached(&key)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, fixtures.clone());
    Ok(fixtures)
}

fn load_uncached(dir: &Path) -> io::Result<Fixtures> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no *.yaml cassettes in {}", dir.display()),
        ));
    }
    let mut fx = Fixtures::default();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let cassette: Cassette = serde_yaml::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", file.display()),
            )
        })?;
        let is_image = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("text_to_image"));
        if is_image {
            fx.add_image(&cassette.interactions);
        }
        for it in cassette.interactions {
            fx.add(it);
        }
    }
    Ok(fx)
}

impl Fixtures {
    /// Indexes a recorded generation: its routed POST and the GETs made after it.
    fn add_image(&mut self, interactions: &[Interaction]) {
        let Some(pos) = interactions
            .iter()
            .position(|i| i.request.method == "POST" && i.request.uri.starts_with(ROUTER_HOST))
        else {
            return;
        };
        let post = &interactions[pos];
        let route = post.request.uri[ROUTER_HOST.len()..].trim_start_matches('/');
        let (provider, route) = route.split_once('/').unwrap_or((route, ""));
        let followups = interactions[pos + 1..]
            .iter()
            .filter(|i| i.request.method == "GET")
            .map(|i| (i.request.uri.clone(), picture(to_recorded(&i.response))))
            .collect();
        self.images
            .entry(provider.to_string())
            .or_insert(ImageRecording {
                route: route.split('?').next().unwrap_or_default().to_string(),
                response: picture(to_recorded(&post.response)),
                followups,
            });
    }

    fn add(&mut self, it: Interaction) {
        let recorded = to_recorded(&it.response);
        let (path, query) = match it.request.uri.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (it.request.uri.clone(), None),
        };
        if let Some(id) = path
            .strip_prefix(HUB_HOST)
            .and_then(|p| p.strip_prefix("/api/models/"))
        {
            if it.request.method != "GET" {
                return;
            }
            let expanded = query
                .as_deref()
                .is_some_and(|q| q.contains("inferenceProviderMapping"));
            let entry = self.hub_models.entry(id.to_string()).or_default();
            let slot = if expanded {
                &mut entry.expanded
            } else {
                &mut entry.full
            };
            if slot.as_ref().is_none_or(|old| old.date <= recorded.date) {
                *slot = Some(recorded);
            }
            return;
        }
        let Some(route) = path.strip_prefix(ROUTER_HOST) else {
            return;
        };
        let provider = route
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let request_body = yaml_text(&it.request.body).unwrap_or_default();
        if route.ends_with("/chat/completions") && recorded.status == 200 {
            let body: serde_json::Value =
                serde_json::from_str(&request_body).unwrap_or(serde_json::Value::Null);
            let stream = body["stream"].as_bool().unwrap_or(false);
            let request_model = body["model"].as_str().unwrap_or_default().to_string();
            self.chat
                .entry((provider, stream))
                .or_insert(ChatRecording {
                    request_model,
                    response: recorded.clone(),
                });
        }
        self.routed
            .entry((it.request.method.to_uppercase(), route.to_string()))
            .or_insert(recorded);
    }

    /// The recorded provider mapping of a model, in recorded order.
    pub fn mapping(&self, id: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let rec = self.hub_models.get(id)?.expanded.as_ref()?;
        let v: serde_json::Value = serde_json::from_slice(&rec.body).ok()?;
        v.get("inferenceProviderMapping")?.as_object().cloned()
    }
}

fn to_recorded(r: &RecResponse) -> Recorded {
    const DROP: [&str; 4] = [
        "content-length",
        "transfer-encoding",
        "connection",
        "content-encoding",
    ];
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| !DROP.iter().any(|d| k.eq_ignore_ascii_case(d)))
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
        .collect();
    let date = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| parse_http_date(v))
        .unwrap_or(0);
    Recorded {
        status: r.status.code,
        headers,
        body: yaml_bytes(&r.body.string),
        date,
    }
}

/// serde_yaml reads a `!!binary` body as its base64 text: an image answer is decoded to bytes.
fn picture(mut r: Recorded) -> Recorded {
    let is_image = r
        .header("content-type")
        .is_some_and(|c| c.starts_with("image/"));
    if is_image {
        let compact: String = r
            .body_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(compact) {
            r.body = Bytes::from(b);
        }
    }
    r
}

fn yaml_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Tagged(_) => String::from_utf8(yaml_bytes(v).to_vec()).ok(),
        _ => None,
    }
}

/// A body: plain string, or `!!binary` base64.
fn yaml_bytes(v: &Yaml) -> Bytes {
    match v {
        Yaml::String(s) => Bytes::from(s.clone()),
        Yaml::Tagged(t) => match &t.value {
            Yaml::String(s) => {
                let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map(Bytes::from)
                    .unwrap_or_else(|_| Bytes::from(s.clone()))
            }
            _ => Bytes::new(),
        },
        _ => Bytes::new(),
    }
}

/// Parses an IMF-fixdate (`Thu, 13 Feb 2025 14:37:25 GMT`) into unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace().skip(1);
    let day: u32 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>());
    let (h, m, sec) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    Some(crate::tokens::days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date() {
        assert_eq!(
            parse_http_date("Thu, 13 Feb 2025 14:37:25 GMT"),
            Some(1_739_457_445)
        );
    }
}
