"""Create the two role groups, and derive the alliance bloc of referrals already stored."""

from django.db import migrations

ROLES = ("analyst", "supervisor")


def roles_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def roles_remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def blocs_derive(apps, schema_editor):
    from cases import blocs

    Referral = apps.get_model("cases", "Referral")
    changed = []
    for referral in Referral.objects.only("id", "host_country", "date").iterator(chunk_size=5000):
        referral.alliance_bloc = blocs.bloc_on(referral.host_country, referral.date)
        changed.append(referral)
    Referral.objects.bulk_update(changed, ["alliance_bloc"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0003_workflow"),
    ]

    operations = [
        migrations.RunPython(roles_create, roles_remove),
        migrations.RunPython(blocs_derive, migrations.RunPython.noop),
    ]
