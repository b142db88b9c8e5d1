"""Command line: ``python -m components.transfer.emulator --store DIR --buckets DIR [--port N]``."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from components.common.logs import configure
from components.transfer.emulator.server import Faults, UnitySimulationEmulator

logger = logging.getLogger("components.transfer.emulator")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m components.transfer.emulator",
                                description="Serve Unity Simulation's data-transfer API locally.")
    p.add_argument("--store", required=True, help="folder with projects/<p>/run_executions/... as Unity keeps it")
    p.add_argument("--buckets", required=True, help="folder with one folder per destination bucket")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument("--token-env", default="USIM_ACCESS_TOKEN",
                   help="environment variable holding the one accepted token; unset: accept any token")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 429/503 answers")
    p.add_argument("--error-statuses", default="429,503",
                   help="comma-separated statuses the injected errors are drawn from (default 429,503)")
    p.add_argument("--retry-after", default="1", help="Retry-After of injected errors, seconds")
    p.add_argument("--drop-rate", type=float, default=0.0, help="share of dropped connections")
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of answers held back --delay s")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--copy-delay", type=float, default=0.0, help="seconds each transfer stays running")
    p.add_argument("--end-status", default="success", help="final status of every transfer")
    args = p.parse_args(argv)
    configure()
    token = os.environ.get(args.token_env) or None
    if token is None:
        logger.warning("%s is not set: any bearer token is accepted", args.token_env)
    try:
        statuses = tuple(int(code) for code in args.error_statuses.split(","))
    except ValueError:
        p.error(f"--error-statuses: {args.error_statuses!r}; expected HTTP statuses such as 429,503")
    faults = Faults(error_rate=args.error_rate, error_statuses=statuses, retry_after=args.retry_after, drop_rate=args.drop_rate,
                    slow_rate=args.slow_rate, delay=args.delay, copy_delay=args.copy_delay,
                    end_status=args.end_status)
    emu = UnitySimulationEmulator(args.store, args.buckets, token=token, host=args.host, port=args.port,
                                  faults=faults)
    print(f"export USIM_API_URL={emu.url}", flush=True)
    emu.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
