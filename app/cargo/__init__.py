"""Advance cargo information for road cargo (ROCARS): lodgement, amendment and cancellation
until the cargo is bundled to a vehicle, rules as data, a lane before arrival."""
