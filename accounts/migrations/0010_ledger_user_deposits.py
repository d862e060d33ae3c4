from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking the ledger against writes: orders keep being charged meanwhile.
    atomic = False

    dependencies = [
        ("accounts", "0009_ranks"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="balancetransaction",
            index=models.Index(
                condition=models.Q(("kind", "deposit")),
                fields=["user"],
                include=("amount",),
                name="ledger_user_deposits",
            ),
        ),
    ]
