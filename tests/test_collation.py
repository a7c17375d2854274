"""Polish alphabetical order, as a Polish dictionary (and ICU's `pl` collation) has it."""

from __future__ import annotations

import random
import unicodedata

import pytest

from staff.collation import compact_polish_key, polish_key


def shuffled_then_sorted(expected: list[str]) -> list[str]:
    names = expected[:]
    random.Random(7).shuffle(names)
    return sorted(names, key=polish_key)


def test_each_polish_letter_follows_its_base_letter() -> None:
    expected = [
        "Adam",
        "Azja",
        "Ąb",
        "Celina",
        "Czajka",
        "Ćwikła",
        "Ewa",
        "Ezop",
        "Ęba",
        "Lis",
        "Lutek",
        "Łoś",
        "Łucja",
        "Nowak",
        "Nyga",
        "Ńa",
        "Ostrowski",
        "Ozga",
        "Ółtarz",
        "Sowa",
        "Szymon",
        "Śliwa",
        "Świętosław",
        "Zawada",
        "Zięba",
        "Źrebiec",
        "Żak",
        "Żółtowska",
    ]

    assert shuffled_then_sorted(expected) == expected


def test_polish_letters_inside_a_name_count_too() -> None:
    assert shuffled_then_sorted(["Kołacz", "Kolonko", "Kowal"]) == ["Kolonko", "Kołacz", "Kowal"]
    assert shuffled_then_sorted(["Kąkol", "Kakol", "Kacper"]) == ["Kacper", "Kakol", "Kąkol"]


def test_foreign_accents_are_their_base_letter_told_apart_only_on_a_tie() -> None:
    assert shuffled_then_sorted(
        ["Mueller", "Muller", "Müller", "Mus", "Capek", "Čapek", "Chmiel"]
    ) == [
        "Capek",
        "Čapek",
        "Chmiel",
        "Mueller",
        "Muller",
        "Müller",
        "Mus",
    ]


def test_case_and_hyphens_and_spaces() -> None:
    expected = ["de Vries", "De Vries", "Nowak", "Nowak-Kowalska", "Nowakowska", "Van der Berg"]

    assert shuffled_then_sorted(expected) == expected


@pytest.mark.parametrize("name", ["Łucja", "Ścisło", "Żaneta"])
def test_composed_and_decomposed_forms_sort_alike(name: str) -> None:
    assert polish_key(name) == polish_key(unicodedata.normalize("NFD", name))


def test_other_scripts_come_after_latin() -> None:
    assert shuffled_then_sorted(["Żak", "Ёжик", "Ωmega", "Zoe"]) == ["Zoe", "Żak", "Ωmega", "Ёжик"]


def test_the_compact_key_orders_and_equates_as_the_full_one() -> None:
    letters = "aAąĄbcćĆeęéÉlłŁnńoóÓsśŚzźżŻ Ωё-'1̈"
    rng = random.Random(11)
    texts = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    texts += ["é", "é", "e\u0301\u0308", "\u0301", "", "de Vries", "De Vries"]

    for one, other in zip(texts, texts[1:], strict=False):
        full = (polish_key(one) > polish_key(other)) - (polish_key(one) < polish_key(other))
        compact = (compact_polish_key(one) > compact_polish_key(other)) - (
            compact_polish_key(one) < compact_polish_key(other)
        )
        assert compact == full, (one, other)
    assert sorted(texts, key=compact_polish_key) == sorted(texts, key=polish_key)
