//! Import of earlier years' sponsorships in the browser (issue #6, item 8): upload, a preview
//! that matches every row to a registry household and lists the rows a person must resolve, and
//! the confirmation that writes them in one transaction. District staff only.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::download::download;
use super::error::{AppError, AppResult};
use super::imports::receive;
use super::page::{Ctx, CurrentUser, flash};
use crate::db::audit::By;
use crate::db::import_batches;
use crate::domain::money::format_vnd;
use crate::domain::roles::Actor;
use crate::import::history::{self as hist, HistoryError, Match};
use crate::import::households::Problem;

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/history_upload.html")]
pub struct UploadPage {
    pub ctx: Ctx,
    pub error: Option<String>,
    pub columns: Vec<(&'static str, bool)>,
}

fn upload_page(ctx: Ctx, error: Option<String>) -> UploadPage {
    UploadPage {
        ctx,
        error,
        columns: hist::COLUMNS.iter().map(|(_, h, r)| (*h, *r)).collect(),
    }
}

pub async fn upload_form(ctx: Ctx) -> UploadPage {
    upload_page(ctx, None)
}

pub async fn template_csv() -> Response {
    download(
        hist::template_csv(),
        "mau-lich-su-giup-do.csv",
        "text/csv; charset=utf-8",
    )
}

pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let (name, bytes, parsed) = match receive(&mut multipart).await {
        Ok(u) => (u.name, u.bytes, u.parsed),
        Err((status, msg)) => return Ok((status, upload_page(ctx, Some(msg))).into_response()),
    };
    let id = import_batches::insert(&state.db, actor.id, "history", &name, &bytes, &parsed).await?;
    Ok(Redirect::to(&format!("/nhan-giup/nhap-lich-su/{id}")).into_response())
}

pub struct RowView {
    pub line: usize,
    pub year: i32,
    pub agencies: String,
    pub head_name: String,
    pub place: String,
    pub support: String,
    pub value: String,
    /// The household it matched, when exactly one.
    pub matched: Option<String>,
    /// Households it may be, for a person to choose among.
    pub options: Vec<(Uuid, String)>,
    pub chosen: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sponsorships/history_preview.html")]
pub struct PreviewPage {
    pub ctx: Ctx,
    pub id: Uuid,
    pub filename: String,
    pub total: usize,
    pub problems: Vec<Problem>,
    pub matched: Vec<RowView>,
    pub several: Vec<RowView>,
    pub none: Vec<RowView>,
    pub confirmed: bool,
    pub error: Option<String>,
}

struct Batch {
    filename: String,
    payload: Vec<u8>,
    parsed: Option<Vec<u8>>,
    confirmed: bool,
}

async fn load_batch(state: &AppState, actor: &Actor, id: &str) -> AppResult<(Uuid, Batch)> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let b = import_batches::of_user(&state.db, id, actor.id, "history")
        .await?
        .ok_or(AppError::NotFound)?;
    let (filename, payload, parsed, confirmed) = (b.filename, b.payload, b.parsed, b.confirmed);
    Ok((
        id,
        Batch {
            filename,
            payload,
            parsed,
            confirmed,
        },
    ))
}

async fn preview_of(state: &AppState, b: &Batch) -> AppResult<hist::Preview> {
    let table = super::imports::batch_table(&b.payload, b.parsed.as_deref(), &b.filename).await?;
    Ok(hist::preview(&state.db, &table, state.config.duplicates).await?)
}

fn page(
    ctx: Ctx,
    id: Uuid,
    b: &Batch,
    p: &hist::Preview,
    chosen: &[(String, String)],
    error: Option<String>,
) -> PreviewPage {
    let mut matched = Vec::new();
    let mut several = Vec::new();
    let mut none = Vec::new();
    for (r, m) in &p.rows {
        let key = format!("chon_{}", r.line);
        let mut v = RowView {
            line: r.line,
            year: r.year,
            agencies: r.agency_names.clone(),
            head_name: r.head_name.clone(),
            place: r.village.clone(),
            support: r.support.clone(),
            value: format_vnd(r.value),
            matched: None,
            options: Vec::new(),
            chosen: chosen
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        };
        match m {
            Match::One(_, label) => {
                v.matched = Some(label.clone());
                matched.push(v);
            }
            Match::Several(options) => {
                v.options = options.iter().map(|o| (o.id, o.label.clone())).collect();
                several.push(v);
            }
            Match::None => none.push(v),
        }
    }
    PreviewPage {
        ctx,
        id,
        filename: b.filename.clone(),
        total: p.total_rows,
        problems: p.problems.iter().take(500).cloned().collect(),
        matched,
        several,
        none,
        confirmed: b.confirmed,
        error,
    }
}

pub async fn show_preview(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Path(id): Path<String>,
) -> AppResult<PreviewPage> {
    let (id, batch) = load_batch(&state, &actor, &id).await?;
    let p = preview_of(&state, &batch).await?;
    Ok(page(ctx, id, &batch, &p, &[], None))
}

/// Write the matched rows and those a person resolved; rows left out are listed in the message.
pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(choices): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (id, batch) = load_batch(&state, &actor, &id).await?;
    if batch.confirmed {
        flash(
            &session,
            "error",
            "Tệp này đã được nhập rồi; không nhập lại.",
        )
        .await;
        return Ok(Redirect::to("/nhan-giup").into_response());
    }
    let p = preview_of(&state, &batch).await?;
    let fail = |msg: &str| {
        let view = page(ctx, id, &batch, &p, &choices, Some(msg.to_string()));
        Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
    };
    if !p.problems.is_empty() {
        return fail("Tệp còn lỗi: hãy sửa tệp rồi tải lên lại. Chưa ghi gì.");
    }
    let mut rows = Vec::new();
    let mut skipped = 0;
    for (r, m) in &p.rows {
        let key = format!("chon_{}", r.line);
        let choice = choices
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        match m {
            Match::One(h, _) => rows.push((r.clone(), *h)),
            Match::None => skipped += 1,
            Match::Several(options) => match choice {
                "bo_qua" => skipped += 1,
                c => match c
                    .parse::<Uuid>()
                    .ok()
                    .filter(|c| options.iter().any(|o| o.id == *c))
                {
                    Some(h) => rows.push((r.clone(), h)),
                    None => {
                        return fail(&format!(
                            "Dòng {}: hãy chọn hộ đúng hoặc chọn “bỏ qua dòng này”.",
                            r.line
                        ));
                    }
                },
            },
        }
    }
    if rows.is_empty() {
        return fail("Không có dòng nào để ghi.");
    }
    match hist::commit(
        &state.db,
        &By::from(&actor),
        &rows,
        &batch.filename,
        Some(id),
    )
    .await
    {
        Ok(n) => {
            let mut msg = format!(
                "Đã nhập {n} lượt giúp đỡ các năm trước từ tệp {}.",
                batch.filename
            );
            if skipped > 0 {
                msg.push_str(&format!(
                    " Bỏ qua {skipped} dòng không khớp hộ nào hoặc được chọn bỏ qua."
                ));
            }
            flash(&session, "ok", msg).await;
            Ok(Redirect::to("/nhan-giup").into_response())
        }
        Err(HistoryError::Db(e)) => Err(e.into()),
        Err(e) => fail(&e.to_string()),
    }
}
