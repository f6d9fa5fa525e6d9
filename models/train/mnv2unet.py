"""U-Net on an ImageNet MobileNetV2 encoder (run 5, recipe B / C).

Input: N x 3 x H x W z-scored (red, green, nir); H and W multiples of 32.
Output: N x 4 x H x W logits (clear, thick_cloud, thin_cloud, cloud_shadow).

Encoder: torchvision's MobileNetV2 1.0 `features[0:18]` (up to the
320-channel block at stride 32, the final 1x1 1280-channel convolution is
dropped). The pretrained weights (`../shared/pretrained/
mobilenet_v2_imagenet_torchvision.pth`, converted from TensorFlow / google-coral
test_data, Apache-2.0) come from TFLite, which pads stride-2 convolutions
bottom/right only; every stride-2 3x3 convolution is therefore preceded by a
ZeroPad2d((0, 1, 0, 1)) and has padding 0 (same output size for even inputs,
which multiples of 32 guarantee). Decoder: transposed-conv x2 upsampling,
concatenation with the encoder skip, residual double-conv `Block` from
model.py; a one-convolution stem gives the full-resolution skip.
"""
import torch
import torch.nn as nn

from model import Up, cbr

STRIDE = 32
# (stage slice of features, channels at its output, stride)
STAGES = ((0, 2, 16), (2, 4, 24), (4, 7, 32), (7, 14, 96), (14, 18, 320))


def _tflite_pad(module):
    """Replace each stride-2 3x3 convolution by bottom/right zero padding and
    an unpadded convolution (TFLite 'SAME' padding for even input sizes)."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Conv2d) and child.stride == (2, 2) and child.kernel_size == (3, 3):
            child.padding = (0, 0)
            setattr(module, name, nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), child))
        else:
            _tflite_pad(child)


class MNV2UNet(nn.Module):
    def __init__(self, pretrained=None, dec=(96, 48, 32, 24, 16), n_classes=4):
        super().__init__()
        import torchvision
        mb = torchvision.models.mobilenet_v2()
        if pretrained:
            mb.load_state_dict(torch.load(pretrained, map_location="cpu"))
        f = mb.features
        _tflite_pad(f)
        self.enc = nn.ModuleList([f[a:b] for a, b, _ in STAGES])
        ch = [c for _, _, c in STAGES]
        self.stem = cbr(3, dec[4])
        self.u4 = Up(ch[4], ch[3], dec[0])
        self.u3 = Up(dec[0], ch[2], dec[1])
        self.u2 = Up(dec[1], ch[1], dec[2])
        self.u1 = Up(dec[2], ch[0], dec[3])
        self.u0 = Up(dec[3], dec[4], dec[4])
        self.head = nn.Conv2d(dec[4], n_classes, 1)

    def forward(self, x):
        s0 = self.stem(x)
        skips = []
        y = x
        for stage in self.enc:
            y = stage(y)
            skips.append(y)
        y = self.u4(skips[4], skips[3])
        y = self.u3(y, skips[2])
        y = self.u2(y, skips[1])
        y = self.u1(y, skips[0])
        y = self.u0(y, s0)
        return self.head(y)


if __name__ == "__main__":
    m = MNV2UNet()
    print("params", sum(p.numel() for p in m.parameters()))
    with torch.no_grad():
        print(m(torch.randn(1, 3, 64, 96)).shape)
