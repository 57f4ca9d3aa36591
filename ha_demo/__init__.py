"""``scripts/demo --ha``: a real Home Assistant with this integration, its add-on's broker and
optimizer, and a simulated SunSpec site, set up the way a user would (onboarding, config
flow, Energy dashboard) through Home Assistant's own APIs. The browser and restart tests in
``tests/ha_demo`` run against the same stack."""
