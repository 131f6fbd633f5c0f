"""Intake: raw request bytes -> a schema-valid, mapped declaration (or a precise rejection).

The same function serves the XML API, the browser upload, the trader form (which builds
the same XML) and ``csw validate``: one code path.
"""
from __future__ import annotations

import hashlib
from lxml import etree

from app.domain.declaration import ReceivedDeclaration
from app.domain.problems import Problem, Rejection
from app.intake import wco
from app.intake.mapping import MAPPERS
from app.intake.mapping_v2 import declaration_v2
from app.platform.clock import utcnow
from app.platform.schemas import DocumentChecker
from app.platform.xml import MAX_ATTRIBUTES, parse_untrusted


BATCH_NS = "urn:csw:declaration-batch:v1"


class Intake(DocumentChecker):
    """The schema check, then the mapping of a declaration's namespace to the domain."""

    def receive_declaration(self, body: bytes) -> ReceivedDeclaration:
        """A CSW declaration (v1, v2) or a WCO DEC-DMS declaration read through the v2 profile."""
        received = self.receive_document(body)
        if isinstance(received, wco.WcoCancellation):
            raise Rejection("RULES_REJECTED", "a cancellation (TypeCode INV) is sent to POST /api/v1/declarations "
                            "or in a declaration batch; it cannot amend",
                            [Problem(message="TypeCode INV asks for a cancellation",
                                     message_zh="TypeCode INV 是取消申請",
                                     path="/MetaData/Declaration/TypeCode", rule=wco.PROFILE_RULE, severity="reject")])
        return received

    def receive_document(self, body: bytes) -> ReceivedDeclaration | wco.WcoCancellation:
        """As ``receive_declaration``; a DEC-DMS cancellation request (TypeCode INV) is read as one."""
        tree = parse_untrusted(body)
        namespace = etree.QName(tree.getroot()).namespace or ""
        if namespace in wco.NAMESPACES:
            return self._receive_wco(body, tree)
        self.registry.validate(tree, "declaration", self.max_problems)
        return ReceivedDeclaration(
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
            namespace=namespace,
            declaration=MAPPERS[namespace](tree),
        )

    def _receive_wco(self, body: bytes, tree: etree._ElementTree) -> ReceivedDeclaration | wco.WcoCancellation:
        cancelled = wco.cancellation(tree)
        if cancelled is not None:
            return cancelled
        converted, root = wco.convert(tree, self.registry, utcnow(), self.max_problems)
        return ReceivedDeclaration(
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
            namespace=wco.DEC_NS,
            declaration=declaration_v2(converted.tree, wco.DEC_NS, "dec-dms", converted.notes, root,
                                       converted.national_type_code),
        )

    def receive_batch(self, body: bytes, limit: int) -> tuple[str | None, list[bytes]]:
        """A declaration batch: its own id and each declaration as a document of its own (with
        the namespaces it uses), to be received one by one. More than ``limit`` is refused."""
        tree = self.check(body, "declaration-batch", MAX_ATTRIBUTES * limit // 100)
        root = tree.getroot()
        batch_id = root.findtext(f"{{{BATCH_NS}}}BatchID")
        children = [child for child in root if isinstance(child.tag, str)
                    and etree.QName(child).namespace != BATCH_NS]
        if len(children) > limit:
            raise Rejection("BATCH_TOO_LARGE", f"a batch holds at most {limit} declarations (got {len(children)})",
                            [Problem(message=f"at most {limit} declarations", path="/DeclarationBatch",
                                     rule="max-declarations")])
        return batch_id, [etree.tostring(child, encoding="UTF-8", xml_declaration=True) for child in children]

    def receive_cancellation_reason(self, body: bytes) -> str:
        tree = self.check(body, "cancellation")
        return (tree.getroot().findtext("{urn:csw:cancellation:v1}Reason") or "").strip()


def require_text_reason(reason: object) -> str:
    """Reasons given as JSON or form fields follow the cancellation schema's limits."""
    if not isinstance(reason, str) or not (3 <= len(reason.strip()) <= 500):
        raise Rejection(
            "REASON_REQUIRED",
            "a cancellation needs a reason of 3 to 500 characters",
            [Problem(message="give a reason of 3 to 500 characters", path="reason", rule="reason-length")],
        )
    return reason.strip()
