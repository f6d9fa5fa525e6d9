"""Compact U-Net for cloud / cloud-shadow segmentation (stride 16).

Input: N x 3 x H x W z-scored (red, green, nir); H and W multiples of 16.
Output: N x 4 x H x W logits (clear, thick_cloud, thin_cloud, cloud_shadow).
"""
import torch
import torch.nn as nn

STRIDE = 16


def cbr(cin, cout, dil=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=dil, dilation=dil, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Block(nn.Module):
    def __init__(self, cin, cout, dils=(1, 1)):
        super().__init__()
        self.c1 = cbr(cin, cout, dils[0])
        self.c2 = cbr(cout, cout, dils[1])
        self.skip = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.c2(self.c1(x)) + self.skip(x)


class Up(nn.Module):
    def __init__(self, cin, cskip, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.block = Block(cout + cskip, cout)

    def forward(self, x, skip):
        return self.block(torch.cat([self.up(x), skip], dim=1))


class CloudUNet(nn.Module):
    def __init__(self, in_ch=3, n_classes=4, w=(16, 32, 48, 96, 128)):
        super().__init__()
        self.stem = Block(in_ch, w[0])
        self.e1 = Block(w[0], w[1])
        self.e2 = Block(w[1], w[2])
        self.e3 = Block(w[2], w[3])
        # bottleneck at 1/16 with dilations for a large receptive field
        self.b1 = Block(w[3], w[4], (1, 2))
        self.b2 = Block(w[4], w[4], (4, 8))
        self.pool = nn.MaxPool2d(2)
        self.u3 = Up(w[4], w[3], w[3])
        self.u2 = Up(w[3], w[2], w[2])
        self.u1 = Up(w[2], w[1], w[1])
        self.u0 = Up(w[1], w[0], w[0])
        self.head = nn.Conv2d(w[0], n_classes, 1)

    def forward(self, x):
        s0 = self.stem(x)
        s1 = self.e1(self.pool(s0))
        s2 = self.e2(self.pool(s1))
        s3 = self.e3(self.pool(s2))
        b = self.b2(self.b1(self.pool(s3)))
        y = self.u3(b, s3)
        y = self.u2(y, s2)
        y = self.u1(y, s1)
        y = self.u0(y, s0)
        return self.head(y)


if __name__ == "__main__":
    import time
    torch.set_num_threads(2)
    m = CloudUNet()
    print("params", sum(p.numel() for p in m.parameters()))
    x = torch.randn(8, 3, 256, 256)
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    for i in range(3):
        t = time.time()
        loss = m(x).mean(); opt.zero_grad(); loss.backward(); opt.step()
        print("iter", time.time() - t)
