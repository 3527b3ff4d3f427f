"""Runs a multi-process JAX job on this machine: N processes over loopback.

Each process gets ``--devices_per_process`` CPU devices and the flags
``--coordinator_address=127.0.0.1:PORT --num_processes=N --process_id=I``
appended to its command line, exactly as a multi-host job would pass them, so
the same code path (``jax.distributed``, per-process data, collective
checkpoints) runs on a laptop. Output lines are prefixed with ``[I]``.

  python launch/local.py --num_processes=2 -- \\
      --config=configs/thumos_lgca_caav.py:smoke --workdir=/tmp/wtal_mp

Everything after ``--`` goes to ``python -m wtal_jax.main`` (or to
``--module`` / ``--script``). If one process fails, the others are stopped
and the launcher exits with its status. SIGTERM or Ctrl-C to the launcher is
forwarded to every process, which save a checkpoint and exit (status 143).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def free_port() -> int:
  """A TCP port that is free on 127.0.0.1 right now."""
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def process_command(args, process_id: int, port: int) -> list[str]:
  """The command line of process ``process_id``."""
  if args.script:
    base = [sys.executable, args.script]
  else:
    base = [sys.executable, "-m", args.module]
  return base + list(args.args) + [
      f"--coordinator_address=127.0.0.1:{port}",
      f"--num_processes={args.num_processes}", f"--process_id={process_id}"]


def process_env(devices_per_process: int) -> dict[str, str]:
  """The environment of every process: CPU only, N devices each."""
  env = dict(os.environ)
  flags = [f for f in env.get("XLA_FLAGS", "").split()
           if not f.startswith("--xla_force_host_platform_device_count")]
  flags.append(f"--xla_force_host_platform_device_count={devices_per_process}")
  env["XLA_FLAGS"] = " ".join(flags)
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONUNBUFFERED"] = "1"
  return env


def _pump(stream, prefix: str, out) -> None:
  for line in iter(stream.readline, ""):
    out.write(f"{prefix}{line}")
    out.flush()


def launch(args) -> int:
  """Starts the processes and waits for them; returns the job's status."""
  port = args.port or free_port()
  env = process_env(args.devices_per_process)
  procs, pumps = [], []
  for i in range(args.num_processes):
    p = subprocess.Popen(process_command(args, i, port), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    t = threading.Thread(target=_pump, args=(p.stdout, f"[{i}] ", sys.stdout),
                         daemon=True)
    t.start()
    procs.append(p)
    pumps.append(t)

  def forward(signum, frame):  # pylint: disable=unused-argument
    for p in procs:
      if p.poll() is None:
        p.send_signal(signal.SIGTERM)

  signal.signal(signal.SIGTERM, forward)
  signal.signal(signal.SIGINT, forward)

  status = 0
  while any(p.poll() is None for p in procs):
    failed = [p for p in procs if p.poll() not in (None, 0)]
    if failed and status == 0:
      status = failed[0].returncode
      # The survivors would wait for the failed process in their next
      # collective until a timeout; a stopped job stops now.
      time.sleep(args.grace_seconds)
      for p in procs:
        if p.poll() is None:
          p.kill()
    time.sleep(0.1)
  for t in pumps:
    t.join(timeout=5)
  if status == 0:
    status = next((p.returncode for p in procs if p.returncode), 0)
  return status


def parse_args(argv):
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n", 1)[0],
      formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--num_processes", "-n", type=int, default=2)
  parser.add_argument("--devices_per_process", type=int, default=1,
                      help="CPU devices of each process.")
  parser.add_argument("--port", type=int, default=0,
                      help="Coordinator port (default: a free one).")
  parser.add_argument("--module", default="wtal_jax.main",
                      help="Python module each process runs.")
  parser.add_argument("--script", default="",
                      help="Python script each process runs (instead of "
                           "--module).")
  parser.add_argument("--grace_seconds", type=float, default=2.0,
                      help="After a process fails, how long the others get "
                           "to report before they are killed.")
  parser.add_argument("args", nargs=argparse.REMAINDER,
                      help="Arguments after '--' for every process.")
  args = parser.parse_args(argv)
  if args.args and args.args[0] == "--":
    args.args = args.args[1:]
  if args.num_processes < 1 or args.devices_per_process < 1:
    parser.error("--num_processes and --devices_per_process must be >= 1.")
  return args


if __name__ == "__main__":
  sys.exit(launch(parse_args(sys.argv[1:])))
