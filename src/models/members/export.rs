//! The roll as CSV.
use sea_orm::{QueryFilter, QueryTrait};

use crate::models::{
    _entities::members::{Entity, Model},
    structure::Directory,
    tenants::Tenant,
    Error, Result,
};

use super::{
    filter::{conditions_with, require_list},
    search::matching_how,
    After, MemberFilter, Sort,
};

/// Columns of the export, the same names the import guesses from.
pub const EXPORT_HEADERS: [&str; 12] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "employee_number",
    "employer",
    "worksite",
    "bargaining_unit",
    "status",
    "join_date",
    "created_at",
];

/// Rows per exported batch (one short transaction each).
pub(super) const EXPORT_BATCH: u64 = 5000;

impl Model {
    /// The filtered roll as CSV, by name, produced a batch at a time so a
    /// million members stream without being held in memory.
    ///
    /// # Errors
    /// `Forbidden` before the first byte; a database error ends the stream.
    pub async fn export(
        tenant: &Tenant,
        filter: MemberFilter,
    ) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>>> + Send + 'static> {
        let by = tenant.access()?;
        use futures_util::StreamExt;
        require_list(by, &filter)?;
        if tenant.pool().get_database_backend() == sea_orm::DbBackend::Postgres {
            return Ok(export_copy(tenant, &filter).await?.left_stream());
        }
        let directory = std::sync::Arc::new(Directory::load(tenant).await?);
        let state = (tenant.clone(), filter, None::<After>, true, false);
        Ok(
            futures_util::stream::try_unfold(state, move |(tenant, filter, after, first, done)| {
                let directory = directory.clone();
                async move {
                    if done {
                        return Ok(None);
                    }
                    let page =
                        Self::list(&tenant, &filter, Sort::Name, after.as_ref(), EXPORT_BATCH)
                            .await?;
                    let mut out = csv::Writer::from_writer(Vec::with_capacity(
                        256 * page.members.len() + 256,
                    ));
                    if first {
                        out.write_record(EXPORT_HEADERS).map_err(csv_error)?;
                    }
                    for m in &page.members {
                        out.write_record([
                            m.first_name.as_str(),
                            m.last_name.as_str(),
                            m.email.as_deref().unwrap_or_default(),
                            m.phone.as_deref().unwrap_or_default(),
                            m.address.as_deref().unwrap_or_default(),
                            m.employee_number.as_deref().unwrap_or_default(),
                            &directory
                                .name_of("employer", m.employer_id)
                                .unwrap_or_default(),
                            &directory
                                .name_of("worksite", m.worksite_id)
                                .unwrap_or_default(),
                            &directory
                                .name_of("bargaining_unit", m.bargaining_unit_id)
                                .unwrap_or_default(),
                            &directory.status(m.status_id),
                            &m.join_date.map(|d| d.to_string()).unwrap_or_default(),
                            &m.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                        ])
                        .map_err(csv_error)?;
                    }
                    let bytes = out
                        .into_inner()
                        .map_err(|e| csv_error(e.into_error().into()))?;
                    let done = page.next.is_none();
                    Ok(Some((bytes, (tenant, filter, page.next, false, done))))
                }
            })
            .right_stream(),
        )
    }
}

/// Bytes sent to the client at a time by the PostgreSQL export.
pub(super) const EXPORT_CHUNK: usize = 256 * 1024;

/// The export on PostgreSQL: the database writes the CSV itself (`COPY …
/// TO STDOUT`, in the tenant's scoped transaction on a connection of its
/// own), a task forwards it in large chunks while the client reads. The
/// connection is closed afterwards rather than pooled, so a client that
/// leaves mid-way cannot hand a connection still in COPY to the next request.
pub(super) async fn export_copy(
    tenant: &Tenant,
    filter: &MemberFilter,
) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>>> + Send + 'static> {
    use futures_util::StreamExt;
    use sea_orm::{sea_query::PostgresQueryBuilder, sqlx};
    // Values are inlined (COPY takes no parameters) by sea-query's quoting;
    // filters arrive here as integer ids, dates and escaped LIKE patterns.
    let txn = tenant.begin().await?;
    let directory = Directory::load_in(&txn, tenant).await?;
    let how = matching_how(&txn, &directory, filter).await?;
    let inner = match conditions_with(&directory, filter, true, how) {
        Some(cond) => txn
            .select::<Entity>()
            .filter(cond)
            .into_query()
            .to_string(PostgresQueryBuilder),
        None => "SELECT * FROM members WHERE false".to_string(),
    };
    txn.commit().await?;
    let sql = format!(
        "COPY (SELECT m.first_name, m.last_name, m.email, m.phone, m.address, m.employee_number,
                      e.name AS employer, w.name AS worksite, u.name AS bargaining_unit,
                      s.name AS status, to_char(m.join_date, 'YYYY-MM-DD') AS join_date,
                      to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at
                 FROM ({inner}) m
                 LEFT JOIN employers e ON e.id = m.employer_id
                 LEFT JOIN worksites w ON w.id = m.worksite_id
                 LEFT JOIN bargaining_units u ON u.id = m.bargaining_unit_id
                 LEFT JOIN membership_statuses s ON s.id = m.status_id
                ORDER BY m.last_name, m.first_name, m.id)
         TO STDOUT WITH (FORMAT csv, HEADER true)"
    );
    let pool = tenant.pool().get_postgres_connection_pool().clone();
    let scope = tenant.scope().parameters();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>>>(4);
    tokio::spawn(async move {
        let copied = async {
            let mut conn = pool.acquire().await?;
            conn.close_on_drop();
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            let mut set_scope = sqlx::query(super::super::platform::SCOPE_SQL);
            for value in &scope {
                set_scope = set_scope.bind(value);
            }
            set_scope.execute(&mut *conn).await?;
            let mut rows = conn.copy_out_raw(&sql).await?;
            let mut chunk = Vec::with_capacity(EXPORT_CHUNK + 4096);
            while let Some(row) = rows.next().await {
                chunk.extend_from_slice(&row?);
                if chunk.len() >= EXPORT_CHUNK {
                    let full =
                        std::mem::replace(&mut chunk, Vec::with_capacity(EXPORT_CHUNK + 4096));
                    if tx.send(Ok(full)).await.is_err() {
                        return Ok(()); // the client left
                    }
                }
            }
            drop(rows);
            if !chunk.is_empty() {
                let _ = tx.send(Ok(chunk)).await;
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        if let Err(e) = copied {
            tracing::error!(error = %e, "member export failed");
            let _ = tx
                .send(Err(Error::Db(sea_orm::DbErr::Custom(e.to_string()))))
                .await;
        }
    });
    Ok(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed())
}

pub(super) fn csv_error(e: csv::Error) -> Error {
    Error::Loco(loco_rs::Error::string(&e.to_string()))
}
