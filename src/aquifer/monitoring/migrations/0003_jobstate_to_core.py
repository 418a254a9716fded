# JobState now lives in core (core 0004 renamed the table): monitoring forgets it.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_alarm_board_index"),
        ("core", "0004_jobstate"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="JobState")],
            database_operations=[],
        ),
    ]
