"""Runs EMHASS in its own virtual environment (it cannot share ours); JSON in, JSON out.

Invoked by benchmarks/optimizer_speed.py as ``<emhass venv python> emhass_runner.py``; reads
{"import_price", "export_price", "pv_kw", "load_kw", "battery": {...}, "repeats"} on stdin,
prints {"seconds": [...], "import_kw": [...], "export_kw": [...], "soe_final": ...}.
"""

import asyncio
import json
import logging
import pathlib
import sys
import tempfile
import time

import pandas as pd
from emhass import utils
from emhass.optimization import Optimization


def main() -> None:
    request = json.load(sys.stdin)
    logger = logging.getLogger("emhass")
    logger.setLevel(logging.ERROR)
    root = pathlib.Path(utils.__file__).parent
    work = pathlib.Path(tempfile.mkdtemp())
    emhass_conf = {
        "root_path": root,
        "data_path": work,
        "defaults_path": root / "data/config_defaults.json",
        "associations_path": root / "data/associations.csv",
    }
    config = asyncio.run(utils.build_config(emhass_conf, logger, str(emhass_conf["defaults_path"])))
    battery = request["battery"]
    config.update(
        {
            "optimization_time_step": 30,
            "number_of_deferrable_loads": 0,
            "nominal_power_of_deferrable_loads": [],
            "minimum_power_of_deferrable_loads": [],
            "operating_hours_of_each_deferrable_load": [],
            "start_timesteps_of_each_deferrable_load": [],
            "end_timesteps_of_each_deferrable_load": [],
            "treat_deferrable_load_as_semi_cont": [],
            "set_deferrable_load_single_constant": [],
            "set_deferrable_startup_penalty": [],
            "cost_forecast_per_deferrable_load": [],
            "deferrable_load_max_cost": [],
            "set_deferrable_max_startups": [],
            "set_use_battery": True,
            "set_nodischarge_to_grid": False,
            "set_nocharge_from_grid": False,
            "battery_nominal_energy_capacity": battery["capacity_kwh"] * 1000,
            "battery_charge_power_max": battery["power_kw"] * 1000,
            "battery_discharge_power_max": battery["power_kw"] * 1000,
            "battery_charge_efficiency": battery["eta"],
            "battery_discharge_efficiency": battery["eta"],
            "battery_minimum_state_of_charge": 0.0,
            "battery_maximum_state_of_charge": 1.0,
            "battery_target_state_of_charge": battery["soc_initial"],
            "maximum_power_from_grid": request["grid_kw"] * 1000,
            "maximum_power_to_grid": request["grid_kw"] * 1000,
            "inverter_ac_output_max": 100000,
            "inverter_ac_input_max": 100000,
            "lp_solver_mip_rel_gap": 0.0,
            "lp_solver_timeout": request.get("timeout", 900),
            "costfun": "profit",
        }
    )
    params = asyncio.run(utils.build_params(emhass_conf, {}, config, logger))
    retrieve, optim, plant = utils.get_yaml_parse(params, logger)
    n = len(request["import_price"])
    index = pd.date_range("2024-04-01", periods=n, freq="30min", tz=retrieve["time_zone"])
    frame = pd.DataFrame(
        {"unit_load_cost": request["import_price"], "unit_prod_price": request["export_price"]},
        index=index,
    )
    pv = pd.Series([v * 1000 for v in request["pv_kw"]], index=index)
    load = pd.Series([v * 1000 for v in request["load_kw"]], index=index)
    seconds = []
    result = None
    for _ in range(request["repeats"]):
        opt = Optimization(
            retrieve,
            optim,
            plant,
            "unit_load_cost",
            "unit_prod_price",
            "profit",
            emhass_conf,
            logger,
            opt_time_delta=n // 2,
            num_timesteps=n,
        )
        started = time.perf_counter()
        result = opt.perform_dayahead_forecast_optim(
            frame, pv, load, soc_init=battery["soc_initial"], soc_final=battery["soc_initial"]
        )
        seconds.append(time.perf_counter() - started)
    assert result is not None
    print(
        json.dumps(
            {
                "seconds": seconds,
                "status": str(opt.optim_status),
                "import_kw": (result["P_grid_pos"] / 1000).tolist(),
                "export_kw": (-result["P_grid_neg"] / 1000).tolist(),
                "soc_final": float(result["SOC_opt"].iloc[-1]) if "SOC_opt" in result else None,
                "soc_first": float(result["SOC_opt"].iloc[0]) if "SOC_opt" in result else None,
            }
        )
    )


main()
