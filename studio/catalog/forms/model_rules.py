"""The model form's formsets: parameter rules (a template with overrides, or a
custom rule) and, for tts, voices.

Every row may be left empty (it is then ignored); `origin` carries a row's
index in the saved file, so the keys the form does not show survive a save.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms

from studio.pluginfmt.document import PARAMETER_TEMPLATES
from studio.pluginfmt.document.edits import parse_rule_value

from ..services.model_form import RuleValues, VoiceValues
from .models import (
    MAX_RULES,
    MAX_TEXT,
    MAX_VOICES,
    PARAMETER_TYPES,
    RULE_NAME_RE,
    en_text,
    value_text,
)


class RuleForm(forms.Form):
    """One parameter rule: a template with overrides, or a custom rule."""

    origin = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    use_template = forms.ChoiceField(
        label="Template",
        choices=[("", "(custom)")] + [(n, n) for n in PARAMETER_TEMPLATES],
        required=False,
    )
    name = forms.CharField(label="Name", max_length=255, required=False)
    type = forms.ChoiceField(
        label="Type",
        choices=[("", "(template's)")] + [(t, t) for t in PARAMETER_TYPES],
        required=False,
    )
    label = forms.CharField(label="Label", max_length=MAX_TEXT, required=False)
    help = forms.CharField(label="Help", max_length=MAX_TEXT, required=False)
    required = forms.ChoiceField(
        label="Required",
        choices=[("", "(default)"), ("true", "yes"), ("false", "no")],
        required=False,
    )
    default = forms.CharField(label="Default", max_length=MAX_TEXT, required=False)
    min = forms.CharField(label="Min", max_length=32, required=False)
    max = forms.CharField(label="Max", max_length=32, required=False)
    precision = forms.IntegerField(
        label="Precision", min_value=0, max_value=20, required=False
    )
    options = forms.CharField(
        label="Options",
        max_length=4000,
        required=False,
        help_text="Comma-separated (string rules only).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The template's values show in the empty inputs they would fill.
        name = self["use_template"].value() or ""
        template = PARAMETER_TEMPLATES.get(name, {})
        for key in ("default", "min", "max", "precision"):
            if key in template:
                self.fields[key].widget.attrs["placeholder"] = value_text(template[key])
        if "options" in template:
            self.fields["options"].widget.attrs["placeholder"] = ", ".join(
                template["options"]
            )
        if name:
            self.fields["name"].widget.attrs["placeholder"] = name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        template_name = data.get("use_template") or ""
        template = PARAMETER_TEMPLATES.get(template_name, {})
        name = (data.get("name") or "").strip() or template_name
        if not name:
            self.add_error("name", "Give the rule a name (the key your code receives).")
        elif not RULE_NAME_RE.match(name):
            self.add_error("name", "Use a name without spaces or quotes.")
        kind = data.get("type") or template.get("type")
        if not kind:
            self.add_error("type", "Choose a template or a type.")
            return data
        low = self._number("min", kind)
        high = self._number("max", kind)
        if (low is not None or high is not None) and kind not in ("int", "float"):
            self.add_error("min", "Min and max apply to int and float rules only.")
        default: Any = None
        text = (data.get("default") or "").strip()
        if text:
            try:
                default = parse_rule_value(kind, text)
            except ValueError as exc:
                self.add_error("default", str(exc))
        options = [
            o.strip() for o in (data.get("options") or "").split(",") if o.strip()
        ]
        if options and kind != "string":
            self.add_error("options", "Options apply to string rules only.")
        if any(len(o) > 255 for o in options):
            self.add_error("options", "Each option must be under 256 characters.")
        precision = data.get("precision")
        if precision is not None and kind not in ("int", "float"):
            self.add_error(
                "precision", "Precision applies to int and float rules only."
            )
        if self.errors:
            return data
        eff_low = low if low is not None else template.get("min")
        eff_high = high if high is not None else template.get("max")
        eff_default = default if default is not None else template.get("default")
        eff_options = options or template.get("options")
        if eff_low is not None and eff_high is not None and eff_low > eff_high:
            self.add_error(
                "min" if low is not None else "max",
                f"Min {eff_low} is above max {eff_high}.",
            )
        elif isinstance(eff_default, (int, float)) and not isinstance(
            eff_default, bool
        ):
            if eff_low is not None and eff_default < eff_low:
                self.add_error(
                    "default", f"The default is below the minimum {eff_low}."
                )
            elif eff_high is not None and eff_default > eff_high:
                self.add_error(
                    "default", f"The default is above the maximum {eff_high}."
                )
        if (
            isinstance(default, str)
            and default
            and eff_options
            and default not in eff_options
        ):
            self.add_error("default", "The default must be one of the options.")
        required = {"": None, "true": True, "false": False}[data.get("required") or ""]
        data["rule"] = {
            "name": name,
            "use_template": template_name or None,
            "label": (data.get("label") or "").strip(),
            "type": data.get("type") or None,
            "help": (data.get("help") or "").strip(),
            "required": required,
            "default": default,
            "min": low,
            "max": high,
            "precision": precision,
            "options": options or None,
        }
        return data

    def _number(self, key: str, kind: str) -> int | float | None:
        text = (self.cleaned_data.get(key) or "").strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite():
            self.add_error(key, f"{text[:20]!r} is not a number.")
            return None
        if (
            number == number.to_integral_value()
            and "." not in text
            and "e" not in text.lower()
        ):
            return int(number)
        if kind == "int":
            self.add_error(
                key, f"{text[:20]!r} is not a whole number (the rule is int)."
            )
            return None
        return float(number)


class BaseRuleFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row may be left empty (it is then ignored), added or not.
        return {"empty_permitted": True}

    def clean(self) -> None:
        seen: dict[str, int] = {}
        for i, form in enumerate(self.forms):
            rule = getattr(form, "cleaned_data", {}).get("rule")
            if not rule:
                continue
            name = rule["name"]
            if name in seen:
                form.add_error("name", f"Rule {seen[name] + 1} already has this name.")
            else:
                seen[name] = i

    def rules(self) -> list[RuleValues]:
        return [
            RuleValues(
                origin=form.cleaned_data.get("origin"), values=form.cleaned_data["rule"]
            )
            for form in self.forms
            if form.cleaned_data.get("rule")
        ]


# formset_factory is typed to return the base class; name the one it builds.
RuleFormSet = cast(
    "type[BaseRuleFormSet]",
    forms.formset_factory(
        RuleForm,
        formset=BaseRuleFormSet,
        extra=0,
        max_num=MAX_RULES,
        validate_max=True,
        absolute_max=MAX_RULES + 10,
    ),
)


class VoiceForm(forms.Form):
    origin = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    name = forms.CharField(label="Voice", max_length=255, required=False)
    mode = forms.CharField(label="Mode", max_length=255, required=False)
    language = forms.CharField(
        label="Languages",
        max_length=1000,
        required=False,
        help_text="Comma-separated, e.g. en-US,zh-Hans",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        if not (data.get("name") or "").strip():
            self.add_error("name", "Name the voice.")
        if not (data.get("mode") or "").strip():
            self.add_error("mode", "Give the voice's mode (the value sent to the API).")
        data["languages"] = [
            p.strip() for p in (data.get("language") or "").split(",") if p.strip()
        ]
        return data


class BaseVoiceFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"empty_permitted": True}

    def voices(self) -> list[VoiceValues]:
        return [
            VoiceValues(
                origin=f.cleaned_data.get("origin"),
                name=f.cleaned_data["name"].strip(),
                mode=f.cleaned_data["mode"].strip(),
                language=f.cleaned_data["languages"],
            )
            for f in self.forms
            if f.cleaned_data.get("name")
        ]


VoiceFormSet = cast(
    "type[BaseVoiceFormSet]",
    forms.formset_factory(
        VoiceForm,
        formset=BaseVoiceFormSet,
        extra=0,
        max_num=MAX_VOICES,
        validate_max=True,
        absolute_max=MAX_VOICES + 10,
    ),
)


def rules_initial(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rules = spec.get("parameter_rules")
    out = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        required = rule.get("required")
        options = rule.get("options")
        out.append(
            {
                "origin": i,
                "use_template": rule.get("use_template") or "",
                "name": value_text(rule.get("name")),
                "type": rule.get("type") or "",
                "label": en_text(rule.get("label")),
                "help": en_text(rule.get("help")),
                "required": ""
                if required is None
                else ("true" if required else "false"),
                "default": value_text(rule.get("default")),
                "min": value_text(rule.get("min")),
                "max": value_text(rule.get("max")),
                "precision": rule.get("precision"),
                "options": ", ".join(str(o) for o in options)
                if isinstance(options, list)
                else "",
            }
        )
    return out


def voices_initial(spec: dict[str, Any]) -> list[dict[str, Any]]:
    props = spec.get("model_properties")
    voices = props.get("voices") if isinstance(props, dict) else None
    out = []
    for i, voice in enumerate(voices if isinstance(voices, list) else []):
        if not isinstance(voice, dict):
            continue
        language = voice.get("language")
        out.append(
            {
                "origin": i,
                "name": value_text(voice.get("name")),
                "mode": value_text(voice.get("mode")),
                "language": ", ".join(map(str, language))
                if isinstance(language, list)
                else value_text(language),
            }
        )
    return out
