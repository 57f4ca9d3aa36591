"""A simulated SunSpec site: hybrid inverter (103) + storage controls (124) + meter (203) +
battery (802), with simple physics and a register image built from the official model
definitions (the same ones :mod:`bess_dispatch_core.sunspec` reads with).

Physics, advanced lazily to the clock's time on every Modbus request and on
:meth:`SunSpecSimulation.advance`:
- battery power (positive = charging) = the inverter's own wish ``own_battery_w``
  clamped into the model 124 window ``[-OutWRte, +InWRte]`` % of ``WChaMax`` (each side
  only when its ``StorCtl_Mod`` bit is set), and to 0 at full / at the reserve;
- SoC follows the battery power; grid = load + battery - PV; the inverter's AC power is
  PV - battery for a hybrid inverter (DC-coupled battery, the default) and PV alone when
  ``ac_coupled`` (an AC-link site: the battery has an inverter of its own, which this
  device reports only through models 124 and 802);
- lifetime energies accumulate (the battery's too, though no model reports them);
- watchdog: ``InOutWRte_RvrtTms`` seconds after the last write to the controls, the
  controls revert by themselves (mode 0, rates 100 %).

Served over Modbus TCP by :func:`simulators.sunspec_server.start_sunspec_server`. Imports
``bess_dispatch_core``: the tests' pytest plugin imports this module lazily, since pytest
loads ``-p`` plugins before it puts ``pure/`` on ``sys.path``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bess_dispatch_core.sunspec.decoding import PointValue, decode_model
from bess_dispatch_core.sunspec.definitions import (
    HEADER_LENGTH,
    ModelDefinition,
    load_model_definition,
)
from bess_dispatch_core.sunspec.encoding import encode_value

BASE_ADDRESS = 40000
SUNS = [0x5375, 0x6E53]
MODEL_IDS = (1, 103, 124, 203, 802)
CONTROL_POINTS = frozenset({"StorCtl_Mod", "InWRte", "OutWRte", "InOutWRte_RvrtTms", "WChaMax"})

#: Scale factors the device reports (a mix of negative, zero, positive and one that is
#: "not implemented" (None) for a point that is not implemented either).
SCALE_FACTORS: dict[int, dict[str, int | None]] = {
    103: {
        "A_SF": -2,
        "V_SF": -1,
        "W_SF": 0,
        "Hz_SF": -2,
        "VA_SF": 0,
        "VAr_SF": None,
        "PF_SF": None,
        "WH_SF": 0,
        "DCA_SF": -2,
        "DCV_SF": -1,
        "DCW_SF": 0,
        "Tmp_SF": -1,
    },
    124: {
        "WChaMax_SF": 1,
        "WChaDisChaGra_SF": 0,
        "VAChaMax_SF": None,
        "MinRsvPct_SF": -1,
        "ChaState_SF": -1,
        "StorAval_SF": -1,
        "InBatV_SF": None,
        "InOutWRte_SF": -2,
    },
    203: {
        "A_SF": -2,
        "V_SF": -1,
        "Hz_SF": -2,
        "W_SF": 0,
        "VA_SF": 0,
        "VAR_SF": 0,
        "PF_SF": -2,
        "TotWh_SF": 0,
        "TotVAh_SF": None,
        "TotVArh_SF": None,
    },
    802: {
        "AHRtg_SF": 0,
        "WHRtg_SF": 1,
        "WChaDisChaMax_SF": 0,
        "DisChaRte_SF": None,
        "SoC_SF": -1,
        "DoD_SF": None,
        "SoH_SF": 0,
        "V_SF": -1,
        "CellV_SF": -3,
        "A_SF": -1,
        "AMax_SF": 0,
        "W_SF": 0,
    },
}

COMMON_VALUES: dict[str, PointValue] = {
    "Mn": "BESS Dispatch",
    "Md": "SimHybrid 5",
    "Opt": "sim",
    "Vr": "1.0.0",
    "SN": "SIM-0001",
    "DA": 1,
}

CHARGE_STATUS = {"EMPTY": 2, "DISCHARGING": 3, "CHARGING": 4, "FULL": 5, "HOLDING": 6}


class ManualClock:
    """Seconds that only move when a test says so."""

    def __init__(self, start_s: float = 1_000_000.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now_s += seconds


@dataclass
class SunSpecSimulation:
    """State of the simulated site; attributes are the test's knobs and gauges."""

    clock: Callable[[], float]
    capacity_wh: float = 10_000.0
    max_charge_w: float = 5_000.0
    max_discharge_w: float = 5_000.0
    soc_percent: float = 50.0
    min_reserve_percent: float = 10.0
    #: What the inverter's own control would do with the battery (positive = charge).
    own_battery_w: float = 0.0
    pv_w: float = 3_000.0
    load_w: float = 1_000.0
    #: True: a PV inverter with an AC-coupled battery beside it (see the module's docs).
    ac_coupled: bool = False
    inverter_energy_wh: float = 1_234_567.0
    grid_import_wh: float = 500_000.0
    grid_export_wh: float = 250_000.0
    #: What went into and out of the battery and into the load (no SunSpec point: for
    #: tests to compare with).
    battery_charged_wh: float = 0.0
    battery_discharged_wh: float = 0.0
    load_consumed_wh: float = 0.0
    # Model 124 controls.
    storctl_mod: int = 0
    in_rate_percent: float = 100.0
    out_rate_percent: float = 100.0
    revert_timeout_s: int = 0
    last_control_write_s: float | None = None
    revert_count: int = 0
    #: Every accepted write: (time, point names).
    writes: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)
    _time_s: float = field(init=False)
    _layout: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self._time_s = self.clock()
        self._layout = {}
        address = BASE_ADDRESS + len(SUNS)
        for model_id in MODEL_IDS:
            self._layout[model_id] = address
            address += HEADER_LENGTH + load_model_definition(model_id).length
        self.end_address = address

    # --- physics ----------------------------------------------------------------------
    @property
    def battery_power_w(self) -> float:
        """Battery power now (W, positive = charging), from the controls and the SoC."""
        upper = self.max_charge_w
        lower = -self.max_discharge_w
        if self.storctl_mod & 1:
            upper = self.max_charge_w * self.in_rate_percent / 100.0
        if self.storctl_mod & 2:
            lower = -self.max_charge_w * self.out_rate_percent / 100.0
        power = min(max(self.own_battery_w, lower), upper)
        if (power > 0 and self.soc_percent >= 100.0) or (
            power < 0 and self.soc_percent <= self.min_reserve_percent
        ):
            return 0.0
        return power

    @property
    def inverter_ac_w(self) -> float:
        return self.pv_w if self.ac_coupled else self.pv_w - self.battery_power_w

    @property
    def grid_w(self) -> float:
        """Positive = import from the grid."""
        return self.load_w + self.battery_power_w - self.pv_w

    @property
    def controls_active(self) -> bool:
        return self.storctl_mod != 0 or (self.in_rate_percent, self.out_rate_percent) != (
            100.0,
            100.0,
        )

    def advance(self) -> None:
        """Bring the state to the clock's time, reverting controls on the way if due."""
        now = self.clock()
        while self._time_s < now:
            until = now
            deadline = self._revert_deadline()
            if deadline is not None and deadline < until:
                until = max(deadline, self._time_s)
            self._integrate(until - self._time_s)
            self._time_s = until
            if deadline is not None and until >= deadline:
                self._revert()
        deadline = self._revert_deadline()
        if deadline is not None and now >= deadline:
            self._revert()

    def _revert_deadline(self) -> float | None:
        if self.revert_timeout_s <= 0 or self.last_control_write_s is None:
            return None
        if not self.controls_active:
            return None
        return self.last_control_write_s + self.revert_timeout_s

    def _revert(self) -> None:
        self.storctl_mod = 0
        self.in_rate_percent = 100.0
        self.out_rate_percent = 100.0
        self.last_control_write_s = None
        self.revert_count += 1

    def _integrate(self, seconds: float) -> None:
        hours = seconds / 3600.0
        battery = self.battery_power_w
        self.soc_percent += battery * hours / self.capacity_wh * 100.0
        self.soc_percent = min(100.0, max(self.min_reserve_percent, self.soc_percent))
        inverter = self.inverter_ac_w
        grid = self.grid_w
        self.inverter_energy_wh += max(inverter, 0.0) * hours
        self.grid_import_wh += max(grid, 0.0) * hours
        self.grid_export_wh += max(-grid, 0.0) * hours
        self.battery_charged_wh += max(battery, 0.0) * hours
        self.battery_discharged_wh += max(-battery, 0.0) * hours
        self.load_consumed_wh += max(self.load_w, 0.0) * hours

    # --- register image -----------------------------------------------------------------
    def model_address(self, model_id: int) -> int:
        return self._layout[model_id]

    def point_values(self, model_id: int) -> dict[str, PointValue]:
        """Scaled values of every implemented point (others are "not implemented")."""
        battery = self.battery_power_w
        status = (
            "CHARGING"
            if battery > 0
            else "DISCHARGING"
            if battery < 0
            else "FULL"
            if self.soc_percent >= 100.0
            else "HOLDING"
        )
        if model_id == 1:
            return dict(COMMON_VALUES)
        if model_id == 103:
            phase_a = self.inverter_ac_w / 3 / 230.0
            return {
                "A": round(abs(phase_a) * 3, 2),
                "AphA": round(abs(phase_a), 2),
                "AphB": round(abs(phase_a), 2),
                "AphC": round(abs(phase_a), 2),
                "PhVphA": 230.0,
                "PhVphB": 230.1,
                "PhVphC": 229.9,
                "W": round(self.inverter_ac_w),
                "Hz": 50.0,
                "VA": round(abs(self.inverter_ac_w)),
                "WH": round(self.inverter_energy_wh),
                "DCW": round(self.pv_w),
                "TmpCab": 35.5,
                "St": 4,
                "Evt1": 0,
                "Evt2": 0,
            }
        if model_id == 124:
            return {
                "WChaMax": self.max_charge_w,
                "WChaGra": 100,
                "WDisChaGra": 100,
                "StorCtl_Mod": self.storctl_mod,
                "MinRsvPct": self.min_reserve_percent,
                "ChaState": round(self.soc_percent, 1),
                "StorAval": round(
                    (self.soc_percent - self.min_reserve_percent) / 100 * self.capacity_wh / 48,
                    1,
                ),
                "ChaSt": CHARGE_STATUS[status],
                "OutWRte": self.out_rate_percent,
                "InWRte": self.in_rate_percent,
                "InOutWRte_WinTms": 0,
                "InOutWRte_RvrtTms": self.revert_timeout_s,
                "InOutWRte_RmpTms": 0,
                "ChaGriSet": 1,
            }
        if model_id == 203:
            grid = self.grid_w
            return {
                "A": round(abs(grid) / 230.0, 2),
                "AphA": round(abs(grid) / 690.0, 2),
                "AphB": round(abs(grid) / 690.0, 2),
                "AphC": round(abs(grid) / 690.0, 2),
                "PhV": 230.0,
                "PhVphA": 230.0,
                "PhVphB": 230.0,
                "PhVphC": 230.0,
                "PPV": 400.0,
                "PhVphAB": 400.0,
                "PhVphBC": 400.0,
                "PhVphCA": 400.0,
                "Hz": 50.0,
                "W": round(grid),
                "VA": round(abs(grid)),
                "VAR": 0,
                "PF": 1.0,
                "TotWhExp": round(self.grid_export_wh),
                "TotWhImp": round(self.grid_import_wh),
                "Evt": 0,
            }
        if model_id == 802:
            return {
                "AHRtg": round(self.capacity_wh / 48),
                "WHRtg": self.capacity_wh,
                "WChaRteMax": self.max_charge_w,
                "WDisChaRteMax": self.max_discharge_w,
                "SoCMax": 100.0,
                "SoCMin": self.min_reserve_percent,
                "SoC": round(self.soc_percent, 1),
                "SoH": 98,
                "ChaSt": CHARGE_STATUS[status],
                "LocRemCtl": 0,
                "Typ": 4,
                "State": 3,
                "Evt1": 0,
                "Evt2": 0,
                "EvtVnd1": 0,
                "EvtVnd2": 0,
                "V": 48.0,
                "CellVMax": 3.35,
                "CellVMin": 3.31,
                "A": round(-battery / 48.0, 1),
                "W": round(-battery),  # model 802: discharge positive
                "SetOp": 1,
                "SetInvState": 1,
                "AlmRst": 0,
            }
        raise KeyError(model_id)

    def model_registers(self, model_id: int) -> list[int]:
        definition = load_model_definition(model_id)
        values = self.point_values(model_id)
        factors = SCALE_FACTORS.get(model_id, {})
        registers: list[int] = []
        for point in definition.points:
            value: PointValue
            if point.name == "ID":
                value = model_id
            elif point.name == "L":
                value = definition.length
            elif point.name in factors:
                value = factors[point.name]
            else:
                value = values.get(point.name)
            exponent: int | None = 0
            if isinstance(point.scale_factor, str):
                exponent = factors.get(point.scale_factor)
            elif isinstance(point.scale_factor, int):
                exponent = point.scale_factor
            if exponent is None:
                value = None  # a point whose scale factor is not implemented is neither
            registers.extend(encode_value(point, value, exponent, model_id=model_id))
        return registers

    def register_image(self) -> list[int]:
        """Every register from the base address through the end marker."""
        image = list(SUNS)
        for model_id in MODEL_IDS:
            image.extend(self.model_registers(model_id))
        image.extend([0xFFFF, 0])
        return image

    # --- writes -------------------------------------------------------------------------
    def write(self, address: int, values: Sequence[int]) -> bool:
        """Apply a Modbus write; ``False`` (refused) when it touches a read-only point."""
        self.advance()
        names_by_model: dict[int, list[str]] = {}
        end = address + len(values)
        for model_id in MODEL_IDS:
            definition = load_model_definition(model_id)
            start = self._layout[model_id]
            for point in definition.points:
                first = start + point.offset
                if first < end and address < first + point.size:
                    if not point.writable:
                        return False
                    names_by_model.setdefault(model_id, []).append(point.name)
        if not names_by_model:
            return False
        for model_id, names in names_by_model.items():
            definition = load_model_definition(model_id)
            start = self._layout[model_id]
            registers = self.model_registers(model_id)
            for index, value in enumerate(values):
                offset = address + index - start
                if 0 <= offset < len(registers):
                    registers[offset] = value
            if model_id == 124:
                self._apply_controls(definition, start, registers, names)
        self.writes.append((self._time_s, tuple(n for ns in names_by_model.values() for n in ns)))
        return True

    def _apply_controls(
        self, definition: ModelDefinition, address: int, registers: list[int], names: list[str]
    ) -> None:
        model = decode_model(definition, address, registers)
        if "StorCtl_Mod" in names:
            self.storctl_mod = int(model.number("StorCtl_Mod") or 0)
        if "InWRte" in names:
            self.in_rate_percent = model.number("InWRte") or 0.0
        if "OutWRte" in names:
            self.out_rate_percent = model.number("OutWRte") or 0.0
        if "InOutWRte_RvrtTms" in names:
            self.revert_timeout_s = int(model.number("InOutWRte_RvrtTms") or 0)
        if "WChaMax" in names and (w_cha_max := model.number("WChaMax")):
            self.max_charge_w = w_cha_max
        if "MinRsvPct" in names and (reserve := model.number("MinRsvPct")) is not None:
            self.min_reserve_percent = reserve
        if CONTROL_POINTS.intersection(names):
            self.last_control_write_s = self._time_s
