//! What the list shows: the filter, and it as conditions on the roll.
use chrono::NaiveDate;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, Condition, ConnectionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Permission;
use crate::models::{
    _entities::members::Column, memberships::Access, structure::Directory, tenants::Tenant, Result,
};

use super::search::{escaped_terms, matching_how, search_function, Match};
use crate::models::tenancy::LocalTxn;

/// What the list shows: search text and filters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MemberFilter {
    /// Part of a name, email, phone or employee number.
    pub search: Option<String>,
    pub status: Option<Uuid>,
    pub employer: Option<Uuid>,
    pub worksite: Option<Uuid>,
    pub bargaining_unit: Option<Uuid>,
    pub joined_from: Option<NaiveDate>,
    pub joined_to: Option<NaiveDate>,
    pub archived: bool,
}

pub(super) fn require_list(by: &Access, filter: &MemberFilter) -> Result<()> {
    by.require(Permission::MembersRead)?;
    if filter.archived {
        by.require(Permission::MembersDelete)?;
    }
    Ok(())
}

impl MemberFilter {
    /// The whole roll: no search and no filter.
    #[must_use]
    pub fn is_everyone(&self) -> bool {
        !self.archived
            && self.search.as_deref().is_none_or(|s| s.trim().is_empty())
            && self.status.is_none()
            && self.employer.is_none()
            && self.worksite.is_none()
            && self.bargaining_unit.is_none()
            && self.joined_from.is_none()
            && self.joined_to.is_none()
    }
}

/// The filter as a condition; `None` when it names something the local does not have.
pub(crate) async fn conditions(
    txn: &LocalTxn,
    tenant: &Tenant,
    filter: &MemberFilter,
) -> Result<Option<Condition>> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let directory = Directory::load_in(txn, tenant).await?;
    let how = matching_how(txn, &directory, filter).await?;
    Ok(conditions_with(&directory, filter, postgres, how))
}

/// [`conditions`] with the local's directory at hand (no queries).
pub(super) fn conditions_with(
    directory: &Directory,
    filter: &MemberFilter,
    postgres: bool,
    how: Match,
) -> Option<Condition> {
    let mut cond = filter_conditions(directory, filter)?;
    let terms = escaped_terms(filter);
    if postgres && !terms.is_empty() {
        // Through the trigram index despite row-level security (migration 8).
        let (function, args) = search_function("member_ids_matching", how, terms);
        let matching = sea_orm::sea_query::Query::select()
            .expr(
                sea_orm::sea_query::Func::cust(sea_orm::sea_query::Alias::new(function))
                    .args(args.into_iter().map(Expr::val)),
            )
            .to_owned();
        cond = cond.add(Column::Id.in_subquery(matching));
    } else {
        let like = |pattern: String| {
            Expr::col(Column::Search).like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
        };
        for term in terms {
            cond = cond.add(match how {
                Match::WordStart => Condition::any()
                    .add(like(format!("{term}%")))
                    .add(like(format!("% {term}%"))),
                Match::Anywhere => Condition::all().add(like(format!("%{term}%"))),
            });
        }
    }
    Some(cond)
}

/// Every condition of the filter but the search.
pub(super) fn filter_conditions(directory: &Directory, filter: &MemberFilter) -> Option<Condition> {
    let mut cond = Condition::all().add(if filter.archived {
        Column::ArchivedAt.is_not_null()
    } else {
        Column::ArchivedAt.is_null()
    });
    if let Some(pid) = filter.status {
        let s = directory.statuses.iter().find(|s| s.pid == pid)?;
        cond = cond.add(Column::StatusId.eq(s.id));
    }
    if let Some(pid) = filter.employer {
        let e = directory.employers.iter().find(|e| e.pid == pid)?;
        cond = cond.add(Column::EmployerId.eq(e.id));
    }
    if let Some(pid) = filter.worksite {
        let w = directory.worksites.iter().find(|w| w.pid == pid)?;
        cond = cond.add(Column::WorksiteId.eq(w.id));
    }
    if let Some(pid) = filter.bargaining_unit {
        let u = directory.units.iter().find(|u| u.pid == pid)?;
        cond = cond.add(Column::BargainingUnitId.eq(u.id));
    }
    if let Some(from) = filter.joined_from {
        cond = cond.add(Column::JoinDate.gte(from));
    }
    if let Some(to) = filter.joined_to {
        cond = cond.add(Column::JoinDate.lte(to));
    }
    Some(cond)
}
