"""The catalogue of the Marketplace pre-check: every rule, where it comes from.

Severity is the Marketplace's own: `error` where its gate blocks the pull
request (the CI of `langgenius/dify-plugins`, the blocking checks of the
toolkit's local validator, what reviewers send back), `warning` where it only
asks a reviewer to look. Every rule's layer is `marketplace`.

Each entry reads like documentation: `id | severity | origin`, then the
one-line summary, then the one-line fix. docs/marketplace.md lists them all
(a test keeps the two in step).
"""

from __future__ import annotations

from ..verify.findings import Rule, as_severity

# Where a rule comes from: the names docs/marketplace.md explains.
ORIGINS = {
    "ci": "dify-plugins pre-check CI",
    "official-ci": "dify-official-plugins pre-check CI",
    "validator": "marketplace toolkit local validator",
    "reviewers": "Marketplace reviewers",
}

_TABLE = """
# The pre-check CI of langgenius/dify-plugins
marketplace.author-reserved | error | ci
    The manifest author contains `langgenius` or `dify` (a substring: `difyhub` too).
    Use an author id of your own that contains neither word.

marketplace.icon-missing | error | ci
    The icon the manifest names (or its dark icon) is not a file under _assets/.
    Put the icon file in _assets/ and name it in manifest.yaml `icon`.

marketplace.icon-template | error | ci
    The icon still contains the template text DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE.
    Replace the template icon with your own.

marketplace.icon-default | error | ci
    The icon is the plugin template's default icon.
    Replace the template icon with your own.

marketplace.packaging | error | ci
    The daemon's packager, which the CI runs on the package, refuses it.
    Fix the verifier's errors (plugin verify) and build again.

marketplace.requirements-install | error | ci
    requirements.txt does not install with pip into a clean Python 3.12 virtualenv.
    Pin versions that publish wheels for Python 3.12 and check each name on PyPI.

marketplace.serverless-start | error | ci
    Started with INSTALL_METHOD=serverless, the plugin does not serve HTTP within 20 s.
    Run `python -m main` locally and fix the error it prints at start-up.

marketplace.version-exists | error | ci
    This version was released already; the Marketplace refuses a version twice.
    Raise `version` in manifest.yaml.

# The official plugins' CI (only with --official)
marketplace.official-author | error | official-ci
    Official plugins are published by `langgenius`; the author is someone else.
    Set `author: langgenius`, or check the plugin as a community one.

marketplace.official-pyproject | error | official-ci
    Official plugins must carry pyproject.toml (the CI installs with uv).
    Add pyproject.toml with uv.lock next to requirements.txt.

# What reviewers ask for
marketplace.icon-studio-default | error | reviewers
    The icon is the studio's placeholder for new plugins; reviewers ask for a real one.
    Upload the provider's own icon in the General section.

marketplace.version-not-newer | error | reviewers
    The version is not greater than the team's last release of this plugin.
    Raise `version` in manifest.yaml above the last release.

# The local validator: manifest
marketplace.manifest-field | error | validator
    A field the Marketplace requires is missing, or `type` is not `plugin`.
    Fill in the field named in the message.

marketplace.manifest-privacy | error | validator
    The privacy policy is missing, unreadable or still the template's.
    Add PRIVACY.md saying what the plugin sends where, and set `privacy: PRIVACY.md`.

marketplace.privacy-disclosure | warning | validator
    The privacy policy does not say what data is collected, stored, logged or shared.
    Say what the plugin sends, to whom, and what it keeps (or that it keeps nothing).

marketplace.manifest-repo | error | validator
    `repo` is missing or not a URL on an allowed source host.
    Set `repo` to the source repository URL, e.g. https://github.com/you/plugin.

marketplace.manifest-contact | error | validator
    `contact` is missing or not an email address.
    Set `contact` to an email address where users reach the author.

marketplace.minimum-dify-version | warning | validator
    meta.minimum_dify_version is not set.
    Set meta.minimum_dify_version to the oldest Dify the plugin was tested on.

# The local validator: README
marketplace.readme-missing | error | validator
    README.md is missing or empty.
    Write an English README.md: setup, usage, credentials, source link.

marketplace.readme-source-link | error | validator
    README.md links no source repository on an allowed host.
    Add a line such as `Source: https://github.com/you/plugin`.

marketplace.readme-english | error | validator
    README.md has CJK ideographs (Chinese, Japanese kanji) outside code blocks.
    Keep README.md in English; move translations to README.<locale>.md.

marketplace.readme-locale-name | warning | validator
    A translated README is not named README.<locale>.md.
    Rename it, e.g. README_zh.md to README.zh_Hans.md.

marketplace.readme-sections | warning | validator
    README.md seems to lack setup, usage, credentials or connection instructions.
    Add a section for each (the message names the missing one).

# The local validator: package contents, secrets, binaries
marketplace.contents-blocked | error | validator
    The package ships what it must not: .git, .venv, .env, keys, caches, logs.
    Add it to .difyignore and build again.

marketplace.contents-review | warning | validator
    The package holds a build/ or dist/ folder or an archive a reviewer has to look at.
    Leave it out unless the plugin needs it at runtime.

marketplace.contents-size | error | validator
    The package or its contents exceed 50 MB, or it holds more than 5000 files.
    Leave out what the plugin does not need at runtime.

marketplace.secret | error | validator
    A file holds what looks like a real credential (API key, token, private key).
    Remove the credential from the package and revoke it.

marketplace.secret-review | warning | validator
    A secret-named setting holds a short value a reviewer should look at.
    Use an empty value or an obvious placeholder.

marketplace.binary | error | validator
    The package holds an executable or a native library (ELF, PE, Mach-O, .so).
    Depend on a PyPI wheel instead of shipping binaries.

marketplace.binary-review | warning | validator
    The package holds a shell script or a binary-like file (.sh, .bin, .run).
    Leave it out unless the plugin needs it at runtime.

# The local validator: dependencies and Python
marketplace.dependency-source | error | validator
    A requirement installs from git or a direct URL.
    Depend on a released version from PyPI.

marketplace.dependency-unpinned | error | validator
    A requirement has no version constraint.
    Pin it, e.g. `httpx>=0.27,<0.29`.

marketplace.dependency-sdk-floor | error | validator
    dify_plugin is required without a lower bound of at least 0.9.0.
    Require e.g. `dify_plugin>=0.10.0,<0.11.0`.

marketplace.dependency-lower-bound | warning | validator
    A requirement has only a lower bound, so any future release installs.
    Add an upper bound, e.g. `openai>=2.45,<3`.

marketplace.dependency-local | warning | validator
    A requirement is editable, a local path, or an include that cannot be read.
    Depend on released packages; keep includes inside the package.

marketplace.dependency-large | warning | validator
    A requirement is a very large package (torch, tensorflow, transformers, ...).
    Say in the pull request why the plugin needs it.

marketplace.compileall | error | validator
    A Python file does not compile.
    Fix the syntax error at the reported line.

marketplace.requests-timeout | warning | validator
    A `requests` call has no timeout, so a silent server hangs the plugin.
    Pass `timeout=` to the call.

marketplace.credential-exposure | warning | validator
    A credential-named value goes into a log line, an exception, a return or a yield.
    Keep credentials out of logs, errors and results.

marketplace.financial-activity | warning | validator
    The text mentions payments, trading or transfers, which the Marketplace forbids.
    Reword the text, or explain in the pull request that the plugin moves no money.
"""


def _parse(table: str) -> tuple[dict[str, Rule], dict[str, str]]:
    rules: dict[str, Rule] = {}
    origins: dict[str, str] = {}
    lines = [
        line for line in table.splitlines() if line.strip() and not line.startswith("#")
    ]
    for i in range(0, len(lines), 3):
        head, summary, fix = lines[i : i + 3]
        rule_id, severity_text, origin = (part.strip() for part in head.split("|"))
        severity = as_severity(severity_text)
        if severity is None or origin not in ORIGINS:
            raise ValueError(f"bad rule header: {head!r}")
        if rule_id in rules or not summary.startswith("    "):
            raise ValueError(f"bad rule entry: {head!r}")
        rules[rule_id] = Rule(
            rule_id, severity, "marketplace", summary.strip(), fix.strip()
        )
        origins[rule_id] = origin
    return rules, origins


RULES, RULE_ORIGINS = _parse(_TABLE)
