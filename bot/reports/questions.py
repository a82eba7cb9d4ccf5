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

from bot.i18n import ENGLISH, SOURCE, N_, Translator
from bot.release.families import RATE_MARKS, question_measure
from bot.release.service import Released, WeekRelease
from bot.reports import readings
from bot.reports.digest_model import OptionShare, QuestionLine
from bot.reports.readings import Group
from bot.settings import Question

RATE_NAMES: Final[Mapping[str, str]] = {"rework": N_("often/always"), "workaround": N_("yes")}
FLAGGED: Final = N_("flagged")


def question_lines(
    questions: Sequence[Question],
    history: Sequence[WeekRelease],
    asked: Mapping[str, Sequence[Question]],
    group: Group,
    lang: str = SOURCE,
) -> list[QuestionLine]:
    """Each closed question, in the given order, from the newest week of `history` (oldest first)
    that released a figure for it for `group`. `asked` gives the questions each week's round
    asked, as they were then: a figure is read with its own week's options. Texts and option
    labels are the bank's in `lang`."""
    current = history[-1].week if history else None
    lines = []
    for question in questions:
        if question.kind == "text":
            continue
        weeks_asked = {w.week: q for w in history for q in asked.get(w.week, ()) if q.key == question.key}
        found = _latest(question, history, group)
        if found is None:
            lines.append(QuestionLine(question.key, question.text_in(lang), question.kind, None, False, asked=bool(weeks_asked)))
            continue
        week, figure = found
        lines.append(_line(weeks_asked.get(week, question), week, week == current, figure, lang))
    return lines


def _latest(question: Question, history: Sequence[WeekRelease], group: Group) -> tuple[str, Released] | None:
    for release in reversed(history):
        if not release.released:
            continue
        figure = readings.figure(release, question_measure(question.key), group)
        if figure is not None:
            return release.week, figure
    return None


def _line(question: Question, week: str, current: bool, figure: Released, lang: str) -> QuestionLine:
    options = tuple(_options(question, figure, lang)) if question.kind == "choice" else ()
    flagged = figure.share("flagged") if question.key in RATE_MARKS else None
    return QuestionLine(
        key=question.key,
        text=question.text_in(lang),
        kind=question.kind,
        week=week,
        current=current,
        people=figure.people,
        mean=figure.mean if question.kind in ("scale", "hours") else None,
        favourable=figure.share("favourable") if question.kind == "scale" else None,
        options=options,
        rate=None if flagged is None else (RATE_NAMES.get(question.key, FLAGGED), flagged),
        asked=True,
    )


def _options(question: Question, figure: Released, lang: str) -> Iterable[OptionShare]:
    counts = figure.counts.get("options") or {}
    for option in question.options:
        value = float(option.value)
        name = str(int(value)) if value.is_integer() else str(value)
        yield OptionShare(option.label_in(lang), int(counts.get(name, 0)) / figure.people)


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


def figure_text(line: QuestionLine, t: Translator = ENGLISH) -> str:
    """The question's figure in words, by its kind, with the week it comes from when not the
    reported one: "3.6 · 62% favourable", "2.1 h per person", "Yes 34%", "Never 10% · … · Always 5%
    (often/always 25%)", "asked in W45: …", or why there is no figure."""
    if line.week is None:
        return t.gettext("too few answers to show") if line.asked else t.gettext("not asked in these weeks")
    if line.kind == "scale":
        text = _number(line.mean, t)
        if line.favourable is not None:
            text += " · " + t.gettext("{share} favourable", share=_percent(line.favourable, t))
    elif line.kind == "hours":
        text = t.gettext("{hours} h per person", hours=_number(line.mean, t))
    elif line.yes_share is not None:
        text = f"{line.options[1].label} {_percent(line.yes_share, t)}"
    else:
        text = " · ".join(f"{option.label} {_percent(option.share, t)}" for option in line.options)
        if line.rate is not None:
            text += f" ({t.gettext(line.rate[0])} {_percent(line.rate[1], t)})"
    if line.current:
        return text
    return t.gettext("asked in {week}: {figure}", week=line.week.split("-")[-1], figure=text)


def _number(value: float | None, t: Translator) -> str:
    return f"{value:.1f}" if t.lang == SOURCE or value is None else t.decimal(value, 1)


def _percent(share: float, t: Translator) -> str:
    return f"{share:.0%}" if t.lang == SOURCE else t.percent(share)
