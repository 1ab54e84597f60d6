//! Importing household lists in the browser: upload → preview (nothing written) → confirm.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::download::download;
use super::error::{AppError, AppResult};
use super::offload::offload;
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::import_batches;
use crate::domain::labels;
use crate::domain::roles::{Actor, Scope};
use crate::import::households::{self as hh, BROWSER_ROW_LIMIT, Problem, Target};
use crate::import::{Table, read_table};

/// Largest file accepted for import.
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "households/import.html")]
pub struct UploadPage {
    pub ctx: Ctx,
    pub communes: Vec<(String, String)>,
    pub error: Option<String>,
    pub limit_rows: String,
}

async fn upload_page(
    state: &AppState,
    actor: &Actor,
    ctx: Ctx,
    error: Option<String>,
) -> AppResult<UploadPage> {
    let mut communes = crate::db::users::communes_for_select(&state.db).await?;
    if actor.role == crate::domain::roles::Role::Commune {
        communes.retain(|(c, _)| actor.commune_code.as_deref() == Some(c.as_str()));
    }
    Ok(UploadPage {
        ctx,
        communes,
        error,
        limit_rows: crate::domain::money::group_thousands(BROWSER_ROW_LIMIT as i64),
    })
}

pub async fn upload_form(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
) -> AppResult<UploadPage> {
    upload_page(&state, &actor, ctx, None).await
}

/// An uploaded spreadsheet (form field `tep`) that `read_table` can read, and the form's other
/// fields.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
    pub fields: Vec<(String, String)>,
    /// The file as read (on the blocking pool), serialised to be kept with the batch.
    pub parsed: Vec<u8>,
}

/// Read a multipart upload: a refusal carries its status (413 too large, 400 unreadable, 422 no
/// file or not a spreadsheet) and the Vietnamese message for the upload page.
pub async fn receive(multipart: &mut Multipart) -> Result<Upload, (StatusCode, String)> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Tệp lớn hơn giới hạn {} MB hoặc tải lên bị gián đoạn.",
                UPLOAD_LIMIT / 1024 / 1024
            ),
        )
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "Không đọc được tệp tải lên.".into(),
                ));
            }
        };
        match field.name().map(str::to_string) {
            Some(n) if n == "tep" => {
                let name: String = field
                    .file_name()
                    .unwrap_or("tep")
                    .chars()
                    .take(200)
                    .collect();
                let bytes = field.bytes().await.map_err(|_| too_large())?;
                file = Some((name, bytes.to_vec()));
            }
            Some(n) => fields.push((n, field.text().await.unwrap_or_default())),
            None => {}
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Hãy chọn một tệp .xlsx hoặc .csv có dữ liệu.".into(),
        ));
    };
    // Reading 20 MB of spreadsheet takes a while: on the blocking pool, once.
    let read = offload(move || {
        let parsed = read_table(&bytes, &name).map(|t| serde_json::to_vec(&t).unwrap_or_default());
        (name, bytes, parsed)
    })
    .await;
    let (name, bytes, parsed) = read.map_err(|_| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Không đọc được tệp tải lên.".to_string(),
        )
    })?;
    let parsed = parsed.map_err(|msg| (StatusCode::UNPROCESSABLE_ENTITY, msg))?;
    Ok(Upload {
        name,
        bytes,
        fields,
        parsed,
    })
}

/// Receive the file, keep it as a pending batch, and show its preview.
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let upload = match receive(&mut multipart).await {
        Ok(u) => u,
        Err((status, msg)) => {
            super::metrics::import("refused");
            let page = upload_page(&state, &actor, ctx, Some(msg)).await?;
            return Ok((status, page).into_response());
        }
    };
    let (name, bytes, parsed) = (upload.name, upload.bytes, upload.parsed);
    let commune = upload
        .fields
        .iter()
        .find(|(k, _)| k == "xa")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let commune = (commune.len() == 5).then_some(commune);
    let stored_name = format!(
        "{}{}",
        commune.map(|c| format!("{c}|")).unwrap_or_default(),
        name
    );
    let id = import_batches::insert(
        &state.db,
        actor.id,
        "households",
        &stored_name,
        &bytes,
        &parsed,
    )
    .await?;
    Ok(Redirect::to(&format!("/ho/nhap/{id}")).into_response())
}

pub struct RowView {
    pub line: usize,
    pub head_name: String,
    pub village: String,
    pub status: &'static str,
    pub members: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "households/preview.html")]
pub struct PreviewPage {
    pub ctx: Ctx,
    /// Probable duplicates: the import needs a confirmation with a reason.
    pub warnings: Vec<Problem>,
    pub confirm_error: Option<String>,
    pub id: Uuid,
    pub filename: String,
    pub total: usize,
    pub good: usize,
    pub problems: Vec<Problem>,
    /// What the import changes from the file ("restored leading 0"), row by row.
    pub notes: Vec<Problem>,
    /// Where the header was found, and the rows that are no data, in words.
    pub layout: Vec<String>,
    pub sample: Vec<RowView>,
    pub ok: bool,
    pub confirmed: bool,
}

struct Batch {
    filename: String,
    commune: Option<String>,
    payload: Vec<u8>,
    parsed: Option<Vec<u8>>,
    confirmed: bool,
}

/// A batch of this user's (another user's batch is a 404).
async fn load_batch(state: &AppState, actor: &Actor, id: &str) -> AppResult<(Uuid, Batch)> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let b = import_batches::of_user(&state.db, id, actor.id, "households")
        .await?
        .ok_or(AppError::NotFound)?;
    let (stored, payload, parsed, confirmed) = (b.filename, b.payload, b.parsed, b.confirmed);
    let (commune, filename) = match stored.split_once('|') {
        Some((c, f)) if c.len() == 5 => (Some(c.to_string()), f.to_string()),
        _ => (None, stored),
    };
    Ok((
        id,
        Batch {
            filename,
            commune,
            payload,
            parsed,
            confirmed,
        },
    ))
}

fn target(actor: &Actor, commune: Option<String>) -> Target {
    // New households go to the commune as it is now, the official's own.
    let only = match actor.scope() {
        Scope::Commune(_) => actor.commune_code.clone(),
        _ => None,
    };
    Target {
        default_commune: only.clone().or(commune),
        only_commune: only,
        row_limit: Some(BROWSER_ROW_LIMIT),
    }
}

/// The batch's file as read: kept with the batch at upload (read again, off the async worker,
/// only for a batch uploaded before that was kept).
pub async fn batch_table(
    payload: &[u8],
    parsed: Option<&[u8]>,
    filename: &str,
) -> AppResult<Table> {
    let (payload, parsed, filename) = (
        payload.to_vec(),
        parsed.map(<[u8]>::to_vec),
        filename.to_string(),
    );
    offload(move || match parsed {
        Some(p) => serde_json::from_slice(&p).map_err(|e| e.to_string()),
        None => read_table(&payload, &filename),
    })
    .await?
    .map_err(|m| AppError::Other(anyhow::anyhow!(m)))
}

async fn preview_of(state: &AppState, actor: &Actor, b: &Batch) -> AppResult<hh::Preview> {
    let table = batch_table(&b.payload, b.parsed.as_deref(), &b.filename).await?;
    let year = crate::db::households::priority_context(&state.db).await?.0;
    let t = state.config.duplicates;
    Ok(hh::preview(
        &state.db,
        &table,
        &target(actor, b.commune.clone()),
        year,
        t,
    )
    .await?)
}

pub async fn show_preview(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<PreviewPage> {
    let (id, batch) = load_batch(&state, &actor, &id).await?;
    let p = preview_of(&state, &actor, &batch).await?;
    Ok(page(ctx, id, &batch, &p))
}

fn page(ctx: Ctx, id: Uuid, batch: &Batch, p: &hh::Preview) -> PreviewPage {
    PreviewPage {
        ctx,
        warnings: p.warnings.iter().take(500).cloned().collect(),
        confirm_error: None,
        id,
        filename: batch.filename.clone(),
        total: p.total_rows,
        good: p.rows.len(),
        problems: p.problems.iter().take(500).cloned().collect(),
        notes: p.notes.iter().take(500).cloned().collect(),
        layout: hh::layout_lines(&p.layout),
        sample: p
            .rows
            .iter()
            .take(20)
            .map(|(line, d)| RowView {
                line: *line,
                head_name: d.head_name.clone(),
                village: d.village.clone(),
                status: labels::household_status(d.status),
                members: d.members,
            })
            .collect(),
        ok: p.ok(),
        confirmed: batch.confirmed,
    }
}

/// The confirmation of an import with probable duplicates.
#[derive(serde::Deserialize, Default)]
pub struct ConfirmForm {
    #[serde(default)]
    pub xac_nhan_trung: String,
    #[serde(default)]
    pub ly_do_trung: String,
}

/// Write the batch, all rows or none.
pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    axum::Form(confirm): axum::Form<ConfirmForm>,
) -> AppResult<Response> {
    let (id, batch) = load_batch(&state, &actor, &id).await?;
    let p = preview_of(&state, &actor, &batch).await?;
    let reason: String = confirm.ly_do_trung.trim().chars().take(500).collect();
    let confirmed = !confirm.xac_nhan_trung.is_empty() && !reason.is_empty();
    if batch.confirmed {
        flash(
            &session,
            "error",
            "Tệp này đã được nhập rồi; không nhập lại.",
        )
        .await;
        return Ok(Redirect::to("/ho").into_response());
    }
    if !p.ok() {
        super::metrics::import("refused");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(ctx, id, &batch, &p)).into_response());
    }
    if !p.warnings.is_empty() && !confirmed {
        let mut view = page(ctx, id, &batch, &p);
        view.confirm_error =
            Some("Có hộ có thể trùng: hãy đánh dấu xác nhận và ghi lý do để vẫn nhập.".into());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    }
    let drafts: Vec<_> = p.rows.into_iter().map(|(_, d)| d).collect();
    match hh::commit(
        &state.db,
        &By::from(&actor),
        &drafts,
        &batch.filename,
        Some(id),
        (!p.warnings.is_empty()).then_some(reason.as_str()),
    )
    .await
    {
        Ok(n) => {
            super::metrics::import("imported");
            flash(
                &session,
                "ok",
                format!(
                    "Đã nhập {} hộ từ tệp {}.",
                    crate::domain::money::group_thousands(n as i64),
                    batch.filename
                ),
            )
            .await;
            Ok(Redirect::to("/ho?sap_xep=moi-nhat").into_response())
        }
        Err(e) if e.is::<hh::AlreadyImported>() => {
            flash(
                &session,
                "error",
                "Tệp này đã được nhập rồi; không nhập lại.",
            )
            .await;
            Ok(Redirect::to("/ho").into_response())
        }
        Err(e) => match e.downcast::<sqlx::Error>() {
            // Someone added one of these households between preview and confirmation.
            Ok(sqlx::Error::Database(db))
                if db
                    .constraint()
                    .is_some_and(|c| c.starts_with("households_")) =>
            {
                flash(&session, "error", "Không nhập: một số hộ vừa được người khác thêm vào sổ. Hãy xem lại bản xem trước.").await;
                Ok(Redirect::to(&format!("/ho/nhap/{id}")).into_response())
            }
            Ok(e) => Err(e.into()),
            Err(e) => Err(AppError::Other(e)),
        },
    }
}

pub async fn template_xlsx() -> AppResult<Response> {
    let bytes = hh::template_xlsx().map_err(|e| AppError::Other(e.into()))?;
    Ok(download(
        bytes,
        "mau-danh-sach-ho.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ))
}

pub async fn template_csv() -> Response {
    download(
        hh::template_csv(),
        "mau-danh-sach-ho.csv",
        "text/csv; charset=utf-8",
    )
}
