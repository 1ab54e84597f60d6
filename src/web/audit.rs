//! Browsing the audit trail (clerks and admins). Read-only: nothing in the app edits it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::AppState;
use super::error::AppResult;
use super::page::Ctx;
use crate::db::audit::{self, AuditFilter};
use crate::domain::dates::vietnam_offset;

pub const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub nguoi: Option<String>,
    pub doi_tuong: Option<String>,
    pub hanh_dong: Option<String>,
    pub trang: Option<i64>,
}

pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub entity: String,
    pub entity_id: String,
    pub before: String,
    pub after: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub ctx: Ctx,
    pub q_actor: String,
    pub q_entity: String,
    pub q_action: String,
    pub lines: Vec<AuditLine>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub prev_link: Option<String>,
    pub next_link: Option<String>,
}

fn action_label(a: &str) -> &'static str {
    match a {
        "create" => "Tạo mới",
        "update" => "Sửa",
        "delete" => "Xóa",
        "login" => "Đăng nhập",
        "logout" => "Đăng xuất",
        "login_failed" => "Đăng nhập sai",
        "merge" => "Gộp hộ",
        "unmerge" => "Tách hộ",
        "import" => "Nhập tệp",
        "lookup" => "Tra cứu theo số định danh",
        _ => "Khác",
    }
}

fn nonblank(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 100)
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<AuditPage> {
    let filter = AuditFilter {
        actor: nonblank(&q.nguoi),
        entity: nonblank(&q.doi_tuong),
        action: nonblank(&q.hanh_dong),
    };
    let page = q.trang.unwrap_or(1).clamp(1, 1_000_000);
    let (rows, total) = audit::list(&state.db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |p: i64| {
        let mut s = format!("/nhat-ky?trang={p}");
        for (k, v) in [
            ("nguoi", &filter.actor),
            ("doi_tuong", &filter.entity),
            ("hanh_dong", &filter.action),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(
                    "&{k}={}",
                    v.replace('&', "%26").replace(' ', "+").replace('#', "%23")
                ));
            }
        }
        s
    };
    let off = vietnam_offset();
    let lines = rows
        .into_iter()
        .map(|r| AuditLine {
            at: r
                .at
                .with_timezone(&off)
                .format("%d/%m/%Y %H:%M:%S")
                .to_string(),
            actor: r.actor,
            action: action_label(&r.action),
            entity: r.entity,
            entity_id: r.entity_id,
            before: r.before.map(|v| v.to_string()).unwrap_or_default(),
            after: r.after.map(|v| v.to_string()).unwrap_or_default(),
            reason: r.reason.unwrap_or_default(),
        })
        .collect();
    Ok(AuditPage {
        ctx,
        q_actor: filter.actor.clone().unwrap_or_default(),
        q_entity: filter.entity.clone().unwrap_or_default(),
        q_action: filter.action.clone().unwrap_or_default(),
        lines,
        total,
        page,
        pages,
        prev_link: (page > 1).then(|| link(page - 1)),
        next_link: (page < pages).then(|| link(page + 1)),
    })
}
