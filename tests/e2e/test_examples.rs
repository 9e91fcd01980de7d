//! Every workflow in `examples/` runs as is, with the stand-in agents `register.sh` adds.

use crate::common::{TestEnv, do_bin, repo_root};

/// The input each example is run with; an example missing here fails the test.
const INPUTS: &[(&str, &str)] = &[
    (
        "saas-launch.json",
        r#"{"productName":"CloudSync Pro","targetMarket":"SMB"}"#,
    ),
    (
        "saas-launch.yaml",
        r#"{"productName":"CloudSync Pro","targetMarket":"SMB"}"#,
    ),
    ("ci-pipeline.yaml", r#"{"components":["api","web","cli"]}"#),
];

#[test]
fn every_example_runs_to_completion_with_the_stand_in_agents() {
    let env = TestEnv::new();
    let register = repo_root().join("examples/agents/register.sh");
    let registered = std::process::Command::new(&register)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path("home"))
        .env("DO_DATA_DIR", env.path("data"))
        .env("DO_SOCKET", env.socket())
        .env("DOWF", do_bin())
        .output()
        .expect("register.sh");
    assert!(registered.status.success(), "{registered:?}");

    let mut examples: Vec<String> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") || name.ends_with(".yaml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "{examples:?}");
    for name in &examples {
        let input = INPUTS
            .iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("examples/{name}: add its input to INPUTS"))
            .1;
        let file = repo_root().join("examples").join(name);
        let run = env.run(&[
            "--json",
            "workflow",
            "run",
            file.to_str().expect("utf-8 path"),
            "--input",
            input,
            "--wait",
        ]);
        assert_eq!(
            run.code, 0,
            "examples/{name}:\n{}\n{}",
            run.stdout, run.stderr
        );
        let status: serde_json::Value = serde_json::from_str(&run.stdout).expect("status");
        assert_eq!(status["status"], "completed", "examples/{name}: {status}");
    }
}
