"""What coic-zoo uses when the user names nothing, each default written once.

Every CLI option, config field and library signature with one of these defaults reads it from here,
so `zoo train`, `TrainConfig`, `zoo bench` and `build_model` can never disagree. The module imports
nothing: the CLI reads it at import time without paying for torch.
"""

DATA = "synthmix"  # the procedural mixed-rain benchmark embedded in the package (`zoo.data.synth`)
CONFIG = "tiny"  # a backbone's CPU-sized configuration; "paper" is the published model
PROTOCOL = "y-matlab"  # the deraining literature's MATLAB PSNR/SSIM recipe (`zoo.evaluation.protocols`)
EVAL_COUNT = 16  # test images per set scored during and after training
EVAL_SIZE = 128  # side of the synthmix test images scored during and after training
