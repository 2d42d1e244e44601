//! The employers, worksites and bargaining units a member import's file
//! names that the local does not have yet. When the admin allows it for the
//! import, they are added before the first row is written, and the preview
//! reads the rows as if they were there; otherwise each such row fails with
//! the unknown name. Statuses are never added: what counts as good standing
//! is the local's decision, not a file's.
use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use super::{
    _entities::{bargaining_units, employers, worksites},
    audit_events::{self, Change},
    member_imports::Mapping,
    structure::Directory,
    tenants::Tenant,
    Result,
};
use crate::domain::UnitName;

/// A name as rows are matched to the local's: spaces collapsed, ASCII case
/// ignored.
#[must_use]
pub fn fold(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// Whether two names are the same once folded ([`fold`]), without
/// building either: every row of an import compares its names with each of
/// the local's.
#[must_use]
pub fn same_name(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// Inserts a row per name into a table whose names are unique in the
/// local, leaving a name taken meanwhile as it is.
macro_rules! insert_names {
    ($table:ident, $names:expr, $txn:expr, $now:expr) => {
        if !$names.is_empty() {
            let rows = $names
                .iter()
                .map(|name| {
                    $txn.stamp($table::ActiveModel {
                        pid: Set(Uuid::new_v4()),
                        name: Set(name.clone()),
                        created_at: Set($now),
                        updated_at: Set($now),
                        ..Default::default()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            $table::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([$table::Column::TenantId, $table::Column::Name])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning($txn)
                .await?;
        }
    };
}

/// What an import would add, in the order the file first names each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    pub employers: Vec<String>,
    /// Worksite name and its employer's name.
    pub worksites: Vec<(String, String)>,
    pub units: Vec<String>,
}

impl Missing {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.employers.is_empty() && self.worksites.is_empty() && self.units.is_empty()
    }

    /// The names in `rows` that `directory` lacks. A worksite can only be
    /// added at an employer, so a row naming a worksite without one adds
    /// nothing (and fails when the worksite is unknown).
    pub fn find<R: AsRef<[String]>>(
        rows: impl IntoIterator<Item = R>,
        mapping: &Mapping,
        directory: &Directory,
    ) -> Self {
        let mut missing = Self::default();
        let known_employers: HashSet<String> =
            directory.employers.iter().map(|e| fold(&e.name)).collect();
        let known_sites: HashSet<(String, String)> = directory
            .worksites
            .iter()
            .map(|w| {
                (
                    fold(&directory.employer(Some(w.employer_id))),
                    fold(&w.name),
                )
            })
            .collect();
        let known_units: HashSet<String> = directory.units.iter().map(|u| fold(&u.name)).collect();
        let (mut employers, mut sites, mut units) =
            (HashSet::new(), HashSet::new(), HashSet::new());
        let cell = |row: &[String], key: &str| -> Option<String> {
            let raw = mapping.column(key).and_then(|c| row.get(c))?;
            UnitName::parse(raw).ok().map(UnitName::into_string)
        };
        for row in rows {
            let row = row.as_ref();
            let employer = cell(row, "employer");
            if let Some(name) = &employer {
                if !known_employers.contains(&fold(name)) && employers.insert(fold(name)) {
                    missing.employers.push(name.clone());
                }
            }
            if let (Some(employer), Some(site)) = (&employer, cell(row, "worksite")) {
                let key = (fold(employer), fold(&site));
                if !known_sites.contains(&key) && sites.insert(key) {
                    missing.worksites.push((site, employer.clone()));
                }
            }
            if let Some(name) = cell(row, "bargaining_unit") {
                if !known_units.contains(&fold(&name)) && units.insert(fold(&name)) {
                    missing.units.push(name);
                }
            }
        }
        missing
    }

    /// `directory` with stand-ins for these names, so rows naming them read
    /// as they will once they are added (the preview).
    #[must_use]
    pub fn placed(&self, directory: &Directory) -> Directory {
        let mut placed = directory.clone();
        let now: chrono::DateTime<chrono::FixedOffset> = Utc::now().into();
        let mut next_id = -1;
        let mut id = || {
            next_id -= 1;
            next_id
        };
        for name in &self.employers {
            placed.employers.push(employers::Model {
                id: id(),
                pid: Uuid::new_v4(),
                tenant_id: 0,
                name: name.clone(),
                created_at: now,
                updated_at: now,
            });
        }
        for (name, employer) in &self.worksites {
            let Some(employer_id) = placed
                .employers
                .iter()
                .find(|e| fold(&e.name) == fold(employer))
                .map(|e| e.id)
            else {
                continue;
            };
            placed.worksites.push(worksites::Model {
                id: id(),
                pid: Uuid::new_v4(),
                tenant_id: 0,
                employer_id,
                name: name.clone(),
                created_at: now,
                updated_at: now,
            });
        }
        for name in &self.units {
            placed.units.push(bargaining_units::Model {
                id: id(),
                pid: Uuid::new_v4(),
                tenant_id: 0,
                name: name.clone(),
                created_at: now,
                updated_at: now,
            });
        }
        placed
    }

    /// Each kind with its label, its audit field and its names (a
    /// worksite named with its employer), in the page's order.
    fn groups(&self) -> [(&'static str, &'static str, Vec<String>); 3] {
        [
            ("Employers", "employers", self.employers.clone()),
            (
                "Worksites",
                "worksites",
                self.worksites
                    .iter()
                    .map(|(site, employer)| format!("{site} ({employer})"))
                    .collect(),
            ),
            ("Bargaining units", "bargaining units", self.units.clone()),
        ]
    }

    /// Lines for the page: "Employers: A, B" and so on.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.groups()
            .into_iter()
            .filter(|(_, _, names)| !names.is_empty())
            .map(|(label, _, names)| format!("{label}: {}", names.join(", ")))
            .collect()
    }

    /// Adds them in one transaction, with one audit line on the import
    /// naming them. A name added meanwhile (another admin, an earlier
    /// attempt of the same import) is kept as it is.
    ///
    /// # Errors
    /// A database error.
    pub async fn add(&self, tenant: &Tenant, actor: Option<i32>, import_id: i32) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let txn = tenant.begin().await?;
        let now: chrono::DateTime<chrono::FixedOffset> = Utc::now().into();
        insert_names!(employers, self.employers, &txn, now);
        let directory = Directory::load_in(&txn, tenant).await?;
        let employer_ids: std::collections::HashMap<String, i32> = directory
            .employers
            .iter()
            .map(|e| (fold(&e.name), e.id))
            .collect();
        let sites = self
            .worksites
            .iter()
            .filter_map(|(name, employer)| {
                let employer_id = *employer_ids.get(&fold(employer))?;
                Some(txn.stamp(worksites::ActiveModel {
                    pid: Set(Uuid::new_v4()),
                    employer_id: Set(employer_id),
                    name: Set(name.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        if !sites.is_empty() {
            worksites::Entity::insert_many(sites)
                .on_conflict(
                    OnConflict::columns([
                        worksites::Column::TenantId,
                        worksites::Column::EmployerId,
                        worksites::Column::Name,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        insert_names!(bargaining_units, self.units, &txn, now);
        let changes: Vec<Change> = self
            .groups()
            .into_iter()
            .filter(|(_, _, names)| !names.is_empty())
            .filter_map(|(_, field, names)| Change::of(field, None, Some(&names.join(", "))))
            .collect();
        audit_events::record(
            &txn,
            actor,
            ("member_import", import_id),
            "add_structure",
            &changes,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
