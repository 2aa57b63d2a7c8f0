//! Billing truth against the HF test double: the usage client and its failures, the cached
//! meter, the session header on routed calls only, the billed cost of a conversation once the
//! double settles it, and the router's estimate on the call. No token in any log line.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hf_double::tokens::{self, CALL_COST_NANO_USD};
use hf_double::{Fault, Scope};
use switchboard_core::call::{Outcome, Routing};
use switchboard_core::config::Endpoints;
use switchboard_core::error::{AppError, ErrorCode};
use switchboard_core::hf::usage::{AccountUsage, NANO_PER_USD};
use switchboard_core::hf::HfClient;
use switchboard_core::history::ledger::{to_csv, CallQuery};
use switchboard_core::providers::{provider_key_entry, ProviderMode, ProviderPref, ProviderPrefs};
use switchboard_core::secrets::{Secret, Storage};

mod support;
use support::{auto, endpoints, request, services_on_double, OnDouble};

const WAIT: Duration = Duration::from_secs(10);
const ALL_TOKENS: [&str; 7] = [
    tokens::FREE_TOKEN,
    tokens::PRO_TOKEN,
    tokens::NO_INFERENCE_TOKEN,
    tokens::FREE_ZERO_TOKEN,
    tokens::PRO_OVER_TOKEN,
    tokens::ORG_MEMBER_TOKEN,
    tokens::NO_BILLING_TOKEN,
];

// ------------------------------------------------------------ every log line, kept

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn logs() -> &'static Capture {
    static LOGS: OnceLock<&'static Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

/// No token, nor a long piece of one, in any line logged so far or in `errors`.
fn assert_no_token_anywhere(errors: &[&AppError]) {
    let lines = logs().0.lock().unwrap().clone();
    let texts = lines
        .iter()
        .cloned()
        .chain(errors.iter().map(|e| e.message.clone()));
    for text in texts {
        for t in ALL_TOKENS {
            assert!(!text.contains(&t[..16]), "a token in: {text}");
            assert!(!text.contains(&t[8..]), "a token in: {text}");
        }
    }
}

// ------------------------------------------------------------ fixture

type Fixture = OnDouble;

async fn fixture(token: &str) -> Fixture {
    logs();
    services_on_double(token).await
}

impl Fixture {
    /// A call in conversation `conv` (new if `None`), pane `pane`, once saved and recorded.
    async fn call(
        &self,
        conv: Option<String>,
        pane: Option<u32>,
        routing: Routing,
    ) -> (String, switchboard_core::call::CallResult) {
        let (started, task) = self
            .services
            .chat_call(conv, pane, request(routing), Box::new(|_| {}))
            .await
            .unwrap();
        let result = task.await.unwrap();
        assert_eq!(result.outcome, Outcome::Complete, "{:?}", result.error);
        (started.conversation_id.unwrap(), result)
    }

    fn chat_requests(&self) -> Vec<hf_double::RecordedRequest> {
        self.double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }

    fn own_key(&self, provider: &str) {
        let mut prefs = ProviderPrefs::load(&*self.store);
        prefs.providers.insert(
            provider.into(),
            ProviderPref {
                enabled: true,
                mode: ProviderMode::OwnKey,
            },
        );
        prefs.save(&*self.store).unwrap();
        self.services
            .secrets
            .set(
                &provider_key_entry(provider),
                &Secret::new(tokens::PROVIDER_KEY.into()),
                Storage::Session,
            )
            .unwrap();
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn usd(n: f64) -> i64 {
    (n * NANO_PER_USD as f64).round() as i64
}

// ------------------------------------------------------------ the usage client

#[tokio::test]
async fn usage_figures_of_each_account_variant() {
    let f = fixture(tokens::FREE_TOKEN).await;
    // (token, included, limit, used before any call)
    let cases: [(&str, i64, Option<i64>, i64); 5] = [
        (tokens::FREE_TOKEN, usd(0.10), None, 0),
        (tokens::FREE_ZERO_TOKEN, 0, None, 0),
        (tokens::PRO_TOKEN, usd(2.0), None, usd(0.35)),
        (tokens::PRO_OVER_TOKEN, usd(2.0), Some(usd(10.0)), usd(2.75)),
        (tokens::ORG_MEMBER_TOKEN, usd(0.10), None, 0),
    ];
    for (token, included, limit, used) in cases {
        f.services.sign_in(token.to_string(), true).await.unwrap();
        let report = f.services.account_usage().await.unwrap();
        assert_eq!(report.stale_because, None);
        assert_eq!(report.age_secs, 0);
        let u: AccountUsage = report.usage;
        assert_eq!(u.included_nano_usd, included, "{token:.12}");
        assert_eq!(u.limit_nano_usd, limit);
        assert_eq!(u.used_nano_usd, used);
        let (start, end) = (u.period_start.unwrap(), u.period_end.unwrap());
        assert!(start <= now_secs() && now_secs() < end);
        // The meter's estimate counts from Hugging Face's included credits, not the plan table.
        let meter = f.services.credit_status().unwrap();
        assert!(meter.included_from_hf, "{token:.12}");
        assert_eq!(usd(meter.included), included, "{token:.12}");
    }
    // Another account's figures are never this one's: the plan table until it answers.
    f.services
        .sign_in(tokens::NO_BILLING_TOKEN.into(), true)
        .await
        .unwrap();
    let meter = f.services.credit_status().unwrap();
    assert!(!meter.included_from_hf);
    assert_eq!(meter.included, meter.plans.free);
    // $0 included is a figure, not an error; the PRO account past its credits has its room
    // under the limit and a billable amount.
    let client = HfClient::new(endpoints(&f.double)).unwrap();
    let over = client
        .usage(
            &Secret::new(tokens::PRO_OVER_TOKEN.into()),
            now_secs() - 86_400,
            now_secs() + 60,
        )
        .await
        .unwrap();
    assert_eq!(over.included_left_nano_usd(), 0);
    assert_eq!(over.billable_nano_usd(), usd(0.75));
    assert_eq!(over.limit_left_nano_usd(), Some(usd(7.25)));
    assert_no_token_anywhere(&[]);
}

#[tokio::test]
async fn the_meter_moves_by_what_hugging_face_reports_after_two_routed_calls() {
    let f = fixture(tokens::FREE_TOKEN).await;
    let before = f.services.account_usage().await.unwrap().usage;
    for _ in 0..2 {
        f.call(None, None, auto()).await;
    }
    let after = f.services.account_usage().await.unwrap().usage;
    assert_eq!(
        after.used_nano_usd - before.used_nano_usd,
        2 * CALL_COST_NANO_USD
    );
    assert_eq!(after.requests - before.requests, 2);
    assert_eq!(
        after.included_left_nano_usd(),
        usd(0.10) - 2 * CALL_COST_NANO_USD
    );
}

#[tokio::test]
async fn every_failure_has_its_own_code_and_no_token() {
    let f = fixture(tokens::FREE_TOKEN).await;
    let client = HfClient::new(endpoints(&f.double)).unwrap();
    let token = Secret::new(tokens::FREE_TOKEN.into());
    let (start, end) = (now_secs() - 3600, now_secs() + 3600);
    let mut errors = Vec::new();

    // No billing access: its own code, saying how to allow it.
    let e = client
        .usage(&Secret::new(tokens::NO_BILLING_TOKEN.into()), start, end)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BillingForbidden);
    assert!(
        e.message.contains("Billing: read") && e.message.contains("read token"),
        "{e}"
    );
    let s = client
        .session_costs(&Secret::new(tokens::NO_BILLING_TOKEN.into()), start, end)
        .await
        .unwrap_err();
    assert_eq!(s.code, ErrorCode::BillingForbidden);
    errors.extend([e, s]);

    // 429: rate limited, with the wait.
    f.double
        .push_fault(Fault::rate_limited(42).scope(Scope::Billing).once());
    let e = client.usage(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.message.contains("42 s"), "{e}");
    errors.push(e);

    // The same on the session costs.
    f.double
        .push_fault(Fault::rate_limited(7).scope(Scope::Billing).once());
    let e = client.session_costs(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.message.contains("7 s"), "{e}");
    errors.push(e);
    f.double
        .push_fault(Fault::server_error(500).scope(Scope::Billing).once());
    let e = client.session_costs(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    errors.push(e);

    // 5xx, and milliseconds instead of seconds (which Hugging Face answers with a 500).
    f.double
        .push_fault(Fault::server_error(502).scope(Scope::Billing).once());
    let e = client.usage(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    errors.push(e);
    let e = client
        .usage(&token, start * 1000, end * 1000)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    errors.push(e);

    // Not JSON, and a page from a proxy.
    f.double
        .push_fault(Fault::garbage().scope(Scope::Billing).once());
    let e = client.session_costs(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::BadResponse);
    errors.push(e);
    f.double
        .push_fault(Fault::html_page(503).scope(Scope::Billing).once());
    let e = client.usage(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::BadResponse);
    errors.push(e);

    // A revoked token.
    let e = client
        .usage(
            &Secret::new("hf_revokedTokenZZZZZZZZZZZZZZZZ".into()),
            start,
            end,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
    errors.push(e);

    // A server that quotes the token it was sent: never in the message.
    f.double
        .push_fault(Fault::echo_credential().scope(Scope::Billing).once());
    let e = client.usage(&token, start, end).await.unwrap_err();
    assert!(!e.message.contains(tokens::FREE_TOKEN), "{e}");
    errors.push(e);

    // Offline.
    let nowhere = HfClient::new(Endpoints {
        hub: "http://127.0.0.1:9".into(),
        router: "http://127.0.0.1:9".into(),
        provider_base_template: None,
    })
    .unwrap();
    let e = nowhere.usage(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Network);
    errors.push(e);
    let e = nowhere.session_costs(&token, start, end).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Network);
    errors.push(e);

    // The service logs its failures: no token there either.
    f.services
        .sign_in(tokens::NO_BILLING_TOKEN.into(), true)
        .await
        .unwrap();
    let e = f.services.account_usage().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::BillingForbidden);
    errors.push(e);
    assert_no_token_anywhere(&errors.iter().collect::<Vec<_>>());
}

#[tokio::test]
async fn the_last_figures_come_back_with_their_age_on_429_5xx_and_offline() {
    let Fixture {
        double,
        services,
        dir: _dir,
        ..
    } = fixture(tokens::FREE_TOKEN).await;
    let fresh = services.account_usage().await.unwrap();
    assert!(fresh.stale_because.is_none());

    double.push_fault(Fault::server_error(500).scope(Scope::Billing).once());
    let stale = services.account_usage().await.unwrap();
    assert_eq!(stale.usage, fresh.usage);
    assert_eq!(stale.fetched_at, fresh.fetched_at);
    assert_eq!(stale.stale_because.unwrap().code, ErrorCode::ServerError);

    double.push_fault(Fault::rate_limited(30).scope(Scope::Billing).once());
    let stale = services.account_usage().await.unwrap();
    assert_eq!(stale.stale_because.unwrap().code, ErrorCode::RateLimited);
    // Within the wait Hugging Face asked for, it is not asked again.
    let asked = double.requests().len();
    let stale = services.account_usage().await.unwrap();
    assert_eq!(stale.stale_because.unwrap().code, ErrorCode::RateLimited);
    assert_eq!(double.requests().len(), asked);

    drop(double);
    let offline = services.account_usage().await.unwrap();
    assert_eq!(offline.usage, fresh.usage);
    assert!(offline.age_secs >= 0);
    assert!(offline.stale_because.is_some());
}

// ------------------------------------------------------------ sessions

#[tokio::test]
async fn routed_calls_carry_their_conversations_session_and_own_key_calls_do_not() {
    let f = fixture(tokens::PRO_TOKEN).await;
    let (conv, _) = f.call(None, None, auto()).await;
    f.call(Some(conv.clone()), None, auto()).await;
    let sent = f.chat_requests();
    let first = sent[0]
        .header("x-hf-session-id")
        .expect("a session")
        .to_string();
    assert!(!first.is_empty() && first.chars().count() <= 256);
    assert_eq!(sent[1].header("x-hf-session-id"), Some(first.as_str()));

    // Another conversation, another session; a compare pane its own.
    let (other, _) = f.call(None, None, auto()).await;
    assert_ne!(other, conv);
    let (compare, _) = f.call(None, Some(1), auto()).await;
    f.call(Some(compare), Some(2), auto()).await;
    let ids: Vec<String> = f
        .chat_requests()
        .iter()
        .map(|r| r.header("x-hf-session-id").unwrap().to_string())
        .collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 4, "{ids:?}");

    // The user's own key: straight to the provider, no session header.
    f.double.clear_requests();
    f.own_key("together");
    f.call(
        Some(conv),
        None,
        Routing::Pinned {
            provider: "together".into(),
        },
    )
    .await;
    let sent = f.chat_requests();
    assert_eq!(sent.len(), 1);
    assert!(matches!(sent[0].target, hf_double::Target::Direct { .. }));
    assert_eq!(sent[0].header("x-hf-session-id"), None);
}

#[tokio::test]
async fn a_conversations_billed_cost_appears_once_the_double_settles_it() {
    let f = fixture(tokens::FREE_TOKEN).await;
    f.double.set_settle_delay(Duration::from_millis(400));
    let (conv, _) = f.call(None, None, auto()).await;
    f.call(Some(conv.clone()), None, auto()).await;
    let (other, _) = f.call(None, None, auto()).await;

    // Not settled yet: asked, nothing recorded.
    let first = f.services.reconcile_sessions().await.unwrap();
    assert!(first.asked);
    assert_eq!(first.updated, 0);
    assert_eq!(f.services.conversation_billed(&conv).await.unwrap(), None);
    // Asked again at once: not asked (at most once a minute).
    assert!(!f.services.reconcile_sessions().await.unwrap().asked);

    f.services.usage.set_min_interval(Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + WAIT;
    // The calls settle one by one: asked again until both conversations are billed in full.
    loop {
        tokio::time::sleep(f.services.usage.min_interval()).await;
        f.services.reconcile_sessions().await.unwrap();
        let requests = |b: Option<switchboard_core::history::sessions::BilledCost>| {
            b.map_or(0, |b| b.requests)
        };
        let a = requests(f.services.conversation_billed(&conv).await.unwrap());
        let b = requests(f.services.conversation_billed(&other).await.unwrap());
        if (a, b) == (2, 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never settled: {a}, {b}"
        );
    }
    let billed = f
        .services
        .conversation_billed(&conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(billed.billed_nano_usd, 2 * CALL_COST_NANO_USD);
    assert_eq!(billed.requests, 2);
    let billed = f
        .services
        .conversation_billed(&other)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(billed.requests, 1);
    // The conversation's estimate beside its bill, and the provider's difference.
    let cost = f.services.conversation_cost(&conv).await.unwrap();
    assert!(!cost.pending, "{cost:?}");
    assert_eq!((cost.hf_calls, cost.billed_requests), (2, Some(2)));
    assert_eq!(
        cost.billed,
        Some(2.0 * CALL_COST_NANO_USD as f64 / NANO_PER_USD as f64)
    );
    // Routed by the router's choice: no price was known, so no estimate to compare, and the
    // per-provider table leaves such conversations out rather than compare against $0.
    assert_eq!(
        (cost.estimated, cost.difference_pct),
        (None, None),
        "{cost:?}"
    );
    assert!(f.services.provider_accuracy().unwrap().is_empty());
    // Asked again once all is settled: nothing changed, nothing counted as updated.
    tokio::time::sleep(f.services.usage.min_interval()).await;
    let again = f.services.reconcile_sessions().await.unwrap();
    assert!(again.asked);
    assert_eq!(again.updated, 0);
    assert_no_token_anywhere(&[]);
}

// ------------------------------------------------------------ the router's estimate

#[tokio::test]
async fn the_routers_estimated_cost_is_recorded_on_the_call_and_in_the_csv() {
    let f = fixture(tokens::PRO_TOKEN).await;
    let (_, plain) = f.call(None, None, auto()).await;
    assert_eq!(plain.stats.router_cost, None);
    f.double.set_estimated_cost(true);
    let (conv, result) = f.call(None, None, auto()).await;
    let expected = CALL_COST_NANO_USD as f64 / NANO_PER_USD as f64;
    assert_eq!(result.stats.router_cost, Some(expected));
    let history = f.services.history.get().unwrap();
    let rows = history.calls(&CallQuery::default()).unwrap().rows;
    let row = rows
        .iter()
        .find(|r| r.conversation_id.as_deref() == Some(conv.as_str()))
        .unwrap();
    assert_eq!(row.router_cost, Some(expected));
    // The saved answer keeps it too.
    let saved = history.get(&conv).unwrap();
    assert_eq!(
        saved.messages[1].stats.as_ref().unwrap().router_cost,
        Some(expected)
    );
    let csv = to_csv(&rows);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let src = header.iter().position(|h| *h == "cost_source").unwrap();
    let router = header
        .iter()
        .position(|h| *h == "router_estimated_cost_usd")
        .unwrap();
    let cells: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(cells.iter().all(|c| !c[src].is_empty()));
    assert!(cells.iter().any(|c| c[router] == "0.00180000"), "{csv}");
}
