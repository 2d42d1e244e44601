//! The local's audit log for admins: every recorded change, newest first,
//! a page at a time.
use axum::{extract::RawQuery, routing::get};
use loco_rs::prelude::Routes;
use serde::Deserialize;

use super::{render, Local, WebResult};
use crate::{
    domain::Permission,
    models::{audit_events, members, Window},
    views::{
        audit::{Index, Line},
        Layout,
    },
};

const PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Query {
    before: Option<i32>,
}

/// How a part of the local's structure is named in the log.
fn structure_label(kind: &str) -> Option<&'static str> {
    match kind {
        "employer" => Some("Employer"),
        "worksite" => Some("Worksite"),
        "bargaining_unit" => Some("Bargaining unit"),
        "membership_status" => Some("Status"),
        _ => None,
    }
}

async fn index(local: Local, RawQuery(raw): RawQuery, layout: Layout) -> WebResult {
    local.tenant.require(Permission::AuditRead)?;
    let query: Query =
        serde_html_form::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let mut events =
        audit_events::list(&local.tenant, Window::page(query.before, PAGE, true)).await?;
    let more = events.len() as u64 > PAGE;
    events.truncate(PAGE as usize);
    let member_ids = events
        .iter()
        .filter(|e| e.event.subject_type == "member")
        .map(|e| e.event.subject_id)
        .collect();
    let names = members::names_by_id(&local.tenant, member_ids).await?;
    let slug = local.tenant.slug().to_string();
    let structure = Some(format!("/l/{slug}/structure"));
    let lines = events
        .into_iter()
        .map(|e| {
            let (subject, href) = match (
                e.event.subject_type.as_str(),
                names.get(&e.event.subject_id),
            ) {
                ("member", Some((pid, name))) => {
                    (name.clone(), Some(format!("/l/{slug}/members/{pid}")))
                }
                ("member_import", _) => (format!("Import #{}", e.event.subject_id), None),
                ("local", _) => ("The local's settings".into(), structure.clone()),
                (kind, _) => match structure_label(kind) {
                    Some(label) => (
                        format!("{label} #{}", e.event.subject_id),
                        structure.clone(),
                    ),
                    None => (format!("{kind} #{}", e.event.subject_id), None),
                },
            };
            Line {
                event: e,
                subject,
                href,
            }
        })
        .collect::<Vec<_>>();
    let next = if more {
        lines.last().map(|l| l.event.event.id)
    } else {
        None
    };
    render(&Index {
        layout: layout.within(&local.tenant),
        slug,
        lines,
        next,
    })
}

pub fn routes() -> Routes {
    Routes::new().add("/l/{slug}/audit", get(index))
}
