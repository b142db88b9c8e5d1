"""The trainer's seeded, evaluation-free run (what ``pipeline.py demo`` asks for through params_override)."""
import random
from types import SimpleNamespace

import numpy as np
import tensorflow as tf

from components.train import trainer
from components.train.model_garden import Runtime, build_params
from components.train.settings import Settings
from components.workflow.demo import local_arguments

BASE = dict(train_data="/d/train/*.tfrecord", eval_data="/d/eval/*.tfrecord", label_map="/d/label_map.pbtxt",
            model_dir="/m")


def params_with(override: str):
    return build_params(Settings.create("local", **BASE, params_override=override), Runtime("one_device"), 4, None)


def test_the_demo_override_seeds_the_run_and_turns_evaluation_off():
    sample = SimpleNamespace(project_id="p", run_definition_id="d", run_execution_id="e")
    params = params_with(local_arguments(sample, "http://127.0.0.1:1", "/b", 500)["params_override"])
    assert trainer.seed(params) == 0 and not trainer.evaluates(params)
    plain = params_with("")
    assert trainer.seed(plain) is None and trainer.evaluates(plain)


def test_a_seeded_task_builds_its_inputs_in_order_on_one_thread():
    task = SimpleNamespace(build_inputs=lambda params, input_context=None: tf.data.Dataset.range(8).map(
        lambda x: x + tf.random.uniform([], 0, 100, tf.int64), num_parallel_calls=tf.data.AUTOTUNE))
    trainer.make_deterministic(task, 7)
    expected = random.Random(7).random(), np.random.RandomState(7).rand()
    assert (random.random(), np.random.rand()) == expected
    dataset = task.build_inputs(None)
    options = dataset.options()
    assert options.deterministic is True and options.threading.private_threadpool_size == 1
    tf.keras.utils.set_random_seed(7)
    again = list(task.build_inputs(None).as_numpy_iterator())
    tf.keras.utils.set_random_seed(7)
    assert list(task.build_inputs(None).as_numpy_iterator()) == again
