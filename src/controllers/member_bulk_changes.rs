//! Bulk changes from the members list: the selected members, or all that
//! the list's filters match. Small ones apply at once; large ones run as a
//! job whose page shows progress.
use axum::routing::get;
use loco_rs::prelude::Routes;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    members::{list_page, read_query},
    outcome, redirect_with, render, render_invalid, Local, Outcome, Pid, Verified, WebResult,
};
use crate::{
    models::member_bulk_changes::{BulkChange, Model as Bulk, Selection},
    views::{member_imports::BulkShow, members::BulkSent, Flash, Layout},
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BulkForm {
    /// Pids of the selected members.
    member: Vec<String>,
    /// The list's query string (its filters), for "change all".
    filters: String,
    /// The list page's position, to show the same page again.
    after: String,
    /// `selected` or `all`.
    scope: String,
    status: String,
    worksite: String,
    bargaining_unit: String,
}

fn pid(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw.trim()).ok()
}

async fn create(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<BulkForm>,
) -> WebResult {
    let list = format!(
        "/l/{}/members?{}",
        local.tenant.slug(),
        form.filters.trim_start_matches('?')
    );
    let selection = if form.scope == "all" {
        let (_, filter, _, _) = read_query(Some(&form.filters));
        Selection::Filter(filter)
    } else {
        Selection::Members(form.member.iter().filter_map(|m| pid(m)).collect())
    };
    let change = BulkChange {
        status: pid(&form.status),
        worksite: pid(&form.worksite),
        bargaining_unit: pid(&form.bargaining_unit),
    };
    let bulk = match outcome(Bulk::create(&local.tenant, selection, change).await)? {
        Outcome::Saved(bulk) => bulk,
        // The list again, as it was, with the choices and ticks kept and
        // a message at each field.
        Outcome::Refused(errors) => {
            let mut query = form.filters.trim_start_matches('?').to_string();
            if !form.after.trim().is_empty() {
                let after =
                    serde_html_form::to_string([("after", form.after.trim())]).unwrap_or_default();
                query = if query.is_empty() {
                    after
                } else {
                    format!("{query}&{after}")
                };
            }
            let sent = BulkSent {
                status: form.status,
                worksite: form.worksite,
                bargaining_unit: form.bargaining_unit,
                selected: form.member,
                errors,
            };
            return render_invalid(&list_page(&local, Some(&query), layout, Some(sent)).await?);
        }
    };
    if !bulk.is_running() {
        return redirect_with(
            &session,
            &list,
            Flash::notice(format!("{} members changed.", bulk.changed_count)),
        )
        .await;
    }
    redirect_with(
        &session,
        &format!(
            "/l/{}/member_bulk_changes/{}",
            local.tenant.slug(),
            bulk.pid
        ),
        Flash::notice(format!(
            "Changing {} members in the background.",
            bulk.total_rows
        )),
    )
    .await
}

async fn show(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    let bulk = Bulk::find(&local.tenant, pid).await?;
    render(&BulkShow {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        bulk,
    })
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/member_bulk_changes", axum::routing::post(create))
        .add("/l/{slug}/member_bulk_changes/{pid}", get(show))
}
