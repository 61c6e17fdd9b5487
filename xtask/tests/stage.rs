//! Every layout puts each kind of file where it belongs (with stand-in binaries: no
//! build needed).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn fake_bins(dir: &Path) {
    for (name, _) in xtask::tools() {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\necho {name}\n")).expect("cannot write a binary");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

#[test]
fn debian_layout_has_gzipped_pages_completions_and_docs() {
    let bins = tempfile::tempdir().expect("cannot create a temporary directory");
    let root = tempfile::tempdir().expect("cannot create a temporary directory");
    fake_bins(bins.path());
    let written = xtask::stage(&xtask::DEBIAN, bins.path(), root.path()).expect("stage failed");
    let r = root.path();
    for (name, _) in xtask::tools() {
        let bin = r.join("usr/bin").join(name);
        assert_eq!(
            fs::metadata(&bin)
                .expect("a binary is missing")
                .permissions()
                .mode()
                & 0o111,
            0o111
        );
        assert!(r.join(format!("usr/share/man/man1/{name}.1.gz")).exists());
        assert!(!r.join(format!("usr/share/man/man1/{name}.1")).exists());
        assert!(r
            .join(format!("usr/share/bash-completion/completions/{name}"))
            .exists());
        assert!(r
            .join(format!("usr/share/zsh/vendor-completions/_{name}"))
            .exists());
        assert!(r
            .join(format!("usr/share/fish/vendor_completions.d/{name}.fish"))
            .exists());
    }
    for file in xtask::DOC_FILES {
        assert!(
            r.join("usr/share/doc/nstools").join(file).exists(),
            "{file}"
        );
    }
    assert!(written.iter().all(|f| f.exists()));
    assert!(!r.join(".nstools-docs.tmp").exists(), "staging left behind");
}

#[test]
fn prefix_layout_has_no_docs_and_tarball_has_them_at_its_top() {
    let bins = tempfile::tempdir().expect("cannot create a temporary directory");
    fake_bins(bins.path());
    let prefix = tempfile::tempdir().expect("cannot create a temporary directory");
    xtask::stage(&xtask::PREFIX, bins.path(), prefix.path()).expect("stage failed");
    assert!(prefix.path().join("bin/nsrun").exists());
    assert!(prefix.path().join("share/man/man1/cgctl-limit.1").exists());
    assert!(!prefix.path().join("README.md").exists());
    let tarball = tempfile::tempdir().expect("cannot create a temporary directory");
    xtask::stage(&xtask::TARBALL, bins.path(), tarball.path()).expect("stage failed");
    for file in xtask::DOC_FILES {
        assert!(tarball.path().join(file).exists(), "{file}");
    }
}
