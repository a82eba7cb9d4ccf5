"""Keyed pseudonyms and sealed values, and the tree rule of versions before the weekly release.

Answers are stored under a per-week pseudonym (an HMAC of the week and the Slack user id, keyed
with a key derived from a server-side secret), sealed with another derived key, never next to
the id itself, so a database dump alone does not say who answered what.

Which figures may be shown is decided once per week by the release (`bot/release/rule.py`,
`bot/release/families.py`). `plan_disclosure` below is the rule of the versions before it: the
upgrade to the release (migration 0008, `bot/release/legacy.py`) uses it to release old weeks
with nothing more than what they already showed, and nothing else does.

The old tree rule, in plain words
-------------------------
* No figure covers fewer than `min_size` respondents (default 5, never below 3).
* A reader who sees several figures can subtract them: a parent minus its shown children, the
  total minus every shown team, "other teams" plus the shown teams against the total. So the
  shown figures are chosen as a nested family (a team's figure covers its whole subtree) in
  which every piece a reader can isolate by subtraction (an *atom*: a shown group minus the shown
  groups directly inside it, or the total minus the top-level shown groups and the fold) holds
  either nobody or at least `min_size` respondents. When an atom would be small, the engine
  stops showing the smallest team directly inside it that carries people of its own (ties
  broken by path): that team's people then count only in the parent, which makes the parent's
  remainder safe. It never suppresses the parent instead, which would only push the small
  remainder one level up. A plan is settled bottom-up, so it never undoes an earlier decision.
* Teams that cannot be shown may be folded into one "other teams" group, only when the fold
  holds at least `min_size` respondents and what is left out of every team-level figure (but
  still in the total) is nobody or at least `min_size` respondents. Otherwise they are left out.
* When the total would leave a small remainder, a further top-level team is suppressed the same
  way: the organisation-wide figure is the headline of the digest, so it is the last thing to
  go. The total is hidden only when fewer than `min_size` people answered at all.
* Any part of a plan is as safe as the whole (leaving a figure out merges two safe atoms into
  one), so a report may show fewer figures than allowed, never others.
* Week over week (`previous` = last week's respondents per team): each week's figures are over
  that week's answers, so subtracting last week's figure from this week's never yields anybody's
  answer exactly. It does point at the few people who joined or left, when answers are stable.
  So a "change from last week" is offered only for a group shown in both weeks (else the change
  would reveal last week's suppressed figure) whose respondent count changed by 0 or by at least
  `min_size`; "other teams" never carries a change (its membership is ours to choose, so its
  change would mix composition with opinion), and it is not shown at all when the teams in it
  changed since last week by a handful (1 to `min_size` - 1) of respondents, unless leaving it
  out would force hiding a further team. History never hides a team or the total: if it did,
  last week's real plan would depend on the week before and so on, and a change figure could
  then reveal a figure that was suppressed back then. Only the fold may be dropped.
* A manager's summary (`scope`) is the organisation-wide plan restricted to the manager's
  subtree, never a plan of its own: two independently safe reports can together be unsafe, and
  a restriction of one safe plan cannot.
* Free-text comments: only for a group of at least `min_size` respondents, and never with a team
  label, so that a comment cannot be traced to a small team by its wording plus its label.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import WrongKey

MIN_GROUP_FLOOR: Final = 3
"""Below this no threshold protects anybody; configuration forbids it too."""

NO_TEAM: Final = ""
"""Key in `respondents` for respondents without a team (their team was deleted). The database
forbids an empty team path, so the key cannot collide. They count in the total only."""

OTHER_TEAMS_LABEL: Final = "Other teams"


def pseudonym(key: bytes, slack_user_id: str) -> str:
    """The pseudonym of versions before 0009 (one per person for ever): only the upgrade uses it."""
    return hmac.new(key, slack_user_id.encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- keys, pseudonyms and sealing
#
# Each use gets its own key, derived from PULSE_PSEUDONYM_KEY with HKDF (one `info` per use), so
# a key that leaks from one use opens nothing else. Pseudonyms are per week (per explainer for
# ratings): the same person's answers in two weeks share nothing a dump could join on. What a
# person answered is sealed (AES-GCM) with the row's week and pseudonym as associated data, so a
# sealed value cannot be moved to another row and still open.

_PSEUDONYMS: Final = b"rollout-pulse/pseudonyms/v1"
_SEALS: Final = b"rollout-pulse/sealed/v1"
_NONCE: Final = 12


@functools.lru_cache(maxsize=8)
def _derived(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def week_pseudonym(secret: bytes, week: str, slack_user_id: str) -> str:
    """The person's pseudonym in one ISO week: what their answers and reports of it are filed under."""
    message = f"week\x00{week}\x00{slack_user_id}".encode("utf-8")
    return hmac.new(_derived(secret, _PSEUDONYMS), message, hashlib.sha256).hexdigest()


def explainer_pseudonym(secret: bytes, explainer_key: str, slack_user_id: str) -> str:
    """The person's pseudonym for one explainer: what their rating of it is filed under."""
    message = f"explainer\x00{explainer_key}\x00{slack_user_id}".encode("utf-8")
    return hmac.new(_derived(secret, _PSEUDONYMS), message, hashlib.sha256).hexdigest()


def key_fingerprint(secret: bytes) -> str:
    """What the database keeps to tell whether a later PULSE_PSEUDONYM_KEY is the same one.

    A different key finds nobody's answers (their pseudonyms do not match) rather than failing,
    and a week released with it would stay empty for ever; the fingerprint catches that first.
    """
    return hmac.new(_derived(secret, b"rollout-pulse/fingerprint/v1"), b"rollout-pulse", hashlib.sha256).hexdigest()


def random_pseudonym() -> str:
    """A pseudonym nobody's id leads to: for rows whose person has left the roster."""
    return secrets.token_hex(32)


def random_id() -> str:
    """A row id that says nothing about when the row was written (128 random bits)."""
    return secrets.token_hex(16)


def seal(secret: bytes, payload: Mapping[str, Any], *, context: str) -> bytes:
    """`payload` as JSON, encrypted and authenticated; `context` (table, week, pseudonym) binds it to its row."""
    nonce = secrets.token_bytes(_NONCE)
    plain = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return nonce + AESGCM(_derived(secret, _SEALS)).encrypt(nonce, plain, context.encode("utf-8"))


def unseal(secret: bytes, sealed: bytes, *, context: str) -> dict[str, Any]:
    """What `seal` sealed; raises WrongKey for a value sealed under another key or for another row."""
    try:
        plain = AESGCM(_derived(secret, _SEALS)).decrypt(bytes(sealed[:_NONCE]), bytes(sealed[_NONCE:]), context.encode("utf-8"))
    except InvalidTag:
        raise WrongKey(
            f"stored {context.split(':')[0].replace('_', ' ')} do not open with this PULSE_PSEUDONYM_KEY: "
            "set the key they were stored with"
        ) from None
    value = json.loads(plain)
    assert isinstance(value, dict)
    return value


def large_enough(respondents: int, min_group_size: int) -> bool:
    """Whether an aggregate over this many respondents may be shown at all."""
    return respondents >= min_group_size


def may_show(respondents: int, min_size: int) -> bool:
    """Whether one figure over `respondents` may be shown, taken alone.

    Enough only for a figure that nothing else shown can be subtracted from (one explainer's
    helpfulness, say). Figures for several overlapping groups go through `plan_disclosure`.
    """
    _check_min_size(min_size)
    return large_enough(respondents, min_size)


def comments_allowed(respondents: int, min_size: int) -> bool:
    """Whether the free-text comments of a group of `respondents` may be shown.

    `respondents` counts everyone who answered in the group, not only those who wrote a comment.
    Comments must never carry a team label (or any other label narrower than the group they are
    pooled over): wording plus a label is how an author is recognised.
    """
    return may_show(respondents, min_size)


def _check_min_size(min_size: int) -> None:
    if min_size < MIN_GROUP_FLOOR:
        raise ValueError(f"min_size must be at least {MIN_GROUP_FLOOR}, got {min_size}")


# ---------------------------------------------------------------- the disclosure plan


@dataclass(frozen=True)
class Disclosure:
    """Which group figures a report may show.

    A team's figure always covers its whole subtree. Every team of the plan (in a scoped plan:
    every team strictly below the scope) is in exactly one of `shown`, `other_teams`, `hidden`,
    or is *covered*: inside the subtree of a shown or folded team without being shown itself,
    so its people count in that figure and nowhere on their own. `hidden` teams' own people
    appear in no team-level figure (they may still count in the total).

    `delta_allowed` (a subset of `shown`) and `total_delta_allowed` say where a "change from
    last week" may be shown; both are empty without `previous`. "Other teams" never has one.
    """

    shown: frozenset[str]
    other_teams: frozenset[str]
    hidden: frozenset[str]
    total_shown: bool
    delta_allowed: frozenset[str] = frozenset()
    total_delta_allowed: bool = False

    def label(self, path: str) -> str:
        """The label under which a team's people appear; a suppressed team has none."""
        if path in self.shown:
            return path
        if path in self.other_teams:
            return OTHER_TEAMS_LABEL
        raise LookupError(f"no figure may be shown for team {path!r}")


def plan_disclosure(
    parents: Mapping[str, str | None],
    respondents: Mapping[str, int],
    min_size: int,
    *,
    scope: str | None = None,
    previous: Mapping[str, int] | None = None,
) -> Disclosure:
    """Decide which team figures, which "other teams" fold and whether the total may be shown.

    `parents` maps every team path to its parent path (None at the top). `respondents` maps a
    team to the respondents whose team is exactly that team (missing means 0; `NO_TEAM` for
    respondents without a team). `scope` restricts the plan to that team's subtree, whose own
    figure is then the "total". `previous` holds last week's respondents, same shape.
    The rules are in this module's docstring.
    """
    _check_min_size(min_size)
    if scope is not None and scope not in parents:
        raise ValueError(f"unknown scope team {scope!r}")
    org = _Org.build(parents, respondents)
    plan = _plan_organisation(org, min_size)
    if previous is not None:
        before = _Org.build(parents, previous)
        plan = _with_week_over_week(org, plan, before, _plan_organisation(before, min_size), min_size)
    return plan.disclosure(org, scope)


# ---------------------------------------------------------------- the organisation tree


@dataclass(frozen=True)
class _Org:
    parent: Mapping[str, str | None]
    children: Mapping[str | None, tuple[str, ...]]
    own: Mapping[str, int]
    subtree: Mapping[str, int]
    depth: Mapping[str, int]
    without_team: int

    @property
    def total(self) -> int:
        return sum(self.own.values()) + self.without_team

    @staticmethod
    def build(parents: Mapping[str, str | None], respondents: Mapping[str, int]) -> _Org:
        _check_tree(parents)
        _check_counts(parents, respondents)
        children: dict[str | None, list[str]] = {}
        for team in sorted(parents):
            children.setdefault(parents[team], []).append(team)
        own = {team: respondents.get(team, 0) for team in parents}
        depth: dict[str, int] = {}
        subtree: dict[str, int] = {}
        order = _top_down(children)
        for team in order:
            above = parents[team]
            depth[team] = 0 if above is None else depth[above] + 1
        for team in reversed(order):
            subtree[team] = own[team] + sum(subtree[child] for child in children.get(team, ()))
        return _Org(
            parent=dict(parents),
            children={key: tuple(value) for key, value in children.items()},
            own=own,
            subtree=subtree,
            depth=depth,
            without_team=respondents.get(NO_TEAM, 0),
        )

    def below(self, team: str | None) -> tuple[str, ...]:
        return self.children.get(team, ())

    def descendants(self, team: str | None) -> Iterator[str]:
        for child in self.below(team):
            yield child
            yield from self.descendants(child)

    def ancestors(self, team: str) -> Iterator[str]:
        above = self.parent[team]
        while above is not None:
            yield above
            above = self.parent[above]


def _check_tree(parents: Mapping[str, str | None]) -> None:
    for team, above in parents.items():
        if team == NO_TEAM:
            raise ValueError("a team path may not be empty")
        if above is not None and above not in parents:
            raise ValueError(f"team {team!r} has unknown parent {above!r}")
    for team in parents:
        seen = {team}
        above = parents[team]
        while above is not None:
            if above in seen:
                raise ValueError(f"team {team!r} is its own ancestor")
            seen.add(above)
            above = parents[above]


def _check_counts(parents: Mapping[str, str | None], respondents: Mapping[str, int]) -> None:
    for team, count in respondents.items():
        if team != NO_TEAM and team not in parents:
            raise ValueError(f"respondents for unknown team {team!r}")
        if count < 0:
            raise ValueError(f"negative respondent count for team {team!r}")


def _top_down(children: Mapping[str | None, list[str]]) -> list[str]:
    order: list[str] = []
    pending = list(children.get(None, ()))
    while pending:
        team = pending.pop()
        order.append(team)
        pending.extend(children.get(team, ()))
    return order


def _safe(atom: int, min_size: int) -> bool:
    # Nobody, or enough people: an isolable group of zero reveals nothing about anyone.
    return atom == 0 or atom >= min_size


# ---------------------------------------------------------------- the plan itself


@dataclass(frozen=True)
class _Plan:
    shown: frozenset[str]
    fold: frozenset[str]
    total_shown: bool
    delta_allowed: frozenset[str] = frozenset()
    total_delta_allowed: bool = False

    def disclosure(self, org: _Org, scope: str | None) -> Disclosure:
        teams = set(org.parent) if scope is None else set(org.descendants(scope))
        shown = self.shown & teams
        # Across the scope boundary the fold is a different group; inside it, it is the same one.
        fold = self.fold if self.fold <= teams else frozenset()
        return Disclosure(
            shown=frozenset(shown),
            other_teams=fold,
            hidden=frozenset(_left_out(org, teams, shown | fold)),
            total_shown=self.total_shown if scope is None else scope in self.shown,
            delta_allowed=frozenset(self.delta_allowed & shown),
            total_delta_allowed=(
                self.total_delta_allowed if scope is None else scope in self.delta_allowed
            ),
        )


def _left_out(org: _Org, teams: set[str], claimed: frozenset[str] | set[str]) -> Iterator[str]:
    for team in teams:
        if team in claimed:
            continue
        if not any(above in claimed for above in org.ancestors(team) if above in teams):
            yield team


def _plan_organisation(org: _Org, min_size: int) -> _Plan:
    shown = {team for team in org.parent if org.subtree[team] >= min_size}
    for team in sorted(shown, key=lambda t: (-org.depth[t], t)):
        if team in shown:
            _settle_team(org, shown, team, min_size)
    fold, total_shown = _settle_total(org, shown, min_size)
    return _Plan(frozenset(shown), fold, total_shown)


def _inner(org: _Org, shown: set[str] | frozenset[str], team: str | None) -> Iterator[str]:
    """The shown teams directly inside `team`'s figure: shown, with no shown team in between."""
    for child in org.below(team):
        if child in shown:
            yield child
        else:
            yield from _inner(org, shown, child)


def _atom(org: _Org, shown: set[str], team: str) -> int:
    return org.subtree[team] - sum(org.subtree[inner] for inner in _inner(org, shown, team))


def _settle_team(org: _Org, shown: set[str], team: str, min_size: int) -> None:
    """Make `team`'s atom safe; the teams inside it are settled already (we go bottom-up)."""
    while not _safe(_atom(org, shown, team), min_size):
        _give_up_one_inner(org, shown, team)


def _settle_total(org: _Org, shown: set[str], min_size: int) -> tuple[frozenset[str], bool]:
    """Choose the fold and whether the total shows, hiding further top-level teams if needed."""
    if org.total < min_size:
        return frozenset(), False
    while True:
        foldable = _foldable(org, shown)
        # What stays in the remainder whatever we fold: people of teams with a shown team inside.
        base = _remainder(org, shown) - sum(org.subtree[t] for t in foldable)
        fold = _choose_fold(org, foldable, base, min_size)
        if fold and shown:  # with no team shown, "other teams" would only repeat the total
            return fold, True
        if _safe(_remainder(org, shown), min_size):
            return frozenset(), True
        # The total is the headline of the digest, so a team goes before it does.
        _give_up_one_inner(org, shown, None)


def _give_up_one_inner(org: _Org, shown: set[str], team: str | None) -> None:
    """Stop showing one team directly inside `team` (None: the total), so its atom merges in.

    Prefer the smallest team that brings people of its own: its atom is >= min_size, so one
    such team always makes the merged atom safe. Suppressing the parent instead would only
    push the small atom upward. A team without people of its own (its figure is the sum of its
    children's) adds nothing when merged, but giving it up costs nothing either and brings its
    children within reach, so it goes when nothing else can.
    """
    inner = list(_inner(org, shown, team))
    donors = [t for t in inner if _atom(org, shown, t) > 0] or inner
    shown.discard(min(donors, key=lambda t: (org.subtree[t], t)))


def _remainder(org: _Org, shown: set[str] | frozenset[str]) -> int:
    """Respondents in the total but in no shown team's figure (the fold not yet taken out)."""
    return org.without_team + sum(org.own[t] for t in _unclaimed(org, shown))


def _unclaimed(org: _Org, shown: set[str] | frozenset[str]) -> Iterator[str]:
    """Teams in no shown team's figure: neither shown nor below a shown team."""
    for team in org.below(None):
        yield from _unclaimed_from(org, shown, team)


def _unclaimed_from(org: _Org, shown: set[str] | frozenset[str], team: str) -> Iterator[str]:
    if team in shown:
        return
    yield team
    for child in org.below(team):
        yield from _unclaimed_from(org, shown, child)


def _foldable(org: _Org, shown: set[str]) -> list[str]:
    """Largest unclaimed subtrees with nobody shown inside, that have respondents.

    Folding only whole subtrees with no shown team above or inside keeps the fold disjoint from
    every shown figure, so the family stays nested and its atoms are all a reader can isolate.
    """
    unclaimed = set(_unclaimed(org, shown))
    has_shown_inside = {team for team in unclaimed if any(d in shown for d in org.descendants(team))}
    roots = [
        team
        for team in unclaimed
        if team not in has_shown_inside
        and (org.parent[team] is None or org.parent[team] in has_shown_inside)
        and org.subtree[team] > 0
    ]
    return sorted(roots, key=lambda t: (org.subtree[t], t))


def _choose_fold(org: _Org, foldable: list[str], base: int, min_size: int) -> frozenset[str]:
    """The largest fold that leaves a safe remainder, or nothing when it would be too small."""
    need = 0 if _safe(base, min_size) else min_size - base
    left_out = _smallest_sum_at_least([org.subtree[t] for t in foldable], need)
    if left_out is None:
        return frozenset()
    fold = frozenset(t for i, t in enumerate(foldable) if i not in left_out)
    return fold if sum(org.subtree[t] for t in fold) >= min_size else frozenset()


def _smallest_sum_at_least(sizes: list[int], need: int) -> frozenset[int] | None:
    """Indices of a subset of `sizes` with the smallest sum >= need (deterministic), or None."""
    best: dict[int, frozenset[int]] = {0: frozenset()}
    for index, size in enumerate(sizes):
        for reached, chosen in list(best.items()):
            # Growing a subset that already suffices can only make the sum worse.
            if reached < need and reached + size not in best:
                best[reached + size] = chosen | {index}
    enough = [reached for reached in best if reached >= need]
    return best[min(enough)] if enough else None


# ---------------------------------------------------------------- week over week


@dataclass(frozen=True)
class _FoldHistory:
    """Last week's fold, to tell how much this week's fold changed in membership."""

    covered: frozenset[str]
    own: Mapping[str, int]

    def allows(self, org: _Org, fold: Iterable[str], min_size: int) -> bool:
        if not self.covered:
            return True  # no "other teams" last week: nothing to compare this week's with
        covered = _covered(org, fold)
        churn = sum(org.own[t] for t in covered - self.covered)
        churn += sum(self.own[t] for t in self.covered - covered)
        return _safe(churn, min_size)


def _covered(org: _Org, roots: Iterable[str]) -> frozenset[str]:
    return frozenset(t for root in roots for t in (root, *org.descendants(root)))


def _with_week_over_week(org: _Org, plan: _Plan, before: _Org, last_week: _Plan, min_size: int) -> _Plan:
    """Add the change-from-last-week permissions, and drop a fold whose membership churned.

    Only the fold may differ from the plan this week's counts alone give, and only by being
    dropped: were history to hide teams or the total, last week's real plan would depend on the
    week before, and so on, and a change figure could then reveal a figure once suppressed.
    """
    fold = plan.fold
    history = _FoldHistory(_covered(before, last_week.fold), before.own)
    # Dropping is done only when it needs nothing else hidden; see the module docstring.
    if fold and not history.allows(org, fold, min_size) and _safe(_remainder(org, plan.shown), min_size):
        fold = frozenset()
    delta_allowed = frozenset(
        team
        for team in plan.shown & last_week.shown
        if _safe(abs(org.subtree[team] - before.subtree[team]), min_size)
    )
    total_delta = (
        plan.total_shown and last_week.total_shown and _safe(abs(org.total - before.total), min_size)
    )
    return _Plan(plan.shown, fold, plan.total_shown, delta_allowed, total_delta)
