"""Words the pages translate from stored values (states, lanes, roles, event kinds), listed so
``pybabel extract -k N_`` finds them; templates translate them with ``_(value)``."""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark for extraction only; translated where displayed."""
    return message


STATES = [N_("open"), N_("claimed"), N_("awaiting_documents"), N_("inspection"), N_("closed")]
LANES = [N_("green"), N_("yellow"), N_("red"), N_("none")]
ROLES = [N_("officer"), N_("supervisor"), N_("admin"), N_("trader")]
DECISIONS = [N_("release"), N_("released"), N_("refused"), N_("inspect"), N_("request_documents"),
             N_("rerouted_green"), N_("declaration_cancelled"), N_("declaration_released"),
             N_("declaration_refused")]
RESULTS = [N_("no_discrepancy"), N_("discrepancy"), N_("seizure")]
SELECTIONS = [N_("targeted"), N_("random")]
DECLARATION_STATUSES = [N_("accepted"), N_("under_review"), N_("cancelled")]
PARTY_ROLES = [N_("declarant"), N_("importer"), N_("exporter"), N_("carrier")]
CHARGES = [N_("declaration_charge"), N_("clothing_levy"), N_("duty"), N_("penalty")]
COMMODITIES = [N_("liquor"), N_("wine"), N_("beer"), N_("fermented_liquor"), N_("cigarettes"), N_("cigars"),
               N_("chinese_prepared_tobacco"), N_("other_manufactured_tobacco"), N_("aircraft_spirit"),
               N_("leaded_petrol"), N_("unleaded_petrol"), N_("light_diesel"), N_("ultra_low_sulphur_diesel"),
               N_("euro_v_diesel"), N_("methyl_alcohol")]
SEVERITIES = [N_("hold"), N_("reject"), N_("warn"), N_("info")]
EVENTS = [N_("opened"), N_("updated"), N_("unclaimed"), N_("reassigned"), N_("escalated"), N_("note"),
          N_("inspection_recorded"), N_("decision:release"), N_("decision:request_documents"),
          N_("decision:inspect"), N_("decision:refuse"), N_("decision:reroute"), N_("submitted"), N_("amended"),
          N_("documents_requested"), N_("documents_answered"), N_("alert"), N_("inspection_ordered"),
          N_("lane_changed")]
