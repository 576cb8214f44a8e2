"""XML inside EPUB and OpenDocument files, parsed by lxml without entity expansion,
network access or huge-tree mode (a billion-laughs member is an error, not a hang)."""

from typing import Any


def parse_xml(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser=parser)


def local_name(element: Any) -> str:
    """`{namespace}tag` → `tag` (comments and processing instructions have no name)."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
