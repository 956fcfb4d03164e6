"""What the Dify Marketplace asks of a plugin's `repo`, `contact` and `privacy`.

The Marketplace's local validator (`langgenius/dify-marketplace-toolkit`,
`toolkit/checks/manifest.py`, `readme.py` and `source_hosts.py`) refuses a
package whose manifest lacks these three keys, whose `repo` is not a
repository URL on a host it admits, whose `contact` is not an email address,
or whose `privacy` is neither an http(s) URL nor a file inside the package.
Dify itself ignores `contact` and only needs `repo` to be a URL. These are
the same rules in the studio's words, shared by the verifier and the forms.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The toolkit's admitted source hosts (source_hosts.py), matched exactly or
# with a `www.` prefix: the public forges, then the self-hosted forges it
# admitted one by one (messages name only the public ones).
PUBLIC_FORGES = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "gitee.com",
    "codeberg.org",
    "git.sr.ht",
)
SOURCE_HOSTS = (*PUBLIC_FORGES, "gitlab.anchnet.com")
SOURCE_HOSTS_TEXT = ", ".join(PUBLIC_FORGES)

# The placeholder sentence of `dify plugin init`'s PRIVACY.md, which the
# validator refuses as an unanswered policy.
PRIVACY_TEMPLATE_MARKER = "please fill in the privacy policy"
PRIVACY_DEFAULT = "PRIVACY.md"
PRIVACY_SUFFIXES = (".md", ".txt")

MAX_URL = 255
MAX_CONTACT = 254
MAX_PRIVACY_PATH = 128

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# What the validator takes as a URL's path: no blanks, quotes, `)` or `>`.
_URL_PATH = re.compile(r"/[^\s)>\"<'`]+")
# An address as the validator reads it: RFC 5322 atext (and dots) before the
# `@`, two or more dot-separated labels of letters, digits and `-` after it.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PATH_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def is_http_url(value: str) -> bool:
    """True for a value that starts with `http://` or `https://`."""
    return value.startswith(("http://", "https://"))


def has_scheme(value: str) -> bool:
    """True for a value that starts with a URL scheme (`ftp:`, `mailto:`…)."""
    return _SCHEME.match(value) is not None


def repo_problem(value: str, *, https_only: bool = False) -> str:
    """Why the Marketplace refuses `value` as `repo` ("" when it takes it).

    With `https_only` (the studio's forms) `http://` is refused too, and so
    are a user name, a password or a port in the URL: a token pasted with the
    address would be published in the manifest.
    """
    schemes = ("https",) if https_only else ("http", "https")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "it is not a valid URL"
    if parts.scheme.lower() not in schemes or not parts.netloc:
        return "use an https:// URL" if https_only else "use an http(s):// URL"
    if https_only and (parts.username is not None or port is not None):
        return "leave out user names, passwords and ports"
    host = (parts.hostname or "").lower()
    if host.removeprefix("www.") not in SOURCE_HOSTS:
        return (
            f"the Marketplace accepts source repositories on {SOURCE_HOSTS_TEXT}, "
            f"not on {host or value}"
        )
    rest = value[len(parts.scheme) + 3 + len(parts.netloc) :]
    if not _URL_PATH.fullmatch(rest) or not rest.strip("/"):
        return "give the repository's address, e.g. https://github.com/you/plugin"
    return ""


def is_email(value: str) -> bool:
    """True for an address the Marketplace takes as `contact`."""
    return len(value) <= MAX_CONTACT and _EMAIL.fullmatch(value) is not None


def privacy_path_problem(value: str) -> str:
    """Why `value` is no file path inside the package ("" when it is one).

    A path is relative, `/`-separated, without `.`/`..` or hidden parts (the
    ignore file drops dot-folders), and names a Markdown or text file.
    """
    path = value.removeprefix("./")
    if not path:
        return "give a file name such as PRIVACY.md"
    if path.startswith("/") or "\\" in path:
        return "use a relative path inside the plugin with / between folders"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "the file must be inside the plugin (no '..' or empty folders)"
    if not all(_PATH_PART.fullmatch(part) for part in parts):
        return "use letters, digits, '.', '_' and '-' (no leading dot) in the path"
    if len(path) > MAX_PRIVACY_PATH:
        return f"use a path of at most {MAX_PRIVACY_PATH} characters"
    if not path.lower().endswith(PRIVACY_SUFFIXES):
        return "name a Markdown (.md) or text (.txt) file"
    return ""


def privacy_file(value: str) -> str | None:
    """The package path `privacy` names, or None when it is a URL or unsafe."""
    if has_scheme(value) or privacy_path_problem(value):
        return None
    return value.removeprefix("./")
