use std::path::PathBuf;
use thiserror::Error;

/// Why the daemon could not start or had to stop.
#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("cannot {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another daemon is already running on the data dir `{}`; stop it with `do daemon stop` or use another `--data-dir`",
        data_dir.display()
    )]
    AlreadyRunning { data_dir: PathBuf },
    #[error(
        "a daemon already listens on `{}`; stop it with `do daemon stop` or use another `--socket`",
        socket.display()
    )]
    SocketInUse { socket: PathBuf },
    #[error(
        "{task} of the daemon stopped: {how}; the daemon exits so that it can be started again (see daemon.log)"
    )]
    TaskEnded { task: &'static str, how: String },
    #[error(transparent)]
    Store(#[from] do_store::StoreError),
}
