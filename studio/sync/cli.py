"""`python manage.py plugin sync`: a catalogue check from the command line.

`plugin sync PROVIDER --models-from URL` compares the vendor's model list
with the provider; `--prices FILE` reads a LiteLLM table (a file or an
http(s) URL). Either stores a proposal, prints it, and with `--apply`
applies every item in one edit. The API key comes from an environment
variable (`--api-key-env`, default OPENAI_API_KEY), never from the command
line, where `ps` would show it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Protocol

from studio.catalog.services import exports

from . import services
from .models import SyncProposal

OK, FAILED, UNREADABLE = 0, 1, 2


class Emitter(Protocol):
    def emit(
        self, options: dict[str, Any], data: dict[str, Any], text: str
    ) -> None: ...


def add_sync_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", help="the provider's id or author/name")
    p.add_argument("--team", help="team slug (when author/name is ambiguous)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--models-from",
        metavar="URL",
        help="base URL of an OpenAI-compatible API (its /v1/models is read)",
    )
    source.add_argument(
        "--prices",
        metavar="FILE",
        help="a LiteLLM model_prices_and_context_window.json file or http(s) URL",
    )
    p.add_argument(
        "--api-key-env",
        metavar="NAME",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key (default OPENAI_API_KEY)",
    )
    p.add_argument(
        "--template", metavar="MODEL", default="", help="declared model new ones copy"
    )
    p.add_argument(
        "--map",
        metavar="TABLE_ID=MODEL_ID",
        action="append",
        default=[],
        help="a table id that differs from the model id (repeat)",
    )
    p.add_argument("--apply", action="store_true", help="apply every item in one edit")


def _text(proposal: SyncProposal, applied: bool) -> str:
    lines = [
        f"proposal {proposal.pk} of {proposal.provider.plugin_id}: {proposal.summary}"
        f" (suggested bump: {proposal.suggested_bump})"
    ]
    for item in proposal.items:
        lines.append(f"  [{item['level']}] {item['summary']}")
        lines += [
            f"      {c['field']}: {c['old']} -> {c['new']}" for c in item["changes"]
        ]
    details = proposal.details
    for key, label in (("unmatched", "unmatched table ids"), ("unpriced", "unpriced")):
        if details.get(key):
            lines.append(f"{label}: {', '.join(details[key][:50])}")
    if applied:
        lines.append(
            f"applied {len(proposal.applied_keys)} item(s); submit for review as usual"
        )
    elif proposal.items:
        lines.append("not applied (use --apply, or apply it in the Sync tab)")
    return "\n".join(lines)


def _fail(cmd: Any, options: dict[str, Any], message: str, status: int) -> int:
    if options["json"]:
        cmd.emit(options, {"ok": False, "error": message}, message)
    else:
        cmd.stderr.write(f"not synced: {message}")
    return status


def run_sync(cmd: Emitter, options: dict[str, Any]) -> int:
    try:
        provider = exports.provider_lookup(
            ref=options["provider"], team_slug=options.get("team")
        )
    except exports.ExportFailed as exc:
        return _fail(cmd, options, str(exc), FAILED)
    try:
        mapping = services.parse_mapping("\n".join(options.get("map") or []))
        if options.get("models_from"):
            proposal = services.propose_from_upstream(
                provider=provider,
                user=None,
                base_url=options["models_from"],
                api_key=os.environ.get(options["api_key_env"], ""),
                template=options.get("template") or "",
            )
        else:
            source = options["prices"]
            if source.startswith(("http://", "https://")):
                table = services.fetch_table(source)
            else:
                try:
                    path = Path(source)
                    size = path.stat().st_size
                    if size > services.table_limit():
                        raise services.SyncError(
                            f"{source} is larger than "
                            f"{services.table_limit() // 1024} KiB"
                        )
                    raw = path.read_bytes()
                except OSError as exc:
                    return _fail(cmd, options, f"{source}: {exc.strerror}", UNREADABLE)
                table = services.read_table(raw)
            proposal = services.propose_from_prices(
                provider=provider,
                user=None,
                table=table,
                mapping=mapping,
                origin=source if "://" in source else Path(source).name,
            )
        applied = False
        if options.get("apply") and proposal.items:
            services.proposal_apply(proposal=proposal, user=None)
            applied = True
    except services.SyncError as exc:
        return _fail(cmd, options, str(exc), FAILED)
    data = {"ok": True, "applied": applied, **proposal.as_dict()}
    cmd.emit(options, data, _text(proposal, applied))
    return OK
