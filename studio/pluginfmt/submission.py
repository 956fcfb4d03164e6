"""A submission kit for the Dify Marketplace: what a pull request to
`langgenius/dify-plugins` needs, in one zip.

How that repository takes submissions (read from it; docs/marketplace.md,
"Submission kit", names the files and commits):

- the package goes at `<author>/<name>/<name>-<version>.difypkg` (its README,
  "Publishing", step 3: an organisation folder, a folder named after the
  plugin, the versioned package in it; its auto-publish workflow
  `plugin-publish.yml` writes exactly that path);
- a pull request adds one `.difypkg` and nothing else (README, "Updating");
- its description follows `.github/pull_request_template.md`: plugin
  information, submission type, what changed, risk level, a checklist of
  required checks, security and privacy notes, local validation, reviewer
  notes. The official repository's CI also wants a non-empty `## Release
  Notes` section, which the kit adds.

The kit holds the package at that path, `RELEASE_NOTES.md`,
`PULL_REQUEST.md` (the description to paste, with the release notes) and
`CHECKLIST.md` (each checklist item in the studio's words with its answer:
checked by the studio's Marketplace pre-check, or left to the author).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .package import write_zip

REPOSITORY = "langgenius/dify-plugins"
RELEASE_NOTES_HEADING = "## Release Notes"
NO_NOTES = "No release notes were written."
# What the manifest allows for author and name; anything else never becomes a path.
_PATH_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_VERSION = re.compile(r"[A-Za-z0-9_.+-]{1,64}")
_BREAKING_HEADINGS = (
    "#### Models removed",
    "#### Breaking credential changes",
    "#### Other breaking changes",
)

CheckState = Literal["done", "waiting", "failed", "none"]
Answer = Literal["yes", "no", "unknown", "author"]


@dataclass(frozen=True)
class PrecheckResult:
    """The Marketplace pre-check of the released package, as far as it went."""

    state: CheckState  # done; queued or running; could not run; never queued
    build: int
    blocking: int = 0
    advisory: int = 0
    # Rule id → number of findings, blocking and advisory apart.
    blocking_rules: dict[str, int] = field(default_factory=dict)
    advisory_rules: dict[str, int] = field(default_factory=dict)
    install: str = ""  # passed, failed, skipped; "" when it did not run
    error: str = ""


@dataclass(frozen=True)
class Submission:
    """What the kit is made of."""

    author: str
    name: str
    version: str
    label: str  # the provider's English label
    package: bytes  # the release's .difypkg
    notes: str  # Markdown, without the `## Release Notes` heading
    repo: str = ""
    contact: str = ""
    privacy: str = ""
    update: bool = False  # an earlier release of the plugin exists
    previous_version: str = ""
    release: str = ""  # which release this is, e.g. "r3, build 12"
    smoke: str = ""  # the build's smoke step: passed, skipped, failed
    check: PrecheckResult | None = None


@dataclass(frozen=True)
class ChecklistItem:
    """One required check of the pull request template, in the studio's words."""

    text: str
    answer: Answer
    why: str


class UnsafeName(ValueError):
    """Author, name or version cannot be used as a path in the repository."""


def package_path(author: str, name: str, version: str) -> str:
    """Where the repository keeps a package: `author/name/name-version.difypkg`."""
    for part in (author, name):
        if not _PATH_PART.fullmatch(part) or part.startswith("."):
            raise UnsafeName(f"{part!r} cannot name a folder of {REPOSITORY}")
    if not _VERSION.fullmatch(version) or ".." in version:
        raise UnsafeName(f"{version!r} cannot be part of a file name")
    return f"{author}/{name}/{name}-{version}.difypkg"


def notes_document(notes: str) -> str:
    """The notes under the `## Release Notes` heading (kept once when the
    author wrote the heading already)."""
    body = _lines(notes).strip() or NO_NOTES
    if body.lower().startswith(RELEASE_NOTES_HEADING.lower()):
        return body + "\n"
    return f"{RELEASE_NOTES_HEADING}\n\n{body}\n"


def kit_filename(name: str, version: str) -> str:
    return f"{name}-{version}-submission-kit.zip"


def kit_files(submission: Submission) -> list[tuple[str, bytes]]:
    """The kit's files, by path: the package where the repository wants it,
    then RELEASE_NOTES.md, PULL_REQUEST.md and CHECKLIST.md."""
    path = package_path(submission.author, submission.name, submission.version)
    return [
        (path, submission.package),
        ("RELEASE_NOTES.md", notes_document(submission.notes).encode()),
        ("PULL_REQUEST.md", pull_request_body(submission).encode()),
        ("CHECKLIST.md", checklist_document(submission).encode()),
    ]


def kit_zip(submission: Submission) -> bytes:
    """The kit as a zip (raises UnsafeName for names that cannot be paths)."""
    return write_zip(kit_files(submission))


# ---------------------------------------------------------------- the checklist


# Each required check of the template, restated; the pre-check rules that
# answer it (None: only the author can).
_CHECKS: list[tuple[str, tuple[str, ...] | None]] = [
    (
        "I followed the repository's submission requirements "
        "(docs/plugin-submission-requirements.md).",
        None,
    ),
    ("I accept the Dify Plugin Developer Agreement.", None),
    (
        "The plugin works on Dify Community Edition and on Dify Cloud (or the "
        "pull request says where it does not).",
        None,
    ),
    (
        "The package holds only what the plugin needs at runtime.",
        (
            "marketplace.contents-blocked",
            "marketplace.contents-review",
            "marketplace.contents-size",
        ),
    ),
    (
        "No secrets or local credentials, `.env` files, `.git` folders, virtual "
        "environments, caches, logs or IDE files are in the package.",
        (
            "marketplace.secret",
            "marketplace.secret-review",
            "marketplace.contents-blocked",
        ),
    ),
    (
        "No executables or bundled binaries are in the package (or the pull "
        "request explains why they are needed).",
        ("marketplace.binary", "marketplace.binary-review"),
    ),
    (
        "The README covers setup, usage, the APIs or credentials needed and how "
        "to connect, and links the source repository.",
        (
            "marketplace.readme-missing",
            "marketplace.readme-source-link",
            "marketplace.readme-sections",
        ),
    ),
    (
        "A privacy policy (`PRIVACY.md` or a hosted page) comes with the plugin "
        "and `manifest.yaml` names it.",
        ("marketplace.manifest-privacy",),
    ),
    (
        "What users read is mainly in English.",
        ("marketplace.readme-english", "marketplace.readme-locale-name"),
    ),
]


def checklist(submission: Submission) -> list[ChecklistItem]:
    """The template's required checks with the studio's answers."""
    return [_answer(text, rules, submission) for text, rules in _CHECKS]


def _answer(
    text: str, rules: tuple[str, ...] | None, submission: Submission
) -> ChecklistItem:
    check = submission.check
    if rules is None:
        return ChecklistItem(text, "author", _author_note(text, submission))
    if check is None or check.state != "done":
        return ChecklistItem(text, "unknown", _not_checked(check))
    blocking = {r: n for r, n in check.blocking_rules.items() if r in rules}
    advisory = {r: n for r, n in check.advisory_rules.items() if r in rules}
    if blocking:
        return ChecklistItem(
            text,
            "no",
            f"the pre-check of build {check.build} blocks on "
            f"{_rules(blocking)}: fix it and release again",
        )
    if advisory:
        return ChecklistItem(
            text,
            "unknown",
            f"the pre-check of build {check.build} asks you to look at "
            f"{_rules(advisory)}",
        )
    return ChecklistItem(
        text, "yes", f"the pre-check of build {check.build} found nothing here"
    )


def _author_note(text: str, submission: Submission) -> str:
    if text.startswith("The plugin works"):
        smoke = {
            "passed": "the studio's smoke test started this package under the "
            "Dify plugin SDK and called it",
            "skipped": "the smoke test was skipped for this build",
            "failed": "the smoke test failed",
        }.get(submission.smoke, "")
        return f"yours to confirm ({smoke})" if smoke else "yours to confirm"
    if text.startswith("I followed") and submission.check is not None:
        check = submission.check
        if check.state == "done":
            return (
                f"yours to confirm (the studio's pre-check of build {check.build}: "
                f"{_counts(check)})"
            )
    return "yours to confirm"


def _not_checked(check: PrecheckResult | None) -> str:
    if check is None or check.state == "none":
        return "not checked: the Marketplace pre-check has not run on this build"
    if check.state == "waiting":
        return (
            f"not checked yet: the pre-check of build {check.build} is still "
            "running; download the kit again when it is done"
        )
    return f"not checked: the pre-check of build {check.build} could not run" + (
        f" ({check.error})" if check.error else ""
    )


def _rules(found: dict[str, int]) -> str:
    return ", ".join(f"`{rule}` ({n})" for rule, n in sorted(found.items()))


def _counts(check: PrecheckResult) -> str:
    text = (
        f"{check.blocking} blocking finding{'s' if check.blocking != 1 else ''}, "
        f"{check.advisory} advisory"
    )
    if check.install:
        text += f"; install test {check.install}"
    return text


_MARK = {"yes": "x", "no": " ", "unknown": " ", "author": " "}
_SAYS = {
    "yes": "checked by the studio",
    "no": "not met",
    "unknown": "look",
    "author": "you",
}


def checklist_document(submission: Submission) -> str:
    """CHECKLIST.md: how to submit, then each required check with its answer."""
    path = package_path(submission.author, submission.name, submission.version)
    what = "Version update" if submission.update else "New plugin"
    lines = [
        f"# Submitting {submission.name} {submission.version} to the Dify Marketplace",
        "",
        f"1. Fork https://github.com/{REPOSITORY} and copy `{path}` from this kit "
        "to the same path in your fork. Add nothing else: a pull request may "
        "change one `.difypkg` only.",
        f"2. Open a pull request titled “{_title(submission)}” and paste "
        "`PULL_REQUEST.md` as its description.",
        "3. Go through the checks below: ticked ones the studio verified; tick "
        "the others yourself once they are true.",
        "",
        f"Submission type: **{what}**"
        + (
            f" (the last release in the studio is {submission.previous_version})."
            if submission.update and submission.previous_version
            else "."
        ),
        "",
        "## Required checks",
        "",
    ]
    for item in checklist(submission):
        lines.append(
            f"- [{_MARK[item.answer]}] {item.text} — *{_SAYS[item.answer]}: {item.why}*"
        )
    lines.append("")
    check = submission.check
    lines += ["## Marketplace pre-check", ""]
    if check is not None and check.state == "done":
        lines.append(f"Build {check.build}: {_counts(check)}.")
        for title, found in (
            ("Blocking", check.blocking_rules),
            ("Advisory", check.advisory_rules),
        ):
            if found:
                lines.append(f"{title}: {_rules(found)}.")
    else:
        lines.append(_capital(_not_checked(check)) + ".")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the description


def _title(submission: Submission) -> str:
    if submission.update:
        return f"bump {submission.name} plugin to version {submission.version}"
    return f"add {submission.name} plugin {submission.version}"


def pull_request_body(submission: Submission) -> str:
    """The pull request's description in the order the template asks, the
    studio's answers filled in, the release notes last."""
    s = submission
    check = s.check
    lines = [
        "# Plugin Submission",
        "",
        "## Plugin information",
        "",
        f"- **Author**: {s.author}",
        f"- **Plugin name**: {s.name}",
        f"- **Version**: {s.version}",
        f"- **Source repository**: {s.repo or '(set `repo` in manifest.yaml)'}",
        f"- **Contact**: {s.contact or '(set `contact` in manifest.yaml)'}",
        "",
        "## Submission type",
        "",
        f"- [{' ' if s.update else 'x'}] New plugin",
        f"- [{'x' if s.update else ' '}] Version update",
        "",
        "## What changed",
        "",
        (
            f"Version {s.version} of the {s.label} model provider"
            + (f" (after {s.previous_version})" if s.previous_version else "")
            + ". The changes users need to know are under “Release Notes” below."
            if s.update
            else f"The {s.label} model provider for Dify, version {s.version}: "
            "its models are listed under “Release Notes” below."
        ),
        "",
        "## Risk level",
        "",
        "- [ ] Low risk",
        "- [x] Medium risk",
        "- [ ] High risk",
        "",
        "<!-- A model provider sends the prompts and files of the apps that use "
        "it to an external service, which the submission requirements rate "
        "medium. Choose high if the plugin runs code or commands, or handles "
        "sensitive personal data. -->",
        "",
        "## Required checks",
        "",
    ]
    for item in checklist(s):
        lines.append(f"- [{_MARK[item.answer]}] {item.text}")
    lines += [
        "",
        "## Security and privacy notes",
        "",
        "<!-- List any sensitive capability (running code or commands, SQL, "
        "files, fetching arbitrary URLs, sensitive personal data), or write "
        "None. The studio cannot tell this from the package. -->",
        "",
        (
            f"Privacy policy: {s.privacy}."
            if s.privacy
            else "Privacy policy: (set `privacy` in manifest.yaml)."
        ),
        "",
        "## Local validation",
        "",
    ]
    if check is not None and check.state == "done":
        lines.append(
            "Checked with the Dify plugin studio's Marketplace pre-check (the "
            f"checks of this repository's CI and of the marketplace toolkit's "
            f"local validator) on {s.release or f'build {check.build}'}: "
            f"{_counts(check)}."
        )
    else:
        lines.append(_capital(_not_checked(check)) + ".")
    if s.smoke == "passed":
        lines.append(
            "Smoke test: the package was started under the Dify plugin SDK and "
            "its models were called."
        )
    lines += ["", "## Reviewer notes", ""]
    if any(h in s.notes for h in _BREAKING_HEADINGS):
        lines.append(
            "This version has breaking changes: they are listed in the release "
            "notes below."
        )
    else:
        lines.append("<!-- Optional: migration notes or known limitations. -->")
    lines += ["", notes_document(s.notes).rstrip(), ""]
    return "\n".join(lines)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
