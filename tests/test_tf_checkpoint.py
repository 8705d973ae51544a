"""``tf.train.Checkpoint``, ``CheckpointManager`` and ``latest_checkpoint`` as TensorFlow's guide
"Training checkpoints" uses them: a save/restore round trip gives back every value (weights,
optimizer slots and step count), so training continued after a restore equals training never
interrupted, step for step; restores into layers and optimizers not built yet wait for their
build; bad input and TensorFlow's files are refused by name; a save that fails midway leaves the
previous checkpoint whole. The manager and the guide's program: test_tf_checkpoint_manager.py."""
import os

import numpy as np
import pytest

import lamina as tf
from lamina.tf import checkpoint_file

X = np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(8, 3)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
KEY = "/.ATTRIBUTES/VARIABLE_VALUE"


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(4, kernel_initializer="ones")
        self.out = tf.keras.layers.Dense(1, kernel_initializer="ones")

    def call(self, x):
        return self.out(tf.nn.relu(self.l1(x)))


def train_step(net, opt, i):
    x, y = X[i % 4 * 2:i % 4 * 2 + 2], Y[i % 4 * 2:i % 4 * 2 + 2]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(net(x) - y))
    grads = tape.gradient(loss, net.trainable_variables)
    opt.apply_gradients(zip(grads, net.trainable_variables))
    return float(loss)


def state_of(net, opt):
    """Every value the training depends on: weights, each slot, the step count."""
    slots = [opt.slot(v, name).numpy() for v in net.trainable_variables for name in opt._slots[id(v)]]
    return [v.numpy() for v in net.weights] + slots + [opt.iterations.numpy()]


def assert_same(found, expected):
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# --- round trip ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make_opt", [lambda: tf.keras.optimizers.Adam(0.05),
                                      lambda: tf.keras.optimizers.SGD(0.05, momentum=0.9),
                                      lambda: tf.keras.optimizers.RMSprop(0.01)])
def test_training_resumed_from_a_checkpoint_equals_training_never_stopped(tmp_path, make_opt):
    net, opt = Net(), make_opt()
    straight = [train_step(net, opt, i) for i in range(8)]
    expected_state = state_of(net, opt)

    net, opt = Net(), make_opt()
    first = [train_step(net, opt, i) for i in range(4)]
    step = tf.Variable(4)
    path = tf.train.Checkpoint(step=step, net=net, optimizer=opt).save(str(tmp_path / "ckpt"))
    saved_state = state_of(net, opt)

    net2, opt2, step2 = Net(), make_opt(), tf.Variable(0)  # not built: the restore waits for the build
    status = tf.train.Checkpoint(step=step2, net=net2, optimizer=opt2).restore(path)
    assert int(step2.numpy()) == 4 and int(opt2.iterations.numpy()) == 4
    status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Unresolved values"):
        status.assert_consumed()  # the layers' weights and the slots are still waiting
    net2.build((None, 3))
    opt2.build(net2.trainable_variables)
    assert_same(state_of(net2, opt2), saved_state)
    status.assert_consumed()
    resumed = first + [train_step(net2, opt2, i) for i in range(4, 8)]
    np.testing.assert_allclose(resumed, straight, rtol=1e-6)
    assert_same(state_of(net2, opt2), expected_state)


def test_deferred_restore_fills_layers_and_slots_at_the_first_training_step(tmp_path):
    net, opt = Net(), tf.keras.optimizers.Adam(0.05)
    for i in range(3):
        train_step(net, opt, i)
    path = tf.train.Checkpoint(net=net, opt=opt).write(str(tmp_path / "w"))
    straight = [train_step(net, opt, i) for i in range(3, 6)]
    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.05)
    tf.train.Checkpoint(net=net2, opt=opt2).read(path)
    assert [train_step(net2, opt2, i) for i in range(3, 6)] == pytest.approx(straight, rel=1e-6)


def test_a_deferred_restore_lives_with_the_layer_not_the_checkpoint(tmp_path):
    import copy
    import gc
    net = Net()
    net.build((None, 3))
    for i, weight in enumerate(net.weights):
        weight.assign(np.full(weight.shape, i + 2.0, "float32"))
    path = tf.train.Checkpoint(net=net).write(str(tmp_path / "life"))
    waiting = Net()
    tf.train.Checkpoint(net=waiting).restore(path)  # neither the Checkpoint nor the status kept
    gc.collect()
    twin = copy.deepcopy(waiting)  # a copy waits for nothing
    waiting.build((None, 3))
    twin.build((None, 3))
    assert_same([v.numpy() for v in waiting.weights], [v.numpy() for v in net.weights])
    assert float(twin.l1.bias.numpy().max()) == 0.0 and float(twin.l1.kernel.numpy().max()) == 1.0


def test_restore_into_built_objects_is_immediate_and_consumed(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2), tf.keras.layers.Dense(1)])
    opt = tf.keras.optimizers.Adam(0.1)
    model.compile(optimizer=opt, loss="mse")
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "seq"))
    other = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2), tf.keras.layers.Dense(1)])
    other.compile(optimizer=tf.keras.optimizers.Adam(0.1), loss="mse")
    other.optimizer.build(other.trainable_variables)
    tf.train.Checkpoint(model=other).restore(path).assert_consumed()
    assert_same([v.numpy() for v in other.weights], [v.numpy() for v in model.weights])
    assert_same([v.numpy() for v in other.optimizer.variables], [v.numpy() for v in opt.variables])
    np.testing.assert_allclose(other.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_fit_continued_after_a_restore_equals_one_fit(tmp_path):
    def make():
        model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4, activation="relu"),
                                     tf.keras.layers.Dense(1)])
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
        return model
    straight = make()
    start = [v.numpy() for v in straight.weights]
    straight.fit(X, Y, epochs=2, batch_size=2, shuffle=False, verbose=0)
    first = make()
    first.set_weights(start)
    first.fit(X, Y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    path = tf.train.Checkpoint(model=first).save(str(tmp_path / "fit"))
    resumed = make()  # its optimizer is built by fit: the slots wait for it
    status = tf.train.Checkpoint(model=resumed).restore(path)
    resumed.fit(X, Y, epochs=1, batch_size=2, shuffle=False, verbose=0)
    status.assert_consumed()
    assert_same([v.numpy() for v in resumed.weights], [v.numpy() for v in straight.weights])
    assert int(resumed.optimizer.iterations.numpy()) == 8


def test_deferred_restore_inside_a_tf_function(tmp_path):
    def run(net, opt, steps):
        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(net(x) - y))
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables))
            return loss
        return [float(step(X[:4], Y[:4])) for _ in range(steps)]
    net, opt = Net(), tf.keras.optimizers.Adam(0.05)
    run(net, opt, 3)
    path = tf.train.Checkpoint(net=net, opt=opt).save(str(tmp_path / "fn"))
    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.05)
    status = tf.train.Checkpoint(net=net2, opt=opt2).restore(path)
    assert run(net2, opt2, 3) == pytest.approx(run(net, opt, 3), rel=1e-6)
    status.assert_consumed()


def test_modules_nested_checkpoints_lists_and_dicts_are_tracked(tmp_path):
    class Block(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([1.0, 2.0])
            self.extra = {"b": tf.Variable(3.0), "a": [tf.Variable(4), tf.Variable([5.0])]}

    shared = tf.Variable(7.0)
    root = tf.train.Checkpoint(block=Block(), inner=tf.train.Checkpoint(v=shared), again=shared,
                               many=[tf.Variable(8.0), {"k": tf.Variable(9.0)}])
    path = root.write(str(tmp_path / "m"))
    keys = sorted(key for key, _ in tf.train.list_variables(path))
    assert keys == sorted(k + KEY for k in ["again", "block/w", "block/extra/a/0", "block/extra/a/1",
                                            "block/extra/b", "many/0", "many/1/k"])  # shared: once, shortest path
    fresh = Block()
    new = tf.train.Checkpoint(block=fresh, inner=tf.train.Checkpoint(v=tf.Variable(0.0)), again=tf.Variable(0.0),
                              many=[tf.Variable(0.0), {"k": tf.Variable(0.0)}])
    new.restore(path).assert_consumed()
    assert fresh.w.numpy().tolist() == [1.0, 2.0] and float(fresh.extra["b"].numpy()) == 3.0
    assert int(fresh.extra["a"][0].numpy()) == 4 and float(new.many[1]["k"].numpy()) == 9.0
    assert float(new.again.numpy()) == 7.0


def test_sequential_layers_and_weights_no_attribute_holds(tmp_path):
    class Own(tf.keras.layers.Layer):
        def build(self, shape):
            self._w = self.add_weight(shape=(shape[-1], 2), name="w")
            self.add_weight(shape=(2,), name="hidden", initializer="ones")

        def call(self, x):
            return x @ self._w

    def make():
        return tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization(), Own()])
    model = make()
    model(X, training=True)
    for i, weight in enumerate(model.weights):
        weight.assign(np.full(weight.shape, 0.5 + i, "float32"))
    path = tf.train.Checkpoint(model=model).write(str(tmp_path / "seq"))
    assert [key for key, _ in tf.train.list_variables(path)] == [k + KEY for k in (
        "model/layer-0/bias", "model/layer-0/kernel", "model/layer-1/beta", "model/layer-1/gamma",
        "model/layer-1/moving_mean", "model/layer-1/moving_variance", "model/layer-2/_w", "model/layer-2/weight-1")]
    fresh = make()
    status = tf.train.Checkpoint(model=fresh).restore(path)
    fresh(X)  # builds each layer, each then takes its values
    status.assert_consumed()
    assert_same([v.numpy() for v in fresh.weights], [v.numpy() for v in model.weights])


def test_attribute_assigned_after_restore_is_restored_then(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable([2.0, 3.0])).write(str(tmp_path / "late"))
    ckpt = tf.train.Checkpoint(a=tf.Variable(0.0))
    status = ckpt.restore(path)
    late = tf.Variable([0.0, 0.0])
    ckpt.b = late
    assert late.numpy().tolist() == [2.0, 3.0]
    status.assert_consumed()


# --- counters and the checkpoint file ------------------------------------------------------------
def test_save_counts_write_does_not_and_latest_checkpoint_follows(tmp_path):
    v = tf.Variable(1.0)
    ckpt = tf.train.Checkpoint(v=v)
    prefix = str(tmp_path / "run" / "ckpt")
    assert tf.train.latest_checkpoint(str(tmp_path / "run")) is None
    paths = []
    for value in (1.0, 2.0, 3.0):
        v.assign(value)
        paths.append(ckpt.save(prefix))
        assert tf.train.latest_checkpoint(str(tmp_path / "run")) == paths[-1]
    assert paths == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    assert int(ckpt.save_counter.numpy()) == 3
    assert ckpt.write(str(tmp_path / "plain")) == str(tmp_path / "plain")
    assert int(ckpt.save_counter.numpy()) == 3
    assert os.path.isfile(str(tmp_path / "plain") + ".npz")
    again = tf.train.Checkpoint(v=tf.Variable(0.0))
    again.restore(paths[1]).assert_consumed()
    assert float(again.v.numpy()) == 2.0 and int(again.save_counter.numpy()) == 2
    assert again.save(prefix) == f"{prefix}-3"  # the counter was restored and goes on from it


def test_restore_none_restores_nothing():
    v = tf.Variable(5.0)
    status = tf.train.Checkpoint(v=v).restore(None)
    with pytest.raises(AssertionError, match="save_path=None"):
        status.assert_consumed()
    assert status.expect_partial() is status and float(v.numpy()) == 5.0


def test_partial_restores_and_their_statuses(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable(2.0)).write(str(tmp_path / "p"))
    a = tf.Variable(0.0)
    status = tf.train.Checkpoint(a=a).restore(path)
    status.assert_existing_objects_matched().assert_nontrivial_match()
    with pytest.raises(AssertionError, match="'b/.ATTRIBUTES/VARIABLE_VALUE'|b/.ATTRIBUTES"):
        status.assert_consumed()
    assert status.expect_partial() is status and float(a.numpy()) == 1.0
    status = tf.train.Checkpoint(a=tf.Variable(0.0), c=tf.Variable(0.0)).restore(path)
    with pytest.raises(AssertionError, match="c/.ATTRIBUTES"):
        status.assert_existing_objects_matched()
    with pytest.raises(AssertionError, match="Nothing"):
        tf.train.Checkpoint(z=tf.Variable(0.0)).restore(path).assert_nontrivial_match()


# --- bad input -----------------------------------------------------------------------------------
def test_bad_objects_are_refused_by_name():
    with pytest.raises(ValueError, match=r"Checkpoint\(lr=\.\.\.\) expects a trackable object.*float 0\.1"):
        tf.train.Checkpoint(lr=0.1)
    with pytest.raises(ValueError, match=r"Checkpoint\(iterator=\.\.\.\): lamina cannot save an iterator"):
        tf.train.Checkpoint(iterator=iter(tf.data.Dataset.range(3)))
    ckpt = tf.train.Checkpoint()
    with pytest.raises(ValueError, match=r"Checkpoint attribute 'mixed' expects a trackable object.*list"):
        ckpt.mixed = [tf.Variable(1.0), "text"]
    with pytest.raises(ValueError, match="save_counter"):
        tf.train.Checkpoint(save_counter=tf.Variable(1))
    with pytest.raises(TypeError, match="file_prefix"):
        ckpt.save(3)


def test_restore_of_another_shape_names_the_variable_and_both_shapes(tmp_path):
    net = Net()
    net.build((None, 3))
    path = tf.train.Checkpoint(net=net).write(str(tmp_path / "n"))
    wide = Net()
    wide.build((None, 5))
    before = [v.numpy() for v in wide.weights]
    with pytest.raises(ValueError, match=r"'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE' \(variable '.*kernel'\) has "
                                         r"shape \(5, 4\) but the checkpoint holds shape \(3, 4\)"):
        tf.train.Checkpoint(net=wide).restore(path)
    assert_same([v.numpy() for v in wide.weights], before)  # nothing changed: all checked first
    late = Net()  # not built: the mismatch shows when it builds
    tf.train.Checkpoint(net=late).restore(path)
    with pytest.raises(ValueError, match=r"has shape \(2, 4\) but the checkpoint holds shape \(3, 4\)"):
        late.build((None, 2))
    with pytest.raises(ValueError, match="dtype"):
        tf.train.Checkpoint(net=tf.train.Checkpoint(l1=tf.train.Checkpoint(
            bias=tf.Variable(np.zeros(4, "int32"))))).restore(path)


def test_missing_foreign_and_tensorflow_files_are_refused(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    missing = str(tmp_path / "nothing-1")
    with pytest.raises(ValueError, match=r"save_path='.*nothing-1': no checkpoint there"):
        ckpt.restore(missing)
    with pytest.raises(ValueError, match="is a folder"):
        ckpt.restore(str(tmp_path))
    tf_prefix = str(tmp_path / "tf_ckpt-3")
    for suffix in (".index", ".data-00000-of-00001"):
        with open(tf_prefix + suffix, "wb") as f:
            f.write(b"\x00" * 64)
    for given in (tf_prefix, tf_prefix + ".index"):
        with pytest.raises(ValueError, match=r"'.*tf_ckpt-3.*' is a TensorFlow checkpoint.*lamina cannot read"):
            ckpt.restore(given)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "tf_ckpt-3"\n')  # TensorFlow's own folder
    assert tf.train.latest_checkpoint(str(tmp_path)) == tf_prefix
    with pytest.raises(ValueError, match="is a TensorFlow checkpoint"):
        ckpt.restore(tf.train.latest_checkpoint(str(tmp_path)))
    np.savez(str(tmp_path / "other.npz"), a=np.zeros(3))
    with pytest.raises(ValueError, match=r"'.*other\.npz' is not a lamina checkpoint"):
        ckpt.restore(str(tmp_path / "other"))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        ckpt.restore(str(tmp_path / "junk"))
    with pytest.raises(TypeError, match="save_path"):
        ckpt.restore(42)


# --- atomicity -----------------------------------------------------------------------------------
def _failing_savez(file, **arrays):
    file.write(b"PK\x03\x04 half a checkpoint")
    raise OSError("disk full")


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    v = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1)
    first = manager.save()
    before = sorted(os.listdir(tmp_path))
    v.assign([3.0, 4.0])
    monkeypatch.setattr(checkpoint_file.np, "savez", _failing_savez)
    with pytest.raises(OSError, match="disk full"):
        manager.save()
    with pytest.raises(OSError, match="disk full"):
        ckpt.write(first)  # over the very file: it stays as it was
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(str(tmp_path / "ckpt"))
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == before  # no temporaries, nothing deleted, the same list
    assert manager.checkpoints == [first] and tf.train.latest_checkpoint(str(tmp_path)) == first
    assert int(ckpt.save_counter.numpy()) == 1  # the failed saves did not count
    fresh = tf.Variable([0.0, 0.0])
    tf.train.Checkpoint(v=fresh).restore(first).assert_consumed()
    assert fresh.numpy().tolist() == [1.0, 2.0]
    assert manager.save().endswith("ckpt-2")


def test_options_are_refused_not_ignored(tmp_path):
    checkpoint = tf.train.Checkpoint(step=tf.Variable(1))
    for call in (lambda: checkpoint.save(str(tmp_path / "ckpt"), options=object()),
                 lambda: checkpoint.write(str(tmp_path / "w"), options=object()),
                 lambda: checkpoint.restore(None, options=object()),
                 lambda: tf.train.CheckpointManager(checkpoint, str(tmp_path), 2).save(options=object())):
        with pytest.raises(ValueError, match=r"takes no options .*leave it out"):
            call()
