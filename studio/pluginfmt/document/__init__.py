"""The plugin document: typed, editable YAML parts that dump back byte for byte.

`load_document(files)` reads `PluginFiles` into a `PluginDocument`;
`dump_document(doc)` gives the files back, unchanged parts identical to the
input. Models are found only through the provider's `models.<type>.predefined`
globs, as the daemon finds them.
"""

from __future__ import annotations

from studio.pluginfmt.document.loader import (
    DocumentError,
    ModelEntry,
    PluginDocument,
    PositionFile,
    YamlPart,
    dump_document,
    load_document,
)
from studio.pluginfmt.document.specs import (
    CONFIGURATE_METHODS,
    FORM_TYPES,
    MODEL_FEATURES,
    MODEL_TYPE_KEYS,
    MODEL_TYPES,
    PARAMETER_TEMPLATES,
    CredentialFormField,
    CredentialSchema,
    FormOption,
    I18n,
    Manifest,
    Meta,
    ModelCredentialSchema,
    ModelNameField,
    ModelProperties,
    ModelsBlock,
    ModelSpec,
    ParameterRule,
    Permission,
    PluginLists,
    Pricing,
    ProviderHelp,
    ProviderSpec,
    PythonSources,
    Resource,
    Runner,
    ShowOn,
    Spec,
    model_type_of,
    type_key,
)
from studio.pluginfmt.document.yamltext import dump_yaml

__all__ = [
    "CONFIGURATE_METHODS",
    "FORM_TYPES",
    "MODEL_FEATURES",
    "MODEL_TYPES",
    "MODEL_TYPE_KEYS",
    "PARAMETER_TEMPLATES",
    "CredentialFormField",
    "CredentialSchema",
    "DocumentError",
    "FormOption",
    "I18n",
    "Manifest",
    "Meta",
    "ModelCredentialSchema",
    "ModelEntry",
    "ModelNameField",
    "ModelProperties",
    "ModelSpec",
    "ModelsBlock",
    "ParameterRule",
    "Permission",
    "PluginDocument",
    "PluginLists",
    "PositionFile",
    "Pricing",
    "ProviderHelp",
    "ProviderSpec",
    "PythonSources",
    "Resource",
    "Runner",
    "ShowOn",
    "Spec",
    "YamlPart",
    "dump_document",
    "dump_yaml",
    "load_document",
    "model_type_of",
    "type_key",
]
