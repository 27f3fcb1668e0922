"""celestials: the program's own layers: stack settings, the topology model and its renderers
(pure), plus the local rehearsal and its trace sink (the I/O that runs the rendered meshes here)."""
