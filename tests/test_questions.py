"""Every question reported by its kind, from released figures: the wording each output uses."""

from __future__ import annotations

from bot.release.families import question_measure
from bot.release.service import Released, WeekRelease
from bot.reports.questions import figure_text, question_lines, window_questions
from bot.reports.readings import Group
from bot.settings import Option, Question, load_behaviour

BANK = load_behaviour(None).questions
BY_KEY = {q.key: q for q in (*BANK.core, *BANK.rotating)}
ORG = Group.organisation()


def released(week: str, **figures: Released) -> WeekRelease:
    return WeekRelease(week, True, 5, {(question_measure(key), "org", ""): figure for key, figure in figures.items()})


def options(**counts: int) -> dict[str, dict[str, int]]:
    return {"options": dict(counts)}


def test_each_kind_is_reported_its_own_way() -> None:
    week = released(
        "2026-W47",
        capability=Released(10, 36.0, {**options(**{"1": 0, "2": 1, "3": 3, "4": 4, "5": 2}), "favourable": 6}),
        time_saved=Released(8, 17.0, options()),
        rework=Released(20, 38.0, {**options(**{"0": 2, "1": 6, "2": 7, "3": 4, "4": 1}), "flagged": 5}),
        workaround=Released(20, 7.0, {**options(**{"0": 13, "1": 7}), "flagged": 7}),
        displaced=Released(10, 9.0, options(**{"0": 4, "1": 3, "2": 3})),
    )
    asked = {"2026-W47": [BY_KEY[k] for k in ("capability", "time_saved", "rework", "workaround", "displaced")]}
    lines = {line.key: line for line in question_lines(list(BY_KEY.values()), [week], asked, ORG)}
    assert figure_text(lines["capability"]) == "3.6 · 60% favourable"
    assert figure_text(lines["time_saved"]) == "2.1 h per person"
    assert figure_text(lines["rework"]) == "Never 10% · Rarely 30% · Sometimes 35% · Often 20% · Always 5% (often/always 25%)"
    assert figure_text(lines["workaround"]) == "Yes 35%"
    assert figure_text(lines["displaced"]) == "No 40% · Partly 30% · Yes 30%"
    # Asked in none of these weeks, or asked with too few answers: said differently.
    assert figure_text(lines["recognition"]) == "not asked in these weeks"
    assert "comment" not in lines  # free text is not a figure


def test_a_rotating_question_shows_its_latest_week_asked_with_that_week_named() -> None:
    history = [
        released("2026-W45", clarity=Released(12, 42.0, {**options(), "favourable": 5})),
        released("2026-W46"),
        released("2026-W47", capability=Released(10, 36.0, {"favourable": 6})),
    ]
    asked = {"2026-W45": [BY_KEY["clarity"]], "2026-W46": [BY_KEY["clarity"]], "2026-W47": [BY_KEY["capability"]]}
    lines = {line.key: line for line in question_lines([BY_KEY["clarity"], BY_KEY["capability"]], history, asked, ORG)}
    assert figure_text(lines["clarity"]) == "asked in W45: 3.5 · 42% favourable"
    assert (lines["clarity"].week, lines["clarity"].current) == ("2026-W45", False)
    assert figure_text(lines["capability"]) == "3.6 · 60% favourable"
    # Asked in W46 too, but nothing was released then: the older week is the latest with a figure.
    only_w46 = question_lines([BY_KEY["clarity"]], history[1:], asked, ORG)
    assert figure_text(only_w46[0]) == "too few answers to show"


def test_a_custom_question_is_reported_and_read_with_its_own_weeks_options() -> None:
    trust = Question(key="trust", text="Do you trust the AI's output?", kind="choice",
                     options=(Option(label="No", value=0), Option(label="Yes", value=1)))
    earlier = Question(key="trust", text="Do you trust the AI's output?", kind="choice",
                       options=(Option(label="Rarely", value=0), Option(label="Mostly", value=1), Option(label="Always", value=2)))
    history = [released("2026-W46", trust=Released(10, 12.0, options(**{"0": 2, "1": 4, "2": 4}))), released("2026-W47")]
    asked = {"2026-W46": [earlier], "2026-W47": []}
    [line] = question_lines(window_questions([trust], asked), history, asked, ORG)
    # The figure is read with the options W46 asked, not today's bank.
    assert figure_text(line) == "asked in W46: Rarely 20% · Mostly 40% · Always 40%"


def test_a_question_the_bank_no_longer_has_is_still_reported_for_the_weeks_that_asked_it() -> None:
    retired = Question(key="morale", text="How is morale?", kind="scale", favourable_at_least=4,
                       options=tuple(Option(label=str(n), value=n) for n in range(1, 6)))
    asked = {"2026-W47": [BY_KEY["capability"], retired]}
    assert [q.key for q in window_questions([BY_KEY["capability"]], asked)] == ["capability", "morale"]
    week = released("2026-W47", morale=Released(6, 18.0, {"favourable": 2}))
    [line] = question_lines([retired], [week], asked, ORG)
    assert figure_text(line) == "3.0 · 33% favourable"


def test_clarity_by_level_reads_as_the_share_favourable_beside_the_mean() -> None:
    from bot.reports.digest_model import LevelLine
    from bot.reports.text import level_line

    # The product's own premise: 12% of entry-level staff say AI's effect on their role was explained.
    assert level_line(LevelLine("entry", 2.9, 0.12)) == "entry: 2.9 · 12% favourable"
    assert level_line(LevelLine("lead", 3.8, None)) == "lead: 3.8"
