//! `POST /match/{dataset}` in the request and response shapes of OpenSanctions' yente, so that
//! screening clients written for yente can point at tabadul unchanged.
//!
//! Each query is a FollowTheMoney `Person` example; it runs as a check (audited, its hits kept,
//! a receipt signed) at the post `match/{dataset}`, and its hits come back as scored entities:
//! with the alert's names and category at `full` level, with nothing but the owner and what to
//! do at `hit` level.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use tabadul_domain::{CountryCode, Gender, PartialDate};
use tabadul_node::{CheckRequest, Hit};

use crate::error::Errors;
use crate::{ApiError, AppState, Body, Caller, Params, count_check, run_checks};

/// Most queries one match request holds.
pub const MATCH_QUERIES_MAX: usize = 100;
/// Results per query unless `limit` says otherwise, and at most.
const LIMIT_DEFAULT: usize = 5;
const LIMIT_MAX: usize = 100;

/// A property value as yente takes it: one string or a list.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
enum Values {
    One(String),
    Many(Vec<serde_json::Value>),
}

impl Values {
    fn strings(&self) -> Vec<String> {
        match self {
            Values::One(text) => vec![text.clone()],
            Values::Many(values) => values
                .iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(text) => Some(text.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Example {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    schema: String,
    /// FollowTheMoney properties: `name`, `alias`, `firstName`, `lastName`, `birthDate`,
    /// `nationality`, `gender`, `idNumber`, `passportNumber`.
    #[schema(value_type = Object)]
    properties: BTreeMap<String, Values>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MatchRequest {
    /// Accepted for compatibility; tabadul's model has its own weights.
    #[serde(default)]
    #[allow(dead_code)]
    weights: BTreeMap<String, f64>,
    queries: BTreeMap<String, Example>,
}

/// The query parameters yente takes; those tabadul has no use for are accepted and ignored.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MatchParams {
    /// Results per query (default 5, at most 100).
    limit: Option<usize>,
    /// The score from which a result is a `match` (default: tabadul's hit threshold).
    threshold: Option<f64>,
}

#[derive(Serialize)]
struct Total {
    value: usize,
    relation: &'static str,
}

#[derive(Serialize)]
struct ScoredEntity {
    id: String,
    caption: String,
    schema: &'static str,
    properties: BTreeMap<&'static str, Vec<String>>,
    datasets: Vec<String>,
    referents: Vec<String>,
    target: bool,
    first_seen: Option<String>,
    last_seen: Option<String>,
    last_change: Option<String>,
    score: f64,
    features: BTreeMap<&'static str, f64>,
    #[serde(rename = "match")]
    is_match: bool,
}

#[derive(Serialize)]
struct Matches {
    status: u16,
    results: Vec<ScoredEntity>,
    total: Total,
    query: Example,
}

#[derive(Serialize)]
struct FeatureDoc {
    description: &'static str,
    coefficient: f64,
    url: &'static str,
}

#[derive(Serialize)]
pub struct MatchResponse {
    responses: BTreeMap<String, Matches>,
    matcher: BTreeMap<&'static str, FeatureDoc>,
    limit: usize,
}

/// A yente example as a check.
fn request(dataset: &str, example: &Example) -> Result<CheckRequest, ApiError> {
    if example.schema != "Person" {
        return Err(ApiError::new(
            "invalid",
            format!("tabadul matches `Person` entities only, not `{}`", example.schema),
        ));
    }
    let values = |property: &str| example.properties.get(property).map(Values::strings).unwrap_or_default();
    let mut names = values("name");
    names.extend(values("alias"));
    let (first, last) = (values("firstName"), values("lastName"));
    if names.is_empty() && (!first.is_empty() || !last.is_empty()) {
        names.push(format!("{} {}", first.join(" "), last.join(" ")).trim().to_string());
    }
    let nationalities = values("nationality")
        .iter()
        .chain(&values("citizenship"))
        .filter_map(|n| CountryCode::from_alpha2_or_3(n).ok())
        .collect();
    let documents: Vec<String> = values("passportNumber").into_iter().chain(values("idNumber")).collect();
    Ok(CheckRequest {
        post: format!("match/{dataset}"),
        mrz: None,
        names,
        birth_dates: values("birthDate").iter().filter_map(|d| PartialDate::parse(d).ok()).collect(),
        nationalities,
        gender: values("gender").first().and_then(|g| g.parse::<Gender>().ok()),
        document_number: documents.first().cloned(),
        document_state: None,
        vin: None,
        plate: None,
    })
}

fn entity(hit: &Hit, threshold: f64) -> ScoredEntity {
    let score = hit.score.unwrap_or(1.0);
    let mut properties = BTreeMap::new();
    let caption = if hit.level == "full" {
        properties.insert("name", hit.names.clone());
        if let Some(category) = hit.category {
            properties.insert("topics", vec![category.as_str().to_string()]);
        }
        hit.names.first().cloned().unwrap_or_else(|| hit.alert_id.to_string())
    } else {
        format!("Alert of {} (shared at hit level)", hit.owner)
    };
    properties.insert("notes", vec![hit.instruction.clone()]);
    ScoredEntity {
        id: hit.alert_id.to_string(),
        caption,
        schema: "Person",
        properties,
        datasets: vec![format!("tabadul-{}", hit.owner.as_str().to_ascii_lowercase())],
        referents: Vec::new(),
        target: true,
        first_seen: None,
        last_seen: None,
        last_change: None,
        score,
        features: BTreeMap::from([("tabadul", score)]),
        is_match: score >= threshold,
    }
}

#[utoipa::path(
    post,
    path = "/match/{dataset}",
    tag = "yente",
    summary = "Match Person entities, in the shapes of OpenSanctions' yente (dataset `default`)",
    request_body = MatchRequest,
    params(("dataset" = String, Path, description = "`default`: every alert the agency may see"), MatchParams),
    responses((status = 200, description = "scored entities per query", body = serde_json::Value), Errors),
    security(("bearer" = []))
)]
pub async fn match_entities(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Path(dataset): Path<String>,
    Params(params): Params<MatchParams>,
    Body(body): Body<MatchRequest>,
) -> Result<Json<MatchResponse>, ApiError> {
    if dataset != "default" {
        return Err(ApiError::new("not-found", format!("no dataset `{dataset}`: tabadul serves `default`")));
    }
    if body.queries.len() > MATCH_QUERIES_MAX {
        return Err(ApiError::new("invalid", format!("at most {MATCH_QUERIES_MAX} queries in one request")));
    }
    let limit = params.limit.unwrap_or(LIMIT_DEFAULT).clamp(1, LIMIT_MAX);
    let threshold = params.threshold.unwrap_or(f64::from(tabadul_engine_threshold()));
    let requests: Vec<(String, Example, CheckRequest)> = body
        .queries
        .into_iter()
        .map(|(key, example)| request(&dataset, &example).map(|r| (key, example, r)))
        .collect::<Result<_, _>>()?;
    let (examples, requests): (Vec<(String, Example)>, Vec<CheckRequest>) =
        requests.into_iter().map(|(name, example, request)| ((name, example), request)).unzip();
    let outcomes = run_checks(&state, actor, requests).await?.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut responses = BTreeMap::new();
    for ((name, example), outcome) in examples.into_iter().zip(outcomes) {
        count_check(&state, &outcome);
        let hits = &outcome.check.result.persons;
        let results: Vec<ScoredEntity> = hits.iter().take(limit).map(|hit| entity(hit, threshold)).collect();
        let total = Total { value: hits.len(), relation: "eq" };
        responses.insert(name, Matches { status: 200, results, total, query: example });
    }
    let matcher = BTreeMap::from([(
        "tabadul",
        FeatureDoc {
            description: "tabadul's screening score: names across Arabic and Latin scripts with birth date, nationality, gender and documents",
            coefficient: 1.0,
            url: "https://github.com/tabadul/tabadul",
        },
    )]);
    Ok(Json(MatchResponse { responses, matcher, limit }))
}

/// The engine's default hit threshold, as the server knows it (through the node).
fn tabadul_engine_threshold() -> f32 {
    tabadul_node::HIT_THRESHOLD
}
