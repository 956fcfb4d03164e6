"""What the models table and the model form share: their errors, the model
row's lock, and finding a model file in the document by path or by id.

The ORM-free edits they make (new model paths, `_position.yaml`, rules and
prices) are in `studio.pluginfmt.document.edits`.
"""

from __future__ import annotations

from studio.catalog.models import ProviderModel
from studio.pluginfmt.document import ModelEntry, PluginDocument

# Keys of a parameter rule the model form controls; any other key is kept.
RULE_KEYS = (
    "name",
    "use_template",
    "label",
    "type",
    "help",
    "required",
    "default",
    "min",
    "max",
    "precision",
    "options",
)
# Types whose table rows show a context size.
CONTEXT_TYPES = frozenset({"llm", "text-embedding", "rerank", "moderation"})


class ModelProblem(Exception):
    """A change that cannot be applied; `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleModel(Exception):
    """The model row changed (or went away) since the row was loaded."""

    def __init__(self, model: ProviderModel | None) -> None:
        super().__init__("the model was changed by someone else")
        self.model = model


# ---------------------------------------------------------------- checks


def entry_at(doc: PluginDocument, path: str) -> ModelEntry:
    """The model entry at `path`; StaleModel when it is gone."""
    for entry in doc.models:
        if entry.path == path:
            return entry
    raise StaleModel(None)


def check_model_lock(model: ProviderModel, model_lock: int) -> None:
    """Refuse (StaleModel) when the model row changed since `model_lock`."""
    # Called inside provider_edit, after the provider row is locked: every
    # writer locks the provider first, so this read cannot race a write.
    current = (
        ProviderModel.objects.filter(pk=model.pk)
        .values_list("lock_version", flat=True)
        .first()
    )
    if current is None:
        raise StaleModel(None)
    if current != model_lock:
        raise StaleModel(ProviderModel.objects.get(pk=model.pk))


def refuse_taken_id(
    doc: PluginDocument,
    model_id: str,
    *,
    type_key: str,
    field: str,
    exclude: str | None = None,
) -> None:
    """Refuse (ModelProblem on `field`) a model id another file of the type uses.

    Dify tells models apart by type and id (the verifier's duplicate rule too),
    so an llm and a text-embedding model may share an id.
    """
    for entry in doc.models:
        if (
            entry.path != exclude
            and entry.type_key == type_key
            and entry.spec.model == model_id
        ):
            raise ModelProblem(
                f"The model id {model_id!r} is already used by {entry.path}.",
                field=field,
            )
