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
from dataclasses import dataclass
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

from bot.reports.digest_model import DECISION_LABELS, DECISIONS, Digest, RolloutLine
from bot.reports.questions import figure_text
from bot.reports.text import (
    ai_time_line,
    hours,
    left_out_line,
    level_line,
    participation_line,
    percent,
    rollout_line,
    score_line,
    suppressed_line,
)
from bot.slack.blocks.common import escape, parse_id, render
from bot.slack.blocks.layout import SECTION_TEXT_MAX, Entry, Part, Room, paginate, split_lines
from bot.slack.ids import Action

MAIN = "main"  # the part name of the main post
# Room the main post keeps for its header, participation, notes and footer around the parts.
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


def digest_text(digest: Digest) -> str:
    return f"Council digest for {digest.week}: {participation_line(digest)}"


# ---------------------------------------------------------------- the main post


def digest_main(digest: Digest) -> Post:
    """The main post: one message, whatever the size of the organisation."""
    parts = _main_parts(digest)
    pages = paginate(parts, room=MAIN_RESERVE)
    page = pages[0] if pages else None
    blocks: list[Block] = [
        HeaderBlock(text=f"Council digest · {digest.week}"),
        SectionBlock(text=MarkdownTextObject(text=f"*Participation* · {participation_line(digest)}")),
    ]
    if digest.suppressed:
        blocks.append(_note(suppressed_line(digest)))
    if page is not None:
        blocks.extend(page.blocks)
    cut = [note for index, part in enumerate(parts) if (note := _cut_note(part, page.shown.get(index, []) if page else []))]
    if cut:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(cut))))
    blocks.append(_note(_footer(digest)))
    return Post(MAIN, 0, 0, digest_text(digest), render(blocks))


def _main_parts(digest: Digest) -> list[Part]:
    parts: list[Part] = []
    if not digest.suppressed:
        parts.append(Part.of_lines("scores", "*Scores* (mean · favourable · change · 8 weeks)", [f"• {score_line(s)}" for s in digest.scores], noun="scores"))
        parts.append(Part.of_lines("ai_time", "", [ai_time_line(digest)]))
        if digest.hidden_hours:
            hidden = [f"• {escape(label)}: {value:.1f} h" for label, value in digest.hidden_hours]
            parts.append(Part.of_lines("hidden_work", "*Hidden AI work logged*", hidden, noun="categories"))
        if digest.clarity_by_level:
            levels = [f"• {escape(level_line(level))}" for level in digest.clarity_by_level]
            parts.append(Part.of_lines("clarity_by_level", "*Clarity by level*", levels, noun="levels"))
    if digest.rollouts:
        signals = [
            f"• :octagonal_sign: *{escape(r.name)}*: {escape('; '.join(r.reasons))}" for r in digest.rollouts if r.pause_signal
        ]
        parts.append(Part.of_lines("pause_signals", "*Pause signals*", signals or ["None this week."], noun="rollouts with a pause signal"))
    alerts = [f"• :warning: {escape(alert)}" for alert in digest.alerts]
    parts.append(Part.of_lines("alerts", "*Alerts*", alerts or ["None this week."], noun="alerts"))
    return parts


def _cut_note(part: Part, shown: Sequence[int]) -> str | None:
    """What the main post could not hold of a part, said where the part would go on."""
    if len(shown) == len(part.entries):
        return None
    name = _thread_title(part.key)
    where = _thread_title(SHOWN_WHOLE_IN.get(part.key, part.key))
    whole = part.items_through(len(shown))  # the main post shows a part from its first entry on
    return f":arrow_down: {name}: {whole} of {part.item_count} {part.noun} shown here; all of them are under *{where}* in the thread."


def _footer(digest: Digest) -> str:
    asked = len(digest.open_questions)
    footer = (
        f"Open questions from explainers: {'none' if not asked else f'{asked}, listed in the thread'}. "
        f"No figure covers fewer than {digest.min_group_size} people, nor lets one be worked out."
    )
    titles = [_thread_title(part.key) for part in _thread_parts(digest)]
    if titles:
        footer += " In the thread: " + ", ".join(titles) + (" and the trend chart." if not digest.suppressed else ".")
    return footer


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


# ---------------------------------------------------------------- the thread


def digest_thread(digest: Digest) -> list[Post]:
    """Every reply of the thread, in order: each part over as many messages as it needs."""
    posts: list[Post] = []
    for part in _thread_parts(digest):
        pages = paginate([part])
        for number, page in enumerate(pages, start=1):
            count = f" ({number} of {len(pages)})" if len(pages) > 1 else ""
            text = f"Council digest {digest.week} · {_thread_title(part.key)}{count}"
            posts.append(Post(part.key, page.first_of(0), page.last_of(0), text, render(page.blocks)))
    return posts


def _thread_parts(digest: Digest) -> list[Part]:
    parts = [part for build in THREAD_PARTS if (part := build(digest)) is not None]
    # Lists the main post had to cut go first, whole.
    main = _main_parts(digest)
    pages = paginate(main, room=MAIN_RESERVE)
    shown = pages[0].shown if pages else {}
    whole = [part for index, part in enumerate(main) if len(shown.get(index, [])) < len(part.entries) and part.key not in SHOWN_WHOLE_IN]
    return [*whole, *parts]


def _thread_title(key: str) -> str:
    return THREAD_TITLES.get(key, key.replace("_", " ").capitalize())


def _teams(digest: Digest) -> Part | None:
    if digest.suppressed or not digest.groups:
        return None
    lines = [
        f"• {escape(g.label)}: {g.responded} answered ({percent(g.response_rate)}) · capability "
        f"{'–' if g.capability is None else f'{g.capability:.1f}'} · hidden work {hours(g.hidden_hours)}"
        for g in digest.groups
    ]
    return Part.of_lines("teams", "*By team* (only groups large enough to stay anonymous)", lines, noun="teams")


def _rollouts(digest: Digest) -> Part | None:
    if not digest.rollouts:
        return None
    entries: list[Entry] = []
    for rollout in digest.rollouts:
        entries.extend(_rollout(digest.week, rollout))
    return Part("rollouts", "*Rollouts* (a council member decides with the buttons)", tuple(entries), noun="rollouts")


def _explainers(digest: Digest) -> Part | None:
    if not digest.explainers:
        return None
    lines = [f"• {escape(e.title)}: {e.reached} · {percent(e.helpful_share)}" for e in digest.explainers]
    return Part.of_lines("explainers", "*Explainers* (reach · helpful)", lines, noun="explainers")


def _questions(digest: Digest) -> Part | None:
    if digest.suppressed or not digest.questions:
        return None
    lines = [f"• *{escape(q.text)}* — {escape(figure_text(q))}" for q in digest.questions]
    return Part.of_lines("questions", "*Every question* (its latest week asked in these 12 weeks)", lines, noun="questions")


def _open_questions(digest: Digest) -> Part | None:
    if not digest.open_questions:
        return None
    lines = [f"• _{escape(q.explainer)}_: {escape(q.text)} · <{q.link}|see the question>" for q in digest.open_questions if q.link]
    waiting = sum(1 for q in digest.open_questions if not q.link)
    if waiting:
        lines.append(f"• {waiting} more {'waits' if waiting == 1 else 'wait'} to be posted (shown once in the channel)")
    return Part.of_lines("open_questions", "*Open questions from explainers* this week", lines, noun="questions")


THREAD_PARTS: tuple[Callable[[Digest], Part | None], ...] = (_questions, _teams, _rollouts, _explainers, _open_questions)
THREAD_TITLES = {
    "questions": "Every question",
    "open_questions": "Open questions",
    "teams": "By team",
    "rollouts": "Rollouts",
    "explainers": "Explainers",
    "alerts": "Alerts",
    "clarity_by_level": "Clarity by level",
    "hidden_work": "Hidden AI work",
}


def _rollout(week: str, rollout: RolloutLine) -> list[Entry]:
    """A rollout and its decision buttons, kept in one message; a very long list of teams left
    out that week follows as lines of its own."""
    icon = ":octagonal_sign:" if rollout.pause_signal else ":large_green_circle:"
    decided = ""
    if rollout.last_decision is not None:
        d = rollout.last_decision
        decided = f"\nLast decision: *{DECISION_LABELS[d.decision]}* by <@{d.decided_by}>"
    text = f"{icon} *{escape(rollout.name)}*\n{escape(rollout_line(rollout))}{decided}"
    after: list[Entry] = []
    if len(text) > SECTION_TEXT_MAX:
        text = f"{icon} *{escape(rollout.name)}*\n{escape(rollout_line(rollout, with_left_out=False))} · teams not counted this week are listed below{decided}"
        after = list(split_lines([f"{escape(rollout.name)}: {escape(left_out_line(rollout))}"]))
    buttons = ActionsBlock(
        block_id=f"decide:{rollout.rollout_id}",
        elements=[
            ButtonElement(
                text=DECISION_LABELS[decision],
                action_id=f"{Action.DIGEST_DECISION}:{decision}",
                value=decision_value(rollout.rollout_id, week, decision),
                style="danger" if decision == "pause" else "primary" if decision == "continue" else None,
            )
            for decision in DECISIONS
        ],
    )
    section = SectionBlock(block_id=f"rollout:{rollout.rollout_id}", text=MarkdownTextObject(text=text))
    return [(section, buttons), *after]
