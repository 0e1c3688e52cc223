"""The anchors on disk: their distributions as safetensors, the rest (texts, answers) as JSON. Apart
from anchors.py, which makes them, so that a state can be saved and read without the code that
asks the model (memory/state.py).

    write_anchors(anchors, "anchors.json", "anchors.safetensors")
    anchors = join_anchors(json.load(...), load_file("anchors.safetensors"))
"""
from __future__ import annotations

from ..base.atomic import save_tensors, write_json

ANCHOR_TENSORS = ("text", "know")   # anchor groups held as tensors (text_targets), the rest is JSON


def write_anchors(anchors: dict, json_path, tensor_path) -> None:
    """Anchors as safetensors (the distributions) plus JSON (the texts), each written atomically; the
    JSON goes last, so its presence means both are complete."""
    groups = [g for g in ANCHOR_TENSORS if anchors.get(g)]
    save_tensors(tensor_path, {f"{g}.{k}": v for g in groups for k, v in anchors[g].items()})
    write_json(json_path, {k: v for k, v in anchors.items() if k not in ANCHOR_TENSORS})


def join_anchors(doc: dict, tensors: dict) -> dict:
    """The inverse of write_anchors, from the JSON document and the safetensors' tensors."""
    a = dict(doc)
    for key, v in tensors.items():
        group, _, name = key.rpartition(".")     # "know.top_ids"; states from before 'know': "top_ids"
        a.setdefault(group or "text", {})[name] = v
    return a
