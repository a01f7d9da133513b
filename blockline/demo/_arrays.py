"""The array types and date units the demo's modules share."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["DAY", "NAT", "BoolArray", "DateArray", "FloatArray", "IntArray", "ObjectArray", "StrArray"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]
DateArray = npt.NDArray[np.datetime64]
ObjectArray = npt.NDArray[np.object_]

DAY = np.timedelta64(1, "D")
NAT = np.datetime64("NaT", "D")
