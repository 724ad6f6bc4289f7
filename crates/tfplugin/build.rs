//! Generates the gRPC bindings from `proto/` with a pure-Rust proto compiler (no system `protoc`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "tfplugin6.proto",
        "grpc_controller.proto",
        "grpc_stdio.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }
    let descriptors = protox::compile(files, [&proto_dir])?;
    // Upstream's comments become the bindings' docs, except two with indented prose, which rustdoc would run as
    // doc tests.
    let mut messages = tonic_prost_build::Config::new();
    messages.disable_comments([
        ".tfplugin6.PlanResourceChange.Response.legacy_type_system",
        ".tfplugin6.ApplyResourceChange.Response.legacy_type_system",
    ]);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        // Every RPC is answered on purpose in src/grpc.rs (a stub would answer a new RPC silently).
        .generate_default_stubs(false)
        .compile_fds_with_config(descriptors, messages)?;
    Ok(())
}
