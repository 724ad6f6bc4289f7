//! A `cph-sim` running in-process on a runtime of its own, for tests and benchmarks whose own thread is busy
//! driving Terraform (a blocking child process), and the environment that points the provider at it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cph_sim::{SimConfig, Simulator};

use crate::terraform::Workdir;

/// A simulator serving from its own one-thread runtime; dropping it shuts the simulator down.
pub struct BackgroundSim {
    sim: Option<Simulator>,
    config: SimConfig,
    runtime: tokio::runtime::Runtime,
}

impl BackgroundSim {
    /// Starts a simulator with `config` (panics when it cannot).
    pub fn start(config: SimConfig) -> BackgroundSim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime.block_on(Simulator::start(config.clone())).unwrap();
        BackgroundSim {
            sim: Some(sim),
            config,
            runtime,
        }
    }

    /// The running simulator.
    pub fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    /// Stops the simulator (its jobs are gone) and starts a fresh one with the same configuration (same seed,
    /// so the same phones) on the same address, retrying the bind for up to 10 s.
    pub fn restart(&mut self) {
        let old = self.sim.take().unwrap();
        let addr: SocketAddr = old.local_addr();
        self.runtime.block_on(old.shutdown());
        let config = SimConfig {
            listen: addr,
            ..self.config.clone()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.runtime.block_on(Simulator::start(config.clone())) {
                Ok(sim) => {
                    self.sim = Some(sim);
                    return;
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {addr}: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot restart the simulator on {addr}: {e}"),
            }
        }
    }

    /// Points a Terraform work directory's provider at this simulator: endpoint, project and AK/SK from the
    /// simulator's configuration, and `poll_interval`.
    pub fn configure(&self, dir: &mut Workdir, poll_interval: &str) {
        dir.env("CPH_ENDPOINT", &self.sim().base_url())
            .env("HW_PROJECT_ID", &self.config.project_id)
            .env("HW_ACCESS_KEY", &self.config.access_key)
            .env("HW_SECRET_KEY", &self.config.secret_key)
            .env("CPH_POLL_INTERVAL", poll_interval);
    }
}

impl Drop for BackgroundSim {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}
