//! `do agent …`: the programs that run steps.

use crate::context::Context;
use crate::exit::{SUCCESS, UsageError};
use crate::render::{print_json, print_list, short_time};
use clap::{Args, Subcommand};
use do_core::model::{AgentKind, AgentSpec, SecretEnv};
use do_proto::{AddAgent, AgentData, ByName, Empty, Request};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Subcommand)]
pub(crate) enum AgentCommand {
    /// Register an agent: a program run with fixed arguments, or a shell script.
    ///
    /// The step's task text arrives on the agent's stdin and in DO_TASK, its inputs as JSON in
    /// DO_INPUT (and the file DO_INPUT_FILE); what it prints on stdout is the step's output
    /// (JSON when it parses), stderr is the step's log, exit status 0 means success. Task text
    /// is never put on the command line or into the script.
    #[command(after_help = "Examples:
  dowf agent add mira --shell 'echo \"research on: $DO_TASK\"'
  dowf agent add tom -- ./examples/agents/write-file.sh backend
  dowf agent add claude -- claude -p")]
    Add(AddArgs),
    /// List registered agents.
    List,
    /// Show one agent.
    Show(NameArgs),
    /// Remove an agent.
    Remove(NameArgs),
}

pub(crate) fn run(ctx: &Context, command: AgentCommand) -> anyhow::Result<u8> {
    match command {
        AgentCommand::Add(args) => cmd_add(ctx, args),
        AgentCommand::List => cmd_list(ctx),
        AgentCommand::Show(args) => cmd_show(ctx, &args),
        AgentCommand::Remove(args) => cmd_remove(ctx, &args),
    }
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The agent's name, as steps name it in `agent`.
    name: String,
    /// A script run by `sh -c`; it reads the task from stdin or $DO_TASK.
    #[arg(
        long,
        value_name = "SCRIPT",
        conflicts_with = "command",
        required_unless_present = "command"
    )]
    shell: Option<String>,
    /// Environment variables for the agent, `KEY=VALUE` (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// A secret variable for the agent (repeatable): KEY takes the value of the daemon's own
    /// KEY when a step starts, KEY=@FILE the content of FILE. Only the name and the file's path
    /// are stored, never the value, and agents that do not declare KEY do not inherit it.
    #[arg(long = "secret-env", value_name = "KEY[=@FILE]")]
    secret_env: Vec<String>,
    /// Working directory [default: the execution's workspace].
    #[arg(long, value_name = "DIR")]
    cwd: Option<std::path::PathBuf>,
    /// What the agent is for.
    #[arg(long)]
    description: Option<String>,
    /// Replace an existing agent of the same name.
    #[arg(long)]
    replace: bool,
    /// Most steps this agent runs at once, across all executions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: Option<u32>,
    /// The program and its arguments, after `--`; run without a shell.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn cmd_add(ctx: &Context, args: AddArgs) -> anyhow::Result<u8> {
    let (kind, command) = match args.shell {
        // `$0` names the agent in the shell's own error messages.
        Some(script) => (
            AgentKind::Shell,
            vec!["sh".to_owned(), "-c".to_owned(), script, args.name.clone()],
        ),
        None => (AgentKind::Command, resolve_program(args.command)?),
    };
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(UsageError(format!("--env `{pair}` must look like KEY=VALUE")).into());
        };
        env.insert(key.to_owned(), value.to_owned());
    }
    let secret_env = args
        .secret_env
        .iter()
        .map(|arg| secret_env(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = match args.cwd {
        Some(dir) => Some(
            std::path::absolute(&dir)
                .map_err(|e| UsageError(format!("--cwd `{}`: {e}", dir.display())))?
                .display()
                .to_string(),
        ),
        None => None,
    };
    let spec = AgentSpec {
        name: args.name,
        kind,
        command,
        env,
        cwd,
        description: args.description,
        concurrency: args.concurrency,
        secret_env,
    };
    let agent: AgentData = ctx.client()?.call(Request::AddAgent(AddAgent {
        agent: spec,
        replace: args.replace,
    }))?;
    if ctx.json {
        print_json(&agent)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Added agent {} ({}).",
            agent.spec.name,
            describe(&agent.spec)
        )?;
    }
    Ok(SUCCESS)
}

/// `KEY` or `KEY=@FILE`; the file's path is made absolute, as the daemon reads it.
fn secret_env(arg: &str) -> Result<SecretEnv, UsageError> {
    let (name, file) = match arg.split_once('=') {
        None => (arg, None),
        Some((name, source)) => match source.strip_prefix('@') {
            Some(file) if !file.is_empty() => {
                let path = std::path::absolute(file)
                    .map_err(|e| UsageError(format!("--secret-env `{arg}`: {e}")))?;
                (name, Some(path.display().to_string()))
            }
            _ => {
                return Err(UsageError(format!(
                    "--secret-env `{name}=…`: give KEY (the daemon's own variable) or KEY=@FILE; \
                     a value on the command line would end up in shell history"
                )));
            }
        },
    };
    Ok(SecretEnv {
        name: name.to_owned(),
        file,
    })
}

/// A program given with a path is made absolute now: steps run in their own workspace, where
/// `./examples/…` would mean something else.
fn resolve_program(mut command: Vec<String>) -> anyhow::Result<Vec<String>> {
    let Some(program) = command.first_mut() else {
        return Err(UsageError(
            "give the agent a command after `--`, or a script with `--shell`".into(),
        )
        .into());
    };
    if program.contains('/') {
        let path = Path::new(program.as_str());
        if !path.exists() {
            return Err(UsageError(format!("agent program `{program}` does not exist")).into());
        }
        *program = std::path::absolute(path)
            .map_err(|e| UsageError(format!("cannot resolve `{program}`: {e}")))?
            .display()
            .to_string();
    } else if !on_path(program) {
        let _ = writeln!(
            std::io::stderr(),
            "warning: `{program}` is not on this shell's PATH; steps will fail unless the daemon's PATH has it"
        );
    }
    Ok(command)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn describe(spec: &AgentSpec) -> String {
    match spec.kind {
        AgentKind::Shell => format!("shell: {}", spec.command.get(2).map_or("", String::as_str)),
        AgentKind::Command => format!("command: {}", shell_words(&spec.command)),
    }
}

/// The argv as a person would type it (quoted where needed); for display only.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            if !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn cmd_list(ctx: &Context) -> anyhow::Result<u8> {
    let agents: Vec<AgentData> = ctx.client()?.call(Request::ListAgents(Empty {}))?;
    print_list(
        ctx,
        &agents,
        &format!(
            "No agents. Add one with `{}`.",
            crate::program::command("agent add NAME -- COMMAND…")
        ),
        &["NAME", "KIND", "RUNS", "DESCRIPTION"],
        |agent| {
            let runs = match agent.spec.kind {
                AgentKind::Shell => agent.spec.command.get(2).cloned().unwrap_or_default(),
                AgentKind::Command => shell_words(&agent.spec.command),
            };
            vec![
                agent.spec.name.clone(),
                agent.spec.kind.to_string(),
                runs,
                agent.spec.description.clone().unwrap_or_default(),
            ]
        },
    )
}

#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// The agent's name.
    #[arg(add = crate::complete::agent_names())]
    name: String,
}

fn cmd_show(ctx: &Context, args: &NameArgs) -> anyhow::Result<u8> {
    let agent: AgentData = ctx.client()?.call(Request::GetAgent(ByName {
        name: args.name.clone(),
    }))?;
    if ctx.json {
        print_json(&agent)?;
        return Ok(SUCCESS);
    }
    if ctx.quiet {
        writeln!(std::io::stdout(), "{}", agent.spec.name)?;
        return Ok(SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}  ({})", agent.spec.name, describe(&agent.spec))?;
    if let Some(description) = &agent.spec.description {
        writeln!(out, "description: {description}")?;
    }
    writeln!(
        out,
        "working directory: {}",
        agent
            .spec
            .cwd
            .as_deref()
            .unwrap_or("the execution's workspace")
    )?;
    for (key, value) in &agent.spec.env {
        writeln!(out, "env: {key}={value}")?;
    }
    for secret in &agent.spec.secret_env {
        match &secret.file {
            Some(file) => writeln!(out, "secret env: {} (from the file {file})", secret.name)?,
            None => writeln!(
                out,
                "secret env: {} (from the daemon's environment)",
                secret.name
            )?,
        }
    }
    writeln!(out, "added: {}", short_time(&agent.created_at))?;
    Ok(SUCCESS)
}

fn cmd_remove(ctx: &Context, args: &NameArgs) -> anyhow::Result<u8> {
    let answer: Value = ctx.client()?.call(Request::RemoveAgent(ByName {
        name: args.name.clone(),
    }))?;
    if ctx.json {
        print_json(&answer)?;
    } else if !ctx.quiet {
        writeln!(std::io::stdout(), "Removed agent {}.", args.name)?;
    }
    Ok(SUCCESS)
}
