"""What the package carries: development leftovers, its size, binaries and
files that look like credentials."""

from __future__ import annotations

import math
import re
from collections import Counter

from .context import Context, suffix_of

MAX_BYTES = 50 * 1024 * 1024
MAX_FILES = 5000

BLOCKED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", "pycache",
    ".pytest_cache", ".ruff_cache", ".mypy_cache", ".tox", ".nox", ".idea",
    ".vscode", "node_modules",
})  # fmt: skip
REVIEW_DIRS = frozenset({"build", "dist"})
BLOCKED_NAMES = frozenset(
    {".DS_Store", ".gitconfig", "Thumbs.db", "desktop.ini", "id_rsa"}
)
ENV_EXAMPLES = frozenset({".env.example", ".env.sample", ".env.template"})
BLOCKED_SUFFIXES = frozenset({
    ".key", ".pem", ".p12", ".pfx", ".pyc", ".pyo", ".log", ".tmp", ".swp",
    ".swo", ".bak",
})  # fmt: skip
ARCHIVE_SUFFIXES = frozenset(
    {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"}
)

# Binaries are told by their first bytes, not their names.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable or shared object"),
    (b"MZ", "a Windows executable or DLL"),
    (b"\xfe\xed\xfa\xce", "a Mach-O binary"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O binary"),
    (b"\xce\xfa\xed\xfe", "a Mach-O binary"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O binary"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary"),
    (b"\xca\xfe\xba\xbf", "a Mach-O universal binary"),
)
NATIVE_SUFFIXES = {
    ".dll": "a Windows library",
    ".dylib": "a macOS library",
    ".exe": "a Windows executable",
    ".node": "a native Node.js addon",
    ".pyd": "a native Python extension",
    ".so": "a native shared library",
}
REVIEW_SUFFIXES = {
    ".app": "an application bundle",
    ".bin": "a binary-like file",
    ".command": "a macOS command script",
    ".run": "an installer-like file",
    ".sh": "a shell script",
}
DAEMON_BINARY = re.compile(
    r"^(?:dify-plugin-linux-.+|dify-plugin-darwin-.+|dify-plugin-windows-.+\.exe)$",
    re.IGNORECASE,
)


def check_contents(ctx: Context) -> None:
    """Blocked and reviewable files and folders, size and file count."""
    blocked_dirs: set[str] = set()
    review_dirs: set[str] = set()
    total = 0
    for path in sorted(ctx.files):
        total += len(ctx.files[path])
        parts = path.split("/")
        folder = _first_dir(parts, BLOCKED_DIRS)
        if folder is not None:
            blocked_dirs.add(folder)
            continue  # the validator does not look inside a blocked folder
        review = _first_dir(parts, REVIEW_DIRS)
        if review is not None:
            review_dirs.add(review)
        name, suffix = parts[-1], suffix_of(path)
        is_env = name == ".env" or (
            name.startswith(".env.") and name not in ENV_EXAMPLES
        )
        if name in BLOCKED_NAMES or is_env:
            ctx.add(
                "marketplace.contents-blocked",
                path,
                None,
                f"{path} must not be shipped.",
                value=path,
            )
        elif suffix in BLOCKED_SUFFIXES:
            ctx.add(
                "marketplace.contents-blocked",
                path,
                None,
                f"{path}: {suffix} files must not be shipped.",
                value=path,
            )
        elif suffix in ARCHIVE_SUFFIXES:
            ctx.add(
                "marketplace.contents-review",
                path,
                None,
                f"{path} is an archive; a reviewer has to look inside.",
                value=path,
            )
    for folder in sorted(blocked_dirs):
        ctx.add(
            "marketplace.contents-blocked",
            f"{folder}/",
            None,
            f"{folder}/ must not be shipped.",
            value=f"{folder}/",
        )
    for folder in sorted(review_dirs):
        ctx.add(
            "marketplace.contents-review",
            f"{folder}/",
            None,
            f"{folder}/ is shipped; a reviewer checks the plugin needs it at runtime.",
            value=f"{folder}/",
        )
    _check_size(ctx, total)


def _first_dir(parts: list[str], names: frozenset[str]) -> str | None:
    for i, part in enumerate(parts[:-1]):
        if part in names:
            return "/".join(parts[: i + 1])
    return None


def _check_size(ctx: Context, total: int) -> None:
    mib = 1024 * 1024
    if ctx.package_size is not None and ctx.package_size > MAX_BYTES:
        ctx.add(
            "marketplace.contents-size",
            "",
            None,
            f"The .difypkg is {ctx.package_size / mib:.1f} MiB; the limit is 50 MB.",
            value=ctx.package_size,
        )
    if total > MAX_BYTES:
        ctx.add(
            "marketplace.contents-size",
            "",
            None,
            f"The files total {total / mib:.1f} MiB unpacked; the limit is 50 MB.",
            value=total,
        )
    if len(ctx.files) > MAX_FILES:
        ctx.add(
            "marketplace.contents-size",
            "",
            None,
            f"The package holds {len(ctx.files)} files; the limit is {MAX_FILES}.",
            value=len(ctx.files),
        )


# ---------------------------------------------------------------- binaries


def check_binaries(ctx: Context) -> None:
    """Executables and native libraries, by first bytes and by name."""
    for path in sorted(ctx.files):
        parts = path.split("/")
        if any(p in {"__pycache__", ".git", ".hg", ".svn"} for p in parts[:-1]):
            continue
        # Wheels carry compiled extensions legitimately: only a reviewer decides.
        in_wheel = any(p.endswith(".whl") for p in parts[:-1])
        rule = "marketplace.binary-review" if in_wheel else "marketplace.binary"
        reasons: list[tuple[str, str]] = []
        if DAEMON_BINARY.match(parts[-1]):
            reasons.append(("marketplace.binary", "is a plugin daemon binary"))
        head = ctx.files[path][:8]
        magic = next((what for sig, what in MAGIC if head.startswith(sig)), None)
        if magic:
            reasons.append((rule, f"is {magic}"))
        suffix = suffix_of(path)
        if suffix in NATIVE_SUFFIXES:
            reasons.append((rule, f"is {NATIVE_SUFFIXES[suffix]} ({suffix})"))
        elif suffix in REVIEW_SUFFIXES:
            reasons.append(
                ("marketplace.binary-review", f"is {REVIEW_SUFFIXES[suffix]}")
            )
        for rule_id, reason in dict.fromkeys(reasons):
            ctx.add(rule_id, path, None, f"{path} {reason}.", value=path)


# ---------------------------------------------------------------- secrets

TEXT_SKIP = frozenset({
    ".7z", ".avif", ".bmp", ".bz2", ".dylib", ".eot", ".exe", ".gif", ".gz",
    ".ico", ".jpeg", ".jpg", ".mov", ".mp3", ".mp4", ".otf", ".pdf", ".png",
    ".rar", ".so", ".tar", ".tgz", ".ttf", ".webm", ".webp", ".woff", ".woff2",
    ".xz", ".zip",
})  # fmt: skip
SECRET_DIRS_SKIPPED = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules"}
)
# Files where an unquoted right-hand side is code (reading a credential), not
# a literal.
CODE_SUFFIXES = frozenset({
    ".c", ".cc", ".cpp", ".cs", ".go", ".h", ".hpp", ".java", ".js", ".jsx",
    ".kt", ".m", ".mjs", ".mm", ".php", ".py", ".pyi", ".rb", ".rs", ".scala",
    ".swift", ".ts", ".tsx",
})  # fmt: skip
SECRET_WORDS = (
    "api_key", "apikey", "access_key", "access_token", "auth_token",
    "client_secret", "password", "private_key", "secret", "token",
)  # fmt: skip
PLACEHOLDERS = frozenset({
    "", "changeme", "dummy", "example", "fake", "none", "null", "placeholder",
    "test", "todo", "xxx", "xxxx", "your-api-key", "your_api_key", "your-key",
    "your-secret", "your-token",
})  # fmt: skip
NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off"})
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_.-]+$")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
ASSIGNMENT = re.compile(
    r"""(?ix)
    (?P<key>[A-Z0-9_.-]*(?:api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token
        |client[_-]?secret|password|private[_-]?key|secret|token)[A-Z0-9_.-]*)
    \s*[:=]\s*
    (?P<value>"[^"]*"|'[^']*'|[^"',\s#}]+)
    """
)
# (what it is, its pattern, a substring every match contains)
VENDOR_TOKENS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("an OpenAI-style API key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"), "sk-"),
    (
        "a GitHub token",
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{20,}\b"),
        "gh",
    ),
    ("a Slack token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"), "xox"),
    ("an AWS access key id", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AKIA"),
    (
        "a JWT",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
        "eyJ",
    ),
)
# Every secret-named key contains one of these (lower-cased).
SECRET_ROOTS = ("key", "token", "secret", "password")
# detect-secrets' entropy floors, bits per character.
MIN_HEX_ENTROPY = 3.0
MIN_TOKEN_ENTROPY = 4.5


def check_secrets(ctx: Context) -> None:
    """Vendor-shaped tokens, private keys and secret-looking literal assignments."""
    for path in sorted(ctx.files):
        if any(p in SECRET_DIRS_SKIPPED for p in path.split("/")[:-1]):
            continue
        if not ctx.is_text(path, TEXT_SKIP):
            continue
        code = suffix_of(path) in CODE_SUFFIXES
        for number, line in enumerate(ctx.text(path).splitlines(), 1):
            _scan_line(ctx, path, number, line, code=code)


def _scan_line(ctx: Context, path: str, number: int, line: str, *, code: bool) -> None:
    lowered = line.lower()
    # Cheap tests first: most lines hold none of the words the patterns need.
    if "private key" in lowered and PRIVATE_KEY.search(line):
        ctx.add(
            "marketplace.secret", path, number, f"{path} holds a private key block."
        )
    vendor = False
    for name, pattern, hint in VENDOR_TOKENS:
        match = hint in line and pattern.search(line)
        if match:
            vendor = True
            ctx.add(
                "marketplace.secret",
                path,
                number,
                f"{path} holds {name}: {mask(match.group(0))}.",
            )
    if vendor:
        return  # one token, one finding
    if not any(root in lowered for root in SECRET_ROOTS):
        return
    for match in ASSIGNMENT.finditer(line):
        key, value = match.group("key"), match.group("value")
        if not any(word in key.lower() for word in SECRET_WORDS):
            continue
        quoted = len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]
        cleaned = value.strip().strip("\"'")
        if is_placeholder(cleaned):
            continue
        if NUMBER.match(cleaned) or cleaned.lower() in NOT_SECRETS:
            continue
        if code and not quoted:
            continue  # an expression: the plugin reads a credential
        if looks_secret(cleaned):
            ctx.add(
                "marketplace.secret",
                path,
                number,
                f"`{key}` is set to what looks like a real secret: {mask(cleaned)}.",
            )
        else:
            ctx.add(
                "marketplace.secret-review",
                path,
                number,
                f"`{key}` is set to a value a reviewer should look at.",
            )


def is_placeholder(value: str) -> bool:
    """Whether a secret-named value is an obvious stand-in."""
    lowered = value.strip().lower()
    if lowered in PLACEHOLDERS:
        return True
    if lowered.startswith("<") and lowered.endswith(">"):
        return True
    if lowered.startswith("${"):
        return True
    if "your" in lowered and any(
        w in lowered for w in ("key", "secret", "token", "password")
    ):
        return True
    return set(lowered) <= {"x", "*", "-", "_"}


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    total = len(value)
    if not total:
        return 0.0
    return -sum((n / total) * math.log2(n / total) for n in Counter(value).values())


def looks_secret(value: str) -> bool:
    """Whether a literal has the shape and randomness of secret material."""
    if len(value) < 12 or value.startswith(("http://", "https://", "./", "../", "/")):
        return False
    if HEX.match(value):
        return entropy(value) >= MIN_HEX_ENTROPY
    if TOKEN_CHARS.match(value):
        return entropy(value) >= MIN_TOKEN_ENTROPY
    return False


def mask(value: str) -> str:
    """A secret shown without revealing it: its first and last four characters."""
    return "***" if len(value) <= 8 else f"{value[:4]}...{value[-4:]}"


# ---------------------------------------------------------------- financial

FINANCIAL_SUFFIXES = frozenset(
    {".md", ".yaml", ".yml", ".json", ".toml", ".py", ".js", ".ts"}
)
FINANCIAL: dict[str, re.Pattern[str]] = {
    category: re.compile("|".join(patterns), re.IGNORECASE)
    for category, patterns in {
        "payment processing": (
            r"\bpayment\s+processing\b", r"\bprocess(?:ing)?\s+payments?\b",
            r"\bpayments?\b", r"\bcheckout\b", r"\bcharge(?:s|d)?\b",
            r"\brefund(?:s|ed)?\b", r"\bpayout(?:s)?\b",
        ),
        "financial transactions": (
            r"\bfinancial\s+transactions?\b", r"\btransactions?\b", r"\btrading\b",
            r"\btrade\s+(?:stock|crypto|token|asset)s?\b",
            r"\bplace\s+(?:an?\s+)?orders?\b",
            r"\bbuy\s+(?:stock|crypto|token|asset)s?\b",
            r"\bsell\s+(?:stock|crypto|token|asset)s?\b",
        ),
        "asset transfer": (
            r"\basset\s+transfers?\b", r"\btransfer\s+(?:funds?|assets?|money|cash)\b",
            r"\bsend\s+(?:funds?|money|cash)\b", r"\bwire\s+transfer\b",
            r"\bwithdraw(?:al|s)?\b", r"\bdeposit(?:s)?\b",
        ),
        "token transfer": (
            r"\btoken\s+transfers?\b",
            r"\btransfer\s+(?:crypto|tokens?|coins?|nft)s?\b",
            r"\bsend\s+(?:crypto|tokens?|coins?|nft)s?\b",
            r"\bswap\s+(?:crypto|tokens?|coins?)\b",
            r"\bbridge\s+(?:crypto|tokens?|coins?)\b", r"\bwallet\s+transfer\b",
        ),
    }.items()
}  # fmt: skip


def check_financial(ctx: Context) -> None:
    """Text that speaks of moving money, which the Marketplace's rules forbid."""
    for path in sorted(ctx.files):
        name = path.rsplit("/", 1)[-1]
        if suffix_of(path) not in FINANCIAL_SUFFIXES and name != "README":
            continue
        if any(p in SECRET_DIRS_SKIPPED for p in path.split("/")[:-1]):
            continue
        if not ctx.is_text(path, frozenset()):
            continue
        for number, line in enumerate(ctx.text(path).splitlines(), 1):
            for category, pattern in FINANCIAL.items():
                if pattern.search(line):
                    snippet = " ".join(line.split())[:120]
                    ctx.add(
                        "marketplace.financial-activity",
                        path,
                        number,
                        f"Mentions {category}: {snippet}",
                        value=category,
                    )
                    break
