//! `GET /metrics` in Prometheus' text format.
use axum::{extract::State, http::header, response::IntoResponse, routing::get};
use loco_rs::prelude::{AppContext, Routes};

use crate::{initializers::metrics::handle, workers::Jobs};

/// Queue sizes and latency are read from the queue at each scrape (gauges
/// that every web process reports alike; aggregate them with `max`).
async fn render(State(ctx): State<AppContext>) -> impl IntoResponse {
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
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}

pub fn routes() -> Routes {
    Routes::new().add("/metrics", get(render))
}
