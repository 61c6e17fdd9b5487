#![no_main]

use clap::error::ErrorKind;
use clap::Parser;

use nsrun::cli::Cli;
use nsrun::error::EXIT_USAGE;

// No Rust runtime set-up (stack-guard probing through /proc/self/maps, SIGPIPE ignored):
// nsrun is short-lived and single-threaded, and every microsecond of start-up counts.
// std's argument and environment access still work (glibc passes them to init_array).
#[no_mangle]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    run()
}

fn run() -> std::ffi::c_int {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            // One line, like every other nsrun error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("nsrun: {first} (see 'nsrun --help')");
            return EXIT_USAGE;
        }
    };
    let result = cli.into_config().and_then(|cfg| nsrun::launch::run(&cfg));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nsrun: {e}");
            e.exit_code()
        }
    }
}
