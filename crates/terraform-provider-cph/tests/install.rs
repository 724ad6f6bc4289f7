//! Installing the provider as a user does: `scripts/release.sh` writes the release artifacts in the Terraform
//! Registry's format and lays them out as a filesystem mirror, and real Terraform (1.0.3, 1.11.4 and 1.15.5) installs the
//! provider from that mirror with `terraform init`, records it in the lock file and plans against `cph-sim`,
//! with no development overrides in sight. (The other end-to-end tests use `dev_overrides`, for speed.)
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cph_sim::SimConfig;
use terraform_provider_cph::{PROVIDER_ADDRESS, PROVIDER_VERSION};
use test_support::sim::BackgroundSim;
use test_support::terraform::{TerraformBinary, Workdir, binaries};

const PROVIDER_BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-cph");

/// What a script run did, with both streams for messages.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn from(out: Output) -> Ran {
        Ran {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    fn assert_ok(&self) -> &Ran {
        assert!(
            self.ok,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn assert_failed(&self) -> &Ran {
        assert!(
            !self.ok,
            "expected a failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `script` (a release.sh) with `args` and extra environment variables.
fn run_script(script: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .args(args)
        .env_remove("CPH_RELEASE_GPG_KEY")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ran::from(cmd.output().unwrap())
}

fn release_script() -> PathBuf {
    test_support::workspace_root().join("scripts/release.sh")
}

fn zip_name(version: &str) -> String {
    format!("terraform-provider-cph_{version}_linux_amd64.zip")
}

/// The artifacts of this workspace's version, packed from the test build of the provider (a snapshot: the work
/// tree of a developer running the tests need not be clean), into `dist` and the mirror `mirror`.
fn release_into(dist: &Path, mirror: &Path) -> Ran {
    let ran = run_script(
        &release_script(),
        &[
            "--snapshot",
            "--binary",
            PROVIDER_BINARY,
            "--dist",
            dist.to_str().unwrap(),
            "--mirror",
            mirror.to_str().unwrap(),
        ],
        &[],
    );
    ran.assert_ok();
    ran
}

/// The names and Unix modes of a zip's entries, read with Python's zipfile (Python 3 is a set-up requirement).
fn zip_entries(zip: &Path) -> Vec<(String, u32)> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, i.external_attr >> 16)",
        ])
        .arg(zip)
        .output()
        .expect("python3 is needed (see the README's set-up)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, mode) = l.rsplit_once(' ').unwrap();
            (name.to_string(), mode.parse().unwrap())
        })
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn release_writes_the_three_registry_artifacts_and_their_sums_check() {
    let tmp = tempfile::tempdir().unwrap();
    let (dist, mirror) = (tmp.path().join("dist"), tmp.path().join("mirror"));
    let ran = release_into(&dist, &mirror);
    let v = PROVIDER_VERSION;

    let zip = zip_name(v);
    let sums = format!("terraform-provider-cph_{v}_SHA256SUMS");
    let manifest = format!("terraform-provider-cph_{v}_manifest.json");
    let mut expected = vec![zip.clone(), sums.clone(), manifest.clone()];
    expected.sort();
    assert_eq!(files_in(&dist), expected, "no signature without a key");
    assert!(
        ran.stdout.contains("not signed: set CPH_RELEASE_GPG_KEY"),
        "{}",
        ran.stdout
    );

    // The zip holds the executable under the registry's name, executable.
    assert_eq!(
        zip_entries(&dist.join(&zip)),
        vec![(format!("terraform-provider-cph_v{v}"), 0o100755)]
    );
    assert_eq!(
        std::fs::read_to_string(dist.join(&manifest)).unwrap(),
        "{\"version\": 1, \"metadata\": {\"protocol_versions\": [\"6.0\"]}}\n"
    );

    // SHA256SUMS covers the zip and the manifest, in sha256sum's own format.
    let sums_text = std::fs::read_to_string(dist.join(&sums)).unwrap();
    let covered: Vec<&str> = sums_text
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(covered, vec![zip.as_str(), manifest.as_str()]);
    let check = Command::new("sha256sum")
        .args(["-c", &sums])
        .current_dir(&dist)
        .output()
        .unwrap();
    assert!(check.status.success(), "sha256sum -c: {check:?}");

    // The mirror holds the zip where Terraform looks for it.
    let in_mirror = mirror
        .join("registry.terraform.io/cph-community/cph")
        .join(&zip);
    assert_eq!(
        std::fs::read(&in_mirror).unwrap(),
        std::fs::read(dist.join(&zip)).unwrap()
    );

    // The same binary gives the same zip (the checksum in a lock file stays valid), and running again is
    // harmless.
    let first = std::fs::read(dist.join(&zip)).unwrap();
    let again = release_into(&dist, &mirror);
    assert_eq!(std::fs::read(dist.join(&zip)).unwrap(), first);
    assert!(!again.stderr.contains("replacing"), "{}", again.stderr);
    assert_eq!(files_in(&dist), expected);
}

/// A work tree of its own holding a copy of `scripts/release.sh` and a package `terraform-provider-cph` of
/// `version`, and beside it a stand-in executable reporting a version, so that the release rules can be tried
/// without touching the project's tree.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(version: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let s = Scratch { dir };
        std::fs::create_dir_all(s.repo().join("src")).unwrap();
        std::fs::create_dir_all(s.repo().join("scripts")).unwrap();
        std::fs::write(
            s.repo().join("Cargo.toml"),
            format!(
                "[package]\nname = \"terraform-provider-cph\"\nversion = \"{version}\"\nedition = \"2021\"\n\n[workspace]\n"
            ),
        )
        .unwrap();
        std::fs::write(s.repo().join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::copy(release_script(), s.repo().join("scripts/release.sh")).unwrap();
        std::fs::write(s.repo().join(".gitignore"), "/dist\n/target\n").unwrap();
        s.stand_in(version, "one");
        s.git(&["init", "-q"]);
        s
    }

    fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("terraform-provider-cph")
    }

    /// (Re)writes the stand-in executable: it reports `version`; `flavour` changes its bytes.
    fn stand_in(&self, version: &str, flavour: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.binary();
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\n# {flavour}\necho \"terraform-provider-cph {version} (registry.terraform.io/cph-community/cph, plugin protocol 6)\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.repo())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "release test")
            .env("GIT_AUTHOR_EMAIL", "release@example.invalid")
            .env("GIT_COMMITTER_NAME", "release test")
            .env("GIT_COMMITTER_EMAIL", "release@example.invalid")
            .output()
            .expect("git is needed");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    fn commit_all(&self) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", "release"]);
    }

    fn dist(&self) -> PathBuf {
        self.repo().join("dist")
    }

    fn mirror(&self) -> PathBuf {
        self.dir.path().join("mirror")
    }

    fn release(&self, extra: &[&str], env: &[(&str, &str)]) -> Ran {
        let binary = self.binary();
        let mirror = self.mirror();
        let mut args = vec![
            "--binary",
            binary.to_str().unwrap(),
            "--mirror",
            mirror.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_script(&self.repo().join("scripts/release.sh"), &args, env)
    }
}

#[test]
fn a_release_needs_its_changelog_entry_a_clean_tree_and_a_binary_of_its_version() {
    let s = Scratch::new("9.9.9");
    s.commit_all();

    // No CHANGELOG entry for the version: refused, nothing written.
    let ran = s.release(&[], &[]);
    ran.assert_failed();
    assert!(
        ran.stderr
            .contains("CHANGELOG.md has no entry '## [9.9.9] - <date>' for version 9.9.9"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("--snapshot"), "{}", ran.stderr);
    assert!(!s.dist().exists());

    // An entry, not committed: the tree is dirty.
    std::fs::write(
        s.repo().join("CHANGELOG.md"),
        "# Changelog\n\n## [9.9.8] - 2026-01-01\n\n## [9.9.9] - 2026-11-27\n",
    )
    .unwrap();
    let ran = s.release(&[], &[]);
    ran.assert_failed();
    assert!(
        ran.stderr.contains("the work tree has uncommitted changes"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("CHANGELOG"), "{}", ran.stderr);

    // A snapshot is built anyway, and says why it is one.
    let ran = s.release(&["--snapshot"], &[]);
    ran.assert_ok();
    assert!(
        ran.stderr
            .contains("snapshot build (not for publishing): the work tree has uncommitted changes"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout
            .contains("terraform-provider-cph 9.9.9 (snapshot)")
    );

    // Committed: a release.
    s.commit_all();
    let ran = s.release(&[], &[]);
    ran.assert_ok();
    assert!(!ran.combined().contains("snapshot"), "{}", ran.combined());
    assert!(s.dist().join(zip_name("9.9.9")).exists());

    // An executable that reports another version is not packed under this one.
    s.stand_in("9.9.8", "one");
    let ran = s.release(&[], &[]);
    ran.assert_failed();
    assert!(
        ran.stderr.contains("reports 'terraform-provider-cph 9.9.8"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("not terraform-provider-cph 9.9.9"));
}

#[test]
fn the_mirror_layout_is_idempotent_and_a_changed_zip_of_the_same_version_is_called_out() {
    let s = Scratch::new("1.2.3");
    s.release(&["--snapshot"], &[]).assert_ok();
    let in_mirror = s
        .mirror()
        .join("registry.terraform.io/cph-community/cph")
        .join(zip_name("1.2.3"));
    let first = std::fs::read(&in_mirror).unwrap();

    // Again with the same binary: the same zip, nothing to say.
    let ran = s.release(&["--snapshot"], &[]);
    ran.assert_ok();
    assert!(!ran.stderr.contains("replacing"), "{}", ran.stderr);
    assert_eq!(std::fs::read(&in_mirror).unwrap(), first);

    // Another binary of the same version: replaced, with a warning about lock files.
    s.stand_in("1.2.3", "two");
    let ran = s.release(&["--snapshot"], &[]);
    ran.assert_ok();
    assert!(
        ran.stderr.contains(&format!(
            "replacing a different {} in the mirror: lock files that recorded the old one will refuse it",
            zip_name("1.2.3")
        )),
        "{}",
        ran.stderr
    );
    assert_ne!(std::fs::read(&in_mirror).unwrap(), first);
    let layout: Vec<String> = files_in(&s.mirror().join("registry.terraform.io/cph-community/cph"));
    assert_eq!(layout, vec![zip_name("1.2.3")]);
}

/// `gpg` with a home of its own; the agent it starts is stopped on drop.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .unwrap();
        let g = Gpg { home };
        let out = g
            .command()
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-generate-key",
                "CPH release test <release@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ])
            .output()
            .expect("gpg is needed to test release signing: install GnuPG (apt-get install gnupg)");
        assert!(out.status.success(), "gpg key generation: {out:?}");
        g
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home.path()).stdin(Stdio::null());
        cmd
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .output();
    }
}

#[test]
fn a_key_named_by_cph_release_gpg_key_signs_the_sums_and_an_unsigned_run_leaves_no_stale_signature()
{
    let s = Scratch::new("2.0.0");
    let gpg = Gpg::new();
    let home = gpg.home.path().to_str().unwrap().to_string();
    let sums = s.dist().join("terraform-provider-cph_2.0.0_SHA256SUMS");
    let sig = s.dist().join("terraform-provider-cph_2.0.0_SHA256SUMS.sig");

    let ran = s.release(
        &["--snapshot"],
        &[
            ("CPH_RELEASE_GPG_KEY", "release@example.invalid"),
            ("GNUPGHOME", &home),
        ],
    );
    ran.assert_ok();
    assert!(
        ran.stdout.contains(
            "signed with release@example.invalid: terraform-provider-cph_2.0.0_SHA256SUMS.sig"
        ),
        "{}",
        ran.stdout
    );
    let verify = gpg
        .command()
        .arg("--verify")
        .arg(&sig)
        .arg(&sums)
        .output()
        .unwrap();
    assert!(verify.status.success(), "gpg --verify: {verify:?}");

    // A key gpg does not have: refused, saying which.
    let ran = s.release(
        &["--snapshot"],
        &[
            ("CPH_RELEASE_GPG_KEY", "nobody@example.invalid"),
            ("GNUPGHOME", &home),
        ],
    );
    ran.assert_failed();
    assert!(
        ran.stderr
            .contains("gpg could not sign terraform-provider-cph_2.0.0_SHA256SUMS with the key nobody@example.invalid"),
        "{}",
        ran.stderr
    );

    // Without a key the old signature goes: it would not match the new sums.
    let ran = s.release(&["--snapshot"], &[]);
    ran.assert_ok();
    assert!(ran.stdout.contains("not signed"), "{}", ran.stdout);
    assert!(!sig.exists());
}

/// Installs the provider from a mirror made by release.sh, through a `filesystem_mirror` CLI block, and plans
/// against cph-sim; then installs it again with `-plugin-dir` and from `~/.terraform.d/plugins`, and checks
/// that the lock files agree.
fn installs_from_the_mirror_and_plans(tf: &TerraformBinary) {
    let tmp = tempfile::tempdir().unwrap();
    let (dist, mirror) = (tmp.path().join("dist"), tmp.path().join("mirror"));
    release_into(&dist, &mirror);

    let sim = BackgroundSim::start(SimConfig {
        phones: 4,
        job_duration: Duration::from_millis(300),
        access_key: "INSTALLACCESSKEY0001".into(),
        secret_key: "install-secret-key".into(),
        project_id: "0123456789abcdef0123456789abcdef".into(),
        ..SimConfig::default()
    });
    let config = format!(
        r#"
terraform {{
  required_providers {{
    cph = {{
      source  = "cph-community/cph"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "cph" {{}}

data "cph_phones" "fleet" {{}}

resource "cph_phone_restart" "fleet" {{
  phone_ids = data.cph_phones.fleet.phones[*].phone_id
}}
"#
    );

    // The CLI configuration the README shows: this provider from the mirror, nothing else.
    let mut dir = Workdir::new(tf, PROVIDER_ADDRESS, PROVIDER_BINARY);
    sim.configure(&mut dir, "200ms");
    dir.write("main.tf", &config);
    dir.write(
        "mirror.tfrc",
        &format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/cph-community/*\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/cph-community/*\"]\n  }}\n}}\n",
            mirror.display()
        ),
    );
    let rc = dir.path().join("mirror.tfrc");
    dir.env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap());

    let init = dir.run(&["init", "-input=false"]);
    init.assert_success();
    let text = init.combined();
    assert!(
        text.contains(&format!("Installed cph-community/cph v{PROVIDER_VERSION}")),
        "{tf}: {text}"
    );
    assert!(!text.contains("overrides"), "{tf}: {text}");
    let lock = dir.read(".terraform.lock.hcl");
    let hash = lock_hash(&lock, tf);
    let unpacked = dir.path().join(format!(
        ".terraform/providers/registry.terraform.io/cph-community/cph/{PROVIDER_VERSION}/linux_amd64/terraform-provider-cph_v{PROVIDER_VERSION}"
    ));
    assert!(unpacked.exists(), "{tf}: {} missing", unpacked.display());

    // A plan against the simulator: no override warning, and the provider says which version it is.
    dir.env("TF_LOG_PROVIDER", "INFO");
    let plan = dir.run(&["plan", "-input=false"]);
    plan.assert_success();
    let text = plan.combined();
    assert!(text.contains("Plan: 1 to add"), "{tf}: {}", plan.stdout);
    assert!(
        !text.contains("overrides") && !text.contains("Warning"),
        "{tf}: {text}"
    );
    assert!(
        plan.stderr
            .contains(&format!("terraform-provider-cph {PROVIDER_VERSION}")),
        "{tf}: the provider's log does not name its version:\n{}",
        plan.stderr
    );
    assert!(sim.sim().stats().requests.contains_key("ListCloudPhones"));

    // The same package through -plugin-dir: the same lock entry.
    let mut other = Workdir::new(tf, PROVIDER_ADDRESS, PROVIDER_BINARY);
    other.write("main.tf", &config);
    other.write("empty.tfrc", "");
    let rc = other.path().join("empty.tfrc");
    other.env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap());
    let plugin_dir = format!("-plugin-dir={}", mirror.display());
    other
        .run(&["init", "-input=false", &plugin_dir])
        .assert_success();
    assert_eq!(
        lock_hash(&other.read(".terraform.lock.hcl"), tf),
        hash,
        "{tf}"
    );

    // The mirror as ~/.terraform.d/plugins, the directory Terraform searches by itself when the CLI
    // configuration has no provider_installation block (what the README suggests): a plain init.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".terraform.d")).unwrap();
    std::os::unix::fs::symlink(&mirror, home.join(".terraform.d/plugins")).unwrap();
    let mut implied = Workdir::new(tf, PROVIDER_ADDRESS, PROVIDER_BINARY);
    implied.write("main.tf", &config);
    implied.write("empty.tfrc", "");
    let rc = implied.path().join("empty.tfrc");
    implied
        .env("TF_CLI_CONFIG_FILE", rc.to_str().unwrap())
        .env("HOME", home.to_str().unwrap());
    implied.run(&["init", "-input=false"]).assert_success();
    assert_eq!(
        lock_hash(&implied.read(".terraform.lock.hcl"), tf),
        hash,
        "{tf}"
    );
}

/// The `h1:` hash the lock file records for this provider at this version (panics unless it is there).
fn lock_hash(lock: &str, tf: &TerraformBinary) -> String {
    let block = lock
        .split("provider \"registry.terraform.io/cph-community/cph\" {")
        .nth(1)
        .unwrap_or_else(|| panic!("{tf}: no entry for the provider in the lock file:\n{lock}"));
    let version = block
        .lines()
        .filter_map(|l| l.trim().strip_prefix("version"))
        .find_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"'));
    assert_eq!(version, Some(PROVIDER_VERSION), "{tf}: {lock}");
    let start = block
        .find("\"h1:")
        .unwrap_or_else(|| panic!("{tf}: no h1: hash in the lock file:\n{lock}"));
    let rest = &block[start + 1..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[test]
fn terraform_1_0_3_installs_the_provider_from_the_mirror_and_plans_against_the_simulator() {
    installs_from_the_mirror_and_plans(&binaries()[0]);
}

#[test]
fn terraform_1_11_installs_the_provider_from_the_mirror_and_plans_against_the_simulator() {
    installs_from_the_mirror_and_plans(&binaries()[1]);
}

#[test]
fn terraform_1_15_installs_the_provider_from_the_mirror_and_plans_against_the_simulator() {
    installs_from_the_mirror_and_plans(&binaries()[2]);
}
