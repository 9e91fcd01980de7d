//! End-to-end tests: the real `do` binary against a real daemon in a temp data dir, with real
//! child processes as agents.

mod browser;
mod common;
mod contract;
mod http_api;
mod test_abuse;
mod test_agents;
mod test_cancel;
mod test_cli_boundary;
mod test_cli_surface;
mod test_completions;
mod test_corpus;
mod test_daemon;
mod test_daemon_log;
mod test_dashboard;
mod test_descendants;
mod test_durability;
mod test_examples;
mod test_execution;
mod test_failures;
mod test_faults;
mod test_http;
mod test_http_contract;
mod test_http_limits;
mod test_load;
mod test_output_modes;
mod test_schedules;
mod test_schema;
mod test_security;
mod test_step_output;
mod test_step_types;
mod test_store_faults;
mod test_validation;
mod test_versions;
mod test_views;
mod test_watch;

/// Every `test_*.rs` file here must be listed above, or its tests would silently never run.
#[test]
fn no_forgotten_test_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    let main = std::fs::read_to_string(dir.join("main.rs")).expect("main.rs");
    for entry in std::fs::read_dir(&dir).expect("tests/e2e") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if let Some(module) = name
            .strip_prefix("test_")
            .and_then(|n| n.strip_suffix(".rs"))
        {
            assert!(
                main.contains(&format!("mod test_{module};")),
                "tests/e2e/{name} is not declared in main.rs"
            );
        }
    }
}
