//! Man pages: one per tool and one per subcommand (`cgctl-limit.1`). clap_mangen renders
//! NAME, DESCRIPTION, the options and subcommands and VERSION from the clap definition;
//! the SYNOPSIS is ours (it names every option's value); the command's after-help goes
//! under NOTES (clap_mangen would call it "EXTRA"); EXAMPLES, EXIT STATUS, FILES and
//! SEE ALSO come from [`crate::pages`].

use clap::{Arg, ArgAction, Command};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;

use crate::pages::{self, ToolDocs};

/// One rendered page: its file name (`TOOL-SUB.1`) and its roff text.
pub struct Page {
    pub file_name: String,
    pub text: String,
}

/// Every page of `tool`: its own, then one per visible subcommand, depth first.
pub fn pages(tool: &str, cmd: Command) -> Vec<Page> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let docs = pages::docs(tool);
    let mut out = Vec::new();
    walk(&cmd, tool, &[], docs, &mut out);
    out
}

fn walk(cmd: &Command, tool: &str, path: &[&str], docs: Option<&ToolDocs>, out: &mut Vec<Page>) {
    let file_name = std::iter::once(tool)
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join("-");
    let text = render(cmd, tool, path, docs);
    out.push(Page {
        file_name: format!("{file_name}.1"),
        text,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut sub_path = path.to_vec();
        sub_path.push(sub.get_name());
        walk(sub, tool, &sub_path, docs, out);
    }
}

fn render(cmd: &Command, tool: &str, path: &[&str], docs: Option<&ToolDocs>) -> String {
    let page_name = std::iter::once(tool)
        .chain(path.iter().copied())
        .collect::<Vec<_>>()
        .join("-");
    let man = Man::new(cmd.clone())
        .title(page_name)
        .source(format!("{tool} {}", crate::VERSION));
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    roff.text(synopsis(cmd, tool, path));
    let mut tail = Roff::new();
    let notes = cmd.get_after_long_help().or_else(|| cmd.get_after_help());
    let notes = notes.map(|n| n.to_string()).unwrap_or_default();
    let blocks = note_blocks(&notes);
    if !blocks.is_empty() {
        tail.control("SH", ["NOTES"]);
        paragraphs(&mut tail, &blocks);
    }
    if let Some(docs) = docs {
        examples(&mut tail, cmd, docs, tool, path);
        tail.control("SH", ["EXIT STATUS"]);
        for (status, meaning) in docs.exit_status {
            tail.control("TP", []);
            tail.text([bold(*status)]);
            tail.text([roman(*meaning)]);
        }
        tail.control("SH", ["FILES"]);
        for (file, what) in docs.files {
            tail.control("TP", []);
            tail.text([italic(*file)]);
            tail.text([roman(*what)]);
        }
        tail.control("SH", ["SEE ALSO"]);
        let mut see_also: Vec<String> = Vec::new();
        if !path.is_empty() {
            see_also.push(format!("{tool}(1)"));
        }
        see_also.extend(docs.see_also.iter().map(|s| s.to_string()));
        tail.text([roman(see_also.join(", "))]);
    }

    let mut page = Vec::new();
    let section = |write: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = write(&mut buf);
        buf
    };
    let preamble = Roff::new().render();
    let parts = [
        section(&|w| man.render_title(w)),
        section(&|w| man.render_name_section(w)),
        section(&|w| roff.to_writer(w)),
        section(&|w| man.render_description_section(w)),
        section(&|w| {
            if cmd.get_arguments().any(|a| !a.is_hide_set()) {
                man.render_options_section(w)?;
            }
            if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
                man.render_subcommands_section(w)?;
            }
            Ok(())
        }),
        section(&|w| tail.to_writer(w)),
        section(&|w| {
            if cmd.get_version().is_some() {
                man.render_version_section(w)?;
            }
            Ok(())
        }),
    ];
    for (i, part) in parts.iter().enumerate() {
        let text = String::from_utf8_lossy(part);
        // Each part starts with roff's apostrophe preamble: keep the first only.
        let text = match i {
            0 => &text[..],
            _ => text.strip_prefix(preamble.as_str()).unwrap_or(&text),
        };
        page.push(text.to_string());
    }
    page.concat()
}

/// `tool sub [-s|--long=VALUE] [--opt VALUE]... <ARG> [ARG]...`
fn synopsis(cmd: &Command, tool: &str, path: &[&str]) -> Vec<Inline> {
    let mut line = vec![bold(
        std::iter::once(tool)
            .chain(path.iter().copied())
            .collect::<Vec<_>>()
            .join(" "),
    )];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if arg.is_positional() {
            continue;
        }
        line.push(roman(" ["));
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => format!("-{s}|--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        line.push(bold(flag));
        let takes_values = arg.get_num_args().is_some_and(|n| n.takes_values());
        if takes_values {
            let names = value_names(arg).join(" ");
            let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
            let sep = if arg.is_require_equals_set() {
                "="
            } else {
                " "
            };
            if optional {
                line.push(roman(format!("[{sep}")));
                line.push(italic(names));
                line.push(roman("]"));
            } else {
                line.push(roman(sep));
                line.push(italic(names));
            }
        }
        line.push(roman("]"));
        if matches!(arg.get_action(), ArgAction::Append | ArgAction::Count) {
            line.push(roman("..."));
        }
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let names = value_names(arg).join(" ");
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let (l, r) = if arg.is_required_set() {
            ("<", ">")
        } else {
            ("[", "]")
        };
        line.push(roman(format!(" {l}")));
        line.push(italic(names));
        line.push(roman(r));
        if many {
            line.push(roman("..."));
        }
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        line.push(roman(" "));
        line.push(italic("COMMAND"));
        line.push(roman(" ..."));
    }
    line
}

fn value_names(arg: &Arg) -> Vec<String> {
    match arg.get_value_names() {
        Some(names) => names.iter().map(|n| n.to_string()).collect(),
        None => vec![arg.get_id().as_str().to_uppercase()],
    }
}

/// The paragraphs (blank-line separated) of an after-help that go under NOTES: all but
/// "Examples:" and "Exit status:", which EXAMPLES and EXIT STATUS have.
fn note_blocks(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .filter(|b| !b.starts_with("Exit status") && !b.starts_with("Examples"))
        .filter(|b| !b.trim().is_empty())
        .collect()
}

/// Paragraphs of text; indented lines are kept as they are.
fn paragraphs(roff: &mut Roff, blocks: &[&str]) {
    for block in blocks {
        roff.control("PP", []);
        if block.lines().skip(1).any(|l| l.starts_with(' ')) {
            roff.control("nf", []);
            roff.text([roman(*block)]);
            roff.control("fi", []);
        } else {
            roff.text([roman(
                block.split_whitespace().collect::<Vec<_>>().join(" "),
            )]);
        }
    }
}

/// The page's examples: those of the command's own `--help` ("Examples:" in its
/// after-help), then the tool's from [`crate::pages`] that run it (on the tool's page,
/// all of them), each once; all of the tool's when there are none.
fn examples(roff: &mut Roff, cmd: &Command, docs: &ToolDocs, tool: &str, path: &[&str]) {
    let runs = |line: &str| {
        path.last().is_none_or(|sub| {
            line.split_whitespace()
                .skip_while(|w| *w != tool)
                .any(|w| w == *sub)
        })
    };
    let help = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut chosen: Vec<(String, String)> = help_examples(&help)
        .into_iter()
        .filter(|(_, l)| runs(l))
        .collect();
    for (what, line) in docs.examples.iter().filter(|(_, l)| runs(l)) {
        if !chosen.iter().any(|(_, l)| l == line) {
            chosen.push((what.to_string(), line.to_string()));
        }
    }
    if chosen.is_empty() {
        chosen = docs
            .examples
            .iter()
            .map(|(w, l)| (w.to_string(), l.to_string()))
            .collect();
    }
    roff.control("SH", ["EXAMPLES"]);
    for (what, line) in chosen {
        roff.control("PP", []);
        if !what.is_empty() {
            roff.text([roman(sentence(&what))]);
        }
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        roff.text([bold(line)]);
        roff.control("fi", []);
        roff.control("RE", []);
    }
}

/// `what` as a sentence: a capital first and a full stop last (a `--help` example says
/// "two cgroups", the page "Two cgroups.").
fn sentence(what: &str) -> String {
    let mut chars = what.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '?', '!', ':']) {
        out.push('.');
    }
    out
}

/// The examples of a `--help` epilogue: the lines of its "Examples:" paragraph, each a
/// command, then optionally two or more spaces and what it does. As (what, command).
pub fn help_examples(help: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in help.split("\n\n") {
        let mut lines = block.lines();
        if lines.next().map(str::trim_end) != Some("Examples:") {
            continue;
        }
        for line in lines {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (command, what) = line.split_once("  ").unwrap_or((line, ""));
            out.push((what.trim().to_string(), command.trim_end().to_string()));
        }
    }
    out
}

/// Every visible argument of `cmd` and its subcommands that has no help text, as
/// `tool sub --long` or `tool sub <VALUE>`: what the man pages would show empty.
pub fn missing_help(tool: &str, cmd: &Command) -> Vec<String> {
    fn walk(cmd: &Command, name: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                let shown = match arg.get_long() {
                    Some(long) => format!("--{long}"),
                    None => format!("<{}>", value_names(arg).join(" ")),
                };
                out.push(format!("{name} {shown}"));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, &format!("{name} {}", sub.get_name()), out);
        }
    }
    let mut cmd = cmd.clone().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, tool, &mut out);
    out
}
