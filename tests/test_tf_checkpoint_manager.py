"""``tf.train.CheckpointManager`` and ``tf.train.latest_checkpoint``, and TensorFlow's guide
"Training checkpoints" run end to end under ``import lamina as tf``: the manager keeps
``max_to_keep`` checkpoints and deletes the rest, a new manager on the folder takes up its list and
numbering, ``checkpoint_interval`` and ``keep_checkpoint_every_n_hours`` decide what is saved and
kept; its arguments are checked by name."""
import contextlib
import io
import os

import numpy as np
import pytest

import lamina as tf
from lamina.tf import checkpoint_file

KEY = "/.ATTRIBUTES/VARIABLE_VALUE"


# --- the manager ---------------------------------------------------------------------------------
def test_manager_keeps_max_to_keep_and_deletes_the_rest(tmp_path):
    step = tf.Variable(0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path), max_to_keep=3)
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    for i in range(1, 6):
        step.assign(i)
        assert manager.save() == os.path.join(str(tmp_path), f"ckpt-{i}")
    assert manager.checkpoints == [os.path.join(str(tmp_path), f"ckpt-{i}") for i in (3, 4, 5)]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-3.npz", "ckpt-4.npz", "ckpt-5.npz"]
    assert manager.latest_checkpoint == tf.train.latest_checkpoint(str(tmp_path)) == os.path.join(str(tmp_path),
                                                                                                  "ckpt-5")
    # a new manager (a restarted program) takes up the list and the numbering
    step2 = tf.Variable(0)
    ckpt2 = tf.train.Checkpoint(step=step2)
    again = tf.train.CheckpointManager(ckpt2, str(tmp_path), max_to_keep=3, checkpoint_name="ckpt")
    assert again.checkpoints == manager.checkpoints
    assert again.restore_or_initialize() == again.latest_checkpoint and int(step2.numpy()) == 5
    assert again.save().endswith("ckpt-6")
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-4.npz", "ckpt-5.npz", "ckpt-6.npz"]
    assert again.save(checkpoint_number=100).endswith("ckpt-100")
    assert [os.path.basename(p) for p in again.checkpoints] == ["ckpt-5", "ckpt-6", "ckpt-100"]


def test_manager_without_a_limit_keeps_all_and_interval_and_hours(tmp_path, monkeypatch):
    step = tf.Variable(0)
    keep_all = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path / "all"), max_to_keep=None)
    for _ in range(4):
        keep_all.save()
    assert len(keep_all.checkpoints) == 4 and len(os.listdir(tmp_path / "all")) == 5
    every = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path / "int"), max_to_keep=5,
                                       step_counter=step, checkpoint_interval=10)
    saved = []
    for i in range(0, 35, 5):
        step.assign(i)
        saved.append(every.save() is not None)
    assert saved == [True, False, True, False, True, False, True]
    clock = iter(np.arange(0.0, 100 * 3600.0, 3600.0))  # one hour a save
    monkeypatch.setattr(checkpoint_file, "now", lambda: float(next(clock)))
    hours = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path / "h"), max_to_keep=1,
                                       keep_checkpoint_every_n_hours=2)
    for _ in range(6):
        hours.save()
    names = sorted(n for n in os.listdir(tmp_path / "h") if n.endswith(".npz"))
    assert names == ["ckpt-2.npz", "ckpt-4.npz", "ckpt-6.npz"] and len(hours.checkpoints) == 1


# --- the guide ---------------------------------------------------------------------------------
GUIDE = '''
import lamina as tf

class Net(tf.keras.Model):
  """A simple linear model."""
  def __init__(self):
    super(Net, self).__init__()
    self.l1 = tf.keras.layers.Dense(5)
  def call(self, x):
    return self.l1(x)

def toy_dataset():
  inputs = tf.range(10.)[:, None]
  labels = inputs * 5. + tf.range(5.)[None, :]
  return tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=labels)).repeat().batch(2)

def train_step(net, example, optimizer):
  """Trains `net` on `example` using `optimizer`."""
  with tf.GradientTape() as tape:
    output = net(example['x'])
    loss = tf.reduce_mean(tf.abs(output - example['y']))
  variables = net.trainable_variables
  gradients = tape.gradient(loss, variables)
  optimizer.apply_gradients(zip(gradients, variables))
  return loss

def train_and_checkpoint(net, manager):
  ckpt.restore(manager.latest_checkpoint)
  if manager.latest_checkpoint:
    print("Restored from {}".format(manager.latest_checkpoint))
  else:
    print("Initializing from scratch.")
  for _ in range(50):
    example = next(iterator)
    loss = train_step(net, example, opt)
    ckpt.step.assign_add(1)
    if int(ckpt.step) % 10 == 0:
      save_path = manager.save()
      print("Saved checkpoint for step {}: {}".format(int(ckpt.step), save_path))
      print("loss {:1.2f}".format(loss.numpy()))

for run in range(2):
  opt = tf.keras.optimizers.Adam(0.1)
  net = Net()
  dataset = toy_dataset()
  iterator = iter(dataset)
  ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)  # (no iterator: see the README)
  manager = tf.train.CheckpointManager(ckpt, './tf_ckpts', max_to_keep=3)
  train_and_checkpoint(net, manager)
print(manager.checkpoints)

to_restore = tf.Variable(tf.zeros([5]))
fake_layer = tf.train.Checkpoint(bias=to_restore)
fake_net = tf.train.Checkpoint(l1=fake_layer)
new_root = tf.train.Checkpoint(net=fake_net)
status = new_root.restore(tf.train.latest_checkpoint('./tf_ckpts/'))
status.assert_existing_objects_matched()
deferred_restore = tf.Variable(tf.zeros([1, 5]))
fake_layer.kernel = deferred_restore
reader = tf.train.load_checkpoint('./tf_ckpts/')
key = 'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'
'''


def test_the_guides_program_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, scope = io.StringIO(), {}
    with contextlib.redirect_stdout(out):
        exec(compile(GUIDE, "guide", "exec"), scope)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Initializing from scratch."
    assert lines[11] == "Restored from ./tf_ckpts/ckpt-5"
    saved = [line for line in lines if line.startswith("Saved")]
    assert saved == [f"Saved checkpoint for step {10 * i}: ./tf_ckpts/ckpt-{i}" for i in range(1, 11)]
    losses = [float(line.split()[1]) for line in lines if line.startswith("loss")]
    assert losses[0] > 20 and losses[4] < losses[0] / 3 and max(losses[5:]) < losses[4]  # run 2 continues run 1
    assert lines[-1] == "['./tf_ckpts/ckpt-8', './tf_ckpts/ckpt-9', './tf_ckpts/ckpt-10']"
    net = scope["net"]
    np.testing.assert_array_equal(scope["to_restore"].numpy(), net.l1.bias.numpy())
    np.testing.assert_array_equal(scope["deferred_restore"].numpy(), net.l1.kernel.numpy())
    reader = scope["reader"]
    assert reader.get_variable_to_shape_map()[scope["key"]] == [1, 5]
    assert reader.get_variable_to_dtype_map()[scope["key"]].name == "float32"
    np.testing.assert_array_equal(reader.get_tensor(scope["key"]), net.l1.kernel.numpy())
    # step starts at 1 and the last save is at step 100: 99 updates in the two runs together
    assert int(reader.get_tensor("step" + KEY)) == 100 and int(reader.get_tensor("optimizer/iter" + KEY)) == 99


def test_manager_arguments_are_checked(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(TypeError, match="checkpoint to be a tf.train.Checkpoint"):
        tf.train.CheckpointManager(tf.Variable(1.0), str(tmp_path), max_to_keep=3)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_to_keep"):
            tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=bad)
    with pytest.raises(ValueError, match="checkpoint_interval needs a step_counter"):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3, checkpoint_interval=5)
    with pytest.raises(TypeError, match="directory"):
        tf.train.CheckpointManager(ckpt, "", max_to_keep=3)
    with pytest.raises(TypeError, match="latest_checkpoint expects checkpoint_dir"):
        tf.train.latest_checkpoint(None)
