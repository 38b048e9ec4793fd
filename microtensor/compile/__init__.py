"""`mt.compile(fn)`: record a training step (or a forward pass) once, replay it as flat numpy.

Recording. The first call runs `fn` eagerly while a recorder watches: the engine hands it
every op applied, in any grad mode (`autograd.graph.tracer`, checked by apply, apply1 and
apply2), every in-place write (views.apply_inplace) and every backward (backward._run);
for the time of the call the array slot `Tensor._data` and `Tensor.grad` become
properties that note reads and writes, and `Optimizer.step`, `Optimizer.zero_grad` and
module calls are noted too. A backward is recorded by running the engine's own loop
beside it (the same VJPs in the same order, the same sums in the same order) and is
checked bit for bit against the gradients the engine computed.

Replay. From the record, one Python function is written (`compiled.code`) that checks the
guards below and then runs each op by its own `forward` and each VJP by its own `vjp` on
bare arrays; the hot ones (linear and matmul, arithmetic, activations, the softmax
family, mse, max pooling and unfold) by a buffer form: the same numpy calls in the same
order, each writing with `out=` into a buffer allocated once (`x @ W + b` into the
product's buffer, sigmoid and its derivative in place). A buffer form is run beside the
op's own code while recording and kept only if it gave the same bits, so a replay equals
eager mode bit for bit. Views of kept arrays are made once; gradients are computed into
the tensors handed to `.grad` (reused from call to call: copy `p.grad` to keep one
step's); the optimizer's update runs its own `_update` on its own state, as its flat
path does. No Tensor or Node is made per call but the fresh tensors returned.

Guards: a call replays a recording only if all of these are as they were when it was
recorded, and records again otherwise (up to CACHE_LIMIT recordings, then it runs
eagerly):
  - each argument: a tensor's class, shape, dtype, strides and requires_grad; a numpy
    array's shape, dtype, strides and values; a number, string or tuple of them by
    value (==); anything else by identity; which arguments share one array;
  - grad mode and the default dtype (anomaly mode on runs eagerly);
  - each tensor the step reads besides its arguments (parameters, buffers): the same
    array object (`p._data is` the recorded one) and the same requires_grad;
  - each .grad the step reads, or stores without resetting it first: None as recorded
    (it will be set), or the same tensor (it will be added into); no hook on a leaf that
    gets a gradient;
  - `training` of every module called, and each tensor it holds as an attribute;
  - for an optimizer stepped: its parameter groups and plan (parameters, state), each
    group's options but the learning rate (read live, so schedulers work), and equal
    step counts in each flat chunk;
  - the values of an argument whose values the step reads in Python, but for class
    targets of cross_entropy and nll_loss (without class weights or label smoothing):
    those are an input of the replay (recipes.py), which guards only that they are in
    range and how many count (ignore_index).
Dropout's masks are drawn again by each replay from the default generator, in the order
eager mode draws them, so a seeded run is the same compiled or not (recipes.py).
Fallbacks: `fn` runs eagerly, with a CompileWarning saying why (also in `fallbacks`), when
a recording cannot be replayed faithfully: it reads a tensor's values in Python
(`.item()`, `bool()`, `float()`, `.numpy()`, `.tolist()`, printing, `.data` used for more
than its shape), so a branch or a number may depend on them; it draws random numbers
other than dropout's masks (mt.rand, a mt.Generator, numpy.random); it assigns a tensor's
`.data` or a tensor to a `.grad`; it leaves grad mode changed; it uses hooks or
retain_grad, create_graph, autograd.grad, an autograd.Function, an in-place op on a tensor
of the graph, or backward through a graph made before the call; it returns a numpy
array. Several backward calls, `retain_graph` and explicit backward gradients are
replayed. What no recorder sees is baked in, as with
jax.jit: other Python state the step reads (a global, a scheduler stepped inside it)
keeps its recorded value, and its Python side effects (prints, appends) happen on the
recording call only.
"""

# The files: record.py (the watch kept while recording), tracer.py (the recording itself),
# recipes.py (dropout's masks and class targets, computed again by each replay), values.py
# (what a recording holds), lower.py, forward.py and vjp.py (the buffer forms), passes.py
# and program.py (the replay written from a recording), function.py (the API).
from .function import CACHE_LIMIT, CompiledFunction, CompileWarning, compile  # noqa: F401

__all__ = ["compile", "CompiledFunction", "CompileWarning"]
