//! The built `safemig` binary, run the way a user and CI run it: in a directory, with arguments,
//! `NO_COLOR`, and no dev database unless the test names one (a `DATABASE_URL` in the test's own
//! environment must not change what a check reports).

#![allow(dead_code)] // Each test binary uses the part it needs.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as the one JSON object it must be.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON object ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

/// Runs `safemig args…` in `cwd` with `env` set on top of the test's environment.
pub fn run(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_safemig"));
    command.args(args).current_dir(cwd).env("NO_COLOR", "1").env_remove("DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("the safemig binary runs");
    Run {
        code: output.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
