"""Dynamic z-score normalisation, exactly as defined in models/MANIFEST.md.

For each patch and each channel independently:
 1. a pixel is valid unless all channels equal the nodata value, or any
    channel is NaN or +-Inf;
 2. mean and std (population, ddof=0, float64) over the valid pixels of that
    channel;
 3. std == 0 (or no valid pixels) -> std = 1;
 4. valid pixels become (x - mean) / std; invalid pixels become nodata_fill.

`zscore` works on one C x H x W numpy array (reference implementation, used to
generate the Go test vectors); `zscore_torch` is the batched equivalent used
in training (N x C x H x W tensors) and gives the same numbers.
"""
import numpy as np


def valid_mask(x, nodata=None):
    """x: C x H x W array. Returns H x W bool mask of valid pixels."""
    x = np.asarray(x)
    finite = np.all(np.isfinite(x), axis=0)
    if nodata is None:
        return finite
    if isinstance(nodata, float) and np.isnan(nodata):
        return finite
    all_nodata = np.all(x == nodata, axis=0)
    return finite & ~all_nodata


def zscore(x, nodata=None, fill=0.0):
    """Normalise a C x H x W patch. Returns float32 C x H x W."""
    x = np.asarray(x)
    c = x.shape[0]
    valid = valid_mask(x, nodata)
    out = np.full(x.shape, fill, dtype=np.float32)
    n = int(valid.sum())
    for ch in range(c):
        if n == 0:
            continue
        v = x[ch][valid].astype(np.float64)
        mean = v.mean()
        std = v.std()  # ddof=0
        if not np.isfinite(std) or std == 0:
            std = 1.0
        out[ch][valid] = ((v - mean) / std).astype(np.float32)
    return out


def zscore_torch(x, valid=None, fill=0.0):
    """Batched z-score. x: N x C x H x W float tensor; valid: optional N x H x W
    bool tensor of pixels that are valid for other reasons (e.g. nodata already
    detected). Non-finite pixels are always invalid. Statistics in float64."""
    import torch
    finite = torch.isfinite(x).all(dim=1)
    v = finite if valid is None else (finite & valid)
    xd = torch.where(v[:, None], x, torch.zeros((), dtype=x.dtype)).double()
    w = v[:, None].double()
    n = w.sum(dim=(2, 3), keepdim=True)
    nz = n.clamp(min=1)
    mean = (xd * w).sum(dim=(2, 3), keepdim=True) / nz
    var = (((xd - mean) * w) ** 2).sum(dim=(2, 3), keepdim=True) / nz
    std = var.sqrt()
    std = torch.where((std == 0) | (n == 0), torch.ones_like(std), std)
    out = ((xd - mean) / std).float()
    return torch.where(v[:, None], out, torch.full_like(out, fill))
