"""The local rehearsal: both meshes on one machine, every app behind a real Envoy sidecar."""
