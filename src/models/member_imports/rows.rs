//! A row of the file as a member: the fields columns map to, parsing a row,
//! and what a row or a member is matched on as a duplicate.
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    date::parse_date, Address, Email, EmployeeNumber, FieldErrors, MemberName, Phone,
};
use crate::models::{
    _entities::members as member_rows, import_structure::same_name, members::NewMember,
    structure::Directory,
};

/// A member field a column can fill: key, label, header names it is guessed from.
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    aliases: &'static [&'static str],
}

pub const FIELDS: [Field; 11] = [
    Field {
        key: "first_name",
        label: "First name",
        aliases: &["firstname", "first", "givenname", "forename", "prenom"],
    },
    Field {
        key: "last_name",
        label: "Last name",
        aliases: &["lastname", "last", "surname", "familyname", "nom"],
    },
    Field {
        key: "email",
        label: "Email",
        aliases: &["email", "emailaddress", "mail", "courriel"],
    },
    Field {
        key: "phone",
        label: "Phone",
        aliases: &[
            "phone",
            "phonenumber",
            "mobile",
            "cell",
            "cellphone",
            "telephone",
            "tel",
        ],
    },
    Field {
        key: "address",
        label: "Address",
        aliases: &["address", "homeaddress", "mailingaddress", "streetaddress"],
    },
    Field {
        key: "employee_number",
        label: "Employee number",
        aliases: &[
            "employeenumber",
            "employeeno",
            "employeeid",
            "empno",
            "empid",
            "badge",
            "payrollnumber",
            "staffnumber",
        ],
    },
    Field {
        key: "employer",
        label: "Employer",
        aliases: &["employer", "company", "employername"],
    },
    Field {
        key: "worksite",
        label: "Worksite",
        aliases: &["worksite", "site", "location", "workplace", "worklocation"],
    },
    Field {
        key: "bargaining_unit",
        label: "Bargaining unit",
        aliases: &["bargainingunit", "unit", "bu"],
    },
    Field {
        key: "status",
        label: "Status",
        aliases: &["status", "membershipstatus", "memberstatus"],
    },
    Field {
        key: "join_date",
        label: "Join date",
        aliases: &[
            "joindate",
            "joined",
            "datejoined",
            "memberSince",
            "membersince",
            "startdate",
        ],
    },
];

/// Which column (0-based) fills which field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping(pub BTreeMap<String, usize>);

impl Mapping {
    #[must_use]
    pub fn column(&self, field: &str) -> Option<usize> {
        self.0.get(field).copied()
    }

    /// Guessed from the headers: case, spaces and punctuation do not matter.
    #[must_use]
    pub fn guess(headers: &[String]) -> Self {
        let norm = |h: &str| {
            h.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        };
        let mut mapping = BTreeMap::new();
        for field in &FIELDS {
            let found = headers.iter().position(|h| {
                let h = norm(h);
                h == norm(field.key) || field.aliases.iter().any(|a| norm(a) == h)
            });
            if let Some(column) = found {
                mapping.insert(field.key.to_string(), column);
            }
        }
        // "Name" alone: nothing to split reliably, so it is left for the admin to map.
        Self(mapping)
    }

    /// The mapping's problems for these headers.
    #[must_use]
    pub fn check(&self, headers: usize) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for field in &FIELDS {
            if self.column(field.key).is_some_and(|c| c >= headers) {
                errors.add(field.key, "Choose one of the file's columns.");
            }
        }
        for (key, label) in [("first_name", "first names"), ("last_name", "last names")] {
            if self.column(key).is_none() {
                errors.add(key, format!("Choose the column with the members' {label}."));
            }
        }
        let mut seen = HashMap::new();
        for field in &FIELDS {
            if let Some(c) = self.column(field.key) {
                if let Some(other) = seen.insert(c, field.label) {
                    errors.add(
                        field.key,
                        format!("This column is already mapped to {other}."),
                    );
                }
            }
        }
        errors
    }
}

/// What to do with a row that matches a member already on the roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    #[default]
    Skip,
    Update,
}

impl OnDuplicate {
    #[must_use]
    pub fn parse(raw: &str) -> Self {
        if raw == "update" {
            Self::Update
        } else {
            Self::Skip
        }
    }

    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::Update => "update",
        }
    }
}

pub(super) fn opt(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|r| !r.is_empty())
}

/// A member read from a row, with names of the local's structure resolved.
pub(super) fn parse_row(
    row: &[String],
    mapping: &Mapping,
    directory: &Directory,
    phone_country: &str,
) -> std::result::Result<NewMember, String> {
    let get = |key: &str| {
        mapping
            .column(key)
            .and_then(|c| row.get(c))
            .map(String::as_str)
            .unwrap_or_default()
    };
    let mut errors = FieldErrors::new();
    let first_name = errors.take("first_name", MemberName::parse(get("first_name")));
    let last_name = errors.take("last_name", MemberName::parse(get("last_name")));
    let email = opt(get("email")).and_then(|r| errors.take("email", Email::parse(r)));
    let phone =
        opt(get("phone")).and_then(|r| errors.take("phone", Phone::parse(r, phone_country)));
    let employee_number = opt(get("employee_number"))
        .and_then(|r| errors.take("employee_number", EmployeeNumber::parse(r)));
    let join_date = opt(get("join_date")).and_then(|r| errors.take("join_date", parse_date(r)));
    fn by_name<'a>(name: &str, mut names: impl Iterator<Item = (Uuid, &'a str)>) -> Option<Uuid> {
        names.find(|(_, n)| same_name(n, name)).map(|(pid, _)| pid)
    }
    let employer = opt(get("employer")).and_then(|name| {
        let found = by_name(
            name,
            directory.employers.iter().map(|e| (e.pid, e.name.as_str())),
        );
        if found.is_none() {
            errors.add("employer", format!("Unknown employer \"{name}\"."));
        }
        found
    });
    let employer_id = employer.and_then(|pid| {
        directory
            .employers
            .iter()
            .find(|e| e.pid == pid)
            .map(|e| e.id)
    });
    let worksite = opt(get("worksite")).and_then(|name| {
        // A worksite name is looked up at the row's employer when it has one.
        let found = by_name(
            name,
            directory
                .worksites
                .iter()
                .filter(|w| employer_id.is_none_or(|e| e == w.employer_id))
                .map(|w| (w.pid, w.name.as_str())),
        );
        if found.is_none() {
            errors.add("worksite", format!("Unknown worksite \"{name}\"."));
        }
        found
    });
    let bargaining_unit = opt(get("bargaining_unit")).and_then(|name| {
        let found = by_name(
            name,
            directory.units.iter().map(|u| (u.pid, u.name.as_str())),
        );
        if found.is_none() {
            errors.add(
                "bargaining_unit",
                format!("Unknown bargaining unit \"{name}\"."),
            );
        }
        found
    });
    let status = opt(get("status")).and_then(|name| {
        let found = by_name(
            name,
            directory.statuses.iter().map(|s| (s.pid, s.name.as_str())),
        );
        if found.is_none() {
            errors.add("status", format!("Unknown status \"{name}\"."));
        }
        found
    });
    let address = opt(get("address")).and_then(|r| errors.take("address", Address::parse(r)));
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
        _ => Err(describe(&errors)),
    }
}

pub(super) fn describe(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| {
            let label = FIELDS
                .iter()
                .find(|f| f.key == field)
                .map_or(field, |f| f.label);
            format!("{label}: {message}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a member or a row matches on: employee number (any case), email,
/// or name (any case) + phone.
pub(super) struct Keys {
    pub(super) number: Option<String>,
    pub(super) email: Option<String>,
    pub(super) name_phone: Option<(String, String, String)>,
}

impl Keys {
    pub(super) fn of(
        number: Option<&str>,
        email: Option<&str>,
        (first, last): (&str, &str),
        phone: Option<&str>,
    ) -> Self {
        Self {
            number: number.map(str::to_lowercase),
            email: email.map(str::to_string),
            name_phone: phone.map(|p| (first.to_lowercase(), last.to_lowercase(), p.to_string())),
        }
    }

    pub(super) fn of_member(m: &member_rows::Model) -> Self {
        Self::of(
            m.employee_number.as_deref(),
            m.email.as_deref(),
            (&m.first_name, &m.last_name),
            m.phone.as_deref(),
        )
    }

    pub(super) fn of_row(new: &NewMember) -> Self {
        Self::of(
            new.employee_number.as_ref().map(|n| n.as_str()),
            new.email.as_ref().map(|e| e.as_str()),
            (new.first_name.as_str(), new.last_name.as_str()),
            new.phone.as_ref().map(|p| p.as_str()),
        )
    }
}

/// Members or rows by what they match on.
#[derive(Default)]
pub(super) struct Known {
    pub(super) by_number: HashMap<String, usize>,
    pub(super) by_email: HashMap<String, usize>,
    pub(super) by_name_phone: HashMap<(String, String, String), usize>,
}

impl Known {
    pub(super) fn add(&mut self, keys: Keys, index: usize) {
        if let Some(n) = keys.number {
            self.by_number.insert(n, index);
        }
        if let Some(e) = keys.email {
            self.by_email.insert(e, index);
        }
        if let Some(np) = keys.name_phone {
            self.by_name_phone.insert(np, index);
        }
    }

    pub(super) fn find(&self, new: &NewMember) -> Option<usize> {
        let keys = Keys::of_row(new);
        keys.number
            .and_then(|n| self.by_number.get(&n))
            .or_else(|| keys.email.and_then(|e| self.by_email.get(&e)))
            .or_else(|| keys.name_phone.and_then(|np| self.by_name_phone.get(&np)))
            .copied()
    }
}

/// An update from a row keeps what the row leaves empty.
pub(super) fn merge(old: &member_rows::Model, new: NewMember, directory: &Directory) -> NewMember {
    let pid_of = |id: Option<i32>, rows: Vec<(i32, Uuid)>| {
        id.and_then(|id| rows.into_iter().find(|(i, _)| *i == id).map(|(_, p)| p))
    };
    NewMember {
        email: new
            .email
            .or_else(|| old.email.as_deref().and_then(|e| Email::parse(e).ok())),
        phone: new
            .phone
            .or_else(|| old.phone.clone().map(Phone::from_stored)),
        address: new
            .address
            .or_else(|| old.address.clone().map(Address::from_stored)),
        employee_number: new.employee_number.or_else(|| {
            old.employee_number
                .as_deref()
                .and_then(|n| EmployeeNumber::parse(n).ok())
        }),
        employer: new.employer.or_else(|| {
            if new.worksite.is_some() {
                None
            } else {
                pid_of(
                    old.employer_id,
                    directory.employers.iter().map(|e| (e.id, e.pid)).collect(),
                )
            }
        }),
        worksite: new.worksite.or_else(|| {
            if new.employer.is_some() {
                None
            } else {
                pid_of(
                    old.worksite_id,
                    directory.worksites.iter().map(|w| (w.id, w.pid)).collect(),
                )
            }
        }),
        bargaining_unit: new.bargaining_unit.or_else(|| {
            pid_of(
                old.bargaining_unit_id,
                directory.units.iter().map(|u| (u.id, u.pid)).collect(),
            )
        }),
        status: new.status.or_else(|| {
            directory
                .statuses
                .iter()
                .find(|s| s.id == old.status_id)
                .map(|s| s.pid)
        }),
        join_date: new.join_date.or(old.join_date),
        ..new
    }
}
