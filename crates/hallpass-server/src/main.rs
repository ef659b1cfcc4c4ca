//! The `hallpass` binary.

use std::process::ExitCode;

use clap::Parser;
use hallpass_server::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hallpass: {error:#}");
            ExitCode::FAILURE
        }
    }
}
