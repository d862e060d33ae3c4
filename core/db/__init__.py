"""The one room for database-specific code: every statement written by hand, psycopg's
pipeline mode, the bulk statements, advisory locks and the row builders they share.

The panel runs on PostgreSQL only, so nothing here asks which database it talks to. Services
stay plain Django and call the intent-named operations below when the ORM cannot say a thing
in as few round trips as a hot path needs (an API `add`, a poll's write).

Design: core/db never imports an app. Each operation takes the models (or the queryset) it
works on as arguments and knows only the shape of the statement; the app that owns the models
names them at the call site (`ledger_move(accounts=User, entry=…)`). That keeps `core` at the
bottom of the layers, importable by every app without a cycle, and the column lists, values and
conversions still come from the models, so a new field needs no change here. Results are the
ORM's own instances (saved or read as a queryset would) or frozen dataclasses, never attributes
bolted onto a model instance.

Modules:

- `arrays`: PostgreSQL array literals, the one-parameter form of a column's values;
- `bulk`: different values to many rows in one statement (update, insert, set);
- `pipeline`: several statements in one round trip (`pipelined`);
- `locks`: advisory locks that die with their holder (`held_lock`, `held_one_of` for slots,
  `locks_held`, `exclusive_transaction`);
- `rows`: instances from hand-read rows and values for hand-written inserts;
- `ledger`: a balance move with its ledger row (`ledger_move`, `RowMove`);
- `inserts`: a row inserted with the event that records it (`insert_with_event`), and with a
  ledger move about it as well (`insert_with_event_and_move`);
- `leases`: a poll claim that reads rows and leases them (`claim_with_lease`, `leased_ids`);
- `reads`: the API `add`'s reads (`api_key_lookup`, `service_for_order`, both in one query as
  `api_key_with_service_lookup`) and `tables_version`;
- `session`: the connection itself (`is_in_transaction`, `close_thread_connections`,
  `commit_without_waiting_for_disk`, `key_checks_planned_once`, `ping`).
"""
