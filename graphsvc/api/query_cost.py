"""What an operation costs, estimated before it runs, and the budget it must keep
(docs/decisions/0068-query-cost.md).

The estimate counts what execution will do at most: every object a field returns is a
unit (an entity, a receipt, a page: a read or a part of one), a list multiplies what is
selected in it by its size (``first``, or its default page; ``items`` by its page's
``first``; a list of given ``ids`` by their number; other lists, bounded by the model,
by a fixed guess), a paged list's read adds ``LIST_READ`` and its ``totalCount``
``TOTAL_COUNT`` (a count may read the whole list). Scalars ride on their object;
introspection is free (its size is the schema's). Fragments are measured once per page
size, so a fragment explosion costs no more to estimate than to read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from graphsvc.api.context import Context
from graphsvc.api.pages import DEFAULT_PAGE

LIST_READ = 10  # a paged list: one store read, however small the page
TOTAL_COUNT = 100  # counting a list in the store: up to every row of it
UNSIZED_LIST = 10  # lists without a size argument: breakdown rows, a provider's models
# Lists whose `first` defaults to the largest page rather than DEFAULT_PAGE.
LARGEST_PAGE_BY_DEFAULT = frozenset({"scoreHistory"})
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"


class CostEstimate:
    """The cost of one operation of a document, with its variables' values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        max_page: int,
    ) -> None:
        self._schema = schema
        self._variables = dict(variables or {})
        self._max_page = max_page
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[tuple[str, int], int] = {}
        self._measuring: set[str] = set()
        self._defaults: dict[str, Any] = {}

    def of(self, operation: OperationDefinitionNode) -> int:
        for definition in operation.variable_definitions or ():
            if definition.default_value is not None:
                name = definition.variable.name.value
                self._defaults[name] = self._value(definition.default_value)
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return 0  # no such root type: validation refuses the document
        return self._selections(operation.selection_set, root, DEFAULT_PAGE)

    def _selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, page: int
    ) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, inner, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, page)
        return total

    def _fragment(self, name: str, page: int) -> int:
        key = (name, page)
        if key in self._measured:
            return self._measured[key]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._measuring:
            return 0  # unknown or cyclic: validation refuses the document
        self._measuring.add(name)
        cost = self._selections(
            fragment.selection_set, self._type(fragment.type_condition.name.value), page
        )
        self._measuring.discard(name)
        self._measured[key] = cost
        return cost

    def _field(self, node: FieldNode, parent: GraphQLNamedType, page: int) -> int:
        name = node.name.value
        fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
        if name.startswith("__") or name not in fields:
            return 0
        if name == "totalCount":
            return TOTAL_COUNT
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        kind = fields[name].type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        size = 1
        if isinstance(kind, GraphQLList):
            size = self._list_size(name, arguments, page)
            kind = kind.of_type
            while isinstance(kind, GraphQLNonNull | GraphQLList):
                kind = kind.of_type
        if not isinstance(kind, GraphQLObjectType):
            return 0  # scalars and enums ride on their object
        sized = "first" in fields[name].args
        # A page object (`{items pageInfo totalCount}`): its items come `first` at a time.
        inner_page = self._first(name, arguments) if sized and size == 1 else page
        read = LIST_READ if sized else 0
        return read + size * (1 + self._selections(node.selection_set, kind, inner_page))

    def _list_size(self, name: str, arguments: Mapping[str, ValueNode], page: int) -> int:
        if "first" in arguments or name in LARGEST_PAGE_BY_DEFAULT:
            return self._first(name, arguments)
        if name == "items":
            return page
        ids = self._value(arguments["ids"]) if "ids" in arguments else None
        if isinstance(ids, list):
            return len(ids)
        return UNSIZED_LIST

    def _first(self, name: str, arguments: Mapping[str, ValueNode]) -> int:
        value = self._value(arguments["first"]) if "first" in arguments else None
        if isinstance(value, int):  # over the maximum, the resolver refuses it by name
            return min(max(0, value), self._max_page)
        default = self._max_page if name in LARGEST_PAGE_BY_DEFAULT else DEFAULT_PAGE
        return min(default, self._max_page)

    def _value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            return self._variables.get(name, self._defaults.get(name))
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return [self._value(v) for v in node.values]
        return None

    def _type(self, name: str) -> GraphQLNamedType:
        found = self._schema.get_type(name)
        if found is None:  # validation refuses the document before this runs
            raise GraphQLError(f"unknown type {name}")
        return found


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    max_page: int,
) -> int | None:
    """The estimated cost of the operation to run; None when there is no such operation
    (execution reports that)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    return CostEstimate(schema, document, variables, max_page).of(operation)


class CostLimit(SchemaExtension):
    """Estimate each operation's cost before it runs, count it in the metrics, and refuse
    it, unrun, above the budget (``GRAPHSVC_MAX_QUERY_COST``)."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        if not isinstance(context, Context) or execution.graphql_document is None:
            yield
            return
        settings = context.services.settings
        cost = operation_cost(
            execution.schema._schema,
            execution.graphql_document,
            execution.operation_name,
            execution.variables,
            settings.max_page_size,
        )
        if cost is not None:
            context.services.metrics.graphql_cost.observe(cost)
            budget = settings.max_query_cost
            if cost > budget:
                execution.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"query cost {cost:,} is over the budget of {budget:,}: ask for "
                            "smaller pages, fewer nested lists or fewer totalCount",
                            extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "budget": budget},
                        )
                    ],
                )
        yield
