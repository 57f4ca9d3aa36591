"""The add-on's generated broker, running, for every broker test of this folder."""

from tests.optimizer.addon.test_broker_acl_real import generated_broker

__all__ = ["generated_broker"]
