"""Stand-ins shared by the remote-job tests: a job's scripted states, and a caller's SIGTERM handler."""
from __future__ import annotations

import contextlib
import signal
from typing import Callable, Iterator


class ScriptedStates:
    """A remote job's states in the order its poller sees them; the last one repeats.

    ``polls`` counts the looks; ``on_poll(self)`` runs before each answer (to send SIGTERM at the
    second look, say). Subclasses give it the shape of the client they stand in for.
    """

    def __init__(self, states: list[str], on_poll: Callable[["ScriptedStates"], object] | None = None) -> None:
        self.states = list(states)
        self.on_poll = on_poll
        self.polls = 0

    def next_state(self) -> str:
        self.polls += 1
        if self.on_poll:
            self.on_poll(self)
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


@contextlib.contextmanager
def callers_sigterm_handler() -> Iterator[Callable]:
    """A SIGTERM handler of the caller's, in place while active; the original comes back afterwards.

    A test checks that a wait puts this one back (``signal.getsignal(signal.SIGTERM) is handler``).
    """
    def handler(signum, frame):
        raise AssertionError("the caller's handler ran")

    original = signal.signal(signal.SIGTERM, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGTERM, original)
