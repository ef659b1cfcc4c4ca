//! Errors on pages: a page handler returns [`PageError`] like an API handler returns
//! [`ApiError`], and one layer ([`render_page_errors`], on the page routes in `router.rs`)
//! renders it as the error page. No page handler has an error arm of its own.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use crate::operation::OpError;
use crate::{
    error::ApiError,
    infra::{render::Pages, social::next::SafeNext},
};

/// Why a page could not be shown. Anything that converts into an [`ApiError`] converts into
/// this, so page handlers use `?` on operations, the store and extractors' rejections alike.
#[derive(Debug)]
pub(crate) struct PageError(ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

/// Carries the error from the handler to [`render_page_errors`], which has the templates.
#[derive(Clone)]
struct FailedPage(Arc<ApiError>);

impl IntoResponse for PageError {
    /// The status alone, with the error attached for the page layer. Should a route ever lack
    /// that layer, the answer is still the right status, never a blank success.
    fn into_response(self) -> Response {
        let (status, _) = self.0.status_and_code();
        let mut response = (status, message_only(status)).into_response();
        response
            .extensions_mut()
            .insert(FailedPage(Arc::new(self.0)));
        response
    }
}

/// The layer that turns a [`PageError`] into the error page; headers the handler set besides
/// the body's are kept.
pub(crate) async fn render_page_errors(
    State(pages): State<Pages>,
    request: Request,
    next: Next,
) -> Response {
    // Where the refused action was asked from, to come back to after re-authenticating.
    let back = request
        .headers()
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|r| r.path().to_owned());
    let mut response = next.run(request).await;
    let Some(FailedPage(error)) = response.extensions_mut().remove::<FailedPage>() else {
        return response;
    };
    if let ApiError::Op(OpError::ReauthRequired) = &*error {
        let back = back
            .as_deref()
            .and_then(SafeNext::parse)
            .map_or_else(|| "/account".to_owned(), |n| n.as_str().to_owned());
        let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        return Redirect::to(&format!("/reauth?next={next}")).into_response();
    }
    let mut page = error_page(&pages, &error);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().append(name, value.clone());
        }
    }
    page
}

/// An error as a page: an expired session goes back to the login form, anything else gets the
/// error card with the status the API would have answered (and its `Retry-After`).
fn error_page(pages: &Pages, error: &ApiError) -> Response {
    let (status, _) = error.status_and_code();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/login").into_response();
    }
    let message = match error {
        ApiError::Op(OpError::Internal(cause)) => {
            tracing::error!(error = ?cause, "page failed");
            "Something went wrong on our side. Please try again.".to_owned()
        }
        ApiError::Csrf(_) => {
            "This form was sent from another site or has expired. Go back, reload the page and try again.".to_owned()
        }
        other => other.to_string(),
    };
    let context = minijinja::context! {
        title => status.canonical_reason().unwrap_or("Error"),
        status => status.as_u16(),
        message,
    };
    let mut response = match pages.render("error.html", context) {
        Ok(html) => (status, html).into_response(),
        Err(failure) => {
            tracing::error!(error = ?failure, "error page failed");
            (status, message_only(status)).into_response()
        }
    };
    if let Some(after) = error.retry_after() {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

fn message_only(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}
