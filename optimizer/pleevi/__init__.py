"""A site described the Pleevi way: its device_list battery, scheduled SoC policies as soft
SoE targets of the model, and Pleevi measurements as telemetry input (docs/pleevi.md)."""
