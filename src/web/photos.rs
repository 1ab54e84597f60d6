//! Photos of deliveries and visits (issue #18): the upload that rides along the delivery and visit
//! forms, the photo and thumbnail responses (checked on every request against the sponsorship's
//! access rule), deletion, and the household's consent to photos.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, body::Bytes};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{AppError, AppResult};
use super::offload::offload;
use super::page::{CurrentUser, flash};
use crate::db::audit::By;
use crate::db::photos::{self, Consent, PhotoRow};
use crate::db::{households, sponsorships};
use crate::domain::dates::format_date_time;
use crate::domain::roles::{self, Actor, Scope};
use crate::photo::{self as processing, MAX_PHOTOS, MAX_UPLOAD_BYTES, Processed};

/// The body limit of the delivery and visit forms: the photos plus the typed fields.
pub const BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 256 * 1024;

/// A form that may carry photos: `multipart/form-data` from the page (fields and files), or a
/// plain urlencoded form (no photos). What went wrong with the files is kept as a message, so the
/// typed fields still come back to the user.
pub struct WithPhotos<T> {
    pub form: T,
    pub files: Vec<(String, Bytes)>,
    pub problem: Option<String>,
}

impl<T, S> FromRequest<S> for WithPhotos<T>
where
    T: DeserializeOwned + Default + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
        if !multipart {
            let Form(form) = Form::<T>::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
            return Ok(WithPhotos {
                form,
                files: Vec::new(),
                problem: None,
            });
        }
        let mut parts = Multipart::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut fields = serde_json::Map::new();
        let mut files = Vec::new();
        let mut total = 0usize;
        let mut problem = None;
        loop {
            let field = match parts.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => {
                    problem.get_or_insert_with(too_large);
                    break;
                }
            };
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let data = match field.bytes().await {
                Ok(b) => b,
                Err(_) => {
                    problem.get_or_insert_with(too_large);
                    break;
                }
            };
            match file_name {
                // A file input left empty still sends a part with no name and no bytes.
                Some(file) if file.is_empty() && data.is_empty() => {}
                Some(file) => {
                    total += data.len();
                    if files.len() == MAX_PHOTOS {
                        problem.get_or_insert_with(|| {
                            format!(
                                "Mỗi lần ghi chỉ gửi được tối đa {MAX_PHOTOS} ảnh. Hãy chọn lại, bớt ảnh."
                            )
                        });
                    } else if total > MAX_UPLOAD_BYTES {
                        problem.get_or_insert_with(too_large);
                    } else {
                        files.push((file, data));
                    }
                }
                None => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    fields.insert(name, serde_json::Value::String(text));
                }
            }
        }
        if problem.is_some() {
            files.clear();
        }
        let form = serde_json::from_value(serde_json::Value::Object(fields)).unwrap_or_default();
        Ok(WithPhotos {
            form,
            files,
            problem,
        })
    }
}

fn too_large() -> String {
    format!(
        "Các ảnh gửi một lần cộng lại quá {} MB. Hãy chọn ít ảnh hơn hoặc gửi làm nhiều lần.",
        MAX_UPLOAD_BYTES / 1024 / 1024
    )
}

/// Uploads decoded at once: a 12-megapixel photo takes ~300 ms of a core and ~100 MB while it is
/// decoded, so a burst of uploads waits its turn instead of taking every core and the memory.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Decode and re-encode the uploaded photos off the async workers; the first bad file's message.
pub async fn process_all(files: Vec<(String, Bytes)>) -> AppResult<Result<Vec<Processed>, String>> {
    if files.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let _slot = DECODING
        .acquire()
        .await
        .map_err(|e| AppError::Other(anyhow::anyhow!("photo queue closed: {e}")))?;
    let started = std::time::Instant::now();
    let result = offload(move || {
        files
            .iter()
            .map(|(name, bytes)| processing::process(name, bytes).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    metrics::histogram!("giupdo_photo_processing_seconds").record(started.elapsed().as_secs_f64());
    Ok(result)
}

/// A photo as the pages show it.
#[derive(Debug, Clone)]
pub struct PhotoView {
    pub id: Uuid,
    pub delivery_id: Option<Uuid>,
    pub visit_id: Option<Uuid>,
    pub width: i32,
    pub height: i32,
    pub caption: String,
    pub may_delete: bool,
}

fn may_delete(actor: &Actor, p: &PhotoRow) -> bool {
    actor.is_district()
        || p.uploaded_by == Some(actor.id) && Utc::now() - p.uploaded_at < Duration::days(1)
}

/// The photos of a household this user may see (the same rule as its sponsorships).
pub async fn of_household(
    state: &AppState,
    actor: &Actor,
    household: Uuid,
    commune_code: &str,
) -> AppResult<Vec<PhotoView>> {
    let agency = match actor.scope() {
        Scope::District => None,
        Scope::Commune(codes) if codes.iter().any(|c| c == commune_code) => None,
        Scope::Agency(agency) => Some(agency),
        _ => return Ok(Vec::new()),
    };
    Ok(photos::of_household(&state.db, household, agency)
        .await?
        .into_iter()
        .map(|p| PhotoView {
            id: p.id,
            delivery_id: p.delivery_id,
            visit_id: p.visit_id,
            width: p.width,
            height: p.height,
            caption: format!("{} · {}", p.uploader, format_date_time(p.uploaded_at)),
            may_delete: may_delete(actor, &p),
        })
        .collect())
}

/// The photo, if this user may see its sponsorship; anything else is 404 (a guessed or stale id
/// reveals nothing).
async fn visible(state: &AppState, actor: &Actor, id: &str) -> AppResult<PhotoRow> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let p = photos::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let d = sponsorships::get(&state.db, p.sponsorship_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ok = match actor.scope() {
        Scope::District => true,
        Scope::Agency(agency) => sponsorships::is_member(&state.db, d.id, agency).await?,
        Scope::Commune(codes) => codes.contains(&d.commune_code),
        Scope::Nothing => false,
    };
    if ok { Ok(p) } else { Err(AppError::NotFound) }
}

async fn send(state: &AppState, actor: &Actor, id: &str, thumb: bool) -> AppResult<Response> {
    let p = visible(state, actor, id).await?;
    let bytes = photos::bytes(&state.db, p.id, thumb)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    // Private: a shared cache or proxy must not keep a family's photo.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(resp)
}

pub async fn full(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    send(&state, &actor, &id, false).await
}

pub async fn thumb(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    send(&state, &actor, &id, true).await
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = visible(&state, &actor, &id).await?;
    let back = format!("/nhan-giup/{}", p.sponsorship_id);
    if !may_delete(&actor, &p) {
        flash(
            &session,
            "error",
            "Chỉ người tải ảnh lên (trong vòng một ngày) hoặc chuyên viên huyện được xóa ảnh.",
        )
        .await;
        return Ok(Redirect::to(&back).into_response());
    }
    photos::delete(&state.db, &By::from(&actor), &p).await?;
    flash(&session, "ok", "Đã xóa ảnh.").await;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize, Default)]
pub struct ConsentForm {
    #[serde(default)]
    pub dong_y: String,
}

/// The household's consent to photos, recorded by its commune official or a clerk.
pub async fn set_consent(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<ConsentForm>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let h = households::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !roles::can_edit_household(&actor, &h.commune_code) {
        return Err(AppError::NotFound);
    }
    let back = format!("/ho/{id}");
    let Some(consent) = Consent::parse(&f.dong_y) else {
        flash(
            &session,
            "error",
            "Hãy chọn một trong ba ý kiến của gia đình.",
        )
        .await;
        return Ok(Redirect::to(&back).into_response());
    };
    photos::set_consent(&state.db, &By::from(&actor), id, consent).await?;
    flash(
        &session,
        "ok",
        format!("Đã ghi ý kiến về chụp ảnh: {}.", consent.label()),
    )
    .await;
    Ok(Redirect::to(&back).into_response())
}

/// What the upload form says about people in the photos.
pub fn consent_notice(consent: Consent) -> &'static str {
    match consent {
        Consent::Agreed => "Gia đình đã đồng ý cho chụp ảnh.",
        Consent::Refused | Consent::NotAsked => {
            "Gia đình chưa đồng ý cho chụp ảnh người: chỉ chụp hỗ trợ đã trao (con giống, cây giống, \
             nhà, công cụ), không chụp người."
        }
    }
}
