"""The Istio mesh backend (sidecar mode, Gateway API): control plane, meshes, the plugin in `backend`."""
