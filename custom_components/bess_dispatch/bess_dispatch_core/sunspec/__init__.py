"""SunSpec devices over Modbus TCP: model definitions, decoding, scanning, readings and
model 124 storage controls. Register layouts come from the official SunSpec JSON model
definitions shipped by pysunspec2; pymodbus is the transport.
"""

from .decoding import DecodedModel, PointValue, decode_model, decode_raw
from .definitions import ModelDefinition, PointDefinition, load_model_definition
from .encoding import encode_value, encode_write
from .errors import (
    SunSpecConnectionError,
    SunSpecControlError,
    SunSpecDefinitionError,
    SunSpecError,
    SunSpecModbusExceptionError,
    SunSpecModelChainError,
    SunSpecNotFoundError,
    SunSpecTimeoutError,
    SunSpecUnitIdError,
    SunSpecUnreachableError,
    SunSpecValueError,
)
from .modbus_link import ModbusLink
from .point_types import PointType
from .readings import SunSpecReadings, readings_from_device, readings_from_models
from .scanner import SunSpecDevice, refresh_model, scan, scan_device
from .storage_control import AppliedSetpoint, StorageController, rates_for_power

__all__ = [
    "AppliedSetpoint",
    "DecodedModel",
    "ModbusLink",
    "ModelDefinition",
    "PointDefinition",
    "PointType",
    "PointValue",
    "StorageController",
    "SunSpecConnectionError",
    "SunSpecControlError",
    "SunSpecDefinitionError",
    "SunSpecDevice",
    "SunSpecError",
    "SunSpecModbusExceptionError",
    "SunSpecModelChainError",
    "SunSpecNotFoundError",
    "SunSpecReadings",
    "SunSpecTimeoutError",
    "SunSpecUnitIdError",
    "SunSpecUnreachableError",
    "SunSpecValueError",
    "decode_model",
    "decode_raw",
    "encode_value",
    "encode_write",
    "load_model_definition",
    "rates_for_power",
    "readings_from_device",
    "readings_from_models",
    "refresh_model",
    "scan",
    "scan_device",
]
