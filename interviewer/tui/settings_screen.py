"""The settings screen: which mode the app is in, where its files are, the theme, and every key.

Read-only except the theme (remembered in config.toml through settings.save_ui_setting, as the
theme palette already does). Keys are remapped in config.toml under [ui.keymap] by binding id, so
the table shows each id next to its key.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static

from interviewer.tui.common import display_path

KEYMAP_HINT = (
    "Remap any key in config.toml by its id, for example:\n"
    "  [ui.keymap]\n"
    '  submit = "ctrl+enter"\n'
    "The change applies the next time the app starts."
)


def binding_rows(sources: list[tuple[str, type]], keymap: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(where, key, id, what it does) for every binding with an id, remapped keys included."""
    rows = []
    for where, cls in sources:
        for b in getattr(cls, "BINDINGS", []):
            if not isinstance(b, Binding) or not b.id:
                continue
            key = keymap.get(b.id, b.key)
            what = b.tooltip or b.description or b.action
            rows.append((where, key + (" (yours)" if b.id in keymap else ""), b.id, what))
    return rows


class SettingsScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back")]
    HELP = {
        "theme": "Pick a theme with enter and the arrow keys; it is saved to config.toml and used next time.",
        "keys": "Every key binding with its id. Put `id = \"keys\"` under [ui.keymap] in config.toml to change one.",
        "*": "escape goes back.",
    }

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-scroll"):
            yield Static("", id="settings-info")
            with Horizontal(id="theme-row"):
                yield Label("Theme", id="theme-label")
                themes = sorted(self.app.available_themes)
                current = self.app.theme if self.app.theme in themes else themes[0]
                yield Select([(t, t) for t in themes], value=current, allow_blank=False, id="theme")
            yield Static(escape(KEYMAP_HINT), id="keymap-hint")
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "settings"
        self.query_one("#settings-info", Static).update(self._info())
        select = self.query_one("#theme", Select)
        table = self.query_one("#keys", DataTable)
        table.add_columns("where", "key", "id", "what it does")
        keymap = dict(self.app.services.config.ui.keymap)
        for row in binding_rows(self.app.binding_sources(), keymap):
            table.add_row(*(Text(cell) for cell in row))  # plain text: a key like "[" is not markup
        select.focus()

    def _info(self) -> Table:
        from interviewer.settings import config_path, journal_path

        svc = self.app.services
        ep = svc.endpoint
        t = Table(show_header=False, box=None, pad_edge=False, expand=False)
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        t.add_row("mode", escape(svc.mode_line))
        if not ep.offline:
            t.add_row("endpoint", escape(ep.base_url or "https://api.openai.com/v1"))
            t.add_row("model", escape(ep.model or "-"))
            t.add_row("API key", escape(f"from {ep.api_key_source}" if ep.api_key_source else "none (the endpoint needs none)"))
            if ep.profile:
                t.add_row("profile", escape(ep.profile))
        else:
            t.add_row("LLM", escape("set OPENAI_BASE_URL and INTERVIEWER_MODEL (or OPENAI_API_KEY), or a [profiles.NAME] in config.toml"))
        cfg = config_path()
        t.add_row("config file", escape(display_path(cfg)) + ("" if cfg.exists() else "  [dim](not created yet: defaults in use)[/dim]"))
        t.add_row("journal", escape(display_path(journal_path())))
        return t

    @on(Select.Changed, "#theme")
    def _theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.app.theme:
            self.app.theme = event.value  # the app saves it (InterviewerApp.watch_theme)
            self.query_one("#settings-info", Static).update(self._info())
            self.app.notify(f"Theme {event.value} saved to config.toml.", markup=False)
