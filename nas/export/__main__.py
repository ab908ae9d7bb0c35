"""``python -m nas.export arch=NAME_OR_PATH format=onnx|torchscript`` (see nas.export)."""

from nas.export._cli import main

main()
