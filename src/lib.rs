pub mod app;
pub mod controllers;
pub mod domain;
pub mod initializers;
pub mod mailers;
pub mod models;
pub mod tasks;
pub mod views;
