"""Download names that tell builds apart: `<name>-<version>.difypkg` becomes
`<name>-<version>-b<build>-signed.difypkg` (or `-unsigned`).

Only the name given to downloads changes; the stored files keep their keys
(`Build.artifact`), so nothing is moved in storage.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SUFFIX = ".difypkg"


def rename(apps: Any, schema_editor: Any) -> None:
    Build = apps.get_model("builds", "Build")
    changed = []
    for build in Build.objects.exclude(artifact_name="").only(
        "pk", "artifact_name", "signed"
    ):
        stem = build.artifact_name.removesuffix(SUFFIX)
        mark = "signed" if build.signed else "unsigned"
        if stem.endswith(f"-b{build.pk}-{mark}"):
            continue
        build.artifact_name = f"{stem}-b{build.pk}-{mark}{SUFFIX}"
        changed.append(build)
    Build.objects.bulk_update(changed, ["artifact_name"], batch_size=500)


def unrename(apps: Any, schema_editor: Any) -> None:
    Build = apps.get_model("builds", "Build")
    changed = []
    for build in Build.objects.exclude(artifact_name="").only(
        "pk", "artifact_name", "signed"
    ):
        mark = "signed" if build.signed else "unsigned"
        tail = f"-b{build.pk}-{mark}{SUFFIX}"
        if build.artifact_name.endswith(tail):
            build.artifact_name = build.artifact_name.removesuffix(tail) + SUFFIX
            changed.append(build)
    Build.objects.bulk_update(changed, ["artifact_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("builds", "0001_initial")]

    operations = [migrations.RunPython(rename, unrename)]
