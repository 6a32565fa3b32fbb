"""Published reference colours and nominal sizes of the colour charts Skintrack recognises.

ColorChecker Classic (and the Classic page of the ColorChecker Passport and Mini, which use the
same colorants): X-Rite (2016), "New color specifications for ColorChecker SG and Classic Charts",
CIELAB under ICC D50 (2° observer) for charts made after November 2014, as tabulated in the
colour-science package (``DATA_COLORCHECKER24_AFTER_NOV2014_CIE_LAB``, BSD-3-Clause). They are
adapted here to D65, the white of Skintrack's colour pipeline, with the Bradford transform
(Lindbloom's matrix), then converted to linear sRGB; patch order is the chart's reading order,
dark skin (top left, with the text the right way up) to black.
"""

from __future__ import annotations

import numpy as np

from skintrack.core.colour import D65_WHITE, lab_to_xyz, xyz_to_lab, xyz_to_linear

COLORCHECKER_NAMES: tuple[str, ...] = (
    "dark skin",
    "light skin",
    "blue sky",
    "foliage",
    "blue flower",
    "bluish green",
    "orange",
    "purplish blue",
    "moderate red",
    "purple",
    "yellow green",
    "orange yellow",
    "blue",
    "green",
    "red",
    "yellow",
    "magenta",
    "cyan",
    "white 9.5",
    "neutral 8",
    "neutral 6.5",
    "neutral 5",
    "neutral 3.5",
    "black 2",
)

# CIELAB D50 (X-Rite 2016, charts made after November 2014), in COLORCHECKER_NAMES order.
COLORCHECKER_LAB_D50 = np.array(
    [
        [37.54, 14.37, 14.92],
        [64.66, 19.27, 17.50],
        [49.32, -3.82, -22.54],
        [43.46, -12.74, 22.72],
        [54.94, 9.61, -24.79],
        [70.48, -32.26, -0.37],
        [62.73, 35.83, 56.50],
        [39.43, 10.75, -45.17],
        [50.57, 48.64, 16.67],
        [30.10, 22.54, -20.87],
        [71.77, -24.13, 58.19],
        [71.51, 18.24, 67.37],
        [28.37, 15.42, -49.80],
        [54.38, -39.72, 32.27],
        [42.43, 51.05, 28.62],
        [81.80, 2.67, 80.41],
        [50.63, 51.28, -14.12],
        [49.57, -29.71, -28.32],
        [95.19, -1.03, 2.93],
        [81.29, -0.57, 0.44],
        [66.89, -0.75, -0.06],
        [50.76, -0.13, 0.14],
        [35.63, -0.46, -0.48],
        [20.64, 0.07, -0.46],
    ]
)

# ICC D50 white (x, y) = (0.3457, 0.3585) as XYZ with Y = 1
ICC_D50_WHITE = np.array([0.3457 / 0.3585, 1.0, (1.0 - 0.3457 - 0.3585) / 0.3585])

BRADFORD = np.array(
    [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ]
)


def bradford(source_white: np.ndarray, target_white: np.ndarray) -> np.ndarray:
    """The 3x3 Bradford chromatic adaptation matrix from one white (XYZ) to another."""
    src = BRADFORD @ np.asarray(source_white, np.float64)
    dst = BRADFORD @ np.asarray(target_white, np.float64)
    return np.linalg.inv(BRADFORD) @ np.diag(dst / src) @ BRADFORD


def colorchecker_lab_d65() -> np.ndarray:
    """The 24 reference colours in CIELAB relative to D65 (Bradford-adapted), (24, 3)."""
    xyz_d50 = lab_to_xyz(COLORCHECKER_LAB_D50, ICC_D50_WHITE)
    xyz_d65 = xyz_d50 @ bradford(ICC_D50_WHITE, D65_WHITE).T
    return xyz_to_lab(xyz_d65, D65_WHITE)


def colorchecker_linear() -> np.ndarray:
    """The 24 reference colours in linear sRGB (D65), (24, 3); cyan lies slightly outside sRGB."""
    xyz_d50 = lab_to_xyz(COLORCHECKER_LAB_D50, ICC_D50_WHITE)
    return xyz_to_linear(xyz_d50 @ bradford(ICC_D50_WHITE, D65_WHITE).T)


# Nominal centre-to-centre distance of neighbouring patches, mm. NOMINAL: derived from the charts'
# stated outer sizes and OpenCV's MCC24 model (patch 2.5 units, pitch 2.75 units), not measured on
# a chart; the mm scale a ColorChecker gives is marked approximate (±5 %) for that reason.
NOMINAL_PATCH_PITCH_MM: dict[str, float] = {
    "colorchecker-classic": 41.9,  # 279 x 216 mm chart, 38 mm patches
    "colorchecker-passport": 14.0,  # the Classic page of the Passport (case 125 x 90 mm)
}
