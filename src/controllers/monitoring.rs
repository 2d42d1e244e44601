//! Liveness and readiness for load balancers and Kubernetes. Readiness fails
//! when the database or (with the Redis backend) Redis is unreachable, and
//! says which.
use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json};
use loco_rs::prelude::{AppContext, Routes};
use serde::Serialize;

use crate::workers::Jobs;

#[derive(Serialize)]
struct Health {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
}

async fn alive() -> impl IntoResponse {
    Json(Health {
        ok: true,
        database: None,
        queue: None,
    })
}

async fn readiness(State(ctx): State<AppContext>) -> impl IntoResponse {
    let database = ctx.db.ping().await.err().map(|e| {
        tracing::error!(error = %e, "readiness: database unreachable");
        "unreachable".to_string()
    });
    let queue = Jobs::of(&ctx).backend().ping().await.err().map(|e| {
        tracing::error!(error = %e, "readiness: job queue unreachable");
        "unreachable".to_string()
    });
    let ok = database.is_none() && queue.is_none();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            ok,
            database,
            queue,
        }),
    )
}

pub fn routes() -> Routes {
    Routes::new()
        .add("/_ping", get(alive))
        .add("/_health", get(alive))
        .add("/_readiness", get(readiness))
}
