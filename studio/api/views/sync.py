"""Catalogue sync over the API: check upstream or a price table, read the
proposal, apply it (all or some items) — for teams that run upkeep from CI."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from django.http import HttpResponse
from django.urls import reverse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from studio.sync import services as sync_services
from studio.sync.models import SyncProposal

from ..errors import ApiError, not_found
from ..routing import ApiRequest, operation
from .lookups import MAX_ID, get_provider_for_token, reply


class ProposalCreate(BaseModel):
    """A check: `upstream` reads `base_url`'s /v1/models; `prices` reads a
    LiteLLM table given inline (`table`) or by URL (`table_url`)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["upstream", "prices"]
    base_url: str = Field(default="", max_length=500)
    api_key: str = Field(
        default="",
        max_length=4096,
        description="Sent to the list as a Bearer token for this request only; "
        "never stored or logged.",
    )
    template: str = Field(
        default="", max_length=255, description="The declared model new ones copy."
    )
    model_types: list[str] = Field(default_factory=lambda: ["llm"], max_length=6)
    table: dict[str, Any] | None = Field(
        default=None, description="A LiteLLM table (the JSON object itself)."
    )
    table_url: str = Field(default="", max_length=500)
    mapping: dict[str, Annotated[str, StringConstraints(max_length=255)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="Table id → model id, for ids that differ (at most 1000).",
    )


class ProposalApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keys: list[str] | None = Field(
        default=None,
        max_length=5000,
        description="Item keys to apply (`add:llm:gpt-5`); omitted: all.",
    )


class ItemChange(BaseModel):
    field: str
    old: Any
    new: Any


class ProposalItem(BaseModel):
    key: str
    kind: str
    model_type: str
    model: str
    level: str
    summary: str
    label: str
    template: str
    changes: list[ItemChange]


class ProposalOut(BaseModel):
    id: int
    provider: int
    source: str
    origin: str
    status: str
    summary: str
    counts: dict[str, int]
    suggested_bump: str
    lock_version: int
    items: list[ProposalItem]
    details: dict[str, Any]
    created_at: str
    applied_at: str | None
    applied_keys: list[str]


def _out(proposal: SyncProposal) -> ProposalOut:
    return ProposalOut.model_validate(proposal.as_dict())


def _proposal(request: ApiRequest, provider_id: int, proposal_id: int) -> Any:
    provider = get_provider_for_token(request, provider_id)
    proposal = (
        SyncProposal.objects.filter(pk=proposal_id, provider=provider).first()
        if proposal_id <= MAX_ID
        else None
    )
    if proposal is None:
        raise not_found("proposal")
    return proposal


@operation(
    "POST",
    summary="Check upstream or a price table and store a proposal",
    tag="sync",
    body=ProposalCreate,
    responses={201: ProposalOut},
    errors=(400, 404),
    write=True,
)
def proposal_create(
    request: ApiRequest, provider_id: int, *, body: ProposalCreate
) -> HttpResponse:
    """The proposal lists items model by model with their class and the
    suggested version bump; nothing changes the draft until it is applied.
    A refused address (internal, metadata) or an unreadable answer is a 400."""
    provider = get_provider_for_token(request, provider_id, write=True)
    user = request.actor.user
    try:
        if body.source == "upstream":
            proposal = sync_services.propose_from_upstream(
                provider=provider,
                user=user,
                base_url=body.base_url,
                api_key=body.api_key,
                template=body.template,
                model_types=body.model_types,
            )
        else:
            if (body.table is None) == (not body.table_url):
                raise sync_services.SyncError("Give either `table` or `table_url`.")
            if body.table is not None:
                table = sync_services.read_table(json.dumps(body.table).encode())
                origin = "table in the request"
            else:
                table = sync_services.fetch_table(body.table_url)
                origin = body.table_url
            proposal = sync_services.propose_from_prices(
                provider=provider,
                user=user,
                table=table,
                mapping=body.mapping,
                origin=origin,
            )
    except sync_services.SyncError as error:
        raise ApiError("invalid_request", str(error)) from None
    response = reply(_out(proposal), status=201)
    response["Location"] = reverse(
        "api:sync-proposal",
        kwargs={"provider_id": provider.pk, "proposal_id": proposal.pk},
    )
    return response


@operation(
    "GET",
    summary="Read a sync proposal",
    tag="sync",
    responses={200: ProposalOut},
    errors=(404,),
)
def proposal_read(
    request: ApiRequest, provider_id: int, proposal_id: int
) -> HttpResponse:
    """The proposal's items, counts, suggested bump and status."""
    return reply(_out(_proposal(request, provider_id, proposal_id)))


@operation(
    "POST",
    summary="Apply a sync proposal (all items or some)",
    tag="sync",
    body=ProposalApply,
    responses={200: ProposalOut},
    errors=(400, 404, 409),
    write=True,
)
def proposal_apply(
    request: ApiRequest, provider_id: int, proposal_id: int, *, body: ProposalApply
) -> HttpResponse:
    """One edit of the draft with the chosen items. 409 when the draft changed
    since the check in a way that conflicts (nothing is changed then); 400
    for an unknown key or a proposal already applied."""
    proposal = _proposal(request, provider_id, proposal_id)
    get_provider_for_token(request, provider_id, write=True)
    try:
        sync_services.proposal_apply(
            proposal=proposal, user=request.actor.user, keys=body.keys
        )
    except sync_services.SyncStale as error:
        raise ApiError("conflict", str(error)) from None
    except sync_services.SyncError as error:
        raise ApiError("invalid_request", str(error)) from None
    return reply(_out(proposal))
