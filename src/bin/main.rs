use loco_rs::cli;
use migration::Migrator;
use unionhall::{app::App, workers::ProcessRole};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> loco_rs::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    ProcessRole::set(ProcessRole::from_args(&args));
    cli::main::<App, Migrator>().await
}
