"""The AWS App Mesh mesh backend: controller release, data-plane IAM, mesh objects and the
end-of-support guard (the plugin is `backend.AppMeshBackendPlugin`)."""
