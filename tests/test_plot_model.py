"""plot_model: Keras's arguments, PNG/PDF through matplotlib, SVG as text, no Graphviz."""
import inspect
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import lamina
from lamina.utils import ModelPlot, plot_model

mpimg = pytest.importorskip("matplotlib.image")


@pytest.fixture(autouse=True)
def _agg_backend(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def lesson_model():
    lamina.backend.clear_session()  # the same names (so the same box widths) in every model built
    return lamina.Sequential([lamina.layers.Flatten(input_shape=[28, 28]),
                              lamina.layers.Dense(300, activation="relu"),
                              lamina.layers.Dense(100, activation="relu"),
                              lamina.layers.Dense(10, activation="softmax")])


def deep_model(n_layers=30):
    lamina.backend.clear_session()  # the same names (so the same box widths) in every model built
    layers = [lamina.layers.Dense(16, activation="relu", input_shape=(8,))]
    layers += [lamina.layers.Dense(16, activation="relu") for _ in range(n_layers - 1)]
    return lamina.Sequential(layers)


def read_png(path):
    """The image as an array, after checking it is a real picture and not blank."""
    image = mpimg.imread(str(path))
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    pixels = image[..., :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 1
    assert not np.all(pixels == 1.0)  # not all white
    return image


def test_signature_is_keras():
    parameters = inspect.signature(plot_model).parameters
    expected = {"to_file": "model.png", "show_shapes": False, "show_dtype": False, "show_layer_names": False,
                "rankdir": "TB", "expand_nested": False, "dpi": 200, "show_layer_activations": False,
                "show_trainable": False, "splines": "ortho"}  # Keras 3.15's, in its order
    assert list(parameters)[:11] == ["model", *expected]
    assert {name: parameters[name].default for name in expected} == expected


def test_png_of_the_lesson_model(tmp_path):
    path = tmp_path / "model.png"
    picture = plot_model(lesson_model(), to_file=str(path), show_shapes=True)
    image = read_png(path)
    height, width = image.shape[:2]
    assert 300 < height < 4000 and 150 < width < 2000
    assert height > width  # "TB": one column of boxes
    assert isinstance(picture, ModelPlot) and picture.format == "png"
    assert picture._repr_png_() == path.read_bytes() and picture._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture._repr_svg_() is None


def test_height_scales_with_depth_and_lr_is_horizontal(tmp_path):
    shallow = read_png(plot_model(deep_model(3), to_file=str(tmp_path / "3.png"), dpi=72).filename)
    deep = read_png(plot_model(deep_model(30), to_file=str(tmp_path / "30.png"), dpi=72).filename)
    assert deep.shape[1] == shallow.shape[1]  # same width: one column
    assert deep.shape[0] > 6 * shallow.shape[0]
    # every one of the 31 boxes (input + 30) is at least 20 pixels tall: still readable
    assert deep.shape[0] / 31 > 20
    wide = read_png(plot_model(deep_model(3), to_file=str(tmp_path / "lr.png"), rankdir="LR", dpi=72).filename)
    assert wide.shape[1] > wide.shape[0]


def test_png_dpi_sets_the_resolution(tmp_path):
    low = read_png(plot_model(lesson_model(), to_file=str(tmp_path / "a.png"), dpi=50).filename)
    high = read_png(plot_model(lesson_model(), to_file=str(tmp_path / "b.png"), dpi=100).filename)
    assert abs(high.shape[0] - 2 * low.shape[0]) <= 2 and abs(high.shape[1] - 2 * low.shape[1]) <= 2


def test_svg_names_every_layer_with_its_shapes(tmp_path):
    path = tmp_path / "model.svg"
    picture = plot_model(lesson_model(), to_file=str(path), show_shapes=True, show_layer_names=True)
    text = path.read_text()
    ElementTree.fromstring(text)  # well-formed XML
    for label in ["input_layer (InputLayer)", "flatten (Flatten)", "dense (Dense)", "dense_1 (Dense)",
                  "dense_2 (Dense)"]:
        assert label in text
    for shape in ["Output shape: (None, 28, 28)", "Input shape: (None, 28, 28)", "Output shape: (None, 784)",
                  "Input shape: (None, 784)", "Output shape: (None, 300)", "Output shape: (None, 100)",
                  "Output shape: (None, 10)"]:
        assert shape in text
    assert text.count("<line ") == 4  # an arrow between each of the 5 boxes
    assert picture.format == "svg" and picture._repr_svg_() == text and picture._repr_png_() is None


def test_svg_options(tmp_path):
    model = lesson_model()
    model.layers[1].trainable = False
    text = plot_model(model, to_file=str(tmp_path / "m.svg"), show_layer_activations=True, show_dtype=True,
                      show_trainable=True).data.decode()
    assert "Activation: relu" in text and "Activation: softmax" in text
    assert text.count("Output dtype: float32") == 5
    assert text.count(">Non-trainable<") == 1 and text.count(">Trainable<") == 2  # Flatten has no weights
    assert "Output shape" not in text  # show_shapes=False
    plain = plot_model(model, to_file=str(tmp_path / "n.svg"), show_layer_names=False).data.decode()
    assert ">Dense<" in plain and "dense_1" not in plain and "Activation" not in plain


def test_input_layer_keeps_its_name(tmp_path):
    model = lamina.Sequential([lamina.layers.InputLayer(input_shape=(4,), name="pixels"),
                               lamina.layers.Dense(2)])
    svg = plot_model(model, to_file=str(tmp_path / "m.svg"), show_layer_names=True).data.decode()
    assert "pixels (InputLayer)" in svg


def test_expand_nested(tmp_path):
    inner = lamina.Sequential([lamina.layers.Dense(5, activation="tanh"), lamina.layers.Dense(4)], name="block")
    model = lamina.Sequential([lamina.layers.Dense(8, input_shape=(3,)), inner, lamina.layers.Dense(1)])
    folded = plot_model(model, to_file=str(tmp_path / "f.svg"), show_shapes=True, show_layer_names=True).data.decode()
    assert "block (Sequential)" in folded and "dense_1 (Dense)" not in folded
    assert "Input shape: (None, 8)" in folded and "Output shape: (None, 4)" in folded
    expanded = plot_model(model, to_file=str(tmp_path / "e.svg"), expand_nested=True,
                          show_layer_names=True).data.decode()
    assert "block (Sequential)" not in expanded and ">block<" in expanded  # the dashed frame's title
    assert "dense (Dense)" in expanded and "dense_1 (Dense)" in expanded
    assert expanded.count("<line ") == 4  # input -> dense_2 -> dense -> dense_1 -> dense_3
    read_png(plot_model(model, to_file=str(tmp_path / "e.png"), expand_nested=True, dpi=72).filename)


def test_pdf(tmp_path):
    path = tmp_path / "model.pdf"
    picture = plot_model(lesson_model(), to_file=str(path))
    assert path.read_bytes()[:5] == b"%PDF-" and picture.format == "pdf"
    assert picture._repr_png_() is None and picture._repr_svg_() is None


def test_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    picture = plot_model(lesson_model(), to_file=None)
    assert picture.filename is None and picture.data[:4] == b"\x89PNG"
    assert list(tmp_path.iterdir()) == []


def test_svg_needs_no_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    text = plot_model(lesson_model(), to_file=str(tmp_path / "m.svg"), show_layer_names=True).data.decode()
    assert "dense_2 (Dense)" in text
    with pytest.raises(ImportError):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.png"))


def test_pyplot_backend_is_left_alone(tmp_path):
    import matplotlib

    before = matplotlib.get_backend()
    plot_model(lesson_model(), to_file=str(tmp_path / "m.png"), dpi=50)
    assert matplotlib.get_backend() == before


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"not yet been built"):
        plot_model(lamina.Sequential([lamina.layers.Dense(3)]), to_file=str(tmp_path / "m.png"))
    with pytest.raises(ValueError, match=r"rankdir to be one of \['TB', 'LR', 'BT', 'RL'\], got 'XY'"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.png"), rankdir="XY")
    with pytest.raises(ValueError, match=r"can write \.png, \.jpg, \.jpeg, \.pdf, \.svg files; got to_file='m\.gif'"):
        plot_model(lesson_model(), to_file="m.gif")
    with pytest.raises(ValueError, match=r"dpi to be a positive number, got 0"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.png"), dpi=0)


def test_bottom_to_top_reverses_the_arrows(tmp_path):
    text = plot_model(deep_model(2), to_file=str(tmp_path / "m.svg"), rankdir="BT").data.decode()
    root = ElementTree.fromstring(text)
    arrows = [element for element in root.iter() if element.tag.endswith("line")]
    assert all(float(a.get("y2")) < float(a.get("y1")) for a in arrows)  # pointing up


def test_keras_default_shows_class_names_only(tmp_path):
    text = plot_model(lesson_model(), to_file=str(tmp_path / "m.svg")).data.decode()
    assert ">Dense<" in text and ">Flatten<" in text and "dense_1" not in text and "(Dense)" not in text


@pytest.mark.parametrize("suffix, magic", [(".jpg", b"\xff\xd8\xff"), (".jpeg", b"\xff\xd8\xff"),
                                           (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<svg")])
def test_every_format_keras_writes(tmp_path, suffix, magic):
    path = tmp_path / f"model{suffix}"
    picture = plot_model(lesson_model(), to_file=str(path), show_shapes=True, dpi=72)
    assert path.read_bytes().startswith(magic) and picture.data == path.read_bytes()
    if suffix in (".jpg", ".jpeg"):
        import matplotlib.image as mpimg

        image = mpimg.imread(str(path))
        assert image.shape[0] > image.shape[1] > 50 and picture._repr_jpeg_() == picture.data


def test_splines_is_accepted_and_unknown_arguments_are_refused(tmp_path):
    for splines in ("ortho", "polyline", "curved", "line"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.svg"), splines=splines)
    with pytest.raises(ValueError, match=r"splines to be one of Graphviz's .*got 'wavy'"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.svg"), splines="wavy")
    with pytest.raises(ValueError, match=r"unrecognized keyword arguments: \['show_colours'\]"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.svg"), show_colours=True)
    with pytest.raises(ValueError, match="does not support layer_range"):
        plot_model(lesson_model(), to_file=str(tmp_path / "m.svg"), layer_range=["dense", "dense_2"])
