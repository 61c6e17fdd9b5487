//! `cgctl top` on screen: a table redrawn in place on a terminal (plain ANSI, the
//! screen restored on exit and on Ctrl-C), batches otherwise (as `systemd-cgtop -b`),
//! or one JSON document per iteration, one a line.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nscli::output::{Output, OutputError};

use crate::ctx::Ctx;
use crate::error::Result;
use crate::top::{self, Row, SortBy};
use crate::value::{human, OrMax};

/// `cgctl top`.
#[derive(Debug)]
pub struct TopRequest {
    pub cgroup: Option<String>,
    pub delay: Duration,
    /// Iterations; None: until interrupted.
    pub iterations: Option<u64>,
    pub sort: SortBy,
    pub depth: Option<usize>,
    pub json: bool,
}

/// Set by SIGINT/SIGTERM while the screen is taken over.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// The terminal taken over (alternate screen, cursor hidden) until dropped.
struct Screen;

impl Screen {
    fn take(out: &mut Output) -> Result<Screen> {
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::empty(),
            SigSet::empty(),
        );
        for sig in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: the handler only stores to an atomic.
            unsafe { sigaction(sig, &action) }
                .map_err(|e| crate::error::Error::sys("sigaction", e))?;
        }
        write!(out, "\x1b[?1049h\x1b[?25l").map_err(OutputError::from)?;
        Ok(Screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let mut o = std::io::stdout();
        let _ = o.write_all(b"\x1b[?25h\x1b[?1049l");
        let _ = o.flush();
    }
}

/// Sleeps `d`, or less if a signal comes (poll with no descriptors is interrupted).
fn pause(d: Duration) {
    let ms = i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    let timeout = nix::poll::PollTimeout::try_from(ms).unwrap_or(nix::poll::PollTimeout::MAX);
    let _ = nix::poll::poll(&mut [], timeout);
}

/// Runs `top` until its iterations are done or it is interrupted.
pub fn run(ctx: &Ctx, req: &TopRequest, out: &mut Output) -> Result<()> {
    let tops = crate::ops::locations(ctx, req.cgroup.as_deref(), &[])?;
    let width = nscli::term::stdout_width();
    let live = width.is_some() && req.iterations.is_none() && !req.json;
    let _screen = if live { Some(Screen::take(out)?) } else { None };
    let mut before = top::read(&ctx.layout, &tops, req.depth);
    let mut done = 0u64;
    while req.iterations.is_none_or(|n| done < n) && !STOP.load(Ordering::Relaxed) {
        pause(req.delay);
        if STOP.load(Ordering::Relaxed) {
            break;
        }
        let now = top::read(&ctx.layout, &tops, req.depth);
        let rows = top::rows(&before, &now, req.sort);
        done += 1;
        if req.json {
            let doc = serde_json::json!({
                "time": crate::events::now().0,
                "cgroups": rows,
            });
            let line = serde_json::to_string(&doc).map_err(OutputError::from)?;
            out.line(line)?;
        } else if live {
            let w = width.unwrap_or(80);
            let h = nscli::term::stdout_height().unwrap_or(24);
            write!(out, "\x1b[H\x1b[2J").map_err(OutputError::from)?;
            for line in render(&rows, w).into_iter().take(h.saturating_sub(1)) {
                write!(out, "{line}\r\n").map_err(OutputError::from)?;
            }
        } else {
            if done > 1 {
                out.line("")?;
            }
            for line in render(&rows, width.unwrap_or(usize::MAX)) {
                out.line(line)?;
            }
        }
        out.flush()?;
        before = now;
    }
    Ok(())
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

fn limit(v: Option<OrMax<u64>>) -> String {
    opt(v, |l| match l {
        OrMax::Max => "max".to_string(),
        OrMax::Value(b) => human(b),
    })
}

/// The table: a heading and a line per row, each cut to `width`. A UNIT column (the
/// systemd unit of each cgroup) comes before PATH when any row belongs to one.
pub fn render(rows: &[Row], width: usize) -> Vec<String> {
    let per_s = |b: f64| format!("{}/s", human(b.round() as u64));
    let unit_width = rows
        .iter()
        .filter_map(|r| r.unit.as_ref().map(|u| u.chars().count()))
        .max()
        .map(|w| w.max(4));
    let unit = |u: Option<&str>| match unit_width {
        Some(w) => format!("{:<w$}  ", u.unwrap_or("-")),
        None => String::new(),
    };
    let mut lines = vec![format!(
        "{:>5} {:>6} {:>10} {:>10} {:>10} {:>9} {:>11} {:>11} {:>11} {:>5} {:>5}  {}{}",
        "PROCS",
        "CPU%",
        "MEMORY",
        "LIMIT",
        "PEAK",
        "SWAP",
        "PIDS",
        "IO-READ",
        "IO-WRITE",
        "MPSI",
        "CPSI",
        unit(Some("UNIT")),
        "PATH"
    )];
    for r in rows {
        let pids = match (r.pids_current, r.pids_max) {
            (None, _) => "-".to_string(),
            (Some(c), m) => format!("{c}/{}", opt(m, |m| m.to_string())),
        };
        lines.push(format!(
            "{:>5} {:>6} {:>10} {:>10} {:>10} {:>9} {:>11} {:>11} {:>11} {:>5} {:>5}  {}{}",
            r.processes,
            opt(r.cpu_percent, |c| format!("{c:.1}")),
            opt(r.memory_current, human),
            limit(r.memory_limit),
            opt(r.memory_peak, human),
            opt(r.swap_current, human),
            pids,
            opt(r.io_read_bps, per_s),
            opt(r.io_write_bps, per_s),
            opt(r.memory_pressure, |p| format!("{p:.1}")),
            opt(r.cpu_pressure, |p| format!("{p:.1}")),
            unit(r.unit.as_deref()),
            r.path
        ));
    }
    lines
        .into_iter()
        .map(|l| nscli::term::cut(&l, width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_fit_the_width() {
        let row = top::row("/a/very/long/path", None, &top::Sample::default(), 1.0);
        let lines = render(&[row], 40);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        let lines = render(&[], usize::MAX);
        assert!(lines[0].contains("CPU%") && lines[0].ends_with("PATH"));
    }

    #[test]
    fn a_unit_column_only_where_a_row_has_a_unit() {
        let plain = top::row("/box", None, &top::Sample::default(), 1.0);
        assert!(!render(std::slice::from_ref(&plain), usize::MAX)[0].contains("UNIT"));
        let scope = top::Sample {
            unit: Some("cgctl-42.scope".to_string()),
            ..top::Sample::default()
        };
        let scoped = top::row("/cgctl-42.scope/sub", None, &scope, 1.0);
        let lines = render(&[scoped, plain], usize::MAX);
        assert!(lines[0].ends_with("UNIT            PATH"), "{lines:?}");
        assert!(
            lines[1].ends_with("cgctl-42.scope  /cgctl-42.scope/sub"),
            "{lines:?}"
        );
        assert!(lines[2].ends_with(" -               /box"), "{lines:?}");
    }
}
