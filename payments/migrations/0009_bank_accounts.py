import re

from django.conf import settings
from django.db import migrations, models

import payments.banks


def accounts_from_settings(apps, schema_editor):
    """The bank row's one account becomes the first BankAccount. Its empty fields fell back to
    the PANEL_BANK_* settings field by field; the row keeps that reading. An account the row
    did not name stays in the environment, where the panel still reads it."""
    GatewaySettings = apps.get_model("payments", "GatewaySettings")
    BankAccount = apps.get_model("payments", "BankAccount")
    row = GatewaySettings.objects.filter(method="bank").first()
    if row is None or not row.bank_account:
        return
    bank_bin = row.bank_bin or settings.PANEL_BANK_BIN
    number = row.bank_account.strip()
    if not re.fullmatch(r"[0-9]{6}", bank_bin) or not re.fullmatch(r"[0-9A-Za-z]{1,19}", number):
        return  # never made a valid QR; the admin adds the account from the list
    BankAccount.objects.create(
        bank_bin=bank_bin,
        account_number=number,
        holder=(row.bank_account_name or settings.PANEL_BANK_ACCOUNT_NAME)[:64],
    )


def settings_from_accounts(apps, schema_editor):
    GatewaySettings = apps.get_model("payments", "GatewaySettings")
    BankAccount = apps.get_model("payments", "BankAccount")
    first = BankAccount.objects.order_by("position", "id").first()
    if first is not None:
        GatewaySettings.objects.filter(method="bank").update(
            bank_bin=first.bank_bin,
            bank_account=first.account_number,
            bank_account_name=first.holder,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0008_deposit_reason_codes_data'),
    ]

    operations = [
        migrations.CreateModel(
            name='BankAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('bank_bin', models.CharField(choices=payments.banks.bank_choices, max_length=6, verbose_name='bank')),
                ('account_number', models.CharField(help_text='Letters and digits, as the bank writes it.', max_length=19, verbose_name='account number')),
                ('holder', models.CharField(blank=True, help_text='As the bank spells it.', max_length=64, verbose_name='account holder')),
                ('is_active', models.BooleanField(default=True, help_text='Off: hidden from the add-funds page; transfers into it are still credited.', verbose_name='shown to customers')),
                ('position', models.PositiveSmallIntegerField(default=0, help_text='Smaller first: the first tab is the one shown.', verbose_name='position')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'bank account',
                'verbose_name_plural': 'bank accounts',
                'ordering': ['position', 'id'],
                'constraints': [models.UniqueConstraint(fields=('account_number',), name='bank_account_once'), models.CheckConstraint(condition=models.Q(('bank_bin__regex', '^[0-9]{6}$')), name='bank_account_bin_six_digits'), models.CheckConstraint(condition=models.Q(('account_number__regex', '^[0-9A-Za-z]{1,19}$')), name='bank_account_number_alnum')],
            },
        ),
        migrations.RunPython(accounts_from_settings, settings_from_accounts),
        migrations.RemoveField(
            model_name='gatewaysettings',
            name='bank_account',
        ),
        migrations.RemoveField(
            model_name='gatewaysettings',
            name='bank_account_name',
        ),
        migrations.RemoveField(
            model_name='gatewaysettings',
            name='bank_bin',
        ),
    ]
