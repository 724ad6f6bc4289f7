//! The HTTP face of the simulator: [`router`] builds the whole route table (reading it shows the
//! whole API), thin handlers named after the API operations call the [`Backend`], and the gate in
//! front of every `/v1` route counts the request, injects latency and faults before the service
//! acts, and checks the credentials. The batch handlers inject the acted faults after the service
//! performed the batch: a 500 under the same request id, or an answer marked [`DropConnection`]
//! that the gate never lets out (it drops the connection). Errors become the CPH envelope in
//! [`error_response`] only.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use axum::{Extension, Json, Router};
use cph_types::{BatchOperation, ErrorBody};
use serde::{Deserialize, Serialize};

use crate::auth::{Credentials, Received, authenticate, decode_query};
use crate::backend::{ActedFault, Backend};
use crate::config::Faults;
use crate::conn::Connection;
use crate::error::SimError;

/// The largest request body accepted, in bytes (a 1000-phone batch is well below).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Header carrying the request id on every `/v1` answer.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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

/// The whole API: six batch operations, jobs, phones, the admin API and the fallback.
pub(crate) fn router(state: AppState) -> Router {
    let api = |route: MethodRouter<AppState>, operation: &'static str| {
        route.layer(middleware::from_fn_with_state(
            (state.clone(), operation),
            gate,
        ))
    };
    let v1 = |suffix: &str| format!("/v1/{{project_id}}/cloud-phone/{suffix}");
    let batch_operations = [
        (BatchOperation::Reset, post(reset_cloud_phone)),
        (BatchOperation::Restart, post(restart_cloud_phone)),
        (BatchOperation::Stop, post(stop_cloud_phone)),
        (
            BatchOperation::UpdateProperty,
            post(update_cloud_phone_property),
        ),
        (BatchOperation::Restore, post(restore_cloud_phone_data)),
        (BatchOperation::Storage, post(export_cloud_phone_data)),
    ];
    let mut routes = Router::new();
    for (operation, handler) in batch_operations {
        let path = v1(operation.path_suffix());
        routes = routes.route(&path, api(handler, operation.api_name()));
    }
    routes
        .route(&v1("jobs/{job_id}"), api(get(show_job), "ShowJob"))
        .route(&v1("jobs"), api(get(list_jobs), "ListJobs"))
        .route(
            &v1("phones"),
            api(get(list_cloud_phones), "ListCloudPhones"),
        )
        .route(
            &v1("phones/{phone_id}"),
            api(get(show_cloud_phone_detail), "ShowCloudPhoneDetail"),
        )
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
        .fallback(unknown_api)
        .method_not_allowed_fallback(unknown_api)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
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

/// A handler's result as an answer: 200 with the JSON body, or the error envelope.
fn answer<T: Serialize>(request_id: &RequestId, result: Result<T, SimError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error_response(&request_id.0, &error),
    }
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

/// One batch operation: the service acts (or refuses the body with a 400), then an acted fault
/// may replace the 200: a 500 `CPS.0003` under the request id the jobs were recorded with, or no
/// answer at all.
fn batch(
    state: &AppState,
    operation: BatchOperation,
    request_id: &RequestId,
    body: &[u8],
) -> Response {
    let backend = &state.backend;
    let performed = match backend.batch(operation, body, &request_id.0, SystemTime::now()) {
        Ok(performed) => performed,
        Err(error) => return error_response(&request_id.0, &error),
    };
    match backend.decide_acted_fault() {
        None => Json(performed).into_response(),
        Some(ActedFault::Error) => error_response(&request_id.0, &SimError::ServerErrorAfterActing),
        Some(ActedFault::Drop) => {
            let mut response = error_response(&request_id.0, &SimError::ServerErrorAfterActing);
            response.extensions_mut().insert(DropConnection);
            response
        }
    }
}

async fn reset_cloud_phone(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::Reset, &rid, &body)
}

async fn restart_cloud_phone(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::Restart, &rid, &body)
}

async fn stop_cloud_phone(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::Stop, &rid, &body)
}

async fn update_cloud_phone_property(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::UpdateProperty, &rid, &body)
}

async fn restore_cloud_phone_data(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::Restore, &rid, &body)
}

async fn export_cloud_phone_data(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    batch(&state, BatchOperation::Storage, &rid, &body)
}

async fn show_job(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((_project, job_id)): Path<(String, String)>,
) -> Response {
    answer(
        &rid,
        state.backend.show_job(&job_id, &rid.0, SystemTime::now()),
    )
}

async fn list_jobs(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    request: Request,
) -> Response {
    let query = decode_query(request.uri().query().unwrap_or_default());
    answer(
        &rid,
        state.backend.list_jobs(&query, &rid.0, SystemTime::now()),
    )
}

async fn list_cloud_phones(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    request: Request,
) -> Response {
    let query = decode_query(request.uri().query().unwrap_or_default());
    answer(
        &rid,
        state
            .backend
            .list_cloud_phones(&query, &rid.0, SystemTime::now()),
    )
}

async fn show_cloud_phone_detail(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path((_project, phone_id)): Path<(String, String)>,
) -> Response {
    answer(
        &rid,
        state
            .backend
            .show_cloud_phone_detail(&phone_id, &rid.0, SystemTime::now()),
    )
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
