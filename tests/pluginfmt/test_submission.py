"""The Marketplace submission kit: layout, notes, pull request and checklist."""

from __future__ import annotations

import io
import zipfile

import pytest

from studio.pluginfmt.submission import (
    ChecklistItem,
    PrecheckResult,
    Submission,
    UnsafeName,
    checklist,
    checklist_document,
    kit_filename,
    kit_zip,
    notes_document,
    package_path,
    pull_request_body,
)

NOTES = (
    "### 0.3.0\n\nChanges since 0.2.0, the previous release (r1).\n\n"
    "#### Models removed\n\n- The LLM `gpt-4.1-nano` was removed: apps that use "
    "it stop working.\n"
)
CLEAN = PrecheckResult(state="done", build=12, install="passed")


def submission(**changes: object) -> Submission:
    data: dict[str, object] = {
        "author": "acme",
        "name": "gateway",
        "version": "0.3.0",
        "label": "Gateway",
        "package": b"PK-the-package",
        "notes": NOTES,
        "repo": "https://github.com/acme/gateway",
        "contact": "plugins@acme.example",
        "privacy": "PRIVACY.md",
        "update": True,
        "previous_version": "0.2.0",
        "release": "release r2, build 12",
        "smoke": "passed",
        "check": CLEAN,
    }
    data.update(changes)
    return Submission(**data)  # type: ignore[arg-type]


def box(text: str, item: str) -> str:
    """The checkbox (`x` or ` `) of the line in `text` that starts with `item`."""
    line = next(li for li in text.splitlines() if item in li)
    return line[3]


class TestLayout:
    def test_the_package_goes_under_author_and_name_with_the_version(self) -> None:
        assert package_path("acme", "gateway", "0.3.0") == (
            "acme/gateway/gateway-0.3.0.difypkg"
        )

    @pytest.mark.parametrize(
        ("author", "name", "version"),
        [
            ("..", "x", "1.0.0"),
            ("a/b", "x", "1.0.0"),
            ("a", "x", "1/../2"),
            ("", "x", "1"),
        ],
    )
    def test_names_that_are_not_plain_path_parts_are_refused(
        self, author: str, name: str, version: str
    ) -> None:
        with pytest.raises(UnsafeName):
            package_path(author, name, version)

    def test_the_zip_holds_the_package_the_notes_the_description_and_the_checklist(
        self,
    ) -> None:
        with zipfile.ZipFile(io.BytesIO(kit_zip(submission()))) as archive:
            names = archive.namelist()
            assert names == [
                "acme/gateway/gateway-0.3.0.difypkg",
                "RELEASE_NOTES.md",
                "PULL_REQUEST.md",
                "CHECKLIST.md",
            ]
            assert archive.read(names[0]) == b"PK-the-package"
            notes = archive.read("RELEASE_NOTES.md").decode()
        assert notes == f"## Release Notes\n\n{NOTES}"
        assert kit_filename("gateway", "0.3.0") == "gateway-0.3.0-submission-kit.zip"


class TestNotesDocument:
    def test_the_heading_is_added_once(self) -> None:
        assert notes_document("Fixed.\r\n") == "## Release Notes\n\nFixed.\n"
        assert notes_document("## Release notes\n\nFixed.") == (
            "## Release notes\n\nFixed.\n"
        )

    def test_empty_notes_say_so_under_the_heading(self) -> None:
        assert notes_document("  \n") == (
            "## Release Notes\n\nNo release notes were written.\n"
        )


class TestPullRequest:
    def test_it_follows_the_template_with_the_release_notes_last(self) -> None:
        body = pull_request_body(submission())
        sections = [li for li in body.splitlines() if li.startswith("## ")]
        assert sections == [
            "## Plugin information",
            "## Submission type",
            "## What changed",
            "## Risk level",
            "## Required checks",
            "## Security and privacy notes",
            "## Local validation",
            "## Reviewer notes",
            "## Release Notes",
        ]
        assert body.endswith(NOTES)
        assert "- **Author**: acme" in body
        assert "- **Source repository**: https://github.com/acme/gateway" in body
        assert "- **Contact**: plugins@acme.example" in body
        assert box(body, "Version update") == "x" and box(body, "New plugin") == " "
        assert "on release r2, build 12: 0 blocking findings, 0 advisory; install " in (
            body
        )
        # The notes remove a model: the reviewer notes point at it.
        assert "This version has breaking changes" in body

    def test_a_first_submission_is_a_new_plugin(self) -> None:
        body = pull_request_body(submission(update=False, previous_version=""))
        assert box(body, "New plugin") == "x" and box(body, "Version update") == " "
        assert "bump" not in checklist_document(submission(update=False))

    def test_missing_manifest_fields_are_named(self) -> None:
        body = pull_request_body(submission(repo="", contact=""))
        assert "- **Source repository**: (set `repo` in manifest.yaml)" in body
        assert "- **Contact**: (set `contact` in manifest.yaml)" in body


class TestChecklist:
    def test_a_clean_precheck_ticks_what_the_studio_checks_and_nothing_else(
        self,
    ) -> None:
        items = checklist(submission())
        assert [i.answer for i in items] == ["author"] * 3 + ["yes"] * 6
        text = checklist_document(submission())
        assert box(text, "I accept the Dify Plugin Developer Agreement") == " "
        assert box(text, "The package holds only what the plugin needs") == "x"
        assert "bump gateway plugin to version 0.3.0" in text
        assert "copy `acme/gateway/gateway-0.3.0.difypkg`" in text

    def test_a_blocking_finding_leaves_its_item_open_and_names_the_rule(
        self,
    ) -> None:
        check = PrecheckResult(
            state="done",
            build=12,
            blocking=2,
            advisory=1,
            blocking_rules={"marketplace.contents-blocked": 2},
            advisory_rules={"marketplace.readme-sections": 1},
        )
        items = checklist(submission(check=check))

        def item(start: str) -> ChecklistItem:
            return next(i for i in items if i.text.startswith(start))

        runtime = item("The package holds only")
        assert runtime.answer == "no"
        assert "`marketplace.contents-blocked` (2)" in runtime.why
        readme = item("The README covers")
        assert readme.answer == "unknown"
        assert "`marketplace.readme-sections` (1)" in readme.why
        assert item("No executables").answer == "yes"

    @pytest.mark.parametrize(
        ("check", "words"),
        [
            (None, "has not run"),
            (PrecheckResult(state="waiting", build=12), "still running"),
            (PrecheckResult(state="failed", build=12, error="boom"), "(boom)"),
        ],
    )
    def test_without_a_finished_precheck_nothing_is_ticked(
        self, check: PrecheckResult | None, words: str
    ) -> None:
        items = checklist(submission(check=check))
        assert {i.answer for i in items} == {"author", "unknown"}
        assert all(words in i.why for i in items if i.answer == "unknown")
        assert "[x]" not in checklist_document(submission(check=check))
