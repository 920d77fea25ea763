"""The record table: the row under the cursor, the cursor kept across a reload, text shown as typed."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App, ComposeResult

from qa_tui.widgets.record_table import RecordTable


@dataclass(frozen=True)
class Row:
    id: int
    name: str


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RecordTable(("Id", "Name"), lambda r: (r.id, r.name), lambda r: r.id)


async def test_cursor_follows_the_record_and_text_is_literal() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(RecordTable)
        table.show([Row(1, "Chronology [see note] and [/] done"), Row(2, "[bold red]Name[/]"), Row(3, "c")])
        table.focus()
        await pilot.press("down")
        assert table.current == Row(2, "[bold red]Name[/]")
        table.show([Row(0, "new first"), Row(1, "a"), Row(2, "[bold red]Name[/]")])
        assert table.current == Row(2, "[bold red]Name[/]")
        assert table.get_row_at(table.cursor_row)[1].plain == "[bold red]Name[/]"
        table.replace(Row(2, "renamed [x]"))
        await pilot.pause()
        assert table.current == Row(2, "renamed [x]")
        assert table.get_row_at(table.cursor_row)[1].plain == "renamed [x]"
        table.show([])
        assert table.current is None
