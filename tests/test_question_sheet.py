"""The event's questions as columns of the Google sheet (emulator) and the workbook."""

from __future__ import annotations

from registrations.question_editing import QuestionForm
from sheets.rows import HEADERS
from tests.test_questions import ANSWERS, add_questions
from tests.test_sheet_sync import Setup, setup  # noqa: F401  (the fixture, both sinks)

BY = "koordynatorka@example.pl"


def test_answers_are_columns_after_the_service_columns_and_a_relabel_renames_in_place(
    setup: Setup,  # noqa: F811
) -> None:
    clock = setup.app.extensions["owes"].clock
    editor = add_questions(setup.app, clock)
    editor.add(setup.event, QuestionForm("Autokar w obie strony", "tak_nie"), by=BY, now=clock())
    editor.add(setup.event, QuestionForm("Dzień przyjazdu", "data"), by=BY, now=clock())
    answers = {**ANSWERS, "posilki": ["obiad", "kolacja"], "autokar_w_obie_strony": False}
    answers["dzien_przyjazdu"] = "2018-08-27"
    answers["z_kim_chce_dzielic_pokoj"] = "=HYPERLINK(1)"
    [registration_id] = setup.register(1, answers=answers)
    assert setup.sync()

    header = setup.grid()[0]
    labels = [
        "Miejsce wsiadania",
        "Posiłki",
        "Z kim chcę dzielić pokój",
        "Autokar w obie strony",
        "Dzień przyjazdu",
    ]
    assert header[: len(HEADERS)] == HEADERS
    assert header[len(HEADERS) :] == labels
    assert setup.column("Miejsce wsiadania") == ["Żary, dworzec PKP"]
    assert setup.column("Posiłki") == ["obiad, kolacja"]
    assert setup.column("Autokar w obie strony") == ["nie"]
    assert setup.column("Dzień przyjazdu") == ["27.08.2018"]
    assert setup.column("Z kim chcę dzielić pokój") == ["'=HYPERLINK(1)"]

    editor.edit(
        setup.event,
        "miejsce_wsiadania",
        QuestionForm("Przystanek autokaru", "wybor", choices="Żary, dworzec PKP | 1"),
        by=BY,
        now=clock(),
    )
    editor.set_hidden(setup.event, "posilki", True, by=BY, now=clock())
    assert setup.syncer.sync_event(setup.event, check_sheet=True) is not None
    grid = setup.grid()
    assert grid[0][len(HEADERS) :] == ["Przystanek autokaru", *labels[1:]]
    assert setup.column("Przystanek autokaru") == ["Żary, dworzec PKP"]
    assert setup.column("Posiłki") == ["obiad, kolacja"]  # a hidden question's answers stay
    assert grid[1][0] == registration_id


def test_the_erase_command_removes_the_answers_from_the_store_and_the_row_from_the_sheet(
    setup: Setup,  # noqa: F811
) -> None:
    from sqlalchemy import func, select

    from registrations.answers import Answer

    clock = setup.app.extensions["owes"].clock
    add_questions(setup.app, clock)
    [gone, kept] = setup.register(
        2, answers=ANSWERS | {"miejsce_wsiadania": "zielona_gora_dworcowa"}
    )
    assert setup.sync()
    result = setup.app.test_cli_runner().invoke(args=["erase", "--id", gone, "--wait", "0"])
    assert result.exit_code == 0, result.output
    assert setup.sync()
    grid = setup.grid()
    assert [row[0] for row in grid[1:]] == [kept]
    assert setup.column("Miejsce wsiadania") == ["Zielona Góra, Dworcowa"]
    store = setup.app.extensions["owes"].store
    with store.reading() as session:
        ids = set(session.scalars(select(Answer.registration_id)))
        assert ids == {kept}
        assert session.scalar(select(func.count()).select_from(Answer)) == 3
