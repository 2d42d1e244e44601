//! The durable state of background work (issue 4). A queue message names a
//! work item; a worker claims it with a lease before doing it and marks it
//! done after, so a message delivered twice does the work once, and work a
//! killed worker held is found again by the sweeper once its lease expires.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

mod entity;

pub use entity::{ActiveModel, Column, Entity, Model};

type Result<T, E = sea_orm::DbErr> = std::result::Result<T, E>;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
/// Failed at least once; a retry is scheduled.
pub const FAILED: &str = "failed";
/// Out of retries (or its arguments no longer parse): in the dead set.
pub const DEAD: &str = "dead";
/// Not done on purpose (its local is suspended or gone); logged.
pub const SKIPPED: &str = "skipped";
pub const DISCARDED: &str = "discarded";

/// What the worker holds while it works: the item and which attempt it is,
/// so a worker whose lease was taken over cannot finish someone else's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: i32,
    pub attempt: i32,
}

/// Counts of items per state, for the console.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub queued: u64,
    pub running: u64,
    pub failed: u64,
    pub dead: u64,
}

impl Model {
    /// Records work asked for; the caller then puts its message on a queue
    /// (and calls [`unsent`] if that fails, so the relay sends it).
    ///
    /// # Errors
    /// A database error.
    pub async fn create(
        db: &DatabaseConnection,
        kind: &str,
        queue: &str,
        local_id: Option<i32>,
        args: &str,
    ) -> Result<Self> {
        insert(db, kind, queue, local_id, args, true).await
    }

    /// Records work in `conn`, the transaction of the change that needs it
    /// (the outbox): its message is sent after that commits, by whichever
    /// process's relay takes it first ([`take_unsent`]).
    ///
    /// # Errors
    /// A database error.
    pub async fn record_in<C: ConnectionTrait>(
        conn: &C,
        kind: &str,
        queue: &str,
        local_id: Option<i32>,
        args: &str,
    ) -> Result<Self> {
        insert(conn, kind, queue, local_id, args, false).await
    }
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    queue: &str,
    local_id: Option<i32>,
    args: &str,
    sent: bool,
) -> Result<Model> {
    let now = Utc::now();
    ActiveModel {
        local_id: Set(local_id),
        kind: Set(kind.to_string()),
        queue: Set(queue.to_string()),
        args: Set(args.to_string()),
        state: Set(QUEUED.to_string()),
        attempts: Set(0),
        enqueued_at: Set(now.into()),
        sent_at: Set(sent.then(|| now.into())),
        created_at: Set(now.into()),
        updated_at: Set(now.into()),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Takes up to `limit` items recorded and not yet sent (oldest first),
/// marking them sent: the caller puts their messages on the queues. Each
/// update is guarded by `sent_at IS NULL`, so two relays never both take one.
///
/// # Errors
/// A database error.
pub async fn take_unsent(db: &DatabaseConnection, limit: u64) -> Result<Vec<Model>> {
    let candidates = oldest_ids(db, Column::SentAt.is_null(), limit).await?;
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let now = Utc::now();
    Ok(Entity::update_many()
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::EnqueuedAt, Expr::value(now))
        .filter(Column::Id.is_in(candidates))
        .filter(Column::SentAt.is_null())
        .exec_with_returning(db)
        .await?
        .into_iter()
        .filter(|item| item.state == QUEUED)
        .collect())
}

/// The ids of the first `limit` items matching `cond`, oldest first: what a
/// guarded update then takes (the relay, the sweeper).
async fn oldest_ids(
    db: &DatabaseConnection,
    cond: impl sea_orm::sea_query::IntoCondition,
    limit: u64,
) -> Result<Vec<i32>> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(cond)
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The item's message did not reach its queue: the relay sends it again.
///
/// # Errors
/// A database error.
pub async fn unsent(db: &DatabaseConnection, id: i32) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::SentAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(QUEUED))
        .exec(db)
        .await?;
    Ok(())
}

impl Model {
    /// Takes the item for one attempt, if nobody holds a live lease on it and
    /// it is not finished. `None` means there is nothing to do.
    ///
    /// # Errors
    /// A database error.
    pub async fn claim(
        db: &DatabaseConnection,
        id: i32,
        lease: Duration,
    ) -> Result<Option<(Self, Claim)>> {
        let now = Utc::now();
        let claimable = Column::State
            .is_in([QUEUED, FAILED, DEAD])
            .or(Column::State.eq(RUNNING).and(Column::LeaseUntil.lt(now)));
        let rows = Entity::update_many()
            .col_expr(Column::State, Expr::value(RUNNING))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::LeaseUntil, Expr::value(now + lease))
            .col_expr(Column::StartedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(claimable)
            .exec_with_returning(db)
            .await?;
        Ok(rows.into_iter().next().map(|item| {
            let claim = Claim {
                id: item.id,
                attempt: item.attempts,
            };
            (item, claim)
        }))
    }

    /// The item as it is now (to explain why a claim found nothing).
    ///
    /// # Errors
    /// A database error.
    pub async fn find(db: &DatabaseConnection, id: i32) -> Result<Option<Self>> {
        Entity::find_by_id(id).one(db).await
    }

    /// The items of the given ids (the console shows their state next to the jobs).
    ///
    /// # Errors
    /// A database error.
    pub async fn find_many(db: &DatabaseConnection, ids: &[i32]) -> Result<Vec<Self>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await
    }

    #[must_use]
    pub fn is_finished(&self) -> bool {
        matches!(self.state.as_str(), DONE | SKIPPED | DISCARDED)
    }

    #[must_use]
    pub fn is_leased(&self) -> bool {
        self.state == RUNNING && self.lease_until.is_some_and(|until| until > Utc::now())
    }
}

/// Extends the lease of a running attempt (long jobs renew it as they go).
///
/// # Errors
/// A database error.
pub async fn renew(db: &DatabaseConnection, claim: Claim, lease: Duration) -> Result<bool> {
    let now = Utc::now();
    let done = Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(now + lease))
        .filter(Column::Id.eq(claim.id))
        .filter(Column::Attempts.eq(claim.attempt))
        .filter(Column::State.eq(RUNNING))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Marks the attempt done; on `conn` so a job can commit its effect and its
/// completion in one transaction. False when the attempt no longer holds the
/// item (its lease expired and another worker took it over).
///
/// # Errors
/// A database error.
pub async fn finish<C: ConnectionTrait>(conn: &C, claim: Claim) -> Result<bool> {
    set_state(conn, claim, DONE, None).await
}

/// Records a failed attempt: `FAILED` (a retry is scheduled) or `DEAD`.
///
/// # Errors
/// A database error.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    claim: Claim,
    dead: bool,
    error: &str,
) -> Result<bool> {
    set_state(conn, claim, if dead { DEAD } else { FAILED }, Some(error)).await
}

/// Records that the attempt was skipped on purpose, and why.
///
/// # Errors
/// A database error.
pub async fn skip<C: ConnectionTrait>(conn: &C, claim: Claim, reason: &str) -> Result<bool> {
    set_state(conn, claim, SKIPPED, Some(reason)).await
}

/// Hands a running attempt back (graceful shutdown ran out of time): the
/// item is queued again for another worker.
///
/// # Errors
/// A database error.
pub async fn release<C: ConnectionTrait>(conn: &C, claim: Claim) -> Result<bool> {
    set_state(conn, claim, QUEUED, None).await
}

async fn set_state<C: ConnectionTrait>(
    conn: &C,
    claim: Claim,
    state: &str,
    error: Option<&str>,
) -> Result<bool> {
    let now = Utc::now();
    let finished = matches!(state, DONE | SKIPPED | DEAD);
    let mut update = Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(finished.then_some(now)));
    if let Some(error) = error {
        update = update.col_expr(Column::LastError, Expr::value(error));
    }
    let done = update
        .filter(Column::Id.eq(claim.id))
        .filter(Column::Attempts.eq(claim.attempt))
        .filter(Column::State.eq(RUNNING))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Marks an item dead whatever its state (its message could not be read).
///
/// # Errors
/// A database error.
pub async fn bury(db: &DatabaseConnection, id: i32, error: &str) -> Result<()> {
    let now = Utc::now();
    Entity::update_many()
        .col_expr(Column::State, Expr::value(DEAD))
        .col_expr(Column::LastError, Expr::value(error))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::State.is_not_in([DONE, SKIPPED, DISCARDED]))
        .exec(db)
        .await?;
    Ok(())
}

/// An operator discarded the job: its work will not be done.
///
/// # Errors
/// A database error.
pub async fn discard(db: &DatabaseConnection, id: i32) -> Result<()> {
    let now = Utc::now();
    Entity::update_many()
        .col_expr(Column::State, Expr::value(DISCARDED))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::State.is_in([QUEUED, FAILED, DEAD]))
        .exec(db)
        .await?;
    Ok(())
}

/// Work to put on the queues again: attempts whose lease expired (their
/// worker died) become queued again, and queued items whose message was
/// last sent before `stranded_before` (lost with a Redis that went away,
/// or never sent because the enqueue failed) are sent again. Each update
/// is guarded by the state it read, so two sweepers never both take an item.
///
/// # Errors
/// A database error.
pub async fn sweep(
    db: &DatabaseConnection,
    stranded_before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>> {
    let now = Utc::now();
    // Abandoned (its lease expired) or stranded (its message is too old).
    let sweepable = || {
        Column::State
            .eq(RUNNING)
            .and(Column::LeaseUntil.lt(now))
            .or(Column::State
                .eq(QUEUED)
                .and(Column::EnqueuedAt.lt(stranded_before)))
    };
    let candidates = oldest_ids(db, sweepable(), limit).await?;
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let rows = Entity::update_many()
        .col_expr(Column::State, Expr::value(QUEUED))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::EnqueuedAt, Expr::value(now))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.is_in(candidates))
        .filter(sweepable())
        .exec_with_returning(db)
        .await?;
    Ok(rows)
}

/// Counts of unfinished items by state.
///
/// # Errors
/// A database error.
pub async fn tally(db: &DatabaseConnection) -> Result<Tally> {
    let rows: Vec<(String, i64)> = Entity::find()
        .select_only()
        .column(Column::State)
        .column_as(Column::Id.count(), "n")
        .filter(Column::State.is_in([QUEUED, RUNNING, FAILED, DEAD]))
        .group_by(Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let mut tally = Tally::default();
    for (state, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            QUEUED => tally.queued = n,
            RUNNING => tally.running = n,
            FAILED => tally.failed = n,
            DEAD => tally.dead = n,
            _ => {}
        }
    }
    Ok(tally)
}

/// Deletes finished items older than `before` (the prune job).
///
/// # Errors
/// A database error.
pub async fn delete_finished_before(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    let done = Entity::delete_many()
        .filter(Column::State.is_in([DONE, SKIPPED, DISCARDED]))
        .filter(Column::FinishedAt.lt(before))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// How many items are in `state` (tests and the console).
///
/// # Errors
/// A database error.
pub async fn count_in(db: &DatabaseConnection, state: &str) -> Result<u64> {
    Entity::find()
        .filter(Column::State.eq(state))
        .count(db)
        .await
}
