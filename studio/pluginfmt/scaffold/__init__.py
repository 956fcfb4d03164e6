"""A new plugin's source tree: manifest, provider YAML, generated Python code.

`scaffold(plugin)` returns every file of a new plugin, ready to verify and
package; the rules the generated Python follows are in `python`.

Modules: `new_plugin` (`NewPlugin`, what the author says), `declarations`
(manifest and provider YAML), `python` (the generated Python), `tree`
(`scaffold`, every file together).
"""

from __future__ import annotations

from studio.pluginfmt.scaffold.declarations import (
    MEMORY,
    manifest_data,
    minimum_dify_version,
    openai_compatible_model_fields,
    openai_compatible_provider_fields,
    provider_data,
)
from studio.pluginfmt.scaffold.new_plugin import (
    CUSTOM,
    OPENAI_COMPATIBLE,
    NewPlugin,
    camel,
    i18n,
)
from studio.pluginfmt.scaffold.python import (
    MAIN_PY,
    OAI_BASES,
    SDK_BASES,
    model_source,
    model_source_path,
    provider_source,
)
from studio.pluginfmt.scaffold.tree import (
    DEFAULT_ICON,
    DIFYIGNORE,
    ENV_EXAMPLE,
    SDK_REQUIREMENT,
    link_source,
    privacy,
    privacy_policy,
    readme,
    scaffold,
)

__all__ = [
    "CUSTOM",
    "DEFAULT_ICON",
    "DIFYIGNORE",
    "ENV_EXAMPLE",
    "MAIN_PY",
    "MEMORY",
    "OAI_BASES",
    "OPENAI_COMPATIBLE",
    "SDK_BASES",
    "SDK_REQUIREMENT",
    "NewPlugin",
    "camel",
    "i18n",
    "link_source",
    "manifest_data",
    "minimum_dify_version",
    "model_source",
    "model_source_path",
    "openai_compatible_model_fields",
    "openai_compatible_provider_fields",
    "privacy",
    "privacy_policy",
    "provider_data",
    "provider_source",
    "readme",
    "scaffold",
]
