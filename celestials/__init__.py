"""celestials: the pure layers (settings, topology model, renderers) of the Pulumi program."""
