"""The manifest's checks: author, icons, required fields, privacy, repo,
contact, minimum Dify version and the version against earlier releases."""

from __future__ import annotations

import posixpath
import re

from packaging.version import InvalidVersion, Version

from ..scaffold.tree import DEFAULT_ICON as STUDIO_ICON
from .context import Context, lookup, text_value
from .hosts import REPO_URL, hosts_text

MANIFEST = "manifest.yaml"
PRIVACY_FILE = "PRIVACY.md"

# Fields the validator requires; privacy, repo and contact have rules of their own.
REQUIRED_FIELDS: tuple[tuple[str, ...], ...] = (
    ("author",),
    ("name",),
    ("version",),
    ("type",),
    ("icon",),
    ("plugins",),
    ("label", "en_US"),
    ("description", "en_US"),
    ("meta", "version"),
    ("meta", "arch"),
    ("meta", "runner", "language"),
    ("meta", "runner", "version"),
    ("meta", "runner", "entrypoint"),
)

TEMPLATE_ICON_TEXT = b"DIFY_MARKETPLACE_TEMPLATE_ICON_DO_NOT_USE"
# The default icon of the plugin template, compared as the CI does: with every
# space, tab and line break removed.
TEMPLATE_ICON = (
    b'<svg width="100" height="100" xmlns="http://www.w3.org/2000/svg">\n'
    b'  <path d="M20 20 V80 M20 20 H60 Q80 20 80 40 T60 60 H20" \n'
    b'        fill="none" \n'
    b'        stroke="black" \n'
    b'        stroke-width="5"/>\n'
    b"</svg>"
)

PRIVACY_TEMPLATE = "please fill in the privacy policy"
# Words a policy that says what happens to data uses; a policy may avoid all of
# them and still be honest, so missing them only warns.
DISCLOSURE_WORDS = (
    "collect", "personal data", "user data", "store", "storage", "retain",
    "retention", "persist", "log", "third party", "third-party", "share",
    "send", "transmit", "external service",
)  # fmt: skip
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$"
)
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_manifest(ctx: Context) -> None:
    """Every check that reads manifest.yaml."""
    if ctx.manifest is None:
        # The verifier reports why; the CI's yq fails on it just the same.
        ctx.add(
            "marketplace.manifest-field",
            MANIFEST,
            None,
            "manifest.yaml cannot be read, so no field can be checked.",
        )
        return
    _check_author(ctx)
    _check_fields(ctx)
    _check_icons(ctx)
    _check_privacy(ctx)
    _check_repo(ctx)
    _check_contact(ctx)
    _check_versions(ctx)
    if not text_value(lookup(ctx.manifest_data, ("meta", "minimum_dify_version"))):
        ctx.add(
            "marketplace.minimum-dify-version",
            MANIFEST,
            ctx.manifest_line("meta"),
            "meta.minimum_dify_version is not set; the Marketplace recommends it.",
        )


def _check_author(ctx: Context) -> None:
    author = text_value(ctx.manifest_data.get("author"))
    line = ctx.manifest_line("author")
    if ctx.profile == "official":
        if "langgenius" not in author:
            ctx.add(
                "marketplace.official-author",
                MANIFEST,
                line,
                f"The author is {author!r}; official plugins are published by "
                "langgenius.",
                value=author,
            )
        return
    for word in ("langgenius", "dify"):
        if word in author.lower():
            ctx.add(
                "marketplace.author-reserved",
                MANIFEST,
                line,
                f"The author {author!r} contains {word!r}, which the Marketplace "
                "reserves for Dify's own plugins.",
                value=author,
            )
            return


def _check_fields(ctx: Context) -> None:
    data = ctx.manifest_data
    for path in REQUIRED_FIELDS:
        if not text_value(lookup(data, path)):
            dotted = ".".join(path)
            ctx.add(
                "marketplace.manifest-field",
                MANIFEST,
                ctx.manifest_line(*path),
                f"manifest.yaml has no {dotted}; the Marketplace requires it.",
                value=dotted,
            )
    kind = text_value(data.get("type"))
    if kind and kind != "plugin":
        ctx.add(
            "marketplace.manifest-field",
            MANIFEST,
            ctx.manifest_line("type"),
            f"type is {kind!r}; the Marketplace takes only `plugin`.",
            value=kind,
        )


def _squeeze(data: bytes) -> bytes:
    return data.translate(None, b" \t\r\n\0")


def _check_icons(ctx: Context) -> None:
    for key in ("icon", "icon_dark"):
        name = text_value(ctx.manifest_data.get(key))
        if not name:
            continue  # a missing `icon` is a missing field
        line = ctx.manifest_line(key)
        path = f"_assets/{name}"
        data = ctx.files.get(path)
        if data is None:
            ctx.add(
                "marketplace.icon-missing",
                MANIFEST,
                line,
                f"{key} names {name!r}, but there is no {path} in the package.",
                value=path,
            )
            continue
        squeezed = _squeeze(data)
        if TEMPLATE_ICON_TEXT in data:
            ctx.add(
                "marketplace.icon-template",
                path,
                None,
                f"{path} still carries the template text "
                f"{TEMPLATE_ICON_TEXT.decode()}.",
            )
        elif squeezed == _squeeze(TEMPLATE_ICON):
            ctx.add(
                "marketplace.icon-default",
                path,
                None,
                f"{path} is the plugin template's default icon.",
            )
        elif squeezed == _squeeze(STUDIO_ICON):
            ctx.add(
                "marketplace.icon-studio-default",
                path,
                None,
                f"{path} is the placeholder icon the studio gives new plugins; "
                "reviewers ask for the provider's own icon.",
            )


def _check_privacy(ctx: Context) -> None:
    privacy = text_value(ctx.manifest_data.get("privacy"))
    line = ctx.manifest_line("privacy") if privacy else None
    if PRIVACY_FILE not in ctx.files:
        ctx.add(
            "marketplace.manifest-privacy",
            PRIVACY_FILE,
            None,
            "The package has no PRIVACY.md; the Marketplace's validator requires "
            "the file even when `privacy` is a URL.",
        )
    if not privacy:
        ctx.add(
            "marketplace.manifest-privacy",
            MANIFEST,
            None,
            "manifest.yaml has no `privacy`; the Marketplace requires a privacy "
            "policy (a file in the package or an http(s) URL).",
        )
        return
    if privacy.startswith(("http://", "https://")):
        return
    if URL_SCHEME.match(privacy):
        ctx.add(
            "marketplace.manifest-privacy",
            MANIFEST,
            line,
            f"privacy is {privacy!r}; a URL must start with http:// or https://.",
            value=privacy,
        )
        return
    path = posixpath.normpath(privacy.removeprefix("./"))
    if privacy.startswith("/") or path == ".." or path.startswith("../"):
        ctx.add(
            "marketplace.manifest-privacy",
            MANIFEST,
            line,
            f"privacy is {privacy!r}, which is not a file inside the package.",
            value=privacy,
        )
        return
    data = ctx.files.get(path)
    if data is None:
        ctx.add(
            "marketplace.manifest-privacy",
            MANIFEST,
            line,
            f"privacy names {privacy!r}, which is not in the package.",
            value=privacy,
        )
        return
    text = data.decode("utf-8", "ignore").lower()
    if not text.strip():
        ctx.add("marketplace.manifest-privacy", path, None, f"{path} is empty.")
    elif PRIVACY_TEMPLATE in text:
        ctx.add(
            "marketplace.manifest-privacy",
            path,
            None,
            f"{path} still holds the template's placeholder ({PRIVACY_TEMPLATE!r}).",
        )
    elif not any(word in text for word in DISCLOSURE_WORDS):
        ctx.add(
            "marketplace.privacy-disclosure",
            path,
            None,
            f"{path} does not say what data the plugin collects, stores, logs or "
            "shares (or that it collects none).",
        )


def _check_repo(ctx: Context) -> None:
    repo = text_value(ctx.manifest_data.get("repo"))
    if not repo:
        ctx.add(
            "marketplace.manifest-repo",
            MANIFEST,
            None,
            "manifest.yaml has no `repo`; the Marketplace requires the source "
            "repository's URL.",
        )
    elif not REPO_URL.match(repo):
        ctx.add(
            "marketplace.manifest-repo",
            MANIFEST,
            ctx.manifest_line("repo"),
            f"repo is {repo!r}, not a repository URL on an allowed host "
            f"({hosts_text()}).",
            value=repo,
        )


def _check_contact(ctx: Context) -> None:
    contact = text_value(ctx.manifest_data.get("contact"))
    if not contact:
        ctx.add(
            "marketplace.manifest-contact",
            MANIFEST,
            None,
            "manifest.yaml has no `contact`; the Marketplace requires an email "
            "address.",
        )
    elif not EMAIL.match(contact):
        ctx.add(
            "marketplace.manifest-contact",
            MANIFEST,
            ctx.manifest_line("contact"),
            f"contact is {contact!r}, not an email address.",
            value=contact,
        )


def version_key(text: str) -> Version | None:
    """The version as PEP 440 orders it; None when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _check_versions(ctx: Context) -> None:
    version = text_value(ctx.manifest_data.get("version"))
    released = [v for v in ctx.released_versions if v]
    if not version or not released:
        return
    line = ctx.manifest_line("version")
    if version in released:
        ctx.add(
            "marketplace.version-exists",
            MANIFEST,
            line,
            f"Version {version} was released already.",
            value=version,
        )
        return
    mine = version_key(version)
    known = [(key, v) for v in released if (key := version_key(v)) is not None]
    if mine is None or not known:
        return
    last_key, last = max(known)
    if mine <= last_key:
        ctx.add(
            "marketplace.version-not-newer",
            MANIFEST,
            line,
            f"Version {version} is not greater than the last release, {last}.",
            value={"version": version, "last_release": last},
        )
