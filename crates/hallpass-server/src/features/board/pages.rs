//! `/demo/board`: a small community board, the worked example of authentication versus
//! authorization. Anyone may read; a logged-in user may write; only a post's author or an
//! administrator may edit or delete it. Those rules live in `hallpass_core::authz` and are
//! applied by the [`MayModify`] extractor, not by checks inside the handlers. Each account may
//! publish `rate_limit.posts_per_minute` posts a minute (429 with `Retry-After` beyond).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::{
    authz,
    post::{NewPost, Post, PostId, parse_post},
};
use hallpass_store::PostQuery;
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    http::{
        extract::{
            AppQuery, Authenticated, CsrfForm, CsrfOnly, MayModify, PathResource, SessionForm,
            resolve,
        },
        page_error::PageError,
        view::{FieldError, field_errors, human_time, viewer},
    },
    operation::OpError,
    state::AppState,
};

const PAGE_SIZE: u32 = 20;

impl PathResource for Post {
    async fn load(state: &AppState, id: &str) -> Result<Option<Self>, ApiError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        Ok(state.stores.posts.post_by_id(PostId(id)).await?)
    }
}

/// A post as the templates show it.
#[derive(Serialize)]
struct PostView {
    id: String,
    title: String,
    body: String,
    excerpt: String,
    author: String,
    created_at: String,
    edited: bool,
    can_modify: bool,
}

impl PostView {
    fn new(post: &Post, viewer: Option<&Authenticated>) -> Self {
        const EXCERPT_CHARS: usize = 180;
        let mut excerpt: String = post.body.chars().take(EXCERPT_CHARS).collect();
        if post.body.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        Self {
            id: post.id.0.to_string(),
            title: post.title.clone(),
            body: post.body.clone(),
            excerpt,
            author: post.author_name.clone(),
            created_at: human_time(post.created_at),
            edited: post.updated_at != post.created_at,
            can_modify: viewer.is_some_and(|v| authz::can_modify(&v.user, post)),
        }
    }
}

/// The signed-in viewer, if any: the board is readable by everyone.
async fn optional_viewer(state: &AppState, headers: &HeaderMap) -> Option<Authenticated> {
    resolve(state, headers).await.ok().flatten()
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    page: Option<u32>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<AppQuery<ListQuery>, ApiError>,
) -> Result<Response, PageError> {
    let page = query.map_or(1, |AppQuery(q)| q.page.unwrap_or(1)).max(1);
    let caller = optional_viewer(&state, &headers).await;
    Ok(render_list(&state, caller.as_ref(), page).await?)
}

async fn render_list(
    state: &AppState,
    caller: Option<&Authenticated>,
    page: u32,
) -> Result<Response, ApiError> {
    let posts = state
        .stores
        .posts
        .list_posts(&PostQuery {
            limit: PAGE_SIZE,
            offset: (page - 1).saturating_mul(PAGE_SIZE),
        })
        .await?;
    let total = state.stores.posts.count_posts().await?;
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let views: Vec<PostView> = posts.iter().map(|p| PostView::new(p, caller)).collect();
    let html = state.pages.render(
        "board.html",
        minijinja::context! {
            title => "Community board",
            section => "board",
            posts => minijinja::value::Serde(&views),
            total,
            page,
            previous => (page > 1).then(|| page - 1),
            next => (page < pages).then(|| page + 1),
            ..viewer(state, caller)
        },
    )?;
    Ok(html.into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    let caller = optional_viewer(&state, &headers).await;
    let post = Post::load(&state, &id).await?.ok_or(OpError::NotFound)?;
    let html = state.pages.render(
        "board_post.html",
        minijinja::context! {
            title => &post.title,
            section => "board",
            post => minijinja::value::Serde(PostView::new(&post, caller.as_ref())),
            ..viewer(&state, caller.as_ref())
        },
    )?;
    Ok(html.into_response())
}

/// The title and body a post form sends.
#[derive(Deserialize, Default, Serialize)]
pub(crate) struct PostForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default, skip_serializing)]
    csrf_token: String,
}

impl CsrfForm for PostForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Renders the write or edit form (`post` is the one being edited).
fn form_page(
    state: &AppState,
    caller: &Authenticated,
    post: Option<&Post>,
    values: &PostForm,
    status: StatusCode,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let html = state.pages.render(
        "board_form.html",
        minijinja::context! {
            title => if post.is_some() { "Edit post" } else { "Write a post" },
            section => "board",
            editing => post.map(|p| p.id.0.to_string()),
            values => minijinja::value::Serde(values),
            errors => minijinja::value::Serde(errors),
            ..viewer(state, Some(caller))
        },
    )?;
    Ok((status, html).into_response())
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(caller) = resolve(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let values = PostForm::default();
    form_page(&state, &caller, None, &values, StatusCode::OK, &[])
}

pub(crate) async fn create(
    State(state): State<AppState>,
    form: Result<SessionForm<PostForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let (title, body) = match parse_post(&form.title, &form.body) {
        Ok(parsed) => parsed,
        Err(errors) => return invalid(&state, &caller, None, &form, errors),
    };
    // Over the per-minute budget: the error page, with `Retry-After`.
    state.limits.check_post(caller.user.id).await?;
    let new = NewPost {
        id: PostId(uuid::Uuid::now_v7()),
        author: caller.user.id,
        title,
        body,
        created_at: state.clock.now(),
    };
    let post = state.stores.posts.create_post(&new).await?;
    Ok(see_other(&format!("/demo/board/{}", post.id.0)))
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    allowed: Result<MayModify<Post>, ApiError>,
) -> Result<Response, PageError> {
    let MayModify { caller, resource } = allowed?;
    let values = PostForm {
        title: resource.title.clone(),
        body: resource.body.clone(),
        csrf_token: String::new(),
    };
    form_page(
        &state,
        &caller,
        Some(&resource),
        &values,
        StatusCode::OK,
        &[],
    )
}

pub(crate) async fn update(
    State(state): State<AppState>,
    allowed: Result<MayModify<Post>, ApiError>,
    form: Result<SessionForm<PostForm>, ApiError>,
) -> Result<Response, PageError> {
    let post = allowed?.resource;
    let SessionForm { caller, form } = form?;
    let (title, body) = match parse_post(&form.title, &form.body) {
        Ok(parsed) => parsed,
        Err(errors) => return invalid(&state, &caller, Some(&post), &form, errors),
    };
    let updated = state
        .stores
        .posts
        .update_post(post.id, &title, &body, state.clock.now())
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(see_other(&format!("/demo/board/{}", updated.id.0)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    allowed: Result<MayModify<Post>, ApiError>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let post = allowed?.resource;
    form?;
    if !state.stores.posts.delete_post(post.id).await? {
        return Err(OpError::NotFound.into());
    }
    Ok(see_other("/demo/board"))
}

/// The form again, with what was typed and what is wrong with it (422).
fn invalid(
    state: &AppState,
    caller: &Authenticated,
    post: Option<&Post>,
    form: &PostForm,
    errors: Vec<hallpass_core::ValidationError>,
) -> Result<Response, PageError> {
    let errors = field_errors(&OpError::Invalid(errors).into());
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    form_page(state, caller, post, form, status, &errors)
}

/// After a successful form post: on to the result, as a GET.
fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}
