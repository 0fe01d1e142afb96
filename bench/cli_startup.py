"""How long a call of the `sinergi` CLI takes (issue 23: `--version` and `--help` under 150 ms, `case status`
against a running server under 400 ms).

Starts `sinergi dev` in a temporary folder on free ports, opens a case, then times each command with hyperfine
(`apt-get install hyperfine`): warm-up runs first, then `--runs` runs each. Prints wall time (mean, median,
min) and the CPU the process used (user + system), with the machine's load average before and after:
on a loaded machine the wall time waits for the CPU, the CPU time much less so.

    .venv/bin/python bench/cli_startup.py --runs 20 --json bench/cli_startup.json
    .venv/bin/python bench/cli_startup.py --bytecode /tmp/pyc   # as a wheel install runs: modules compiled

`--bytecode DIR` compiles every module the commands import into DIR (PYTHONPYCACHEPREFIX) before timing: an
editable install with PYTHONDONTWRITEBYTECODE set (this machine) compiles sinergi's own modules on every call.
No test asserts a time; bench/RESULTS.md §11 has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINERGI = str(Path(sys.executable).parent / "sinergi")
EXAMPLE = ROOT / "examples" / "intake-pmi-malaysia.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path) -> Path:
    ports = {name: free_port() for name in ("temporal", "ui", "sandbox", "gateway", "metrics", "mail")}
    state = folder / "state"
    config = folder / "sinergi.toml"
    config.write_text(f"""
[temporal]
address = "127.0.0.1:{ports['temporal']}"

[gateway]
port = {ports['gateway']}

[dev]
ui_port = {ports['ui']}
mail_port = {ports['mail']}
sandbox_port = {ports['sandbox']}
state_dir = "{state}"
db_file = "{state / 'temporal.db'}"

[codec]
keys_file = "{state / 'keys.json'}"

[telemetry]
metrics_address = "127.0.0.1:{ports['metrics']}"
log_level = "WARNING"
""")
    return config


def start_dev(config: Path, env: dict[str, str], timeout: float = 90.0) -> subprocess.Popen:
    process = subprocess.Popen([SINERGI, "dev", "--config", str(config)], cwd=config.parent, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if "Stop" in line:
            return process
    stop_dev(process)
    raise SystemExit("sinergi dev did not start")


def stop_dev(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def load() -> str:
    """The load averages over 1, 5 and 15 minutes, as `uptime` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--bytecode", metavar="DIR", help="compile the modules into DIR first (PYTHONPYCACHEPREFIX)")
    parser.add_argument("--json", metavar="FILE", help="write the figures here too")
    args = parser.parse_args()
    if shutil.which("hyperfine") is None:
        raise SystemExit("hyperfine is needed: apt-get install -y hyperfine")

    folder = Path(tempfile.mkdtemp(prefix="sinergi-cli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_") and k != "OTEL_EXPORTER_OTLP_ENDPOINT"}
    env["HOME"] = str(folder)  # no user profile of this machine's user
    config = write_config(folder)
    dev = start_dev(config, env)
    try:
        opened = subprocess.run([SINERGI, "case", "open", str(EXAMPLE), "--config", str(config), "--json"],
                                cwd=folder, env=env, capture_output=True, text=True, check=True)
        case_id = json.loads(opened.stdout)["case_id"]
        commands = {
            "--version": [SINERGI, "--version"],
            "--help": [SINERGI, "--help"],
            "case --help": [SINERGI, "case", "--help"],
            "events": [SINERGI, "events", "--config", str(config)],
            "case status": [SINERGI, "case", "status", case_id, "--config", str(config)],
        }
        run_env = dict(env)
        if args.bytecode:
            run_env.pop("PYTHONDONTWRITEBYTECODE", None)
            run_env["PYTHONPYCACHEPREFIX"] = args.bytecode
            for argv in commands.values():  # compiled once, written into DIR; the timed runs only read it
                subprocess.run(argv, cwd=folder, env=run_env, capture_output=True, check=True)
            run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        before = load()
        export = folder / "hyperfine.json"
        subprocess.run(["hyperfine", "-N", "--warmup", str(args.warmup), "--runs", str(args.runs), "--style", "basic",
                        "--export-json", str(export), *(" ".join(argv) for argv in commands.values())],
                       cwd=folder, env=run_env, check=True, stdout=subprocess.DEVNULL)
        after = load()
    finally:
        stop_dev(dev)
    results = json.loads(export.read_text())["results"]
    rows = []
    for name, result in zip(commands, results, strict=True):
        rows.append({"command": name, "mean_ms": round(result["mean"] * 1000, 1),
                     "median_ms": round(result["median"] * 1000, 1), "min_ms": round(result["min"] * 1000, 1),
                     "cpu_ms": round((result["user"] + result["system"]) * 1000, 1), "runs": len(result["times"])})
    print(f"load average before {before}, after {after}; bytecode: {'compiled' if args.bytecode else 'as installed'}")
    print(f"{'command':<14} {'mean':>8} {'median':>8} {'min':>8} {'cpu':>8}  (ms)")
    for row in rows:
        print(f"{row['command']:<14} {row['mean_ms']:>8} {row['median_ms']:>8} {row['min_ms']:>8} {row['cpu_ms']:>8}")
    if args.json:
        Path(args.json).write_text(json.dumps({"load_before": before, "load_after": after,
                                               "bytecode": bool(args.bytecode), "results": rows}, indent=2) + "\n")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
