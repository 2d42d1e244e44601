mod accounts;
mod row_level_security;
mod tenancy;
