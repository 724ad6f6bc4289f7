//! The `cph-sim` binary as a user starts it: stdout carries exactly the one `cph-sim listening on URL`
//! line scripts parse, stderr a line to paste into the shell that runs Terraform, and the blocks of
//! `README.md` and `crates/cph-sim/README.md` that show both are what the binary prints.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use cph_sim::SimConfig;

/// A running `cph-sim`, its one stdout line read.
struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Every stderr line, as it comes.
    stderr: Receiver<String>,
    /// What followed `cph-sim listening on ` on stdout.
    url: String,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cph-sim"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .trim_end()
            .strip_prefix("cph-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first stdout line {first:?}"))
            .to_owned();
        Running {
            child,
            stdout,
            stderr,
            url,
        }
    }

    /// The stderr lines up to and including the first `export ` line (panics after 10 s without one).
    fn until_export_line(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let done = line.starts_with("export ");
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(e) => panic!("no export line on stderr ({e}); got {seen:#?}"),
            }
        }
    }

    /// Stops it with SIGTERM; returns the rest of stdout (after the first line) and of stderr.
    fn stop(mut self) -> (String, Vec<String>) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        let stderr = self.stderr.iter().collect();
        (rest, stderr)
    }
}

/// What `sh` makes of `line`: the four variables it exports, in order.
fn as_the_shell_reads_it(line: &str) -> Vec<String> {
    let script = format!(
        "{line}\nprintf '%s\\n' \"$CPH_ENDPOINT\" \"$HW_PROJECT_ID\" \"$HW_ACCESS_KEY\" \"$HW_SECRET_KEY\""
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn stderr_carries_a_ready_to_paste_export_line_with_the_actual_url_and_stdout_one_line() {
    let secret = "it's a $ecret";
    let sim = Running::start(&["--phones", "2", "--secret-key", secret]);
    let lines = sim.until_export_line();
    let line = lines.last().unwrap().clone();
    let url = sim.url.clone();
    let (stdout_rest, stderr_rest) = sim.stop();
    assert_eq!(stdout_rest, "", "stdout carries one line only");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        line.starts_with(&format!("export CPH_ENDPOINT={url} ")),
        "{line}"
    );
    let default = SimConfig::default();
    assert_eq!(
        as_the_shell_reads_it(&line),
        [
            url.as_str(),
            default.project_id.as_str(),
            default.access_key.as_str(),
            secret
        ]
    );
    // The line comes once, and the secret nowhere else.
    let all: Vec<&String> = lines.iter().chain(&stderr_rest).collect();
    assert_eq!(
        all.iter().filter(|l| l.starts_with("export ")).count(),
        1,
        "{all:#?}"
    );
    let quoted = "'it'\\''s a $ecret'";
    assert!(line.ends_with(&format!("HW_SECRET_KEY={quoted}")), "{line}");
    assert!(
        all.iter()
            .filter(|l| !l.starts_with("export "))
            .all(|l| !l.contains("$ecret")),
        "{all:#?}"
    );
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The `cargo run -p cph-sim -- ...` command of a README and the `export ` line of the same fenced block.
fn readme_block(readme: &str) -> (Vec<String>, String, String) {
    let text = std::fs::read_to_string(workspace_root().join(readme)).unwrap();
    let mut in_block = false;
    let mut block = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            if in_block
                && block
                    .iter()
                    .any(|l: &&str| l.contains("cargo run -p cph-sim"))
            {
                break;
            }
            in_block = !in_block;
            block.clear();
            continue;
        }
        if in_block {
            block.push(line);
        }
    }
    let command = block
        .iter()
        .find_map(|l| l.trim().strip_prefix("cargo run -p cph-sim -- "))
        .unwrap_or_else(|| panic!("{readme}: no `cargo run -p cph-sim -- ...` block"));
    let args: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
    let export = block
        .iter()
        .find(|l| l.starts_with("export CPH_ENDPOINT="))
        .unwrap_or_else(|| panic!("{readme}: no `export CPH_ENDPOINT=...` line in {block:#?}"));
    let listening = block
        .iter()
        .find(|l| l.contains("cph-sim listening on "))
        .unwrap_or_else(|| panic!("{readme}: the block does not show the stdout line"));
    (args, (*export).to_owned(), (*listening).to_owned())
}

#[test]
fn the_readmes_show_a_fixed_port_and_the_very_line_the_binary_prints() {
    for readme in ["README.md", "crates/cph-sim/README.md"] {
        let (mut args, export, listening) = readme_block(readme);
        let at = args
            .iter()
            .position(|a| a == "--listen")
            .unwrap_or_else(|| panic!("{readme}: the command has no --listen: {args:?}"));
        let listen = args[at + 1].clone();
        assert!(
            listen.starts_with("127.0.0.1:") && !listen.ends_with(":0"),
            "{readme}: --listen {listen} is not a fixed loopback port"
        );
        let readme_url = format!("http://{listen}");
        assert!(
            listening.ends_with(&format!("cph-sim listening on {readme_url}")),
            "{readme}: {listening}"
        );
        // The same flags on a free port (a fixed one may be taken on this machine).
        args[at + 1] = "127.0.0.1:0".into();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let sim = Running::start(&arg_refs);
        let printed = sim.until_export_line().pop().unwrap();
        let actual_url = sim.url.clone();
        let (stdout_rest, _) = sim.stop();
        assert_eq!(stdout_rest, "", "stdout carries one line only");
        assert_eq!(
            export,
            printed.replace(&actual_url, &readme_url),
            "{readme}: the export line differs from what `cph-sim {}` prints on stderr",
            args.join(" ")
        );
    }
}
