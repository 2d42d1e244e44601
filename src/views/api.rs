//! JSON bodies of the API (`/api/v1`): what goes on the wire, never an entity.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::models::{
    _entities::tenants, api_tokens, invitations::Pending, memberships::Person as PersonRow,
    roles::RoleSummary, users,
};

/// Every error: a stable code, a message for people, and messages per field.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `validation_failed`, `not_found`.
    #[schema(example = "validation_failed")]
    pub code: String,
    pub message: String,
    /// Messages per request field (validation and conflicts).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// A page of a collection; follow `next` for the following page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// The URL of the next page, absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Local {
    pub slug: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
}

impl From<&tenants::Model> for Local {
    fn from(t: &tenants::Model) -> Self {
        Self {
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub pid: Uuid,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// The local the token is bound to, and the person's role there.
    pub local: Local,
    pub role: String,
    pub permissions: Vec<String>,
}

impl Me {
    #[must_use]
    pub fn new(
        user: &users::Model,
        local: &tenants::Model,
        role: &str,
        permissions: Vec<String>,
    ) -> Self {
        Self {
            pid: user.pid,
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: user.is_email_verified(),
            local: local.into(),
            role: role.to_string(),
            permissions,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Permission {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub pid: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
    /// How many people hold the role.
    pub holders: u64,
}

impl From<&RoleSummary> for Role {
    fn from(s: &RoleSummary) -> Self {
        Self {
            pid: s.role.pid,
            name: s.role.name.clone(),
            permissions: s
                .role
                .permission_set()
                .iter()
                .map(|p| p.key().to_string())
                .collect(),
            holders: s.holders,
        }
    }
}

/// A role as an admin defines it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    #[schema(schema_with = role_name)]
    pub name: String,
    /// Permission keys, see `GET /api/v1/permissions`.
    #[serde(default)]
    #[schema(schema_with = permission_keys)]
    pub permissions: Vec<String>,
}

/// The permission keys as a JSON Schema enum, from the list in code.
fn permission_keys() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let keys: Vec<&str> = crate::domain::Permission::ALL
        .iter()
        .map(|p| p.key())
        .collect();
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(keys)),
        )
        .build()
}

/// A person with access to the local.
#[derive(Debug, Serialize, ToSchema)]
pub struct Person {
    /// The person's place in this local (used in URLs).
    pub pid: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub role_pid: Uuid,
    pub disabled: bool,
}

impl From<&PersonRow> for Person {
    fn from(p: &PersonRow) -> Self {
        Self {
            pid: p.membership.pid,
            name: p.user.name.clone(),
            email: p.user.email.clone(),
            role: p.role.name.clone(),
            role_pid: p.role.pid,
            disabled: p.is_disabled(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// The pid of one of the local's roles.
    #[schema(format = Uuid, value_type = String)]
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub pid: Uuid,
    pub email: String,
    pub role: String,
    pub expires_at: String,
}

impl From<&Pending> for Invitation {
    fn from(p: &Pending) -> Self {
        Self {
            pid: p.invitation.pid,
            email: p.invitation.email.clone(),
            role: p.role_name.clone(),
            expires_at: p.invitation.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// The pid of one of the local's roles.
    #[schema(format = Uuid, value_type = String)]
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub pid: Uuid,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub active: bool,
}

impl From<&api_tokens::Model> for Token {
    fn from(t: &api_tokens::Model) -> Self {
        Self {
            pid: t.pid,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at.to_rfc3339(),
            expires_at: t.expires_at.map(|at| at.to_rfc3339()),
            last_used_at: t.last_used_at.map(|at| at.to_rfc3339()),
            active: t.is_active(),
        }
    }
}

/// A new token: its secret is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    pub token: Token,
    /// Send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    #[schema(schema_with = token_name)]
    pub name: String,
    /// Days until the token expires (1–366); absent: never.
    #[schema(minimum = 1, maximum = 366, value_type = Option<u32>)]
    pub expires_in_days: Option<serde_json::Number>,
}

impl TokenInput {
    /// The lifetime in whole days; JSON Schema counts `30.0` as an integer too.
    ///
    /// # Errors
    /// A message when it is not a whole number of days.
    pub fn days(&self) -> Result<Option<u32>, String> {
        let Some(n) = &self.expires_in_days else {
            return Ok(None);
        };
        let whole = n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                .map(|f| f as u64)
        });
        whole
            .and_then(|d| u32::try_from(d).ok())
            .map(Some)
            .ok_or_else(|| "Give a whole number of days.".to_string())
    }
}

/// A row of the local's structure or a status, by pid and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub pid: Uuid,
    pub name: String,
}

/// A member of the local.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    pub pid: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// E.164, e.g. `+15550102030`.
    pub phone: Option<String>,
    pub address: Option<String>,
    pub employee_number: Option<String>,
    pub employer: Option<Named>,
    pub worksite: Option<Named>,
    pub bargaining_unit: Option<Named>,
    pub status: Named,
    #[schema(value_type = Option<String>, format = Date)]
    pub join_date: Option<chrono::NaiveDate>,
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
    pub archived: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
}

impl MemberBody {
    #[must_use]
    pub fn of(m: &crate::models::members::Model, d: &crate::models::structure::Directory) -> Self {
        let named = |pid: Option<Uuid>, name: String| pid.map(|pid| Named { pid, name });
        Self {
            pid: m.pid,
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            email: m.email.clone(),
            phone: m.phone.clone(),
            address: m.address.clone(),
            employee_number: m.employee_number.clone(),
            employer: named(
                d.employers
                    .iter()
                    .find(|e| Some(e.id) == m.employer_id)
                    .map(|e| e.pid),
                d.employer(m.employer_id),
            ),
            worksite: named(
                d.worksites
                    .iter()
                    .find(|w| Some(w.id) == m.worksite_id)
                    .map(|w| w.pid),
                d.worksite(m.worksite_id),
            ),
            bargaining_unit: named(
                d.units
                    .iter()
                    .find(|u| Some(u.id) == m.bargaining_unit_id)
                    .map(|u| u.pid),
                d.unit(m.bargaining_unit_id),
            ),
            status: Named {
                pid: d
                    .statuses
                    .iter()
                    .find(|s| s.id == m.status_id)
                    .map(|s| s.pid)
                    .unwrap_or_default(),
                name: d.status(m.status_id),
            },
            join_date: m.join_date,
            email_opt_in: m.email_opt_in,
            sms_opt_in: m.sms_opt_in,
            archived: m.archived_at.is_some(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One line of a member's status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeBody {
    pub from: Option<String>,
    pub to: String,
    pub by: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub on: chrono::NaiveDate,
}

/// A member with their status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub member: MemberBody,
    pub status_history: Vec<StatusChangeBody>,
}

/// How many members match: `exact`, or an estimate (`about`) or a lower
/// bound (`more_than`) when counting would be slow.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalBody {
    pub count: u64,
    /// `exact`, `about` or `more_than`.
    pub kind: String,
}

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPageBody {
    pub items: Vec<MemberBody>,
    pub next: Option<String>,
    pub total: TotalBody,
}

/// A member as sent: names required; references are pids of the local's
/// structure and statuses; omitted optional fields are cleared on update.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    #[schema(schema_with = member_name)]
    pub first_name: String,
    #[schema(schema_with = member_name)]
    pub last_name: String,
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// Any common format; stored as E.164 (numbers without `+` are read in the local's country, North American unless its admin chose another). The document fetched with a token states the pattern that local accepts.
    #[serde(default)]
    pub phone: Option<String>,
    /// One or more lines; blank lines are dropped.
    #[serde(default)]
    #[schema(schema_with = address)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(schema_with = employee_number)]
    pub employee_number: Option<String>,
    #[serde(default)]
    #[schema(format = Uuid, value_type = Option<String>)]
    pub employer: Option<String>,
    #[serde(default)]
    #[schema(format = Uuid, value_type = Option<String>)]
    pub worksite: Option<String>,
    #[serde(default)]
    #[schema(format = Uuid, value_type = Option<String>)]
    pub bargaining_unit: Option<String>,
    /// The status's pid; omitted: the local's first status.
    #[serde(default)]
    #[schema(format = Uuid, value_type = Option<String>)]
    pub status: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(format = Date, value_type = Option<String>)]
    pub join_date: Option<String>,
}

impl From<MemberInput> for crate::views::members::MemberForm {
    fn from(i: MemberInput) -> Self {
        Self {
            first_name: i.first_name,
            last_name: i.last_name,
            email: i.email.unwrap_or_default(),
            phone: i.phone.unwrap_or_default(),
            address: i.address.unwrap_or_default(),
            employee_number: i.employee_number.unwrap_or_default(),
            employer: i.employer.unwrap_or_default(),
            worksite: i.worksite.unwrap_or_default(),
            bargaining_unit: i.bargaining_unit.unwrap_or_default(),
            status: i.status.unwrap_or_default(),
            join_date: i.join_date.unwrap_or_default(),
        }
    }
}

/// An employer, or a bargaining unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartBody {
    pub pid: Uuid,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
}

impl From<&crate::models::employers::Model> for PartBody {
    fn from(e: &crate::models::employers::Model) -> Self {
        Self {
            pid: e.pid,
            name: e.name.clone(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl From<&crate::models::bargaining_units::Model> for PartBody {
    fn from(u: &crate::models::bargaining_units::Model) -> Self {
        Self {
            pid: u.pid,
            name: u.name.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A worksite of one of the local's employers.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorksiteBody {
    pub pid: Uuid,
    pub name: String,
    pub employer: Named,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
}

impl WorksiteBody {
    #[must_use]
    pub fn of(
        w: &crate::models::worksites::Model,
        d: &crate::models::structure::Directory,
    ) -> Self {
        let employer = d.employers.iter().find(|e| e.id == w.employer_id);
        Self {
            pid: w.pid,
            name: w.name.clone(),
            employer: Named {
                pid: employer.map(|e| e.pid).unwrap_or_default(),
                name: employer.map(|e| e.name.clone()).unwrap_or_default(),
            },
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A membership status, in the local's order (1 is first: new members'
/// status unless another is chosen).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    pub pid: Uuid,
    pub name: String,
    /// Whether members with it count as in good standing.
    pub in_good_standing: bool,
    #[schema(minimum = 1)]
    pub position: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
}

impl StatusBody {
    /// The status at `place` (0 is first) of the local's order.
    #[must_use]
    pub fn of(s: &crate::models::membership_statuses::Model, place: usize) -> Self {
        Self {
            pid: s.pid,
            name: s.name.clone(),
            in_good_standing: s.in_good_standing,
            position: u32::try_from(place + 1).unwrap_or(u32::MAX),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The statuses, every one, in the local's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusList {
    pub items: Vec<StatusBody>,
}

/// What `domain::text` accepts as a name: not blank, no control
/// characters but whitespace (`text::check_typed`).
const NAME_PATTERN: &str = r"^[^\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]*$";
/// What `text::check_typed` accepts where a blank is allowed.
const LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F]*$";

/// A string schema of at least `min` and at most `max` characters matching
/// `pattern`: the one place the API states a typed text's rules.
fn typed_text(min: usize, max: usize, pattern: &str) -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .build()
}

/// A member's first or last name.
fn member_name() -> utoipa::openapi::Object {
    typed_text(1, 120, NAME_PATTERN)
}

/// The name of an employer, worksite, bargaining unit or status.
pub(crate) fn part_name() -> utoipa::openapi::Object {
    typed_text(1, 160, NAME_PATTERN)
}

fn role_name() -> utoipa::openapi::Object {
    typed_text(1, 60, NAME_PATTERN)
}

fn token_name() -> utoipa::openapi::Object {
    typed_text(1, 80, NAME_PATTERN)
}

/// [`typed_text`] that may also be `null` (an optional field).
fn nullable(mut text: utoipa::openapi::Object) -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::SchemaType, Type};
    text.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    text
}

fn address() -> utoipa::openapi::Object {
    nullable(typed_text(
        0,
        crate::domain::address::MAX_ADDRESS_LEN,
        LINE_PATTERN,
    ))
}

fn employee_number() -> utoipa::openapi::Object {
    nullable(typed_text(0, 40, LINE_PATTERN))
}

/// A new name for an employer, worksite or bargaining unit, or a new
/// employer or bargaining unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    #[schema(schema_with = part_name)]
    pub name: String,
}

/// A new worksite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorksiteInput {
    #[schema(schema_with = part_name)]
    pub name: String,
    /// The pid of the local's employer it belongs to.
    pub employer: Uuid,
}

/// A status as an admin defines it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    #[schema(schema_with = part_name)]
    pub name: String,
    /// Omitted: no.
    #[serde(default)]
    pub in_good_standing: bool,
}

/// Where a status goes in the local's order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionInput {
    /// 1 is first; past the end is last.
    #[schema(value_type = u32, minimum = 1)]
    pub position: WholeNumber,
}

/// A member import: its file, how its columns are read, and where it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportBody {
    pub pid: Uuid,
    pub file_name: String,
    pub size_bytes: i64,
    /// How the file was decoded (`UTF-8`, `windows-1252`, …).
    pub encoding: String,
    /// `uploading`, `mapping` (being set up), `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// The column (0-based) read into each field; see the preview for the
    /// file's headers.
    pub mapping: BTreeMap<String, usize>,
    /// `skip` or `update` a row matching a member already on the roll.
    pub on_duplicate: String,
    /// Whether employers, worksites and units the file names that the local
    /// lacks are added.
    pub create_missing: bool,
    pub total_rows: i32,
    pub processed_rows: i32,
    #[schema(minimum = 0, maximum = 100)]
    pub percent: i32,
    pub created: i32,
    pub updated: i32,
    pub skipped: i32,
    pub failed: i32,
    /// Why the import stopped, when it did.
    pub error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl From<&crate::models::member_imports::Model> for ImportBody {
    fn from(i: &crate::models::member_imports::Model) -> Self {
        let counts = i.counts();
        Self {
            pid: i.pid,
            file_name: i.file_name.clone(),
            size_bytes: i.size_bytes,
            encoding: i.encoding.clone(),
            state: i.state.clone(),
            mapping: i.mapping().0,
            on_duplicate: i.on_duplicate().key().into(),
            create_missing: i.create_missing,
            total_rows: i.total_rows,
            processed_rows: i.processed_rows,
            percent: i.percent(),
            created: counts.created,
            updated: counts.updated,
            skipped: counts.skipped,
            failed: counts.failed,
            error: i.error.clone(),
            created_at: i.created_at,
            started_at: i.started_at,
            finished_at: i.finished_at,
        }
    }
}

/// A row of the preview, and what importing it would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewRow {
    pub values: Vec<String>,
    /// Why the row would fail, if it would.
    pub error: Option<String>,
}

/// A worksite the file names that the local lacks, with its employer.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingWorksite {
    pub name: String,
    pub employer: String,
}

/// Names the start of the file uses that the local lacks.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingBody {
    pub employers: Vec<String>,
    pub worksites: Vec<MissingWorksite>,
    pub bargaining_units: Vec<String>,
}

/// The file's headers and first rows, each checked as the import would with
/// the current mapping.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewBody {
    pub headers: Vec<String>,
    pub rows: Vec<PreviewRow>,
    pub missing: MissingBody,
    /// The fields a column can be read into, by key.
    pub fields: Vec<ImportField>,
}

/// A field of a member that a column can fill.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportField {
    pub key: String,
    pub label: String,
}

impl From<crate::models::member_imports::Preview> for PreviewBody {
    fn from(p: crate::models::member_imports::Preview) -> Self {
        Self {
            headers: p.headers,
            rows: p
                .rows
                .into_iter()
                .map(|(values, check)| PreviewRow {
                    values,
                    error: check.err(),
                })
                .collect(),
            missing: MissingBody {
                employers: p.missing.employers,
                worksites: p
                    .missing
                    .worksites
                    .into_iter()
                    .map(|(name, employer)| MissingWorksite { name, employer })
                    .collect(),
                bargaining_units: p.missing.units,
            },
            fields: crate::models::member_imports::FIELDS
                .iter()
                .map(|f| ImportField {
                    key: f.key.into(),
                    label: f.label.into(),
                })
                .collect(),
        }
    }
}

/// A whole number sent as JSON: `3`, or `3.0` (a JSON integer, to JSON
/// Schema), up to `u32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber(pub u32);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        n.as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f.min(f64::from(u32::MAX)) as u64)
            })
            .map(|w| Self(u32::try_from(w).unwrap_or(u32::MAX)))
            .ok_or_else(|| serde::de::Error::custom("expected a whole number, 0 or more"))
    }
}

/// The mapping's schema: a column index per field key, the names required.
fn import_mapping() -> utoipa::openapi::Object {
    use utoipa::openapi::{schema::AdditionalProperties, ObjectBuilder, Type};
    let mut mapping = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .required("first_name")
        .required("last_name");
    for field in &crate::models::member_imports::FIELDS {
        mapping = mapping.property(
            field.key,
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(1000))
                .description(Some(field.label)),
        );
    }
    mapping.build()
}

/// How an import reads its file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportSettingsInput {
    /// The column (0-based) for each field, by the field's key (see the
    /// preview's `fields`); a field left out is not imported.
    /// `first_name` and `last_name` are required.
    #[schema(schema_with = import_mapping)]
    pub mapping: BTreeMap<String, WholeNumber>,
    /// What to do with a row matching a member already on the roll.
    #[serde(default)]
    #[schema(pattern = "^(skip|update)$")]
    pub on_duplicate: Option<String>,
    /// Add employers, worksites and units the file names that the local
    /// lacks (default: no, such rows fail).
    #[serde(default)]
    pub create_missing: bool,
}

/// A row the import could not take, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedRowBody {
    /// The row's number in the file: 1 is the first row after the header.
    pub row: i32,
    pub reason: String,
    /// The row as read, a value per column.
    pub values: Vec<String>,
}

/// A field an audited change changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeBody {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One recorded change in the local: who did what to which record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventBody {
    /// `create`, `update`, `delete`, `archive`, `restore`, …
    pub action: String,
    /// `member`, `employer`, `worksite`, `bargaining_unit`,
    /// `membership_status`, `member_import`, `local`, `role`, …
    pub subject_type: String,
    /// The record's pid, for members and the structure while they exist.
    pub subject_pid: Option<Uuid>,
    /// The record's name now, for members and the structure while they exist.
    pub subject_name: Option<String>,
    /// Who made the change (none for the system).
    pub actor: Option<String>,
    pub changes: Vec<ChangeBody>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}
