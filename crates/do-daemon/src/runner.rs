//! Runs one attempt of a task: the agent as a child process in its own process group, the task
//! text on stdin, the `DO_*` environment, stdout captured as the output, stderr kept in the
//! step's log. Nothing from the task or its inputs is ever put on a command line or in a shell
//! string.

use do_core::model::AgentSpec;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::oneshot;

/// Above this, a variable that carries user data (`DO_TASK`, `DO_ITEM`, `DO_INPUT`,
/// `DO_EXECUTION_INPUT`) is left out of the environment: the kernel refuses an exec with one
/// string over 128 KiB (MAX_ARG_STRLEN) or all of them over a quarter of the stack limit.
/// `DO_TASK_FILE`, `DO_ITEM_FILE`, `DO_INPUT_FILE` and `DO_EXECUTION_INPUT_FILE` always hold
/// them.
const MAX_ENV_INPUT_BYTES: usize = 64 * 1024;
/// A task text up to this size is written into the agent's stdin pipe before the agent starts:
/// one page, which every pipe holds (Linux shrinks new pipes to one page for a user past
/// `pipe-user-pages-soft`), so the write never waits. A longer one is written while the agent
/// reads it.
const STDIN_PREFILLED_BYTES: usize = 4096;
/// The kernel's limit on one environment string (MAX_ARG_STRLEN).
const MAX_ENV_VALUE: u64 = 128 * 1024;
/// A longer stderr line is read in pieces of this size, so one line cannot fill memory.
const MAX_LOG_LINE: u64 = 64 * 1024;
/// Lines of stderr quoted in a failed step's error.
const ERROR_TAIL_LINES: usize = 10;

/// Everything one attempt needs.
pub(crate) struct RunSpec {
    pub(crate) execution_id: String,
    pub(crate) step_id: String,
    pub(crate) attempt: u32,
    pub(crate) agent: Arc<AgentSpec>,
    pub(crate) task: String,
    pub(crate) inputs: Map<String, Value>,
    /// Inside a loop iteration: the item and its index.
    pub(crate) item: Option<(Value, usize)>,
    /// The execution input as JSON (`DO_EXECUTION_INPUT`), serialised once per execution.
    pub(crate) execution_input: Arc<str>,
    pub(crate) workspace: PathBuf,
    /// Where the attempt's log and input file go.
    pub(crate) run_dir: PathBuf,
    /// Whether `run_dir` and `workspace` exist already (the scheduler makes them once per
    /// execution); when not, the runner makes them.
    pub(crate) dirs_ready: bool,
    pub(crate) kill_grace: Duration,
    /// The step's `timeout`.
    pub(crate) timeout: Option<Duration>,
    /// Caps on its stdout and its log.
    pub(crate) limits: crate::Limits,
    /// Told the process group and its start time once the agent runs, to be recorded.
    pub(crate) spawned: Option<Spawned>,
    /// Told each percentage the agent reports with a `::progress N` line on stderr.
    pub(crate) progress: Option<Progressed>,
    /// Told each line written to the log, for the clients that follow it.
    pub(crate) log_tap: Option<crate::logs::LogTap>,
    /// Every agent's secret variables taken from the daemon's environment: none reaches this
    /// agent but those it declares itself.
    pub(crate) secret_names: Arc<[String]>,
}

/// Called with the agent's process group once it runs.
pub(crate) type Spawned = Box<dyn FnOnce(i32) + Send>;

/// Called with each percentage (0–100) the agent reports.
pub(crate) type Progressed = Box<dyn Fn(u8) + Send>;

/// How an attempt ended, and where its stderr went.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) outcome: Outcome,
    /// The attempt's log: only when stderr produced data (the file is created on the first
    /// byte), else `None`.
    pub(crate) log_path: Option<PathBuf>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Succeeded(Value),
    Failed {
        error: String,
        exit_code: Option<i32>,
    },
    /// Ended on request (the execution is failing or the daemon is stopping).
    Killed {
        error: String,
    },
}

impl RunSpec {
    pub(crate) fn log_path(&self) -> PathBuf {
        self.run_dir
            .join(format!("{}.{}.log", self.step_id, self.attempt))
    }
}

/// Runs the attempt to its end. Sending on (or dropping the sender of) `kill` has different
/// meanings: a sent `()` ends the process group; a dropped sender changes nothing.
pub(crate) async fn run(spec: RunSpec, kill: oneshot::Receiver<()>) -> Ended {
    let log_path = spec.log_path();
    let mut log_written = false;
    let outcome = attempt(spec, kill, &mut log_written).await;
    Ended {
        outcome,
        log_path: log_written.then_some(log_path),
    }
}

/// Makes the directories of an execution's steps: its run directory and its workspace.
pub(crate) fn prepare_dirs(run_dir: &Path, workspace: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(run_dir).and_then(|()| std::fs::create_dir_all(workspace))
}

async fn attempt(
    mut spec: RunSpec,
    kill: oneshot::Receiver<()>,
    log_written: &mut bool,
) -> Outcome {
    let agent = &spec.agent.name;
    if !spec.dirs_ready
        && let Err(e) = prepare_dirs(&spec.run_dir, &spec.workspace)
    {
        return failed(format!(
            "cannot prepare the directories of step `{}`: {e}",
            spec.step_id
        ));
    }
    let input_json = Value::Object(spec.inputs.clone()).to_string();
    // Steps without inputs share one `{}` file per execution: creating a file per step costs
    // more than anything else the daemon does for a step on a disk file system.
    let input_file = if spec.inputs.is_empty() {
        spec.run_dir.join("no-input.json")
    } else {
        spec.run_dir
            .join(format!("{}.{}.input.json", spec.step_id, spec.attempt))
    };
    // The execution input is the same for all the execution's steps: one file.
    let execution_input_file = spec.run_dir.join("execution-input.json");
    for (file, contents, shared) in [
        (&input_file, input_json.as_str(), spec.inputs.is_empty()),
        (&execution_input_file, &*spec.execution_input, true),
    ] {
        if let Err(e) = write_run_file(&spec, file, contents, shared) {
            return failed(format!("cannot write `{}`: {e}", file.display()));
        }
    }
    let task_file = match text_file(&spec, "task", "txt", &spec.task) {
        Ok(file) => file,
        Err(e) => return failed(e),
    };
    let item = spec.item.as_ref().map(|(item, index)| {
        let json = item.to_string();
        text_file(&spec, "item", "json", &json).map(|file| (json, index, file))
    });
    let item = match item.transpose() {
        Ok(item) => item,
        Err(e) => return failed(e),
    };
    let log = spec.log_path();

    let secrets = match secret_values(&spec.agent) {
        Ok(secrets) => secrets,
        Err(error) => return failed(error),
    };
    let (program, args) = match spec.agent.command.split_first() {
        Some(split) => split,
        None => return failed(format!("agent `{agent}` has no command")),
    };
    let mut command = Command::new(program);
    // The agent's own secrets are set again below, from `secrets`.
    for name in spec.secret_names.iter() {
        command.env_remove(name);
    }
    command
        .args(args)
        .current_dir(
            spec.agent
                .cwd
                .as_ref()
                .map_or(spec.workspace.clone(), PathBuf::from),
        )
        .env("DO_EXECUTION_ID", &spec.execution_id)
        .env("DO_STEP_ID", &spec.step_id)
        .env("DO_ATTEMPT", spec.attempt.to_string())
        .env("DO_AGENT", agent)
        .env("DO_TASK_FILE", &task_file)
        .env("DO_INPUT_FILE", &input_file)
        .env("DO_EXECUTION_INPUT_FILE", &execution_input_file)
        .env("DO_WORKSPACE", &spec.workspace)
        .envs(&spec.agent.env)
        .envs(secrets)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((json, index, file)) = &item {
        command
            .env("DO_ITEM_FILE", file)
            .env("DO_INDEX", index.to_string());
        if json.len() <= MAX_ENV_INPUT_BYTES {
            command.env("DO_ITEM", json);
        }
    }
    for (name, value) in [
        ("DO_TASK", spec.task.as_str()),
        ("DO_INPUT", input_json.as_str()),
        ("DO_EXECUTION_INPUT", &*spec.execution_input),
    ] {
        if value.len() <= MAX_ENV_INPUT_BYTES {
            command.env(name, value);
        }
    }
    let prefilled = spec.task.len() <= STDIN_PREFILLED_BYTES;
    if prefilled {
        match prefilled_stdin(&spec.task) {
            Ok(stdin) => command.stdin(stdin),
            Err(e) => return failed(format!("cannot make the stdin of agent `{agent}`: {e}")),
        };
    } else {
        command.stdin(Stdio::piped());
    }
    let marker = crate::reaper::marker(&spec.execution_id, &spec.step_id, spec.attempt);
    let mut child = match crate::process::spawn_group(&mut command, Some(&marker)) {
        Ok(child) => child,
        Err(e) => return failed(format!("cannot start agent `{agent}` (`{program}`): {e}")),
    };
    // It holds the prefilled stdin's read end, which only the agent needs now.
    drop(command);
    let Some(pgid) = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(Pid::from_raw)
    else {
        crate::reaper::agent_ended(None, &marker);
        return failed(format!("agent `{agent}` exited before it could be watched"));
    };

    if let Some(spawned) = spec.spawned.take() {
        spawned(pgid.as_raw());
    }
    if let Some(mut stdin) = child.stdin.take()
        && !prefilled
    {
        let task = spec.task.clone().into_bytes();
        // An agent that ignores stdin may exit before reading it; that is not an error.
        tokio::spawn(async move {
            let _ = stdin.write_all(&task).await;
        });
    }
    let stdout = child.stdout.take().map(|out| {
        tokio::spawn(read_capped(
            out,
            spec.limits.output_bytes,
            spec.limits.output_overflow,
        ))
    });
    let progress = spec.progress.take();
    let tap = spec.log_tap.take();
    let stderr = child
        .stderr
        .take()
        .map(|err| tokio::spawn(keep_log(err, log, spec.limits.log_bytes, progress, tap)));

    let kill_requested = async {
        if kill.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let timed_out = async {
        match spec.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending::<()>().await,
        }
    };
    let mut killed = false;
    let mut expired = false;
    let status = tokio::select! {
        status = child.wait() => status,
        () = kill_requested => {
            killed = true;
            crate::process::end_group(pgid, spec.kill_grace, &mut child).await
        }
        () = timed_out => {
            expired = true;
            crate::process::end_group(pgid, spec.kill_grace, &mut child).await
        }
    };
    // Whatever the agent left behind in its group would keep the pipes open and outlive it;
    // what left the group is adopted by the daemon and ended by the reaper's sweep.
    let _ = killpg(pgid, Signal::SIGKILL);
    crate::reaper::agent_ended(Some(pgid.as_raw()), &marker);

    let output = match stdout {
        Some(task) => task.await.unwrap_or_else(|e| Err(e.to_string())),
        None => Ok(Vec::new()),
    };
    let tail = match stderr {
        Some(task) => {
            let (tail, written) = task.await.unwrap_or_default();
            *log_written = written;
            tail
        }
        None => VecDeque::new(),
    };
    let status = match status {
        Ok(status) => status,
        Err(e) => return failed(format!("lost track of agent `{agent}`: {e}")),
    };
    if expired {
        let limit = spec.timeout.map_or(0.0, |t| t.as_secs_f64());
        return Outcome::Failed {
            error: format!(
                "agent `{agent}` timed out after {limit} s (the step's `timeout`) and was ended"
            ),
            exit_code: None,
        };
    }
    if killed {
        return Outcome::Killed {
            error: format!("agent `{agent}` {}", describe(status)),
        };
    }
    if !status.success() {
        let mut error = format!("agent `{agent}` {}", describe(status));
        if !tail.is_empty() {
            error.push_str("; last lines of its stderr:\n");
            error.push_str(&Vec::from(tail).join("\n"));
        }
        return Outcome::Failed {
            error,
            exit_code: status.code(),
        };
    }
    match output {
        Ok(bytes) => Outcome::Succeeded(parse_output(&bytes)),
        Err(e) => failed(format!("agent `{agent}`: {e}")),
    }
}

/// The values of the agent's secret variables, read now: from the daemon's environment or
/// from a file. A missing one fails the step, naming the variable and where it was looked for.
fn secret_values(agent: &AgentSpec) -> Result<Vec<(String, std::ffi::OsString)>, String> {
    use std::io::Read;
    use std::os::unix::ffi::OsStringExt;
    let name = &agent.name;
    agent
        .secret_env
        .iter()
        .map(|secret| {
            let value = match &secret.file {
                None => std::env::var_os(&secret.name).ok_or_else(|| {
                    format!(
                        "agent `{name}` needs the secret variable `{}`, which is not set in the \
                         daemon's environment; start the daemon with it set, or use \
                         `do agent add {name} --replace --secret-env {}=@FILE`",
                        secret.name, secret.name
                    )
                })?,
                Some(file) => {
                    let mut bytes = Vec::new();
                    std::fs::File::open(file)
                        .and_then(|f| f.take(MAX_ENV_VALUE + 1).read_to_end(&mut bytes))
                        .map_err(|e| {
                            format!(
                                "agent `{name}` needs the secret variable `{}` from the file \
                                 `{file}`: {e}",
                                secret.name
                            )
                        })?;
                    if bytes.len() as u64 > MAX_ENV_VALUE {
                        return Err(format!(
                            "the file `{file}` of agent `{name}`'s secret variable `{}` is larger \
                             than the {} one environment variable can hold",
                            secret.name,
                            crate::show_bytes(MAX_ENV_VALUE)
                        ));
                    }
                    if bytes.last() == Some(&b'\n') {
                        bytes.pop();
                    }
                    std::ffi::OsString::from_vec(bytes)
                }
            };
            Ok((secret.name.clone(), value))
        })
        .collect()
}

/// The file that holds `text` (a task, a loop's item) for this attempt. Attempts of the execution
/// with the same text share one, named by the text's hash: a fan-out or a loop of one task, and
/// a step's retries, create one file instead of one each, which on a disk file system costs
/// more than anything else the daemon does for a step (on ext4 without a journal, a new inode
/// is searched for past every recently deleted one). An attempt whose shared file holds
/// something else (another text of the same hash, or an agent wrote into it) gets a file of
/// its own. Errs with the reason the step fails.
fn text_file(spec: &RunSpec, kind: &str, extension: &str, text: &str) -> Result<PathBuf, String> {
    let mut hasher = std::hash::DefaultHasher::new();
    text.hash(&mut hasher);
    let shared = spec
        .run_dir
        .join(format!("{kind}-{:016x}.{extension}", hasher.finish()));
    let file = match std::fs::read(&shared) {
        Ok(held) if held == text.as_bytes() => return Ok(shared),
        Ok(_) => spec.run_dir.join(format!(
            "{}.{}.{kind}.{extension}",
            spec.step_id, spec.attempt
        )),
        Err(_) => shared,
    };
    write_run_file(spec, &file, text, false)
        .map(|()| file.clone())
        .map_err(|e| format!("cannot write `{}`: {e}", file.display()))
}

/// Writes one of the files an agent reads its inputs from; a file that `shared` steps of the
/// execution all read is written by the first of them only.
fn write_run_file(
    spec: &RunSpec,
    file: &Path,
    contents: &str,
    shared: bool,
) -> std::io::Result<()> {
    if shared && file.exists() {
        return Ok(());
    }
    match std::fs::write(file, contents) {
        // The directories are made once per execution: made again if removed since.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            prepare_dirs(&spec.run_dir, &spec.workspace)
                .and_then(|()| std::fs::write(file, contents))
        }
        other => other,
    }
}

/// The read end of a pipe that holds `task` and whose write end is closed: the agent reads the
/// task, then the end of its input, and the daemon has no pipe to watch.
fn prefilled_stdin(task: &str) -> std::io::Result<std::io::PipeReader> {
    let (reader, mut writer) = std::io::pipe()?;
    writer.write_all(task.as_bytes())?;
    Ok(reader)
}

fn failed(error: String) -> Outcome {
    Outcome::Failed {
        error,
        exit_code: None,
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(name) => format!("was killed by signal {signal} ({name})"),
            Err(_) => format!("was killed by signal {signal}"),
        },
        (None, None) => format!("ended with {status}"),
    }
}

/// stdout is the step's output: JSON when it parses, else the text without its final newline.
pub(crate) fn parse_output(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Reads all of `reader`, refusing more than `cap` bytes (and draining the rest, so the agent
/// is not blocked on a full pipe).
async fn read_capped(
    mut reader: impl AsyncRead + Unpin,
    cap: u64,
    overflow: crate::Overflow,
) -> Result<Vec<u8>, String> {
    let mut buffer = Vec::new();
    let read = (&mut reader).take(cap + 1).read_to_end(&mut buffer).await;
    if let Err(e) = read {
        return Err(format!("cannot read its output: {e}"));
    }
    if buffer.len() as u64 > cap {
        // The rest is read and dropped, so the agent never blocks on a full pipe.
        let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
        if overflow == crate::Overflow::Truncate {
            buffer.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
            return Ok(buffer);
        }
        drop(buffer);
        return Err(format!(
            "its output on stdout is larger than {} (limits.output_bytes in config.toml); \
             write large results to a file in the workspace and print its path",
            crate::show_bytes(cap)
        ));
    }
    Ok(buffer)
}

/// The percentage of a `::progress N` line (the agent protocol's progress report): N a whole
/// number from 0 to 100, a `%` allowed after it. Anything else is an ordinary log line.
fn progress_report(line: &str) -> Option<u8> {
    let value = line.trim().strip_prefix("::progress ")?.trim();
    let value = value.strip_suffix('%').unwrap_or(value);
    value.parse::<u8>().ok().filter(|&p| p <= 100)
}

/// Copies stderr into the log file at `path`, created on the first byte (an agent that writes
/// nothing on stderr leaves no file), tells `progress` of each `::progress N` line (which stays
/// in the log too), tells `tap` of each write (so that followers get it at once), and returns
/// its last lines and whether the file exists.
/// Past `cap` bytes one marker line ends the log; the rest is still read, so that the agent
/// never blocks on a full pipe. Plain blocking writes: a log write lands in the page cache,
/// cheaper than a hop to the blocking pool.
async fn keep_log(
    reader: impl AsyncRead + Unpin,
    path: PathBuf,
    cap: u64,
    progress: Option<Progressed>,
    tap: Option<crate::logs::LogTap>,
) -> (VecDeque<String>, bool) {
    let mut log: Option<std::fs::File> = None;
    let mut log_failed = false;
    let mut kept = 0;
    // Where the next write lands in the file.
    let mut offset = 0;
    let mut lines = BufReader::new(reader);
    let mut tail = VecDeque::with_capacity(ERROR_TAIL_LINES);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut lines)
            .take(MAX_LOG_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if log.is_none() && !log_failed {
            match std::fs::File::create(&path) {
                Ok(file) => log = Some(file),
                Err(e) => {
                    log_failed = true;
                    tracing::warn!("cannot create the log `{}`: {e}", path.display());
                }
            }
        }
        if let Some(file) = &mut log
            && kept <= cap
        {
            kept += line.len() as u64;
            let marker;
            let written: &[u8] = if kept <= cap {
                &line
            } else {
                marker = format!(
                    "[do: log truncated at {}; limit: limits.log_bytes in config.toml]\n",
                    crate::show_bytes(cap)
                );
                marker.as_bytes()
            };
            if file.write_all(written).is_ok() {
                if let Some(tap) = &tap {
                    tap.wrote(offset, written);
                }
                offset += written.len() as u64;
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        if let (Some(report), Some(percentage)) = (&progress, progress_report(text)) {
            report(percentage);
            continue;
        }
        if tail.len() == ERROR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text.chars().take(500).collect());
    }
    (tail, log.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn output_is_json_when_it_parses_else_text() {
        assert_eq!(parse_output(b"{\"a\": 1}\n"), json!({"a": 1}));
        assert_eq!(parse_output(b"hello world\n"), json!("hello world"));
        assert_eq!(parse_output(b"two\nlines\n"), json!("two\nlines"));
        assert_eq!(parse_output(b"42"), json!(42));
        assert_eq!(parse_output(b""), Value::Null);
        assert_eq!(parse_output(b"windows\r\n"), json!("windows"));
    }

    #[test]
    fn progress_lines_are_whole_percentages() {
        assert_eq!(progress_report("::progress 40"), Some(40));
        assert_eq!(progress_report("  ::progress 0  "), Some(0));
        assert_eq!(progress_report("::progress 100%"), Some(100));
        assert_eq!(progress_report("::progress 101"), None);
        assert_eq!(progress_report("::progress -1"), None);
        assert_eq!(progress_report("::progress 4.5"), None);
        assert_eq!(progress_report("::progress"), None);
        assert_eq!(progress_report("::progressive 5"), None);
        assert_eq!(progress_report("working: ::progress 5"), None);
    }
}
