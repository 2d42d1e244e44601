//! Pure value types: raw strings from the edge become these once (STYLE.md 4).
pub mod address;
pub mod date;
pub mod email;
pub mod field_errors;
pub mod password;
pub mod permission;
pub mod phone;
pub mod slug;
pub mod text;
pub mod token;

pub use address::Address;
pub use email::Email;
pub use field_errors::FieldErrors;
pub use password::Password;
pub use permission::{Permission, PermissionSet};
pub use phone::Phone;
pub use slug::Slug;
pub use text::{EmployeeNumber, LocalName, MemberName, PersonName, RoleName, TokenName, UnitName};
pub use token::SecretToken;
