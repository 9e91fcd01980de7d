//! `do man`: the man pages (one per command: do(1), do-workflow(1), do-workflow-create(1), …)
//! and the Markdown CLI reference, made from the program's own help. `docs/man/` and
//! `docs/cli.md` hold them; a test keeps them current.

use crate::cli::Cli;
use crate::exit::SUCCESS;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// Print every command's `--help` as one Markdown page instead (docs/cli.md holds it).
    #[arg(long, conflicts_with = "dir")]
    markdown: bool,
    /// Write every command's page into DIR (do.1, do-workflow.1, do-workflow-create.1, …)
    /// instead of printing do(1).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the man page (roff) of `do` on stdout, writes every page with `--dir`, or prints the
/// Markdown CLI reference.
pub(crate) fn cmd_man(args: &ManArgs) -> anyhow::Result<u8> {
    if args.markdown {
        // A fixed width, so the page doesn't depend on the terminal it was made in.
        let mut command = Cli::command().term_width(100);
        command.build();
        let mut page = String::from(
            "# CLI reference\n\nGenerated from the program's own help by `do man --markdown`; a test \
             keeps it current.\n",
        );
        reference(&mut command, 2, &mut page);
        std::io::stdout().write_all(page.as_bytes())?;
        return Ok(SUCCESS);
    }
    let command = man_command();
    match &args.dir {
        Some(dir) => write_pages(&command, dir)?,
        None => page(command).render(&mut std::io::stdout().lock())?,
    }
    Ok(SUCCESS)
}

/// The command tree as the man pages show it: no `help` command, no Markdown backticks, and a
/// synopsis that names each option's value (`[--color <WHEN>]`).
fn man_command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    for_man(command)
}

fn for_man(mut command: clap::Command) -> clap::Command {
    let plain = |text: &clap::builder::StyledStr| text.to_string().replace('`', "");
    if let Some(text) = command.get_about().map(plain) {
        command = command.about(text);
    }
    if let Some(text) = command.get_long_about().map(plain) {
        command = command.long_about(text);
    }
    if let Some(text) = command.get_after_help().map(plain) {
        command = command.after_help(text);
    }
    if let Some(text) = command.get_after_long_help().map(plain) {
        command = command.after_long_help(text);
    }
    let synopsis = synopsis(&command);
    command = command.override_usage(synopsis);
    let ids: Vec<clap::Id> = command
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect();
    for id in ids {
        command = command.mut_arg(id, |mut arg| {
            if let Some(text) = arg.get_help().map(plain) {
                arg = arg.help(text);
            }
            if let Some(text) = arg.get_long_help().map(plain) {
                arg = arg.long_help(text);
            }
            arg
        });
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, for_man);
    }
    command
}

/// `do workflow logs [--last] … [--attempt <N>] … [EXECUTION] [STEP]`: every option with its
/// value, the positionals, and `<COMMAND>` when there are subcommands.
fn synopsis(command: &clap::Command) -> String {
    let mut words = vec![
        command
            .get_bin_name()
            .unwrap_or_else(|| command.get_name())
            .to_owned(),
    ];
    let options = command.get_arguments().filter(|a| !a.is_positional());
    let positionals = command.get_arguments().filter(|a| a.is_positional());
    for arg in options.chain(positionals).filter(|a| !a.is_hide_set()) {
        let value = arg
            .get_value_names()
            .map(|names| names.join(" "))
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
        let word = if arg.is_positional() {
            if arg.is_last_set() {
                format!("-- {value}…")
            } else {
                value
            }
        } else {
            let flag = match (arg.get_short(), arg.get_long()) {
                (Some(short), Some(long)) => format!("-{short}|--{long}"),
                (Some(short), None) => format!("-{short}"),
                (None, Some(long)) => format!("--{long}"),
                (None, None) => continue,
            };
            if takes_value {
                format!("{flag} <{value}>")
            } else {
                flag
            }
        };
        let required = arg.is_required_set();
        words.push(match (arg.is_positional(), required) {
            (true, true) => format!("<{word}>"),
            (false, true) => word,
            (_, false) => format!("[{word}]"),
        });
    }
    if command.has_subcommands() {
        words.push("<COMMAND>".to_owned());
    }
    words.join(" ")
}

/// A command's page; every page says it comes from `do VERSION`.
fn page(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command).source(format!("do {}", env!("CARGO_PKG_VERSION")))
}

/// Writes the page of `command` and of each command under it, named as clap_mangen names them
/// (`do-workflow-create.1`), which is how the pages refer to each other.
fn write_pages(command: &clap::Command, dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let man = page(command.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)?;
    std::fs::write(&path, page).with_context(|| format!("cannot write `{}`", path.display()))?;
    for sub in command.get_subcommands() {
        write_pages(sub, dir)?;
    }
    Ok(())
}

/// Appends a command's long help, then each subcommand's, as Markdown sections.
fn reference(command: &mut clap::Command, depth: usize, page: &mut String) {
    let name = command
        .get_bin_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned();
    let help = command.render_long_help().to_string();
    page.push_str(&format!(
        "\n{} `{name}`\n\n```text\n{}\n```\n",
        "#".repeat(depth.min(6)),
        help.trim_end()
    ));
    for sub in command.get_subcommands_mut() {
        if sub.get_name() != "help" {
            reference(sub, depth + 1, page);
        }
    }
}
