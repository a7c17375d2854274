"""The questions' store on both databases: the API path (seats counted by the database under
the lock), the sibling parts' functions, erasure and the summary's counts, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from tests.staff_support import STAFF_LISTS
from tests.test_question_lists import (  # noqa: F401  (collected here again, on both stores)
    answered,
    test_the_summary_counts_every_choice_and_yes_no_answer_with_seats_left,
)
from tests.test_questions import (  # noqa: F401
    test_erasure_removes_the_answers,
    test_the_api_takes_answers_refuses_a_full_choice_and_shows_free_seats,
    test_the_functions_sibling_parts_read,
)


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    settings = Settings(
        instance_path=tmp_path / "instance",
        events_dir=events_dir,
        database_url=database_url,
        run_worker=False,
        secret_key="t",  # type: ignore[arg-type]
    )
    return settings.model_copy(update=STAFF_LISTS)
