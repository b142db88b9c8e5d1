"""The poller: its backoff, its last look at the deadline, and its log lines, on a clock the test moves."""
import pytest

from components.common.polling import DeadlineExceeded, wait_for


class Clock:
    """A monotonic clock that only ``sleep`` moves; it records every sleep."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def states(*values):
    """A fetch that answers ``values`` in order, then the last one again."""
    left = list(values)
    return lambda: left.pop(0) if len(left) > 1 else left[0]


def test_the_interval_backs_off_to_its_cap_and_the_result_comes_back():
    clock = Clock()
    result = wait_for(states("a", "a", "a", "a", "a", "done"), lambda s: s == "done", what="job",
                      interval=10, max_interval=30, backoff=2, timeout=1000, sleep=clock.sleep, clock=clock)
    assert result == "done" and clock.sleeps == [10, 20, 30, 30, 30]


def test_the_last_sleep_is_cut_to_the_deadline_then_one_last_look_is_made():
    clock = Clock()
    looks = []

    def fetch():
        looks.append(clock.now)
        return "running"

    with pytest.raises(DeadlineExceeded, match=r"job 7: still running after 25 s \(deadline 25 s\)"):
        wait_for(fetch, lambda s: False, what="job 7", interval=10, max_interval=10, timeout=25,
                 sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [10, 10, 5] and looks == [0, 10, 20, 25]


def test_a_state_that_turns_up_at_the_deadline_still_counts():
    clock = Clock()
    result = wait_for(states("running", "running", "done"), lambda s: s == "done", what="job", interval=10,
                      timeout=15, sleep=clock.sleep, clock=clock)
    assert result == "done" and clock.now == 15


def test_only_state_changes_are_logged_with_the_elapsed_time(caplog):
    clock = Clock()
    caplog.set_level("INFO", logger="components.common.polling")
    wait_for(states("queued", "queued", "running", "running", "done"), lambda s: s == "done", what="job 7",
             interval=5, backoff=1, sleep=clock.sleep, clock=clock)
    assert caplog.messages == ["job 7: queued (after 0 s)", "job 7: running (after 10 s)", "job 7: done (after 20 s)"]


def test_describe_names_the_state_of_a_richer_result(caplog):
    clock = Clock()
    caplog.set_level("INFO", logger="components.common.polling")
    answers = states({"status": "active", "files": 1}, {"status": "active", "files": 2}, {"status": "success"})
    result = wait_for(answers, lambda r: r["status"] == "success", what="transfer", interval=1,
                      describe=lambda r: r["status"], sleep=clock.sleep, clock=clock)
    assert result == {"status": "success"}
    assert [m.split(" (")[0] for m in caplog.messages] == ["transfer: active", "transfer: success"]
