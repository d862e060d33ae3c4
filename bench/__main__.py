"""Run the benchmarks: `python -m bench [--scale] [--smoke] [names…]`. Every figure is printed
on a line of its own as `bench: <name> <value> <unit>`. --smoke runs tiny sizes to prove the
benchmarks still work (CI); the targets are for the full sizes on this machine. --scale runs the
large ones instead (`make bench-scale`, docs/scaling.md), which take many minutes each."""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FULL = {
    "catalog": {"services": 10_000},
    "polling": {"orders": 100_000},
    "forwarding": {"orders": 50},
    "api": {"services": 10_000, "add_seconds": 10.0},
    "add_cpu": {"services": 300, "slices": 8, "per_slice": 150},
    "dashboard": {"orders": 1_000_000},
    "services_page": {"services": 10_000, "per_service": 3},
    "webhooks": {"webhooks": 2_000},
    "scaleout": {"poll_orders": 100_000, "forward_orders": 2_000, "forward_latency_ms": 10},
    "margin": {"services": 10_000},
    "scorecard": {"orders": 200_000},
    "webhook_chain": {"orders": 5, "poll_seconds": 5, "interval_seconds": 10},
    "reconcile": {"orders": 2_000, "each": 10},
    "affiliates": {"customers": 1_000, "deposits": 5_000},
}
SMOKE = {
    "catalog": {"services": 300},
    "polling": {"orders": 1_000, "latency_ms": 5},
    "forwarding": {"orders": 5},
    "api": {"services": 300, "add_seconds": 1.0},
    "add_cpu": {"services": 50, "slices": 2, "per_slice": 20},
    "dashboard": {"orders": 5_000},
    "services_page": {"services": 300, "per_service": 3},
    "webhooks": {"webhooks": 150},
    "scaleout": {
        "poll_orders": 2_000,
        "forward_orders": 20,
        "forward_latency_ms": 0,
        "worker_counts": (1, 2),
    },
    "margin": {"services": 300},
    "scorecard": {"orders": 3_000},
    "webhook_chain": {"orders": 1, "poll_seconds": 1, "interval_seconds": 2},
    "reconcile": {"orders": 60, "each": 3},
    "affiliates": {"customers": 60, "deposits": 200},
}

# The large benchmarks (`make bench-scale`): run apart from `make bench`, and slow.
SCALE = {
    "catalog_scale": {"services": 100_000},
    "api_scale": {"services": 10_000, "add_seconds": 10.0, "existing_orders": 1_000_000},
    # Two pollers, as a two-core install runs its workers (docs/scaling.md, "Worker settings").
    "poll_scale": {"live_orders": 1_000_000, "finished_orders": 3_000_000, "pollers": 2},
    # A thousand panels on one install (docs/child-panels.md): provisioning, a poll round over
    # all of them, a worker's memory, migrating them all.
    "child_panels": {
        "panels": 1_000,
        "services": 200,
        "orders_per_panel": 10,
        "page_requests": 50,
    },
}
SCALE_SMOKE = {
    "catalog_scale": {"services": 300},
    "api_scale": {"services": 300, "add_seconds": 1.0, "existing_orders": 2_000},
    "poll_scale": {"live_orders": 2_000, "finished_orders": 6_000, "latency_ms": 5, "pollers": 2},
    "child_panels": {"panels": 12, "services": 20, "orders_per_panel": 3, "page_requests": 5},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: proves the benchmarks run"
    )
    parser.add_argument(
        "--scale", action="store_true", help=f"the large benchmarks: {', '.join(SCALE)}"
    )
    parser.add_argument(
        "names", nargs="*", help=f"which benchmarks, of {', '.join(FULL)} (default: all)"
    )
    args = parser.parse_args()
    known = SCALE if args.scale else FULL
    if unknown := set(args.names) - known.keys():
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.scale:
        # A catalog of 100,000 services takes the sandbox longer to answer than the tests'
        # two-second read timeout on a busy machine.
        os.environ.setdefault("PANEL_TEST_PROVIDER_READ_TIMEOUT", "300")
    from bench.common import setup_django

    setup_django()
    from bench import (
        add_cpu,
        affiliates,
        api,
        catalog,
        catalog_scale,
        child_panels,
        dashboard,
        forwarding,
        margin,
        poll_scale,
        polling,
        reconcile,
        scaleout,
        scorecard,
        services_page,
        webhook_chain,
        webhooks,
    )

    modules = {
        "catalog": catalog,
        "polling": polling,
        "forwarding": forwarding,
        "api": api,
        "add_cpu": add_cpu,
        "dashboard": dashboard,
        "services_page": services_page,
        "webhooks": webhooks,
        "scaleout": scaleout,
        "margin": margin,
        "scorecard": scorecard,
        "webhook_chain": webhook_chain,
        "reconcile": reconcile,
        "affiliates": affiliates,
        "catalog_scale": catalog_scale,
        "api_scale": api,
        "poll_scale": poll_scale,
        "child_panels": child_panels,
    }
    if args.scale:
        sizes = SCALE_SMOKE if args.smoke else SCALE
    else:
        sizes = SMOKE if args.smoke else FULL
        modules = {name: module for name, module in modules.items() if name in FULL}
    for name in args.names or list(sizes):
        print(f"== {name} {sizes[name]}", flush=True)
        start = time.perf_counter()
        modules[name].run(**sizes[name])
        print(f"== {name} took {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
