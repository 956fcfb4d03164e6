"""Providers, their models, their plugin document and their findings."""

from __future__ import annotations

from django.http import HttpResponse

from studio.catalog.models import Provider
from studio.catalog.services import provider_files
from studio.pluginfmt.document import DocumentError, load_document, model_type_of
from studio.pluginfmt.verify import severity_counts, verify

from ..errors import ApiError
from ..pagination import PageQuery, paginate
from ..routing import ApiRequest, operation
from ..schemas import (
    DocumentModel,
    DocumentOut,
    DocumentPart,
    DocumentPosition,
    ModelOut,
    ModelPage,
    ProviderOut,
    ProviderPage,
    VerifyOut,
    jsonable,
)
from .lookups import get_provider_for_token, reply
from .shapes import finding_out, provider_out


@operation(
    "GET",
    summary="List the team's providers",
    tag="providers",
    query=PageQuery,
    responses={200: ProviderPage},
)
def provider_list(request: ApiRequest, *, query: PageQuery) -> HttpResponse:
    """The providers (plugins) of the token's team, by author and name."""
    page = paginate(
        request,
        Provider.objects.filter(team=request.actor.team),
        query,
        ["author", "name", "id"],
    )
    return reply(
        ProviderPage(items=[provider_out(p) for p in page.items], **page.meta())
    )


@operation(
    "GET",
    summary="Read a provider",
    tag="providers",
    responses={200: ProviderOut},
    errors=(404,),
)
def provider_read(request: ApiRequest, provider_id: int) -> HttpResponse:
    """One provider's metadata and verifier counts."""
    return reply(provider_out(get_provider_for_token(request, provider_id)))


class ModelQuery(PageQuery):
    model_type: str | None = None


@operation(
    "GET",
    summary="List a provider's models",
    tag="providers",
    query=ModelQuery,
    responses={200: ModelPage},
    errors=(404,),
)
def provider_models(
    request: ApiRequest, provider_id: int, *, query: ModelQuery
) -> HttpResponse:
    """The predefined models, by type and position, with each model YAML's data;
    `model_type` (llm, text-embedding…) filters."""
    provider = get_provider_for_token(request, provider_id)
    models = provider.models.all()
    if query.model_type:
        models = models.filter(model_type=query.model_type)
    page = paginate(request, models, query, ["model_type", "position", "model", "id"])
    return reply(
        ModelPage(
            items=[
                ModelOut(
                    id=m.pk,
                    model_type=m.model_type,
                    model=m.model,
                    label=m.label,
                    path=m.path,
                    position=m.position,
                    deprecated=m.deprecated,
                    spec=jsonable(m.spec or {}),
                )
                for m in page.items
            ],
            **page.meta(),
        )
    )


@operation(
    "GET",
    summary="Read a provider as a plugin document",
    tag="providers",
    responses={200: DocumentOut},
    errors=(404, 409),
)
def provider_document(request: ApiRequest, provider_id: int) -> HttpResponse:
    """Manifest, provider YAML, model YAMLs and position files as data, read
    from the current files by the format library."""
    provider = get_provider_for_token(request, provider_id)
    try:
        doc = load_document(provider_files(provider))
    except DocumentError as exc:
        raise ApiError(
            "conflict", f"The provider's files cannot be read as a plugin: {exc}"
        ) from None
    yaml_paths = {p.path for p in doc.parts()}
    return reply(
        DocumentOut(
            provider_id=provider.pk,
            plugin_id=provider.plugin_id,
            manifest=DocumentPart(
                path=doc.manifest.path, data=jsonable(doc.manifest.spec.to_data())
            ),
            provider=DocumentPart(
                path=doc.provider.path, data=jsonable(doc.provider.spec.to_data())
            ),
            models=[
                DocumentModel(
                    path=m.path,
                    type_key=m.type_key,
                    model_type=model_type_of(m.type_key),
                    data=jsonable(m.spec.to_data()),
                )
                for m in doc.models
            ],
            positions=[
                DocumentPosition(path=p.path, type_key=p.type_key, items=p.names)
                for p in doc.positions
            ],
            files=sorted(path for path in doc.files if path not in yaml_paths),
            orphans=list(doc.orphans),
        )
    )


@operation(
    "GET",
    summary="Verify a provider's current files",
    tag="providers",
    responses={200: VerifyOut},
    errors=(404,),
)
def provider_verify(request: ApiRequest, provider_id: int) -> HttpResponse:
    """The verifier's findings on the current files (what a build would check)."""
    provider = get_provider_for_token(request, provider_id)
    findings = verify(provider_files(provider))
    counts = severity_counts(findings)
    return reply(
        VerifyOut(
            provider_id=provider.pk,
            plugin_id=provider.plugin_id,
            ok=counts["error"] == 0,
            errors=counts["error"],
            warnings=counts["warning"],
            findings=[finding_out(f) for f in findings],
        )
    )
