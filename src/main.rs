//! The `aqueduct` command line.

mod cli;

fn main() {
    // A closed pipe (`aqueduct sweep ... | head`) ends the process quietly, as it ends other
    // Unix tools: Rust ignores SIGPIPE, so a write to the closed pipe fails and `println!`
    // panics. Restoring the default action is the one line that no crate wraps.
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::main());
}
