"""plot_history, plot_images, plot_confusion_matrix: real pictures with the right numbers in them."""
import numpy as np
import pytest

import lamina
from lamina.utils import plot_confusion_matrix, plot_history, plot_images

mpimg = pytest.importorskip("matplotlib.image")
from matplotlib.colors import to_rgba  # noqa: E402  (after the importorskip)
from matplotlib.figure import Figure  # noqa: E402


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("MPLBACKEND", "Agg")
    plt.switch_backend("Agg")
    yield
    plt.close("all")  # the figures are pyplot's: close them, as a user drawing many would


def check_png(path, min_size=(200, 200)):
    image = mpimg.imread(str(path))
    assert image.ndim == 3 and image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1]
    pixels = image[..., :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 1 and not np.all(pixels == 1.0)
    return image


LOGS = {"loss": [0.9, 0.5, 0.4], "accuracy": [0.6, 0.8, 0.85],
        "val_loss": [1.0, 0.7, 0.6], "val_accuracy": [0.5, 0.7, 0.8]}


# --- plot_history ------------------------------------------------------------------------------
def test_history_dict_to_png(tmp_path):
    figure = plot_history(LOGS, to_file=tmp_path / "curves.png")
    assert isinstance(figure, Figure)
    image = check_png(tmp_path / "curves.png")
    assert image.shape[1] > image.shape[0]  # two panels side by side
    assert [axes.get_title() for axes in figure.axes] == ["loss", "accuracy"]  # each scale on its own axes
    for axes, name in zip(figure.axes, ["loss", "accuracy"]):
        lines = {line.get_label(): line for line in axes.get_lines()}
        assert list(lines) == [name, f"val_{name}"]
        for key, line in lines.items():
            np.testing.assert_allclose(line.get_ydata(), LOGS[key])
            np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])  # epochs from 1, as fit prints them
        assert lines[name].get_linestyle() == "--" and lines[f"val_{name}"].get_linestyle() == "-"
        assert axes.get_xlabel() == "Epoch"


def test_plot_history_figure_is_pyplots_so_show_shows_it():
    import matplotlib.pyplot as plt

    figure = plot_history(LOGS)
    assert figure.number in plt.get_fignums() and plt.gcf() is figure
    plt.show()  # Agg: returns at once; on a desktop this opens the window


def test_plotting_without_matplotlib_gives_the_install_line(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"Plotting needs matplotlib, which is not installed: "
                                          r"pip install 'lamina\[plot\]'"):
        plot_history(LOGS)


def test_history_from_fit_and_metric_choice():
    rng = np.random.default_rng(0)
    model = lamina.Sequential([lamina.layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(rng.normal(size=(40, 4)), rng.integers(0, 3, 40), epochs=2, validation_split=0.25,
                        verbose=0)
    figure = plot_history(history, metrics=["loss"])
    (axes,) = figure.axes
    lines = axes.get_lines()
    assert [line.get_label() for line in lines] == ["loss", "val_loss"]
    np.testing.assert_allclose(lines[0].get_ydata(), history.history["loss"])
    np.testing.assert_array_equal(lines[0].get_xdata(), [e + 1 for e in history.epoch])


def test_image_titles_do_not_overlap():
    names = [f"{kind} number {i}" for i, kind in enumerate(["long-sleeved shirt", "ankle boot", "sandal", "bag",
                                                            "pullover", "dress", "coat", "sneaker", "trouser",
                                                            "T-shirt/top"])]
    truth = np.arange(10)
    guess = (truth + 1) % 10  # every one wrong: the longest titles, "ankle boot number 1 (long-sleeved ...)"
    figure = plot_images(np.zeros((10, 28, 28)), truth, names, predictions=guess, n_cols=5)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [axes.title.get_window_extent(renderer) for axes in figure.axes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    assert all(0 <= box.x0 and box.x1 <= figure.bbox.width for box in boxes)  # none cut at the edge


def test_history_bad_input():
    with pytest.raises(ValueError, match=r"no \['auc'\] in the history; it has \['accuracy', 'loss'"):
        plot_history(LOGS, metrics=["auc"])
    with pytest.raises(ValueError, match="empty history"):
        plot_history({})
    with pytest.raises(TypeError, match="a History or its .history dict, got list"):
        plot_history([0.5, 0.4])


# --- plot_images -------------------------------------------------------------------------------
def digits(n, size=28):
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8)


def test_image_grid_titles_and_png(tmp_path):
    names = lamina.datasets.fashion_mnist.class_names
    y = np.arange(40) % 10
    figure = plot_images(digits(40), y, names, n_rows=4, to_file=tmp_path / "grid.png")
    assert len(figure.axes) == 40
    assert [a.get_title() for a in figure.axes[:3]] == ["T-shirt/top", "Trouser", "Pullover"]
    image = check_png(tmp_path / "grid.png")
    assert image.shape[1] > 2 * image.shape[0]  # 10 columns, 4 rows


def test_wrong_predictions_are_red_with_the_truth_in_brackets():
    names = ["zero", "one", "two"]
    probabilities = np.array([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])  # predicts 0, 2, 2
    figure = plot_images(digits(3), y=[0, 1, 2], class_names=names, predictions=probabilities)
    titles = [a.title for a in figure.axes]
    assert [t.get_text() for t in titles] == ["zero", "two (one)", "two"]
    assert to_rgba(titles[1].get_color()) == to_rgba("red")
    assert to_rgba(titles[0].get_color()) != to_rgba("red")
    assert len(figure.axes) == 3 and figure.get_size_inches()[0] < 6  # three columns, not ten


def test_image_inputs_flat_rows_one_hot_and_cap():
    flat = digits(5, size=4).reshape(5, 16)
    figure = plot_images(flat, y=np.eye(5)[[4, 3, 2, 1, 0]], n_cols=5)
    assert [a.get_title() for a in figure.axes] == ["4", "3", "2", "1", "0"]
    assert figure.axes[0].get_images()[0].get_array().shape == (4, 4)
    figure = plot_images(digits(500, size=4), n_cols=10)  # n_rows=None: up to 10 rows
    assert len(figure.axes) == 100 and figure.axes[0].get_title() == ""


def test_images_bad_input():
    with pytest.raises(ValueError, match=r"cannot tell the image size of flat rows of 10 values"):
        plot_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"one label .* per image \(3 images\), got shape \(2,\)"):
        plot_images(digits(3), y=[0, 1])
    with pytest.raises(ValueError, match=r"label 5 has no entry in class_names \(2 names\)"):
        plot_images(digits(1), y=[5], class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"n_cols to be a positive int, got 0"):
        plot_images(digits(1), n_cols=0)
    with pytest.raises(ValueError, match=r"x shaped \(n, height, width\).*got shape \(5,\)"):
        plot_images(np.zeros(5))


# --- plot_confusion_matrix ---------------------------------------------------------------------
def cell_texts(figure, n):
    texts = [t.get_text() for t in figure.axes[0].texts]
    return np.array(texts).reshape(n, n)


def test_confusion_matrix_counts(tmp_path):
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    figure = plot_confusion_matrix(y_true, y_pred, ["a", "b", "c"], to_file=tmp_path / "cm.png")
    expected = [["1", "1", "0"], ["0", "2", "1"], ["0", "0", "1"]]
    np.testing.assert_array_equal(cell_texts(figure, 3), expected)
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["a", "b", "c"]
    assert axes.get_xlabel() == "Predicted label" and axes.get_ylabel() == "True label"
    check_png(tmp_path / "cm.png")


def test_confusion_matrix_normalized_from_probabilities():
    y_pred = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.9, 0.1]])  # 0, 1, 1, 0
    figure = plot_confusion_matrix([0, 1, 1, 1], y_pred, normalize=True)
    np.testing.assert_array_equal(cell_texts(figure, 2), [["1.00", "0.00"], ["0.33", "0.67"]])
    np.testing.assert_allclose(figure.axes[0].get_images()[0].get_array(), [[1, 0], [1 / 3, 2 / 3]])


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match=r"the same length, got shapes \(3,\) and \(2,\)"):
        plot_confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"got 2 class_names for labels up to 2"):
        plot_confusion_matrix([0, 1, 2], [0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"class ids >= 0"):
        plot_confusion_matrix([0, -1], [0, 1])


def test_missing_matplotlib_is_an_install_hint(monkeypatch):
    import sys

    import lamina
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"Plotting needs matplotlib, which is not installed: "
                                          r"pip install 'lamina\[plot\]'"):
        lamina.utils.plot_history({"loss": [1.0, 0.5]})
