"""Schema validation of the workflow configuration, with one-line messages.

The schema is ``config.schema.yaml`` (the file ``snakemake.utils.validate`` reads too).
:func:`normalize_config` fills its defaults in and raises :class:`ConfigError` for the most
relevant violation, described as ``key = value: what is wrong; allowed ...``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ConfigError",
    "SCHEMA_PATH",
    "config_schema",
    "normalize_config",
    "describe_schema_error",
]

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


class ConfigError(ValueError):
    """The workflow configuration is not valid; the message is one line."""


@cache
def config_schema() -> dict[str, Any]:
    """The JSON schema of ``config.yaml`` (the same file ``snakemake.utils.validate`` reads)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def normalize_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A validated copy of ``raw`` with defaults filled in.

    Numbers written as strings where the schema wants a number become numbers: Snakemake's
    ``--config seeds=[0,1]`` passes list items as strings.

    Raises:
        ConfigError: the first schema violation, in one line.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(f"the configuration must be a mapping of keys, got {_show(raw)}")
    data = copy.deepcopy(dict(raw))
    schema = config_schema()
    data = _coerce_numbers(data, schema, schema)
    _validate_schema(data)
    return data


def _validate_schema(data: dict[str, Any]) -> None:
    """Fill defaults and raise :class:`ConfigError` for the most relevant schema violation."""
    import jsonschema  # imported here: only the workflow needs it

    schema = config_schema()
    validator_class = _with_defaults(jsonschema.Draft202012Validator)
    validator = validator_class(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise ConfigError(describe_schema_error(error))


def _coerce_numbers(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """Turn numeric strings into numbers where ``schema`` asks for an integer or a number."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    types = schema.get("type", [])
    types = types if isinstance(types, list) else [types]
    if isinstance(value, str):
        text = value.strip()
        if "integer" in types and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if "number" in types and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            return float(text)
        return value
    if isinstance(value, list) and "items" in schema:
        return [_coerce_numbers(item, schema["items"], root) for item in value]
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {
            key: _coerce_numbers(
                item, properties.get(key, extra if isinstance(extra, dict) else {}), root
            )
            for key, item in value.items()
        }
    return value


def _with_defaults(validator_class):
    """A validator that fills ``default`` values in (the jsonschema FAQ recipe, deep-copied)."""
    import jsonschema

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
    "null": "null",
}


def _key(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the configuration"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def describe_schema_error(error) -> str:
    """One line for a ``jsonschema.ValidationError``: key, bad value, what is allowed."""
    key, value, kind, spec = (
        _key(error.absolute_path),
        error.instance,
        error.validator,
        error.validator_value,
    )
    schema = error.schema
    if "propertyNames" in error.absolute_schema_path:  # the bad value is a key's name
        subject = f"{key} key {value!r}"
    else:
        subject = f"{key} = {_show(value)}"
    if kind == "type":
        types = spec if isinstance(spec, list) else [spec]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
        return f"{subject}: wrong type ({_type_name(value)}); allowed {words}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{subject}: out of range; allowed {_range_words(schema)}"
    if kind == "enum":
        return f"{subject}: unknown value; allowed {', '.join(map(str, spec))}"
    if kind == "additionalProperties" and spec is False:
        extra = sorted(set(value) - set(schema.get("properties", {})))
        prefix = f"{key}." if error.absolute_path else ""
        shown = ", ".join(f"{prefix}{name} = {_show(value[name])}" for name in extra)
        return f"{shown}: unknown key; allowed keys {', '.join(schema.get('properties', {}))}"
    if kind == "required":
        missing = [name for name in spec if name not in value]
        return (
            f"{key}: missing key {', '.join(map(repr, missing))}; required keys {', '.join(spec)}"
        )
    if kind == "pattern":
        return (
            f"{subject}: not a valid name; allowed letters, digits, '_', '.', '-' "
            "(starting with a letter or digit)"
        )
    if kind == "minItems":
        return f"{subject}: empty; allowed a list of at least {spec} item(s)"
    if kind == "uniqueItems":
        return f"{subject}: repeated items; allowed a list without duplicates"
    return f"{subject}: {error.message}"


def _range_words(schema: Mapping[str, Any]) -> str:
    kind = "an integer" if schema.get("type") == "integer" else "a number"
    parts = []
    if "minimum" in schema:
        parts.append(f"≥ {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        parts.append(f"≤ {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        parts.append(f"< {schema['exclusiveMaximum']}")
    return f"{kind} {' and '.join(parts)}"
