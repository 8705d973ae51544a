"""Callbacks: objects whose hooks ``fit``, ``evaluate`` and ``predict`` call."""
from .._lazy import lazy_names
from .callback import Callback, CallbackList
from .history import History
from .progbar_logger import ProgbarLogger

# what every fit uses is above; the rest loads at first use (BackupAndRestore and ModelCheckpoint
# bring in the saving code and zipfile, ~30 ms of building a first model otherwise)
__getattr__, __dir__ = lazy_names(__name__, {
    "BackupAndRestore": "backup_and_restore", "CSVLogger": "csv_logger", "EarlyStopping": "early_stopping",
    "LambdaCallback": "lambda_callback", "LearningRateScheduler": "learning_rate_scheduler",
    "ModelCheckpoint": "model_checkpoint", "ReduceLROnPlateau": "reduce_lr_on_plateau",
    "SwapEMAWeights": "swap_ema_weights", "TensorBoard": "tensorboard", "TerminateOnNaN": "terminate_on_nan"})

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger",
           "BackupAndRestore", "CSVLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau", "SwapEMAWeights", "TensorBoard", "TerminateOnNaN"]
