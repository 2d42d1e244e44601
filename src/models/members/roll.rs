//! Reading a page of the roll and its total, in one transaction with the
//! local's directory.
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use crate::models::{
    _entities::members::{Column, Entity, Model},
    structure::Directory,
    tenants::Tenant,
    Result,
};

use super::{
    filter::{conditions_with, filter_conditions, require_list},
    order::{name_after, order_ids, segments},
    search::{
        escaped_terms, is_name_word, search_function, search_terms, word_count, words_page, Match,
    },
    After, MemberFilter, Sort,
};
use crate::models::tenancy::LocalTxn;

/// A page of the list.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub members: Vec<Model>,
    pub next: Option<After>,
}

/// How many members a list shows: exact when counting is cheap, otherwise
/// the planner's estimate, labelled so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(u64),
    About(u64),
    MoreThan(u64),
}

impl Total {
    /// "1,234 members", "about 120,000 members", "more than 10,000 members".
    #[must_use]
    pub fn describe(self) -> String {
        let (prefix, n) = match self {
            Self::Exact(n) => ("", n),
            Self::About(n) => ("about ", n),
            Self::MoreThan(n) => ("more than ", n),
        };
        let noun = if n == 1 && prefix.is_empty() {
            "member"
        } else {
            "members"
        };
        format!("{prefix}{} {noun}", thousands(n))
    }

    #[must_use]
    pub fn is_exact(self) -> bool {
        matches!(self, Self::Exact(_))
    }
}

/// 1234567 → "1,234,567".
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Counting stops here; beyond it the total is estimated.
pub(super) const EXACT_COUNT_LIMIT: u64 = 10_000;

impl Model {
    /// A page of the roll in the filter's order, after `after`.
    ///
    /// # Errors
    /// `Forbidden` (archived members need `members.delete`), or a database error.
    pub async fn list(
        tenant: &Tenant,
        filter: &MemberFilter,
        sort: Sort,
        after: Option<&After>,
        limit: u64,
    ) -> Result<MemberPage> {
        Ok(Self::roll(tenant, filter, sort, after, limit).await?.page)
    }

    /// How many members match the filter: the kept count when unfiltered,
    /// a count up to [`EXACT_COUNT_LIMIT`], beyond that an estimate.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn count(tenant: &Tenant, filter: &MemberFilter) -> Result<Total> {
        Ok(Self::roll(tenant, filter, Sort::Name, None, 0).await?.total)
    }

    /// What the list page shows, read in one transaction: a page, the
    /// total, and the local's directory to name references with.
    ///
    /// # Errors
    /// `Forbidden`, or a database error.
    pub async fn roll(
        tenant: &Tenant,
        filter: &MemberFilter,
        sort: Sort,
        after: Option<&After>,
        limit: u64,
    ) -> Result<Roll> {
        let by = tenant.access()?;
        require_list(by, filter)?;
        let (txn, directory, kept) = Directory::open(tenant).await?;
        let (page, total) =
            read(&txn, tenant, &directory, kept, filter, sort, after, limit).await?;
        txn.commit().await?;
        Ok(Roll {
            page,
            total,
            directory,
        })
    }
}

/// A page of the roll with its total and the local's directory.
pub struct Roll {
    pub page: MemberPage,
    pub total: Total,
    pub directory: Directory,
}

/// Reads a page and the total. The unfiltered roll and dense filters (on
/// PostgreSQL, those the planner estimates past [`EXACT_COUNT_LIMIT`])
/// walk an index in the page's order (matches come early), with the
/// estimate as the total. A sparse filter or a search first takes every
/// matching id, up to [`EXACT_COUNT_LIMIT`], ordered by the database (so a
/// page is one bitmap scan and a sort, wherever its matches sit in the
/// order, and the total is exact); past that it walks too.
///
/// A search matches the start of words; when nothing does, the middle of
/// them. On PostgreSQL a search of one term alone, by name, reads
/// `member_words` instead (see [`words_page`]).
#[allow(clippy::too_many_arguments)]
pub(super) async fn read(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    kept: i32,
    filter: &MemberFilter,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<(MemberPage, Total)> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let terms = search_terms(filter.search.as_deref().unwrap_or_default());
    let alone = MemberFilter {
        search: None,
        ..filter.clone()
    }
    .is_everyone();
    let args = (kept, filter, sort, after, limit);
    if postgres
        && terms.len() == 1
        && is_name_word(&terms[0])
        && alone
        && sort == Sort::Name
        && after.is_none_or(|a| a.word.is_some())
    {
        let total = word_count(txn, tenant, &terms[0]).await?;
        if total != Total::Exact(0) {
            let page = words_page(txn, tenant, &terms[0], after, limit).await?;
            return Ok((page, total));
        }
        return read_as(txn, tenant, directory, args, Match::Anywhere).await;
    }
    let (page, total) = read_as(txn, tenant, directory, args, Match::WordStart).await?;
    if total == Total::Exact(0) && !terms.is_empty() {
        return read_as(txn, tenant, directory, args, Match::Anywhere).await;
    }
    Ok((page, total))
}

/// [`read`] with the search matching `how`.
pub(super) async fn read_as(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    (kept, filter, sort, after, limit): (i32, &MemberFilter, Sort, Option<&After>, u64),
    how: Match,
) -> Result<(MemberPage, Total)> {
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    // A filter naming something the local does not have matches nothing.
    let Some(cond) = conditions_with(directory, filter, postgres, how) else {
        return Ok((
            MemberPage {
                members: vec![],
                next: None,
            },
            Total::Exact(0),
        ));
    };
    if filter.is_everyone() {
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, Total::Exact(u64::try_from(kept).unwrap_or(0))));
    }
    if !postgres {
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, capped_count(txn, &cond).await?));
    }
    let searching = !escaped_terms(filter).is_empty();
    // Many matches: walk the order's index, where they come early. Taking
    // every match first would read as many rows as the count stops at
    // (10,001 rows for 26 shown: 200 ms for "the lapsed members" at a
    // million); the total would be the estimate anyway. The planner's
    // estimate decides, which migration 22's statistics keep close for
    // every filter and pair (without them it was off up to 60×: a pair
    // estimated at 30,000 that matched nobody walked a whole index range).
    // A worksite and a status are one index range: reading its first
    // matches up to the cap is as cheap as asking the planner.
    let ranges = placed_ranges(directory, filter).filter(|_| sort == Sort::Name && !searching);
    let one_range = ranges.as_ref().is_some_and(|r| r.len() == 1);
    let estimated = if searching || one_range {
        None
    } else {
        Some(estimate(txn, &cond).await?)
    };
    if let Some(estimated) = estimated {
        if estimated > EXACT_COUNT_LIMIT {
            let page = walk_dense(
                txn,
                tenant,
                directory,
                ranges.as_deref(),
                &cond,
                sort,
                after,
                limit,
            )
            .await?;
            let about = estimated.min(u64::try_from(kept).unwrap_or(u64::MAX));
            return Ok((page, Total::About(about)));
        }
    }
    // Otherwise every matching id up to the cap first: cheap when matches
    // are few (one bitmap scan, or the ranges of a worksite or an
    // employer), and exact.
    let ids = match &ranges {
        Some(ranges) => range_ids(txn, tenant, &cond, ranges, None, EXACT_COUNT_LIMIT + 1).await?,
        None => ordered_ids(txn, tenant, directory, filter, &cond, sort, how).await?,
    };
    let full = ids.len() as u64 > EXACT_COUNT_LIMIT;
    if !full || searching {
        let total = if full {
            Total::MoreThan(EXACT_COUNT_LIMIT)
        } else {
            Total::Exact(ids.len() as u64)
        };
        // Past the cap a search holds its first matches in order: pages
        // that end inside them come from them.
        let ids = if full {
            &ids[..ids.len() - 1]
        } else {
            &ids[..]
        };
        if let Some(page) = page_of(txn, tenant, ids, after, limit, full).await? {
            return Ok((page, total));
        }
        // The cursor's member left the matches, or the page would run past
        // the first matches: continue by walking.
        let page = walk(txn, tenant, directory, &cond, sort, after, limit).await?;
        return Ok((page, total));
    }
    let estimated = match estimated {
        Some(e) => e,
        None => estimate(txn, &cond).await?,
    };
    let total = match estimated {
        e if e > EXACT_COUNT_LIMIT => Total::About(e),
        _ => Total::MoreThan(EXACT_COUNT_LIMIT),
    };
    // More than the cap match: walk the order's index, ids first. The name
    // order's index carries the filters' columns (migration 18), so it
    // reads past members of other worksites or units without their rows; a
    // page then reads its own rows only. (Walking the rows read 40,000 of
    // them at random for a page when the roll's name order and a worksite
    // were correlated.)
    let page = walk_dense(
        txn,
        tenant,
        directory,
        ranges.as_deref(),
        &cond,
        sort,
        after,
        limit,
    )
    .await?;
    Ok((page, total))
}

/// A page of a filter with many matches. By name, a filter naming a
/// worksite or an employer reads the few ranges of migration 11's index by
/// worksite, status and name that hold its matches ([`placed_ranges`]), so
/// it costs about a page per range wherever its members sit in the name
/// order; anything else walks the order's index, ids first.
#[allow(clippy::too_many_arguments)]
async fn walk_dense(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    ranges: Option<&[(Option<i32>, i32)]>,
    cond: &Condition,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    match ranges {
        Some(ranges) if limit > 0 => walk_ranges(txn, tenant, cond, ranges, after, limit).await,
        _ => walk_by(txn, tenant, directory, cond, sort, after, limit, true).await,
    }
}

/// At most this many ranges are read for one page.
const MOST_RANGES: usize = 64;

/// The (worksite, status) ranges of `ix_members_worksite_status_name`
/// (migration 11: members on the roll by worksite, status and name) that
/// hold every member a filter on a worksite, or on an employer, can match:
/// the worksite's or the employer's worksites (and no worksite, for members
/// placed with the employer alone), each with the filter's status or every
/// status. `None` for other filters, archived members, a join-date range,
/// or too many ranges.
fn placed_ranges(directory: &Directory, filter: &MemberFilter) -> Option<Vec<(Option<i32>, i32)>> {
    if filter.archived || filter.joined_from.is_some() || filter.joined_to.is_some() {
        return None;
    }
    let sites: Vec<Option<i32>> = if let Some(pid) = filter.worksite {
        vec![Some(directory.worksites.iter().find(|w| w.pid == pid)?.id)]
    } else {
        let employer = directory
            .employers
            .iter()
            .find(|e| Some(e.pid) == filter.employer)?;
        directory
            .worksites
            .iter()
            .filter(|w| w.employer_id == employer.id)
            .map(|w| Some(w.id))
            .chain([None])
            .collect()
    };
    let statuses: Vec<i32> = match filter.status {
        Some(pid) => vec![directory.statuses.iter().find(|s| s.pid == pid)?.id],
        None => directory.statuses.iter().map(|s| s.id).collect(),
    };
    let ranges: Vec<(Option<i32>, i32)> = sites
        .iter()
        .flat_map(|site| statuses.iter().map(move |status| (*site, *status)))
        .collect();
    (ranges.len() <= MOST_RANGES).then_some(ranges)
}

/// The page after `after` by name, from [`range_ids`].
async fn walk_ranges(
    txn: &LocalTxn,
    tenant: &Tenant,
    cond: &Condition,
    ranges: &[(Option<i32>, i32)],
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    let ids = range_ids(txn, tenant, cond, ranges, after, limit + 1).await?;
    Ok(page_from(rows_in_order(txn, tenant, &ids).await?, limit))
}

/// The local's members with `ids`, in that order.
async fn rows_in_order(txn: &LocalTxn, _tenant: &Tenant, ids: &[i32]) -> Result<Vec<Model>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut rows = txn
        .select::<Entity>()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(txn)
        .await?;
    rows.sort_by_key(|m| ids.iter().position(|id| *id == m.id));
    Ok(rows)
}

/// A page of `limit` from up to `limit + 1` members read in its order (one
/// more than the page says that more follow).
fn page_from(mut members: Vec<Model>, limit: u64) -> MemberPage {
    let more = members.len() as u64 > limit;
    members.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more.then(|| members.last()).flatten().map(After::of);
    MemberPage { members, next }
}

/// The ids `query` selects first, in its order.
async fn ids_of(txn: &LocalTxn, query: &sea_orm::sea_query::SelectStatement) -> Result<Vec<i32>> {
    Ok(txn
        .query_all(query)
        .await?
        .into_iter()
        .filter_map(|row| row.try_get_by_index::<i32>(0).ok())
        .collect())
}

/// The first `wanted` ids by name after `after`: the first `wanted` of
/// each range (each an index range in name order), then the first of them
/// all. Each range is one index range whatever the plan, so this stays
/// fast when PostgreSQL plans the statement generically (a prepared
/// statement's plan after five runs), which for a status and an employer
/// walked 66,000 rows of the status for a second.
async fn range_ids(
    txn: &LocalTxn,
    _tenant: &Tenant,
    cond: &Condition,
    ranges: &[(Option<i32>, i32)],
    after: Option<&After>,
    wanted: u64,
) -> Result<Vec<i32>> {
    use sea_orm::sea_query::{Alias, Order, Query, UnionType};
    let name = [Column::LastName, Column::FirstName, Column::Id];
    let past = after.map_or_else(Condition::all, name_after);
    let part = |i: usize, (site, status): (Option<i32>, i32)| {
        let range = txn
            .select::<Entity>()
            .filter(cond.clone())
            .filter(past.clone())
            .filter(site.map_or_else(
                || Column::WorksiteId.is_null(),
                |w| Column::WorksiteId.eq(w),
            ))
            .filter(Column::StatusId.eq(status))
            .select_only()
            .columns(name)
            .order_by_asc(Column::LastName)
            .order_by_asc(Column::FirstName)
            .order_by_asc(Column::Id)
            .limit(wanted)
            .into_query();
        Query::select()
            .columns(name)
            .from_subquery(range, Alias::new(format!("r{i}")))
            .to_owned()
    };
    let mut parts = ranges.iter().copied().enumerate().map(|(i, r)| part(i, r));
    let Some(mut union) = parts.next() else {
        return Ok(vec![]);
    };
    for other in parts {
        union.union(UnionType::All, other);
    }
    let u = Alias::new("u");
    let mut outer = Query::select();
    outer
        .column((u.clone(), Column::Id))
        .from_subquery(union, u.clone());
    for column in name {
        outer.order_by((u.clone(), column), Order::Asc);
    }
    outer.limit(wanted);
    ids_of(txn, &outer).await
}

/// Walks the order's index from the cursor.
pub(super) async fn walk(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    cond: &Condition,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<MemberPage> {
    walk_by(txn, tenant, directory, cond, sort, after, limit, false).await
}

/// [`walk`], reading the page's ids first (from the index alone, where it
/// holds the filtered columns) and then their rows, when `ids_first`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn walk_by(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    cond: &Condition,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
    ids_first: bool,
) -> Result<MemberPage> {
    if limit == 0 {
        return Ok(MemberPage {
            members: vec![],
            next: None,
        });
    }
    let wanted = limit + 1;
    let mut members: Vec<Model> = Vec::new();
    for (segment, order) in segments(sort, after, &directory.statuses) {
        let need = wanted - members.len() as u64;
        let mut query = txn.select::<Entity>().filter(cond.clone()).filter(segment);
        for (column, descending) in order {
            query = if descending {
                query.order_by_desc(column)
            } else {
                query.order_by_asc(column)
            };
        }
        if ids_first {
            let ids: Vec<i32> = query
                .select_only()
                .column(Column::Id)
                .limit(need)
                .into_tuple()
                .all(txn)
                .await?;
            members.extend(rows_in_order(txn, tenant, &ids).await?);
        } else {
            members.extend(query.limit(need).all(txn).await?);
        }
        if members.len() as u64 >= wanted {
            break;
        }
    }
    Ok(page_from(members, limit))
}

/// The local's members that meet `cond`, selecting nothing of them.
pub(super) fn matching(txn: &LocalTxn, cond: &Condition) -> sea_orm::Select<Entity> {
    txn.select::<Entity>()
        .filter(cond.clone())
        .select_only()
        .expr(Expr::val(1))
}

/// The planner's estimate of the matches (PostgreSQL; it reads no rows).
pub(super) async fn estimate(txn: &LocalTxn, cond: &Condition) -> Result<u64> {
    let backend = txn.get_database_backend();
    let plan = backend.build(&matching(txn, cond).into_query());
    let explain = sea_orm::Statement::from_sql_and_values(
        backend,
        format!("EXPLAIN (FORMAT JSON) {}", plan.sql),
        plan.values.map(|v| v.0).unwrap_or_default(),
    );
    Ok(txn
        .query_one_raw(explain)
        .await?
        .and_then(|row| row.try_get_by_index::<serde_json::Value>(0).ok())
        .and_then(|plan| plan[0]["Plan"]["Plan Rows"].as_f64())
        .map_or(0, |rows| rows as u64))
}

/// Counts up to one past [`EXACT_COUNT_LIMIT`].
pub(super) async fn capped_count(txn: &LocalTxn, cond: &Condition) -> Result<Total> {
    let capped = sea_orm::sea_query::Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(
            matching(txn, cond)
                .limit(EXACT_COUNT_LIMIT + 1)
                .into_query(),
            sea_orm::sea_query::Alias::new("m"),
        )
        .to_owned();
    let counted: i64 = txn
        .query_one(&capped)
        .await?
        .and_then(|row| row.try_get_by_index(0).ok())
        .unwrap_or(0);
    let counted = u64::try_from(counted).unwrap_or(0);
    Ok(if counted <= EXACT_COUNT_LIMIT {
        Total::Exact(counted)
    } else {
        Total::MoreThan(EXACT_COUNT_LIMIT)
    })
}

/// Every matching id (up to one past the limit) in the page's order. The
/// inner query has no ORDER BY, so it is planned to read all its matches
/// (a bitmap scan), not to walk an index hoping to stop early.
pub(super) async fn ordered_ids(
    txn: &LocalTxn,
    tenant: &Tenant,
    directory: &Directory,
    filter: &MemberFilter,
    cond: &Condition,
    sort: Sort,
    how: Match,
) -> Result<Vec<i32>> {
    use sea_orm::sea_query::{Alias, Func, Query};
    // Only the order's columns, so an index can answer without the table.
    let mut columns = vec![Column::Id];
    columns.extend(match sort {
        Sort::Name => vec![Column::LastName, Column::FirstName],
        Sort::Joined => vec![Column::JoinDate],
        Sort::Status => vec![Column::StatusId, Column::LastName, Column::FirstName],
    });
    let terms = escaped_terms(filter);
    let inner = if terms.is_empty() {
        txn.select::<Entity>()
            .filter(cond.clone())
            .select_only()
            .columns(columns)
            .limit(EXACT_COUNT_LIMIT + 1)
            .into_query()
    } else {
        // A search reads its matches' rows once, through the trigram index
        // (migration 11's `members_matching`, named `members` here so the
        // other conditions apply to it unchanged).
        let rest = filter_conditions(directory, filter).unwrap_or_else(Condition::all);
        let (function, args) = search_function("members_matching", how, terms);
        let mut inner = Query::select()
            .columns(columns)
            .from_function(
                Func::cust(Alias::new(function)).args(args.into_iter().map(Expr::val)),
                Alias::new("members"),
            )
            .and_where(Column::TenantId.eq(tenant.id()))
            .cond_where(rest)
            .to_owned();
        // The function reads every match anyway: keep the first ones in
        // order, so a search past the cap still pages from this list.
        order_ids(&mut inner, "members", directory, sort);
        inner.limit(EXACT_COUNT_LIMIT + 1).to_owned()
    };
    let k = Alias::new("k");
    let mut outer = Query::select();
    outer
        .column((k.clone(), Alias::new("id")))
        .from_subquery(inner, k.clone());
    order_ids(&mut outer, "k", directory, sort);
    ids_of(txn, &outer).await
}

/// The page after the cursor's member in `ids`; `None` when the cursor's
/// member is not among them.
pub(super) async fn page_of(
    txn: &LocalTxn,
    tenant: &Tenant,
    ids: &[i32],
    after: Option<&After>,
    limit: u64,
    more_follow: bool,
) -> Result<Option<MemberPage>> {
    let start = match after {
        None => 0,
        Some(a) => match ids.iter().position(|id| *id == a.id) {
            Some(at) => at + 1,
            None => return Ok(None),
        },
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // `ids` are the first matches only: a page reaching their end is read
    // otherwise, so its "next" is right.
    if more_follow && start.saturating_add(limit) >= ids.len() {
        return Ok(None);
    }
    let chosen: Vec<i32> = ids.iter().skip(start).take(limit).copied().collect();
    let rows = rows_in_order(txn, tenant, &chosen).await?;
    let more = ids.len() > start + chosen.len();
    let next = more.then(|| rows.last()).flatten().map(After::of);
    Ok(Some(MemberPage {
        members: rows,
        next,
    }))
}
