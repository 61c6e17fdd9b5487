//! The man pages and completions of all four tools are generated, and say what the
//! tools' own --help says.

use std::fs;

#[test]
fn docs_cover_all_four_tools() {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let generated = xtask::generate(dir.path()).expect("generating the docs failed");
    for (name, cmd) in xtask::tools() {
        let page = dir.path().join("man1").join(format!("{name}.1"));
        let text = fs::read_to_string(&page).expect("the man page is missing");
        assert!(text.starts_with(".ie"), "{name}.1 is not roff: {text:.80}");
        assert!(
            text.contains(&format!(".TH {name} 1")),
            "{name}.1 has no title"
        );
        // Every long option of the tool appears in its page (roff escapes '-').
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                let escaped = long.replace('-', "\\-");
                assert!(
                    text.contains(&format!("\\-\\-{escaped}")),
                    "{name}.1 does not mention --{long}"
                );
            }
        }
        for sub in cmd.get_subcommands() {
            let sub_page = dir
                .path()
                .join("man1")
                .join(format!("{name}-{}.1", sub.get_name()));
            assert!(sub_page.exists(), "{} is missing", sub_page.display());
        }
        for (shell, _) in xtask::SHELLS {
            let file = dir
                .path()
                .join("completions")
                .join(shell.to_string())
                .join(xtask::completion_file(shell, name));
            let text = fs::read_to_string(&file).expect("a completion file is missing");
            assert!(
                text.contains(name),
                "{} does not name {name}",
                file.display()
            );
        }
    }
    assert!(generated.man_pages.iter().all(|p| p.exists()));
    assert_eq!(generated.completions.len(), 4 * 3);
}

#[test]
fn bash_completion_offers_subcommands_and_flags() {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    xtask::generate(dir.path()).expect("generating the docs failed");
    let bash = |tool: &str| {
        fs::read_to_string(dir.path().join("completions/bash").join(tool))
            .expect("a bash completion is missing")
    };
    assert!(bash("nsrun").contains("--mount-proc"));
    assert!(bash("nsinspect").contains("--all"));
    assert!(bash("cgctl").contains("limit"));
    assert!(bash("netns-bridge").contains("attach"));
}
