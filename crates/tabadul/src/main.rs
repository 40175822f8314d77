//! `tabadul`: the command line of a tabadul node. It parses flags, loads the configuration,
//! opens the store, and hands each command to the node; the node decides and audits.

/// `println!` for the command's output: a reader that goes away (`tabadul ... | head`) ends
/// the command quietly instead of making it panic.
macro_rules! say {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

mod bench;
mod check;
mod cli;
mod commands;
mod config;
mod eval;
mod federate;
mod generate;
mod migrate;
mod output;
mod store;

use std::process::ExitCode;

/// mimalloc, as Meilisearch uses: a check allocates and frees many small strings (names,
/// explanations, JSON) on several threads, and glibc's allocator spent ~9% of a check in
/// malloc, free and the consolidation of its bins.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
