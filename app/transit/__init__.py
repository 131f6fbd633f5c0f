"""Single e-lock journeys: route network, telemetry intake, journey rules, alerts (issue 5)."""
