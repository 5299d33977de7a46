"""Backbone architectures: plain `nn.Module`s, one file each, architecture only.

They take RGB in [0, 1] as N x 3 x H x W and return the restored image of the same shape, padding
internally where their down-sampling needs a multiple. Registration lives in `zoo.catalog`.
"""
