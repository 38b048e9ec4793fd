"""mt.save / mt.load: round trips without pickle, and errors that leave the model alone."""

import numpy as np
import pytest

import microtensor as mt
from models import MLP


def make_model(seed=0):
    mt.manual_seed(seed)
    return MLP([3, 4, 2], activations="tanh", output=None)


def same_params(a, b):
    return all(
        np.array_equal(p.numpy(force=True), q.numpy(force=True))
        for p, q in zip(a.parameters(), b.parameters())
    )


def test_a_state_dict_round_trips_through_a_file(tmp_path):
    src, dst = make_model(0), make_model(1)
    assert not same_params(src, dst)
    mt.save(src.state_dict(), tmp_path / "model.npz")
    dst.load_state_dict(mt.load(tmp_path / "model.npz"))
    assert same_params(src, dst)
    x = mt.randn(5, 3)
    np.testing.assert_array_equal(src(x).numpy(force=True), dst(x).numpy(force=True))


def test_nested_structures_keep_their_types(tmp_path):
    obj = {
        "model": {"w": mt.ones(2, dtype=mt.float64)},
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.zeros(2, np.float32)}},
            "param_groups": [
                {"lr": 0.1, "betas": (0.9, 0.999), "params": [0], "nesterov": False, "name": None}
            ],
        },
        "epoch": 7,
    }
    mt.save(obj, tmp_path / "ckpt.npz")
    back = mt.load(tmp_path / "ckpt.npz")
    assert back["epoch"] == 7
    group = back["optimizer"]["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and group["params"] == [0]
    assert group["nesterov"] is False and group["name"] is None
    state = back["optimizer"]["state"][0]  # an int key stays an int
    assert state["step"] == 3 and state["exp_avg"].dtype == np.float32
    assert isinstance(back["model"]["w"], mt.Tensor) and back["model"]["w"].dtype == np.float64


def test_files_are_plain_npz_without_pickled_objects(tmp_path):
    mt.save({"w": mt.ones(2)}, tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as npz:
        for name in npz.files:
            assert npz[name].dtype != object


def test_objects_that_are_not_state_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store a MLP"):
        mt.save({"model": make_model()}, tmp_path / "x.npz")


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 truncated"])
def test_a_corrupt_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz is not a readable microtensor file"):
        mt.load(path)


def test_a_truncated_file_is_a_clear_error(tmp_path):
    mt.save(make_model().state_dict(), tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz is not a readable microtensor file"):
        mt.load(tmp_path / "cut.npz")


def test_an_npz_from_elsewhere_is_named_as_such(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not one written by microtensor.save"):
        mt.load(tmp_path / "other.npz")


def test_a_pickle_in_disguise_is_not_executed(tmp_path):
    import pickle

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(ValueError, match="not a readable microtensor file"):
        mt.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [  # PyTorch's errors and wording
        (lambda s: s.pop("layers.0.bias"), r'Missing key\(s\) in state_dict: "layers.0.bias"'),
        (
            lambda s: s.__setitem__("extra", mt.ones(1)),
            r'Unexpected key\(s\) in state_dict: "extra"',
        ),
        (
            lambda s: s.__setitem__("layers.1.weight", mt.ones(3, 4)),
            r"size mismatch for layers.1.weight: copying a param with shape \(3, 4\) from "
            r"checkpoint, the shape in current model is \(2, 4\)",
        ),
    ],
)
def test_a_mismatched_state_dict_is_refused_and_leaves_the_model_unchanged(tmp_path, edit, message):
    model = make_model(0)
    before = [p.numpy(force=True).copy() for p in model.parameters()]
    state = {k: v for k, v in make_model(1).state_dict().items()}
    edit(state)
    mt.save(state, tmp_path / "s.npz")
    with pytest.raises(RuntimeError, match=message):
        model.load_state_dict(mt.load(tmp_path / "s.npz"))
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(force=True), b)


def test_a_state_dict_of_another_dtype_is_cast_into_the_model_as_pytorch_copies(tmp_path):
    model = make_model(0)
    state = make_model(1).state_dict()
    state["layers.0.bias"] = mt.tensor([0.5, -1.25, 2.0, 3.5], dtype=mt.float64)
    model.load_state_dict(state)
    assert model.layers[0].bias.dtype == np.float32
    np.testing.assert_array_equal(model.layers[0].bias.numpy(force=True), [0.5, -1.25, 2.0, 3.5])


def test_non_strict_loading_reports_missing_and_unexpected_keys():
    model = make_model(0)
    state = make_model(1).state_dict()
    state.pop("layers.0.bias")
    state["extra"] = mt.ones(1)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["layers.0.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(
        model.layers[1].weight.numpy(force=True), state["layers.1.weight"].numpy(force=True)
    )


def test_a_save_interrupted_midway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mt.save({"w": mt.ones(3)}, path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mt.save({"w": mt.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(mt.load(path)["w"].numpy(force=True), np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary left
