"""Command palette entries, named "area: verb", for every screen of the app."""

from __future__ import annotations

from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider


class InterviewerCommands(Provider):
    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        screen = app.screen

        def on_screen(action: str) -> Callable[[], object]:
            return lambda: getattr(app.screen, f"action_{action}")()

        out: list[tuple[str, Callable[[], object], str]] = []
        # The current screen's own verbs first: they are what the candidate most likely wants.
        if hasattr(screen, "action_submit"):
            out += [
                ("session: submit answer", on_screen("submit"), "Submit this answer for grading"),
                ("session: pause or resume", on_screen("pause"), "Stop or restart the timers"),
                ("session: hint", on_screen("hint"), "A hint towards the rubric (costs points)"),
            ]
        if hasattr(screen, "action_start_loop") and getattr(screen, "profile", None) is not None:
            out.append(("posting: start full loop", on_screen("start_loop"), "Start the rounds planned for this posting"))
        if hasattr(screen, "action_export"):
            out.append(("history: export session", on_screen("export"), "Write the selected session as Markdown"))
        out += [
            ("home: open", app.go_home, "Back to the home screen"),
            ("round: start breadth", lambda: app.start_round("breadth"), "Rapid-fire fundamentals"),
            ("round: start depth", lambda: app.start_round("depth"), "A case study with follow-ups"),
            ("round: start system design", lambda: app.start_round("system_design"), "One product problem, stage by stage"),
            ("round: start coding", lambda: app.start_round("coding"), "Implement a model or metric"),
            ("round: start full loop", app.start_loop, "The rounds planned from your last analyzed posting"),
            ("round: drill due questions", lambda: app.start_round("due"), "The questions due for review"),
            ("posting: analyze", app.analyze_posting, "Paste a job posting and plan the session"),
            ("journal: show", lambda: app.open_screen("journal"), "Your questions, papers, posts and key points"),
            ("journal: add entry", app.add_journal_entry, "Record a question, a paper or post, or a key point"),
            ("progress: show", lambda: app.open_screen("progress"), "Score trends, weakest topics, due reviews"),
            ("history: browse", lambda: app.open_screen("history"), "Past sessions: open, export, delete, resume"),
            ("settings: open", lambda: app.open_screen("settings"), "Mode, config file, theme, key bindings"),
            ("settings: change theme", app.action_change_theme, "Pick a theme (remembered)"),
        ]
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self.commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
