"""A budget line's balance is stored (issue 21): filled from its entries' sums, then kept by
transaction_post; the constraint refuses a budget balance below zero or a stored balance elsewhere."""
from django.db import migrations, models


def fill(apps, schema_editor):
    Account = apps.get_model("funds", "Account")
    Entry = apps.get_model("funds", "Entry")
    from django.db.models import OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    total = Entry.objects.filter(account=OuterRef("pk")).values("account").annotate(s=Sum("amount")).values("s")
    Account.objects.filter(kind="budget").update(balance=Coalesce(Subquery(total), Value(0)))


class Migration(migrations.Migration):

    dependencies = [
        ('funds', '0004_entry_reversed_once'),
    ]

    operations = [
        migrations.AddField(
            model_name='account',
            name='balance',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='余额（分）'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('balance__gte', 0), ('kind', 'budget')), models.Q(models.Q(('kind', 'budget'), _negated=True), ('balance__isnull', True)), _connector='OR'), name='account_budget_balance'),
        ),
    ]
