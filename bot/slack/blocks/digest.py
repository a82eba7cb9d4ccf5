"""The council digest in Slack: one main post, and its thread.

The main post is what the council reads first, and always one message within Slack's limits:
the headline, participation, scores, net AI time, hidden work by category, clarity by level,
pause signals and alerts. A list too long for it (hundreds of alerts) is shown as far as it fits,
with a note saying how many are shown, and is posted whole in the thread.

The thread holds what grows with the organisation: every team, every rollout with its decision
buttons, every explainer (and the trend chart, which the messenger uploads). Each thread part is
split over as many replies as it needs, never cut. A part is one function of the digest in
`THREAD_PARTS`; adding a reply to the thread is adding a function there.

Every reply names its part and the entries it carries (`Post.part`, `first`, `last`), so a
digest job that runs again after a crash posts only what the thread does not hold yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import N_, SOURCE, Translator, translator
from bot.reports.digest_model import DECISIONS, Digest, RolloutLine
from bot.reports.questions import figure_text
from bot.reports.text import (
    ai_time_line,
    decision_label,
    hours,
    left_out_line,
    level_line,
    number,
    participation_line,
    percent,
    reason_label,
    rollout_line,
    score_line,
    suppressed_line,
)
from bot.slack.blocks.common import escape, parse_id, render
from bot.slack.blocks.layout import SECTION_TEXT_MAX, Entry, Part, Room, paginate, split_lines
from bot.slack.ids import Action

MAIN = "main"  # the part name of the main post
# Room the main post keeps for its header, participation, notes and footer around the parts
# (German and French run longest: the notes of a cut list and the footer stay well within it).
MAIN_RESERVE = Room().less(blocks=6, text=2500)
# A list cut in the main post that the thread already holds whole, under this part's title.
SHOWN_WHOLE_IN = {"pause_signals": "rollouts"}


@dataclass(frozen=True)
class Post:
    """One message of the digest: the main post or a reply in its thread."""

    part: str
    first: int  # the part's entries it carries, first to last
    last: int
    text: str  # the notification and screen-reader text
    blocks: list[dict[str, Any]]


def decision_value(rollout_id: int, week: str, decision: str) -> str:
    return f"{rollout_id}:{week}:{decision}"


def parse_decision_value(value: object) -> tuple[int, str, str]:
    """Rollout, week and decision from a digest button; ValueError if the app did not write it."""
    rollout_id, week, decision = value.split(":") if isinstance(value, str) else ()  # ValueError unless three
    if decision not in DECISIONS:
        raise ValueError(decision)
    return parse_id(rollout_id), week, decision


def _reader(digest: Digest, t: Translator | None) -> Translator:
    """The digest is read in the language it was built in (the council's) unless told otherwise."""
    return t or translator(digest.lang)


def digest_text(digest: Digest, t: Translator | None = None) -> str:
    t = _reader(digest, t)
    return t.gettext("Council digest for {week}: {participation}", week=digest.week, participation=participation_line(digest, t))


def _part(key: str, title: str, lines: Sequence[str], t: Translator, *, noun: str = "lines") -> Part:
    return _continued(Part.of_lines(key, title, lines, noun=noun), t)


def _continued(part: Part, t: Translator) -> Part:
    """A part whose title, where it goes on in the next message, says so in the reader's language."""
    if t.lang == SOURCE or not part.title:
        return part
    return replace(part, more=t.gettext("{title} (continued)", title=part.title))


# ---------------------------------------------------------------- the main post


def digest_main(digest: Digest, t: Translator | None = None) -> Post:
    """The main post: one message, whatever the size of the organisation."""
    t = _reader(digest, t)
    parts = _main_parts(digest, t)
    pages = paginate(parts, room=MAIN_RESERVE)
    page = pages[0] if pages else None
    blocks: list[Block] = [
        HeaderBlock(text=t.gettext("Council digest · {week}", week=digest.week)),
        SectionBlock(text=MarkdownTextObject(text=t.gettext("*Participation* · {line}", line=participation_line(digest, t)))),
    ]
    if digest.suppressed:
        blocks.append(_note(suppressed_line(digest, t)))
    if page is not None:
        blocks.extend(page.blocks)
    cut = [note for index, part in enumerate(parts) if (note := _cut_note(part, page.shown.get(index, []) if page else [], t))]
    if cut:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(cut))))
    blocks.append(_note(_footer(digest, t)))
    return Post(MAIN, 0, 0, digest_text(digest, t), render(blocks))


def _main_parts(digest: Digest, t: Translator) -> list[Part]:
    parts: list[Part] = []
    none = [t.gettext("None this week.")]
    if not digest.suppressed:
        scores = [f"• {score_line(s, t)}" for s in digest.scores]
        parts.append(_part("scores", t.gettext("*Scores* (mean · favourable · change · 8 weeks)"), scores, t, noun=N_("scores")))
        parts.append(_part("ai_time", "", [ai_time_line(digest, t)], t))
        if digest.hidden_hours:
            hidden = [f"• {escape(label)}: {hours(value, t=t)}" for label, value in digest.hidden_hours]
            parts.append(_part("hidden_work", t.gettext("*Hidden AI work logged*"), hidden, t, noun=N_("categories")))
        if digest.clarity_by_level:
            levels = [f"• {escape(level_line(level, t))}" for level in digest.clarity_by_level]
            parts.append(_part("clarity_by_level", t.gettext("*Clarity by level*"), levels, t, noun=N_("levels")))
    if digest.rollouts:
        signals = [
            f"• :octagonal_sign: *{escape(r.name)}*: {escape('; '.join(reason_label(reason, t) for reason in r.reasons))}"
            for r in digest.rollouts
            if r.pause_signal
        ]
        noun = N_("rollouts with a pause signal")
        parts.append(_part("pause_signals", t.gettext("*Pause signals*"), signals or none, t, noun=noun))
    alerts = [f"• :warning: {escape(alert)}" for alert in digest.alerts]
    parts.append(_part("alerts", t.gettext("*Alerts*"), alerts or none, t, noun=N_("alerts")))
    return parts


def _cut_note(part: Part, shown: Sequence[int], t: Translator) -> str | None:
    """What the main post could not hold of a part, said where the part would go on."""
    if len(shown) == len(part.entries):
        return None
    whole = part.items_through(len(shown))  # the main post shows a part from its first entry on
    return t.gettext(
        ":arrow_down: {name}: {shown} of {count} {items} shown here; all of them are under *{where}* in the thread.",
        name=_thread_title(part.key, t),
        shown=t.integer(whole),
        count=t.integer(part.item_count),
        items=t.gettext(part.noun),
        where=_thread_title(SHOWN_WHOLE_IN.get(part.key, part.key), t),
    )


def _footer(digest: Digest, t: Translator) -> str:
    asked = len(digest.open_questions)
    if asked:
        footer = t.gettext("Open questions from explainers: {count}, listed in the thread.", count=t.integer(asked))
    else:
        footer = t.gettext("Open questions from explainers: none.")
    footer += " " + t.gettext(
        "No figure covers fewer than {count} people, nor lets one be worked out.", count=t.integer(digest.min_group_size)
    )
    titles = ", ".join(_thread_title(part.key, t) for part in _thread_parts(digest, t))
    if titles:
        if digest.suppressed:
            footer += " " + t.gettext("In the thread: {parts}.", parts=titles)
        else:
            footer += " " + t.gettext("In the thread: {parts} and the trend chart.", parts=titles)
    return footer


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


# ---------------------------------------------------------------- the thread


def digest_thread(digest: Digest, t: Translator | None = None) -> list[Post]:
    """Every reply of the thread, in order: each part over as many messages as it needs."""
    t = _reader(digest, t)
    posts: list[Post] = []
    for part in _thread_parts(digest, t):
        pages = paginate([part])
        for number_, page in enumerate(pages, start=1):
            text = t.gettext("Council digest {week} · {part}", week=digest.week, part=_thread_title(part.key, t))
            if len(pages) > 1:
                text += " " + t.gettext("({number} of {count})", number=t.integer(number_), count=t.integer(len(pages)))
            posts.append(Post(part.key, page.first_of(0), page.last_of(0), text, render(page.blocks)))
    return posts


def _thread_parts(digest: Digest, t: Translator) -> list[Part]:
    parts = [part for build in THREAD_PARTS if (part := build(digest, t)) is not None]
    # Lists the main post had to cut go first, whole.
    main = _main_parts(digest, t)
    pages = paginate(main, room=MAIN_RESERVE)
    shown = pages[0].shown if pages else {}
    whole = [part for index, part in enumerate(main) if len(shown.get(index, [])) < len(part.entries) and part.key not in SHOWN_WHOLE_IN]
    return [*whole, *parts]


def _thread_title(key: str, t: Translator) -> str:
    title = THREAD_TITLES.get(key)
    return t.gettext(title) if title is not None else key.replace("_", " ").capitalize()


def _teams(digest: Digest, t: Translator) -> Part | None:
    if digest.suppressed or not digest.groups:
        return None
    lines = [
        "• " + t.gettext(
            "{team}: {responded} answered ({rate}) · capability {capability} · hidden work {hours}",
            team=escape(g.label),
            responded=t.integer(g.responded),
            rate=percent(g.response_rate, t),
            capability="–" if g.capability is None else number(g.capability, t),
            hours=hours(g.hidden_hours, t=t),
        )
        for g in digest.groups
    ]
    title = t.gettext("*By team* (only groups large enough to stay anonymous)")
    return _part("teams", title, lines, t, noun=N_("teams"))


def _rollouts(digest: Digest, t: Translator) -> Part | None:
    if not digest.rollouts:
        return None
    entries: list[Entry] = []
    for rollout in digest.rollouts:
        entries.extend(_rollout(digest.week, rollout, t))
    title = t.gettext("*Rollouts* (a council member decides with the buttons)")
    return _continued(Part("rollouts", title, tuple(entries), noun=N_("rollouts")), t)


def _explainers(digest: Digest, t: Translator) -> Part | None:
    if not digest.explainers:
        return None
    lines = [f"• {escape(e.title)}: {t.integer(e.reached)} · {percent(e.helpful_share, t)}" for e in digest.explainers]
    return _part("explainers", t.gettext("*Explainers* (reach · helpful)"), lines, t, noun=N_("explainers"))


def _questions(digest: Digest, t: Translator) -> Part | None:
    if digest.suppressed or not digest.questions:
        return None
    lines = [f"• *{escape(q.text)}* — {escape(figure_text(q, t))}" for q in digest.questions]
    title = t.gettext("*Every question* (its latest week asked in these 12 weeks)")
    return _part("questions", title, lines, t, noun=N_("questions"))


def _open_questions(digest: Digest, t: Translator) -> Part | None:
    if not digest.open_questions:
        return None
    see = t.gettext("see the question")
    lines = [f"• _{escape(q.explainer)}_: {escape(q.text)} · <{q.link}|{see}>" for q in digest.open_questions if q.link]
    waiting = sum(1 for q in digest.open_questions if not q.link)
    if waiting:
        lines.append("• " + t.ngettext(
            "{n} more waits to be posted (shown once in the channel)",
            "{n} more wait to be posted (shown once in the channel)",
            waiting,
        ))
    title = t.gettext("*Open questions from explainers* this week")
    return _part("open_questions", title, lines, t, noun=N_("questions"))


THREAD_PARTS: tuple[Callable[[Digest, Translator], Part | None], ...] = (_questions, _teams, _rollouts, _explainers, _open_questions)
THREAD_TITLES = {
    "questions": N_("Every question"),
    "open_questions": N_("Open questions"),
    "teams": N_("By team"),
    "rollouts": N_("Rollouts"),
    "explainers": N_("Explainers"),
    "alerts": N_("Alerts"),
    "clarity_by_level": N_("Clarity by level"),
    "hidden_work": N_("Hidden AI work"),
    "scores": N_("Scores"),
    "pause_signals": N_("Pause signals"),
}


def _rollout(week: str, rollout: RolloutLine, t: Translator) -> list[Entry]:
    """A rollout and its decision buttons, kept in one message; a very long list of teams left
    out that week follows as lines of its own."""
    icon = ":octagonal_sign:" if rollout.pause_signal else ":large_green_circle:"
    decided = ""
    if rollout.last_decision is not None:
        d = rollout.last_decision
        decided = "\n" + t.gettext("Last decision: *{decision}* by {person}", decision=decision_label(d.decision, t), person=f"<@{d.decided_by}>")
    text = f"{icon} *{escape(rollout.name)}*\n{escape(rollout_line(rollout, t=t))}{decided}"
    after: list[Entry] = []
    if len(text) > SECTION_TEXT_MAX:
        below = t.gettext("teams not counted this week are listed below")
        text = f"{icon} *{escape(rollout.name)}*\n{escape(rollout_line(rollout, with_left_out=False, t=t))} · {below}{decided}"
        after = list(split_lines([f"{escape(rollout.name)}: {escape(left_out_line(rollout, t))}"]))
    buttons = ActionsBlock(
        block_id=f"decide:{rollout.rollout_id}",
        elements=[
            ButtonElement(
                text=decision_label(decision, t),
                action_id=f"{Action.DIGEST_DECISION}:{decision}",
                value=decision_value(rollout.rollout_id, week, decision),
                style="danger" if decision == "pause" else "primary" if decision == "continue" else None,
            )
            for decision in DECISIONS
        ],
    )
    section = SectionBlock(block_id=f"rollout:{rollout.rollout_id}", text=MarkdownTextObject(text=text))
    return [(section, buttons), *after]
