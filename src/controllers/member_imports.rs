//! Member CSV imports: upload (streamed into the database, size-limited),
//! map the columns with a preview, run on the `bulk` queue with a live
//! progress bar, then the counts and the failed rows as CSV.
use std::collections::BTreeMap;

use axum::{
    extract::{DefaultBodyLimit, Multipart, State},
    http::header,
    response::IntoResponse,
    routing::get,
};
use axum_csrf::CsrfToken;
use loco_rs::{app::AppContext, prelude::Routes};
use tower_sessions::Session;

use super::{
    outcome, redirect_with, render, render_invalid, Local, Outcome, Pid, Verified, WebError,
    WebResult,
};
use crate::{
    domain::{FieldErrors, Permission},
    models::{
        member_imports::{Mapping, Model as Import, OnDuplicate, FIELDS},
        Error,
    },
    settings::Settings,
    views::{
        member_imports::{ColumnChoice, FieldRow, Index, New, Show},
        Errors, Flash, Layout,
    },
};

fn path(local: &Local, import: &Import) -> String {
    format!("/l/{}/member_imports/{}", local.tenant.slug(), import.pid)
}

async fn index(local: Local, layout: Layout) -> WebResult {
    let imports = Import::list(&local.tenant, 50).await?;
    render(&Index {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        imports,
    })
}

fn new_page(local: &Local, layout: Layout, max_mb: u64, error: Option<String>) -> New {
    New {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        max_mb,
        errors: error
            .map(|e| Errors::from(FieldErrors::one("file", e)))
            .unwrap_or_default(),
    }
}

async fn new(State(ctx): State<AppContext>, local: Local, layout: Layout) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    let max_mb = Settings::of(&ctx).imports.max_megabytes;
    render(&new_page(&local, layout, max_mb, None))
}

/// Why an upload was refused, shown on the upload form.
enum Refused {
    Message(String),
    Web(WebError),
}

impl From<WebError> for Refused {
    fn from(e: WebError) -> Self {
        Self::Web(e)
    }
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Self::Web(e.into())
    }
}

/// Reads the multipart body: the CSRF token (first), then the file, which
/// [`Import::receive`] takes a chunk at a time.
async fn receive(
    local: &Local,
    csrf: &CsrfToken,
    multipart: &mut Multipart,
    max_bytes: u64,
) -> Result<Import, Refused> {
    let unreadable = || Refused::Message("The upload could not be read. Try again.".into());
    let mut verified = false;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("authenticity_token") => {
                let token = field.text().await.map_err(|_| unreadable())?;
                csrf.verify(&token).map_err(|_| WebError::CsrfFailed)?;
                verified = true;
            }
            Some("file") if verified => {
                let file_name = field.file_name().unwrap_or("members.csv").to_string();
                return Import::receive(&local.tenant, &file_name, field, max_bytes, true)
                    .await
                    .map_err(|e| match e {
                        Error::Invalid(errors) => {
                            Refused::Message(errors.get("file").unwrap_or_default().to_string())
                        }
                        other => other.into(),
                    });
            }
            _ => {}
        }
    }
    if verified {
        Err(Refused::Message("Choose a CSV file to upload.".into()))
    } else {
        Err(Refused::Web(WebError::CsrfFailed))
    }
}

async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    csrf: CsrfToken,
    local: Local,
    layout: Layout,
    mut multipart: Multipart,
) -> WebResult {
    local.tenant.require(Permission::MembersWrite)?;
    let max_mb = Settings::of(&ctx).imports.max_megabytes;
    match receive(&local, &csrf, &mut multipart, max_mb * 1024 * 1024).await {
        Ok(import) => {
            redirect_with(
                &session,
                &path(&local, &import),
                Flash::notice("Uploaded. Check how the columns are read, then start the import."),
            )
            .await
        }
        Err(Refused::Message(message)) => {
            // Whatever is left of the body is dropped with the request.
            render_invalid(&new_page(&local, layout, max_mb, Some(message)))
        }
        Err(Refused::Web(e)) => Err(e),
    }
}

async fn show_page(
    local: &Local,
    layout: Layout,
    import: Import,
    errors: Errors,
) -> Result<Show, WebError> {
    let preview = import.preview(&local.tenant).await?;
    let mapping = import.mapping();
    let fields = FIELDS
        .iter()
        .map(|f| FieldRow {
            key: f.key,
            label: f.label,
            columns: preview
                .headers
                .iter()
                .enumerate()
                .map(|(i, h)| ColumnChoice {
                    value: i.to_string(),
                    label: format!("Column {}: {h}", i + 1),
                    selected: mapping.column(f.key) == Some(i),
                })
                .collect(),
        })
        .collect();
    Ok(Show {
        layout: layout.within(&local.tenant),
        slug: local.tenant.slug().to_string(),
        update_duplicates: import.on_duplicate() == OnDuplicate::Update,
        fields,
        preview,
        import,
        errors,
    })
}

async fn show(local: Local, Pid(pid): Pid, layout: Layout) -> WebResult {
    let import = Import::find(&local.tenant, pid).await?;
    render(&show_page(&local, layout, import, Errors::default()).await?)
}

/// The mapping form: a column index per field (blank: not imported), the
/// duplicate rule, and `start` when the admin starts the import.
async fn update(
    session: Session,
    local: Local,
    Pid(pid): Pid,
    layout: Layout,
    Verified(form): Verified<BTreeMap<String, String>>,
) -> WebResult {
    let mut mapping = Mapping::default();
    for field in &FIELDS {
        if let Some(column) = form
            .get(field.key)
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            mapping.0.insert(field.key.to_string(), column);
        }
    }
    let on_duplicate = OnDuplicate::parse(form.get("on_duplicate").map_or("", String::as_str));
    let configured = Import::configure(
        &local.tenant,
        pid,
        mapping,
        on_duplicate,
        form.contains_key("create_missing"),
    )
    .await;
    let import = match outcome(configured)? {
        Outcome::Saved(import) => import,
        Outcome::Refused(errors) => {
            let import = Import::find(&local.tenant, pid).await?;
            return render_invalid(&show_page(&local, layout, import, errors).await?);
        }
    };
    if !form.contains_key("start") {
        return redirect_with(
            &session,
            &path(&local, &import),
            Flash::notice("Preview updated."),
        )
        .await;
    }
    let import = Import::queue(&local.tenant, pid).await?;
    let flash = Flash::notice("The import has started.");
    redirect_with(&session, &path(&local, &import), flash).await
}

async fn failures(local: Local, Pid(pid): Pid) -> WebResult {
    let csv = Import::failures_csv(&local.tenant, pid).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"failed-rows.csv\"".to_string(),
            ),
        ],
        csv,
    )
        .into_response())
}

pub fn routes() -> Routes {
    Routes::new()
        .add(
            "/l/{slug}/member_imports",
            // The size limit is the configured one, enforced while the file streams in.
            get(index).post(create).layer(DefaultBodyLimit::disable()),
        )
        .add("/l/{slug}/member_imports/new", get(new))
        .add("/l/{slug}/member_imports/{pid}", get(show).put(update))
        .add("/l/{slug}/member_imports/{pid}/failures.csv", get(failures))
}
