"""Depth and alias limits for GraphQL documents, in time linear in the document.

strawberry's own limit rules walk every path through the fragments, so a document whose
fragments each spread the one before twice (``fragment F1 on Query {...F0 ...F0}`` up
to ``F40``, a few hundred bytes) takes time doubling with each level, on the event loop
(issue 24). These rules measure each fragment once and reuse the figure wherever it is
spread, so they visit every node of the document once (docs/decisions/0068-query-cost.md).
They count as strawberry's do: the depth is the longest chain of fields with selections
(introspection fields, which start with ``__``, not counted), and an alias counts once
per place it lands after the fragments are spread, so a doubling chain multiplies them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# graphql-core's default is 500,000 (about 0.6 s of a core on the worst document).
FIELD_COMPARISON_BUDGET = 50_000


@dataclass(frozen=True, slots=True)
class Shape:
    """What a selection set amounts to once its fragments are spread."""

    depth: int  # the longest chain of fields with selections
    aliases: int  # aliased fields, each counted once per place it lands

    def __add__(self, other: Shape) -> Shape:
        return Shape(max(self.depth, other.depth), self.aliases + other.aliases)


NOTHING = Shape(0, 0)


class DocumentShapes:
    """Each fragment's shape, measured once per document. A fragment spread inside
    itself (a cycle, which the standard rules refuse) counts as nothing."""

    def __init__(self, fragments: Iterable[FragmentDefinitionNode]) -> None:
        self._fragments = {f.name.value: f for f in fragments}
        self._measured: dict[str, Shape] = {}
        self._measuring: set[str] = set()

    def of(self, selection_set: SelectionSetNode | None) -> Shape:
        shape = NOTHING
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                shape += self._field(selection)
            elif isinstance(selection, InlineFragmentNode):
                shape += self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                shape += self._fragment(selection.name.value)
        return shape

    def _field(self, field: FieldNode) -> Shape:
        alias = 1 if field.alias else 0
        if field.name.value.startswith("__") or field.selection_set is None:
            return Shape(0, alias)
        inner = self.of(field.selection_set)
        return Shape(1 + inner.depth, alias + inner.aliases)

    def _fragment(self, name: str) -> Shape:
        if name in self._measured:
            return self._measured[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._measuring:
            return NOTHING
        self._measuring.add(name)
        shape = self.of(fragment.selection_set)
        self._measuring.discard(name)
        self._measured[name] = shape
        return shape


def document_limit_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``max_depth`` and documents with
    more than ``max_aliases`` aliases (the messages strawberry's rules give)."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            _check(context, max_depth, max_aliases)

    return DocumentLimits


def _check(context: ValidationContext, max_depth: int, max_aliases: int) -> None:
    definitions = context.document.definitions
    shapes = DocumentShapes(d for d in definitions if isinstance(d, FragmentDefinitionNode))
    aliases = 0
    for operation in definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        shape = shapes.of(operation.selection_set)
        aliases += shape.aliases
        if shape.depth > max_depth:
            name = operation.name.value if operation.name else "anonymous"
            context.report_error(
                GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", operation)
            )
    if aliases > max_aliases:
        context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))


class ValidatedDocuments:
    """Validation results by document, the newest ``maxsize`` kept (dashboards send the
    same documents over and over). Only the event loop's thread reads and writes it."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._results: OrderedDict[tuple[object, ...], list[GraphQLError]] = OrderedDict()

    async def validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        key = (document, rules)
        found = self._results.get(key)
        if found is not None:
            self._results.move_to_end(key)
            return found
        # Off the event loop: a document within the token limit can still take the
        # standard rules a while (overlapping fields compare pairs), and other requests,
        # /healthz among them, must not wait for it.
        errors = await run_in_threadpool(validate_document, schema, document, rules)
        self._results[key] = errors
        if len(self._results) > self._maxsize:
            self._results.popitem(last=False)
        return errors


class ValidateOffTheLoop(SchemaExtension):
    """Validate each document in a worker thread, once (``ValidatedDocuments``); the
    place of strawberry's ``ValidationCache``, which validates on the event loop."""

    def __init__(self, documents: ValidatedDocuments) -> None:
        super().__init__()
        self._documents = documents

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # parsed before validation
        context.pre_execution_errors = await self._documents.validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield


def bound_field_comparisons() -> None:
    """Lower graphql-core's budget for comparing fields that may merge (a process-wide
    module setting, read as validation starts), so a document of repeated fields is
    refused ("Validation aborted.") after tens of milliseconds, not the default's 0.6 s.
    The dashboard's documents and GraphiQL's introspection stay far below it."""
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = FIELD_COMPARISON_BUDGET
