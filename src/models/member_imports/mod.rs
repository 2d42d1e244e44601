//! CSV imports of members (tenant-owned). An admin uploads a file (kept in
//! `member_import_chunks`), maps its columns (guessed from the headers),
//! previews the first rows, then a job on the `bulk` queue works through it
//! in batches (two at a time on PostgreSQL). Each batch commits its claim,
//! its members, its failed rows and the import's counts together, so a
//! re-run after a crash skips the written batches and never adds anyone
//! twice.

use chrono::Utc;
use loco_rs::model::TenantEntity;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub use super::_entities::member_imports::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{
        member_import_batches as batch_rows, member_import_chunks as chunks,
        member_import_failures as failures,
    },
    import_structure::Missing,
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};
use crate::domain::{FieldErrors, Permission};
use crate::workers::{member_import::ImportMembers, outbox};

macro_rules! tenant_owned {
    ($($module:ident),*) => {$(
        impl TenantEntity for $module::Entity {
            type TenantId = i32;

            fn tenant_column() -> $module::Column {
                $module::Column::TenantId
            }
        }
    )*};
}
tenant_owned!(member_imports, chunks, failures, batch_rows);

impl super::progress::ProgressRow for member_imports::Entity {
    fn id_column() -> Column {
        Column::Id
    }
    fn state_column() -> Column {
        Column::State
    }
    fn error_column() -> Column {
        Column::Error
    }
}

mod file;
mod rows;
mod run;

use crate::models::tenancy::LocalTxn;
use file::{decode, fields, reader};
pub use file::{sniff, Sniffed};
use rows::parse_row;
pub use rows::{Field, Mapping, OnDuplicate, FIELDS};
pub use run::run;

/// Bytes per stored chunk of an uploaded file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Rows per batch (one transaction; members have 20 columns, so an insert stays
/// well under PostgreSQL's 65,535 parameters).
const BATCH_ROWS: usize = 2000;
/// Rows a statement writes on SQLite (see `insert_created`).
const SQLITE_ROWS: usize = 500;
/// Rows the preview shows.
const PREVIEW_ROWS: usize = 10;

/// The first rows with what importing each would do.
pub struct Preview {
    pub headers: Vec<String>,
    pub rows: Vec<(Vec<String>, std::result::Result<(), String>)>,
    /// Employers, worksites and units the start of the file names that the
    /// local lacks (added when the import allows it).
    pub missing: Missing,
}

/// A row the import could not take, and why.
#[derive(Debug, Clone)]
pub struct FailedRow {
    pub id: i32,
    /// The row's number in the file: 1 is the first row after the header.
    pub row: i32,
    pub reason: String,
    pub values: Vec<String>,
}

/// Counts of a finished (or running) import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: i32,
    pub updated: i32,
    pub skipped: i32,
    pub failed: i32,
}

impl Model {
    #[must_use]
    pub fn mapping(&self) -> Mapping {
        serde_json::from_str(&self.mapping).unwrap_or_default()
    }

    #[must_use]
    pub fn on_duplicate(&self) -> OnDuplicate {
        OnDuplicate::parse(&self.on_duplicate)
    }

    #[must_use]
    pub fn is_editable(&self) -> bool {
        self.state == "mapping"
    }

    #[must_use]
    pub fn is_running(&self) -> bool {
        self.state == "queued" || self.state == "running"
    }

    #[must_use]
    pub fn is_done(&self) -> bool {
        self.state == "done"
    }

    /// Progress in percent, for the bar.
    #[must_use]
    pub fn percent(&self) -> i32 {
        if self.total_rows <= 0 {
            0
        } else {
            (i64::from(self.processed_rows) * 100 / i64::from(self.total_rows)) as i32
        }
    }

    #[must_use]
    pub fn counts(&self) -> Counts {
        Counts {
            created: self.created_count,
            updated: self.updated_count,
            skipped: self.skipped_count,
            failed: self.failed_count,
        }
    }

    /// Starts an import with the first chunk of the file (already sniffed).
    ///
    /// # Errors
    /// `Forbidden`, `Suspended`, or a database error.
    pub async fn start(
        tenant: &Tenant,
        file_name: &str,
        sniffed: &Sniffed,
        first_chunk: &[u8],
    ) -> Result<Self> {
        let by = tenant.require(Permission::MembersWrite)?;
        if tenant.model().is_suspended() {
            return Err(Error::Suspended(tenant.slug().to_string()));
        }
        let txn = tenant.begin().await?;
        let now = Utc::now();
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let import = txn
            .insert(ActiveModel {
                pid: Set(Uuid::new_v4()),
                created_by_id: Set(Some(by.user_id())),
                file_name: Set(if name.trim().is_empty() {
                    "members.csv".into()
                } else {
                    name
                }),
                size_bytes: Set(first_chunk.len() as i64),
                encoding: Set(sniffed.encoding.to_string()),
                mapping: Set(
                    serde_json::to_string(&Mapping::guess(&sniffed.headers)).unwrap_or_default()
                ),
                on_duplicate: Set(OnDuplicate::Skip.key().into()),
                state: Set("uploading".into()),
                created_at: Set(now.into()),
                updated_at: Set(now.into()),
                ..Default::default()
            })
            .await?;
        append_chunk(&txn, &import, 0, first_chunk).await?;
        txn.commit().await?;
        Ok(import)
    }

    /// Adds the next chunk of the file.
    ///
    /// # Errors
    /// A database error.
    pub async fn append(&self, tenant: &Tenant, position: i32, data: &[u8]) -> Result<()> {
        let txn = tenant.begin().await?;
        append_chunk(&txn, self, position, data).await?;
        txn.update::<member_imports::Entity>()
            .col_expr(
                Column::SizeBytes,
                Expr::col(Column::SizeBytes).add(data.len() as i64),
            )
            .filter(Column::Id.eq(self.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The file is whole: the admin may now map and preview.
    ///
    /// # Errors
    /// A database error.
    pub async fn uploaded(self, tenant: &Tenant) -> Result<Self> {
        let txn = tenant.begin().await?;
        let mut row: ActiveModel = self.into();
        row.state = Set("mapping".into());
        row.updated_at = Set(Utc::now().into());
        let import = row.update(&txn).await?;
        txn.commit().await?;
        Ok(import)
    }

    /// Drops an upload that went wrong (too large, cut off).
    ///
    /// # Errors
    /// A database error.
    pub async fn discard(self, tenant: &Tenant) -> Result<()> {
        let txn = tenant.begin().await?;
        txn.delete::<member_imports::Entity>()
            .filter(Column::Id.eq(self.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Receives a whole upload from `chunks` (the page's multipart field or
    /// the API's body): the start is checked before anything is kept, then
    /// the file goes to the database a chunk at a time. A refused file
    /// (empty, not CSV, over `max_bytes`, cut off) leaves nothing behind.
    /// `named`: the header row must name a column the mapping can guess
    /// (the page, where a file without one is almost always headerless);
    /// the API maps columns itself and need not.
    ///
    /// # Errors
    /// `Invalid` on `file` saying why the file was refused, `Forbidden`,
    /// `Suspended`, or a database error.
    pub async fn receive<S, B, E>(
        tenant: &Tenant,
        file_name: &str,
        mut chunks: S,
        max_bytes: u64,
        named: bool,
    ) -> Result<Self>
    where
        S: futures_util::Stream<Item = std::result::Result<B, E>> + Unpin + Send,
        B: AsRef<[u8]> + Send,
    {
        use futures_util::StreamExt;
        let refused = |message: String| Error::Invalid(FieldErrors::one("file", message));
        tenant.require_change(Permission::MembersWrite)?;
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
        let mut import: Option<Self> = None;
        let mut position = 0;
        let mut total: u64 = 0;
        loop {
            let piece = match chunks.next().await {
                Some(Ok(piece)) => Some(piece),
                None => None,
                Some(Err(_)) => {
                    if let Some(import) = import {
                        import.discard(tenant).await?;
                    }
                    return Err(refused("The upload could not be read. Try again.".into()));
                }
            };
            let end = piece.is_none();
            if let Some(piece) = &piece {
                let piece = piece.as_ref();
                total += piece.len() as u64;
                if total > max_bytes {
                    if let Some(import) = import {
                        import.discard(tenant).await?;
                    }
                    return Err(refused(format!(
                        "The file is larger than the limit of {} MB. Split it into smaller files.",
                        max_bytes / (1024 * 1024)
                    )));
                }
                buffer.extend_from_slice(piece);
            }
            if buffer.len() >= CHUNK_BYTES || (end && (!buffer.is_empty() || import.is_none())) {
                match &import {
                    None => {
                        let sniffed = file::sniff_with(&buffer, end, named).map_err(refused)?;
                        import = Some(Self::start(tenant, file_name, &sniffed, &buffer).await?);
                    }
                    Some(started) => started.append(tenant, position, &buffer).await?,
                }
                position += 1;
                buffer.clear();
            }
            if end {
                break;
            }
        }
        let import = import.ok_or_else(|| refused("The file is empty.".into()))?;
        import.uploaded(tenant).await
    }

    /// The local's imports a window at a time (the API's pages).
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn window(tenant: &Tenant, window: super::Window) -> Result<Vec<Self>> {
        tenant.require(Permission::MembersWrite)?;
        let txn = tenant.begin().await?;
        let rows = window
            .apply(txn.select::<member_imports::Entity>(), Column::Id)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// The failed rows of one of the local's imports, in row order, a
    /// window at a time: (row number, reason, the row as read).
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, or a database error.
    pub async fn failed_rows(
        tenant: &Tenant,
        pid: Uuid,
        window: super::Window,
    ) -> Result<Vec<FailedRow>> {
        let import = Self::find(tenant, pid).await?;
        let txn = tenant.begin().await?;
        let rows = window
            .apply(
                txn.select::<failures::Entity>()
                    .filter(failures::Column::ImportId.eq(import.id)),
                failures::Column::Id,
            )
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| FailedRow {
                id: r.id,
                row: r.row_number,
                values: serde_json::from_str(&r.fields).unwrap_or_default(),
                reason: r.reason,
            })
            .collect())
    }

    /// One of the local's imports.
    ///
    /// # Errors
    /// `NotFound` (also another local's), `Forbidden`.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        tenant.require(Permission::MembersWrite)?;
        let txn = tenant.begin().await?;
        let found = super::find_in_local::<member_imports::Entity>(&txn, Column::Pid, pid).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// The local's imports, newest first.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn list(tenant: &Tenant, limit: u64) -> Result<Vec<Self>> {
        tenant.require(Permission::MembersWrite)?;
        let txn = tenant.begin().await?;
        let rows = txn
            .select::<member_imports::Entity>()
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Saves the mapping, the duplicate rule and whether to add missing
    /// structure (while the import is being set up).
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, `Invalid` per field (a column mapped twice,
    /// no names), `Conflict` once it has started.
    pub async fn configure(
        tenant: &Tenant,
        pid: Uuid,
        mapping: Mapping,
        on_duplicate: OnDuplicate,
        create_missing: bool,
    ) -> Result<Self> {
        let import = Self::find(tenant, pid).await?;
        if !import.is_editable() {
            return Err(Error::Conflict(FieldErrors::one(
                "import",
                "This import has already started.",
            )));
        }
        let headers = import.preview(tenant).await?.headers.len();
        let txn = tenant.begin().await?;
        let mut row: ActiveModel = import.into();
        row.mapping = Set(serde_json::to_string(&mapping).unwrap_or_default());
        row.on_duplicate = Set(on_duplicate.key().into());
        row.create_missing = Set(create_missing);
        row.updated_at = Set(Utc::now().into());
        let saved = row.update(&txn).await?;
        txn.commit().await?;
        let errors = mapping.check(headers);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        Ok(saved)
    }

    /// Queues the import (once): its state says so before the job runs.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, `Invalid` (the mapping), `Conflict` (already started).
    pub async fn queue(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        let by = tenant.access()?;
        let import = Self::find(tenant, pid).await?;
        let headers = import.preview(tenant).await?.headers.len();
        let errors = import.mapping().check(headers);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let txn = tenant.begin().await?;
        let moved = txn
            .update::<member_imports::Entity>()
            .col_expr(Column::State, Expr::value("queued"))
            .col_expr(Column::StartedById, Expr::value(by.user_id()))
            .col_expr(
                Column::UpdatedAt,
                Expr::value(chrono::DateTime::<chrono::FixedOffset>::from(Utc::now())),
            )
            .filter(Column::Id.eq(import.id))
            .filter(Column::State.eq("mapping"))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            txn.rollback().await?;
            return Err(Error::Conflict(FieldErrors::one(
                "import",
                "This import has already started.",
            )));
        }
        // Its job is recorded with the change of state, and sent once both commit.
        let job = ImportMembers {
            local_id: tenant.id(),
            import_id: import.id,
            actor: Some(by.user_id()),
        };
        outbox::commit_with(txn.into_transaction(), &job).await?;
        Self::find(tenant, pid).await
    }

    /// The headers and first rows, each checked as the import would.
    ///
    /// # Errors
    /// A database error.
    pub async fn preview(&self, tenant: &Tenant) -> Result<Preview> {
        let txn = tenant.begin().await?;
        let first = txn
            .select::<chunks::Entity>()
            .filter(chunks::Column::ImportId.eq(self.id))
            .order_by_asc(chunks::Column::Position)
            .one(&txn)
            .await?;
        let directory = Directory::load_in(&txn, tenant).await?;
        txn.commit().await?;
        let data = first.map(|c| c.data).unwrap_or_default();
        let complete = (data.len() as i64) >= self.size_bytes;
        // Accepted already: the header need not name columns the guess reads.
        let sniffed = file::sniff_with(&data, complete, false).unwrap_or(Sniffed {
            encoding: "UTF-8",
            headers: vec![],
            rows: vec![],
        });
        let mapping = self.mapping();
        // Names from the whole first chunk, not only the rows shown (a cut
        // last row would name a cut name).
        let (text, _) = decode(&data, Some(&self.encoding), complete);
        let mut rows: Vec<Vec<String>> = reader(&text)
            .into_records()
            .skip(1)
            .filter_map(std::result::Result::ok)
            .map(|r| fields(&r))
            .collect();
        if !complete {
            rows.pop();
        }
        let missing = Missing::find(&rows, &mapping, &directory);
        let directory = if self.create_missing {
            missing.placed(&directory)
        } else {
            directory
        };
        Ok(Preview {
            rows: sniffed
                .rows
                .into_iter()
                .map(|row| {
                    let check =
                        parse_row(&row, &mapping, &directory, tenant.phone_country()).map(|_| ());
                    (row, check)
                })
                .collect(),
            headers: sniffed.headers,
            missing,
        })
    }

    /// The failed rows as CSV: row number, reason, then the row as read.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden`, or a database error.
    pub async fn failures_csv(tenant: &Tenant, pid: Uuid) -> Result<Vec<u8>> {
        let import = Self::find(tenant, pid).await?;
        let headers = import.preview(tenant).await?.headers;
        let txn = tenant.begin().await?;
        let rows = txn
            .select::<failures::Entity>()
            .filter(failures::Column::ImportId.eq(import.id))
            .order_by_asc(failures::Column::RowNumber)
            .all(&txn)
            .await?;
        txn.commit().await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut head = vec!["row".to_string(), "reason".to_string()];
        head.extend(headers);
        let _ = out.write_record(&head);
        for r in rows {
            let mut record = vec![r.row_number.to_string(), r.reason];
            record.extend(serde_json::from_str::<Vec<String>>(&r.fields).unwrap_or_default());
            let _ = out.write_record(&record);
        }
        Ok(out.into_inner().unwrap_or_default())
    }
}

async fn append_chunk(txn: &LocalTxn, import: &Model, position: i32, data: &[u8]) -> Result<()> {
    txn.insert(chunks::ActiveModel {
        import_id: Set(import.id),
        position: Set(position),
        data: Set(data.to_vec()),
        ..Default::default()
    })
    .await?;
    Ok(())
}
