//! The platform operators' console. Anyone who is not an operator (signed in
//! or not) gets 404: the console does not exist for them.
use axum::{
    extract::{FromRequestParts, RawQuery, State},
    http::request::Parts,
    response::{IntoResponse, Redirect},
    routing::get,
};
use loco_rs::prelude::{AppContext, Routes};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    outcome, redirect_with, render, render_invalid, MaybeUser, Outcome, Verified, WebError,
    WebResult,
};
use crate::{
    models::{
        operators::{parse_reason, Operator},
        Window,
    },
    views::{
        ops::{Audit, Index, ReasonForm, Show},
        Errors, Flash, Layout,
    },
};

const PAGE: u64 = 50;

/// The signed-in operator; 404 for everyone else.
pub struct Ops(pub Operator);

impl FromRequestParts<AppContext> for Ops {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, ctx: &AppContext) -> Result<Self, WebError> {
        let user = MaybeUser::from_request_parts(parts, ctx)
            .await?
            .0
            .ok_or(WebError::NotFound)?;
        Ok(Self(Operator::check(user)?))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Search {
    q: String,
    after: Option<i32>,
}

async fn root(_ops: Ops) -> WebResult {
    Ok(Redirect::to("/ops/locals").into_response())
}

async fn index(
    State(ctx): State<AppContext>,
    Ops(op): Ops,
    RawQuery(query): RawQuery,
    layout: Layout,
) -> WebResult {
    // A malformed query is simply an empty search.
    let search: Search =
        serde_html_form::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let mut locals = op
        .locals(&ctx.db, &search.q, Window::page(search.after, PAGE, false))
        .await?;
    let more = locals.len() > usize::try_from(PAGE).unwrap_or(usize::MAX);
    locals.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    let next_after = if more {
        locals.last().map(|l| l.id)
    } else {
        None
    };
    render(&Index {
        layout,
        q: search.q,
        locals,
        next_after,
    })
}

async fn show_page(
    ctx: &AppContext,
    op: &Operator,
    slug: &str,
    layout: Layout,
    form: ReasonForm,
    errors: Errors,
) -> Result<Show, WebError> {
    let local = op.local(&ctx.db, slug).await?;
    let audit = op.audit(&ctx.db, Some(local.id), 50).await?;
    Ok(Show {
        layout,
        local,
        audit,
        form,
        errors,
    })
}

async fn show(
    State(ctx): State<AppContext>,
    Ops(op): Ops,
    axum::extract::Path(slug): axum::extract::Path<String>,
    layout: Layout,
) -> WebResult {
    render(
        &show_page(
            &ctx,
            &op,
            &slug,
            layout,
            ReasonForm::default(),
            Errors::default(),
        )
        .await?,
    )
}

async fn change_status(
    ctx: &AppContext,
    session: &Session,
    op: &Operator,
    slug: &str,
    layout: Layout,
    form: ReasonForm,
    suspend: bool,
) -> WebResult {
    let changed = async {
        let reason = parse_reason(&form.reason)?;
        if suspend {
            op.suspend(&ctx.db, slug, &reason).await
        } else {
            op.reactivate(&ctx.db, slug, &reason).await
        }
    };
    match outcome(changed.await)? {
        Outcome::Saved(local) => {
            let what = if suspend { "suspended" } else { "reactivated" };
            redirect_with(
                session,
                &format!("/ops/locals/{}", local.slug),
                Flash::notice(format!("{} is {what}.", local.name)),
            )
            .await
        }
        Outcome::Refused(errors) => {
            render_invalid(&show_page(ctx, op, slug, layout, form, errors).await?)
        }
    }
}

async fn suspend(
    State(ctx): State<AppContext>,
    session: Session,
    Ops(op): Ops,
    axum::extract::Path(slug): axum::extract::Path<String>,
    layout: Layout,
    Verified(form): Verified<ReasonForm>,
) -> WebResult {
    change_status(&ctx, &session, &op, &slug, layout, form, true).await
}

async fn reactivate(
    State(ctx): State<AppContext>,
    session: Session,
    Ops(op): Ops,
    axum::extract::Path(slug): axum::extract::Path<String>,
    layout: Layout,
    Verified(form): Verified<ReasonForm>,
) -> WebResult {
    change_status(&ctx, &session, &op, &slug, layout, form, false).await
}

async fn audit(State(ctx): State<AppContext>, Ops(op): Ops, layout: Layout) -> WebResult {
    let entries = op.audit(&ctx.db, None, 200).await?;
    render(&Audit { layout, entries })
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/ops", get(root))
        .add("/ops/locals", get(index))
        .add("/ops/locals/{slug}", get(show))
        .add(
            "/ops/locals/{slug}/suspension",
            axum::routing::post(suspend).delete(reactivate),
        )
        .add("/ops/audit", get(audit))
}
