"""The ``lamina`` command: train the lesson's MLP and get a report, or use a saved model.

    lamina train --dataset fashion_mnist --layers 300,100 --epochs 30 --out runs/lesson
    lamina summary runs/lesson/model.keras
    lamina evaluate runs/lesson/model.keras --dataset fashion_mnist
    lamina predict runs/lesson/model.keras images.npy --output predictions.csv

Datasets are ``fashion_mnist``, ``mnist`` or an ``.npz`` file holding ``x_train, y_train,
x_test, y_test`` (and optionally ``class_names``); uint8 images are scaled to [0, 1] as in the
lesson. Exit status: 0 done, 2 bad input (one message on stderr), 1 a command that could not be
carried out (the message says why), 130 interrupted by Ctrl-C. Anything else is a bug in lamina
and ends with its traceback.
"""
from __future__ import annotations

import shlex
import sys

from .errors import FAILURE, INTERRUPTED, USAGE, Failure, UsageError

__all__ = ["main"]

HINT = "try 'lamina train' (the lesson's model on Fashion-MNIST) or 'lamina --help'"


def _report(error: BaseException) -> None:
    """``lamina: error: ...`` on stderr; a message of several lines keeps them."""
    print(f"lamina: error: {error}", file=sys.stderr)


def _check_names(args) -> None:
    """Unknown activation or optimizer names fail now, not after the data is loaded."""
    if getattr(args, "activation", None) is not None:
        from ..activations import get as get_activation

        get_activation(args.activation)
    if getattr(args, "optimizer", None) is not None:
        from ..optimizers import get as get_optimizer

        get_optimizer(args.optimizer)


def _parser():
    from .. import __version__
    from . import arguments, train, use

    return arguments.build(__version__, {"train": train.train, "summary": use.summary, "evaluate": use.evaluate,
                                         "predict": use.predict})


def main(argv: list[str] | None = None) -> int:
    """Run the ``lamina`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    >>> main(["train", "--layers", "0"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_usage(sys.stderr)
            print(f"lamina: error: no command given; {HINT}", file=sys.stderr)
            return USAGE
        args.command_line = shlex.join(["lamina", *argv])
        try:
            _check_names(args)
        except ValueError as error:
            raise UsageError(str(error)) from None
        return args.handler(args)
    except UsageError as error:
        _report(error)
        return USAGE
    except Failure as error:
        _report(error)
        return FAILURE
    except OSError as error:  # the disk is full, a folder vanished...: not lamina's bug, not bad input
        _report(error)
        return FAILURE
    except KeyboardInterrupt:
        print("\nlamina: interrupted", file=sys.stderr)
        return INTERRUPTED
