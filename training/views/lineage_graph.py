"""A model's lineage drawn as an inline SVG: corpus → tokenizer / token shards → base model → SFT → DPO / PPO ...

Drawn on the server (no graph library in the browser): ancestors are laid out in columns by their longest distance
from the model, oldest on the left, so every edge points right; within a column nodes follow the mean position of
their parents, which keeps most edges from crossing. Direct descendants that are models or adapters get a last,
dashed column. Every label goes through ``format_html``: artifact names come from users and runners.
"""

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

NODE_W, NODE_H = 184, 54
COL_GAP, ROW_GAP, PAD = 46, 18, 12
NAME_CHARS = 25
MODEL_KINDS = ("model", "adapter")
KIND_ORDER = ["dataset", "tokenizer", "token_shards", "snapshot", "report", "model", "adapter"]
KIND_COLOURS = {
    "dataset": ("#fff4db", "#c77c02"),
    "tokenizer": ("#f3e8fd", "#7b3fb8"),
    "token_shards": ("#efe6fb", "#6a3aa6"),
    "snapshot": ("#e6f4ea", "#2b8a3e"),
    "model": ("#e8edfd", "#3b5bdb"),
    "adapter": ("#e3f3f8", "#0b7285"),
    "report": ("#eef0f3", "#5f6b7a"),
}


@dataclass
class Node:
    id: int
    kind: str
    name: str
    path: str
    job: int | None
    metadata: dict[str, Any]
    column: int = 0
    row: int = 0
    derived: bool = False
    parents: list[int] = field(default_factory=list)


def node_url(node: Node) -> str:
    """Models open their model page, snapshots their rows (the annotation export), the rest their artifact page."""
    if node.kind in MODEL_KINDS:
        return reverse("training:model-detail", args=[node.id])
    snapshot_id = node.metadata.get("snapshot_id")
    if node.kind == "snapshot" and isinstance(snapshot_id, int):
        try:
            return reverse("annotation-api:snapshot-download", args=[snapshot_id])
        except NoReverseMatch:
            pass
    return reverse("training:artifact-detail", args=[node.id])


def _node(payload: dict[str, Any]) -> Node:
    return Node(
        id=payload["id"],
        kind=payload["kind"],
        name=payload["name"] or payload["path"],
        path=payload["path"],
        job=payload["job"],
        metadata=payload.get("metadata") or {},
    )


def layout(root: dict[str, Any], edges: list[dict[str, Any]], children: list[dict[str, Any]]) -> list[Node]:
    """Nodes with their column and row; ``edges`` are child → parent as ``artifact_lineage`` returns them."""
    nodes = {root["id"]: _node(root)}
    for edge in edges:
        for end in ("child", "parent"):
            nodes.setdefault(edge[end]["id"], _node(edge[end]))
        child = nodes[edge["child"]["id"]]
        if edge["parent"]["id"] not in child.parents:
            child.parents.append(edge["parent"]["id"])
    # Longest distance from the root: relax at most len(nodes) times, so a (corrupt) cycle cannot loop forever.
    depth = {root["id"]: 0}
    for _ in range(len(nodes)):
        changed = False
        for node in list(nodes.values()):
            if node.id not in depth:
                continue
            for parent in node.parents:
                if depth.get(parent, -1) < depth[node.id] + 1:
                    depth[parent] = depth[node.id] + 1
                    changed = True
        if not changed:
            break
    deepest = max(depth.values())
    for node_id, d in depth.items():
        nodes[node_id].column = min(deepest, max(0, deepest - d))
    for payload in children:
        if payload["id"] not in nodes:
            child = _node(payload)
            child.column, child.derived, child.parents = deepest + 1, True, [root["id"]]
            nodes[child.id] = child
    placed: dict[int, int] = {}
    columns: dict[int, list[Node]] = {}
    for node in nodes.values():
        columns.setdefault(node.column, []).append(node)
    for column in sorted(columns):

        def key(node: Node) -> tuple[float, int, int]:
            rows = [placed[p] for p in node.parents if p in placed]
            kind_rank = KIND_ORDER.index(node.kind) if node.kind in KIND_ORDER else len(KIND_ORDER)
            return (sum(rows) / len(rows) if rows else 0.0, kind_rank, node.id)

        for row, node in enumerate(sorted(columns[column], key=key)):
            node.row = row
            placed[node.id] = row
    return list(nodes.values())


def _clip(text: str, limit: int = NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _position(node: Node, heights: dict[int, int], tallest: int) -> tuple[float, float]:
    """Top-left corner; short columns are centred vertically against the tallest one."""
    offset = (tallest - heights[node.column]) * (NODE_H + ROW_GAP) / 2
    return PAD + node.column * (NODE_W + COL_GAP), PAD + offset + node.row * (NODE_H + ROW_GAP)


def lineage_svg(
    root: dict[str, Any], edges: list[dict[str, Any]], children: list[dict[str, Any]] | None = None
) -> SafeString:
    nodes = layout(root, edges, children or [])
    by_id = {n.id: n for n in nodes}
    heights: dict[int, int] = {}
    for node in nodes:
        heights[node.column] = max(heights.get(node.column, 0), node.row + 1)
    tallest = max(heights.values())
    width = 2 * PAD + (max(heights) + 1) * NODE_W + max(heights) * COL_GAP
    height = 2 * PAD + tallest * NODE_H + (tallest - 1) * ROW_GAP
    where = {n.id: _position(n, heights, tallest) for n in nodes}

    paths = []
    for node in nodes:
        for parent_id in node.parents:
            if parent_id not in by_id:
                continue
            px, py = where[parent_id]
            cx, cy = where[node.id]
            x1, y1, x2, y2 = px + NODE_W, py + NODE_H / 2, cx - 2, cy + NODE_H / 2
            bend = max(24.0, (x2 - x1) / 2)
            paths.append(
                (
                    "lineage-edge derived" if node.derived else "lineage-edge",
                    f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}",
                )
            )
    edge_html = format_html_join("", '<path class="{}" d="{}" marker-end="url(#lineage-arrow)"></path>', paths)

    boxes = []
    for node in sorted(nodes, key=lambda n: (n.column, n.row)):
        x, y = where[node.id]
        fill, stroke = KIND_COLOURS.get(node.kind, ("#eef0f3", "#5f6b7a"))
        classes = "lineage-node" + (" is-root" if node.id == root["id"] else "") + (" derived" if node.derived else "")
        tip = f"#{node.id} {node.kind}: {node.name}" + (f" (from job #{node.job})" if node.job else "")
        boxes.append(
            format_html(
                '<a href="{}" class="{}" data-artifact-id="{}"><title>{}</title>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="7" fill="{}" stroke="{}"></rect>'
                '<text x="{}" y="{}" class="lineage-kind" fill="{}">#{} {}{}</text>'
                '<text x="{}" y="{}" class="lineage-name">{}</text></a>',
                node_url(node),
                classes,
                node.id,
                tip,
                f"{x:.0f}",
                f"{y:.0f}",
                NODE_W,
                NODE_H,
                fill,
                stroke,
                f"{x + 10:.0f}",
                f"{y + 22:.0f}",
                stroke,
                node.id,
                node.kind.replace("_", " "),
                f" · job #{node.job}" if node.job else "",
                f"{x + 10:.0f}",
                f"{y + 42:.0f}",
                _clip(node.name),
            )
        )
    marker = mark_safe(
        '<defs><marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a94a3"></path></marker></defs>'
    )
    return format_html(
        '<svg class="lineage-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}"'
        ' role="img" aria-label="Lineage graph of artifact {}">{}{}{}</svg>',
        width,
        height,
        width,
        height,
        root["id"],
        marker,
        edge_html,
        format_html_join("", "{}", ((b,) for b in boxes)),
    )
