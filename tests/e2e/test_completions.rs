use crate::common::{TestEnv, do_bin, repo_root};

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
            assert!(generated.contains("COMPLETE="), "{shell}: {generated}");
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

/// `docs/man/` holds what `do man --dir` writes: one page per command (do.1, do-workflow.1,
/// do-workflow-create.1, …, which the pages name), without Markdown backticks, and with each
/// option's value in the synopsis. Regenerated like the completions.
#[test]
fn the_man_pages_in_the_repository_are_up_to_date() {
    let env = TestEnv::new();
    let generated = env.path("man");
    env.run(&["man", "--dir", generated.to_str().expect("utf-8")])
        .ok();
    let stored = repo_root().join("docs/man");
    if std::env::var_os("DO_UPDATE_COMPLETIONS").is_some() {
        let _ = std::fs::remove_dir_all(&stored);
        std::fs::create_dir_all(&stored).expect("docs/man");
        for entry in std::fs::read_dir(&generated).expect("pages") {
            let entry = entry.expect("page");
            std::fs::copy(entry.path(), stored.join(entry.file_name())).expect("copy page");
        }
    }
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let pages = names(&generated);
    for page in [
        "do.1",
        "do-workflow.1",
        "do-workflow-create.1",
        "do-agent-add.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "no {page} in {pages:?}");
    }
    assert!(!pages.iter().any(|p| p.contains("help")), "{pages:?}");
    assert_eq!(
        names(&stored),
        pages,
        "docs/man is stale; run with DO_UPDATE_COMPLETIONS=1"
    );
    for page in &pages {
        let text = std::fs::read_to_string(generated.join(page)).expect("page");
        assert!(!text.contains('`'), "{page} has a literal backtick");
        assert!(
            text.contains(r"[\-\-color <WHEN>]"),
            "{page}: no `--color <WHEN>` in its synopsis"
        );
        assert!(
            std::fs::read_to_string(stored.join(page)).unwrap_or_default() == text,
            "docs/man/{page} is stale; run with DO_UPDATE_COMPLETIONS=1"
        );
    }
    assert!(env.run(&["man"]).ok().contains(".TH do 1"));
}

/// The ids a TAB offers come from the running daemon: bash, with the script `do completions
/// bash` prints, completes `do workflow execution <TAB>` and `do workflow retry EXEC <TAB>`.
#[test]
fn bash_completes_execution_and_step_ids_from_the_daemon() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "zed", "--shell", "true"]).ok();
    let workflow = env.create(&serde_json::json!({
        "name": "tabbed",
        "steps": [{"id": "first", "agent": "zed", "task": "x"},
                  {"id": "second", "agent": "zed", "task": "y"}]
    }));
    let (_, status) = env.execute_wait(&workflow, &[]);
    let execution = status["executionId"].as_str().expect("id");
    let script = env.run(&["completions", "bash"]).ok().to_owned();
    let complete = |words: &[&str]| -> Vec<String> {
        let line = format!(
            "COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; \
             _clap_complete_do do \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1
        );
        let bin_dir = do_bin().parent().expect("bin dir").to_owned();
        let output = std::process::Command::new("bash")
            .args(["-c", &format!("{script}\n{line}")])
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("HOME", env.path("home"))
            .env("DO_DATA_DIR", env.path("data"))
            .env("DO_SOCKET", env.socket())
            .output()
            .expect("bash");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            // With nothing typed yet, the flags are offered too.
            .filter(|c| !c.starts_with('-'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(complete(&["do", "workflow", "execution", ""]), [execution]);
    assert_eq!(
        complete(&["do", "workflow", "show", "wf_"]),
        [workflow.as_str()]
    );
    assert_eq!(
        complete(&["do", "workflow", "retry", execution, ""]),
        ["first", "second"]
    );
    assert_eq!(complete(&["do", "agent", "show", "z"]), ["zed"]);
}

/// A TAB never starts a daemon: with none running, ids complete to nothing.
#[test]
fn completion_without_a_daemon_offers_nothing_and_starts_none() {
    let env = TestEnv::new();
    let output = env
        .command()
        .env("COMPLETE", "fish")
        .args(["--", "do", "workflow", "execution", "exec_"])
        .output()
        .expect("do");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    assert!(!env.socket().exists(), "a daemon was started");
}

/// `docs/cli.md` is what `do man --markdown` prints (regenerated like the completions).
#[test]
fn the_cli_reference_in_the_repository_is_up_to_date() {
    let env = TestEnv::new();
    let generated = env.run(&["man", "--markdown"]).ok().to_owned();
    for section in [
        "## `do workflow`",
        "### `do workflow execute`",
        "### `do agent add`",
    ] {
        assert!(generated.contains(section), "no {section}:\n{generated}");
    }
    let path = repo_root().join("docs/cli.md");
    if std::env::var_os("DO_UPDATE_COMPLETIONS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/cli.md");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "docs/cli.md is stale; run with DO_UPDATE_COMPLETIONS=1"
    );
}

/// With `completions/_dowf` on `fpath` (compinit autoloads it on the first TAB), the first TAB
/// of a fresh zsh completes. Drives an interactive zsh through zsh's own pty module; skipped
/// where zsh is not installed.
#[test]
fn zsh_completes_on_the_first_tab() {
    if std::process::Command::new("zsh")
        .args(["-fc", "true"])
        .output()
        .is_err()
    {
        eprintln!("zsh is not installed: zsh_completes_on_the_first_tab checks nothing");
        return;
    }
    let env = TestEnv::new();
    let fpath = env.path("fpath");
    std::fs::create_dir_all(&fpath).expect("fpath dir");
    let script = env
        .run(&["completions", "zsh", "--name", "dowf"])
        .ok()
        .to_owned();
    std::fs::write(fpath.join("_dowf"), script).expect("_dowf");
    let bin_dir = do_bin().parent().expect("bin dir").to_owned();
    // `zpty -r` reads until the pattern matches: no sleeping, and `timeout` bounds the wait
    // for a TAB that completes nothing.
    let driver = format!(
        r#"zmodload zsh/zpty
zpty -b shell 'zsh -f -i'
zpty -w shell "PS1='> '; PATH='{bin}':\$PATH; fpath=('{fpath}' \$fpath); autoload -U compinit; compinit -u -D"
zpty -w -n shell $'dowf workflow valid\t'
zpty -r shell seen '*validate*' && print completed"#,
        bin = bin_dir.display(),
        fpath = fpath.display()
    );
    let output = std::process::Command::new("timeout")
        .args(["10", "zsh", "-fc", &driver])
        .env("HOME", env.path("home"))
        .env("DO_DATA_DIR", env.path("data"))
        .env("DO_SOCKET", env.socket())
        .env("TERM", "dumb")
        .output()
        .expect("zsh");
    assert!(
        String::from_utf8_lossy(&output.stdout).ends_with("completed\n"),
        "the first TAB completed nothing: {output:?}"
    );
}
