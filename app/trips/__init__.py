"""ROCARS road trips: consignments linked to a conveyance, and the kiosk decision."""
