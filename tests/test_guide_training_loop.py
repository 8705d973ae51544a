"""Keras 3's guide "Writing a training loop from scratch in TensorFlow", its MNIST MLP loop run under
lamina (``import lamina as tf``: ``tf.GradientTape``, ``tf.function``) and held to Keras 3 on JAX,
which takes the same steps with ``jax.value_and_grad`` over ``stateless_call`` (the guide's JAX
version), since a tape is TensorFlow's: the weights after each step, the metrics' ``result`` and
``reset_state`` over epochs, the validation loop in inference mode, and ``add_loss`` in the loss."""
import numpy as np
import pytest

# The guide's loop; only how the gradients are taken differs between the two sides.
LOOP = """
lamina_side = K.__name__ == "lamina"
tf = K  # (import lamina as tf) on lamina's side; tf.function is used there only

class ActivityRegularizationLayer(K.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * K.ops.mean(inputs))
        return inputs

inputs = K.Input(shape=(12,), name="digits")
x = K.layers.Dense(16, activation="relu", kernel_initializer=K.initializers.Constant(draw((12, 16), 0, 0.3)))(inputs)
if regularize:
    x = ActivityRegularizationLayer()(x)
x = K.layers.Dense(16, activation="relu", kernel_initializer=K.initializers.Constant(draw((16, 16), 1, 0.3)))(x)
outputs = K.layers.Dense(4, name="predictions", kernel_initializer=K.initializers.Constant(draw((16, 4), 2, 0.3)))(x)
model = K.Model(inputs=inputs, outputs=outputs)
optimizer = K.optimizers.Adam(learning_rate=1e-2)
loss_fn = K.losses.SparseCategoricalCrossentropy(from_logits=True)
train_acc_metric = K.metrics.SparseCategoricalAccuracy()
val_acc_metric = K.metrics.SparseCategoricalAccuracy()

def loss_and_grads(x, y):
    if lamina_side:
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            loss_value += sum(model.losses)
        return loss_value, logits, tape.gradient(loss_value, model.trainable_weights)
    import jax
    def compute(trainable, non_trainable):
        logits, _, losses = model.stateless_call(trainable, non_trainable, x, training=True, return_losses=True)
        stateless_losses.append(len(losses))  # (they come back from stateless_call, not model.losses)
        return loss_fn(y, logits) + sum(losses), logits
    (loss_value, logits), grads = jax.value_and_grad(compute, has_aux=True)(
        [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])
    return loss_value, logits, grads

def train_step(x, y):
    loss_value, logits, grads = loss_and_grads(x, y)
    if zipped:
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
    else:
        optimizer.apply(grads, model.trainable_weights)
    train_acc_metric.update_state(y, logits)
    return loss_value

def test_step(x, y):
    val_logits = model(x, training=False)
    val_acc_metric.update_state(y, val_logits)

if lamina_side and compiled:
    train_step, test_step = tf.function(train_step), tf.function(test_step)

counted, stateless_losses = [], []
result = {"loss": [], "train_acc": [], "val_acc": [], "after_reset": [], "losses": counted}
for epoch in range(5):
    for start in range(0, len(x_train), 16):
        loss_value = train_step(x_train[start:start + 16], y_train[start:start + 16])
        result["loss"].append(numpy(loss_value))
        counted.append(len(model.losses) if lamina_side else stateless_losses[-1])
    result["train_acc"].append(numpy(train_acc_metric.result()))
    train_acc_metric.reset_state()
    result["after_reset"].append(numpy(train_acc_metric.result()))
    for start in range(0, len(x_val), 16):
        test_step(x_val[start:start + 16], y_val[start:start + 16])
    result["val_acc"].append(numpy(val_acc_metric.result()))
    val_acc_metric.reset_state()
result["weights"] = [numpy(w) for w in model.weights]
result["iterations"] = int(numpy(optimizer.iterations))
"""


def _data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(112, 12)).astype("float32")
    y = (x[:, :4] + 0.3 * rng.normal(size=(112, 4))).argmax(axis=1).astype("int32")
    return {"x_train": x[:80], "y_train": y[:80], "x_val": x[80:], "y_val": y[80:]}


def _compare(keras_oracle, **flags):
    ours, _ = keras_oracle.compare(LOOP, {**_data(), **flags}, rtol=2e-5)
    return ours


def test_the_eager_loop_with_apply_trains_and_validates_as_keras(keras_oracle):
    ours = _compare(keras_oracle, regularize=False, zipped=False, compiled=False)
    assert ours["iterations"] == 25 and ours["after_reset"] == [0.0] * 5
    assert ours["train_acc"][-1] > ours["train_acc"][0] + 0.2


def test_the_tf_function_loop_with_apply_gradients_zip_matches_keras(keras_oracle):
    ours = _compare(keras_oracle, regularize=False, zipped=True, compiled=True)
    assert ours["loss"][-1] < ours["loss"][0]


def test_the_activity_regularization_layer_s_loss_is_in_the_loop_as_in_keras(keras_oracle):
    ours = _compare(keras_oracle, regularize=True, zipped=True, compiled=True)
    assert set(ours["losses"]) == {1}  # one add_loss a call: reset at each top-level call


@pytest.mark.slow
def test_the_guide_s_loop_over_a_dataset_learns_fashion_mnist(fashion):
    """The guide's program as it stands, on Fashion-MNIST for its MNIST: tf.data batches, a
    compiled train and test step, a validation split of 10,000."""
    import lamina as keras
    import lamina as tf
    (x_train, y_train), _ = fashion
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255
    x_val, y_val, x_train, y_train = x_train[-10000:], y_train[-10000:], x_train[:8000], y_train[:8000]
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(buffer_size=1024).batch(64)
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(64)
    inputs = keras.Input(shape=(784,), name="digits")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model(inputs=inputs, outputs=keras.layers.Dense(10, name="predictions")(x))
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        optimizer.apply(tape.gradient(loss_value, model.trainable_weights), model.trainable_weights)
        train_acc_metric.update_state(y, logits)
        return loss_value

    @tf.function
    def test_step(x, y):
        val_acc_metric.update_state(y, model(x, training=False))

    val_accuracy = []
    for _ in range(2):
        for x_batch, y_batch in train_dataset:
            train_step(x_batch, y_batch)
        train_acc_metric.reset_state()
        for x_batch, y_batch in val_dataset:
            test_step(x_batch, y_batch)
        val_accuracy.append(float(val_acc_metric.result()))
        val_acc_metric.reset_state()
    assert val_accuracy[-1] > 0.78 and int(optimizer.iterations) == 2 * 125


def test_the_guide_s_gan_with_dense_networks_trains_each_side_with_its_own_optimizer():
    """The guide's end-to-end GAN (its networks are convolutional; Dense ones here): two tapes, two
    optimizers, ``tf.random``, ``tf.concat`` and noisy labels in one ``tf.function``."""
    import lamina as keras
    import lamina as tf
    from lamina import layers
    latent_dim, batch_size = 8, 16
    discriminator = keras.Sequential([keras.Input(shape=(36,)), layers.Dense(16), layers.LeakyReLU(negative_slope=0.2),
                                      layers.Dense(1)], name="discriminator")
    generator = keras.Sequential([keras.Input(shape=(latent_dim,)), layers.Dense(16),
                                  layers.LeakyReLU(negative_slope=0.2), layers.Dense(36, activation="sigmoid")],
                                 name="generator")
    d_optimizer, g_optimizer = keras.optimizers.Adam(3e-3), keras.optimizers.Adam(4e-3)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    seen = {}

    @tf.function
    def train_step(real_images):
        generated_images = generator(tf.random.normal(shape=(batch_size, latent_dim)))
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((real_images.shape[0], 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))
        with tf.GradientTape() as tape:
            d_loss = loss_fn(labels, discriminator(combined_images))
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply_gradients(zip(grads, discriminator.trainable_weights))
        seen["discriminator"] = [w.numpy().copy() for w in discriminator.weights]
        with tf.GradientTape() as tape:
            predictions = discriminator(generator(tf.random.normal(shape=(batch_size, latent_dim))))
            g_loss = loss_fn(tf.zeros((batch_size, 1)), predictions)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss, g_loss, generated_images

    rng = np.random.default_rng(7)
    real = (rng.random((128, 1)) * np.linspace(0, 1, 36)).astype("float32")  # bright to the right
    d_losses = []
    for start in range(0, 128, batch_size):
        d_loss, g_loss, generated_images = train_step(real[start:start + batch_size])
        d_losses.append(float(d_loss))
        # the generator's step leaves the discriminator as its own step left it
        assert all(np.array_equal(a, w.numpy()) for a, w in zip(seen["discriminator"], discriminator.weights))
    assert generated_images.shape == (batch_size, 36) and np.isfinite(float(g_loss))
    assert d_losses[-1] < d_losses[0]
    assert int(d_optimizer.iterations) == int(g_optimizer.iterations) == 8
