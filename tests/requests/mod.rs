mod accounts;
mod cross_tenant;
mod invitations;
mod locals;
mod permissions;
mod roles;
mod security;
mod users;
