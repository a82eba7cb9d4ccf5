"""Every question of the bank, reported by its kind, from released figures only.

A scale question shows its mean and % favourable; a choice, the share of each option (and, where
the question has a rate mark, such as rework "often/always", that share too); a yes/no choice,
the share answering yes; an hours question, the mean hours. A rotating question not asked in the
reported week shows its latest week asked within the window, labelled with that week; a question
with no released figure in the window says why (not asked, or too few answers).

Nothing here reads an answer: each figure is a released sum over its released count of answerers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from bot.release.families import RATE_MARKS, question_measure
from bot.release.service import Released, WeekRelease
from bot.reports import readings
from bot.reports.digest_model import OptionShare, QuestionLine
from bot.reports.readings import Group
from bot.settings import Question

RATE_NAMES: Final[Mapping[str, str]] = {"rework": "often/always", "workaround": "yes"}


def question_lines(
    questions: Sequence[Question],
    history: Sequence[WeekRelease],
    asked: Mapping[str, Sequence[Question]],
    group: Group,
) -> list[QuestionLine]:
    """Each closed question, in the given order, from the newest week of `history` (oldest first)
    that released a figure for it for `group`. `asked` gives the questions each week's round
    asked, as they were then: a figure is read with its own week's options."""
    current = history[-1].week if history else None
    lines = []
    for question in questions:
        if question.kind == "text":
            continue
        weeks_asked = {w.week: q for w in history for q in asked.get(w.week, ()) if q.key == question.key}
        found = _latest(question, history, group)
        if found is None:
            lines.append(QuestionLine(question.key, question.text, question.kind, None, False, asked=bool(weeks_asked)))
            continue
        week, figure = found
        lines.append(_line(weeks_asked.get(week, question), week, week == current, figure))
    return lines


def _latest(question: Question, history: Sequence[WeekRelease], group: Group) -> tuple[str, Released] | None:
    for release in reversed(history):
        if not release.released:
            continue
        figure = readings.figure(release, question_measure(question.key), group)
        if figure is not None:
            return release.week, figure
    return None


def _line(question: Question, week: str, current: bool, figure: Released) -> QuestionLine:
    options = tuple(_options(question, figure)) if question.kind == "choice" else ()
    flagged = figure.share("flagged") if question.key in RATE_MARKS else None
    return QuestionLine(
        key=question.key,
        text=question.text,
        kind=question.kind,
        week=week,
        current=current,
        people=figure.people,
        mean=figure.mean if question.kind in ("scale", "hours") else None,
        favourable=figure.share("favourable") if question.kind == "scale" else None,
        options=options,
        rate=None if flagged is None else (RATE_NAMES.get(question.key, "flagged"), flagged),
        asked=True,
    )


def _options(question: Question, figure: Released) -> Iterable[OptionShare]:
    counts = figure.counts.get("options") or {}
    for option in question.options:
        value = float(option.value)
        name = str(int(value)) if value.is_integer() else str(value)
        yield OptionShare(option.label, int(counts.get(name, 0)) / figure.people)


def window_questions(bank: Sequence[Question], asked: Mapping[str, Sequence[Question]]) -> list[Question]:
    """The bank's questions, then any a round of the window asked that the bank no longer has."""
    seen = {q.key for q in bank}
    extra: list[Question] = []
    for week in sorted(asked):
        for question in asked[week]:
            if question.key not in seen:
                seen.add(question.key)
                extra.append(question)
    return [*bank, *extra]


def figure_text(line: QuestionLine) -> str:
    """The question's figure in words, by its kind, with the week it comes from when not the
    reported one: "3.6 · 62% favourable", "2.1 h per person", "Yes 34%", "Never 10% · … · Always 5%
    (often/always 25%)", "asked in W45: …", or why there is no figure."""
    if line.week is None:
        return "too few answers to show" if line.asked else "not asked in these weeks"
    if line.kind == "scale":
        text = f"{line.mean:.1f}" + (f" · {line.favourable:.0%} favourable" if line.favourable is not None else "")
    elif line.kind == "hours":
        text = f"{line.mean:.1f} h per person"
    elif line.yes_share is not None:
        text = f"{line.options[1].label} {line.yes_share:.0%}"
    else:
        text = " · ".join(f"{option.label} {option.share:.0%}" for option in line.options)
        if line.rate is not None:
            text += f" ({line.rate[0]} {line.rate[1]:.0%})"
    return text if line.current else f"asked in {line.week.split('-')[-1]}: {text}"
