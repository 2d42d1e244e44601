//! CSV imports of members (tenant-owned). An admin uploads a file (kept in
//! `member_import_chunks`), maps its columns (guessed from the headers),
//! previews the first rows, then a job on the `bulk` queue works through it
//! in batches (two at a time on PostgreSQL). Each batch commits its claim,
//! its members, its failed rows and the import's counts together, so a
//! re-run after a crash skips the written batches and never adds anyone
//! twice.
use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt};

use chrono::{NaiveDate, Utc};
use loco_rs::model::{TenantActiveModelExt, TenantEntity, TenantQueryExt};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::_entities::member_imports::{self, ActiveModel, Column, Entity, Model};
use super::{
    _entities::{
        member_import_batches as batch_rows, member_import_chunks as chunks,
        member_import_failures as failures, member_status_changes as changes,
        members as member_rows,
    },
    audit_events::{self, Change},
    import_structure::{same_name, Missing},
    members::{self, add_to_count, diff, fill, resolve_in, Directory, NewMember},
    tenants::Tenant,
    Error, Result,
};
use crate::domain::{Email, EmployeeNumber, FieldErrors, MemberName, Permission, Phone};
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

/// Bytes per stored chunk of an uploaded file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Rows per batch (one transaction; members have 20 columns, so an insert stays
/// well under PostgreSQL's 65,535 parameters).
const BATCH_ROWS: usize = 2000;
/// Rows a statement writes on SQLite (see `insert_created`).
const SQLITE_ROWS: usize = 500;
/// Rows the preview shows.
const PREVIEW_ROWS: usize = 10;

/// A member field a column can fill: key, label, header names it is guessed from.
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    aliases: &'static [&'static str],
}

pub const FIELDS: [Field; 11] = [
    Field {
        key: "first_name",
        label: "First name",
        aliases: &["firstname", "first", "givenname", "forename", "prenom"],
    },
    Field {
        key: "last_name",
        label: "Last name",
        aliases: &["lastname", "last", "surname", "familyname", "nom"],
    },
    Field {
        key: "email",
        label: "Email",
        aliases: &["email", "emailaddress", "mail", "courriel"],
    },
    Field {
        key: "phone",
        label: "Phone",
        aliases: &[
            "phone",
            "phonenumber",
            "mobile",
            "cell",
            "cellphone",
            "telephone",
            "tel",
        ],
    },
    Field {
        key: "address",
        label: "Address",
        aliases: &["address", "homeaddress", "mailingaddress", "streetaddress"],
    },
    Field {
        key: "employee_number",
        label: "Employee number",
        aliases: &[
            "employeenumber",
            "employeeno",
            "employeeid",
            "empno",
            "empid",
            "badge",
            "payrollnumber",
            "staffnumber",
        ],
    },
    Field {
        key: "employer",
        label: "Employer",
        aliases: &["employer", "company", "employername"],
    },
    Field {
        key: "worksite",
        label: "Worksite",
        aliases: &["worksite", "site", "location", "workplace", "worklocation"],
    },
    Field {
        key: "bargaining_unit",
        label: "Bargaining unit",
        aliases: &["bargainingunit", "unit", "bu"],
    },
    Field {
        key: "status",
        label: "Status",
        aliases: &["status", "membershipstatus", "memberstatus"],
    },
    Field {
        key: "join_date",
        label: "Join date",
        aliases: &[
            "joindate",
            "joined",
            "datejoined",
            "memberSince",
            "membersince",
            "startdate",
        ],
    },
];

/// Which column (0-based) fills which field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping(pub BTreeMap<String, usize>);

impl Mapping {
    #[must_use]
    pub fn column(&self, field: &str) -> Option<usize> {
        self.0.get(field).copied()
    }

    /// Guessed from the headers: case, spaces and punctuation do not matter.
    #[must_use]
    pub fn guess(headers: &[String]) -> Self {
        let norm = |h: &str| {
            h.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        };
        let mut mapping = BTreeMap::new();
        for field in &FIELDS {
            let found = headers.iter().position(|h| {
                let h = norm(h);
                h == norm(field.key) || field.aliases.iter().any(|a| norm(a) == h)
            });
            if let Some(column) = found {
                mapping.insert(field.key.to_string(), column);
            }
        }
        // "Name" alone: nothing to split reliably, so it is left for the admin to map.
        Self(mapping)
    }

    /// The mapping's problems for these headers.
    #[must_use]
    pub fn check(&self, headers: usize) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for field in &FIELDS {
            if self.column(field.key).is_some_and(|c| c >= headers) {
                errors.add(field.key, "Choose one of the file's columns.");
            }
        }
        for (key, label) in [("first_name", "first names"), ("last_name", "last names")] {
            if self.column(key).is_none() {
                errors.add(key, format!("Choose the column with the members' {label}."));
            }
        }
        let mut seen = HashMap::new();
        for field in &FIELDS {
            if let Some(c) = self.column(field.key) {
                if let Some(other) = seen.insert(c, field.label) {
                    errors.add(
                        field.key,
                        format!("This column is already mapped to {other}."),
                    );
                }
            }
        }
        errors
    }
}

/// What to do with a row that matches a member already on the roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    #[default]
    Skip,
    Update,
}

impl OnDuplicate {
    #[must_use]
    pub fn parse(raw: &str) -> Self {
        if raw == "update" {
            Self::Update
        } else {
            Self::Skip
        }
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Update => "update",
        }
    }
}

/// The start of an uploaded file, read to check it and to guess the mapping.
#[derive(Debug, Clone)]
pub struct Sniffed {
    pub encoding: &'static str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The file's text: UTF-8 (a BOM dropped), UTF-16 with a BOM, otherwise
/// Windows-1252 (what spreadsheets on Windows save as "CSV").
/// `complete` is false for the first chunk of a longer file, whose last
/// UTF-8 character may be cut.
fn decode(bytes: &[u8], declared: Option<&str>, complete: bool) -> (String, &'static str) {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), encoding.name());
    }
    let utf8 = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    };
    if utf8 && declared != Some("windows-1252") {
        (String::from_utf8_lossy(bytes).into_owned(), "UTF-8")
    } else {
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
        (text.into_owned(), "windows-1252")
    }
}

/// How many records the file holds (the header's among them), read
/// without keeping them.
fn count_records(text: &str) -> usize {
    let mut reader = reader(text);
    let mut record = csv::ByteRecord::new();
    let mut count = 0;
    // The text is UTF-8 and rows may differ in length: reading cannot fail.
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        count += 1;
    }
    count
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes())
}

fn fields(record: &csv::StringRecord) -> Vec<String> {
    record.iter().map(|f| f.trim().to_string()).collect()
}

/// Checks the start of an upload: not empty, text, CSV with a header row,
/// and at least one column a member field can be guessed from.
///
/// # Errors
/// A message for the person who uploaded it.
pub fn sniff(start: &[u8], complete: bool) -> std::result::Result<Sniffed, String> {
    if start.iter().all(u8::is_ascii_whitespace) {
        return Err("The file is empty.".into());
    }
    let (text, encoding) = decode(start, None, complete);
    if text.contains('\0') {
        return Err(
            "This is not a CSV file (it contains binary data). Save the sheet as CSV and try again."
                .into(),
        );
    }
    let mut records = reader(&text).into_records();
    let headers = match records.next() {
        Some(Ok(r)) => fields(&r),
        Some(Err(e)) => return Err(format!("The file could not be read as CSV: {e}.")),
        None => return Err("The file is empty.".into()),
    };
    let mut rows = Vec::new();
    for record in records.take(PREVIEW_ROWS) {
        match record {
            Ok(r) => rows.push(fields(&r)),
            // A cut last record at the end of the first chunk is expected.
            Err(_) if !complete => break,
            Err(e) => return Err(format!("The file could not be read as CSV: {e}.")),
        }
    }
    if Mapping::guess(&headers).0.is_empty() {
        return Err(format!(
            "No usable columns: the first row should name the columns (for example first_name, last_name, email, phone); this file's first row is \"{}\".",
            headers.join(", ").chars().take(120).collect::<String>()
        ));
    }
    if rows.is_empty() {
        return Err("The file has a header row but no members.".into());
    }
    Ok(Sniffed {
        encoding,
        headers,
        rows,
    })
}

fn opt(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|r| !r.is_empty())
}

/// A member read from a row, with names of the local's structure resolved.
fn parse_row(
    row: &[String],
    mapping: &Mapping,
    directory: &Directory,
    phone_country: &str,
) -> std::result::Result<NewMember, String> {
    let get = |key: &str| {
        mapping
            .column(key)
            .and_then(|c| row.get(c))
            .map(String::as_str)
            .unwrap_or_default()
    };
    let mut errors = FieldErrors::new();
    let first_name = errors.take("first_name", MemberName::parse(get("first_name")));
    let last_name = errors.take("last_name", MemberName::parse(get("last_name")));
    let email = opt(get("email")).and_then(|r| errors.take("email", Email::parse(r)));
    let phone =
        opt(get("phone")).and_then(|r| errors.take("phone", Phone::parse(r, phone_country)));
    let employee_number = opt(get("employee_number"))
        .and_then(|r| errors.take("employee_number", EmployeeNumber::parse(r)));
    let join_date = opt(get("join_date")).and_then(|r| errors.take("join_date", parse_date(r)));
    fn by_name<'a>(name: &str, mut names: impl Iterator<Item = (Uuid, &'a str)>) -> Option<Uuid> {
        names.find(|(_, n)| same_name(n, name)).map(|(pid, _)| pid)
    }
    let employer = opt(get("employer")).and_then(|name| {
        let found = by_name(
            name,
            directory.employers.iter().map(|e| (e.pid, e.name.as_str())),
        );
        if found.is_none() {
            errors.add("employer", format!("Unknown employer \"{name}\"."));
        }
        found
    });
    let employer_id = employer.and_then(|pid| {
        directory
            .employers
            .iter()
            .find(|e| e.pid == pid)
            .map(|e| e.id)
    });
    let worksite = opt(get("worksite")).and_then(|name| {
        // A worksite name is looked up at the row's employer when it has one.
        let found = by_name(
            name,
            directory
                .worksites
                .iter()
                .filter(|w| employer_id.is_none_or(|e| e == w.employer_id))
                .map(|w| (w.pid, w.name.as_str())),
        );
        if found.is_none() {
            errors.add("worksite", format!("Unknown worksite \"{name}\"."));
        }
        found
    });
    let bargaining_unit = opt(get("bargaining_unit")).and_then(|name| {
        let found = by_name(
            name,
            directory.units.iter().map(|u| (u.pid, u.name.as_str())),
        );
        if found.is_none() {
            errors.add(
                "bargaining_unit",
                format!("Unknown bargaining unit \"{name}\"."),
            );
        }
        found
    });
    let status = opt(get("status")).and_then(|name| {
        let found = by_name(
            name,
            directory.statuses.iter().map(|s| (s.pid, s.name.as_str())),
        );
        if found.is_none() {
            errors.add("status", format!("Unknown status \"{name}\"."));
        }
        found
    });
    let address = opt(get("address")).map(str::to_string);
    match (first_name, last_name) {
        (Some(first_name), Some(last_name)) if errors.is_empty() => Ok(NewMember {
            first_name,
            last_name,
            email,
            phone,
            address,
            employee_number,
            employer,
            worksite,
            bargaining_unit,
            status,
            join_date,
        }),
        _ => Err(describe(&errors)),
    }
}

fn describe(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| {
            let label = FIELDS
                .iter()
                .find(|f| f.key == field)
                .map_or(field, |f| f.label);
            format!("{label}: {message}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Dates as spreadsheets write them: ISO, or US month/day/year.
fn parse_date(raw: &str) -> std::result::Result<NaiveDate, String> {
    let raw = raw.trim();
    ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .ok_or_else(|| format!("\"{raw}\" is not a date (use YYYY-MM-DD)."))
}

/// The first rows with what importing each would do.
pub struct Preview {
    pub headers: Vec<String>,
    pub rows: Vec<(Vec<String>, std::result::Result<(), String>)>,
    /// Employers, worksites and units the start of the file names that the
    /// local lacks (added when the import allows it).
    pub missing: Missing,
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
        let import = ActiveModel {
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
        }
        .set_tenant(tenant.id())?
        .insert(&txn)
        .await?;
        append_chunk(&txn, tenant, &import, 0, first_chunk).await?;
        txn.commit().await?;
        Ok(import)
    }

    /// Adds the next chunk of the file.
    ///
    /// # Errors
    /// A database error.
    pub async fn append(&self, tenant: &Tenant, position: i32, data: &[u8]) -> Result<()> {
        let txn = tenant.begin().await?;
        append_chunk(&txn, tenant, self, position, data).await?;
        member_imports::Entity::update_many()
            .col_expr(
                Column::SizeBytes,
                Expr::col(Column::SizeBytes).add(data.len() as i64),
            )
            .filter(Column::Id.eq(self.id))
            .in_tenant(tenant.id())
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
        member_imports::Entity::delete_many()
            .filter(Column::Id.eq(self.id))
            .in_tenant(tenant.id())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// One of the local's imports.
    ///
    /// # Errors
    /// `NotFound` (also another local's), `Forbidden`.
    pub async fn find(tenant: &Tenant, pid: Uuid) -> Result<Self> {
        tenant.require(Permission::MembersWrite)?;
        let txn = tenant.begin().await?;
        let found =
            super::find_in_local::<member_imports::Entity, _>(&txn, tenant, Column::Pid, pid)
                .await?;
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
        let rows = member_imports::Entity::find()
            .in_tenant(tenant.id())
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
        let moved = member_imports::Entity::update_many()
            .col_expr(Column::State, Expr::value("queued"))
            .col_expr(Column::StartedById, Expr::value(by.user_id()))
            .col_expr(
                Column::UpdatedAt,
                Expr::value(chrono::DateTime::<chrono::FixedOffset>::from(Utc::now())),
            )
            .filter(Column::Id.eq(import.id))
            .filter(Column::State.eq("mapping"))
            .in_tenant(tenant.id())
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
        outbox::commit_with(txn, &job).await?;
        Self::find(tenant, pid).await
    }

    /// The headers and first rows, each checked as the import would.
    ///
    /// # Errors
    /// A database error.
    pub async fn preview(&self, tenant: &Tenant) -> Result<Preview> {
        let txn = tenant.begin().await?;
        let first = chunks::Entity::find()
            .in_tenant(tenant.id())
            .filter(chunks::Column::ImportId.eq(self.id))
            .order_by_asc(chunks::Column::Position)
            .one(&txn)
            .await?;
        let directory = Directory::load_in(&txn, tenant).await?;
        txn.commit().await?;
        let data = first.map(|c| c.data).unwrap_or_default();
        let complete = (data.len() as i64) >= self.size_bytes;
        let sniffed = sniff(&data, complete).unwrap_or(Sniffed {
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
        let rows = failures::Entity::find()
            .in_tenant(tenant.id())
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

async fn append_chunk(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    import: &Model,
    position: i32,
    data: &[u8],
) -> Result<()> {
    chunks::ActiveModel {
        import_id: Set(import.id),
        position: Set(position),
        data: Set(data.to_vec()),
        ..Default::default()
    }
    .set_tenant(tenant.id())?
    .insert(txn)
    .await?;
    Ok(())
}

/// What a member or a row matches on: employee number (any case), email,
/// or name (any case) + phone.
struct Keys {
    number: Option<String>,
    email: Option<String>,
    name_phone: Option<(String, String, String)>,
}

impl Keys {
    fn of(
        number: Option<&str>,
        email: Option<&str>,
        (first, last): (&str, &str),
        phone: Option<&str>,
    ) -> Self {
        Self {
            number: number.map(str::to_lowercase),
            email: email.map(str::to_string),
            name_phone: phone.map(|p| (first.to_lowercase(), last.to_lowercase(), p.to_string())),
        }
    }

    fn of_member(m: &member_rows::Model) -> Self {
        Self::of(
            m.employee_number.as_deref(),
            m.email.as_deref(),
            (&m.first_name, &m.last_name),
            m.phone.as_deref(),
        )
    }

    fn of_row(new: &NewMember) -> Self {
        Self::of(
            new.employee_number.as_ref().map(|n| n.as_str()),
            new.email.as_ref().map(|e| e.as_str()),
            (new.first_name.as_str(), new.last_name.as_str()),
            new.phone.as_ref().map(|p| p.as_str()),
        )
    }
}

/// Members or rows by what they match on.
#[derive(Default)]
struct Known {
    by_number: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
    by_name_phone: HashMap<(String, String, String), usize>,
}

impl Known {
    fn add(&mut self, keys: Keys, index: usize) {
        if let Some(n) = keys.number {
            self.by_number.insert(n, index);
        }
        if let Some(e) = keys.email {
            self.by_email.insert(e, index);
        }
        if let Some(np) = keys.name_phone {
            self.by_name_phone.insert(np, index);
        }
    }

    fn find(&self, new: &NewMember) -> Option<usize> {
        let keys = Keys::of_row(new);
        keys.number
            .and_then(|n| self.by_number.get(&n))
            .or_else(|| keys.email.and_then(|e| self.by_email.get(&e)))
            .or_else(|| keys.name_phone.and_then(|np| self.by_name_phone.get(&np)))
            .copied()
    }
}

/// A row of the file: its number (1 = the first after the header) and its fields.
type Row = (i32, std::result::Result<Vec<String>, String>);

/// Batches written at once on PostgreSQL, each on a connection of its own:
/// one batch at a time kept one core of the database busy.
const PARALLEL_BATCHES: usize = 2;

/// Rows repeating an earlier row of the file (by the duplicate keys),
/// found in file order as the batches are read, so the database writes
/// while the file is checked: such a row is held back from its batch and
/// written after every batch, once the row it repeats is on the roll.
struct Repeats<'a> {
    mapping: &'a Mapping,
    directory: &'a Directory,
    phone_country: &'a str,
    seen: Known,
    held: HashSet<usize>,
}

impl<'a> Repeats<'a> {
    fn new(mapping: &'a Mapping, directory: &'a Directory, phone_country: &'a str) -> Self {
        Self {
            mapping,
            directory,
            phone_country,
            seen: Known::default(),
            held: HashSet::new(),
        }
    }

    /// Whether the row goes in its batch (it repeats no earlier row).
    fn keep(&mut self, index: usize, record: &csv::Result<csv::StringRecord>) -> bool {
        let Ok(record) = record else { return true };
        let Ok(new) = parse_row(
            &fields(record),
            self.mapping,
            self.directory,
            self.phone_country,
        ) else {
            return true;
        };
        if self.seen.find(&new).is_some() {
            self.held.insert(index);
            false
        } else {
            self.seen.add(Keys::of_row(&new), index);
            true
        }
    }
}

/// `records` in batches of [`BATCH_ROWS`], numbered from `numbers`, with
/// the records `keep` refuses left out of each; batches already written
/// are skipped (`keep` still sees every record, in order).
fn batches<'a>(
    mut records: impl Iterator<Item = (usize, csv::Result<csv::StringRecord>)> + 'a,
    mut numbers: impl Iterator<Item = i32> + 'a,
    done: &'a HashSet<i32>,
    mut keep: impl FnMut(usize, &csv::Result<csv::StringRecord>) -> bool + 'a,
) -> impl Iterator<Item = (i32, Vec<Row>)> + 'a {
    std::iter::from_fn(move || loop {
        let chunk: Vec<_> = records.by_ref().take(BATCH_ROWS).collect();
        let n = numbers.next()?;
        if chunk.is_empty() {
            return None;
        }
        let kept: Vec<_> = chunk.into_iter().filter(|(i, r)| keep(*i, r)).collect();
        if done.contains(&n) {
            continue;
        }
        let rows = kept
            .into_iter()
            .map(|(index, record)| {
                (
                    i32::try_from(index).unwrap_or(i32::MAX),
                    record.map(|r| fields(&r)).map_err(|e| e.to_string()),
                )
            })
            .collect();
        return Some((n, rows));
    })
}

/// The batches of an import already written (by an earlier run, or another runner).
async fn claimed(tenant: &Tenant, import_id: i32) -> Result<HashSet<i32>> {
    let txn = tenant.begin().await?;
    let done = batch_rows::Entity::find()
        .in_tenant(tenant.id())
        .filter(batch_rows::Column::ImportId.eq(import_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|b| b.batch)
        .collect();
    txn.commit().await?;
    Ok(done)
}

/// Claims a batch inside the transaction that writes it; `false` when it is
/// already written (after waiting for a runner writing it at this moment).
async fn claim(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    import_id: i32,
    batch: i32,
) -> Result<bool> {
    let claimed = batch_rows::Entity::insert(batch_rows::ActiveModel {
        tenant_id: Set(tenant.id()),
        import_id: Set(import_id),
        batch: Set(batch),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            batch_rows::Column::TenantId,
            batch_rows::Column::ImportId,
            batch_rows::Column::Batch,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(claimed == 1)
}

/// Works through a queued import (the job's body). Safe to run again: it
/// skips the batches already written; a finished import is left alone.
///
/// # Errors
/// A database error (the job retries and resumes).
pub async fn run(tenant: &Tenant, import_id: i32, actor: Option<i32>) -> Result<Counts> {
    let txn = tenant.begin().await?;
    let import = member_imports::Entity::find()
        .in_tenant(tenant.id())
        .filter(Column::Id.eq(import_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if !import.is_running() {
        txn.commit().await?;
        return Ok(import.counts());
    }
    let data: Vec<u8> = chunks::Entity::find()
        .in_tenant(tenant.id())
        .filter(chunks::Column::ImportId.eq(import.id))
        .order_by_asc(chunks::Column::Position)
        .all(&txn)
        .await?
        .into_iter()
        .flat_map(|c| c.data)
        .collect();
    txn.commit().await?;
    let (text, _) = decode(&data, Some(&import.encoding), true);
    drop(data);
    let total = count_records(&text).saturating_sub(1);
    let txn = tenant.begin().await?;
    let mut row: ActiveModel = import.clone().into();
    row.state = Set("running".into());
    row.error = Set(None);
    row.total_rows = Set(i32::try_from(total).unwrap_or(i32::MAX));
    if import.started_at.is_none() {
        row.started_at = Set(Some(Utc::now().into()));
    }
    let import = row.update(&txn).await?;
    txn.commit().await?;

    let mapping = import.mapping();
    let on_duplicate = import.on_duplicate();
    let mut directory = Directory::load(tenant).await?;
    if import.create_missing {
        let rows = reader(&text)
            .into_records()
            .skip(1)
            .filter_map(std::result::Result::ok)
            .map(|r| fields(&r));
        let missing = Missing::find(rows, &mapping, &directory);
        if !missing.is_empty() {
            missing.add(tenant, actor, import.id).await?;
            directory = Directory::load(tenant).await?;
        }
    }
    let repeats = std::sync::Mutex::new(Repeats::new(&mapping, &directory, tenant.phone_country()));
    let done = claimed(tenant, import.id).await?;
    let records = || reader(&text).into_records().enumerate().skip(1);
    // The file's batches, without the rows held for the final pass, several
    // at once on PostgreSQL (SQLite has one writer).
    let parallel = if tenant.pool().get_database_backend() == DbBackend::Postgres {
        PARALLEL_BATCHES
    } else {
        1
    };
    let all = batches(records(), 0.., &done, |i, record| {
        repeats.lock().map_or(true, |mut r| r.keep(i, record))
    });
    futures_util::stream::iter(
        all.map(|(n, batch)| {
            import_batch(tenant, &import, &mapping, on_duplicate, actor, n, batch)
        }),
    )
    .buffer_unordered(parallel)
    .try_collect::<Vec<()>>()
    .await?;
    // Rows repeating an earlier row of the file, in order, once the rows
    // they repeat are on the roll: each is then a duplicate like any other.
    let held = repeats.into_inner().map(|r| r.held).unwrap_or_default();
    let repeated = records().filter(|(i, _)| held.contains(i));
    for (n, batch) in batches(repeated, (1..).map(|n: i32| -n), &done, |_, _| true) {
        import_batch(tenant, &import, &mapping, on_duplicate, actor, n, batch).await?;
    }
    let txn = tenant.begin().await?;
    let import = member_imports::Entity::find()
        .in_tenant(tenant.id())
        .filter(Column::Id.eq(import.id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let counts = import.counts();
    let mut row: ActiveModel = import.into();
    row.state = Set("done".into());
    row.finished_at = Set(Some(Utc::now().into()));
    row.updated_at = Set(Utc::now().into());
    let import = row.update(&txn).await?;
    audit_events::record(
        &txn,
        tenant,
        actor,
        ("member_import", import.id),
        "import",
        &[
            Change::of("file", None, Some(&import.file_name)),
            Change::of("created", None, Some(&counts.created.to_string())),
            Change::of("updated", None, Some(&counts.updated.to_string())),
            Change::of("skipped", None, Some(&counts.skipped.to_string())),
            Change::of("failed", None, Some(&counts.failed.to_string())),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
    )
    .await?;
    txn.commit().await?;
    Ok(counts)
}

/// Marks an import failed for good (the job ran out of retries).
///
/// # Errors
/// A database error.
pub async fn fail(tenant: &Tenant, import_id: i32, error: &str) -> Result<()> {
    stopped(tenant, import_id, error, true).await
}

/// Keeps why an attempt stopped while the import waits for its retry, so
/// its page says so instead of standing still; the next attempt clears it.
///
/// # Errors
/// A database error.
pub async fn retrying(tenant: &Tenant, import_id: i32, error: &str) -> Result<()> {
    stopped(tenant, import_id, error, false).await
}

async fn stopped(tenant: &Tenant, import_id: i32, error: &str, for_good: bool) -> Result<()> {
    let txn = tenant.begin().await?;
    let mut update = member_imports::Entity::update_many();
    if for_good {
        update = update.col_expr(Column::State, Expr::value("failed"));
    }
    update
        .col_expr(
            Column::Error,
            Expr::value(error.chars().take(2000).collect::<String>()),
        )
        .filter(Column::Id.eq(import_id))
        .in_tenant(tenant.id())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// One batch in one transaction: its claim, its new members (with their
/// first status and an audit line), updated duplicates, failed rows, and
/// the import's progress and counts. Two runners of one import cannot both
/// write a batch: the second finds it claimed.
async fn import_batch(
    tenant: &Tenant,
    import: &Model,
    mapping: &Mapping,
    on_duplicate: OnDuplicate,
    actor: Option<i32>,
    number: i32,
    batch: Vec<Row>,
) -> Result<()> {
    let txn = tenant.begin().await?;
    if !claim(&txn, tenant, import.id, number).await? {
        txn.rollback().await?;
        return Ok(());
    }
    let directory = Directory::load_in(&txn, tenant).await?;
    let mut failed: Vec<(i32, String, Vec<String>)> = vec![];
    let mut parsed: Vec<(i32, NewMember, members::Resolved, Vec<String>)> = vec![];
    for (row_number, record) in batch.iter().cloned() {
        match record {
            Err(e) => failed.push((
                row_number,
                format!("The row could not be read: {e}"),
                vec![],
            )),
            Ok(fields) if fields.iter().all(String::is_empty) => {
                failed.push((row_number, "The row is empty.".into(), fields));
            }
            Ok(fields) => match parse_row(&fields, mapping, &directory, tenant.phone_country())
                .and_then(|new| {
                    resolve_in(&directory, &new)
                        .map(|refs| (new, refs))
                        .map_err(|e| describe(&e))
                }) {
                Ok((new, refs)) => parsed.push((row_number, new, refs, fields)),
                Err(reason) => failed.push((row_number, reason, fields)),
            },
        }
    }

    // Members already on the roll (archived ones too) that rows may match.
    let numbers: Vec<String> = parsed
        .iter()
        .filter_map(|p| p.1.employee_number.as_ref().map(|n| n.as_str().to_string()))
        .collect();
    let emails: Vec<String> = parsed
        .iter()
        .filter_map(|p| p.1.email.as_ref().map(|e| e.as_str().to_string()))
        .collect();
    let phones: Vec<String> = parsed
        .iter()
        .filter_map(|p| p.1.phone.as_ref().map(|e| e.as_str().to_string()))
        .collect();
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    let mut any = Condition::any();
    for (column, values) in [
        (member_rows::Column::EmployeeNumber, numbers),
        (member_rows::Column::Email, emails),
        (member_rows::Column::Phone, phones),
    ] {
        if !values.is_empty() {
            any = any.add(one_of(column, values, postgres));
        }
    }
    let mut existing: Vec<member_rows::Model> = if any.is_empty() {
        vec![]
    } else {
        member_rows::Entity::find()
            .in_tenant(tenant.id())
            .filter(any)
            .all(&txn)
            .await?
    };
    let mut known = Known::default();
    for (i, m) in existing.iter().enumerate() {
        known.add(Keys::of_member(m), i);
    }

    let now = Utc::now();
    let mut counts = Counts::default();
    let mut inserts: Vec<member_rows::ActiveModel> = vec![];
    // Rows of this batch already queued for insert, by the same keys.
    let mut pending = Known::default();
    let mut updated: Vec<(member_rows::Model, member_rows::Model)> = vec![];
    for (row_number, new, refs, fields) in parsed {
        if pending.find(&new).is_some() {
            counts.skipped += 1;
            continue;
        }
        match known.find(&new) {
            Some(_) if on_duplicate == OnDuplicate::Skip => counts.skipped += 1,
            Some(index) => {
                let old = existing[index].clone();
                // The row's employee number must not be another member's.
                if let Some(n) = &new.employee_number {
                    if known
                        .by_number
                        .get(&n.as_str().to_lowercase())
                        .is_some_and(|&j| j != index)
                    {
                        failed.push((row_number, "Employee number: Another member of the local has this employee number.".into(), fields));
                        continue;
                    }
                }
                let merged = merge(&old, new, &directory);
                let refs = match resolve_in(&directory, &merged) {
                    Ok(refs) => refs,
                    Err(e) => {
                        failed.push((row_number, describe(&e), fields));
                        continue;
                    }
                };
                let mut row: member_rows::ActiveModel = old.clone().into();
                fill(&mut row, &merged, &refs);
                let saved = row.update(&txn).await?;
                existing[index] = saved.clone();
                updated.push((old, saved));
                counts.updated += 1;
            }
            None => {
                let mut row = member_rows::ActiveModel {
                    pid: Set(Uuid::now_v7()),
                    email_opt_in: Set(true),
                    sms_opt_in: Set(false),
                    created_at: Set(now.into()),
                    import_id: Set(Some(import.id)),
                    ..Default::default()
                };
                fill(&mut row, &new, &refs);
                let row = row.set_tenant(tenant.id())?;
                pending.add(Keys::of_row(&new), inserts.len());
                inserts.push(row);
                counts.created += 1;
            }
        }
    }

    let created = insert_created(&txn, tenant, inserts, import.id, now).await?;
    if created > 0 {
        add_to_count(&txn, tenant, created).await?;
    }
    for (old, saved) in &updated {
        if old.status_id != saved.status_id {
            changes::ActiveModel {
                tenant_id: Set(tenant.id()),
                member_id: Set(saved.id),
                from_status_id: Set(Some(old.status_id)),
                to_status_id: Set(saved.status_id),
                changed_by_id: Set(actor),
                changed_on: Set(now.date_naive()),
                created_at: Set(now.into()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        let changed = diff(Some(old), saved, &directory);
        if !changed.is_empty() {
            audit_events::record(
                &txn,
                tenant,
                actor,
                (members::SUBJECT, saved.id),
                "import",
                &changed,
            )
            .await?;
        }
    }
    counts.failed = i32::try_from(failed.len()).unwrap_or(0);
    if !failed.is_empty() {
        failures::Entity::insert_many(failed.into_iter().map(|(row_number, reason, fields)| {
            failures::ActiveModel {
                tenant_id: Set(tenant.id()),
                import_id: Set(import.id),
                row_number: Set(row_number),
                reason: Set(reason),
                fields: Set(serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into())),
                ..Default::default()
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let rows = i32::try_from(batch.len()).unwrap_or(0);
    member_imports::Entity::update_many()
        .col_expr(
            Column::ProcessedRows,
            Expr::col(Column::ProcessedRows).add(rows),
        )
        .col_expr(
            Column::CreatedCount,
            Expr::col(Column::CreatedCount).add(counts.created),
        )
        .col_expr(
            Column::UpdatedCount,
            Expr::col(Column::UpdatedCount).add(counts.updated),
        )
        .col_expr(
            Column::SkippedCount,
            Expr::col(Column::SkippedCount).add(counts.skipped),
        )
        .col_expr(
            Column::FailedCount,
            Expr::col(Column::FailedCount).add(counts.failed),
        )
        .col_expr(
            Column::UpdatedAt,
            Expr::value(chrono::DateTime::<chrono::FixedOffset>::from(now)),
        )
        .filter(Column::Id.eq(import.id))
        .in_tenant(tenant.id())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// `column IN (values)`. On PostgreSQL the values travel as one JSON
/// parameter (a batch's thousands of parameters took longer to plan than
/// the lookup took to run), turned into an array once, so each column's
/// index still answers: as `IN (SELECT …)` the three lookups joined by OR
/// became a filter over every member of the local.
fn one_of(
    column: member_rows::Column,
    values: Vec<String>,
    postgres: bool,
) -> sea_orm::sea_query::SimpleExpr {
    if !postgres {
        return column.is_in(values);
    }
    let json = serde_json::to_string(&values).unwrap_or_else(|_| "[]".into());
    Expr::cust_with_values(
        format!(
            "\"members\".\"{}\" = ANY(ARRAY(SELECT json_array_elements_text(CAST($1 AS json))))",
            sea_orm::IdenStatic::as_str(&column)
        ),
        [json],
    )
}

/// One statement on PostgreSQL: the batch's new members, from the batch
/// as one JSON parameter. (The same rows as `INSERT … VALUES` with 40,000
/// parameters spent about as long being parsed and planned as being
/// written.) Each carries its import: its first status and its "imported
/// from" line are derived from the import (migration 18), not written per
/// member.
const INSERT_CREATED: &str = "INSERT INTO members (pid, tenant_id, first_name, last_name, email,
        phone, address, employee_number, employer_id, worksite_id, bargaining_unit_id, status_id,
        join_date, email_opt_in, sms_opt_in, search, created_at, updated_at, import_id)
    SELECT pid, $2, first_name, last_name, email, phone, address, employee_number, employer_id,
        worksite_id, bargaining_unit_id, status_id, join_date, true, false, search, $3, $3, $4
    FROM json_to_recordset($1::json) AS r(pid uuid, first_name text, last_name text, email text,
        phone text, address text, employee_number text, employer_id integer, worksite_id integer,
        bargaining_unit_id integer, status_id integer, join_date date, search text)";

/// A new member as `INSERT_CREATED` reads it from JSON.
#[derive(Serialize)]
struct NewRow<'a> {
    pid: Option<&'a Uuid>,
    first_name: Option<&'a String>,
    last_name: Option<&'a String>,
    email: Option<&'a Option<String>>,
    phone: Option<&'a Option<String>>,
    address: Option<&'a Option<String>>,
    employee_number: Option<&'a Option<String>>,
    employer_id: Option<&'a Option<i32>>,
    worksite_id: Option<&'a Option<i32>>,
    bargaining_unit_id: Option<&'a Option<i32>>,
    status_id: Option<&'a i32>,
    join_date: Option<&'a Option<NaiveDate>>,
    search: Option<&'a String>,
}

impl<'a> NewRow<'a> {
    fn of(r: &'a member_rows::ActiveModel) -> Self {
        Self {
            pid: r.pid.try_as_ref(),
            first_name: r.first_name.try_as_ref(),
            last_name: r.last_name.try_as_ref(),
            email: r.email.try_as_ref(),
            phone: r.phone.try_as_ref(),
            address: r.address.try_as_ref(),
            employee_number: r.employee_number.try_as_ref(),
            employer_id: r.employer_id.try_as_ref(),
            worksite_id: r.worksite_id.try_as_ref(),
            bargaining_unit_id: r.bargaining_unit_id.try_as_ref(),
            status_id: r.status_id.try_as_ref(),
            join_date: r.join_date.try_as_ref(),
            search: r.search.try_as_ref(),
        }
    }
}

/// Writes a batch's new members; returns how many.
async fn insert_created(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    rows: Vec<member_rows::ActiveModel>,
    import_id: i32,
    now: chrono::DateTime<Utc>,
) -> Result<i32> {
    if rows.is_empty() {
        return Ok(0);
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        let batch: Vec<NewRow> = rows.iter().map(NewRow::of).collect();
        let at: chrono::DateTime<chrono::FixedOffset> = now.into();
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            INSERT_CREATED,
            [
                serde_json::to_string(&batch).unwrap_or_default().into(),
                tenant.id().into(),
                at.into(),
                import_id.into(),
            ],
        );
        let created = txn.execute_raw(statement).await?.rows_affected();
        return Ok(i32::try_from(created).unwrap_or(i32::MAX));
    }
    // SQLite takes at most 32,766 parameters a statement: 500 members of
    // 18 columns stay under it.
    let mut created = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<_> = rows.by_ref().take(SQLITE_ROWS).collect();
        created += part.len();
        member_rows::Entity::insert_many(part)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(i32::try_from(created).unwrap_or(i32::MAX))
}

/// An update from a row keeps what the row leaves empty.
fn merge(old: &member_rows::Model, new: NewMember, directory: &Directory) -> NewMember {
    let pid_of = |id: Option<i32>, rows: Vec<(i32, Uuid)>| {
        id.and_then(|id| rows.into_iter().find(|(i, _)| *i == id).map(|(_, p)| p))
    };
    NewMember {
        email: new
            .email
            .or_else(|| old.email.as_deref().and_then(|e| Email::parse(e).ok())),
        phone: new
            .phone
            .or_else(|| old.phone.clone().map(Phone::from_stored)),
        address: new.address.or_else(|| old.address.clone()),
        employee_number: new.employee_number.or_else(|| {
            old.employee_number
                .as_deref()
                .and_then(|n| EmployeeNumber::parse(n).ok())
        }),
        employer: new.employer.or_else(|| {
            if new.worksite.is_some() {
                None
            } else {
                pid_of(
                    old.employer_id,
                    directory.employers.iter().map(|e| (e.id, e.pid)).collect(),
                )
            }
        }),
        worksite: new.worksite.or_else(|| {
            if new.employer.is_some() {
                None
            } else {
                pid_of(
                    old.worksite_id,
                    directory.worksites.iter().map(|w| (w.id, w.pid)).collect(),
                )
            }
        }),
        bargaining_unit: new.bargaining_unit.or_else(|| {
            pid_of(
                old.bargaining_unit_id,
                directory.units.iter().map(|u| (u.id, u.pid)).collect(),
            )
        }),
        status: new.status.or_else(|| {
            directory
                .statuses
                .iter()
                .find(|s| s.id == old.status_id)
                .map(|s| s.pid)
        }),
        join_date: new.join_date.or(old.join_date),
        ..new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resumed import must hold back the same rows as the first run: the
    /// rows of batches already written are still shown to `keep`, in order,
    /// though their batch is skipped.
    #[test]
    fn batches_already_written_are_skipped_but_their_rows_are_still_seen_in_order() {
        let text: String = (0..5000).map(|i| format!("p{i},x\n")).collect();
        let done: HashSet<i32> = [0].into_iter().collect();
        let mut seen = vec![];
        let written: Vec<(i32, usize)> = batches(
            reader(&text).into_records().enumerate(),
            0..,
            &done,
            |i, _| {
                seen.push(i);
                i % 2 == 0
            },
        )
        .map(|(n, rows)| (n, rows.len()))
        .collect();
        assert_eq!(written, [(1, BATCH_ROWS / 2), (2, 500)]);
        assert_eq!(seen, (0..5000).collect::<Vec<_>>());
        assert_eq!(count_records(&text), 5000);
    }
}
