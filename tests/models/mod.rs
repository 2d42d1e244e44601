mod accounts;
mod members;
mod row_level_security;
mod tenancy;
