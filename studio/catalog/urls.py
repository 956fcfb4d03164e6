"""Routes of the catalog, in the order they are matched."""

from __future__ import annotations

from django.urls import path

from .views import (
    credential_fields,
    credentials,
    file_edits,
    files,
    general,
    imports,
    invitations,
    members,
    model_actions,
    model_form,
    models,
    providers,
    teams,
)

app_name = "catalog"

urlpatterns = [
    path("teams/new", teams.team_new, name="team-new"),
    path("teams/switch", teams.team_switch, name="team-switch"),
    # members and invitations
    path(
        "teams/<slug:team_slug>/members/",
        members.team_members,
        name="team-members",
    ),
    path(
        "teams/<slug:team_slug>/members/leave",
        members.member_leave,
        name="member-leave",
    ),
    path(
        "teams/<slug:team_slug>/members/<int:membership_id>/role",
        members.member_role,
        name="member-role",
    ),
    path(
        "teams/<slug:team_slug>/members/<int:membership_id>/remove",
        members.member_remove,
        name="member-remove",
    ),
    path(
        "teams/<slug:team_slug>/invitations/",
        members.invitation_create,
        name="invitation-create",
    ),
    path(
        "teams/<slug:team_slug>/invitations/<int:invitation_id>/revoke",
        members.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>", invitations.invitation_open, name="invitation"),
    path("accounts/signup/", invitations.signup, name="signup"),
    path("providers/", providers.provider_list, name="provider-list"),
    path("providers/new", providers.provider_new, name="provider-new"),
    path(
        "providers/<int:provider_id>/",
        providers.provider_detail,
        name="provider-detail",
    ),
    # general
    path(
        "providers/<int:provider_id>/general/edit",
        general.provider_general_edit,
        name="provider-general-edit",
    ),
    # credential forms
    path(
        "providers/<int:provider_id>/credentials/",
        credentials.provider_credentials,
        name="provider-credentials",
    ),
    path(
        "providers/<int:provider_id>/credentials/preview",
        credentials.provider_credentials_preview,
        name="provider-credentials-preview",
    ),
    path(
        "providers/<int:provider_id>/credentials/model/name",
        credential_fields.provider_credential_model_name,
        name="provider-credential-model-name",
    ),
    path(
        "providers/<int:provider_id>/credentials/<slug:schema>/add",
        credential_fields.provider_credential_add,
        name="provider-credential-add",
    ),
    path(
        "providers/<int:provider_id>/credentials/<slug:schema>/<int:index>/edit",
        credential_fields.provider_credential_edit,
        name="provider-credential-edit",
    ),
    path(
        "providers/<int:provider_id>/credentials/<slug:schema>/<int:index>/move",
        credentials.provider_credential_move,
        name="provider-credential-move",
    ),
    path(
        "providers/<int:provider_id>/credentials/<slug:schema>/<int:index>/delete",
        credentials.provider_credential_delete,
        name="provider-credential-delete",
    ),
    # models
    path(
        "providers/<int:provider_id>/models/",
        models.provider_models,
        name="provider-models",
    ),
    path(
        "providers/<int:provider_id>/models/new", model_form.model_new, name="model-new"
    ),
    path(
        "providers/<int:provider_id>/models/order",
        models.models_reorder,
        name="models-reorder",
    ),
    path(
        "providers/<int:provider_id>/models/bulk",
        models.models_bulk,
        name="models-bulk",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/edit",
        model_form.model_edit,
        name="model-edit",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/",
        model_actions.model_row,
        name="model-row",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/row-edit",
        model_actions.model_row_edit,
        name="model-row-edit",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/actions",
        model_actions.model_actions,
        name="model-actions",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/duplicate",
        model_actions.model_duplicate,
        name="model-duplicate",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/delete",
        model_actions.model_delete,
        name="model-delete",
    ),
    path(
        "providers/<int:provider_id>/models/<int:model_id>/move",
        model_actions.model_move,
        name="model-move",
    ),
    # files and findings
    path(
        "providers/<int:provider_id>/files/",
        files.provider_files,
        name="provider-files",
    ),
    path(
        "providers/<int:provider_id>/files/view",
        files.provider_file_view,
        name="provider-file",
    ),
    path(
        "providers/<int:provider_id>/files/raw",
        files.provider_file_raw,
        name="provider-file-raw",
    ),
    path(
        "providers/<int:provider_id>/files/save",
        file_edits.provider_file_save,
        name="provider-file-save",
    ),
    path(
        "providers/<int:provider_id>/files/preview",
        file_edits.provider_file_preview,
        name="provider-file-preview",
    ),
    path(
        "providers/<int:provider_id>/files/add",
        file_edits.provider_file_add,
        name="provider-file-add",
    ),
    path(
        "providers/<int:provider_id>/files/upload",
        file_edits.provider_file_upload,
        name="provider-file-upload",
    ),
    path(
        "providers/<int:provider_id>/files/rename",
        file_edits.provider_file_rename,
        name="provider-file-rename",
    ),
    path(
        "providers/<int:provider_id>/files/delete",
        file_edits.provider_file_delete,
        name="provider-file-delete",
    ),
    path(
        "providers/<int:provider_id>/files/download",
        files.provider_files_download,
        name="provider-files-download",
    ),
    path(
        "providers/<int:provider_id>/findings/",
        files.provider_findings,
        name="provider-findings",
    ),
    path(
        "providers/<int:provider_id>/findings/summary",
        files.provider_findings_summary,
        name="provider-findings-summary",
    ),
    # imports
    path("providers/import", imports.provider_import, name="provider-import"),
    path("providers/import/<int:job_id>/", imports.import_job, name="import-job"),
    path(
        "providers/import/<int:job_id>/choose",
        imports.import_job_choose,
        name="import-job-choose",
    ),
    path(
        "providers/import/<int:job_id>/cancel",
        imports.import_job_cancel,
        name="import-job-cancel",
    ),
    path(
        "providers/<int:provider_id>/import-report",
        imports.provider_import_report,
        name="provider-import-report",
    ),
]
