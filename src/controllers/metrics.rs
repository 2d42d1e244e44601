//! `GET /metrics` in Prometheus' text format, for a scraper presenting
//! `METRICS_TOKEN` as a bearer token or a signed-in operator; 404 for
//! everyone else (the figures name routes, queues and job classes).
use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::get,
};
use loco_rs::prelude::{AppContext, Routes};
use sha2::{Digest, Sha256};

use super::{MaybeUser, WebError};
use crate::{initializers::metrics::handle, settings::Settings, workers::Jobs};

/// Whether the request may read the metrics.
fn allowed(
    ctx: &AppContext,
    headers: &HeaderMap,
    user: Option<&crate::models::users::Model>,
) -> bool {
    if user.is_some_and(|u| u.operator_since.is_some()) {
        return true;
    }
    let token = Settings::of(ctx).metrics_token;
    if token.trim().is_empty() {
        return false;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests compared, so the time taken says nothing about the token.
    Sha256::digest(presented.trim().as_bytes()) == Sha256::digest(token.trim().as_bytes())
}

/// Queue sizes and latency are read from the queue at each scrape (gauges
/// that every web process reports alike; aggregate them with `max`).
async fn render(
    State(ctx): State<AppContext>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if !allowed(&ctx, &headers, user.as_ref()) {
        return Err(WebError::NotFound);
    }
    let backend = Jobs::of(&ctx).backend().clone();
    match backend.queues().await {
        Ok(queues) => {
            // Only the app's own queues: labels stay bounded.
            for q in queues
                .into_iter()
                .filter(|q| crate::workers::Queue::parse(&q.name).is_some())
            {
                metrics::gauge!("jobs_queue_size", "queue" => q.name.clone()).set(q.size as f64);
                metrics::gauge!("jobs_queue_latency_seconds", "queue" => q.name).set(q.latency);
            }
            metrics::gauge!("jobs_queue_up").set(1.0);
        }
        Err(_) => metrics::gauge!("jobs_queue_up").set(0.0),
    }
    if let Ok(sets) = backend.set_sizes().await {
        for (set, size) in sets {
            metrics::gauge!("jobs_set_size", "set" => set.key()).set(size as f64);
        }
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response())
}

pub fn routes() -> Routes {
    Routes::new().add("/metrics", get(render))
}
