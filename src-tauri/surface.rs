// The app's command surface, declared once: every command the window may call, its argument
// type (one struct, sent as `{ args }`), the type of its event channel if it streams, and its
// result. From this list come the handler list (commands/mod.rs), the permissions (build.rs),
// the TypeScript call map `ui/src/bindings/commands.ts` (written by `cargo test`), and a test
// checks that capabilities/main.json grants exactly these. Adding a command: write its forward
// in commands/<area>.rs, add a line here, allow it in capabilities/main.json, run `cargo test`.
//
// `area::name(Args) -> Result;`, `area::name() -> Result;` or
// `area::name(Args, channel Event) -> Result;`

surface! {
    account::app_info() -> AppInfo;
    account::auth_status() -> AuthStatus;
    account::sign_in(SignInArgs) -> AuthStatus;
    account::sign_out() -> AuthStatus;
    account::refresh_account() -> AuthStatus;
    account::cli_token_source() -> Option<CliTokenSource>;
    account::import_cli_token(SessionOnlyArgs) -> AuthStatus;
    account::get_settings() -> Settings;
    account::set_theme(Theme) -> Settings;
    account::open_external(Link) -> ();
    account::open_url(UrlArgs) -> ();
    chat::catalog_get() -> Catalog;
    chat::catalog_refresh(RefreshArgs) -> Catalog;
    chat::chat_preview(ChatRequest) -> ChatPreview;
    chat::chat_route(RouteArgs) -> RouteDecision;
    chat::chat_start(ChatStartArgs, channel ChatEvent) -> ChatStarted;
    chat::chat_stop(CallIdArgs) -> ();
    chat::chat_save_retry(CallIdArgs) -> ();
    chat::chat_attach_pick() -> Option<StoredImage>;
    chat::chat_attach_data(AttachArgs) -> StoredImage;
    chat::get_playground() -> PlaygroundPrefs;
    chat::set_playground(PlaygroundPrefs) -> ();
    images::image_catalog_get() -> ImageCatalog;
    images::image_catalog_refresh(RefreshArgs) -> ImageCatalog;
    images::image_route(RouteArgs) -> RouteDecision;
    images::image_generate(ImageRequest, channel ImageEvent) -> ImageStarted;
    images::image_cancel(JobIdArgs) -> ();
    images::image_list(ImageQuery) -> Vec<ImageJob>;
    images::image_data(FileArgs) -> String;
    images::image_pick_source() -> Option<String>;
    images::image_save_as(FileArgs) -> Option<String>;
    images::image_open(FileArgs) -> ();
    images::image_copy(FileArgs) -> ();
    images::video_catalog_get(VideoCatalogArgs) -> ImageCatalog;
    images::video_catalog_refresh(VideoCatalogArgs) -> ImageCatalog;
    images::video_route(VideoRouteArgs) -> RouteDecision;
    embeddings::embed_route(RouteArgs) -> RouteDecision;
    embeddings::embed(EmbedRequest) -> EmbeddingView;
    embeddings::embed_pair(EmbedPairRequest) -> EmbedPair;
    embeddings::embedding_compare(EmbedCompareArgs) -> EmbeddingComparison;
    embeddings::embedding_list() -> Vec<EmbeddingView>;
    embeddings::embedding_export(EmbedExportArgs) -> Option<String>;
    speech::speech_route(SpeechRouteArgs) -> RouteDecision;
    speech::speech_providers(SpeechProvidersArgs) -> Vec<String>;
    speech::speech_pick_audio() -> Option<AudioInfo>;
    speech::speech_put_audio(AudioPutArgs) -> AudioInfo;
    speech::speech_audio(AudioFileArgs) -> String;
    speech::speech_transcribe(TranscribeRequest) -> SpeechRecord;
    speech::speech_synthesize(SynthesizeRequest) -> SpeechRecord;
    speech::speech_list() -> Vec<SpeechRecord>;
    speech::speech_export(SpeechExportArgs) -> Option<String>;
    speech::speech_delete(IdArgs) -> ();
    history::history_status() -> HistoryStatus;
    history::history_list(ListArgs) -> Vec<ConversationSummary>;
    history::history_get(IdArgs) -> Conversation;
    history::history_search(SearchQuery) -> Vec<SearchHit>;
    history::history_facets() -> HistoryFacets;
    history::history_rename(RenameArgs) -> ();
    history::history_pin(PinArgs) -> ();
    history::history_trash(IdArgs) -> ();
    history::history_restore(IdArgs) -> ();
    history::history_delete(IdArgs) -> ();
    history::history_export(ExportArgs) -> Option<String>;
    history::history_export_all() -> Option<String>;
    history::history_import() -> Option<ImportReport>;
    providers::providers_get(ProvidersGetArgs) -> ProviderSettings;
    providers::provider_set(ProviderSetArgs) -> ProviderSettings;
    providers::provider_key_set(ProviderKeyArgs) -> ProviderSettings;
    providers::provider_key_remove(NameArgs) -> ProviderSettings;
    providers::provider_key_test(NameArgs) -> TestResult;
    providers::endpoint_add(EndpointAddArgs) -> ProviderSettings;
    providers::endpoint_remove(IdArgs) -> ProviderSettings;
    providers::endpoint_test(IdArgs) -> TestResult;
    billing::billing_status() -> CreditStatus;
    billing::billing_calls(CallQuery) -> CallPage;
    billing::billing_totals(TotalsArgs) -> Vec<Totals>;
    billing::billing_rates() -> RateInfo;
    billing::billing_averages() -> Option<(f64, f64)>;
    billing::credits_get() -> CreditSettings;
    billing::credits_set(CreditSettings) -> CreditStatus;
    billing::billing_export_csv(CallQuery) -> Option<String>;
    billing::billing_usage() -> UsageReport;
    billing::billing_reconcile() -> ReconcileReport;
    billing::conversation_cost(BilledArgs) -> ConversationCost;
    billing::billing_accuracy() -> Vec<ProviderAccuracy>;
    perf::report_first_paint(FirstPaintArgs) -> ();
}
