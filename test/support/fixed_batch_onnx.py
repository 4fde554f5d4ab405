"""Writes a copy of an ONNX model whose batch dimension is fixed at 1, as some exporters leave it.

Usage: python fixed_batch_onnx.py SOURCE.onnx TARGET.onnx
"""

import sys

import onnx


def main():
    model = onnx.load(sys.argv[1])
    for tensor in [*model.graph.input, *model.graph.output]:
        dimension = tensor.type.tensor_type.shape.dim[0]
        dimension.Clear()
        dimension.dim_value = 1
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
