"""The keys' update trigger runs only for an update that moves a key (docs/performance.md,
"A million polled orders, fifth pass")."""

from django.db import migrations

from core.db.partitions.keys import Key, keys_update_trigger_narrow, keys_update_trigger_widen

# The keys of orders_order as 0014 installed them (the open statuses of that time).
OPEN = "'Pending', 'Processing', 'In progress'"
KEYS = [
    Key(
        table="orders_orderopenlink",
        columns=("service_id", "link_key"),
        condition=f'{{row}}."status" IN ({OPEN})',
        condition_columns=("status",),
        is_skipped_when_taken=True,
    ),
    Key(table="orders_orderclientref", columns=("user_id", "client_ref")),
    Key(table="orders_orderupstreamid", columns=("provider_id", "upstream_id")),
]


def narrow(apps, schema_editor):
    keys_update_trigger_narrow(schema_editor, table="orders_order", keys=KEYS)


def widen(apps, schema_editor):
    keys_update_trigger_widen(schema_editor, table="orders_order", keys=KEYS)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0016_orders_brin_times'),
    ]

    operations = [
        migrations.RunPython(narrow, widen),
    ]
