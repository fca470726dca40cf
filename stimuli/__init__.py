"""gazeread: stimuli (image loading, manifests, image <-> screen layout, demo phantoms).

``stimuli.image_screen`` (PsychoPy) is not imported here: import it where you draw.
"""

from stimuli.demo import write_demo_stimuli
from stimuli.image import ImageLoadError, ImageWarning, LoadedImage
from stimuli.layout import ImageLayout, fit_image
from stimuli.loading import load_image
from stimuli.manifest import (
    Manifest,
    ManifestCheck,
    ManifestError,
    ManifestProblem,
    StimulusEntry,
    check_manifest,
    load_manifest,
)
from stimuli.phantoms import make_phantom
from stimuli.preload import ImagePreloader, PreparedImage, resample_for_display

__all__ = [
    "ImageLayout",
    "ImageLoadError",
    "ImagePreloader",
    "ImageWarning",
    "LoadedImage",
    "Manifest",
    "ManifestCheck",
    "ManifestError",
    "ManifestProblem",
    "PreparedImage",
    "StimulusEntry",
    "check_manifest",
    "fit_image",
    "load_image",
    "load_manifest",
    "make_phantom",
    "resample_for_display",
    "write_demo_stimuli",
]
