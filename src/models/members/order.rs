//! The roll's orders, the cursor a page starts after, and the index ranges
//! that serve each order.
use chrono::NaiveDate;
use sea_orm::{
    sea_query::{Expr, ExprTrait, IntoCondition},
    ColumnTrait, Condition,
};
use serde::{Deserialize, Serialize};

use crate::models::{
    _entities::members::{Column, Model},
    membership_statuses,
    structure::Directory,
};

/// The list's order. Every order ends in the id, so pages never skip or
/// repeat a member; each is served by an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Last name, first name.
    #[default]
    Name,
    /// Newest join date first; members without one last.
    Joined,
    /// The statuses in the local's order, by name within each.
    Status,
}

impl Sort {
    pub const ALL: [Self; 3] = [Self::Name, Self::Joined, Self::Status];

    /// The order named in a URL; unknown names are `None`.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "" | "name" => Some(Self::Name),
            "joined" => Some(Self::Joined),
            "status" => Some(Self::Status),
            _ => None,
        }
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Joined => "joined",
            Self::Status => "status",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Joined => "Join date (newest first)",
            Self::Status => "Status",
        }
    }
}

/// The position after which the next page starts: the last row's sort keys
/// and id (what matters depends on the order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After {
    #[serde(rename = "l")]
    pub last_name: String,
    #[serde(rename = "f")]
    pub first_name: String,
    #[serde(rename = "d", default)]
    pub join_date: Option<NaiveDate>,
    #[serde(rename = "s", default)]
    pub status_id: i32,
    #[serde(rename = "i")]
    pub id: i32,
    /// A search read by word (PostgreSQL): the word the last row was listed under.
    #[serde(rename = "w", default, skip_serializing_if = "Option::is_none")]
    pub word: Option<String>,
}

impl After {
    pub(super) fn of(m: &Model) -> Self {
        Self {
            last_name: m.last_name.clone(),
            first_name: m.first_name.clone(),
            join_date: m.join_date,
            status_id: m.status_id,
            id: m.id,
            word: None,
        }
    }

    /// An opaque text for URLs.
    #[must_use]
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The position from [`After::encode`]; anything else is `None`.
    #[must_use]
    pub fn decode(raw: &str) -> Option<Self> {
        let after: Self = serde_json::from_slice(&hex::decode(raw.trim()).ok()?).ok()?;
        // Names never hold NUL (PostgreSQL refuses it in text): not a position we made.
        let nul = [&after.last_name, &after.first_name]
            .into_iter()
            .chain(after.word.as_ref())
            .any(|t| t.contains('\0'));
        (!nul).then_some(after)
    }
}

/// Orders a select of member ids by `sort`, on the columns of `table`.
pub(super) fn order_ids(
    query: &mut sea_orm::sea_query::SelectStatement,
    table: &str,
    directory: &Directory,
    sort: Sort,
) {
    use sea_orm::sea_query::{Alias, NullOrdering, Order};
    let col = |name: &str| (Alias::new(table), Alias::new(name));
    match sort {
        Sort::Name => {
            query
                .order_by(col("last_name"), Order::Asc)
                .order_by(col("first_name"), Order::Asc)
                .order_by(col("id"), Order::Asc);
        }
        Sort::Joined => {
            query
                .order_by_with_nulls(col("join_date"), Order::Desc, NullOrdering::Last)
                .order_by(col("id"), Order::Desc);
        }
        Sort::Status => {
            // The local's own order of statuses (ids and positions are ours, integers).
            let case = directory
                .statuses
                .iter()
                .enumerate()
                .map(|(i, s)| format!("WHEN {} THEN {i}", s.id))
                .collect::<Vec<_>>()
                .join(" ");
            query
                .order_by_expr(
                    Expr::cust(format!(
                        "CASE \"{table}\".\"status_id\" {case} ELSE 2147483647 END"
                    )),
                    Order::Asc,
                )
                .order_by(col("last_name"), Order::Asc)
                .order_by(col("first_name"), Order::Asc)
                .order_by(col("id"), Order::Asc);
        }
    }
}

pub(super) fn tuple_after(
    columns: &[Column],
    values: Vec<sea_orm::Value>,
    descending: bool,
) -> Condition {
    let left = Expr::tuple(columns.iter().map(|c| Expr::col(*c)));
    let right = Expr::tuple(values.into_iter().map(Expr::val));
    Condition::all().add(if descending {
        left.lt(right)
    } else {
        left.gt(right)
    })
}

/// The members after `a` in name order.
pub(super) fn name_after(a: &After) -> Condition {
    tuple_after(
        &[Column::LastName, Column::FirstName, Column::Id],
        vec![
            a.last_name.clone().into(),
            a.first_name.clone().into(),
            a.id.into(),
        ],
        false,
    )
}

/// The order as consecutive segments, each one index range: a segment's
/// extra condition and its columns (with `true` for descending). Pages fill
/// from the segment the cursor is in onwards.
pub(super) fn segments(
    sort: Sort,
    after: Option<&After>,
    statuses: &[membership_statuses::Model],
) -> Vec<(Condition, Vec<(Column, bool)>)> {
    let by_name = vec![
        (Column::LastName, false),
        (Column::FirstName, false),
        (Column::Id, false),
    ];
    match sort {
        Sort::Name => vec![(after.map_or_else(Condition::all, name_after), by_name)],
        Sort::Joined => {
            let dated = (
                Column::JoinDate.is_not_null().into_condition(),
                vec![(Column::JoinDate, true), (Column::Id, true)],
            );
            let undated = (
                Column::JoinDate.is_null().into_condition(),
                vec![(Column::Id, true)],
            );
            match after {
                None => vec![dated, undated],
                Some(a) => match a.join_date {
                    Some(d) => vec![
                        (
                            dated.0.add(tuple_after(
                                &[Column::JoinDate, Column::Id],
                                vec![d.into(), a.id.into()],
                                true,
                            )),
                            dated.1,
                        ),
                        undated,
                    ],
                    None => vec![(undated.0.add(Column::Id.lt(a.id)), undated.1)],
                },
            }
        }
        Sort::Status => {
            let start = after
                .and_then(|a| statuses.iter().position(|s| s.id == a.status_id))
                .unwrap_or(0);
            statuses
                .iter()
                .enumerate()
                .skip(start)
                .map(|(i, s)| {
                    let mut cond = Column::StatusId.eq(s.id).into_condition();
                    if let (true, Some(a)) = (i == start, after) {
                        cond = cond.add(name_after(a));
                    }
                    (cond, by_name.clone())
                })
                .collect()
        }
    }
}
