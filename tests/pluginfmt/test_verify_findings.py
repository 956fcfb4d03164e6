"""Findings stored on rows as JSON, read back, and counted by severity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from studio.pluginfmt.files import PluginFiles
from studio.pluginfmt.verify import (
    Finding,
    findings_from_json,
    findings_to_json,
    severity_counts,
    verify,
)

KEYS = ["rule", "severity", "layer", "file", "line", "message", "value", "fix"]


def make_finding(**changes: Any) -> Finding:
    data: dict[str, Any] = {
        "rule": "manifest.version",
        "severity": "error",
        "layer": "install",
        "file": "manifest.yaml",
        "line": 3,
        "message": "The version is not x.y.z.",
        "value": "1.0",
        "fix": "Use a version like 0.0.1.",
    } | changes
    return Finding(**data)


@pytest.fixture(scope="module")
def broken_plugin_findings() -> list[Finding]:
    files: PluginFiles = {
        # The byte-order mark is an info finding.
        "manifest.yaml": b"\xef\xbb\xbfversion: 1.0\ntype: plugin\nauthor: Bad Author\n"
        b"name: x\nplugins:\n  models: [provider/x.yaml]\n",
        "provider/x.yaml": b"provider: x\nmodels: {llm: {predefined: ['*.yaml']}}\n",
        "main.py": b"import os\n",
    }
    findings = verify(files)
    assert {f.severity for f in findings} == {"error", "warning", "info"}
    return findings


class TestToJson:
    def test_it_keeps_the_keys_and_values_rows_have_always_stored(
        self, broken_plugin_findings: list[Finding]
    ) -> None:
        for finding in broken_plugin_findings:
            stored = finding.to_json()
            assert list(stored) == KEYS
            # catalog stored as_dict(); imports and builds stored the JSON
            # round trip of as_dict() with default=str: all three agree.
            assert stored == finding.as_dict()
            assert stored == json.loads(json.dumps(finding.as_dict(), default=str))

    def test_it_gives_plain_json_for_a_value_the_verifier_did_not_clean(
        self,
    ) -> None:
        finding = make_finding(value={"sizes": (1, 2), "when": object})
        assert finding.to_json()["value"] == {"sizes": [1, 2], "when": str(object)}
        assert json.loads(json.dumps(finding.to_json())) == finding.to_json()

    def test_findings_to_json_keeps_the_verifier_order(
        self, broken_plugin_findings: list[Finding]
    ) -> None:
        stored = findings_to_json(broken_plugin_findings)
        assert stored == [f.to_json() for f in broken_plugin_findings]


class TestFromJson:
    def test_a_stored_finding_reads_back_equal(
        self, broken_plugin_findings: list[Finding]
    ) -> None:
        stored = json.loads(json.dumps(findings_to_json(broken_plugin_findings)))
        assert findings_from_json(stored) == broken_plugin_findings

    def test_an_older_row_without_layer_or_fix_reads_with_defaults(self) -> None:
        finding = Finding.from_json(
            {"rule": "x.y", "severity": "warning", "file": "a.yaml", "message": "m"}
        )
        assert finding == Finding(
            rule="x.y",
            severity="warning",
            layer="install",
            file="a.yaml",
            line=None,
            message="m",
            value=None,
            fix="",
        )

    @pytest.mark.parametrize("severity", [None, "", "fatal", 3])
    def test_an_unknown_severity_reads_as_info(self, severity: object) -> None:
        assert Finding.from_json({"severity": severity}).severity == "info"

    @pytest.mark.parametrize("layer", [None, "", "daemon"])
    def test_an_unknown_layer_reads_as_install(self, layer: object) -> None:
        assert Finding.from_json({"layer": layer}).layer == "install"

    @pytest.mark.parametrize("line", [None, 0, -4, "12", 1.5])
    def test_a_line_that_is_not_a_positive_number_reads_as_file_wide(
        self, line: object
    ) -> None:
        assert Finding.from_json({"line": line}).line is None

    def test_text_fields_read_as_text_and_value_as_stored(self) -> None:
        finding = Finding.from_json(
            {"rule": 5, "file": None, "message": 1.5, "fix": None, "value": [1, "a"]}
        )
        assert (finding.rule, finding.file, finding.message, finding.fix) == (
            "5",
            "",
            "1.5",
            "",
        )
        assert finding.value == [1, "a"]

    @pytest.mark.parametrize("data", [None, {}, "findings", 7])
    def test_a_row_that_is_not_a_list_has_no_findings(self, data: object) -> None:
        assert findings_from_json(data) == []

    def test_items_that_are_not_objects_are_skipped(self) -> None:
        stored = [make_finding().to_json(), "junk", None, [1]]
        assert findings_from_json(stored) == [make_finding()]


class TestSeverityCounts:
    def test_it_counts_findings_by_severity_with_zeros(self) -> None:
        findings = [
            make_finding(severity="error"),
            make_finding(severity="error"),
            make_finding(severity="info"),
        ]
        assert severity_counts(findings) == {"error": 2, "warning": 0, "info": 1}
        assert list(severity_counts(findings)) == ["error", "warning", "info"]

    def test_it_counts_stored_findings_and_skips_unknown_severities(self) -> None:
        stored = [
            {"severity": "warning"},
            {"severity": "error"},
            {"severity": "fatal"},
            {},
        ]
        assert severity_counts(stored) == {"error": 1, "warning": 1, "info": 0}

    def test_findings_and_their_stored_json_count_the_same(
        self, broken_plugin_findings: list[Finding]
    ) -> None:
        stored = findings_to_json(broken_plugin_findings)
        counts = severity_counts(broken_plugin_findings)
        assert severity_counts(stored) == counts
        assert sum(counts.values()) == len(broken_plugin_findings)
        assert counts["error"] == sum(
            f.severity == "error" for f in broken_plugin_findings
        )

    def test_nothing_counts_zero_of_each(self) -> None:
        assert severity_counts([]) == {"error": 0, "warning": 0, "info": 0}
