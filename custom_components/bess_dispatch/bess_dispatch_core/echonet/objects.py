"""ECHONET Lite objects the gateway reads and drives, and their property codes (EPC).

Codes and data types are those of the ECHONET Lite APPENDIX "Detailed Requirements for
ECHONET Device objects"; docs/echonet.md lists them with their units.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class EchonetClass(IntEnum):
    """Class group 0x02 (housing/facilities) classes, as (group << 8) | class."""

    STORAGE_BATTERY = 0x027D
    HOME_SOLAR = 0x0279
    SMART_METER = 0x0288  # low-voltage smart electric energy meter
    MULTI_INPUT_PCS = 0x02A5

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    EchonetClass.STORAGE_BATTERY: "storage battery (0x027D)",
    EchonetClass.HOME_SOLAR: "home solar power generation (0x0279)",
    EchonetClass.SMART_METER: "low-voltage smart electric energy meter (0x0288)",
    EchonetClass.MULTI_INPUT_PCS: "multi-input PCS (0x02A5)",
}

NODE_PROFILE = 0x0EF0


@dataclass(frozen=True, slots=True, order=True)
class EchonetObject:
    """One object (EOJ) on a node: class group, class and instance code."""

    group: int
    class_code: int
    instance: int

    @classmethod
    def of(cls, echonet_class: EchonetClass | int, instance: int = 1) -> EchonetObject:
        code = int(echonet_class)
        return cls(code >> 8, code & 0xFF, instance)

    @property
    def class_id(self) -> int:
        """(group << 8) | class, comparable with :class:`EchonetClass`."""
        return (self.group << 8) | self.class_code

    def __str__(self) -> str:
        return f"0x{self.group:02X}{self.class_code:02X}{self.instance:02X}"


# Storage battery (0x027D).
BATTERY_AC_EFFECTIVE_CAPACITY = 0xA0  # Wh, unsigned long (charging side)
BATTERY_AC_CHARGED = 0xA8  # 0.001 kWh, unsigned long
BATTERY_AC_DISCHARGED = 0xA9  # 0.001 kWh, unsigned long
BATTERY_RATED_ENERGY = 0xD0  # Wh, unsigned long (nameplate)
BATTERY_POWER = 0xD3  # W, signed long: + charging, - discharging
BATTERY_DISCHARGED = 0xD6  # 0.001 kWh, unsigned long
BATTERY_CHARGED = 0xD8  # 0.001 kWh, unsigned long
BATTERY_OPERATION_MODE = 0xDA  # unsigned char, see OperationMode
BATTERY_REMAINING_WH = 0xE2  # Wh, unsigned long ("remaining stored electricity 1")
BATTERY_REMAINING_PERCENT = 0xE4  # %, unsigned char ("remaining stored electricity 3")
BATTERY_CHARGE_POWER_SETTING = 0xEB  # W, unsigned long
BATTERY_DISCHARGE_POWER_SETTING = 0xEC  # W, unsigned long

# Home solar power generation (0x0279).
SOLAR_POWER = 0xE0  # W, unsigned short
SOLAR_GENERATED = 0xE1  # 0.001 kWh, unsigned long

# Low-voltage smart electric energy meter (0x0288).
METER_COEFFICIENT = 0xD3  # unsigned long, 1..999999; absent = 1
METER_IMPORTED = 0xE0  # normal direction (bought), unsigned long x coefficient x unit
METER_UNIT = 0xE1  # unsigned char, see METER_UNITS_KWH
METER_EXPORTED = 0xE3  # reverse direction (sold)
METER_POWER = 0xE7  # W, signed long: + import, - export

# Multi-input PCS (0x02A5).
PCS_OUTPUT = 0xE0  # normal direction, 0.001 kWh, unsigned long
PCS_INPUT = 0xE3  # reverse direction, 0.001 kWh, unsigned long
PCS_POWER = 0xE7  # W, signed long: + output

#: Meter 0xE1: unit of one count of the cumulative amounts, in kWh.
METER_UNITS_KWH: dict[int, float] = {
    0x00: 1.0,
    0x01: 0.1,
    0x02: 0.01,
    0x03: 0.001,
    0x04: 0.0001,
    0x0A: 10.0,
    0x0B: 100.0,
    0x0C: 1000.0,
    0x0D: 10000.0,
}
#: Meter 0xE0/0xE3 counts run 0..99,999,999 (then wrap to 0).
METER_MAX_COUNT = 99_999_999
METER_MAX_COEFFICIENT = 999_999


class OperationMode(IntEnum):
    """Storage battery 0xDA values the gateway writes or shows."""

    OTHER = 0x40
    RAPID_CHARGING = 0x41
    CHARGING = 0x42
    DISCHARGING = 0x43
    STANDBY = 0x44
    TEST = 0x45
    AUTO = 0x46
    RESTART = 0x48
    CAPACITY_RECALCULATION = 0x49
