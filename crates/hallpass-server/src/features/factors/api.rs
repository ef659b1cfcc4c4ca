//! `POST /v1/factors/totp`, `POST /v1/factors/totp/confirm`, `GET /v1/factors`,
//! `DELETE /v1/factors/{id}`, `POST /v1/factors/recovery-codes`.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
};
use hallpass_core::factor::FactorId;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::ops;
use crate::{
    error::ApiError,
    http::{
        extract::{AppJson, Authenticated},
        json::FactorJson,
    },
    operation::{Client, OpError},
    state::AppState,
};

/// Both optional: the default name, and no password within the re-authentication window.
#[derive(Deserialize, Default)]
pub(crate) struct StartRequest {
    name: Option<String>,
    #[serde(default)]
    current_password: String,
}

#[derive(Serialize)]
pub(crate) struct StartResponse {
    id: Uuid,
    /// Base32, for typing into the app.
    secret: String,
    otpauth_uri: String,
    /// The URI as a QR code, inline SVG drawn by the server.
    qr_svg: Option<String>,
}

/// 201: the secret to put into the app; it counts once confirmed with a code from it.
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Authenticated,
    body: Bytes,
) -> Result<(StatusCode, Json<StartResponse>), ApiError> {
    let body: StartRequest = optional_json(&body)?;
    let enrollment = ops::start_totp(
        &state,
        caller.caller(),
        body.name.as_deref(),
        &body.current_password,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(StartResponse {
            id: enrollment.id.0,
            qr_svg: super::qr::svg(&enrollment.otpauth_uri),
            secret: enrollment.secret,
            otpauth_uri: enrollment.otpauth_uri,
        }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct ConfirmRequest {
    code: String,
}

#[derive(Serialize)]
pub(crate) struct CodesResponse {
    /// Shown once. Empty when confirming a second factor: the existing codes stay.
    recovery_codes: Vec<String>,
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    AppJson(body): AppJson<ConfirmRequest>,
) -> Result<Json<CodesResponse>, ApiError> {
    let recovery_codes = ops::confirm_totp(&state, caller.caller(), &body.code, &client).await?;
    Ok(Json(CodesResponse { recovery_codes }))
}

#[derive(Serialize)]
pub(crate) struct ListResponse {
    factors: Vec<FactorJson>,
    recovery_codes_left: u32,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<ListResponse>, ApiError> {
    let (factors, left) = ops::list(&state, caller.user.id).await?;
    Ok(Json(ListResponse {
        factors: factors.iter().map(FactorJson::from).collect(),
        recovery_codes_left: left,
    }))
}

#[derive(Deserialize, Default)]
pub(crate) struct ConfirmIdentity {
    #[serde(default)]
    current_password: String,
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| OpError::NotFound)?;
    let body: ConfirmIdentity = optional_json(&body)?;
    ops::remove(
        &state,
        caller.caller(),
        FactorId(id),
        &body.current_password,
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn regenerate_codes(
    State(state): State<AppState>,
    client: Client,
    caller: Authenticated,
    body: Bytes,
) -> Result<Json<CodesResponse>, ApiError> {
    let body: ConfirmIdentity = optional_json(&body)?;
    let recovery_codes =
        ops::regenerate_codes(&state, caller.caller(), &body.current_password, &client).await?;
    Ok(Json(CodesResponse { recovery_codes }))
}

/// A JSON body that may be left out entirely (these requests have only optional fields).
fn optional_json<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidRequest(format!("the body: {e}")))
}
