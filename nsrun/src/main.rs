#![no_main]

use nscli::exit;

use nsrun::cli::Cli;

const TOOL: &str = "nsrun";

// No Rust runtime set-up (stack-guard probing through /proc/self/maps, SIGPIPE ignored):
// nsrun is short-lived and single-threaded, and every microsecond of start-up counts.
// std's argument and environment access still work (glibc passes them to init_array).
#[no_mangle]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = match Cli::parse_simple(&args) {
        Some(cli) => Ok(cli),
        None => nscli::args::parse_from::<Cli, _, _>(TOOL, args),
    };
    match parsed {
        Ok(cli) => exit::status(
            TOOL,
            cli.into_config().and_then(|cfg| nsrun::launch::run(&cfg)),
        ),
        Err(status) => status,
    }
}
