"""Does this CPU's onnxruntime saturate int8 convolutions? (why quantize.py keeps weights in 7 bits)

One QDQ convolution (8 input channels, 1x1, every weight w) over an input of 255 everywhere: the exact output is
255 x w x 8. onnxruntime runs it as a uint8 x int8 integer convolution. On x86 CPUs without VNNI its kernel adds
each pair of products into a signed 16-bit integer, which saturates at 32,767: with w = 127 a pair is 64,770 and
the output comes out near 4 x 32,767 instead of 259,080; with w = 63 (7-bit weights) a pair is 32,130 and fits.
On a CPU with VNNI both come out exact.

  /tmp/q/bin/python training/detector/saturation-check.py      # the venv of quantize.py's header

2026-12-08, 2-core AMD EPYC (Zen 3: AVX2, no VNNI), onnxruntime 1.30.0:
  weights 127: exact 259080, onnxruntime 131072 (saturated)
  weights 63: exact 128520, onnxruntime 129024 (exact within the output's quantisation step of 1024)
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 8
OUT_SCALE = 1024.0  # the output's quantisation step: uint8 x 1024 holds up to 261,120


def model(w: int) -> bytes:
    inits = [numpy_helper.from_array(np.array(1.0, np.float32), "one"), numpy_helper.from_array(np.array(0, np.uint8), "zu"),
             numpy_helper.from_array(np.full((1, CHANNELS, 1, 1), w, np.int8), "w"), numpy_helper.from_array(np.array(0, np.int8), "zs"),
             numpy_helper.from_array(np.array(OUT_SCALE, np.float32), "os")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "one", "zu"], ["xq"]), helper.make_node("DequantizeLinear", ["xq", "one", "zu"], ["xd"]),
             helper.make_node("DequantizeLinear", ["w", "one", "zs"], ["wd"]), helper.make_node("Conv", ["xd", "wd"], ["y"]),
             helper.make_node("QuantizeLinear", ["y", "os", "zu"], ["yq"]), helper.make_node("DequantizeLinear", ["yq", "os", "zu"], ["out"])]
    graph = helper.make_graph(nodes, "one_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, 4, 4])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 4, 4])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString()


def main() -> None:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    x = np.full((1, CHANNELS, 4, 4), 255.0, np.float32)
    for w in (127, 63):
        got = ort.InferenceSession(model(w), opts, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0].ravel()[0]
        exact = 255 * w * CHANNELS
        verdict = "exact within the output's quantisation step" if abs(got - exact) <= OUT_SCALE / 2 else "saturated"
        print(f"weights {w}: exact {exact}, onnxruntime {got:.0f} ({verdict})")


if __name__ == "__main__":
    main()
