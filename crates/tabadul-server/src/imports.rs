//! Bulk imports of FollowTheMoney JSON lines as jobs: the body is streamed to a file (plain or
//! gzip, up to [`IMPORT_BYTES_MAX`]), the node imports it in the background, and the job
//! reports its progress until it is done.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tabadul_domain::{AgencyCode, Category, HandlingCode};
use tabadul_node::{ImportOptions, ImportProgress, ImportSummary};

use crate::error::Errors;
use crate::{ApiError, AppState, Caller, Params};

/// The largest file one import takes.
pub const IMPORT_BYTES_MAX: u64 = 2 << 30;
/// Imports that may run at once; more are refused as `busy`.
const IMPORTS_AT_ONCE: usize = 1;
/// Finished jobs remembered, at most (the oldest are forgotten first).
const JOBS_KEPT_MAX: usize = 100;

/// Where an import job is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    pub user: String,
    /// `running`, `done` or `failed`.
    pub state: &'static str,
    #[schema(value_type = Object)]
    pub progress: Option<ImportProgress>,
    #[schema(value_type = Object)]
    pub summary: Option<ImportSummary>,
    pub error: Option<String>,
}

/// The jobs of a server.
#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<BTreeMap<String, Job>>,
}

impl Jobs {
    fn update(&self, id: &str, change: impl FnOnce(&mut Job)) {
        if let Ok(mut jobs) = self.jobs.lock()
            && let Some(job) = jobs.get_mut(id)
        {
            change(job);
        }
    }

    fn running(&self) -> usize {
        self.jobs.lock().map_or(0, |jobs| jobs.values().filter(|j| j.state == "running").count())
    }

    fn insert(&self, job: Job) {
        if let Ok(mut jobs) = self.jobs.lock() {
            while jobs.len() >= JOBS_KEPT_MAX {
                let Some(oldest) = jobs.iter().find(|(_, j)| j.state != "running").map(|(id, _)| id.clone()) else {
                    break;
                };
                jobs.remove(&oldest);
            }
            jobs.insert(job.id.clone(), job);
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The category of the alerts made (a person category).
    #[param(value_type = String)]
    category: Category,
    /// H0 (default), H1, H2, or H3 with `handling_text`.
    #[serde(default)]
    handling: Option<String>,
    #[serde(default)]
    handling_text: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "alerts",
    summary = "Import FollowTheMoney JSON lines (plain or gzip) as person alerts of your agency, as a job",
    params(ImportParams),
    request_body(
        description = "FollowTheMoney entities, one JSON object a line (gzip too); any content type",
        content((String = "application/x-ndjson"), (String = "text/plain"))
    ),
    responses((status = 202, description = "the job, running", body = Job), Errors),
    security(("bearer" = []))
)]
pub async fn start(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Params(params): Params<ImportParams>,
    request: axum::extract::Request,
) -> Result<impl IntoResponse, ApiError> {
    actor.require(&[tabadul_domain::Role::Analyst])?;
    let agency = actor.agency.clone().ok_or_else(|| ApiError::new("invalid", "an import needs an agency"))?;
    let handling = HandlingCode::parse(params.handling.as_deref().unwrap_or("H0"), params.handling_text.as_deref())
        .map_err(|e| ApiError::new("invalid", e.to_string()))?;
    if state.jobs.running() >= IMPORTS_AT_ONCE {
        return Err(ApiError::new("busy", "an import is running: try again when it is done"));
    }
    // The body, streamed to a file of its own (the import reads it twice).
    let id = uuid_like();
    let path = std::env::temp_dir().join(format!("tabadul-import-{id}.ftm"));
    let mut file = std::fs::File::create(&path)
        .map_err(|e| ApiError::new("internal", format!("the upload could not be stored: {e}")))?;
    let mut written = 0u64;
    let mut body = request.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::new("malformed", format!("the upload broke off: {e}")))?;
        written += chunk.len() as u64;
        if written > IMPORT_BYTES_MAX {
            let _ = std::fs::remove_file(&path);
            return Err(ApiError::new("too-large", format!("an import is at most {IMPORT_BYTES_MAX} bytes")));
        }
        file.write_all(&chunk)
            .map_err(|e| ApiError::new("internal", format!("the upload could not be stored: {e}")))?;
    }
    drop(file);
    if written == 0 {
        let _ = std::fs::remove_file(&path);
        return Err(ApiError::new("invalid", "the upload is empty: send FollowTheMoney JSON lines"));
    }
    let job = Job {
        id: id.clone(),
        agency,
        user: actor.user.clone(),
        state: "running",
        progress: None,
        summary: None,
        error: None,
    };
    state.jobs.insert(job.clone());
    let options = ImportOptions { category: params.category, handling, batch_size: tabadul_node::IMPORT_BATCH_DEFAULT };
    let worker = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut report = |progress: ImportProgress| worker.jobs.update(&id, |job| job.progress = Some(progress));
        let result = worker.node.import_ftm(&actor, &path, &options, &mut report);
        let _ = std::fs::remove_file(&path);
        worker.jobs.update(&id, |job| match result {
            Ok(summary) => {
                job.state = "done";
                job.summary = Some(summary);
            }
            Err(error) => {
                job.state = "failed";
                job.error = Some(error.to_string());
            }
        });
    });
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "alerts",
    summary = "Where an import job of your agency is",
    params(("id" = String, Path, description = "the job's id")),
    responses((status = 200, description = "the job", body = Job), Errors),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    let job = state.jobs.jobs.lock().ok().and_then(|jobs| jobs.get(&id).cloned());
    // Another agency's job is not found, as if it did not exist.
    match job.filter(|job| Some(&job.agency) == actor.agency.as_ref()) {
        Some(job) => Ok(Json(job)),
        None => Err(ApiError::new("not-found", format!("import job {id} not found"))),
    }
}

/// A job id: the time and a counter, unique in this server.
fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
    format!("{now:x}-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}
