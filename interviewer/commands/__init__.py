"""Commands that live in their own modules. Each module exposes `register(app)` and imports
only typer at module level (the CLI must start instantly)."""

from __future__ import annotations

import importlib

MODULES = ("interviewer.commands.knowledge", "interviewer.commands.analyze")


def register_all(app) -> None:
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not built yet
            raise
        mod.register(app)
