"""What the verifier says about a model id (the `model:` of a model YAML).

The SDK takes any string and the daemon any string under 256 characters, so
gateway ids such as `Qwen/Qwen3-8B` or `llama3.1:8b` are fine. The rules here
are the id's own findings (all warnings: no layer refuses them); the studio's
forms call `model_id_problems` too, so they never refuse an id the verifier
accepts. Duplicates need the whole provider and are checked in `models`.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

MAX_MODEL_ID = 255  # the Go tag: `lt=256`


class IdProblem(NamedTuple):
    """One rule a model id breaks, with the message a finding or a form shows."""

    rule: str
    message: str


# Cc: the C0/C1 controls (NUL, newline, escape); Zl/Zp: the line and paragraph
# separators, which YAML 1.1 reads as line breaks.
CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in CONTROL_CATEGORIES


def shown_id(model_id: str, limit: int = 80) -> str:
    """The start of an id with its control characters written as `\\uXXXX`
    (findings are stored and shown as text)."""
    return "".join(
        f"\\u{ord(c):04x}" if _is_control(c) else c for c in model_id[:limit]
    )


def model_id_problems(model_id: str) -> list[IdProblem]:
    """The rules `model_id` breaks (empty when the verifier accepts it)."""
    if model_id == "":
        return [
            IdProblem(
                "model.name.empty",
                "The model id is empty; Dify would list and call a model "
                "without a name.",
            )
        ]
    problems = []
    if len(model_id) > MAX_MODEL_ID:
        problems.append(
            IdProblem(
                "model.name.too-long",
                f"The model id is {len(model_id)} characters long; the limit "
                f"is {MAX_MODEL_ID}.",
            )
        )
    char = next((c for c in model_id if _is_control(c)), None)
    if char is not None:
        problems.append(
            IdProblem(
                "model.name.control-character",
                f"The model id contains the control character U+{ord(char):04X}; "
                "Dify shows and sends the id as text.",
            )
        )
    segment = next((s for s in model_id.split("/") if s in (".", "..")), None)
    if segment is not None:
        problems.append(
            IdProblem(
                "model.name.path-segment",
                f"The model id has a {segment!r} path segment; a plugin that "
                "puts the id in an upstream URL or a file path would step "
                "out of it.",
            )
        )
    return problems
