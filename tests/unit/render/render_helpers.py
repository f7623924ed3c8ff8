"""Render test helpers: image measurements, and a tiny FLAME-format model.

FLAME is licensed and never bundled; these tests build a small model with the same keys
(``v_template``, ``shapedirs``, ``posedirs``, ``J_regressor``, ``weights``,
``kintree_table``, ``f``) and load it through the real ``smplx.FLAME`` loader: a head
sphere skinned to the neck, two eyeball spheres skinned to joints 3 (at +x, the subject's
left) and 4.
"""

import pickle

import numpy as np

from stygaze.render.config import HeadColors, RenderConfig
from stygaze.render.heads import sphere_grid

# iris pure green, hair pure blue: easy to find in a flat-shaded frame
TEST_COLORS = HeadColors(iris=(0.1, 0.85, 0.1), hair=(0.1, 0.1, 0.9), brows=(0.3, 0.2, 0.1))


def flat_config(size=96, camera="front"):
    return RenderConfig(size=size, camera=camera, colors=TEST_COLORS, flat=True)


def mask_green(img):
    img = img.astype(int)
    return (img[..., 1] - np.maximum(img[..., 0], img[..., 2])) > 60


def mask_iris(img):
    """Iris (green) or pupil (near black) pixels."""
    return mask_green(img) | np.all(img.astype(int) < 50, axis=-1)


def mask_blue(img):
    img = img.astype(int)
    return (img[..., 2] - np.maximum(img[..., 0], img[..., 1])) > 80


def centroid(mask):
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, "empty mask"
    return float(xs.mean()), float(ys.mean())


def write_tiny_flame(folder, n_shape=10, n_expr=10, with_embedding=True, name="FLAME_NEUTRAL.pkl"):
    folder.mkdir(parents=True, exist_ok=True)
    dirs, faces = sphere_grid(12, 16)
    edirs, efaces = sphere_grid(16, 20)
    head = dirs * np.array([0.075, 0.10, 0.09]) + np.array([0.0, 0.0, 0.0])
    eye_r = 0.012
    eye_c = {3: np.array([0.031, 0.012, 0.086]), 4: np.array([-0.031, 0.012, 0.086])}
    verts = [head]
    face_list = [faces]
    owner = [np.full(len(head), 1)]
    offset = len(head)
    for j in (3, 4):
        verts.append(edirs * eye_r + eye_c[j])
        face_list.append(efaces + offset)
        owner.append(np.full(len(edirs), j))
        offset += len(edirs)
    v = np.concatenate(verts).astype(np.float64)
    f = np.concatenate(face_list).astype(np.uint32)
    owner = np.concatenate(owner)
    V = len(v)
    weights = np.zeros((V, 5))
    weights[np.arange(V), owner] = 1.0
    J = np.zeros((5, V))
    J[0, :len(head)] = 1.0 / len(head)  # root at the head centre
    J[1, :len(head)] = 1.0 / len(head)
    J[2, :len(head)] = 1.0 / len(head)
    for j in (3, 4):
        idx = np.where(owner == j)[0]
        J[j, idx] = 1.0 / len(idx)
    rng = np.random.default_rng(0)
    shapedirs = rng.normal(0, 1e-4, (V, 3, n_shape + n_expr))
    data = {
        "v_template": v,
        "f": f,
        "shapedirs": shapedirs,
        "posedirs": np.zeros((V, 3, 36)),
        "J_regressor": J,
        "weights": weights,
        "kintree_table": np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64),
    }
    with open(folder / name, "wb") as fh:
        pickle.dump(data, fh)
    if with_embedding:
        with open(folder / "flame_static_embedding.pkl", "wb") as fh:
            pickle.dump({"lmk_face_idx": np.arange(3, dtype=np.int64), "lmk_b_coords": np.full((3, 3), 1 / 3)}, fh)
    return folder / name
