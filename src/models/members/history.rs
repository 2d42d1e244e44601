//! A member's page: the status history and the changes the audit log holds.
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::Permission;
use crate::models::{
    _entities::members::Model,
    _entities::{member_imports as member_import_rows, member_status_changes as changes, users},
    audit_events::{self, Change},
    structure::Directory,
    tenants::Tenant,
    Result,
};

use super::SUBJECT;
use crate::models::tenancy::LocalTxn;

/// One line of a member's status history.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: Option<String>,
    pub to: String,
    pub by: Option<String>,
    pub on: NaiveDate,
}

impl Model {
    /// The member's status history, oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn status_history(&self, tenant: &Tenant) -> Result<Vec<StatusChange>> {
        let txn = tenant.begin().await?;
        let directory = Directory::load_in(&txn, tenant).await?;
        let origin = self.import_origin(&txn, tenant).await?;
        let history = self
            .status_history_in(&txn, tenant, &directory, origin.as_ref())
            .await?;
        txn.commit().await?;
        Ok(history)
    }

    async fn status_history_in(
        &self,
        txn: &LocalTxn,
        _tenant: &Tenant,
        directory: &Directory,
        origin: Option<&member_import_rows::Model>,
    ) -> Result<Vec<StatusChange>> {
        let rows = txn
            .select::<changes::Entity>()
            .filter(changes::Column::MemberId.eq(self.id))
            .order_by_asc(changes::Column::Id)
            .all(txn)
            .await?;
        let name = |id: i32| directory.name_of("status", Some(id));
        let mut user_ids: Vec<i32> = rows.iter().filter_map(|r| r.changed_by_id).collect();
        user_ids.extend(origin.and_then(|i| i.started_by_id));
        let people = if user_ids.is_empty() {
            vec![]
        } else {
            users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids))
                .all(txn)
                .await?
        };
        let person = |id: Option<i32>| {
            id.and_then(|id| people.iter().find(|u| u.id == id).map(|u| u.name.clone()))
        };
        // An imported member's first status is not a row of its own: it is
        // the status the first change started from, or the current one.
        let first = origin
            .filter(|_| rows.first().is_none_or(|r| r.from_status_id.is_some()))
            .map(|import| StatusChange {
                from: None,
                to: name(
                    rows.first()
                        .and_then(|r| r.from_status_id)
                        .unwrap_or(self.status_id),
                )
                .unwrap_or_default(),
                by: person(import.started_by_id),
                on: self.created_at.date_naive(),
            });
        Ok(first
            .into_iter()
            .chain(rows.into_iter().map(|r| StatusChange {
                from: r.from_status_id.and_then(name),
                to: name(r.to_status_id).unwrap_or_default(),
                by: person(r.changed_by_id),
                on: r.changed_on,
            }))
            .collect())
    }

    /// The import that added this member, if one did and is still there.
    async fn import_origin(
        &self,
        txn: &LocalTxn,
        _tenant: &Tenant,
    ) -> Result<Option<member_import_rows::Model>> {
        let Some(id) = self.import_id else {
            return Ok(None);
        };
        Ok(txn
            .select::<member_import_rows::Entity>()
            .filter(member_import_rows::Column::Id.eq(id))
            .one(txn)
            .await?)
    }

    /// The member's latest changes, newest first; an imported member's
    /// oldest line says which file added it, by whom (derived from the
    /// import, migration 18).
    async fn changes_in(
        &self,
        txn: &LocalTxn,
        origin: Option<&member_import_rows::Model>,
        limit: u64,
    ) -> Result<Vec<audit_events::Event>> {
        let mut events = audit_events::for_subject_in(txn, (SUBJECT, self.id), limit).await?;
        if events.len() as u64 >= limit {
            return Ok(events);
        }
        if let Some(import) = origin {
            let file = Change::of("import", None, Some(&import.file_name));
            events.push(
                audit_events::derived(
                    txn,
                    (SUBJECT, self.id),
                    (import.started_by_id, "import"),
                    file.into_iter().collect(),
                    self.created_at,
                )
                .await?,
            );
        }
        Ok(events)
    }

    /// A member's page in one transaction: the record, the local's
    /// directory, the status history and the latest changes.
    ///
    /// # Errors
    /// `NotFound` (also another local's or an archived member), `Forbidden`.
    pub async fn record(tenant: &Tenant, pid: Uuid) -> Result<MemberRecord> {
        tenant.require(Permission::MembersRead)?;
        let (txn, directory, _) = Directory::open(tenant).await?;
        let member = Self::find_in(&txn, pid, false).await?;
        // The import that added the member (if one did) names both its first
        // status and its first change.
        let origin = member.import_origin(&txn, tenant).await?;
        let history = member
            .status_history_in(&txn, tenant, &directory, origin.as_ref())
            .await?;
        let audit = member.changes_in(&txn, origin.as_ref(), 50).await?;
        txn.commit().await?;
        Ok(MemberRecord {
            member,
            directory,
            history,
            audit,
        })
    }
}

/// A member with what their page shows.
pub struct MemberRecord {
    pub member: Model,
    pub directory: Directory,
    pub history: Vec<StatusChange>,
    pub audit: Vec<audit_events::Event>,
}
