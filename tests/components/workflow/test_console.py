import io

from components.workflow.console import Steps, TaskLog

CYAN, GREEN, RED, RESET = "\033[96m", "\033[92m", "\033[91m", "\033[0m"


def runner_output(task: str, status: str = "SUCCESS", lines: tuple[str, ...] = ()) -> str:
    """What the KFP local runner writes for one task, colours included."""
    return (f"23:26:54.838 - INFO - Executing task {CYAN}'{task}'{RESET}\n"
            "23:26:54.838 - INFO - Streamed logs:\n\n"
            + "".join(f"    {line}\n" for line in lines)
            + f"23:26:56.280 - INFO - Task {CYAN}'{task}'{RESET} finished with status "
              f"{GREEN if status == 'SUCCESS' else RED}{status}{RESET}\n")


def test_each_task_is_one_console_line_and_everything_goes_to_the_log():
    console, log = io.StringIO(), io.StringIO()
    steps = Steps(console, total=3)
    stream = TaskLog(log, steps, {"convert": "Convert to TFRecords", "train": "Train RetinaNet"}, max_steps=500)
    text = (runner_output("convert", lines=('{"inputs": {"parameterValues": {}}}',))
            + runner_output("train", lines=("train | step:    100 | steps/sec: 2.1", "train | step:    500 |"))
            + runner_output("evaluate"))
    for start in range(0, len(text), 7):  # the runner's output arrives in pieces
        stream.write(text[start:start + 7])
    lines = console.getvalue().splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "[1/3] Convert to TFRecords", "[2/3] Train RetinaNet: 500/500 steps", "[3/3] evaluate"]
    assert all(line.endswith(" s") and "\x1b" not in line for line in lines)
    assert log.getvalue() == text
    assert "parameterValues" not in console.getvalue()


def test_a_failed_task_says_so():
    console = io.StringIO()
    steps = Steps(console, total=2)
    TaskLog(io.StringIO(), steps, {}, max_steps=10).write(runner_output("transfer", "FAILURE"))
    assert console.getvalue().startswith("[1/2] transfer") and "FAILED after" in console.getvalue()


def test_a_terminal_sees_the_running_step_updated_in_place():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    console = Terminal()
    steps = Steps(console, total=1)
    stream = TaskLog(io.StringIO(), steps, {}, max_steps=500)
    stream.write("Executing task 'train'\n    train | step:    100 |\n")
    assert "\r\x1b[K[1/1] train: step 100/500" in console.getvalue()
    steps.finish()
    assert console.getvalue().endswith(" s\n") and console.getvalue().count("\n") == 1
