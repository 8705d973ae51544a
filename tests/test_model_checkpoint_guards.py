"""ModelCheckpoint refuses a filepath it cannot write when it is made, not after the first epoch
(issue 13, point 9), and a NaN is never the best value (point 16)."""
import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.callbacks import ModelCheckpoint


@pytest.mark.parametrize("filepath, weights_only", [("ckpt.hdf5", False), ("ckpt", False),
                                                    ("ckpt.keras", True), ("ckpt.h5", True)])
def test_a_filepath_lamina_cannot_write_is_refused_when_the_callback_is_made(filepath, weights_only):
    # Keras's rules: ".keras" or ".h5" for the model (not ".hdf5"), ".weights.h5" for weights only
    expected = r"\.weights\.h5" if weights_only else r"must end in `\.keras`"
    with pytest.raises(ValueError, match=rf"{expected}.*Received: filepath={filepath}"):
        ModelCheckpoint(filepath, save_weights_only=weights_only)


def test_the_message_names_every_right_suffix():
    with pytest.raises(ValueError, match=r"`\.keras`.*`\.h5`.*or in `\.weights\.h5` with save_weights_only=True"):
        ModelCheckpoint("ckpt.hdf5")


def _fit_with(checkpoint, val_losses):
    model = lamina.Sequential([lamina.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    values = iter(val_losses)
    feed = lamina.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=next(values)))
    model.fit(np.ones((4, 2)), np.ones(4), epochs=len(val_losses), verbose=0, callbacks=[feed, checkpoint])


def test_a_nan_is_never_the_best(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "best-{epoch}.keras"), save_best_only=True)
    _fit_with(checkpoint, [float("nan"), 0.5, float("nan"), 0.7, 0.25])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-2.keras", "best-5.keras"]
    assert checkpoint.best == 0.25
