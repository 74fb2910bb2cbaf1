"""Strawberry's schema extensions with their hooks found once per set of extension
classes, not once per request and phase (issue 23,
docs/decisions/0092-short-ways-on-the-request-path.md).

For each of a request's four phases (operation, parsing, validation, execution)
strawberry asks every extension whether it has a hook for it, with ``inspect`` checks,
and wraps each hook found in a new context-manager function (``functools.wraps``): 28
look-ups and seven wrappings a request for our seven extensions, then a ``get_results``
call to each. Here the hooks are found once per set of extension classes and hook name,
and only the extensions that have results are asked for them; the hooks are entered and
left by strawberry's own exit stacks, so their order and their exceptions are unchanged
(``tests/test_request_floor.py`` compares the two runners).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

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
from strawberry.utils.await_maybe import await_maybe

HookContext = contextlib.AbstractContextManager[None] | contextlib.AbstractAsyncContextManager[None]
Hook = Callable[[SchemaExtension], HookContext]
PhaseHooks = list[tuple[int, Hook, bool]]

# By the request's extension classes (fixed when the schema is built) and hook name: a
# few entries.
_found: dict[tuple[tuple[type[SchemaExtension], ...], str], PhaseHooks] = {}


def phase_hooks(extensions: tuple[type[SchemaExtension], ...], name: str) -> PhaseHooks:
    """The hooks ``name`` of these extension classes: for each class that has one, its
    position, the hook as a context-manager function of the extension, and whether it
    is async."""
    key = (extensions, name)
    found = _found.get(key)
    if found is None:
        found = _found[key] = [
            (position, *hook)
            for position, extension in enumerate(extensions)
            if (hook := _hook(extension, name)) is not None
        ]
    return found


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
    def __init__(self, extensions: list[SchemaExtension]) -> None:
        classes = tuple(map(type, extensions))
        self.hooks = []
        for position, hook, is_async in phase_hooks(classes, self.HOOK_NAME):
            extension = extensions[position]
            self.hooks.append(WrappedHook(extension, functools.partial(hook, extension), is_async))


class _Operation(_ClassHooks, OperationContextManager):
    pass


class _Validation(_ClassHooks, ValidationContextManager):
    pass


class _Parsing(_ClassHooks, ParsingContextManager):
    pass


class _Executing(_ClassHooks, ExecutingContextManager):
    pass


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of each phase found by ``phase_hooks``."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        # Only the extensions that have results are asked (the default is none: {}).
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if type(extension).get_results is not SchemaExtension.get_results:
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data


class ClassHooksSchema(strawberry.Schema):
    """A schema whose requests run their extensions through ``ClassHooksRunner``."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ClassHooksRunner(execution_context=execution_context, extensions=extensions)
