//! `do daemon …`: the only command that runs the daemon itself.

use crate::context::Context;
use crate::exit::{SUCCESS, UNREACHABLE};
use crate::render::print_json;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use do_proto::{Client, ClientError, DaemonStatusData, Empty, Request, Stop};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};

#[derive(Debug, Subcommand)]
pub(crate) enum DaemonCommand {
    /// Run the daemon in the foreground (logs on stderr; DO_LOG sets the level).
    Run(RunArgs),
    /// Start the daemon in the background (its log goes to DATA_DIR/daemon.log).
    Start,
    /// Stop the daemon: no new step starts, running steps finish, then it exits.
    Stop(StopArgs),
    /// Tell whether the daemon runs, and what it is doing.
    Status,
}

#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Don't wait: end running steps now (each runs again when the daemon next starts).
    #[arg(long)]
    now: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Steps running at once across all executions [default: number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_parallel: Option<u32>,
    /// Print `ready` on stdout once the socket listens (used by `daemon start`).
    #[arg(long, hide = true)]
    notify_ready: bool,
}

pub(crate) fn run(ctx: &Context, command: DaemonCommand) -> anyhow::Result<u8> {
    match command {
        DaemonCommand::Run(args) => cmd_run(ctx, &args),
        DaemonCommand::Start => cmd_start(ctx),
        DaemonCommand::Stop(args) => cmd_stop(ctx, &args),
        DaemonCommand::Status => cmd_status(ctx),
    }
}

fn cmd_run(ctx: &Context, args: &RunArgs) -> anyhow::Result<u8> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let mut config = do_daemon::Config::new(ctx.data_dir.clone(), ctx.socket.clone());
    crate::config::FileConfig::load(&ctx.config_file)?.apply(&mut config);
    if let Some(n) = args.max_parallel {
        config.max_parallel = n as usize;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let notify = args.notify_ready;
    runtime.block_on(do_daemon::run(config, move || {
        if notify {
            let mut out = std::io::stdout();
            let _ = writeln!(out, "ready");
            let _ = out.flush();
        }
    }))?;
    // Watch streams still open would keep the runtime waiting; the daemon is done.
    runtime.shutdown_background();
    Ok(SUCCESS)
}

fn cmd_start(ctx: &Context) -> anyhow::Result<u8> {
    if let Ok(mut client) = Client::connect(&ctx.socket) {
        let status: DaemonStatusData = client.call(Request::DaemonStatus(Empty {}))?;
        return report(ctx, "The daemon is already running", &status);
    }
    ctx.spawn_daemon()?;
    let status: DaemonStatusData =
        Client::connect(&ctx.socket)?.call(Request::DaemonStatus(Empty {}))?;
    report(ctx, "Started the daemon", &status)
}

fn report(ctx: &Context, what: &str, status: &DaemonStatusData) -> anyhow::Result<u8> {
    if ctx.json {
        print_json(status)?;
    } else {
        writeln!(
            std::io::stdout(),
            "{what} (pid {}, socket {}, log {}).",
            status.pid,
            status.socket,
            ctx.log_path().display()
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_stop(ctx: &Context, args: &StopArgs) -> anyhow::Result<u8> {
    let mut client = match Client::connect(&ctx.socket) {
        Ok(client) => client,
        Err(ClientError::Connect { .. }) => {
            if ctx.json {
                print_json(&json!({"running": false}))?;
            } else {
                writeln!(std::io::stdout(), "No daemon is running.")?;
            }
            return Ok(SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let status: DaemonStatusData = client.call(Request::DaemonStatus(Empty {}))?;
    if !args.now && status.running_steps > 0 && !ctx.json {
        writeln!(
            std::io::stderr(),
            "Waiting for {} running step(s) to finish (`--now` ends them).",
            status.running_steps
        )?;
    }
    let _: Value = client.call(Request::StopDaemon(Stop { now: args.now }))?;
    // The daemon closes every connection as it exits: waiting for that is waiting for it.
    client.wait_closed();
    if ctx.json {
        print_json(&json!({"running": false, "pid": status.pid}))?;
    } else {
        writeln!(
            std::io::stdout(),
            "Stopped the daemon (pid {}).",
            status.pid
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_status(ctx: &Context) -> anyhow::Result<u8> {
    let mut client = match Client::connect(&ctx.socket) {
        Ok(client) => client,
        Err(ClientError::Connect { .. }) => {
            if ctx.json {
                print_json(&json!({"running": false, "socket": ctx.socket}))?;
            } else {
                writeln!(
                    std::io::stdout(),
                    "No daemon is running (socket {}).",
                    ctx.socket.display()
                )?;
            }
            return Ok(UNREACHABLE);
        }
        Err(e) => return Err(e.into()),
    };
    let status: DaemonStatusData = client.call(Request::DaemonStatus(Empty {}))?;
    if ctx.json {
        print_json(&status)?;
        return Ok(SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "The daemon is running (pid {}, version {}).",
        status.pid, status.daemon_version
    )?;
    writeln!(out, "socket:     {}", status.socket)?;
    writeln!(out, "data dir:   {}", status.data_dir)?;
    writeln!(
        out,
        "started:    {}",
        crate::render::short_time(&status.started_at)
    )?;
    writeln!(
        out,
        "running:    {} execution(s), {} step(s) of at most {} at once",
        status.running_executions, status.running_steps, status.max_parallel
    )?;
    Ok(SUCCESS)
}
