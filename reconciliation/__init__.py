"""Books that match every provider (docs/reconciliation.md): the balance snapshots at each day's
edges, the daily reconciliation of what each provider charged and refunded against what the panel
expects, and the mismatches an operator resolves."""
