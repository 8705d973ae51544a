"""The command line's grammar: the sub-commands, their options and the checks on each value.

Values are bounded here, before any data is read: a layer of 10**8 units or an infinite
learning rate is a usage error, not an allocation or a run that trains to NaN.
"""
from __future__ import annotations

import argparse
import math

from .errors import UsageError

MAX_UNITS = 65_536  # units in one hidden layer
MAX_LAYERS = 64  # hidden layers
MAX_EPOCHS = 1_000_000
MAX_BATCH = 1 << 24


class Parser(argparse.ArgumentParser):
    """argparse, with its errors raised as :class:`UsageError` (one message, no usage dump)."""

    def error(self, message):
        """argparse's error, raised as one :class:`UsageError` naming the sub-command."""
        command = self.prog.removeprefix("lamina").strip()
        raise UsageError(f"{command}: {message}" if command else message)


def positive_int(limit: int):
    """An argparse type: an int in ``[1, limit]``."""
    def convert(text: str) -> int:
        """``text`` as the bounded int, or argparse's type error."""
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"expected a positive integer up to {limit:,}, got {text!r}")
        return value
    return convert


def layer_sizes(text: str) -> list[int]:
    """``"300,100"`` as ``[300, 100]``: at most ``MAX_LAYERS`` sizes, each in ``[1, MAX_UNITS]``."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes separated by commas "
                                         f"(such as 300,100), got {text!r}")
    if max(sizes) > MAX_UNITS or len(sizes) > MAX_LAYERS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_LAYERS} layers of at most {MAX_UNITS:,} units "
                                         f"each, got {text!r}")
    return sizes


def fraction(text: str) -> float:
    """A float in ``[0, 1)``."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def learning_rate(text: str) -> float:
    """A finite positive float (``inf`` would train to NaN and save it)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (math.isfinite(value) and value > 0.0):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _train_command(commands) -> argparse.ArgumentParser:
    run = commands.add_parser("train", help="train an MLP and write a report",
                              description="Train an MLP (defaults: the lesson's Fashion-MNIST model) and write "
                                          "the model, its history, pictures and report.html to --out.")
    run.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist, mnist or an .npz file "
                     "with x_train, y_train, x_test, y_test (and optionally class_names) (default: fashion_mnist)")
    run.add_argument("--layers", type=layer_sizes, default=[300, 100],
                     help="hidden layer sizes, comma separated (default: 300,100)")
    run.add_argument("--activation", default="relu", help="hidden layers' activation (default: relu)")
    run.add_argument("--optimizer", default="sgd", help="optimizer name (default: sgd)")
    run.add_argument("--learning-rate", type=learning_rate, default=0.01, help="default: 0.01")
    run.add_argument("--epochs", type=positive_int(MAX_EPOCHS), default=30, help="default: 30")
    run.add_argument("--batch-size", type=positive_int(MAX_BATCH), default=32, help="default: 32")
    run.add_argument("--validation-split", type=fraction, default=0.1, help="default: 0.1")
    run.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    run.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="fit's verbosity (default: 1)")
    run.add_argument("--out", help="output folder, new or empty (default: runs/<dataset>-<timestamp>)")
    run.add_argument("--overwrite", action="store_true",
                     help="let --out be a folder that already holds files (lamina's files in it are replaced)")
    return run


def build(version: str, handlers: dict) -> argparse.ArgumentParser:
    """The ``lamina`` parser; ``handlers`` maps each command to the function that runs it."""
    parser = Parser(prog="lamina", description="Train Keras-style MLPs on NumPy and look at the results.",
                    epilog="Start with: lamina train (the lesson's model on Fashion-MNIST; about a minute).")
    parser.add_argument("--version", action="version", version=f"lamina {version}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _train_command(commands).set_defaults(handler=handlers["train"])

    show = commands.add_parser("summary", help="print a saved model's summary")
    show.add_argument("model", help="a .keras file")
    show.set_defaults(handler=handlers["summary"])

    score = commands.add_parser("evaluate", help="evaluate a saved model on a dataset's test split")
    score.add_argument("model", help="a .keras file")
    score.add_argument("--dataset", default="fashion_mnist", help="as for train (default: fashion_mnist)")
    score.add_argument("--batch-size", type=positive_int(MAX_BATCH), default=32)
    score.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    score.set_defaults(handler=handlers["evaluate"])

    guess = commands.add_parser("predict", help="predict with a saved model")
    guess.add_argument("model", help="a .keras file")
    guess.add_argument("input", help="an .npy file of samples")
    guess.add_argument("--output", help="write the predictions to this .csv or .npy file (default: print "
                                        "one predicted class per line)")
    guess.add_argument("--overwrite", action="store_true", help="let --output replace an existing file")
    guess.add_argument("--dataset", help="name the classes after this dataset (fashion_mnist, mnist or an .npz "
                                         "with class_names); default: the run's metrics.json beside the model")
    guess.add_argument("--batch-size", type=positive_int(MAX_BATCH), default=32)
    guess.set_defaults(handler=handlers["predict"])
    return parser
