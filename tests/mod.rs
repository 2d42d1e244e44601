mod support;

mod models;
mod requests;
