"""The catalogue of every rule the verifier can report.

Severity follows the layer (format doc §9): `error` only where a real layer
refuses the plugin - the Go packager (`package`), the daemon's install
(`install`) or the SDK at process start (`runtime`). Things only the
Marketplace refuses, or that install but behave wrongly, are `warning`;
`info` is a note. Each rule names the earliest layer where it bites.

The table below is plain text so it reads like documentation: a line
`id | severity | layer`, then the one-line summary, then the one-line fix.

Kept whole past 500 lines: it is the rule catalogue, one entry per rule, so
every id, severity, layer and fix (and docs/verifier-rules.md, made from it)
is read and reviewed in one place.
"""

from __future__ import annotations

from .findings import Rule, as_layer, as_severity

_TABLE = """
# any YAML file the daemon reads
yaml.syntax | error | package
    A YAML file the daemon reads cannot be parsed.
    Fix the YAML syntax at the reported line.

yaml.duplicate-key | error | package
    A mapping repeats a key; Go yaml.v3 refuses the whole file.
    Keep one of the repeated keys.

yaml.bom | info | package
    The file starts with a UTF-8 byte-order mark; tolerated by Go and Python.
    Save the file as UTF-8 without BOM.

value.not-string | error | runtime
    A value the SDK types as a string is a number or a boolean.
    Quote the value so YAML reads it as a string.

# I18n objects
i18n.type | error | package
    A translatable text is not a mapping of language code to text.
    Write it as a mapping, e.g. {en_US: Text}.

i18n.value-not-string | error | runtime
    A translation is a number or boolean; the SDK requires text.
    Quote the translation.

i18n.en-us-missing | error | runtime
    A translatable text has no en_US entry; the SDK requires it.
    Add an en_US translation.

i18n.en-us-empty | warning | install
    A translatable text has an empty en_US entry.
    Write a non-empty en_US translation.

i18n.too-long | warning | install
    A translation is 1024 characters or longer (Go limit on remote debugging).
    Shorten the text below 1024 characters.

i18n.unknown-language | warning | install
    A language key other than en_US, zh_Hans, ja_JP, pt_BR is dropped.
    Use only en_US, zh_Hans, ja_JP and pt_BR.

# manifest.yaml
manifest.missing | error | package
    The package has no manifest.yaml at its root.
    Add manifest.yaml at the plugin root.

manifest.not-mapping | error | package
    manifest.yaml is not a YAML mapping.
    Write manifest.yaml as a mapping of fields.

manifest.field-type | error | package
    A manifest field has a YAML type Go cannot decode.
    Give the field the documented type (text, number, list or mapping).

manifest.unknown-key | warning | install
    A manifest key no layer knows is silently ignored.
    Remove the key or fix its spelling.

manifest.required | error | package
    A required manifest field is missing or empty.
    Add the field.

manifest.version.format | error | package
    The plugin version is not X.Y.Z[-suffix] with up to 4 digits per part.
    Use a version like 0.0.1.

manifest.version.pep440 | error | runtime
    The plugin version is not a PEP 440 version; the SDK refuses it.
    Use a plain version like 0.0.1.

manifest.type.invalid | error | package
    The manifest type is not `plugin`.
    Set type: plugin.

manifest.author.pattern | error | install
    The author is not 1-64 characters of a-z, 0-9, _ or -.
    Use a lowercase author id such as `studio`.

manifest.author.uuid | error | install
    The author is a UUID, which the daemon refuses.
    Use a readable author id.

manifest.author.reserved | warning | marketplace
    The author contains `langgenius` or `dify`, reserved on the Marketplace.
    Use your own author id.

manifest.name.pattern | error | install
    The plugin name is not 1-128 characters of a-z, 0-9, _ or -.
    Use a lowercase name such as `my_provider`.

manifest.i18n.en-us-missing | error | package
    The manifest label or description has no non-empty en_US text.
    Add an en_US text.

manifest.i18n.too-long | error | package
    A manifest label or description text is 1024 characters or longer.
    Shorten the text below 1024 characters.

manifest.icon.too-long | error | package
    The manifest icon file name is longer than 128 characters.
    Use a short file name.

manifest.icon.missing-file | error | package
    The manifest icon is not a file in _assets/.
    Put the icon file in _assets/ or fix its name.

manifest.icon-dark.missing-file | error | package
    The manifest icon_dark is not a file in _assets/.
    Put the dark icon in _assets/ or remove icon_dark.

manifest.resource.memory | error | package
    resource.memory is missing or zero.
    Set resource.memory: 268435456.

manifest.resource.memory-negative | warning | install
    resource.memory is negative.
    Set resource.memory: 268435456.

manifest.storage.size | error | package
    resource.permission.storage.size is outside 1024..1073741824 bytes.
    Set a size between 1024 and 1073741824, or remove the storage permission.

manifest.plugins.no-provider | error | install
    plugins.models lists no provider file.
    List the provider YAML under plugins.models.

manifest.plugins.multiple-providers | warning | install
    plugins.models lists several providers; the daemon keeps only the last.
    List exactly one provider YAML.

manifest.plugins.mixed-categories | error | install
    A model plugin also declares tools, endpoints or other extensions.
    Remove the other plugin lists; a model plugin has only `models`.

manifest.plugins.file-missing | error | package
    A provider YAML listed in plugins.models does not exist.
    Fix the path or add the file.

manifest.plugins.path-too-long | error | package
    A path under plugins is longer than 128 characters.
    Use a shorter path.

manifest.meta-version.format | error | package
    meta.version is not X.Y.Z[-suffix].
    Set meta.version: 0.0.1.

manifest.arch.invalid | error | package
    meta.arch holds a value other than amd64 or arm64.
    Set meta.arch: [amd64, arm64].

manifest.arch.empty | warning | install
    meta.arch is empty.
    Set meta.arch: [amd64, arm64].

manifest.arch.partial | info | install
    meta.arch lists only one architecture.
    Set meta.arch: [amd64, arm64] unless the plugin truly needs one.

manifest.runner.language | error | package
    meta.runner.language is not `python`.
    Set meta.runner.language: python.

manifest.runner.version | warning | install
    meta.runner.version is not 3.12; the daemon ignores it and runs 3.12.
    Set meta.runner.version: "3.12".

manifest.minimum-dify-version.pep440 | error | runtime
    meta.minimum_dify_version is not a PEP 440 version.
    Use a version like 1.4.0 or remove the key.

manifest.created-at.invalid | error | package
    created_at is not a timestamp Go can decode.
    Use an RFC 3339 timestamp such as 2026-01-01T00:00:00Z.

manifest.created-at.not-rfc3339 | warning | marketplace
    created_at decodes but is not an RFC 3339 date-time.
    Use an RFC 3339 timestamp such as 2026-01-01T00:00:00Z.

manifest.created-at.future | warning | marketplace
    created_at lies in the future; the Marketplace requires it to be <= now.
    Set created_at to the current time.

manifest.privacy.missing | warning | marketplace
    The manifest has no `privacy` policy; the Marketplace requires one.
    Add PRIVACY.md and set privacy: PRIVACY.md.

manifest.privacy.file-missing | warning | marketplace
    The privacy policy file named in the manifest is not in the package.
    Add the file or fix the path.

manifest.privacy.empty | warning | marketplace
    The privacy policy file is empty.
    Write the privacy policy.

manifest.privacy.template | warning | marketplace
    The privacy policy still holds the template's "Please fill in" placeholder.
    Write the privacy policy: what the plugin sends where, and what it keeps.

manifest.privacy.url | warning | marketplace
    `privacy` is a URL, but not an http(s) one; the Marketplace refuses it.
    Use an https:// URL or a file in the package such as PRIVACY.md.

manifest.privacy.outside | warning | marketplace
    `privacy` names a path outside the package (absolute or through `..`).
    Put the policy in the package (PRIVACY.md) or use an https:// URL.

manifest.repo.url | error | package
    `repo` is not a URL.
    Use a full URL such as https://github.com/you/plugin.

manifest.repo.missing | info | marketplace
    The manifest has no `repo`; the Marketplace requires the source repository.
    Set repo: https://github.com/you/plugin (General section in the studio).

manifest.repo.host | warning | marketplace
    `repo` is not an http(s) repository URL on a host the Marketplace accepts.
    Use github.com, gitlab.com, bitbucket.org, gitee.com, codeberg.org or git.sr.ht.

manifest.contact.missing | info | marketplace
    The manifest has no `contact`; the Marketplace requires an email address.
    Set contact: you@example.com (General section in the studio).

manifest.contact.email | warning | marketplace
    `contact` is not an email address; the Marketplace refuses it.
    Set contact to one email address such as you@example.com.

manifest.tags.unknown | error | package
    A tag is not in the daemon's tag list.
    Use only the documented tags, or none (model plugins set none).

# provider YAML
provider.not-mapping | error | package
    The provider YAML is empty or not a mapping.
    Write the provider YAML as a mapping of fields.

provider.field-type | error | package
    A provider field has a YAML type Go cannot decode.
    Give the field the documented type (text, list or mapping).

provider.unknown-key | warning | install
    A provider key no layer knows is silently ignored.
    Remove the key or fix its spelling.

provider.required | error | runtime
    A field the SDK requires in the provider YAML is missing.
    Add the field.

provider.name.pattern | warning | install
    The provider id is not made of a-z, 0-9, _ and - (or is 256+ long).
    Use a lowercase id such as `my_provider`.

provider.model-types.invalid | error | runtime
    supported_model_types holds a type the SDK does not know.
    Use llm, text-embedding, rerank, speech2text, tts or moderation.

provider.model-types.text2img | warning | runtime
    text2img is accepted but the SDK has no model class for it.
    Remove text2img.

provider.model-types.empty | warning | install
    supported_model_types is empty.
    List the model types the provider serves.

provider.configurate-methods.invalid | error | runtime
    configurate_methods holds a value other than predefined-model or customizable-model.
    Use predefined-model and/or customizable-model.

provider.configurate-methods.empty | warning | install
    configurate_methods is empty.
    List predefined-model and/or customizable-model.

provider.customizable.no-model-schema | warning | install
    customizable-model is selected but there is no model_credential_schema.
    Add a model_credential_schema with model.label and its form fields.

provider.help.incomplete | error | runtime
    `help` lacks `title` or `url`; the SDK requires both.
    Give help both a title and a url.

provider.background.invalid | warning | install
    `background` is not a CSS hex colour.
    Use a colour like "#E5E7EB".

provider.icon.missing | warning | install
    The provider has no icon_small.
    Add icon_small: {en_US: <file in _assets/>}.

provider.icon.missing-file | error | package
    A provider icon is not a file in _assets/.
    Put the icon in _assets/ or fix its name.

provider.icon-dark.missing-file | error | install
    A provider dark icon is not a file in _assets/.
    Put the dark icon in _assets/ or remove the dark icon.

provider.credential-schema.no-forms | error | runtime
    A credential schema has no credential_form_schemas list.
    Add credential_form_schemas (may be an empty list).

provider.model-schema.no-model | error | runtime
    model_credential_schema has no `model` block with a label.
    Add model: {label: {en_US: Model Name}}.

provider.models.not-mapping | error | runtime
    `models` is not a mapping of model type to globs.
    Write models: {llm: {predefined: ["models/llm/*.yaml"]}}.

provider.models.unknown-key | warning | install
    A key under `models` is not one of the six underscore model types and is ignored.
    Use llm, text_embedding, rerank, tts, speech2text or moderation.

provider.models.type-not-supported | warning | install
    `models` lists a type that supported_model_types does not.
    Add the type to supported_model_types or remove the block.

provider.models.entry-invalid | error | runtime
    A `models.<type>` block or its `predefined` list has the wrong shape.
    Write {predefined: ["models/<type>/*.yaml"], position: ...}.

provider.models.glob-empty | info | install
    A predefined glob matches no file.
    Fix the glob or remove it.

provider.models.glob-recursive | warning | install
    A glob uses `**` or leaves the plugin folder; `*` never crosses `/`.
    Use one glob per folder, e.g. models/llm/*.yaml.

provider.models.position-missing | error | package
    The declared position file does not exist; Go fails to read it.
    Add the file or remove `position:`.

provider.models.position-not-globbed | warning | runtime
    No predefined glob matches the declared position file, so the SDK ignores it.
    Keep _position.yaml inside the folder the *.yaml glob matches.

provider.models.position-undeclared | warning | install
    A globbed _position.yaml is not declared with `position:`, so the daemon ignores it.
    Add position: <path> next to predefined.

provider.models.not-predefined | warning | install
    Model YAMLs exist but configurate_methods lacks predefined-model.
    Add predefined-model to configurate_methods.

provider.predefined.no-models | warning | install
    predefined-model is selected but no model YAML is found.
    Add model YAMLs matched by a `models.<type>.predefined` glob.

# credential form fields
provider.credential.variable-missing | error | runtime
    A credential field has no `variable`.
    Give the field a variable name.

provider.credential.label-missing | error | runtime
    A credential field has no `label`.
    Add label: {en_US: ...}.

provider.credential.type-invalid | error | runtime
    A credential field type is missing or not one of the five form types.
    Use text-input, secret-input, select, radio or switch.

provider.credential.required-implicit | warning | install
    `required` is omitted: the daemon then means false and the SDK true.
    Write required: true or required: false.

provider.credential.default-not-string | error | runtime
    A credential default is not a string; the SDK refuses it.
    Quote the default, e.g. default: "4096".

provider.credential.too-long | warning | install
    A credential variable, default or option value is 256+ characters.
    Shorten the value below 256 characters.

provider.credential.options-missing | warning | install
    A select or radio field has no options.
    Add options with label and value.

provider.credential.option-invalid | error | runtime
    A credential option lacks a label or a string value.
    Give each option label: {en_US: ...} and a quoted value.

provider.credential.default-not-in-options | warning | install
    A select/radio default is not one of its option values.
    Use one of the option values as default.

provider.credential.show-on-invalid | error | runtime
    A show_on condition lacks a string variable or value.
    Write show_on: [{variable: other_field, value: some_value}].

provider.credential.model-type-in-provider | warning | install
    show_on uses __model_type in the provider schema, where it never matches.
    Use __model_type only in model_credential_schema.

provider.credential.show-on-unknown-variable | warning | install
    show_on names a variable the form does not define.
    Name a variable of the same form.

provider.credential.duplicate-variable | warning | install
    Two credential fields share a variable and the same show_on.
    Rename one field or give them different show_on conditions.

provider.credential.too-many | warning | install
    A form has more than 32 fields (refused on remote debugging).
    Keep forms to 32 fields.

# model YAML
model.empty | error | runtime
    A model YAML matched by a glob is empty; the SDK refuses it.
    Fill the model YAML or move it out of the glob.

model.not-mapping | error | package
    A model YAML is not a mapping.
    Write the model YAML as a mapping of fields.

model.field-type | error | package
    A model field has a YAML type Go cannot decode.
    Give the field the documented type.

model.unknown-key | warning | install
    A model key no layer knows is silently ignored.
    Remove the key or fix its spelling.

model.name.missing | error | runtime
    The model YAML has no `model` id.
    Add model: <id>.

model.name.duplicate | warning | install
    Two model YAMLs of one type declare the same `model` id.
    Give every model a unique id.

model.name.too-long | warning | install
    The model id is 256 characters or longer.
    Shorten the id.

model.name.empty | warning | install
    The model id is empty (Go's `required` tag refuses it on remote debugging).
    Write the id the upstream API expects.

model.name.control-character | warning | install
    The model id contains a control character or a line separator.
    Use printable characters only.

model.name.path-segment | warning | install
    The model id has a `.` or `..` segment between slashes.
    Drop the segment; ids such as org/model are fine.

model.model-type.missing | error | runtime
    The model YAML has no `model_type`.
    Add model_type: llm (or the right type).

model.model-type.invalid | error | runtime
    model_type is not a type the SDK knows.
    Use llm, text-embedding, rerank, speech2text, tts or moderation.

model.model-type.text2img | warning | runtime
    model_type text2img has no model class in the SDK.
    Use a supported model type.

model.model-type.mismatch | warning | install
    model_type differs from the `models:` key whose glob found the file.
    Move the file or fix model_type.

model.model-type.unsupported | warning | install
    model_type is not listed in the provider's supported_model_types.
    Add the type to supported_model_types.

model.fetch-from.invalid | error | runtime
    fetch_from is not predefined-model or customizable-model.
    Remove fetch_from (it defaults to predefined-model).

model.feature.unknown | error | runtime
    A feature is not in the SDK's feature list.
    Use only the documented features.

model.feature.non-llm | info | install
    Features are only meaningful on llm models.
    Remove features from non-llm models.

model.properties.missing | error | runtime
    model_properties is missing; the SDK requires it.
    Add model_properties (e.g. {mode: chat, context_size: 4096} for llm).

model.properties.unknown-key | error | runtime
    A model_properties key is not in the SDK's list; the SDK refuses it.
    Use only the documented model_properties keys.

model.properties.mode | warning | install
    An llm model has no mode, or one other than chat or completion.
    Set model_properties.mode: chat.

model.properties.context-size | warning | install
    An llm model has no integer context_size.
    Set model_properties.context_size to the context window in tokens.

model.parameter.name-missing | error | runtime
    A parameter rule has no name.
    Give the rule a name.

model.parameter.name-duplicate | warning | install
    Two parameter rules share a name.
    Keep one rule per name.

model.parameter.template-unknown | error | package
    use_template names a template that does not exist.
    Use one of the 8 templates (temperature, top_p, max_tokens, json_schema, ...).

model.parameter.type-missing | error | runtime
    A parameter rule without template has no type.
    Add type: float, int, string, boolean or text.

model.parameter.type-invalid | error | runtime
    A parameter rule type is not float, int, string, boolean or text.
    Use float, int, string, boolean or text.

model.parameter.default-type | warning | runtime
    A parameter default does not match the rule's type.
    Use a default of the rule's type.

model.parameter.range | warning | runtime
    min is above max, or the default lies outside min..max.
    Make min <= default <= max.

model.parameter.options-type | warning | runtime
    options are only enforced for type string.
    Use type: string with options, or drop the options.

model.parameter.default-not-in-options | warning | runtime
    A parameter default is not one of its options.
    Use one of the options as default.

model.parameter.too-many | warning | install
    A model has more than 128 parameter rules.
    Keep to 128 rules.

model.pricing.missing-field | error | runtime
    pricing lacks input, unit or currency; the SDK requires them.
    Add input, unit and currency.

model.pricing.invalid-decimal | error | package
    A pricing value is not a decimal number.
    Write prices as quoted decimals, e.g. '0.001'.

model.pricing.unit-zero | warning | runtime
    pricing.unit is zero, so every price computes to zero.
    Set unit to the token multiplier, e.g. '0.000001' per 1M tokens.

model.pricing.negative | warning | runtime
    A price is negative.
    Use non-negative prices.

model.pricing.currency | warning | install
    pricing.currency is not a three-letter upper-case code.
    Use a currency code such as USD.

# position files
position.invalid | error | package
    A declared position file is not a YAML list of names; Go fails to decode it.
    Write the file as a list: one `- model-id` per line.

position.invalid-sdk | error | runtime
    A globbed _position.yaml is not a YAML list of strings; the SDK refuses it.
    Write the file as a list: one `- model-id` per line, quoting odd ids.

position.folded-item | warning | install
    A position item holds several names folded into one string by bad indentation.
    Start every `- model-id` line in the same column.

position.unknown-model | warning | install
    A position file names a model that does not exist.
    Remove the name or fix its spelling.

position.duplicate | info | install
    A position file names a model twice.
    Name each model once.

position.unlisted-models | info | install
    Some models are not in the position file and sort last.
    List every model in the position file.

# Python sources
python.entrypoint.missing | error | runtime
    The entrypoint module (meta.runner.entrypoint) is not in the package.
    Add main.py (the CLI template) or fix the entrypoint.

python.entrypoint.no-run | warning | runtime
    The entrypoint never creates a Plugin and calls run().
    Use the template: plugin = Plugin(DifyPluginEnv()); plugin.run().

python.syntax | error | runtime
    A Python source the SDK imports does not parse.
    Fix the syntax error.

python.provider-source.missing | error | runtime
    extra.python.provider_source is missing; the SDK cannot find the provider class.
    Set extra.python.provider_source: provider/<name>.py.

python.provider-source.not-found | error | runtime
    The provider_source file is not in the package.
    Add the file or fix the path.

python.provider.no-subclass | error | runtime
    The provider source defines no ModelProvider subclass.
    Define class MyProvider(ModelProvider).

python.provider.multiple-subclasses | error | runtime
    The provider source binds several ModelProvider subclasses (defined or imported).
    Keep one; import the SDK module instead of the class name.

python.model-sources.type | error | runtime
    extra.python.model_sources is not a list of paths.
    Write model_sources: [models/llm/llm.py].

python.model-source.not-found | error | runtime
    A model_sources file is not in the package.
    Add the file or fix the path.

python.model-source.shallow | warning | runtime
    A model source is under three module levels deep; invoke errors become IndexError.
    Place model code at models/<type>/<file>.py.

python.model-source.no-model-class | warning | runtime
    A model source defines no model class.
    Define a subclass of LargeLanguageModel (or the type's base class).

python.model-class.missing-type | warning | runtime
    A supported model type has no model class in any model source.
    Add a model class for the type to a model source.

python.model-class.import-order | warning | runtime
    An SDK model class imported after the subclass is registered instead of it.
    Import SDK classes at the top of the module.

# package contents
package.symlink | info | package
    A folder's file is a symbolic link; the packager stores its target's bytes.
    Nothing, if the target is the file to ship; else copy the right file in.

package.directory-entry | error | install
    The package has directory entries; the daemon fails with "package decode failed".
    Repackage with `plugin package`, or `zip -r -D` (no directory entries).

package.assets.missing | error | package
    The package has no _assets/ folder; packaging and SDK start-up fail.
    Add _assets/ with the icons.

package.env-file | warning | install
    A .env file would be shipped (it may hold the remote-debug key).
    Delete .env from the package or list it in .difyignore.

package.junk | warning | install
    Caches, virtualenvs or VCS folders would be shipped.
    List them in .difyignore.

package.requirements.missing | error | install
    Neither requirements.txt nor pyproject.toml: the daemon cannot install dependencies.
    Add requirements.txt with dify_plugin>=0.10.0,<0.11.0.

package.requirements.generated | info | package
    No requirements.txt: the packager generates it from pyproject.toml + uv.lock.
    Ship requirements.txt for older daemons.

package.requirements.no-lock | warning | install
    pyproject.toml without uv.lock or requirements.txt: unpinned; old daemons fail.
    Add requirements.txt (or uv.lock).

package.requirements.no-sdk | error | runtime
    The dependency file does not require dify_plugin, so `import dify_plugin` fails.
    Add dify_plugin>=0.10.0,<0.11.0.

package.pyproject.invalid | error | install
    pyproject.toml does not parse, so `uv sync` fails.
    Fix pyproject.toml.

package.pyproject.requires-python | error | install
    pyproject.toml requires-python excludes Python 3.12, the daemon's interpreter.
    Set requires-python = ">=3.12".

package.readme.missing | warning | marketplace
    The package has no README.md.
    Add an English README.md.

package.orphan-yaml | warning | install
    A YAML file no glob or declaration reads is ignored.
    Match it with a models glob, or delete it.

package.size.limit | error | package
    Files total more than 50 MiB uncompressed.
    Remove large files.

package.size.console | warning | install
    Files total more than 15 MiB; console uploads may be refused.
    Remove large files.

# the verifier itself
verifier.internal | warning | package
    The verifier could not finish a check (a bug in the verifier).
    Report this finding to the studio maintainers.
"""


def _parse(table: str) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    lines = [
        line for line in table.splitlines() if line.strip() and not line.startswith("#")
    ]
    for i in range(0, len(lines), 3):
        head, summary, fix = lines[i : i + 3]
        rule_id, severity_text, layer_text = (part.strip() for part in head.split("|"))
        severity, layer = as_severity(severity_text), as_layer(layer_text)
        if severity is None or layer is None:
            raise ValueError(f"bad rule header: {head!r}")
        if rule_id in rules or not summary.startswith("    "):
            raise ValueError(f"bad rule entry: {head!r}")
        rules[rule_id] = Rule(
            rule_id,
            severity,
            layer,
            summary.strip(),
            fix.strip(),
        )
    return rules


RULES: dict[str, Rule] = _parse(_TABLE)
