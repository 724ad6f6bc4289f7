//! Launches the example provider the way Terraform does (cookie, protocol list, a fresh self-signed
//! CA certificate with an ECDSA P-521 key in `PLUGIN_CLIENT_CERT`), parses the handshake, connects
//! over mutual TLS and drives RPCs; checks refusal of other client certificates, the cookie message,
//! StopProvider cancellation, panic handling and the Shutdown deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tonic::transport::{Channel, Endpoint};

mod pb {
    #![allow(
        clippy::all,
        clippy::pedantic,
        dead_code,
        unreachable_pub,
        missing_docs
    )]
    include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
}
mod gp {
    #![allow(
        clippy::all,
        clippy::pedantic,
        dead_code,
        unreachable_pub,
        missing_docs
    )]
    include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
}

const PROVIDER: &str = env!("CARGO_BIN_EXE_terraform-provider-tfexample");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client identity like Terraform's: self-signed CA certificate, ECDSA P-521 key.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn client_identity() -> ClientIdentity {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

struct Launched {
    child: Child,
    network: String,
    address: String,
    server_cert: CertificateDer<'static>,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(client: &ClientIdentity) -> Launched {
    let mut child = Command::new(PROVIDER)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &client.pem)
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake {line:?}");
    assert_eq!(
        (fields[0], fields[1], fields[4]),
        ("1", "6", "grpc"),
        "handshake {line:?}"
    );
    assert!(
        !fields[5].contains('='),
        "certificate must be unpadded base64: {line:?}"
    );
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .unwrap();
    Launched {
        child,
        network: fields[2].to_owned(),
        address: fields[3].to_owned(),
        server_cert: CertificateDer::from(der),
    }
}

/// Trusts exactly the certificate from the handshake, as go-plugin does (a CA certificate used as an
/// end entity, which WebPKI would refuse), and verifies signatures with aws-lc-rs.
#[derive(Debug)]
struct PinnedServer {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

async fn connect(
    launched: &Launched,
    client: &ClientIdentity,
) -> Result<Channel, tonic::transport::Error> {
    assert_eq!(launched.network, "unix");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServer {
        cert: launched.server_cert.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(
            vec![client.der.clone()],
            PrivateKeyDer::Pkcs8(client.key.clone_key()),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let path = launched.address.clone();
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, path) = (connector.clone(), path.clone());
            async move {
                let socket = tokio::net::UnixStream::connect(path).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), socket)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

fn msgpack_object(pairs: &[(&str, rmpv::Value)]) -> Vec<u8> {
    let map = rmpv::Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (rmpv::Value::from(*k), v.clone()))
            .collect(),
    );
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &map).unwrap();
    out
}

fn dv(bytes: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    })
}

fn thing_config(name: &str, delay_ms: Option<i64>) -> Vec<u8> {
    use rmpv::Value as M;
    msgpack_object(&[
        ("id", M::Nil),
        ("name", M::from(name)),
        ("size", M::Nil),
        ("labels", M::Nil),
        ("items", M::Nil),
        ("create_delay_ms", delay_ms.map_or(M::Nil, M::from)),
        ("digest", M::Nil),
        ("timeouts", M::Nil),
    ])
}

#[tokio::test]
async fn terraform_style_launch_serves_schema_over_pinned_mutual_tls() {
    let client = client_identity();
    let launched = launch(&client);
    let channel = connect(&launched, &client)
        .await
        .expect("mTLS connection with the pinned certificate");
    let mut provider = pb::provider_client::ProviderClient::new(channel.clone());
    let schema = provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.resource_schemas.contains_key("tfexample_thing"));
    assert!(schema.data_source_schemas.contains_key("tfexample_echo"));
    assert!(schema.diagnostics.is_empty());

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn protocol_6_10_discovery_answers_none_and_unserved_rpcs_are_unimplemented_over_the_wire() {
    let client = client_identity();
    let launched = launch(&client);
    let channel = connect(&launched, &client).await.unwrap();
    let mut provider = pb::provider_client::ProviderClient::new(channel);

    // What Terraform 1.12+ asks every provider right after the schema: no identities.
    let identities = provider
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(identities.identity_schemas.is_empty());
    let metadata = provider
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let resources: Vec<&str> = metadata
        .resources
        .iter()
        .map(|r| r.type_name.as_str())
        .collect();
    assert_eq!(resources, ["tfexample_thing"]);
    assert!(
        metadata.actions.is_empty()
            && metadata.list_resources.is_empty()
            && metadata.ephemeral_resources.is_empty()
            && metadata.functions.is_empty()
    );

    // A server-streamed RPC of a feature not served: a clean status, not a broken stream.
    let list = provider
        .list_resource(pb::list_resource::Request {
            type_name: "tfexample_thing".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(list.code(), tonic::Code::Unimplemented, "{list:?}");
    assert!(list.message().contains("list resources"), "{list:?}");
    let invoke = provider
        .invoke_action(pb::invoke_action::Request::default())
        .await
        .unwrap_err();
    assert_eq!(invoke.code(), tonic::Code::Unimplemented, "{invoke:?}");

    // The server is still healthy after them.
    provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn a_different_client_certificate_is_refused() {
    let client = client_identity();
    let launched = launch(&client);
    let stranger = client_identity();
    let attempt = async {
        let channel = connect(&launched, &stranger).await?;
        let mut provider = pb::provider_client::ProviderClient::new(channel);
        provider
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .map(|_| ())
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
    };
    let result: Result<(), Box<dyn std::error::Error>> = attempt.await;
    assert!(
        result.is_err(),
        "a stranger's certificate must not reach the provider"
    );
}

#[test]
fn launch_without_the_cookie_exits_1_with_the_message() {
    let out = Command::new(PROVIDER)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may go to stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("This binary is a plugin"), "{stderr}");
}

#[test]
fn launch_without_protocol_6_exits_non_zero() {
    let out = Command::new(PROVIDER)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("speaks only 6"));
}

#[tokio::test]
async fn shutdown_ends_the_process_in_under_two_seconds() {
    let client = client_identity();
    let mut launched = launch(&client);
    let channel = connect(&launched, &client).await.unwrap();
    let mut controller = gp::grpc_controller_client::GrpcControllerClient::new(channel);
    let started = Instant::now();
    controller.shutdown(gp::Empty {}).await.unwrap();
    loop {
        if let Some(status) = launched.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "provider still running 2 s after Shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !std::path::Path::new(&launched.address).exists(),
        "socket left behind"
    );
}

#[tokio::test]
async fn sigint_is_ignored() {
    let client = client_identity();
    let mut launched = launch(&client);
    let pid = launched.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        launched.child.try_wait().unwrap().is_none(),
        "SIGINT killed the provider"
    );
    let channel = connect(&launched, &client).await.unwrap();
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn stop_provider_cancels_an_in_flight_apply() {
    let client = client_identity();
    let launched = launch(&client);
    let channel = connect(&launched, &client).await.unwrap();
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    let configure = provider
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(msgpack_object(&[("prefix", rmpv::Value::from("t"))])),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        configure.diagnostics.is_empty(),
        "{:?}",
        configure.diagnostics
    );

    let mut applying = provider.clone();
    let started = Instant::now();
    let apply = tokio::spawn(async move {
        applying
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: "tfexample_thing".into(),
                prior_state: dv(vec![0xc0]),
                planned_state: dv(thing_config("slow", Some(60_000))),
                config: dv(thing_config("slow", Some(60_000))),
                planned_private: Vec::new(),
                provider_meta: None,
                planned_identity: None,
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    provider
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap();
    let response = apply.await.unwrap().unwrap().into_inner();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "apply was not cancelled promptly"
    );
    assert!(
        response
            .diagnostics
            .iter()
            .any(|d| d.summary == "Interrupted"),
        "{:?}",
        response.diagnostics
    );
}

#[tokio::test]
async fn panics_and_unknown_types_become_error_diagnostics() {
    let client = client_identity();
    let launched = launch(&client);
    let channel = connect(&launched, &client).await.unwrap();
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    let read = provider
        .read_data_source(pb::read_data_source::Request {
            type_name: "tfexample_echo".into(),
            config: dv(msgpack_object(&[
                ("text", rmpv::Value::from("__panic__")),
                ("upper", rmpv::Value::Nil),
            ])),
            provider_meta: None,
            client_capabilities: None,
        })
        .await
        .expect("a panic must not become a transport error")
        .into_inner();
    assert!(
        read.diagnostics
            .iter()
            .any(|d| d.summary == "Provider Panicked"),
        "{:?}",
        read.diagnostics
    );

    let unknown = provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tfexample_nope".into(),
            config: dv(vec![0xc0]),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        unknown
            .diagnostics
            .iter()
            .any(|d| d.summary == "Unknown Resource Type")
    );

    // The server is still healthy after both.
    provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
}

#[tokio::test]
async fn plan_marks_computed_unknown_and_reports_requires_replace() {
    let client = client_identity();
    let launched = launch(&client);
    let channel = connect(&launched, &client).await.unwrap();
    let mut provider = pb::provider_client::ProviderClient::new(channel);
    let prior = {
        use rmpv::Value as M;
        msgpack_object(&[
            ("id", M::from("t-old")),
            ("name", M::from("old")),
            ("size", M::Nil),
            ("labels", M::Nil),
            ("items", M::Nil),
            ("create_delay_ms", M::Nil),
            ("digest", M::from("abc")),
            ("timeouts", M::Nil),
        ])
    };
    let mut proposed = thing_config("new", None);
    // Terraform's proposal carries the prior computed values.
    proposed = {
        let mut v = rmpv::decode::read_value(&mut &proposed[..]).unwrap();
        let rmpv::Value::Map(entries) = &mut v else {
            panic!("not a map")
        };
        for (k, val) in entries {
            match k.as_str() {
                Some("id") => *val = rmpv::Value::from("t-old"),
                Some("digest") => *val = rmpv::Value::from("abc"),
                _ => {}
            }
        }
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &v).unwrap();
        out
    };
    let plan = provider
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "tfexample_thing".into(),
            prior_state: dv(prior),
            proposed_new_state: dv(proposed),
            config: dv(thing_config("new", None)),
            prior_private: b"private-bytes".to_vec(),
            provider_meta: None,
            client_capabilities: None,
            prior_identity: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(plan.planned_private, b"private-bytes");
    assert_eq!(plan.requires_replace.len(), 1);
    let step = &plan.requires_replace[0].steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );
    let planned = rmpv::decode::read_value(&mut &plan.planned_state.unwrap().msgpack[..]).unwrap();
    let get = |k: &str| {
        planned
            .as_map()
            .unwrap()
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(
        get("id"),
        rmpv::Value::from("t-old"),
        "use_state_for_unknown keeps the id"
    );
    assert_eq!(
        get("digest"),
        rmpv::Value::Ext(0, vec![0]),
        "digest is recomputed, so unknown"
    );
}

/// Whether process `pid` still runs (a zombie waiting to be reaped counts as gone).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn the_provider_exits_when_terraform_dies_without_shutting_it_down() {
    // A shell stands in for Terraform: it launches the provider, then exits without Shutdown, as a
    // crashed or killed Terraform does.
    let out = Command::new("bash")
        .arg("-c")
        .arg("\"$0\" >/dev/null 2>&1 </dev/null & echo $!; sleep 0.5")
        .arg(PROVIDER)
        .env(tfplugin::MAGIC_COOKIE_KEY, tfplugin::MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", client_identity().pem)
        .env_remove(tfplugin::DANGER_ALLOW_PLAINTEXT)
        .output()
        .unwrap();
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive = process_alive(pid);
    if alive {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    assert!(
        !alive,
        "the orphaned provider {pid} is still running 5 s after its parent exited"
    );
}

/// Launches the provider as Terraform with `TF_DISABLE_PLUGIN_TLS` does (no client certificate) and
/// returns its exit status (when it exited within 5 s), the handshake line and stderr.
fn launch_without_certificate(
    danger: Option<&str>,
) -> (Option<std::process::ExitStatus>, String, String) {
    let mut cmd = Command::new(PROVIDER);
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove(tfplugin::DANGER_ALLOW_PLAINTEXT)
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(value) = danger {
        cmd.env(tfplugin::DANGER_ALLOW_PLAINTEXT, value);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, line, stderr)
}

#[test]
fn without_terraforms_certificate_plaintext_grpc_is_refused_unless_the_danger_variable_allows_it() {
    // Refused: no handshake, a failure exit, and words saying why and what to do.
    let (status, line, stderr) = launch_without_certificate(None);
    assert!(line.is_empty(), "no handshake may be printed: {line:?}");
    assert!(
        status.is_some_and(|s| !s.success()),
        "the provider must exit with a failure: {status:?}"
    );
    assert!(
        stderr.contains("refusing") && stderr.contains("TF_DISABLE_PLUGIN_TLS"),
        "{stderr}"
    );
    assert!(
        stderr.contains(tfplugin::DANGER_ALLOW_PLAINTEXT),
        "{stderr}"
    );
    // Any other value is not an explicit yes.
    let (status, line, _) = launch_without_certificate(Some("yes please"));
    assert!(line.is_empty() && status.is_some_and(|s| !s.success()));

    // Allowed explicitly: it serves, says so, and the handshake carries no certificate.
    let (status, line, stderr) = launch_without_certificate(Some("1"));
    assert_eq!(status, None, "it must keep serving: {stderr}");
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake {line:?}");
    assert_eq!(
        fields[5], "",
        "no certificate in a plaintext handshake: {line:?}"
    );
    assert!(
        stderr.contains("serving plaintext gRPC without mutual TLS"),
        "{stderr}"
    );
}
