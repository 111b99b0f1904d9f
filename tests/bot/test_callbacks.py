"""The button codec: what `encode` makes, `decode` reads back, and `pattern` lets through."""

from __future__ import annotations

import pytest

from bot.callbacks import Action, decode, encode, pattern


def test_a_pattern_of_several_actions_takes_each_of_them_and_nothing_else() -> None:
    buttons = pattern(Action.ANNOUNCE, Action.FULL)
    assert buttons.match(encode(Action.ANNOUNCE, 7))
    assert buttons.match(encode(Action.FULL, 12, 3))
    assert not buttons.match(encode(Action.SUMMARY, 7))
    assert not buttons.match("a:7:1")  # the right action with the wrong arity
    assert not buttons.match("f:12")
    assert not buttons.match(encode(Action.FULL, 12, 3) + "x")


def test_a_pattern_needs_an_action() -> None:
    with pytest.raises(ValueError):
        pattern()


@pytest.mark.parametrize("action", list(Action))
def test_every_action_round_trips_through_its_pattern(action: Action) -> None:
    arity = {Action.FULL: 2, Action.DIRECTIVES: 2, Action.SEARCH: 2, Action.SUBSCRIBE: 0}.get(action, 1)
    data = encode(action, *range(1, arity + 1))
    assert pattern(action).match(data)
    assert decode(data).action is action
