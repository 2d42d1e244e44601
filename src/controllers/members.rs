//! The union's roll: the list (search, status filter, pages by name) and a
//! member's page with their status history and changes. Creating, editing,
//! archiving, import and export arrive with the rest of issue 5.
use axum::{extract::RawQuery, routing::get};
use loco_rs::prelude::Routes;

use super::{render, Local, Pid, WebResult};
use crate::{
    models::{
        audit_events,
        members::{After, Directory, MemberFilter, Model as Member},
    },
    views::{
        members::{Index, ListQuery, Row, Show, StatusOption},
        Layout,
    },
};

const PAGE: u64 = 50;

async fn index(local: Local, RawQuery(query): RawQuery, layout: Layout) -> WebResult {
    // A malformed query is simply no filter.
    let query: ListQuery =
        serde_html_form::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let status = uuid::Uuid::parse_str(query.status.trim()).ok();
    let filter = MemberFilter {
        search: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
        status,
        ..MemberFilter::default()
    };
    let after = match (&query.after_last, &query.after_first, query.after_id) {
        (Some(last), Some(first), Some(id)) => Some(After {
            last_name: last.clone(),
            first_name: first.clone(),
            id,
        }),
        _ => None,
    };
    let page = Member::list(&local.tenant, &local.access, &filter, after.as_ref(), PAGE).await?;
    let directory = Directory::load(&local.tenant).await?;
    let next = page.next.map(|n| {
        serde_html_form::to_string([
            ("q", query.q.as_str()),
            ("status", query.status.as_str()),
            ("after_last", n.last_name.as_str()),
            ("after_first", n.first_name.as_str()),
            ("after_id", &n.id.to_string()),
        ])
        .unwrap_or_default()
    });
    let rows = page
        .members
        .into_iter()
        .map(|m| Row {
            status: directory.status(m.status_id),
            employer: directory.employer(m.employer_id),
            worksite: directory.worksite(m.worksite_id),
            member: m,
        })
        .collect();
    render(&Index {
        layout: layout.within(&local.tenant, &local.access),
        slug: local.tenant.slug().to_string(),
        statuses: directory
            .statuses
            .iter()
            .map(|s| StatusOption {
                pid: s.pid.to_string(),
                name: s.name.clone(),
                selected: Some(s.pid) == status,
            })
            .collect(),
        filtered: filter.search.is_some() || status.is_some(),
        q: query.q,
        rows,
        next,
        on_roll: local.tenant.model().members_count,
    })
}

async fn show(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    let member = Member::find(&local.tenant, &local.access, pid).await?;
    let directory = Directory::load(&local.tenant).await?;
    let history = member.status_history(&local.tenant).await?;
    let audit = audit_events::for_subject(&local.tenant, ("member", member.id), 50).await?;
    render(&Show {
        layout: layout.within(&local.tenant, &local.access),
        slug: local.tenant.slug().to_string(),
        status: directory.status(member.status_id),
        employer: directory.employer(member.employer_id),
        worksite: directory.worksite(member.worksite_id),
        unit: directory.unit(member.bargaining_unit_id),
        history,
        audit,
        member,
    })
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/members", get(index))
        .add("/l/{slug}/members/{pid}", get(show))
}
