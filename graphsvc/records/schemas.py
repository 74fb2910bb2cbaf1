"""The record JSON Schemas (``schema/records``) as ready-built validators.

The schema files are the single source of truth for field rules; this module only
loads them, compiles validators per record type on first use, and turns the most
relevant violation into a field path and a readable reason.

Two validators read the same files. ``jsonschema-rs`` (compiled, about 20 times faster)
answers the common question "is this record valid?". A record it does not pass is judged
again by ``jsonschema``, which also explains the failure, and whose verdict stands: the
fast path only ever skips work, it never decides a rejection.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from graphsvc.domain import RecordType
from graphsvc.records.ecma_regex import pattern_keyword
from graphsvc.resources import schema_dir

if TYPE_CHECKING:
    # referencing exports Resolver only from its private module (its own typing does this).
    from referencing._core import Resolver

_SUFFIX = ".schema.json"
_MAX_REPR = 60


@functools.cache
def _load_all() -> dict[str, Resource[Any]]:
    resources: dict[str, Resource[Any]] = {}
    for path in sorted((schema_dir() / "records").glob("*" + _SUFFIX)):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources[path.name.removesuffix(_SUFFIX)] = Resource.from_contents(contents)
    return resources


@functools.cache
def _registry() -> Registry[Any]:
    resources = _load_all().values()
    return Registry().with_resources((resource.id() or "", resource) for resource in resources)


@functools.cache
def _validator_class() -> type[Validator]:
    base = validators.validator_for(_load_all()["common"].contents)
    extended: type[Validator] = validators.extend(base, {"pattern": pattern_keyword})
    return extended


@functools.cache
def record_validator(record_type: RecordType) -> Validator:
    """The validator for one record type, built (and the schema checked) on first use."""
    resource = _load_all()[record_type.value]
    cls = _validator_class()
    cls.check_schema(resource.contents)
    # jsonschema resolves every $ref anew on each validation, which more than doubled the
    # cost of a receipt; the schema with its references expanded validates the same way.
    resolver = _registry().resolver(base_uri=resource.id() or "")
    return cls(_inline_refs(resource.contents, resolver, ()))


# Keywords that only annotate, so a $ref's siblings may override the target's.
_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default"})


def _inline_refs(node: Any, resolver: Resolver[Any], expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, resolver, expanding) for item in node]
    if not isinstance(node, dict):
        return node
    siblings = {
        key: _inline_refs(value, resolver, expanding)
        for key, value in node.items()
        if key not in ("$ref", "$defs")
    }
    ref = node.get("$ref")
    if ref is None:
        return siblings
    if ref in expanding:
        raise ValueError(f"recursive $ref {ref!r} in the record schemas cannot be expanded")
    resolved = resolver.lookup(ref)
    target = _inline_refs(resolved.contents, resolved.resolver, (*expanding, ref))
    if isinstance(target, dict) and not (target.keys() & siblings.keys()) - _ANNOTATIONS:
        return {**target, **siblings}
    # In 2020-12 a $ref applies alongside its siblings, which is what allOf says too.
    return {**siblings, "allOf": [*siblings.get("allOf", []), target]}


@functools.cache
def _fast_validator(record_type: RecordType) -> jsonschema_rs.Validator:
    """The compiled validator for one record type, from the same schema files."""
    resources = _load_all()
    registry = jsonschema_rs.Registry(
        [(resource.id() or "", resource.contents) for resource in resources.values()]
    )
    # Formats are annotations only, as in the slow path; offline: every $ref is local.
    return jsonschema_rs.validator_for(
        resources[record_type.value].contents,
        registry=registry,
        validate_formats=False,
        offline=True,
    )


def _passes_fast(record_type: RecordType, instance: object) -> bool:
    try:
        return _fast_validator(record_type).is_valid(instance)
    except ValueError:
        # It takes only what converts to JSON text: a lone surrogate in a string, for
        # one, raises UnicodeEncodeError. The slow path decides those.
        return False


def schema_violation(record_type: RecordType, instance: object) -> tuple[str | None, str] | None:
    """``None`` if ``instance`` satisfies the type's schema, else ``(field, reason)``."""
    if _passes_fast(record_type, instance):
        return None
    validator = record_validator(record_type)
    # Reached for invalid records (and anything the fast path could not take).
    if validator.is_valid(instance):
        return None
    error = best_match(validator.iter_errors(instance))
    if error is None:  # is_valid said no, so there is an error; this only narrows the type
        return None, "does not match its schema"
    return _describe(error, validator.schema)


def _describe(error: ValidationError, root: Mapping[str, Any]) -> tuple[str | None, str]:
    path = [str(part) for part in error.absolute_path]
    instance = error.instance
    keyword = error.validator
    if keyword == "required" and isinstance(instance, Mapping):
        missing = _first_absent(error.validator_value, instance)
        return _field(path, missing), "is required" + _condition(error, root)
    if keyword == "dependentRequired" and isinstance(instance, Mapping):
        for present, needs in error.validator_value.items():
            missing = _first_absent(needs, instance)
            if present in instance and missing is not None:
                return _field(path, missing), f"is required when `{present}` is present"
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = sorted(name for name in instance if name not in known)
        if extra:
            return _field(path, extra[0]), "is not allowed (unknown field)"
    if keyword == "not" and error.validator_value in ({}, True):
        # `"not": {}` is how the schemas forbid a field in a branch.
        return _field(path), "is not allowed" + _condition(error, root)
    return _field(path), _shorten(error.message, instance)


def _first_absent(names: Iterable[str], instance: Mapping[str, Any]) -> str | None:
    return next((name for name in names if name not in instance), None)


def _field(path: list[str], name: str | None = None) -> str | None:
    parts = [*path, name] if name is not None else path
    return ".".join(parts) or None


def _condition(error: ValidationError, root: Mapping[str, Any]) -> str:
    """Name the ``if`` behind a ``then``/``else`` error, e.g. " when verdict is 'invalid'"."""
    parts = list(error.absolute_schema_path)
    for index in range(len(parts) - 1, -1, -1):
        branch = parts[index]
        if branch not in ("then", "else"):
            continue
        holder: Any = root
        for step in parts[:index]:
            try:
                holder = holder[step]
            except (KeyError, IndexError, TypeError):
                return ""
        condition = holder.get("if", {}).get("properties", {}) if isinstance(holder, dict) else {}
        terms = [
            f"{name} is {sub['const']!r}"
            for name, sub in condition.items()
            if isinstance(sub, dict) and "const" in sub
        ]
        if not terms:
            return ""
        joined = " and ".join(terms)
        return f" when {joined}" if branch == "then" else f" unless {joined}"
    return ""


def _shorten(message: str, instance: object) -> str:
    """jsonschema quotes the offending value whole; keep huge values out of the reason."""
    full = repr(instance)
    if len(full) <= _MAX_REPR:
        return message
    size = f" ({len(instance)} chars)" if isinstance(instance, str) else ""
    return message.replace(full, full[: _MAX_REPR - 1] + "…" + size)
