"""Run the TorchScript model on an .npy input and write the logits.

    /usr/bin/python3 models/train/parity.py --model models/omnicloud.torchscript.pt --input in.npy --output out.npy

Input: N x 3 x H x W float32 (already z-scored red, green, nir), H and W
multiples of 16. Output: N x 4 x H x W float32 logits.
"""
import argparse

import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="models/omnicloud.torchscript.pt")
ap.add_argument("--input", required=True)
ap.add_argument("--output", required=True)
a = ap.parse_args()
torch.set_num_threads(2)
m = torch.jit.load(a.model, map_location="cpu").eval()
x = np.load(a.input).astype(np.float32)
with torch.no_grad():
    y = m(torch.from_numpy(np.ascontiguousarray(x))).numpy().astype(np.float32)
np.save(a.output, y)
