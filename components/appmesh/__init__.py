"""The AWS App Mesh mesh backend: controller release, trace collector, data-plane IAM, mesh
objects, canary routers and the end-of-support guard (entry points in `backend`)."""
