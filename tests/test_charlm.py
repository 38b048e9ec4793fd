"""models.charlm, makemore's character-level language model: the vocabulary, the
(context -> next character) pairs, CharMLP and CharRNN, seeded training and sampling, and
`microtensor train --model CharMLP|CharRNN --data names|FILE.txt` with its files and its
errors (run in-process through cli.main)."""

import doctest
import json
import math

import numpy as np
import pytest

import microtensor as mt
import models.charlm
from microtensor import nn
from microtensor.nn import functional as F
from models import charlm, cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------- words and data
def test_the_vocabulary_puts_the_end_mark_first_and_the_characters_sorted():
    vocab = charlm.Vocabulary(["emma", "zoe", "ava"])
    assert vocab.chars == ".aemovz" and len(vocab) == 7
    assert vocab.encode("zoe") == [6, 4, 2]
    assert vocab.decode([1, 6, 1]) == "aza"


def test_the_vocabulary_names_a_character_it_does_not_hold():
    with pytest.raises(
        ValueError,
        match=r"^Vocabulary: 'bob' holds 'b', which is not one of "
        r"the characters '\.ao'$",
    ):
        charlm.Vocabulary(["a", "o"]).encode("bob")


def test_the_dataset_pairs_each_character_with_the_block_before_it():
    vocab = charlm.Vocabulary(["abc"])  # . a b c -> 0 1 2 3
    X, Y = charlm.build_dataset(["cab", "b"], vocab, block_size=2)
    assert X.dtype == mt.int64 and Y.dtype == mt.int64
    assert X.tolist() == [
        [0, 0],
        [0, 3],
        [3, 1],
        [1, 2],  # ..->c .c->a ca->b ab->.
        [0, 0],
        [0, 2],
    ]  # ..->b .b->.
    assert Y.tolist() == [3, 1, 2, 0, 2, 0]


def test_a_block_longer_than_the_word_is_padded_with_end_marks():
    X, Y = charlm.build_dataset(["a"], charlm.Vocabulary(["a"]), block_size=4)
    assert X.tolist() == [[0, 0, 0, 0], [0, 0, 0, 1]] and Y.tolist() == [1, 0]


def test_the_split_is_ninety_ten_disjoint_and_seeded():
    words = [f"w{i}" for i in range(50)]
    train, val = charlm.split_words(words, seed=3)
    assert (len(train), len(val)) == (45, 5)
    assert sorted(train + val) == sorted(words)
    assert charlm.split_words(words, seed=3) == (train, val)
    assert charlm.split_words(words, seed=4)[1] != val


def test_the_split_keeps_a_word_on_each_side_and_needs_two():
    assert charlm.split_words(["ab", "cd"]) in ((["ab"], ["cd"]), (["cd"], ["ab"]))
    with pytest.raises(ValueError, match="need at least 2 words"):
        charlm.split_words(["ab"])


def test_the_shipped_names_are_690_lower_case_words():
    words = charlm.names()
    assert len(words) == len(set(words)) == 690
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words)
    assert charlm.Vocabulary(words).chars == "." + "abcdefghijklmnopqrstuvwxyz"


def test_a_word_file_is_read_one_word_a_line_keeping_unusual_characters(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("  José \n\nMary Ann\n\t-x-\n", encoding="utf-8")
    assert charlm.read_words(path) == ["José", "Mary Ann", "-x-"]


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("", "holds no words"),
        ("\n  \n", "holds no words"),
        ("anna\nst.john\n", r"line 2: 'st.john' holds '\.', which marks the start and end"),
        (b"\xff\xfe\x00a\n", "is not UTF-8 text"),
    ],
)
def test_a_bad_word_file_is_an_error_naming_it(tmp_path, content, message):
    path = tmp_path / "words.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises((OSError, ValueError), match=message) as caught:
        charlm.read_words(path)
    assert str(path) in str(caught.value)


# ------------------------------------------------------------------- the networks
def test_char_mlp_is_embedding_flatten_hidden_activation_logits():
    mt.manual_seed(0)
    net = charlm.CharMLP(7, block_size=3, embedding_dim=2, hidden=5)
    x = mt.tensor([[0, 1, 6], [2, 2, 0]])
    C, W1, b1 = (
        net.embedding.weight.numpy(force=True),
        net.hidden.weight.numpy(force=True),
        net.hidden.bias.numpy(force=True),
    )
    W2, b2 = net.out.weight.numpy(force=True), net.out.bias.numpy(force=True)
    emb = C[x.numpy()].reshape(2, 6)  # rows of the table, concatenated
    expected = np.tanh(emb @ W1.T + b1) @ W2.T + b2
    np.testing.assert_allclose(net(x).numpy(force=True), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", charlm.CELLS)
def test_char_rnn_predicts_from_the_last_steps_output(cell):
    mt.manual_seed(0)
    net = charlm.CharRNN(7, block_size=4, embedding_dim=3, hidden=5, cell=cell)
    assert isinstance(net.rnn, getattr(nn, cell))
    x = mt.tensor([[0, 1, 6, 2], [2, 2, 0, 5]])
    output, _ = net.rnn(net.embedding(x))
    expected = output.numpy(force=True)[:, -1] @ net.out.weight.numpy(
        force=True
    ).T + net.out.bias.numpy(force=True)
    np.testing.assert_allclose(net(x).numpy(force=True), expected, rtol=1e-5, atol=1e-6)
    assert net(x).shape == (2, 7)


def test_char_rnn_names_the_cells_it_takes():
    with pytest.raises(
        ValueError,
        match=r"cell must be one of \['LSTM', 'GRU', 'RNN'\], "
        r"got 'lstm'",
    ):
        charlm.CharRNN(7, cell="lstm")


# ------------------------------------------------------------------- training and sampling
def _train(seed, steps=300, model=None):
    words = charlm.names()
    vocab = charlm.Vocabulary(words)
    train_words, val_words = charlm.split_words(words, seed)
    mt.manual_seed(seed)
    net = model or charlm.CharMLP(len(vocab), hidden=32)
    sets = [charlm.build_dataset(w, vocab, net.block_size) for w in (train_words, val_words)]
    log = charlm.train(
        net,
        *sets,
        optimizer=mt.optim.Adam(net.parameters(), lr=0.01),
        steps=steps,
        seed=seed,
        evaluations=5,
        progress=False,
    )
    return net, vocab, log


def test_training_takes_the_loss_well_below_guessing_uniformly():
    log = _train(seed=0)[2]
    uniform = math.log(27)  # 3.30 nats per character: 26 letters and '.'
    assert abs(log.train_loss[0] - uniform) < 0.2  # untrained: close to uniform
    assert log.train_loss[-1] < uniform - 0.7 and log.val_loss[-1] < uniform - 0.6
    assert log.eval_steps == [0, 60, 120, 180, 240, 300] and len(log.step_loss) == 300


def test_the_same_seed_gives_the_same_run_and_the_same_samples():
    runs = [_train(seed=s, steps=40) for s in (1, 1, 2)]
    samples = [charlm.sample(net, vocab, 8, seed=5) for net, vocab, _ in runs]
    assert runs[0][2].step_loss == runs[1][2].step_loss
    assert samples[0] == samples[1]
    assert runs[0][2].step_loss != runs[2][2].step_loss
    assert charlm.sample(*runs[0][:2], 8, seed=6) != samples[0]


class _Counter(nn.Module):
    """Predicts, almost surely, the character after the last one in the context: from
    the start, 'a', 'b', 'c', then '.' (vocabulary '.abc')."""

    block_size = 2

    def forward(self, x):
        return F.one_hot((x[:, -1] + 1) % 4, 4).float() * 50.0


def test_sampling_draws_characters_until_the_end_mark():
    vocab = charlm.Vocabulary(["abc"])
    assert charlm.sample(_Counter(), vocab, 3, seed=0) == ["abc", "abc", "abc"]


def test_sampling_stops_at_max_length_without_an_end_mark():
    class Always_a(nn.Module):
        block_size = 1

        def forward(self, x):
            return F.one_hot(mt.ones_like(x[:, 0]), 4).float() * 50.0

    assert charlm.sample(Always_a(), charlm.Vocabulary(["abc"]), 2, max_length=5) == [
        "aaaaa",
        "aaaaa",
    ]


def test_sampling_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        charlm.sample(_Counter(), charlm.Vocabulary(["abc"]), 1, temperature=0)


def test_charlm_doctests_pass():
    assert doctest.testmod(models.charlm).failed == 0


# ------------------------------------------------------------------- the command
def _run(capsys, *args):
    status = cli.main(["train", *map(str, args), "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_char_mlp_on_names_writes_its_files(tmp_path, capsys):
    status, out, err = _run(
        capsys,
        "--model",
        "CharMLP",
        "--data",
        "names",
        "--steps",
        "60",
        "--hidden",
        "16",
        "--samples",
        "6",
        "--out",
        tmp_path,
    )
    assert status == 0, err
    assert "690 words (621 train / 69 validation), 27 characters" in out
    assert "validation" in out and "of 6 not training words" in out
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["steps"] == 60 and record["model"] == "CharMLP"
    assert record["vocabulary"] == ".abcdefghijklmnopqrstuvwxyz"
    assert record["val_loss"] < record["uniform_loss"] == pytest.approx(math.log(27))
    samples = (tmp_path / "samples.txt").read_text().splitlines()
    assert samples == record["samples"] and len(samples) == 6
    known = set(charlm.split_words(charlm.names(), seed=0)[0])
    assert record["novel_samples"] == sum(s not in known for s in samples)
    assert (tmp_path / "loss_curve.png").read_bytes()[:8] == PNG_SIGNATURE
    state = mt.load(tmp_path / "model.npz")
    assert state["embedding.weight"].shape == (27, 10)
    assert state["hidden.weight"].shape == (16, 30)
    for path in ("metrics.json", "samples.txt", "model.npz", "loss_curve.png"):
        assert str(tmp_path / path) in out


def test_train_char_rnn_reads_a_word_file_with_its_own_characters(tmp_path, capsys):
    words = tmp_path / "words.txt"
    words.write_text("Zoë\nAnne Marie\nbo\nli\n")
    status, out, err = _run(
        capsys,
        "--model",
        "CharRNN",
        "--cell",
        "GRU",
        "--data",
        words,
        "--steps",
        "3",
        "--hidden",
        "4",
        "--block-size",
        "3",
        "--samples",
        "2",
        "--out",
        tmp_path / "out",
    )
    assert status == 0, err
    record = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert record["vocabulary"] == ". AMZabeilnorë" and record["cell"] == "GRU"
    assert "CharRNN (GRU) on" in out
    assert mt.load(tmp_path / "out" / "model.npz")["out.weight"].shape == (14, 4)


def test_train_counts_epochs_over_the_training_pairs(tmp_path, capsys):
    status, _, err = _run(
        capsys,
        "--model",
        "CharMLP",
        "--data",
        "names",
        "--epochs",
        "1",
        "--batch-size",
        "1000",
        "--hidden",
        "4",
        "--out",
        tmp_path,
    )
    assert status == 0, err
    pairs = len(
        charlm.build_dataset(
            charlm.split_words(charlm.names())[0], charlm.Vocabulary(charlm.names()), 3
        )[0]
    )
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == math.ceil(pairs / 1000)


def test_charlm_is_the_old_spelling_of_char_mlp(tmp_path, capsys):
    status, out, err = _run(
        capsys,
        "--model",
        "charlm",
        "--data",
        "names",
        "--steps",
        "2",
        "--hidden",
        "4",
        "--out",
        tmp_path,
    )
    assert status == 0
    assert "'charlm' is now spelled 'CharMLP'" in err and out.startswith("CharMLP on names")


BAD_RUNS = [  # (the arguments after --model, the error's message)
    ("CharMLP --data {tmp}/none.txt", "--data {tmp}/none.txt: no such file"),
    ("CharMLP --data {tmp}/empty.txt", "--data {tmp}/empty.txt holds no words"),
    ("CharMLP --data {tmp}/dot.txt", "--data {tmp}/dot.txt, line 1: 'a.b' holds '.'"),
    ("CharMLP --data {tmp}/one.txt", "--data {tmp}/one.txt: need at least 2 words"),
    ("CharMLP --data iris", "--data iris is a data set; CharMLP and CharRNN learn from"),
    ("MLP --data names", "--data names is a word list"),
    ("MLP --data iris --cell GRU", "--cell: only for --model CharMLP and CharRNN"),
    ("CharMLP --data names --cell GRU", "--cell: only for --model CharRNN"),
    ("CharRNN --data names --activation relu", "--activation: only for --model CharMLP"),
    ("CharMLP --data names --hidden 8,8", "--model CharMLP has one hidden layer"),
]


@pytest.mark.parametrize("args, message", BAD_RUNS)
def test_a_bad_language_model_run_is_one_line_naming_the_fault(tmp_path, capsys, args, message):
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "dot.txt").write_text("a.b\n")
    (tmp_path / "one.txt").write_text("anna\n")
    status, _, err = _run(
        capsys, "--model", *args.format(tmp=tmp_path).split(), "--out", tmp_path / "out"
    )
    assert status == 1
    assert err.startswith(f"microtensor train: error: {message.format(tmp=tmp_path)}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "metrics.json").exists()
