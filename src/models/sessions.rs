//! Server-side browser sessions: the store behind `tower-sessions`, over our
//! own table so there is one pool and one migration path (LOCO-NOTES 3).
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    QueryFilter,
};
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};

pub use super::_entities::sessions::{self, ActiveModel, Entity, Model};
use super::Result;

/// The session key holding the signed-in person's id.
pub const USER_ID_KEY: &str = "user_id";

/// Sessions expire after inactivity, so `tower-sessions` saves every
/// session at the end of every request. Writing (and syncing) a row per page
/// view only to move its expiry by seconds is most of a page's cost under
/// load: a save whose data is unchanged since this process last read or wrote
/// it, and whose expiry moves by less than this, is skipped. Expiry is then
/// kept to within this many seconds; any change of data is always written.
const EXPIRY_SLACK_SECONDS: i64 = 300;

/// Above this many remembered sessions the memory is cleared (it is only an
/// optimisation: forgetting costs one write).
const REMEMBERED_MAX: usize = 100_000;

#[derive(Clone, Debug)]
pub struct DatabaseStore {
    db: DatabaseConnection,
    /// Per session id: a digest of the data and the expiry stored with it.
    stored: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Id, (u64, i64)>>>,
}

impl DatabaseStore {
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            stored: std::sync::Arc::default(),
        }
    }

    fn remember(&self, id: Id, digest: u64, expires: i64) {
        if let Ok(mut stored) = self.stored.lock() {
            if stored.len() >= REMEMBERED_MAX {
                stored.clear();
            }
            stored.insert(id, (digest, expires));
        }
    }

    fn forget(&self, id: &Id) {
        if let Ok(mut stored) = self.stored.lock() {
            stored.remove(id);
        }
    }

    /// Whether the database already holds this data with an expiry close enough.
    fn is_fresh(&self, id: &Id, digest: u64, expires: i64) -> bool {
        self.stored.lock().is_ok_and(|stored| {
            stored
                .get(id)
                .is_some_and(|(d, e)| *d == digest && (expires - *e).abs() < EXPIRY_SLACK_SECONDS)
        })
    }
}

/// A digest of session data independent of the map's iteration order.
fn digest(data: &std::collections::HashMap<String, serde_json::Value>) -> u64 {
    use std::hash::{Hash, Hasher};
    let ordered: std::collections::BTreeMap<&String, &serde_json::Value> = data.iter().collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&ordered)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_chrono(at: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_else(Utc::now)
}

fn row_of(record: &Record) -> session_store::Result<ActiveModel> {
    let user_id = record
        .data
        .get(USER_ID_KEY)
        .and_then(serde_json::Value::as_i64)
        .and_then(|id| i32::try_from(id).ok());
    Ok(ActiveModel {
        id: Set(record.id.to_string()),
        user_id: Set(user_id),
        data: Set(serde_json::to_string(&record.data).map_err(backend)?),
        expires_at: Set(to_chrono(record.expiry_date).into()),
    })
}

#[async_trait]
impl SessionStore for DatabaseStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; still, never overwrite someone's session.
        loop {
            let exists = Entity::find_by_id(record.id.to_string())
                .one(&self.db)
                .await
                .map_err(backend)?
                .is_some();
            if !exists {
                break;
            }
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = row_of(record)?;
        let data = digest(&record.data);
        let expires = record.expiry_date.unix_timestamp();
        if self.is_fresh(&record.id, data, expires) {
            return Ok(());
        }
        Entity::insert(row)
            .on_conflict(
                OnConflict::column(sessions::Column::Id)
                    .update_columns([
                        sessions::Column::UserId,
                        sessions::Column::Data,
                        sessions::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        self.remember(record.id, data, expires);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = Entity::find_by_id(id.to_string())
            .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data).map_err(backend)?;
        self.remember(*id, digest(&data), row.expires_at.timestamp());
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp())
            .map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DatabaseStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Ends every session of a person (password change or reset, disabled access).
///
/// # Errors
/// A database error.
pub async fn end_all_for_user(db: &DatabaseConnection, user_id: i32) -> Result<()> {
    Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

impl sea_orm::ActiveModelBehavior for ActiveModel {}

/// Deletes sessions past their expiry; returns how many.
///
/// # Errors
/// A database error.
pub async fn delete_expired(db: &DatabaseConnection) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
