//! `ryoritsu`: the server and its command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    ryoritsu::cli::main()
}
