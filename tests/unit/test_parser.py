"""The hardened parser refuses hostile input quickly and precisely."""

import pytest

from app.domain.problems import Rejection
from app.platform.xml import parse_untrusted
from tests.factories import declaration_xml
from tests.timing import own_cpu


def refusal(body: bytes) -> Rejection:
    with own_cpu() as spent, pytest.raises(Rejection) as caught:  # this thread's CPU: immune to a loaded machine
        parse_untrusted(body)
    assert spent() < 1.0
    return caught.value


def test_valid_document_parses() -> None:
    tree = parse_untrusted(declaration_xml())
    assert tree.getroot().tag == "{urn:csw:declaration:v1}Declaration"


def test_utf8_bom_is_accepted() -> None:
    assert parse_untrusted(b"\xef\xbb\xbf" + declaration_xml()).getroot() is not None


@pytest.mark.parametrize("body", [b"", b"   \n\t"])
def test_empty_body(body: bytes) -> None:
    assert refusal(body).code == "EMPTY_BODY"


def test_xxe_file_read_is_refused_without_reading() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Declaration xmlns="urn:csw:declaration:v1"><FunctionalReferenceID>&xxe;</FunctionalReferenceID></Declaration>"""
    rejection = refusal(body)
    assert rejection.code == "XML_FORBIDDEN"
    assert "root:" not in str(rejection.problems)


def test_billion_laughs_is_refused() -> None:
    entities = "".join(
        f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10)
    )
    body = f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]><lolz>&lol9;</lolz>'
    assert refusal(body.encode()).code == "XML_FORBIDDEN"


def test_external_dtd_is_refused() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE Declaration SYSTEM "http://127.0.0.1:9/evil.dtd"><Declaration/>'
    assert refusal(body).code == "XML_FORBIDDEN"


def test_deep_nesting_is_refused() -> None:
    body = b"<a>" * 10_000 + b"</a>" * 10_000
    rejection = refusal(body)
    assert rejection.code == "XML_FORBIDDEN"
    assert "depth" in rejection.problems[0].message.lower()


def test_invalid_utf8_names_the_offset() -> None:
    body = declaration_xml().replace(b"Smartphones", b"Smart\xff\xfephones")
    rejection = refusal(body)
    assert rejection.code == "ENCODING_INVALID"
    assert "0xff" in rejection.message
    assert rejection.problems[0].line is not None and rejection.problems[0].line > 1


def test_declared_non_utf8_encoding_is_refused() -> None:
    body = declaration_xml().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    rejection = refusal(body)
    assert rejection.code == "ENCODING_INVALID"
    assert "ISO-8859-1" in rejection.message


def test_utf16_is_refused() -> None:
    assert refusal(declaration_xml().decode().replace("UTF-8", "UTF-16").encode("utf-16")).code == "ENCODING_INVALID"


def test_malformed_document_reports_line_and_column() -> None:
    body = (b'<?xml version="1.0"?>\n<Declaration xmlns="urn:csw:declaration:v1">\n'
            b'  <TypeCode>IM</TypeCod>\n</Declaration>')
    rejection = refusal(body)
    assert rejection.code == "XML_MALFORMED"
    problem = rejection.problems[0]
    assert problem.line == 3
    assert problem.column is not None and problem.column > 0
    assert "TypeCod" in problem.message


def test_huge_text_node_is_refused() -> None:
    body = b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>"
    assert refusal(body).code in {"XML_FORBIDDEN", "XML_MALFORMED"}
