"""Catalogue sync workflows: propose, apply, watch (docs/sync.md).

A check (`propose_from_upstream`, `propose_from_prices`) reads the provider's
document and a source and stores a `SyncProposal`; it never edits the draft.
`proposal_apply` is the only way items reach the draft: one `provider_edit`
with the ticked items, refused as a whole when the draft changed in a way
that conflicts with them. `watch_run` re-runs a provider's check on a
schedule and notifies the team when it finds drift it has not reported.

API keys typed for a check go into one request's header and nowhere else; a
watch's kept key is stored only as a Fernet token (the signing keys'
encryption, studio/builds/keys.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from studio.audit.models import AuditEvent
from studio.audit.services import audit_record
from studio.builds.keys import KeyUnreadable, decrypt_private_key, encrypt_private_key
from studio.catalog.models import Membership, Provider
from studio.catalog.services import SaveResult, provider_document, provider_edit
from studio.notifications.models import Kind
from studio.notifications.services import notify
from studio.pluginfmt.diff.levels import BUMP_FOR_LEVEL, LEVEL_RANK, Bump
from studio.pluginfmt.document import PluginDocument, model_type_of
from studio.pluginfmt.egress import EgressRefused
from studio.pluginfmt.sync import prices
from studio.pluginfmt.sync.apply import ApplyConflict, apply_items, price_units
from studio.pluginfmt.sync.items import SyncItem
from studio.pluginfmt.sync.upstream import (
    DEFAULT_TYPES,
    ModelList,
    UpstreamError,
    compare_models,
    fetch_model_list,
    upstream_items,
)
from studio.pluginfmt.sync.upstream import _shown as shown_url

from .models import Source, SyncProposal, SyncWatch, summary_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

MAX_INTERVAL_HOURS = 24 * 30
MAX_MAPPING_LINES = 1000


class SyncError(ValueError):
    """A check or an apply was refused; the message says why (nothing saved)."""


class SyncStale(SyncError):
    """The draft changed since the proposal in a way that conflicts with it."""


# ---------------------------------------------------------------- helpers


def _suggested_bump(items: list[SyncItem]) -> Bump:
    if not items:
        return Bump.NONE
    level = max((i.level for i in items), key=LEVEL_RANK.__getitem__)
    return BUMP_FOR_LEVEL[level]


def _counts(items: list[SyncItem]) -> tuple[int, int, int]:
    new = sum(1 for i in items if i.kind == "add_model")
    gone = sum(1 for i in items if i.kind == "deprecate_model")
    return new, gone, sum(1 for i in items if i.kind == "update_model")


def _store(
    *,
    provider: Provider,
    user: User | None,
    source: str,
    origin: str,
    items: list[SyncItem],
    details: dict[str, Any],
) -> SyncProposal:
    new, gone, updated = _counts(items)
    return SyncProposal.objects.create(
        provider=provider,
        source=source,
        origin=origin[:500],
        items=[i.as_dict() for i in items],
        details=details,
        new_count=new,
        gone_count=gone,
        update_count=updated,
        suggested_bump=str(_suggested_bump(items)),
        lock_version=provider.lock_version,
        created_by=user,
    )


def endpoint_default(doc: PluginDocument) -> str:
    """The provider credential form's default `endpoint_url` ("" without one)."""
    schema = doc.provider.spec.to_data().get("provider_credential_schema") or {}
    fields = schema.get("credential_form_schemas") if isinstance(schema, dict) else []
    for field in fields or []:
        if isinstance(field, dict) and field.get("variable") in (
            "endpoint_url",
            "api_base",
            "base_url",
        ):
            default = field.get("default")
            return str(default) if isinstance(default, str) else ""
    return ""


def template_choices(doc: PluginDocument) -> dict[str, list[str]]:
    """Declared models by type (those a new model may copy)."""
    out: dict[str, list[str]] = {}
    for entry in doc.models:
        out.setdefault(model_type_of(entry.type_key), []).append(
            str(entry.spec.model or "")
        )
    return out


def _template_map(
    doc: PluginDocument, template: str | Mapping[str, str]
) -> dict[str, str]:
    if isinstance(template, Mapping):
        return {k: v for k, v in template.items() if v}
    if not template:
        return {}
    for entry in doc.models:
        if entry.spec.model == template:
            return {model_type_of(entry.type_key): template}
    raise SyncError(f"the template {template!r} is not a declared model")


# ---------------------------------------------------------------- checks


def propose_from_upstream(
    *,
    provider: Provider,
    user: User | None,
    base_url: str,
    api_key: str,
    template: str | Mapping[str, str] = "",
    model_types: Collection[str] = DEFAULT_TYPES,
    fetch: Callable[..., ModelList] = fetch_model_list,
) -> SyncProposal:
    """Ask `base_url`'s `/v1/models` (the key typed for this check, never
    kept) and store a proposal: new models from the template, gone ones
    deprecated. SyncError when the URL is refused or the list unreadable."""
    if not base_url.strip():
        raise SyncError("Give the base URL of the OpenAI-compatible API.")
    doc = provider_document(provider)
    templates = _template_map(doc, template)
    try:
        listed = fetch(base_url, api_key, allow=settings.SYNC_EGRESS_ALLOW)
        comparison = compare_models(doc, listed, model_types)
        items = upstream_items(doc, comparison, templates)
    except EgressRefused as error:
        raise SyncError(f"Refused: {error}.") from None
    except UpstreamError as error:
        raise SyncError(str(error)[:1].upper() + str(error)[1:] + ".") from None
    return _store(
        provider=provider,
        user=user,
        source=Source.UPSTREAM,
        origin=shown_url(base_url),
        items=items,
        details={**comparison.as_dict(), "listed": len(listed.ids)},
    )


def parse_mapping(text: str) -> dict[str, str]:
    """`table-id = model-id` per line (blank lines and `#` comments skipped)."""
    mapping: dict[str, str] = {}
    lines = text.splitlines()
    if len(lines) > MAX_MAPPING_LINES:
        raise SyncError(f"The mapping has more than {MAX_MAPPING_LINES} lines.")
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        table_id, sep, model_id = line.partition("=")
        if not sep or not table_id.strip() or not model_id.strip():
            raise SyncError(
                f"Mapping line {number} is not `table-id = model-id`: {line[:60]!r}"
            )
        mapping[table_id.strip()] = model_id.strip()
    return mapping


def table_limit() -> int:
    """The largest price table read, in bytes (SYNC_TABLE_MAX_BYTES)."""
    return int(settings.SYNC_TABLE_MAX_BYTES)


def read_table(raw: bytes) -> Any:
    """A LiteLLM table from uploaded bytes (SyncError when unreadable)."""
    if len(raw) > table_limit():
        raise SyncError(f"The table is larger than {table_limit() // 1024} KiB.")
    try:
        return prices.parse_table(raw)
    except ValueError as error:
        raise SyncError(f"The table cannot be read: {error}") from None


def fetch_table(url: str) -> Any:
    """A LiteLLM table from a URL through the egress guard (SyncError)."""
    try:
        raw = prices.fetch_table(
            url,
            allow=settings.SYNC_EGRESS_ALLOW,
            setting="SYNC_EGRESS_ALLOW",
            max_bytes=table_limit(),
        )
    except EgressRefused as error:
        raise SyncError(f"Refused: {error}.") from None
    except ValueError as error:
        raise SyncError(f"The table cannot be read: {error}") from None
    return read_table(raw)


def propose_from_prices(
    *,
    provider: Provider,
    user: User | None,
    table: Any,
    mapping: Mapping[str, str],
    origin: str = "",
) -> SyncProposal:
    """Store a proposal of price and limit updates from a parsed table."""
    doc = provider_document(provider)
    try:
        proposal = prices.price_items(doc, table, dict(mapping))
    except ValueError as error:
        raise SyncError(str(error)) from None
    return _store(
        provider=provider,
        user=user,
        source=Source.PRICES,
        origin=shown_url(origin) if "://" in origin else origin,
        items=list(proposal.items),
        details={
            "unmatched": list(proposal.unmatched),
            "unpriced": list(proposal.unpriced),
            "matched": dict(proposal.matched),
            "units": price_units(doc, proposal.items),
            "notes": list(proposal.notes),
            "skipped": [f"{s.id}: {s.reason}" for s in table.skipped][:200],
            "mapping": dict(mapping),
        },
    )


# ---------------------------------------------------------------- apply


def proposal_apply(
    *,
    proposal: SyncProposal,
    user: User | None,
    keys: Collection[str] | None = None,
) -> SaveResult:
    """Apply the ticked items (`keys`; None: all) in one edit of the draft.

    SyncStale when the draft changed since the check in a way that conflicts
    (a new model already there, a model gone); nothing is changed then."""
    if proposal.status != SyncProposal.Status.OPEN:
        raise SyncError(f"This proposal was already {proposal.status}.")
    items = proposal.sync_items()
    if keys is not None:
        known = {i.key for i in items}
        unknown = sorted(set(keys) - known)
        if unknown:
            raise SyncError(f"Unknown item(s): {', '.join(unknown)[:200]}.")
        items = [i for i in items if i.key in set(keys)]
    if not items:
        raise SyncError("Tick at least one item to apply.")
    provider = proposal.provider
    with transaction.atomic():
        locked = SyncProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != SyncProposal.Status.OPEN:
            raise SyncError(f"This proposal was already {locked.status}.")
        try:
            result = provider_edit(
                provider=provider,
                lock_version=None,
                change=lambda doc: apply_items(
                    doc, items, (proposal.details or {}).get("units")
                ),
            )
        except ApplyConflict as conflict:
            current = Provider.objects.values_list("lock_version", flat=True).get(
                pk=provider.pk
            )
            raise SyncStale(
                f"The draft changed since this check (version {proposal.lock_version}"
                f", now {current}): {'; '.join(conflict.problems)}. Nothing was "
                "changed; run the check again."
            ) from None
        now = timezone.now()
        SyncProposal.objects.filter(pk=proposal.pk).update(
            status=SyncProposal.Status.APPLIED,
            applied_by=user,
            applied_at=now,
            applied_keys=[i.key for i in items],
        )
        new, gone, updated = _counts(items)
        audit_record(
            action=AuditEvent.Action.SYNC_APPLY,
            actor=user,
            team=provider.team,
            provider=provider,
            summary=f"sync proposal {proposal.pk} ({proposal.source}): "
            + summary_text(new, gone, updated),
        )
    proposal.refresh_from_db()
    return result


def proposal_discard(*, proposal: SyncProposal) -> None:
    updated = SyncProposal.objects.filter(
        pk=proposal.pk, status=SyncProposal.Status.OPEN
    ).update(status=SyncProposal.Status.DISCARDED)
    proposal.refresh_from_db()
    if not updated:
        raise SyncError(f"This proposal was already {proposal.status}.")


# ---------------------------------------------------------------- drift watch


def watch_of(provider: Provider) -> SyncWatch:
    """The provider's watch (an unsaved, disabled one when it has none)."""
    watch = SyncWatch.objects.filter(provider=provider).first()
    return watch or SyncWatch(provider=provider)


def watch_save(
    *,
    provider: Provider,
    user: User | None,
    enabled: bool,
    interval_hours: int,
    source: str,
    base_url: str = "",
    template: str = "",
    table_url: str = "",
    mapping: str = "",
    api_key: str = "",
    keep_credential: bool = False,
) -> SyncWatch:
    """Save the drift watch. The key is kept (encrypted) only with
    `keep_credential`; unticking it forgets a kept key."""
    if source not in Source.values:
        raise SyncError("Choose the upstream model list or a price table.")
    if not 1 <= interval_hours <= MAX_INTERVAL_HOURS:
        raise SyncError(f"The interval is 1 to {MAX_INTERVAL_HOURS} hours.")
    if mapping:
        parse_mapping(mapping)
    if enabled and source == Source.UPSTREAM and not base_url.strip():
        raise SyncError("A watch of the model list needs its base URL.")
    if enabled and source == Source.PRICES and not table_url.strip():
        raise SyncError("A watch of a price table needs the table's URL.")
    with transaction.atomic():
        watch, _ = SyncWatch.objects.select_for_update().get_or_create(
            provider=provider
        )
        watch.enabled = enabled
        watch.interval_hours = interval_hours
        watch.source = source
        watch.base_url = base_url.strip()[:500]
        watch.template = template.strip()[:255]
        watch.table_url = table_url.strip()[:500]
        watch.mapping = mapping
        watch.updated_by = user
        if not keep_credential:
            watch.credential_token = ""
        elif api_key:
            watch.credential_token = encrypt_private_key(api_key.encode())
        watch.save()
        audit_record(
            action=AuditEvent.Action.SYNC_WATCH,
            actor=user,
            team=provider.team,
            provider=provider,
            summary=(
                f"drift watch {'on' if enabled else 'off'}, every "
                f"{interval_hours} h, {source}"
                + (", key kept (encrypted)" if watch.credential_token else "")
            ),
        )
    return watch


def _signature(items: list[SyncItem]) -> str:
    """What a drift is, to tell whether it was reported: the items' keys and,
    for updates, the proposed values."""
    parts = sorted(
        json.dumps([i.key, [c.as_dict() for c in i.changes]], sort_keys=True)
        for i in items
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest() if parts else ""


def _check(watch: SyncWatch) -> SyncProposal:
    provider = watch.provider
    if watch.source == Source.PRICES:
        table = fetch_table(watch.table_url)
        return propose_from_prices(
            provider=provider,
            user=None,
            table=table,
            mapping=parse_mapping(watch.mapping),
            origin=watch.table_url,
        )
    api_key = ""
    if watch.credential_token:
        try:
            api_key = decrypt_private_key(watch.credential_token).decode()
        except KeyUnreadable as error:
            raise SyncError(f"The kept API key cannot be read: {error}.") from None
    return propose_from_upstream(
        provider=provider,
        user=None,
        base_url=watch.base_url,
        api_key=api_key,
        template=watch.template,
    )


def watch_run(watch: SyncWatch) -> SyncProposal | None:
    """Run the watch's check once; never edits the draft.

    A proposal is kept and the team notified only when the drift differs
    from the one last reported; the same drift again keeps nothing new."""
    now = timezone.now()
    proposal: SyncProposal | None
    try:
        with transaction.atomic():
            proposal = _check(watch)
            items = proposal.sync_items()
            signature = _signature(items)
            if not items or signature == watch.last_notified_signature:
                proposal.delete()
                proposal = None
    except SyncError as error:
        SyncWatch.objects.filter(pk=watch.pk).update(
            last_run_at=now, last_result=f"failed: {error}"[:500]
        )
        log.info("sync watch %s failed: %s", watch.pk, error)
        return None
    if proposal is None:
        result = (
            "no drift"
            if not signature
            else "same drift as reported before (no new proposal)"
        )
        SyncWatch.objects.filter(pk=watch.pk).update(
            last_run_at=now,
            last_result=result,
            last_notified_signature=signature,
        )
        return None
    provider = watch.provider
    url = reverse("sync:proposal", args=[provider.pk, proposal.pk])
    with transaction.atomic():
        members = [
            m.user
            for m in Membership.objects.filter(team_id=provider.team_id).select_related(
                "user"
            )
        ]
        notify(
            recipients=members,
            kind=Kind.CATALOGUE_DRIFT,
            title=f"{provider.plugin_id}: {proposal.summary}",
            body="The drift watch found changes; review and apply them in the "
            "Sync tab.",
            url=url,
            team=provider.team,
        )
        SyncWatch.objects.filter(pk=watch.pk).update(
            last_run_at=now,
            last_result=f"drift: {proposal.summary} (proposal {proposal.pk})"[:500],
            last_notified_signature=signature,
            last_proposal=proposal,
        )
    return proposal


def watches_due(now: Any = None) -> list[SyncWatch]:
    """Enabled watches whose interval has passed since their last run."""
    now = now or timezone.now()
    candidates = SyncWatch.objects.filter(enabled=True).select_related(
        "provider", "provider__team"
    )
    return [
        w
        for w in candidates.filter(
            Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - timedelta(hours=1))
        )
        if w.last_run_at is None
        or w.last_run_at + timedelta(hours=w.interval_hours) <= now
    ]


def run_due_watches() -> int:
    """Run every due watch once; safe to run twice at once (each watch is
    claimed by moving its last_run_at first)."""
    ran = 0
    for watch in watches_due():
        claimed = (
            SyncWatch.objects.filter(pk=watch.pk, last_run_at=watch.last_run_at)
            if watch.last_run_at is not None
            else SyncWatch.objects.filter(pk=watch.pk, last_run_at__isnull=True)
        ).update(last_run_at=timezone.now())
        if claimed:
            watch.refresh_from_db()
            try:
                watch_run(watch)
            except Exception as error:  # one broken watch must not stop the rest
                log.exception("sync watch %s crashed", watch.pk)
                SyncWatch.objects.filter(pk=watch.pk).update(
                    last_result=f"failed: {type(error).__name__}: {error}"[:500]
                )
            ran += 1
    return ran


def recent_proposals(provider: Provider, limit: int = 10) -> list[SyncProposal]:
    return list(
        SyncProposal.objects.filter(provider=provider)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )
