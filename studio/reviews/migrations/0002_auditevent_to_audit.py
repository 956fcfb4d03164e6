# The audit log moved to the `audit` app (studio/audit/migrations/0001_initial.py
# takes the model over). Only Django's picture of the models changes: the table
# reviews_auditevent and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='AuditEvent',
                ),
            ],
        ),
    ]
