use crate::exit::SUCCESS;
use clap_complete::env::{EnvCompleter, Shells};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(Shells::builtins().names()))]
    shell: String,
    /// The program name to complete (`do` or `dowf`).
    #[arg(long, default_value = "do")]
    name: String,
}

/// Prints a completion script on stdout: `do completions bash > ~/.local/share/bash-completion/completions/do`.
///
/// The script calls `COMPLETE=SHELL NAME -- WORDS…` on every TAB, so completion always matches
/// this program's commands and knows the ids the daemon holds (see `complete.rs`).
pub(crate) fn cmd_completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let shells = Shells::builtins();
    let shell: &dyn EnvCompleter = shells
        .completer(&args.shell)
        .ok_or_else(|| anyhow::anyhow!("no completion support for the shell `{}`", args.shell))?;
    let mut script = Vec::new();
    shell.write_registration("COMPLETE", &args.name, &args.name, &args.name, &mut script)?;
    if args.shell == "zsh" {
        script = complete_on_first_tab(&String::from_utf8_lossy(&script), &args.name).into_bytes();
    }
    std::io::stdout().write_all(&script)?;
    Ok(SUCCESS)
}

/// zsh autoloads `_NAME` from `fpath` on the first TAB and runs it as the completer; clap's
/// script only registers its completer there (`compdef`), so that TAB completed nothing. Run
/// as `_NAME`, the script now completes too; sourced, it registers as before.
fn complete_on_first_tab(script: &str, name: &str) -> String {
    let completer = format!("_clap_dynamic_completer_{name}");
    script.replace(
        &format!("compdef {completer} {name}\n"),
        &format!(
            "if [ \"$funcstack[1]\" = \"_{name}\" ]; then\n    {completer} \"$@\"\nelse\n    \
             compdef {completer} {name}\nfi\n"
        ),
    )
}
