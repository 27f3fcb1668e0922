"""Offline synth: the real program evaluated under Pulumi's mock runtime (no cloud, no CLI)."""
