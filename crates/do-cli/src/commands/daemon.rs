//! `do daemon …`: the only command that runs the daemon itself.

use crate::context::{Context, DaemonOptions};
use crate::exit::{SUCCESS, UNREACHABLE};
use crate::render::print_json;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use do_proto::{ApiKey, ApiKeyData, Client, ClientError, DaemonStatusData, Empty, Request, Stop};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};

#[derive(Debug, Subcommand)]
pub(crate) enum DaemonCommand {
    /// Run the daemon in the foreground (logs on stderr; DO_LOG sets the level).
    Run(RunArgs),
    /// Start the daemon in the background (its log goes to DATA_DIR/daemon.log).
    Start(StartArgs),
    /// Stop the daemon: no new step starts, running steps finish, then it exits.
    Stop(StopArgs),
    /// Tell whether the daemon runs, and what it is doing.
    Status,
    /// Print the HTTP API's key (the daemon keeps it in DATA_DIR/api-key), creating it if
    /// there is none; starts the daemon if none runs.
    ApiKey(ApiKeyArgs),
    /// Write a systemd user unit that runs the daemon at login (`--print` only prints it).
    ///
    /// The unit goes to `~/.config/systemd/user/do.service`; then
    /// `systemctl --user daemon-reload && systemctl --user enable --now do` starts it.
    InstallService(InstallServiceArgs),
    /// Print the OpenAPI 3.1 document of the HTTP API (`docs/openapi.json`), generated from
    /// the daemon's types.
    Openapi,
}

#[derive(Debug, Args)]
pub(crate) struct InstallServiceArgs {
    /// Print the unit on stdout instead of writing it.
    #[arg(long)]
    print: bool,
}

/// `--max-parallel N`, for `daemon run` and `daemon start`.
#[derive(Debug, Args)]
pub(crate) struct MaxParallelArg {
    /// Steps running at once across all executions [default: number of CPUs; config:
    /// daemon.max_parallel].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_parallel: Option<u32>,
}

/// `--http [ADDR]`: serve the HTTP API (docs/http-api.md); without ADDR on 127.0.0.1:7878.
#[derive(Debug, Args)]
pub(crate) struct HttpArg {
    /// Also serve the HTTP API on ADDR [default ADDR: 127.0.0.1:7878; config: daemon.http].
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = do_daemon::DEFAULT_HTTP_ADDR
    )]
    http: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    max_parallel: MaxParallelArg,
    #[command(flatten)]
    http: HttpArg,
}

#[derive(Debug, Args)]
pub(crate) struct ApiKeyArgs {
    /// Replace the key with a new random one; the old one stops working at once.
    #[arg(long)]
    rotate: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Don't wait: end running steps now (each runs again when the daemon next starts).
    #[arg(long)]
    now: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    max_parallel: MaxParallelArg,
    /// Print `ready` on stdout once the socket listens (used by `daemon start`).
    #[arg(long, hide = true)]
    notify_ready: bool,
    #[command(flatten)]
    http: HttpArg,
}

pub(crate) fn run(ctx: &Context, command: DaemonCommand) -> anyhow::Result<u8> {
    match command {
        DaemonCommand::Run(args) => cmd_run(ctx, &args),
        DaemonCommand::Start(args) => cmd_start(ctx, &args),
        DaemonCommand::Stop(args) => cmd_stop(ctx, &args),
        DaemonCommand::Status => cmd_status(ctx),
        DaemonCommand::ApiKey(args) => cmd_api_key(ctx, &args),
        DaemonCommand::InstallService(args) => cmd_install_service(ctx, &args),
        DaemonCommand::Openapi => {
            crate::render::print_json(&do_daemon::openapi::document())?;
            Ok(SUCCESS)
        }
    }
}

fn cmd_run(ctx: &Context, args: &RunArgs) -> anyhow::Result<u8> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A log line that cannot be written is dropped and counted, never a panic or a wait.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(do_daemon::log_line)
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let mut config = do_daemon::Config::new(ctx.data_dir.clone(), ctx.socket.clone());
    crate::context::load_config(&ctx.config_file)?.apply(&mut config);
    if let Some(n) = args.max_parallel.max_parallel {
        config.max_parallel = n as usize;
    }
    if let Some(addr) = args.http.http {
        config.http = Some(addr);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let notify = args.notify_ready;
    let ran = runtime.block_on(do_daemon::run(config, move || {
        if notify {
            let mut out = std::io::stdout();
            let _ = writeln!(out, "ready");
            let _ = out.flush();
        }
    }));
    // Watch streams still open, or a scheduler thread after a failure, would keep the runtime
    // waiting; the daemon is done.
    runtime.shutdown_background();
    ran?;
    Ok(SUCCESS)
}

fn cmd_start(ctx: &Context, args: &StartArgs) -> anyhow::Result<u8> {
    if let Ok(mut client) = Client::connect(&ctx.socket) {
        let status: DaemonStatusData = client.call(Request::DaemonStatus(Empty {}))?;
        if args.http.http.is_some() && status.http.is_none() && !ctx.json {
            writeln!(
                std::io::stderr(),
                "The running daemon serves no HTTP API; `{}` then `{}` to have one.",
                crate::program::command("daemon stop"),
                crate::program::command("daemon start --http")
            )?;
        }
        return report(ctx, "The daemon is already running", &status);
    }
    ctx.spawn_daemon(&DaemonOptions {
        http: args.http.http,
        max_parallel: args.max_parallel.max_parallel,
    })?;
    let status: DaemonStatusData =
        Client::connect(&ctx.socket)?.call(Request::DaemonStatus(Empty {}))?;
    report(ctx, "Started the daemon", &status)
}

fn report(ctx: &Context, what: &str, status: &DaemonStatusData) -> anyhow::Result<u8> {
    if ctx.json {
        print_json(status)?;
    } else if !ctx.quiet {
        let http = match &status.http {
            Some(addr) => format!(", HTTP API on http://{addr}"),
            None => String::new(),
        };
        writeln!(
            std::io::stdout(),
            "{what} (pid {}, socket {}{http}, log {}).",
            status.pid,
            status.socket,
            ctx.log_path().display()
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_api_key(ctx: &Context, args: &ApiKeyArgs) -> anyhow::Result<u8> {
    let answer: ApiKeyData = ctx.client()?.call(Request::DaemonApiKey(ApiKey {
        rotate: args.rotate,
    }))?;
    if ctx.json {
        print_json(&answer)?;
    } else {
        writeln!(std::io::stdout(), "{}", answer.api_key)?;
    }
    Ok(SUCCESS)
}

fn cmd_stop(ctx: &Context, args: &StopArgs) -> anyhow::Result<u8> {
    let mut client = match Client::connect(&ctx.socket) {
        Ok(client) => client,
        Err(ClientError::Connect { .. }) => {
            if ctx.json {
                print_json(&json!({"running": false}))?;
            } else if !ctx.quiet {
                writeln!(std::io::stdout(), "No daemon is running.")?;
            }
            return Ok(SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let status: DaemonStatusData = client.call(Request::DaemonStatus(Empty {}))?;
    if !args.now && status.running_steps > 0 && !ctx.json && !ctx.quiet {
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
    } else if !ctx.quiet {
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
            } else if !ctx.quiet {
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
    if ctx.quiet {
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
    if let Some(addr) = &status.http {
        writeln!(out, "http:       http://{addr}")?;
    }
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
    if status.log_lines_dropped > 0 {
        writeln!(
            out,
            "log:        {} line(s) could not be written (a full disk?)",
            status.log_lines_dropped
        )?;
    }
    Ok(SUCCESS)
}

/// The systemd user unit that runs this program's daemon with this data dir and socket.
fn service_unit(ctx: &Context) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the path of this program")?;
    let quote = |path: &std::path::Path| {
        // systemd splits ExecStart on spaces unless the word is quoted, and expands `%`.
        let text = path.display().to_string();
        let escaped = text
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%");
        format!("\"{escaped}\"")
    };
    Ok(format!(
        "[Unit]
Description=do: the workflow daemon
Documentation=man:do(1)

[Service]
ExecStart={exe} daemon run --data-dir {data_dir} --socket {socket}
Restart=on-failure
# SIGTERM to the daemon only: it ends the steps' process groups itself, and they run again
# when it next starts.
KillMode=mixed

[Install]
WantedBy=default.target
",
        exe = quote(&exe),
        data_dir = quote(&ctx.data_dir),
        socket = quote(&ctx.socket),
    ))
}

fn cmd_install_service(ctx: &Context, args: &InstallServiceArgs) -> anyhow::Result<u8> {
    let unit = service_unit(ctx)?;
    if args.print {
        if ctx.json {
            print_json(&json!({"unit": unit}))?;
        } else {
            write!(std::io::stdout(), "{unit}")?;
        }
        return Ok(SUCCESS);
    }
    let dirs = directories::BaseDirs::new()
        .context("cannot find a home directory for ~/.config/systemd/user")?;
    let dir = dirs.config_dir().join("systemd").join("user");
    let path = dir.join("do.service");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    std::fs::write(&path, &unit).with_context(|| format!("cannot write `{}`", path.display()))?;
    if ctx.json {
        print_json(&json!({"path": path}))?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Wrote {}.\nStart it now and at every login with:\n  systemctl --user daemon-reload && systemctl --user enable --now do",
            path.display()
        )?;
    }
    Ok(SUCCESS)
}
