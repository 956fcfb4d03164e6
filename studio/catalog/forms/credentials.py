"""Forms of the credential form builder: they validate and clean, services save."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.forms import formset_factory

from studio.pluginfmt.document.edits import (
    CHOICE_TYPES,
    Condition,
    FieldValues,
    OptionValues,
    duplicate_of,
    i18n_text,
    show_on_pairs,
    text,
)

from ..services.credentials import MAX_FIELDS, MODEL, MODEL_TYPE_VARIABLE
from .providers import LANGUAGES

VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPE_CHOICES = [
    ("text-input", "Text input"),
    ("secret-input", "Secret input (masked; Dify encrypts it)"),
    ("select", "Select (drop-down)"),
    ("radio", "Radio buttons"),
    ("switch", "Switch (true / false)"),
]
MAX_CONDITIONS = 16
MAX_OPTIONS = 128
LABEL_MAX = 255
PLACEHOLDER_MAX = 1000


def _i18n_fields(
    prefix: str, label: str, *, max_length: int, required: bool
) -> dict[str, forms.CharField]:
    return {
        f"{prefix}_{lang}": forms.CharField(
            label=f"{label} ({name})",
            max_length=max_length,
            required=required and lang == "en_US",
            strip=True,
        )
        for lang, name in LANGUAGES
    }


def _i18n(form: forms.Form, prefix: str) -> dict[str, str]:
    return {
        lang: form.cleaned_data[f"{prefix}_{lang}"]
        for lang, _ in LANGUAGES
        if form.cleaned_data.get(f"{prefix}_{lang}")
    }


def _i18n_initial(prefix: str, value: Any) -> dict[str, str]:
    data = value if isinstance(value, dict) else {}
    return {f"{prefix}_{lang}": text(data.get(lang)) for lang, _ in LANGUAGES}


def _check_placeholder(form: forms.Form) -> None:
    given = _i18n(form, "placeholder")
    if given and not given.get("en_US") and "placeholder_en_US" not in form.errors:
        form.add_error(
            "placeholder_en_US",
            "Give the English placeholder too; Dify falls back to it.",
        )


def parse_conditions(
    value: str, variables: list[str], model_types: list[str]
) -> tuple[Condition, ...]:
    """`variable=value` lines as conditions, or a ValidationError naming the line."""
    conditions = []
    for n, line in enumerate(value.splitlines(), start=1):
        if not line.strip():
            continue
        var, sep, val = line.strip().partition("=")
        var, val = var.strip(), val.strip()
        if not sep or not var or not val:
            raise forms.ValidationError(
                f"Line {n}: write one condition per line as variable=value."
            )
        conditions.append(_condition(var, val, variables, model_types, f"Line {n}: "))
    if len(conditions) > MAX_CONDITIONS:
        raise forms.ValidationError(f"At most {MAX_CONDITIONS} conditions.")
    return tuple(conditions)


def _condition(
    var: str, val: str, variables: list[str], model_types: list[str], where: str = ""
) -> Condition:
    if var not in variables:
        known = ", ".join(variables) or "none"
        raise forms.ValidationError(
            f"{where}{var!r} is no other field of this form (fields: {known})."
        )
    if len(val) > 255:
        raise forms.ValidationError(f"{where}the value is longer than 255 characters.")
    if var == MODEL_TYPE_VARIABLE and val not in model_types:
        raise forms.ValidationError(
            f"{where}__model_type is one of the provider's model types: "
            f"{', '.join(model_types)}."
        )
    return Condition(variable=var, value=val)


class LanguageRows:
    """Label and placeholder per language, for a table of the four languages."""

    def language_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        form: Any = self
        return [
            (name, form[f"label_{lang}"], form[f"placeholder_{lang}"])
            for lang, name in LANGUAGES
        ]


class FieldForm(LanguageRows, forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    variable = forms.CharField(
        label="Variable",
        max_length=255,
        help_text="The key of the credentials dict your code receives, e.g. api_key.",
    )
    type = forms.ChoiceField(label="Type", choices=TYPE_CHOICES)
    required = forms.BooleanField(label="Required", required=False)
    default = forms.CharField(
        label="Default",
        max_length=255,
        required=False,
        help_text='Text; "true" or "false" for a switch; one of the option values '
        "for a select or radio.",
    )

    def clean_variable(self) -> str:
        value: str = self.cleaned_data["variable"]
        if not VARIABLE_RE.match(value):
            raise forms.ValidationError(
                "Use letters, digits and '_' only, not starting with a digit "
                "(e.g. api_key)."
            )
        if value.startswith("__"):
            raise forms.ValidationError(
                "Names starting with '__' are Dify's own (e.g. __model_type)."
            )
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        _check_placeholder(self)
        return data


FieldForm.base_fields.update(
    _i18n_fields("label", "Label", max_length=LABEL_MAX, required=True)
)
FieldForm.base_fields.update(
    _i18n_fields(
        "placeholder", "Placeholder", max_length=PLACEHOLDER_MAX, required=False
    )
)


class ConditionForm(forms.Form):
    """One show_on condition of a field: shown only when `variable` is `value`."""

    variable = forms.ChoiceField(label="Variable", required=False)
    value = forms.CharField(label="Value", max_length=255, required=False)

    def __init__(
        self, *args: Any, variables: list[str], model_types: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.variables = variables
        self.model_types = model_types
        variable = cast(forms.ChoiceField, self.fields["variable"])
        variable.choices = [("", "—")] + [(v, v) for v in variables]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        var, val = data.get("variable"), data.get("value")
        if "variable" in self.errors or "value" in self.errors:
            return data
        if not var and not val:
            return data
        if not var:
            self.add_error("variable", "Pick the field this condition looks at.")
        elif not val:
            self.add_error("value", "Give the value that shows this field.")
        else:
            try:
                _condition(var, val, self.variables, self.model_types)
            except forms.ValidationError as exc:
                self.add_error("value", exc)
        return data

    def condition(self) -> Condition | None:
        data = getattr(self, "cleaned_data", {})
        if not data.get("variable") or not data.get("value"):
            return None
        return Condition(variable=data["variable"], value=data["value"])


class OptionForm(forms.Form):
    """One option of a select or radio; a blank row is no option."""

    value = forms.CharField(label="Value", max_length=255, required=False)
    label = forms.CharField(
        label="Label (English)", max_length=LABEL_MAX, required=False
    )
    show_on = forms.CharField(
        label="Show on",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": "variable=value"}),
    )

    def __init__(
        self, *args: Any, variables: list[str], model_types: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.variables = variables
        self.model_types = model_types
        self.conditions: tuple[Condition, ...] = ()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        value, label, show_on = data["value"], data["label"], data["show_on"]
        if not (value or label or show_on):
            return data
        if not value:
            self.add_error("value", "An option needs a value.")
        if not label:
            self.add_error("label", "An option needs a label.")
        try:
            self.conditions = parse_conditions(
                show_on, self.variables, self.model_types
            )
        except forms.ValidationError as exc:
            self.add_error("show_on", exc)
        return data

    def option(self, row: int | None) -> OptionValues | None:
        data = getattr(self, "cleaned_data", {})
        if not data.get("value"):
            return None
        return OptionValues(
            value=data["value"], label=data["label"], show_on=self.conditions, row=row
        )


ConditionFormSet = formset_factory(
    ConditionForm,
    extra=2,
    max_num=MAX_CONDITIONS,
    absolute_max=MAX_CONDITIONS,
    validate_max=True,
)
OptionFormSet = formset_factory(
    OptionForm,
    extra=3,
    max_num=MAX_OPTIONS,
    absolute_max=MAX_OPTIONS,
    validate_max=True,
)


def show_on_variables(
    fields: list[Any], index: int | None, schema: str, field: Any
) -> list[str]:
    """What a field's conditions may look at: the other fields of its schema
    (and __model_type in the model schema), plus what it already uses."""
    own = text(field.get("variable")) if isinstance(field, dict) else None
    found: list[str] = [MODEL_TYPE_VARIABLE] if schema == MODEL else []
    for i, other in enumerate(fields):
        if i == index or not isinstance(other, dict):
            continue
        var = text(other.get("variable"))
        if var and var != own and var not in found:
            found.append(var)
    if isinstance(field, dict):
        used = show_on_pairs(field.get("show_on"))
        options = field.get("options")
        for option in options if isinstance(options, list) else []:
            if isinstance(option, dict):
                used += show_on_pairs(option.get("show_on"))
        found += [var for var, _ in used if var and var not in found]
    return found


class FieldEditor:
    """The field form with its options and show_on conditions, checked together."""

    def __init__(
        self,
        data: Any = None,
        *,
        schema: str,
        fields: list[Any],
        index: int | None,
        model_types: list[str],
        lock_version: int,
    ) -> None:
        field = fields[index] if index is not None else None
        self.fields = fields
        self.index = index
        self.variables = show_on_variables(fields, index, schema, field)
        kwargs = {"variables": self.variables, "model_types": model_types}
        initial: dict[str, Any] = {"lock_version": lock_version, "type": "text-input"}
        option_rows: list[dict[str, str]] = []
        condition_rows: list[dict[str, str]] = []
        if isinstance(field, dict):
            kind = text(field.get("type"))
            initial |= {
                "variable": text(field.get("variable")),
                "type": kind if kind in dict(TYPE_CHOICES) else "text-input",
                "required": field.get("required") is True,
                "default": text(field.get("default")),
                **_i18n_initial("label", field.get("label")),
                **_i18n_initial("placeholder", field.get("placeholder")),
            }
            options = field.get("options")
            for option in options if isinstance(options, list) else []:
                option = option if isinstance(option, dict) else {}
                option_rows.append(
                    {
                        "value": text(option.get("value")),
                        "label": i18n_text(option.get("label")),
                        "show_on": "\n".join(
                            f"{var}={val}"
                            for var, val in show_on_pairs(option.get("show_on"))
                        ),
                    }
                )
            condition_rows = [
                {"variable": var, "value": val}
                for var, val in show_on_pairs(field.get("show_on"))
            ]
        self.existing_options = len(option_rows)
        self.form = FieldForm(data, initial=initial)
        self.options = OptionFormSet(
            data, initial=option_rows, prefix="opt", form_kwargs=kwargs
        )
        self.conditions = ConditionFormSet(
            data, initial=condition_rows, prefix="cond", form_kwargs=kwargs
        )
        self.option_errors: list[str] = []
        self.condition_errors: list[str] = []
        self._values: FieldValues | None = None

    def is_valid(self) -> bool:
        form_ok = self.form.is_valid()
        conditions_ok = self.conditions.is_valid()
        options_ok = self.options.is_valid()
        kind = self.form.cleaned_data.get("type")
        # Option rows only matter (and only block saving) for select and radio.
        choice = kind in CHOICE_TYPES
        if not (form_ok and conditions_ok and (options_ok or not choice)):
            return False
        data = self.form.cleaned_data
        options = tuple(
            o
            for i, form in enumerate(self.options.forms)
            if choice and (o := form.option(i if i < self.existing_options else None))
        )
        conditions = tuple(
            c for form in self.conditions.forms if (c := form.condition()) is not None
        )
        values = [o.value for o in options]
        if kind in CHOICE_TYPES and not options:
            self.option_errors.append("A select or radio needs at least one option.")
        repeated = sorted({v for v in values if values.count(v) > 1})
        if kind in CHOICE_TYPES and repeated:
            self.option_errors.append(
                f"Option values must differ; repeated: {', '.join(repeated)}."
            )
        variables = [c.variable for c in conditions]
        twice = sorted({v for v in variables if variables.count(v) > 1})
        if twice:
            self.condition_errors.append(
                f"Each field may be named once; {', '.join(twice)} is named twice "
                "(all conditions must hold, so it could never show)."
            )
        default = data["default"]
        if kind == "switch" and default not in ("", "true", "false"):
            self.form.add_error("default", 'A switch defaults to "true" or "false".')
        if kind in CHOICE_TYPES and default and default not in values:
            self.form.add_error(
                "default",
                f"The default must be one of the option values: {', '.join(values)}.",
            )
        if self.index is None and len(self.fields) >= MAX_FIELDS:
            self.form.add_error(
                None,
                f"This form already has {len(self.fields)} fields; the daemon "
                f"accepts at most {MAX_FIELDS}.",
            )
        if "variable" not in self.form.errors:
            pairs = [(c.variable, c.value) for c in conditions]
            other = duplicate_of(self.fields, data["variable"], pairs, skip=self.index)
            if other is not None:
                self.form.add_error(
                    "variable", duplicate_message(data["variable"], other)
                )
        if self.form.errors or self.option_errors or self.condition_errors:
            return False
        self._values = FieldValues(
            variable=data["variable"],
            type=data["type"],
            required=data["required"],
            label=_i18n(self.form, "label"),
            placeholder=_i18n(self.form, "placeholder"),
            default=default,
            options=options,
            show_on=conditions,
        )
        return True

    def values(self) -> FieldValues:
        assert self._values is not None, "call is_valid() first"
        return self._values

    def variable_errors(self) -> list[str]:
        """The errors of the variable alone, for the live check while typing:
        its format, and a duplicate once the conditions as typed are valid."""
        self.form.is_valid()
        errors = [str(e) for e in self.form.errors.get("variable", [])]
        if errors or not self.conditions.is_valid():
            return errors
        pairs = [
            (c.variable, c.value)
            for form in self.conditions.forms
            if (c := form.condition()) is not None
        ]
        variable = self.form.cleaned_data["variable"]
        other = duplicate_of(self.fields, variable, pairs, skip=self.index)
        if other is not None:
            errors.append(duplicate_message(variable, other))
        return errors


def duplicate_message(variable: str, other: int) -> str:
    return (
        f"Field {other + 1} already uses the variable {variable!r} with the same "
        "show_on conditions; Dify would let one overwrite the other. Use another "
        "variable, or make the conditions differ (e.g. __model_type llm vs "
        "text-embedding)."
    )


class ModelNameForm(LanguageRows, forms.Form):
    """The add-model dialog's model-name field (model_credential_schema.model)."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        _check_placeholder(self)
        return data

    def i18n(self, prefix: str) -> dict[str, str]:
        return _i18n(self, prefix)

    @staticmethod
    def initial_from(model: dict[str, Any], lock_version: int) -> dict[str, Any]:
        return {
            "lock_version": lock_version,
            **_i18n_initial("label", model.get("label")),
            **_i18n_initial("placeholder", model.get("placeholder")),
        }


ModelNameForm.base_fields.update(
    _i18n_fields("label", "Label", max_length=LABEL_MAX, required=True)
)
ModelNameForm.base_fields.update(
    _i18n_fields(
        "placeholder", "Placeholder", max_length=PLACEHOLDER_MAX, required=False
    )
)


class LockForm(forms.Form):
    """A one-click change (delete) carries the version the page was loaded at."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class MoveForm(LockForm):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
