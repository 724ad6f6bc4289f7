//! The `serve` entry point: magic-cookie check, protocol negotiation, listener (unix socket in a
//! fresh 0700 directory, loopback TCP as fallback), AutoMTLS, the handshake line, signals, shutdown.

use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use crate::grpc::{Controller, ProviderService};
use crate::proto::plugin::grpc_controller_server::GrpcControllerServer;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::{Error, Provider, Result};

/// The cookie Terraform (and OpenTofu) set for provider processes.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The cookie's value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// gRPC message size limit, as Go providers use (large plans and states must not fail).
const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// The environment variable that lets a provider serve plaintext gRPC when Terraform sent no client
/// certificate (Terraform runs with `TF_DISABLE_PLUGIN_TLS`). Without it such a launch is refused: the
/// channel carries credentials and state, and must be mutual TLS pinned to Terraform's certificate.
pub const DANGER_ALLOW_PLAINTEXT: &str = "TFPLUGIN_DANGER_ALLOW_PLAINTEXT_GRPC";

/// How long a graceful stop may take after Shutdown before the server is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// How the provider is served.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    provider_address: String,
    debug: bool,
}

impl ServeConfig {
    /// Serving for `provider_address` such as `registry.terraform.io/example/cph`.
    pub fn new(provider_address: impl Into<String>) -> Self {
        Self {
            provider_address: provider_address.into(),
            debug: false,
        }
    }

    /// Like [`ServeConfig::new`], turning debug mode on when the process arguments contain `--debug`.
    pub fn from_args(provider_address: impl Into<String>) -> Self {
        let debug = std::env::args()
            .skip(1)
            .any(|a| a == "--debug" || a == "-debug");
        Self::new(provider_address).debug(debug)
    }

    /// Debug (reattach) mode: no cookie, plaintext, prints `TF_REATTACH_PROVIDERS`, runs until SIGINT/SIGTERM.
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }
}

/// Serves `provider` to Terraform until Shutdown; returns the process exit code.
///
/// Sets up logging (hclog JSON on stderr, level from `TF_LOG_PROVIDER`/`TF_LOG`) and a Tokio runtime.
/// When not launched by Terraform, explains on stderr and returns exit code 1.
pub fn serve<P: Provider>(provider: P, config: ServeConfig) -> ExitCode {
    crate::log::init();
    // Panics are caught per RPC; log them as JSON lines too instead of raw text on stderr.
    std::panic::set_hook(Box::new(
        |info| tracing::error!(panic = %info, "provider panicked"),
    ));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve_async(provider, config));
    // Do not wait for stray tasks (a client connection, an operation stuck after StopProvider).
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::NotLaunchedByTerraform) => {
            let _ = writeln!(
                std::io::stderr(),
                "This binary is a plugin. These are not meant to be executed directly.\n\
                 Please execute the program that consumes these plugins, which will\n\
                 load any plugins automatically (terraform init, plan, apply)."
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            tracing::error!(error = %e, "provider server failed");
            ExitCode::FAILURE
        }
    }
}

/// The async core of [`serve`], for callers that run their own runtime and logging.
pub async fn serve_async<P: Provider>(provider: P, config: ServeConfig) -> Result<()> {
    if !config.debug {
        check_cookie(std::env::var(MAGIC_COOKIE_KEY).ok().as_deref())?;
        check_protocol(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
    }
    let client_cert = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() && !config.debug => {
            Some(crate::tls::parse_client_cert(&pem)?)
        }
        _ => None,
    };
    if client_cert.is_none() && !config.debug {
        plaintext_allowed(std::env::var(DANGER_ALLOW_PLAINTEXT).ok().as_deref())?;
        let _ = writeln!(
            std::io::stderr(),
            "warning: serving plaintext gRPC without mutual TLS because {DANGER_ALLOW_PLAINTEXT} is set; \
             anything on this machine that reaches the socket can drive the provider"
        );
        tracing::warn!(
            "serving plaintext gRPC without mutual TLS because {DANGER_ALLOW_PLAINTEXT} is set"
        );
    }
    let tls = match client_cert {
        Some(cert) => {
            let identity = crate::tls::generate_server_identity()?;
            let server_config = crate::tls::server_config(&identity, cert)?;
            Some((
                identity.cert,
                tokio_rustls::TlsAcceptor::from(Arc::new(server_config)),
            ))
        }
        None => None,
    };

    let shutdown = CancellationToken::new();
    let (listener, socket_dir) = bind_listener().await?;
    let (network, address) = listener.describe()?;
    let incoming = accept_loop(
        listener,
        tls.as_ref().map(|(_, a)| a.clone()),
        shutdown.clone(),
    );

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider_service = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let controller = GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
    });

    if config.debug {
        print_reattach(&config.provider_address, &network, &address)?;
        spawn_debug_signals(shutdown.clone());
    } else {
        let cert = tls
            .as_ref()
            .map(|(c, _)| base64::engine::general_purpose::STANDARD_NO_PAD.encode(c.as_ref()));
        // Terraform forwards Ctrl-C as StopProvider: SIGINT must be ignored from before the handshake, or a
        // Ctrl-C right after launch kills the provider.
        spawn_ignore_sigint();
        spawn_orphan_watch(shutdown.clone());
        print_handshake(&network, &address, cert.as_deref())?;
    }
    tracing::info!(
        network,
        address,
        tls = tls.is_some(),
        "serving terraform plugin protocol 6"
    );

    let stop = shutdown.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(provider_service)
        .add_service(controller)
        .serve_with_incoming_shutdown(incoming, async move { stop.cancelled().await });
    let outcome = tokio::select! {
        r = server => r.map_err(|e| Error::Transport(e.to_string())),
        () = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => Ok(()),
    };
    if let Some(dir) = socket_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    tracing::debug!("plugin server stopped");
    outcome
}

/// Whether serving without Terraform's client certificate is allowed: only with
/// [`DANGER_ALLOW_PLAINTEXT`] set to `1` or `true`.
fn plaintext_allowed(value: Option<&str>) -> Result<()> {
    match value.map(str::trim) {
        Some("1" | "true") => Ok(()),
        _ => Err(Error::PlaintextRefused),
    }
}

fn check_cookie(value: Option<&str>) -> Result<()> {
    if value == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(Error::NotLaunchedByTerraform)
    }
}

fn check_protocol(offered: Option<&str>) -> Result<()> {
    match offered {
        None => Ok(()),
        Some(list) if list.split(',').any(|v| v.trim() == "6") => Ok(()),
        Some(list) => Err(Error::UnsupportedProtocol(list.to_owned())),
    }
}

enum Listener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener),
}

impl Listener {
    fn describe(&self) -> Result<(String, String)> {
        Ok(match self {
            Listener::Unix(_, path) => ("unix".into(), path.display().to_string()),
            Listener::Tcp(l) => ("tcp".into(), l.local_addr()?.to_string()),
        })
    }
}

/// A fresh 0700 directory holding `plugin.sock`; loopback TCP within the port range as fallback.
async fn bind_listener() -> Result<(Listener, Option<PathBuf>)> {
    match bind_unix() {
        Ok((l, path, dir)) => return Ok((Listener::Unix(l, path), Some(dir))),
        Err(e) => {
            tracing::warn!(error = %e, "unix socket unavailable, falling back to loopback tcp")
        }
    }
    let port = |name: &str, default: u16| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (min, max) = (
        port("PLUGIN_MIN_PORT", 10000),
        port("PLUGIN_MAX_PORT", 25000),
    );
    for p in min..=max {
        if let Ok(l) = TcpListener::bind(("127.0.0.1", p)).await {
            return Ok((Listener::Tcp(l), None));
        }
    }
    Err(Error::Io(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free loopback port in {min}..={max}"),
    )))
}

fn bind_unix() -> std::io::Result<(UnixListener, PathBuf, PathBuf)> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let base = std::env::temp_dir();
    let mut last_err = None;
    for _ in 0..8 {
        let suffix: u64 = rand::random();
        let dir = base.join(format!("tfplugin-{}-{suffix:016x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                // The umask may have narrowed the mode; set it explicitly.
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                let path = dir.join("plugin.sock");
                let listener = UnixListener::bind(&path)?;
                return Ok((listener, path, dir));
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("could not create socket directory")))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One accepted connection (plain or TLS, unix or TCP), as tonic serves it.
struct Conn(Box<dyn Io>);

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// Accepts connections, completing TLS handshakes concurrently; refused handshakes are logged and dropped.
fn accept_loop(
    listener: Listener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted: std::io::Result<Box<dyn Io>> = tokio::select! {
                () = shutdown.cancelled() => return,
                r = async {
                    match &listener {
                        Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Io>),
                        Listener::Tcp(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Io>),
                    }
                } => r,
            };
            let stream = match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let tx = tx.clone();
            match &tls {
                None => {
                    if tx.send(Ok(Conn(stream))).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls_stream) => {
                                let _ = tx.send(Ok(Conn(Box::new(tls_stream)))).await;
                            }
                            Err(e) => tracing::warn!(error = %e, "tls handshake refused"),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}

/// The one line go-plugin reads: `1|6|network|address|grpc|cert`.
pub(crate) fn handshake_line(network: &str, address: &str, cert_b64: Option<&str>) -> String {
    format!("1|6|{network}|{address}|grpc|{}", cert_b64.unwrap_or(""))
}

#[allow(clippy::print_stdout)]
fn print_handshake(network: &str, address: &str, cert_b64: Option<&str>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", handshake_line(network, address, cert_b64))?;
    out.flush()?;
    Ok(())
}

fn print_reattach(provider_address: &str, network: &str, address: &str) -> Result<()> {
    let reattach = serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": 6,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": network, "String": address },
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Provider started in debug mode. To attach Terraform, set in your shell:\n"
    )?;
    writeln!(out, "\tTF_REATTACH_PROVIDERS='{reattach}'\n")?;
    out.flush()?;
    Ok(())
}

/// Terraform forwards Ctrl-C as StopProvider; the signal itself must not kill the plugin.
fn spawn_ignore_sigint() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::interrupt()) {
        Ok(mut sigint) => {
            tokio::spawn(async move {
                while sigint.recv().await.is_some() {
                    tracing::debug!("ignoring SIGINT; terraform sends StopProvider");
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "could not install the SIGINT handler"),
    }
}

/// How often the provider checks that Terraform is still its parent.
const ORPHAN_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Stops serving when the process that launched the provider is gone (Terraform crashed or was killed
/// without calling Shutdown): the provider is then re-parented, and an orphan would otherwise live on,
/// holding the pipes of whoever ran Terraform.
fn spawn_orphan_watch(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(ORPHAN_CHECK_INTERVAL) => {}
            }
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!(
                    parent,
                    "terraform exited without shutting the provider down; stopping"
                );
                shutdown.cancel();
                return;
            }
        }
    });
}

fn spawn_debug_signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("could not install signal handlers for debug mode");
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        shutdown.cancel();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(matches!(
            check_cookie(None),
            Err(Error::NotLaunchedByTerraform)
        ));
        assert!(check_cookie(Some("nope")).is_err());
    }

    #[test]
    fn protocol_6_must_be_offered_in_any_order() {
        assert!(check_protocol(Some("5,6")).is_ok());
        assert!(check_protocol(Some("6, 5")).is_ok());
        assert!(check_protocol(None).is_ok());
        let err = check_protocol(Some("4,5")).unwrap_err();
        assert!(err.to_string().contains("4,5"));
    }

    #[test]
    fn handshake_line_has_six_fields() {
        assert_eq!(
            handshake_line("unix", "/tmp/x/plugin.sock", None),
            "1|6|unix|/tmp/x/plugin.sock|grpc|"
        );
        assert_eq!(
            handshake_line("tcp", "127.0.0.1:10000", Some("QUJD"))
                .split('|')
                .count(),
            6
        );
    }

    #[test]
    fn socket_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_l, path, dir) = {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _guard = rt.enter();
            bind_unix().unwrap()
        };
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(path.starts_with(&dir));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
