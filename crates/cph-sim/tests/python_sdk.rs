//! The official Huawei Cloud Python SDK against the simulator: `scripts/check-python-sdk.sh` installs the SDK
//! (huaweicloudsdkcph 3.1.219, pinned there) into the tools directory when it is not there yet and runs
//! `scripts/python-sdk-check.py`, whose own client signs with AK/SK as any SDK user's does: it lists phones, asks
//! BatchShowPhoneConnectInfos twice (new tickets each time) and for 11 phones (HTTP 400), and presents the tickets to
//! the access gateway's stand-in `POST /_sim/connect`. Never skipped: when Python 3, venv, pip or PyPI is missing,
//! the test fails with the script's message saying how to get them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use cph_sim::{SimConfig, Simulator};
use tokio::process::Command;

/// Room for a first run, which installs the SDK from PyPI (about 15 s on a good connection); a later run takes
/// about a second.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_gets_fresh_tickets_that_the_access_gateway_stand_in_accepts() {
    let config = SimConfig::default();
    let sim = Simulator::start(config.clone()).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-python-sdk.sh");
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .arg(sim.base_url())
        .env("HW_ACCESS_KEY", &config.access_key)
        .env("HW_SECRET_KEY", &config.secret_key)
        .env("HW_PROJECT_ID", &config.project_id)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} did not finish within {SCRIPT_TIMEOUT:?}",
                script.display()
            )
        })
        .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} {} failed ({}):\n--- stdout\n{stdout}--- stderr\n{stderr}",
        script.display(),
        sim.base_url(),
        output.status
    );
    assert!(
        stdout.contains("python-sdk-check: every check passed"),
        "--- stdout\n{stdout}--- stderr\n{stderr}"
    );

    // The script's calls reached this simulator: one listing, two connection calls and the refused one of 11
    // phones, each ticket of the second call accepted once, and one ticket refused for another phone.
    let stats = sim.stats();
    let requests = |name: &str| stats.requests.get(name).copied().unwrap_or(0);
    assert_eq!(requests("ListCloudPhones"), 1, "{stats:?}");
    assert_eq!(requests("BatchShowPhoneConnectInfos"), 3, "{stats:?}");
    assert_eq!(requests("SimConnect"), 4, "{stats:?}");
    assert_eq!(stats.connections_accepted, 3, "{stats:?}");
    sim.shutdown().await;
}
