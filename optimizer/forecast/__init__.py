"""Pure forecasts for the optimizer: price, PV, load."""
