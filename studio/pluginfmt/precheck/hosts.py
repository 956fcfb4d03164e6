"""Where the Marketplace accepts a plugin's source repository to live.

The toolkit keeps this list as its admission policy for `repo` in the
manifest and the source link in the README: the public forges, plus vendor
instances admitted one by one. A host matches exactly, with an optional
`www.` in front.
"""

from __future__ import annotations

import re

SOURCE_HOSTS: tuple[str, ...] = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "gitee.com",
    "codeberg.org",
    "git.sr.ht",
    "gitlab.anchnet.com",
)

_HOSTS = "|".join(re.escape(host) for host in SOURCE_HOSTS)
_URL = rf"https?://(?:www\.)?(?:{_HOSTS})/[^\s)>\"]+"

# The manifest's `repo` is nothing but the URL; a README mentions it anywhere.
REPO_URL = re.compile(rf"^{_URL}$", re.IGNORECASE)
SOURCE_LINK = re.compile(_URL, re.IGNORECASE)


def hosts_text() -> str:
    """The allowed hosts, for messages."""
    return ", ".join(SOURCE_HOSTS)
