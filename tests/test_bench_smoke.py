"""The benchmarks still run (at toy sizes) and print their figures in the agreed format.
No figure is asserted against a target: this machine is shared and noisy."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^bench: (\S+) (-?\d+(\.\d+)?) (\S+)$")


@pytest.mark.slow
def test_benchmarks_run_and_print_bench_lines() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,  # the webhook chain starts three whole panels
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = {match[1] for line in result.stdout.splitlines() if (match := LINE.match(line))}
    assert {
        "catalog_first_import",
        "catalog_resync_unchanged",
        "catalog_resync_unchanged_read",
        "catalog_resync_10pct_changed",
        "poll_all_orders_batched",
        "poll_all_orders_one_per_request_estimate",
        "forward_latency_median",
        "forward_latency_p95",
        "api_status_100_ids_median",
        "api_services_median",
        "api_add_rate_gunicorn",
        "api_minimal_drf_rate_gunicorn",
        "dashboard_rollup_full",
        "dashboard_figures_30d_median",
        "dashboard_page_30d_median",
        "services_page_10k_with_times_median",
        "delivery_times_full_refresh",
        "webhooks_rate_gunicorn",
        "webhook_latency_p95",
        "api_insert_one_row_rate_gunicorn",
        "api_add_vs_insert_one_row",
        "poll_breakdown_claim",
        "poll_breakdown_write",
        "poll_breakdown_refunds",
        "reconcile_found_planted",
        "reconcile_false_flags",
        "poll_breakdown_fetch_wait",
        "poll_breakdown_fetch_client_cpu",
        "poll_database_own_cpu",
        "poll_speedup_2_workers",
        "forward_speedup_2_workers",
        "poll_worker_peak_rss",
        "margin_sync_10pct_raised_1pct_removed",
        "margin_changed_services_still_on_sale",
        "margin_orders_accepted_at_a_loss",
        "scorecard_refresh",
        "webhook_chain_3_levels",
        "poll_chain_3_levels",
        "affiliates_settle_pass",
        "affiliates_flagged_at_settling",
        "affiliates_reversal_pass",
        "affiliates_books_disagreeing",
        "affiliates_ledger_mismatches",
    } <= figures


@pytest.mark.slow
def test_the_large_benchmarks_run_at_toy_size_and_print_bench_lines() -> None:
    """`make bench-scale`'s benchmarks (docs/scaling.md), at toy sizes."""
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = {match[1] for line in result.stdout.splitlines() if (match := LINE.match(line))}
    assert {
        "catalog_import_300",
        "catalog_resync_300_unchanged",
        "catalog_resync_300_unchanged_read",
        "catalog_resync_300_one_changed",
        "services_page_300_median",
        "api_services_300_median",
        "api_add_vs_insert_one_row_2000",
        "poll_2k_live_orders",
        "poll_2k_panel_cpu_per_100k",
        "poll_2k_database_cpu_per_100k",
        "poll_2k_database_own_cpu_per_100k",
        "child_panels_poll_round_12",
        "child_panels_provision_one_median",
        "child_panels_catalog_resync_all_unchanged",
        "child_panels_worker_rss_after_round",
        "child_panels_services_page_warm_median",
        "child_panels_migrate_nothing_to_do",
    } <= figures
