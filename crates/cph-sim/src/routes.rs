//! The HTTP face of the simulator: [`router`] builds the whole route table (reading it shows the
//! whole API), and every API route has one handler shape, [`operation`]: decode the request into
//! the type its [`Backend`] method takes ([`Decoded`], the CPH error envelope when it cannot),
//! call the method, answer. The gate in front of every `/v1` route counts the request, injects
//! latency and faults before the service acts, and checks the credentials. A batch operation's
//! answer may then be replaced by an acted fault: a 500 under the same request id, or an answer
//! marked [`DropConnection`] that the gate never lets out (it drops the connection). Errors
//! become the CPH envelope in [`error_response`] only.
//!
//! Outside `/v1`, without authentication (loopback instruments): the admin API under `/_sim/`,
//! and `POST /_sim/connect`, the stand-in for the phone's access gateway that a client presents
//! a BatchShowPhoneConnectInfos ticket to ([`sim_connect`]).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Path, RawPathParams, Request, State,
};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, delete, get, on, post, put};
use axum::{Json, Router};
use cph_types::{BatchEntry, BatchResponse, CONNECTION_PATH_SUFFIX, ErrorBody};
use serde::{Deserialize, Serialize};

use crate::auth::{Credentials, Received, authenticate};
use crate::backend::{ActedFault, Backend};
use crate::config::Faults;
use crate::conn::Connection;
use crate::decode::{Decode, Input, Submission};
use crate::error::SimError;

/// The largest request body accepted, in bytes (a 1000-phone batch is well below).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Header carrying the request id on every `/v1` answer.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The name `POST /_sim/connect` is counted under in [`crate::Stats::requests`].
const SIM_CONNECT: &str = "SimConnect";

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) backend: Arc<Backend>,
    pub(crate) credentials: Arc<Credentials>,
}

/// The request id the gate issued for this call.
#[derive(Clone, Debug)]
struct RequestId(String);

/// Marks an answer that must never be written: the gate drops the connection instead, so the
/// client gets no answer at all (the acted-drop fault).
#[derive(Clone, Copy, Debug)]
struct DropConnection;

/// A backend method serving one API operation: the decoded request, the request id, the time.
type Operation<T, R> = fn(&Backend, T, &str, SystemTime) -> Result<R, SimError>;

/// One API route: its path below `/v1/{project_id}/cloud-phone/`, its operation's name (for the
/// counters) and its handler.
struct ApiRoute {
    suffix: String,
    name: &'static str,
    handler: MethodRouter<AppState>,
}

/// A batch operation's route: path and name from cph-types' [`cph_types::BatchOperation`].
fn batch<E>(backend_method: Operation<Submission<E>, BatchResponse>) -> ApiRoute
where
    E: BatchEntry + Send + 'static,
    E::Shared: Send,
{
    let operation = E::OPERATION;
    api(
        MethodFilter::POST,
        operation.path_suffix(),
        operation.api_name(),
        backend_method,
    )
}

/// Any other operation's route.
fn api<T, R>(
    method: MethodFilter,
    suffix: &str,
    name: &'static str,
    backend_method: Operation<T, R>,
) -> ApiRoute
where
    T: Decode + Send + 'static,
    R: Serialize + Send + 'static,
{
    ApiRoute {
        suffix: suffix.to_owned(),
        name,
        handler: operation(method, backend_method),
    }
}

/// The whole API: six batch operations, the connection call, jobs, phones, the admin API, the
/// access gateway's stand-in and the fallback.
pub(crate) fn router(state: AppState) -> Router {
    const GET: MethodFilter = MethodFilter::GET;
    let table = [
        batch(Backend::reset_cloud_phone),
        batch(Backend::restart_cloud_phone),
        batch(Backend::stop_cloud_phone),
        batch(Backend::update_cloud_phone_property),
        batch(Backend::restore_cloud_phone_data),
        batch(Backend::export_cloud_phone_data),
        api(
            MethodFilter::POST,
            CONNECTION_PATH_SUFFIX,
            "BatchShowPhoneConnectInfos",
            Backend::batch_show_phone_connect_infos,
        ),
        api(GET, "jobs/{job_id}", "ShowJob", Backend::show_job),
        api(GET, "jobs", "ListJobs", Backend::list_jobs),
        api(GET, "phones", "ListCloudPhones", Backend::list_cloud_phones),
        api(
            GET,
            "phones/{phone_id}",
            "ShowCloudPhoneDetail",
            Backend::show_cloud_phone_detail,
        ),
    ];
    let mut routes = Router::new();
    for route in table {
        let gated = route.handler.layer(middleware::from_fn_with_state(
            (state.clone(), route.name),
            gate,
        ));
        let path = format!("/v1/{{project_id}}/cloud-phone/{}", route.suffix);
        routes = routes.route(&path, gated);
    }
    routes
        .route("/_sim/stats", get(admin_stats))
        .route("/_sim/stats/reset", post(admin_reset_stats))
        .route("/_sim/faults", get(admin_faults).put(admin_set_faults))
        .route("/_sim/phones", get(admin_phones))
        .route("/_sim/phones/{phone_id}", delete(admin_delete_phone))
        .route(
            "/_sim/phones/{phone_id}/property",
            put(admin_set_phone_property),
        )
        .route(
            "/_sim/phones/{phone_id}/fail-next-job",
            post(admin_fail_next_job),
        )
        .route("/_sim/connect", post(sim_connect))
        .fallback(unknown_api)
        .method_not_allowed_fallback(unknown_api)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// The one handler shape of every API route: decode the request into what `backend_method`
/// takes (or answer the CPH error envelope), call it, answer. A batch operation's 200 may then be
/// replaced by an acted fault: a 500 `CPS.0003` under the request id the jobs were recorded
/// with, or no answer at all.
fn operation<T, R>(method: MethodFilter, backend_method: Operation<T, R>) -> MethodRouter<AppState>
where
    T: Decode + Send + 'static,
    R: Serialize + Send + 'static,
{
    on(
        method,
        move |State(state): State<AppState>, Decoded(request, request_id): Decoded<T>| async move {
            let result = backend_method(&state.backend, request, &request_id.0, SystemTime::now());
            let body = match result {
                Ok(body) => body,
                Err(error) => return error_response(&request_id.0, &error),
            };
            if !T::ACTS {
                return Json(body).into_response();
            }
            match state.backend.decide_acted_fault() {
                None => Json(body).into_response(),
                Some(ActedFault::Error) => {
                    error_response(&request_id.0, &SimError::ServerErrorAfterActing)
                }
                Some(ActedFault::Drop) => {
                    let mut response =
                        error_response(&request_id.0, &SimError::ServerErrorAfterActing);
                    response.extensions_mut().insert(DropConnection);
                    response
                }
            }
        },
    )
}

/// The request `T` an operation takes, decoded from the path parameters, the query and the body,
/// with the request id the gate issued; the CPH error envelope under that id when it cannot be.
struct Decoded<T>(T, RequestId);

impl<T: Decode + Send> FromRequest<AppState> for Decoded<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(state.backend.new_request_id()));
        let refuse = |error: SimError| error_response(&request_id.0, &error);
        let params: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| refuse(SimError::invalid("path", e.body_text())))?
            .iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
            refuse(SimError::invalid(
                "body",
                format!("The body could not be read: {e}."),
            ))
        })?;
        let input = Input {
            params: &params,
            query: parts.uri.query().unwrap_or_default(),
            body: &body,
        };
        match T::decode(&input) {
            Ok(decoded) => Ok(Decoded(decoded, request_id)),
            Err(error) => Err(refuse(error)),
        }
    }
}

/// The one place a [`SimError`] becomes the wire envelope: status, `{request_id, error_code,
/// error_msg}`, `X-Request-Id`, and `Retry-After: 1` on throttling.
fn error_response(request_id: &str, error: &SimError) -> Response {
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ErrorBody::new(error.error_code(), error.error_msg()).with_request_id(request_id);
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    if matches!(error, SimError::Throttled) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// In front of every `/v1` route: counts, delays, authenticates, injects faults, issues the
/// request id, and stamps `X-Request-Id` on the answer; drops the connection, unanswered, when the
/// handler marked its answer [`DropConnection`].
async fn gate(
    State((state, operation)): State<(AppState, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let backend = &state.backend;
    backend.count_request(Some(operation), SystemTime::now());
    let request_id = backend.new_request_id();
    let (mut parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return error_response(
                &request_id,
                &SimError::invalid("body", format!("The body could not be read: {e}.")),
            );
        }
    };
    let faults = backend.decide_faults();
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let path = parts.uri.path();
    let project = path.split('/').nth(2).unwrap_or_default();
    let received = Received {
        method: parts.method.as_str(),
        path,
        query: parts.uri.query(),
        headers: &headers,
        body: &bytes,
    };
    if let Err(error) = authenticate(&received, &state.credentials, project, SystemTime::now()) {
        return error_response(&request_id, &error);
    }
    if let Some(error) = faults.error {
        return error_response(&request_id, &error);
    }
    let connection = parts
        .extensions
        .get::<ConnectInfo<Connection>>()
        .map(|info| info.0.clone());
    parts.extensions.insert(RequestId(request_id.clone()));
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.extensions().get::<DropConnection>().is_some() {
        match connection {
            Some(connection) => connection.drop_without_answer(),
            // Not served by `Simulator` (no connection to drop): the marked answer, a 500
            // under the request id, goes out instead; never the 200.
            None => tracing::warn!("no connection to drop; answering 500 instead"),
        }
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response
}

/// One log line per request on stderr: method, path, status, latency. No headers, no body.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = if response.extensions().get::<DropConnection>().is_some() {
        "dropped".to_owned()
    } else {
        response.status().as_u16().to_string()
    };
    tracing::info!(
        %method,
        %path,
        %status,
        latency_ms = %format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    response
}

/// Any path or method that names no API: the gateway's 404, counted when under `/v1`.
async fn unknown_api(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/v1/") {
        state.backend.count_request(None, SystemTime::now());
    }
    let error = SimError::ApiNotFound {
        method: request.method().to_string(),
        path: path.to_owned(),
    };
    error_response(&state.backend.new_request_id(), &error)
}

async fn admin_stats(State(state): State<AppState>) -> Response {
    Json(state.backend.stats()).into_response()
}

async fn admin_reset_stats(State(state): State<AppState>) -> StatusCode {
    state.backend.reset_stats();
    StatusCode::NO_CONTENT
}

async fn admin_faults(State(state): State<AppState>) -> Response {
    Json(state.backend.faults()).into_response()
}

async fn admin_set_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let result = serde_json::from_slice::<Faults>(&body)
        .map_err(|e| SimError::invalid("body", format!("The body is not a fault setting: {e}.")))
        .and_then(|faults| {
            state.backend.set_faults(faults.clone())?;
            Ok(faults)
        });
    match result {
        Ok(faults) => Json(faults).into_response(),
        Err(error) => error_response("", &error),
    }
}

/// The fixture: every phone as ShowCloudPhoneDetail would answer it, in fixture order.
async fn admin_phones(State(state): State<AppState>) -> Response {
    let phones = state.backend.phones(SystemTime::now());
    Json(serde_json::json!({ "count": phones.len(), "phones": phones })).into_response()
}

/// Body of `PUT /_sim/phones/{phone_id}/property`.
#[derive(Debug, Deserialize)]
struct PropertyChange {
    key: String,
    value: String,
}

async fn admin_set_phone_property(
    State(state): State<AppState>,
    Path(phone_id): Path<String>,
    body: Bytes,
) -> Response {
    let change = match serde_json::from_slice::<PropertyChange>(&body) {
        Ok(change) => change,
        Err(e) => {
            let error = SimError::invalid(
                "body",
                format!("Expected {{\"key\": .., \"value\": ..}}: {e}."),
            );
            return error_response("", &error);
        }
    };
    if state
        .backend
        .set_phone_property(&phone_id, &change.key, &change.value, SystemTime::now())
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error_response("", &SimError::PhoneNotFound { phone_id })
    }
}

/// `DELETE /_sim/phones/{phone_id}`: the service forgets the phone (204, or 404).
async fn admin_delete_phone(
    State(state): State<AppState>,
    Path(phone_id): Path<String>,
) -> Response {
    if state.backend.delete_phone(&phone_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error_response("", &SimError::PhoneNotFound { phone_id })
    }
}

/// `POST /_sim/phones/{phone_id}/fail-next-job`: the phone's next job fails (204, or 404).
async fn admin_fail_next_job(
    State(state): State<AppState>,
    Path(phone_id): Path<String>,
) -> Response {
    if state.backend.fail_next_job(&phone_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error_response("", &SimError::PhoneNotFound { phone_id })
    }
}

/// Body of `POST /_sim/connect`: what a client presents to the phone's access gateway, from one
/// phone's `access_info` of a BatchShowPhoneConnectInfos answer.
#[derive(Deserialize)]
struct ConnectAttempt {
    phone_id: String,
    session_id: String,
    ticket: String,
}

/// `POST /_sim/connect`: the stand-in for the phone's access gateway, where a client SDK would
/// present its ticket (the simulator serves no phone streams, so connecting stops at the check).
/// 200 `{"connected": true, "phone_id"}` when BatchShowPhoneConnectInfos issued the ticket for
/// that phone and session less than [`cph_types::TICKET_LIFETIME`] ago (by the simulator's
/// clock; a ticket may connect any number of times while valid); 403 `{"connected": false,
/// "phone_id", "error"}` with `unknown ticket`, `ticket expired`, `ticket issued for another
/// phone`, `ticket issued for another session` or `phone not running` (the ticket is valid but
/// the phone was stopped, or is restarting, since); 400 `{"connected": false, "error"}` for a body
/// that is not `{"phone_id", "session_id", "ticket"}`. Counted as `SimConnect`.
async fn sim_connect(State(state): State<AppState>, body: Bytes) -> Response {
    let backend = &state.backend;
    backend.count_sim_request(SIM_CONNECT);
    let attempt = match serde_json::from_slice::<ConnectAttempt>(&body) {
        Ok(attempt) => attempt,
        Err(e) => {
            let error =
                format!("expected {{\"phone_id\": .., \"session_id\": .., \"ticket\": ..}}: {e}");
            let body = serde_json::json!({ "connected": false, "error": error });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let ConnectAttempt {
        phone_id,
        session_id,
        ticket,
    } = attempt;
    match backend.connect(&phone_id, &session_id, &ticket, SystemTime::now()) {
        Ok(()) => {
            Json(serde_json::json!({ "connected": true, "phone_id": phone_id })).into_response()
        }
        Err(refusal) => {
            let body = serde_json::json!({
                "connected": false,
                "phone_id": phone_id,
                "error": refusal.to_string(),
            });
            (StatusCode::FORBIDDEN, Json(body)).into_response()
        }
    }
}
