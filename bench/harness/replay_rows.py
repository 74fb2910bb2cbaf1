"""Rows of the replay's figures per method, shared by bench/replay.py and
bench/replay_networks.py."""

from __future__ import annotations

from graphsvc.evaluation.replay import MethodFigures

METHOD_COLUMNS = [
    "method", "AUC", "seen AUC", "within AUC", "Brier", "log loss",
    "AUC 1st / 2nd half", "Brier 1st / 2nd half",
]  # fmt: skip


def figure(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def method_row(
    name: str, m: MethodFigures, first: MethodFigures, second: MethodFigures
) -> list[str]:
    """A method's figures, whole run then each half."""
    f = figure
    return [
        name, f(m.auc), f(m.seen_auc), f(m.within_auc), f(m.brier), f(m.log_loss),
        f"{f(first.auc)} / {f(second.auc)}", f"{f(first.brier)} / {f(second.brier)}",
    ]  # fmt: skip
