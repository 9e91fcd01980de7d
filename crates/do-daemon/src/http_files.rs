//! The HTTP listener's files in the data dir: the API key (0600) and the bound address, so
//! that a request on the socket can report both without the HTTP room.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The file holding the API key, in the data dir.
pub(crate) fn api_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("api-key")
}

/// The file the daemon writes its bound HTTP address to (useful with port 0).
pub(crate) fn http_addr_path(data_dir: &Path) -> PathBuf {
    data_dir.join("http.addr")
}

/// Reads the API key, creating a random one (0600) if there is none yet.
pub(crate) fn ensure_api_key(data_dir: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(api_key_path(data_dir)) {
        Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
        Ok(_) => rotate_api_key(data_dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => rotate_api_key(data_dir),
        Err(e) => Err(e),
    }
}

/// Writes a new random API key (32 bytes from the system's random source, hex) and returns it.
/// The running daemon reads the file on every request, so the old key stops working at once.
pub(crate) fn rotate_api_key(data_dir: &Path) -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let path = api_key_path(data_dir);
    let temp = data_dir.join(format!("api-key.{}.tmp", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, &path)?;
    Ok(key)
}
