//! `ryoritsu`: the server and its command line.

use std::process::ExitCode;

// mimalloc instead of the C library's allocator: glibc's keeps freed memory in per-thread
// arenas (the server's memory grew with every busy thread) and takes an arena lock that
// request threads contend for; mimalloc frees to the thread that allocated without a lock
// and returns unused pages to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ryoritsu::cli::main()
}
