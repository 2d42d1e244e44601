//! `GET /metrics` in Prometheus' text format.
use axum::{http::header, response::IntoResponse, routing::get};
use loco_rs::prelude::Routes;

use crate::initializers::metrics::handle;

async fn render() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}

pub fn routes() -> Routes {
    Routes::new().add("/metrics", get(render))
}
