"""Polish alphabetical order, as a Polish dictionary (and ICU's `pl` collation) has it."""

from __future__ import annotations

import random
import unicodedata

import pytest

from staff.collation import polish_key


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
