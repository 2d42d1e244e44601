//! The local's audit log through the API (read only, needs `audit.read`):
//! every recorded change, a page at a time, for a records system or a
//! security review to keep.
use std::collections::HashMap;

use axum::{extract::State, routing::get, Json};
use loco_rs::prelude::{AppContext, Routes};

use super::{page, ApiError, ApiLocal, ApiResult, Filters, PageParams};
use crate::{
    models::{audit_events, members, structure::Directory},
    views::api::{AuditEventBody, ChangeBody, ErrorBody, Page},
};

/// `?subject_type=`: a word of lower-case letters and `_`, as the log writes them.
fn subject_type(filters: &Filters) -> ApiResult<Option<String>> {
    match filters.get("subject_type").map(str::trim) {
        None | Some("") => Ok(None),
        Some(kind)
            if kind.len() <= 40 && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') =>
        {
            Ok(Some(kind.to_string()))
        }
        Some(_) => Err(ApiError::InvalidParameter(
            "subject_type",
            "subject_type is a kind of record such as `member` or `employer`.".into(),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/locals/{slug}/audit_events", tag = "audit",
    description = "The local's audit log (needs `audit.read`): oldest first by default, `sort=-created` for newest first; `subject_type` keeps one kind of record's.",
    params(("slug" = String, Path, description = "The local's slug"), super::docs::AuditQuery, super::docs::PageQuery),
    responses((status = 200, body = Page<AuditEventBody>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("token" = [])))]
pub async fn index(
    State(ctx): State<AppContext>,
    local: ApiLocal,
    filters: Filters,
    params: PageParams,
) -> ApiResult<Json<Page<AuditEventBody>>> {
    let kind = subject_type(&filters)?;
    let events = audit_events::window(&local.tenant, params.window(), kind.as_deref()).await?;
    let member_ids = events
        .iter()
        .filter(|e| e.event.subject_type == "member")
        .map(|e| e.event.subject_id)
        .collect();
    let members: HashMap<_, _> = members::names_by_id(&local.tenant, member_ids).await?;
    let directory = Directory::load(&local.tenant).await?;
    let subject = |e: &audit_events::Event| -> (Option<uuid::Uuid>, Option<String>) {
        let id = e.event.subject_id;
        match e.event.subject_type.as_str() {
            "member" => members
                .get(&id)
                .map_or((None, None), |(pid, name)| (Some(*pid), Some(name.clone()))),
            "employer" => directory
                .employers
                .iter()
                .find(|r| r.id == id)
                .map_or((None, None), |r| (Some(r.pid), Some(r.name.clone()))),
            "worksite" => directory
                .worksites
                .iter()
                .find(|r| r.id == id)
                .map_or((None, None), |r| (Some(r.pid), Some(r.name.clone()))),
            "bargaining_unit" => directory
                .units
                .iter()
                .find(|r| r.id == id)
                .map_or((None, None), |r| (Some(r.pid), Some(r.name.clone()))),
            "membership_status" => directory
                .statuses
                .iter()
                .find(|r| r.id == id)
                .map_or((None, None), |r| (Some(r.pid), Some(r.name.clone()))),
            _ => (None, None),
        }
    };
    Ok(Json(page(
        &ctx,
        &filters,
        params,
        events,
        |e| e.event.id,
        |e| {
            let (subject_pid, subject_name) = subject(e);
            AuditEventBody {
                action: e.event.action.clone(),
                subject_type: e.event.subject_type.clone(),
                subject_pid,
                subject_name,
                actor: e.actor.clone(),
                changes: e
                    .changes
                    .iter()
                    .map(|c| ChangeBody {
                        field: c.field.clone(),
                        old: c.old.clone(),
                        new: c.new.clone(),
                    })
                    .collect(),
                created_at: e.event.created_at,
            }
        },
    )?))
}

pub fn routes() -> Routes {
    Routes::new().add("/api/v1/locals/{slug}/audit_events", get(index))
}
