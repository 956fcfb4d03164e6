"""The plugin's Python: it compiles, its HTTP calls time out, and credentials
stay out of logs, errors and results.

Compiling is `compile()` on the source (nothing runs); the studio's own
Python is 3.12, the version the Marketplace compiles with. The safety
warnings walk the syntax tree so aliased imports (`import requests as rq`,
`from requests import get`) are still recognised; credential leaks are
judged by name, so most hits are harmless and they only warn.
"""

from __future__ import annotations

import ast

from .context import MAX_TEXT_BYTES, Context

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".mypy_cache", ".tox", ".nox", "node_modules",
})  # fmt: skip
REQUESTS_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request"}
)
LEAK_WORDS = (
    "credential", "api_key", "apikey", "secret", "token", "password", "passwd",
)  # fmt: skip
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)


def check_python(ctx: Context) -> None:
    """Every .py file: compiles, then the safety warnings."""
    for path in sorted(ctx.files):
        if not path.endswith(".py"):
            continue
        if any(part in SKIPPED_DIRS for part in path.split("/")[:-1]):
            continue
        data = ctx.files[path]
        try:
            tree = ast.parse(data, filename=path)
            compile(tree, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            ctx.add(
                "marketplace.compileall",
                path,
                exc.lineno,
                f"{path} does not compile: {exc.msg}.",
            )
            continue
        except ValueError as exc:  # NUL bytes in the source
            ctx.add(
                "marketplace.compileall", path, None, f"{path} does not compile: {exc}."
            )
            continue
        if len(data) <= MAX_TEXT_BYTES:
            _Safety(ctx, path, data.decode("utf-8", "ignore")).visit(tree)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _leaky(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in LEAK_WORDS)


def mentions_credential(node: ast.AST) -> bool:
    """Whether an expression names something credential-like (by its names)."""
    if isinstance(node, ast.Name):
        return _leaky(node.id)
    if isinstance(node, ast.Attribute):
        return _leaky(node.attr) or mentions_credential(node.value)
    if isinstance(node, ast.Call):
        # What a call returns is judged by its arguments, not the function name.
        return any(mentions_credential(a) for a in node.args) or any(
            mentions_credential(k.value) for k in node.keywords
        )
    return any(mentions_credential(child) for child in ast.iter_child_nodes(node))


class _Safety(ast.NodeVisitor):
    def __init__(self, ctx: Context, path: str, source: str) -> None:
        self.ctx = ctx
        self.path = path
        self.source = source
        self.modules = {"requests"}
        self.functions: set[str] = set()

    def warn(self, rule: str, node: ast.expr | ast.stmt, what: str) -> None:
        snippet = " ".join((ast.get_source_segment(self.source, node) or "").split())
        self.ctx.add(
            rule,
            self.path,
            node.lineno,
            f"{what}: {snippet[:160]}" if snippet else what,
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "requests":
                self.modules.add(alias.asname or alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "requests":
            for alias in node.names:
                if alias.name in REQUESTS_METHODS:
                    self.functions.add(alias.asname or alias.name)
        self.generic_visit(node)

    def _is_requests_call(self, node: ast.Call) -> bool:
        func = node.func
        if isinstance(func, ast.Attribute):
            return _dotted(func.value) in self.modules and func.attr in REQUESTS_METHODS
        return isinstance(func, ast.Name) and func.id in self.functions

    def _is_log_call(self, node: ast.Call) -> bool:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
            return False
        target = _dotted(func.value).lower()
        return target in {"logging", "logger", "log"} or target.endswith(
            (".logger", ".log")
        )

    def visit_Call(self, node: ast.Call) -> None:
        if self._is_requests_call(node) and not any(
            k.arg == "timeout" for k in node.keywords
        ):
            self.warn(
                "marketplace.requests-timeout", node, "a requests call without timeout"
            )
        if self._is_log_call(node) and mentions_credential(node):
            self.warn(
                "marketplace.credential-exposure",
                node,
                "a log call with credential-like values",
            )
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None and mentions_credential(node):
            self.warn(
                "marketplace.credential-exposure",
                node,
                "an exception with credential-like values",
            )
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and mentions_credential(node.value):
            self.warn(
                "marketplace.credential-exposure",
                node,
                "a return value with credential-like values",
            )
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        if node.value is not None and mentions_credential(node.value):
            self.warn(
                "marketplace.credential-exposure",
                node,
                "a yielded value with credential-like values",
            )
        self.generic_visit(node)
