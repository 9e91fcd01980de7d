use crate::common::{TestEnv, repo_root};

/// The scripts in `completions/` are what `do completions SHELL` prints; regenerate them with
/// `DO_UPDATE_COMPLETIONS=1 cargo test --test e2e completions`.
#[test]
fn completions_in_the_repository_are_up_to_date() {
    let env = TestEnv::new();
    let update = std::env::var_os("DO_UPDATE_COMPLETIONS").is_some();
    for name in ["do", "dowf"] {
        for (shell, file) in [
            ("bash", format!("{name}.bash")),
            ("zsh", format!("_{name}")),
            ("fish", format!("{name}.fish")),
        ] {
            let generated = env
                .run(&["completions", shell, "--name", name])
                .ok()
                .to_owned();
            assert!(generated.contains("workflow"), "{shell}: {generated}");
            let path = repo_root().join("completions").join(&file);
            if update {
                std::fs::write(&path, &generated).expect("write completions");
            }
            let stored = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                stored == generated,
                "completions/{file} is stale; run with DO_UPDATE_COMPLETIONS=1"
            );
        }
    }
}

/// `docs/man/do.1` is what `do man` prints (regenerated like the completions).
#[test]
fn the_man_page_in_the_repository_is_up_to_date() {
    let env = TestEnv::new();
    let generated = env.run(&["man"]).ok().to_owned();
    assert!(
        generated.contains(".TH do") && generated.contains("workflow"),
        "{generated}"
    );
    let path = repo_root().join("docs/man/do.1");
    if std::env::var_os("DO_UPDATE_COMPLETIONS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("docs/man");
        std::fs::write(&path, &generated).expect("write man page");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "docs/man/do.1 is stale; run with DO_UPDATE_COMPLETIONS=1"
    );
}
