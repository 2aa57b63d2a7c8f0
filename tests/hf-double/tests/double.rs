//! End-to-end tests of the double over real HTTP.

use futures_util::StreamExt;
use hf_double::tokens::{FREE_TOKEN, NO_INFERENCE_TOKEN, PROVIDER_KEY, PRO_TOKEN};
use hf_double::{
    default_fixtures_dir, Fault, FaultKind, HfDouble, Scope, Target, CREDITS_DEPLETED_BODY,
    REMOVED_PROVIDERS,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn double() -> HfDouble {
    HfDouble::start(&default_fixtures_dir())
        .await
        .expect("double starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `data:` payloads of an event-stream body (with or without the space after the colon).
fn data_events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data:"))
        .map(|d| d.trim_start().to_string())
        .collect()
}

fn content_of(events: &[String]) -> String {
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect()
}

fn chat_body(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is deep learning?"}
        ],
        "max_tokens": 20,
        "stream": stream
    })
}

async fn router_chat(d: &HfDouble, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/chat/completions", d.router_url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn free_chat(d: &HfDouble, model: &str, stream: bool) -> reqwest::Response {
    router_chat(d, FREE_TOKEN, &chat_body(model, stream)).await
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

// ------------------------------------------------------------------ hub

#[tokio::test]
async fn whoami_answers_each_known_token() {
    let d = double().await;
    let whoami = |token: Option<&'static str>| {
        let mut req = client().get(format!("{}/api/whoami-v2", d.hub_url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };

    let (status, ada) = whoami(Some(FREE_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(ada["name"], "ada");
    assert_eq!(ada["fullname"], "Ada Lovelace");
    assert_eq!(ada["isPro"], false);
    assert_eq!(ada["canPay"], false);
    assert_eq!(ada["periodEnd"], Value::Null);
    assert_eq!(ada["billingMode"], "prepaid");
    assert_eq!(ada["orgs"], json!([]));
    let token = &ada["auth"]["accessToken"];
    assert_eq!(token["displayName"], "switchboard-test");
    assert_eq!(token["role"], "fineGrained");
    let scoped = &token["fineGrained"]["scoped"][0];
    assert_eq!(scoped["entity"]["type"], "user");
    assert_eq!(scoped["entity"]["name"], "ada");
    assert!(scoped["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("inference.serverless.write")));
    assert_eq!(ada["avatarUrl"], format!("{}/avatars/ada.png", d.url()));

    let (status, grace) = whoami(Some(PRO_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(grace["name"], "grace");
    assert_eq!(grace["isPro"], true);
    assert_eq!(grace["canPay"], true);
    assert_eq!(grace["billingMode"], "postpaid");
    assert!(grace["periodEnd"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(grace["periodEnd"].as_i64().unwrap() % 86_400, 0);
    assert_eq!(grace["auth"]["accessToken"]["role"], "write");
    let orgs = grace["orgs"].as_array().unwrap();
    assert_eq!(orgs[0]["name"], "acme-research");
    assert_eq!(orgs[0]["plan"], "team");
    assert_eq!(orgs[0]["roleInOrg"], "admin");
    assert_eq!(orgs[1]["name"], "oss-club");
    assert!(orgs[1].get("plan").is_none());

    let (status, linus) = whoami(Some(NO_INFERENCE_TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(linus["name"], "linus");
    let perms = linus["auth"]["accessToken"]["fineGrained"]["scoped"][0]["permissions"].clone();
    assert!(!perms
        .as_array()
        .unwrap()
        .contains(&json!("inference.serverless.write")));

    for token in [None, Some("hf_unknownTokenDDDDDDDDDDDDDDDDDDDDDDDD")] {
        let (status, body) = whoami(token).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"error": "Invalid credentials in Authorization header"})
        );
    }

    d.register_token(
        "hf_registeredEEEEEEEEEEEEEEEEEEEEEEEEEE",
        json!({"name": "eve"}),
    );
    let resp = client()
        .get(format!("{}/api/whoami-v2", d.url()))
        .bearer_auth("hf_registeredEEEEEEEEEEEEEEEEEEEEEEEEEE")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["name"], "eve");
}

#[tokio::test]
async fn avatars_are_pngs() {
    let d = double().await;
    let resp = client()
        .get(format!("{}/avatars/grace.png", d.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "image/png");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(d.requests()[0].target, Target::Hub);
}

#[tokio::test]
async fn mapping_lookups_replay_recordings() {
    let d = double().await;
    let get = |path: String| async move {
        let resp = client().get(path).send().await.unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    let (status, v) = get(format!(
        "{}/api/models/meta-llama/Llama-3.3-70B-Instruct?expand=inferenceProviderMapping",
        d.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["id"], "meta-llama/Llama-3.3-70B-Instruct");
    let mapping = v["inferenceProviderMapping"].as_object().unwrap();
    assert_eq!(mapping["cerebras"]["providerId"], "llama-3.3-70b");
    assert_eq!(mapping["cerebras"]["task"], "conversational");

    // `expand[]=` form (as huggingface.js sends it, URL-encoded).
    let (status, v) = get(format!(
        "{}/api/models/meta-llama/Meta-Llama-3-8B-Instruct?expand%5B%5D=inferenceProviderMapping",
        d.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v["inferenceProviderMapping"]["together"]["providerId"],
        "meta-llama/Meta-Llama-3-8B-Instruct-Turbo"
    );

    // A model recorded only as full info: no providers.
    let (status, v) = get(format!(
        "{}/api/models/microsoft/DialoGPT-small?expand=inferenceProviderMapping",
        d.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["inferenceProviderMapping"], json!({}));

    // Without expand: the full recorded model info.
    let (_, v) = get(format!("{}/api/models/microsoft/DialoGPT-small", d.url())).await;
    assert_eq!(v["pipeline_tag"], "text-generation");

    // Extra (synthesized) models have a mapping consistent with /v1/models.
    let (status, v) = get(format!(
        "{}/api/models/openai/gpt-oss-120b?expand=inferenceProviderMapping",
        d.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        v["inferenceProviderMapping"]["groq"]["providerId"],
        "openai/gpt-oss-120b"
    );

    let (status, v) = get(format!("{}/api/models/nobody/nothing", d.url())).await;
    assert_eq!(status, 404);
    assert_eq!(v, json!({"error": "Repository not found"}));
}

// ------------------------------------------------------------------ router catalog

#[tokio::test]
async fn models_list_has_the_documented_shape() {
    let d = double().await;
    let resp = client()
        .get(format!("{}/v1/models", d.router_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "list");
    let data = v["data"].as_array().unwrap();
    let ids: Vec<&str> = data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    for id in [
        "meta-llama/Llama-3.3-70B-Instruct",
        "meta-llama/Llama-3.1-8B-Instruct",
        "openai/gpt-oss-120b",
        "deepseek-ai/DeepSeek-R1",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        "Qwen/Qwen2.5-VL-72B-Instruct",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let mut free = 0;
    let mut errors = 0;
    for m in data {
        assert_eq!(m["object"], "model");
        assert!(m["created"].is_i64());
        assert!(m["owned_by"].is_string());
        // Only the vision model takes pictures (pictures in chat).
        let input = if m["id"] == "Qwen/Qwen2.5-VL-72B-Instruct" {
            json!(["text", "image"])
        } else {
            json!(["text"])
        };
        assert_eq!(m["architecture"]["input_modalities"], input);
        let providers = m["providers"].as_array().unwrap();
        assert!(!providers.is_empty());
        for p in providers {
            let name = p["provider"].as_str().unwrap();
            assert!(!REMOVED_PROVIDERS.contains(&name), "{name} left the router");
            assert!(p["status"] == "live" || p["status"] == "error");
            if p["status"] == "error" {
                errors += 1;
            }
            if let Some(pricing) = p.get("pricing") {
                assert!(pricing["input"].is_number() && pricing["output"].is_number());
            }
            if p.get("is_free") == Some(&json!(true)) {
                free += 1;
            }
        }
    }
    assert_eq!(free, 1);
    assert!(errors >= 1);
    // Deterministic.
    let again: Value = client()
        .get(format!("{}/v1/models", d.router_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, v);

    let one: Value = client()
        .get(format!(
            "{}/v1/models/deepseek-ai/DeepSeek-R1",
            d.router_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], "deepseek-ai/DeepSeek-R1");
    let resp = client()
        .get(format!("{}/v1/models/nobody/nothing", d.router_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

// ------------------------------------------------------------------ routed chat

#[tokio::test]
async fn routed_stream_replays_each_recorded_provider() {
    let d = double().await;
    let providers = [
        ("cerebras", "v1/chat/completions", "llama-3.3-70b"),
        (
            "fireworks-ai",
            "inference/v1/chat/completions",
            "accounts/fireworks/models/llama-v3p3-70b-instruct",
        ),
        (
            "hf-inference",
            "models/meta-llama/Llama-3.1-8B-Instruct/v1/chat/completions",
            "meta-llama/Llama-3.1-8B-Instruct",
        ),
        (
            "hyperbolic",
            "v1/chat/completions",
            "meta-llama/Llama-3.2-3B-Instruct",
        ),
        (
            "nebius",
            "v1/chat/completions",
            "meta-llama/Meta-Llama-3.1-8B-Instruct-fast",
        ),
        (
            "novita",
            "v3/openai/chat/completions",
            "meta-llama/llama-3.1-8b-instruct",
        ),
        (
            "sambanova",
            "v1/chat/completions",
            "Meta-Llama-3.1-8B-Instruct",
        ),
        (
            "together",
            "v1/chat/completions",
            "meta-llama/Meta-Llama-3-8B-Instruct-Turbo",
        ),
    ];
    let mut request_ids = HashSet::new();
    for (provider, route, model) in providers {
        let resp = client()
            .post(format!("{}/{provider}/{route}", d.router_url()))
            .bearer_auth(FREE_TOKEN)
            .json(&chat_body(model, true))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{provider}");
        assert_eq!(header(&resp, "x-inference-provider"), provider);
        assert!(header(&resp, "content-type").starts_with("text/event-stream"));
        let rid = header(&resp, "x-request-id");
        assert!(rid.starts_with("Root=1-"), "{rid}");
        assert!(request_ids.insert(rid), "x-request-id must be unique");
        let body = resp.text().await.unwrap();
        let events = data_events(&body);
        assert!(events.len() > 2, "{provider}: {body}");
        let (last, chunks) = match events.split_last() {
            Some((last, rest)) if last == "[DONE]" => (rest.last().unwrap().clone(), rest),
            // Recorded quirk: cerebras's stream ends on its usage chunk, without [DONE].
            Some((last, _)) if provider == "cerebras" => (last.clone(), &events[..]),
            _ => panic!("{provider}: stream does not end with [DONE]: {body}"),
        };
        for c in chunks {
            let v: Value = serde_json::from_str(c).unwrap_or_else(|e| panic!("{provider}: {e}"));
            assert_eq!(v["object"], "chat.completion.chunk");
            assert_eq!(v["model"], model);
        }
        let last: Value = serde_json::from_str(&last).unwrap();
        assert!(
            last["choices"][0]["finish_reason"].is_string(),
            "{provider}"
        );
        assert!(!content_of(chunks).is_empty());
    }
    assert!(d
        .stream_outcomes()
        .iter()
        .all(|o| o.completed && !o.client_disconnected));
}

#[tokio::test]
async fn router_chat_picks_provider_and_rewrites_model() {
    let d = double().await;

    // Pinned provider with a recording.
    let resp = free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct:cerebras", false).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-inference-provider"), "cerebras");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["model"], "llama-3.3-70b");
    assert!(v["time_info"].is_object(), "provider quirks are kept");

    // Policies: first live provider of the catalog.
    for suffix in ["", ":fastest", ":cheapest", ":preferred"] {
        let resp = free_chat(
            &d,
            &format!("meta-llama/Llama-3.3-70B-Instruct{suffix}"),
            false,
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-inference-provider"), "fireworks-ai");
    }

    // No recording for groq: together's recording, reported as groq's model id.
    let resp = free_chat(&d, "openai/gpt-oss-120b:groq", true).await;
    assert_eq!(header(&resp, "x-inference-provider"), "groq");
    let events = data_events(&resp.text().await.unwrap());
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(first["model"], "openai/gpt-oss-120b");
    assert_eq!(events.last().unwrap(), "[DONE]");

    // include_usage appends a usage chunk where the recording has none (hf-inference).
    let mut body = chat_body("meta-llama/Llama-3.1-8B-Instruct:hf-inference", true);
    body["stream_options"] = json!({"include_usage": true});
    let resp = router_chat(&d, FREE_TOKEN, &body).await;
    let events = data_events(&resp.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // Unknown model, provider not serving it, provider in error.
    let resp = free_chat(&d, "nobody/nothing", false).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "Model nobody/nothing does not exist"})
    );
    let resp = free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct:groq", false).await;
    assert_eq!(resp.status(), 400);
    let resp = free_chat(&d, "deepseek-ai/DeepSeek-R1:novita", false).await;
    assert_eq!(resp.status(), 503);
}

#[tokio::test]
async fn router_checks_credentials_and_billing() {
    let d = double().await;
    let body = chat_body("meta-llama/Llama-3.3-70B-Instruct", false);

    for token in ["hf_unknownTokenDDDDDDDDDDDDDDDDDDDDDDDD", PROVIDER_KEY] {
        let resp = router_chat(&d, token, &body).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({"error": "Invalid credentials in Authorization header"})
        );
    }
    let resp = router_chat(&d, NO_INFERENCE_TOKEN, &body).await;
    assert_eq!(resp.status(), 403);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("on behalf of user linus"));

    let bill = |org: &'static str| {
        client()
            .post(format!("{}/v1/chat/completions", d.router_url()))
            .bearer_auth(PRO_TOKEN)
            .header("X-HF-Bill-To", org)
            .json(&body)
            .send()
    };
    assert_eq!(bill("acme-research").await.unwrap().status(), 200);
    assert_eq!(bill("oss-club").await.unwrap().status(), 402);
    assert_eq!(bill("not-my-org").await.unwrap().status(), 403);
    let billed = d
        .requests()
        .into_iter()
        .filter_map(|r| r.header("x-hf-bill-to").map(String::from))
        .collect::<Vec<_>>();
    assert_eq!(billed, ["acme-research", "oss-club", "not-my-org"]);
}

// ------------------------------------------------------------------ direct

#[tokio::test]
async fn direct_endpoints_take_provider_keys_only() {
    let d = double().await;
    let url = format!("{}/v1/chat/completions", d.provider_base("together"));
    assert_eq!(
        d.provider_base_template().replace("{provider}", "together"),
        d.provider_base("together")
    );
    let body = chat_body("meta-llama/Meta-Llama-3-8B-Instruct-Turbo", false);

    let resp = client()
        .post(&url)
        .bearer_auth(FREE_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid API key"));

    let resp = client()
        .post(&url)
        .bearer_auth(PROVIDER_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-inference-provider").is_none());
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["model"], "meta-llama/Meta-Llama-3-8B-Instruct-Turbo");
    assert_eq!(v["object"], "chat.completion");

    // Wrong chat route for the provider.
    let resp = client()
        .post(format!("{}/v1/chat/completions", d.provider_base("groq")))
        .bearer_auth(PROVIDER_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // fal-ai uses `Key <key>`.
    let fal = format!("{}/fal-ai/flux/dev", d.provider_base("fal-ai"));
    let prompt = json!({"prompt": "a lighthouse"});
    let resp = client()
        .post(&fal)
        .bearer_auth(PROVIDER_KEY)
        .json(&prompt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client()
        .post(&fal)
        .header("Authorization", format!("Key {PROVIDER_KEY}"))
        .json(&prompt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Which credential went where.
    let reqs = d.requests();
    let auths: Vec<(Target, Option<&str>)> = reqs
        .iter()
        .map(|r| (r.target.clone(), r.header("authorization")))
        .collect();
    let together = Target::Direct {
        provider: "together".into(),
    };
    assert_eq!(
        auths[0],
        (
            together.clone(),
            Some(format!("Bearer {FREE_TOKEN}").as_str())
        )
    );
    assert_eq!(
        auths[1],
        (together, Some(format!("Bearer {PROVIDER_KEY}").as_str()))
    );
    assert_eq!(reqs[1].credential(), Some(PROVIDER_KEY));
    assert_eq!(
        reqs[1].json().unwrap()["model"],
        "meta-llama/Meta-Llama-3-8B-Instruct-Turbo"
    );
    assert_eq!(reqs[1].path, "/direct/together/v1/chat/completions");
}

#[tokio::test]
async fn requests_record_authorization_per_target() {
    let d = double().await;
    free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct", false).await;
    client()
        .get(format!("{}/api/whoami-v2?x=1", d.url()))
        .bearer_auth(PRO_TOKEN)
        .send()
        .await
        .unwrap();
    let reqs = d.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].target, Target::Router);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/router/v1/chat/completions");
    assert_eq!(
        reqs[0].header("Authorization"),
        Some(format!("Bearer {FREE_TOKEN}").as_str())
    );
    assert!(reqs[0]
        .headers
        .iter()
        .all(|(k, _)| k == &k.to_ascii_lowercase()));
    assert_eq!(reqs[1].target, Target::Hub);
    assert_eq!(reqs[1].query.as_deref(), Some("x=1"));
    assert_eq!(reqs[1].credential(), Some(PRO_TOKEN));
    d.clear_requests();
    assert!(d.requests().is_empty());
}

// ------------------------------------------------------------------ status faults

#[tokio::test]
async fn status_faults_use_the_real_bodies() {
    let d = double().await;
    let model = "meta-llama/Llama-3.3-70B-Instruct";

    d.push_fault(Fault::unauthorized().once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"error":"Invalid credentials in Authorization header"}"#
    );

    d.push_fault(Fault::invalid_username_or_password().once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"error":"Invalid username or password."}"#
    );

    d.push_fault(Fault::credits_depleted().once());
    let resp = free_chat(&d, model, true).await;
    assert_eq!(resp.status(), 402);
    assert!(header(&resp, "x-request-id").starts_with("Root=1-"));
    assert_eq!(resp.text().await.unwrap(), CREDITS_DEPLETED_BODY);

    d.push_fault(Fault::forbidden().once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "This authentication method does not have sufficient permissions to call Inference Providers on behalf of user ada"
    );

    d.push_fault(Fault::rate_limited(7).once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "retry-after"), "7");
    assert_eq!(header(&resp, "ratelimit"), r#""api";r=0;t=7"#);

    d.push_fault(Fault::server_error(503).once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 503);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], format!("Model {model} is currently loading"));
    assert!(v["estimated_time"].is_number());

    d.push_fault(Fault::html_page(502).once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 502);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("<HTML>"));

    d.push_fault(Fault::garbage().once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 200);
    assert!(serde_json::from_str::<Value>(&resp.text().await.unwrap()).is_err());

    d.push_fault(Fault::unprocessable().once());
    let resp = free_chat(&d, model, false).await;
    assert_eq!(resp.status(), 422);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());

    d.push_fault(Fault::model_not_supported().once());
    let resp = free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct:novita", false).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "Model meta-llama/Llama-3.3-70B-Instruct is not supported by provider novita"
    );

    assert!(d.faults().is_empty(), "each fault was used once");
    assert_eq!(free_chat(&d, model, false).await.status(), 200);
}

#[tokio::test]
async fn faults_match_scope_and_count_down() {
    let d = double().await;
    let model = "meta-llama/Llama-3.3-70B-Instruct";
    d.push_fault(Fault::server_error(500).scope(Scope::Whoami).times(2));
    d.push_fault(Fault::rate_limited(1).scope(Scope::Models));
    d.push_fault(
        Fault::status(418, r#"{"error":"teapot"}"#)
            .scope(Scope::Mapping)
            .once(),
    );

    // Chat is not affected by those scopes.
    assert_eq!(free_chat(&d, model, false).await.status(), 200);

    let whoami = || {
        client()
            .get(format!("{}/api/whoami-v2", d.url()))
            .bearer_auth(FREE_TOKEN)
            .send()
    };
    assert_eq!(whoami().await.unwrap().status(), 500);
    assert_eq!(whoami().await.unwrap().status(), 500);
    assert_eq!(whoami().await.unwrap().status(), 200);

    let models = || client().get(format!("{}/v1/models", d.router_url())).send();
    for _ in 0..3 {
        assert_eq!(models().await.unwrap().status(), 429, "until cleared");
    }
    let mapping = client()
        .get(format!("{}/api/models/{model}", d.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(mapping.status(), 418);

    d.clear_faults();
    assert_eq!(models().await.unwrap().status(), 200);

    // Scope::Any hits the Hub too; `Answer` is skipped for non-chat requests.
    d.push_fault(Fault::answer("hi").scope(Scope::Any).once());
    d.push_fault(Fault::unauthorized().scope(Scope::Any).once());
    assert_eq!(whoami().await.unwrap().status(), 401);
    let resp = free_chat(&d, model, false).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "hi");
}

// ------------------------------------------------------------------ stream faults

#[tokio::test]
async fn cut_stream_drops_the_connection_without_done() {
    let d = double().await;
    d.push_fault(Fault::cut_stream(3).once());
    let resp = free_chat(&d, "meta-llama/Meta-Llama-3-8B-Instruct:together", true).await;
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut body = Vec::new();
    let mut failed = false;
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => body.extend_from_slice(&b),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the client sees a broken body");
    let events = data_events(&String::from_utf8(body).unwrap());
    assert_eq!(events.len(), 3);
    assert!(!events.contains(&"[DONE]".to_string()));
    let outcome = d
        .wait_for_stream_outcome(|o| o.chunks_sent == 3, WAIT)
        .await
        .unwrap();
    assert!(!outcome.completed);
}

#[tokio::test]
async fn malformed_and_error_events_arrive_inside_a_200_stream() {
    let d = double().await;
    let model = "meta-llama/Meta-Llama-3-8B-Instruct:together";

    d.push_fault(Fault::malformed_event(2).once());
    let body = free_chat(&d, model, true).await.text().await.unwrap();
    let events = data_events(&body);
    assert_eq!(events[2], "{not json");
    assert_eq!(events.last().unwrap(), "[DONE]");

    let payload = r#"{"error":"Internal error","error_type":"overloaded"}"#;
    d.push_fault(Fault::error_event(4, payload).once());
    let resp = free_chat(&d, model, true).await;
    assert_eq!(resp.status(), 200);
    let events = data_events(&resp.text().await.unwrap());
    assert_eq!(events.len(), 5);
    assert_eq!(events[4], payload);
    assert_eq!(content_of(&events[..4]), "Deep learning is a");
}

#[tokio::test]
async fn long_stream_and_answer_are_synthesized() {
    let d = double().await;
    d.push_fault(Fault::long_stream(500, 0).once());
    let mut body = chat_body("openai/gpt-oss-120b", true);
    body["stream_options"] = json!({"include_usage": true});
    let resp = router_chat(&d, FREE_TOKEN, &body).await;
    let events = data_events(&resp.text().await.unwrap());
    assert_eq!(events.len(), 502);
    assert_eq!(events[501], "[DONE]");
    let usage: Value = serde_json::from_str(&events[500]).unwrap();
    assert_eq!(usage["usage"]["completion_tokens"], 500);
    let chunk: Value = serde_json::from_str(&events[10]).unwrap();
    assert_eq!(chunk["object"], "chat.completion.chunk");
    assert!(
        chunk["choices"][0]["delta"]["token_id"].is_number(),
        "together's shape"
    );

    let xss = "<think>plan</think><script>alert(1)</script> done";
    d.push_fault(Fault::answer(xss).times(2));
    let events = data_events(
        &free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct", true)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(events.len() > 5, "split into small chunks");
    assert_eq!(content_of(&events), xss);
    let v: Value = free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct", false)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], xss);
}

#[tokio::test]
async fn hang_never_answers() {
    let d = double().await;
    d.push_fault(Fault::hang().once());
    let short = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = short
        .post(format!("{}/v1/chat/completions", d.router_url()))
        .bearer_auth(FREE_TOKEN)
        .json(&chat_body("meta-llama/Llama-3.3-70B-Instruct", false))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(
        free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct", false)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn client_disconnect_mid_slow_stream_is_detected() {
    let d = double().await;
    d.push_fault(Fault::slow_stream(40).once());
    let resp = free_chat(&d, "meta-llama/Meta-Llama-3-8B-Instruct", true).await;
    let mut stream = resp.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(stream); // "Stop": the client closes the connection.

    let index = d.requests()[0].index;
    let outcome = d
        .wait_for_stream_outcome(|o| o.request_index == index && o.client_disconnected, WAIT)
        .await
        .expect("disconnect detected");
    assert!(!outcome.completed);
    assert!(outcome.chunks_sent >= 1 && outcome.chunks_sent < 10);

    // A slow stream read to the end completes.
    d.push_fault(Fault::slow_stream(1).once());
    let body = free_chat(&d, "meta-llama/Meta-Llama-3-8B-Instruct", true)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.ends_with("data: [DONE]\n\n"));
    let done = d
        .wait_for_stream_outcome(|o| o.completed, WAIT)
        .await
        .unwrap();
    assert!(!done.client_disconnected);
}

// ------------------------------------------------------------------ control & modes

#[tokio::test]
async fn control_routes_drive_the_double_over_http() {
    let d = double().await;
    let ctl = |p: &str| format!("{}/__double/{p}", d.url());
    let resp = client()
        .post(ctl("faults"))
        .json(&json!({"scope": "chat", "kind": "status", "code": 402, "body": CREDITS_DEPLETED_BODY, "times": 1}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert!(matches!(
        d.faults()[0].kind,
        FaultKind::Status { code: 402, .. }
    ));
    assert_eq!(
        free_chat(&d, "meta-llama/Llama-3.3-70B-Instruct", false)
            .await
            .status(),
        402
    );

    let reqs: Value = client()
        .get(ctl("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reqs = reqs.as_array().unwrap();
    assert_eq!(reqs.len(), 1, "control routes are not recorded");
    assert_eq!(reqs[0]["target"], json!({"type": "router"}));

    client()
        .post(ctl("faults"))
        .json(&json!({"scope": "any", "kind": "hang"}))
        .send()
        .await
        .unwrap();
    client().delete(ctl("faults")).send().await.unwrap();
    assert!(d.faults().is_empty());
    client().delete(ctl("requests")).send().await.unwrap();
    assert!(d.requests().is_empty());
    let streams: Value = client()
        .get(ctl("streams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(streams, json!([]));
}

#[tokio::test]
async fn wait_for_request_sees_later_requests() {
    let d = double().await;
    let url = d.url();
    let task = tokio::spawn(async move {
        client()
            .get(format!("{url}/api/whoami-v2"))
            .bearer_auth(PRO_TOKEN)
            .send()
            .await
            .unwrap()
            .status()
    });
    let r = d
        .wait_for_request(|r| r.path == "/api/whoami-v2", WAIT)
        .await
        .expect("request seen");
    assert_eq!(r.credential(), Some(PRO_TOKEN));
    assert_eq!(task.await.unwrap(), 200);
    assert!(d
        .wait_for_request(|r| r.path == "/never", Duration::from_millis(50))
        .await
        .is_none());
}

#[test]
fn start_blocking_serves_sync_callers() {
    let d = HfDouble::start_blocking(&default_fixtures_dir()).unwrap();
    let resp = reqwest::blocking::Client::new()
        .get(format!("{}/api/whoami-v2", d.url()))
        .bearer_auth(FREE_TOKEN)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let r = d
        .wait_for_request_blocking(|r| r.target == Target::Hub, WAIT)
        .unwrap();
    assert_eq!(r.credential(), Some(FREE_TOKEN));
    let url = d.url();
    d.shutdown();
    assert!(reqwest::blocking::Client::new()
        .get(format!("{url}/api/whoami-v2"))
        .timeout(Duration::from_secs(2))
        .send()
        .is_err());
}

#[test]
fn binary_prints_its_url_and_stops_when_stdin_closes() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hf-double"))
        .arg("--fixtures")
        .arg(default_fixtures_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("HF_DOUBLE_URL=http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let resp = reqwest::blocking::get(format!("{url}/router/v1/models")).unwrap();
    assert_eq!(resp.status(), 200);
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
}

/// The raw body of a streamed routed chat answer, as bytes on the wire.
async fn raw_stream(d: &HfDouble, model: &str) -> String {
    let resp = router_chat(d, PRO_TOKEN, &chat_body(model, true)).await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

#[tokio::test]
async fn unended_stream_ends_without_done_and_without_a_blank_line() {
    let d = double().await;
    let model = "meta-llama/Llama-3.3-70B-Instruct:cerebras";
    for line_end in [true, false] {
        d.push_fault(Fault::unended_stream(line_end).once());
        let body = raw_stream(&d, model).await;
        assert!(!body.contains("[DONE]"), "{body}");
        assert!(
            !body.ends_with("\n\n"),
            "no blank line after the last event"
        );
        assert_eq!(body.ends_with("}\n"), line_end, "{line_end}");
        assert!(body.ends_with('}') || body.ends_with("}\n"));
        // The last event carries the finish reason and usage, as the recorded cerebras one does.
        let last = body.trim_end().rsplit("\n\n").next().unwrap();
        let v: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        assert!(v["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    }
    // Without the fault, the same stream ends with a blank line.
    assert!(raw_stream(&d, model).await.ends_with("\n\n"));
}

#[tokio::test]
async fn redirects_point_elsewhere() {
    let d = double().await;
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (code, location) in [
        (307, "https://elsewhere.example/v1/chat/completions"),
        (308, "http://plain.example/v1/chat/completions"),
    ] {
        d.push_fault(Fault::redirect(code, location).scope(Scope::Chat).once());
        let resp = no_follow
            .post(format!("{}/v1/chat/completions", d.router_url()))
            .bearer_auth(PRO_TOKEN)
            .json(&chat_body("meta-llama/Llama-3.3-70B-Instruct", true))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), code);
        assert_eq!(header(&resp, "location"), location);
    }
    d.push_fault(
        Fault::redirect(302, "http://other.example/api/whoami-v2")
            .scope(Scope::Whoami)
            .once(),
    );
    let resp = no_follow
        .get(format!("{}/api/whoami-v2", d.hub_url()))
        .bearer_auth(PRO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
}

#[tokio::test]
async fn echoed_credentials_quote_the_key_sent() {
    let d = double().await;
    let key = "r8_EchoedKey0123456789abcdefABCDEF";
    for (fault, quoted) in [
        (Fault::echo_credential(), key.to_string()),
        (Fault::echo_credential_fragment(12), key[11..23].to_string()),
    ] {
        d.push_fault(fault.once());
        let resp = client()
            .post(format!(
                "{}/v1/chat/completions",
                d.provider_base("together")
            ))
            .bearer_auth(key)
            .json(&chat_body("m", false))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
        let body = resp.text().await.unwrap();
        assert!(body.contains(&quoted), "{body}");
        if quoted != key {
            assert!(!body.contains(key));
        }
    }
}

#[tokio::test]
async fn oversized_bodies_are_as_big_as_asked() {
    let d = double().await;
    let bytes = 3 * 1024 * 1024 + 17;
    d.push_fault(Fault::oversized(bytes).scope(Scope::Avatar).once());
    let resp = client()
        .get(format!("{}/avatars/alice.png", d.hub_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "content-type"), "image/png");
    assert_eq!(resp.bytes().await.unwrap().len(), bytes);

    d.push_fault(Fault::oversized(bytes).scope(Scope::Chat).once());
    let resp = router_chat(
        &d,
        PRO_TOKEN,
        &chat_body("meta-llama/Llama-3.3-70B-Instruct", false),
    )
    .await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .len(),
        bytes
    );

    d.push_fault(Fault::oversized(bytes).scope(Scope::Chat).once());
    let body = raw_stream(&d, "meta-llama/Llama-3.3-70B-Instruct").await;
    let events = data_events(&body);
    assert!(content_of(&events).len() >= bytes);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    // Every planned chunk went out.
    d.wait_for_stream_outcome(|o| o.completed, WAIT)
        .await
        .unwrap();
}

// ---------------------------------------------------------------- billing

async fn get_billing(d: &HfDouble, token: &str, path_and_query: &str) -> reqwest::Response {
    client()
        .get(format!(
            "{}/api/settings/billing/{path_and_query}",
            d.hub_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The current month, as usage-v2 wants it: unix seconds.
fn period_secs() -> (i64, i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (
        hf_double::tokens::start_of_month(now),
        hf_double::tokens::start_of_next_month(now),
    )
}

async fn usage(d: &HfDouble, token: &str) -> Value {
    let (start, end) = period_secs();
    let resp = get_billing(
        d,
        token,
        &format!("usage-v2?startDate={start}&endDate={end}"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["usage"]["inferenceProviders"].clone()
}

async fn sessions(d: &HfDouble, token: &str) -> Vec<Value> {
    let (start, end) = period_secs();
    let q = format!(
        "usage-by-inference-session?startDate={}&endDate={}",
        hf_double::tokens::iso_from_unix(start),
        hf_double::tokens::iso_from_unix(end)
    );
    let resp = get_billing(d, token, &q).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["periods"][0]["sessions"].as_array().cloned().unwrap()
}

#[tokio::test]
async fn usage_v2_reports_each_account_variant() {
    use hf_double::tokens::*;
    let d = double().await;
    let cases: [(&str, i64, Option<i64>, i64); 5] = [
        (FREE_TOKEN, 100_000_000, None, 0),
        (FREE_ZERO_TOKEN, 0, None, 0),
        (PRO_TOKEN, 2_000_000_000, None, 350_000_000),
        (
            PRO_OVER_TOKEN,
            2_000_000_000,
            Some(10_000_000_000),
            2_750_000_000,
        ),
        (ORG_MEMBER_TOKEN, 100_000_000, None, 0),
    ];
    for (token, included, limit, used) in cases {
        let u = usage(&d, token).await;
        assert_eq!(u["includedNanoUsd"], included, "{u}");
        assert_eq!(u["limitNanoUsd"].as_i64(), limit, "{u}");
        assert_eq!(u["usedNanoUsd"], used, "{u}");
        assert!(u["numRequests"].is_u64(), "{u}");
        let start = tokens_iso(&u["periodStart"]);
        let end = tokens_iso(&u["periodEnd"]);
        assert_eq!((start, end), period_secs());
    }
    // The PRO account over its included credits: billable = used − included.
    let over = usage(&d, PRO_OVER_TOKEN).await;
    assert!(over["usedNanoUsd"].as_i64() > over["includedNanoUsd"].as_i64());
}

fn tokens_iso(v: &Value) -> i64 {
    hf_double::tokens::unix_from_iso(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn usage_moves_with_routed_calls_but_not_org_billed_or_direct_ones() {
    use hf_double::tokens::*;
    let d = double().await;
    let before = usage(&d, FREE_TOKEN).await;
    for _ in 0..2 {
        let resp = free_chat(&d, "meta-llama/Llama-3.1-8B-Instruct", false).await;
        assert_eq!(resp.status(), 200);
    }
    let after = usage(&d, FREE_TOKEN).await;
    assert_eq!(
        after["usedNanoUsd"].as_i64().unwrap() - before["usedNanoUsd"].as_i64().unwrap(),
        2 * CALL_COST_NANO_USD
    );
    assert_eq!(
        after["numRequests"].as_u64().unwrap() - before["numRequests"].as_u64().unwrap(),
        2
    );
    // Another account's figures do not move.
    assert_eq!(usage(&d, PRO_TOKEN).await["usedNanoUsd"], 350_000_000);
    // A call billed to an organisation is not the member's usage.
    let resp = client()
        .post(format!("{}/v1/chat/completions", d.router_url()))
        .bearer_auth(ORG_MEMBER_TOKEN)
        .header("x-hf-bill-to", "acme-research")
        .json(&chat_body("meta-llama/Llama-3.1-8B-Instruct", false))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(usage(&d, ORG_MEMBER_TOKEN).await["usedNanoUsd"], 0);
    assert_eq!(d.billed_calls(), 3);
}

#[tokio::test]
async fn session_costs_appear_after_the_settle_delay() {
    use hf_double::tokens::*;
    let d = double().await;
    d.set_settle_delay(Duration::from_millis(300));
    for session in ["conv-a", "conv-a", "conv-b"] {
        let resp = client()
            .post(format!("{}/v1/chat/completions", d.router_url()))
            .bearer_auth(FREE_TOKEN)
            .header("x-hf-session-id", session)
            .json(&chat_body("meta-llama/Llama-3.1-8B-Instruct", false))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert!(sessions(&d, FREE_TOKEN).await.is_empty(), "not settled yet");
    let deadline = tokio::time::Instant::now() + WAIT;
    let settled = loop {
        let s = sessions(&d, FREE_TOKEN).await;
        if !s.is_empty() {
            break s;
        }
        assert!(tokio::time::Instant::now() < deadline, "never settled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(settled.len(), 2, "{settled:?}");
    let a = settled.iter().find(|s| s["id"] == "conv-a").unwrap();
    assert_eq!(a["requestCount"], 2);
    assert!(
        (a["costCents"].as_f64().unwrap() - 0.36).abs() < 1e-9,
        "{a}"
    );
    // Only the token's own sessions.
    assert!(sessions(&d, PRO_TOKEN).await.is_empty());
}

#[tokio::test]
async fn billing_faults() {
    use hf_double::tokens::*;
    let d = double().await;
    let (start, end) = period_secs();
    // No billing access.
    let resp = get_billing(
        &d,
        NO_BILLING_TOKEN,
        &format!("usage-v2?startDate={start}&endDate={end}"),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = get_billing(
        &d,
        NO_BILLING_TOKEN,
        "usage-by-inference-session?startDate=2026-01-01&endDate=2026-02-01",
    )
    .await;
    assert_eq!(resp.status(), 403);
    // Milliseconds instead of seconds.
    let resp = get_billing(
        &d,
        FREE_TOKEN,
        &format!("usage-v2?startDate={}&endDate={}", start * 1000, end * 1000),
    )
    .await;
    assert_eq!(resp.status(), 500);
    // Unknown token.
    let resp = get_billing(
        &d,
        "hf_unknownToken123456",
        &format!("usage-v2?startDate={start}&endDate={end}"),
    )
    .await;
    assert_eq!(resp.status(), 401);
    // 429 with RateLimit, through a billing-scoped fault that chat calls do not take.
    d.push_fault(Fault::rate_limited(42).scope(Scope::Billing).once());
    assert_eq!(
        free_chat(&d, "meta-llama/Llama-3.1-8B-Instruct", false)
            .await
            .status(),
        200
    );
    let resp = get_billing(
        &d,
        FREE_TOKEN,
        &format!("usage-v2?startDate={start}&endDate={end}"),
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "ratelimit"), r#""api";r=0;t=42"#);
    assert_eq!(
        get_billing(
            &d,
            FREE_TOKEN,
            &format!("usage-v2?startDate={start}&endDate={end}")
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn routed_answers_carry_estimated_cost_when_told() {
    let d = double().await;
    let model = "meta-llama/Llama-3.1-8B-Instruct";
    let plain: Value = free_chat(&d, model, false).await.json().await.unwrap();
    assert!(plain["usage"].get("estimated_cost").is_none());
    d.set_estimated_cost(true);
    let whole: Value = free_chat(&d, model, false).await.json().await.unwrap();
    assert_eq!(whole["usage"]["estimated_cost"], 0.0018);
    let mut body = chat_body(model, true);
    body["stream_options"] = json!({"include_usage": true});
    let text = router_chat(&d, FREE_TOKEN, &body)
        .await
        .text()
        .await
        .unwrap();
    let events = data_events(&text);
    assert!(
        events
            .iter()
            .any(|e| e.contains("\"estimated_cost\":0.0018")),
        "{text}"
    );
    // Direct calls never do.
    let resp = client()
        .post(format!(
            "{}/v1/chat/completions",
            d.provider_base("together")
        ))
        .bearer_auth(hf_double::tokens::PROVIDER_KEY)
        .json(&chat_body("meta-llama/Llama-3.1-8B-Instruct-Turbo", false))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert!(v["usage"].get("estimated_cost").is_none(), "{v}");
}
