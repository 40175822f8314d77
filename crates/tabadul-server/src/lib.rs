//! The tabadul HTTP/JSON API, over a [`Node`].
//!
//! Handlers only translate: they authenticate the caller into an [`Actor`], hand the request
//! to the node (which decides what the actor may do and see, and audits it) on the blocking
//! pool, and turn the answer or the error (one table: [`error::ERRORS`]) into JSON. Checks
//! run behind a bounded number of permits, so that a flood of them cannot starve the rest.

pub mod error;
mod imports;
mod manage;
pub mod metrics;
pub mod tls;
mod yente;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tabadul_domain::{AgencyCode, AlertId, Category, CountryCode, Gender, HitId, NotificationId, PartialDate};
use tabadul_node::{Actor, AlertQuery, CheckRequest, Node, NodeKey, OutcomeKind};
use tokio::sync::Semaphore;

use error::Errors;
pub use error::{ApiError, ERRORS};

/// The largest request body read, in bytes.
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// How long a check waits for a permit before the server answers `busy`.
pub const CHECK_WAIT_MAX: Duration = Duration::from_secs(2);
/// Checks between their search and their record, at most: a slow disk makes checks wait
/// (each on a thread) until they are written; past this many, new checks are refused as busy.
pub const RECORDING_MAX: usize = 512;

/// What every handler shares.
pub struct AppState {
    pub node: Node,
    pub key: NodeKey,
    /// Checks that may run at once (the rest wait, up to [`CHECK_WAIT_MAX`]).
    pub check_permits: Arc<Semaphore>,
    /// Checks searched and waiting to be recorded, at most [`RECORDING_MAX`].
    pub record_permits: Semaphore,
    pub metrics: metrics::Metrics,
    pub jobs: imports::Jobs,
}

impl AppState {
    pub fn new(node: Node, key: NodeKey, checks_at_once: usize) -> Arc<AppState> {
        Arc::new(AppState {
            node,
            key,
            check_permits: Arc::new(Semaphore::new(checks_at_once.max(1))),
            record_permits: Semaphore::new(RECORDING_MAX),
            metrics: metrics::Metrics::default(),
            jobs: imports::Jobs::default(),
        })
    }
}

/// Who a request turned out to be from, filled in by [`Caller`] for the request's log line.
#[derive(Clone, Default)]
struct RequestContext(Arc<std::sync::Mutex<Option<Who>>>);

/// A user and its agency.
type Who = (String, Option<AgencyCode>);

static REQUEST_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Counts, times and logs every request (one line: request id, method, route, status,
/// microseconds, user, agency) and names it in an `x-request-id` header.
async fn observe(State(state): Shared, mut request: Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let id = REQUEST_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let context = RequestContext::default();
    request.extensions_mut().insert(context.clone());
    let mut response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(method.as_str(), &route, status, took);
    let who = context.0.lock().ok().and_then(|w| w.clone());
    let (user, agency) =
        who.map_or((String::new(), String::new()), |(u, a)| (u, a.map(|a| a.to_string()).unwrap_or_default()));
    tracing::info!(request = id, %method, %route, status, micros = took.as_micros() as u64, %user, %agency, "answered");
    if let Ok(value) = axum::http::HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

type Shared = State<Arc<AppState>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs a node call on the blocking pool (the store is synchronous).
async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    call: impl FnOnce(&Node) -> Result<T, tabadul_node::NodeError> + Send + 'static,
) -> Result<T, ApiError> {
    let node = state.node.clone();
    match tokio::task::spawn_blocking(move || call(&node)).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(error) => {
            tracing::error!(%error, "a node call panicked or was cancelled");
            Err(ApiError::new("internal", "the node failed to answer; the error is logged"))
        }
    }
}

/// The token of `Authorization: Bearer TOKEN`, if the request has one.
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let header = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    Some(header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?.trim())
}

/// The caller, from `Authorization: Bearer TOKEN`.
pub struct Caller(pub Actor);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Caller, ApiError> {
        let token = bearer(&parts.headers)
            .ok_or_else(|| ApiError::new("unauthenticated", "send `Authorization: Bearer TOKEN` (log in first)"))?
            .to_string();
        let actor = blocking(state, move |node| node.authenticate(&token)).await?;
        if let Some(context) = parts.extensions.get::<RequestContext>()
            && let Ok(mut who) = context.0.lock()
        {
            *who = Some((actor.user.clone(), actor.agency.clone()));
        }
        Ok(Caller(actor))
    }
}

/// A JSON body, with the error table's answers for bodies that are not the JSON expected.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body<T>, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new("unsupported-media-type", "send the body as JSON with `Content-Type: application/json`")
        }
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new("too-large", format!("the body is larger than {BODY_BYTES_MAX} bytes"))
        }
        _ => ApiError::new("malformed", rejection.body_text()),
    }
}

/// Query parameters, with the error table's answer for bad ones.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Params<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(query_error(rejection)),
        }
    }
}

fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new("malformed", rejection.body_text())
}

/// The description of the API (OpenAPI 3), served at `/openapi.json` and browsable at `/docs`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "tabadul", description = "Share alerts on organised crime, trafficking and smuggling between partner states, and check travellers at the border. Every path but /health, /ready, /openapi.json and /docs needs `Authorization: Bearer TOKEN` (POST /api/v1/sessions)."),
    paths(
        login, logout, create_token, check, check_batch, alerts, alert, agreements, inbox, false_positives, confirm,
        reject, acknowledge, verify_receipt, verify_audit, node_status, metrics_text, health, ready,
        manage::agencies, manage::add_agency, manage::users, manage::add_user, manage::add_agreement,
        manage::agreement, manage::revoke_agreement, manage::consent_to_agreement, manage::add_alert, manage::update_alert, manage::delete_alert,
        manage::link_alert, manage::audit_entries, manage::dashboard, yente::match_entities,
        imports::start, imports::status, manage::update_user, manage::tokens, manage::revoke_token, screen_manifest,
    ),
    components(schemas(ApiError)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("tbd_ token").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The API's routes over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/sessions", post(login).delete(logout))
        .route("/tokens", post(create_token).get(manage::tokens))
        .route("/tokens/{id}", axum::routing::delete(manage::revoke_token))
        .route("/users/{name}", axum::routing::patch(manage::update_user))
        .route("/checks", post(check))
        .route("/checks/batch", post(check_batch))
        .route("/agencies", get(manage::agencies).post(manage::add_agency))
        .route("/users", get(manage::users).post(manage::add_user))
        .route("/alerts", get(alerts).post(manage::add_alert))
        .route("/alerts/{id}", get(alert).put(manage::update_alert).delete(manage::delete_alert))
        .route("/alerts/{id}/links", post(manage::link_alert))
        .route("/agreements", get(agreements).post(manage::add_agreement))
        .route("/agreements/{id}", get(manage::agreement))
        .route("/agreements/{id}/revoke", post(manage::revoke_agreement))
        .route("/agreements/{id}/consent", post(manage::consent_to_agreement))
        .route("/audit", get(manage::audit_entries))
        .route("/dashboard", get(manage::dashboard))
        .route("/manifests", post(screen_manifest).layer(axum::extract::DefaultBodyLimit::max(MANIFEST_BYTES_MAX)))
        .route("/imports", post(imports::start))
        .route("/imports/{id}", get(imports::status))
        .route("/hits/inbox", get(inbox))
        .route("/hits/false-positives", get(false_positives))
        .route("/hits/{id}/confirm", post(confirm))
        .route("/hits/{id}/reject", post(reject))
        .route("/notifications/{id}/ack", post(acknowledge))
        .route("/receipts/verify", post(verify_receipt))
        .route("/audit/verify", get(verify_audit))
        .route("/node", get(node_status));
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/console/") }))
        .route("/console", get(|| async { axum::response::Redirect::to("/console/") }))
        .route("/console/", get(|| console_file(Path(String::new()))))
        .route("/console/{name}", get(console_file))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/match/{dataset}", post(yente::match_entities))
        .nest("/api/v1", api)
        .with_state(state.clone())
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", <ApiDoc as utoipa::OpenApi>::openapi()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state, observe))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
}

/// A file of the web console, with its security headers.
async fn console_file(Path(name): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let asset = tabadul_console::asset(&name)
        .ok_or_else(|| ApiError::new("not-found", format!("the console has no file {name:?}")))?;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static(asset.content_type));
    for (name, value) in tabadul_console::SECURITY_HEADERS {
        headers.insert(*name, axum::http::HeaderValue::from_static(value));
    }
    Ok((headers, asset.body))
}

async fn not_found() -> ApiError {
    ApiError::new("not-found", "no such path: the API is under /api/v1")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new("method-not-allowed", "this path does not take this method")
}

/// The Prometheus text exposition, for administrators and auditors (scrape it with a bearer
/// token of such a user).
#[utoipa::path(get, path = "/metrics", tag = "node", summary = "Prometheus text exposition", responses((status = 200, description = "metrics", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn metrics_text(State(state): Shared, Caller(actor): Caller) -> Result<impl IntoResponse, ApiError> {
    actor.require(&[tabadul_domain::Role::Administrator, tabadul_domain::Role::Auditor])?;
    let alerts = blocking(&state, |node| Ok(node.store().alert_count()?)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(alerts)))
}

#[utoipa::path(get, path = "/health", tag = "node", summary = "Whether the server answers", responses((status = 200, description = "ok", body = serde_json::Value), Errors))]
async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready once the screening index is built.
#[utoipa::path(get, path = "/ready", tag = "node", summary = "Whether the screening index is built", responses((status = 200, description = "ready", body = serde_json::Value), Errors))]
async fn ready(State(state): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    // A probe is answered at once: `busy` while the index is being built at start.
    if !state.node.index_ready() {
        return Err(ApiError::new("busy", "the screening index is being built: checks will wait for it"));
    }
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    user: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", summary = "Log in with a password: a session token (8 hours)", request_body = Login, responses((status = 201, description = "the token, shown once", body = serde_json::Value), Errors))]
async fn login(State(state): Shared, Body(login): Body<Login>) -> Result<impl IntoResponse, ApiError> {
    let issued = blocking(&state, move |node| node.login(&login.user, &login.password)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(delete, path = "/api/v1/sessions", tag = "sessions", summary = "Log out: revoke the token of this request", responses((status = 204, description = "revoked"), Errors), security(("bearer" = [])))]
async fn logout(
    State(state): Shared,
    headers: axum::http::HeaderMap,
    Caller(actor): Caller,
) -> Result<StatusCode, ApiError> {
    // The caller was authenticated by this very token.
    let token = bearer(&headers).unwrap_or_default().to_string();
    blocking(&state, move |node| node.revoke_token(&actor, &token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: String,
    days: i64,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "sessions", summary = "An API token for a system, for your own user", request_body = NewToken, responses((status = 201, description = "the token, shown once", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn create_token(
    State(state): Shared,
    Caller(actor): Caller,
    Body(request): Body<NewToken>,
) -> Result<impl IntoResponse, ApiError> {
    let issued = blocking(&state, move |node| node.create_api_token(&actor, &request.label, request.days)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// A check as the API takes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// The border crossing point.
    pub post: String,
    #[serde(default)]
    pub mrz: Option<String>,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub birth_dates: Vec<PartialDate>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub nationalities: Vec<CountryCode>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub document_number: Option<String>,
    #[serde(default)]
    pub document_state: Option<String>,
    #[serde(default)]
    pub vin: Option<String>,
    #[serde(default)]
    pub plate: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/checks", tag = "checks", summary = "Check a traveller: document, persons, vehicle; a signed receipt", request_body = CheckBody, responses((status = 200, description = "the check and its receipt", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn check(
    State(state): Shared,
    Caller(actor): Caller,
    Body(body): Body<CheckBody>,
) -> ApiResult<tabadul_node::CheckOutcome> {
    let request = body.into_request();
    let outcome = run_checks(&state, actor, vec![request]).await?.pop().unwrap_or_else(|| Err(nothing_recorded()));
    let outcome = outcome.map_err(ApiError::from)?;
    count_check(&state, &outcome);
    Ok(Json(outcome))
}

/// Runs checks: searches them holding a [`check_permit`] (the processor), then records them
/// together without it, so that the next checks search while these wait for the disk. Each
/// check's answer or error in order.
pub(crate) async fn run_checks(
    state: &Arc<AppState>,
    actor: tabadul_node::Actor,
    requests: Vec<CheckRequest>,
) -> Result<Vec<Result<tabadul_node::CheckOutcome, tabadul_node::NodeError>>, ApiError> {
    let recording = record_permit(state, u32::try_from(requests.len()).unwrap_or(u32::MAX)).await?;
    let permit = check_permit(state).await?;
    let key = state.key.clone();
    let answers = blocking(state, move |node| {
        let searched = node.search_checks(&actor, &requests)?;
        // The search is done: the next check may use the processor while these records wait
        // for the disk.
        drop(permit);
        // A refused check keeps its place among the answers.
        let mut prepared = Vec::new();
        let places: Vec<Result<(), tabadul_node::NodeError>> =
            searched.into_iter().map(|search| search.map(|check| prepared.push(check))).collect();
        let mut recorded = node.record_checks(prepared, &key).into_iter();
        Ok(places
            .into_iter()
            .map(|place| place.and_then(|()| recorded.next().unwrap_or_else(|| Err(nothing_recorded()))))
            .collect())
    })
    .await;
    drop(recording);
    answers
}

fn nothing_recorded() -> tabadul_node::NodeError {
    tabadul_node::NodeError::Invalid("the check was not recorded".into())
}

/// Room for `checks` checks between their search and their record: bounds the checks that wait
/// for the disk when it is slow (each holds a thread), as [`check_permit`] bounds searches.
pub(crate) async fn record_permit(
    state: &Arc<AppState>,
    checks: u32,
) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    let acquire = state.record_permits.acquire_many(checks);
    permit_within_wait(state, acquire, "too many checks are waiting to be recorded: try again in a moment").await
}

pub(crate) async fn check_permit(state: &Arc<AppState>) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    use std::sync::atomic::Ordering;
    state.metrics.permits_waiting.fetch_add(1, Ordering::Relaxed);
    let acquire = state.check_permits.clone().acquire_owned();
    let permit = permit_within_wait(state, acquire, "too many checks are waiting: try again in a moment").await;
    state.metrics.permits_waiting.fetch_sub(1, Ordering::Relaxed);
    permit
}

/// The permit `acquire` gives within [`CHECK_WAIT_MAX`], or `busy` with `waited_too_long`.
async fn permit_within_wait<P>(
    state: &AppState,
    acquire: impl std::future::Future<Output = Result<P, tokio::sync::AcquireError>>,
    waited_too_long: &str,
) -> Result<P, ApiError> {
    let Ok(permit) = tokio::time::timeout(CHECK_WAIT_MAX, acquire).await else {
        state.metrics.checks_refused_busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Err(ApiError::new("busy", waited_too_long));
    };
    permit.map_err(|_| ApiError::new("busy", "the server is shutting down"))
}

pub(crate) fn count_check(state: &AppState, outcome: &tabadul_node::CheckOutcome) {
    use std::sync::atomic::Ordering;
    state.metrics.checks.fetch_add(1, Ordering::Relaxed);
    state.metrics.hits.fetch_add(outcome.check.result.hit_count() as u64, Ordering::Relaxed);
}

/// The largest manifest taken (some 5,000 travellers).
pub const MANIFEST_BYTES_MAX: usize = 2 << 20;

/// What `POST /manifests` answers with.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum ManifestAnswer {
    /// The screening report, as JSON: one per manifest.
    #[default]
    Report,
    /// The interactive API's answer for the carrier: a UN/EDIFACT CUSRES message with each
    /// traveller's directive (0Z board, 1Z no board, 2Z contact the government), never why.
    Cusres,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ManifestParams {
    /// `report` (the default) or `cusres`.
    #[serde(default)]
    #[param(inline)]
    answer: ManifestAnswer,
}

#[utoipa::path(
    post,
    path = "/api/v1/manifests",
    tag = "checks",
    summary = "Screen a passenger manifest (UN/EDIFACT PAXLST): every traveller checked, the most severe hits first",
    params(ManifestParams),
    request_body(description = "the EDIFACT interchange, as the carrier sent it", content((String = "application/edifact"), (String = "text/plain"))),
    responses(
        (status = 200, description = "one report per manifest (`answer=report`), or the CUSRES interchange for the carrier (`answer=cusres`)",
            content((serde_json::Value = "application/json"), (String = "application/edifact"))),
        Errors
    ),
    security(("bearer" = []))
)]
async fn screen_manifest(
    State(state): Shared,
    Caller(actor): Caller,
    Params(params): Params<ManifestParams>,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, ApiError> {
    let permit = check_permit(&state).await?;
    // The answer is written, and the report dropped, on the thread that built it: a report's
    // tens of thousands of strings freed on another thread each go back to their own through
    // the allocator's cross-thread queue (4% of a manifest's time in a profile).
    let answered = blocking(&state, move |node| {
        let reports = node.screen_manifest(&actor, &body)?;
        let travellers: usize = reports.iter().map(|r| r.screened).sum();
        let hits: usize = reports.iter().map(|r| r.hits.len()).sum();
        let answer = match params.answer {
            ManifestAnswer::Report => {
                // About a kilobyte a hit: written once into a buffer of that size, not grown
                // from a small one (a manifest's report runs to megabytes).
                let alerts_found: usize =
                    reports.iter().flat_map(|r| &r.hits).map(|t| t.documents.len() + t.persons.len()).sum();
                large_json(&reports, 4096 + alerts_found * 1024)
            }
            ManifestAnswer::Cusres => Ok(("application/edifact", tabadul_node::boarding_answer(&reports, node.now()))),
        };
        Ok((travellers, hits, answer))
    })
    .await;
    drop(permit);
    let (travellers, hits, answer) = answered?;
    use std::sync::atomic::Ordering;
    state.metrics.checks.fetch_add(travellers as u64, Ordering::Relaxed);
    state.metrics.hits.fetch_add(hits as u64, Ordering::Relaxed);
    let (content_type, body) = answer?;
    Ok(([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response())
}

/// `value` as JSON with its content type, written into one buffer of `capacity` bytes to begin
/// with.
fn large_json<T: Serialize>(value: &T, capacity: usize) -> Result<(&'static str, Vec<u8>), ApiError> {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => Ok(("application/json", body)),
        Err(error) => {
            tracing::error!("writing an answer as JSON failed: {error}");
            Err(ApiError::new("internal", "the answer could not be written"))
        }
    }
}

/// Most checks in one batch.
pub const CHECKS_PER_BATCH_MAX: usize = 100;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckBatch {
    checks: Vec<CheckBody>,
}

/// One check of a batch: its outcome, or why it was refused.
#[derive(Serialize)]
#[serde(untagged)]
enum BatchItem {
    Done(Box<tabadul_node::CheckOutcome>),
    Refused { error: ApiError },
}

/// Several checks (a bus's passengers), each answered on its own: one refused check does not
/// refuse the others.
#[utoipa::path(post, path = "/api/v1/checks/batch", tag = "checks", summary = "Up to 100 checks, each answered or refused on its own", request_body = CheckBatch, responses((status = 200, description = "one answer per check", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn check_batch(
    State(state): Shared,
    Caller(actor): Caller,
    Body(batch): Body<CheckBatch>,
) -> ApiResult<Vec<BatchItem>> {
    if batch.checks.len() > CHECKS_PER_BATCH_MAX {
        return Err(ApiError::new("invalid", format!("a batch holds at most {CHECKS_PER_BATCH_MAX} checks")));
    }
    let requests: Vec<CheckRequest> = batch.checks.into_iter().map(CheckBody::into_request).collect();
    let answers = run_checks(&state, actor, requests).await;
    let items = answers?
        .into_iter()
        .map(|answer| match answer {
            Ok(outcome) => {
                count_check(&state, &outcome);
                BatchItem::Done(Box::new(outcome))
            }
            Err(error) => BatchItem::Refused { error: ApiError::from(error) },
        })
        .collect();
    Ok(Json(items))
}

impl CheckBody {
    fn into_request(self) -> CheckRequest {
        CheckRequest {
            post: self.post,
            mrz: self.mrz,
            names: self.names,
            birth_dates: self.birth_dates,
            nationalities: self.nationalities,
            gender: self.gender,
            document_number: self.document_number,
            document_state: self.document_state,
            vin: self.vin,
            plate: self.plate,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    #[param(value_type = Option<String>)]
    owner: Option<AgencyCode>,
    #[param(value_type = Option<String>)]
    category: Option<Category>,
    #[param(value_type = Option<String>)]
    after: Option<AlertId>,
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", summary = "Alerts the agency sees in full, in id order", params(AlertParams), responses((status = 200, description = "alerts", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn alerts(
    State(state): Shared,
    Caller(actor): Caller,
    Params(params): Params<AlertParams>,
) -> ApiResult<Vec<tabadul_store::StoredAlert>> {
    let query = AlertQuery { owner: params.owner, category: params.category, after: params.after, limit: params.limit };
    blocking(&state, move |node| node.alerts(&actor, &query)).await.map(Json)
}

pub(crate) fn parse_id<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, tabadul_domain::DomainError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|e| ApiError::new("invalid", e.to_string()))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", summary = "One alert, with the links the agency may see", params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the alert", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn alert(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<tabadul_node::AlertView> {
    let id = parse_id(&id, AlertId::parse)?;
    blocking(&state, move |node| node.alert(&actor, id)).await.map(Json)
}

#[utoipa::path(get, path = "/api/v1/agreements", tag = "agreements", summary = "The agreements of your agency", responses((status = 200, description = "agreements", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn agreements(State(state): Shared, Caller(actor): Caller) -> ApiResult<Vec<tabadul_domain::Agreement>> {
    blocking(&state, move |node| node.agreements(&actor)).await.map(Json)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct InboxParams {
    #[serde(default)]
    all: bool,
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/hits/inbox", tag = "hits", summary = "Confirmed hits on your agency's alerts", params(InboxParams), responses((status = 200, description = "notifications", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn inbox(
    State(state): Shared,
    Caller(actor): Caller,
    Params(params): Params<InboxParams>,
) -> ApiResult<Vec<tabadul_node::Notification>> {
    let limit = params.limit.unwrap_or(100);
    blocking(&state, move |node| node.hit_inbox(&actor, params.all, limit)).await.map(Json)
}

#[utoipa::path(get, path = "/api/v1/hits/false-positives", tag = "hits", summary = "False positives counted per alert of your agency", responses((status = 200, description = "counts", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn false_positives(State(state): Shared, Caller(actor): Caller) -> ApiResult<Vec<tabadul_node::FalsePositives>> {
    blocking(&state, move |node| node.false_positives(&actor)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Confirmation {
    action_taken: String,
    #[serde(default)]
    remarks: String,
}

#[utoipa::path(post, path = "/api/v1/hits/{id}/confirm", tag = "hits", summary = "Confirm a hit: the owner is notified", request_body = Confirmation, params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the hit", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn confirm(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<Confirmation>,
) -> ApiResult<tabadul_node::HitRecord> {
    let id = parse_id(&id, HitId::parse)?;
    blocking(&state, move |node| {
        node.record_hit_outcome(&actor, id, OutcomeKind::Confirmed, &body.action_taken, &body.remarks)
    })
    .await
    .map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Rejection {
    #[serde(default)]
    remarks: String,
}

#[utoipa::path(post, path = "/api/v1/hits/{id}/reject", tag = "hits", summary = "Record a hit as a false positive", request_body = Rejection, params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the hit", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn reject(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<Rejection>,
) -> ApiResult<tabadul_node::HitRecord> {
    let id = parse_id(&id, HitId::parse)?;
    blocking(&state, move |node| node.record_hit_outcome(&actor, id, OutcomeKind::FalsePositive, "", &body.remarks))
        .await
        .map(Json)
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/ack", tag = "hits", summary = "Acknowledge a notification", params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the notification", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn acknowledge(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<tabadul_node::Notification> {
    let id = parse_id(&id, NotificationId::parse)?;
    blocking(&state, move |node| node.acknowledge_notification(&actor, id)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReceiptBody {
    /// What `POST /checks` answered, or its receipt alone.
    document: serde_json::Value,
    /// The signing node's public key (hex); this node's by default.
    #[serde(default)]
    public_key: Option<String>,
}

#[derive(Serialize)]
struct ReceiptAnswer {
    valid: bool,
    problems: Vec<String>,
    verification: tabadul_node::ReceiptVerification,
}

#[utoipa::path(post, path = "/api/v1/receipts/verify", tag = "checks", summary = "Verify a check's receipt (and the check given with it)", request_body = ReceiptBody, responses((status = 200, description = "the verification", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn verify_receipt(
    State(state): Shared,
    Caller(_): Caller,
    Body(body): Body<ReceiptBody>,
) -> ApiResult<ReceiptAnswer> {
    let trusted = body.public_key.unwrap_or_else(|| state.key.public_hex());
    let verification = tabadul_node::verify_receipt(&body.document, &trusted)?;
    Ok(Json(ReceiptAnswer { valid: verification.is_valid(), problems: verification.problems(), verification }))
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", summary = "Recompute the audit chain", responses((status = 200, description = "the report", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn verify_audit(State(state): Shared, Caller(actor): Caller) -> ApiResult<tabadul_node::AuditReport> {
    blocking(&state, move |node| node.verify_audit(&actor)).await.map(Json)
}

#[derive(Serialize)]
struct NodeStatus {
    node_key: String,
    alerts: u64,
    /// How far replication is with each partner node, if this node federates.
    #[serde(skip_serializing_if = "Option::is_none")]
    federation: Option<tabadul_federation::Status>,
    /// Set on a border post: whose data it replicates, and how far each origin's stream is
    /// applied (what its receipts name).
    #[serde(skip_serializing_if = "Option::is_none")]
    replica: Option<ReplicaStatus>,
    user: String,
    agency: Option<AgencyCode>,
    roles: Vec<tabadul_domain::Role>,
}

#[derive(Serialize)]
struct ReplicaStatus {
    agency: AgencyCode,
    post: String,
    data_version: Vec<tabadul_node::DataHead>,
}

#[utoipa::path(get, path = "/api/v1/node", tag = "node", summary = "Who you are; the node's key; the number of alerts; replication with partner nodes", responses((status = 200, description = "the status", body = serde_json::Value), Errors), security(("bearer" = [])))]
async fn node_status(State(state): Shared, Caller(actor): Caller) -> ApiResult<NodeStatus> {
    let (alerts, federation) = blocking(&state, |node| {
        let federation = node.store().federation_state()?.and_then(|text| {
            serde_json::from_str::<tabadul_federation::NodeState>(&text).ok().map(|state| state.status())
        });
        Ok((node.store().alert_count()?, federation))
    })
    .await?;
    let replica = state.node.replica().map(|replica| ReplicaStatus {
        agency: replica.agency,
        post: replica.post,
        data_version: state.node.replica_version(),
    });
    Ok(Json(NodeStatus {
        node_key: state.key.public_hex(),
        alerts,
        federation,
        replica,
        user: actor.user,
        agency: actor.agency,
        roles: actor.roles,
    }))
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

/// Serves the API on `listen` until SIGINT or SIGTERM, on a runtime of its own, over TLS when
/// given a configuration; the screening index is built in the background (`/ready` answers
/// once it is).
pub fn run(
    node: Node,
    key: NodeKey,
    listen: std::net::SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let state = AppState::new(node.clone(), key, cores * 2);
        tokio::task::spawn_blocking(move || {
            if let Err(error) = node.prepare_index() {
                tracing::error!(%error, "building the screening index failed");
            }
        });
        match tls {
            Some(tls) => tls::serve(listener, router(state), tls, shutdown_signal()).await,
            None => serve(listener, router(state), shutdown_signal()).await,
        }
    })
}
