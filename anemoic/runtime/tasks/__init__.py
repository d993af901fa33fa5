"""Tasks: the time structure of a sample and how a batch becomes predictions and targets.

``TASKS`` is the registry the runtime builds ``plan.task`` through, keyed by the vocabulary
(``anemoic.plan.kinds.TaskKind``); adding a task is one module with a ``Task`` subclass and one entry.
"""

from anemoic.plan.kinds import TaskKind
from anemoic.runtime.tasks.autoencoder import AutoencoderTask
from anemoic.runtime.tasks.base import RolloutResult, Task
from anemoic.runtime.tasks.forecaster import ForecasterTask
from anemoic.runtime.tasks.spatial_downscaler import SpatialDownscalerTask
from anemoic.runtime.tasks.temporal_downscaler import TemporalDownscalerTask

TASKS: dict[TaskKind, type[Task]] = {"forecaster": ForecasterTask, "temporal_downscaler": TemporalDownscalerTask,
                                     "autoencoder": AutoencoderTask, "spatial_downscaler": SpatialDownscalerTask}

__all__ = ["TASKS", "AutoencoderTask", "ForecasterTask", "RolloutResult", "SpatialDownscalerTask", "Task",
           "TemporalDownscalerTask"]
