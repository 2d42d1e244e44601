use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{Errors, Layout};
use crate::{
    domain::{
        date::parse_optional_date, Address, Email, EmployeeNumber, FieldErrors, MemberName, Phone,
    },
    models::{
        audit_events::Event,
        members::{MemberFilter, Model as Member, NewMember, Sort, StatusChange, Total},
        structure::Directory,
    },
};

/// The list's query string: search, filters, order, and where the page starts.
/// Kept whole in links, so a view can be bookmarked and shared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub status: String,
    pub employer: String,
    pub worksite: String,
    pub unit: String,
    pub joined_from: String,
    pub joined_to: String,
    pub sort: String,
    /// The next page starts after this position (opaque).
    pub after: String,
    /// `true`: archived members instead (the API's; the archive has its page).
    pub archived: String,
}

/// The members list's query, read once for the page and the API alike:
/// the filter and order it asks for, and what could not be read (the page
/// ignores it with a notice, the API refuses it with a 422).
pub struct MemberQuery {
    pub query: ListQuery,
    pub filter: MemberFilter,
    pub sort: Sort,
    /// A message per parameter that could not be read, by its key.
    pub unreadable: FieldErrors,
}

impl MemberQuery {
    /// Reads `q`, `status`, `employer`, `worksite`, `unit` (pids),
    /// `joined_from`, `joined_to` (dates), `archived` and `sort`; a
    /// malformed query string reads as no filter.
    #[must_use]
    pub fn parse(raw: Option<&str>) -> Self {
        let query: ListQuery =
            serde_html_form::from_str(raw.unwrap_or_default()).unwrap_or_default();
        let mut unreadable = FieldErrors::new();
        let mut pid = |value: &str, key: &'static str| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            let parsed = Uuid::parse_str(value).ok();
            if parsed.is_none() {
                unreadable.add(key, format!("{key} is the pid of one of the local's rows."));
            }
            parsed
        };
        let status = pid(&query.status, "status");
        let employer = pid(&query.employer, "employer");
        let worksite = pid(&query.worksite, "worksite");
        let bargaining_unit = pid(&query.unit, "unit");
        let mut date = |value: &str, key: &'static str| {
            parse_optional_date(value).unwrap_or_else(|m| {
                unreadable.add(key, format!("{key}: {m}"));
                None
            })
        };
        let joined_from = date(&query.joined_from, "joined_from");
        let joined_to = date(&query.joined_to, "joined_to");
        let sort = Sort::parse(&query.sort).unwrap_or_else(|| {
            unreadable.add("sort", "sort is `name`, `joined` or `status`.");
            Sort::Name
        });
        let filter = MemberFilter {
            search: Some(query.q.clone()).filter(|q| !q.trim().is_empty()),
            status,
            employer,
            worksite,
            bargaining_unit,
            joined_from,
            joined_to,
            archived: matches!(query.archived.trim(), "true" | "1"),
        };
        Self {
            query,
            filter,
            sort,
            unreadable,
        }
    }

    /// What the page says it ignored, in words, if anything.
    #[must_use]
    pub fn notice(&self) -> Option<String> {
        let what: Vec<&str> = self
            .unreadable
            .iter()
            .map(|(key, _)| match key {
                "unit" => "bargaining unit",
                "joined_from" => "joined on or after",
                "joined_to" => "joined on or before",
                other => other,
            })
            .collect();
        (!what.is_empty()).then(|| {
            format!(
                "Ignored what could not be read: {}. Choose from the lists and enter dates as YYYY-MM-DD.",
                what.join(", ")
            )
        })
    }
}

impl ListQuery {
    /// The query without the page position: `q=…&status=…` (empty values left out).
    #[must_use]
    pub fn filters(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", self.q.as_str()),
            ("status", self.status.as_str()),
            ("employer", self.employer.as_str()),
            ("worksite", self.worksite.as_str()),
            ("unit", self.unit.as_str()),
            ("joined_from", self.joined_from.as_str()),
            ("joined_to", self.joined_to.as_str()),
            ("sort", self.sort.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

/// A member's line in the list, with names for their references.
pub struct Row {
    pub member: Member,
    pub status: String,
    pub employer: String,
    pub worksite: String,
}

/// One choice of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Choices for a select: the directory's rows, with the current value marked.
fn choices<'a>(rows: impl Iterator<Item = (Uuid, &'a str)>, current: &str) -> Vec<Choice> {
    rows.map(|(pid, name)| Choice {
        value: pid.to_string(),
        label: name.to_string(),
        selected: pid.to_string() == current.trim(),
    })
    .collect()
}

/// The selects a form or filter offers, from the local's directory.
pub struct Options {
    pub statuses: Vec<Choice>,
    pub employers: Vec<Choice>,
    /// Worksites labelled with their employer.
    pub worksites: Vec<Choice>,
    pub units: Vec<Choice>,
}

impl Options {
    #[must_use]
    pub fn new(d: &Directory, status: &str, employer: &str, worksite: &str, unit: &str) -> Self {
        Self {
            statuses: choices(d.statuses.iter().map(|s| (s.pid, s.name.as_str())), status),
            employers: choices(
                d.employers.iter().map(|e| (e.pid, e.name.as_str())),
                employer,
            ),
            worksites: d
                .worksites
                .iter()
                .map(|w| Choice {
                    value: w.pid.to_string(),
                    label: format!("{} ({})", w.name, d.employer(Some(w.employer_id))),
                    selected: w.pid.to_string() == worksite.trim(),
                })
                .collect(),
            units: choices(d.units.iter().map(|u| (u.pid, u.name.as_str())), unit),
        }
    }
}

#[derive(Template)]
#[template(path = "members/index.html")]
pub struct Index {
    pub layout: Layout,
    pub slug: String,
    pub query: ListQuery,
    pub options: Options,
    pub sorts: Vec<Choice>,
    pub rows: Vec<Row>,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    /// The query string of the first page (when not on it).
    pub first: Option<String>,
    pub total: Total,
    pub filtered: bool,
    /// A filter value could not be read: shown, and ignored.
    pub notice: Option<String>,
    pub can_write: bool,
    pub can_delete: bool,
    /// The bulk-change form as it was sent, when it was refused.
    pub bulk: BulkForm,
}

/// The list's bulk-change form: its choices, and after a refusal what the
/// person chose and selected with a message per field, so nothing is lost.
pub struct BulkForm {
    pub options: Options,
    /// Pids of the members ticked.
    pub selected: Vec<String>,
    pub errors: Errors,
}

/// A bulk change as sent, when it was refused.
#[derive(Debug, Clone, Default)]
pub struct BulkSent {
    pub status: String,
    pub worksite: String,
    pub bargaining_unit: String,
    pub selected: Vec<String>,
    pub errors: Errors,
}

impl BulkForm {
    /// The form blank, or as it was sent.
    #[must_use]
    pub fn new(d: &Directory, sent: Option<BulkSent>) -> Self {
        let sent = sent.unwrap_or_default();
        Self {
            options: Options::new(d, &sent.status, "", &sent.worksite, &sent.bargaining_unit),
            selected: sent.selected,
            errors: sent.errors,
        }
    }

    /// Where the message for `field` points.
    #[must_use]
    pub fn anchor(&self, field: &str) -> &'static str {
        match field {
            "member" => "bulk-members",
            "worksite" => "bulk-worksite",
            "bargaining_unit" => "bulk-unit",
            _ => "bulk-status",
        }
    }

    #[must_use]
    pub fn is_selected(&self, pid: &Uuid) -> bool {
        let pid = pid.to_string();
        self.selected.iter().any(|s| s.trim() == pid)
    }
}

#[derive(Template)]
#[template(path = "members/archived.html")]
pub struct Archived {
    pub layout: Layout,
    pub slug: String,
    pub q: String,
    pub rows: Vec<Row>,
    pub next: Option<String>,
    pub total: Total,
}

#[derive(Template)]
#[template(path = "members/show.html")]
pub struct Show {
    pub layout: Layout,
    pub slug: String,
    pub member: Member,
    pub status: String,
    pub employer: String,
    pub worksite: String,
    pub unit: String,
    pub history: Vec<StatusChange>,
    pub audit: Vec<Event>,
    pub can_write: bool,
    pub can_delete: bool,
    pub can_link: bool,
}

/// The member form as typed: everything a string, so it re-renders as entered.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemberForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub employee_number: String,
    pub employer: String,
    pub worksite: String,
    pub bargaining_unit: String,
    pub status: String,
    pub join_date: String,
}

impl MemberForm {
    #[must_use]
    pub fn of(m: &Member, d: &Directory) -> Self {
        let pid = |found: Option<Uuid>| found.map(|p| p.to_string()).unwrap_or_default();
        Self {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            email: m.email.clone().unwrap_or_default(),
            phone: m.phone.clone().unwrap_or_default(),
            address: m.address.clone().unwrap_or_default(),
            employee_number: m.employee_number.clone().unwrap_or_default(),
            employer: pid(d
                .employers
                .iter()
                .find(|e| Some(e.id) == m.employer_id)
                .map(|e| e.pid)),
            worksite: pid(d
                .worksites
                .iter()
                .find(|w| Some(w.id) == m.worksite_id)
                .map(|w| w.pid)),
            bargaining_unit: pid(d
                .units
                .iter()
                .find(|u| Some(u.id) == m.bargaining_unit_id)
                .map(|u| u.pid)),
            status: pid(d
                .statuses
                .iter()
                .find(|s| s.id == m.status_id)
                .map(|s| s.pid)),
            join_date: m.join_date.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

fn optional<T>(
    errors: &mut FieldErrors,
    field: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    if raw.trim().is_empty() {
        None
    } else {
        errors.take(field, parse(raw))
    }
}

fn reference(errors: &mut FieldErrors, field: &'static str, raw: &str) -> Option<Uuid> {
    optional(errors, field, raw, |r| {
        Uuid::parse_str(r.trim()).map_err(|_| "Choose one of the list.".to_string())
    })
}

impl MemberForm {
    /// The member the form describes, phone numbers typed without a
    /// country code read in `phone_country` (the local's).
    ///
    /// # Errors
    /// A message per field.
    pub fn read(&self, phone_country: &str) -> Result<NewMember, FieldErrors> {
        let form = self;
        let mut errors = FieldErrors::new();
        let first_name = errors.take("first_name", MemberName::parse(&form.first_name));
        let last_name = errors.take("last_name", MemberName::parse(&form.last_name));
        let email = optional(&mut errors, "email", &form.email, Email::parse);
        let phone = optional(&mut errors, "phone", &form.phone, |r| {
            Phone::parse(r, phone_country)
        });
        let address = errors
            .take("address", Address::parse_optional(&form.address))
            .flatten();
        let employee_number = optional(
            &mut errors,
            "employee_number",
            &form.employee_number,
            EmployeeNumber::parse,
        );
        let employer = reference(&mut errors, "employer", &form.employer);
        let worksite = reference(&mut errors, "worksite", &form.worksite);
        let bargaining_unit = reference(&mut errors, "bargaining_unit", &form.bargaining_unit);
        let status = reference(&mut errors, "status", &form.status);
        let join_date = errors
            .take("join_date", parse_optional_date(&form.join_date))
            .flatten();
        match (first_name, last_name) {
            (Some(first_name), Some(last_name)) if errors.is_empty() => Ok(NewMember {
                first_name,
                last_name,
                email,
                phone,
                address,
                employee_number,
                employer,
                worksite,
                bargaining_unit,
                status,
                join_date,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "members/form.html")]
pub struct Form {
    pub layout: Layout,
    pub slug: String,
    pub heading: String,
    pub action: String,
    pub cancel: String,
    pub form: MemberForm,
    pub options: Options,
    pub errors: Errors,
}
