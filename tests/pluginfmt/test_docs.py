from __future__ import annotations

from pathlib import Path

from studio.pluginfmt.verify import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs"


class TestVerifierRulesDoc:
    def test_every_rule_is_documented_with_its_severity_and_layer(self) -> None:
        text = (DOCS / "verifier-rules.md").read_text()
        missing = [
            rule.id
            for rule in RULES.values()
            if f"| `{rule.id}` | {rule.severity} | {rule.layer} |" not in text
        ]
        assert missing == []


class TestMarketplaceRulesDoc:
    def test_every_precheck_rule_is_documented_with_severity_and_origin(self) -> None:
        from studio.pluginfmt.precheck import RULE_ORIGINS
        from studio.pluginfmt.precheck import RULES as PRECHECK_RULES

        text = (DOCS / "marketplace.md").read_text()
        missing = [
            rule.id
            for rule in PRECHECK_RULES.values()
            if f"| `{rule.id}` | {rule.severity} | {RULE_ORIGINS[rule.id]} |"
            not in text
        ]
        assert missing == []
