//! Every man page of every tool has the sections a reader looks for, names every
//! option's value in its synopsis, describes every argument, and shows each
//! subcommand's examples.

use std::fs;

const SECTIONS: [&str; 7] = [
    ".SH NAME",
    ".SH SYNOPSIS",
    ".SH DESCRIPTION",
    ".SH EXAMPLES",
    ".SH \"EXIT STATUS\"",
    ".SH FILES",
    ".SH \"SEE ALSO\"",
];

/// The headers of `.TP` entries that have no text under them.
fn empty_entries(page: &str) -> Vec<String> {
    let lines: Vec<&str> = page.lines().collect();
    lines
        .windows(3)
        .filter(|w| w[0] == ".TP" && (w[2].is_empty() || w[2].starts_with('.')))
        .map(|w| w[1].to_string())
        .collect()
}

#[test]
fn every_page_has_the_sections_and_no_extra_heading() {
    for (tool, cmd) in xtask::tools() {
        let pages = xtask::man::pages(tool, cmd);
        assert!(!pages.is_empty(), "{tool} has no pages");
        for page in pages {
            for section in SECTIONS {
                assert!(
                    page.text.contains(section),
                    "{} has no {section}",
                    page.file_name
                );
            }
            assert!(
                !page.text.contains(".SH EXTRA"),
                "{} has EXTRA",
                page.file_name
            );
            assert!(
                page.text.starts_with(".ie"),
                "{} is not roff",
                page.file_name
            );
        }
    }
}

#[test]
fn a_subcommand_page_shows_its_own_example_and_its_arguments_in_the_synopsis() {
    let (_, cmd) = xtask::tools()
        .into_iter()
        .find(|(t, _)| *t == "cgctl")
        .expect("cgctl is a tool");
    let page = xtask::man::pages("cgctl", cmd)
        .into_iter()
        .find(|p| p.file_name == "cgctl-limit.1")
        .expect("cgctl-limit.1 is rendered");
    let synopsis = page
        .text
        .lines()
        .skip_while(|l| *l != ".SH SYNOPSIS")
        .nth(1)
        .expect("a synopsis line");
    for part in [
        "\\fBcgctl limit\\fR",
        "\\fB\\-\\-cgroup\\fR \\fICGROUP\\fR",
        "\\fB\\-\\-period\\fR \\fIUS\\fR",
        "<\\fIRESOURCE\\fR> <\\fIVALUE\\fR> <\\fITARGET\\fR>...",
    ] {
        assert!(synopsis.contains(part), "{part} not in {synopsis}");
    }
    assert!(page.text.contains("cgctl limit mem 100M $PID"));
    assert!(
        page.text.contains("cgctl(1)"),
        "SEE ALSO names the tool's page"
    );
}

#[test]
fn every_tool_describes_every_argument() {
    for (tool, cmd) in xtask::tools() {
        assert_eq!(xtask::man::missing_help(tool, &cmd), Vec::<String>::new());
        for page in xtask::man::pages(tool, cmd.clone()) {
            assert_eq!(
                empty_entries(&page.text),
                Vec::<String>::new(),
                "{}",
                page.file_name
            );
        }
        // Every option that takes a value shows it in the synopsis.
        let page = xtask::man::pages(tool, cmd.clone()).remove(0);
        let mut cmd = cmd;
        cmd.build();
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let takes_values = arg.get_num_args().is_some_and(|n| n.takes_values());
            if let (true, Some(long), Some(names)) =
                (takes_values, arg.get_long(), arg.get_value_names())
            {
                let name = names[0].replace('-', "\\-");
                let long = long.replace('-', "\\-");
                assert!(
                    page.text.contains(&format!("\\-\\-{long}\\fR"))
                        && page.text.contains(&format!("\\fI{name}")),
                    "{tool}'s synopsis lacks --{long} {name}"
                );
            }
        }
    }
}

#[test]
fn every_subcommand_help_has_examples_and_its_page_shows_them() {
    for (tool, cmd) in xtask::tools() {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let help = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let examples = xtask::man::help_examples(&help);
            assert!(
                !examples.is_empty(),
                "{tool} {} --help has no examples",
                sub.get_name()
            );
            let page = xtask::man::pages(tool, cmd.clone())
                .into_iter()
                .find(|p| p.file_name == format!("{tool}-{}.1", sub.get_name()))
                .expect("the subcommand's page");
            for (_, line) in examples {
                // As roff writes them: '-' as \-, an apostrophe as \*(Aq.
                let escaped = line.replace('-', "\\-").replace('\'', "\\*(Aq");
                assert!(
                    page.text.contains(&escaped),
                    "{} lacks the example {line}",
                    page.file_name
                );
            }
        }
    }
}

#[test]
fn no_argument_is_left_undescribed_and_the_pages_are_written() {
    // `cargo xtask docs` fails on any: help texts cannot regress.
    assert_eq!(xtask::missing_help(), Vec::<String>::new());
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    xtask::generate(dir.path()).expect("generating the docs failed");
    for (tool, cmd) in xtask::tools() {
        for page in xtask::man::pages(tool, cmd) {
            let written = fs::read_to_string(dir.path().join("man1").join(&page.file_name))
                .expect("the page is written");
            assert_eq!(written, page.text);
        }
    }
}

#[test]
fn examples_of_a_help_text() {
    let help = "Notes.\n\nExamples:\n  cgctl ls box      the cgroups below box\n  cgctl which $$\n\nColumns:\n  PATH  the path";
    assert_eq!(
        xtask::man::help_examples(help),
        [
            (
                "the cgroups below box".to_string(),
                "cgctl ls box".to_string()
            ),
            (String::new(), "cgctl which $$".to_string()),
        ]
    );
}
