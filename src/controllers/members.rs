//! The union's roll: the list (search, filters, orders, keyset pages, a
//! fast total), a member's page, the member form, archiving and restoring.
use axum::{
    extract::RawQuery,
    routing::{get, post},
};
use loco_rs::prelude::Routes;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    outcome, redirect_with, render, render_invalid, Empty, Local, Outcome, Pid, Verified, WebError,
    WebResult,
};
use crate::{
    domain::Permission,
    models::{
        members::{After, MemberFilter, Model as Member, Sort},
        structure::Directory,
    },
    views::{
        members::{
            Archived, BulkForm, BulkSent, Choice, Form, Index, ListQuery, MemberForm, MemberQuery,
            Options, Row, Show,
        },
        Errors, Flash, Layout,
    },
};

const PAGE: u64 = 50;

/// The list's query (a malformed one is no filter), read into a filter;
/// values that cannot be read are named in the notice and ignored. The
/// list is never the archive, whatever the query says.
pub fn read_query(raw: Option<&str>) -> (ListQuery, MemberFilter, Sort, Option<String>) {
    let parsed = MemberQuery::parse(raw);
    let notice = parsed.notice();
    let filter = MemberFilter {
        archived: false,
        ..parsed.filter
    };
    (parsed.query, filter, parsed.sort, notice)
}

fn rows(members: Vec<Member>, directory: &Directory) -> Vec<Row> {
    members
        .into_iter()
        .map(|m| Row {
            status: directory.status(m.status_id),
            employer: directory.employer(m.employer_id),
            worksite: directory.worksite(m.worksite_id),
            member: m,
        })
        .collect()
}

fn with_after(filters: &str, after: &After) -> String {
    let after = format!("after={}", after.encode());
    if filters.is_empty() {
        after
    } else {
        format!("{filters}&{after}")
    }
}

async fn index(local: Local, RawQuery(raw): RawQuery, layout: Layout) -> WebResult {
    render(&list_page(&local, raw.as_deref(), layout, None).await?)
}

/// The list page for a query string; `bulk` is a refused bulk change to
/// show again (its choices, ticks and messages) instead of a blank form.
pub(super) async fn list_page(
    local: &Local,
    raw: Option<&str>,
    layout: Layout,
    bulk: Option<BulkSent>,
) -> Result<Index, WebError> {
    let (query, filter, sort, notice) = read_query(raw);
    let after = After::decode(&query.after);
    let roll = Member::roll(&local.tenant, &filter, sort, after.as_ref(), PAGE).await?;
    let (page, total, directory) = (roll.page, roll.total, roll.directory);
    let filters = query.filters();
    Ok(Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        options: Options::new(
            &directory,
            &query.status,
            &query.employer,
            &query.worksite,
            &query.unit,
        ),
        sorts: Sort::ALL
            .iter()
            .skip(1)
            .map(|s| Choice {
                value: s.key().to_string(),
                label: s.label().to_string(),
                selected: *s == sort,
            })
            .collect(),
        next: page.next.as_ref().map(|n| with_after(&filters, n)),
        first: after.is_some().then(|| filters.clone()),
        rows: rows(page.members, &directory),
        total,
        filtered: !filter.is_everyone(),
        notice,
        can_write: local.tenant.can(Permission::MembersWrite),
        can_delete: local.tenant.can(Permission::MembersDelete),
        bulk: BulkForm::new(&directory, bulk),
        query,
    })
}

/// The current view of the roll as CSV, streamed (any size).
async fn export(local: Local, RawQuery(raw): RawQuery) -> WebResult {
    use axum::{body::Body, http::header, response::IntoResponse};
    use futures_util::TryStreamExt;
    let (_, filter, _, _) = read_query(raw.as_deref());
    let stream = Member::export(&local.tenant, filter)
        .await?
        .map_err(|e| std::io::Error::other(e.to_string()));
    let name = format!(
        "{}-members-{}.csv",
        local.tenant.slug(),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn archived(local: Local, RawQuery(raw): RawQuery, layout: Layout) -> WebResult {
    let (query, _, _, _) = read_query(raw.as_deref());
    let filter = MemberFilter {
        search: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
        archived: true,
        ..MemberFilter::default()
    };
    let after = After::decode(&query.after);
    let roll = Member::roll(&local.tenant, &filter, Sort::Name, after.as_ref(), PAGE).await?;
    let (page, total, directory) = (roll.page, roll.total, roll.directory);
    let filters = query.filters();
    render(&Archived {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        next: page.next.as_ref().map(|n| with_after(&filters, n)),
        rows: rows(page.members, &directory),
        total,
        q: query.q,
    })
}

async fn show(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    let record = Member::record(&local.tenant, pid).await?;
    let (member, directory) = (record.member, record.directory);
    render(&Show {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        status: directory.status(member.status_id),
        employer: directory.employer(member.employer_id),
        worksite: directory.worksite(member.worksite_id),
        unit: directory.unit(member.bargaining_unit_id),
        history: record.history,
        audit: record.audit,
        can_write: local.tenant.can(Permission::MembersWrite),
        can_delete: local.tenant.can(Permission::MembersDelete),
        can_link: local.tenant.can(Permission::UsersManage),
        member,
    })
}

async fn form_page(
    local: &Local,
    layout: Layout,
    member: Option<Uuid>,
    form: MemberForm,
    errors: Errors,
) -> Result<Form, super::WebError> {
    let directory = Directory::load(&local.tenant).await?;
    let slug = local.tenant.slug().to_string();
    let (heading, action, cancel) = match member {
        Some(pid) => (
            format!("Edit {} {}", form.first_name, form.last_name),
            format!("/l/{slug}/members/{pid}?_method=put"),
            format!("/l/{slug}/members/{pid}"),
        ),
        None => (
            "New member".to_string(),
            format!("/l/{slug}/members"),
            format!("/l/{slug}/members"),
        ),
    };
    Ok(Form {
        layout: layout.within(&local.tenant),
        options: Options::new(
            &directory,
            &form.status,
            &form.employer,
            &form.worksite,
            &form.bargaining_unit,
        ),
        slug,
        heading,
        action,
        cancel,
        form,
        errors,
    })
}

async fn new(local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    render(
        &form_page(
            &local,
            layout,
            None,
            MemberForm::default(),
            Errors::default(),
        )
        .await?,
    )
}

async fn create(
    session: Session,
    local: Local,
    layout: Layout,
    Verified(form): Verified<MemberForm>,
) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    let created =
        async { Member::create(&local.tenant, form.read(local.tenant.phone_country())?).await };
    match outcome(created.await)? {
        Outcome::Saved(m) => {
            redirect_with(
                &session,
                &format!("/l/{}/members/{}", local.tenant.slug(), m.pid),
                Flash::notice(format!("{} {} is on the roll.", m.first_name, m.last_name)),
            )
            .await
        }
        Outcome::Refused(errors) => {
            render_invalid(&form_page(&local, layout, None, form, errors).await?)
        }
    }
}

async fn edit(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    let member = Member::find(&local.tenant, pid).await?;
    let form = MemberForm::of(&member, &Directory::load(&local.tenant).await?);
    render(&form_page(&local, layout, Some(pid), form, Errors::default()).await?)
}

async fn update(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<MemberForm>,
) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    let updated = async {
        Member::update(&local.tenant, pid, form.read(local.tenant.phone_country())?).await
    };
    match outcome(updated.await)? {
        Outcome::Saved(m) => {
            redirect_with(
                &session,
                &format!("/l/{}/members/{}", local.tenant.slug(), m.pid),
                Flash::notice("Saved."),
            )
            .await
        }
        Outcome::Refused(errors) => {
            render_invalid(&form_page(&local, layout, Some(pid), form, errors).await?)
        }
    }
}

async fn destroy(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    let m = Member::archive(&local.tenant, pid).await?;
    redirect_with(
        &session,
        &format!("/l/{}/members", local.tenant.slug()),
        Flash::notice(format!(
            "{} {} is archived. An admin can restore them from Archived members.",
            m.first_name, m.last_name
        )),
    )
    .await
}

async fn restore(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    Verified(_): Verified<Empty>,
) -> WebResult {
    let m = Member::restore(&local.tenant, pid).await?;
    redirect_with(
        &session,
        &format!("/l/{}/members/{}", local.tenant.slug(), m.pid),
        Flash::notice(format!(
            "{} {} is back on the roll.",
            m.first_name, m.last_name
        )),
    )
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/l/{slug}/members", get(index).post(create))
        .add("/l/{slug}/members/new", get(new))
        .add("/l/{slug}/members.csv", get(export))
        .add("/l/{slug}/archived_members", get(archived))
        .add(
            "/l/{slug}/members/{pid}",
            get(show).put(update).delete(destroy),
        )
        .add("/l/{slug}/members/{pid}/edit", get(edit))
        .add("/l/{slug}/members/{pid}/restoration", post(restore))
}
