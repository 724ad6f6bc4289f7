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

/// A TCP relay in front of an address, on a port of its own: stopping it makes that port refuse
/// connections (and cuts the open ones), as an endpoint that went away does, while what is behind it
/// keeps its state; starting it again on the same port brings the endpoint back.
pub struct Relay {
    target: SocketAddr,
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    /// A relay on a free loopback port to `target`, started.
    pub fn start(target: SocketAddr) -> Relay {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut relay = Relay {
            target,
            addr,
            runtime,
            task: None,
        };
        relay.serve(listener);
        relay
    }

    /// The relay's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target;
        self.task = Some(self.runtime.spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    /// Stops relaying: the port refuses connections and the open ones are cut.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = self.runtime.block_on(task);
        }
    }

    /// Relays again on the same port (retrying the bind for up to 10 s).
    pub fn resume(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match self
                .runtime
                .block_on(tokio::net::TcpListener::bind(self.addr))
            {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}; retrying", self.addr);
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot relay on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }
}
