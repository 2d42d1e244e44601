//! Working through an import: batches claimed and written in one
//! transaction each, so a re-run resumes where the last one stopped.
use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    Statement,
};
use serde::Serialize;
use uuid::Uuid;

use crate::models::{
    _entities::member_imports::{self, ActiveModel, Column, Model},
    _entities::{
        member_import_batches as batch_rows, member_import_chunks as chunks,
        member_import_failures as failures, member_status_changes as changes,
        members as member_rows,
    },
    audit_events::{self, Change},
    import_structure::Missing,
    members::{self, add_to_count, diff, fill, resolve_in, NewMember},
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};

use super::{
    file::{count_records, decode, fields, reader},
    rows::{describe, merge, parse_row, Keys, Known},
    Counts, Mapping, OnDuplicate, BATCH_ROWS, SQLITE_ROWS,
};
use crate::models::tenancy::LocalTxn;

/// A row of the file: its number (1 = the first after the header) and its fields.
pub(super) type Row = (i32, std::result::Result<Vec<String>, String>);

/// Batches written at once on PostgreSQL, each on a connection of its own:
/// one batch at a time kept one core of the database busy.
pub(super) const PARALLEL_BATCHES: usize = 2;

/// Rows repeating an earlier row of the file (by the duplicate keys),
/// found in file order as the batches are read, so the database writes
/// while the file is checked: such a row is held back from its batch and
/// written after every batch, once the row it repeats is on the roll.
pub(super) struct Repeats<'a> {
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
pub(super) fn batches<'a>(
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
pub(super) async fn claimed(tenant: &Tenant, import_id: i32) -> Result<HashSet<i32>> {
    let txn = tenant.begin().await?;
    let done = txn
        .select::<batch_rows::Entity>()
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
pub(super) async fn claim(
    txn: &LocalTxn,
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
    let import = txn
        .select::<member_imports::Entity>()
        .filter(Column::Id.eq(import_id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    if !import.is_running() {
        txn.commit().await?;
        return Ok(import.counts());
    }
    let data: Vec<u8> = txn
        .select::<chunks::Entity>()
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
    let import = txn
        .select::<member_imports::Entity>()
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

/// One batch in one transaction: its claim, its new members (with their
/// first status and an audit line), updated duplicates, failed rows, and
/// the import's progress and counts. Two runners of one import cannot both
/// write a batch: the second finds it claimed.
pub(super) async fn import_batch(
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
        txn.select::<member_rows::Entity>()
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
                let row = txn.stamp(row)?;
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
    txn.update::<member_imports::Entity>()
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
pub(super) fn one_of(
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
pub(super) const INSERT_CREATED: &str =
    "INSERT INTO members (pid, tenant_id, first_name, last_name, email,
        phone, address, employee_number, employer_id, worksite_id, bargaining_unit_id, status_id,
        join_date, email_opt_in, sms_opt_in, search, created_at, updated_at, import_id)
    SELECT pid, $2, first_name, last_name, email, phone, address, employee_number, employer_id,
        worksite_id, bargaining_unit_id, status_id, join_date, true, false, search, $3, $3, $4
    FROM json_to_recordset($1::json) AS r(pid uuid, first_name text, last_name text, email text,
        phone text, address text, employee_number text, employer_id integer, worksite_id integer,
        bargaining_unit_id integer, status_id integer, join_date date, search text)";

/// A new member as `INSERT_CREATED` reads it from JSON.
#[derive(Serialize)]
pub(super) struct NewRow<'a> {
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
pub(super) async fn insert_created(
    txn: &LocalTxn,
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
