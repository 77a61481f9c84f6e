//! `isx`: the single binary. A thin layer over the library crates: it parses
//! the command line and configuration, opens the store, and either serves or
//! runs one administrative command directly on the store.
//!
//! Exit codes: 0 success, 1 failure (the error is printed once, with its
//! causes), 2 bad usage (printed by clap).

mod args;
mod commands;
mod config;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let settings = match config::Settings::load(&cli.global) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    config::init_logging(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return report(&anyhow::Error::from(e)),
    };
    match runtime.block_on(commands::run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(e: &anyhow::Error) -> ExitCode {
    if output::is_broken_pipe(e) {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::FAILURE
}
