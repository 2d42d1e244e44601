mod jobs;
mod processes;
