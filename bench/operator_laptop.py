"""What an operator's laptop pays for holding no keys (issue 24): `sinergi case status` with the local keys file
against the same command coding through the gateway's codec endpoint (`[codec] endpoint`, an operator's token),
each decode audited in the case record.

Starts `sinergi dev` in a temporary folder on free ports (as bench/cli_startup.py), adds an operator with
`sinergi admin operator add`, opens a case, then times both with hyperfine (`apt-get install hyperfine`).

    .venv/bin/python bench/operator_laptop.py --runs 20

No test asserts a time; bench/RESULTS.md §12 has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from cli_startup import EXAMPLE, SINERGI, load, start_dev, stop_dev, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sinergi-operator-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_") and k != "OTEL_EXPORTER_OTLP_ENDPOINT"}
    env["HOME"] = str(folder)
    config = write_config(folder)
    dev = start_dev(config, env)
    try:
        def sinergi(*argv: str, extra: dict[str, str] | None = None) -> str:
            return subprocess.run([SINERGI, *argv, "--config", str(config)], cwd=folder, env={**env, **(extra or {})},
                                  capture_output=True, text=True, check=True).stdout

        token = json.loads(sinergi("admin", "operator", "add", "bench.operator", "--role", "caseworker", "--json"))["token"]
        case_id = json.loads(sinergi("case", "open", str(EXAMPLE), "--json"))["case_id"]
        gateway = f"http://127.0.0.1:{_gateway_port(config)}/codec"
        laptop = folder / "laptop"
        laptop.mkdir()
        remote = {"SINERGI_CODEC_ENDPOINT": gateway, "SINERGI_TOKEN": token,
                  "SINERGI_CODEC_KEYS_FILE": str(laptop / "no-keys.json")}
        sinergi("case", "status", case_id, extra=remote)  # it works with no keys at all
        before = load()
        export = folder / "hyperfine.json"
        keyed = f"{SINERGI} case status {case_id} --config {config}"
        subprocess.run(["hyperfine", "-N", "--warmup", str(args.warmup), "--runs", str(args.runs), "--style", "basic",
                        "--export-json", str(export), "-n", "local keys", keyed], cwd=folder, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        keyed_result = json.loads(export.read_text())["results"][0]
        subprocess.run(["hyperfine", "-N", "--warmup", str(args.warmup), "--runs", str(args.runs), "--style", "basic",
                        "--export-json", str(export), "-n", "through the gateway", keyed], cwd=folder,
                       env={**env, **remote}, check=True, stdout=subprocess.DEVNULL)
        remote_result = json.loads(export.read_text())["results"][0]
        after = load()
        audits = subprocess.run(["sqlite3", str(folder / "state" / "records.db"),
                                 f"SELECT count(*) FROM decode_audits WHERE who = 'bench.operator'"],
                                capture_output=True, text=True).stdout.strip()
    finally:
        stop_dev(dev)
    print(f"load average before {before}, after {after}")
    for name, r in (("local keys", keyed_result), ("through the gateway", remote_result)):
        print(f"{name:22} median {r['median'] * 1000:7.1f} ms  mean {r['mean'] * 1000:7.1f} ms  "
              f"min {r['min'] * 1000:7.1f} ms")
    print(f"decodes audited for bench.operator: {audits or '(sqlite3 not installed)'}")


def _gateway_port(config: Path) -> int:
    import tomllib

    return tomllib.loads(config.read_text())["gateway"]["port"]


if __name__ == "__main__":
    main()
