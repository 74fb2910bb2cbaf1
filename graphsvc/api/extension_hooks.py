"""Strawberry's schema extensions with their hooks found once per extension class, not
once per request and phase (issue 23).

For each of a request's four phases (operation, parsing, validation, execution)
strawberry asks every extension whether it has a hook for it, with ``inspect`` checks,
and wraps each hook found in a new context-manager function (``functools.wraps``): 28
look-ups and seven wrappings a request for our seven extensions, about a tenth of the
floor of a computed ``{ __typename }``. Here the answer is kept per class and hook name;
the hooks are entered and left as strawberry does (its exit stacks), so their order and
their exceptions are unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

HookContext = contextlib.AbstractContextManager[None] | contextlib.AbstractAsyncContextManager[None]
Hook = Callable[[SchemaExtension], HookContext]


# Extension classes and hook names are fixed when the schema is built: a few entries.
_found: dict[tuple[type[SchemaExtension], str], tuple[Hook, bool] | None] = {}


def class_hook(extension: type[SchemaExtension], name: str) -> tuple[Hook, bool] | None:
    """The hook ``name`` of an extension class as a context-manager function of the
    extension, and whether it is async; None when the class keeps the default (none)."""
    key = (extension, name)
    if key not in _found:
        _found[key] = _hook(extension, name)
    return _found[key]


def _hook(extension: type[SchemaExtension], name: str) -> tuple[Hook, bool] | None:
    function = getattr(extension, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return contextlib.contextmanager(function), False
    if inspect.isasyncgenfunction(function):
        return contextlib.asynccontextmanager(function), True
    if not callable(function):
        raise ValueError(f"Hook {name} on {extension} must be callable, received {function!r}")
    if inspect.iscoroutinefunction(function):

        @contextlib.asynccontextmanager
        async def awaited(instance: SchemaExtension) -> AsyncIterator[None]:
            await function(instance)
            yield

        return awaited, True

    @contextlib.contextmanager
    def called(instance: SchemaExtension) -> Iterator[None]:
        function(instance)
        yield

    return called, False


class _ClassHooks(ExtensionContextManagerBase):
    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = class_hook(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        hook, is_async = found
        return WrappedHook(extension, functools.partial(hook, extension), is_async)


class _Operation(_ClassHooks, OperationContextManager):
    pass


class _Validation(_ClassHooks, ValidationContextManager):
    pass


class _Parsing(_ClassHooks, ParsingContextManager):
    pass


class _Executing(_ClassHooks, ExecutingContextManager):
    pass


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of each phase found by ``class_hook``."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


class ClassHooksSchema(strawberry.Schema):
    """A schema whose requests run their extensions through ``ClassHooksRunner``."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ClassHooksRunner(execution_context=execution_context, extensions=extensions)
