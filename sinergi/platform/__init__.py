"""What every sinergi process stands on, whatever it runs: configuration, the payload codec and secrets,
signatures, logs, traces and metrics, the Temporal connection and binaries, TOML files.

No case rules here (`sinergi.domain`) and no entrypoint (`sinergi.cli`, `sinergi.gateway`, `sinergi.worker`).
"""
