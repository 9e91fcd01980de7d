use crate::cli::Cli;
use crate::exit::SUCCESS;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    shell: Shell,
    /// The program name to complete (`do` or `dowf`).
    #[arg(long, default_value = "do")]
    name: String,
}

/// Prints a completion script on stdout: `do completions bash > ~/.local/share/bash-completion/completions/do`.
pub(crate) fn cmd_completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, &args.name, &mut std::io::stdout());
    Ok(SUCCESS)
}

/// Prints the man page (roff) of `do` on stdout; `docs/man/do.1` holds it.
pub(crate) fn cmd_man() -> anyhow::Result<u8> {
    let page = clap_mangen::Man::new(Cli::command());
    page.render(&mut std::io::stdout())?;
    Ok(SUCCESS)
}
