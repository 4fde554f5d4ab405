"""The optional sidecar file <model>.meta.json beside a model file: class labels and feature names."""

import json
import os


def sidecar_path(model_path):
    return os.path.splitext(model_path)[0] + ".meta.json"


def read_meta(model_path):
    """The sidecar's contents ({} when there is none): "labels" name the classes, "features" the inputs."""
    if not os.path.isfile(sidecar_path(model_path)):
        return {}
    with open(sidecar_path(model_path), encoding="utf-8") as meta:
        return json.load(meta)
