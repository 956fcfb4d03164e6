"""Release notes from a diff: what people who install the release must know.

A review lists every change; release notes keep only what a user of the plugin
acts on, in plain sentences under headings: models added, removed and
deprecated, price changes, limit changes (context size, the maximum of
`max_tokens`), breaking credential changes, and any other breaking change.
Labels, descriptions, icons, order, code and files are left out (the review
has them). The Markdown starts with the version as a heading; the caller adds
`## Release Notes` where a document needs it (a download, a pull request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..pricing import price_basis_text, price_unit_text
from .changes import Change, PluginDiff
from .levels import Level
from .models import model_facts
from .values import MISSING, Anchor, as_number
from .views import PluginView, value_at

ADDED = "Models added"
REMOVED = "Models removed"
DEPRECATED = "Models deprecated"
PRICES = "Price changes"
LIMITS = "Limit changes"
CREDENTIALS = "Breaking credential changes"
OTHER_BREAKING = "Other breaking changes"
HEADINGS = (ADDED, REMOVED, DEPRECATED, PRICES, LIMITS, CREDENTIALS, OTHER_BREAKING)

NOTHING = (
    "No models were added, removed or deprecated, and no prices, limits or "
    "credentials changed."
)
# Model ids a first release names per model type before it counts the rest.
FIRST_RELEASE_IDS = 30

_TYPE_NAMES = {
    "llm": ("LLM", "LLMs"),
    "text-embedding": ("text embedding model", "text embedding models"),
    "rerank": ("rerank model", "rerank models"),
    "speech2text": ("speech-to-text model", "speech-to-text models"),
    "tts": ("text-to-speech model", "text-to-speech models"),
    "moderation": ("moderation model", "moderation models"),
}
_CONTEXT = ("model_properties", "context_size")
_MAX_TOKENS = ("parameter_rules", "max_tokens", "max")


@dataclass(frozen=True)
class NoteItem:
    """One sentence of the notes, under its heading, from the change it tells."""

    heading: str
    text: str
    changes: tuple[Change, ...]


def release_notes(
    diff: PluginDiff,
    *,
    version: str,
    since: str | None,
    head: PluginView,
    base: PluginView | None = None,
) -> str:
    """The release notes of `head` (Markdown): a `### <version>` heading, what
    it is compared with (`since`; None: a first release), then the changes
    users act on, grouped under headings."""
    lines = [f"### {_text(version) or 'Unversioned'}", ""]
    if since is None or diff.initial:
        lines += ["First release.", ""]
        lines += _first_release(head)
        return "\n".join(lines).rstrip() + "\n"
    lines += [f"Changes since {since}.", ""]
    items = note_items(diff, head=head, base=base)
    if not items:
        lines += [NOTHING, ""]
    for heading in HEADINGS:
        texts = [i.text for i in items if i.heading == heading]
        if texts:
            lines += [f"#### {heading}", "", *(f"- {t}" for t in texts), ""]
    return "\n".join(lines).rstrip() + "\n"


def note_items(
    diff: PluginDiff, *, head: PluginView, base: PluginView | None = None
) -> list[NoteItem]:
    """The changes release notes tell, each as a sentence under its heading,
    in the diff's order."""
    items: list[NoteItem] = []
    prices: dict[Anchor, list[Change]] = {}
    for change in diff.changes:
        if _is_price(change):
            prices.setdefault(change.subject, []).append(change)
    told_prices: set[Anchor] = set()
    for change in diff.changes:
        if _is_price(change):
            if change.subject not in told_prices:
                told_prices.add(change.subject)
                items += _price_items(prices[change.subject], head=head, base=base)
            continue
        item = _item(change)
        if item is not None:
            items.append(item)
    return items


# ---------------------------------------------------------------- one change


def _item(change: Change) -> NoteItem | None:
    model = change.section == "models" and change.subject[:1] == ("model",)
    field = change.anchor[len(change.subject) :]
    if model and change.anchor == change.subject and change.kind == "added":
        facts = model_facts(change.new) if isinstance(change.new, dict) else ""
        return _note(
            ADDED,
            f"The {_model(change.subject)} was added"
            + (f" ({facts})" if facts else "")
            + ".",
            change,
        )
    if model and change.anchor == change.subject and change.kind == "removed":
        return _note(
            REMOVED,
            f"The {_model(change.subject)} was removed: apps that use it stop working.",
            change,
        )
    if model and field == ("deprecated",):
        if change.kind == "deprecated":
            text = (
                f"The {_model(change.subject)} is deprecated: new configurations "
                "no longer offer it, existing ones keep working."
            )
        else:
            text = f"The {_model(change.subject)} is no longer deprecated."
        return _note(DEPRECATED, text, change)
    if model and field == _CONTEXT:
        return _note(LIMITS, _context_text(change), change)
    if model and field == _MAX_TOKENS:
        return _note(LIMITS, _max_tokens_text(change), change)
    if change.level != Level.BREAKING:
        return None
    if change.section == "credentials":
        return _note(CREDENTIALS, _credential_text(change), change)
    return _note(OTHER_BREAKING, _breaking_text(change), change)


def _note(heading: str, text: str, *changes: Change) -> NoteItem:
    return NoteItem(heading, text, changes)


def _context_text(change: Change) -> str:
    who = _about(change.subject)
    old, new = change.old, change.new
    if old is MISSING:
        return f"{who} now declares a context size of {_num(new)} tokens."
    if new is MISSING:
        return f"{who} no longer declares a context size (it was {_num(old)} tokens)."
    return f"{who} the context size {_moved(old, new, 'shrank', 'grew')} tokens."


def _max_tokens_text(change: Change) -> str:
    who = _about(change.subject)
    old, new = change.old, change.new
    if old is MISSING:
        return f"{who} the maximum output tokens is now {_num(new)}."
    if new is MISSING:
        return (
            f"{who} the maximum output tokens is no longer capped (it was {_num(old)})."
        )
    text = f"{who} the maximum output tokens {_moved(old, new, 'went down', 'went up')}"
    a, b = as_number(old), as_number(new)
    if a is not None and b is not None and b < a:
        return text + "; saved values above it are refused."
    return text + "."


def _credential_text(change: Change) -> str:
    schema = change.subject[1] if len(change.subject) > 1 else ""
    name = change.subject[2] if len(change.subject) > 2 else ""
    what = f"{schema} credential".strip()
    if change.kind == "renamed":
        return (
            f"The {what} {_code(str(change.old))} is now called "
            f"{_code(str(change.new))}: values saved under the old name are no "
            "longer passed to the plugin, so users enter them again."
        )
    if change.kind == "removed" and change.anchor == change.subject:
        return (
            f"The {what} field {_code(name)} was removed: saved values are "
            "dropped and the plugin no longer receives them."
        )
    if change.kind == "added" and change.anchor == change.subject:
        return (
            f"The {what} field {_code(name)} was added as required without a "
            "default: existing credentials fail validation until users fill it in."
        )
    return _sentence(change.message)


def _breaking_text(change: Change) -> str:
    subject = change.subject
    if subject[:1] == ("model",) and len(subject) == 3:
        prefix = f"{subject[1]} model {subject[2]} "
        rest = change.message.removeprefix(prefix)
        if rest != change.message:
            return f"{_about(subject)} {_sentence(rest, capital=False)}"
    return _sentence(change.message)


# ---------------------------------------------------------------- prices


def _is_price(change: Change) -> bool:
    return (
        change.section == "models"
        and change.subject[:1] == ("model",)
        and change.anchor[len(change.subject) : len(change.subject) + 1] == ("pricing",)
    )


def _price_items(
    changes: list[Change], *, head: PluginView, base: PluginView | None
) -> list[NoteItem]:
    """The price changes of one model: one sentence each, or one for prices
    that appeared or went away as a whole."""
    subject = changes[0].subject
    who = _about(subject)
    new_pricing = value_at(head, (*subject, "pricing"))
    old_pricing = value_at(base, (*subject, "pricing")) if base else MISSING
    if not isinstance(old_pricing, dict) and isinstance(new_pricing, dict):
        return [
            _note(PRICES, f"{who} now has prices: {_prices(new_pricing)}.", *changes)
        ]
    if not isinstance(new_pricing, dict) and isinstance(old_pricing, dict):
        return [
            _note(
                PRICES,
                f"{who} no longer has prices (they were {_prices(old_pricing)}).",
                *changes,
            )
        ]
    basis = price_basis_text(new_pricing) or price_basis_text(old_pricing)
    return [_note(PRICES, f"{who} {_price_text(c, basis)}.", c) for c in changes]


def _price_text(change: Change, basis: str) -> str:
    key = ".".join(change.anchor[len(change.subject) + 1 :])
    old, new = change.old, change.new
    per = f" {basis}" if basis else ""
    if key == "unit":
        was = price_unit_text(old) if old is not MISSING else ""
        now = price_unit_text(new) if new is not MISSING else ""
        return (
            f"prices are now {now or 'without a unit'} (they were "
            f"{was or 'without a unit'})"
        )
    if key == "currency":
        if old is MISSING:
            return f"prices are now in {_text(new)}"
        if new is MISSING:
            return f"prices no longer name a currency (they were in {_text(old)})"
        return f"prices are now in {_text(new)} instead of {_text(old)}"
    name = {"input": "input price", "output": "output price"}.get(key, f"price {key}")
    if old is MISSING:
        return f"the {name} is now {_num(new)}{per}"
    if new is MISSING:
        return f"the {name} was dropped (it was {_num(old)}{per})"
    return f"the {name} {_moved(old, new, 'fell', 'rose')}{per}"


def _prices(pricing: dict[str, Any]) -> str:
    basis = price_basis_text(pricing)
    given = pricing.get("input", "?"), pricing.get("output", "?")
    text = f"{_num(given[0])} input / {_num(given[1])} output"
    return f"{text} {basis}" if basis else text


# ---------------------------------------------------------------- first release


def _first_release(head: PluginView) -> list[str]:
    models: dict[str, dict[str, Any]] = head.data.get("model", {})
    lines = []
    for model_type, found in models.items():
        if not found:
            continue
        ids = list(found)
        named = ", ".join(_code(m) for m in ids[:FIRST_RELEASE_IDS])
        more = len(ids) - FIRST_RELEASE_IDS
        if more > 0:
            named += f" and {more} more"
        lines.append(f"- {_count(len(ids), model_type)}: {named}.")
    if not lines:
        return []
    return ["#### Models", "", *lines, ""]


# ---------------------------------------------------------------- words


def _type_name(model_type: str, plural: bool = False) -> str:
    names = _TYPE_NAMES.get(model_type, (f"{model_type} model", f"{model_type} models"))
    return names[1] if plural else names[0]


def _count(count: int, model_type: str) -> str:
    return f"{count} {_type_name(model_type, plural=count != 1)}"


def _model(subject: Anchor) -> str:
    """`LLM `gpt-4o`` (for "The … was added")."""
    return f"{_type_name(subject[1])} {_code(subject[2])}"


def _about(subject: Anchor) -> str:
    """`LLM `gpt-4o`:` heading a sentence about one model."""
    name = _type_name(subject[1])
    return f"{name[:1].upper()}{name[1:]} {_code(subject[2])}:"


def _moved(old: Any, new: Any, down: str, up: str) -> str:
    a, b = as_number(old), as_number(new)
    verb = "changed"
    if a is not None and b is not None:
        verb = down if b < a else up
    return f"{verb} from {_num(old)} to {_num(new)}"


def _num(value: Any) -> str:
    """A number as written (strings lose their quotes), anything else as text."""
    if value is MISSING or value is None:
        return "(none)"
    return _text(value)


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _sentence(text: str, *, capital: bool = True) -> str:
    text = _text(text)
    if capital:
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
