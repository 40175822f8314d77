//! The endpoints that change what a node holds: agencies, users, agreements, alerts and their
//! links, and the audit log's entries for auditors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use tabadul_domain::{
    Action, Agency, AgencyCode, AgreementId, AlertId, Category, CountryCode, HandlingCode, LinkKind, Role,
    SharingLevel, Subject, User,
};
use tabadul_node::{AgreementDraft, AlertDraft};

use crate::error::Errors;
use crate::{ApiError, AppState, Body, Caller, Params, blocking, parse_id};

type Shared = State<Arc<AppState>>;

#[utoipa::path(get, path = "/api/v1/agencies", tag = "agencies", summary = "All agencies", responses((status = 200, description = "agencies", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn agencies(State(state): Shared, Caller(actor): Caller) -> Result<Json<Vec<Agency>>, ApiError> {
    blocking(&state, move |node| node.agencies(&actor)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    #[schema(value_type = String)]
    code: AgencyCode,
    #[schema(value_type = String)]
    country: CountryCode,
    name: String,
    #[serde(default)]
    name_ar: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies", tag = "agencies", summary = "Add an agency (administrator)", request_body = NewAgency, responses((status = 201, description = "the agency", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn add_agency(
    State(state): Shared,
    Caller(actor): Caller,
    Body(body): Body<NewAgency>,
) -> Result<impl IntoResponse, ApiError> {
    let agency = Agency::new(body.code, body.country, body.name, body.name_ar)
        .map_err(|e| ApiError::new("invalid", e.to_string()))?;
    let agency = blocking(&state, move |node| node.add_agency(&actor, agency)).await?;
    Ok((StatusCode::CREATED, Json(agency)))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", summary = "Users you manage", responses((status = 200, description = "users", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn users(State(state): Shared, Caller(actor): Caller) -> Result<Json<Vec<User>>, ApiError> {
    blocking(&state, move |node| node.users(&actor)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    #[schema(value_type = String)]
    agency: AgencyCode,
    #[schema(value_type = Vec<String>)]
    roles: Vec<Role>,
    #[serde(default)]
    full_name: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", summary = "Add a user (supervisor of its agency, or administrator)", request_body = NewUser, responses((status = 201, description = "the user", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn add_user(
    State(state): Shared,
    Caller(actor): Caller,
    Body(body): Body<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let user =
        User { name: body.name, agency: body.agency, roles: body.roles, full_name: body.full_name, disabled: false };
    let user = blocking(&state, move |node| node.add_user(&actor, user, &body.password)).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    title: String,
    #[schema(value_type = Vec<String>)]
    parties: Vec<AgencyCode>,
    #[schema(value_type = Object)]
    levels: BTreeMap<Category, SharingLevel>,
    #[serde(default, with = "tabadul_domain::serde_date::option")]
    #[schema(value_type = Option<String>)]
    valid_from: Option<time::Date>,
    #[serde(default, with = "tabadul_domain::serde_date::option")]
    #[schema(value_type = Option<String>)]
    valid_until: Option<time::Date>,
    legal_reference: String,
}

#[utoipa::path(post, path = "/api/v1/agreements", tag = "agreements", summary = "Make an agreement your agency is party to", request_body = NewAgreement, responses((status = 201, description = "the agreement", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn add_agreement(
    State(state): Shared,
    Caller(actor): Caller,
    Body(body): Body<NewAgreement>,
) -> Result<impl IntoResponse, ApiError> {
    let draft = AgreementDraft {
        title: body.title,
        parties: body.parties,
        levels: body.levels.into_iter().collect(),
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        legal_reference: body.legal_reference,
    };
    let agreement = blocking(&state, move |node| node.add_agreement(&actor, draft)).await?;
    Ok((StatusCode::CREATED, Json(agreement)))
}

#[utoipa::path(get, path = "/api/v1/agreements/{id}", tag = "agreements", summary = "One agreement", params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the agreement", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn agreement(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<tabadul_domain::Agreement>, ApiError> {
    let id = parse_id(&id, AgreementId::parse)?;
    blocking(&state, move |node| node.agreement(&actor, id)).await.map(Json)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    #[serde(default, with = "tabadul_domain::serde_date::option")]
    #[schema(value_type = Option<String>)]
    on: Option<time::Date>,
}

#[utoipa::path(post, path = "/api/v1/agreements/{id}/consent", tag = "agreements", summary = "Consent, for your agency, to an agreement another party proposed: it applies once every party has", params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the agreement", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn consent_to_agreement(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<tabadul_domain::Agreement>, ApiError> {
    let id = parse_id(&id, AgreementId::parse)?;
    blocking(&state, move |node| node.consent_to_agreement(&actor, id)).await.map(Json)
}

#[utoipa::path(post, path = "/api/v1/agreements/{id}/revoke", tag = "agreements", summary = "Revoke an agreement from a day (today by default)", request_body = Revocation, params(("id" = String, Path, description = "a UUID")), responses((status = 200, description = "the agreement", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn revoke_agreement(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<Revocation>,
) -> Result<Json<tabadul_domain::Agreement>, ApiError> {
    let id = parse_id(&id, AgreementId::parse)?;
    blocking(&state, move |node| node.revoke_agreement(&actor, id, body.on)).await.map(Json)
}

/// An alert as its owner writes it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertBody {
    #[schema(value_type = String)]
    category: Category,
    #[schema(value_type = Object)]
    subject: Subject,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    action: Option<Action>,
    #[serde(default)]
    #[schema(value_type = Object)]
    handling: HandlingCode,
    #[serde(default, with = "tabadul_domain::serde_date::option")]
    #[schema(value_type = Option<String>)]
    review_date: Option<time::Date>,
    #[serde(default, with = "tabadul_domain::serde_date::option")]
    #[schema(value_type = Option<String>)]
    expires: Option<time::Date>,
    #[serde(default)]
    remarks: String,
    #[serde(default)]
    refer_to: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts", summary = "Create an alert of your agency", request_body = AlertBody, responses((status = 201, description = "the alert", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn add_alert(
    State(state): Shared,
    Caller(actor): Caller,
    Body(body): Body<AlertBody>,
) -> Result<impl IntoResponse, ApiError> {
    let draft = AlertDraft {
        category: body.category,
        subject: body.subject,
        action: body.action,
        handling: body.handling,
        review_date: body.review_date,
        expires: body.expires,
        remarks: body.remarks,
        source_id: None,
        refer_to: body.refer_to,
    };
    let stored = blocking(&state, move |node| node.create_alert(&actor, draft)).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionParam {
    version: Option<u64>,
}

/// Replaces an alert's content (its category, subject, action...): the version read must be
/// the current one (`?version=N`), so that two analysts never overwrite each other unseen.
#[utoipa::path(put, path = "/api/v1/alerts/{id}", tag = "alerts", summary = "Replace an alert's content, at the version read", request_body = AlertBody, params(("id" = String, Path, description = "a UUID"), VersionParam), responses((status = 200, description = "the alert", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn update_alert(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Params(params): Params<VersionParam>,
    Body(body): Body<AlertBody>,
) -> Result<Json<tabadul_store::StoredAlert>, ApiError> {
    let id = parse_id(&id, AlertId::parse)?;
    let version = params.version.ok_or_else(|| ApiError::new("invalid", "give the version you read: ?version=N"))?;
    blocking(&state, move |node| {
        node.update_alert(&actor, id, Some(version), |alert| {
            alert.category = body.category;
            alert.subject = body.subject;
            alert.action = body.action;
            alert.handling = body.handling;
            alert.review_date = body.review_date;
            alert.expires = body.expires;
            alert.remarks = body.remarks;
            alert.refer_to = body.refer_to;
            Ok(())
        })
    })
    .await
    .map(Json)
}

#[utoipa::path(delete, path = "/api/v1/alerts/{id}", tag = "alerts", summary = "Delete an alert of your agency", params(("id" = String, Path, description = "a UUID"), VersionParam), responses((status = 204, description = "deleted"), Errors), security(("bearer" = [])))]
pub async fn delete_alert(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Params(params): Params<VersionParam>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, AlertId::parse)?;
    blocking(&state, move |node| node.delete_alert(&actor, id, params.version)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    #[schema(value_type = String)]
    to: AlertId,
    #[schema(value_type = String)]
    kind: LinkKind,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/links", tag = "alerts", summary = "Link two alerts your agency sees in full", request_body = NewLink, params(("id" = String, Path, description = "a UUID")), responses((status = 201, description = "the link", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn link_alert(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(body): Body<NewLink>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id, AlertId::parse)?;
    let link = blocking(&state, move |node| node.link_alerts(&actor, id, body.to, body.kind)).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries after this sequence number.
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
    /// Only this operation, or its family (`alert` for every `alert.*`).
    operation: Option<String>,
    /// Only what this user did.
    user: Option<String>,
    /// Only entries that name this alert (or other target).
    target: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", summary = "Audit log entries in order, searched by operation, user and alert", params(AuditParams), responses((status = 200, description = "entries", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn audit_entries(
    State(state): Shared,
    Caller(actor): Caller,
    Params(params): Params<AuditParams>,
) -> Result<Json<Vec<tabadul_audit::AuditEntry>>, ApiError> {
    let nonempty = |text: Option<String>| text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let query = tabadul_node::AuditQuery {
        after: params.after,
        limit: params.limit.unwrap_or(100).clamp(1, 1000),
        operation: nonempty(params.operation),
        user: nonempty(params.user),
        target: nonempty(params.target),
    };
    blocking(&state, move |node| node.search_audit(&actor, &query)).await.map(Json)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    /// How many days back, today included (1 to 366; default 30).
    days: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/dashboard", tag = "audit", summary = "Your agency's checks and hits by day, border post, category and action", params(DashboardParams), responses((status = 200, description = "the dashboard", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn dashboard(
    State(state): Shared,
    Caller(actor): Caller,
    Params(params): Params<DashboardParams>,
) -> Result<Json<tabadul_node::Dashboard>, ApiError> {
    let days = params.days.unwrap_or(30);
    blocking(&state, move |node| node.dashboard(&actor, days)).await.map(Json)
}

/// A change to a user; what is left out stays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    roles: Option<Vec<Role>>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    password: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "users", summary = "Change a user's roles, name, password, or disable it (its tokens stop working)", request_body = UserPatch, params(("name" = String, Path, description = "the login name")), responses((status = 200, description = "the user", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn update_user(
    State(state): Shared,
    Caller(actor): Caller,
    Path(name): Path<String>,
    Body(patch): Body<UserPatch>,
) -> Result<Json<User>, ApiError> {
    let change = tabadul_node::UserChange {
        roles: patch.roles,
        full_name: patch.full_name,
        disabled: patch.disabled,
        password: patch.password,
    };
    blocking(&state, move |node| node.update_user(&actor, &name, change)).await.map(Json)
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "sessions", summary = "Your tokens, without their secrets", responses((status = 200, description = "tokens", body = serde_json::Value), Errors), security(("bearer" = [])))]
pub async fn tokens(
    State(state): Shared,
    Caller(actor): Caller,
) -> Result<Json<Vec<tabadul_node::TokenInfo>>, ApiError> {
    blocking(&state, move |node| node.tokens(&actor)).await.map(Json)
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "sessions", summary = "Revoke one of your tokens", params(("id" = String, Path, description = "the token's id, as listed")), responses((status = 204, description = "revoked"), Errors), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): Shared,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |node| node.revoke_token_by_id(&actor, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
