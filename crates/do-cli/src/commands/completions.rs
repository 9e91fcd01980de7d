use crate::cli::Cli;
use crate::exit::SUCCESS;
use clap::CommandFactory;
use clap_complete::env::{EnvCompleter, Shells};

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
    shell.write_registration(
        "COMPLETE",
        &args.name,
        &args.name,
        &args.name,
        &mut std::io::stdout(),
    )?;
    Ok(SUCCESS)
}

/// Prints the man page (roff) of `do` on stdout; `docs/man/do.1` holds it.
pub(crate) fn cmd_man() -> anyhow::Result<u8> {
    let page = clap_mangen::Man::new(Cli::command());
    page.render(&mut std::io::stdout())?;
    Ok(SUCCESS)
}
