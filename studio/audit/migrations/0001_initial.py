# AuditEvent, moved here from the reviews app (reviews/0002_auditevent_to_audit
# drops it from that app). The model keeps its table, reviews_auditevent, so
# this migration only tells Django the model is now audit's: no table is
# created, no row is touched. The content type follows the model, so admin
# history and permissions granted on audit events keep pointing at it.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_type_to_audit(apps, schema_editor):
    _move_content_type(apps, "reviews", "audit")


def content_type_to_reviews(apps, schema_editor):
    _move_content_type(apps, "audit", "reviews")


def _move_content_type(apps, old, new):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if ContentType.objects.filter(app_label=new, model='auditevent').exists():
        return  # already there (a database made after the move)
    ContentType.objects.filter(app_label=old, model='auditevent').update(
        app_label=new
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('builds', '0001_initial'),
        ('catalog', '0004_provider_findings'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('reviews', '0002_auditevent_to_audit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('plugin_id', models.CharField(blank=True, max_length=255)),
                        ('actor_name', models.CharField(blank=True, max_length=150)),
                        ('action', models.CharField(choices=[('submit', 'submitted a revision'), ('comment', 'commented'), ('resolve', 'resolved a comment'), ('reopen', 'reopened a comment'), ('approve', 'approved'), ('request-changes', 'requested changes'), ('release', 'started a release build'), ('download', 'downloaded an artifact'), ('settings', 'changed the review settings')], max_length=20)),
                        ('summary', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('build', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='builds.build')),
                        ('provider', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='catalog.provider')),
                        ('revision', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='reviews.revision')),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='audit', to='catalog.team')),
                    ],
                    options={
                        'db_table': 'reviews_auditevent',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['team', '-created_at'], name='reviews_aud_team_id_451328_idx'), models.Index(fields=['provider', '-created_at'], name='reviews_aud_provide_9dab3e_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_to_audit, content_type_to_reviews),
    ]
