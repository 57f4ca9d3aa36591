import sys, time, numpy as np
from optimizer.random_sites import hard_site
from optimizer.model import optimize
from optimizer.site import *
site = Site.build(topology=Topology.AC_LINK, battery=Battery(capacity_kwh=10, charge_max_kw=2, discharge_max_kw=2, soe_initial_kwh=0, charge_efficiency=1, discharge_efficiency=1),
  grid=Grid(10,10,grid_charging_allowed=False), tariff=Tariff.of([-1,30],[0,10],[0,5]), pv_kw=[3,0], load_kw=[1,0], slot_hours=1.0)
p = optimize(site); print(p.objective, p.charge_kw, p.pv_used_kw, p.import_kw, p.method, p.status, p.gap)
for seed in range(4):
    site = hard_site(np.random.default_rng(seed))
    t = time.perf_counter()
    p = optimize(site, budget_s=float(sys.argv[1]) if len(sys.argv)>1 else None)
    print(seed, p.method, p.status, p.objective, p.gap, round(time.perf_counter()-t,3), flush=True)
