# Room for a whole page's rows to be updated in one statement (PostgreSQL): the drain updates a
# batch of consecutive events (their attempt count) and a batch's messages (a status) in one
# UPDATE each, and a version written by a statement cannot be pruned before it commits, so at
# fillfactor 70 only about four rows in ten found room on their page: the rest were not HOT and
# wrote an entry in every index of the table (fifteen for messages, the text search one among them).

from django.db import migrations

FILLFACTOR = {"whatsapp_leads_message": 50, "whatsapp_leads_webhookevent": 50}
PREVIOUS = {"whatsapp_leads_message": 70, "whatsapp_leads_webhookevent": 70}


def _set(schema_editor, percents):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in percents.items():
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(percent)})"
        )


def set_fillfactor(apps, schema_editor):
    _set(schema_editor, FILLFACTOR)


def reset_fillfactor(apps, schema_editor):
    _set(schema_editor, PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [
        ("whatsapp_leads", "0010_statuses_partial_indexes_and_fillfactor"),
    ]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
