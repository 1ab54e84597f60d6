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
    /// Entries older than this one (an id from the previous page's "Cũ hơn" link).
    pub truoc: Option<String>,
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
    /// Not the newest page: a link back to it.
    pub newest_link: Option<String>,
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
    // A link edited by hand to something that is no id reads as the newest page.
    let before = q
        .truoc
        .as_deref()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|id| *id > 0);
    let (rows, more) = audit::list(&state.db, &filter, before, PAGE_SIZE).await?;
    let oldest = rows.last().map(|r| r.id);
    // The filters travel with the page links, encoded as a form would (a name with "&" or "+").
    let link = |older_than: Option<i64>| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("nguoi", &filter.actor),
            ("doi_tuong", &filter.entity),
            ("hanh_dong", &filter.action),
        ] {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        if let Some(id) = older_than {
            query.append_pair("truoc", &id.to_string());
        }
        match query.finish() {
            q if q.is_empty() => "/nhat-ky".to_string(),
            q => format!("/nhat-ky?{q}"),
        }
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
        newest_link: before.is_some().then(|| link(None)),
        next_link: oldest.filter(|_| more).map(|id| link(Some(id))),
    })
}
