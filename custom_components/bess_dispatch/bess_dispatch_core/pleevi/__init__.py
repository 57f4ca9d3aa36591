"""The Pleevi profile: measurements in Pleevi's format and the site's device_list entry.

Pure (no Home Assistant). docs/pleevi.md describes what Pleevi receives and what the JSON
Schemas beside this file encode.
"""

from .device_entry import BatteryDeviceEntry, battery_device_entry
from .errors import PleeviValueError
from .measurement import PleeviMeasurement
from .policies import Recurrence, SocPolicy
from .topic import PleeviTopicTemplate

__all__ = [
    "BatteryDeviceEntry",
    "PleeviMeasurement",
    "PleeviTopicTemplate",
    "PleeviValueError",
    "Recurrence",
    "SocPolicy",
    "battery_device_entry",
]
